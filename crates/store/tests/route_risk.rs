//! Risk on the route in the store: a lodgement with goods queues one assessment per
//! administration on the route (none without goods); an assessment is kept once, even when the
//! assessor sends it twice; it goes to its administration's feed only, out of the coordinator's.

mod common;

use common::*;
use smartborder_store::writer::{
    self, Answer, AssessmentRecord, Command, Request, Writer, WriterConfig,
};
use smartborder_store::{Store, read, route_risk};
use smartborder_transit::{Consignment, GoodsItem, Principal};

fn command(principal: Principal, request: Request) -> Command {
    Command {
        actor: "test".into(),
        principal,
        request,
        idempotency_key: None,
        request_sha256: writer::request_sha256("POST", "/t", b""),
        body: Vec::new(),
    }
}

fn goods() -> Consignment {
    Consignment {
        seals: Some(0),
        items: vec![GoodsItem {
            commodity_code: Some("85176200".into()),
            description: "Network switches".into(),
            ..GoodsItem::default()
        }],
        ..Consignment::default()
    }
}

#[tokio::test]
async fn assessments_are_queued_per_administration_and_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::open(&url).await.unwrap();
    let leadership = store.lead(|| {}).await.unwrap();
    let writer = Writer::spawn(store.clone(), leadership, WriterConfig::default());
    let lodge = |lrn: &str, consignment: Option<Consignment>| {
        command(
            admin("KZ"),
            Request::Lodge {
                lrn: lrn.into(),
                route: route(),
                declaration: None,
                consignment: consignment.map(Box::new),
            },
        )
    };
    let Answer::Done { .. } = writer.submit(lodge("NO-GOODS", None)).await.unwrap() else {
        panic!("lodged")
    };
    assert!(route_risk::queued(&store, 100).await.unwrap().is_empty());
    let Answer::Done { movement } = writer.submit(lodge("GOODS", Some(goods()))).await.unwrap()
    else {
        panic!("lodged")
    };
    let mrn = movement.mrn.unwrap().to_string();
    let queued = route_risk::queued(&store, 100).await.unwrap();
    let who: Vec<(&str, &str, &str)> = queued
        .iter()
        .map(|q| (q.country.as_str(), q.office.as_str(), q.trigger.as_str()))
        .collect();
    assert_eq!(
        who,
        [
            ("KZ", "KZ000101", "lodgement"),
            ("AZ", "AZ000201", "lodgement"),
            ("GE", "GE000301", "lodgement")
        ]
    );
    assert_eq!(queued[1].consignment.as_ref().unwrap(), &goods());

    // AZ's assessment, sent twice (a retry after a lost answer): kept once.
    let record = AssessmentRecord {
        queue_id: queued[1].queue_id,
        movement_id: queued[1].movement_id,
        mrn: mrn.clone(),
        country: "AZ".into(),
        lane: "yellow".into(),
        body: Some(r#"{"lane":"yellow","hits":["AZ-UNSEALED"],"propensity":1.0}"#.into()),
    };
    for _ in 0..2 {
        let assessed = Request::Assessed {
            assessments: vec![record.clone()],
        };
        writer
            .submit(command(Principal::Coordinator, assessed))
            .await
            .unwrap();
    }
    let kept = route_risk::assessments(&store, queued[1].movement_id, "AZ")
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].lane, "yellow");
    assert!(
        route_risk::assessments(&store, queued[1].movement_id, "GE")
            .await
            .unwrap()
            .is_empty()
    );
    // KZ and GE have nothing to assess with: their entries are only taken off the queue.
    let skipped: Vec<AssessmentRecord> = [&queued[0], &queued[2]]
        .iter()
        .map(|q| AssessmentRecord {
            queue_id: q.queue_id,
            movement_id: q.movement_id,
            mrn: mrn.clone(),
            country: q.country.clone(),
            lane: String::new(),
            body: None,
        })
        .collect();
    writer
        .submit(command(
            Principal::Coordinator,
            Request::Assessed {
                assessments: skipped,
            },
        ))
        .await
        .unwrap();
    assert!(route_risk::queued(&store, 100).await.unwrap().is_empty());

    // The feeds: AZ has its assessment; GE and the coordinator do not.
    let feed = |who: Principal| {
        let store = store.clone();
        async move {
            serde_json::to_string(&read::notifications(&store, &who, 0, 100).await.unwrap())
                .unwrap()
        }
    };
    assert!(feed(admin("AZ")).await.contains("AZ-UNSEALED"));
    assert!(!feed(admin("GE")).await.contains("AZ-UNSEALED"));
    assert!(!feed(Principal::Coordinator).await.contains("AZ-UNSEALED"));
}
