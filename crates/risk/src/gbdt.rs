//! Gradient-boosted decision trees for binary classification (log-loss), histogram-based and
//! grown leaf-wise, in pure Rust.
//!
//! - Each feature is cut into at most 255 bins at quantiles of its training values; bin 0 holds
//!   the missing values (NaN), so a split "x <= threshold" sends missing values left.
//! - A tree grows by splitting, among its leaves, the one with the largest gain
//!   `GL²/(HL+λ) + GR²/(HR+λ) - G²/(H+λ)` until it has `max_leaves` leaves or `max_depth` is
//!   reached; a child needs `min_child_samples` rows. The smaller child's histogram is built and
//!   the larger one's is the parent's minus it.
//! - Every node keeps its value `-G/(H+λ) × learning rate`, so that a prediction can be split
//!   exactly into per-feature contributions along its path (Saabas' method): the contribution of a
//!   split's feature is the change of value from the node to the child taken.

use serde::{Deserialize, Serialize};

/// Training parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoostParams {
    pub trees: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    pub max_leaves: usize,
    pub min_child_samples: usize,
    /// L2 regularisation λ of the leaf values.
    pub lambda: f64,
    pub max_bins: usize,
    /// Threads for building histograms.
    pub threads: usize,
}

impl Default for BoostParams {
    /// The baseline of PRODUCT.md: 100 trees of depth 4.
    fn default() -> Self {
        BoostParams {
            trees: 100,
            learning_rate: 0.1,
            max_depth: 4,
            max_leaves: 16,
            min_child_samples: 20,
            lambda: 1.0,
            max_bins: 255,
            threads: 1,
        }
    }
}

/// A tree node. A leaf has `left == right == 0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub feature: u32,
    /// Rows with `x <= threshold` or a missing x go left.
    pub threshold: f64,
    pub left: u32,
    /// Always `left + 1` (training builds children in pairs; a model file is checked for it).
    pub right: u32,
    pub value: f64,
}

impl Node {
    pub fn is_leaf(&self) -> bool {
        self.left == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

/// Declarations set aside to choose when to stop: feature columns, labels, weights.
pub struct Validation<'a> {
    pub columns: &'a [Vec<f64>],
    pub labels: &'a [bool],
    pub weights: Option<&'a [f64]>,
}

/// A trained ensemble: `raw score = init + Σ tree leaf values`, probability = sigmoid(raw).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booster {
    pub init: f64,
    pub trees: Vec<Tree>,
    pub feature_count: usize,
}

/// Rows walked through a tree together (see `Booster::walk_rows`).
const WALK_BLOCK: usize = 8;

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Tree {
    fn leaf_value(&self, x: &[f64]) -> f64 {
        let mut n = &self.nodes[0];
        while !n.is_leaf() {
            let v = x[n.feature as usize];
            n = &self.nodes[if v.is_nan() || v <= n.threshold {
                n.left
            } else {
                n.right
            } as usize];
        }
        n.value
    }
}

impl Booster {
    /// The raw score (log-odds) of one feature vector.
    pub fn raw_score(&self, x: &[f64]) -> f64 {
        self.init + self.trees.iter().map(|t| t.leaf_value(x)).sum::<f64>()
    }

    /// The probability of the positive class.
    pub fn probability(&self, x: &[f64]) -> f64 {
        sigmoid(self.raw_score(x))
    }

    /// Splits the raw score into a bias and one contribution per feature, added into
    /// `contributions` (length `feature_count`); returns the bias. Bias plus contributions equal
    /// [`Booster::raw_score`].
    pub fn contributions(&self, x: &[f64], contributions: &mut [f64]) -> f64 {
        self.score_and_contributions(x, contributions).1
    }

    /// [`Booster::contributions`] and the raw score in one walk of the trees: returns the raw
    /// score (summed leaf by leaf as [`Booster::raw_score`] sums it, so the two agree to the
    /// bit) and the bias.
    pub fn score_and_contributions(&self, x: &[f64], contributions: &mut [f64]) -> (f64, f64) {
        let mut raw = [0.0];
        let bias = self.walk_rows::<true>(x, x.len(), contributions, &mut raw);
        (raw[0], bias)
    }

    /// The raw scores of feature vectors laid row after row (`rows.len() / width` of them) into
    /// `raw`, bit-identical to [`Booster::raw_score`] of each.
    pub fn raw_scores(&self, rows: &[f64], width: usize, raw: &mut [f64]) {
        self.walk_rows::<false>(rows, width, &mut [], raw);
    }

    /// [`Booster::score_and_contributions`] of feature vectors laid row after row: row r's
    /// contributions are added into `contributions[r * width..(r + 1) * width]` and its raw
    /// score written to `raw[r]`; returns the bias (the same for every row).
    pub fn scores_and_contributions(
        &self,
        rows: &[f64],
        width: usize,
        contributions: &mut [f64],
        raw: &mut [f64],
    ) -> f64 {
        self.walk_rows::<true>(rows, width, contributions, raw)
    }

    /// Walks every tree for the rows, [`WALK_BLOCK`] rows at a time: the walks of a block are
    /// independent, so the processor overlaps their loads and compares instead of waiting on
    /// one path at a time (a tree walk is a chain of dependent loads). Each row's sums are
    /// taken in the same order as a walk of that row alone, so the results are the same to
    /// the bit.
    fn walk_rows<const CONTRIBUTIONS: bool>(
        &self,
        rows: &[f64],
        width: usize,
        contributions: &mut [f64],
        raw: &mut [f64],
    ) -> f64 {
        let bias = self
            .trees
            .iter()
            .fold(self.init, |b, t| b + t.nodes[0].value);
        let n = raw.len();
        debug_assert_eq!(rows.len(), n * width);
        let mut start = 0;
        while start < n {
            let block = WALK_BLOCK.min(n - start);
            let mut leaves = [0.0; WALK_BLOCK];
            for t in &self.trees {
                let nodes = t.nodes.as_slice();
                let mut at = [0usize; WALK_BLOCK];
                loop {
                    let mut moved = false;
                    for r in 0..block {
                        let node = &nodes[at[r]];
                        if node.is_leaf() {
                            continue;
                        }
                        let row = (start + r) * width;
                        let v = rows[row + node.feature as usize];
                        // NaN goes left: `!(v > threshold)`. The right child follows the
                        // left one, so the step is arithmetic, not a branch the processor
                        // would mispredict half the time.
                        let next = (node.left + u32::from(v > node.threshold)) as usize;
                        if CONTRIBUTIONS {
                            contributions[row + node.feature as usize] +=
                                nodes[next].value - node.value;
                        }
                        at[r] = next;
                        moved = true;
                    }
                    if !moved {
                        break;
                    }
                }
                for r in 0..block {
                    leaves[r] += nodes[at[r]].value;
                }
            }
            for r in 0..block {
                raw[start + r] = self.init + leaves[r];
            }
            start += block;
        }
        bias
    }

    /// Trains like [`Booster::train`], measuring after each tree the weighted log-loss on a
    /// validation set, and stops when it has not improved for `patience` trees (or at
    /// `params.trees`); keeps the trees up to the best. Returns the booster and the validation
    /// log-loss after each tree built. The training features come binned (`params.max_bins`
    /// is the binning's), so that runs with other parameters can share them.
    pub fn train_validated(
        binned: &Binned,
        labels: &[bool],
        weights: Option<&[f64]>,
        params: &BoostParams,
        valid: &Validation<'_>,
        patience: usize,
        progress: &dyn Fn(usize),
    ) -> (Booster, Vec<f64>) {
        let width = valid.columns.len();
        let n = valid.labels.len();
        let mut rows = vec![0.0; n * width];
        for (f, c) in valid.columns.iter().enumerate() {
            for (i, v) in c.iter().enumerate() {
                rows[i * width + f] = *v;
            }
        }
        let mut raw: Option<Vec<f64>> = None;
        let mut losses = Vec::new();
        let mut best = (f64::INFINITY, 0usize);
        let mut booster = Self::boost(binned, labels, weights, params, &mut |init, tree| {
            let raw = raw.get_or_insert_with(|| vec![init; n]);
            let (mut loss, mut total) = (0.0, 0.0);
            for (i, r) in raw.iter_mut().enumerate() {
                *r += tree.leaf_value(&rows[i * width..(i + 1) * width]);
                let p = sigmoid(*r).clamp(1e-15, 1.0 - 1e-15);
                let w = valid.weights.map_or(1.0, |w| w[i]);
                loss -= w * if valid.labels[i] {
                    p.ln()
                } else {
                    (1.0 - p).ln()
                };
                total += w;
            }
            let loss = loss / total.max(f64::MIN_POSITIVE);
            losses.push(loss);
            if loss < best.0 {
                best = (loss, losses.len());
            }
            progress(losses.len());
            losses.len() - best.1 < patience
        });
        booster.trees.truncate(best.1.max(1));
        (booster, losses)
    }

    /// Trains on feature columns (one `Vec` per feature, NaN = missing) and 0/1 labels, each
    /// row weighted by `weights` (all 1 when `None`: the log-loss of a row is multiplied by its
    /// weight, so its gradient and hessian are). `progress` is called after each tree with the
    /// number of trees built.
    pub fn train(
        columns: &[Vec<f64>],
        labels: &[bool],
        weights: Option<&[f64]>,
        params: &BoostParams,
        progress: &dyn Fn(usize),
    ) -> Booster {
        let mut built = 0;
        let binned = Binned::new(columns, params.max_bins, params.threads);
        Self::boost(&binned, labels, weights, params, &mut |_, _| {
            built += 1;
            progress(built);
            true
        })
    }

    /// The boosting loop: `after` is called with the initial score and each tree built, and
    /// says whether to go on.
    fn boost(
        binned: &Binned,
        labels: &[bool],
        weights: Option<&[f64]>,
        params: &BoostParams,
        after: &mut dyn FnMut(f64, &Tree) -> bool,
    ) -> Booster {
        let n = labels.len();
        let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
        assert!(weights.is_none_or(|w| w.len() == n), "one weight per row");
        assert!(
            binned.width == 0 || binned.len == n,
            "one row of features per label"
        );
        let (total, positives) = (0..n).fold((0.0, 0.0), |(t, p), i| {
            (
                t + weight(i),
                p + weight(i) * f64::from(u8::from(labels[i])),
            )
        });
        let base = (positives / total.max(f64::MIN_POSITIVE)).clamp(1e-6, 1.0 - 1e-6);
        let init = (base / (1.0 - base)).ln();
        let mut raw = vec![init; n];
        // Gradient and hessian of the log-loss per row.
        let mut gh = vec![(0.0, 0.0); n];
        let mut trees = Vec::with_capacity(params.trees);
        for _ in 0..params.trees {
            for i in 0..n {
                let p = sigmoid(raw[i]);
                let w = weight(i);
                gh[i] = (
                    w * (p - f64::from(u8::from(labels[i]))),
                    (w * p * (1.0 - p)).max(1e-16),
                );
            }
            let (tree, leaf_of_rows) = grow_tree(binned, &gh, params);
            for (leaf, rows) in leaf_of_rows {
                let v = tree.nodes[leaf].value;
                for r in rows {
                    raw[r as usize] += v;
                }
            }
            let go_on = after(init, &tree);
            trees.push(tree);
            if !go_on {
                break;
            }
        }
        Booster {
            init,
            trees,
            feature_count: binned.width,
        }
    }
}

/// A feature cut into bins; `uppers[b - 1]` is the largest value of bin b (b >= 1).
struct BinnedFeature {
    uppers: Vec<f64>,
}

impl BinnedFeature {
    /// Cuts a column into bins; returns the feature and each row's bin.
    fn new(values: &[f64], max_bins: usize) -> (BinnedFeature, Vec<u8>) {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        let mut distinct = sorted.clone();
        distinct.dedup();
        let slots = max_bins - 1;
        let uppers: Vec<f64> = if distinct.len() <= slots {
            distinct
        } else {
            // Quantile cut points over all values, so that each bin holds about as many rows.
            let mut cuts: Vec<f64> = (1..=slots)
                .map(|k| sorted[(k * sorted.len() / slots).min(sorted.len()) - 1])
                .collect();
            cuts.dedup();
            if cuts.last() != sorted.last() {
                cuts.push(*sorted.last().expect("values"));
            }
            cuts
        };
        let bins = values
            .iter()
            .map(|v| {
                if v.is_nan() {
                    0
                } else {
                    (uppers.partition_point(|u| u < v).min(uppers.len() - 1) + 1) as u8
                }
            })
            .collect();
        (BinnedFeature { uppers }, bins)
    }

    fn bin_count(&self) -> usize {
        self.uppers.len() + 1
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Bin {
    g: f64,
    h: f64,
    n: u32,
}

/// Histograms of every feature for one leaf, features laid end to end.
#[derive(Clone)]
struct Histogram {
    bins: Vec<Bin>,
}

struct Split {
    gain: f64,
    feature: usize,
    bin: usize,
}

struct Leaf {
    node: usize,
    rows: Vec<u32>,
    depth: usize,
    g: f64,
    h: f64,
    /// None when the leaf cannot split.
    hist: Option<Histogram>,
    best: Option<Split>,
}

/// The binned training matrix, row-major (one row's bins side by side), so that building a
/// histogram reads each row's gradient once and its bins in one sweep. Binning sorts every
/// feature: boosting runs that differ only in their parameters share one matrix.
pub struct Binned {
    features: Vec<BinnedFeature>,
    width: usize,
    /// Number of rows.
    len: usize,
    rows: Vec<u8>,
    /// Start of each feature's bins in a histogram; the last entry is the histogram's length.
    offsets: Vec<usize>,
}

impl Binned {
    /// Bins feature columns (one `Vec` per feature, NaN = missing) into at most `max_bins`
    /// bins each (2 to 255), on `threads` threads (each feature is sorted on its own; the
    /// result does not depend on the threads).
    pub fn new(columns: &[Vec<f64>], max_bins: usize, threads: usize) -> Binned {
        let n = columns.first().map_or(0, Vec::len);
        assert!(
            columns.iter().all(|c| c.len() == n),
            "one value per row in every column"
        );
        let max_bins = max_bins.clamp(2, 255);
        let per = columns.len().div_ceil(threads.max(1)).max(1);
        let (features, bins): (Vec<BinnedFeature>, Vec<Vec<u8>>) = std::thread::scope(|s| {
            let handles: Vec<_> = columns
                .chunks(per)
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|c| BinnedFeature::new(c, max_bins))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("binning does not panic"))
                .collect()
        });
        let width = features.len();
        let mut rows = vec![0u8; n * width];
        for (f, column) in bins.iter().enumerate() {
            for (r, &b) in column.iter().enumerate() {
                rows[r * width + f] = b;
            }
        }
        let mut offsets = Vec::with_capacity(width + 1);
        let mut acc = 0;
        for f in &features {
            offsets.push(acc);
            acc += f.bin_count();
        }
        offsets.push(acc);
        Binned {
            features,
            width,
            len: n,
            rows,
            offsets,
        }
    }

    fn bin(&self, row: u32, feature: usize) -> usize {
        self.rows[row as usize * self.width + feature] as usize
    }
}

/// Rows of a leaf are cut into this many chunks (when large), each chunk's histogram built on
/// its own and the chunks summed in order: the model does not depend on the number of threads.
const HISTOGRAM_CHUNKS: usize = 8;
const MIN_CHUNK_ROWS: usize = 4096;

fn build_histogram(m: &Binned, rows: &[u32], gh: &[(f64, f64)], threads: usize) -> Histogram {
    let len = *m.offsets.last().expect("offsets");
    let fill = |rows: &[u32]| {
        let mut bins = vec![Bin::default(); len];
        for &r in rows {
            let (g, h) = gh[r as usize];
            let start = r as usize * m.width;
            for (&b, &offset) in m.rows[start..start + m.width].iter().zip(&m.offsets) {
                let bin = &mut bins[offset + b as usize];
                bin.g += g;
                bin.h += h;
                bin.n += 1;
            }
        }
        bins
    };
    if rows.len() < 2 * MIN_CHUNK_ROWS {
        return Histogram { bins: fill(rows) };
    }
    let chunk = rows.len().div_ceil(HISTOGRAM_CHUNKS).max(MIN_CHUNK_ROWS);
    let chunks: Vec<&[u32]> = rows.chunks(chunk).collect();
    let mut parts: Vec<Vec<Bin>> = vec![Vec::new(); chunks.len()];
    let threads = threads.clamp(1, chunks.len());
    std::thread::scope(|s| {
        // Worker t builds chunks t, t + threads, ...
        let mut slots: Vec<Vec<(usize, &mut Vec<Bin>)>> =
            (0..threads).map(|_| Vec::new()).collect();
        for (i, part) in parts.iter_mut().enumerate() {
            slots[i % threads].push((i, part));
        }
        for work in slots {
            let (fill, chunks) = (&fill, &chunks);
            s.spawn(move || {
                for (i, part) in work {
                    *part = fill(chunks[i]);
                }
            });
        }
    });
    let mut parts = parts.into_iter();
    let mut bins = parts.next().expect("at least one chunk");
    for part in parts {
        for (b, p) in bins.iter_mut().zip(part) {
            b.g += p.g;
            b.h += p.h;
            b.n += p.n;
        }
    }
    Histogram { bins }
}

fn best_split(hist: &Histogram, m: &Binned, g: f64, h: f64, params: &BoostParams) -> Option<Split> {
    let lambda = params.lambda;
    let parent = g * g / (h + lambda);
    let offsets = &m.offsets;
    let total_n: u32 = hist.bins[offsets[0]..offsets[1]].iter().map(|b| b.n).sum();
    let min = params.min_child_samples.max(1) as u32;
    let mut best: Option<Split> = None;
    for (f, feature) in m.features.iter().enumerate() {
        let bins = &hist.bins[offsets[f]..offsets[f] + feature.bin_count()];
        let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0u32);
        for (b, bin) in bins.iter().enumerate().take(bins.len() - 1) {
            gl += bin.g;
            hl += bin.h;
            nl += bin.n;
            if nl < min {
                continue;
            }
            let nr = total_n - nl;
            if nr < min {
                break;
            }
            let (gr, hr) = (g - gl, h - hl);
            let gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parent;
            if gain > 1e-12 && best.as_ref().is_none_or(|s| gain > s.gain) {
                best = Some(Split {
                    gain,
                    feature: f,
                    bin: b,
                });
            }
        }
    }
    best
}

type LeafRows = Vec<(usize, Vec<u32>)>;

fn grow_tree(m: &Binned, gh: &[(f64, f64)], params: &BoostParams) -> (Tree, LeafRows) {
    let value = |g: f64, h: f64| -g / (h + params.lambda) * params.learning_rate;
    let rows: Vec<u32> = (0..gh.len() as u32).collect();
    let (g, h) = gh.iter().fold((0.0, 0.0), |(g, h), p| (g + p.0, h + p.1));
    let hist = build_histogram(m, &rows, gh, params.threads);
    let mut nodes = vec![Node {
        feature: 0,
        threshold: 0.0,
        left: 0,
        right: 0,
        value: value(g, h),
    }];
    let splittable = |depth: usize| depth < params.max_depth;
    let min_child = params.min_child_samples.max(1);
    let best = if splittable(0) && m.width > 0 {
        best_split(&hist, m, g, h, params)
    } else {
        None
    };
    let mut leaves = vec![Leaf {
        node: 0,
        rows,
        depth: 0,
        g,
        h,
        hist: Some(hist),
        best,
    }];
    while leaves.len() < params.max_leaves.max(2) {
        let Some(pick) = leaves
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.best.as_ref().map(|s| (i, s.gain)))
            .fold(None, |acc: Option<(usize, f64)>, (i, gain)| match acc {
                Some((_, g)) if g >= gain => acc,
                _ => Some((i, gain)),
            })
            .map(|(i, _)| i)
        else {
            break;
        };
        let leaf = leaves.swap_remove(pick);
        let split = leaf.best.expect("picked leaves have a split");
        let feature = &m.features[split.feature];
        let (left_rows, right_rows): (Vec<u32>, Vec<u32>) = leaf
            .rows
            .iter()
            .partition(|&&r| m.bin(r, split.feature) <= split.bin);
        let sum = |rows: &[u32]| {
            rows.iter().fold((0.0, 0.0), |(g, h), &r| {
                (g + gh[r as usize].0, h + gh[r as usize].1)
            })
        };
        let (lg, lh) = sum(&left_rows);
        let (rg, rh) = (leaf.g - lg, leaf.h - lh);
        let depth = leaf.depth + 1;
        // Children that cannot split (at the depth limit, or too few rows for two children)
        // need no histogram; otherwise build the smaller child's and take the larger one's as
        // the parent's minus it.
        let can_split = |rows: usize| splittable(depth) && rows >= 2 * min_child;
        let (left_hist, right_hist) = if can_split(left_rows.len()) || can_split(right_rows.len()) {
            let left_smaller = left_rows.len() <= right_rows.len();
            let small = build_histogram(
                m,
                if left_smaller {
                    &left_rows
                } else {
                    &right_rows
                },
                gh,
                params.threads,
            );
            let mut large = leaf.hist.expect("a leaf with a split has its histogram");
            for (l, s) in large.bins.iter_mut().zip(&small.bins) {
                l.g -= s.g;
                l.h -= s.h;
                l.n -= s.n;
            }
            if left_smaller {
                (Some(small), Some(large))
            } else {
                (Some(large), Some(small))
            }
        } else {
            (None, None)
        };
        let left_node = nodes.len();
        nodes[leaf.node].feature = split.feature as u32;
        // A split after bin 0 separates missing values from all others; f64::MIN stands for
        // "below every value" (JSON has no infinity).
        nodes[leaf.node].threshold = match split.bin {
            0 => f64::MIN,
            b => feature.uppers[b - 1],
        };
        nodes[leaf.node].left = left_node as u32;
        nodes[leaf.node].right = left_node as u32 + 1;
        for (rows, g, h, hist) in [
            (left_rows, lg, lh, left_hist),
            (right_rows, rg, rh, right_hist),
        ] {
            nodes.push(Node {
                feature: 0,
                threshold: 0.0,
                left: 0,
                right: 0,
                value: value(g, h),
            });
            let best = match &hist {
                Some(hist) if can_split(rows.len()) => best_split(hist, m, g, h, params),
                _ => None,
            };
            leaves.push(Leaf {
                node: nodes.len() - 1,
                rows,
                depth,
                g,
                h,
                hist,
                best,
            });
        }
    }
    let leaf_rows = leaves.into_iter().map(|l| (l.node, l.rows)).collect();
    (Tree { nodes }, leaf_rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_keep_order_and_put_missing_first() {
        let (b, bins) = BinnedFeature::new(&[3.0, f64::NAN, 1.0, 2.0, 3.0], 255);
        assert_eq!(b.uppers, vec![1.0, 2.0, 3.0]);
        assert_eq!(bins, vec![3, 0, 1, 2, 3]);
        // More distinct values than bins: quantile cuts, order kept, last upper = max.
        let values: Vec<f64> = (0..1000).map(f64::from).collect();
        let (b, bins) = BinnedFeature::new(&values, 11);
        assert_eq!(b.uppers.len(), 10);
        assert_eq!(*b.uppers.last().unwrap(), 999.0);
        assert!(bins.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(bins[0], 1);
        assert_eq!(bins[999], 10);
    }

    /// y = 1 exactly when x0 > 0.5 (x1 is noise): the model separates the classes, splits on x0
    /// at the boundary, and the contributions add up to the raw score.
    #[test]
    fn learns_a_threshold_and_explains_itself() {
        let n = 2000;
        let x0: Vec<f64> = (0..n).map(|i| (i as f64 * 0.618_033_988_7) % 1.0).collect();
        let x1: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64).collect();
        let y: Vec<bool> = x0.iter().map(|v| *v > 0.5).collect();
        let params = BoostParams {
            trees: 30,
            threads: 2,
            ..BoostParams::default()
        };
        let model = Booster::train(&[x0.clone(), x1.clone()], &y, None, &params, &|_| {});
        assert_eq!(model.trees.len(), 30);
        let root = model.trees[0].nodes[0];
        assert_eq!(root.feature, 0);
        assert!((root.threshold - 0.5).abs() < 0.01, "{}", root.threshold);
        for i in 0..n {
            let x = [x0[i], x1[i]];
            let p = model.probability(&x);
            assert_eq!(p > 0.5, y[i], "row {i}");
            let mut c = [0.0; 2];
            let bias = model.contributions(&x, &mut c);
            assert!((bias + c[0] + c[1] - model.raw_score(&x)).abs() < 1e-9);
            assert!(c[0].abs() > c[1].abs(), "x0 carries the signal");
        }
        // Missing x0 goes left (with x0 <= 0.5), so it scores like a negative.
        assert!(model.probability(&[f64::NAN, 3.0]) < 0.5);
    }

    /// Rows walked together, a block and a part of one, score and split their scores as each
    /// row walked alone on the branching path does (left when `x <= threshold` or missing, the
    /// contribution of a step being the child's value minus the node's), to the bit.
    #[test]
    fn rows_walked_in_blocks_match_one_walk_per_row() {
        let n = 3000;
        let cols: Vec<Vec<f64>> = (0..3)
            .map(|f| {
                (0..n)
                    .map(|i| match (i * (f + 5)) % 23 {
                        0 => f64::NAN,
                        k => (k * (f + 1)) as f64 + (i % 7) as f64 * 0.25,
                    })
                    .collect()
            })
            .collect();
        let y: Vec<bool> = (0..n)
            .map(|i| (cols[0][i] > 9.0) != (cols[2][i] < 20.0) || i % 11 == 0)
            .collect();
        // More depth than leaves: trees are uneven, so walks in a block end at different depths.
        let params = BoostParams {
            trees: 25,
            max_depth: 6,
            max_leaves: 9,
            min_child_samples: 5,
            ..BoostParams::default()
        };
        let model = Booster::train(&cols, &y, None, &params, &|_| {});
        let width = cols.len();
        let picked: Vec<usize> = (0..21).map(|k| k * 131 % n).collect();
        let rows: Vec<f64> = picked
            .iter()
            .flat_map(|&i| cols.iter().map(move |c| c[i]))
            .collect();
        let mut raw = vec![0.0; picked.len()];
        model.raw_scores(&rows, width, &mut raw);
        let mut contributions = vec![0.0; rows.len()];
        let mut raw_too = vec![0.0; picked.len()];
        let bias = model.scores_and_contributions(&rows, width, &mut contributions, &mut raw_too);
        for (r, x) in rows.chunks_exact(width).enumerate() {
            let (mut expected_bias, mut leaves) = (model.init, 0.0);
            let mut expected = vec![0.0; width];
            for t in &model.trees {
                let mut node = &t.nodes[0];
                expected_bias += node.value;
                while !node.is_leaf() {
                    let v = x[node.feature as usize];
                    let next = if v.is_nan() || v <= node.threshold {
                        node.left
                    } else {
                        node.right
                    };
                    let child = &t.nodes[next as usize];
                    expected[node.feature as usize] += child.value - node.value;
                    node = child;
                }
                leaves += node.value;
            }
            assert_eq!(raw[r].to_bits(), (model.init + leaves).to_bits(), "row {r}");
            assert_eq!(raw[r].to_bits(), model.raw_score(x).to_bits(), "row {r}");
            assert_eq!(raw_too[r].to_bits(), raw[r].to_bits(), "row {r}");
            assert_eq!(bias.to_bits(), expected_bias.to_bits());
            let got: Vec<u64> = contributions[r * width..(r + 1) * width]
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let want: Vec<u64> = expected.iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "row {r}");
        }
        // Some tree has leaves at different depths, so some walks of a block end early.
        let uneven = model.trees.iter().any(|t| {
            let mut depth = vec![0usize; t.nodes.len()];
            for (i, n) in t.nodes.iter().enumerate() {
                if !n.is_leaf() {
                    depth[n.left as usize] = depth[i] + 1;
                    depth[n.right as usize] = depth[i] + 1;
                }
            }
            let leaf_depths: Vec<usize> = (0..t.nodes.len())
                .filter(|&i| t.nodes[i].is_leaf())
                .map(|i| depth[i])
                .collect();
            leaf_depths.iter().min() != leaf_depths.iter().max()
        });
        assert!(uneven, "no tree with leaves at different depths");
    }

    #[test]
    fn limits_are_respected_and_training_is_deterministic() {
        // Large enough for leaves to be built in chunks on several threads.
        let n = 20_000;
        let cols: Vec<Vec<f64>> = (0..4)
            .map(|f| (0..n).map(|i| ((i * (f + 3) * 31) % 97) as f64).collect())
            .collect();
        let y: Vec<bool> = (0..n).map(|i| (i * 13) % 5 == 0).collect();
        let params = BoostParams {
            trees: 5,
            max_depth: 2,
            max_leaves: 31,
            min_child_samples: 30,
            ..BoostParams::default()
        };
        let a = Booster::train(&cols, &y, None, &params, &|_| {});
        let b = Booster::train(
            &cols,
            &y,
            None,
            &BoostParams {
                threads: 2,
                ..params
            },
            &|_| {},
        );
        assert_eq!(a, b, "threads do not change the model");
        for t in &a.trees {
            let leaves = t.nodes.iter().filter(|n| n.is_leaf()).count();
            assert!(leaves <= 4, "depth 2 allows 4 leaves, got {leaves}");
        }
    }
}
