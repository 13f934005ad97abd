//! The transit single window end to end: the real `smartborder serve` on loopback, keys made
//! with `smartborder keys create`, HTTP from here. On SQLite always, and on PostgreSQL when
//! `SMARTBORDER_TEST_POSTGRES_URL` is set (`.ci/run` sets it).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

fn lifecycle_across_three_administrations(db: &str, tag: &str) {
    let kz = key(db, &["--country", "KZ"]);
    let az = key(db, &["--country", "AZ"]);
    let ge = key(db, &["--country", "GE"]);
    let (uz_id, uz) = key_with_id(db, &["--country", "UZ"]);
    let coordinator = key(db, &["--coordinator"]);
    let server = start(db);
    let a = server.addr;

    let (s, doc) = http(a, "GET", "/api/v1/openapi.json", None, None, &[]).unwrap();
    assert_eq!(s, 200);
    // The document lists exactly the endpoints this test exercises, with their methods.
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "/api/v1/movements",
        "/api/v1/movements/{mrn}",
        "/api/v1/movements/{mrn}/events",
        "/api/v1/movements/{mrn}/invalidation",
        "/api/v1/movements/{mrn}/messages",
        "/api/v1/movements/{mrn}/risk",
        "/api/v1/movements/{mrn}/controls",
        "/api/v1/movements/{mrn}/release",
        "/api/v1/notifications",
        "/api/v1/openapi.json",
        "/api/v1/risk/assess",
        "/api/v1/risk/files",
        "/api/v1/risk/files/{name}",
        "/api/v1/risk/monitoring",
    ];
    let mut found = paths.clone();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
    assert!(doc["paths"]["/api/v1/movements"]["post"]["responses"]["201"].is_object());
    assert!(doc["paths"]["/api/v1/movements/{mrn}/events"]["post"]["responses"]["409"].is_object());

    // Authentication.
    let (s, e) = http(a, "GET", "/api/v1/movements", None, None, &[]).unwrap();
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(get(a, "/api/v1/movements", "sbk_nope").0, 401);

    // Lodge once, as JSON; the same Idempotency-Key replays the answer.
    let lrn = format!("{tag}-1");
    let body = lodgement(&lrn).to_string();
    let lodge = |key: &str| {
        http(
            a,
            "POST",
            "/api/v1/movements",
            Some(&kz),
            Some(("application/json", body.as_bytes())),
            &[("Idempotency-Key", key)],
        )
        .unwrap()
    };
    let (s, created) = lodge(&format!("{tag}-idem"));
    assert_eq!(s, 201, "{created}");
    let mrn = created["movement"]["mrn"].as_str().unwrap().to_string();
    assert_eq!(created["movement"]["status"], "accepted");
    let (s, again) = lodge(&format!("{tag}-idem"));
    assert_eq!(
        (s, &again["movement"]["mrn"]),
        (201, &created["movement"]["mrn"])
    );
    // Refusals at lodgement.
    assert_eq!(post(a, "/api/v1/movements", &kz, &lodgement(&lrn)).0, 409);
    assert_eq!(
        post(a, "/api/v1/movements", &ge, &lodgement(&format!("{tag}-2"))).0,
        403
    );
    let (s, e) = http(
        a,
        "POST",
        "/api/v1/movements",
        Some(&kz),
        Some(("application/json", b"{\"lrn\": 5")),
        &[],
    )
    .unwrap();
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1 column"),
        "{e}"
    );
    let (s, e) = http(
        a,
        "POST",
        "/api/v1/movements",
        Some(&kz),
        Some(("text/plain", b"hello")),
        &[],
    )
    .unwrap();
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let big = vec![b' '; 300 * 1024];
    let (s, e) = http(
        a,
        "POST",
        "/api/v1/movements",
        Some(&kz),
        Some(("application/json", &big)),
        &[],
    )
    .unwrap();
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let (s, e) = post(
        a,
        "/api/v1/movements",
        &kz,
        &json!({"lrn": "x", "route": {"departure": "kz-1", "destination": "GE000301"}}),
    );
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("route.departure: customs office reference \"kz-1\""),
        "{e}"
    );

    // Follow the movement through three administrations.
    let events = format!("/api/v1/movements/{mrn}/events");
    let ok = |token: &str, body: Value| {
        let (s, r) = post(a, &events, token, &body);
        assert_eq!(s, 200, "{body} -> {r}");
        r
    };
    ok(
        &kz,
        json!({"type": "released_for_transit", "office": "KZ000101", "at": at(0), "limit_date": at(8 * 24)}),
    );
    ok(&az, event("arrival_at_transit", "AZ000201", &at(50)));
    // Refusals on events.
    let (s, e) = post(
        a,
        &events,
        &az,
        &event("arrival_at_destination", "GE000301", &at(51)),
    );
    assert_eq!((s, e["error"]["code"].as_str()), (403, Some("forbidden")));
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("GE000301 belongs to GE")
    );
    assert_eq!(
        post(
            a,
            &events,
            &uz,
            &json!({"type": "incident", "office": "UZ000001", "description": "x"})
        )
        .0,
        404
    );
    assert_eq!(
        post(
            a,
            &events,
            &coordinator,
            &json!({"type": "incident", "office": "AZ000201", "description": "x"})
        )
        .0,
        403
    );
    let (s, e) = post(
        a,
        &events,
        &ge,
        &event("goods_released", "GE000301", &at(51)),
    );
    assert_eq!(s, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after arrival"),
        "{e}"
    );
    let (s, e) = post(
        a,
        &events,
        &az,
        &json!({"type": "frontier_crossed", "office": "AZ000201", "zone": "Mars/Olympus"}),
    );
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("IANA"),
        "{e}"
    );
    assert_eq!(
        post(
            a,
            &events,
            &kz,
            &json!({"type": "accepted", "office": "KZ000101", "mrn": mrn})
        )
        .0,
        400
    );
    ok(&az, event("frontier_crossed", "AZ000201", &at(54)));
    ok(&ge, event("arrival_at_destination", "GE000301", &at(73)));
    ok(
        &ge,
        json!({"type": "unloading_remarks", "office": "GE000301", "at": at(75), "conform": true}),
    );
    ok(&ge, event("goods_released", "GE000301", &at(76)));
    let done = ok(&kz, event("written_off", "KZ000101", &at(77)));
    assert_eq!(done["movement"]["status"], "written_off");
    // The answer to a write carries the latest event; the movement itself has the history.
    assert_eq!(done["movement"]["events"].as_array().unwrap().len(), 1);
    let (_, full) = get(a, &format!("/api/v1/movements/{mrn}"), &ge);
    let ev = &full["movement"]["events"];
    assert_eq!(ev.as_array().unwrap().len(), 8);
    assert_eq!(ev[2]["zone"], "Asia/Baku");
    assert_eq!(ev[2]["at"], at(50));

    // Reading: the route's administrations and the coordinator see it; Uzbekistan does not.
    let path = format!("/api/v1/movements/{mrn}");
    for t in [&kz, &az, &ge, &coordinator] {
        assert_eq!(get(a, &path, t).0, 200);
    }
    assert_eq!(get(a, &path, &uz).0, 404);
    let listed = |t: &str| {
        get(a, "/api/v1/movements?limit=1000", t).1["movements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["mrn"] == mrn.as_str())
            .count()
    };
    assert_eq!((listed(&az), listed(&uz), listed(&coordinator)), (1, 0, 1));
    assert_eq!(get(a, "/api/v1/movements?limit=0", &az).0, 400);

    // Georgia's feed: pre-arrival information at release, then Azerbaijan's events, in order.
    let (s, feed) = get(a, "/api/v1/notifications?limit=1000", &ge);
    assert_eq!(s, 200);
    let mine: Vec<&Value> = feed["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["mrn"] == mrn.as_str())
        .collect();
    let types: Vec<&str> = mine
        .iter()
        .map(|n| n["event"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        &types[..3],
        [
            "released_for_transit",
            "arrival_at_transit",
            "frontier_crossed"
        ]
    );
    assert_eq!(
        mine[0]["anticipated_transit_record"]["route"]["destination"],
        "GE000301"
    );
    let cursor = mine[1]["id"].as_i64().unwrap();
    let (_, rest) = get(
        a,
        &format!("/api/v1/notifications?after={cursor}&limit=1000"),
        &ge,
    );
    assert!(
        rest["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["id"].as_i64().unwrap() > cursor)
    );

    // The audit chain is intact; a revoked key is refused.
    drop(server);
    let out = bin()
        .args(["audit", "verify", "--db", db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit log intact"));
    let listed = String::from_utf8(
        bin()
            .args(["keys", "list", "--db", db])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&uz_id) && l.contains(" UZ ") && l.contains("active")),
        "{listed}"
    );
    assert!(
        bin()
            .args(["keys", "revoke", &uz_id, "--db", db])
            .status()
            .unwrap()
            .success()
    );
    let server = start(db);
    assert_eq!(get(server.addr, "/api/v1/movements", &uz).0, 401);
    assert_eq!(get(server.addr, "/api/v1/movements", &kz).0, 200);
}

#[test]
fn lifecycle_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    lifecycle_across_three_administrations(&db, "SQ");

    // Corridor time from the recorded movement, in the TRS report format.
    let json = dir.path().join("corridor.json");
    let out = bin()
        .args([
            "trs",
            "run",
            "--from-transit",
            &db,
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let route = "KZ000101-AZ000201-GE000301";
    let report: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!("corridor.{route}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(report["consignments"], 1);
    let minutes = |from: &str, to: &str| {
        report["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["from"] == from && i["to"] == to && i["segment_by"] == "all")
            .unwrap()["mean_minutes"]
            .as_f64()
            .unwrap()
    };
    // Release at +0 h, arrival in Azerbaijan +50 h, frontier crossed +54 h, arrival in Georgia +73 h.
    assert_eq!(minutes("release KZ000101", "arrival AZ000201"), 50.0 * 60.0);
    assert_eq!(
        minutes("arrival AZ000201", "frontier crossed AZ000201"),
        4.0 * 60.0
    );
    assert_eq!(
        minutes("frontier crossed AZ000201", "arrival GE000301"),
        19.0 * 60.0
    );
    assert_eq!(minutes("first_stamp", "last_stamp"), 73.0 * 60.0);
}

#[test]
#[ignore = "needs PostgreSQL: SMARTBORDER_TEST_POSTGRES_URL (.ci/run starts a cluster)"]
fn lifecycle_on_postgres() {
    let url = postgres_url();
    let tag = format!("PG{}", std::process::id());
    lifecycle_across_three_administrations(&url, &tag);
}

/// SIGKILL the server while clients post events; after a restart every acknowledged event is
/// there exactly once, and the audit chain is intact.
#[test]
fn acknowledged_events_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let mut server = start(&db);
    let a = server.addr;
    let clients = 8;
    let mut mrns = Vec::new();
    for c in 0..clients {
        let (s, r) = post(
            a,
            "/api/v1/movements",
            &kz,
            &lodgement(&format!("KILL-{c}")),
        );
        assert_eq!(s, 201);
        let mrn = r["movement"]["mrn"].as_str().unwrap().to_string();
        let (s, _) = post(
            a,
            &format!("/api/v1/movements/{mrn}/events"),
            &kz,
            &json!({"type": "released_for_transit", "office": "KZ000101", "limit_date": at(8 * 24)}),
        );
        assert_eq!(s, 200);
        mrns.push(mrn);
    }
    let acknowledged: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (mrn, kz, acked) = (mrns[c].clone(), kz.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let description = format!("c{c}-{i}");
                    let body = json!({"type": "incident", "office": "KZ000101", "description": description}).to_string();
                    match http(a, "POST", &format!("/api/v1/movements/{mrn}/events"), Some(&kz), Some(("application/json", body.as_bytes())), &[("Idempotency-Key", &description)]) {
                        Ok((200, _)) => acked.lock().unwrap().push((c, description)),
                        Ok((s, v)) => panic!("unexpected {s}: {v}"),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Let the clients run, then kill the server without warning.
    std::thread::sleep(Duration::from_millis(1500));
    server.child.kill().unwrap(); // SIGKILL on Unix
    server.child.wait().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let acked = acknowledged.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "only {} events acknowledged before the kill",
        acked.len()
    );

    let server = start(&db);
    for (c, mrn) in mrns.iter().enumerate() {
        let history = history(server.addr, mrn, &kz);
        let stored: Vec<&str> = history
            .iter()
            .filter_map(|e| e["description"].as_str())
            .collect();
        let mut unique = stored.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), stored.len(), "no event stored twice");
        for (_, d) in acked.iter().filter(|(k, _)| *k == c) {
            assert!(
                stored.contains(&d.as_str()),
                "acknowledged {d} is missing after the restart"
            );
        }
    }
    drop(server);
    let out = bin()
        .args(["audit", "verify", "--db", &db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Requests received so far, and the bodies accepted.
type Received = Arc<Mutex<(usize, Vec<Value>)>>;

/// A webhook receiver that fails its first request, then records the bodies it accepts.
fn receiver() -> (u16, Received) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Received = Arc::default();
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let mut state = record.lock().unwrap();
            state.0 += 1;
            let reply: &[u8] = if state.0 == 1 {
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
            } else {
                state
                    .1
                    .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                b"HTTP/1.1 204 No Content\r\n\r\n"
            };
            let _ = reader.get_mut().write_all(reply);
        }
    });
    (port, seen)
}

/// Georgia's feed is pushed to its webhook; the first attempt fails and is retried.
#[test]
fn webhooks_push_the_feed_and_retry() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let (port, seen) = receiver();
    let url = format!("http://127.0.0.1:{port}/ncts/notifications");
    let out = bin()
        .args([
            "webhooks",
            "set",
            "--country",
            "GE",
            "--url",
            &url,
            "--db",
            &db,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refused = bin()
        .args([
            "webhooks",
            "set",
            "--country",
            "GE",
            "--url",
            "ftp://x",
            "--db",
            &db,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("expected http://HOST[:PORT]/PATH"));

    let server = start(&db);
    let (_, r) = post(server.addr, "/api/v1/movements", &kz, &lodgement("HOOK-1"));
    let mrn = r["movement"]["mrn"].as_str().unwrap().to_string();
    let (s, _) = post(
        server.addr,
        &format!("/api/v1/movements/{mrn}/events"),
        &kz,
        &json!({"type": "released_for_transit", "office": "KZ000101", "limit_date": at(8 * 24)}),
    );
    assert_eq!(s, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().1.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (attempts, bodies) = seen.lock().unwrap().clone();
    assert!(attempts >= 2, "the failed first attempt is retried");
    let first = &bodies.first().expect("delivered")["notifications"][0];
    assert_eq!(first["mrn"], mrn.as_str());
    assert_eq!(first["event"]["type"], "released_for_transit");
    assert_eq!(first["country"], "GE");
    // The cursor moves once the server has the receiver's answer: wait for it before stopping
    // the server (a receiver can have the body a moment before the cursor is committed).
    let expected = format!("GE  {url}  delivered up to {}", first["id"]);
    let listing = || {
        String::from_utf8(
            bin()
                .args(["webhooks", "list", "--db", &db])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut listed = listing();
    while !listed.contains(&expected) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        listed = listing();
    }
    drop(server);
    assert!(listed.contains(&expected), "{listed}");
}

/// A CC015C of the corridor route KZ -> AZ -> GE, written as a trader's system would.
/// The same lifecycle in NCTS XML: lodged as CC015C, amended by CC013C, released and crossed
/// through the JSON API, arrival (CC007C) and unloading remarks (CC044C) in Georgia; with the
/// refusals an NCTS trader meets.
fn ncts_xml_lifecycle(db: &str, tag: &str) {
    let kz = key(db, &["--country", "KZ"]);
    let az = key(db, &["--country", "AZ"]);
    let ge = key(db, &["--country", "GE"]);
    let coordinator = key(db, &["--coordinator"]);
    let server = start(db);
    let a = server.addr;

    // Lodge: CC028C with the MRN allocated.
    let lrn = format!("{tag}-X1");
    let (s, answer) = post_xml(
        a,
        "/api/v1/movements",
        &kz,
        &cc015c(&lrn, "NTA.KZ"),
        Some("CC028C"),
    );
    assert_eq!(s, 201, "{answer}");
    let mrn = element(&answer, "MRN").to_string();
    assert_eq!(element(&answer, "LRN"), lrn);
    assert_eq!(
        element(&answer, "correlationIdentifier"),
        format!("{lrn}-015")
    );
    assert_eq!(element(&answer, "messageRecipient"), "KZTRADER01");
    assert!(mrn.starts_with("26KZ") || mrn.starts_with("27KZ"), "{mrn}");
    let (_, m) = get(a, &format!("/api/v1/movements/{mrn}"), &az);
    assert_eq!(
        m["movement"]["lrn"],
        lrn.as_str(),
        "Azerbaijan, on the route, sees it"
    );

    // The same LRN again: CC056C, duplicate LRN.
    let (s, answer) = post_xml(
        a,
        "/api/v1/movements",
        &kz,
        &cc015c(&lrn, "NTA.KZ"),
        Some("CC056C"),
    );
    assert_eq!(
        (s, element(&answer, "rejectionCode")),
        (409, "4"),
        "{answer}"
    );
    assert_eq!(
        element(&answer, "errorPointer"),
        "/CC015C/TransitOperation/LRN"
    );
    // Not schema-valid: CC917C with the line and the element.
    let broken = cc015c(&format!("{tag}-X2"), "NTA.KZ")
        .replace("<messageSender>KZTRADER01</messageSender>", "");
    let (s, answer) = post_xml(a, "/api/v1/movements", &kz, &broken, Some("CC917C"));
    assert_eq!(s, 400);
    assert_eq!(element(&answer, "errorPointer"), "/CC015C/messageSender");
    assert_eq!(element(&answer, "errorCode"), "13");
    // Reported where it was expected: at messageRecipient, line 4.
    assert_eq!(element(&answer, "errorLineNumber"), "4");
    // A business rule: addressed to another country's NTA.
    let (s, answer) = post_xml(
        a,
        "/api/v1/movements",
        &kz,
        &cc015c(&format!("{tag}-X3"), "NTA.AZ"),
        Some("CC056C"),
    );
    assert_eq!(s, 422);
    assert_eq!(
        element(&answer, "errorPointer"),
        "/CC015C/CustomsOfficeOfDeparture/referenceNumber"
    );
    assert_eq!(element(&answer, "errorReason"), "SBR002");
    // Someone else's office of departure: refused, named.
    let (s, answer) = post_xml(
        a,
        "/api/v1/movements",
        &az,
        &cc015c(&format!("{tag}-X4"), "NTA.KZ"),
        Some("CC056C"),
    );
    assert_eq!(s, 403, "{answer}");
    assert_eq!(
        element(&answer, "errorPointer"),
        "/CC015C/CustomsOfficeOfDeparture/referenceNumber"
    );
    // The coordinator sends no messages; JSON is not taken at /messages.
    let (s, _) = post_xml_status(
        a,
        "/api/v1/movements",
        &coordinator,
        &cc015c(&format!("{tag}-X5"), "NTA.KZ"),
        "application/xml",
    );
    assert_eq!(s, 403);
    let (s, _) = post_xml_status(
        a,
        &format!("/api/v1/movements/{mrn}/messages"),
        &kz,
        "{}",
        "application/json",
    );
    assert_eq!(s, 415);
    // A CC007C where a CC015C is expected, and the reverse.
    let (s, _) = post_xml_status(
        a,
        "/api/v1/movements",
        &ge,
        &cc007c(&mrn, "GE000302", "2026-12-01T10:00:00"),
        "application/xml",
    );
    assert_eq!(s, 400);

    // An amendment naming another declaration by LRN is refused, naming the LRN.
    let by_lrn = cc013c(&mrn).replace(&format!("<MRN>{mrn}</MRN>"), "<LRN>OTHER-LRN</LRN>");
    let (s, answer) = post_xml(
        a,
        &format!("/api/v1/movements/{mrn}/messages"),
        &kz,
        &by_lrn,
        Some("CC056C"),
    );
    assert_eq!(s, 422, "{answer}");
    assert_eq!(
        element(&answer, "errorPointer"),
        "/CC013C/TransitOperation/LRN"
    );
    assert_eq!(element(&answer, "originalAttributeValue"), "OTHER-LRN");
    // Amendment before release: CC004C; the destination moves to GE000302.
    let (s, answer) = post_xml(
        a,
        &format!("/api/v1/movements/{mrn}/messages"),
        &kz,
        &cc013c(&mrn),
        Some("CC004C"),
    );
    assert_eq!(s, 200, "{answer}");
    assert_eq!(element(&answer, "MRN"), mrn);
    let (_, m) = get(a, &format!("/api/v1/movements/{mrn}"), &ge);
    assert_eq!(m["movement"]["route"]["destination"], "GE000302");
    assert_eq!(m["movement"]["status"], "accepted");

    // Release and the crossing through the JSON API, as the offices record them; the release
    // for transit (CC029C) repeats the declaration once the office has released it.
    let release_path = format!("/api/v1/movements/{mrn}/release");
    let (s, _, _) = http_raw(a, "GET", &release_path, Some(&kz), None, &[]).unwrap();
    assert_eq!(s, 409, "not released yet");
    let events = format!("/api/v1/movements/{mrn}/events");
    let release = json!({"type": "released_for_transit", "office": "KZ000101", "at": at(0), "limit_date": at(24 * 8)});
    assert_eq!(post(a, &events, &kz, &release).0, 200);
    for who in [&kz, &ge, &coordinator] {
        let (s, _, cc029c) = http_raw(a, "GET", &release_path, Some(who), None, &[]).unwrap();
        assert_eq!(s, 200, "{cc029c}");
        let doc = smartborder_ncts::xml::parse(&cc029c).unwrap();
        assert_eq!(doc.name, "CC029C");
        assert!(
            smartborder_ncts::schema().validate(&doc).is_empty(),
            "{cc029c}"
        );
        assert_eq!(element(&cc029c, "MRN"), mrn);
        assert_eq!(element(&cc029c, "LRN"), lrn);
        assert_eq!(element(&cc029c, "messageRecipient"), "KZTRADER01");
        assert_eq!(element(&cc029c, "descriptionOfGoods"), "Cotton yarn");
        assert_eq!(
            doc.text_at(&["CustomsOfficeOfDestinationDeclared", "referenceNumber"]),
            Some("GE000302"),
            "as amended"
        );
    }
    assert_eq!(
        post(
            a,
            &events,
            &az,
            &event("arrival_at_transit", "AZ000201", &at(50))
        )
        .0,
        200
    );
    assert_eq!(
        post(
            a,
            &events,
            &az,
            &event("frontier_crossed", "AZ000201", &at(54))
        )
        .0,
        200
    );

    // Arrival at destination: the body's MRN must be the path's; Azerbaijan cannot notify a
    // Georgian office; then Georgia's CC007C is recorded at its time (UTC).
    let messages = format!("/api/v1/movements/{mrn}/messages");
    let arrival = cc007c(&mrn, "GE000302", &ncts_time(&at(73)));
    let other = cc007c("26KZ000000000099J3", "GE000302", &ncts_time(&at(73)));
    let (s, answer) = post_xml(a, &messages, &ge, &other, Some("CC057C"));
    assert_eq!((s, element(&answer, "errorReason")), (422, "SBR015"));
    let (s, answer) = post_xml(a, &messages, &az, &arrival, Some("CC057C"));
    assert_eq!(s, 403, "{answer}");
    let (s, _) = post_xml(a, &messages, &ge, &arrival, None);
    assert_eq!(s, 202);
    let (_, m) = get(a, &format!("/api/v1/movements/{mrn}"), &kz);
    assert_eq!(m["movement"]["status"], "arrived_at_destination");
    assert_eq!(m["movement"]["actual_destination"], "GE000302");
    let arrived = m["movement"]["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(arrived["type"], "arrival_at_destination");
    assert_eq!(arrived["zone"], "Asia/Tbilisi");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(arrived["at"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&at(73)).unwrap(),
        "NCTS date-times are UTC; the office's zone is kept beside them"
    );
    // The same arrival again is out of sequence.
    let (s, answer) = post_xml(a, &messages, &ge, &arrival, Some("CC057C"));
    assert_eq!((s, element(&answer, "errorCode")), (409, "92"), "{answer}");
    // Unloading remarks, timed by the message's preparation time (UTC).
    let (s, _) = post_xml(
        a,
        &messages,
        &ge,
        &cc044c(&mrn, "GE000302", &ncts_time(&at(75))),
        None,
    );
    assert_eq!(s, 202);
    let (_, m) = get(a, &format!("/api/v1/movements/{mrn}"), &kz);
    assert_eq!(m["movement"]["status"], "unloading_remarks");
    let remarks = m["movement"]["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(remarks["conform"], true);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(remarks["at"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&at(75)).unwrap()
    );
    // An unknown MRN.
    let unknown = "26KZ000000000099J3";
    let (s, answer) = post_xml(
        a,
        &format!("/api/v1/movements/{unknown}/messages"),
        &ge,
        &cc044c(unknown, "GE000302", &ncts_time(&at(76))),
        Some("CC057C"),
    );
    assert_eq!((s, element(&answer, "errorCode")), (404, "90"));

    // Invalidation of a second declaration before release: CC009C.
    let (s, answer) = post_xml(
        a,
        "/api/v1/movements",
        &kz,
        &cc015c(&format!("{tag}-X6"), "NTA.KZ"),
        Some("CC028C"),
    );
    assert_eq!(s, 201);
    let second = element(&answer, "MRN").to_string();
    let (s, answer) = post_xml(
        a,
        &format!("/api/v1/movements/{second}/messages"),
        &kz,
        &cc014c(&second),
        Some("CC009C"),
    );
    assert_eq!(s, 200, "{answer}");
    assert_eq!(element(&answer, "decision"), "1");
    let (_, m) = get(a, &format!("/api/v1/movements/{second}"), &kz);
    assert_eq!(m["movement"]["status"], "invalidated");

    // Every accepted message is in the audit chain, which verifies.
    let out = bin()
        .args(["audit", "verify", "--db", db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ncts_xml_lifecycle_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    ncts_xml_lifecycle(&sqlite_url(dir.path()), "SQ");
}

#[test]
#[ignore = "needs PostgreSQL: SMARTBORDER_TEST_POSTGRES_URL (.ci/run starts a cluster)"]
fn ncts_xml_lifecycle_on_postgres() {
    let url = postgres_url();
    ncts_xml_lifecycle(&url, &format!("PX{}", std::process::id()));
}
