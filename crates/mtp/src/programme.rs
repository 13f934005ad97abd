//! The programme's key figures: the cascade. Master trainers train trainers, trainers train
//! officers at home; every completion (a certificate issued at the end of a course) counts for
//! the month it was issued, for the participant's administration, and for the master trainer at
//! the head of the chain of trainers that led to it.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::certificate::Level;

/// Years an accreditation lasts.
pub const ACCREDITATION_YEARS: i32 = 3;

/// When an accreditation given on `issued` expires.
pub fn expiry(issued: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    issued
        .with_year(issued.year() + ACCREDITATION_YEARS)
        // 29 February: the day before 1 March of that year.
        .or_else(|| {
            chrono::NaiveDate::from_ymd_opt(issued.year() + ACCREDITATION_YEARS, 3, 1)
                .and_then(|d| d.pred_opt())
        })
        .unwrap_or(issued)
}

/// The score of a course's certificate: the mean of the participant's best score in each
/// exercise, `(score, passed)`, when every exercise has a passed attempt; `None` otherwise.
pub fn course_score(best: &[Option<(f64, bool)>]) -> Option<f64> {
    if best.is_empty() {
        return None;
    }
    let mut sum = 0.0;
    for b in best {
        match b {
            Some((score, true)) => sum += score,
            _ => return None,
        }
    }
    Some((sum / best.len() as f64 * 10.0).round() / 10.0)
}

/// A person of the programme, as far as the cascade needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub login: String,
    pub level: Level,
    /// The trainer whose course accredited them.
    pub trained_by: Option<String>,
}

/// A completed course: a certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub person: String,
    pub country: String,
    /// YYYY-MM-DD.
    pub date: String,
    /// The trainer who delivered the course.
    pub trainer: String,
}

/// Officers trained in one month by one group (a country, or a master trainer's cascade).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CascadeRow {
    pub group: String,
    /// YYYY-MM.
    pub month: String,
    pub trained: usize,
    /// Trained in this month and before.
    pub cumulative: usize,
}

/// The cascade, by country and by master trainer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cascade {
    pub by_country: Vec<CascadeRow>,
    pub by_master_trainer: Vec<CascadeRow>,
}

/// The label of completions whose chain reaches no master trainer.
pub const NO_MASTER_TRAINER: &str = "-";

/// The master trainer at the head of a trainer's chain: the trainer, if a master trainer, else
/// the master trainer of whoever trained them (a chain that loops or ends first has none).
pub fn master_trainer_of<'a>(
    trainer: &'a str,
    members: &'a HashMap<&str, &Member>,
) -> Option<&'a str> {
    let mut at = trainer;
    for _ in 0..=members.len() {
        let m = members.get(at)?;
        if m.level == Level::MasterTrainer {
            return Some(at);
        }
        at = m.trained_by.as_deref()?;
    }
    None
}

fn rows(counts: BTreeMap<(String, String), usize>) -> Vec<CascadeRow> {
    let mut out = Vec::with_capacity(counts.len());
    let mut running: HashMap<String, usize> = HashMap::new();
    for ((group, month), trained) in counts {
        let c = running.entry(group.clone()).or_default();
        *c += trained;
        out.push(CascadeRow {
            group,
            month,
            trained,
            cumulative: *c,
        });
    }
    out
}

/// Completions per country and month, and per master trainer and month, with running totals.
pub fn cascade(completions: &[Completion], members: &[Member]) -> Cascade {
    let by_login: HashMap<&str, &Member> = members.iter().map(|m| (m.login.as_str(), m)).collect();
    let mut by_country = BTreeMap::new();
    let mut by_master = BTreeMap::new();
    for c in completions {
        let month = c.date.get(..7).unwrap_or(&c.date).to_string();
        *by_country
            .entry((c.country.clone(), month.clone()))
            .or_default() += 1;
        let master = master_trainer_of(&c.trainer, &by_login).unwrap_or(NO_MASTER_TRAINER);
        *by_master.entry((master.to_string(), month)).or_default() += 1;
    }
    Cascade {
        by_country: rows(by_country),
        by_master_trainer: rows(by_master),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(login: &str, level: Level, by: Option<&str>) -> Member {
        Member {
            login: login.into(),
            level,
            trained_by: by.map(str::to_string),
        }
    }

    fn done(person: &str, country: &str, date: &str, trainer: &str) -> Completion {
        Completion {
            person: person.into(),
            country: country.into(),
            date: date.into(),
            trainer: trainer.into(),
        }
    }

    #[test]
    fn accreditations_last_three_years_and_courses_need_every_exercise_passed() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(expiry(d("2026-12-01")), d("2029-12-01"));
        assert_eq!(expiry(d("2028-02-29")), d("2031-02-28"));
        assert_eq!(
            course_score(&[Some((100.0, true)), Some((71.25, true))]),
            Some(85.6)
        );
        assert_eq!(
            course_score(&[Some((100.0, true)), Some((50.0, false))]),
            None
        );
        assert_eq!(course_score(&[Some((100.0, true)), None]), None);
        assert_eq!(course_score(&[]), None);
    }

    #[test]
    fn completions_count_for_the_master_trainer_at_the_head_of_the_chain() {
        let members = [
            member("mt", Level::MasterTrainer, None),
            member("t1", Level::Trainer, Some("mt")),
            member("t2", Level::Trainer, Some("t1")),
            member("loop_a", Level::Trainer, Some("loop_b")),
            member("loop_b", Level::Trainer, Some("loop_a")),
        ];
        let completions = [
            done("t1", "KZ", "2026-01-20", "mt"),
            done("a", "KZ", "2026-02-03", "t1"),
            done("b", "KG", "2026-02-10", "t2"),
            done("c", "KG", "2026-03-01", "t2"),
            done("d", "UZ", "2026-03-05", "loop_a"),
        ];
        let c = cascade(&completions, &members);
        let row = |rows: &[CascadeRow], g: &str, m: &str| {
            rows.iter()
                .find(|r| r.group == g && r.month == m)
                .map(|r| (r.trained, r.cumulative))
        };
        assert_eq!(row(&c.by_master_trainer, "mt", "2026-01"), Some((1, 1)));
        assert_eq!(row(&c.by_master_trainer, "mt", "2026-02"), Some((2, 3)));
        assert_eq!(row(&c.by_master_trainer, "mt", "2026-03"), Some((1, 4)));
        assert_eq!(
            row(&c.by_master_trainer, NO_MASTER_TRAINER, "2026-03"),
            Some((1, 1))
        );
        assert_eq!(row(&c.by_country, "KG", "2026-03"), Some((1, 2)));
        assert_eq!(row(&c.by_country, "KZ", "2026-02"), Some((1, 2)));
        let total: usize = c.by_country.iter().map(|r| r.trained).sum();
        assert_eq!(total, completions.len());
    }
}
