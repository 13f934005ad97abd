//! Console pages over plain HTTP, against the real `smartborder serve`: an admin's account
//! management, role refusals, and the analyst's backtest on the KCS open data.

mod common;

use std::net::SocketAddr;

use common::{Server, bin, http_raw, sqlite_url, start};

struct World {
    server: Server,
    db: String,
    _dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_url(dir.path());
        let server = start(&db);
        World {
            server,
            db,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.addr
    }

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
    let boundary = "----smartborder-test-boundary";
    let mut body = Vec::new();
    for (name, value) in [("csrf", analyst.csrf.as_str()), ("split", "")] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"history\"; filename=\"kcs-2020.csv\"\r\nContent-Type: text/csv\r\n\r\n{history}\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
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
