//! A synthetic single-window world for the demo, the console's tests and training: transit
//! movements on the Middle Corridor's routes, lodged over the last weeks, each at the stage its
//! timeline has reached by `now` (just lodged, released and on the way, at an office of
//! transit, across the border, arrived, released at destination, written off, not released, or
//! under enquiry after its limit date passed without arrival).
//!
//! Times are plausible for the corridor rather than measured: the Caspian crossing (Aktau or
//! Kuryk to Alat) takes one to four days, an office of transit a few hours (longer at
//! weekends), the Azerbaijan–Georgia border a few hours, growing in the last weeks so that the
//! corridor dashboard has a trend to show. Deterministic by seed and `now`.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use smartborder_transit::{
    Consignment, Event, EventKind, GoodsItem, OfficeRef, Route, TransitOffice, country_zone,
};

/// A movement of the world: lodged and accepted at `accepted_at`, then its events in order.
#[derive(Debug, Clone)]
pub struct WorldMovement {
    pub lrn: String,
    pub route: Route,
    pub accepted_at: DateTime<Utc>,
    pub events: Vec<Event>,
    /// Its goods, for risk assessment along the route.
    pub consignment: Consignment,
}

/// Goods that travel the corridor: (commodity code, description, gross kg per item: low, high).
const GOODS: &[(&str, &str, f64, f64)] = &[
    ("85176200", "Network switches and routers", 200.0, 3000.0),
    ("84713000", "Portable computers", 100.0, 2000.0),
    ("52052200", "Cotton yarn", 5000.0, 20000.0),
    ("62034231", "Men's cotton trousers", 500.0, 6000.0),
    ("08061010", "Fresh table grapes", 8000.0, 20000.0),
    ("72142000", "Steel reinforcing bars", 15000.0, 24000.0),
    ("39011010", "Polyethylene granules", 10000.0, 22000.0),
    ("87032319", "Passenger cars", 1200.0, 4500.0),
    ("10019900", "Wheat", 18000.0, 25000.0),
    ("94036010", "Wooden furniture", 1000.0, 8000.0),
];

/// The goods of the `i`-th movement: one to three items; consignors in China or the country of
/// departure, consignees in the country of destination, holders (carriers) of the country of
/// departure; one consignment in ten travels without seals.
fn consignment(rng: &mut ChaCha8Rng, route: &Route) -> Consignment {
    let departure = route.departure.country();
    let destination = route.destination.country();
    let from_china = rng.random::<f64>() < 0.6;
    let dispatch = if from_china { "CN" } else { departure };
    let items = (0..rng.random_range(1..=3))
        .map(|_| {
            let (code, description, low, high) = GOODS[rng.random_range(0..GOODS.len())];
            let gross = (low + rng.random::<f64>() * (high - low)).round();
            GoodsItem {
                commodity_code: Some(code.to_string()),
                description: description.to_string(),
                gross_mass_kg: Some(gross),
                net_mass_kg: Some((gross * 0.95).round()),
                ..GoodsItem::default()
            }
        })
        .collect();
    Consignment {
        holder: Some(format!(
            "{departure}-CARRIER-{:02}",
            rng.random_range(1..=25)
        )),
        consignor: Some(format!(
            "{dispatch}-EXPORTER-{:02}",
            rng.random_range(1..=40)
        )),
        consignee: Some(format!(
            "{destination}-IMPORTER-{:02}",
            rng.random_range(1..=60)
        )),
        country_of_dispatch: Some(dispatch.to_string()),
        country_of_destination: Some(destination.to_string()),
        transport_mode: Some("3".to_string()),
        transport_nationality: Some(departure.to_string()),
        transport_identification: None,
        seals: Some(if rng.random::<f64>() < 0.1 {
            0
        } else {
            rng.random_range(1..=3)
        }),
        guarantee_type: Some(if rng.random::<f64>() < 0.8 { "1" } else { "2" }.to_string()),
        previous_document: None,
        items,
    }
}

/// The offices of the demo world: (reference, what it is).
pub const OFFICES: &[(&str, &str)] = &[
    ("KZ000101", "Khorgos (KZ-CN border)"),
    ("KZ000102", "Aktau sea port"),
    ("UZ000401", "Tashkent"),
    ("AZ000201", "Alat sea port (Baku)"),
    ("GE000301", "Red Bridge (AZ-GE border)"),
    ("GE000302", "Poti sea port"),
];

/// The routes: departure, offices of transit, destination; and how often each is taken.
pub const ROUTES: &[(&str, &[&str], &str, u32)] = &[
    ("KZ000101", &["KZ000102", "AZ000201"], "GE000302", 4),
    ("KZ000102", &["AZ000201"], "GE000301", 3),
    ("UZ000401", &["KZ000102", "AZ000201"], "GE000302", 2),
    ("KZ000101", &["AZ000201"], "GE000301", 1),
];

/// A reference of the tables above (the training exercises draw from them too).
pub fn office(code: &str) -> OfficeRef {
    // The table above holds only well-formed references (tested).
    OfficeRef::parse(code).unwrap_or_else(|e| panic!("demo office {code}: {e}"))
}

fn hours(h: f64) -> Duration {
    Duration::seconds((h * 3600.0) as i64)
}

/// Hours between two offices of a route: the Caspian ferry, or the road.
fn travel_hours(rng: &mut ChaCha8Rng, from: &str, to: &str) -> f64 {
    let ferry = from.starts_with("KZ") && to.starts_with("AZ");
    if ferry {
        24.0 + rng.random::<f64>() * 72.0
    } else {
        6.0 + rng.random::<f64>() * 30.0
    }
}

/// Hours from arrival to frontier crossing at an office of transit: log-normal around three
/// hours, doubled at weekends (fewer officers on shift).
fn office_hours(rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> f64 {
    let base = LogNormal::new(3.0_f64.ln(), 0.6)
        .map(|d| d.sample(rng))
        .unwrap_or(3.0);
    if matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
        base * 2.0
    } else {
        base
    }
}

/// Hours of the border pair after an office (frontier crossed to arrival at the next office);
/// the Azerbaijan–Georgia crossing slows down over the last three weeks before `now`.
fn border_hours(
    rng: &mut ChaCha8Rng,
    from: &str,
    to: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> f64 {
    let mut h = LogNormal::new(4.0_f64.ln(), 0.5)
        .map(|d| d.sample(rng))
        .unwrap_or(4.0);
    if from.starts_with("AZ") && to.starts_with("GE") && now - at < Duration::weeks(3) {
        h *= 2.5;
    }
    if from.starts_with("KZ") && to.starts_with("AZ") {
        h += travel_hours(rng, from, to);
    }
    h
}

/// `count` movements lodged over the `weeks` weeks before `now`, in lodging order.
pub fn world_movements(
    seed: u64,
    count: usize,
    weeks: i64,
    now: DateTime<Utc>,
) -> Vec<WorldMovement> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // The goods draw from a stream of their own, so that the journeys stay what they were.
    let mut goods_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x600D_5000);
    let span = Duration::weeks(weeks).num_seconds().max(1);
    let mut starts: Vec<i64> = (0..count).map(|_| rng.random_range(0..span)).collect();
    starts.sort_unstable();
    let total_weight: u32 = ROUTES.iter().map(|r| r.3).sum();
    starts
        .into_iter()
        .enumerate()
        .map(|(i, offset)| {
            let accepted_at = now - Duration::seconds(span) + Duration::seconds(offset);
            let mut pick = rng.random_range(0..total_weight);
            let (departure, transit, destination, _) = ROUTES
                .iter()
                .find(|r| {
                    let hit = pick < r.3;
                    pick = pick.saturating_sub(r.3);
                    hit
                })
                .copied()
                .unwrap_or(ROUTES[0]);
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
            let lrn = format!("{}{:06}", &departure[..2], i + 1);
            // The newest lodgements (one in a hundred, at least one) still wait for release.
            let waiting = i + count / 100 + 1 >= count;
            let mut events = journey(&mut rng, &route, accepted_at, now);
            if waiting {
                events.clear();
            }
            WorldMovement {
                consignment: consignment(&mut goods_rng, &route),
                lrn,
                route,
                accepted_at,
                events,
            }
        })
        .collect()
}

/// The events of one journey that have happened by `now`.
fn journey(
    rng: &mut ChaCha8Rng,
    route: &Route,
    accepted: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let mut events = Vec::new();
    let zone = |o: &OfficeRef| country_zone(o.country()).unwrap_or(chrono_tz::UTC);
    let push = |events: &mut Vec<Event>, kind: EventKind, office: &OfficeRef, at: DateTime<Utc>| {
        if at <= now {
            events.push(Event {
                kind,
                office: office.clone(),
                at,
                zone: zone(office),
            });
            true
        } else {
            false
        }
    };
    let fate: f64 = rng.random();
    // Most releases follow within hours; one in ten waits a day or two for a control.
    let release_hours = if rng.random::<f64>() < 0.1 {
        12.0 + rng.random::<f64>() * 36.0
    } else {
        0.5 + rng.random::<f64>() * 5.0
    };
    let mut at = accepted + hours(release_hours);
    if fate < 0.02 {
        push(
            &mut events,
            EventKind::NotReleased {
                reason: "documents missing: certificate of origin".to_string(),
            },
            &route.departure,
            at,
        );
        return events;
    }
    let limit_date = at + Duration::days(8);
    if !push(
        &mut events,
        EventKind::ReleasedForTransit { limit_date },
        &route.departure,
        at,
    ) {
        return events;
    }
    // A few movements are never seen again: enquiry once the limit date has passed.
    if fate < 0.04 {
        let enquiry = limit_date + hours(2.0 + rng.random::<f64>() * 20.0);
        push(
            &mut events,
            EventKind::EnquiryOpened,
            &route.departure,
            enquiry,
        );
        return events;
    }
    let mut previous = route.departure.as_str().to_string();
    for t in &route.transit {
        at += hours(if events.len() == 1 {
            travel_hours(rng, &previous, t.office.as_str())
        } else {
            border_hours(rng, &previous, t.office.as_str(), at, now)
        });
        if !push(&mut events, EventKind::ArrivalAtTransit, &t.office, at) {
            return events;
        }
        if rng.random::<f64>() < 0.03 {
            at += hours(0.5);
            push(
                &mut events,
                EventKind::Incident {
                    description: "seal damaged; resealed after inspection".to_string(),
                },
                &t.office,
                at,
            );
        }
        at += hours(office_hours(rng, at));
        if !push(&mut events, EventKind::FrontierCrossed, &t.office, at) {
            return events;
        }
        previous = t.office.as_str().to_string();
    }
    at += hours(border_hours(
        rng,
        &previous,
        route.destination.as_str(),
        at,
        now,
    ));
    if !push(
        &mut events,
        EventKind::ArrivalAtDestination,
        &route.destination,
        at,
    ) {
        return events;
    }
    at += hours(1.0 + rng.random::<f64>() * 3.0);
    let conform = rng.random::<f64>() > 0.05;
    if !push(
        &mut events,
        EventKind::UnloadingRemarks { conform },
        &route.destination,
        at,
    ) {
        return events;
    }
    at += hours(0.5 + rng.random::<f64>() * 2.0);
    if !push(
        &mut events,
        EventKind::GoodsReleased,
        &route.destination,
        at,
    ) {
        return events;
    }
    at += hours(1.0 + rng.random::<f64>() * 24.0);
    push(&mut events, EventKind::WrittenOff, &route.departure, at);
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use smartborder_transit::{Movement, MovementStatus, Mrn};

    #[test]
    fn offices_are_well_formed() {
        for (code, _) in OFFICES {
            assert!(OfficeRef::parse(code).is_ok(), "{code}");
        }
    }

    /// Every generated journey is one the transit lifecycle accepts, the world has movements
    /// at every stage, and the same seed gives the same world.
    #[test]
    fn the_world_follows_the_lifecycle_and_is_reproducible() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let world = world_movements(7, 1000, 10, now);
        assert_eq!(world.len(), 1000);
        let mut statuses = std::collections::BTreeSet::new();
        for w in &world {
            assert!(w.accepted_at <= now);
            let mut m = Movement::lodged(&w.lrn, w.route.clone());
            m.apply(Event {
                kind: EventKind::Accepted {
                    mrn: Mrn::allocate(2026, w.route.departure.country(), 1, 'J'),
                },
                office: w.route.departure.clone(),
                at: w.accepted_at,
                zone: country_zone(w.route.departure.country()).unwrap(),
            })
            .unwrap();
            for e in &w.events {
                assert!(e.at <= now);
                m.apply(e.clone())
                    .unwrap_or_else(|err| panic!("{}: {err} ({:?})", w.lrn, e.kind));
            }
            statuses.insert(format!("{:?}", m.status));
        }
        for s in [
            MovementStatus::Accepted,
            MovementStatus::ReleasedForTransit,
            MovementStatus::GoodsReleased,
            MovementStatus::WrittenOff,
            MovementStatus::NotReleased,
            MovementStatus::UnderEnquiry,
        ] {
            assert!(
                statuses.contains(&format!("{s:?}")),
                "no movement {s:?}: {statuses:?}"
            );
        }
        let again = world_movements(7, 1000, 10, now);
        assert_eq!(
            world
                .iter()
                .map(|w| (&w.lrn, w.accepted_at, w.events.len()))
                .collect::<Vec<_>>(),
            again
                .iter()
                .map(|w| (&w.lrn, w.accepted_at, w.events.len()))
                .collect::<Vec<_>>()
        );
    }
}
