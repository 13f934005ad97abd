//! The outside review's probes against the real `smartborder serve` (issue 9), each failing
//! before its fix: the existence oracle, text and time rules over HTTP, idempotency keys across
//! endpoints, the HTTP layer's errors as JSON, connection limits, NCTS bodies that are not
//! UTF-8, one server per database, a named start-up failure, paged history, and the audit
//! verification with a checkpoint an administration holds.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// A movement lodged by Kazakhstan and released, on the default server (default clock skew).
fn released_movement(a: std::net::SocketAddr, kz: &str, lrn: &str) -> String {
    let (s, r) = post(a, "/api/v1/movements", kz, &lodgement(lrn));
    assert_eq!(s, 201, "{r}");
    let mrn = r["movement"]["mrn"].as_str().unwrap().to_string();
    let limit = (chrono::Utc::now() + chrono::TimeDelta::days(8)).to_rfc3339();
    let (s, r) = post(
        a,
        &format!("/api/v1/movements/{mrn}/events"),
        kz,
        &json!({"type": "released_for_transit", "office": "KZ000101", "limit_date": limit}),
    );
    assert_eq!(s, 200, "{r}");
    mrn
}

/// Replaces what differs between two answers by nature (the MRN asked about, the answer's
/// identification and date-times) so that the rest can be compared.
fn normalised(body: &str, mrn: &str) -> String {
    let mut out = body.replace(mrn, "MRN");
    for name in [
        "messageIdentification",
        "preparationDateAndTime",
        "rejectionDateAndTime",
    ] {
        let open = format!("<{name}>");
        if let Some(start) = out.find(&open) {
            let end = out[start..].find("</").unwrap() + start;
            out.replace_range(start + open.len()..end, "X");
        }
    }
    out
}

/// Off the route, a movement was an LRN oracle: a guessed LRN in a CC013C got 422 naming the
/// real one. Now it is answered exactly as an unknown MRN, for XML and JSON alike.
#[test]
fn a_movement_off_the_route_is_answered_as_an_unknown_mrn() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let uz = key(&db, &["--country", "UZ"]);
    let server = start_with(&db, &[]);
    let a = server.addr;
    let mrn = released_movement(a, &kz, "ORACLE-1");
    // A long history, which an off-route request must not make slower to refuse.
    for i in 0..300 {
        let (s, _) = post(
            a,
            &format!("/api/v1/movements/{mrn}/events"),
            &kz,
            &json!({"type": "incident", "office": "KZ000101", "description": format!("i{i}")}),
        );
        assert_eq!(s, 200);
    }
    let unknown = "26KZ7Q2M4X9B1C0DJ8";
    // A CC013C naming the movement by MRN, and by a guessed LRN (wrong or right; C0467 refuses
    // naming an accepted declaration by LRN, the same way whatever the movement).
    let by_lrn = |guess: &'static str| {
        move |path_mrn: &str| {
            cc013c(path_mrn).replace(
                &format!("<MRN>{path_mrn}</MRN>"),
                &format!("<LRN>{guess}</LRN>"),
            )
        }
    };
    type Amendment = Box<dyn Fn(&str) -> String>;
    let cases: Vec<(u16, Amendment)> = vec![
        (404, Box::new(cc013c)),
        (422, Box::new(by_lrn("GUESS-1"))),
        (422, Box::new(by_lrn("ORACLE-1"))),
    ];
    for (status, amendment) in cases {
        let (s1, off_route) = post_xml(
            a,
            &format!("/api/v1/movements/{mrn}/messages"),
            &uz,
            &amendment(&mrn),
            Some("CC056C"),
        );
        let (s2, absent) = post_xml(
            a,
            &format!("/api/v1/movements/{unknown}/messages"),
            &uz,
            &amendment(unknown),
            Some("CC056C"),
        );
        assert_eq!((s1, s2), (status, status), "{off_route}");
        assert!(!off_route.contains("ORACLE-1 but"), "{off_route}");
        assert_eq!(normalised(&off_route, &mrn), normalised(&absent, unknown));
    }
    // JSON reads and writes, and the release: the same answer as for an unknown MRN.
    for (method, suffix, body) in [
        ("GET", "", None),
        ("GET", "/events", None),
        ("GET", "/release", None),
        (
            "POST",
            "/events",
            Some(json!({"type": "incident", "office": "UZ000001", "description": "x"})),
        ),
    ] {
        let call = |m: &str| {
            let body = body.as_ref().map(|b| b.to_string());
            http(
                a,
                method,
                &format!("/api/v1/movements/{m}{suffix}"),
                Some(&uz),
                body.as_ref().map(|b| ("application/json", b.as_bytes())),
                &[],
            )
            .unwrap()
        };
        let (s1, b1) = call(&mrn);
        let (s2, b2) = call(unknown);
        assert_eq!(s1, 404, "{method} {suffix}: {b1}");
        assert_eq!(
            (s1, b1.to_string().replace(&mrn, "MRN")),
            (s2, b2.to_string().replace(unknown, "MRN")),
            "{method} {suffix}"
        );
    }
}

/// JSON lodgings accepted NUL, controls and bidi marks in LRNs (the NCTS rule was not applied),
/// which were then echoed into XML answers that were no longer well-formed.
#[test]
fn json_identifiers_follow_the_ncts_rule() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let server = start_with(&db, &[]);
    let a = server.addr;
    for lrn in ["KZ\u{0}1", "KZ\u{1b}[31m", "KZ\u{202E}1", "{{LRN}}", "a b"] {
        let (s, e) = post(a, "/api/v1/movements", &kz, &lodgement(lrn));
        assert_eq!(s, 422, "{lrn:?}: {e}");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains("SBR003"), "{message}");
        assert!(
            !message.chars().any(|c| c.is_control() || c == '\u{202E}'),
            "{message:?}"
        );
    }
    let mrn = released_movement(a, &kz, "TEXT-1");
    let (s, e) = post(
        a,
        &format!("/api/v1/movements/{mrn}/events"),
        &kz,
        &json!({"type": "incident", "office": "KZ000101", "description": "x".repeat(250_000 / 2)}),
    );
    assert_eq!(s, 422, "{e}");
    // An incident dated 9999-12-31 no longer blocks the movement.
    let (s, e) = post(
        a,
        &format!("/api/v1/movements/{mrn}/events"),
        &kz,
        &json!({"type": "incident", "office": "KZ000101", "description": "x", "at": "9999-12-31T00:00:00Z"}),
    );
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("clock"),
        "{e}"
    );
    // An enquiry right after release, however it is dated.
    let (s, e) = post(
        a,
        &format!("/api/v1/movements/{mrn}/events"),
        &kz,
        &json!({"type": "enquiry_opened", "office": "KZ000101"}),
    );
    assert_eq!(s, 409, "{e}");
    let (s, _) = post(
        a,
        &format!("/api/v1/movements/{mrn}/events"),
        &kz,
        &json!({"type": "incident", "office": "KZ000101", "description": "later events go in"}),
    );
    assert_eq!(s, 200);
}

/// A key reused on another endpoint or with another body returned the first answer and
/// silently did not write.
#[test]
fn an_idempotency_key_is_bound_to_its_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let server = start_with(&db, &[]);
    let a = server.addr;
    let lodge = |lrn: &str| {
        http(
            a,
            "POST",
            "/api/v1/movements",
            Some(&kz),
            Some(("application/json", lodgement(lrn).to_string().as_bytes())),
            &[("Idempotency-Key", "same-key")],
        )
        .unwrap()
    };
    let (s, first) = lodge("IDEM-1");
    assert_eq!(s, 201);
    assert_eq!(lodge("IDEM-1"), (201, first.clone()), "a retry replays");
    let (s, e) = lodge("IDEM-2");
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another request")
    );
    let mrn = first["movement"]["mrn"].as_str().unwrap();
    let (s, e) = http(
        a,
        "POST",
        &format!("/api/v1/movements/{mrn}/events"),
        Some(&kz),
        Some((
            "application/json",
            json!({"type": "incident", "office": "KZ000101", "description": "x"})
                .to_string()
                .as_bytes(),
        )),
        &[("Idempotency-Key", "same-key")],
    )
    .unwrap();
    assert_eq!(s, 422, "{e}");
    let (_, movements) = get(a, "/api/v1/movements", &kz);
    assert_eq!(movements["movements"].as_array().unwrap().len(), 1);
}

/// 405, 431 and the other errors of the HTTP layer were plain text.
#[test]
fn the_http_layer_answers_in_the_json_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let server = start_with(&db, &[]);
    let a = server.addr;
    let big = "x".repeat(20 * 1024);
    for (method, path, headers, status) in [
        ("DELETE", "/api/v1/movements", vec![], 405),
        ("PUT", "/api/v1/notifications", vec![], 405),
        ("GET", "/api/v1/nothing-here", vec![], 404),
        (
            "GET",
            "/api/v1/movements",
            vec![("X-Padding", big.as_str())],
            431,
        ),
        ("GET", "/api/v1/movements/%FF%FE", vec![], 400),
    ] {
        let (s, head, body) = http_raw(a, method, path, Some(&kz), None, &headers).unwrap();
        assert_eq!(s, status, "{method} {path}: {body}");
        assert!(
            head.to_lowercase()
                .contains("content-type: application/json"),
            "{method} {path}: {head}"
        );
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(v["error"]["status"], status, "{body}");
        assert!(v["error"]["code"].is_string() && v["error"]["message"].is_string());
    }
}

/// About 20k silent connections exhausted file descriptors and legitimate requests timed
/// out. Connections are now capped (one more is answered 503 at once), silent ones closed
/// after the header deadline, idle ones after the idle deadline.
#[test]
fn silent_connections_are_capped_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let server = start_with(
        &db,
        &[
            "--max-connections",
            "8",
            "--header-timeout",
            "1",
            "--idle-timeout",
            "3",
        ],
    );
    let a = server.addr;
    let silent: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(a).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    // The ninth is answered at once, in JSON.
    let mut ninth = TcpStream::connect(a).unwrap();
    ninth
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    ninth.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"too_many_connections\""), "{answer}");
    // The silent ones are closed by the server after the header deadline.
    for mut s in silent {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let n = s.read_to_end(&mut buf);
        assert!(n.is_ok(), "closed by the server, not timed out here: {n:?}");
    }
    // A half-sent request is closed too.
    let mut slow = TcpStream::connect(a).unwrap();
    slow.write_all(b"GET /api/v1/movements HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    assert!(slow.read_to_end(&mut buf).is_ok());
    // Legitimate requests are served again.
    assert_eq!(get(a, "/api/v1/movements", &kz).0, 200);
    drop(server);

    // A body trickled in a byte at a time (each within the idle deadline) gets 408 once the
    // request deadline has passed.
    let server = start_with(&db, &["--request-timeout", "2", "--idle-timeout", "5"]);
    let a = server.addr;
    let mut trickle = TcpStream::connect(a).unwrap();
    write!(
        trickle,
        "POST /api/v1/movements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {kz}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    )
    .unwrap();
    trickle
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(10) {
        let _ = trickle.write_all(b" ");
        match trickle.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}}") {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    // A keep-alive connection left idle after a request is closed after the idle deadline.
    let mut idle = TcpStream::connect(a).unwrap();
    write!(
        idle,
        "GET /api/v1/movements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {kz}\r\n\r\n"
    )
    .unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let started = Instant::now();
    let mut all = Vec::new();
    assert!(idle.read_to_end(&mut all).is_ok());
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() < Duration::from_secs(14));
}

/// A body that was not UTF-8 was replaced with U+FFFD and accepted (201).
#[test]
fn an_ncts_body_that_is_not_utf8_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let server = start_with(&db, &[]);
    let mut bytes = cc015c("UTF-1", "NTA.KZ").into_bytes();
    let at = bytes.windows(6).position(|w| w == b"Cotton").unwrap();
    bytes[at] = 0xC3;
    bytes[at + 1] = 0x28;
    let (s, _, body) = http_raw(
        server.addr,
        "POST",
        "/api/v1/movements",
        Some(&kz),
        Some(("application/xml", &bytes)),
        &[],
    )
    .unwrap();
    assert_eq!(s, 400, "{body}");
    assert_eq!(element(&body, "errorCode"), "52");
    let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
    assert_eq!(element(&body, "errorLineNumber"), line.to_string());
    assert!(element(&body, "errorText").contains("UTF-8"), "{body}");
    assert_eq!(
        get(server.addr, "/api/v1/movements", &kz).1["movements"],
        json!([])
    );
}

/// A second server on the same SQLite file started, and then about 30% of writes failed.
#[test]
fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let _first = start_with(&db, &[]);
    let out = bin()
        .args(["serve", "--db", &db, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("transit.db") && stderr.contains("already writing"),
        "{stderr}"
    );
}

/// A corrupt or foreign database file gave "pool timed out" after 10 s.
#[test]
fn a_file_that_is_not_a_database_is_named_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.db");
    std::fs::write(
        &file,
        "these are not the rows you are looking for\n".repeat(200),
    )
    .unwrap();
    let started = Instant::now();
    let out = bin()
        .args([
            "serve",
            "--db",
            &format!("sqlite://{}", file.display()),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notes.db") && stderr.contains("not a readable database"),
        "{stderr}"
    );
}

/// 80 incidents of 250 KB made every GET of the movement 20 MB: bodies are capped, and the
/// history comes in pages.
#[test]
fn the_history_comes_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let server = start_with(&db, &[]);
    let a = server.addr;
    let mrn = released_movement(a, &kz, "PAGE-1");
    for i in 0..250 {
        let (s, _) = post(
            a,
            &format!("/api/v1/movements/{mrn}/events"),
            &kz,
            &json!({"type": "incident", "office": "KZ000101", "description": format!("{i:03}")}),
        );
        assert_eq!(s, 200);
    }
    let (s, m) = get(a, &format!("/api/v1/movements/{mrn}"), &kz);
    assert_eq!(s, 200);
    assert_eq!(m["movement"]["events"].as_array().unwrap().len(), 100);
    assert_eq!(m["events_next_after"], 99);
    let all = history(a, &mrn, &kz);
    assert_eq!(all.len(), 252);
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (0..252).collect::<Vec<_>>());
    assert_eq!(all[2]["description"], "000");
    let (s, page) = get(
        a,
        &format!("/api/v1/movements/{mrn}/events?after=249&limit=10"),
        &kz,
    );
    assert_eq!(s, 200);
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_after"], Value::Null);
    assert_eq!(
        get(
            a,
            &format!("/api/v1/movements/{mrn}/events?limit=5000"),
            &kz
        )
        .0,
        400
    );
}

/// `audit verify` with the checkpoint an administration received in its feed, and the public
/// key: intact, then refused when the checkpoint does not match the log.
#[test]
fn audit_verify_checks_a_checkpoint_from_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let ge = key(&db, &["--country", "GE"]);
    let key_file = dir.path().join("audit.key");
    let key_arg = key_file.to_str().unwrap();
    let server = start_with(&db, &["--audit-key", key_arg, "--checkpoint-interval", "1"]);
    released_movement(server.addr, &kz, "AUDIT-1");
    // Wait for a checkpoint that covers the release (entries: 2 keys, lodge, release).
    let deadline = Instant::now() + Duration::from_secs(20);
    let checkpoint = loop {
        let (_, feed) = get(server.addr, "/api/v1/notifications?after=0", &ge);
        let found = feed["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n.get("audit_checkpoint"))
            .rfind(|c| c["seq"].as_i64() >= Some(4))
            .cloned();
        if let Some(c) = found {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint in the feed: {feed}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(server);
    let held = dir.path().join("checkpoint.json");
    std::fs::write(&held, json!({"audit_checkpoint": checkpoint}).to_string()).unwrap();
    let verify = |checkpoint: &std::path::Path| {
        bin()
            .args([
                "audit",
                "verify",
                "--db",
                &db,
                "--audit-key",
                key_arg,
                "--checkpoint",
            ])
            .arg(checkpoint)
            .output()
            .unwrap()
    };
    let out = verify(&held);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("audit log intact") && stdout.contains("signatures checked"),
        "{stdout}"
    );
    let mut forged = checkpoint.clone();
    forged["seq"] = json!(checkpoint["seq"].as_i64().unwrap() + 5);
    std::fs::write(&held, json!({"audit_checkpoint": forged}).to_string()).unwrap();
    let out = verify(&held);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the audit key's"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = bin()
        .args(["audit", "public-key", "--audit-key", key_arg])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&public.stdout).trim(),
        checkpoint["public_key"].as_str().unwrap()
    );
}

/// Starts a server that may have to wait as a standby: its first stdout line comes when it
/// leads. Returns the child and a receiver of its address.
fn start_standby(
    db: &str,
    key_file: &str,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<std::net::SocketAddr>,
    Arc<Mutex<String>>,
) {
    let mut child = bin()
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            "127.0.0.1:0",
            "--audit-key",
            key_file,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let said = Arc::new(Mutex::new(String::new()));
    let said_err = said.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            said_err.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        if BufReader::new(stdout).read_line(&mut line).is_ok()
            && let Some(addr) = line
                .strip_prefix("listening on http://")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|a| a.parse().ok())
        {
            let _ = tx.send(addr);
        }
    });
    (child, rx, said)
}

/// PostgreSQL: a second server waits as a hot standby; when the leader is killed under load,
/// the standby takes over within seconds, and nothing acknowledged is lost.
#[test]
#[ignore = "needs PostgreSQL: SMARTBORDER_TEST_POSTGRES_URL (.ci/run starts a cluster)"]
fn a_standby_takes_over_when_the_leader_dies() {
    let db = postgres_url();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("audit.key");
    let key_file = key_file.to_str().unwrap();
    let kz = key(&db, &["--country", "KZ"]);
    let (mut leader, leader_addr, _) = start_standby(&db, key_file);
    let a = leader_addr
        .recv_timeout(Duration::from_secs(30))
        .expect("the first server leads");
    let (mut standby, standby_addr, standby_said) = start_standby(&db, key_file);
    // The standby says it waits, and does not listen.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !standby_said.lock().unwrap().contains("standby") {
        assert!(Instant::now() < deadline, "the second server did not wait");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(standby_addr.try_recv().is_err(), "a standby does not serve");
    let tag = chrono::Utc::now().timestamp_micros();
    let mrns: Vec<String> = (0..4)
        .map(|c| released_movement(a, &kz, &format!("HA-{tag}-{c}")))
        .collect();
    let acknowledged: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let target = Arc::new(Mutex::new(a));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..mrns.len())
        .map(|c| {
            let (mrn, kz, acked, target, stop) = (
                mrns[c].clone(),
                kz.clone(),
                acknowledged.clone(),
                target.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let description = format!("c{c}-{i}");
                    let body = json!({"type": "incident", "office": "KZ000101", "description": description}).to_string();
                    let addr = *target.lock().unwrap();
                    match http(addr, "POST", &format!("/api/v1/movements/{mrn}/events"), Some(&kz), Some(("application/json", body.as_bytes())), &[("Idempotency-Key", &description)]) {
                        Ok((200, _)) => {
                            acked.lock().unwrap().push((c, description));
                            i += 1;
                        }
                        // The leader is gone or not answering: retry the same request (same
                        // key) until the standby serves.
                        Ok(_) | Err(_) => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let before = acknowledged.lock().unwrap().len();
    assert!(before > 20, "only {before} events before the kill");
    leader.kill().unwrap(); // SIGKILL
    leader.wait().unwrap();
    let killed = Instant::now();
    let b = standby_addr
        .recv_timeout(Duration::from_secs(30))
        .expect("the standby takes over");
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(15), "took over after {took:?}");
    *target.lock().unwrap() = b;
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in clients {
        t.join().unwrap();
    }
    let acked = acknowledged.lock().unwrap().clone();
    assert!(acked.len() > before, "the standby served writes");
    for (c, mrn) in mrns.iter().enumerate() {
        let stored: Vec<String> = history(b, mrn, &kz)
            .iter()
            .filter_map(|e| e["description"].as_str().map(str::to_string))
            .collect();
        let mut unique = stored.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), stored.len(), "no event stored twice");
        for (_, d) in acked.iter().filter(|(k, _)| *k == c) {
            assert!(
                stored.contains(d),
                "acknowledged {d} is missing after the failover"
            );
        }
    }
    let _ = standby.kill();
    let _ = standby.wait();
    let out = bin()
        .args(["audit", "verify", "--db", &db, "--audit-key", key_file])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CC014C after release got a flat 409. In NCTS the office of departure decides: the request
/// is recorded (202), the office accepts or refuses it (JSON), and the decision is a CC009C.
#[test]
fn invalidation_after_release_is_decided_by_the_office_of_departure() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let az = key(&db, &["--country", "AZ"]);
    let ge = key(&db, &["--country", "GE"]);
    let server = start_with(&db, &[]);
    let a = server.addr;
    let (s, answer) = post_xml(
        a,
        "/api/v1/movements",
        &kz,
        &cc015c("INV-1", "NTA.KZ"),
        Some("CC028C"),
    );
    assert_eq!(s, 201);
    let mrn = element(&answer, "MRN").to_string();
    let events = format!("/api/v1/movements/{mrn}/events");
    let limit = (chrono::Utc::now() + chrono::TimeDelta::days(8)).to_rfc3339();
    let (s, _) = post(
        a,
        &events,
        &kz,
        &json!({"type": "released_for_transit", "office": "KZ000101", "limit_date": limit}),
    );
    assert_eq!(s, 200);
    let messages = format!("/api/v1/movements/{mrn}/messages");
    let decision_path = format!("/api/v1/movements/{mrn}/invalidation");
    let (s, _) = post_xml(a, &messages, &kz, &cc014c(&mrn), None);
    assert_eq!(s, 202);
    let (_, m) = get(a, &format!("/api/v1/movements/{mrn}"), &kz);
    assert_eq!(m["movement"]["status"], "released_for_transit");
    assert_eq!(
        m["movement"]["pending_invalidation"]["reason"],
        "goods not dispatched"
    );
    let (s, _, _) = http_raw(a, "GET", &decision_path, Some(&kz), None, &[]).unwrap();
    assert_eq!(s, 409, "not decided yet");
    // A second request while one is pending is out of sequence.
    let (s, answer) = post_xml(a, &messages, &kz, &cc014c(&mrn), Some("CC056C"));
    assert_eq!((s, element(&answer, "errorCode")), (409, "92"));
    // Only the office of departure decides.
    let decide = |token: &str, office: &str, accepted: bool| {
        post(
            a,
            &events,
            token,
            &json!({"type": "invalidation_decided", "office": office, "accepted": accepted, "reason": "goods already loaded"}),
        )
    };
    assert_eq!(
        decide(&az, "KZ000101", true).0,
        403,
        "not Azerbaijan's office"
    );
    let (s, e) = decide(&az, "AZ000201", true);
    assert_eq!(s, 409);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("office of departure")
    );
    assert_eq!(decide(&kz, "KZ000101", false).0, 200);
    let (s, _, cc009c) = http_raw(a, "GET", &decision_path, Some(&kz), None, &[]).unwrap();
    assert_eq!(s, 200, "{cc009c}");
    let doc = smartborder_ncts::xml::parse(&cc009c).unwrap();
    assert_eq!(doc.name, "CC009C");
    assert!(
        smartborder_ncts::schema().validate(&doc).is_empty(),
        "{cc009c}"
    );
    assert_eq!(element(&cc009c, "decision"), "0");
    assert_eq!(element(&cc009c, "messageRecipient"), "KZTRADER01");
    assert_eq!(
        element(&cc009c, "correlationIdentifier"),
        format!("{mrn}-014")
    );
    // Asked again, and granted this time.
    let (s, _) = post_xml(a, &messages, &kz, &cc014c(&mrn), None);
    assert_eq!(s, 202);
    assert_eq!(decide(&kz, "KZ000101", true).0, 200);
    let (_, m) = get(a, &format!("/api/v1/movements/{mrn}"), &ge);
    assert_eq!(m["movement"]["status"], "invalidated");
    let (s, _, cc009c) = http_raw(a, "GET", &decision_path, Some(&ge), None, &[]).unwrap();
    assert_eq!(s, 200);
    assert_eq!(element(&cc009c, "decision"), "1");
    // The administrations on the route heard of it.
    let (_, feed) = get(a, "/api/v1/notifications?after=0", &ge);
    let types: Vec<&str> = feed["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["event"]["type"].as_str())
        .collect();
    assert!(
        types.ends_with(&[
            "invalidation_requested",
            "invalidation_decided",
            "invalidation_requested",
            "invalidation_decided"
        ]),
        "{types:?}"
    );
}

/// A CC044C that broke the unloading-remarks conditions (seals declared but no state of seals,
/// a declared seal reported with its declared identifier as a discrepancy, remarks while
/// conform) was accepted, and the corrected one then refused. The faulty ones are now refused
/// with a CC057C naming each code, and the corrected one accepted.
#[test]
fn unloading_remarks_are_judged_against_the_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let ge = key(&db, &["--country", "GE"]);
    let server = start_with(&db, &[]);
    let a = server.addr;
    let (s, answer) = post_xml(
        a,
        "/api/v1/movements",
        &kz,
        &cc015c("UNL-1", "NTA.KZ"),
        Some("CC028C"),
    );
    assert_eq!(s, 201);
    let mrn = element(&answer, "MRN").to_string();
    let limit = (chrono::Utc::now() + chrono::TimeDelta::days(8)).to_rfc3339();
    let (s, _) = post(
        a,
        &format!("/api/v1/movements/{mrn}/events"),
        &kz,
        &json!({"type": "released_for_transit", "office": "KZ000101", "limit_date": limit}),
    );
    assert_eq!(s, 200);
    let messages = format!("/api/v1/movements/{mrn}/messages");
    // NCTS date-times have whole seconds: a second after the release stamped by the service.
    let now = ncts_time(&(chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339());
    let (s, _) = post_xml(a, &messages, &ge, &cc007c(&mrn, "GE000301", &now), None);
    assert_eq!(s, 202);
    let good = cc044c(&mrn, "GE000301", &now);
    let refused = |text: &str, expected: &[&str]| {
        let (s, answer) = post_xml(a, &messages, &ge, text, Some("CC057C"));
        assert_eq!(s, 422, "{answer}");
        for code in expected {
            assert!(
                answer.contains(&format!("<errorReason>{code}</errorReason>")),
                "{code}: {answer}"
            );
        }
    };
    // The declared container is sealed: the state of the seals is required (C0440).
    refused(
        &good.replace("    <stateOfSeals>1</stateOfSeals>\n", ""),
        &["C0440"],
    );
    // Seals not in good state, yet conform (G0017); remarks, yet conform (G0360).
    refused(
        &good.replace(
            "<stateOfSeals>1</stateOfSeals>",
            "<stateOfSeals>0</stateOfSeals>",
        ),
        &["G0017"],
    );
    refused(
        &good.replace(
            "<stateOfSeals>1</stateOfSeals>",
            "<stateOfSeals>1</stateOfSeals>\n    <unloadingRemark>two cartons missing</unloadingRemark>",
        ),
        &["G0360"],
    );
    // A seal discrepancy under the declared seal's number must show another identifier, and a
    // new seal is numbered after the declared ones (R0054).
    let discrepancy = |seq: u32, id: &str| {
        good.replace("<conform>1</conform>", "<conform>0</conform>")
            .replace("<stateOfSeals>1</stateOfSeals>", "<stateOfSeals>0</stateOfSeals>")
            .replace(
                "</UnloadingRemark>",
                &format!(
                    "</UnloadingRemark>\n  <Consignment><TransportEquipment><sequenceNumber>1</sequenceNumber><numberOfSeals>{seq}</numberOfSeals><Seal><sequenceNumber>{seq}</sequenceNumber><identifier>{id}</identifier></Seal></TransportEquipment></Consignment>"
                ),
            )
    };
    refused(&discrepancy(1, "KZSEAL1"), &["R0054"]);
    refused(&discrepancy(5, "GE-NEW-9"), &["R0054"]);
    // The corrected message is accepted.
    let (s, _) = post_xml(a, &messages, &ge, &discrepancy(1, "BROKEN-7"), None);
    assert_eq!(s, 202);
    let (_, m) = get(a, &format!("/api/v1/movements/{mrn}"), &ge);
    assert_eq!(m["movement"]["status"], "unloading_remarks");
}

/// The movements board over HTTP: filters by status, office, country and lodging date, newest
/// first, and the parameters' mistakes named.
#[test]
fn the_movements_list_takes_the_board_filters() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let kz = key(&db, &["--country", "KZ"]);
    let az = key(&db, &["--country", "AZ"]);
    let server = start_with(&db, &[]);
    let a = server.addr;
    released_movement(a, &kz, "LIST-1");
    let (s, _) = post(a, "/api/v1/movements", &kz, &lodgement("LIST-2"));
    assert_eq!(s, 201);
    let direct =
        json!({"lrn": "LIST-3", "route": {"departure": "KZ000101", "destination": "GE000302"}});
    assert_eq!(post(a, "/api/v1/movements", &kz, &direct).0, 201);
    let lrns = |token: &str, query: &str| -> Vec<String> {
        let (s, v) = get(a, &format!("/api/v1/movements?{query}"), token);
        assert_eq!(s, 200, "{query}: {v}");
        v["movements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["lrn"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(lrns(&kz, ""), ["LIST-1", "LIST-2", "LIST-3"]);
    assert_eq!(lrns(&kz, "order=desc"), ["LIST-3", "LIST-2", "LIST-1"]);
    assert_eq!(lrns(&kz, "status=released_for_transit"), ["LIST-1"]);
    assert_eq!(lrns(&kz, "office=AZ000201"), ["LIST-1", "LIST-2"]);
    assert_eq!(lrns(&kz, "office=GE000302&status=accepted"), ["LIST-3"]);
    assert_eq!(lrns(&az, "country=GE"), ["LIST-1", "LIST-2"]);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(lrns(&kz, &format!("lodged_from={today}")).len(), 3);
    assert!(lrns(&kz, "lodged_to=2020-01-01").is_empty());
    assert_eq!(lrns(&kz, "limit=1&order=desc&after=0"), ["LIST-3"]);
    for bad in [
        "status=lost",
        "office=az-1",
        "country=Georgia",
        "lodged_from=yesterday",
        "order=sideways",
        "colour=red",
    ] {
        let (s, e) = get(a, &format!("/api/v1/movements?{bad}"), &kz);
        assert_eq!(s, 400, "{bad}: {e}");
        assert_eq!(e["error"]["code"], "invalid_request", "{bad}");
    }
}
