//! An administration's risk configuration, compiled from the files it published: its risk
//! profiles (`profiles.risk`) with the value bands and lists they name, its selectivity plan
//! (`selectivity.toml`) and its model (`model.json`, or without control results yet an anomaly
//! model, `anomaly.json`). Compiled once per set of versions and
//! then shared by every assessment until a new version is published; each assessment names the
//! versions that produced it.

use std::collections::BTreeMap;

use serde::Serialize;
use smartborder_model::{DeclarationSet, Lane};

use crate::anomaly::AnomalyModel;
use crate::model::{Contribution, RiskModel};
use crate::rules::{RuleFiles, RuleSet, parse_rules_with};
use crate::selectivity::{Reason, SelectivityPlan, decide};
use crate::threads::on_ranges;

/// The published file of risk profiles.
pub const PROFILES: &str = "profiles.risk";
/// The published selectivity plan.
pub const PLAN: &str = "selectivity.toml";
/// The published model.
pub const MODEL: &str = "model.json";
/// The published anomaly model, used when there is no trained model (an administration without
/// control results yet).
pub const ANOMALY: &str = "anomaly.json";
/// The published model card (read by people, not used to assess).
pub const MODEL_CARD: &str = "model-card.json";
/// Features named among the reasons of an assessment.
pub const REASONS: usize = 5;

/// One published file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigurationFile {
    pub name: String,
    pub version: i64,
    pub body: String,
}

/// Why a set of files does not make a configuration; the message names the file and, for
/// profiles, the line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigurationError {
    pub file: String,
    pub message: String,
}

/// Checks the name of a published file: 1 to 64 letters, digits, `.`, `_` or `-`, not
/// starting with `.` (names are keys of the configuration and appear in paths).
pub fn check_file_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "file name {name:?}: expected 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"
        ))
    }
}

/// The files in force with `new` ones replacing those of the same name: what a publication of
/// `new` would put in force.
pub fn with_new_files(
    in_force: Vec<ConfigurationFile>,
    new: &[ConfigurationFile],
) -> Vec<ConfigurationFile> {
    let mut files: Vec<ConfigurationFile> = in_force
        .into_iter()
        .filter(|f| !new.iter().any(|n| n.name == f.name))
        .collect();
    files.extend(new.iter().cloned());
    files
}

/// A compiled configuration.
#[derive(Debug)]
pub struct RiskConfiguration {
    /// The version of every file in force (including those not used to assess).
    pub versions: BTreeMap<String, i64>,
    /// The attribute names declarations are read with.
    pub attributes: Vec<String>,
    rules: RuleSet,
    plan: SelectivityPlan,
    model: Option<RiskModel>,
    anomaly: Option<AnomalyModel>,
}

/// The assessment of one declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveAssessment {
    pub declaration_id: String,
    pub lane: Lane,
    /// Held for an officer's review by a profile.
    pub review: bool,
    /// The model's probability of non-compliance, when the configuration has a model; else the
    /// anomaly model's score (0..1), when it has one.
    pub score: Option<f64>,
    /// The profiles that hit.
    pub hits: Vec<String>,
    /// What put the declaration in its lane, in order (profiles, random, exploration, score).
    pub selection: Vec<Reason>,
    /// The features that moved the score most (log-odds), largest first.
    pub reasons: Vec<Contribution>,
    /// The probability that the declaration is controlled under the plan.
    pub propensity: f64,
}

impl RiskConfiguration {
    /// Compiles the files in force. Profiles, plan and model are each optional (no profiles:
    /// nothing hits; no plan: every declaration is green unless a profile sends it elsewhere;
    /// no model: no score). Every present file is checked.
    pub fn compile(
        files: &[ConfigurationFile],
        attributes: &[String],
    ) -> Result<RiskConfiguration, ConfigurationError> {
        let named: BTreeMap<String, String> = files
            .iter()
            .map(|f| (f.name.clone(), f.body.clone()))
            .collect();
        let rules = match named.get(PROFILES) {
            Some(text) => parse_rules_with(text, PROFILES, RuleFiles::Named(&named), attributes)
                .map_err(|e| ConfigurationError {
                    file: e.file.clone(),
                    message: format!("line {}, column {}: {}", e.line, e.column, e.message),
                })?,
            None => RuleSet { profiles: vec![] },
        };
        let plan = SelectivityPlan::from_toml(named.get(PLAN).map_or("", String::as_str), PLAN)
            .map_err(|message| ConfigurationError {
                file: PLAN.into(),
                message,
            })?;
        let model = named
            .get(MODEL)
            .map(|text| RiskModel::from_json(text, MODEL))
            .transpose()
            .map_err(|e| ConfigurationError {
                file: MODEL.into(),
                message: e.to_string(),
            })?;
        let anomaly = named
            .get(ANOMALY)
            .map(|text| AnomalyModel::from_json(text, ANOMALY))
            .transpose()
            .map_err(|e| ConfigurationError {
                file: ANOMALY.into(),
                message: e.to_string(),
            })?;
        Ok(RiskConfiguration {
            versions: files.iter().map(|f| (f.name.clone(), f.version)).collect(),
            attributes: attributes.to_vec(),
            rules,
            plan,
            model,
            anomaly,
        })
    }

    /// The share of each lane's top-up that the plan draws at random (exploration).
    pub fn exploration_share(&self) -> f64 {
        self.plan.exploration_share
    }

    /// Assesses a batch of declarations, each on its own (the lane of one does not depend on
    /// the others; see [`decide`]), on up to `threads` threads. The set is taken by value:
    /// its identifiers move into the answer.
    pub fn assess(&self, set: DeclarationSet, threads: usize) -> Vec<LiveAssessment> {
        let mut assessed = self
            .model
            .as_ref()
            .map(|m| m.assess_with_reasons(&set, threads, REASONS));
        // Without a trained model, the anomaly model's score (no reasons: it has no additive
        // contributions).
        let anomalous = match (&assessed, &self.anomaly) {
            (None, Some(a)) => Some(a.score(&set, threads)),
            _ => None,
        };
        let decisions = on_ranges(set.declarations.len(), threads, |rows| {
            rows.map(|i| {
                let score = match (&assessed, &anomalous) {
                    (Some(a), _) => Some(a[i].0),
                    (None, Some(s)) => Some(s[i]),
                    (None, None) => None,
                };
                (
                    score,
                    decide(&set.declarations[i], &self.rules, score, &self.plan),
                )
            })
            .collect()
        });
        // The set is not needed after the decisions: each assessment takes its declaration's
        // identifier instead of a copy.
        decisions
            .into_iter()
            .zip(set.declarations)
            .enumerate()
            .map(|(i, ((score, decision), declaration))| LiveAssessment {
                declaration_id: declaration.id,
                lane: decision.lane,
                review: decision.review,
                score,
                hits: decision
                    .reasons
                    .iter()
                    .filter_map(|r| match r {
                        Reason::Profile { id, .. } => Some(id.clone()),
                        _ => None,
                    })
                    .collect(),
                selection: decision.reasons,
                reasons: assessed
                    .as_mut()
                    .map_or_else(Vec::new, |a| std::mem::take(&mut a[i].1)),
                propensity: decision.propensity,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use smartborder_model::Declaration;

    use super::*;

    fn file(name: &str, body: &str) -> ConfigurationFile {
        ConfigurationFile {
            name: name.into(),
            version: 3,
            body: body.into(),
        }
    }

    #[test]
    fn compiles_published_files_and_names_the_broken_one() {
        let bands = file("bands.csv", "hs_code,origin,low,high\n8471,CN,10,50\n");
        let profiles = file(
            PROFILES,
            "value_control \"LOW\" {\n  measure value_per_kg\n  bands file \"bands.csv\"\n  then red\n}\n",
        );
        let config = RiskConfiguration::compile(&[bands.clone(), profiles.clone()], &[]).unwrap();
        assert_eq!(
            config.versions,
            BTreeMap::from([("bands.csv".into(), 3), (PROFILES.into(), 3)])
        );
        let mut d = Declaration::new(
            "D1",
            NaiveDate::from_ymd_opt(2021, 1, 4).unwrap(),
            "A",
            "847130",
        );
        d.origin = Some("CN".into());
        d.mass_kg = Some(10.0);
        d.value = Some(20.0);
        let set = DeclarationSet {
            attributes: vec![],
            declarations: vec![d],
        };
        let a = &config.assess(set, 1)[0];
        assert_eq!(
            (a.lane, a.hits.clone(), a.score),
            (Lane::Red, vec!["LOW".to_string()], None)
        );

        // The bands file missing, a broken plan, a broken model: each error names its file.
        let e = RiskConfiguration::compile(std::slice::from_ref(&profiles), &[]).unwrap_err();
        assert!(
            e.to_string().contains("bands.csv") && e.file == PROFILES,
            "{e}"
        );
        let e =
            RiskConfiguration::compile(&[file(PLAN, "exploration_share = 2\n")], &[]).unwrap_err();
        assert!(
            e.file == PLAN && e.message.contains("exploration_share"),
            "{e}"
        );
        let e = RiskConfiguration::compile(&[file(MODEL, "{\"format\": \"x\"}")], &[]).unwrap_err();
        assert_eq!(e.file, MODEL);
        let e = RiskConfiguration::compile(&[file(ANOMALY, "{}")], &[]).unwrap_err();
        assert_eq!(e.file, ANOMALY);
        let e = RiskConfiguration::compile(
            &[
                bands,
                file(PROFILES, "profile \"P\" {\n  when origin = then red }\n"),
            ],
            &[],
        )
        .unwrap_err();
        assert!(e.message.starts_with("line 2,"), "{e}");
    }
}
