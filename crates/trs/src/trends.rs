//! Trends (WCO TRS Guide version 4): for every interval and segment, the count, median, mean
//! and p90 per week or per month, with control limits on the medians and the periods outside
//! them flagged.
//!
//! - A consignment's period is that of its interval's first stamp (UTC): the ISO week
//!   (`2026-W05`) or the month (`2026-01`).
//! - Quantiles as everywhere in the engine (linear between closest ranks).
//! - Control limits: centre = the median of the period medians, spread = 1.4826 × the median
//!   absolute deviation of the period medians from the centre (a robust standard deviation);
//!   limits = centre ± k × spread (k = 3). Only periods with at least [`MIN_PERIOD_COUNT`]
//!   consignments enter the limits and can be flagged; a series needs three such periods.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike};
use serde::{Deserialize, Serialize};
use smartborder_model::{IntervalDef, MISSING, NO_VALUE, StampRef, StampTable, StudyDesign};

use crate::stats::quantiles;

/// Consignments a period needs to enter the control limits.
pub const MIN_PERIOD_COUNT: u64 = 10;
/// k of the control limits.
pub const LIMIT_K: f64 = 3.0;
/// Scales a median absolute deviation to a standard deviation (normal data).
const MAD_SCALE: f64 = 1.4826;

/// The length of a trend's periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrendPeriod {
    Week,
    Month,
}

impl TrendPeriod {
    fn key(self, at: i64) -> Option<String> {
        let t = DateTime::from_timestamp(at, 0)?;
        Some(match self {
            TrendPeriod::Week => {
                let w = t.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            TrendPeriod::Month => format!("{}-{:02}", t.year(), t.month()),
        })
    }
}

/// One period of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub period: String,
    pub count: u64,
    pub median_minutes: f64,
    pub mean_minutes: f64,
    pub p90_minutes: f64,
}

/// An interval for one segment value (or all) over the periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendSeries {
    pub from: String,
    pub to: String,
    /// "all", or the name of the segment.
    pub segment_by: String,
    pub segment: Option<String>,
    pub points: Vec<TrendPoint>,
    /// Centre and limits of the medians, when the series has three periods to set them.
    pub center_minutes: Option<f64>,
    pub lower_limit_minutes: Option<f64>,
    pub upper_limit_minutes: Option<f64>,
    /// Periods whose median is outside the limits.
    pub flagged: Vec<String>,
}

/// The trends of a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trends {
    pub period: TrendPeriod,
    pub method: String,
    pub series: Vec<TrendSeries>,
}

/// The method as the report states it.
pub fn method(period: TrendPeriod) -> String {
    format!(
        "Per {} of the interval's first stamp (UTC; ISO weeks): count, median, mean and p90. \
         Control limits on the medians: centre = median of the period medians, spread = {MAD_SCALE} \
         x their median absolute deviation from it, limits = centre +/- {LIMIT_K} x spread; only \
         periods with at least {MIN_PERIOD_COUNT} consignments set the limits or are flagged, and \
         a series needs three of them.",
        match period {
            TrendPeriod::Week => "week",
            TrendPeriod::Month => "month",
        }
    )
}

/// The series of one interval: all, then each segment's values. `values` are the interval's
/// durations in seconds per row ([`MISSING`] where it does not count).
pub fn interval_trends(
    table: &StampTable,
    design: &StudyDesign,
    def: &IntervalDef,
    values: &[i64],
    period: TrendPeriod,
) -> Vec<TrendSeries> {
    // The period of each counted row, as an index into `keys` (sorted).
    let start = |row: usize| -> i64 {
        match def.from {
            StampRef::Stage(s) => table.stamps[s][row],
            StampRef::FirstPresent => table
                .stamps
                .iter()
                .map(|c| c[row])
                .find(|&t| t != MISSING)
                .unwrap_or(MISSING),
            StampRef::LastPresent => MISSING,
        }
    };
    // The period of each counted row as a code into `keys` (sorted labels), through its UTC
    // day, so that a label is made once per day rather than once per row.
    let days: Vec<i64> = values
        .iter()
        .enumerate()
        .map(|(row, &v)| {
            let t = if v == MISSING { MISSING } else { start(row) };
            if t == MISSING {
                i64::MIN
            } else {
                t.div_euclid(86_400)
            }
        })
        .collect();
    let mut day_label: BTreeMap<i64, String> = BTreeMap::new();
    for &d in &days {
        if d != i64::MIN
            && !day_label.contains_key(&d)
            && let Some(label) = period.key(d * 86_400)
        {
            day_label.insert(d, label);
        }
    }
    let mut keys: Vec<String> = day_label.values().cloned().collect();
    keys.sort();
    keys.dedup();
    let day_code: BTreeMap<i64, u32> = day_label
        .iter()
        .map(|(d, l)| (*d, keys.binary_search(l).unwrap_or_default() as u32))
        .collect();
    let codes: Vec<u32> = days
        .iter()
        .map(|d| day_code.get(d).copied().unwrap_or(NO_VALUE))
        .collect();
    let from = design.stamp_name(def.from).to_string();
    let to = design.stamp_name(def.to).to_string();
    let series = |segment_by: &str, segment: Option<String>, groups: &mut [Vec<i64>]| {
        let points: Vec<TrendPoint> = groups
            .iter_mut()
            .zip(&keys)
            .filter(|(g, _)| !g.is_empty())
            .map(|(g, k)| point(k, g))
            .collect();
        limits(TrendSeries {
            from: from.clone(),
            to: to.clone(),
            segment_by: segment_by.to_string(),
            segment,
            points,
            center_minutes: None,
            lower_limit_minutes: None,
            upper_limit_minutes: None,
            flagged: Vec::new(),
        })
    };
    // One pass per grouping: all rows by period, then each segment column by (value, period).
    let mut all: Vec<Vec<i64>> = vec![Vec::new(); keys.len()];
    for (row, &v) in values.iter().enumerate() {
        if codes[row] != NO_VALUE {
            all[codes[row] as usize].push(v);
        }
    }
    let mut out = vec![series("all", None, &mut all)];
    for column in &table.segments {
        let mut groups: Vec<Vec<Vec<i64>>> =
            vec![vec![Vec::new(); keys.len()]; column.values.len()];
        for (row, &v) in values.iter().enumerate() {
            let (p, c) = (codes[row], column.codes[row]);
            if p != NO_VALUE && c != NO_VALUE {
                groups[c as usize][p as usize].push(v);
            }
        }
        for (value, mut by_period) in column.values.iter().zip(groups) {
            out.push(series(&column.name, Some(value.clone()), &mut by_period));
        }
    }
    out
}

fn point(period: &str, group: &mut [i64]) -> TrendPoint {
    let n = group.len();
    let mean = group.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let q = quantiles(group, &[0.5, 0.9]);
    TrendPoint {
        period: period.to_string(),
        count: n as u64,
        median_minutes: q[0] / 60.0,
        mean_minutes: mean / 60.0,
        p90_minutes: q[1] / 60.0,
    }
}

/// The median of values (linear between the two middle ones).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * 0.5;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Sets the control limits of a series and flags the periods outside them.
fn limits(mut s: TrendSeries) -> TrendSeries {
    let medians: Vec<f64> = s
        .points
        .iter()
        .filter(|p| p.count >= MIN_PERIOD_COUNT)
        .map(|p| p.median_minutes)
        .collect();
    if medians.len() < 3 {
        return s;
    }
    let center = median(medians.clone());
    let spread = MAD_SCALE * median(medians.iter().map(|m| (m - center).abs()).collect());
    let (lower, upper) = (center - LIMIT_K * spread, center + LIMIT_K * spread);
    s.flagged = s
        .points
        .iter()
        .filter(|p| {
            p.count >= MIN_PERIOD_COUNT && (p.median_minutes < lower || p.median_minutes > upper)
        })
        .map(|p| p.period.clone())
        .collect();
    s.center_minutes = Some(center);
    s.lower_limit_minutes = Some(lower);
    s.upper_limit_minutes = Some(upper);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(medians: &[(f64, u64)]) -> TrendSeries {
        TrendSeries {
            from: "a".into(),
            to: "b".into(),
            segment_by: "all".into(),
            segment: None,
            points: medians
                .iter()
                .enumerate()
                .map(|(i, (m, n))| TrendPoint {
                    period: format!("P{i}"),
                    count: *n,
                    median_minutes: *m,
                    mean_minutes: *m,
                    p90_minutes: *m,
                })
                .collect(),
            center_minutes: None,
            lower_limit_minutes: None,
            upper_limit_minutes: None,
            flagged: Vec::new(),
        }
    }

    /// Medians 10, 11, 9, 12, 40 (and 100 on three consignments): centre 11, deviations 1, 0,
    /// 2, 1, 29 -> MAD 1, spread 1.4826, limits 11 ± 4.4478.
    #[test]
    fn a_shift_beyond_three_robust_deviations_is_flagged() {
        let s = limits(series(&[
            (10.0, 50),
            (11.0, 50),
            (9.0, 50),
            (12.0, 50),
            (40.0, 50),
            (100.0, 3),
        ]));
        assert_eq!(s.center_minutes, Some(11.0));
        let spread = 1.4826;
        assert!((s.upper_limit_minutes.unwrap() - (11.0 + 3.0 * spread)).abs() < 1e-12);
        assert_eq!(
            s.flagged,
            vec!["P4".to_string()],
            "P5 has too few consignments"
        );
        let few = limits(series(&[(10.0, 50), (50.0, 50)]));
        assert_eq!(few.center_minutes, None);
        assert!(few.flagged.is_empty());
    }

    #[test]
    fn periods_are_iso_weeks_and_months() {
        // 2026-01-01 is a Thursday: ISO week 1 of 2026; 2027-01-01 (Friday) is in 2026-W53.
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        assert_eq!(
            TrendPeriod::Week.key(at("2026-01-01T10:00:00Z")).unwrap(),
            "2026-W01"
        );
        assert_eq!(
            TrendPeriod::Week.key(at("2027-01-01T10:00:00Z")).unwrap(),
            "2026-W53"
        );
        assert_eq!(
            TrendPeriod::Month.key(at("2026-02-28T23:59:59Z")).unwrap(),
            "2026-02"
        );
    }
}
