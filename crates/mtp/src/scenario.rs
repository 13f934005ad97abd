//! Scenario definitions: what a practice world contains, as a TOML file. The definition says
//! how big the world is and which truths are planted; the seed (and the trainee's identity, for
//! a personal variant) chooses the particulars, so the same definition and seed always give the
//! same world.

use serde::{Deserialize, Serialize};

/// Why a definition is refused.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: {message}")]
    Definition { file: String, message: String },
}

/// The patterns a risk world can plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// One heading from one origin, undervalued by a small group of related importers.
    Undervaluation,
    /// Goods of a high-duty heading declared under a low-duty one.
    Misclassification,
    /// Origin hidden by transhipment along the corridor: declared as a corridor country's goods,
    /// dispatched from the true origin.
    Transhipment,
    /// A burst of declarations from traders first seen in the last weeks.
    NewTraderBurst,
    /// Declarations that look suspicious (low values, new trader, sensitive heading) but are
    /// compliant.
    Decoy,
}

impl PatternKind {
    pub fn name(self) -> &'static str {
        match self {
            PatternKind::Undervaluation => "undervaluation",
            PatternKind::Misclassification => "misclassification",
            PatternKind::Transhipment => "transhipment",
            PatternKind::NewTraderBurst => "new_trader_burst",
            PatternKind::Decoy => "decoy",
        }
    }
}

/// A risk world's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskScenario {
    /// Shown to trainees, in English and Russian.
    pub title_en: String,
    pub title_ru: String,
    /// The administration the world is set in (ISO 3166 alpha-2), e.g. KZ.
    pub country: String,
    /// Months of history given to the trainee (inspection results where inspected).
    #[serde(default = "default_history_months")]
    pub history_months: u32,
    /// Months after the history, given without results: the profiles are graded on them.
    #[serde(default = "default_later_months")]
    pub later_months: u32,
    /// The first month of the history (YYYY-MM).
    pub start: String,
    pub declarations_per_month: u32,
    /// Share of history declarations inspected (at random), whose results the trainee sees.
    #[serde(default = "default_inspection_rate")]
    pub inspection_rate: f64,
    /// Share of non-compliance outside the patterns (small errors, some revenue).
    #[serde(default = "default_noise_rate")]
    pub noise_rate: f64,
    /// The inspection budget the profiles are graded against, in percent of declarations.
    pub budget_percent: f64,
    /// The pass mark, out of 100.
    #[serde(default = "default_pass_mark")]
    pub pass_mark: f64,
    pub patterns: Vec<PatternKind>,
}

fn default_history_months() -> u32 {
    12
}
fn default_later_months() -> u32 {
    3
}
fn default_inspection_rate() -> f64 {
    0.1
}
fn default_noise_rate() -> f64 {
    0.02
}
fn default_pass_mark() -> f64 {
    60.0
}

/// A TRS world's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrsScenario {
    pub title_en: String,
    pub title_ru: String,
    /// Consignments of the year's export.
    pub consignments: u32,
    /// Rows of each kind of data-quality trap (duplicates, swapped stamps, wrong zones).
    #[serde(default = "default_traps")]
    pub traps_per_kind: u32,
    #[serde(default = "default_pass_mark")]
    pub pass_mark: f64,
}

fn default_traps() -> u32 {
    15
}

/// A selectivity world's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectivityScenario {
    pub title_en: String,
    pub title_ru: String,
    /// The administration (ISO 3166 alpha-2).
    pub country: String,
    /// The posts (2 to 12), as the stream names them.
    pub offices: Vec<String>,
    /// The first day of the history (YYYY-MM-DD).
    pub start: String,
    /// Days of history (a random sample inspected, results shown).
    #[serde(default = "default_history_days")]
    pub history_days: u32,
    /// Days of the stream the plan is graded on.
    #[serde(default = "default_days")]
    pub days: u32,
    /// The red lane's random rate the administration requires at every post, in percent.
    #[serde(default = "default_minimum_random")]
    pub minimum_random_percent: f64,
    #[serde(default = "default_pass_mark")]
    pub pass_mark: f64,
}

fn default_history_days() -> u32 {
    60
}
fn default_days() -> u32 {
    20
}
fn default_minimum_random() -> f64 {
    1.0
}

/// A transit exercise's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitScenario {
    pub title_en: String,
    pub title_ru: String,
    /// The week the movement is lodged in starts on this day (YYYY-MM-DD).
    pub start: String,
    /// Whether an incident happens en route (seal damaged, goods resealed).
    #[serde(default)]
    pub incident: bool,
    #[serde(default = "default_pass_mark")]
    pub pass_mark: f64,
}

/// A scenario definition file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scenario {
    Risk(RiskScenario),
    Trs(TrsScenario),
    Selectivity(SelectivityScenario),
    Transit(TransitScenario),
}

impl Scenario {
    /// Reads and checks a definition; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let err = |message: String| ScenarioError::Definition {
            file: file.to_string(),
            message,
        };
        let scenario: Scenario = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let r = match &scenario {
            Scenario::Risk(r) => r,
            Scenario::Selectivity(s) => {
                check_selectivity(s).map_err(err)?;
                return Ok(scenario);
            }
            Scenario::Transit(t) => {
                if chrono::NaiveDate::parse_from_str(&t.start, "%Y-%m-%d").is_err() {
                    return Err(err(format!("start \"{}\": expected YYYY-MM-DD", t.start)));
                }
                if !(0.0..=100.0).contains(&t.pass_mark) {
                    return Err(err(format!("pass_mark {}: expected 0 to 100", t.pass_mark)));
                }
                return Ok(scenario);
            }
            Scenario::Trs(t) => {
                if !(2_000..=2_000_000).contains(&t.consignments) {
                    return Err(err(format!(
                        "consignments {}: expected 2000 to 2000000",
                        t.consignments
                    )));
                }
                if !(1..=500).contains(&t.traps_per_kind) || !(0.0..=100.0).contains(&t.pass_mark) {
                    return Err(err(
                        "traps_per_kind: expected 1 to 500; pass_mark: 0 to 100".to_string(),
                    ));
                }
                return Ok(scenario);
            }
        };
        if r.country.len() != 2 || !r.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(err(format!(
                "country \"{}\": expected an ISO 3166 alpha-2 code such as KZ",
                r.country
            )));
        }
        if chrono::NaiveDate::parse_from_str(&format!("{}-01", r.start), "%Y-%m-%d").is_err() {
            return Err(err(format!("start \"{}\": expected YYYY-MM", r.start)));
        }
        if !(1..=36).contains(&r.history_months) || !(1..=12).contains(&r.later_months) {
            return Err(err(
                "history_months: expected 1 to 36; later_months: 1 to 12".to_string(),
            ));
        }
        if !(100..=200_000).contains(&r.declarations_per_month) {
            return Err(err(format!(
                "declarations_per_month {}: expected 100 to 200000",
                r.declarations_per_month
            )));
        }
        for (name, v, lo, hi) in [
            ("inspection_rate", r.inspection_rate, 0.01, 1.0),
            ("noise_rate", r.noise_rate, 0.0, 0.2),
            ("budget_percent", r.budget_percent, 0.5, 50.0),
            ("pass_mark", r.pass_mark, 0.0, 100.0),
        ] {
            if !(lo..=hi).contains(&v) {
                return Err(err(format!("{name} {v}: expected {lo} to {hi}")));
            }
        }
        if r.patterns.is_empty() {
            return Err(err("patterns: plant at least one".to_string()));
        }
        Ok(scenario)
    }
}

fn check_selectivity(s: &SelectivityScenario) -> Result<(), String> {
    if s.country.len() != 2 || !s.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "country \"{}\": expected an ISO 3166 alpha-2 code such as KZ",
            s.country
        ));
    }
    if !(2..=12).contains(&s.offices.len()) {
        return Err(format!(
            "offices: expected 2 to 12 posts, found {}",
            s.offices.len()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for o in &s.offices {
        if o.is_empty() || o.len() > 40 || o.chars().any(|c| c.is_control() || c == '"') {
            return Err(format!(
                "offices: \"{o}\" is not a post name (1 to 40 characters, no quotes)"
            ));
        }
        if !seen.insert(o) {
            return Err(format!("offices: \"{o}\" is named twice"));
        }
    }
    if chrono::NaiveDate::parse_from_str(&s.start, "%Y-%m-%d").is_err() {
        return Err(format!("start \"{}\": expected YYYY-MM-DD", s.start));
    }
    if !(7..=365).contains(&s.history_days) || !(5..=90).contains(&s.days) {
        return Err("history_days: expected 7 to 365; days: 5 to 90".to_string());
    }
    for (name, v, lo, hi) in [
        ("minimum_random_percent", s.minimum_random_percent, 0.0, 1.5),
        ("pass_mark", s.pass_mark, 0.0, 100.0),
    ] {
        if !(lo..=hi).contains(&v) {
            return Err(format!("{name} {v}: expected {lo} to {hi}"));
        }
    }
    Ok(())
}

/// The scenarios shipped with SmartBorder (`scenarios/*.toml`): (file name, definition). A
/// course on the server picks its exercises from them.
pub const CATALOG: &[(&str, &str)] = &[
    (
        "risk-kz-imports.toml",
        include_str!("../../../scenarios/risk-kz-imports.toml"),
    ),
    (
        "trs-corridor-2025.toml",
        include_str!("../../../scenarios/trs-corridor-2025.toml"),
    ),
    (
        "selectivity-kz-posts.toml",
        include_str!("../../../scenarios/selectivity-kz-posts.toml"),
    ),
    (
        "transit-caspian-movement.toml",
        include_str!("../../../scenarios/transit-caspian-movement.toml"),
    ),
];

impl Scenario {
    /// The title in a language.
    pub fn title(&self, lang: crate::text::Lang) -> &str {
        let (en, ru) = match self {
            Scenario::Risk(r) => (&r.title_en, &r.title_ru),
            Scenario::Trs(t) => (&t.title_en, &t.title_ru),
            Scenario::Selectivity(s) => (&s.title_en, &s.title_ru),
            Scenario::Transit(t) => (&t.title_en, &t.title_ru),
        };
        match lang {
            crate::text::Lang::En => en,
            crate::text::Lang::Ru => ru,
        }
    }
}
