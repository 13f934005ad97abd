//! Judging risk profiles and models on inspected history.
//!
//! For a rule file, per profile and overall (a declaration hit by at least one profile), over the
//! declarations with a recorded outcome:
//! - inspection rate = declarations hit / declarations,
//! - hit rate = non-compliant hit / declarations hit,
//! - detection rate = non-compliant hit / all non-compliant,
//! - revenue share = revenue recovered on hits / all revenue recovered (when recorded).
//!
//! A backtest trains on the declarations before a split date and measures the model on those
//! from that date (up to the next split date, when several are given).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use smartborder_model::{Declaration, DeclarationSet};

use crate::metrics::{TargetingMetrics, targeting_metrics};
use crate::model::{ModelError, RiskModel, TrainOptions};
use crate::rules::RuleSet;

/// How well one profile (or all of them together) targets non-compliance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfilePerformance {
    pub profile: String,
    pub hits: usize,
    pub illicit_hits: usize,
    pub inspection_rate: f64,
    pub hit_rate: f64,
    pub detection_rate: f64,
    pub revenue_share: Option<f64>,
}

/// Performance of a rule file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePerformance {
    pub declarations: usize,
    pub illicit: usize,
    pub profiles: Vec<ProfilePerformance>,
    pub overall: ProfilePerformance,
}

/// Measures every profile of `rules` on the declarations that have an outcome.
pub fn rule_performance(rules: &RuleSet, declarations: &[Declaration]) -> RulePerformance {
    let inspected: Vec<&Declaration> = declarations
        .iter()
        .filter(|d| d.outcome.is_some())
        .collect();
    let illicit = |d: &Declaration| d.non_compliant() == Some(true);
    let revenue = |d: &Declaration| d.outcome.and_then(|o| o.revenue);
    let total_illicit = inspected.iter().filter(|d| illicit(d)).count();
    let has_revenue = inspected.iter().any(|d| revenue(d).is_some());
    let total_revenue: f64 = inspected.iter().filter_map(|d| revenue(d)).sum();
    let n = inspected.len();
    let mut hits = vec![(0usize, 0usize, 0.0f64); rules.profiles.len() + 1];
    for d in &inspected {
        let mut any = false;
        for k in rules.hits(d) {
            any = true;
            let h = &mut hits[k];
            h.0 += 1;
            h.1 += usize::from(illicit(d));
            h.2 += revenue(d).unwrap_or(0.0);
        }
        if any {
            let h = &mut hits[rules.profiles.len()];
            h.0 += 1;
            h.1 += usize::from(illicit(d));
            h.2 += revenue(d).unwrap_or(0.0);
        }
    }
    let share = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let performance = |profile: &str, (hit, ill, rev): (usize, usize, f64)| ProfilePerformance {
        profile: profile.to_string(),
        hits: hit,
        illicit_hits: ill,
        inspection_rate: share(hit as f64, n as f64),
        hit_rate: share(ill as f64, hit as f64),
        detection_rate: share(ill as f64, total_illicit as f64),
        revenue_share: has_revenue.then(|| share(rev, total_revenue)),
    };
    RulePerformance {
        declarations: n,
        illicit: total_illicit,
        profiles: rules
            .profiles
            .iter()
            .zip(&hits)
            .map(|(p, h)| performance(&p.id, *h))
            .collect(),
        overall: performance("overall", hits[rules.profiles.len()]),
    }
}

/// Labels and revenue of the inspected declarations of a set, in order, with the indices of
/// those declarations.
pub fn outcomes(declarations: &[Declaration]) -> (Vec<usize>, Vec<bool>, Option<Vec<f64>>) {
    let index: Vec<usize> = (0..declarations.len())
        .filter(|&i| declarations[i].outcome.is_some())
        .collect();
    let labels = index
        .iter()
        .map(|&i| declarations[i].non_compliant() == Some(true))
        .collect();
    let has_revenue = index
        .iter()
        .any(|&i| declarations[i].outcome.and_then(|o| o.revenue).is_some());
    let revenue = has_revenue.then(|| {
        index
            .iter()
            .map(|&i| {
                declarations[i]
                    .outcome
                    .and_then(|o| o.revenue)
                    .unwrap_or(0.0)
            })
            .collect()
    });
    (index, labels, revenue)
}

/// One period of a backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestPeriod {
    pub train_until: NaiveDate,
    pub test_until: Option<NaiveDate>,
    pub train_declarations: usize,
    pub metrics: TargetingMetrics,
}

/// Trains before each split date and evaluates on the following period.
pub fn backtest(
    history: &DeclarationSet,
    splits: &[NaiveDate],
    options: &TrainOptions,
    threads: usize,
) -> Result<Vec<BacktestPeriod>, ModelError> {
    let mut splits = splits.to_vec();
    splits.sort();
    let mut periods = Vec::new();
    for (k, &split) in splits.iter().enumerate() {
        let next = splits.get(k + 1).copied();
        let train = subset(history, &|d| d.date < split);
        let test = subset(history, &|d| {
            d.date >= split && next.is_none_or(|n| d.date < n)
        });
        let model = RiskModel::train_with(&train, options, &|_| {})?;
        periods.push(BacktestPeriod {
            train_until: split,
            test_until: next,
            train_declarations: model.training.declarations,
            metrics: measure(&model, &test, threads),
        });
    }
    Ok(periods)
}

fn subset(history: &DeclarationSet, keep: &dyn Fn(&Declaration) -> bool) -> DeclarationSet {
    DeclarationSet {
        attributes: history.attributes.clone(),
        declarations: history
            .declarations
            .iter()
            .filter(|d| keep(d))
            .cloned()
            .collect(),
    }
}

/// The targeting metrics of a model on the inspected declarations of a set (scored with the
/// whole set as context).
fn measure(model: &RiskModel, test: &DeclarationSet, threads: usize) -> TargetingMetrics {
    let (index, labels, revenue) = outcomes(&test.declarations);
    let all_scores = model.score(test, threads);
    let scores: Vec<f64> = index.iter().map(|&i| all_scores[i]).collect();
    targeting_metrics(&scores, &labels, revenue.as_deref())
}

/// One month of a rolling backtest: the model retrained on everything inspected before the
/// month, and the model frozen at the start, on the same declarations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollingMonth {
    /// The first day of the month.
    pub month: NaiveDate,
    /// Inspected declarations the retrained model learned from.
    pub train_declarations: usize,
    pub retrained: TargetingMetrics,
    pub frozen: TargetingMetrics,
}

/// The first day of the month after `d`'s.
fn next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
}

/// A rolling backtest by month from `start`: each month, a model trained on the history before
/// it (what had been inspected up to then) is measured on the month's inspected declarations,
/// beside the model trained once before `start` (frozen), so that drift shows.
pub fn rolling_backtest(
    history: &DeclarationSet,
    start: NaiveDate,
    options: &TrainOptions,
    threads: usize,
    progress: &dyn Fn(NaiveDate),
) -> Result<Vec<RollingMonth>, ModelError> {
    let start = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(start);
    let frozen = RiskModel::train_with(&subset(history, &|d| d.date < start), options, &|_| {})?;
    let last = history.declarations.iter().map(|d| d.date).max();
    let mut months = Vec::new();
    let mut month = start;
    while last.is_some_and(|l| month <= l) {
        let end = next_month(month);
        progress(month);
        let test = subset(history, &|d| d.date >= month && d.date < end);
        if test.declarations.iter().any(|d| d.outcome.is_some()) {
            let retrained = if month == start {
                frozen.clone()
            } else {
                RiskModel::train_with(&subset(history, &|d| d.date < month), options, &|_| {})?
            };
            months.push(RollingMonth {
                month,
                train_declarations: retrained.training.declarations,
                retrained: measure(&retrained, &test, threads),
                frozen: measure(&frozen, &test, threads),
            });
        }
        month = end;
    }
    Ok(months)
}

#[cfg(test)]
mod tests {
    use smartborder_model::ControlOutcome;

    use super::*;
    use crate::rules::parse_rules;

    fn declaration(i: usize, origin: &str, fraud: bool, revenue: Option<f64>) -> Declaration {
        Declaration {
            origin: Some(origin.into()),
            outcome: Some(ControlOutcome {
                non_compliant: fraud,
                revenue,
                propensity: None,
            }),
            ..Declaration::new(
                &i.to_string(),
                NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                "1",
                "0101",
            )
        }
    }

    /// 10 inspected declarations (+1 without outcome): CN x4 (3 illicit), TR x3 (1 illicit),
    /// DE x3 (0 illicit). Profile CN hits 4: inspection 0.4, hit rate 0.75, detection 3/4.
    #[test]
    fn rates_by_hand() {
        let mut ds = Vec::new();
        for (i, (o, f, r)) in [
            ("CN", true, 100.0),
            ("CN", true, 50.0),
            ("CN", true, 0.0),
            ("CN", false, 0.0),
            ("TR", true, 50.0),
            ("TR", false, 0.0),
            ("TR", false, 0.0),
            ("DE", false, 0.0),
            ("DE", false, 0.0),
            ("DE", false, 0.0),
        ]
        .into_iter()
        .enumerate()
        {
            ds.push(declaration(i, o, f, Some(r)));
        }
        let mut uninspected = declaration(99, "CN", false, None);
        uninspected.outcome = None;
        ds.push(uninspected);
        let rules = parse_rules(
            r#"profile "CN" { when origin = "CN" then red }
               profile "CN-TR" { when origin in ["CN", "TR"] then yellow }"#,
            "r",
            None,
            &[],
        )
        .unwrap();
        let p = rule_performance(&rules, &ds);
        assert_eq!((p.declarations, p.illicit), (10, 4));
        let cn = &p.profiles[0];
        assert_eq!((cn.hits, cn.illicit_hits), (4, 3));
        assert_eq!(
            (cn.inspection_rate, cn.hit_rate, cn.detection_rate),
            (0.4, 0.75, 0.75)
        );
        assert_eq!(cn.revenue_share, Some(0.75));
        let both = &p.profiles[1];
        assert_eq!(
            (both.hits, both.illicit_hits, both.detection_rate),
            (7, 4, 1.0)
        );
        // Overall: the union, CN or TR: 7 declarations.
        assert_eq!(p.overall.hits, 7);
        assert_eq!(p.overall.revenue_share, Some(1.0));
    }
}
