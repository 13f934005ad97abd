//! An exercise as a course runs it, whatever its kind: the key of a trainee's variant, the pack
//! they download (what `mtp scenario build` writes, as one zip), and a submission graded into an
//! [`Outcome`]: the score, the pass, the items that item analysis counts (the planted patterns
//! of a risk world, the questions of a TRS world) and the feedback in both languages. The
//! console and the CLI both grade through [`grade`], so an exercise is graded the same way on a
//! workshop laptop and on the server.

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::pack::{Key, PackError, write_pack};
use crate::scenario::Scenario;
use crate::text::{Lang, feedback, trs_feedback};
use crate::trs_world::{self, TrsAnswers};

/// One graded item of a submission: a planted pattern, or a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The same in every variant (the pattern's kind, the question's name), so that a cohort's
    /// items can be counted together.
    pub id: String,
    pub label_en: String,
    pub label_ru: String,
    /// Whether the trainee got it right (a pattern caught, a decoy left alone, a question
    /// answered for full points).
    pub met: bool,
}

/// A graded submission, as a course keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub score: f64,
    pub max_score: f64,
    pub pass_mark: f64,
    pub passed: bool,
    pub items: Vec<Item>,
    pub feedback_en: String,
    pub feedback_ru: String,
}

impl Outcome {
    pub fn feedback(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.feedback_en,
            Lang::Ru => &self.feedback_ru,
        }
    }
}

/// A submission that could not be graded, located in the submitted file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct Refusal {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The key of a trainee's variant of a scenario: the world is built to learn what was planted.
pub fn key_of(scenario: &Scenario, seed: u64, trainee: &str) -> Key {
    let mut key = Key::new(scenario, seed, trainee);
    match scenario {
        Scenario::Risk(def) => {
            let world = crate::risk_world::build(def, seed, trainee);
            key.planted = world.planted;
            key.reference_profile = world.reference_profile;
        }
        Scenario::Trs(def) => {
            key.trs_answers = Some(trs_world::build(def, seed, trainee).answers);
        }
        Scenario::Selectivity(def) => {
            let world = crate::selectivity_world::build(def, seed, trainee);
            key.posts = world.posts;
            key.reference_plan = world.reference_plan;
        }
        Scenario::Transit(def) => {
            key.transit_case = Some(crate::transit_world::build(def, seed, trainee));
        }
    }
    key
}

/// The name of the file a trainee submits for a scenario's kind, and what it is.
pub fn submission_file(scenario: &Scenario) -> &'static str {
    match scenario {
        Scenario::Risk(_) => "profiles.risk",
        Scenario::Trs(_) => "answers.toml",
        Scenario::Selectivity(_) => "plan.toml",
        Scenario::Transit(_) => "movement.toml",
    }
}

/// The brief of a key's variant, in a language (the world is built for its figures).
pub fn brief(key: &Key, lang: Lang) -> String {
    match &key.scenario {
        Scenario::Risk(def) => {
            let world = crate::risk_world::build(def, key.seed, &key.trainee);
            crate::text::brief(lang, def, &world)
        }
        Scenario::Trs(def) => crate::text::trs_brief(lang, def),
        Scenario::Selectivity(def) => {
            let world = crate::selectivity_world::build(def, key.seed, &key.trainee);
            crate::text::selectivity_brief(lang, def, &world)
        }
        Scenario::Transit(def) => key
            .transit_case
            .as_ref()
            .map(|case| crate::text::transit_brief(lang, def, case))
            .unwrap_or_default(),
    }
}

/// What a trainee's submission starts from: the template of the pack, or nothing (a risk
/// profile file is written from scratch).
pub fn submission_template(scenario: &Scenario) -> String {
    match scenario {
        Scenario::Risk(_) => String::new(),
        Scenario::Trs(_) => crate::pack::TRS_ANSWERS_TEMPLATE.to_string(),
        Scenario::Selectivity(def) => crate::pack::selectivity_plan_template(def),
        Scenario::Transit(_) => crate::transit_world::LOG_TEMPLATE.to_string(),
    }
}

/// The reference submission of a key's variant: what scores full marks (the trainer's model
/// answer; demos and tests submit it).
pub fn reference_submission(key: &Key) -> String {
    match &key.scenario {
        Scenario::Risk(_) => key.reference_profile.clone(),
        Scenario::Trs(_) => key
            .trs_answers
            .as_ref()
            .and_then(|a| toml::to_string(a).ok())
            .unwrap_or_default(),
        Scenario::Selectivity(_) => key.reference_plan.clone(),
        Scenario::Transit(_) => key
            .transit_case
            .as_ref()
            .and_then(|c| toml::to_string(&c.log).ok())
            .unwrap_or_default(),
    }
}

/// The trainee's pack of a key's variant as a zip (deflated), the key left out.
pub fn pack_zip(key: &Key) -> Result<Vec<u8>, PackError> {
    let dir = tempfile::tempdir().map_err(|source| PackError::Io {
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let pack = dir.path().join("pack");
    write_pack(
        &key.scenario,
        key.seed,
        &key.trainee,
        &pack,
        &dir.path().join("key.json"),
    )?;
    let zip_err = |e: zip::result::ZipError| PackError::Key {
        path: "pack.zip".into(),
        message: e.to_string(),
    };
    let mut names: Vec<String> = std::fs::read_dir(&pack)
        .map_err(|source| PackError::Io {
            path: pack.display().to_string(),
            source,
        })?
        .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
        .collect();
    names.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for name in names {
        let path = pack.join(&name);
        let bytes = std::fs::read(&path).map_err(|source| PackError::Io {
            path: path.display().to_string(),
            source,
        })?;
        zip.start_file(name, options).map_err(zip_err)?;
        zip.write_all(&bytes).map_err(|source| PackError::Io {
            path: "pack.zip".into(),
            source,
        })?;
    }
    Ok(zip.finish().map_err(zip_err)?.into_inner())
}

/// Line and column (from 1) of a byte offset.
fn locate(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Grades a submission against a key. `file` names the submission in refusals.
pub fn grade(key: &Key, submission: &str, file: &str) -> Result<Outcome, Refusal> {
    match &key.scenario {
        Scenario::Selectivity(def) => grade_selectivity(def, key, submission, file),
        Scenario::Transit(def) => grade_transit(def, key, submission, file),
        Scenario::Risk(def) => {
            let world = crate::risk_world::build(def, key.seed, &key.trainee);
            let g = crate::grade::grade(def, &world, submission, file).map_err(|e| Refusal {
                file: e.0.file.clone(),
                line: e.0.line,
                column: e.0.column,
                message: e.0.message.clone(),
            })?;
            let items = g
                .patterns
                .iter()
                .zip(&world.planted)
                .map(|(p, planted)| Item {
                    id: planted.kind.name().to_string(),
                    label_en: crate::text::pattern_label(planted.kind, Lang::En).to_string(),
                    label_ru: crate::text::pattern_label(planted.kind, Lang::Ru).to_string(),
                    met: if p.non_compliant {
                        p.inspected > 0
                    } else {
                        p.inspected == 0
                    },
                })
                .collect();
            Ok(Outcome {
                score: g.score,
                max_score: g.max_score,
                pass_mark: g.pass_mark,
                passed: g.passed,
                items,
                feedback_en: feedback(Lang::En, &g),
                feedback_ru: feedback(Lang::Ru, &g),
            })
        }
        Scenario::Trs(def) => {
            let given: TrsAnswers =
                toml::from_str(submission).map_err(|e| toml_refusal(submission, file, &e))?;
            let answers = key.trs_answers.as_ref().ok_or_else(|| Refusal {
                file: "key".into(),
                line: 0,
                column: 0,
                message: "the key of a TRS world has no answers".into(),
            })?;
            let g = trs_world::grade(def, answers, &given);
            let items = g
                .questions
                .iter()
                .map(|q| Item {
                    id: q.question.to_string(),
                    label_en: crate::text::question_label(q.question, Lang::En).to_string(),
                    label_ru: crate::text::question_label(q.question, Lang::Ru).to_string(),
                    met: q.points >= q.max_points,
                })
                .collect();
            Ok(Outcome {
                score: g.score,
                max_score: g.max_score,
                pass_mark: g.pass_mark,
                passed: g.passed,
                items,
                feedback_en: trs_feedback(Lang::En, &g),
                feedback_ru: trs_feedback(Lang::Ru, &g),
            })
        }
    }
}

/// A refusal located in a TOML submission from a `toml` error.
fn toml_refusal(submission: &str, file: &str, e: &toml::de::Error) -> Refusal {
    let (line, column) = locate(submission, e.span().map_or(0, |s| s.start));
    Refusal {
        file: file.to_string(),
        line,
        column,
        message: e.message().to_string(),
    }
}

fn grade_selectivity(
    def: &crate::scenario::SelectivityScenario,
    key: &Key,
    submission: &str,
    file: &str,
) -> Result<Outcome, Refusal> {
    // Read as a plan first, for the place of an error; the plan's own range checks follow.
    if let Err(e) = toml::from_str::<smartborder_risk::selectivity::SelectivityPlan>(submission) {
        return Err(toml_refusal(submission, file, &e));
    }
    let world = crate::selectivity_world::build(def, key.seed, &key.trainee);
    let g =
        crate::selectivity_world::grade(def, &world, submission).map_err(|message| Refusal {
            file: file.to_string(),
            line: 0,
            column: 0,
            message,
        })?;
    let mut items = Vec::new();
    for p in &g.trainee.posts {
        items.push(Item {
            id: format!("capacity:{}", p.office),
            label_en: format!("{}: capacity used, none overloaded", p.office),
            label_ru: format!("{}: возможности использованы без перегрузки", p.office),
            met: p.fits_capacity(),
        });
        items.push(Item {
            id: format!("random:{}", p.office),
            label_en: format!("{}: random share kept", p.office),
            label_ru: format!("{}: случайная доля соблюдена", p.office),
            met: p.random_percent + 1e-9 >= g.minimum_random_percent,
        });
    }
    Ok(Outcome {
        score: g.score,
        max_score: g.max_score,
        pass_mark: g.pass_mark,
        passed: g.passed,
        items,
        feedback_en: crate::text::selectivity_feedback(Lang::En, &g),
        feedback_ru: crate::text::selectivity_feedback(Lang::Ru, &g),
    })
}

fn grade_transit(
    def: &crate::scenario::TransitScenario,
    key: &Key,
    submission: &str,
    file: &str,
) -> Result<Outcome, Refusal> {
    let log: crate::transit_world::MovementLog =
        toml::from_str(submission).map_err(|e| toml_refusal(submission, file, &e))?;
    let case = key.transit_case.as_ref().ok_or_else(|| Refusal {
        file: "key".into(),
        line: 0,
        column: 0,
        message: "the key of a transit exercise has no case".into(),
    })?;
    let g = crate::transit_world::grade(def, case, &log);
    let items = g
        .parts
        .iter()
        .map(|(part, points, max)| Item {
            id: part.clone(),
            label_en: crate::text::transit_part_label(part, Lang::En).to_string(),
            label_ru: crate::text::transit_part_label(part, Lang::Ru).to_string(),
            met: points >= max,
        })
        .collect();
    Ok(Outcome {
        score: g.score,
        max_score: g.max_score,
        pass_mark: g.pass_mark,
        passed: g.passed,
        items,
        feedback_en: crate::text::transit_feedback(Lang::En, &g),
        feedback_ru: crate::text::transit_feedback(Lang::Ru, &g),
    })
}

/// How a cohort fared on one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStat {
    pub id: String,
    pub label_en: String,
    pub label_ru: String,
    /// Outcomes that graded the item.
    pub graded: usize,
    /// Of them, not met.
    pub failed: usize,
}

impl ItemStat {
    pub fn fail_rate(&self) -> f64 {
        if self.graded == 0 {
            0.0
        } else {
            self.failed as f64 / self.graded as f64
        }
    }
}

/// Item analysis: for each item (by id), how many outcomes graded it and how many failed it,
/// the items failed most first (ties by id).
pub fn item_analysis<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Vec<ItemStat> {
    let mut stats: Vec<ItemStat> = Vec::new();
    for o in outcomes {
        for item in &o.items {
            let at = match stats.iter().position(|s| s.id == item.id) {
                Some(at) => at,
                None => {
                    stats.push(ItemStat {
                        id: item.id.clone(),
                        label_en: item.label_en.clone(),
                        label_ru: item.label_ru.clone(),
                        graded: 0,
                        failed: 0,
                    });
                    stats.len() - 1
                }
            };
            stats[at].graded += 1;
            stats[at].failed += usize::from(!item.met);
        }
    }
    stats.sort_by(|a, b| {
        b.fail_rate()
            .total_cmp(&a.fail_rate())
            .then_with(|| a.id.cmp(&b.id))
    });
    stats
}
