//! The risk model: a feature encoder fitted on inspected history and a gradient-boosted
//! ensemble, saved together in one versioned JSON file.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smartborder_model::{Declaration, DeclarationSet};

use crate::features::FeatureEncoder;
use crate::gbdt::{BoostParams, Booster, sigmoid};
use crate::metrics::{TargetingMetrics, targeting_metrics};

/// The `format` field of a model file.
pub const MODEL_FORMAT: &str = "smartborder-risk-model";
/// The version of the model file this build writes and reads.
pub const MODEL_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a SmartBorder risk model: {message}")]
    Format { path: String, message: String },
    #[error(
        "{path}: model file version {found}; this build reads version {MODEL_VERSION} (retrain the model)"
    )]
    Version { path: String, found: u32 },
    #[error(
        "training needs inspected history with both outcomes: {declarations} declarations with a recorded outcome, {illicit} non-compliant"
    )]
    NoHistory { declarations: usize, illicit: usize },
}

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub declarations: usize,
    pub illicit: usize,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub seed: u64,
}

/// A trained risk model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskModel {
    pub format: String,
    pub version: u32,
    pub params: BoostParams,
    pub training: TrainingSummary,
    pub feature_names: Vec<String>,
    pub encoder: FeatureEncoder,
    pub booster: Booster,
}

/// What an analyst reads about a model: what it learned from, how well it ranks declarations
/// it did not see, and which features move its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Where the training declarations came from.
    pub training_data: String,
    pub training: TrainingSummary,
    pub params: BoostParams,
    /// The declarations the metrics were measured on.
    pub evaluation_data: String,
    pub evaluation: TargetingMetrics,
    /// Mean absolute contribution (log-odds) per feature on the evaluation data, largest first.
    pub top_features: Vec<Contribution>,
}

impl ModelCard {
    /// Measures `model` on the declarations of `evaluation` that have an outcome.
    pub fn new(
        model: &RiskModel,
        training_data: &str,
        evaluation: &DeclarationSet,
        evaluation_data: &str,
        threads: usize,
    ) -> ModelCard {
        let (index, labels, revenue) = crate::evaluation::outcomes(&evaluation.declarations);
        let all = model.score(evaluation, threads);
        let scores: Vec<f64> = index.iter().map(|&i| all[i]).collect();
        ModelCard {
            training_data: training_data.to_string(),
            training: model.training.clone(),
            params: model.params,
            evaluation_data: evaluation_data.to_string(),
            evaluation: targeting_metrics(&scores, &labels, revenue.as_deref()),
            top_features: model.top_features(evaluation, 5000),
        }
    }
}

/// One feature's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub feature: String,
    /// Contribution to the log-odds.
    pub log_odds: f64,
}

/// A score and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub probability: f64,
    /// The log-odds before any feature (the training base rate plus the trees' root values).
    pub bias: f64,
    /// Every feature with a non-zero contribution, largest magnitude first.
    pub contributions: Vec<Contribution>,
}

impl RiskModel {
    /// Trains on the declarations that have a recorded outcome; the rest are ignored.
    pub fn train(
        history: &DeclarationSet,
        params: &BoostParams,
        seed: u64,
        progress: &dyn Fn(usize),
    ) -> Result<RiskModel, ModelError> {
        let inspected = DeclarationSet {
            attributes: history.attributes.clone(),
            declarations: history
                .declarations
                .iter()
                .filter(|d| d.outcome.is_some())
                .cloned()
                .collect(),
        };
        let labels: Vec<bool> = inspected
            .declarations
            .iter()
            .map(|d| d.non_compliant() == Some(true))
            .collect();
        let illicit = labels.iter().filter(|y| **y).count();
        if illicit == 0 || illicit == labels.len() {
            return Err(ModelError::NoHistory {
                declarations: labels.len(),
                illicit,
            });
        }
        let (encoder, features) = FeatureEncoder::fit(&inspected, &labels, seed, params.threads);
        let booster = Booster::train(&features.columns, &labels, params, progress);
        let dates = inspected.declarations.iter().map(|d| d.date);
        Ok(RiskModel {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            params: *params,
            training: TrainingSummary {
                declarations: labels.len(),
                illicit,
                first_date: dates.clone().min().expect("history is not empty"),
                last_date: dates.max().expect("history is not empty"),
                seed,
            },
            feature_names: features.names,
            encoder,
            booster,
        })
    }

    /// Probabilities of non-compliance for every declaration of a set, on `threads` threads.
    pub fn score(&self, set: &DeclarationSet, threads: usize) -> Vec<f64> {
        let bound = self.encoder.bind(&set.attributes);
        let width = self.encoder.feature_count();
        let mut scores = vec![0.0; set.declarations.len()];
        let per = set.declarations.len().div_ceil(threads.max(1)).max(1);
        std::thread::scope(|s| {
            for (chunk, out) in set.declarations.chunks(per).zip(scores.chunks_mut(per)) {
                let bound = &bound;
                s.spawn(move || {
                    let mut x = vec![0.0; width];
                    let mut buf = String::new();
                    for (d, o) in chunk.iter().zip(out) {
                        bound.encode(d, &mut x, &mut buf);
                        *o = self.booster.probability(&x);
                    }
                });
            }
        });
        scores
    }

    /// The score of one declaration and each feature's contribution to it.
    pub fn explain(&self, d: &Declaration, attributes: &[String]) -> Explanation {
        let bound = self.encoder.bind(attributes);
        let mut x = vec![0.0; self.encoder.feature_count()];
        bound.encode(d, &mut x, &mut String::new());
        let mut c = vec![0.0; x.len()];
        let bias = self.booster.contributions(&x, &mut c);
        let raw = bias + c.iter().sum::<f64>();
        let mut contributions: Vec<Contribution> = self
            .feature_names
            .iter()
            .zip(c)
            .filter(|(_, v)| *v != 0.0)
            .map(|(f, v)| Contribution {
                feature: f.clone(),
                log_odds: v,
            })
            .collect();
        contributions.sort_by(|a, b| b.log_odds.abs().total_cmp(&a.log_odds.abs()));
        Explanation {
            probability: sigmoid(raw),
            bias,
            contributions,
        }
    }

    /// The features that move scores most: the mean absolute contribution (log-odds) of each
    /// feature over the declarations of `set` (every `step`-th one, so that at most `sample`
    /// are explained), largest first. This is what the model card shows as top features.
    pub fn top_features(&self, set: &DeclarationSet, sample: usize) -> Vec<Contribution> {
        let step = (set.declarations.len() / sample.max(1)).max(1);
        let mut sums = vec![0.0_f64; self.feature_names.len()];
        let mut n = 0usize;
        let bound = self.encoder.bind(&set.attributes);
        let mut x = vec![0.0; self.encoder.feature_count()];
        let mut c = vec![0.0; x.len()];
        for d in set.declarations.iter().step_by(step) {
            x.iter_mut().for_each(|v| *v = 0.0);
            c.iter_mut().for_each(|v| *v = 0.0);
            bound.encode(d, &mut x, &mut String::new());
            self.booster.contributions(&x, &mut c);
            for (s, v) in sums.iter_mut().zip(&c) {
                *s += v.abs();
            }
            n += 1;
        }
        let mut top: Vec<Contribution> = self
            .feature_names
            .iter()
            .zip(sums)
            .filter(|(_, s)| *s > 0.0)
            .map(|(f, s)| Contribution {
                feature: f.clone(),
                log_odds: s / n.max(1) as f64,
            })
            .collect();
        top.sort_by(|a, b| b.log_odds.total_cmp(&a.log_odds));
        top
    }

    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut w, self).map_err(|e| io(e.into()))?;
        std::io::Write::flush(&mut w).map_err(io)
    }

    pub fn load(path: &Path) -> Result<RiskModel, ModelError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: shown.clone(),
            source,
        })?;
        let format_err = |message: String| ModelError::Format {
            path: shown.clone(),
            message,
        };
        // Check the header first, so that a file of another version says so.
        #[derive(Deserialize)]
        struct Header {
            format: String,
            version: u32,
        }
        let header: Header = serde_json::from_str(&text).map_err(|e| format_err(e.to_string()))?;
        if header.format != MODEL_FORMAT {
            return Err(format_err(format!(
                "format \"{}\", expected \"{MODEL_FORMAT}\"",
                header.format
            )));
        }
        if header.version != MODEL_VERSION {
            return Err(ModelError::Version {
                path: shown,
                found: header.version,
            });
        }
        let model: RiskModel =
            serde_json::from_str(&text).map_err(|e| format_err(e.to_string()))?;
        if model.feature_names.len() != model.encoder.feature_count()
            || model.booster.feature_count != model.feature_names.len()
            || model.booster.trees.iter().any(|t| {
                // Children come after their parent, so every walk ends at a leaf.
                t.nodes.is_empty()
                    || t.nodes.iter().enumerate().any(|(i, n)| {
                        !n.is_leaf()
                            && (n.left as usize <= i
                                || n.right as usize <= i
                                || n.left as usize >= t.nodes.len()
                                || n.right as usize >= t.nodes.len()
                                || n.feature as usize >= model.feature_names.len())
                    })
            })
        {
            return Err(format_err("inconsistent features or trees".into()));
        }
        Ok(model)
    }
}
