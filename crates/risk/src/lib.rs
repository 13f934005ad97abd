//! The risk management engine: selectivity criteria (risk profiles), value control, machine-learned
//! risk scores, selectivity per office, and the metrics risk analysts use to judge them.
//!
//! Everything here is pure computation on [`Declaration`]s; reading files and printing belong to
//! `smartborder-ingest` and the binary.
//!
//! [`Declaration`]: smartborder_model::Declaration

pub mod rules;

pub use rules::{RuleError, RuleSet, parse_rules};
pub mod anomaly;
pub mod configuration;
pub mod draw;
pub mod evaluation;
pub mod examples;
pub mod features;
pub mod gbdt;
pub mod metrics;
pub mod model;
pub mod monitoring;
pub mod selectivity;
mod threads;
pub mod value_bands;
