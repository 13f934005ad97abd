//! Console pages over plain HTTP, against the real `smartborder serve`: an admin's account
//! management, role refusals, and the analyst's backtest on the KCS open data.

mod common;

use std::net::SocketAddr;

use common::{World, bin, http_raw};

impl World {
    fn user(&self, login: &str, args: &[&str]) {
        common::create_user(&self.db, login, PASSWORD, args);
    }
}

const PASSWORD: &str = "a console test password";

/// A signed-in session: its cookie and its CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn sign_in(addr: SocketAddr, login: &str) -> Session {
    let (_, _, body) = http_raw(addr, "GET", "/console/sign-in", None, None, &[]).unwrap();
    let token = between(&body, "name=\"csrf\" value=\"", "\"");
    let form = format!(
        "csrf={token}&login={login}&password={}&back=/console/",
        PASSWORD.replace(' ', "+")
    );
    let (status, head, _) = http_raw(
        addr,
        "POST",
        "/console/sign-in",
        None,
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
        &[("Cookie", &format!("sb_sign_in={token}"))],
    )
    .unwrap();
    assert_eq!(status, 303, "{head}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: sb_session="))
        .map(|v| format!("sb_session={}", v.split(';').next().unwrap()))
        .unwrap();
    let (_, _, page) = http_raw(
        addr,
        "GET",
        "/console/movements",
        None,
        None,
        &[("Cookie", &cookie)],
    )
    .unwrap();
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
    Session { cookie, csrf }
}

/// A multipart form: its content type and body (fields, then files as (field, file name, bytes)).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----smartborder-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn between(text: &str, start: &str, end: &str) -> String {
    text.split(start)
        .nth(1)
        .and_then(|r| r.split(end).next())
        .unwrap_or_else(|| panic!("no {start} in {text}"))
        .to_string()
}

fn get(addr: SocketAddr, s: &Session, path: &str) -> (u16, String) {
    let (status, _, body) =
        http_raw(addr, "GET", path, None, None, &[("Cookie", &s.cookie)]).unwrap();
    (status, body)
}

fn post_form(addr: SocketAddr, s: &Session, path: &str, form: &str) -> (u16, String) {
    let (status, _, body) = http_raw(
        addr,
        "POST",
        path,
        None,
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
        &[("Cookie", &s.cookie)],
    )
    .unwrap();
    (status, body)
}

#[test]
fn an_admin_manages_the_accounts_of_their_administration_only() {
    let world = World::new();
    world.user("kz.admin", &["--role", "admin", "--country", "KZ"]);
    world.user(
        "az.officer",
        &[
            "--role",
            "officer",
            "--country",
            "AZ",
            "--office",
            "AZ000201",
        ],
    );
    let addr = world.addr();
    let admin = sign_in(addr, "kz.admin");
    let (status, page) = get(addr, &admin, "/console/accounts");
    assert_eq!(status, 200);
    assert!(
        page.contains("kz.admin") && !page.contains("az.officer"),
        "own administration only"
    );
    // An officer with an office of another country is refused, with the reason.
    let form = |login: &str, offices: &str| {
        format!(
            "csrf={}&login={login}&role=officer&offices={offices}&password=a+long+enough+password",
            admin.csrf
        )
    };
    let (status, page) = post_form(
        addr,
        &admin,
        "/console/accounts",
        &form("kz.bad", "AZ000201"),
    );
    assert_eq!(status, 422);
    assert!(
        page.contains("office AZ000201 is not an office of KZ"),
        "{page}"
    );
    let (status, page) = post_form(
        addr,
        &admin,
        "/console/accounts",
        &form("kz.officer2", "KZ000101"),
    );
    assert_eq!(status, 201, "{page}");
    assert!(page.contains("Account kz.officer2 created."));
    // Without the CSRF token nothing is created.
    let (status, _) = post_form(
        addr,
        &admin,
        "/console/accounts",
        "login=kz.sneaky&role=officer&offices=KZ000101&password=a+long+enough+password",
    );
    assert_eq!(status, 403);
    // Another administration's account cannot be disabled from here.
    let (status, _) = post_form(
        addr,
        &admin,
        "/console/accounts/disable",
        &format!("csrf={}&login=az.officer", admin.csrf),
    );
    assert_eq!(status, 404);
    let (status, _) = post_form(
        addr,
        &admin,
        "/console/accounts/disable",
        &format!("csrf={}&login=kz.officer2", admin.csrf),
    );
    assert_eq!(status, 303);
    let out = bin()
        .args(["users", "list", "--db", &world.db])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        list.lines()
            .any(|l| l.contains("kz.officer2") && l.contains("disabled")),
        "{list}"
    );
    assert!(!list.contains("kz.sneaky") && !list.contains("kz.bad"));
    // A mistyped console address is a console page, an API one stays JSON.
    let (status, page) = get(addr, &admin, "/console/nope");
    assert_eq!(status, 404);
    assert!(
        page.contains("There is no such page in the console."),
        "{page}"
    );
    let (status, _, body) = http_raw(addr, "GET", "/api/v1/nope", None, None, &[]).unwrap();
    assert_eq!(status, 404);
    assert!(body.contains("\"not_found\""), "{body}");
    // An officer is refused the admin's and the analyst's pages.
    let officer = sign_in(addr, "az.officer");
    assert_eq!(get(addr, &officer, "/console/accounts").0, 403);
    assert_eq!(get(addr, &officer, "/console/risk").0, 403);
    // The audit log names the admin behind the account writes, and still verifies.
    let out = bin()
        .args(["audit", "verify", "--db", &world.db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs the KCS open data (../shared/data/kcs-customs or SMARTBORDER_KCS_DATA)"]
fn an_analyst_backtests_an_uploaded_history() {
    let kcs = common::kcs_data().expect("KCS data not found; set SMARTBORDER_KCS_DATA");
    // The first 8,000 declarations of 2020 (the file is in date order).
    let text = std::fs::read_to_string(kcs.join("df_syn_train_eng.csv")).unwrap();
    let history: String = text.lines().take(8001).map(|l| format!("{l}\n")).collect();
    let world = World::new();
    world.user("kz.analyst", &["--role", "analyst", "--country", "KZ"]);
    let addr = world.addr();
    let analyst = sign_in(addr, "kz.analyst");
    let (content_type, body) = multipart(
        &[("csrf", analyst.csrf.as_str()), ("split", "")],
        &[("history", "kcs-2020.csv", history.as_bytes())],
    );
    let (status, _, page) = http_raw(
        addr,
        "POST",
        "/console/risk/backtest",
        None,
        Some((&content_type, &body)),
        &[("Cookie", &analyst.cookie)],
    )
    .unwrap();
    assert_eq!(status, 200, "{page}");
    let summary = between(&page, "<p id=\"backtest-summary\">", "</p>");
    assert!(
        summary.starts_with("kcs-2020.csv: 8,000 rows read."),
        "{summary}"
    );
    // Three quarters of the declarations before the split: 6,000 to train on, give or take
    // the declarations of the split day.
    let train: usize = between(&summary, "Trained on ", " inspected")
        .replace(',', "")
        .parse()
        .unwrap();
    assert!((5_500..=6_000).contains(&train), "{summary}");
    assert!(page.contains("id=\"backtest-metrics\"") && page.contains("Pre@n"));
    // The example profiles are not published for this administration: only the model.
    assert!(page.contains("No profiles are published"));
}

/// The location a `303 See Other` leads to.
fn post_for_location(addr: SocketAddr, s: &Session, path: &str, form: &str) -> String {
    let (status, head, body) = http_raw(
        addr,
        "POST",
        path,
        None,
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
        &[("Cookie", &s.cookie)],
    )
    .unwrap();
    assert_eq!(status, 303, "{head}\n{body}");
    head.lines()
        .find_map(|l| l.strip_prefix("location: "))
        .unwrap()
        .trim()
        .to_string()
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A course from set-up to certificate: a master trainer (made by the CLI) creates a course
/// with a risk and a TRS exercise; participants open their own variants, download their data,
/// submit (a file that does not parse is located and not counted; the reference solution
/// scores full marks, a null one nothing); the trainer reads the cohort and item analysis,
/// exports them and certifies; anyone checks the certificate's code without signing in; the
/// cascade counts the completion. A participant never sees a key or another's course, and a
/// trainer never opens a participant's variant.
#[test]
fn a_course_runs_from_set_up_to_certificate() {
    use smartborder_mtp::exercise::key_of;
    use smartborder_mtp::scenario::{CATALOG, Scenario};

    let world = World::new();
    let addr = world.addr();
    world.user("mt.aliya", &["--role", "supervisor", "--country", "KZ"]);
    for (login, country, office) in [
        ("p.daniyar", "KZ", "KZ000101"),
        ("p.aigerim", "KG", "KG000101"),
        ("outsider", "KZ", "KZ000101"),
    ] {
        world.user(
            login,
            &[
                "--role",
                "officer",
                "--country",
                country,
                "--office",
                office,
            ],
        );
    }
    let out = bin()
        .args([
            "mtp",
            "people",
            "set",
            "--login",
            "mt.aliya",
            "--level",
            "master_trainer",
            "--accredited",
            "2026-01-10",
            "--expires",
            "2099-01-10",
            "--db",
            &world.db,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mt = sign_in(addr, "mt.aliya");
    let daniyar = sign_in(addr, "p.daniyar");
    let aigerim = sign_in(addr, "p.aigerim");
    let outsider = sign_in(addr, "outsider");
    // Only a trainer may set a course up.
    let (_, page) = get(addr, &mt, "/console/training");
    assert!(page.contains("id=\"new-course\""), "{page}");
    let (_, page) = get(addr, &daniyar, "/console/training");
    assert!(!page.contains("id=\"new-course\""));
    let form = |s: &Session| {
        format!(
            "csrf={}&title=Risk+and+TRS&country=KZ&place=Almaty&language=en&level=participant&starts_on=2026-11-30&ends_on=2026-12-04&scenario=risk-kz-imports.toml&scenario=trs-corridor-2025.toml&seed=7&participants=p.daniyar%2C+p.aigerim",
            s.csrf
        )
    };
    let (status, _) = post_form(addr, &daniyar, "/console/training/courses", &form(&daniyar));
    assert_eq!(status, 403);
    let (status, page) = post_form(
        addr,
        &mt,
        "/console/training/courses",
        &form(&mt).replace("p.aigerim", "nobody"),
    );
    assert_eq!(status, 422);
    assert!(page.contains("No active account nobody"), "{page}");
    let course = post_for_location(addr, &mt, "/console/training/courses", &form(&mt));
    assert!(
        course.starts_with("/console/training/courses/course_"),
        "{course}"
    );

    // Participants see the course; someone not enrolled is answered as for no course.
    let (status, page) = get(addr, &daniyar, &course);
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("{course}/exercises/1"))
            && page.contains(&format!("{course}/exercises/2"))
    );
    let (status, _) = get(addr, &outsider, &course);
    assert_eq!(status, 404);
    let (status, _) = get(addr, &outsider, &format!("{course}/exercises/1"));
    assert_eq!(status, 404);
    let (status, _) = get(addr, &mt, &format!("{course}/exercises/1"));
    assert_eq!(status, 403);

    // The keys the server made for each participant's variant, rebuilt here from the same
    // definition, seed and login.
    let scenario = |name: &str| {
        let (file, text) = CATALOG.iter().find(|(f, _)| *f == name).unwrap();
        Scenario::from_toml(text, file).unwrap()
    };
    let risk_key = |login: &str| key_of(&scenario("risk-kz-imports.toml"), 7, login);
    let trs_key = key_of(&scenario("trs-corridor-2025.toml"), 7, "p.daniyar");

    // The exercise page: the brief, the data, never the key.
    let (status, page) = get(addr, &daniyar, &format!("{course}/exercises/1"));
    assert_eq!(status, 200);
    let mine = risk_key("p.daniyar");
    assert!(
        page.contains("id=\"brief\"") && page.contains("history.csv"),
        "{page}"
    );
    for secret in mine.planted.iter().flat_map(|p| p.importers.iter()) {
        assert!(
            !page.contains(secret.as_str()),
            "the page shows a planted importer"
        );
    }
    assert!(!page.contains("reference_profile") && !page.contains(&mine.reference_profile));
    let (status, head, zip) = http_raw(
        addr,
        "GET",
        &format!("{course}/exercises/1/pack.zip"),
        None,
        None,
        &[("Cookie", &daniyar.cookie)],
    )
    .unwrap();
    assert_eq!(status, 200, "{head}");
    assert!(zip.starts_with("PK") && zip.contains("history.csv") && !zip.contains("key.json"));
    // Variants differ between participants.
    assert_ne!(risk_key("p.aigerim").planted, mine.planted);

    // A file that does not parse is located, and is not an attempt.
    let submit = |s: &Session, n: u32, text: &str| {
        let form = format!("csrf={}&submission={}", s.csrf, form_encode(text));
        http_raw(
            addr,
            "POST",
            &format!("{course}/exercises/{n}/attempts"),
            None,
            Some(("application/x-www-form-urlencoded", form.as_bytes())),
            &[("Cookie", &s.cookie)],
        )
        .unwrap()
    };
    let (status, _, page) = submit(
        &daniyar,
        1,
        "profile \"X\" {\n    when orign = \"CN\"\n    then red\n}\n",
    );
    assert_eq!(status, 422);
    assert!(
        page.contains("data-line=\"2\" data-column=\"10\"") && page.contains("orign"),
        "{page}"
    );
    let (status, _, page) = submit(&daniyar, 2, "red_median_hours = \"soon\"\n");
    assert_eq!(status, 422);
    assert!(page.contains("data-line=\"1\""), "{page}");
    // The reference solutions score full marks; a null solution scores nothing.
    let (status, head, _) = submit(&daniyar, 1, &mine.reference_profile);
    assert_eq!(status, 303, "{head}");
    let answers = toml::to_string(trs_key.trs_answers.as_ref().unwrap()).unwrap();
    let (status, head, _) = submit(&daniyar, 2, &answers);
    assert_eq!(status, 303, "{head}");
    let (status, _, _) = submit(&aigerim, 1, "# no profiles yet\n");
    assert_eq!(status, 303);
    let (_, page) = get(addr, &daniyar, &format!("{course}/exercises/2"));
    assert!(page.contains("Score 100.0 of 100"), "{page}");
    let (_, page) = get(addr, &aigerim, &format!("{course}/exercises/1"));
    assert!(
        page.contains("Score 0.0 of 100") && page.contains("missed"),
        "{page}"
    );
    assert!(
        !page.contains("Score 100.0"),
        "a participant sees another's attempt"
    );

    // The trainer's cohort, item analysis and export; the participants' are not theirs.
    let (status, page) = get(addr, &mt, &course);
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"cohort\"") && page.contains("id=\"items-1\""),
        "{page}"
    );
    assert!(page.contains("origin hidden by transhipment"), "{page}");
    // The refused files were not attempts.
    assert!(
        page.contains("1 attempt, ") && !page.contains("2 attempts"),
        "{page}"
    );
    let (status, head, xlsx) = http_raw(
        addr,
        "GET",
        &format!("{course}/results.xlsx"),
        None,
        None,
        &[("Cookie", &mt.cookie)],
    )
    .unwrap();
    assert_eq!(status, 200, "{head}");
    assert!(xlsx.starts_with("PK"));
    let (status, _) = get(addr, &daniyar, &format!("{course}/results.xlsx"));
    assert_eq!(status, 404);
    // Only a participant who passed every exercise can be certified.
    assert_eq!(page.matches("name=\"user\"").count(), 1, "{page}");
    let user = between(&page, "name=\"user\" value=\"", "\"");
    let (status, _) = post_form(
        addr,
        &daniyar,
        &format!("{course}/certificates"),
        &format!("csrf={}&user={user}&name=Daniyar", daniyar.csrf),
    );
    assert_eq!(status, 404);
    let back = post_for_location(
        addr,
        &mt,
        &format!("{course}/certificates"),
        &format!("csrf={}&user={user}&name=Daniyar+Seitkali", mt.csrf),
    );
    assert_eq!(back, course);
    let (_, page) = get(addr, &daniyar, "/console/training");
    let code = between(&page, "/console/training/certificates/", "\"");
    // Anyone checks the code, signed in or not; a changed code is not valid.
    let (status, _, page) = http_raw(
        addr,
        "GET",
        &format!("/console/training/certificates/{code}"),
        None,
        None,
        &[],
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(
        page.contains("is valid") && page.contains("Daniyar Seitkali"),
        "{page}"
    );
    let mut wrong = code.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let (status, _, _) = http_raw(
        addr,
        "GET",
        &format!("/console/training/certificates/{wrong}"),
        None,
        None,
        &[],
    )
    .unwrap();
    assert_eq!(status, 404);
    // The cascade counts the completion for KZ and for the master trainer; participants do
    // not read the programme's dashboard.
    let (status, page) = get(addr, &mt, "/console/training/programme");
    assert_eq!(status, 200);
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert!(
        page.contains(&format!(
            "<td>KZ</td><td>{month}</td><td class=\"num\">1</td>"
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<td>mt.aliya</td><td>{month}</td><td class=\"num\">1</td>"
        )),
        "{page}"
    );
    let (status, _) = get(addr, &daniyar, "/console/training/programme");
    assert_eq!(status, 403);
    // A person's history: their own, or any for a trainer; not another participant's.
    let (status, page) = get(addr, &mt, "/console/training/people/p.daniyar");
    assert_eq!(status, 200);
    assert!(
        page.contains("Risk and TRS") && page.contains(&code),
        "{page}"
    );
    let (status, page) = get(addr, &mt, "/console/training/people/mt.aliya");
    assert!(
        status == 200 && page.contains("id=\"history-delivered\""),
        "{page}"
    );
    assert_eq!(
        get(addr, &daniyar, "/console/training/people/p.daniyar").0,
        200
    );
    assert_eq!(
        get(addr, &daniyar, "/console/training/people/p.aigerim").0,
        404
    );
    let out = bin()
        .args(["mtp", "people", "list", "--db", &world.db])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        list.contains("p.daniyar\tKZ\tparticipant\t") && list.contains("\tmt.aliya\n"),
        "{list}"
    );
}

/// Risk on the route in the console: a GE officer reads GE's assessment of a movement lodged in
/// KZ (the goods, the lane and the profile hit) and records a control result on the form; an AZ
/// officer on the same route sees neither; the coordinator's page has no risk section.
#[test]
fn an_officer_reads_the_assessment_and_records_a_control_result() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("profiles.risk"),
        "profile \"GE-SWITCHES\" {\n    when hs_code starts_with \"8517\"\n    then yellow\n}\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "risk",
            "publish",
            "--db",
            &world.db,
            "--country",
            "GE",
            "--by",
            "ge.analyst",
        ])
        .arg(dir.path().join("profiles.risk"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    world.user(
        "ge.officer",
        &[
            "--role",
            "officer",
            "--country",
            "GE",
            "--office",
            "GE000301",
        ],
    );
    world.user(
        "az.officer",
        &[
            "--role",
            "officer",
            "--country",
            "AZ",
            "--office",
            "AZ000201",
        ],
    );
    world.user("coordinator", &["--role", "coordinator"]);
    let addr = world.addr();
    let kz = common::key(&world.db, &["--country", "KZ"]);
    let mut lodgement = common::lodgement("CONSOLE-RISK-1");
    lodgement["consignment"] = serde_json::json!({"seals": 1, "items": [
        {"commodity_code": "85176200", "description": "Network switches", "gross_mass_kg": 1234.0}]});
    let (status, body) = common::post(addr, "/api/v1/movements", &kz, &lodgement);
    assert_eq!(status, 201, "{body}");
    let mrn = body["movement"]["mrn"].as_str().unwrap().to_string();
    let page_path = format!("/console/movements/{mrn}");

    let ge = sign_in(addr, "ge.officer");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let page = loop {
        let (status, page) = get(addr, &ge, &page_path);
        assert_eq!(status, 200);
        if page.contains("GE-SWITCHES") {
            break page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no assessment shown: {page}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        page.contains("Network switches") && page.contains("1,234"),
        "{page}"
    );
    assert!(page.contains("lane-yellow"), "{page}");
    assert!(page.contains("id=\"control-form\""), "{page}");

    // A finding without an inspection is refused on the page, with the reason.
    let form = |inspected: &str, finding: &str| {
        format!(
            "csrf={}&nonce={}&office=GE000301&lane_applied=yellow&inspected={inspected}&finding={finding}&finding_code=MISDESCRIBED&revenue_recovered=250&seizure=no&remarks=",
            ge.csrf,
            finding.len() + inspected.len()
        )
    };
    let (status, page) = post_form(
        addr,
        &ge,
        &format!("{page_path}/controls"),
        &form("no", "minor"),
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("control-error") && page.contains("without an inspection"),
        "{page}"
    );
    let location = post_for_location(
        addr,
        &ge,
        &format!("{page_path}/controls"),
        &form("yes", "minor"),
    );
    assert!(location.ends_with("#risk"), "{location}");
    let (_, page) = get(addr, &ge, &page_path);
    assert!(
        page.contains("MISDESCRIBED") && page.contains("Minor irregularity"),
        "{page}"
    );

    // GE's analyst reads the monitoring: one movement assessed, its profile hit and detected.
    world.user("ge.analyst", &["--role", "analyst", "--country", "GE"]);
    let analyst = sign_in(addr, "ge.analyst");
    let (status, page) = get(addr, &analyst, "/console/risk/monitoring");
    assert_eq!(status, 200, "{page}");
    let profiles = between(&page, "id=\"monitoring-profiles\"", "</table>");
    assert!(profiles.contains("<td>GE-SWITCHES</td>"), "{profiles}");
    assert!(
        profiles.contains("100.0%"),
        "hit rate and detection rate: {profiles}"
    );
    let (status, _) = get(addr, &ge, "/console/risk/monitoring");
    assert_eq!(status, 403, "officers do not monitor");

    // Confidential to GE.
    let az = sign_in(addr, "az.officer");
    let (status, page) = get(addr, &az, &page_path);
    assert_eq!(status, 200);
    assert!(
        !page.contains("GE-SWITCHES") && !page.contains("MISDESCRIBED"),
        "{page}"
    );
    assert!(
        page.contains("id=\"control-form\""),
        "AZ records its own results"
    );
    let coordinator = sign_in(addr, "coordinator");
    let (status, page) = get(addr, &coordinator, &page_path);
    assert_eq!(status, 200);
    assert!(
        !page.contains("id=\"risk\"") && !page.contains("GE-SWITCHES"),
        "{page}"
    );
}

/// An analyst publishes configuration files from the console: a plan that does not compile is
/// refused with its file named and nothing is published (not even the good file sent with it);
/// the two together once fixed are published as one publication and listed in force.
#[test]
fn an_analyst_publishes_configuration_files() {
    let world = World::new();
    world.user("ge.analyst", &["--role", "analyst", "--country", "GE"]);
    let addr = world.addr();
    let analyst = sign_in(addr, "ge.analyst");
    let upload = |files: &[(&str, &str)]| {
        let files: Vec<(&str, &str, &[u8])> = files
            .iter()
            .map(|(name, text)| ("files", *name, text.as_bytes()))
            .collect();
        let (content_type, body) = multipart(&[("csrf", analyst.csrf.as_str())], &files);
        let (status, _, page) = http_raw(
            addr,
            "POST",
            "/console/risk/files",
            None,
            Some((&content_type, &body)),
            &[("Cookie", &analyst.cookie)],
        )
        .unwrap();
        (status, page)
    };
    let bands = "hs_code,origin,low,high\n8517,CN,1.0,500.0\n";
    let broken_plan = "seed = 1\nexploration_share = 1.5\n";
    let (status, page) = upload(&[("ge-bands.csv", bands), ("selectivity.toml", broken_plan)]);
    assert_eq!(status, 422, "{page}");
    let error = between(&page, "id=\"files-error\" role=\"alert\">", "</p>");
    assert!(
        error.contains("selectivity.toml") && error.contains("exploration_share"),
        "{error}"
    );
    assert!(
        page.contains("No file published yet."),
        "nothing published: {page}"
    );
    let (status, page) = upload(&[("../model.json", "{}")]);
    assert_eq!(status, 422, "{page}");
    let plan = "seed = 1\nexploration_share = 0.1\n\n[default]\nexpected = { red = 0.05 }\n";
    let (status, page) = upload(&[("ge-bands.csv", bands), ("selectivity.toml", plan)]);
    assert_eq!(status, 200, "{page}");
    let published = between(&page, "id=\"files-published\" role=\"status\">", "</p>");
    assert!(
        published.contains("ge-bands.csv v1") && published.contains("selectivity.toml v1"),
        "{published}"
    );
    let table = between(&page, "id=\"risk-files\"", "</table>");
    assert!(
        table.contains("<td>selectivity.toml</td>") && table.contains("<td>ge-bands.csv</td>"),
        "{table}"
    );
    // Who published them, by login.
    assert!(table.contains("<td>ge.analyst · "), "{table}");
}

/// A supervisor makes a sampling plan from a pilot export in the console: the same samples as
/// `smartborder trs plan`; an officer may not.
#[test]
fn a_supervisor_makes_the_sampling_plan_the_cli_makes() {
    let world = World::new();
    world.user(
        "kz.supervisor",
        &["--role", "supervisor", "--country", "KZ"],
    );
    world.user(
        "kz.officer",
        &[
            "--role",
            "officer",
            "--country",
            "KZ",
            "--office",
            "KZ000101",
        ],
    );
    let addr = world.addr();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = bin()
        .args([
            "synth",
            "trs",
            "--consignments",
            "1500",
            "--format",
            "csv",
            "--out",
        ])
        .arg(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args([
            "trs",
            "plan",
            "trs.csv",
            "--mapping",
            "trs.mapping.toml",
            "--margin-minutes",
            "45",
            "--by",
            "lane",
            "--json",
            "plan.json",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("plan.json")).unwrap()).unwrap();

    let supervisor = sign_in(addr, "kz.supervisor");
    let (status, _, page) = http_raw(
        addr,
        "GET",
        "/console/trs/plan",
        None,
        None,
        &[("Cookie", &supervisor.cookie)],
    )
    .unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"plan-form\""));
    let (mapping, pilot) = (
        std::fs::read(d.join("trs.mapping.toml")).unwrap(),
        std::fs::read(d.join("trs.csv")).unwrap(),
    );
    let (content_type, body) = multipart(
        &[
            ("csrf", supervisor.csrf.as_str()),
            ("statistic", "median"),
            ("margin_minutes", "45"),
            ("confidence", "0.95"),
            ("by", "lane"),
            ("study_days", ""),
        ],
        &[
            ("mapping", "trs.mapping.toml", &mapping),
            ("pilot", "trs.csv", &pilot),
        ],
    );
    let (status, _, page) = http_raw(
        addr,
        "POST",
        "/console/trs/plan",
        None,
        Some((&content_type, &body)),
        &[("Cookie", &supervisor.cookie)],
    )
    .unwrap();
    assert_eq!(status, 200, "{page}");
    let table = between(&page, "<table id=\"plan\">", "</table>");
    for s in cli["strata"].as_array().unwrap() {
        let row = format!(
            "<td>{}</td><td class=\"num\">{}</td>",
            s["stratum"].as_str().unwrap(),
            s["pilot_count"]
        );
        let at = table
            .find(&row)
            .unwrap_or_else(|| panic!("{row} in {table}"));
        let cells = between(&table[at..], &row, "</tr>");
        assert!(
            cells.contains(&format!("<td class=\"num\">{}</td>", s["sample"])),
            "{cells} {s}"
        );
    }
    let total = between(&page, "<p id=\"plan-total\">", "</p>");
    assert!(total.contains(&cli["total_sample"].to_string()), "{total}");
    assert!(page.contains("id=\"workbook-form\""));

    // The collection workbook for two posts, and the mapping that reads it back.
    let mapping = std::fs::read_to_string(d.join("trs.mapping.toml")).unwrap();
    let workbook = |posts: &str, what: &str| {
        let form = format!(
            "csrf={}&mapping={}&plan={}&posts={}&rows=20&what={what}",
            supervisor.csrf,
            form_encode(&mapping),
            form_encode(&cli.to_string()),
            form_encode(posts)
        );
        let (status, head, _) = http_raw(
            addr,
            "POST",
            "/console/trs/workbook",
            None,
            Some(("application/x-www-form-urlencoded", form.as_bytes())),
            &[("Cookie", &supervisor.cookie)],
        )
        .unwrap();
        (status, head)
    };
    let (status, head) = workbook("Red Bridge; Sarpi", "xlsx");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("collection.xlsx"), "{head}");
    let (status, head) = workbook("Red Bridge; Sarpi", "mapping");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("collection.mapping.toml"), "{head}");
    // A post SmartBorder does not know needs its zone.
    let (status, _) = workbook("Nowhere", "xlsx");
    assert_eq!(status, 422);

    // An officer records at the border; plans are not theirs.
    let officer = sign_in(addr, "kz.officer");
    let (status, _, _) = http_raw(
        addr,
        "GET",
        "/console/trs/plan",
        None,
        None,
        &[("Cookie", &officer.cookie)],
    )
    .unwrap();
    assert_eq!(status, 403);
}
