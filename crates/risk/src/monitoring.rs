//! Monitoring an administration's risk management from what it assessed and what its controls
//! found, month by month (the month of the event that asked for the assessment):
//!
//! - each profile's **hit rate** (assessed movements it hit / assessed movements) and
//!   **detection rate** (non-compliant / inspected among the movements it hit);
//! - the model's **Pre@n on recent results**: among the month's inspected movements with a
//!   score, the share non-compliant in the top n% by score, beside the base rate of those
//!   inspected (the inspected are a selected sample, so this is a lift over the month's own
//!   controls, not the Pre@n of all declarations);
//! - **drift** of the score distribution: the population stability index of each month against
//!   the reference month (the first month with at least [`MIN_REFERENCE`] scores),
//!   `PSI = Σ (aᵢ - eᵢ) ln(aᵢ / eᵢ)` over the reference's deciles, shares floored at 10⁻⁴; a
//!   warning above [`PSI_WARNING`] (0.1 to 0.25 is usually read as a moderate shift);
//! - **exploration**: the share of assessments an exploration draw selected, and the share of
//!   the inspections that came from exploration.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::metrics::{percentile, targeting_metrics};

/// The PSI above which a month is flagged.
pub const PSI_WARNING: f64 = 0.25;
/// Scores a month needs to be the reference of the PSI.
pub const MIN_REFERENCE: usize = 50;
/// Bins of the PSI: the reference's deciles.
const PSI_BINS: usize = 10;
/// Smallest share in a bin (an empty bin would make the PSI infinite).
const PSI_FLOOR: f64 = 1e-4;

/// One assessed movement, as monitoring reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitored {
    /// `YYYY-MM`.
    pub month: String,
    pub score: Option<f64>,
    pub hits: Vec<String>,
    pub explored: bool,
    /// `None` without a control result; `Some(false)` when the result says not inspected.
    pub inspected: Option<bool>,
    /// Known only for inspected movements.
    pub non_compliant: Option<bool>,
}

/// A profile in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileMonth {
    pub month: String,
    pub hits: usize,
    pub hit_rate: f64,
    pub inspected: usize,
    pub detections: usize,
    /// `None` when none of its hits was inspected.
    pub detection_rate: Option<f64>,
}

/// Pre@n in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrecisionAt {
    pub budget_percent: u32,
    pub selected: usize,
    pub precision: f64,
}

/// One month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Month {
    pub month: String,
    pub assessed: usize,
    pub scored: usize,
    pub inspected: usize,
    pub non_compliant: usize,
    /// Non-compliant / inspected.
    pub base_rate: Option<f64>,
    /// Among the inspected with a score (empty when fewer than 10).
    pub precision_at: Vec<PrecisionAt>,
    /// Against the reference month; `None` for months without scores or before a reference.
    pub psi: Option<f64>,
    pub explored: usize,
    /// Assessments selected by exploration / assessed.
    pub exploration_share: f64,
    /// Inspections of explored movements / inspections.
    pub inspections_from_exploration: Option<f64>,
}

/// The monitoring of an administration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Monitoring {
    pub months: Vec<Month>,
    /// Profile id -> its months.
    pub profiles: BTreeMap<String, Vec<ProfileMonth>>,
    /// The month the PSI is measured against.
    pub psi_reference: Option<String>,
    pub psi_warning_above: f64,
    /// Plain sentences about what passed a threshold.
    pub warnings: Vec<String>,
}

/// Monitors assessed movements (in any order).
pub fn monitor(rows: &[Monitored]) -> Monitoring {
    let mut by_month: BTreeMap<&str, Vec<&Monitored>> = BTreeMap::new();
    for r in rows {
        by_month.entry(r.month.as_str()).or_default().push(r);
    }
    let reference = by_month.iter().find_map(|(m, rs)| {
        let scores: Vec<f64> = rs.iter().filter_map(|r| r.score).collect();
        (scores.len() >= MIN_REFERENCE).then(|| (m.to_string(), deciles(scores)))
    });
    let mut months = Vec::new();
    let mut profiles: BTreeMap<String, Vec<ProfileMonth>> = BTreeMap::new();
    let mut warnings = Vec::new();
    for (month, rs) in &by_month {
        let inspected: Vec<&&Monitored> = rs.iter().filter(|r| r.inspected == Some(true)).collect();
        let labelled: Vec<(f64, bool)> = inspected
            .iter()
            .filter_map(|r| Some((r.score?, r.non_compliant?)))
            .collect();
        let non_compliant = inspected
            .iter()
            .filter(|r| r.non_compliant == Some(true))
            .count();
        let precision_at = if labelled.len() >= 10 {
            let scores: Vec<f64> = labelled.iter().map(|(s, _)| *s).collect();
            let illicit: Vec<bool> = labelled.iter().map(|(_, y)| *y).collect();
            targeting_metrics(&scores, &illicit, None)
                .budgets
                .into_iter()
                .map(|b| PrecisionAt {
                    budget_percent: b.budget_percent,
                    selected: b.selected,
                    precision: b.precision,
                })
                .collect()
        } else {
            Vec::new()
        };
        let scores: Vec<f64> = rs.iter().filter_map(|r| r.score).collect();
        let psi = match &reference {
            Some((from, edges)) if month >= &from.as_str() && !scores.is_empty() => {
                Some(psi(edges, &scores))
            }
            _ => None,
        };
        if let (Some(p), Some((from, _))) = (psi, &reference)
            && p > PSI_WARNING
        {
            warnings.push(format!(
                "{month}: the score distribution moved from {from}'s (PSI {p:.3} > {PSI_WARNING}); check the model against recent results"
            ));
        }
        let explored = rs.iter().filter(|r| r.explored).count();
        let explored_inspected = inspected.iter().filter(|r| r.explored).count();
        months.push(Month {
            month: month.to_string(),
            assessed: rs.len(),
            scored: scores.len(),
            inspected: inspected.len(),
            non_compliant,
            base_rate: share(non_compliant, inspected.len()),
            precision_at,
            psi,
            explored,
            exploration_share: share(explored, rs.len()).unwrap_or(0.0),
            inspections_from_exploration: share(explored_inspected, inspected.len()),
        });
        let mut ids: Vec<&String> = rs.iter().flat_map(|r| &r.hits).collect();
        ids.sort();
        ids.dedup();
        for id in ids {
            let hit: Vec<&&Monitored> = rs.iter().filter(|r| r.hits.contains(id)).collect();
            let hit_inspected: Vec<&&&Monitored> =
                hit.iter().filter(|r| r.inspected == Some(true)).collect();
            let detections = hit_inspected
                .iter()
                .filter(|r| r.non_compliant == Some(true))
                .count();
            profiles.entry(id.clone()).or_default().push(ProfileMonth {
                month: month.to_string(),
                hits: hit.len(),
                hit_rate: hit.len() as f64 / rs.len() as f64,
                inspected: hit_inspected.len(),
                detections,
                detection_rate: share(detections, hit_inspected.len()),
            });
        }
    }
    Monitoring {
        months,
        profiles,
        psi_reference: reference.map(|(m, _)| m),
        psi_warning_above: PSI_WARNING,
        warnings,
    }
}

fn share(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The inner edges of the deciles of the reference scores.
fn deciles(mut scores: Vec<f64>) -> Vec<f64> {
    scores.sort_by(f64::total_cmp);
    (1..PSI_BINS)
        .map(|k| percentile(&scores, 100.0 * k as f64 / PSI_BINS as f64))
        .collect()
}

/// The bin of a score: the number of inner edges at or below it (a score equal to an edge goes
/// to the bin above it).
fn bin(edges: &[f64], score: f64) -> usize {
    edges.partition_point(|e| *e <= score)
}

/// The PSI of `scores` against the reference's decile bins (the reference has a tenth in each,
/// up to ties).
fn psi(edges: &[f64], scores: &[f64]) -> f64 {
    let mut counts = [0usize; PSI_BINS];
    for s in scores {
        counts[bin(edges, *s)] += 1;
    }
    let expected = 1.0 / PSI_BINS as f64;
    counts
        .iter()
        .map(|c| {
            let a = (*c as f64 / scores.len() as f64).max(PSI_FLOOR);
            (a - expected) * (a / expected).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        month: &str,
        score: f64,
        hits: &[&str],
        inspected: Option<bool>,
        bad: bool,
    ) -> Monitored {
        Monitored {
            month: month.to_string(),
            score: Some(score),
            hits: hits.iter().map(|h| h.to_string()).collect(),
            explored: false,
            inspected,
            non_compliant: (inspected == Some(true)).then_some(bad),
        }
    }

    #[test]
    fn profile_rates_are_counted_per_month() {
        let rows = vec![
            row("2026-10", 0.1, &["P1"], Some(true), true),
            row("2026-10", 0.2, &["P1"], Some(true), false),
            row("2026-10", 0.3, &["P1", "P2"], None, false),
            row("2026-10", 0.4, &[], Some(false), false),
            row("2026-11", 0.5, &["P2"], Some(true), true),
        ];
        let m = monitor(&rows);
        let p1 = &m.profiles["P1"];
        assert_eq!(p1.len(), 1);
        assert_eq!((p1[0].hits, p1[0].inspected, p1[0].detections), (3, 2, 1));
        assert_eq!(p1[0].hit_rate, 0.75);
        assert_eq!(p1[0].detection_rate, Some(0.5));
        let p2 = &m.profiles["P2"];
        assert_eq!(
            p2[0].detection_rate, None,
            "its October hit was not inspected"
        );
        assert_eq!(p2[1].month, "2026-11");
        assert_eq!(p2[1].detection_rate, Some(1.0));
        let october = &m.months[0];
        assert_eq!(
            (october.assessed, october.inspected, october.non_compliant),
            (4, 2, 1)
        );
        assert_eq!(october.base_rate, Some(0.5));
    }

    /// The PSI against a direct computation: deciles of the reference by sorting, shares per
    /// bin by counting.
    #[test]
    fn psi_matches_a_direct_computation_and_flags_a_shift() {
        let mut rows = Vec::new();
        for i in 0..200 {
            rows.push(row("2026-09", f64::from(i) / 200.0, &[], None, false));
        }
        for i in 0..100 {
            // October as September; November shifted up: most scores above 0.7.
            rows.push(row("2026-10", f64::from(i * 2) / 200.0, &[], None, false));
            rows.push(row("2026-11", 0.7 + f64::from(i) / 400.0, &[], None, false));
        }
        let m = monitor(&rows);
        assert_eq!(m.psi_reference.as_deref(), Some("2026-09"));
        let psi_of = |month: &str| {
            m.months
                .iter()
                .find(|x| x.month == month)
                .unwrap()
                .psi
                .unwrap()
        };
        assert!(
            psi_of("2026-09").abs() < 1e-12,
            "the reference against itself"
        );
        assert!(psi_of("2026-10") < 0.05, "{}", psi_of("2026-10"));
        // Direct: November's 100 scores 0.7..0.9475 against September's deciles (edges at
        // 0.1, 0.2, ... linear between order statistics of i/200).
        let sorted: Vec<f64> = (0..200).map(|i| f64::from(i) / 200.0).collect();
        let edges: Vec<f64> = (1..10)
            .map(|k| {
                let rank = k as f64 / 10.0 * 199.0;
                let lo = rank.floor() as usize;
                sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (rank - lo as f64)
            })
            .collect();
        let mut counts = [0usize; 10];
        for i in 0..100 {
            let s = 0.7 + f64::from(i) / 400.0;
            counts[edges.iter().filter(|e| **e <= s).count()] += 1;
        }
        let direct: f64 = counts
            .iter()
            .map(|c| {
                let a = (*c as f64 / 100.0).max(1e-4);
                (a - 0.1) * (a / 0.1).ln()
            })
            .sum();
        assert!((psi_of("2026-11") - direct).abs() < 1e-12);
        assert!(direct > PSI_WARNING);
        assert_eq!(m.warnings.len(), 1);
        assert!(m.warnings[0].starts_with("2026-11"), "{:?}", m.warnings);
    }

    #[test]
    fn precision_at_n_among_the_inspected() {
        // 20 inspected: the 4 highest scores non-compliant, one more among the rest.
        let mut rows: Vec<Monitored> = (0..20)
            .map(|i| {
                row(
                    "2026-11",
                    f64::from(i) / 20.0,
                    &[],
                    Some(true),
                    i >= 16 || i == 3,
                )
            })
            .collect();
        rows.push(row("2026-11", 0.99, &[], None, false));
        rows[0].explored = true;
        let m = monitor(&rows);
        let nov = &m.months[0];
        assert_eq!(nov.base_rate, Some(5.0 / 20.0));
        let at10 = nov
            .precision_at
            .iter()
            .find(|p| p.budget_percent == 10)
            .unwrap();
        assert_eq!((at10.selected, at10.precision), (2, 1.0));
        assert_eq!(nov.explored, 1);
        assert_eq!(nov.inspections_from_exploration, Some(1.0 / 20.0));
        assert_eq!(nov.exploration_share, 1.0 / 21.0);
    }
}
