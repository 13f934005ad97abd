//! TRS worlds: the planted bottlenecks are where the key says (measured independently on the
//! written export), the traps are the rows the key lists, the key's answers score 100 and
//! empty answers 0, grading is deterministic, and variants differ.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};
use smartborder_mtp::pack::{read_key, write_pack};
use smartborder_mtp::scenario::{Scenario, TrsScenario};
use smartborder_mtp::text::{Lang, trs_brief, trs_feedback};
use smartborder_mtp::trs_world::{Trap, TrsAnswers, build, grade};

const DEFINITION: &str = include_str!("../../../scenarios/trs-corridor-2025.toml");

fn scenario() -> TrsScenario {
    let Scenario::Trs(t) = Scenario::from_toml(DEFINITION, "trs.toml").unwrap() else {
        panic!("a TRS scenario")
    };
    TrsScenario {
        consignments: 30_000,
        ..t
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * 0.5;
    let k = h.floor() as usize;
    v[k] + (h - k as f64) * (v.get(k + 1).copied().unwrap_or(v[k]) - v[k])
}

/// Reads the written export back: (id, office, lane, oga, zone, stamps).
type Row = (
    String,
    String,
    String,
    bool,
    String,
    Vec<Option<NaiveDateTime>>,
);

fn read_export(path: &std::path::Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id, office, lane, oga, zone) = (
        col("Declaration No"),
        col("Office"),
        col("Lane"),
        col("OGA"),
        col("Zone"),
    );
    let stamps: Vec<usize> = [
        "Arrival",
        "Registered",
        "Channel assigned",
        "Control completed",
        "Released",
        "Exit",
    ]
    .iter()
    .map(|n| col(n))
    .collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let parse = |k: usize| NaiveDateTime::parse_from_str(&rec[k], "%Y-%m-%d %H:%M").ok();
            (
                rec[id].to_string(),
                rec[office].to_string(),
                rec[lane].to_string(),
                &rec[oga] == "yes",
                rec[zone].to_string(),
                stamps.iter().map(|&k| parse(k)).collect(),
            )
        })
        .collect()
}

#[test]
fn the_key_says_where_the_bottlenecks_and_traps_are() {
    let def = scenario();
    let dir = tempfile::tempdir().unwrap();
    let (out, key_path) = (dir.path().join("pack"), dir.path().join("pack.key.json"));
    let key = write_pack(&Scenario::Trs(def.clone()), 7, "", &out, &key_path).unwrap();
    let answers = key.trs_answers.clone().unwrap();
    assert_eq!(read_key(&key_path).unwrap(), key);
    let rows = read_export(&out.join("trs.csv"));
    let hours = |a: Option<NaiveDateTime>, b: Option<NaiveDateTime>| match (a, b) {
        (Some(a), Some(b)) if b >= a => Some((b - a).num_seconds() as f64 / 3600.0),
        _ => None,
    };
    // Weekend: at the planted post, OGA consignments arriving at weekends wait far longer for
    // control than on weekdays; at no other road post is the ratio as large.
    let mut ratio_by_post: HashMap<String, (Vec<f64>, Vec<f64>)> = HashMap::new();
    for (_, office, _, oga, _, s) in &rows {
        if !oga {
            continue;
        }
        let Some(control) = hours(s[2], s[3]) else {
            continue;
        };
        let weekend = matches!(s[0].unwrap().weekday(), Weekday::Sat | Weekday::Sun);
        let e = ratio_by_post.entry(office.clone()).or_default();
        if weekend {
            e.0.push(control)
        } else {
            e.1.push(control)
        }
    }
    let ratio = |p: &str| {
        let (we, wd) = &ratio_by_post[p];
        median(we.clone()) / median(wd.clone())
    };
    let weekend_post = answers.weekend_post.clone().unwrap();
    assert!(
        ratio(&weekend_post) > 3.0,
        "{weekend_post}: {}",
        ratio(&weekend_post)
    );
    for p in ratio_by_post.keys().filter(|p| **p != weekend_post) {
        if ratio_by_post[p].0.len() > 30 {
            assert!(ratio(p) < ratio(&weekend_post), "{p}: {}", ratio(p));
        }
    }
    // Night queue: registration waits at night at the planted post.
    let night_post = answers.night_queue_post.clone().unwrap();
    let (mut night, mut day) = (Vec::new(), Vec::new());
    for (_, _, _, _, _, s) in rows.iter().filter(|r| r.1 == night_post) {
        let Some(reg) = hours(s[0], s[1]) else {
            continue;
        };
        let h = s[0].unwrap().hour();
        if !(5..22).contains(&h) {
            night.push(reg)
        } else {
            day.push(reg)
        }
    }
    assert!(median(night) > median(day) + 4.0);
    // The red median from the doubling on, recomputed from the export without the trap rows.
    let wrong: HashMap<&str, Trap> = answers
        .wrong_rows
        .iter()
        .map(|w| (w.id.as_str(), w.reason))
        .collect();
    let from = format!("{}-01", answers.doubling_month.clone().unwrap());
    let red: Vec<f64> = rows
        .iter()
        .filter(|r| {
            Some(&r.1) == answers.doubling_post.as_ref()
                && r.2 == "red"
                && !wrong.contains_key(r.0.as_str())
        })
        .filter(|r| r.5[0].unwrap().date().to_string() >= from)
        .filter_map(|r| hours(r.5[0], r.5[4]))
        .collect();
    let expected = answers.red_median_hours.unwrap();
    assert!(
        (median(red) - expected).abs() <= 0.01 * expected,
        "{expected}"
    );
    // Traps: duplicates appear twice, swapped rows break the stamp order, wrong zones are not
    // the office's zone.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        *seen.entry(r.0.as_str()).or_default() += 1;
    }
    for w in &answers.wrong_rows {
        let row = rows.iter().find(|r| r.0 == w.id).unwrap();
        match w.reason {
            Trap::Duplicate => assert_eq!(seen[w.id.as_str()], 2),
            Trap::Swapped => assert!(
                row.5
                    .windows(2)
                    .any(|p| matches!(p, [Some(a), Some(b)] if b < a))
            ),
            Trap::WrongZone => {
                let own = rows
                    .iter()
                    .find(|r| r.1 == row.1 && !wrong.contains_key(r.0.as_str()))
                    .unwrap();
                assert_ne!(row.4, own.4, "{}", w.id);
            }
        }
    }
    assert_eq!(
        seen.values().filter(|n| **n == 2).count(),
        def.traps_per_kind as usize
    );
    assert_eq!(answers.wrong_rows.len(), 3 * def.traps_per_kind as usize);
}

#[test]
fn the_key_scores_full_marks_empty_answers_zero_and_grading_is_deterministic() {
    let def = scenario();
    let world = build(&def, 7, "");
    let key = &world.answers;
    let full = grade(&def, key, key);
    assert_eq!(full.score, 100.0);
    assert!(full.passed);
    let empty = grade(&def, key, &TrsAnswers::default());
    assert_eq!(empty.score, 0.0);
    // Half the wrong rows, a median 4% off, the right posts: partial credit, the same each time.
    let partial = TrsAnswers {
        red_median_hours: key.red_median_hours.map(|m| m * 1.04),
        wrong_rows: key.wrong_rows[..key.wrong_rows.len() / 2].to_vec(),
        ..key.clone()
    };
    let g = grade(&def, key, &partial);
    assert_eq!(g, grade(&def, key, &partial));
    let points: Vec<f64> = g.questions.iter().map(|q| q.points).collect();
    // Half the rows, all right: precision 1, recall h/n, F1 = 2h/(n+h).
    let (n, h) = (
        key.wrong_rows.len() as f64,
        (key.wrong_rows.len() / 2) as f64,
    );
    let f1_points = (30.0 * 2.0 * h / (n + h) * 10.0).round() / 10.0;
    assert_eq!(points, [10.0, 15.0, 15.0, 10.0, 10.0, f1_points]);
    // A wrong reason does not count.
    let mut reasons = key.clone();
    for w in reasons.wrong_rows.iter_mut() {
        w.reason = Trap::Duplicate;
    }
    let g = grade(&def, key, &reasons);
    assert!(g.questions[5].points < 15.0, "{:?}", g.questions[5]);
    // Answers read from TOML as a trainee writes them.
    let text = format!(
        "red_median_hours = {}\nweekend_post = \"{}\"\n[[wrong_row]]\nid = \"{}\"\nreason = \"{}\"\n",
        key.red_median_hours.unwrap(),
        key.weekend_post.clone().unwrap().to_uppercase(),
        key.wrong_rows[0].id,
        serde_json::to_value(key.wrong_rows[0].reason)
            .unwrap()
            .as_str()
            .unwrap()
    );
    let given: TrsAnswers = toml::from_str(&text).unwrap();
    let g = grade(&def, key, &given);
    assert_eq!(g.questions[0].points, 20.0);
    assert_eq!(g.questions[1].points, 15.0, "case does not matter");
    assert!(g.questions[5].points > 0.0);
}

#[test]
fn variants_differ_and_both_languages_are_there() {
    let def = scenario();
    let (a, b) = (build(&def, 7, "aliya"), build(&def, 7, "nino"));
    assert_ne!(a.answers, b.answers);
    assert_eq!(a.answers.wrong_rows.len(), b.answers.wrong_rows.len());
    // Copied answers are worth little in another's variant.
    assert!(grade(&def, &b.answers, &a.answers).score < 60.0);
    let g = grade(&def, &a.answers, &a.answers);
    for lang in [Lang::En, Lang::Ru] {
        let brief = trs_brief(lang, &def);
        let feedback = trs_feedback(lang, &g);
        let cyrillic = |s: &str| s.chars().any(|c| ('а'..='я').contains(&c));
        assert_eq!(cyrillic(&brief), lang == Lang::Ru);
        assert_eq!(cyrillic(&feedback), lang == Lang::Ru);
    }
}
