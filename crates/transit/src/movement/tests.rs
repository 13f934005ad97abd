use chrono::{Duration, TimeZone};
use chrono_tz::Tz;

use super::*;
use crate::corridor::{LegKind, legs, route_key};

fn o(s: &str) -> OfficeRef {
    OfficeRef::parse(s).unwrap()
}

/// Kazakhstan (Khorgos) -> Azerbaijan (Alat) -> Georgia (Tbilisi), three administrations.
fn route() -> Route {
    Route {
        departure: o("KZ000101"),
        transit: vec![
            TransitOffice {
                office: o("AZ000201"),
                estimated_arrival: None,
            },
            TransitOffice {
                office: o("GE000202"),
                estimated_arrival: None,
            },
        ],
        destination: o("GE000301"),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap()
}

fn ev(kind: EventKind, office: &str, hours: i64) -> Event {
    let zone: Tz = match &office[..2] {
        "KZ" => "Asia/Almaty",
        "AZ" => "Asia/Baku",
        _ => "Asia/Tbilisi",
    }
    .parse()
    .unwrap();
    Event {
        kind,
        office: o(office),
        at: t0() + Duration::hours(hours),
        zone,
    }
}

fn released() -> Movement {
    let mut m = Movement::lodged("LRN-1", route());
    let mrn = Mrn::allocate(2026, "KZ", 1, 'J');
    m.apply(ev(EventKind::Amended { route: None }, "KZ000101", 0))
        .unwrap();
    m.apply(ev(EventKind::Accepted { mrn: mrn.clone() }, "KZ000101", 1))
        .unwrap();
    m.apply(ev(
        EventKind::ReleasedForTransit {
            limit_date: t0() + Duration::days(8),
        },
        "KZ000101",
        2,
    ))
    .unwrap();
    assert_eq!(m.mrn, Some(mrn));
    m
}

#[test]
fn a_movement_crosses_three_administrations_to_write_off() {
    let mut m = released();
    for (kind, office, h) in [
        (EventKind::AnticipatedTransitRecord, "AZ000201", 2),
        (EventKind::AnticipatedTransitRecord, "GE000202", 2),
        (EventKind::ArrivalAtTransit, "AZ000201", 50),
        (
            EventKind::Incident {
                description: "seal replaced".into(),
            },
            "AZ000201",
            51,
        ),
        (EventKind::FrontierCrossed, "AZ000201", 54),
        (EventKind::ArrivalAtTransit, "GE000202", 60),
        (EventKind::FrontierCrossed, "GE000202", 61),
        (EventKind::ArrivalAtDestination, "GE000301", 70),
        (
            EventKind::UnloadingRemarks { conform: true },
            "GE000301",
            72,
        ),
        (EventKind::GoodsReleased, "GE000301", 73),
        (EventKind::WrittenOff, "KZ000101", 74),
    ] {
        m.apply(ev(kind.clone(), office, h))
            .unwrap_or_else(|e| panic!("{kind:?} at {office}: {e}"));
    }
    assert_eq!(m.status, MovementStatus::WrittenOff);
    assert_eq!(m.events.len(), 14);
    assert_eq!(
        m.transit_progress[0].frontier_crossed,
        Some(t0() + Duration::hours(54))
    );
    // Every event keeps its office's zone; local time is recoverable.
    let arrival = &m.events[5];
    assert_eq!(arrival.zone.name(), "Asia/Baku");
    assert_eq!(
        arrival
            .at
            .with_timezone(&arrival.zone)
            .format("%H:%M")
            .to_string(),
        "12:00"
    );
    // The closed movement accepts nothing more.
    let e = m
        .apply(ev(
            EventKind::Incident {
                description: "late".into(),
            },
            "GE000301",
            80,
        ))
        .unwrap_err();
    assert!(e.to_string().contains("the movement is closed"), "{e}");

    // Corridor times: departure -> AZ 48 h, at AZ 4 h, AZ -> GE 6 h, at GE 1 h, GE -> destination 9 h.
    let measured = legs(&m);
    let l: Vec<(LegKind, &str, &str, f64)> = measured
        .iter()
        .map(|l| (l.kind, l.from.as_str(), l.to.as_str(), l.hours()))
        .collect();
    assert_eq!(
        l,
        vec![
            (LegKind::FromDeparture, "KZ000101", "AZ000201", 48.0),
            (LegKind::AtOffice, "AZ000201", "AZ000201", 4.0),
            (LegKind::BorderCrossing, "AZ000201", "GE000202", 6.0),
            (LegKind::AtOffice, "GE000202", "GE000202", 1.0),
            (LegKind::BorderCrossing, "GE000202", "GE000301", 9.0),
            (LegKind::EndToEnd, "KZ000101", "GE000301", 68.0),
        ]
    );
    assert_eq!(route_key(&m), "KZ-AZ-GE");
}

#[test]
fn illegal_transitions_are_refused_and_change_nothing() {
    let mut m = Movement::lodged("LRN-2", route());
    let before = m.clone();
    let refuse = |m: &mut Movement, e: Event, text: &str| {
        let snapshot = m.clone();
        let err = m.apply(e).unwrap_err().to_string();
        assert!(err.contains(text), "{err} should contain {text}");
        assert_eq!(*m, snapshot, "a refused event changes nothing");
    };
    refuse(
        &mut m,
        ev(
            EventKind::ReleasedForTransit {
                limit_date: t0() + Duration::days(1),
            },
            "KZ000101",
            1,
        ),
        "release is decided on an accepted declaration",
    );
    refuse(
        &mut m,
        ev(EventKind::ArrivalAtDestination, "GE000301", 1),
        "arrival needs a movement released for transit",
    );
    refuse(
        &mut m,
        ev(
            EventKind::Accepted {
                mrn: Mrn::allocate(2026, "KZ", 2, 'J'),
            },
            "AZ000201",
            1,
        ),
        "only the office of departure (KZ000101) decides this",
    );
    assert_eq!(m, before);

    let mut m = released();
    refuse(
        &mut m,
        ev(EventKind::Amended { route: None }, "KZ000101", 3),
        "only before release",
    );
    refuse(
        &mut m,
        ev(EventKind::Invalidated { reason: "x".into() }, "KZ000101", 3),
        "only before release",
    );
    refuse(
        &mut m,
        ev(EventKind::FrontierCrossed, "AZ000201", 3),
        "arrival_at_transit comes first",
    );
    refuse(
        &mut m,
        ev(EventKind::ArrivalAtTransit, "TR000001", 3),
        "not an office of transit of this movement (AZ000201, GE000202)",
    );
    refuse(
        &mut m,
        ev(EventKind::ArrivalAtDestination, "AZ000999", 3),
        "an office of the destination country (GE",
    );
    refuse(
        &mut m,
        ev(EventKind::ArrivalAtTransit, "AZ000201", 1),
        "earlier than the movement's last event",
    );
    refuse(
        &mut m,
        ev(EventKind::WrittenOff, "KZ000101", 3),
        "after the goods are released",
    );
    refuse(
        &mut m,
        ev(EventKind::EnquiryOpened, "KZ000101", 3),
        "only after the limit date",
    );
    m.apply(ev(EventKind::ArrivalAtTransit, "AZ000201", 4))
        .unwrap();
    refuse(
        &mut m,
        ev(EventKind::ArrivalAtTransit, "AZ000201", 5),
        "already recorded",
    );
    // Arrival at another office of the destination country is allowed and remembered; only
    // that office may then record unloading and release.
    m.apply(ev(EventKind::ArrivalAtDestination, "GE000399", 6))
        .unwrap();
    assert_eq!(m.actual_destination, Some(o("GE000399")));
    refuse(
        &mut m,
        ev(EventKind::GoodsReleased, "GE000301", 7),
        "only the office where the goods arrived (GE000399)",
    );
}

#[test]
fn rejection_invalidation_and_no_release_close_the_movement() {
    let mut m = Movement::lodged("LRN-3", route());
    m.apply(ev(
        EventKind::Rejected {
            reason: "guarantee invalid".into(),
        },
        "KZ000101",
        1,
    ))
    .unwrap();
    assert_eq!(m.status, MovementStatus::Rejected);
    assert!(m.status.is_final());

    let mut m = Movement::lodged("LRN-4", route());
    m.apply(ev(
        EventKind::Accepted {
            mrn: Mrn::allocate(2026, "KZ", 4, 'J'),
        },
        "KZ000101",
        1,
    ))
    .unwrap();
    m.apply(ev(
        EventKind::Invalidated {
            reason: "declarant request".into(),
        },
        "KZ000101",
        2,
    ))
    .unwrap();
    assert_eq!(m.status, MovementStatus::Invalidated);

    let mut m = Movement::lodged("LRN-5", route());
    m.apply(ev(
        EventKind::Accepted {
            mrn: Mrn::allocate(2026, "KZ", 5, 'J'),
        },
        "KZ000101",
        1,
    ))
    .unwrap();
    m.apply(ev(
        EventKind::NotReleased {
            reason: "control result".into(),
        },
        "KZ000101",
        2,
    ))
    .unwrap();
    assert_eq!(m.status, MovementStatus::NotReleased);
    assert!(
        m.apply(ev(EventKind::ArrivalAtTransit, "AZ000201", 3))
            .is_err()
    );
}

#[test]
fn a_late_movement_goes_to_enquiry_and_may_still_arrive() {
    let mut m = released();
    let limit = m.limit_date.unwrap();
    assert!(!m.enquiry_due(limit));
    assert!(m.enquiry_due(limit + Duration::seconds(1)));
    m.apply(ev(EventKind::EnquiryOpened, "KZ000101", 8 * 24 + 1))
        .unwrap();
    assert_eq!(m.status, MovementStatus::UnderEnquiry);
    assert!(
        !m.enquiry_due(limit + Duration::days(1)),
        "one enquiry per movement"
    );
    // The goods turn up: arrival ends the enquiry.
    let mut arrived = m.clone();
    arrived
        .apply(ev(EventKind::ArrivalAtDestination, "GE000301", 8 * 24 + 5))
        .unwrap();
    assert_eq!(arrived.status, MovementStatus::ArrivedAtDestination);
    // They do not: recovery closes it.
    m.apply(ev(EventKind::RecoveryStarted, "KZ000101", 40 * 24))
        .unwrap();
    assert!(m.status.is_final());
}

#[test]
fn events_serialise_with_their_type_office_instant_and_zone() {
    let e = ev(
        EventKind::Incident {
            description: "seal".into(),
        },
        "AZ000201",
        3,
    );
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(
        json,
        r#"{"type":"incident","description":"seal","office":"AZ000201","at":"2026-03-02T09:00:00Z","zone":"Asia/Baku"}"#
    );
    let back: Event = serde_json::from_str(&json).unwrap();
    assert_eq!(back, e);
    // A malformed office reference is refused when read.
    let bad = json.replace("AZ000201", "az-1");
    assert!(
        serde_json::from_str::<Event>(&bad)
            .unwrap_err()
            .to_string()
            .contains("customs office reference \"az-1\"")
    );
}

#[test]
fn an_amendment_may_change_the_route_but_not_the_office_of_departure() {
    let mut m = Movement::lodged("LRN-2", route());
    m.apply(ev(
        EventKind::Accepted {
            mrn: Mrn::allocate(2026, "KZ", 2, 'J'),
        },
        "KZ000101",
        0,
    ))
    .unwrap();
    let amended = Route {
        departure: o("KZ000101"),
        transit: vec![TransitOffice {
            office: o("AZ000201"),
            estimated_arrival: None,
        }],
        destination: o("AZ000999"),
    };
    m.apply(ev(
        EventKind::Amended {
            route: Some(amended.clone()),
        },
        "KZ000101",
        1,
    ))
    .unwrap();
    assert_eq!(m.route, amended);
    assert_eq!(m.transit_progress.len(), 1);
    assert_eq!(m.status, MovementStatus::Accepted);

    let elsewhere = Route {
        departure: o("KZ000102"),
        ..amended.clone()
    };
    let before = m.clone();
    let err = m
        .apply(ev(
            EventKind::Amended {
                route: Some(elsewhere),
            },
            "KZ000101",
            2,
        ))
        .unwrap_err();
    assert!(
        err.to_string().contains("keeps the office of departure"),
        "{err}"
    );
    assert_eq!(m, before, "a refused amendment changes nothing");
}

/// The service's clock bounds an event's time: not more than the skew ahead (a date far in
/// the future would block every later event), and enquiry or recovery only once the limit
/// date has passed by that clock, whatever time the caller gives the event.
#[test]
fn the_clock_refuses_future_events_and_early_enquiries() {
    let m = released();
    let skew = Duration::minutes(5);
    let now = t0() + Duration::hours(3);
    let incident = |at: DateTime<Utc>| Event {
        at,
        ..ev(
            EventKind::Incident {
                description: "x".into(),
            },
            "KZ000101",
            0,
        )
    };
    assert_eq!(m.check_clock(&incident(now + skew), now, skew), Ok(()));
    let far = Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).unwrap();
    assert!(matches!(
        m.check_clock(&incident(far), now, skew),
        Err(ClockError::InTheFuture { .. })
    ));
    assert!(matches!(
        m.check_clock(&incident(now + skew + Duration::seconds(1)), now, skew),
        Err(ClockError::InTheFuture { .. })
    ));
    // The limit date is 8 days after t0. An enquiry dated after it but sent before it has
    // passed by the clock is refused; once the clock has passed it, it is allowed.
    let limit = m.limit_date.unwrap();
    let enquiry = |at: DateTime<Utc>| Event {
        at,
        ..ev(EventKind::EnquiryOpened, "KZ000101", 0)
    };
    assert!(matches!(
        m.check_clock(&enquiry(now), now, skew),
        Err(ClockError::LimitDateNotPassed { .. })
    ));
    assert!(matches!(
        m.check_clock(&enquiry(limit), limit, skew),
        Err(ClockError::LimitDateNotPassed { .. })
    ));
    let later = limit + Duration::seconds(1);
    assert_eq!(m.check_clock(&enquiry(later), later, skew), Ok(()));
    let recovery = Event {
        at: now,
        ..ev(EventKind::RecoveryStarted, "KZ000101", 0)
    };
    assert!(m.check_clock(&recovery, now, skew).is_err());
    // A limit date more than a year after the release.
    let release = |days| Event {
        at: now,
        ..ev(
            EventKind::ReleasedForTransit {
                limit_date: now + Duration::days(days),
            },
            "KZ000101",
            0,
        )
    };
    let fresh = Movement::lodged("LRN-9", route());
    assert_eq!(
        fresh.check_clock(&release(MAX_LIMIT_DAYS), now, skew),
        Ok(())
    );
    assert!(matches!(
        fresh.check_clock(&release(MAX_LIMIT_DAYS + 1), now, skew),
        Err(ClockError::LimitDateTooFar { .. })
    ));
}

#[test]
fn event_texts_follow_the_text_rule() {
    let ok = ev(
        EventKind::Incident {
            description: "Seal replaced at Alat".into(),
        },
        "AZ000201",
        0,
    );
    assert_eq!(ok.check_text(), Ok(()));
    for kind in [
        EventKind::Incident {
            description: "a\u{0}b".into(),
        },
        EventKind::Rejected {
            reason: "\u{202E}gnorw".into(),
        },
        EventKind::Invalidated {
            reason: "x".repeat(513),
        },
    ] {
        assert!(
            ev(kind.clone(), "KZ000101", 0).check_text().is_err(),
            "{kind:?}"
        );
    }
}

/// After release, an invalidation request waits for the office of departure (IE014 / IE009):
/// refused, the movement goes on; accepted, it is invalidated; once the goods have been
/// presented en route, it can only be refused.
#[test]
fn invalidation_after_release_is_decided_by_the_office_of_departure() {
    let request = |hours| {
        ev(
            EventKind::InvalidationRequested {
                reason: "goods not loaded".into(),
                initiated_by_customs: false,
            },
            "KZ000101",
            hours,
        )
    };
    let decision = |accepted, hours| {
        ev(
            EventKind::InvalidationDecided {
                accepted,
                reason: None,
            },
            "KZ000101",
            hours,
        )
    };
    let mut m = released();
    assert!(m.apply(decision(true, 3)).is_err(), "nothing pending");
    m.apply(request(3)).unwrap();
    assert_eq!(m.status, MovementStatus::ReleasedForTransit);
    assert!(m.pending_invalidation.is_some());
    assert!(matches!(
        m.apply(request(3)),
        Err(TransitionError::Repeated { .. })
    ));
    // Only the office of departure decides.
    assert!(matches!(
        m.apply(ev(
            EventKind::InvalidationDecided {
                accepted: true,
                reason: None
            },
            "AZ000201",
            4
        )),
        Err(TransitionError::WrongOffice { .. })
    ));
    m.apply(decision(false, 4)).unwrap();
    assert_eq!(m.status, MovementStatus::ReleasedForTransit);
    assert!(m.pending_invalidation.is_none());
    m.apply(request(5)).unwrap();
    m.apply(decision(true, 6)).unwrap();
    assert_eq!(m.status, MovementStatus::Invalidated);

    // Once the goods arrived at an office of transit, only a refusal.
    let mut m = released();
    m.apply(request(3)).unwrap();
    m.apply(ev(EventKind::ArrivalAtTransit, "AZ000201", 4))
        .unwrap();
    assert!(m.apply(decision(true, 5)).is_err());
    m.apply(decision(false, 5)).unwrap();

    // Before release the request is granted at once.
    let mut m = Movement::lodged("LRN-2", route());
    m.apply(ev(
        EventKind::Accepted {
            mrn: Mrn::allocate(2026, "KZ", 9, 'J'),
        },
        "KZ000101",
        0,
    ))
    .unwrap();
    m.apply(request(1)).unwrap();
    assert_eq!(m.status, MovementStatus::Invalidated);
}
