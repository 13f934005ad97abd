//! Engine tests against an independent, naive computation.

use super::*;
use chrono_tz::Tz;
use smartborder_model::{DEFAULT_TARGETS_HOURS, WorkingHours, WorkingHoursPlan};

fn design(working: bool) -> StudyDesign {
    StudyDesign {
        stages: vec!["arrival".into(), "lodgement".into(), "release".into()],
        segments: vec!["office".into(), "lane".into()],
        extra_intervals: vec![],
        targets_hours: DEFAULT_TARGETS_HOURS.to_vec(),
        working_hours: working.then(|| WorkingHoursPlan {
            default: WorkingHours {
                open_minute: 9 * 60,
                close_minute: 18 * 60,
                days_off: [false, false, false, false, false, true, true],
            },
            office_segment: Some("office".into()),
            offices: [("Red Bridge".to_string(), WorkingHours::ALWAYS_OPEN)].into(),
        }),
    }
}

/// A table with a deterministic pseudo-random spread of durations, some missing and some
/// negative stamps.
fn table(n: usize) -> StampTable {
    let d = design(false);
    let mut t = StampTable::new(d.stages.clone(), &d.segments);
    t.segments[0].values = vec!["Red Bridge".into(), "Sarpi".into()];
    t.segments[1].values = vec!["green".into(), "red".into()];
    let baku = t.zone_code(Tz::Asia__Baku);
    let mut state = 88172645463325252u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // 2026-11-02 00:00 UTC, a Monday.
    let base = 1_793_577_600i64;
    for i in 0..n {
        let arrival = base + (next() % (14 * 86_400)) as i64;
        let lodged = arrival + (next() % 20_000) as i64 - 1_000; // sometimes before arrival
        let release = lodged + ((next() % 300) as i64).pow(2) * 3;
        let missing = next() % 10 == 0;
        let stamps = [arrival, lodged, if missing { MISSING } else { release }];
        let codes = [(next() % 2) as u32, (next() % 2) as u32];
        t.push(&format!("C{i}"), i as u64 + 2, &stamps, baku, &codes);
    }
    t
}

fn reference(values: &mut [i64], p: f64) -> f64 {
    values.sort();
    let h = (values.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    (values[lo] as f64 + (h - lo as f64) * (values[hi] - values[lo]) as f64) / 60.0
}

#[test]
fn statistics_match_a_naive_computation_for_every_interval_and_segment() {
    let t = table(5000);
    let d = design(false);
    let report = analyze("t.csv", &t, &d, vec![], 5000, 5000, &TrsOptions::default());
    for s in &report.intervals {
        let from = d.stages.iter().position(|x| *x == s.from);
        let to = d.stages.iter().position(|x| *x == s.to);
        let column = t.segments.iter().find(|c| c.name == s.segment_by);
        let mut values: Vec<i64> = (0..t.len())
            .filter(|&r| match (column, &s.segment) {
                (Some(c), Some(v)) => c.value(r) == Some(v.as_str()),
                _ => true,
            })
            .filter_map(|r| {
                let stamps: Vec<i64> = t.stamps.iter().map(|c| c[r]).collect();
                let present: Vec<i64> = stamps.iter().copied().filter(|&x| x != MISSING).collect();
                let (a, b) = match (from, to) {
                    (Some(f), Some(t)) => (stamps[f], stamps[t]),
                    _ => (*present.first()?, *present.last()?),
                };
                (a != MISSING && b != MISSING && b >= a).then(|| b - a)
            })
            .collect();
        assert_eq!(s.summary.count as usize, values.len(), "{s:?}");
        let mean = values.iter().sum::<i64>() as f64 / values.len() as f64 / 60.0;
        assert!((s.summary.mean_minutes.unwrap() - mean).abs() < 1e-9);
        for (got, p) in [
            (s.summary.median_minutes, 0.5),
            (s.summary.p75_minutes, 0.75),
            (s.summary.p90_minutes, 0.9),
            (s.summary.p95_minutes, 0.95),
        ] {
            assert!((got.unwrap() - reference(&mut values, p)).abs() < 1e-9);
        }
        let within_4h =
            values.iter().filter(|&&v| v <= 4 * 3600).count() as f64 / values.len() as f64;
        assert_eq!(s.summary.within_target[1].hours, 4.0);
        assert!((s.summary.within_target[1].share - within_4h).abs() < 1e-12);
    }
    // all + 2 offices + 2 lanes for: 2 consecutive, arrival->release, first->last.
    assert_eq!(report.intervals.len(), 4 * 5);
}

#[test]
fn negative_intervals_are_left_out_but_other_intervals_count() {
    let d = design(false);
    let mut t = StampTable::new(d.stages.clone(), &d.segments);
    t.push(
        "A",
        2,
        &[0, 600, 1200],
        NO_ZONE_FOR_TEST,
        &[NO_VALUE, NO_VALUE],
    );
    // Lodged before arrival: arrival->lodgement is negative, lodgement->release still counts.
    t.push(
        "B",
        3,
        &[1000, 400, 1600],
        NO_ZONE_FOR_TEST,
        &[NO_VALUE, NO_VALUE],
    );
    let r = analyze("t.csv", &t, &d, vec![], 2, 2, &TrsOptions::default());
    let get = |from: &str, to: &str| {
        r.intervals
            .iter()
            .find(|s| s.from == from && s.to == to && s.segment_by == "all")
            .unwrap()
            .summary
            .clone()
    };
    assert_eq!(get("arrival", "lodgement").count, 1);
    assert_eq!(get("arrival", "lodgement").mean_minutes, Some(10.0));
    assert_eq!(get("lodgement", "release").count, 2);
    assert_eq!(get("lodgement", "release").mean_minutes, Some(15.0));
    assert_eq!(get("arrival", "release").count, 2);
}

const NO_ZONE_FOR_TEST: u16 = smartborder_model::NO_ZONE;

#[test]
fn extreme_values_are_flagged_per_office_and_kept_unless_excluded() {
    let d = design(false);
    let mut t = StampTable::new(d.stages.clone(), &d.segments);
    t.segments[0].values = vec!["Sarpi".into()];
    for i in 0..20 {
        t.push(
            &format!("N{i}"),
            i + 2,
            &[0, 600 + i as i64 * 6, 1200],
            0,
            &[0, NO_VALUE],
        );
    }
    t.zones.push(Tz::Asia__Tbilisi);
    // Q1..Q3 of arrival->lodgement is about 10-12 min; 10 hours is far beyond Q3 + 3 IQR.
    t.push("SLOW", 99, &[0, 36_000, 36_600], 0, &[0, NO_VALUE]);
    let kept = analyze("t.csv", &t, &d, vec![], 21, 21, &TrsOptions::default());
    let flagged: Vec<&Finding> = kept
        .findings
        .iter()
        .filter(|f| {
            f.kind == FindingKind::ExtremeValue
                && f.column.as_deref() == Some("arrival -> lodgement")
        })
        .collect();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].consignment.as_deref(), Some("SLOW"));
    assert_eq!(flagged[0].line, Some(99));
    assert!(flagged[0].message.contains("Q3 + 3 IQR") && flagged[0].message.contains("Sarpi"));
    let count = |r: &TrsReport| {
        r.intervals
            .iter()
            .find(|s| s.from == "arrival" && s.to == "lodgement" && s.segment_by == "all")
            .unwrap()
            .summary
            .count
    };
    assert_eq!(count(&kept), 21);
    let excluded = analyze(
        "t.csv",
        &t,
        &d,
        vec![],
        21,
        21,
        &TrsOptions {
            exclude_extremes: true,
            ..TrsOptions::default()
        },
    );
    assert_eq!(count(&excluded), 20);
}

#[test]
fn working_time_counts_only_opening_hours_of_the_office() {
    let d = design(true);
    let mut t = StampTable::new(d.stages.clone(), &d.segments);
    t.segments[0].values = vec!["Sarpi".into(), "Red Bridge".into()];
    let tbilisi = t.zone_code(Tz::Asia__Tbilisi);
    // Friday 2026-11-06 16:00 local (12:00 UTC) -> Monday 2026-11-09 10:00 local (06:00 UTC).
    let friday_16_local = chrono::NaiveDate::from_ymd_opt(2026, 11, 6)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let monday_10_local = friday_16_local + (2 * 24 + 18) * 3600;
    t.push(
        "A",
        2,
        &[friday_16_local, friday_16_local, monday_10_local],
        tbilisi,
        &[0, NO_VALUE],
    );
    t.push(
        "B",
        3,
        &[friday_16_local, friday_16_local, monday_10_local],
        tbilisi,
        &[1, NO_VALUE],
    );
    let r = analyze("t.csv", &t, &d, vec![], 2, 2, &TrsOptions::default());
    let working = |office: &str| {
        r.working_time_intervals
            .iter()
            .find(|s| {
                s.from == "lodgement" && s.to == "release" && s.segment.as_deref() == Some(office)
            })
            .unwrap()
            .summary
            .mean_minutes
            .unwrap()
    };
    // Sarpi keeps 09:00-18:00 Mon-Fri: Friday 16-18 + Monday 9-10 = 3 h.
    assert_eq!(working("Sarpi"), 180.0);
    // Red Bridge is open around the clock: working time equals elapsed time (66 h).
    assert_eq!(working("Red Bridge"), 66.0 * 60.0);
}

#[test]
fn bottlenecks_rank_stages_by_share_of_time() {
    let d = design(false);
    let mut t = StampTable::new(d.stages.clone(), &d.segments);
    t.push(
        "A",
        2,
        &[0, 600, 3000],
        NO_ZONE_FOR_TEST,
        &[NO_VALUE, NO_VALUE],
    );
    let r = analyze("t.csv", &t, &d, vec![], 1, 1, &TrsOptions::default());
    let all = r
        .bottlenecks
        .iter()
        .find(|b| b.segment_by == "all")
        .unwrap();
    assert_eq!(all.stages[0].from, "lodgement");
    assert!((all.stages[0].share - 0.8).abs() < 1e-12);
    assert!((all.stages[1].share - 0.2).abs() < 1e-12);
}

#[test]
fn arrival_pattern_uses_local_hours() {
    let d = design(false);
    let mut t = StampTable::new(d.stages.clone(), &d.segments);
    let baku = t.zone_code(Tz::Asia__Baku);
    // 2026-11-02 (Monday) 05:30 UTC = 09:30 in Baku.
    let a = chrono::NaiveDate::from_ymd_opt(2026, 11, 2)
        .unwrap()
        .and_hms_opt(5, 30, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    t.push("A", 2, &[a, a + 60, a + 3600], baku, &[NO_VALUE, NO_VALUE]);
    let r = analyze("t.csv", &t, &d, vec![], 1, 1, &TrsOptions::default());
    assert_eq!(r.arrival_pattern.counts[0][9], 1);
    assert_eq!(r.arrival_pattern.median_release_minutes[0][9], Some(60.0));
    assert_eq!(r.arrival_pattern.counts.iter().flatten().sum::<u64>(), 1);
}

/// A report read back from its JSON is the report: the console keeps studies as JSON and
/// renders them again, and `report.json` is the contract other tools read.
#[test]
fn the_json_report_reads_back_unchanged() {
    let t = table(2000);
    let d = design(true);
    let report = analyze("t.csv", &t, &d, vec![], 2000, 2000, &TrsOptions::default());
    let json = serde_json::to_string(&report).unwrap();
    let back: TrsReport = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}
