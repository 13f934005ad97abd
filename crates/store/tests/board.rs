//! The movements board: filters on what the caller may see, keyset pages in lodging order, and
//! the data of older databases derived when they are opened.

mod common;

use chrono::Utc;
use common::*;
use smartborder_store::Store;
use smartborder_store::read::{self, BoardQuery};
use smartborder_store::writer::{self, Answer, Command, Request, Stamp, Writer, WriterConfig};
use smartborder_transit::{
    Event, EventKind, MovementStatus, Principal, Route, TransitOffice, country_zone,
};
use sqlx::Connection;

fn route(transit: &[&str], destination: &str) -> Route {
    Route {
        departure: o("KZ000101"),
        transit: transit
            .iter()
            .map(|t| TransitOffice {
                office: o(t),
                estimated_arrival: None,
            })
            .collect(),
        destination: o(destination),
    }
}

fn command(request: Request) -> Command {
    Command {
        actor: "key-KZ".into(),
        principal: Principal::Administration {
            country: "KZ".into(),
        },
        request,
        idempotency_key: None,
        request_sha256: writer::request_sha256("POST", "/t", b""),
        body: Vec::new(),
    }
}

/// Twelve movements: even ones through Azerbaijan to Tbilisi, odd ones straight to Poti;
/// every third one released.
async fn corridor(url: &str) -> (Store, Vec<String>) {
    let store = Store::open(url).await.unwrap();
    let leadership = store.lead(|| {}).await.unwrap();
    let writer = Writer::spawn(store.clone(), leadership, WriterConfig::default());
    let mut lrns = Vec::new();
    for i in 0..12 {
        let r = if i % 2 == 0 {
            route(&["AZ000201"], "GE000301")
        } else {
            route(&[], "GE000302")
        };
        let lrn = format!("BOARD-{i:02}");
        let Answer::Done { movement } = writer
            .submit(command(Request::Lodge {
                lrn: lrn.clone(),
                route: r,
                declaration: None,
                consignment: None,
            }))
            .await
            .unwrap()
        else {
            panic!("lodged")
        };
        if i % 3 == 0 {
            let office = o("KZ000101");
            let answer = writer
                .submit(command(Request::Event {
                    mrn: movement.mrn.unwrap().to_string(),
                    event: Event {
                        zone: country_zone("KZ").unwrap(),
                        kind: EventKind::ReleasedForTransit {
                            limit_date: Utc::now() + chrono::Duration::days(8),
                        },
                        office,
                        at: Utc::now(),
                    },
                    stamp: Stamp::WhenApplied,
                    message: None,
                }))
                .await
                .unwrap();
            assert!(matches!(answer, Answer::Done { .. }));
        }
        lrns.push(lrn);
    }
    (store, lrns)
}

async fn lrns(store: &Store, who: &Principal, q: &BoardQuery) -> Vec<String> {
    read::board(store, who, q)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, m)| m.lrn)
        .collect()
}

fn names(indexes: impl IntoIterator<Item = usize>) -> Vec<String> {
    indexes
        .into_iter()
        .map(|i| format!("BOARD-{i:02}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_filters_what_the_caller_sees_and_pages_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("board.db").display());
    let (store, all) = corridor(&url).await;
    let q = BoardQuery::default();
    assert_eq!(lrns(&store, &admin("KZ"), &q).await, all);
    // Azerbaijan sees the movements through its office only.
    assert_eq!(
        lrns(&store, &admin("AZ"), &q).await,
        names((0..12).step_by(2))
    );
    assert!(lrns(&store, &admin("UZ"), &q).await.is_empty());
    // By office on the route, by country on the route, by status.
    let by_office = BoardQuery {
        office: Some("GE000302".into()),
        ..BoardQuery::default()
    };
    assert_eq!(
        lrns(&store, &admin("KZ"), &by_office).await,
        names((1..12).step_by(2))
    );
    assert!(
        lrns(&store, &admin("AZ"), &by_office).await.is_empty(),
        "not visible to AZ"
    );
    let by_country = BoardQuery {
        country: Some("AZ".into()),
        ..BoardQuery::default()
    };
    assert_eq!(
        lrns(&store, &Principal::Coordinator, &by_country).await,
        names((0..12).step_by(2))
    );
    let released = BoardQuery {
        status: Some(MovementStatus::ReleasedForTransit),
        ..BoardQuery::default()
    };
    assert_eq!(
        lrns(&store, &admin("GE"), &released).await,
        names([0, 3, 6, 9])
    );
    let both = BoardQuery {
        status: Some(MovementStatus::ReleasedForTransit),
        office: Some("AZ000201".into()),
        ..BoardQuery::default()
    };
    assert_eq!(lrns(&store, &admin("KZ"), &both).await, names([0, 6]));
    // Lodging dates.
    let future = BoardQuery {
        lodged_from: Some(Utc::now().timestamp_micros() + 60_000_000),
        ..BoardQuery::default()
    };
    assert!(lrns(&store, &admin("KZ"), &future).await.is_empty());
    let past = BoardQuery {
        lodged_to: Some(Utc::now().timestamp_micros() + 60_000_000),
        lodged_from: Some(Utc::now().timestamp_micros() - 600_000_000),
        ..BoardQuery::default()
    };
    assert_eq!(lrns(&store, &admin("KZ"), &past).await, all);
    // Pages of five, oldest first and newest first, each page after the last one's id.
    for newest_first in [false, true] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = read::board(
                &store,
                &admin("KZ"),
                &BoardQuery {
                    newest_first,
                    after,
                    limit: 5,
                    ..BoardQuery::default()
                },
            )
            .await
            .unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|(id, _)| *id);
            seen.extend(page.into_iter().map(|(_, m)| m.lrn));
        }
        let mut expected = all.clone();
        if newest_first {
            expected.reverse();
        }
        assert_eq!(seen, expected);
    }
}

/// A database written before the board existed gets its offices and lodging instants when it
/// is opened (migration 8 derives them from the movements and their acceptances).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_database_gets_its_board_data_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let (store, all) = corridor(&url).await;
    store.close().await;
    // Back to the schema of migration 7.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for sql in [
        "DROP TABLE movement_offices",
        "DROP INDEX movements_status",
        "DROP INDEX movements_lodged_at",
        "ALTER TABLE movements DROP COLUMN lodged_at",
        "DELETE FROM schema_migrations WHERE version = 8",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    let store = Store::open(&url).await.unwrap();
    let by_office = BoardQuery {
        office: Some("AZ000201".into()),
        lodged_from: Some(Utc::now().timestamp_micros() - 600_000_000),
        ..BoardQuery::default()
    };
    assert_eq!(
        lrns(&store, &admin("KZ"), &by_office).await,
        names((0..12).step_by(2))
    );
    assert_eq!(
        lrns(&store, &admin("KZ"), &BoardQuery::default()).await,
        all
    );
}

/// An amended route moves the movement between offices on the board.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amended_route_moves_the_movement_on_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("amend.db").display());
    let store = Store::open(&url).await.unwrap();
    let leadership = store.lead(|| {}).await.unwrap();
    let writer = Writer::spawn(store.clone(), leadership, WriterConfig::default());
    let Answer::Done { movement } = writer
        .submit(command(Request::Lodge {
            lrn: "AMEND-1".into(),
            route: route(&["AZ000201"], "GE000301"),
            declaration: None,
            consignment: None,
        }))
        .await
        .unwrap()
    else {
        panic!("lodged")
    };
    let answer = writer
        .submit(command(Request::Event {
            mrn: movement.mrn.unwrap().to_string(),
            event: Event {
                zone: country_zone("KZ").unwrap(),
                kind: EventKind::Amended {
                    route: Some(route(&["AZ000202"], "GE000302")),
                },
                office: o("KZ000101"),
                at: Utc::now(),
            },
            stamp: Stamp::WhenApplied,
            message: None,
        }))
        .await
        .unwrap();
    assert!(matches!(answer, Answer::Done { .. }), "{answer:?}");
    let at = |office: &str| BoardQuery {
        office: Some(office.into()),
        ..BoardQuery::default()
    };
    assert!(lrns(&store, &admin("KZ"), &at("AZ000201")).await.is_empty());
    assert_eq!(
        lrns(&store, &admin("KZ"), &at("AZ000202")).await,
        ["AMEND-1"]
    );
    assert_eq!(
        lrns(&store, &admin("KZ"), &at("GE000302")).await,
        ["AMEND-1"]
    );
}

/// Movements taken over from another system keep the board's order: they come in lodging
/// order, after everything already lodged, and never ahead of the service's clock; their
/// later events keep their own times; and the live notification signal moves with commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_over_movements_keep_lodging_order() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::open(&url).await.unwrap();
    let leadership = store.lead(|| {}).await.unwrap();
    let writer = Writer::spawn(store.clone(), leadership, WriterConfig::default());
    let mut notified = writer.notified();
    let take_over = |lrn: &str, days_ago: i64| {
        command(Request::TakeOver {
            lrn: lrn.into(),
            route: route(&["AZ000201"], "GE000301"),
            accepted_at: Utc::now() - chrono::Duration::days(days_ago),
            consignment: None,
        })
    };
    let first = writer.submit(take_over("OLD-1", 10)).await.unwrap();
    let Answer::Done { movement } = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        movement.events[0].at.date_naive(),
        (Utc::now() - chrono::Duration::days(10)).date_naive()
    );
    // An older one after it is refused, as is one ahead of the clock.
    for (lrn, days) in [("OLD-0", 11), ("FUTURE", -1)] {
        let answer = writer.submit(take_over(lrn, days)).await.unwrap();
        assert!(
            matches!(
                answer,
                Answer::Refused {
                    refusal: writer::Refusal::Invalid,
                    ..
                }
            ),
            "{lrn}: {answer:?}"
        );
    }
    assert!(matches!(
        writer.submit(take_over("OLD-2", 9)).await.unwrap(),
        Answer::Done { .. }
    ));
    // The history follows with its own times, and notifies the next administrations.
    let mrn = movement.mrn.unwrap().to_string();
    let before = *notified.borrow_and_update();
    let release = Event {
        kind: EventKind::ReleasedForTransit {
            limit_date: Utc::now(),
        },
        office: o("KZ000101"),
        at: Utc::now() - chrono::Duration::days(9),
        zone: country_zone("KZ").unwrap(),
    };
    let answer = writer
        .submit(command(Request::Event {
            mrn: mrn.clone(),
            event: release,
            stamp: Stamp::Given,
            message: None,
        }))
        .await
        .unwrap();
    assert!(matches!(answer, Answer::Done { .. }), "{answer:?}");
    assert!(notified.has_changed().unwrap());
    assert!(*notified.borrow() > before);
    let query = BoardQuery {
        lodged_to: Some((Utc::now() - chrono::Duration::days(8)).timestamp_micros()),
        ..BoardQuery::default()
    };
    let board = read::board(&store, &admin("KZ"), &query).await.unwrap();
    let lrns: Vec<&str> = board.iter().map(|(_, m)| m.lrn.as_str()).collect();
    assert_eq!(lrns, ["OLD-1", "OLD-2"]);
}
