//! The transit single window end to end: the real `smartborder serve` on loopback, keys made
//! with `smartborder keys create`, HTTP from here. On SQLite always, and on PostgreSQL when
//! `SMARTBORDER_TEST_POSTGRES_URL` is set (`.ci/run` sets it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_smartborder"))
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &str) -> Server {
    let mut child = bin()
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("listening on http://")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .parse()
        .unwrap();
    Server { child, addr }
}

fn key(db: &str, who: &[&str]) -> String {
    key_with_id(db, who).1
}

/// A new key: (id, secret).
fn key_with_id(db: &str, who: &[&str]) -> (String, String) {
    let mut args = vec!["keys", "create", "--db", db, "--name", "test"];
    args.extend_from_slice(who);
    let out = bin().args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let id = stderr.split_whitespace().nth(1).unwrap().to_string();
    (
        id,
        String::from_utf8(out.stdout).unwrap().trim().to_string(),
    )
}

/// One HTTP/1.1 request; returns the status and the JSON body (Null when not JSON).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let payload = body.map_or(&[][..], |(_, b)| b);
    if let Some((ct, b)) = body {
        req.push_str(&format!(
            "Content-Type: {ct}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(payload)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {text}")))?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

fn post(addr: SocketAddr, path: &str, token: &str, body: &Value) -> (u16, Value) {
    http(
        addr,
        "POST",
        path,
        Some(token),
        Some(("application/json", body.to_string().as_bytes())),
        &[],
    )
    .unwrap()
}

fn get(addr: SocketAddr, path: &str, token: &str) -> (u16, Value) {
    http(addr, "GET", path, Some(token), None, &[]).unwrap()
}

/// An instant `hours` after a base one day from now (events must follow the acceptance, which
/// the service stamps with its own clock), in RFC 3339.
fn at(hours: i64) -> String {
    use chrono::{DurationRound, TimeDelta, Utc};
    let base = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() + TimeDelta::days(1);
    (base + TimeDelta::hours(hours)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn lodgement(lrn: &str) -> Value {
    json!({"lrn": lrn, "route": {"departure": "KZ000101", "transit": [{"office": "AZ000201"}], "destination": "GE000301"}})
}

fn event(kind: &str, office: &str, at: &str) -> Value {
    json!({"type": kind, "office": office, "at": at})
}

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
        "/api/v1/notifications",
        "/api/v1/openapi.json",
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

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("transit.db").display())
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
fn lifecycle_on_postgres() {
    let Ok(url) = std::env::var("SMARTBORDER_TEST_POSTGRES_URL") else {
        eprintln!(
            "SMARTBORDER_TEST_POSTGRES_URL is not set; .ci/run sets it to a throwaway cluster"
        );
        return;
    };
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
        let (s, m) = get(server.addr, &format!("/api/v1/movements/{mrn}"), &kz);
        assert_eq!(s, 200);
        let stored: Vec<&str> = m["movement"]["events"]
            .as_array()
            .unwrap()
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
    drop(server);
    let listed = String::from_utf8(
        bin()
            .args(["webhooks", "list", "--db", &db])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        listed.contains(&format!("GE  {url}  delivered up to {}", first["id"])),
        "{listed}"
    );
}
