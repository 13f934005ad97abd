//! The live risk API end to end: configurations published with `smartborder risk publish`,
//! the real `smartborder serve`, `POST /api/v1/risk/assess` from here. Each administration
//! assesses with its own configuration only; lanes are reproducible; a new publication is
//! swapped in while requests keep being answered.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    bin().args(args).current_dir(dir).output().unwrap()
}

fn publish(dir: &Path, db: &str, country: &str, files: &[&str]) -> std::process::Output {
    let mut args = vec![
        "risk",
        "publish",
        "--db",
        db,
        "--country",
        country,
        "--by",
        "analyst",
    ];
    args.extend_from_slice(files);
    run(dir, args.as_slice())
}

fn declaration(id: &str, origin: &str, importer: &str, mass: f64, value: f64) -> Value {
    json!({"declaration_id": id, "date": "2021-03-02", "office": "A1", "hs_code": "8471.30",
           "origin": origin, "importer": importer, "mass_kg": mass, "value": value})
}

fn assess(addr: std::net::SocketAddr, key: &str, declarations: &[Value]) -> (u16, Value) {
    post(
        addr,
        "/api/v1/risk/assess",
        key,
        &json!({ "declarations": declarations }),
    )
}

#[test]
fn administrations_assess_with_their_own_configuration_and_swap_it_live() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    own_configurations_swapped_live(dir.path(), &db);
}

#[test]
#[ignore = "needs PostgreSQL: SMARTBORDER_TEST_POSTGRES_URL (.ci/run starts a cluster)"]
fn administrations_assess_with_their_own_configuration_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    own_configurations_swapped_live(dir.path(), &postgres_url());
}

fn own_configurations_swapped_live(d: &Path, db: &str) {
    let db = db.to_string();
    std::fs::write(d.join("mapping.toml"), RISK_MAPPING).unwrap();
    write_history(&d.join("history.csv"), 4000, 1, false);
    let out = run(
        d,
        &[
            "risk",
            "train",
            "--data",
            "history.csv",
            "--mapping",
            "mapping.toml",
            "--model",
            "model.json",
            "--trees",
            "40",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::create_dir(d.join("kz")).unwrap();
    std::fs::create_dir(d.join("az")).unwrap();
    std::fs::write(
        d.join("kz/profiles.risk"),
        "profile \"KZ-XX\" { when origin = \"XX\" then yellow }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("kz/selectivity.toml"),
        "seed = 7\n[default]\nscore_at_least = { red = 0.5 }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("az/profiles.risk"),
        "profile \"AZ-HEAVY\" { when mass_kg > 500 then red }\n",
    )
    .unwrap();

    // A broken file is refused with its line, and nothing is published.
    std::fs::write(
        d.join("profiles.risk"),
        "profile \"P\" { when origin = then red }\n",
    )
    .unwrap();
    let out = publish(d, &db, "KZ", &["profiles.risk"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("profiles.risk") && err.contains("line 1"),
        "{err}"
    );

    let out = publish(
        d,
        &db,
        "KZ",
        &["kz/profiles.risk", "kz/selectivity.toml", "model.json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("KZ/profiles.risk version 1"));
    // AZ has no control results yet: an anomaly model scores its declarations.
    let out = run(
        d,
        &[
            "risk",
            "anomaly",
            "--data",
            "history.csv",
            "--mapping",
            "mapping.toml",
            "--model",
            "az/anomaly.json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = publish(d, &db, "AZ", &["az/profiles.risk", "az/anomaly.json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let kz = key(&db, &["--country", "KZ"]);
    let az = key(&db, &["--country", "AZ"]);
    let coordinator = key(&db, &["--coordinator"]);
    let server = start(&db);
    let a = server.addr;

    let batch = [
        declaration("L-1", "XX", "I3", 800.0, 1600.0),
        declaration("L-2", "DE", "J17", 100.0, 3000.0),
        json!({"declaration_id": "L-3", "date": "2021-03-02", "office": "A1", "hs_code": "84x7"}),
    ];
    let (s, kz_answer) = assess(a, &kz, &batch);
    assert_eq!(s, 200, "{kz_answer}");
    assert_eq!(kz_answer["country"], "KZ");
    assert_eq!(
        kz_answer["versions"],
        json!({"model.json": 1, "profiles.risk": 1, "selectivity.toml": 1})
    );
    let assessments = kz_answer["assessments"].as_array().unwrap();
    assert_eq!(assessments.len(), 2);
    assert_eq!(
        kz_answer["problems"],
        json!([{"index": 2, "field": "declarations[2].hs_code", "found": "\"84x7\"", "expected": "a commodity code of 2 to 14 digits"}])
    );
    let risky = &assessments[0]["assessment"];
    let plain = &assessments[1]["assessment"];
    assert_eq!(risky["hits"], json!(["KZ-XX"]));
    assert_eq!(plain["hits"], json!([]));
    let (rs, ps) = (
        risky["score"].as_f64().unwrap(),
        plain["score"].as_f64().unwrap(),
    );
    assert!(rs > 0.5 && ps < 0.5, "scores {rs} {ps}");
    // The profile says yellow; the score over the plan's red threshold cannot move a
    // declaration that is no longer green, so it stays yellow and is certain to be controlled.
    assert_eq!(
        (risky["lane"].as_str(), risky["propensity"].as_f64()),
        (Some("yellow"), Some(1.0))
    );
    assert_eq!(plain["lane"], "green");
    assert!(!risky["reasons"].as_array().unwrap().is_empty());
    // The same request, the same lanes.
    assert_eq!(
        assess(a, &kz, &batch).1["assessments"],
        kz_answer["assessments"]
    );

    // AZ assesses with its own profile, and knows nothing of KZ's.
    let (s, az_answer) = assess(a, &az, &batch);
    assert_eq!(s, 200);
    assert_eq!(
        az_answer["versions"],
        json!({"anomaly.json": 1, "profiles.risk": 1})
    );
    let az_risky = &az_answer["assessments"][0]["assessment"];
    assert_eq!(az_risky["hits"], json!(["AZ-HEAVY"]));
    assert_eq!(az_risky["lane"], "red");
    let anomaly = az_risky["score"].as_f64().unwrap();
    assert!(anomaly > 0.0 && anomaly < 1.0, "{anomaly}");
    assert_eq!(az_risky["reasons"], json!([]));
    assert!(!az_answer.to_string().contains("KZ-XX"));
    assert!(!kz_answer.to_string().contains("AZ-HEAVY"));

    // The coordinator has no configuration; keys are required; batches are bounded.
    let (s, e) = assess(a, &coordinator, &batch);
    assert_eq!((s, e["error"]["code"].as_str()), (403, Some("forbidden")));
    let (s, _) = http(
        a,
        "POST",
        "/api/v1/risk/assess",
        None,
        Some(("application/json", b"{}")),
        &[],
    )
    .unwrap();
    assert_eq!(s, 401);
    assert_eq!(assess(a, &kz, &[]).0, 422);
    let raw = |body: &[u8]| {
        http(
            a,
            "POST",
            "/api/v1/risk/assess",
            Some(&kz),
            Some(("application/json", body)),
            &[],
        )
        .unwrap()
    };
    let (s, e) = raw(b"{\"declarations\": [{\"declaration_id\": \"D\xff\"}]}");
    assert_eq!(s, 400, "{e}");
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not UTF-8 at byte 39"), "{e}");
    let (s, e) = raw(b"{\"declarations\": [");
    assert_eq!(s, 400, "{e}");
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 1 column 18"), "{e}");
    let many: Vec<Value> = (0..10_001)
        .map(|i| json!({"declaration_id": format!("M{i}"), "date": "2021-03-02", "office": "A1", "hs_code": "847130"}))
        .collect();
    let (s, e) = assess(a, &kz, &many);
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_batch")),
        "{e}"
    );
    let (s, all) = assess(a, &kz, &many[..10_000]);
    assert_eq!(
        (s, all["assessments"].as_array().map(Vec::len)),
        (200, Some(10_000))
    );

    // Files through the API: each administration lists and publishes its own, checked first.
    let put = |token: &str, name: &str, body: &str| {
        http(
            a,
            "PUT",
            &format!("/api/v1/risk/files/{name}"),
            Some(token),
            Some(("text/plain", body.as_bytes())),
            &[],
        )
        .unwrap()
    };
    let (s, e) = put(
        &kz,
        "profiles.risk",
        "profile \"P\" {\n  when origin = then red }\n",
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_configuration")),
        "{e}"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains("line 2"),
        "{e}"
    );
    let (s, e) = put(&coordinator, "selectivity.toml", "seed = 1\n");
    assert_eq!(s, 403, "{e}");
    assert_eq!(put(&kz, ".hidden", "x").0, 400);
    let (s, created) = put(
        &az,
        "selectivity.toml",
        "seed = 9\n[default]\nrandom = { red = 0.5 }\n",
    );
    assert_eq!(s, 201, "{created}");
    assert_eq!(
        created,
        json!({"country": "AZ", "name": "selectivity.toml", "version": 1})
    );
    let (s, listed) = get(a, "/api/v1/risk/files", &az);
    assert_eq!(s, 200);
    assert_eq!(
        listed,
        json!({"country": "AZ", "versions": {"anomaly.json": 1, "profiles.risk": 1, "selectivity.toml": 1}})
    );
    let (_, listed) = get(a, "/api/v1/risk/files", &kz);
    assert_eq!(
        listed["versions"]["profiles.risk"], 1,
        "the refused upload published nothing"
    );
    assert!(listed["versions"].get("anomaly.json").is_none());

    // A new version published while requests keep coming: none fails, and the new profile
    // is in force within a few seconds.
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (statuses, stop, kz, batch) =
            (statuses.clone(), stop.clone(), kz.clone(), batch.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let (s, answer) = assess(a, &kz, &batch);
                statuses
                    .lock()
                    .unwrap()
                    .push((s, answer["versions"]["profiles.risk"].clone()));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(
        d.join("kz/profiles.risk"),
        "profile \"KZ-ALL\" { when mass_kg > 0 then red }\n",
    )
    .unwrap();
    let out = publish(d, &db, "KZ", &["kz/profiles.risk"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, answer) = assess(a, &kz, &batch);
        assert_eq!(s, 200);
        if answer["versions"]["profiles.risk"] == 2 {
            let plain = &answer["assessments"][1]["assessment"];
            assert_eq!(
                (plain["lane"].as_str(), &plain["hits"]),
                (Some("red"), &json!(["KZ-ALL"]))
            );
            assert_eq!(
                answer["versions"]["model.json"], 1,
                "the other files stay in force"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "version 2 was not swapped in: {answer}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    let statuses = statuses.lock().unwrap();
    assert!(statuses.len() > 5, "{}", statuses.len());
    assert!(statuses.iter().all(|(s, _)| *s == 200), "{statuses:?}");
    assert!(statuses.iter().any(|(_, v)| *v == 1) && statuses.iter().any(|(_, v)| *v == 2));
    drop(statuses);

    // Files in force that do not compile (written past the service's check, as a build with
    // other rules could find them): a country with nothing else gets 503 with the reason, on
    // every request; a country with a working configuration keeps it.
    let broken = "profile \"P\" {\n  when no_such_field = \"1\" then red }\n";
    for (country, version) in [("GE", 1), ("KZ", 3)] {
        execute_sql(
            &db,
            &format!(
                "INSERT INTO risk_files (country, name, version, body, created_by, created_at) \
                 VALUES ('{country}', 'profiles.risk', {version}, '{broken}', 'test', 0)"
            ),
        );
    }
    let ge = key(&db, &["--country", "GE"]);
    for _ in 0..3 {
        let (s, e) = assess(a, &ge, &batch);
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (503, Some("risk_configuration_invalid")),
            "{e}"
        );
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("GE") && message.contains("no_such_field"),
            "{message}"
        );
    }
    let until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < until {
        let (s, answer) = assess(a, &kz, &batch);
        assert_eq!(s, 200, "{answer}");
        assert_eq!(answer["versions"]["profiles.risk"], 2, "{answer}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
