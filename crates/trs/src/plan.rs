//! Sampling plans (WCO TRS Guide version 4, sampling): how many consignments a study must
//! record, per stratum (office, lane, mode ...), for its mean or median release time to be
//! within a margin of error at a confidence level.
//!
//! With z the two-sided normal quantile of the confidence, E the margin (minutes):
//! - **mean**: n₀ = (z · s / E)², s the standard deviation of the pilot's durations in the
//!   stratum (or the one assumed);
//! - **median**, from a pilot: distribution-free. The sample median's confidence interval runs
//!   between the order statistics of ranks n/2 ± z√n/2, i.e. the quantiles 0.5 ± z / (2√n);
//!   its half-width for a sample of n is estimated from the pilot's quantile function Q as
//!   (Q(0.5 + z/(2√n)) − Q(0.5 − z/(2√n))) / 2, and n₀ is the smallest n where that is at most
//!   E (found by bisection; the half-width only shrinks as n grows);
//! - **median**, from an assumed spread: n₀ = (π/2) · (z · s / E)² (the sample median of normal
//!   data has variance π s² / (2n); release times are skewed, so a pilot is better);
//! - **finite population**: when the study's period is given, the stratum's consignments in it
//!   are estimated as N = pilot count × study days / pilot days, and n = n₀ / (1 + (n₀ − 1)/N),
//!   at most N (then every consignment is recorded).
//!
//! Quantiles as everywhere in the engine (linear between closest ranks).

use serde::{Deserialize, Serialize};
use smartborder_model::{
    IntervalDef, IntervalKind, MISSING, NO_VALUE, StampRef, StampTable, StudyDesign,
};

use crate::analysis::durations;
use crate::stats::{normal_quantile, quantile_sorted, quantiles};

/// The largest sample a plan considers.
pub const MAX_SAMPLE: u64 = 100_000_000;

/// What the estimate is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    Mean,
    Median,
}

/// The margin of error: in minutes, or in percent of the stratum's pilot estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "value", rename_all = "snake_case")]
pub enum Margin {
    Minutes(f64),
    Percent(f64),
}

/// What the plan asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub statistic: Statistic,
    pub margin: Margin,
    /// Two-sided confidence, between 0 and 1 (0.95).
    pub confidence: f64,
    /// Days the study will record, for the finite-population correction.
    pub study_days: Option<f64>,
}

/// The sample size of one stratum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumPlan {
    /// "all", or the stratum's value.
    pub stratum: String,
    pub pilot_count: u64,
    pub pilot_mean_minutes: Option<f64>,
    pub pilot_median_minutes: Option<f64>,
    pub pilot_std_minutes: Option<f64>,
    /// The margin in minutes (a percentage turned into minutes with the pilot's estimate).
    pub margin_minutes: Option<f64>,
    /// n₀, before the finite-population correction.
    pub sample_infinite: Option<u64>,
    /// Consignments expected in the study's period, when it is given.
    pub expected_population: Option<u64>,
    /// The consignments to record; `None` when the pilot cannot say (too few, or no spread).
    pub sample: Option<u64>,
    pub note: Option<String>,
}

/// A sampling plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingPlan {
    pub interval_from: String,
    pub interval_to: String,
    /// The segment the strata are the values of, when stratified.
    pub stratified_by: Option<String>,
    pub request: PlanRequest,
    pub z: f64,
    pub pilot_days: Option<f64>,
    pub strata: Vec<StratumPlan>,
    /// The sum of the strata's samples (the whole population's alone when not stratified).
    pub total_sample: Option<u64>,
    pub method: String,
}

/// Consignments a stratum's pilot needs for a plan.
pub const MIN_PILOT: usize = 10;

/// The method, as the plan states it.
pub fn method(request: &PlanRequest, pilot: bool) -> String {
    let estimate = match (request.statistic, pilot) {
        (Statistic::Mean, _) => "n0 = (z s / E)^2, s the standard deviation of the durations".to_string(),
        (Statistic::Median, true) => "n0 = the smallest n for which (Q(0.5 + z/(2 sqrt n)) - Q(0.5 - z/(2 sqrt n))) / 2 <= E, Q the pilot's quantile function (the sample median's interval between the order statistics of ranks n/2 +- z sqrt(n)/2)".to_string(),
        (Statistic::Median, false) => "n0 = (pi/2) (z s / E)^2 (the sample median of normal data; release times are skewed, so a pilot is better)".to_string(),
    };
    let fpc = if request.study_days.is_some() {
        " Finite population: N = pilot count x study days / pilot days, n = n0 / (1 + (n0 - 1) / N), at most N."
    } else {
        ""
    };
    format!(
        "Margin of error E at {:.0}% confidence (z two-sided). {estimate}; per stratum when stratified, so that each stratum's estimate reaches the margin.{fpc} A stratum needs {MIN_PILOT} pilot consignments.",
        request.confidence * 100.0
    )
}

/// The plan for one stratum from its pilot durations (seconds), or from an assumed standard
/// deviation (minutes) when `pilot` is `None`.
pub fn stratum_plan(
    stratum: &str,
    pilot: Option<&[i64]>,
    assumed_std_minutes: Option<f64>,
    request: &PlanRequest,
    z: f64,
    pilot_days: Option<f64>,
) -> StratumPlan {
    let mut plan = StratumPlan {
        stratum: stratum.to_string(),
        pilot_count: 0,
        pilot_mean_minutes: None,
        pilot_median_minutes: None,
        pilot_std_minutes: None,
        margin_minutes: None,
        sample_infinite: None,
        expected_population: None,
        sample: None,
        note: None,
    };
    let mut sorted: Vec<i64> = Vec::new();
    if let Some(values) = pilot {
        plan.pilot_count = values.len() as u64;
        if values.len() < MIN_PILOT {
            plan.note = Some(format!(
                "{} pilot consignments: at least {MIN_PILOT} are needed",
                values.len()
            ));
            return plan;
        }
        sorted = values.to_vec();
        let n = sorted.len() as f64;
        let mean = sorted.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = sorted
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        plan.pilot_mean_minutes = Some(mean / 60.0);
        plan.pilot_std_minutes = Some(var.sqrt() / 60.0);
        plan.pilot_median_minutes = Some(quantiles(&mut sorted, &[0.5])[0] / 60.0);
        sorted.sort_unstable();
    }
    let estimate = match request.statistic {
        Statistic::Mean => plan.pilot_mean_minutes,
        Statistic::Median => plan.pilot_median_minutes,
    };
    let margin = match request.margin {
        Margin::Minutes(m) => Some(m),
        Margin::Percent(p) => estimate.map(|e| e * p / 100.0),
    };
    plan.margin_minutes = margin;
    let Some(e) = margin.filter(|e| *e > 0.0) else {
        plan.note = Some("no margin: a percentage needs a pilot estimate above zero".into());
        return plan;
    };
    let s = plan.pilot_std_minutes.or(assumed_std_minutes);
    let n0 = match (request.statistic, pilot.is_some()) {
        (Statistic::Median, true) => median_sample(&sorted, z, e * 60.0),
        (statistic, _) => s.filter(|s| *s > 0.0).map(|s| {
            let factor = if statistic == Statistic::Median {
                std::f64::consts::FRAC_PI_2
            } else {
                1.0
            };
            ((factor * (z * s / e).powi(2)).ceil() as u64).clamp(1, MAX_SAMPLE)
        }),
    };
    let Some(n0) = n0 else {
        plan.note = Some(match s {
            Some(_) => "the durations do not spread: any sample gives the same estimate".into(),
            None => "no spread: give a pilot export or an assumed standard deviation".into(),
        });
        return plan;
    };
    plan.sample_infinite = Some(n0);
    plan.sample = Some(n0);
    if let (Some(study), Some(pilot_days)) = (request.study_days, pilot_days)
        && pilot.is_some()
        && pilot_days > 0.0
    {
        let population = (plan.pilot_count as f64 * study / pilot_days)
            .round()
            .max(1.0);
        plan.expected_population = Some(population as u64);
        let n = (n0 as f64 / (1.0 + (n0 as f64 - 1.0) / population)).ceil();
        plan.sample = Some(n.min(population) as u64);
    }
    plan
}

/// The smallest n whose median interval, estimated from the sorted pilot, has a half-width at
/// most `e_seconds`; `None` when even [`MAX_SAMPLE`] does not reach it or the pilot does not
/// spread.
fn median_sample(sorted: &[i64], z: f64, e_seconds: f64) -> Option<u64> {
    let values: Vec<f64> = sorted.iter().map(|&v| v as f64).collect();
    let quantile = |p: f64| quantile_sorted(&values, p);
    let half_width = |n: u64| {
        let d = z / (2.0 * (n as f64).sqrt());
        (quantile(0.5 + d) - quantile(0.5 - d)) / 2.0
    };
    if sorted.first() == sorted.last() {
        return None;
    }
    if half_width(1) <= e_seconds {
        return Some(1);
    }
    if half_width(MAX_SAMPLE) > e_seconds {
        return None;
    }
    let (mut lo, mut hi) = (1u64, MAX_SAMPLE);
    // half_width(lo) > e >= half_width(hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if half_width(mid) <= e_seconds {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// Why a plan cannot be made from a pilot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no stage \"{0}\" in the mapping (stages: {1})")]
    UnknownStage(String, String),
    #[error("no segment \"{0}\" in the mapping (segments: {1})")]
    UnknownSegment(String, String),
    #[error("the pilot has no consignment with both stamps of {0} -> {1}")]
    Empty(String, String),
    #[error("{0} -> {1}: the first stage must come before the second in the process ({2})")]
    Order(String, String, String),
}

/// A pilot's durations of one interval: for the whole population and for each value of the
/// segment `by`, with the days the pilot spans (of the interval's first stamp; at least one).
pub struct Pilot {
    pub from: String,
    pub to: String,
    pub by: Option<String>,
    pub strata: Vec<(String, Vec<i64>)>,
    pub days: f64,
}

impl Pilot {
    /// The durations from stage `from` to stage `to` of a pilot study, stratified by `by`.
    pub fn new(
        table: &StampTable,
        design: &StudyDesign,
        from: &str,
        to: &str,
        by: Option<&str>,
    ) -> Result<Pilot, PlanError> {
        let stage = |name: &str| {
            design
                .stages
                .iter()
                .position(|s| s == name)
                .ok_or_else(|| PlanError::UnknownStage(name.into(), design.stages.join(", ")))
        };
        let (f, t) = (stage(from)?, stage(to)?);
        if f >= t {
            return Err(PlanError::Order(
                from.into(),
                to.into(),
                design.stages.join(" -> "),
            ));
        }
        let def = IntervalDef {
            from: StampRef::Stage(f),
            to: StampRef::Stage(t),
            kind: IntervalKind::Extra,
        };
        let column = match by {
            Some(name) => Some(table.segments.iter().find(|c| c.name == name).ok_or_else(
                || PlanError::UnknownSegment(name.into(), design.segments.join(", ")),
            )?),
            None => None,
        };
        let values = durations(table, &def);
        let counted: Vec<usize> = (0..values.len())
            .filter(|&r| values[r] != MISSING)
            .collect();
        if counted.is_empty() {
            return Err(PlanError::Empty(from.into(), to.into()));
        }
        let starts = counted.iter().map(|&r| table.stamps[f][r]);
        let (first, last) = (starts.clone().min(), starts.max());
        let days = first
            .zip(last)
            .map_or(1.0, |(a, b)| ((b - a) as f64 / 86_400.0).ceil().max(1.0));
        let mut strata = vec![(
            "all".to_string(),
            counted.iter().map(|&r| values[r]).collect::<Vec<i64>>(),
        )];
        if let Some(c) = column {
            let mut by_value: Vec<Vec<i64>> = vec![Vec::new(); c.values.len()];
            for &r in &counted {
                if c.codes[r] != NO_VALUE {
                    by_value[c.codes[r] as usize].push(values[r]);
                }
            }
            strata.extend(c.values.iter().cloned().zip(by_value));
        }
        Ok(Pilot {
            from: from.into(),
            to: to.into(),
            by: by.map(String::from),
            strata,
            days,
        })
    }
}

/// The plan from a pilot: each stratum's sample, and their sum.
pub fn plan_from_pilot(pilot: &Pilot, request: &PlanRequest) -> SamplingPlan {
    let z = z_of(request.confidence);
    let strata: Vec<StratumPlan> = pilot
        .strata
        .iter()
        .map(|(name, values)| stratum_plan(name, Some(values), None, request, z, Some(pilot.days)))
        .collect();
    let total_sample = if pilot.by.is_some() {
        strata[1..].iter().map(|s| s.sample).sum::<Option<u64>>()
    } else {
        strata[0].sample
    };
    SamplingPlan {
        interval_from: pilot.from.clone(),
        interval_to: pilot.to.clone(),
        stratified_by: pilot.by.clone(),
        request: *request,
        z,
        pilot_days: Some(pilot.days),
        strata,
        total_sample,
        method: method(request, true),
    }
}

/// The plan from an assumed standard deviation (minutes), without a pilot.
pub fn plan_from_assumption(
    from: &str,
    to: &str,
    std_minutes: f64,
    request: &PlanRequest,
) -> SamplingPlan {
    let z = z_of(request.confidence);
    let all = stratum_plan("all", None, Some(std_minutes), request, z, None);
    SamplingPlan {
        interval_from: from.into(),
        interval_to: to.into(),
        stratified_by: None,
        request: *request,
        z,
        pilot_days: None,
        total_sample: all.sample,
        strata: vec![all],
        method: method(request, false),
    }
}

/// The two-sided z of a confidence level.
pub fn z_of(confidence: f64) -> f64 {
    normal_quantile(1.0 - (1.0 - confidence) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(statistic: Statistic, margin: Margin) -> PlanRequest {
        PlanRequest {
            statistic,
            margin,
            confidence: 0.95,
            study_days: None,
        }
    }

    #[test]
    fn the_mean_needs_z_s_over_e_squared() {
        // s = 60 min, E = 10 min, z = 1.96: n0 = (1.96 × 6)^2 = 138.3 -> 139.
        let z = z_of(0.95);
        assert!((z - 1.959_964).abs() < 1e-5, "{z}");
        let p = stratum_plan(
            "all",
            None,
            Some(60.0),
            &request(Statistic::Mean, Margin::Minutes(10.0)),
            z,
            None,
        );
        assert_eq!(p.sample, Some(((z * 6.0) * (z * 6.0)).ceil() as u64));
        assert_eq!(p.sample, Some(139));
        // The median of normal data needs pi/2 times as many.
        let m = stratum_plan(
            "all",
            None,
            Some(60.0),
            &request(Statistic::Median, Margin::Minutes(10.0)),
            z,
            None,
        );
        assert_eq!(
            m.sample,
            Some((std::f64::consts::FRAC_PI_2 * (z * 6.0).powi(2)).ceil() as u64)
        );
        // 90% and 99%.
        assert!((z_of(0.90) - 1.644_854).abs() < 1e-5);
        assert!((z_of(0.99) - 2.575_829).abs() < 1e-5);
    }

    #[test]
    fn a_pilot_gives_mean_median_and_finite_population() {
        // A uniform pilot of 0..=1000 minutes: s = 289.4 min; the median interval half-width for
        // n is about 1000 × z / (2√n) minutes (Q is linear), so E = 50 min needs
        // n = (1000 × 1.96 / 100)^2 = 384.1 -> 385.
        let pilot: Vec<i64> = (0..=1000).map(|m| m * 60).collect();
        let z = z_of(0.95);
        let median = stratum_plan(
            "A",
            Some(&pilot),
            None,
            &request(Statistic::Median, Margin::Minutes(50.0)),
            z,
            Some(10.0),
        );
        let expected = (1000.0 * z / 100.0_f64).powi(2).ceil() as u64;
        assert!(
            median.sample.unwrap().abs_diff(expected) <= 1,
            "{median:?} {expected}"
        );
        assert_eq!(median.pilot_median_minutes, Some(500.0));
        let mean = stratum_plan(
            "A",
            Some(&pilot),
            None,
            &request(Statistic::Mean, Margin::Percent(10.0)),
            z,
            Some(10.0),
        );
        let s = mean.pilot_std_minutes.unwrap();
        assert!((s - 289.108_111).abs() < 1e-3, "{s}");
        assert_eq!(mean.margin_minutes, Some(50.0));
        assert_eq!(mean.sample, Some((z * s / 50.0).powi(2).ceil() as u64));
        // Over 5 study days, of a pilot of 10 days: N = 500 and n = n0 / (1 + (n0 - 1)/N).
        let fpc = stratum_plan(
            "A",
            Some(&pilot),
            None,
            &PlanRequest {
                study_days: Some(5.0),
                ..request(Statistic::Mean, Margin::Percent(10.0))
            },
            z,
            Some(10.0),
        );
        let n0 = mean.sample.unwrap() as f64;
        assert_eq!(fpc.expected_population, Some(501));
        assert_eq!(
            fpc.sample,
            Some((n0 / (1.0 + (n0 - 1.0) / 501.0)).ceil() as u64)
        );
        // Too small a pilot, and no spread.
        let few = stratum_plan(
            "B",
            Some(&pilot[..5]),
            None,
            &request(Statistic::Mean, Margin::Minutes(5.0)),
            z,
            None,
        );
        assert!(few.sample.is_none() && few.note.is_some());
        let flat = stratum_plan(
            "C",
            Some(&[600; 20]),
            None,
            &request(Statistic::Median, Margin::Minutes(5.0)),
            z,
            None,
        );
        assert!(flat.sample.is_none() && flat.note.is_some());
    }
}
