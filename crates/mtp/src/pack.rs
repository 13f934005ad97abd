//! A scenario pack on disk: what the trainee gets (the brief in English and Russian, the
//! history with the results of the inspected declarations, the later months without results,
//! and the mapping that reads both), and, in a separate file, the answer key.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use smartborder_model::Declaration;

use crate::risk_world::{Planted, World, build};
use crate::scenario::{RiskScenario, Scenario, SelectivityScenario};
use crate::selectivity_world::Post;
use crate::text::{Lang, brief};
use crate::transit_world::TransitCase;
use crate::trs_world::TrsAnswers;

/// The format name of key files.
pub const KEY_FORMAT: &str = "smartborder-mtp-key";

/// The answer key: enough to rebuild the world and grade against it. Never given to trainees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub format: String,
    pub version: u32,
    pub scenario: Scenario,
    pub seed: u64,
    /// The trainee of a personal variant (`""`: the common world).
    pub trainee: String,
    /// A risk world: what was planted, and the reference profile file.
    #[serde(default)]
    pub planted: Vec<Planted>,
    #[serde(default)]
    pub reference_profile: String,
    /// A TRS world: the answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trs_answers: Option<TrsAnswers>,
    /// A selectivity world: the posts (with their true non-compliance rates) and the
    /// reference plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub posts: Vec<Post>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reference_plan: String,
    /// A transit exercise: the case, with the correct log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_case: Option<TransitCase>,
}

impl Key {
    /// The key of a variant with nothing planted yet: each kind fills its own answers.
    pub fn new(scenario: &Scenario, seed: u64, trainee: &str) -> Key {
        Key {
            format: KEY_FORMAT.into(),
            version: 1,
            scenario: scenario.clone(),
            seed,
            trainee: trainee.to_string(),
            planted: Vec::new(),
            reference_profile: String::new(),
            trs_answers: None,
            posts: Vec::new(),
            reference_plan: String::new(),
            transit_case: None,
        }
    }

    /// The definition, when the key is a risk world's.
    pub fn risk(&self) -> Option<&RiskScenario> {
        match &self.scenario {
            Scenario::Risk(r) => Some(r),
            Scenario::Trs(_) | Scenario::Selectivity(_) | Scenario::Transit(_) => None,
        }
    }

    /// The risk world the key is the key of.
    pub fn world(&self) -> Option<World> {
        self.risk().map(|r| build(r, self.seed, &self.trainee))
    }
}

/// Why a pack could not be written or a key read.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Key { path: String, message: String },
}

/// The mapping of the pack's CSV files (a declaration mapping, as `risk` commands read).
pub const MAPPING: &str = r#"# Declaration mapping of a SmartBorder training world.
[input]
delimiter = ","
date_format = "%Y-%m-%d"

[columns]
declaration_id = "Declaration ID"
date = "Date"
office = "Office"
declarant = "Declarant"
importer = "Importer"
seller = "Seller"
hs_code = "HS Code"
origin = "Origin"
departure = "Dispatch"
quantity = "Quantity"
mass_kg = "Net Mass (kg)"
value = "Customs Value (USD)"
tax_rate_percent = "Duty Rate (%)"
taxes = "Taxes (USD)"
non_compliant = "Non-compliant"
revenue = "Revenue (USD)"
"#;

const HEADER: &[&str] = &[
    "Declaration ID",
    "Date",
    "Office",
    "Declarant",
    "Importer",
    "Seller",
    "HS Code",
    "Origin",
    "Dispatch",
    "Quantity",
    "Net Mass (kg)",
    "Customs Value (USD)",
    "Duty Rate (%)",
    "Taxes (USD)",
    "Non-compliant",
    "Revenue (USD)",
];

fn io(path: &Path) -> impl Fn(std::io::Error) -> PackError + '_ {
    move |source| PackError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn number(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

/// Writes declarations; results only where `shown` says so.
fn write_csv(
    path: &Path,
    declarations: &[Declaration],
    shown: &dyn Fn(usize) -> bool,
) -> Result<(), PackError> {
    let mut w = csv::Writer::from_path(path).map_err(|e| PackError::Io {
        path: path.display().to_string(),
        source: e.into(),
    })?;
    let csv_err = |e: csv::Error| PackError::Io {
        path: path.display().to_string(),
        source: e.into(),
    };
    w.write_record(HEADER).map_err(csv_err)?;
    for (k, d) in declarations.iter().enumerate() {
        let (result, revenue) = match (shown(k), d.outcome) {
            (true, Some(o)) => (
                if o.non_compliant { "1" } else { "0" }.to_string(),
                number(o.revenue),
            ),
            _ => (String::new(), String::new()),
        };
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        w.write_record([
            d.id.clone(),
            d.date.to_string(),
            d.office.clone(),
            opt(&d.declarant),
            opt(&d.importer),
            opt(&d.seller),
            d.hs_code.clone(),
            opt(&d.origin),
            opt(&d.departure),
            number(d.quantity),
            number(d.mass_kg),
            number(d.value),
            number(d.tax_rate_percent),
            number(d.taxes),
            result,
            revenue,
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(io(path))
}

/// Builds a scenario's world and writes the trainee's pack to `out` and the key to `key_path`
/// (which must not be inside `out`).
pub fn write_pack(
    scenario: &Scenario,
    seed: u64,
    trainee: &str,
    out: &Path,
    key_path: &Path,
) -> Result<Key, PackError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let def = match scenario {
        Scenario::Risk(def) => def,
        Scenario::Trs(def) => return write_trs_pack(scenario, def, seed, trainee, out, key_path),
        Scenario::Selectivity(def) => {
            return write_selectivity_pack(scenario, def, seed, trainee, out, key_path);
        }
        Scenario::Transit(def) => {
            let key = crate::exercise::key_of(scenario, seed, trainee);
            let case = key.transit_case.as_ref().ok_or_else(|| PackError::Key {
                path: key_path.display().to_string(),
                message: "no case".into(),
            })?;
            let files = [
                (
                    "movement.toml",
                    crate::transit_world::LOG_TEMPLATE.to_string(),
                ),
                (
                    "brief.en.md",
                    crate::text::transit_brief(Lang::En, def, case),
                ),
                (
                    "brief.ru.md",
                    crate::text::transit_brief(Lang::Ru, def, case),
                ),
            ];
            for (name, text) in files {
                let path = out.join(name);
                std::fs::write(&path, text).map_err(io(&path))?;
            }
            write_key(&key, key_path)?;
            return Ok(key);
        }
    };
    let world = build(def, seed, trainee);
    write_csv(&out.join("history.csv"), &world.history, &|k| {
        world.inspected[k]
    })?;
    write_csv(&out.join("later.csv"), &world.later, &|_| false)?;
    let mapping = out.join("mapping.toml");
    std::fs::write(&mapping, MAPPING).map_err(io(&mapping))?;
    for lang in [Lang::En, Lang::Ru] {
        let path = out.join(format!("brief.{}.md", lang.code()));
        std::fs::write(&path, brief(lang, def, &world)).map_err(io(&path))?;
    }
    let key = Key {
        planted: world.planted.clone(),
        reference_profile: world.reference_profile.clone(),
        ..Key::new(scenario, seed, trainee)
    };
    write_key(&key, key_path)?;
    Ok(key)
}

fn write_key(key: &Key, key_path: &Path) -> Result<(), PackError> {
    let text = serde_json::to_string_pretty(key).map_err(|e| PackError::Key {
        path: key_path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut file = std::fs::File::create(key_path).map_err(io(key_path))?;
    file.write_all(text.as_bytes()).map_err(io(key_path))
}

/// The answers file a trainee fills in (TOML), with what each answer means.
pub const TRS_ANSWERS_TEMPLATE: &str = r#"# Answers of the Time Release Study exercise. Fill in what you find; leave out what you do not.
# Median hours from arrival to release of the red lane at the post whose control doubled, for
# consignments arriving from the first day of the doubling on (e.g. 12.34).
# red_median_hours = 0.0
# The posts, as the export names them ("Office" column).
# weekend_post = ""
# night_queue_post = ""
# doubling_post = ""
# The month from which the red lane's control doubled (YYYY-MM).
# doubling_month = ""
# Each wrong row: its declaration number and why (duplicate, swapped or wrong_zone).
# [[wrong_row]]
# id = ""
# reason = "swapped"
"#;

fn write_trs_pack(
    scenario: &Scenario,
    def: &crate::scenario::TrsScenario,
    seed: u64,
    trainee: &str,
    out: &Path,
    key_path: &Path,
) -> Result<Key, PackError> {
    let world = crate::trs_world::build(def, seed, trainee);
    let csv = out.join("trs.csv");
    smartborder_synth::write_csv(&csv, &world.rows).map_err(|e| PackError::Key {
        path: csv.display().to_string(),
        message: e.to_string(),
    })?;
    let files = [
        ("trs.mapping.toml", smartborder_synth::mapping_toml()),
        ("answers.toml", TRS_ANSWERS_TEMPLATE.to_string()),
        ("brief.en.md", crate::text::trs_brief(Lang::En, def)),
        ("brief.ru.md", crate::text::trs_brief(Lang::Ru, def)),
    ];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    let key = Key {
        trs_answers: Some(world.answers),
        ..Key::new(scenario, seed, trainee)
    };
    write_key(&key, key_path)?;
    Ok(key)
}

/// The plan a trainee fills in: every post at zero (which finds nothing).
pub fn selectivity_plan_template(def: &SelectivityScenario) -> String {
    let mut s = String::from(
        "# Your selectivity plan. For each post: `expected`, the share of its declarations put in\n\
         # the red lane (taken by the highest risk scores), and `random`, the share drawn at random\n\
         # into it. Shares are between 0 and 1 (0.05 is 5%).\n\
         seed = 1\n\
         exploration_share = 0.0\n",
    );
    for o in &def.offices {
        s.push_str(&format!(
            "\n[offices.\"{o}\"]\nexpected = {{ red = 0.0 }}\nrandom = {{ red = 0.0 }}\n"
        ));
    }
    s
}

fn write_selectivity_pack(
    scenario: &Scenario,
    def: &SelectivityScenario,
    seed: u64,
    trainee: &str,
    out: &Path,
    key_path: &Path,
) -> Result<Key, PackError> {
    let world = crate::selectivity_world::build(def, seed, trainee);
    let csv_err = |path: &Path| {
        let path = path.display().to_string();
        move |e: csv::Error| PackError::Io {
            path: path.clone(),
            source: e.into(),
        }
    };
    let history = out.join("history.csv");
    let mut w = csv::Writer::from_path(&history).map_err(csv_err(&history))?;
    w.write_record([
        "Declaration ID",
        "Date",
        "Office",
        "Risk Score",
        "Non-compliant",
        "Revenue (USD)",
    ])
    .map_err(csv_err(&history))?;
    for (r, shown) in world.history.iter().zip(&world.inspected) {
        let (result, revenue) = if *shown {
            (
                if r.non_compliant { "1" } else { "0" }.to_string(),
                format!("{}", r.revenue),
            )
        } else {
            (String::new(), String::new())
        };
        w.write_record([
            r.id.clone(),
            r.date.to_string(),
            r.office.clone(),
            format!("{}", r.score),
            result,
            revenue,
        ])
        .map_err(csv_err(&history))?;
    }
    w.flush().map_err(io(&history))?;
    let stream = out.join("stream.csv");
    let mut w = csv::Writer::from_path(&stream).map_err(csv_err(&stream))?;
    w.write_record(["Declaration ID", "Date", "Office", "Risk Score"])
        .map_err(csv_err(&stream))?;
    for r in &world.later {
        w.write_record([
            r.id.clone(),
            r.date.to_string(),
            r.office.clone(),
            format!("{}", r.score),
        ])
        .map_err(csv_err(&stream))?;
    }
    w.flush().map_err(io(&stream))?;
    let mut posts = String::from("Office,Declarations per day,Inspections per day (capacity)\n");
    for p in &world.posts {
        posts.push_str(&format!(
            "{},{},{}\n",
            p.office, p.declarations_per_day, p.capacity_per_day
        ));
    }
    let files = [
        ("posts.csv", posts),
        ("plan.toml", selectivity_plan_template(def)),
        (
            "brief.en.md",
            crate::text::selectivity_brief(Lang::En, def, &world),
        ),
        (
            "brief.ru.md",
            crate::text::selectivity_brief(Lang::Ru, def, &world),
        ),
    ];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    let key = Key {
        posts: world.posts,
        reference_plan: world.reference_plan,
        ..Key::new(scenario, seed, trainee)
    };
    write_key(&key, key_path)?;
    Ok(key)
}

/// Reads a key file.
pub fn read_key(path: &Path) -> Result<Key, PackError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let key: Key = serde_json::from_str(&text).map_err(|e| PackError::Key {
        path: path.display().to_string(),
        message: format!("not an answer key: {e}"),
    })?;
    if key.format != KEY_FORMAT || key.version != 1 {
        return Err(PackError::Key {
            path: path.display().to_string(),
            message: format!(
                "format {} version {}: expected {KEY_FORMAT} version 1",
                key.format, key.version
            ),
        });
    }
    Ok(key)
}
