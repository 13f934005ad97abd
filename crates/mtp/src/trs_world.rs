//! TRS worlds: a year of consignments through the corridor's posts (the synthetic corridor of
//! `smartborder-synth`), with planted bottlenecks and planted data-quality traps, and the
//! questions a Time Release Study working group answers about them.
//!
//! Planted bottlenecks (posts and dates chosen by the seed and the trainee):
//! - other-agency inspection at one road post stalls at weekends: consignments with an OGA
//!   control that arrive on a Saturday or Sunday wait 30 hours more for control;
//! - a night queue at another road post: arrivals from 22:00 to 05:00 wait 5 hours for
//!   registration;
//! - at a third road post the red lane's control stage grows (1.6 to 2.6 times, by variant) from
//!   the first day of a month.
//!
//! Planted traps: consignments written twice, two consecutive stamps swapped, and a zone cell
//! naming another country's zone. The key holds every answer; the numeric one is computed on
//! the world without its traps, by linear interpolation between closest ranks (the TRS rule).

use chrono::{Datelike, Duration, NaiveDate, Timelike, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use smartborder_model::{CORRIDOR_OFFICES, Lane, TransportMode};
use smartborder_synth::{FaultKind, SynthRow, TrsGenerator};

use crate::risk_world::variant_seed;
use crate::scenario::TrsScenario;

/// Why a row of the export is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trap {
    /// The consignment is written twice.
    Duplicate,
    /// Two consecutive stamps are swapped.
    Swapped,
    /// The zone cell names another country's zone.
    WrongZone,
}

/// A wrong row as the key (and a trainee's answer) names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrongRow {
    pub id: String,
    pub reason: Trap,
}

/// The answers of a TRS world: the key's, or a trainee's submission (TOML).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrsAnswers {
    /// Median hours from arrival to release of the red lane at the post whose control doubled,
    /// for consignments arriving from the first day of the doubling on.
    pub red_median_hours: Option<f64>,
    /// The post where other-agency inspection stalls at weekends (its name in the export).
    pub weekend_post: Option<String>,
    /// The post with a night queue.
    pub night_queue_post: Option<String>,
    /// The post where the red lane's control stage doubled, and from which month (YYYY-MM).
    pub doubling_post: Option<String>,
    pub doubling_month: Option<String>,
    /// The wrong rows and why.
    #[serde(default, rename = "wrong_row")]
    pub wrong_rows: Vec<WrongRow>,
}

/// A generated TRS world: the consignments as written, and the answers.
pub struct TrsWorld {
    pub rows: Vec<SynthRow>,
    pub answers: TrsAnswers,
}

/// Median by linear interpolation between closest ranks.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let h = (values.len() - 1) as f64 * 0.5;
    let k = h.floor() as usize;
    let next = values.get(k + 1).copied().unwrap_or(values[k]);
    Some(values[k] + (h - k as f64) * (next - values[k]))
}

fn shift(row: &mut SynthRow, from: usize, by: Duration) {
    for s in row.stamps[from..].iter_mut() {
        *s = s.map(|t| t + by);
    }
}

/// Builds the world of a definition for a seed and a trainee (`""`: the common world).
pub fn build(def: &TrsScenario, seed: u64, trainee: &str) -> TrsWorld {
    let seed = variant_seed(seed, trainee);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5452_5357);
    let mut rows: Vec<SynthRow> = TrsGenerator::new(seed, 0.0)
        .take(def.consignments as usize)
        .collect();
    let road: Vec<&'static str> = CORRIDOR_OFFICES
        .iter()
        .filter(|o| o.mode == TransportMode::Road)
        .map(|o| o.name)
        .collect();
    let mut posts: Vec<&str> = Vec::new();
    while posts.len() < 3 && posts.len() < road.len() {
        let p = road[rng.random_range(0..road.len())];
        if !posts.contains(&p) {
            posts.push(p);
        }
    }
    let (weekend, night, doubling) = (posts[0], posts[1 % posts.len()], posts[2 % posts.len()]);
    let month = rng.random_range(4..=9);
    let growth: f64 = rng.random_range(1.6..2.6);
    let from = NaiveDate::from_ymd_opt(2025, month, 1).unwrap_or(NaiveDate::MIN);
    for r in rows.iter_mut() {
        let Some(arrival) = r.stamps[0] else { continue };
        if r.office.name == weekend
            && r.oga
            && matches!(arrival.weekday(), Weekday::Sat | Weekday::Sun)
        {
            shift(r, 3, Duration::hours(30));
        }
        if r.office.name == night && (arrival.hour() >= 22 || arrival.hour() < 5) {
            shift(r, 1, Duration::hours(5));
        }
        if r.office.name == doubling
            && r.lane == Lane::Red
            && arrival.date() >= from
            && let (Some(a), Some(b)) = (r.stamps[2], r.stamps[3])
        {
            let extra = (b - a).num_seconds() as f64 * (growth - 1.0);
            shift(r, 3, Duration::seconds(extra as i64));
        }
    }
    // The numeric answer, on the world without its traps.
    let mut red: Vec<f64> = rows
        .iter()
        .filter(|r| r.office.name == doubling && r.lane == Lane::Red)
        .filter_map(|r| match (r.stamps[0], r.stamps[4]) {
            (Some(a), Some(released)) if a.date() >= from => {
                Some((released - a).num_seconds() as f64 / 3600.0)
            }
            _ => None,
        })
        .collect();
    let red_median = median(&mut red).map(|m| (m * 100.0).round() / 100.0);
    // The traps, on distinct rows.
    let mut wrong: Vec<WrongRow> = Vec::new();
    let mut taken = std::collections::HashSet::new();
    for trap in [Trap::Duplicate, Trap::Swapped, Trap::WrongZone] {
        let mut planted = 0;
        while planted < def.traps_per_kind && taken.len() < rows.len() {
            let k = rng.random_range(0..rows.len());
            if !taken.insert(k) {
                continue;
            }
            let r = &mut rows[k];
            match trap {
                Trap::Duplicate => r.fault = Some(FaultKind::Duplicate),
                Trap::Swapped => {
                    let i = rng.random_range(1..6);
                    r.stamps.swap(i - 1, i);
                    if r.stamps[i - 1] == r.stamps[i] {
                        r.stamps[i - 1] = r.stamps[i - 1].map(|t| t + Duration::minutes(5));
                    }
                    r.fault = Some(FaultKind::OutOfOrder);
                }
                Trap::WrongZone => {
                    let own = r.office.zone;
                    let others: Vec<_> = CORRIDOR_OFFICES
                        .iter()
                        .filter(|o| o.zone != own && o.country != r.office.country)
                        .collect();
                    r.zone = others[rng.random_range(0..others.len())]
                        .zone
                        .name()
                        .to_string();
                }
            }
            wrong.push(WrongRow {
                id: r.id.clone(),
                reason: trap,
            });
            planted += 1;
        }
    }
    wrong.sort();
    TrsWorld {
        rows,
        answers: TrsAnswers {
            red_median_hours: red_median,
            weekend_post: Some(weekend.to_string()),
            night_queue_post: Some(night.to_string()),
            doubling_post: Some(doubling.to_string()),
            doubling_month: Some(format!("2025-{month:02}")),
            wrong_rows: wrong,
        },
    }
}

/// The grade of a TRS world's answers, question by question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrsGrade {
    pub score: f64,
    pub max_score: f64,
    pub pass_mark: f64,
    pub passed: bool,
    pub questions: Vec<QuestionGrade>,
}

/// One question: its points and what the right answer was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionGrade {
    pub question: &'static str,
    pub points: f64,
    pub max_points: f64,
    pub given: String,
    pub expected: String,
}

/// Points of each question (they sum to 100).
const POINTS: [(&str, f64); 6] = [
    ("red_median_hours", 20.0),
    ("weekend_post", 15.0),
    ("night_queue_post", 15.0),
    ("doubling_post", 10.0),
    ("doubling_month", 10.0),
    ("wrong_rows", 30.0),
];

/// Relative tolerance of the numeric answer for full points (half points within twice it).
pub const TOLERANCE: f64 = 0.03;

/// Grades answers against the key's: numeric with a tolerance, choices exactly (case and
/// spaces aside), wrong rows by F1 over (row, reason) pairs.
pub fn grade(def: &TrsScenario, key: &TrsAnswers, given: &TrsAnswers) -> TrsGrade {
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let same = |a: &Option<String>, b: &Option<String>| {
        let norm = |s: &Option<String>| s.as_deref().map(|t| t.trim().to_lowercase());
        norm(a).is_some() && norm(a) == norm(b)
    };
    let mut questions = Vec::new();
    for (question, max) in POINTS {
        let (points, given_text, expected) = match question {
            "red_median_hours" => {
                let points = match (given.red_median_hours, key.red_median_hours) {
                    (Some(g), Some(k)) if (g - k).abs() <= TOLERANCE * k.abs() => max,
                    (Some(g), Some(k)) if (g - k).abs() <= 2.0 * TOLERANCE * k.abs() => max / 2.0,
                    _ => 0.0,
                };
                let show = |x: Option<f64>| x.map(|v| format!("{v:.2}")).unwrap_or_default();
                (
                    points,
                    show(given.red_median_hours),
                    show(key.red_median_hours),
                )
            }
            "weekend_post" | "night_queue_post" | "doubling_post" | "doubling_month" => {
                let (g, k) = match question {
                    "weekend_post" => (&given.weekend_post, &key.weekend_post),
                    "night_queue_post" => (&given.night_queue_post, &key.night_queue_post),
                    "doubling_post" => (&given.doubling_post, &key.doubling_post),
                    _ => (&given.doubling_month, &key.doubling_month),
                };
                (if same(g, k) { max } else { 0.0 }, text(g), text(k))
            }
            _ => {
                let truth: std::collections::HashSet<&WrongRow> = key.wrong_rows.iter().collect();
                let answered: std::collections::HashSet<&WrongRow> =
                    given.wrong_rows.iter().collect();
                let right = answered.intersection(&truth).count() as f64;
                let f1 = if answered.is_empty() || truth.is_empty() {
                    0.0
                } else {
                    let precision = right / answered.len() as f64;
                    let recall = right / truth.len() as f64;
                    if precision + recall == 0.0 {
                        0.0
                    } else {
                        2.0 * precision * recall / (precision + recall)
                    }
                };
                (
                    (max * f1 * 10.0).round() / 10.0,
                    format!("{} rows, {} right", answered.len(), right),
                    format!("{} rows", truth.len()),
                )
            }
        };
        questions.push(QuestionGrade {
            question,
            points,
            max_points: max,
            given: given_text,
            expected,
        });
    }
    let score = (questions.iter().map(|q| q.points).sum::<f64>() * 10.0).round() / 10.0;
    TrsGrade {
        score,
        max_score: 100.0,
        pass_mark: def.pass_mark,
        passed: score >= def.pass_mark,
        questions,
    }
}
