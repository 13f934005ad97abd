//! `smartborder demo`: the reports, then the console on a populated single window; and
//! `demo --no-serve`, which writes the reports only.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};

use common::{bin, http_raw, key, post};

/// The demo process, stopped by PID when dropped.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A session cookie for a login, through the sign-in form.
fn sign_in(addr: SocketAddr, login: &str, password: &str) -> String {
    let (status, head, body) = http_raw(addr, "GET", "/console/sign-in", None, None, &[]).unwrap();
    assert_eq!(status, 200);
    let token = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    assert!(head.contains(&format!("sb_sign_in={token}")));
    let form = format!("csrf={token}&login={login}&password={password}&back=/console/");
    let cookie = format!("sb_sign_in={token}");
    let (status, head, _) = http_raw(
        addr,
        "POST",
        "/console/sign-in",
        None,
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
        &[("Cookie", &cookie)],
    )
    .unwrap();
    assert_eq!(status, 303, "{head}");
    head.lines()
        .find_map(|l| l.strip_prefix("set-cookie: sb_session="))
        .and_then(|v| v.split(';').next())
        .map(|v| format!("sb_session={v}"))
        .unwrap()
}

fn page(addr: SocketAddr, cookie: &str, path: &str) -> (u16, String) {
    let (status, _, body) = http_raw(addr, "GET", path, None, None, &[("Cookie", cookie)]).unwrap();
    (status, body)
}

#[test]
fn demo_opens_a_populated_console() {
    let dir = tempfile::tempdir().unwrap();
    // Without the KCS data (no model is trained), from a directory with no ../shared beside it.
    let child = bin()
        .env_remove("SMARTBORDER_KCS_DATA")
        .current_dir(dir.path())
        .args(["demo", "--consignments", "3000", "--movements", "300"])
        .args(["--listen", "127.0.0.1:0", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut demo = Demo(child);
    let mut passwords = std::collections::HashMap::new();
    let mut addr: Option<SocketAddr> = None;
    let mut lines = BufReader::new(demo.0.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [login, password, _role] = words[..]
            && login.contains('.')
            && password.len() == 20
        {
            passwords.insert(login.to_string(), password.to_string());
        }
        if let Some(rest) = line.strip_prefix("listening on http://") {
            addr = rest.split_whitespace().next().and_then(|a| a.parse().ok());
            break;
        }
    }
    let addr = addr.expect("the demo serves the console");
    assert!(dir.path().join("report.html").is_file());
    for login in [
        "kz.officer",
        "az.officer",
        "ge.officer",
        "corridor.coordinator",
        "kz.admin",
    ] {
        assert!(
            passwords.contains_key(login),
            "{login} is printed: {passwords:?}"
        );
    }

    // A supervisor's board is full, and a page of it is 50 movements.
    let kz = sign_in(addr, "kz.supervisor", &passwords["kz.supervisor"]);
    let (status, board) = page(addr, &kz, "/console/movements");
    assert_eq!(status, 200);
    assert!(board.contains("Shown: 50"), "{board}");
    // Movements at every stage.
    for status in [
        "goods_released",
        "released_for_transit",
        "written_off",
        "accepted",
    ] {
        let (_, filtered) = page(addr, &kz, &format!("/console/movements?status={status}"));
        assert!(
            filtered.contains(&format!("status-{status}\"")),
            "no movement {status}"
        );
    }
    // The synthetic corridor study is in the list, with its report.
    let (status, studies) = page(addr, &kz, "/console/trs");
    assert_eq!(status, 200);
    assert!(studies.contains("Synthetic corridor (demo)"), "{studies}");
    // Kazakhstan's analyst finds the example profiles published and checked.
    let analyst = sign_in(addr, "kz.analyst", &passwords["kz.analyst"]);
    let (status, risk) = page(addr, &analyst, "/console/risk");
    assert_eq!(status, 200);
    assert!(risk.contains("Version 1 in force"), "{risk}");
    assert!(risk.contains("4 profiles, no errors."), "{risk}");
    // The coordinator's corridor dashboard has its map and its figures.
    let coordinator = sign_in(
        addr,
        "corridor.coordinator",
        &passwords["corridor.coordinator"],
    );
    let (status, corridor) = page(addr, &coordinator, "/console/corridor");
    assert_eq!(status, 200);
    assert!(corridor.contains("<svg") && corridor.contains("id=\"corridor-legs\""));
    assert!(corridor.contains("AZ000201 → GE000301"), "{corridor}");
    // New accounts start with nothing unread.
    assert!(
        corridor.contains("id=\"unread\" aria-live=\"polite\" title=\"Unread notifications\">0<")
    );
    // The Master Trainer Programme: one course with graded attempts and a certificate.
    let trainer = sign_in(addr, "kz.trainer", &passwords["kz.trainer"]);
    let (_, training) = page(addr, &trainer, "/console/training");
    let course = training
        .split("href=\"/console/training/courses/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the trainer delivers the demo course")
        .to_string();
    let (status, cohort) = page(
        addr,
        &trainer,
        &format!("/console/training/courses/{course}"),
    );
    assert_eq!(status, 200);
    assert!(
        cohort.contains("id=\"cohort\"") && cohort.contains("100.0"),
        "{cohort}"
    );
    assert!(
        cohort.contains("not passed"),
        "az.officer's weak attempts: {cohort}"
    );
    let code = cohort
        .split("/console/training/certificates/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("kz.officer is certified")
        .to_string();
    let (status, _, check) = http_raw(
        addr,
        "GET",
        &format!("/console/training/certificates/{code}"),
        None,
        None,
        &[],
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(check.contains("is valid"), "{check}");
    let (status, cascade) = page(addr, &coordinator, "/console/training/programme");
    assert_eq!(status, 200);
    assert!(cascade.contains("<td>kz.trainer</td>"), "{cascade}");

    // Kazakhstan's published configuration answers its national system's live API.
    let db = format!("sqlite://{}", dir.path().join("single-window.db").display());
    let token = key(&db, &["--country", "KZ"]);
    let (status, answer) = post(
        addr,
        "/api/v1/risk/assess",
        &token,
        &serde_json::json!({"declarations": [{"declaration_id": "NAT-1", "date": "2026-12-01",
            "office": "30", "hs_code": "850440", "origin": "CN", "mass_kg": 100.0, "value": 50.0}]}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["country"], "KZ");
    for file in ["profiles.risk", "kcs-bands.csv", "selectivity.toml"] {
        assert!(answer["versions"][file].is_i64(), "{answer}");
    }
    let a = &answer["assessments"][0]["assessment"];
    assert!(
        a["lane"].is_string() && a["propensity"].is_f64(),
        "{answer}"
    );

    // On the demo corridor, a movement lodged in KZ with its goods is assessed by AZ and GE
    // with their own configurations, and each sees only its own result.
    let mut lodgement = common::lodgement("DEMO-ROUTE-1");
    lodgement["consignment"] = serde_json::json!({"country_of_dispatch": "CN", "seals": 0,
        "transport_mode": "3", "items": [{"commodity_code": "85176200",
        "description": "Network switches", "gross_mass_kg": 900.0}]});
    let (status, body) = post(addr, "/api/v1/movements", &token, &lodgement);
    assert_eq!(status, 201, "{body}");
    let mrn = body["movement"]["mrn"].as_str().unwrap().to_string();
    let az = key(&db, &["--country", "AZ"]);
    let ge = key(&db, &["--country", "GE"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let view = |token: &str| loop {
        let (status, view) = common::get(addr, &format!("/api/v1/movements/{mrn}/risk"), token);
        assert_eq!(status, 200, "{view}");
        if view["assessments"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            break view;
        }
        assert!(std::time::Instant::now() < deadline, "not assessed: {view}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let (az_view, ge_view) = (view(&az), view(&ge));
    assert_eq!(
        az_view["assessments"][0]["hits"],
        serde_json::json!(["AZ-UNSEALED"])
    );
    assert!(
        ge_view["assessments"][0]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h.as_str().unwrap().starts_with("GE-"))
    );
    assert!(!ge_view.to_string().contains("AZ-UNSEALED"));
    assert!(!az_view.to_string().contains("GE-ELECTRONICS"));
    // The world's movements were assessed too: GE's officer sees them on its pages.
    let ge_officer = sign_in(addr, "ge.officer", &passwords["ge.officer"]);
    let (_, movement_page) = page(addr, &ge_officer, &format!("/console/movements/{mrn}"));
    assert!(
        movement_page.contains("id=\"risk-assessments\""),
        "{movement_page}"
    );
    drop(demo);
}

#[test]
fn demo_no_serve_writes_the_reports_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["demo", "--no-serve", "--consignments", "2000", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["report.html", "report.json", "report.xlsx"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    assert!(!dir.path().join("single-window.db").exists());
}
