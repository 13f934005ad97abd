//! Descriptive statistics of durations, exactly as the report's method section states them.
//!
//! Quantiles use linear interpolation between closest ranks (numpy's default, DuckDB's
//! `quantile_cont`): for sorted values x[0..n) and probability p, h = (n - 1) p and
//! Q(p) = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
//! They are found without a full sort: the values are counted in buckets, and selection runs
//! inside the few buckets holding the ranks needed (see [`quantiles`]); the work is linear in n.

use std::sync::LazyLock;

use serde::Serialize;

/// Summary of one group of durations. Durations come in seconds; the summary is in minutes.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Summary {
    pub count: u64,
    pub mean_minutes: Option<f64>,
    pub p25_minutes: Option<f64>,
    pub median_minutes: Option<f64>,
    pub p75_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
    pub p95_minutes: Option<f64>,
    pub min_minutes: Option<f64>,
    pub max_minutes: Option<f64>,
    /// Sample standard deviation (divisor n - 1); absent below two values.
    pub std_minutes: Option<f64>,
    /// Share of the group whose duration is at most each target.
    pub within_target: Vec<TargetShare>,
    /// First and third quartiles, used by the extreme-value rule.
    #[serde(skip)]
    pub q1_q3_seconds: Option<(f64, f64)>,
}

/// Share of consignments whose duration is at most `hours`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TargetShare {
    pub hours: f64,
    pub share: f64,
}

/// P(Z > z) for a standard normal Z, from the complementary error function (Numerical
/// Recipes' Chebyshev fit, relative error below 1.2e-7).
pub fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let erfc = if x >= 0.0 { erfc } else { 2.0 - erfc };
    erfc / 2.0
}

/// The p-quantile of the standard normal distribution (0 < p < 1), by bisection on
/// [`normal_upper_tail`] (to 1e-10).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0_f64, 40.0_f64);
    while hi - lo > 1e-10 {
        let mid = (lo + hi) / 2.0;
        if 1.0 - normal_upper_tail(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Upper edges (minutes) of the histogram bins of a report; the last bin is open.
pub const HISTOGRAM_EDGES_MINUTES: [f64; 13] = [
    5.0, 15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 720.0, 1440.0, 2880.0, 4320.0, 7200.0, 10080.0,
];

/// Counts of durations (seconds) per bin of [`HISTOGRAM_EDGES_MINUTES`] (a value equal to an edge
/// falls in the bin that edge closes), plus the open last bin.
///
/// The edges are whole minutes, so a value of `v` whole seconds is above an edge of `e` minutes
/// exactly when its minutes rounded up, `ceil(v / 60)`, exceed `e`: the bin is read from a table
/// indexed by those minutes (values past the last edge share its last entry). One pass with a
/// lookup, where a search for each value's bin branched unpredictably and a count per edge read
/// the values thirteen times. Four sets of counts take turns so that runs of values in the same
/// bin do not wait on each other's increments.
pub fn histogram(values: &[i64]) -> Vec<u64> {
    const LAST_EDGE: usize = HISTOGRAM_EDGES_MINUTES[HISTOGRAM_EDGES_MINUTES.len() - 1] as usize;
    // `bin_of_minutes[m]`: the number of edges below `m` minutes (rounded up); made once.
    static BIN_OF_MINUTES: LazyLock<Vec<u8>> = LazyLock::new(|| {
        (0..=LAST_EDGE + 1)
            .map(|m| HISTOGRAM_EDGES_MINUTES.partition_point(|&e| e < m as f64) as u8)
            .collect()
    });
    let bin_of_minutes = &*BIN_OF_MINUTES;
    let bin = |v: i64| {
        // Durations are never negative; a negative value would count in the first bin.
        let minutes = (v.max(0) as u64).div_ceil(60).min(LAST_EDGE as u64 + 1);
        usize::from(bin_of_minutes[minutes as usize])
    };
    let mut counts = vec![[0u64; 4]; HISTOGRAM_EDGES_MINUTES.len() + 1];
    let mut quads = values.chunks_exact(4);
    for q in &mut quads {
        for (lane, &v) in q.iter().enumerate() {
            counts[bin(v)][lane] += 1;
        }
    }
    for &v in quads.remainder() {
        counts[bin(v)][0] += 1;
    }
    counts.iter().map(|c| c.iter().sum()).collect()
}

/// Q(p) of values already sorted ascending (linear between closest ranks, as everywhere), p
/// clamped to [0, 1]; NaN when there are none.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let Some(&last) = sorted.last() else {
        return f64::NAN;
    };
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let k = h.floor() as usize;
    let next = sorted.get(k + 1).copied().unwrap_or(last);
    sorted[k] + (h - k as f64) * (next - sorted[k])
}

/// Quantiles of `values` for ascending probabilities `ps`; may reorder `values`.
///
/// Large inputs are bucketed first: one pass counts the values in 2^16 buckets of equal width
/// over [min, max], a second gathers only the buckets holding the ranks needed, and selection
/// runs inside those. Small inputs go straight to selection. Both give the same order
/// statistics, hence the same quantiles to the bit.
pub fn quantiles(values: &mut [i64], ps: &[f64]) -> Vec<f64> {
    quantiles_within(values, ps, None)
}

/// [`quantiles`], given the least and greatest values when the caller has them already.
fn quantiles_within(values: &mut [i64], ps: &[f64], extremes: Option<(i64, i64)>) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return vec![f64::NAN; ps.len()];
    }
    // Each quantile needs the order statistic k = floor(h), and k + 1 when it interpolates.
    let needed: Vec<(usize, f64)> = ps
        .iter()
        .map(|&p| {
            debug_assert!((0.0..=1.0).contains(&p));
            let h = (n - 1) as f64 * p;
            let k = h.floor() as usize;
            (k, h - k as f64)
        })
        .collect();
    let mut ranks: Vec<usize> = needed
        .iter()
        .flat_map(|&(k, frac)| [Some(k), (frac > 0.0 && k + 1 < n).then_some(k + 1)])
        .flatten()
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    let order = if n < BUCKETED_FROM || u32::try_from(n).is_err() || ranks.len() > 255 {
        by_selection(values, &ranks)
    } else {
        let (min, max) = extremes.unwrap_or_else(|| {
            values
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
        });
        by_buckets(values, &ranks, min, max)
    };
    let at = |r: usize| order[ranks.partition_point(|&x| x < r)] as f64;
    needed
        .iter()
        .map(|&(k, frac)| {
            let xk = at(k);
            if frac > 0.0 && k + 1 < n {
                xk + frac * (at(k + 1) - xk)
            } else {
                xk
            }
        })
        .collect()
}

/// From this many values on, quantiles bucket the values before selecting.
const BUCKETED_FROM: usize = 1 << 15;
const BUCKET_BITS: u32 = 16;

/// The order statistics of `ranks` (ascending, distinct, each < `values.len()`), by repeated
/// selection on what is left above the previous one.
fn by_selection(values: &mut [i64], ranks: &[usize]) -> Vec<i64> {
    let mut lo = 0;
    ranks
        .iter()
        .map(|&r| {
            values[lo..].select_nth_unstable(r - lo);
            lo = r;
            values[r]
        })
        .collect()
}

/// [`by_selection`]'s result through a histogram of the values (see [`quantiles`]).
fn by_buckets(values: &[i64], ranks: &[usize], min: i64, max: i64) -> Vec<i64> {
    // The true difference is below 2^64, so the wrapped difference read unsigned is exact.
    let range = max.wrapping_sub(min) as u64;
    let shift = (u64::BITS - range.leading_zeros()).saturating_sub(BUCKET_BITS);
    let bucket = |v: i64| (v.wrapping_sub(min) as u64 >> shift) as usize;
    let mut counts = vec![0u32; 1 << BUCKET_BITS];
    for &v in values {
        counts[bucket(v)] += 1;
    }
    // Each rank's bucket and its rank inside it.
    let mut located = Vec::with_capacity(ranks.len());
    let (mut b, mut before) = (0usize, 0usize);
    for &r in ranks {
        while before + counts[b] as usize <= r {
            before += counts[b] as usize;
            b += 1;
        }
        located.push((b, r - before));
    }
    // Gather the values of those buckets only (slot + 1 per bucket; 0: not needed).
    let mut slot = vec![0u8; 1 << BUCKET_BITS];
    let mut gathered: Vec<Vec<i64>> = Vec::new();
    for &(b, _) in &located {
        if slot[b] == 0 {
            gathered.push(Vec::with_capacity(counts[b] as usize));
            slot[b] = gathered.len() as u8;
        }
    }
    for &v in values {
        let s = slot[bucket(v)];
        if s != 0 {
            gathered[s as usize - 1].push(v);
        }
    }
    located
        .iter()
        .map(|&(b, r)| {
            let values = &mut gathered[slot[b] as usize - 1];
            *values.select_nth_unstable(r).1
        })
        .collect()
}

/// The exact sum, the least and the greatest of the values, in one pass. The sum is taken as
/// two sums of 32-bit halves, each exact in 64 bits over up to 2^30 values, so that the pass has
/// no 128-bit addition and the compiler can vectorise it.
fn sum_min_max(values: &[i64]) -> (i128, i64, i64) {
    let (mut sum, mut min, mut max) = (0i128, i64::MAX, i64::MIN);
    for chunk in values.chunks(1 << 30) {
        let (mut high, mut low) = (0i64, 0u64);
        for &v in chunk {
            high += v >> 32;
            low += v as u64 & 0xffff_ffff;
            min = min.min(v);
            max = max.max(v);
        }
        sum += (i128::from(high) << 32) + i128::from(low);
    }
    (sum, min, max)
}

/// The sum of squared deviations from `mean`, in four interleaved sums (a fixed order, so the
/// result is reproducible, and independent additions the processor can overlap).
fn squared_deviations(values: &[i64], mean: f64) -> f64 {
    let mut lanes = [0.0f64; 4];
    let mut chunks = values.chunks_exact(4);
    for c in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(c) {
            let d = v as f64 - mean;
            *lane += d * d;
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// Summarises durations in seconds (all valid, any order; reordered in place).
pub fn summarize(values: &mut [i64], targets_hours: &[f64]) -> Summary {
    let n = values.len();
    let (sum, min, max) = sum_min_max(values);
    // Whole seconds: `v <= limit` exactly when `v <= floor(limit)`. One simple pass per target,
    // which the compiler turns into vector compares.
    let within: Vec<usize> = targets_hours
        .iter()
        .map(|h| {
            if h.is_nan() {
                return 0;
            }
            let limit = (h * 3600.0).floor() as i64;
            values.iter().filter(|&&v| v <= limit).count()
        })
        .collect();
    let within_target = targets_hours
        .iter()
        .zip(within)
        .map(|(&hours, count)| TargetShare {
            hours,
            share: if n == 0 { 0.0 } else { count as f64 / n as f64 },
        })
        .collect();
    if n == 0 {
        return Summary {
            count: 0,
            mean_minutes: None,
            p25_minutes: None,
            median_minutes: None,
            p75_minutes: None,
            p90_minutes: None,
            p95_minutes: None,
            min_minutes: None,
            max_minutes: None,
            std_minutes: None,
            within_target,
            q1_q3_seconds: None,
        };
    }
    let mean = sum as f64 / n as f64;
    let std = (n > 1).then(|| (squared_deviations(values, mean) / (n - 1) as f64).sqrt());
    let q = quantiles_within(values, &[0.25, 0.5, 0.75, 0.9, 0.95], Some((min, max)));
    let m = |s: f64| Some(s / 60.0);
    Summary {
        count: n as u64,
        mean_minutes: m(mean),
        p25_minutes: m(q[0]),
        median_minutes: m(q[1]),
        p75_minutes: m(q[2]),
        p90_minutes: m(q[3]),
        p95_minutes: m(q[4]),
        min_minutes: m(min as f64),
        max_minutes: m(max as f64),
        std_minutes: std.map(|s| s / 60.0),
        within_target,
        q1_q3_seconds: Some((q[0], q[2])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stream of pseudo-random numbers (xorshift64).
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Independent reference: full sort, then numpy's linear interpolation.
    fn reference_quantile(values: &[i64], p: f64) -> f64 {
        let mut s = values.to_vec();
        s.sort();
        let h = (s.len() - 1) as f64 * p;
        let lo = h.floor() as usize;
        let hi = h.ceil() as usize;
        s[lo] as f64 + (h - lo as f64) * (s[hi] - s[lo]) as f64
    }

    #[test]
    fn histogram_bins_equal_a_search_in_minutes() {
        // Each value's bin found the plain way: the edges in minutes below its minutes.
        let reference = |values: &[i64]| {
            let mut counts = vec![0u64; HISTOGRAM_EDGES_MINUTES.len() + 1];
            for &v in values {
                let m = v as f64 / 60.0;
                counts[HISTOGRAM_EDGES_MINUTES.partition_point(|&e| e < m)] += 1;
            }
            counts
        };
        let mut next = xorshift(11);
        let mut values: Vec<i64> = (0..20_000).map(|_| (next() % 800_000) as i64).collect();
        // Every edge, and a second either side of it.
        for e in HISTOGRAM_EDGES_MINUTES {
            let s = (e * 60.0) as i64;
            values.extend([s - 1, s, s + 1]);
        }
        values.extend([0, 1, i64::from(u32::MAX), i64::MAX, -1, -600]);
        let counts = histogram(&values);
        assert_eq!(counts, reference(&values));
        assert_eq!(counts.iter().sum::<u64>(), values.len() as u64);
        assert_eq!(histogram(&[300, 301]), {
            let mut c = vec![0; HISTOGRAM_EDGES_MINUTES.len() + 1];
            (c[0], c[1]) = (1, 1);
            c
        });
        assert_eq!(histogram(&[]), vec![0; HISTOGRAM_EDGES_MINUTES.len() + 1]);
    }

    #[test]
    fn hand_computed_case() {
        // numpy.percentile([1, 2, 3, 4], [50, 90]) == [2.5, 3.7]
        let mut v = vec![4 * 60, 60, 3 * 60, 2 * 60];
        let s = summarize(&mut v, &[0.05]);
        assert_eq!(s.count, 4);
        assert_eq!(s.mean_minutes, Some(2.5));
        assert_eq!(s.median_minutes, Some(2.5));
        assert!((s.p90_minutes.unwrap() - 3.7).abs() < 1e-12);
        assert_eq!(s.min_minutes, Some(1.0));
        assert_eq!(s.max_minutes, Some(4.0));
        // sample sd of 1,2,3,4 = sqrt(5/3)
        assert!((s.std_minutes.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        // 0.05 h = 3 min: 1, 2, 3 are within.
        assert_eq!(s.within_target[0].share, 0.75);
    }

    #[test]
    fn selection_quantiles_equal_sorted_quantiles() {
        // A deterministic, heavy-tailed, tie-rich sample.
        let mut next = xorshift(0x2545F4914F6CDD1D);
        for n in [1usize, 2, 3, 10, 101, 1000, 4097] {
            let values: Vec<i64> = (0..n)
                .map(|_| ((next() % 1000) as i64).pow(2) / 7)
                .collect();
            let ps = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0];
            let got = quantiles(&mut values.clone(), &ps);
            for (p, g) in ps.iter().zip(got) {
                let want = reference_quantile(&values, *p);
                assert!((g - want).abs() < 1e-9, "n={n} p={p}: {g} vs {want}");
            }
        }
    }

    #[test]
    fn bucketed_quantiles_equal_sorted_quantiles() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        let shapes: [(&str, &dyn Fn(u64) -> i64); 5] = [
            ("minutes, heavy tail", &|r| ((r % 3000) as i64).pow(2) / 3),
            ("all equal", &|_| 4242),
            ("two values", &|r| if r % 3 == 0 { 60 } else { 7 * 86_400 }),
            // Most values in a few buckets, a handful far away (a month's delays).
            ("clustered with outliers", &|r| {
                if r % 1000 == 0 {
                    40 * 86_400 + (r % 977) as i64
                } else {
                    600 + (r % 50) as i64
                }
            }),
            ("the whole i64 range", &|r| r as i64),
        ];
        for (name, shape) in shapes {
            for n in [BUCKETED_FROM, 100_003] {
                let values: Vec<i64> = (0..n).map(|_| shape(next())).collect();
                let ps = [0.0, 0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.999, 1.0];
                let got = quantiles(&mut values.clone(), &ps);
                for (p, g) in ps.iter().zip(got) {
                    let want = reference_quantile(&values, *p);
                    assert!(
                        g == want || (g - want).abs() <= want.abs() * 1e-15,
                        "{name}, n={n}, p={p}: {g} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn summaries_equal_a_direct_computation() {
        let mut next = xorshift(0xD1B5_4A32_D192_ED03);
        let shapes: [(&str, &dyn Fn(u64) -> i64); 4] = [
            ("minutes, heavy tail", &|r| ((r % 3000) as i64).pow(2) / 3),
            ("negative and positive", &|r| (r % 200_001) as i64 - 100_000),
            ("near the top of i64", &|r| i64::MAX - (r % 1000) as i64),
            ("near the bottom of i64", &|r| i64::MIN + (r % 1000) as i64),
        ];
        let targets = [0.5, 1.0, 24.0, f64::NAN, f64::INFINITY];
        for (name, shape) in shapes {
            for n in [2usize, 5, 1001, BUCKETED_FROM + 7] {
                let values: Vec<i64> = (0..n).map(|_| shape(next())).collect();
                let s = summarize(&mut values.clone(), &targets);
                let sum: i128 = values.iter().map(|&v| i128::from(v)).sum();
                let mean = sum as f64 / n as f64;
                assert_eq!(s.mean_minutes, Some(mean / 60.0), "{name} n={n}");
                assert_eq!(s.min_minutes, values.iter().min().map(|&v| v as f64 / 60.0));
                assert_eq!(s.max_minutes, values.iter().max().map(|&v| v as f64 / 60.0));
                let ss: f64 = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
                let std = (ss / (n - 1) as f64).sqrt() / 60.0;
                let got = s.std_minutes.unwrap();
                assert!(
                    (got - std).abs() <= std * 1e-12,
                    "{name} n={n}: {got} vs {std}"
                );
                for (t, share) in targets.iter().zip(&s.within_target) {
                    let within = values.iter().filter(|&&v| (v as f64) <= t * 3600.0).count();
                    assert_eq!(share.share, within as f64 / n as f64, "{name} n={n} {t} h");
                }
                let median = reference_quantile(&values, 0.5) / 60.0;
                let got = s.median_minutes.unwrap();
                assert!(got == median || (got - median).abs() <= median.abs() * 1e-15);
            }
        }
    }

    #[test]
    fn empty_and_single() {
        let s = summarize(&mut [], &[1.0]);
        assert_eq!(s.count, 0);
        assert_eq!(s.median_minutes, None);
        let s = summarize(&mut [600], &[1.0]);
        assert_eq!(s.median_minutes, Some(10.0));
        assert_eq!(s.p95_minutes, Some(10.0));
        assert_eq!(s.std_minutes, None);
    }
}
