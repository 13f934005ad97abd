//! A risk score without inspection history: an isolation forest (Liu, Ting and Zhou, 2008) over
//! the label-free features of every declaration (amounts and ratios such as value per kg, month,
//! declarations per day of each trader, commodity and route, days a trader has been known,
//! value per kg against the commodity's earlier declarations). Declarations that are few and
//! different are isolated by few random cuts and score high. It is what an administration that
//! joins the corridor can use until it has control results to train a [`RiskModel`] on. The
//! calendar, the days a trader has been known and the label-derived rates are left out: they
//! move with time (or are 0 without labels), so declarations scored later would all look odd.
//!
//! - Each feature is first mapped to its quantile in the training history (so that a heavy
//!   tail, such as customs values, does not take every cut), missing values below every value.
//! - Each of [`TREES`] trees is grown on [`SAMPLE`] declarations drawn without replacement, to a
//!   depth of log2([`SAMPLE`]); a cut picks a feature at random among those that still vary, and
//!   a threshold uniformly between their least and greatest value.
//! - score = 2^(−E[h(x)] / c(ψ)), h the path length (plus c(n) for the n training declarations
//!   left in the leaf), c(n) = 2H(n − 1) − 2(n − 1)/n the mean path length of an unsuccessful
//!   search in a binary search tree: near 1 for anomalies, about 0.5 and below for the rest.
//!
//! All draws come from a seeded generator, so a model is reproducible.
//!
//! [`RiskModel`]: crate::model::RiskModel

use std::path::Path;

use serde::{Deserialize, Serialize};
use smartborder_model::DeclarationSet;

use crate::features::{FeatureEncoder, Labels, SMOOTHING};
use crate::model::ModelError;

/// The `format` field of an anomaly model file.
pub const ANOMALY_FORMAT: &str = "smartborder-anomaly-model";
pub const ANOMALY_VERSION: u32 = 1;
/// Trees of the forest.
pub const TREES: usize = 100;
/// Declarations each tree is grown on (ψ).
pub const SAMPLE: usize = 256;
/// Quantile points kept per feature.
const QUANTILES: usize = 1000;

/// A node: a leaf when `left == 0`, holding `size` training declarations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IsolationNode {
    pub feature: u32,
    pub threshold: f64,
    pub left: u32,
    pub right: u32,
    pub size: u32,
}

/// A trained anomaly model, saved as one JSON file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyModel {
    pub format: String,
    pub version: u32,
    pub seed: u64,
    /// Declarations of the training history.
    pub declarations: usize,
    /// The features the forest uses (label-free ones of the encoder).
    pub feature_names: Vec<String>,
    /// Their index among the encoder's features, and their training quantiles.
    pub features: Vec<usize>,
    pub quantiles: Vec<Vec<f64>>,
    pub encoder: FeatureEncoder,
    pub trees: Vec<Vec<IsolationNode>>,
}

/// Whether a feature keeps its distribution over time, so that declarations scored after the
/// history compare with it: not the label-derived rates (0 without labels), not the calendar
/// (a later month is outside every training value), not the days a trader has been known (they
/// only grow).
fn stationary(name: &str) -> bool {
    !(name.starts_with("risk:")
        || name.starts_with("days:")
        || name == "month"
        || name == "weekday")
}

/// c(n): the mean path length of an unsuccessful search in a binary search tree of n keys.
fn average_path(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        n => {
            let m = (n - 1) as f64;
            2.0 * (m.ln() + 0.577_215_664_901_532_9) - 2.0 * m / n as f64
        }
    }
}

/// SplitMix64: small, seeded, good enough for sampling and cuts.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

/// The quantile (0..=1) of `v` among `points`; missing values map to -1, below every value.
fn quantile(points: &[f64], v: f64) -> f64 {
    if v.is_nan() || points.is_empty() {
        return -1.0;
    }
    points.partition_point(|p| *p < v) as f64 / points.len() as f64
}

fn grow(
    rows: &mut [usize],
    x: &[Vec<f64>],
    depth: usize,
    limit: usize,
    draws: &mut Draws,
    nodes: &mut Vec<IsolationNode>,
) -> u32 {
    let at = nodes.len();
    nodes.push(IsolationNode {
        feature: 0,
        threshold: 0.0,
        left: 0,
        right: 0,
        size: rows.len() as u32,
    });
    if depth >= limit || rows.len() <= 1 {
        return at as u32;
    }
    // The features that still vary among these rows, with their range.
    let varying: Vec<(usize, f64, f64)> = (0..x.len())
        .filter_map(|f| {
            let (lo, hi) = rows
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                    (lo.min(x[f][r]), hi.max(x[f][r]))
                });
            (hi > lo).then_some((f, lo, hi))
        })
        .collect();
    if varying.is_empty() {
        return at as u32;
    }
    let (feature, lo, hi) = varying[draws.below(varying.len())];
    let threshold = lo + draws.unit() * (hi - lo);
    let mut split = 0;
    for i in 0..rows.len() {
        if x[feature][rows[i]] <= threshold {
            rows.swap(i, split);
            split += 1;
        }
    }
    // A threshold drawn at the very top sends every row left; keep at least one on each side.
    let split = split.clamp(1, rows.len() - 1);
    let (left_rows, right_rows) = rows.split_at_mut(split);
    let left = grow(left_rows, x, depth + 1, limit, draws, nodes);
    let right = grow(right_rows, x, depth + 1, limit, draws, nodes);
    nodes[at] = IsolationNode {
        feature: feature as u32,
        threshold,
        left,
        right,
        size: (left_rows.len() + right_rows.len()) as u32,
    };
    at as u32
}

impl AnomalyModel {
    /// Fits the forest on a history; outcomes, where present, are not used.
    pub fn train(history: &DeclarationSet, seed: u64, threads: usize) -> AnomalyModel {
        let n = history.declarations.len();
        // No declaration is labelled non-compliant, so the label-derived rates are all 0 and
        // left out below; every declaration gets its label-free features, replayed in date
        // order without look-ahead.
        let labels = vec![Some(false); n];
        let weights = vec![1.0; n];
        let (encoder, columns, rows) = FeatureEncoder::fit(
            history,
            &Labels {
                labels: &labels,
                weights: &weights,
            },
            SMOOTHING,
            seed,
            threads,
        );
        debug_assert_eq!(rows.len(), n);
        let features: Vec<usize> = (0..columns.names.len())
            .filter(|&f| stationary(&columns.names[f]))
            .collect();
        let quantiles: Vec<Vec<f64>> = features
            .iter()
            .map(|&f| {
                let mut v: Vec<f64> = columns.columns[f]
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                v.sort_by(f64::total_cmp);
                if v.len() <= QUANTILES {
                    v
                } else {
                    (0..QUANTILES).map(|k| v[k * v.len() / QUANTILES]).collect()
                }
            })
            .collect();
        let x: Vec<Vec<f64>> = features
            .iter()
            .zip(&quantiles)
            .map(|(&f, q)| columns.columns[f].iter().map(|&v| quantile(q, v)).collect())
            .collect();
        let sample = SAMPLE.min(n);
        let limit = (sample.max(2) as f64).log2().ceil() as usize;
        let mut draws = Draws(seed);
        let trees = (0..TREES)
            .map(|_| {
                // Partial Fisher-Yates: `sample` rows without replacement.
                let mut all: Vec<usize> = (0..n).collect();
                for i in 0..sample {
                    let j = i + draws.below(n - i);
                    all.swap(i, j);
                }
                let mut rows = all[..sample].to_vec();
                let mut nodes = Vec::new();
                grow(&mut rows, &x, 0, limit, &mut draws, &mut nodes);
                nodes
            })
            .collect();
        AnomalyModel {
            format: ANOMALY_FORMAT.into(),
            version: ANOMALY_VERSION,
            seed,
            declarations: n,
            feature_names: features.iter().map(|&f| columns.names[f].clone()).collect(),
            features,
            quantiles,
            encoder,
            trees,
        }
    }

    /// The anomaly score (0..1) of every declaration of a set, replayed after the training
    /// history like [`crate::model::RiskModel::assess`].
    pub fn score(&self, set: &DeclarationSet, threads: usize) -> Vec<f64> {
        let columns = self.encoder.columns(set, threads).columns;
        let x: Vec<Vec<f64>> = self
            .features
            .iter()
            .zip(&self.quantiles)
            .map(|(&f, q)| columns[f].iter().map(|&v| quantile(q, v)).collect())
            .collect();
        let c = average_path(SAMPLE.min(self.declarations));
        (0..set.declarations.len())
            .map(|i| {
                let total: f64 = self
                    .trees
                    .iter()
                    .map(|nodes| {
                        let (mut at, mut depth) = (0usize, 0usize);
                        while nodes[at].left != 0 {
                            let n = &nodes[at];
                            at = if x[n.feature as usize][i] <= n.threshold {
                                n.left
                            } else {
                                n.right
                            } as usize;
                            depth += 1;
                        }
                        depth as f64 + average_path(nodes[at].size as usize)
                    })
                    .sum();
                let mean = total / self.trees.len().max(1) as f64;
                if c > 0.0 { 2f64.powf(-mean / c) } else { 0.5 }
            })
            .collect()
    }

    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io {
            path: path.display().to_string(),
            source,
        };
        let text = serde_json::to_vec(self).map_err(|e| io(e.into()))?;
        std::fs::write(path, text).map_err(io)
    }

    /// Reads a model file's text (`shown` names it in errors), checking that every walk ends.
    pub fn from_json(text: &str, shown: &str) -> Result<AnomalyModel, ModelError> {
        let err = |message: String| ModelError::Format {
            path: shown.to_string(),
            message,
        };
        let model: AnomalyModel = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
        if model.format != ANOMALY_FORMAT || model.version != ANOMALY_VERSION {
            return Err(err(format!(
                "format \"{}\" version {}, expected \"{ANOMALY_FORMAT}\" version {ANOMALY_VERSION}",
                model.format, model.version
            )));
        }
        let width = model.encoder.feature_count();
        let consistent = model.features.len() == model.quantiles.len()
            && model.features.iter().all(|&f| f < width)
            && model.trees.iter().all(|nodes| {
                !nodes.is_empty()
                    && nodes.iter().enumerate().all(|(i, n)| {
                        n.left == 0
                            || (n.left as usize > i
                                && n.right as usize > i
                                && (n.left as usize) < nodes.len()
                                && (n.right as usize) < nodes.len()
                                && (n.feature as usize) < model.features.len())
                    })
            });
        if !consistent {
            return Err(err("inconsistent features or trees".into()));
        }
        Ok(model)
    }

    pub fn load(path: &Path) -> Result<AnomalyModel, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use smartborder_model::Declaration;

    use super::*;

    /// Importers declaring one commodity at about 10 per kg, and a few declarations at 1,000
    /// per kg by importers never seen before.
    fn history(n: usize, odd_every: usize, from: NaiveDate) -> DeclarationSet {
        let mut draws = Draws(7);
        let declarations = (0..n)
            .map(|i| {
                let odd = i % odd_every == odd_every - 1;
                let mut d = Declaration::new(
                    &format!("D{i}"),
                    from + chrono::Days::new((i * 90 / n) as u64),
                    "A",
                    "847130",
                );
                let mass = 100.0 + draws.unit() * 100.0;
                d.mass_kg = Some(mass);
                d.value = Some(
                    mass * if odd {
                        1000.0
                    } else {
                        8.0 + draws.unit() * 4.0
                    },
                );
                d.importer = Some(if odd {
                    format!("NEW{i}")
                } else {
                    format!("I{}", draws.below(20))
                });
                d.origin = Some("CN".into());
                d
            })
            .collect();
        DeclarationSet {
            attributes: vec![],
            declarations,
        }
    }

    #[test]
    fn odd_declarations_score_high_and_the_model_is_reproducible() {
        assert!((average_path(256) - 10.2448).abs() < 1e-3);
        let day = |m| NaiveDate::from_ymd_opt(2021, m, 1).unwrap();
        let train = history(3000, 100, day(1));
        let model = AnomalyModel::train(&train, 5, 2);
        assert_eq!(model, AnomalyModel::train(&train, 5, 1));
        assert_ne!(model.trees, AnomalyModel::train(&train, 6, 2).trees);
        assert!(model.feature_names.iter().all(|f| !f.starts_with("risk:")));
        let test = history(1000, 50, day(4));
        let scores = model.score(&test, 2);
        let of = |odd: bool| -> Vec<f64> {
            (0..scores.len())
                .filter(|i| (i % 50 == 49) == odd)
                .map(|i| scores[i])
                .collect()
        };
        let (odd, plain) = (of(true), of(false));
        // Ranking: the chance that an odd declaration scores above an ordinary one (AUC).
        let pairs = odd
            .iter()
            .map(|o| plain.iter().filter(|p| o > p).count())
            .sum::<usize>() as f64;
        let auc = pairs / (odd.len() * plain.len()) as f64;
        assert!(auc > 0.95, "AUC {auc}");
        let text = serde_json::to_string(&model).unwrap();
        assert_eq!(AnomalyModel::from_json(&text, "m.json").unwrap(), model);
        let e = AnomalyModel::from_json(&text.replace(ANOMALY_FORMAT, "other"), "m.json");
        assert!(e.is_err());
    }
}
