//! Helpers of the end-to-end tests of the transit single window: the real `smartborder`
//! binary, keys made with `smartborder keys create`, HTTP/1.1 from here, and NCTS messages.
#![allow(dead_code)] // each test file uses a part of them

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_smartborder"))
}

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server whose clock accepts event times up to 30 days ahead: the lifecycle tests play a
/// journey of days in seconds. The hardening tests use [`start_with`] and the defaults.
pub fn start(db: &str) -> Server {
    start_with(db, &["--max-clock-skew", "2592000"])
}

pub fn start_with(db: &str, extra: &[&str]) -> Server {
    let mut child = bin()
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .args(extra)
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

pub fn key(db: &str, who: &[&str]) -> String {
    key_with_id(db, who).1
}

/// A new key: (id, secret).
pub fn key_with_id(db: &str, who: &[&str]) -> (String, String) {
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
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, Value)> {
    let (status, _, body) = http_raw(addr, method, path, token, body, headers)?;
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
}

/// One HTTP/1.1 request; returns the status, the response head and the body as text.
pub fn http_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String, String)> {
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
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((status, head.to_string(), body.to_string()))
}

pub fn post(addr: SocketAddr, path: &str, token: &str, body: &Value) -> (u16, Value) {
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

pub fn get(addr: SocketAddr, path: &str, token: &str) -> (u16, Value) {
    http(addr, "GET", path, Some(token), None, &[]).unwrap()
}

/// A movement's whole history, page by page (`GET /movements/{mrn}/events`).
pub fn history(addr: SocketAddr, mrn: &str, token: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = -1;
    loop {
        let (s, page) = get(
            addr,
            &format!("/api/v1/movements/{mrn}/events?after={after}&limit=1000"),
            token,
        );
        assert_eq!(s, 200, "{page}");
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => return events,
        }
    }
}

/// An instant `hours` after a base one day from now (events must follow the acceptance, which
/// the service stamps with its own clock), in RFC 3339.
pub fn at(hours: i64) -> String {
    use chrono::{DurationRound, TimeDelta, Utc};
    let base = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() + TimeDelta::days(1);
    (base + TimeDelta::hours(hours)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn lodgement(lrn: &str) -> Value {
    json!({"lrn": lrn, "route": {"departure": "KZ000101", "transit": [{"office": "AZ000201"}], "destination": "GE000301"}})
}

pub fn event(kind: &str, office: &str, at: &str) -> Value {
    json!({"type": kind, "office": office, "at": at})
}

/// A new, empty PostgreSQL database for one test (one server leads a database at a time, so
/// tests running side by side each get their own), on the cluster of
/// `SMARTBORDER_TEST_POSTGRES_URL`: missing, the ignored tests that need it fail loudly.
pub fn postgres_url() -> String {
    use sqlx::Connection;
    let base = std::env::var("SMARTBORDER_TEST_POSTGRES_URL")
        .expect("SMARTBORDER_TEST_POSTGRES_URL names a database (.ci/run starts one)");
    let name = format!(
        "sb_test_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let (server, _) = base.rsplit_once('/').expect("a database URL");
    format!("{server}/{name}")
}

/// Runs one SQL statement on the database at `url` (SQLite or PostgreSQL), past the service:
/// for tests that need a state the service itself never writes.
pub fn execute_sql(url: &str, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    });
}

pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("transit.db").display())
}

/// A console world: a server on a fresh SQLite database, kept in a folder removed with it.
pub struct World {
    pub server: Server,
    pub db: String,
    _dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_url(dir.path());
        let server = start(&db);
        World {
            server,
            db,
            _dir: dir,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }
}

pub fn cc015c(lrn: &str, recipient: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ncts:CC015C xmlns:ncts="http://ncts.dgtaxud.ec" PhaseID="NCTS5.1">
  <messageSender>KZTRADER01</messageSender>
  <messageRecipient>{recipient}</messageRecipient>
  <preparationDateAndTime>2026-11-28T10:00:00</preparationDateAndTime>
  <messageIdentification>{lrn}-015</messageIdentification>
  <messageType>CC015C</messageType>
  <TransitOperation>
    <LRN>{lrn}</LRN>
    <declarationType>T1</declarationType>
    <additionalDeclarationType>A</additionalDeclarationType>
    <security>0</security>
    <reducedDatasetIndicator>0</reducedDatasetIndicator>
    <bindingItinerary>1</bindingItinerary>
  </TransitOperation>
  <CustomsOfficeOfDeparture><referenceNumber>KZ000101</referenceNumber></CustomsOfficeOfDeparture>
  <CustomsOfficeOfDestinationDeclared><referenceNumber>GE000301</referenceNumber></CustomsOfficeOfDestinationDeclared>
  <CustomsOfficeOfTransitDeclared>
    <sequenceNumber>1</sequenceNumber>
    <referenceNumber>AZ000201</referenceNumber>
  </CustomsOfficeOfTransitDeclared>
  <HolderOfTheTransitProcedure><identificationNumber>KZ123456789012</identificationNumber></HolderOfTheTransitProcedure>
  <Guarantee><sequenceNumber>1</sequenceNumber><guaranteeType>1</guaranteeType></Guarantee>
  <Consignment>
    <countryOfDestination>GE</countryOfDestination>
    <containerIndicator>1</containerIndicator>
    <grossMass>12000.5</grossMass>
    <referenceNumberUCR>KZUCR0001</referenceNumberUCR>
    <TransportEquipment>
      <sequenceNumber>1</sequenceNumber>
      <containerIdentificationNumber>CSQU3054383</containerIdentificationNumber>
      <numberOfSeals>1</numberOfSeals>
      <Seal>
        <sequenceNumber>1</sequenceNumber>
        <identifier>KZSEAL1</identifier>
      </Seal>
      <GoodsReference>
        <sequenceNumber>1</sequenceNumber>
        <declarationGoodsItemNumber>1</declarationGoodsItemNumber>
      </GoodsReference>
    </TransportEquipment>
    <CountryOfRoutingOfConsignment><sequenceNumber>1</sequenceNumber><country>KZ</country></CountryOfRoutingOfConsignment>
    <CountryOfRoutingOfConsignment><sequenceNumber>2</sequenceNumber><country>AZ</country></CountryOfRoutingOfConsignment>
    <CountryOfRoutingOfConsignment><sequenceNumber>3</sequenceNumber><country>GE</country></CountryOfRoutingOfConsignment>
    <PlaceOfLoading><UNLocode>KZALA</UNLocode></PlaceOfLoading>
    <HouseConsignment>
      <sequenceNumber>1</sequenceNumber>
      <grossMass>12000.5</grossMass>
      <ConsignmentItem>
        <goodsItemNumber>1</goodsItemNumber>
        <declarationGoodsItemNumber>1</declarationGoodsItemNumber>
        <Commodity><descriptionOfGoods>Cotton yarn</descriptionOfGoods></Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PK</typeOfPackages><numberOfPackages>40</numberOfPackages><shippingMarks>KZ 2026 0001</shippingMarks></Packaging>
      </ConsignmentItem>
    </HouseConsignment>
  </Consignment>
</ncts:CC015C>"#
    )
}

/// A CC013C naming the movement by MRN, moving the destination to another Georgian office.
pub fn cc013c(mrn: &str) -> String {
    cc015c("X", "NTA.KZ")
        .replace("CC015C", "CC013C")
        .replace("<LRN>X</LRN>", &format!("<MRN>{mrn}</MRN>"))
        .replace(
            "<bindingItinerary>1</bindingItinerary>",
            "<bindingItinerary>1</bindingItinerary>\n    <amendmentTypeFlag>0</amendmentTypeFlag>",
        )
        .replace("GE000301", "GE000302")
}

pub fn cc007c(mrn: &str, office: &str, arrived_utc: &str) -> String {
    format!(
        r#"<ncts:CC007C xmlns:ncts="http://ncts.dgtaxud.ec">
  <messageSender>GETRADER09</messageSender>
  <messageRecipient>NTA.GE</messageRecipient>
  <preparationDateAndTime>2026-11-28T10:00:00</preparationDateAndTime>
  <messageIdentification>{mrn}-007</messageIdentification>
  <messageType>CC007C</messageType>
  <TransitOperation>
    <MRN>{mrn}</MRN>
    <arrivalNotificationDateAndTime>{arrived_utc}</arrivalNotificationDateAndTime>
    <simplifiedProcedure>1</simplifiedProcedure>
    <incidentFlag>0</incidentFlag>
  </TransitOperation>
  <Authorisation>
    <sequenceNumber>1</sequenceNumber>
    <type>C522</type>
    <referenceNumber>GEACR0001</referenceNumber>
  </Authorisation>
  <CustomsOfficeOfDestinationActual><referenceNumber>{office}</referenceNumber></CustomsOfficeOfDestinationActual>
  <TraderAtDestination><identificationNumber>GE404040404</identificationNumber></TraderAtDestination>
  <Consignment>
    <LocationOfGoods>
      <typeOfLocation>B</typeOfLocation>
      <qualifierOfIdentification>V</qualifierOfIdentification>
      <CustomsOffice><referenceNumber>{office}</referenceNumber></CustomsOffice>
    </LocationOfGoods>
  </Consignment>
</ncts:CC007C>"#
    )
}

/// Unloading remarks: conform, seals in good state (the declaration of [`cc015c`] is sealed).
pub fn cc044c(mrn: &str, office: &str, prepared_utc: &str) -> String {
    format!(
        r#"<ncts:CC044C xmlns:ncts="http://ncts.dgtaxud.ec">
  <messageSender>GETRADER09</messageSender>
  <messageRecipient>NTA.GE</messageRecipient>
  <preparationDateAndTime>{prepared_utc}</preparationDateAndTime>
  <messageIdentification>{mrn}-044</messageIdentification>
  <messageType>CC044C</messageType>
  <TransitOperation><MRN>{mrn}</MRN></TransitOperation>
  <CustomsOfficeOfDestinationActual><referenceNumber>{office}</referenceNumber></CustomsOfficeOfDestinationActual>
  <TraderAtDestination><identificationNumber>GE404040404</identificationNumber></TraderAtDestination>
  <UnloadingRemark>
    <conform>1</conform>
    <unloadingCompletion>1</unloadingCompletion>
    <unloadingDate>{}</unloadingDate>
    <stateOfSeals>1</stateOfSeals>
  </UnloadingRemark>
</ncts:CC044C>"#,
        &prepared_utc[..10]
    )
}

pub fn cc014c(mrn: &str) -> String {
    format!(
        r#"<ncts:CC014C xmlns:ncts="http://ncts.dgtaxud.ec">
  <messageSender>KZTRADER01</messageSender>
  <messageRecipient>NTA.KZ</messageRecipient>
  <preparationDateAndTime>2026-11-28T10:00:00</preparationDateAndTime>
  <messageIdentification>{mrn}-014</messageIdentification>
  <messageType>CC014C</messageType>
  <TransitOperation><MRN>{mrn}</MRN></TransitOperation>
  <Invalidation>
    <requestDateAndTime>2026-11-28T10:00:00</requestDateAndTime>
    <initiatedByCustoms>0</initiatedByCustoms>
    <justification>goods not dispatched</justification>
  </Invalidation>
  <CustomsOfficeOfDeparture><referenceNumber>KZ000101</referenceNumber></CustomsOfficeOfDeparture>
  <HolderOfTheTransitProcedure><identificationNumber>KZ123456789012</identificationNumber></HolderOfTheTransitProcedure>
</ncts:CC014C>"#
    )
}

/// POSTs an NCTS message; returns the status and the answer, which must be the named NCTS
/// message and valid against the schemas (or empty when `root` is None).
pub fn post_xml(
    addr: SocketAddr,
    path: &str,
    token: &str,
    xml: &str,
    root: Option<&str>,
) -> (u16, String) {
    let (status, head, body) = http_raw(
        addr,
        "POST",
        path,
        Some(token),
        Some(("application/xml", xml.as_bytes())),
        &[],
    )
    .unwrap();
    match root {
        None => assert!(
            body.is_empty(),
            "{status}: no answer expected, found {body}"
        ),
        Some(root) => {
            assert!(
                head.to_lowercase()
                    .contains("content-type: application/xml"),
                "{head}"
            );
            let doc = smartborder_ncts::xml::parse(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
            assert_eq!(doc.name, root, "{status}: {body}");
            let violations = smartborder_ncts::schema().validate(&doc);
            assert!(
                violations.is_empty(),
                "{root} not schema-valid: {violations:?}\n{body}"
            );
        }
    }
    (status, body)
}

/// The text of the first element with this name in an answer.
pub fn element<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no {name} in {xml}"))
        + open.len();
    let end = xml[start..].find('<').unwrap() + start;
    &xml[start..end]
}

/// An RFC 3339 instant as an NCTS date-time: UTC, written without a zone.
pub fn ncts_time(rfc3339: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap();
    t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string()
}

pub fn post_xml_status(
    addr: SocketAddr,
    path: &str,
    token: &str,
    body: &str,
    content_type: &str,
) -> (u16, String) {
    let (s, _, body) = http_raw(
        addr,
        "POST",
        path,
        Some(token),
        Some((content_type, body.as_bytes())),
        &[],
    )
    .unwrap();
    (s, body)
}

/// `smartborder users create`, with the password on standard input.
pub fn create_user(db: &str, login: &str, password: &str, args: &[&str]) {
    let mut child = bin()
        .args(["users", "create", "--db", db, "--login", login])
        .args(args)
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shipped KCS data, when present beside the repository (or named by SMARTBORDER_KCS_DATA).
pub fn kcs_data() -> Option<std::path::PathBuf> {
    [
        std::env::var_os("SMARTBORDER_KCS_DATA").map(std::path::PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/kcs-customs")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.join("df_syn_train_eng.csv").exists())
}

/// The declaration mapping of [`write_history`].
pub const RISK_MAPPING: &str = r#"
[input]
delimiter = ";"
[columns]
declaration_id = "No"
date = "Accepted"
office = "Office"
hs_code = "Commodity"
origin = "Origin"
importer = "Importer"
mass_kg = "Gross kg"
value = "Customs value"
non_compliant = "Result"
revenue = "Recovered"
"#;

/// A history where importers I0..I9 from origin XX under-declare and are usually caught, plus
/// rows with problems at known lines.
pub fn write_history(path: &Path, n: usize, salt: u64, faults: bool) {
    let mut text = String::from(
        "No;Accepted;Office;Commodity;Origin;Importer;Gross kg;Customs value;Result;Recovered\n",
    );
    let mut x = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 0..n {
        let risky = next() < 0.2;
        let importer = if risky {
            format!("I{}", (next() * 10.0) as u32)
        } else {
            format!("J{}", (next() * 300.0) as u32)
        };
        let mass = 10.0 + next() * 990.0;
        let per_kg = if risky {
            1.0 + next() * 4.0
        } else {
            5.0 + next() * 45.0
        };
        let fraud = next() < if risky { 0.8 } else { 0.05 };
        let recovered = if fraud {
            format!("{:.2}", mass * 0.5)
        } else {
            "0".into()
        };
        let day = 1 + (i * 28 / n.max(1)) as u32;
        text.push_str(&format!(
            "{salt}-{i};2021-02-{day:02};{};84713{};{};{importer};{mass:.1};{:.2};{};{recovered}\n",
            ["A1", "B2", "C3"][i % 3],
            i % 10,
            if risky { "XX" } else { "DE" },
            mass * per_kg,
            u8::from(fraud)
        ));
    }
    if faults {
        text.push_str("bad-1;2021-13-01;A1;847130;DE;J1;10;100;0;0\n");
        text.push_str("bad-2;2021-02-01;A1;847130;DE;J1;heavy;100;0;0\n");
    }
    std::fs::write(path, text).unwrap();
}
