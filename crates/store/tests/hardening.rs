//! The store's answers to the outside review (issue 9), each test failing before its fix:
//! unpredictable MRNs, idempotency keys bound to their request, the service's clock, the
//! blast radius of one unreadable row, one writer per SQLite file, a named start-up failure,
//! and tampering that the audit verification must see.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::*;
use smartborder_store::audit::{self, Checkpoint};
use smartborder_store::writer::{
    self, Answer, Command, Refusal, Request, Stamp, Writer, WriterConfig,
};
use smartborder_store::{Store, keys, read};
use smartborder_transit::{Event, EventKind, Movement, Principal, country_zone};
use sqlx::Connection;

fn command(country: &str, request: Request, key: Option<&str>, body: &str) -> Command {
    Command {
        actor: format!("key-{country}"),
        principal: admin(country),
        request,
        idempotency_key: key.map(str::to_string),
        request_sha256: writer::request_sha256("POST", "/api/v1/test", body.as_bytes()),
        body: body.as_bytes().to_vec(),
    }
}

fn lodge(lrn: &str) -> Request {
    Request::Lodge {
        lrn: lrn.to_string(),
        route: route(),
        declaration: None,
        consignment: None,
    }
}

fn event_at(
    kind: EventKind,
    office: &str,
    at: chrono::DateTime<Utc>,
    stamp: Stamp,
    mrn: &str,
) -> Request {
    let office = o(office);
    Request::Event {
        mrn: mrn.to_string(),
        event: Event {
            zone: country_zone(office.country()).unwrap(),
            kind,
            office,
            at,
        },
        stamp,
        message: None,
    }
}

struct Db {
    _dir: tempfile::TempDir,
    url: String,
    store: Store,
    writer: Writer,
}

async fn db_with(config: WriterConfig) -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("transit.db").display());
    let store = Store::open(&url).await.unwrap();
    let leadership = store.lead(|| {}).await.unwrap();
    let writer = Writer::spawn(store.clone(), leadership, config);
    Db {
        _dir: dir,
        url,
        store,
        writer,
    }
}

async fn db() -> Db {
    db_with(WriterConfig::default()).await
}

/// A raw connection, as someone with access to the database file would have.
async fn raw(url: &str) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(url).await.unwrap()
}

async fn lodged(db: &Db, lrn: &str) -> String {
    match db
        .writer
        .submit(command("KZ", lodge(lrn), None, lrn))
        .await
        .unwrap()
    {
        Answer::Done { movement } => movement.mrn.unwrap().to_string(),
        other => panic!("{other:?}"),
    }
}

async fn released(db: &Db, lrn: &str) -> String {
    let mrn = lodged(db, lrn).await;
    let release = event_at(
        EventKind::ReleasedForTransit {
            limit_date: Utc::now() + Duration::days(8),
        },
        "KZ000101",
        Utc::now(),
        Stamp::WhenApplied,
        &mrn,
    );
    let answer = db
        .writer
        .submit(command("KZ", release, None, "release"))
        .await
        .unwrap();
    assert!(matches!(answer, Answer::Done { .. }), "{answer:?}");
    mrn
}

fn refusal(answer: &Answer) -> Option<Refusal> {
    match answer {
        Answer::Refused { refusal, .. } => Some(*refusal),
        _ => None,
    }
}

/// MRNs were sequential (`...01J9`, `...02J8`): the unique part is now drawn at random, so one
/// MRN says nothing of the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mrns_are_unpredictable() {
    let db = db().await;
    let mut uniques = Vec::new();
    for i in 0..40 {
        let mrn = lodged(&db, &format!("MRN-{i}")).await;
        assert!(smartborder_transit::Mrn::parse(&mrn).is_ok(), "{mrn}");
        assert!(
            mrn.starts_with(&format!("{:02}KZ", Utc::now().format("%y"))),
            "{mrn}"
        );
        uniques.push(u64::from_str_radix(&mrn[4..16], 36).unwrap());
    }
    let mut sorted = uniques.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), uniques.len(), "MRNs are unique");
    // Consecutive lodgements are far apart (a sequence would differ by 1).
    assert!(
        uniques.windows(2).all(|w| w[0].abs_diff(w[1]) > 1_000_000),
        "{uniques:?}"
    );
    // They use the whole range, not only its start.
    assert!(
        uniques
            .iter()
            .any(|u| *u > smartborder_transit::mrn::UNIQUE_PARTS / 2)
    );
}

/// A reused key with another body or endpoint returned the first answer and silently did not
/// write. It is now refused with 422 (Invalid); the same request still replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_are_bound_to_their_request() {
    let db = db().await;
    let first = db
        .writer
        .submit(command("KZ", lodge("IDEM-1"), Some("k1"), "body one"))
        .await
        .unwrap();
    assert!(matches!(first, Answer::Done { .. }));
    let replay = db
        .writer
        .submit(command("KZ", lodge("IDEM-1"), Some("k1"), "body one"))
        .await
        .unwrap();
    assert_eq!(replay, first);
    let other = db
        .writer
        .submit(command("KZ", lodge("IDEM-2"), Some("k1"), "body two"))
        .await
        .unwrap();
    assert_eq!(refusal(&other), Some(Refusal::Invalid), "{other:?}");
    let Answer::Refused { message, .. } = &other else {
        unreachable!()
    };
    assert!(message.contains("another request"), "{message}");
    // The other administration's key space is its own.
    let az = db
        .writer
        .submit(Command {
            actor: "key-AZ".into(),
            ..command("KZ", lodge("IDEM-3"), Some("k1"), "body three")
        })
        .await
        .unwrap();
    assert!(matches!(az, Answer::Done { .. }), "{az:?}");
    // The same key on another endpoint (same body) is refused too.
    let mut elsewhere = command("KZ", lodge("IDEM-1"), Some("k1"), "body one");
    elsewhere.request_sha256 = writer::request_sha256("POST", "/api/v1/other", b"body one");
    let elsewhere = db.writer.submit(elsewhere).await.unwrap();
    assert_eq!(refusal(&elsewhere), Some(Refusal::Invalid));
}

/// An incident dated 9999-12-31 was accepted and blocked every later event; an enquiry was
/// accepted right after release. Both are now refused by the service's clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_clock_bounds_event_times() {
    let db = db().await;
    let mrn = released(&db, "CLOCK-1").await;
    let far = chrono::DateTime::parse_from_rfc3339("9999-12-31T00:00:00Z")
        .unwrap()
        .to_utc();
    let incident = |at| {
        event_at(
            EventKind::Incident {
                description: "x".into(),
            },
            "KZ000101",
            at,
            Stamp::Given,
            &mrn,
        )
    };
    let answer = db
        .writer
        .submit(command("KZ", incident(far), None, "a"))
        .await
        .unwrap();
    assert_eq!(refusal(&answer), Some(Refusal::Invalid), "{answer:?}");
    let answer = db
        .writer
        .submit(command(
            "KZ",
            incident(Utc::now() + Duration::minutes(6)),
            None,
            "b",
        ))
        .await
        .unwrap();
    assert_eq!(refusal(&answer), Some(Refusal::Invalid), "{answer:?}");
    // Within the skew, and later events still go in.
    let answer = db
        .writer
        .submit(command(
            "KZ",
            incident(Utc::now() + Duration::minutes(1)),
            None,
            "c",
        ))
        .await
        .unwrap();
    assert!(matches!(answer, Answer::Done { .. }), "{answer:?}");
    // An enquiry dated after the limit date, sent before the limit date has passed.
    let enquiry = event_at(
        EventKind::EnquiryOpened,
        "KZ000101",
        Utc::now() + Duration::minutes(2),
        Stamp::Given,
        &mrn,
    );
    let answer = db
        .writer
        .submit(command("KZ", enquiry, None, "d"))
        .await
        .unwrap();
    assert_eq!(refusal(&answer), Some(Refusal::Conflict), "{answer:?}");
    // A wider skew is a setting.
    let lenient = db_with(WriterConfig {
        max_clock_skew: Duration::days(2),
        ..WriterConfig::default()
    })
    .await;
    let mrn = released(&lenient, "CLOCK-2").await;
    let answer = lenient
        .writer
        .submit(command(
            "KZ",
            event_at(
                EventKind::Incident {
                    description: "y".into(),
                },
                "KZ000101",
                Utc::now() + Duration::days(1),
                Stamp::Given,
                &mrn,
            ),
            None,
            "e",
        ))
        .await
        .unwrap();
    assert!(matches!(answer, Answer::Done { .. }), "{answer:?}");
}

/// Server-stamped events were stamped in the handler, before queueing, so concurrent requests
/// to one movement could arrive out of order and get 409. They are now stamped when applied:
/// hundreds of concurrent ones all go in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_stamped_events_never_conflict() {
    let db = db().await;
    let mrn = released(&db, "STAMP-1").await;
    // Stamps taken before queueing, in the reverse of the order the writer sees them: the
    // lifecycle refuses every event earlier than the last.
    let base = Utc::now();
    let requests: Vec<_> = (0..300)
        .map(|i| {
            let writer = db.writer.clone();
            let request = event_at(
                EventKind::Incident {
                    description: format!("i{i}"),
                },
                "KZ000101",
                base - Duration::milliseconds(i),
                Stamp::WhenApplied,
                &mrn,
            );
            tokio::spawn(async move { writer.submit(command("KZ", request, None, "s")).await })
        })
        .collect();
    for r in requests {
        let answer = r.await.unwrap().unwrap();
        assert!(matches!(answer, Answer::Done { .. }), "{answer:?}");
    }
    assert_eq!(read::event_count(&db.store, &mrn).await.unwrap(), 302);
}

/// One unreadable movement row made the whole group-commit batch fail (126 of 150 healthy
/// writes got 503). Only the request that touches it fails now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_movement_fails_only_its_own_requests() {
    let db = db().await;
    let mut mrns = Vec::new();
    for i in 0..30 {
        mrns.push(released(&db, &format!("BLAST-{i}")).await);
    }
    let mut conn = raw(&db.url).await;
    sqlx::query("UPDATE movements SET body = '{not json' WHERE mrn = $1")
        .bind(&mrns[0])
        .execute(&mut conn)
        .await
        .unwrap();
    let requests: Vec<_> = (0..150)
        .map(|i| {
            let writer = db.writer.clone();
            let mrn = mrns[i % mrns.len()].clone();
            let request = event_at(
                EventKind::Incident {
                    description: format!("b{i}"),
                },
                "KZ000101",
                Utc::now(),
                Stamp::WhenApplied,
                &mrn,
            );
            tokio::spawn(async move {
                (
                    mrn.clone(),
                    writer
                        .submit(command("KZ", request, Some(&format!("b{i}")), "b"))
                        .await,
                )
            })
        })
        .collect();
    let mut failed = 0;
    for r in requests {
        let (mrn, answer) = r.await.unwrap();
        let answer = answer.unwrap();
        if mrn == mrns[0] {
            assert_eq!(refusal(&answer), Some(Refusal::Corrupt), "{answer:?}");
            failed += 1;
        } else {
            assert!(matches!(answer, Answer::Done { .. }), "{answer:?}");
        }
    }
    assert_eq!(failed, 5);
    // Reads of the healthy movements are unaffected.
    let (_, m) = read::movement_state(&db.store, &mrns[1])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.lrn, "BLAST-1");
}

/// A second server on the same SQLite file started, then about 30% of writes failed. It is now
/// refused at once, naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_per_sqlite_file() {
    let db = db().await;
    let second = Store::open(&db.url).await.unwrap();
    let e = second
        .lead(|| {})
        .await
        .err()
        .expect("a second leader is refused");
    let text = e.to_string();
    assert!(
        text.contains("transit.db") && text.contains("already writing"),
        "{text}"
    );
}

/// A corrupt or foreign database file gave "pool timed out" after 10 s; now the file and the
/// problem are named at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_database_files_are_named_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42u8; 64 * 1024]).unwrap();
    let started = std::time::Instant::now();
    let e = Store::open(&format!("sqlite://{}", garbage.display()))
        .await
        .err()
        .expect("not a database")
        .to_string();
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{e}");
    assert!(
        e.contains("garbage.db") && e.contains("not a database"),
        "{e}"
    );

    let foreign = dir.path().join("foreign.db");
    let url = format!("sqlite://{}?mode=rwc", foreign.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE invoices (id INTEGER)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let e = Store::open(&format!("sqlite://{}", foreign.display()))
        .await
        .err()
        .expect("another application's database")
        .to_string();
    assert!(e.contains("foreign.db") && e.contains("invoices"), "{e}");
}

/// Free text and identifiers: NUL, controls and bidi marks were stored and echoed into XML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_and_texts_follow_one_rule() {
    let db = db().await;
    for lrn in ["KZ\u{0}1", "KZ\u{202E}1", "KZ\u{7}", "{{LRN}}"] {
        let answer = db
            .writer
            .submit(command("KZ", lodge(lrn), None, lrn))
            .await
            .unwrap();
        assert_eq!(refusal(&answer), Some(Refusal::Invalid), "{lrn:?}");
    }
    let mrn = released(&db, "TEXT-1").await;
    let answer = db
        .writer
        .submit(command(
            "KZ",
            event_at(
                EventKind::Incident {
                    description: "seal \u{0} broken".into(),
                },
                "KZ000101",
                Utc::now(),
                Stamp::WhenApplied,
                &mrn,
            ),
            None,
            "t",
        ))
        .await
        .unwrap();
    assert_eq!(refusal(&answer), Some(Refusal::Invalid));
    // 250 KB incidents (80 of them made every GET 20 MB) are refused.
    let answer = db
        .writer
        .submit(command(
            "KZ",
            event_at(
                EventKind::Incident {
                    description: "x".repeat(250_000),
                },
                "KZ000101",
                Utc::now(),
                Stamp::WhenApplied,
                &mrn,
            ),
            None,
            "u",
        ))
        .await
        .unwrap();
    assert_eq!(refusal(&answer), Some(Refusal::Invalid));
}

/// A test database with a few writes, signed checkpoints, and the tools to tamper with it.
struct Audited {
    db: Db,
    key: ed25519_dalek::VerifyingKey,
    checkpoint: Checkpoint,
}

async fn audited() -> Audited {
    let (signing, _) = audit::new_signing_key();
    let key = signing.verifying_key();
    let db = db_with(WriterConfig {
        audit_key: Some(Arc::new(signing)),
        ..WriterConfig::default()
    })
    .await;
    keys::create(&db.store, "AZ customs", &admin("AZ"))
        .await
        .unwrap();
    let (ge, _) = keys::create(&db.store, "GE customs", &admin("GE"))
        .await
        .unwrap();
    keys::revoke(&db.store, &ge).await.unwrap();
    for i in 0..3 {
        released(&db, &format!("AUDIT-{i}")).await;
    }
    let answer = db
        .writer
        .submit(Command {
            actor: "service".into(),
            principal: Principal::Coordinator,
            request: Request::Checkpoint,
            idempotency_key: None,
            request_sha256: String::new(),
            body: Vec::new(),
        })
        .await
        .unwrap();
    let Answer::Checkpointed {
        checkpoint: Some(checkpoint),
    } = answer
    else {
        panic!("{answer:?}")
    };
    // Every administration with an active key gets it in its feed (GE's key is revoked).
    let feed = read::notifications(&db.store, &admin("AZ"), 0, 1000)
        .await
        .unwrap();
    let delivered: Checkpoint =
        serde_json::from_value(feed.last().unwrap().body["audit_checkpoint"].clone()).unwrap();
    assert_eq!(delivered, checkpoint);
    assert!(delivered.signed_by(&key));
    assert!(
        read::notifications(&db.store, &admin("GE"), 0, 1000)
            .await
            .unwrap()
            .iter()
            .all(|n| n.body.get("audit_checkpoint").is_none())
    );
    let v = audit::verify(&db.store, Some(&key), std::slice::from_ref(&checkpoint))
        .await
        .unwrap();
    assert!(v.intact(), "{:?}", v.problems);
    assert_eq!(
        (v.events_checked, v.keys_checked, v.checkpoints_checked),
        (6, 2, 2)
    );
    Audited {
        db,
        key,
        checkpoint,
    }
}

async fn problems_after(a: &Audited, tamper: &[&str], held: bool) -> Vec<String> {
    let mut conn = raw(&a.db.url).await;
    for sql in tamper {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    let held = if held {
        vec![a.checkpoint.clone()]
    } else {
        Vec::new()
    };
    audit::verify(&a.db.store, Some(&a.key), &held)
        .await
        .unwrap()
        .problems
        .into_iter()
        .map(|p| p.what)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_sees_the_newest_entries_deleted() {
    let a = audited().await;
    // Delete the last entry and the event row it vouched for, and the stored checkpoints:
    // the chain is still a valid chain, but the checkpoint an administration holds says more.
    let (last,): (i64,) = sqlx::query_as("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&mut raw(&a.db.url).await)
        .await
        .unwrap();
    let problems = problems_after(
        &a,
        &[
            &format!("DELETE FROM audit_log WHERE seq = {last}"),
            "DELETE FROM events WHERE seq = 1 AND movement_id = (SELECT MAX(movement_id) FROM events)",
            "DELETE FROM audit_checkpoints",
        ],
        true,
    )
    .await;
    assert!(
        problems.iter().any(|p| p.contains("entries were deleted")),
        "{problems:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_sees_every_entry_deleted() {
    let a = audited().await;
    // Without the checkpoints, the rows that lost their entries still show it.
    let problems = problems_after(
        &a,
        &["DELETE FROM audit_log", "DELETE FROM audit_checkpoints"],
        false,
    )
    .await;
    assert!(
        problems.iter().any(|p| p.contains("has no audit entry")),
        "{problems:?}"
    );
    let a = audited().await;
    let problems = problems_after(&a, &["DELETE FROM audit_log"], false).await;
    assert!(
        problems.iter().any(|p| p.contains("entries were deleted")),
        "{problems:?}"
    );
}

/// seq, at, actor, action, subject, body_sha256, record, record_sha256.
type EntryRow = (i64, i64, String, String, String, String, String, String);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_sees_a_rewritten_chain() {
    let a = audited().await;
    // Change an entry and recompute every hash after it, as an insider with the formula would.
    let mut conn = raw(&a.db.url).await;
    sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT seq, at, actor, action, subject, body_sha256, record, record_sha256 FROM audit_log ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut prev = audit::GENESIS.to_string();
    for (seq, at, actor, action, subject, body, record, record_sha256) in rows {
        let mut text = format!("{prev}|{seq}|{at}|{actor}|{action}|{subject}|{body}");
        if !record.is_empty() {
            text.push_str(&format!("|{record}|{record_sha256}"));
        }
        let hash = audit::sha256_hex(text.as_bytes());
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&hash)
            .bind(seq)
            .execute(&mut conn)
            .await
            .unwrap();
        prev = hash;
    }
    // The chain alone is consistent again; the signed checkpoints are not.
    let problems = problems_after(&a, &[], false).await;
    assert!(
        problems.iter().any(|p| p.contains("log was rewritten")),
        "{problems:?}"
    );
    // A forged checkpoint (re-signed with another key) is seen as such.
    let (other, _) = audit::new_signing_key();
    let forged = Checkpoint::sign(&other, a.checkpoint.seq, &prev, a.checkpoint.at);
    let v = audit::verify(&a.db.store, Some(&a.key), &[forged])
        .await
        .unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| p.what.contains("not the audit key's"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_checks_event_and_key_rows() {
    let a = audited().await;
    let problems = problems_after(
        &a,
        &["UPDATE events SET office = 'KZ999999' WHERE seq = 1 AND movement_id = 1"],
        true,
    )
    .await;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("events/1/1") && p.contains("differs")),
        "{problems:?}"
    );
    let a = audited().await;
    let problems = problems_after(
        &a,
        &["DELETE FROM events WHERE seq = 0 AND movement_id = 2"],
        true,
    )
    .await;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("events/2/0") && p.contains("deleted")),
        "{problems:?}"
    );
    let a = audited().await;
    let problems = problems_after(
        &a,
        &["INSERT INTO events (movement_id, seq, type, office, at_utc, zone, body, recorded_at) SELECT movement_id, 9, type, office, at_utc, zone, body, recorded_at FROM events WHERE movement_id = 1 AND seq = 1"],
        true,
    )
    .await;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("events/1/9") && p.contains("no audit entry")),
        "{problems:?}"
    );
    let a = audited().await;
    let problems = problems_after(&a, &["UPDATE api_keys SET revoked_at = NULL"], true).await;
    assert!(
        problems.iter().any(|p| p.contains("revocation undone")),
        "{problems:?}"
    );
    let a = audited().await;
    let problems = problems_after(
        &a,
        &["INSERT INTO api_keys (id, key_hash, role, country, name, created_at) VALUES ('key_x', 'h', 'coordinator', NULL, 'x', 99999999999999999)"],
        true,
    )
    .await;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("api_keys/key_x") && p.contains("no audit entry")),
        "{problems:?}"
    );
    let a = audited().await;
    let problems = problems_after(
        &a,
        &["UPDATE api_keys SET role = 'coordinator', country = NULL"],
        true,
    )
    .await;
    assert!(
        problems.iter().any(|p| p.contains("differs")),
        "{problems:?}"
    );
}

/// The movement state read for access checks is one row, whatever the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_is_read_without_the_history() {
    let db = db().await;
    let mrn = released(&db, "STATE-1").await;
    let (id, m): (i64, Movement) = read::movement_state(&db.store, &mrn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.events.len(), 1, "latest event only");
    let page = read::history(&db.store, id, -1, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].0, 0);
    let rest = read::history(&db.store, id, 0, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(matches!(
        rest[0].1.kind,
        EventKind::ReleasedForTransit { .. }
    ));
    assert!(
        read::movement_state(&db.store, "26KZ0000000000ZZJ0")
            .await
            .unwrap()
            .is_none()
    );
}
