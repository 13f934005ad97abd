//! Transit exercises: the correct log, replayed by the single window's lifecycle, scores full
//! marks and an empty log nothing; the usual mistakes (local times written as UTC, events out of
//! order, the wrong messages) cost their part and are explained with the single window's own
//! reasons; variants differ and are equally long; grading is deterministic.

use smartborder_mtp::exercise::{self, key_of};
use smartborder_mtp::pack::Key;
use smartborder_mtp::scenario::{CATALOG, Scenario};
use smartborder_mtp::transit_world::{MovementLog, grade};

fn key(trainee: &str) -> Key {
    let (file, text) = CATALOG
        .iter()
        .find(|(f, _)| *f == "transit-caspian-movement.toml")
        .unwrap();
    key_of(&Scenario::from_toml(text, file).unwrap(), 7, trainee)
}

fn def(k: &Key) -> &smartborder_mtp::scenario::TransitScenario {
    match &k.scenario {
        Scenario::Transit(t) => t,
        _ => unreachable!(),
    }
}

fn part(g: &smartborder_mtp::transit_world::TransitGrade, name: &str) -> f64 {
    g.parts.iter().find(|p| p.0 == name).unwrap().1
}

#[test]
fn the_correct_log_scores_full_and_an_empty_one_nothing() {
    let k = key("daniyar");
    let case = k.transit_case.clone().unwrap();
    let full = grade(def(&k), &case, &case.log);
    assert_eq!(full.score, 100.0, "{full:?}");
    assert!(full.replayed.iter().all(|r| r.refused.is_none()));
    // The same through the exercise module, from the TOML a trainee writes.
    let text = toml::to_string(&case.log).unwrap();
    let outcome = exercise::grade(&k, &text, "movement.toml").unwrap();
    assert_eq!(outcome.score, 100.0, "{}", outcome.feedback_en);
    assert_eq!(outcome.items.len(), 6);
    // Instants may be written as TOML dates as well as quoted; without an offset they are
    // refused with their place.
    let first = &case.log.events[0];
    let literal = format!(
        "[[event]]\nmessage = \"IE028\"\ntype = \"accepted\"\noffice = \"{}\"\nat = {}\n",
        first.office,
        first.at.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let one = exercise::grade(&k, &literal, "movement.toml").unwrap();
    assert!(
        one.feedback_en.contains("1. accepted at"),
        "{}",
        one.feedback_en
    );
    let e = exercise::grade(&k, &literal.replace("Z\n", "\n"), "movement.toml").unwrap_err();
    assert_eq!(e.line, 5, "{e}");
    let empty = exercise::grade(&k, "", "movement.toml").unwrap();
    assert_eq!((empty.score, empty.passed), (0.0, false));
    // The story has an incident, and the key's log records it where it happened.
    assert!(case.log.events.iter().any(|e| e.kind == "incident"));
}

#[test]
fn local_times_written_as_utc_lose_the_times_part() {
    let k = key("aigerim");
    let case = k.transit_case.clone().unwrap();
    let mut wrong = case.log.clone();
    for e in &mut wrong.events {
        let zone: chrono_tz::Tz = smartborder_transit::country_zone(&e.office[..2]).unwrap();
        e.at = e.at.with_timezone(&zone).naive_local().and_utc();
        e.limit_date = e
            .limit_date
            .map(|l| l.with_timezone(&zone).naive_local().and_utc());
    }
    let g = grade(def(&k), &case, &wrong);
    assert_eq!(part(&g, "times_utc"), 0.0, "{g:?}");
    assert_eq!(part(&g, "limit_date"), 0.0);
    assert!(!g.passed, "{}", g.score);
}

#[test]
fn events_out_of_order_are_refused_with_the_single_windows_reason() {
    let k = key("nodira");
    let case = k.transit_case.clone().unwrap();
    let mut log = case.log.clone();
    // Goods released before the arrival at destination is recorded.
    let arrival = log
        .events
        .iter()
        .position(|e| e.kind == "arrival_at_destination")
        .unwrap();
    let released = log
        .events
        .iter()
        .position(|e| e.kind == "goods_released")
        .unwrap();
    let moved = log.events.remove(released);
    log.events.insert(arrival, moved);
    let g = grade(def(&k), &case, &log);
    let refused: Vec<&str> = g
        .replayed
        .iter()
        .filter_map(|r| r.refused.as_deref())
        .collect();
    assert!(
        refused
            .iter()
            .any(|r| r.contains("goods are released at destination after arrival")),
        "{refused:?}"
    );
    assert!(g.score < 100.0 && part(&g, "clean_log") == 0.0);
    let feedback = smartborder_mtp::text::transit_feedback(smartborder_mtp::text::Lang::En, &g);
    assert!(
        feedback.contains("refused") && feedback.contains("Missing from your log"),
        "{feedback}"
    );
    // Wrong messages cost the messages part only.
    let mut log = case.log.clone();
    for e in &mut log.events {
        e.message = "IE015".into();
    }
    let g = grade(def(&k), &case, &log);
    assert_eq!(part(&g, "messages"), 0.0);
    assert_eq!(g.score, 85.0);
    // The national form of a message counts as well.
    let mut log = case.log.clone();
    for e in &mut log.events {
        e.message = format!("CC{}C", &e.message[2..]);
    }
    assert_eq!(grade(def(&k), &case, &log).score, 100.0);
}

#[test]
fn variants_differ_and_are_equally_long() {
    let logs: Vec<MovementLog> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|t| key(t).transit_case.unwrap().log)
        .collect();
    assert!(logs.windows(2).all(|w| w[0] != w[1]));
    for l in &logs {
        assert!((10..=13).contains(&l.events.len()), "{}", l.events.len());
    }
    assert_eq!(key("a"), key("a"));
}
