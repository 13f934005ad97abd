//! Before and after (WCO TRS Guide version 4, results-oriented monitoring: "did the reform
//! work?"): every interval and segment of two studies side by side.
//!
//! For each interval and segment found in both studies (matched by its stamps and segment):
//! - the difference after − before in median and in mean (minutes; negative = faster), with a
//!   95% confidence interval by the percentile bootstrap: [`CompareOptions::resamples`]
//!   resamples, each drawing n_before durations with replacement from the before side and
//!   n_after from the after side, the 2.5th and 97.5th percentiles of the resampled differences
//!   (quantiles linear between closest ranks, as everywhere in the engine). The draws come from
//!   SplitMix64 seeded with `seed + k` for the k-th comparison (0-based, in the order of the
//!   output), each draw choosing index ⌊u · n / 2⁶⁴⌋ for the 64-bit output u, the before side's
//!   n draws then the after side's, resample after resample: anyone can reproduce them;
//! - the share released within each target before and after, and the difference with the same
//!   bootstrap;
//! - the Mann–Whitney U test of after against before: U = the pairs (after, before) where after
//!   is longer, ties counting one half; the two-sided p-value by the normal approximation with
//!   the tie correction and a continuity correction of 0.5 (scipy's `mannwhitneyu`,
//!   `method="asymptotic"`); and the share of pairs where after is shorter (ties one half);
//! - the verdict: *improved* when the median's interval lies below zero and p < 0.05,
//!   *worsened* when it lies above zero and p < 0.05, *no clear change* otherwise, *too few*
//!   under [`MIN_COUNT`] consignments on either side.
//!
//! A side given as a report (`report.json`) has summaries, not durations: its comparisons give
//! the median difference without an interval, the mean difference with Welch's normal interval
//! (difference ± 1.96 × √(s²_b/n_b + s²_a/n_a)), the shares with the normal interval of a
//! difference of proportions, no U test, and a verdict from the mean's interval.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use smartborder_model::{IntervalKind, MISSING, StampTable, StudyDesign};

use crate::analysis::{IntervalSample, IntervalStats, TrsReport};
use crate::stats::{Summary, normal_upper_tail, quantile_sorted};

/// Consignments each side needs for a comparison to say anything.
pub const MIN_COUNT: u64 = 10;
/// The two-sided 97.5th percentile of the standard normal distribution (95% intervals).
const Z_95: f64 = 1.959_963_984_540_054;
/// The significance level of the verdict.
pub const ALPHA: f64 = 0.05;

/// How a comparison is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Bootstrap resamples per comparison.
    pub resamples: usize,
    /// Seed of the bootstrap draws.
    pub seed: u64,
    #[serde(skip)]
    pub threads: usize,
}

/// One interval and segment of a side: its summary, and its durations when the side is an
/// export (not a report).
#[derive(Debug, Clone)]
pub struct Group {
    pub from: String,
    pub to: String,
    pub kind: IntervalKind,
    pub segment_by: String,
    pub segment: Option<String>,
    pub summary: Summary,
    pub seconds: Option<Vec<i64>>,
}

impl Group {
    fn of(stats: &IntervalStats, seconds: Option<Vec<i64>>) -> Group {
        Group {
            from: stats.from.clone(),
            to: stats.to.clone(),
            kind: stats.kind,
            segment_by: stats.segment_by.clone(),
            segment: stats.segment.clone(),
            summary: stats.summary.clone(),
            seconds,
        }
    }

    fn key(&self) -> (&str, &str, &str, Option<&str>) {
        (
            &self.from,
            &self.to,
            &self.segment_by,
            self.segment.as_deref(),
        )
    }
}

/// The groups of a study analysed from its export, with their durations.
pub fn groups_of_study(
    table: &StampTable,
    design: &StudyDesign,
    report: &TrsReport,
    samples: &[IntervalSample],
) -> Vec<Group> {
    let mut out = Vec::with_capacity(report.intervals.len());
    for sample in samples {
        let from = design.stamp_name(sample.def.from);
        let to = design.stamp_name(sample.def.to);
        let counted = |row: &usize| sample.seconds[*row] != MISSING;
        let rows: Vec<usize> = (0..sample.seconds.len()).filter(counted).collect();
        for stats in report
            .intervals
            .iter()
            .filter(|s| s.from == from && s.to == to)
        {
            let seconds: Vec<i64> = match &stats.segment {
                None => rows.iter().map(|&r| sample.seconds[r]).collect(),
                Some(value) => {
                    let column = table.segments.iter().find(|c| c.name == stats.segment_by);
                    let code = column.and_then(|c| c.values.iter().position(|v| v == value));
                    match (column, code) {
                        (Some(c), Some(code)) => rows
                            .iter()
                            .filter(|&&r| c.codes[r] == code as u32)
                            .map(|&r| sample.seconds[r])
                            .collect(),
                        // Not in this table: no duration (the report's figure says 0 too).
                        _ => Vec::new(),
                    }
                }
            };
            out.push(Group::of(stats, Some(seconds)));
        }
    }
    out
}

/// The groups of a study given as its report: summaries only.
pub fn groups_of_report(report: &TrsReport) -> Vec<Group> {
    report
        .intervals
        .iter()
        .map(|s| Group::of(s, None))
        .collect()
}

/// A difference after − before, in minutes, with its 95% interval when one can be computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub before_minutes: Option<f64>,
    pub after_minutes: Option<f64>,
    pub difference_minutes: Option<f64>,
    pub lower_minutes: Option<f64>,
    pub upper_minutes: Option<f64>,
}

/// The share within one target, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetChange {
    pub hours: f64,
    pub before: f64,
    pub after: f64,
    pub difference: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// The Mann–Whitney U test of after against before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// Pairs (after, before) where after is longer, ties counting one half.
    pub u_after: f64,
    pub z: f64,
    pub p_value: f64,
    /// The share of pairs where after is shorter (ties one half): 0.5 = no change.
    pub share_of_pairs_after_faster: f64,
}

/// What the comparison says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Improved,
    Worsened,
    NoClearChange,
    TooFew,
}

/// One interval and segment, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub kind: IntervalKind,
    pub segment_by: String,
    pub segment: Option<String>,
    pub count_before: u64,
    pub count_after: u64,
    pub median: Difference,
    pub mean: Difference,
    pub within_target: Vec<TargetChange>,
    pub mann_whitney: Option<MannWhitney>,
    pub verdict: Verdict,
    /// Whether the durations of both sides were compared (else only their summaries).
    pub from_durations: bool,
}

/// A before-and-after comparison of two studies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    pub before: String,
    pub after: String,
    pub options: CompareOptions,
    pub method: String,
    pub comparisons: Vec<Comparison>,
    /// Intervals and segments found in one study only ("from → to, segment_by = segment").
    pub only_before: Vec<String>,
    pub only_after: Vec<String>,
}

/// The method, as the report states it.
pub fn method(options: &CompareOptions) -> String {
    format!(
        "Difference = after - before (negative: faster). 95% intervals of the differences in median, mean and shares within targets by the percentile bootstrap ({} resamples, seed {}; SplitMix64 draws, seed + k for the k-th comparison). Mann-Whitney U of after against before, two-sided p by the normal approximation with tie and continuity corrections. Improved / worsened: the median's interval below / above zero and p < {ALPHA}. A side given as a report: mean difference with Welch's normal interval, shares with the normal interval of a difference of proportions, no test. At least {MIN_COUNT} consignments on each side.",
        options.resamples, options.seed
    )
}

/// The intervals and segments found in both studies (how many comparisons [`compare`] makes).
pub fn common(before: &[Group], after: &[Group]) -> usize {
    pairs(before, after).len()
}

/// Each group of `before` with the group of `after` of the same interval and segment.
fn pairs<'g>(before: &'g [Group], after: &'g [Group]) -> Vec<(&'g Group, &'g Group)> {
    before
        .iter()
        .filter_map(|b| after.iter().find(|a| a.key() == b.key()).map(|a| (b, a)))
        .collect()
}

/// Compares the groups of two studies, each interval and segment found in both; `progress`
/// is called with the number of comparisons done.
pub fn compare(
    before_input: &str,
    after_input: &str,
    before: &[Group],
    after: &[Group],
    options: &CompareOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> CompareReport {
    let describe = |g: &Group| match &g.segment {
        Some(v) => format!("{} → {}, {} = {v}", g.from, g.to, g.segment_by),
        None => format!("{} → {}", g.from, g.to),
    };
    let pairs = pairs(before, after);
    let only_before = before
        .iter()
        .filter(|b| !after.iter().any(|a| a.key() == b.key()))
        .map(describe)
        .collect();
    let only_after = after
        .iter()
        .filter(|a| !before.iter().any(|b| a.key() == b.key()))
        .map(describe)
        .collect();
    // The comparisons spread over the threads; each has its own stream, so the results do not
    // depend on them.
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Comparison)>> = Mutex::new(Vec::with_capacity(pairs.len()));
    std::thread::scope(|s| {
        for _ in 0..options.threads.clamp(1, pairs.len().max(1)) {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(b, a)) = pairs.get(k) else { break };
                    let c =
                        compare_one(b, a, options.resamples, options.seed.wrapping_add(k as u64));
                    let mut done = done
                        .lock()
                        .expect("no worker panics while holding the lock");
                    done.push((k, c));
                    progress(done.len());
                }
            });
        }
    });
    let mut done = done.into_inner().expect("workers finished");
    done.sort_by_key(|d| d.0);
    CompareReport {
        before: before_input.to_string(),
        after: after_input.to_string(),
        options: *options,
        method: method(options),
        comparisons: done.into_iter().map(|d| d.1).collect(),
        only_before,
        only_after,
    }
}

fn compare_one(before: &Group, after: &Group, resamples: usize, seed: u64) -> Comparison {
    let (b, a) = (&before.summary, &after.summary);
    let targets: Vec<f64> = a
        .within_target
        .iter()
        .map(|t| t.hours)
        .filter(|h| b.within_target.iter().any(|t| t.hours == *h))
        .collect();
    let share = |s: &Summary, h: f64| {
        s.within_target
            .iter()
            .find(|t| t.hours == h)
            .map_or(0.0, |t| t.share)
    };
    let difference = |x: Option<f64>, y: Option<f64>| Difference {
        before_minutes: x,
        after_minutes: y,
        difference_minutes: x.zip(y).map(|(x, y)| y - x),
        lower_minutes: None,
        upper_minutes: None,
    };
    let mut c = Comparison {
        from: after.from.clone(),
        to: after.to.clone(),
        kind: after.kind,
        segment_by: after.segment_by.clone(),
        segment: after.segment.clone(),
        count_before: b.count,
        count_after: a.count,
        median: difference(b.median_minutes, a.median_minutes),
        mean: difference(b.mean_minutes, a.mean_minutes),
        within_target: targets
            .iter()
            .map(|&h| TargetChange {
                hours: h,
                before: share(b, h),
                after: share(a, h),
                difference: share(a, h) - share(b, h),
                lower: None,
                upper: None,
            })
            .collect(),
        mann_whitney: None,
        verdict: Verdict::TooFew,
        from_durations: false,
    };
    if b.count < MIN_COUNT || a.count < MIN_COUNT {
        return c;
    }
    match (&before.seconds, &after.seconds) {
        (Some(xs), Some(ys)) => {
            c.from_durations = true;
            let limits: Vec<i64> = targets.iter().map(|h| (h * 3600.0) as i64).collect();
            let boot = bootstrap(xs, ys, &limits, resamples, seed);
            (c.median.lower_minutes, c.median.upper_minutes) = boot.median;
            (c.mean.lower_minutes, c.mean.upper_minutes) = boot.mean;
            for (t, (lo, hi)) in c.within_target.iter_mut().zip(boot.shares) {
                (t.lower, t.upper) = (lo, hi);
            }
            let u = mann_whitney(xs, ys);
            c.verdict = verdict(&c.median, Some(u.p_value));
            c.mann_whitney = Some(u);
        }
        _ => {
            // Welch's normal interval from the summaries.
            if let (Some(d), Some(sb), Some(sa)) =
                (c.mean.difference_minutes, b.std_minutes, a.std_minutes)
            {
                let se = (sb * sb / b.count as f64 + sa * sa / a.count as f64).sqrt();
                c.mean.lower_minutes = Some(d - Z_95 * se);
                c.mean.upper_minutes = Some(d + Z_95 * se);
            }
            for t in &mut c.within_target {
                let se = (t.before * (1.0 - t.before) / b.count as f64
                    + t.after * (1.0 - t.after) / a.count as f64)
                    .sqrt();
                t.lower = Some(t.difference - Z_95 * se);
                t.upper = Some(t.difference + Z_95 * se);
            }
            c.verdict = verdict(&c.mean, None);
        }
    }
    c
}

fn verdict(d: &Difference, p_value: Option<f64>) -> Verdict {
    let significant = p_value.is_none_or(|p| p < ALPHA);
    match (d.lower_minutes, d.upper_minutes) {
        (_, Some(hi)) if hi < 0.0 && significant => Verdict::Improved,
        (Some(lo), _) if lo > 0.0 && significant => Verdict::Worsened,
        _ => Verdict::NoClearChange,
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast and easy to reproduce elsewhere.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An index below `n`: ⌊u · n / 2⁶⁴⌋.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The 95% percentile-bootstrap intervals of a comparison.
struct Bootstrap {
    median: (Option<f64>, Option<f64>),
    mean: (Option<f64>, Option<f64>),
    shares: Vec<(Option<f64>, Option<f64>)>,
}

/// One side's durations as the bootstrap reads them: its distinct values, sorted, and the
/// position among them of each duration (in row order, where the draws point). A resample
/// is then a count per distinct value: one pass over the distinct values gives its median,
/// mean and shares, with no copy and no sort of the drawn durations.
struct Resampled {
    distinct: Vec<i64>,
    position: Vec<u32>,
    counts: Vec<u32>,
    /// For each limit, the distinct values at or below it.
    below: Vec<usize>,
}

impl Resampled {
    fn new(values: &[i64], limits: &[i64]) -> Resampled {
        let mut distinct = values.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let position = values
            .iter()
            .map(|v| distinct.partition_point(|d| d < v) as u32)
            .collect();
        Resampled {
            counts: vec![0; distinct.len()],
            below: limits
                .iter()
                .map(|l| distinct.partition_point(|d| d <= l))
                .collect(),
            distinct,
            position,
        }
    }

    /// Draws n durations with replacement and returns their median (linear between the two
    /// middle values), mean, in minutes, and the share at most each limit.
    fn draw(&mut self, rng: &mut SplitMix64) -> (f64, f64, Vec<f64>) {
        let n = self.position.len();
        self.counts.fill(0);
        for _ in 0..n {
            self.counts[self.position[rng.below(n)] as usize] += 1;
        }
        let mut sum: i128 = 0;
        let mut cumulative = 0u32;
        for (c, &v) in self.counts.iter_mut().zip(&self.distinct) {
            sum += i128::from(*c) * i128::from(v);
            cumulative += *c;
            *c = cumulative;
        }
        // The value of 0-based rank r: the first distinct value whose cumulative count is > r.
        let at = |r: usize| self.distinct[self.counts.partition_point(|&c| c as usize <= r)];
        let median = (at((n - 1) / 2) as f64 + at(n / 2) as f64) / 2.0;
        let shares = self
            .below
            .iter()
            .map(|&b| {
                let k = if b == 0 { 0 } else { self.counts[b - 1] };
                f64::from(k) / n as f64
            })
            .collect();
        (median / 60.0, sum as f64 / n as f64 / 60.0, shares)
    }
}

fn bootstrap(
    before: &[i64],
    after: &[i64],
    limits: &[i64],
    resamples: usize,
    seed: u64,
) -> Bootstrap {
    let mut rng = SplitMix64::new(seed);
    let (mut medians, mut means) = (Vec::with_capacity(resamples), Vec::with_capacity(resamples));
    let mut shares: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples); limits.len()];
    let (mut b, mut a) = (
        Resampled::new(before, limits),
        Resampled::new(after, limits),
    );
    for _ in 0..resamples {
        let (mb, eb, sb) = b.draw(&mut rng);
        let (ma, ea, sa) = a.draw(&mut rng);
        medians.push(ma - mb);
        means.push(ea - eb);
        for (k, s) in shares.iter_mut().enumerate() {
            s.push(sa[k] - sb[k]);
        }
    }
    Bootstrap {
        median: interval(&mut medians),
        mean: interval(&mut means),
        shares: shares.iter_mut().map(|s| interval(s)).collect(),
    }
}

/// The 2.5th and 97.5th percentiles (linear between closest ranks).
fn interval(v: &mut [f64]) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    v.sort_by(f64::total_cmp);
    (
        Some(quantile_sorted(v, 0.025)),
        Some(quantile_sorted(v, 0.975)),
    )
}

/// The Mann–Whitney U test of `after` against `before` (see the module's documentation).
pub fn mann_whitney(before: &[i64], after: &[i64]) -> MannWhitney {
    let (nb, na) = (before.len() as f64, after.len() as f64);
    // Both samples sorted together, after first among equals does not matter: ties share
    // their mean rank.
    let mut all: Vec<(i64, bool)> = before
        .iter()
        .map(|&x| (x, false))
        .chain(after.iter().map(|&y| (y, true)))
        .collect();
    all.sort_unstable_by_key(|p| p.0);
    let n = all.len();
    let (mut rank_sum_after, mut tie_term) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && all[j].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j share their mean.
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        let in_after = all[i..j].iter().filter(|p| p.1).count() as f64;
        rank_sum_after += mean_rank * in_after;
        let t = (j - i) as f64;
        tie_term += t * t * t - t;
        i = j;
    }
    let u_after = rank_sum_after - na * (na + 1.0) / 2.0;
    let mu = na * nb / 2.0;
    let total = na + nb;
    let variance = na * nb / 12.0 * ((total + 1.0) - tie_term / (total * (total - 1.0)));
    let (z, p_value) = if variance > 0.0 {
        let d = (u_after - mu).abs() - 0.5;
        let z = d.max(0.0) / variance.sqrt();
        (
            (u_after - mu).signum() * z,
            (2.0 * normal_upper_tail(z)).min(1.0),
        )
    } else {
        (0.0, 1.0)
    };
    MannWhitney {
        u_after,
        z,
        p_value,
        share_of_pairs_after_faster: 1.0 - u_after / (na * nb),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_counts_pairs_where_after_is_longer_ties_one_half() {
        // before {1, 2, 3}, after {2, 4}: pairs (after, before) with after longer: 2>1, 4>1,
        // 4>2, 4>3 = 4, and 2=2 a tie = 0.5: U = 4.5 of 6 pairs.
        let u = mann_whitney(&[1, 2, 3], &[2, 4]);
        assert_eq!(u.u_after, 4.5);
        assert!((u.share_of_pairs_after_faster - 0.25).abs() < 1e-12);
        // Every after shorter: U = 0; every after longer: U = n_a × n_b.
        assert_eq!(mann_whitney(&[10, 11, 12], &[1, 2]).u_after, 0.0);
        assert_eq!(mann_whitney(&[1, 2], &[10, 11, 12]).u_after, 6.0);
        // Identical samples: U = n_a n_b / 2, z = 0, p = 1.
        let same = mann_whitney(&[5, 5, 7, 9], &[5, 5, 7, 9]);
        assert_eq!(same.u_after, 8.0);
        assert_eq!(same.p_value, 1.0);
    }

    #[test]
    fn p_value_matches_the_normal_approximation_by_hand() {
        // before 1..=10, after 6..=15 (no ties between sides except 6..=10).
        let before: Vec<i64> = (1..=10).collect();
        let after: Vec<i64> = (6..=15).collect();
        let u = mann_whitney(&before, &after);
        // Pairs with after longer: for after = 6..=10, the before values below it (5..=9)
        // plus half a tie each; for after = 11..=15, all 10.
        let expected: f64 = (6..=10).map(|y| (y - 1) as f64 + 0.5).sum::<f64>() + 50.0;
        assert_eq!(u.u_after, expected);
        // mu = 50, ties: five values twice -> sum(t^3 - t) = 5 × 6 = 30.
        let var: f64 = 100.0 / 12.0 * (21.0 - 30.0 / (20.0 * 19.0));
        let z: f64 = (expected - 50.0 - 0.5) / var.sqrt();
        assert!((u.z - z).abs() < 1e-12, "{} {}", u.z, z);
        assert!((u.p_value - 2.0 * normal_upper_tail(z)).abs() < 1e-15);
        // scipy.stats.mannwhitneyu(after, before, method="asymptotic"): U 87.5, p 0.0050754.
        assert_eq!(u.u_after, 87.5);
        assert!((u.p_value - 0.005_075_392).abs() < 1e-6, "{}", u.p_value);
        assert!((normal_upper_tail(1.959_963_984_540_054) - 0.025).abs() < 1e-7);
        assert!((normal_upper_tail(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_upper_tail(-1.0) - 0.841_344_746).abs() < 1e-7);
    }

    #[test]
    fn splitmix64_is_the_published_generator() {
        // The first outputs for seed 0 (reference values of the published algorithm).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn counting_a_resample_gives_what_copying_and_sorting_it_gives() {
        let values: Vec<i64> = (0..101).map(|i| (i * 7919 % 37) * 60).collect();
        let limits = [600, 1200, 5000];
        let mut counted = Resampled::new(&values, &limits);
        let (mut a, mut b) = (SplitMix64::new(3), SplitMix64::new(3));
        for n in [101usize, 101, 101] {
            let (median, mean, shares) = counted.draw(&mut a);
            let mut drawn: Vec<i64> = (0..n).map(|_| values[b.below(n)]).collect();
            drawn.sort_unstable();
            let expected_median = (drawn[(n - 1) / 2] + drawn[n / 2]) as f64 / 2.0 / 60.0;
            let expected_mean = drawn.iter().sum::<i64>() as f64 / n as f64 / 60.0;
            assert_eq!(median, expected_median);
            assert!((mean - expected_mean).abs() < 1e-12);
            for (s, l) in shares.iter().zip(limits) {
                let k = drawn.iter().filter(|&&x| x <= l).count();
                assert_eq!(*s, k as f64 / n as f64);
            }
        }
        // An even count: the median between the two middle values.
        let mut even = Resampled::new(&[60, 120], &[]);
        let mut r = SplitMix64::new(1);
        let (m, _, _) = even.draw(&mut r);
        assert!([1.0, 1.5, 2.0].contains(&m), "{m}");
    }

    fn group(seconds: Vec<i64>) -> Group {
        let mut v = seconds.clone();
        Group {
            from: "arrival".into(),
            to: "release".into(),
            kind: IntervalKind::Total,
            segment_by: "all".into(),
            segment: None,
            summary: crate::stats::summarize(&mut v, &[1.0]),
            seconds: Some(seconds),
        }
    }

    #[test]
    fn a_clear_improvement_and_no_change_are_told_apart() {
        let before: Vec<i64> = (0..200).map(|i| 3600 + (i * 37 % 200) * 60).collect();
        let faster: Vec<i64> = before.iter().map(|x| x - 1800).collect();
        let options = CompareOptions {
            resamples: 500,
            seed: 7,
            threads: 2,
        };
        let r = compare(
            "b",
            "a",
            &[group(before.clone())],
            &[group(faster)],
            &options,
            &|_| {},
        );
        let c = &r.comparisons[0];
        assert_eq!(c.verdict, Verdict::Improved);
        assert!((c.median.difference_minutes.unwrap() + 30.0).abs() < 1e-9);
        let (lo, hi) = (
            c.median.lower_minutes.unwrap(),
            c.median.upper_minutes.unwrap(),
        );
        assert!((lo..=hi).contains(&-30.0) && hi < 0.0, "{lo} {hi}");
        let same = compare(
            "b",
            "a",
            &[group(before.clone())],
            &[group(before)],
            &options,
            &|_| {},
        );
        assert_eq!(same.comparisons[0].verdict, Verdict::NoClearChange);
        // Too few on one side.
        let few = compare(
            "b",
            "a",
            &[group(vec![60; 5])],
            &[group(vec![60; 50])],
            &options,
            &|_| {},
        );
        assert_eq!(few.comparisons[0].verdict, Verdict::TooFew);
    }
}
