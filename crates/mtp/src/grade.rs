//! Grading a risk profiling exercise: the trainee's profile file is run on the world's later
//! months, whose results only the key knows, within the inspection budget.
//!
//! The selection: every later declaration a profile hits is a candidate; the inspection budget
//! (`budget_percent` of the later declarations) is spent on candidates in date order, as an
//! office inspects what arrives until its capacity is used. What the selection finds is the
//! non-compliant declarations among those inspected. The score is
//!
//! `100 × min(1, found(trainee) / found(reference))`
//!
//! where the reference is the key's own profile file: the reference scores 100, an empty file
//! 0, and a profile that hits at random finds about the base rate of non-compliance within the
//! same budget. The feedback adds the risk engine's measures of the file on the later months
//! (detection rate, hit rate and inspection rate of each profile and overall), what each
//! planted pattern lost or yielded, and the false-positive load.

use serde::Serialize;
use smartborder_model::Declaration;
use smartborder_risk::evaluation::{RulePerformance, rule_performance};
use smartborder_risk::rules::{RuleError, RuleSet, parse_rules};

use crate::risk_world::World;
use crate::scenario::RiskScenario;

/// What the budget-limited selection found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    /// Later declarations a profile hit.
    pub hits: usize,
    /// Of them, inspected within the budget.
    pub inspected: usize,
    pub found: usize,
    pub revenue_found: f64,
    /// Inspected and compliant.
    pub false_positives: usize,
}

/// How one planted pattern fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternResult {
    pub name: String,
    pub name_ru: String,
    pub non_compliant: bool,
    /// Later declarations of the pattern.
    pub declarations: usize,
    /// Of them, hit by the trainee's profiles.
    pub hit: usize,
    /// Of them, inspected within the budget.
    pub inspected: usize,
}

/// The grade of a submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grade {
    pub score: f64,
    pub max_score: f64,
    pub pass_mark: f64,
    pub passed: bool,
    pub budget: usize,
    pub later_declarations: usize,
    pub trainee: Selection,
    pub reference: Selection,
    pub patterns: Vec<PatternResult>,
    /// The risk engine's measures of the trainee's file on the later months.
    pub performance: RulePerformance,
}

/// Why a submission was not graded: the parser's located error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SubmissionError(pub RuleError);

/// The fields and attributes a profile may use in a risk world (the world's declarations have
/// no further attributes).
fn parse(text: &str, file: &str) -> Result<RuleSet, RuleError> {
    parse_rules(text, file, None, &[])
}

fn select(
    rules: &RuleSet,
    later: &[Declaration],
    budget: usize,
) -> (Selection, Vec<bool>, Vec<bool>) {
    let mut selection = Selection {
        hits: 0,
        inspected: 0,
        found: 0,
        revenue_found: 0.0,
        false_positives: 0,
    };
    let mut hit = vec![false; later.len()];
    let mut inspected = vec![false; later.len()];
    for (k, d) in later.iter().enumerate() {
        if rules.hits(d).next().is_none() {
            continue;
        }
        hit[k] = true;
        selection.hits += 1;
        if selection.inspected < budget {
            inspected[k] = true;
            selection.inspected += 1;
            match d.outcome {
                Some(o) if o.non_compliant => {
                    selection.found += 1;
                    selection.revenue_found += o.revenue.unwrap_or(0.0);
                }
                _ => selection.false_positives += 1,
            }
        }
    }
    (selection, hit, inspected)
}

/// Grades a profile file on a world. `file` names the submission in errors.
pub fn grade(
    def: &RiskScenario,
    world: &World,
    submission: &str,
    file: &str,
) -> Result<Grade, SubmissionError> {
    let rules = parse(submission, file).map_err(SubmissionError)?;
    let reference = parse(&world.reference_profile, "reference").map_err(SubmissionError)?;
    // Later declarations ordered by date (they are generated in date order).
    let later = &world.later;
    let budget = ((later.len() as f64) * def.budget_percent / 100.0).round() as usize;
    let (mine, hit, inspected) = select(&rules, later, budget);
    let (best, _, _) = select(&reference, later, budget);
    let score = if best.found == 0 {
        0.0
    } else {
        (100.0 * mine.found as f64 / best.found as f64).min(100.0)
    };
    let score = (score * 10.0).round() / 10.0;
    let patterns = world
        .planted
        .iter()
        .enumerate()
        .map(|(p, planted)| {
            let members: Vec<usize> = world
                .later_pattern
                .iter()
                .enumerate()
                .filter(|(_, x)| **x == Some(p))
                .map(|(k, _)| k)
                .collect();
            PatternResult {
                name: planted.name.clone(),
                name_ru: planted.name_ru.clone(),
                non_compliant: planted.non_compliant,
                declarations: members.len(),
                hit: members.iter().filter(|&&k| hit[k]).count(),
                inspected: members.iter().filter(|&&k| inspected[k]).count(),
            }
        })
        .collect();
    Ok(Grade {
        score,
        max_score: 100.0,
        pass_mark: def.pass_mark,
        passed: score >= def.pass_mark,
        budget,
        later_declarations: later.len(),
        trainee: mine,
        reference: best,
        patterns,
        performance: rule_performance(&rules, later),
    })
}
