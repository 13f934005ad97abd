//! The store on SQLite, and on PostgreSQL when `SMARTBORDER_TEST_POSTGRES_URL` names a
//! database (`.ci/run` starts a throwaway cluster and sets it): the same scenario on both.

mod common;

use chrono::{Duration, Utc};
use common::*;
use smartborder_store::audit;
use smartborder_store::writer::{
    self, Answer, Command, Refusal, Request, Stamp, Writer, WriterConfig,
};
use smartborder_store::{Store, keys, read};
use smartborder_transit::{Event, EventKind, MovementStatus, Principal, country_zone};

fn command(country: &str, request: Request, key: Option<&str>) -> Command {
    let body = format!("{request:?}").into_bytes();
    Command {
        actor: format!("key-{country}"),
        principal: admin(country),
        request_sha256: writer::request_sha256("POST", "/test", &body),
        request,
        idempotency_key: key.map(str::to_string),
        body,
    }
}

async fn open_and_lead(url: &str) -> (Store, Writer) {
    let store = Store::open(url).await.unwrap();
    let leadership = store.lead(|| {}).await.unwrap();
    let writer = Writer::spawn(store.clone(), leadership, WriterConfig::default());
    (store, writer)
}

fn event(kind: EventKind, office: &str, minutes: i64) -> Event {
    let office = o(office);
    Event {
        zone: country_zone(office.country()).unwrap(),
        kind,
        office,
        at: Utc::now() + Duration::minutes(minutes),
    }
}

async fn scenario(url: &str) {
    let (store, writer) = open_and_lead(url).await;

    let (key_id, token) = keys::create(&store, "KZ customs", &admin("KZ"))
        .await
        .unwrap();
    let (found, who) = keys::authenticate(&store, &token).await.unwrap().unwrap();
    assert_eq!((found.as_str(), who), (key_id.as_str(), admin("KZ")));
    assert!(
        keys::authenticate(&store, "sbk_wrong")
            .await
            .unwrap()
            .is_none()
    );

    // Unique per run, so the scenario can run again on the same database.
    let lrn = format!("LRN-{}", Utc::now().timestamp_micros());
    let key = format!("idem-{lrn}");
    let lodged = writer
        .submit(command(
            "KZ",
            Request::Lodge {
                lrn: lrn.clone(),
                route: route(),
                declaration: None,
                consignment: None,
            },
            Some(&key),
        ))
        .await
        .unwrap();
    let Answer::Done { movement } = lodged.clone() else {
        panic!("{lodged:?}")
    };
    let mrn = movement.mrn.clone().unwrap().to_string();
    assert_eq!(movement.status, MovementStatus::Accepted);
    // The same idempotency key replays the answer; nothing new is written.
    let replay = writer
        .submit(command(
            "KZ",
            Request::Lodge {
                lrn: lrn.clone(),
                route: route(),
                declaration: None,
                consignment: None,
            },
            Some(&key),
        ))
        .await
        .unwrap();
    assert_eq!(replay, lodged);
    // Without it, the LRN is a duplicate.
    let dup = writer
        .submit(command(
            "KZ",
            Request::Lodge {
                lrn: lrn.clone(),
                route: route(),
                declaration: None,
                consignment: None,
            },
            None,
        ))
        .await
        .unwrap();
    assert!(
        matches!(
            dup,
            Answer::Refused {
                refusal: Refusal::Conflict,
                ..
            }
        ),
        "{dup:?}"
    );
    // Georgia cannot lodge from a Kazakh office.
    let foreign = writer
        .submit(command(
            "GE",
            Request::Lodge {
                lrn: "X".into(),
                route: route(),
                declaration: None,
                consignment: None,
            },
            None,
        ))
        .await
        .unwrap();
    assert!(matches!(
        foreign,
        Answer::Refused {
            refusal: Refusal::Forbidden,
            ..
        }
    ));

    // Many events at once: one batch, all durable, in order.
    let release = EventKind::ReleasedForTransit {
        limit_date: Utc::now() + Duration::days(8),
    };
    let steps = [
        ("KZ", release, "KZ000101", 1),
        ("AZ", EventKind::ArrivalAtTransit, "AZ000201", 2),
        ("AZ", EventKind::FrontierCrossed, "AZ000201", 3),
        ("GE", EventKind::ArrivalAtDestination, "GE000301", 4),
    ];
    let submit = |k: usize| {
        let (c, kind, office, m) = &steps[k];
        writer.submit(command(
            c,
            Request::Event {
                mrn: mrn.clone(),
                event: event(kind.clone(), office, *m),
                stamp: Stamp::Given,
                message: None,
            },
            None,
        ))
    };
    // join! polls in order, so the four requests queue in order and commit together.
    let (a, b, c, d) = tokio::join!(submit(0), submit(1), submit(2), submit(3));
    for (answer, step) in [a, b, c, d].into_iter().zip(&steps) {
        assert!(
            matches!(answer.unwrap(), Answer::Done { .. }),
            "{:?}",
            step.1
        );
    }
    // Refusals: Azerbaijan posting at a Georgian office; Uzbekistan not on the route.
    let wrong_office = writer
        .submit(command(
            "AZ",
            Request::Event {
                mrn: mrn.clone(),
                event: event(EventKind::GoodsReleased, "GE000301", 5),
                stamp: Stamp::Given,
                message: None,
            },
            None,
        ))
        .await
        .unwrap();
    assert!(matches!(
        wrong_office,
        Answer::Refused {
            refusal: Refusal::Forbidden,
            ..
        }
    ));
    let not_on_route = writer
        .submit(command(
            "UZ",
            Request::Event {
                mrn: mrn.clone(),
                event: event(EventKind::GoodsReleased, "UZ000001", 5),
                stamp: Stamp::Given,
                message: None,
            },
            None,
        ))
        .await
        .unwrap();
    assert!(matches!(
        not_on_route,
        Answer::Refused {
            refusal: Refusal::NotFound,
            ..
        }
    ));

    let stored = read::movement(&store, &mrn).await.unwrap().unwrap();
    assert_eq!(stored.status, MovementStatus::ArrivedAtDestination);
    assert_eq!(read::event_count(&store, &mrn).await.unwrap(), 5);

    // Visibility: AZ and GE see it, UZ does not, the coordinator does.
    let ids = |v: Vec<(i64, smartborder_transit::Movement)>| {
        v.into_iter().filter(|(_, m)| m.lrn == lrn).count()
    };
    assert_eq!(
        ids(read::visible_movements(&store, &admin("AZ"), 0, 10_000)
            .await
            .unwrap()),
        1
    );
    assert_eq!(
        ids(read::visible_movements(&store, &admin("UZ"), 0, 10_000)
            .await
            .unwrap()),
        0
    );
    assert_eq!(
        ids(
            read::visible_movements(&store, &Principal::Coordinator, 0, 10_000)
                .await
                .unwrap()
        ),
        1
    );

    // Georgia's feed: the release (with the anticipated transit record), then the AZ events,
    // in order; nothing about its own arrival.
    let feed: Vec<_> = read::notifications(&store, &admin("GE"), 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.body["mrn"] == mrn.as_str())
        .collect();
    let types: Vec<&str> = feed
        .iter()
        .map(|n| n.body["event"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "released_for_transit",
            "arrival_at_transit",
            "frontier_crossed"
        ]
    );
    assert!(feed[0].body["anticipated_transit_record"]["route"].is_object());
    assert!(feed.windows(2).all(|w| w[0].id < w[1].id));
    let after = read::notifications(&store, &admin("GE"), feed[1].id, 10_000)
        .await
        .unwrap();
    assert!(after.iter().all(|n| n.id > feed[1].id));

    // The audit chain holds every write; revoking a key is audited too.
    assert!(keys::revoke(&store, &key_id).await.unwrap());
    assert!(!keys::revoke(&store, &key_id).await.unwrap());
    assert!(keys::authenticate(&store, &token).await.unwrap().is_none());
    let v = audit::verify(&store, None, &[]).await.unwrap();
    assert!(v.intact(), "{:?}", v.problems);
    assert!(v.entries >= 7, "{v:?}");
    assert!(v.events_checked >= 5 && v.keys_checked >= 1, "{v:?}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("transit.db").display());
    scenario(&url).await;
    // Reopen: everything is still there and the log is intact.
    let store = Store::open(&url).await.unwrap();
    assert!(audit::verify(&store, None, &[]).await.unwrap().intact());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: SMARTBORDER_TEST_POSTGRES_URL (.ci/run starts a cluster)"]
async fn postgres_scenario() {
    let url = std::env::var("SMARTBORDER_TEST_POSTGRES_URL")
        .expect("SMARTBORDER_TEST_POSTGRES_URL names a database (.ci/run starts one)");
    scenario(&url).await;
}

#[tokio::test]
async fn bad_urls_are_named() {
    let e = Store::open("mysql://x").await.err().unwrap().to_string();
    assert!(
        e.contains("mysql://x") && e.contains("sqlite://FILE"),
        "{e}"
    );
}
