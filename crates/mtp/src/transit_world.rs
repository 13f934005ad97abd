//! Transit exercises: the trainee takes one movement through the NCTS Phase 5 lifecycle, from
//! acceptance at the office of departure to the write-off, in a sandbox single window.
//!
//! The brief tells the movement's story as the offices saw it, each in its own local time (a
//! ferry across the Caspian, a frontier crossing, sometimes an incident en route, unloading
//! with or without remarks). The trainee writes the movement's log: each event with its NCTS
//! message, office and instant in UTC. The log is replayed by the single window's own lifecycle
//! ([`smartborder_transit::Movement::apply`]), nothing reaching a real single window: an event
//! the single window would refuse is refused here with the same reason.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use smartborder_transit::{
    Event, EventKind, Movement, MovementStatus, Mrn, OfficeRef, Route, TransitOffice, country_zone,
};

use smartborder_synth::transit::{OFFICES, ROUTES, office};

use crate::risk_world::variant_seed;
use crate::scenario::TransitScenario;

/// The NCTS Phase 5 message of each event of the exercise.
pub fn message_of(event: &str) -> Option<&'static str> {
    Some(match event {
        "accepted" => "IE028",
        "released_for_transit" => "IE029",
        "anticipated_transit_record" => "IE050",
        "arrival_at_transit" => "IE115",
        "frontier_crossed" => "IE118",
        "incident" => "IE180",
        "arrival_at_destination" => "IE007",
        "unloading_remarks" => "IE044",
        "goods_released" => "IE025",
        "written_off" => "IE045",
        _ => return None,
    })
}

/// Whether a message as written names `expected` (IE029 or its national form CC029C).
fn same_message(written: &str, expected: &str) -> bool {
    let w = written.trim().to_ascii_uppercase();
    let digits = &expected[2..];
    w == expected || w == format!("CC{digits}C")
}

/// The name of an office of the exercise (the synthetic corridor's).
pub fn office_name(code: &str) -> &'static str {
    OFFICES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("", |(_, n)| n)
}

/// One event of a movement's log, as the trainee writes it (and as the key keeps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEvent {
    /// The NCTS message that carries it, e.g. IE029 (or CC029C).
    pub message: String,
    /// The event, as the single window names it, e.g. released_for_transit.
    #[serde(rename = "type")]
    pub kind: String,
    pub office: String,
    /// The instant, in UTC (RFC 3339, e.g. 2026-03-02T05:10:00Z, quoted or as a TOML date).
    #[serde(deserialize_with = "instant")]
    pub at: DateTime<Utc>,
    /// A release's time limit for presentation at destination, in UTC.
    #[serde(
        default,
        deserialize_with = "some_instant",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_date: Option<DateTime<Utc>>,
    /// Unloading remarks: whether the goods conform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conform: Option<bool>,
    /// An incident's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An instant written as an RFC 3339 string or as a TOML offset date-time.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Text(String),
    Toml(toml::value::Datetime),
}

fn instant<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = match Written::deserialize(d)? {
        Written::Text(t) => t,
        Written::Toml(t) => t.to_string(),
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "\"{text}\": {e}; expected an instant with its offset, e.g. 2026-03-02T05:10:00Z"
            ))
        })
}

fn some_instant<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    instant(d).map(Some)
}

/// A movement's log (TOML, `[[event]]` tables in order).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovementLog {
    #[serde(default, rename = "event")]
    pub events: Vec<LogEvent>,
}

/// The case of a variant: the declaration and what happened to the goods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitCase {
    pub lrn: String,
    pub route: Route,
    pub goods: String,
    pub goods_ru: String,
    /// The correct log.
    pub log: MovementLog,
}

/// Goods a variant declares (English, Russian).
const GOODS: &[(&str, &str)] = &[
    (
        "18 t of washing machines (HS 8450) in a sealed semi-trailer",
        "18 т стиральных машин (ТН ВЭД 8450) в опломбированном полуприцепе",
    ),
    (
        "22 t of cotton yarn (HS 5205) in a sealed container",
        "22 т хлопковой пряжи (ТН ВЭД 5205) в опломбированном контейнере",
    ),
    (
        "15 t of car tyres (HS 4011) in a sealed semi-trailer",
        "15 т автомобильных шин (ТН ВЭД 4011) в опломбированном полуприцепе",
    ),
];

/// Builds the case of a definition for a seed and a trainee (`""`: the common case).
pub fn build(def: &TransitScenario, seed: u64, trainee: &str) -> TransitCase {
    let mut rng = ChaCha8Rng::seed_from_u64(variant_seed(seed, trainee));
    let (departure, transit, destination, _) = ROUTES[rng.random_range(0..ROUTES.len())];
    let route = Route {
        departure: office(departure),
        transit: transit
            .iter()
            .map(|t| TransitOffice {
                office: office(t),
                estimated_arrival: None,
            })
            .collect(),
        destination: office(destination),
    };
    let (goods, goods_ru) = GOODS[rng.random_range(0..GOODS.len())];
    let start = chrono::NaiveDate::parse_from_str(&def.start, "%Y-%m-%d")
        .unwrap_or(chrono::NaiveDate::MIN)
        .and_hms_opt(0, 0, 0)
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc());
    let minutes =
        |rng: &mut ChaCha8Rng, lo: i64, hi: i64| Duration::minutes(rng.random_range(lo..hi));
    let mut log = Vec::new();
    let mut push = |kind: &str, office: &OfficeRef, at: DateTime<Utc>| {
        log.push(LogEvent {
            message: message_of(kind).unwrap_or("").to_string(),
            kind: kind.to_string(),
            office: office.to_string(),
            at,
            limit_date: None,
            conform: None,
            description: None,
        });
    };
    // Accepted in the working day, released within hours.
    let mut at = start + Duration::days(rng.random_range(0..5)) + minutes(&mut rng, 3 * 60, 9 * 60);
    push("accepted", &route.departure, at);
    at += minutes(&mut rng, 40, 5 * 60);
    push("released_for_transit", &route.departure, at);
    let limit = at + Duration::days(8);
    // The anticipated transit records reach every office of transit at release.
    for t in &route.transit {
        push(
            "anticipated_transit_record",
            &t.office,
            at + Duration::minutes(1),
        );
    }
    at += Duration::minutes(1);
    let incident_at = def
        .incident
        .then(|| rng.random_range(0..route.transit.len()));
    let mut previous = departure.to_string();
    for (i, t) in route.transit.iter().enumerate() {
        let ferry = previous.starts_with("KZ") && t.office.as_str().starts_with("AZ");
        at += if ferry {
            minutes(&mut rng, 26 * 60, 70 * 60)
        } else {
            minutes(&mut rng, 6 * 60, 30 * 60)
        };
        push("arrival_at_transit", &t.office, at);
        if incident_at == Some(i) {
            at += minutes(&mut rng, 20, 90);
            push("incident", &t.office, at);
        }
        at += minutes(&mut rng, 60, 6 * 60);
        push("frontier_crossed", &t.office, at);
        previous = t.office.to_string();
    }
    at += minutes(&mut rng, 4 * 60, 20 * 60);
    push("arrival_at_destination", &route.destination, at);
    let conform = rng.random_bool(0.6);
    at += minutes(&mut rng, 60, 4 * 60);
    push("unloading_remarks", &route.destination, at);
    at += minutes(&mut rng, 30, 3 * 60);
    push("goods_released", &route.destination, at);
    at += minutes(&mut rng, 5, 60);
    push("written_off", &route.departure, at);
    for e in &mut log {
        match e.kind.as_str() {
            "released_for_transit" => e.limit_date = Some(limit),
            "unloading_remarks" => e.conform = Some(conform),
            "incident" => e.description = Some("seal damaged; goods checked and resealed".into()),
            _ => {}
        }
    }
    TransitCase {
        lrn: format!("{}{:06}", &departure[..2], rng.random_range(1..999_999)),
        route,
        goods: goods.to_string(),
        goods_ru: goods_ru.to_string(),
        log: MovementLog { events: log },
    }
}

/// What the replay said about one submitted event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    pub kind: String,
    pub office: String,
    /// `None` when the single window accepted it; else its reason.
    pub refused: Option<String>,
    /// Whether its message is the event's NCTS message.
    pub message_right: bool,
}

/// The grade of a movement's log, part by part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitGrade {
    pub score: f64,
    pub max_score: f64,
    pub pass_mark: f64,
    pub passed: bool,
    pub replayed: Vec<Replayed>,
    /// Events of the correct log not (or not acceptably) in the trainee's, as "type at office".
    pub missing: Vec<String>,
    /// Points of each part: (part, points, max points).
    pub parts: Vec<(String, f64, f64)>,
    pub final_status: MovementStatus,
}

/// Points of each part (they sum to 100).
pub const PARTS: [(&str, f64); 6] = [
    ("lifecycle", 40.0),
    ("messages", 15.0),
    ("times_utc", 20.0),
    ("limit_date", 10.0),
    ("unloading_remarks", 10.0),
    ("clean_log", 5.0),
];

fn event_of(e: &LogEvent, mrn: &Mrn) -> Result<Event, String> {
    let office = OfficeRef::parse(&e.office).map_err(|err| err.to_string())?;
    let zone = country_zone(office.country())
        .ok_or_else(|| format!("{}: no office of the exercise", e.office))?;
    let kind = match e.kind.as_str() {
        "accepted" => EventKind::Accepted { mrn: mrn.clone() },
        "released_for_transit" => EventKind::ReleasedForTransit {
            limit_date: e
                .limit_date
                .ok_or("released_for_transit needs its limit_date")?,
        },
        "anticipated_transit_record" => EventKind::AnticipatedTransitRecord,
        "arrival_at_transit" => EventKind::ArrivalAtTransit,
        "frontier_crossed" => EventKind::FrontierCrossed,
        "incident" => EventKind::Incident {
            description: e.description.clone().unwrap_or_default(),
        },
        "arrival_at_destination" => EventKind::ArrivalAtDestination,
        "unloading_remarks" => EventKind::UnloadingRemarks {
            conform: e
                .conform
                .ok_or("unloading_remarks needs conform = true or false")?,
        },
        "goods_released" => EventKind::GoodsReleased,
        "written_off" => EventKind::WrittenOff,
        other => {
            return Err(format!(
                "type \"{other}\": not an event of this exercise (accepted, released_for_transit, anticipated_transit_record, arrival_at_transit, frontier_crossed, incident, arrival_at_destination, unloading_remarks, goods_released, written_off)"
            ));
        }
    };
    Ok(Event {
        kind,
        office,
        at: e.at,
        zone,
    })
}

/// Replays a log in the single window's lifecycle and grades it against the case.
pub fn grade(def: &TransitScenario, case: &TransitCase, log: &MovementLog) -> TransitGrade {
    let mut movement = Movement::lodged(&case.lrn, case.route.clone());
    let year = case
        .log
        .events
        .first()
        .map_or(2026, |e| chrono::Datelike::year(&e.at));
    let mrn = Mrn::allocate(year, case.route.departure.country(), 1, 'J');
    let mut replayed = Vec::new();
    let mut accepted: Vec<&LogEvent> = Vec::new();
    for e in &log.events {
        let refused = match event_of(e, &mrn) {
            Ok(event) => movement.apply(event).err().map(|err| err.to_string()),
            Err(reason) => Some(reason),
        };
        if refused.is_none() {
            accepted.push(e);
        }
        replayed.push(Replayed {
            kind: e.kind.clone(),
            office: e.office.clone(),
            refused,
            message_right: message_of(&e.kind).is_some_and(|m| same_message(&e.message, m)),
        });
    }
    let truth = &case.log.events;
    let find = |t: &LogEvent| {
        accepted
            .iter()
            .find(|a| a.kind == t.kind && a.office == t.office)
            .copied()
    };
    let matched: Vec<(&LogEvent, Option<&LogEvent>)> = truth.iter().map(|t| (t, find(t))).collect();
    let share = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    let present = matched.iter().filter(|(_, m)| m.is_some()).count();
    let on_time = matched
        .iter()
        .filter(|(t, m)| m.is_some_and(|m| (m.at - t.at).num_seconds().abs() <= 60))
        .count();
    let messages_right = replayed
        .iter()
        .filter(|r| r.refused.is_none() && r.message_right)
        .count();
    let release = |log: &[&LogEvent]| {
        log.iter()
            .find(|e| e.kind == "released_for_transit")
            .and_then(|e| e.limit_date)
    };
    let truth_refs: Vec<&LogEvent> = truth.iter().collect();
    let limit_right = match (release(&accepted), release(&truth_refs)) {
        (Some(a), Some(t)) => (a - t).num_seconds().abs() <= 60,
        _ => false,
    };
    let conform_of = |log: &[&LogEvent]| {
        log.iter()
            .find(|e| e.kind == "unloading_remarks")
            .and_then(|e| e.conform)
    };
    let conform_right =
        conform_of(&accepted).is_some() && conform_of(&accepted) == conform_of(&truth_refs);
    let clean = movement.status == MovementStatus::WrittenOff
        && replayed.iter().all(|r| r.refused.is_none())
        && present == truth.len();
    let mut parts = Vec::new();
    for (part, max) in PARTS {
        let fraction = match part {
            "lifecycle" => share(present, truth.len()),
            "messages" => share(messages_right, truth.len().max(replayed.len())),
            "times_utc" => share(on_time, truth.len()),
            "limit_date" => f64::from(u8::from(limit_right)),
            "unloading_remarks" => f64::from(u8::from(conform_right)),
            _ => f64::from(u8::from(clean)),
        };
        parts.push((
            part.to_string(),
            (max * fraction * 10.0).round() / 10.0,
            max,
        ));
    }
    let score = (parts.iter().map(|p| p.1).sum::<f64>() * 10.0).round() / 10.0;
    TransitGrade {
        score,
        max_score: 100.0,
        pass_mark: def.pass_mark,
        passed: score >= def.pass_mark,
        replayed,
        missing: matched
            .iter()
            .filter(|(_, m)| m.is_none())
            .map(|(t, _)| format!("{} at {}", t.kind, t.office))
            .collect(),
        parts,
        final_status: movement.status,
    }
}

/// The log a trainee starts from: what each field means, and no event.
pub const LOG_TEMPLATE: &str = r#"# The movement's log, event by event in the order they happened. For each event:
#   message: the NCTS Phase 5 message that carries it (e.g. "IE029");
#   type: the event (accepted, released_for_transit, anticipated_transit_record,
#         arrival_at_transit, frontier_crossed, incident, arrival_at_destination,
#         unloading_remarks, goods_released, written_off);
#   office: the customs office reference (e.g. "KZ000101");
#   at: the instant in UTC (e.g. 2026-03-02T05:10:00Z): convert each office's local time;
#   limit_date: (released_for_transit) the time limit, in UTC;
#   conform: (unloading_remarks) true or false;
#   description: (incident) what happened.
#
# [[event]]
# message = "IE028"
# type = "accepted"
# office = "KZ000101"
# at = 2026-03-02T05:10:00Z
"#;
