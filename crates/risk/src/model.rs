//! The risk model: a feature encoder fitted on the training history (every declaration as
//! context, the inspected ones for labels) and a gradient-boosted ensemble trained on the
//! inspected declarations, each weighted by the inverse of the probability that it was
//! inspected when its selection recorded one; saved together in one versioned JSON file.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smartborder_model::DeclarationSet;

use crate::features::{DeclarationRows, FeatureColumns, FeatureEncoder, Labels, SMOOTHING};
use crate::gbdt::{Binned, BoostParams, Booster, Validation, sigmoid};
use crate::metrics::{TargetingMetrics, targeting_metrics};
use crate::threads::{on_ranges, on_threads};

/// The `format` field of a model file.
pub const MODEL_FORMAT: &str = "smartborder-risk-model";
/// The version of the model file this build writes and reads.
pub const MODEL_VERSION: u32 = 2;
/// Propensities below this are raised to it before weighting (a weight is at most 20): one
/// declaration drawn at a tiny probability must not outweigh the history.
pub const MIN_PROPENSITY: f64 = 0.05;

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

/// What training is asked to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// The booster's parameters; with [`Capacity::Validated`], the trees and leaf size are
    /// chosen and the rest kept.
    pub params: BoostParams,
    /// The seed of the out-of-fold folds.
    pub seed: u64,
    pub weighting: Weighting,
    pub capacity: Capacity,
}

/// How the model's size is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// The parameters as given, with the default smoothing.
    Fixed,
    /// By validation inside the training period, reproducibly and without hand tuning: the
    /// inspected declarations of the last fifth of the period (by date) are set aside; the
    /// smoothing m of the category rates is chosen among 1, 3 and 10, then the leaf size
    /// among three that scale with the labels, each with the number of trees where the
    /// validation log-loss stops improving (at most [`MAX_TREES`]; each declaration set aside
    /// weighs 1 / its propensity when recorded, so that the loss is the population's, not the
    /// past selection's). The search boosts at [`SEARCH_SPEED_UP`] times the learning rate
    /// (its trees counted that many times over): it costs a third of the trees, and on the
    /// KCS data chose models as good as a search at the model's own rate. The candidates run
    /// side by side, a stage's all at once when more than one thread is allowed. The model is then trained on the whole history with the
    /// chosen values and the trees scaled up to all the labels.
    /// Too few labels to set any aside (under [`MIN_VALIDATION`] inspected, or 10
    /// non-compliant, on either side): the parameters as given.
    Validated,
}

/// The most trees validation lets a model grow.
pub const MAX_TREES: usize = 1000;
/// Trees without improvement of the validation loss before stopping (at the search's rate).
pub const PATIENCE: usize = 10;
/// The search boosts this many times faster than the model (learning rate × 3, at most 1) and
/// counts its trees that many times over: the choice costs a third of the trees.
pub const SEARCH_SPEED_UP: f64 = 3.0;
/// The fewest inspected declarations set aside for validation.
pub const MIN_VALIDATION: usize = 200;

/// How far a training has come, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingProgress {
    /// The capacity search has measured `done` of its `of` candidates (they run side by
    /// side, so reports may come out of order).
    Candidates { done: usize, of: usize },
    /// The model itself: `built` of its `of` trees.
    Trees { built: usize, of: usize },
}

/// One setting tried by validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityCandidate {
    pub smoothing: f64,
    pub min_child_samples: usize,
    /// Trees where the validation loss was lowest, and that loss (weighted log-loss).
    pub trees: usize,
    pub log_loss: f64,
}

/// The choice made by validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityChoice {
    /// The first day set aside, and how many inspected declarations were.
    pub validation_from: NaiveDate,
    pub validation_declarations: usize,
    pub candidates: Vec<CapacityCandidate>,
    /// The index of the chosen candidate.
    pub chosen: usize,
}

/// How inspected declarations are weighted in training.
///
/// A selection that chose on what the features see (a low unit value, a risky importer) does
/// not bias what the booster estimates, the chance of non-compliance *given* the features; it
/// biases any rate pooled over declarations the selection treated differently, such as a
/// category's rate. Weighting by inverse propensity removes that bias at the price of variance
/// (a declaration drawn at 2% weighs 50 times one selected for sure). Measured on the KCS data
/// (README, bench/risk-partial.sh), it lowers Pre@5%, so it is a choice, not the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// Every inspected declaration weighs 1.
    #[default]
    None,
    /// Each weighs 1 / its propensity, when its outcome records one.
    InversePropensity,
}

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Inspected declarations (with a result), and of them non-compliant.
    pub declarations: usize,
    pub illicit: usize,
    /// Every declaration of the history, inspected or not (context of the features).
    #[serde(default)]
    pub context_declarations: usize,
    /// Inspected declarations whose selection recorded its propensity, and how they weighed.
    #[serde(default)]
    pub with_propensity: usize,
    #[serde(default)]
    pub weighting: Weighting,
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
    /// How the capacity was chosen, when it was chosen by validation.
    #[serde(default)]
    pub capacity: Option<CapacityChoice>,
    /// Shared with every [`Contribution`] that names one (a live answer names five per
    /// declaration).
    pub feature_names: Vec<Arc<str>>,
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
        let assessed = model.assess(evaluation, threads);
        let scores: Vec<f64> = index.iter().map(|&i| assessed.scores[i]).collect();
        ModelCard {
            training_data: training_data.to_string(),
            training: model.training.clone(),
            params: model.params,
            evaluation_data: evaluation_data.to_string(),
            evaluation: targeting_metrics(&scores, &labels, revenue.as_deref()),
            top_features: model.top_features_of(&assessed, 5000),
        }
    }
}

/// The features and scores of an assessed set (one row of features per declaration).
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub scores: Vec<f64>,
    matrix: Vec<f64>,
    width: usize,
}

impl Assessment {
    /// The feature values of the `i`-th declaration.
    pub fn features(&self, i: usize) -> &[f64] {
        &self.matrix[i * self.width..(i + 1) * self.width]
    }
}

/// One feature's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub feature: Arc<str>,
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

/// The weight of each declaration (1, or its inverse propensity), normalised to a mean of 1
/// over the inspected ones.
fn weights(history: &DeclarationSet, labels: &[Option<bool>], weighting: Weighting) -> Vec<f64> {
    let mut weights: Vec<f64> = history
        .declarations
        .iter()
        .map(|d| match d.outcome.and_then(|o| o.propensity) {
            Some(p) if p.is_finite() && weighting == Weighting::InversePropensity => {
                1.0 / p.clamp(MIN_PROPENSITY, 1.0)
            }
            _ => 1.0,
        })
        .collect();
    let (sum, n) = labels
        .iter()
        .zip(&weights)
        .filter(|(y, _)| y.is_some())
        .fold((0.0, 0usize), |(s, n), (_, w)| (s + w, n + 1));
    let mean = if n == 0 { 1.0 } else { sum / n as f64 };
    weights.iter_mut().for_each(|w| *w /= mean);
    weights
}

/// Fits the encoder and the booster on a history.
fn fit(
    history: &DeclarationSet,
    labels: &[Option<bool>],
    weights: &[f64],
    params: &BoostParams,
    smoothing: f64,
    seed: u64,
    progress: &(dyn Fn(TrainingProgress) + Sync),
) -> (FeatureEncoder, FeatureColumns, Booster) {
    let (encoder, features, rows) = FeatureEncoder::fit(
        history,
        &Labels { labels, weights },
        smoothing,
        seed,
        params.threads,
    );
    let y: Vec<bool> = rows.iter().map(|&i| labels[i] == Some(true)).collect();
    let w: Vec<f64> = rows.iter().map(|&i| weights[i]).collect();
    let booster = Booster::train(&features.columns, &y, Some(&w), params, &|built| {
        progress(TrainingProgress::Trees {
            built,
            of: params.trees,
        })
    });
    (encoder, features, booster)
}

/// A part of a history: its declarations (borrowed), labels and weights.
fn part<'a>(
    history: &'a DeclarationSet,
    labels: &[Option<bool>],
    weights: &[f64],
    keep: impl Fn(&smartborder_model::Declaration) -> bool,
) -> (DeclarationRows<'a>, Vec<Option<bool>>, Vec<f64>) {
    let rows: Vec<usize> = (0..history.declarations.len())
        .filter(|&i| keep(&history.declarations[i]))
        .collect();
    let set = DeclarationRows {
        attributes: &history.attributes,
        declarations: rows.iter().map(|&i| &history.declarations[i]).collect(),
    };
    let l = rows.iter().map(|&i| labels[i]).collect();
    let w = rows.iter().map(|&i| weights[i]).collect();
    (set, l, w)
}

/// The features of the earlier part (binned, shared by the candidates) and of the part set
/// aside, for one smoothing.
struct Prepared {
    binned: Binned,
    valid_columns: Vec<Vec<f64>>,
}

/// Chooses the smoothing, the leaf size and the number of trees by validation (see
/// [`Capacity::Validated`]); returns the parameters, the smoothing and the record of the choice.
fn choose_capacity(
    history: &DeclarationSet,
    labels: &[Option<bool>],
    weights: &[f64],
    options: &TrainOptions,
    progress: &(dyn Fn(TrainingProgress) + Sync),
) -> (BoostParams, f64, Option<CapacityChoice>) {
    let given = (options.params, SMOOTHING, None);
    let mut dates: Vec<NaiveDate> = history
        .declarations
        .iter()
        .zip(labels)
        .filter(|(_, y)| y.is_some())
        .map(|(d, _)| d.date)
        .collect();
    dates.sort_unstable();
    let Some(&cut) = dates.get(dates.len() * 4 / 5) else {
        return given;
    };
    let (train, train_labels, train_weights) = part(history, labels, weights, |d| d.date < cut);
    let (valid, valid_labels, _) = part(history, labels, weights, |d| d.date >= cut);
    let count = |l: &[Option<bool>]| {
        (
            l.iter().filter(|y| y.is_some()).count(),
            l.iter().filter(|y| **y == Some(true)).count(),
        )
    };
    let (tn, tp) = count(&train_labels);
    let (vn, vp) = count(&valid_labels);
    if vn < MIN_VALIDATION || tn < MIN_VALIDATION || vp < 10 || tp < 10 || vp == vn || tp == tn {
        return given;
    }
    let valid_rows: Vec<usize> = (0..valid_labels.len())
        .filter(|&i| valid_labels[i].is_some())
        .collect();
    let y_valid: Vec<bool> = valid_rows
        .iter()
        .map(|&i| valid_labels[i] == Some(true))
        .collect();
    // The loss on the population the model will score: each declaration set aside weighs the
    // inverse of its propensity when its selection recorded one, whatever the training weights.
    let w_valid: Vec<f64> = valid_rows
        .iter()
        .map(|&i| {
            valid.declarations[i]
                .outcome
                .and_then(|o| o.propensity)
                .filter(|p| p.is_finite())
                .map_or(1.0, |p| 1.0 / p.clamp(MIN_PROPENSITY, 1.0))
        })
        .collect();
    // The candidates run side by side, one thread each (a boosting run scales better across
    // runs than across the rows of one histogram); results do not depend on the threads.
    let threads = options.params.threads.max(1);
    // A stage's few candidates all start at once when more than one thread is allowed, and
    // the system shares the cores among them: three candidates on two cores otherwise run two
    // then one, and the last leaves a core idle for a third of the stage.
    let side_by_side = |candidates: usize| {
        if threads > 1 {
            candidates.max(threads)
        } else {
            1
        }
    };
    let search_rate = (options.params.learning_rate * SEARCH_SPEED_UP).min(1.0);
    let one_thread = BoostParams {
        threads: 1,
        ..options.params
    };
    // The features of both parts for each smoothing (fitted on the earlier part, once: only
    // the rates depend on the smoothing).
    let smoothings = [1.0, SMOOTHING, 10.0];
    let (encoder, fits, rows) = FeatureEncoder::fit_smoothings(
        &train,
        &Labels {
            labels: &train_labels,
            weights: &train_weights,
        },
        &smoothings,
        options.seed,
        threads,
    );
    let y: Vec<bool> = rows
        .iter()
        .map(|&i| train_labels[i] == Some(true))
        .collect();
    let w: Vec<f64> = rows.iter().map(|&i| train_weights[i]).collect();
    // Every fit has the same keys; only the smoothing differs.
    let valid_all = encoder.columns_smoothings(&valid, &smoothings, threads);
    let mut prepared: Vec<Prepared> = fits
        .into_iter()
        .zip(valid_all)
        .map(|(features, all)| Prepared {
            binned: Binned::new(&features.columns, options.params.max_bins, threads),
            valid_columns: all
                .columns
                .iter()
                .map(|c| valid_rows.iter().map(|&i| c[i]).collect())
                .collect(),
        })
        .collect();
    // First the smoothing, at the leaf size given, then the leaf size, at the smoothing
    // chosen.
    let leaf = options.params.min_child_samples;
    let leaves: Vec<usize> = [(tn / 4000).max(5), (tn / 1000).max(20), (tn / 250).max(80)]
        .into_iter()
        .filter(|&l| l != leaf)
        .collect();
    let done = AtomicUsize::new(0);
    let of = smoothings.len() + leaves.len();
    let try_one = |prepared: &Prepared, smoothing: f64, min_child_samples: usize| {
        let Prepared {
            binned,
            valid_columns,
        } = prepared;
        let params = BoostParams {
            trees: MAX_TREES,
            min_child_samples,
            learning_rate: search_rate,
            ..one_thread
        };
        let (booster, losses) = Booster::train_validated(
            binned,
            &y,
            Some(&w),
            &params,
            &Validation {
                columns: valid_columns,
                labels: &y_valid,
                weights: Some(&w_valid),
            },
            PATIENCE,
            &|_| {},
        );
        progress(TrainingProgress::Candidates {
            done: done.fetch_add(1, Ordering::Relaxed) + 1,
            of,
        });
        CapacityCandidate {
            smoothing,
            min_child_samples,
            trees: booster.trees.len(),
            log_loss: losses[booster.trees.len() - 1],
        }
    };
    let best = |c: &[CapacityCandidate]| {
        (0..c.len())
            .min_by(|&a, &b| c[a].log_loss.total_cmp(&c[b].log_loss))
            .unwrap_or(0)
    };
    let mut candidates: Vec<CapacityCandidate> = on_threads(
        &smoothings.iter().zip(&prepared).collect::<Vec<_>>(),
        side_by_side(smoothings.len()),
        |&(&m, p)| try_one(p, m, leaf),
    );
    let first = best(&candidates);
    let smoothing = candidates[first].smoothing;
    let prepared = prepared.swap_remove(first);
    candidates.extend(on_threads(&leaves, side_by_side(leaves.len()), |&l| {
        try_one(&prepared, smoothing, l)
    }));
    let chosen = best(&candidates);
    let c = &candidates[chosen];
    let rate_ratio = search_rate / options.params.learning_rate;
    let trees = (c.trees as f64 * rate_ratio * dates.len() as f64 / tn as f64).ceil() as usize;
    let params = BoostParams {
        trees: trees.clamp(1, MAX_TREES),
        min_child_samples: c.min_child_samples,
        ..options.params
    };
    let smoothing = c.smoothing;
    (
        params,
        smoothing,
        Some(CapacityChoice {
            validation_from: cut,
            validation_declarations: vn,
            candidates,
            chosen,
        }),
    )
}

/// The indices of the `k` largest non-zero values by magnitude, largest first, ties in index
/// order: one pass, each value going in after every kept one at least as large (a live answer
/// does this for every declaration, over every feature).
fn largest(values: &[f64], k: usize) -> Vec<usize> {
    let mut top: Vec<usize> = Vec::with_capacity(k + 1);
    // The smallest magnitude kept once k are: a value must be larger to get in.
    let mut floor = 0.0_f64;
    for (i, v) in values.iter().enumerate() {
        let size = v.abs();
        if *v == 0.0 || (top.len() == k && size.total_cmp(&floor).is_le()) {
            continue;
        }
        let at = top
            .iter()
            .position(|&j| values[j].abs().total_cmp(&size).is_lt())
            .unwrap_or(top.len());
        if at < k {
            top.insert(at, i);
            top.truncate(k);
            if let Some(&last) = top.last() {
                floor = values[last].abs();
            }
        }
    }
    top
}

/// The values of `rows` of feature columns, row after row.
fn row_major(columns: &[Vec<f64>], rows: std::ops::Range<usize>) -> Vec<f64> {
    let width = columns.len();
    let mut out = vec![0.0; rows.len() * width];
    for (f, column) in columns.iter().enumerate() {
        for (r, v) in column[rows.clone()].iter().enumerate() {
            out[r * width + f] = *v;
        }
    }
    out
}

impl RiskModel {
    /// Trains on a history with the parameters as given, without weights (see
    /// [`RiskModel::train_with`]).
    pub fn train(
        history: &DeclarationSet,
        params: &BoostParams,
        seed: u64,
        progress: &(dyn Fn(TrainingProgress) + Sync),
    ) -> Result<RiskModel, ModelError> {
        Self::train_with(
            history,
            &TrainOptions {
                params: *params,
                seed,
                weighting: Weighting::None,
                capacity: Capacity::Fixed,
            },
            progress,
        )
    }

    /// Trains on a history: every declaration is context for the features; the inspected ones
    /// (with a recorded outcome) are the labels. With [`Weighting::InversePropensity`], each
    /// inspected declaration whose outcome records its propensity weighs its inverse (clipped
    /// at [`MIN_PROPENSITY`], normalised to a mean of 1), in the category rates and in the
    /// booster's loss. With [`Capacity::Validated`], the smoothing, the leaf size and the
    /// number of trees are chosen first (see [`Capacity`]). `progress` hears of each
    /// candidate of that choice as it is measured, then of each tree of the model.
    pub fn train_with(
        history: &DeclarationSet,
        options: &TrainOptions,
        progress: &(dyn Fn(TrainingProgress) + Sync),
    ) -> Result<RiskModel, ModelError> {
        let labels: Vec<Option<bool>> = history
            .declarations
            .iter()
            .map(|d| d.non_compliant())
            .collect();
        let inspected = labels.iter().filter(|y| y.is_some()).count();
        let illicit = labels.iter().filter(|y| **y == Some(true)).count();
        if illicit == 0 || illicit == inspected {
            return Err(ModelError::NoHistory {
                declarations: inspected,
                illicit,
            });
        }
        let weights = weights(history, &labels, options.weighting);
        let with_propensity = history
            .declarations
            .iter()
            .filter(|d| d.outcome.is_some_and(|o| o.propensity.is_some()))
            .count();
        let (params, smoothing, capacity) = match options.capacity {
            Capacity::Fixed => (options.params, SMOOTHING, None),
            Capacity::Validated => choose_capacity(history, &labels, &weights, options, progress),
        };
        let (encoder, features, booster) = fit(
            history,
            &labels,
            &weights,
            &params,
            smoothing,
            options.seed,
            progress,
        );
        let dates = history.declarations.iter().map(|d| d.date);
        Ok(RiskModel {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            params,
            training: TrainingSummary {
                declarations: inspected,
                illicit,
                context_declarations: history.declarations.len(),
                with_propensity,
                weighting: options.weighting,
                first_date: dates.clone().min().expect("history is not empty"),
                last_date: dates.max().expect("history is not empty"),
                seed: options.seed,
            },
            capacity,
            feature_names: features.names.into_iter().map(Arc::from).collect(),
            encoder,
            booster,
        })
    }

    /// The features and scores of every declaration of a set, on `threads` threads (the set is
    /// replayed after the training history, see [`FeatureEncoder::columns`]).
    pub fn assess(&self, set: &DeclarationSet, threads: usize) -> Assessment {
        let (matrix, width) = self.matrix(set, threads);
        let scores = on_ranges(set.declarations.len(), threads, |rows| {
            let mut raw = vec![0.0; rows.len()];
            self.booster.raw_scores(
                &matrix[rows.start * width..rows.end * width],
                width,
                &mut raw,
            );
            raw.into_iter().map(sigmoid).collect()
        });
        Assessment {
            scores,
            matrix,
            width,
        }
    }

    /// The score of every declaration of a set and the `k` features that moved it most
    /// (largest magnitude first, ties in feature order), as [`RiskModel::explain`] lists them:
    /// what a live answer gives. The trees are walked once per declaration for both.
    pub fn assess_with_reasons(
        &self,
        set: &DeclarationSet,
        threads: usize,
        k: usize,
    ) -> Vec<(f64, Vec<Contribution>)> {
        // Each range lays its own rows out (in its thread, in cache) instead of the whole
        // set being laid out first on one.
        let columns = self.encoder.columns(set, threads).columns;
        let width = columns.len();
        on_ranges(set.declarations.len(), threads, |rows| {
            let mut contributions = vec![0.0; rows.len() * width];
            let mut raw = vec![0.0; rows.len()];
            self.booster.scores_and_contributions(
                &row_major(&columns, rows),
                width,
                &mut contributions,
                &mut raw,
            );
            raw.iter()
                .zip(contributions.chunks_exact(width))
                .map(|(&r, c)| (sigmoid(r), self.top_contributions(c, k)))
                .collect()
        })
    }

    /// The feature values of every declaration of a set, row after row, and the row width.
    fn matrix(&self, set: &DeclarationSet, threads: usize) -> (Vec<f64>, usize) {
        let columns = self.encoder.columns(set, threads).columns;
        (
            row_major(&columns, 0..set.declarations.len()),
            columns.len(),
        )
    }

    /// Probabilities of non-compliance for every declaration of a set, on `threads` threads.
    pub fn score(&self, set: &DeclarationSet, threads: usize) -> Vec<f64> {
        self.assess(set, threads).scores
    }

    /// The score of the `i`-th declaration of an assessed set and each feature's contribution.
    pub fn explain(&self, a: &Assessment, i: usize) -> Explanation {
        let x = a.features(i);
        let mut c = vec![0.0; x.len()];
        let bias = self.booster.contributions(x, &mut c);
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

    /// The `k` largest contributions (by magnitude, ties in feature order), named.
    fn top_contributions(&self, contributions: &[f64], k: usize) -> Vec<Contribution> {
        largest(contributions, k)
            .into_iter()
            .map(|f| Contribution {
                feature: self.feature_names[f].clone(),
                log_odds: contributions[f],
            })
            .collect()
    }

    /// The features that move scores most: the mean absolute contribution (log-odds) of each
    /// feature over the declarations of `set` (every `step`-th one, so that at most `sample`
    /// are explained), largest first. This is what the model card shows as top features.
    pub fn top_features(&self, set: &DeclarationSet, sample: usize) -> Vec<Contribution> {
        self.top_features_of(&self.assess(set, 1), sample)
    }

    /// [`RiskModel::top_features`] of a set already assessed.
    pub fn top_features_of(&self, a: &Assessment, sample: usize) -> Vec<Contribution> {
        let rows = a.scores.len();
        let step = (rows / sample.max(1)).max(1);
        let mut sums = vec![0.0_f64; self.feature_names.len()];
        let mut n = 0usize;
        let mut c = vec![0.0; a.width];
        for i in (0..rows).step_by(step) {
            c.iter_mut().for_each(|v| *v = 0.0);
            self.booster.contributions(a.features(i), &mut c);
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
        Self::from_json(&text, &shown)
    }

    /// Reads a model file's text (`shown` names it in errors), checked like [`RiskModel::load`].
    pub fn from_json(text: &str, shown: &str) -> Result<RiskModel, ModelError> {
        let shown = shown.to_string();
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
        let header: Header = serde_json::from_str(text).map_err(|e| format_err(e.to_string()))?;
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
        let model: RiskModel = serde_json::from_str(text).map_err(|e| format_err(e.to_string()))?;
        if model.feature_names.len() != model.encoder.feature_count()
            || model.booster.feature_count != model.feature_names.len()
            || model.booster.trees.iter().any(|t| {
                // Children come after their parent, so every walk ends at a leaf; the right
                // child follows the left one (the walk relies on it).
                t.nodes.is_empty()
                    || t.nodes.iter().enumerate().any(|(i, n)| {
                        !n.is_leaf()
                            && (n.left as usize <= i
                                || n.right != n.left.wrapping_add(1)
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

#[cfg(test)]
mod tests {
    use super::largest;

    /// Against a full stable sort by magnitude: zeros left out, ties (of either sign) in index
    /// order, k below, at and above the number of non-zero values.
    #[test]
    fn the_largest_values_come_out_as_a_stable_sort_lists_them() {
        let values: [f64; 12] = [
            0.0, -0.5, 0.25, 0.5, -0.25, 0.0, 1.5, -1.5, 0.125, 0.5, -0.0, 0.75,
        ];
        let mut sorted: Vec<usize> = (0..values.len()).filter(|&i| values[i] != 0.0).collect();
        sorted.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()));
        assert_eq!(sorted[..4], [6, 7, 11, 1]);
        for k in 0..=values.len() {
            let expected: Vec<usize> = sorted.iter().copied().take(k).collect();
            assert_eq!(largest(&values, k), expected, "k = {k}");
        }
        assert!(largest(&[0.0, -0.0], 3).is_empty());
    }
}
