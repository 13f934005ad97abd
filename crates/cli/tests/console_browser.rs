//! The console in a real browser: headless Chromium driven through WebDriver (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them), against the real `smartborder
//! serve`. Screenshots of the main pages are kept under `target/console-screenshots/`.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{World, bin, key, lodgement, post};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const NEEDS: &str = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)";

/// Browser tests run one at a time: each starts a browser, and the machine has two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A chromedriver process, stopped by PID when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting chromedriver ({NEEDS}): {e}"));
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

/// A new headless browser with an empty profile.
async fn browser(driver: &Driver, profile: &tempfile::TempDir) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                "--lang=en-US",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("connecting to chromedriver: {e}"))
}

/// Saves a screenshot of the page as `target/console-screenshots/NAME.png`.
async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// What the browser tests do in a console world: accounts, and keys to lodge with.
impl World {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    /// `smartborder users create`, with the password on standard input.
    fn user(&self, login: &str, password: &str, args: &[&str]) {
        common::create_user(&self.db, login, password, args);
    }

    fn key(&self, country: &str) -> String {
        key(&self.db, &["--country", country])
    }

    /// Lodges a movement KZ→AZ→GE and returns its MRN.
    fn lodge(&self, token: &str, lrn: &str) -> String {
        let (status, body) = post(self.addr(), "/api/v1/movements", token, &lodgement(lrn));
        assert_eq!(status, 201, "{body}");
        body["movement"]["mrn"].as_str().unwrap().to_string()
    }

    fn release(&self, token: &str, mrn: &str) {
        let limit = (chrono::Utc::now() + chrono::TimeDelta::days(10))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (status, body) = post(
            self.addr(),
            &format!("/api/v1/movements/{mrn}/events"),
            token,
            &json!({"type": "released_for_transit", "office": "KZ000101", "limit_date": limit}),
        );
        assert_eq!(status, 200, "{body}");
    }
}

async fn sign_in(client: &Client, world: &World, login: &str, password: &str) {
    client.goto(&world.url("/console/")).await.unwrap();
    client
        .find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys(login)
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    click_to_page(client, "form.card button[type=submit]").await;
}

/// Clicks an element that leads to another page and waits until the old page is gone, so that
/// what is read next is read from the new page.
async fn click_to_page(client: &Client, css: &str) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while old.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "clicking {css} did not lead to a new page"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The new page has loaded when its document is complete.
    while client
        .execute("return document.readyState", vec![])
        .await
        .ok()
        .and_then(|v| v.as_str().map(|s| s == "complete"))
        != Some(true)
    {
        assert!(
            Instant::now() < deadline,
            "the page after {css} did not load"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn path(client: &Client) -> String {
    client.current_url().await.unwrap().path().to_string()
}

/// Waits until the element's text satisfies `ok` (at most `limit`); returns the text.
async fn wait_text(
    client: &Client,
    css: &str,
    limit: Duration,
    ok: impl Fn(&str) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(e) = client.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && ok(&t)
        {
            return Some(t);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn rows(client: &Client, table: &str) -> Vec<Element> {
    client
        .find_all(Locator::Css(&format!("#{table} tbody tr")))
        .await
        .unwrap()
}

const KZ_PASSWORD: &str = "kz officer password";
const AZ_PASSWORD: &str = "az officer password";
const GE_PASSWORD: &str = "ge officer password";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn sign_in_wrong_password_and_lock_out() {
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new();
    world.user(
        "az.officer",
        AZ_PASSWORD,
        &[
            "--role",
            "officer",
            "--country",
            "AZ",
            "--office",
            "AZ000201",
        ],
    );
    world.user(
        "az.super",
        "az supervisor password",
        &["--role", "supervisor", "--country", "AZ"],
    );
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, &profile).await;

    // A page of the console leads to the sign-in form first.
    client.goto(&world.url("/console/movements")).await.unwrap();
    assert_eq!(path(&client).await, "/console/sign-in");
    screenshot(&client, "sign-in").await;

    sign_in(&client, &world, "az.officer", "not the password").await;
    assert_eq!(
        text(&client, "#sign-in-error").await,
        "Wrong login or password."
    );
    // An unknown login gets the same answer.
    sign_in(&client, &world, "nobody.here", "not the password").await;
    assert_eq!(
        text(&client, "#sign-in-error").await,
        "Wrong login or password."
    );
    for _ in 0..3 {
        sign_in(&client, &world, "az.officer", "not the password").await;
        assert_eq!(
            text(&client, "#sign-in-error").await,
            "Wrong login or password."
        );
    }
    // The fifth failure in a row locks the account, and then even the right password is refused.
    sign_in(&client, &world, "az.officer", "still not the password").await;
    let locked = text(&client, "#sign-in-error").await;
    assert!(locked.starts_with("Too many failed attempts"), "{locked}");
    sign_in(&client, &world, "az.officer", AZ_PASSWORD).await;
    let still = text(&client, "#sign-in-error").await;
    assert!(still.starts_with("Too many failed attempts"), "{still}");
    assert_eq!(path(&client).await, "/console/sign-in");

    // Another account of the administration signs in, lands on its first page, and signs out.
    sign_in(&client, &world, "az.super", "az supervisor password").await;
    assert_eq!(path(&client).await, "/console/arrivals");
    assert!(text(&client, "header .who").await.contains("az.super"));
    click_to_page(&client, "form[action='/console/sign-out'] button").await;
    assert_eq!(path(&client).await, "/console/sign-in");
    client.goto(&world.url("/console/arrivals")).await.unwrap();
    assert_eq!(path(&client).await, "/console/sign-in", "signed out");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn movements_board_filtered_and_paged() {
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new();
    world.user(
        "ge.super",
        "ge supervisor password",
        &["--role", "supervisor", "--country", "GE"],
    );
    let kz = world.key("KZ");
    let mut mrns = Vec::new();
    for i in 0..120 {
        mrns.push(world.lodge(&kz, &format!("BOARD-{i:03}")));
    }
    for mrn in &mrns[..7] {
        world.release(&kz, mrn);
    }
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, &profile).await;
    sign_in(&client, &world, "ge.super", "ge supervisor password").await;
    client.goto(&world.url("/console/movements")).await.unwrap();

    // Newest first, 50 a page, three pages for 120 movements.
    let first = rows(&client, "movements").await;
    assert_eq!(first.len(), 50);
    assert_eq!(
        first[0].attr("data-mrn").await.unwrap().as_deref(),
        Some(mrns[119].as_str())
    );
    screenshot(&client, "movements-board").await;
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        for r in rows(&client, "movements").await {
            seen.push(r.attr("data-mrn").await.unwrap().unwrap());
        }
        if client.find(Locator::Id("next-page")).await.is_err() {
            break;
        }
        click_to_page(&client, "#next-page").await;
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<String> = mrns.iter().rev().cloned().collect();
    assert_eq!(seen, expected);

    // Filtered by status: only the seven released, through htmx (the page is not reloaded).
    client.goto(&world.url("/console/movements")).await.unwrap();
    client
        .find(Locator::Css("#status option[value=released_for_transit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("form.filters button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let shown = wait_text(&client, "#board .count", Duration::from_secs(5), |t| {
        t == "Shown: 7"
    })
    .await;
    assert_eq!(shown.as_deref(), Some("Shown: 7"));
    let released: Vec<String> = {
        let mut v = Vec::new();
        for r in rows(&client, "movements").await {
            v.push(r.attr("data-mrn").await.unwrap().unwrap());
        }
        v
    };
    expected = mrns[..7].iter().rev().cloned().collect();
    assert_eq!(released, expected);
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains("status=released_for_transit")
    );
    // Oldest first.
    client
        .goto(&world.url("/console/movements?order=asc&status=released_for_transit"))
        .await
        .unwrap();
    let first = rows(&client, "movements").await;
    assert_eq!(
        first[0].attr("data-mrn").await.unwrap().as_deref(),
        Some(mrns[0].as_str())
    );
    // A filter that does not read is named, with what was expected.
    client
        .goto(&world.url("/console/movements?country=Georgia"))
        .await
        .unwrap();
    let error = text(&client, "#board .error").await;
    assert!(
        error.contains("Country on the route: found \"Georgia\""),
        "{error}"
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn arrival_recorded_on_the_form_reaches_the_next_administration_live() {
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new();
    world.user(
        "az.officer",
        AZ_PASSWORD,
        &[
            "--role",
            "officer",
            "--country",
            "AZ",
            "--office",
            "AZ000201",
        ],
    );
    world.user(
        "ge.officer",
        GE_PASSWORD,
        &[
            "--role",
            "officer",
            "--country",
            "GE",
            "--office",
            "GE000301",
        ],
    );
    let kz = world.key("KZ");
    let mrn = world.lodge(&kz, "LIVE-1");
    let driver = driver();
    let (az_profile, ge_profile) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let az = browser(&driver, &az_profile).await;
    let ge = browser(&driver, &ge_profile).await;
    sign_in(&az, &world, "az.officer", AZ_PASSWORD).await;
    sign_in(&ge, &world, "ge.officer", GE_PASSWORD).await;
    assert_eq!(path(&az).await, "/console/arrivals");
    assert!(rows(&az, "arrivals").await.is_empty(), "not released yet");

    // The release at departure brings the pre-arrival item to the open page, without a reload.
    world.release(&kz, &mrn);
    let row = wait_text(&az, "#arrivals tbody tr", Duration::from_secs(1), |t| {
        t.contains(&mrn)
    })
    .await;
    assert!(
        row.is_some(),
        "the pre-arrival item did not appear within a second"
    );
    screenshot(&az, "pre-arrival").await;

    // The Georgian officer's page shows its unread count; the Azerbaijani officer records the
    // arrival on the form.
    let before: i64 = text(&ge, "#unread").await.parse().unwrap();
    click_to_page(
        &az,
        &format!("#arrivals a[href='/console/movements/{mrn}']"),
    )
    .await;
    assert_eq!(path(&az).await, format!("/console/movements/{mrn}"));
    let timeline = text(&az, "#timeline").await;
    assert!(
        timeline.contains("Released for transit (IE029)"),
        "{timeline}"
    );
    // Each step in the office's local time and in UTC.
    assert!(
        timeline.contains("+05") && timeline.contains("UTC"),
        "{timeline}"
    );
    az.find(Locator::Css("#event-kind option[value=arrival_at_transit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click_to_page(&az, "#event-form button[type=submit]").await;
    let recorded = Instant::now();
    let timeline = text(&az, "#timeline").await;
    assert!(
        timeline.contains("Arrival at the office of transit · AZ000201"),
        "{timeline}"
    );
    assert!(timeline.contains("+04"), "Baku time: {timeline}");
    screenshot(&az, "movement").await;

    // The next administration on the route hears of it over Server-Sent Events.
    let expected = (before + 1).to_string();
    let badge = wait_text(&ge, "#unread", Duration::from_secs(1), |t| t == expected).await;
    assert_eq!(
        badge.as_deref(),
        Some(expected.as_str()),
        "no notification within a second (waited {:?})",
        recorded.elapsed()
    );
    ge.goto(&world.url("/console/notifications")).await.unwrap();
    let feed = text(&ge, "#notifications").await;
    assert!(
        feed.contains("Arrival at the office of transit · AZ000201"),
        "{feed}"
    );
    assert_eq!(
        text(&ge, "#unread").await,
        "0",
        "viewing the list marks it read"
    );
    screenshot(&ge, "notifications").await;

    // The audit log names the person behind the write.
    let out = bin()
        .args(["audit", "verify", "--db", &world.db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    az.close().await.unwrap();
    ge.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn language_switch_is_remembered() {
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new();
    world.user(
        "kz.officer",
        KZ_PASSWORD,
        &[
            "--role",
            "officer",
            "--country",
            "KZ",
            "--office",
            "KZ000101",
        ],
    );
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, &profile).await;
    client.goto(&world.url("/console/sign-in")).await.unwrap();
    assert_eq!(text(&client, "main h1").await, "Sign in");
    click_to_page(&client, "nav.languages a[hreflang=ru]").await;
    assert_eq!(text(&client, "main h1").await, "Вход");
    assert_eq!(
        path(&client).await,
        "/console/sign-in",
        "the switch stays on the page"
    );
    sign_in(&client, &world, "kz.officer", KZ_PASSWORD).await;
    assert_eq!(text(&client, "main h1").await, "Предварительная информация");
    client.goto(&world.url("/console/movements")).await.unwrap();
    assert_eq!(text(&client, "main h1").await, "Перевозки");
    let html = client.source().await.unwrap();
    assert!(
        html.contains("<html lang=\"ru\">"),
        "the page says its language"
    );
    screenshot(&client, "movements-ru").await;
    // And back.
    click_to_page(&client, "nav.languages a[hreflang=en]").await;
    assert_eq!(text(&client, "main h1").await, "Movements");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn forms_without_csrf_token_and_foreign_movements_are_refused() {
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new();
    world.user(
        "az.officer",
        AZ_PASSWORD,
        &[
            "--role",
            "officer",
            "--country",
            "AZ",
            "--office",
            "AZ000201",
        ],
    );
    let kz = world.key("KZ");
    let on_route = world.lodge(&kz, "CSRF-1");
    world.release(&kz, &on_route);
    // A movement KZ→UZ: Azerbaijan is not on its route.
    let (status, body) = post(
        world.addr(),
        "/api/v1/movements",
        &kz,
        &json!({"lrn": "ELSEWHERE-1", "route": {"departure": "KZ000101", "destination": "UZ000401"}}),
    );
    assert_eq!(status, 201, "{body}");
    let foreign = body["movement"]["mrn"].as_str().unwrap().to_string();
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, &profile).await;
    sign_in(&client, &world, "az.officer", AZ_PASSWORD).await;

    // The form posted without its CSRF token is refused and records nothing.
    client
        .goto(&world.url(&format!("/console/movements/{on_route}")))
        .await
        .unwrap();
    client
        .execute(
            "document.querySelector('#event-form input[name=csrf]').remove(); document.getElementById('event-form').submit();",
            vec![],
        )
        .await
        .unwrap();
    wait_text(&client, "main h1", Duration::from_secs(5), |t| {
        t == "Refused"
    })
    .await;
    let message = text(&client, "main .error").await;
    assert!(
        message.contains("did not come from this console"),
        "{message}"
    );
    let (_, movement) = common::get(world.addr(), &format!("/api/v1/movements/{on_route}"), &kz);
    let events: Vec<&Value> = movement["movement"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(events.len(), 2, "accepted and released only: {events:?}");
    // With a wrong token too.
    client
        .goto(&world.url(&format!("/console/movements/{on_route}")))
        .await
        .unwrap();
    client
        .execute(
            "document.querySelector('#event-form input[name=csrf]').value = 'f'.repeat(64); document.getElementById('event-form').submit();",
            vec![],
        )
        .await
        .unwrap();
    wait_text(&client, "main h1", Duration::from_secs(5), |t| {
        t == "Refused"
    })
    .await;

    // Another administration's movement is answered like an unknown MRN.
    client
        .goto(&world.url(&format!("/console/movements/{foreign}")))
        .await
        .unwrap();
    assert_eq!(
        text(&client, "main .error").await,
        format!("No movement with MRN {foreign}.")
    );
    client
        .goto(&world.url("/console/movements/26KZ0000000000000X"))
        .await
        .unwrap();
    assert_eq!(
        text(&client, "main .error").await,
        "No movement with MRN 26KZ0000000000000X."
    );
    screenshot(&client, "refused").await;
    // Nor does the API answer the session for it.
    client
        .goto(&world.url(&format!("/api/v1/movements/{foreign}")))
        .await
        .unwrap();
    let body = client.source().await.unwrap();
    assert!(body.contains("not_found"), "{body}");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_trs_upload_ends_in_its_report() {
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new();
    world.user(
        "kz.super",
        "kz supervisor password",
        &["--role", "supervisor", "--country", "KZ"],
    );
    let data = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "synth",
            "trs",
            "--consignments",
            "30000",
            "--format",
            "csv",
            "--faults",
            "0.01",
            "--out",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, &profile).await;
    sign_in(&client, &world, "kz.super", "kz supervisor password").await;
    client.goto(&world.url("/console/trs")).await.unwrap();
    client
        .find(Locator::Id("study-name"))
        .await
        .unwrap()
        .send_keys("Khorgos, November")
        .await
        .unwrap();
    for (id, file) in [
        ("study-export", "trs.csv"),
        ("study-mapping", "trs.mapping.toml"),
    ] {
        client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(&data.path().join(file).display().to_string())
            .await
            .unwrap();
    }
    click_to_page(&client, "#study-form button[type=submit]").await;
    assert!(path(&client).await.starts_with("/console/trs/study_"));
    // The page follows the study until it is done, without a reload.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Read in one script: htmx replaces the element while the study runs.
        let status = client
            .execute(
                "const s = document.getElementById('study'); return s ? s.dataset.status : null;",
                vec![],
            )
            .await
            .unwrap();
        match status.as_str() {
            Some("done") => break,
            Some("running") => {}
            other => panic!("the study ended {other:?}: {}", text(&client, "main").await),
        }
        assert!(Instant::now() < deadline, "the study did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let summary = text(&client, "#study").await;
    assert!(summary.contains("consignments read"), "{summary}");
    // The report is shown inside the console, and downloads in three formats.
    let frame = client.find(Locator::Id("report")).await.unwrap();
    let src = frame.attr("src").await.unwrap().unwrap();
    for (link, expected) in [
        ("report.html", "text/html"),
        ("report.json", "application/json"),
        (
            "report.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ] {
        let href = format!("{}/{link}", src.trim_end_matches("/report.html"));
        let found: Value = client
            .execute(
                "return fetch(arguments[0]).then(r => r.headers.get('content-type'));",
                vec![json!(href)],
            )
            .await
            .unwrap();
        assert!(
            found.as_str().unwrap_or("").starts_with(expected),
            "{link}: {found}"
        );
    }
    screenshot(&client, "trs-study").await;
    // The study stays in the list.
    client.goto(&world.url("/console/trs")).await.unwrap();
    let list = text(&client, "#studies").await;
    assert!(
        list.contains("Khorgos, November") && list.contains("done"),
        "{list}"
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn an_analysts_rule_error_is_shown_at_its_line_and_column() {
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new();
    world.user(
        "kz.analyst",
        "kz analyst password",
        &["--role", "analyst", "--country", "KZ"],
    );
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, &profile).await;
    sign_in(&client, &world, "kz.analyst", "kz analyst password").await;
    assert_eq!(path(&client).await, "/console/risk");
    let editor = client.find(Locator::Id("profiles")).await.unwrap();
    editor.clear().await.unwrap();
    // A misspelt field on line 2: the error appears while typing, with its line and column.
    editor
        .send_keys("profile \"GB\" {\n    when orign = \"GB\"\n    then yellow\n}\n")
        .await
        .unwrap();
    let error = wait_text(&client, "#rule-error", Duration::from_secs(5), |t| {
        t.contains("orign")
    })
    .await;
    let error = error.expect("the rule error is shown as the analyst types");
    assert!(
        error.starts_with("Line 2, column 10: unknown field `orign`"),
        "{error}"
    );
    screenshot(&client, "risk-profiles-error").await;
    // Publishing it is refused; corrected, it is published as version 1.
    click_to_page(&client, "#profiles-form button[type=submit]").await;
    assert!(text(&client, "main .error").await.contains("Not published"));
    let editor = client.find(Locator::Id("profiles")).await.unwrap();
    editor.clear().await.unwrap();
    editor
        .send_keys("profile \"GB\" {\n    when origin = \"GB\"\n    then yellow\n}\n")
        .await
        .unwrap();
    let ok = wait_text(&client, "#rule-ok", Duration::from_secs(5), |t| {
        t.contains("no errors")
    })
    .await;
    assert_eq!(ok.as_deref(), Some("One profile, no errors."));
    click_to_page(&client, "#profiles-form button[type=submit]").await;
    assert_eq!(text(&client, "#published").await, "Version 1 published.");
    assert!(
        text(&client, "#profiles-version")
            .await
            .starts_with("Version 1 in force")
    );
    // The audit log vouches for the published file.
    let out = bin()
        .args(["audit", "verify", "--db", &world.db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (Debian packages chromium, chromium-driver)"]
async fn a_trainer_sets_up_a_course_and_a_participant_is_graded() {
    use smartborder_mtp::scenario::{CATALOG, Scenario};

    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new();
    world.user(
        "kz.trainer",
        "kz trainer password",
        &["--role", "supervisor", "--country", "KZ"],
    );
    world.user(
        "kz.officer",
        KZ_PASSWORD,
        &[
            "--role",
            "officer",
            "--country",
            "KZ",
            "--office",
            "KZ000101",
        ],
    );
    let out = bin()
        .args([
            "mtp",
            "people",
            "set",
            "--login",
            "kz.trainer",
            "--level",
            "trainer",
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
    let driver = driver();
    // The trainer sets the course up in the form (every shipped exercise is ticked).
    let profile = tempfile::tempdir().unwrap();
    let trainer = browser(&driver, &profile).await;
    sign_in(&trainer, &world, "kz.trainer", "kz trainer password").await;
    trainer.goto(&world.url("/console/training")).await.unwrap();
    for (id, value) in [
        ("course-title", "Selectivity workshop"),
        ("course-place", "Aktau"),
        ("course-participants", "kz.officer"),
    ] {
        trainer
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    trainer
        .execute(
            "document.getElementById('course-seed').value = '5';",
            vec![],
        )
        .await
        .unwrap();
    click_to_page(&trainer, "#new-course + form button[type=submit]").await;
    let course = path(&trainer).await;
    assert!(
        course.starts_with("/console/training/courses/course_"),
        "{course}"
    );

    // The participant opens the selectivity exercise of their course.
    let profile = tempfile::tempdir().unwrap();
    let officer = browser(&driver, &profile).await;
    sign_in(&officer, &world, "kz.officer", KZ_PASSWORD).await;
    officer.goto(&world.url("/console/training")).await.unwrap();
    click_to_page(&officer, "#courses-attended tbody a").await;
    let number = CATALOG
        .iter()
        .position(|(f, _)| *f == "selectivity-kz-posts.toml")
        .unwrap()
        + 1;
    click_to_page(&officer, &format!("a[href$='/exercises/{number}']")).await;
    let brief = text(&officer, "#brief").await;
    assert!(
        brief.contains("Khorgos") && brief.contains("capacity"),
        "{brief}"
    );
    // A plan that does not read is shown at its line, and the text stays in the form.
    let submit = |plan: String| {
        let officer = officer.clone();
        async move {
            officer
                .execute(
                    "document.getElementById('submission').value = arguments[0];",
                    vec![json!(plan)],
                )
                .await
                .unwrap();
            click_to_page(&officer, "form.stack button[type=submit]").await;
        }
    };
    submit("seed = 1\n[default]\nexpected = { red = \"five\" }\n".into()).await;
    let error = officer.find(Locator::Id("submission-error")).await.unwrap();
    assert_eq!(error.attr("data-line").await.unwrap().as_deref(), Some("3"));
    // The model answer of this participant's variant scores full marks.
    let (file, definition) = CATALOG[number - 1];
    let key = smartborder_mtp::exercise::key_of(
        &Scenario::from_toml(definition, file).unwrap(),
        5,
        "kz.officer",
    );
    submit(key.reference_plan.clone()).await;
    let feedback = text(&officer, "section.attempt").await;
    assert!(
        feedback.contains("100.0") && feedback.contains("passed"),
        "{feedback}"
    );
    // In Russian, the same attempt's feedback.
    let here = officer.current_url().await.unwrap().to_string();
    officer
        .goto(&world.url("/console/language?lang=ru"))
        .await
        .unwrap();
    officer.goto(&here).await.unwrap();
    let feedback = text(&officer, "section.attempt pre.feedback").await;
    assert!(feedback.starts_with("Балл 100.0 из 100"), "{feedback}");
    screenshot(&officer, "training-exercise").await;

    // The trainer's cohort shows it.
    trainer.goto(&world.url(&course)).await.unwrap();
    let cohort = text(&trainer, "#cohort").await;
    assert!(
        cohort.contains("kz.officer") && cohort.contains("100.0"),
        "{cohort}"
    );
    officer.close().await.unwrap();
    trainer.close().await.unwrap();
}
