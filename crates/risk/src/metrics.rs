//! Metrics of targeting quality, as defined in PRODUCT.md (WCO BACUDA / DATE, KDD 2020).
//!
//! At an inspection budget of n%, the declarations whose score is strictly above the
//! (100 - n)th percentile of all scores are selected (percentile by linear interpolation between
//! order statistics, as numpy's default):
//! - Pre@n = selected illicit / selected,
//! - Rec@n = selected illicit / all illicit,
//! - Rev@n = revenue of selected / all revenue.
//!
//! AUC is the Mann-Whitney probability that an illicit declaration scores above a compliant one,
//! ties counting one half.

use serde::Serialize;

/// The inspection budgets reported, in percent.
pub const BUDGETS_PERCENT: [u32; 4] = [1, 2, 5, 10];

/// The `p`th percentile (0..=100) of sorted values, linear between order statistics.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of no values");
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

/// Targeting quality at one inspection budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct AtBudget {
    pub budget_percent: u32,
    /// Scores strictly above this are selected.
    pub threshold: f64,
    pub selected: usize,
    pub precision: f64,
    pub recall: f64,
    /// `None` when no revenue is recorded.
    pub revenue_recall: Option<f64>,
}

/// Metrics of a scored, labelled set.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TargetingMetrics {
    pub declarations: usize,
    pub illicit: usize,
    pub budgets: Vec<AtBudget>,
    /// `None` when the set has only one class.
    pub auc: Option<f64>,
}

/// Computes Pre@n, Rec@n, Rev@n for n in [`BUDGETS_PERCENT`] and the AUC.
/// `revenue`, when given, is the revenue recovered per declaration (0 for compliant ones).
pub fn targeting_metrics(
    scores: &[f64],
    illicit: &[bool],
    revenue: Option<&[f64]>,
) -> TargetingMetrics {
    assert_eq!(scores.len(), illicit.len(), "one label per score");
    let positives = illicit.iter().filter(|y| **y).count();
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let total_revenue: Option<f64> = revenue.map(|r| r.iter().sum());
    let budgets = BUDGETS_PERCENT
        .iter()
        .filter(|_| !scores.is_empty())
        .map(|&n| {
            let threshold = percentile(&sorted, 100.0 - f64::from(n));
            let (mut selected, mut hits, mut rev) = (0usize, 0usize, 0.0);
            for (i, s) in scores.iter().enumerate() {
                if *s > threshold {
                    selected += 1;
                    hits += usize::from(illicit[i]);
                    rev += revenue.map_or(0.0, |r| r[i]);
                }
            }
            AtBudget {
                budget_percent: n,
                threshold,
                selected,
                precision: ratio(hits, selected),
                recall: ratio(hits, positives),
                revenue_recall: total_revenue.map(|t| if t > 0.0 { rev / t } else { 0.0 }),
            }
        })
        .collect();
    TargetingMetrics {
        declarations: scores.len(),
        illicit: positives,
        budgets,
        auc: auc(scores, illicit),
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Area under the ROC curve by ranks (ties get their mean rank); `None` with a single class.
pub fn auc(scores: &[f64], illicit: &[bool]) -> Option<f64> {
    let positives = illicit.iter().filter(|y| **y).count();
    let negatives = illicit.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mean_rank = (i + j + 2) as f64 / 2.0;
        rank_sum += mean_rank * order[i..=j].iter().filter(|&&k| illicit[k]).count() as f64;
        i = j + 1;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 100.0), 4.0);
        assert_eq!(percentile(&v, 50.0), 2.5);
        // numpy.percentile([1,2,3,4], 90) = 3.7
        assert!((percentile(&v, 90.0) - 3.7).abs() < 1e-12);
    }

    /// 20 declarations scored 1..=20; illicit: 20, 19, 17, 10, 3.
    /// 99th percentile = 19 + 0.81 * 1 = 19.81 -> selects {20}: Pre 1, Rec 1/5.
    /// 98th = 19.62 -> {20}. 95th = 19.05 -> {20}. 90th = 18.1 -> {19, 20}: Pre 1, Rec 2/5.
    #[test]
    fn budgets_by_hand() {
        let scores: Vec<f64> = (1..=20).map(f64::from).collect();
        let illicit: Vec<bool> = (1..=20).map(|s| [20, 19, 17, 10, 3].contains(&s)).collect();
        let revenue: Vec<f64> = (1..=20)
            .map(|s| match s {
                20 => 10.0,
                19 => 30.0,
                3 => 60.0,
                _ => 0.0,
            })
            .collect();
        let m = targeting_metrics(&scores, &illicit, Some(&revenue));
        assert_eq!(m.illicit, 5);
        let b: Vec<_> = m
            .budgets
            .iter()
            .map(|b| (b.budget_percent, b.selected, b.precision, b.recall))
            .collect();
        assert_eq!(
            b,
            vec![
                (1, 1, 1.0, 0.2),
                (2, 1, 1.0, 0.2),
                (5, 1, 1.0, 0.2),
                (10, 2, 1.0, 0.4)
            ]
        );
        assert!((m.budgets[0].threshold - 19.81).abs() < 1e-9);
        assert_eq!(m.budgets[3].revenue_recall, Some(0.4));
        // AUC: positives' ranks 20+19+17+10+3 = 69; (69 - 15) / (5 * 15) = 0.72.
        assert!((m.auc.unwrap() - 0.72).abs() < 1e-12);
    }

    #[test]
    fn ties_and_degenerate_sets() {
        // All scores equal: nothing is strictly above the percentile; AUC one half.
        let m = targeting_metrics(&[0.5; 4], &[true, false, true, false], None);
        assert!(
            m.budgets
                .iter()
                .all(|b| b.selected == 0 && b.precision == 0.0)
        );
        assert_eq!(m.budgets[0].revenue_recall, None);
        assert_eq!(m.auc, Some(0.5));
        // Perfect and inverted rankings.
        assert_eq!(auc(&[0.1, 0.2, 0.9], &[false, false, true]), Some(1.0));
        assert_eq!(auc(&[0.9, 0.2, 0.1], &[false, false, true]), Some(0.0));
        assert_eq!(auc(&[0.1, 0.2], &[false, false]), None);
        let empty = targeting_metrics(&[], &[], None);
        assert!(empty.budgets.is_empty());
    }
}
