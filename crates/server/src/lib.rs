//! The HTTP API of the transit single window (`/api/v1`), over the store and the transit engine.
//! Handlers only translate: HTTP in, a store request or read, HTTP out. Every error is JSON:
//! `{"error": {"status": 403, "code": "forbidden", "message": "..."}}`.

mod assessor;
mod listener;
mod nctsxml;
mod openapi;
mod risk;
mod route_risk;
mod webhook;

pub use listener::Limits;
pub use risk::{PublishError, publish_checked};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;
use smartborder_store::writer::{
    Answer, Command, KeptMessage, Refusal, Request, Stamp, Writer, WriterConfig, request_sha256,
};
use smartborder_store::{Store, keys, read};
use smartborder_transit::{
    Consignment, Event, EventKind, Movement, MovementStatus, OfficeRef, Principal, Route,
    TransitOffice, country_zone,
};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest page of a list.
pub const MAX_PAGE: i64 = 1000;
/// Events of a movement's history given with the movement; `GET .../events` pages the rest.
pub const HISTORY_PAGE: i64 = 100;
/// Largest request head (request line and headers) the API reads.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// How long an authenticated key is remembered; a revocation takes effect within this time.
pub const KEY_CACHE_SECONDS: u64 = 10;

#[derive(Clone)]
struct AppState {
    store: Store,
    writer: Writer,
    keys: Arc<Mutex<KeyCache>>,
    /// Parsing and validating NCTS XML runs on blocking threads, at most this many at once,
    /// so that a costly message never holds an async worker.
    xml_permits: Arc<tokio::sync::Semaphore>,
    /// Each administration's compiled risk configuration.
    risk: Arc<risk::Configurations>,
}

/// What `smartborder serve` can be told.
#[derive(Clone, Default)]
pub struct ServeOptions {
    pub limits: Limits,
    pub writer: WriterConfig,
    /// How often the head of the audit log is signed and sent to the administrations (when
    /// the writer has an audit key and the head moved).
    pub checkpoint_interval: Duration,
}

/// Bearer token -> (key id, principal, when looked up).
type KeyCache = HashMap<String, (String, Principal, Instant)>;

/// An API error: status, a stable code, and a message for people.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"status": self.status.as_u16(), "code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<smartborder_store::StoreError> for ApiError {
    fn from(e: smartborder_store::StoreError) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            e.to_string(),
        )
    }
}

/// The router of the API, over an open store and its writer; a request not answered within
/// `request_timeout` (a body trickling in, say) gets 408.
fn router(
    store: Store,
    writer: Writer,
    risk: Arc<risk::Configurations>,
    request_timeout: Duration,
) -> Router {
    let xml_threads = std::thread::available_parallelism().map_or(2, usize::from);
    let console = smartborder_console::router(store.clone(), writer.clone());
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/movements", post(lodge).get(list_movements))
        .route("/api/v1/movements/{mrn}", get(get_movement))
        .route(
            "/api/v1/movements/{mrn}/events",
            post(post_event).get(movement_history),
        )
        .route(
            "/api/v1/movements/{mrn}/messages",
            post(nctsxml::post_message),
        )
        .route("/api/v1/movements/{mrn}/release", get(nctsxml::release))
        .route("/api/v1/movements/{mrn}/risk", get(route_risk::movement_risk))
        .route(
            "/api/v1/movements/{mrn}/controls",
            post(route_risk::record_control),
        )
        .route(
            "/api/v1/movements/{mrn}/invalidation",
            get(nctsxml::invalidation),
        )
        .route("/api/v1/notifications", get(notifications))
        .route(
            "/api/v1/risk/assess",
            post(risk::assess).layer(DefaultBodyLimit::max(risk::MAX_ASSESS_BODY_BYTES)),
        )
        .route("/api/v1/risk/files", get(risk::list_files))
        .route("/api/v1/risk/monitoring", get(route_risk::monitoring))
        .route(
            "/api/v1/risk/files/{name}",
            axum::routing::put(risk::put_file).layer(DefaultBodyLimit::max(risk::MAX_FILE_BYTES)),
        )
        .fallback(|uri: axum::http::Uri, headers: HeaderMap| async move {
            // A person who mistyped a console address gets a console page.
            if uri.path().starts_with("/console/") {
                return smartborder_console::not_found(&headers);
            }
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint; see /api/v1/openapi.json",
            )
            .into_response()
        })
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{method} is not served here; see /api/v1/openapi.json"),
            )
        })
        .with_state(AppState {
            store,
            writer,
            keys: Arc::default(),
            xml_permits: Arc::new(tokio::sync::Semaphore::new(xml_threads)),
            risk,
        })
        .merge(console)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(errors_as_json))
        .layer(axum::middleware::from_fn(head_size_limit))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| async move {
                match tokio::time::timeout(request_timeout, next.run(request)).await {
                    Ok(response) => response,
                    Err(_) => ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request_timeout",
                        format!(
                            "the request was not complete within {} s; a write may still have been done: retry it with the same Idempotency-Key",
                            request_timeout.as_secs()
                        ),
                    )
                    .into_response(),
                }
            },
        ))
}

/// Refuses a request whose head is larger than [`MAX_HEADER_BYTES`], in the API's JSON shape.
async fn head_size_limit(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let size = request.uri().to_string().len()
        + request
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if size > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request_header_fields_too_large",
            format!("the request line and headers take {size} bytes; at most {MAX_HEADER_BYTES} are read"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Every error the framework answers by itself (a path that does not decode, a rejected
/// extractor) gets the API's JSON error shape; answers that are already JSON or NCTS XML
/// pass unchanged.
async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let typed = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            // The API's JSON and XML, and the console's pages.
            t.starts_with("application/json")
                || t.starts_with("application/xml")
                || t.starts_with("text/html")
        });
    if typed {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_string();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal_error",
        _ => "invalid_request",
    };
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        message
    };
    let mut out = ApiError::new(status, code, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// Opens the store, takes the right to write (one server per database: on PostgreSQL a second
/// server waits as a hot standby, calling `standby` once), binds `addr`, calls `ready` with the
/// bound address, pushes notifications to registered webhooks, and serves until Ctrl-C or
/// SIGTERM, or until another server takes the leader lock.
pub async fn serve(
    store_url: &str,
    addr: SocketAddr,
    options: ServeOptions,
    standby: impl FnOnce(),
    ready: impl FnOnce(SocketAddr),
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let store = Store::open(store_url).await?;
    // Compile the NCTS schemas now rather than on the first XML message.
    smartborder_ncts::schema();
    let leadership = store.lead(standby).await?;
    // Studies left running by a previous process will not finish.
    smartborder_store::studies::interrupt_unfinished(&store).await?;
    let signs = options.writer.audit_key.is_some();
    let writer = Writer::spawn(store.clone(), leadership, options.writer);
    webhook::spawn(store.clone());
    let configurations = Arc::new(risk::Configurations::default());
    assessor::spawn(store.clone(), writer.clone(), configurations.clone());
    if signs {
        spawn_checkpoints(writer.clone(), options.checkpoint_interval);
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    let stopped = writer.clone();
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lost_flag = lost.clone();
    listener::serve(
        listener,
        router(
            store,
            writer,
            configurations,
            options.limits.request_timeout,
        ),
        options.limits,
        async move {
            let ctrl_c = tokio::signal::ctrl_c();
            let lost_lock = async {
                stopped.stopped().await;
                lost_flag.store(true, std::sync::atomic::Ordering::SeqCst);
            };
            #[cfg(unix)]
            {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut term) => tokio::select! {
                        _ = ctrl_c => {},
                        _ = term.recv() => {},
                        () = lost_lock => {},
                    },
                    Err(_) => tokio::select! {
                        _ = ctrl_c => {},
                        () = lost_lock => {},
                    },
                }
            }
            #[cfg(not(unix))]
            tokio::select! {
                _ = ctrl_c => {},
                () = lost_lock => {},
            }
        },
    )
    .await;
    if lost.load(std::sync::atomic::Ordering::SeqCst) {
        return Err("another server took the leader lock; this one stopped writing".into());
    }
    Ok(())
}

/// Asks the writer to sign the audit log's head now and then at every interval.
fn spawn_checkpoints(writer: Writer, interval: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval.max(Duration::from_secs(1)));
        loop {
            ticks.tick().await;
            let command = Command {
                actor: "service".to_string(),
                principal: Principal::Coordinator,
                request: Request::Checkpoint,
                idempotency_key: None,
                request_sha256: String::new(),
                body: Vec::new(),
            };
            if writer.submit(command).await.is_err() && writer.is_stopped() {
                return;
            }
        }
    });
}

async fn openapi() -> Json<serde_json::Value> {
    Json(openapi::document())
}

/// The caller of a request, from `Authorization: Bearer KEY`.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<(String, Principal), ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization: Bearer <API key>"))?
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text"))?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| unauthorized("expected Authorization: Bearer <API key>"))?
        .trim();
    let fresh = Duration::from_secs(KEY_CACHE_SECONDS);
    if let Some((id, who, at)) = state.keys.lock().expect("key cache").get(token)
        && at.elapsed() < fresh
    {
        return Ok((id.clone(), who.clone()));
    }
    let (id, who) = keys::authenticate(&state.store, token)
        .await?
        .ok_or_else(|| unauthorized("unknown or revoked API key"))?;
    let mut cache = state.keys.lock().expect("key cache");
    if cache.len() > 10_000 {
        cache.retain(|_, (_, _, at)| at.elapsed() < fresh);
    }
    cache.insert(token.to_string(), (id.clone(), who.clone(), Instant::now()));
    Ok((id, who))
}

/// The caller of a read: an API key, or a person signed in to the console (its session
/// cookie). Writes take API keys only, so a cookie never authorises a write of the API and
/// the API needs no CSRF defence; the console's own forms carry CSRF tokens.
async fn reader(state: &AppState, headers: &HeaderMap) -> Result<(String, Principal), ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        return caller(state, headers).await;
    }
    let token =
        smartborder_console::session::cookie(headers, smartborder_console::session::SESSION_COOKIE);
    match token {
        Some(token) => match smartborder_store::sessions::find(&state.store, token).await? {
            Some(session) => Ok((session.user.id.clone(), session.user.principal())),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the console session has expired; sign in again",
            )),
        },
        None => caller(state, headers).await,
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let key = v
                .to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key: expected text"))?;
            if key.is_empty() || key.len() > 128 {
                return Err(ApiError::bad_request(
                    "Idempotency-Key: expected 1 to 128 characters",
                ));
            }
            Ok(Some(key.to_string()))
        }
    }
}

/// The body formats of writes: the JSON API, or NCTS Phase 5 XML messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    Json,
    Xml,
}

fn media(headers: &HeaderMap, accepted: &[Media]) -> Result<Media, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let found = match essence {
        "application/json" => Some(Media::Json),
        "application/xml" | "text/xml" => Some(Media::Xml),
        _ => None,
    };
    match found {
        Some(m) if accepted.contains(&m) => Ok(m),
        _ => {
            let expected: Vec<&str> = accepted
                .iter()
                .map(|m| match m {
                    Media::Json => "application/json",
                    Media::Xml => "application/xml (an NCTS message)",
                })
                .collect();
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "Content-Type \"{content_type}\": expected {}",
                    expected.join(" or ")
                ),
            ))
        }
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

fn office(field: &str, value: &str) -> Result<OfficeRef, ApiError> {
    OfficeRef::parse(value).map_err(|e| ApiError::bad_request(format!("{field}: {e}")))
}

/// The answer of the writer as HTTP.
fn answer(result: Result<Answer, String>, created: bool) -> Result<Response, ApiError> {
    match result
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e))?
    {
        Answer::Done { movement } => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(json!({"movement": movement}))).into_response())
        }
        Answer::Refused { refusal, message } => Err(match refusal {
            Refusal::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            Refusal::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            Refusal::Conflict => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            Refusal::Invalid => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
            Refusal::Corrupt => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt", message)
            }
        }),
        Answer::Checkpointed { .. } | Answer::Recorded { .. } => Err(unexpected_answer()),
    }
}

/// The writer answered a request with something it does not answer such a request with.
fn unexpected_answer() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the store gave an unexpected answer",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitOfficeBody {
    office: String,
    estimated_arrival: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteBody {
    departure: String,
    #[serde(default)]
    transit: Vec<TransitOfficeBody>,
    destination: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LodgeBody {
    lrn: String,
    route: RouteBody,
    /// The goods, for risk assessment by every administration on the route.
    #[serde(default)]
    consignment: Option<Consignment>,
}

/// What every write request carries once its caller, content type and body are checked.
struct Write {
    actor: String,
    principal: Principal,
    idempotency_key: Option<String>,
    /// What the idempotency key is bound to (method, path, body).
    request_sha256: String,
    media: Media,
    body: Bytes,
}

/// The checks shared by every write, in the order a client would want to hear of them:
/// authentication, body size, content type, idempotency key.
async fn write_request(
    state: &AppState,
    (method, uri, headers): (&axum::http::Method, &axum::http::Uri, &HeaderMap),
    body: Result<Bytes, BytesRejection>,
    accepted: &[Media],
) -> Result<Write, ApiError> {
    let (actor, principal) = caller(state, headers).await?;
    let body = body_bytes(body, MAX_BODY_BYTES)?;
    let media = media(headers, accepted)?;
    Ok(Write {
        actor,
        principal,
        idempotency_key: idempotency_key(headers)?,
        request_sha256: request_sha256(method.as_str(), uri.path(), &body),
        media,
        body,
    })
}

/// The body, or a JSON error when it is too large (over the endpoint's `limit`) or unreadable.
fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "invalid_request"
        };
        ApiError::new(
            status,
            code,
            format!("request body: {} (at most {limit} bytes)", e.body_text()),
        )
    })
}

async fn lodge(
    State(state): State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let write = write_request(
        &state,
        (&method, &uri, &headers),
        body,
        &[Media::Json, Media::Xml],
    )
    .await?;
    if write.media == Media::Xml {
        return nctsxml::lodge(&state, write).await;
    }
    let Write {
        actor,
        principal,
        idempotency_key,
        request_sha256,
        body,
        ..
    } = write;
    let b: LodgeBody = parse_body(&body)?;
    let route = Route {
        departure: office("route.departure", &b.route.departure)?,
        transit: b
            .route
            .transit
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Ok(TransitOffice {
                    office: office(&format!("route.transit[{i}].office"), &t.office)?,
                    estimated_arrival: t.estimated_arrival,
                })
            })
            .collect::<Result<_, ApiError>>()?,
        destination: office("route.destination", &b.route.destination)?,
    };
    let command = Command {
        actor,
        principal,
        request: Request::Lodge {
            lrn: b.lrn,
            route,
            declaration: None,
            consignment: b.consignment.map(Box::new),
        },
        idempotency_key,
        request_sha256,
        body: body.to_vec(),
    };
    answer(state.writer.submit(command).await, true)
}

#[derive(Deserialize)]
struct EventBody {
    #[serde(flatten)]
    kind: EventKind,
    office: String,
    at: Option<DateTime<Utc>>,
    zone: Option<String>,
    /// With an amendment: the goods as amended.
    consignment: Option<Consignment>,
}

async fn post_event(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Write {
        actor,
        principal,
        idempotency_key,
        request_sha256,
        body,
        ..
    } = write_request(&state, (&method, &uri, &headers), body, &[Media::Json]).await?;
    let b: EventBody = parse_body(&body)?;
    if matches!(b.kind, EventKind::Accepted { .. }) {
        return Err(ApiError::bad_request(
            "type \"accepted\": the MRN is allocated by the service when the declaration is lodged",
        ));
    }
    let office = office("office", &b.office)?;
    let zone: Tz = match &b.zone {
        Some(z) => z.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "zone \"{z}\": expected an IANA time zone name such as Asia/Baku"
            ))
        })?,
        None => country_zone(office.country()).ok_or_else(|| {
            ApiError::bad_request(format!(
                "zone: required for offices of {} (no single zone is known)",
                office.country()
            ))
        })?,
    };
    // Without `at` the service stamps the event when the writer applies it.
    let stamp = if b.at.is_some() {
        Stamp::Given
    } else {
        Stamp::WhenApplied
    };
    let event = Event {
        kind: b.kind,
        office,
        at: b.at.unwrap_or_else(Utc::now),
        zone,
    };
    let command = Command {
        actor,
        principal,
        request: Request::Event {
            mrn,
            event,
            stamp,
            message: b.consignment.map(|c| KeptMessage::Amendment {
                message: None,
                consignment: Some(Box::new(c)),
            }),
        },
        idempotency_key,
        request_sha256,
        body: body.to_vec(),
    };
    answer(state.writer.submit(command).await, false)
}

/// The 404 of a movement that does not exist or that the caller may not see: the same answer,
/// so that existence is not shared off the route.
fn no_movement(mrn: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no movement with MRN {mrn}"),
    )
}

/// A movement's state and internal id, if the caller may see it. Visibility is judged on the
/// state row alone, before anything else of the movement is read.
async fn visible_movement(
    state: &AppState,
    principal: &Principal,
    mrn: &str,
) -> Result<(i64, Movement), ApiError> {
    match read::movement_state(&state.store, mrn).await? {
        Some((id, movement)) if principal.can_see(&movement.route).is_ok() => Ok((id, movement)),
        _ => Err(no_movement(mrn)),
    }
}

/// `GET /movements/{mrn}`: the movement with the first [`HISTORY_PAGE`] events of its history;
/// `events_next_after` is the cursor of the rest (`GET /movements/{mrn}/events`).
async fn get_movement(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, principal) = reader(&state, &headers).await?;
    let (id, mut movement) = visible_movement(&state, &principal, &mrn).await?;
    let page = read::history(&state.store, id, -1, HISTORY_PAGE + 1).await?;
    let next = (page.len() as i64 > HISTORY_PAGE).then(|| page[HISTORY_PAGE as usize - 1].0);
    movement.events = page
        .into_iter()
        .take(HISTORY_PAGE as usize)
        .map(|(_, e)| e)
        .collect();
    Ok(Json(json!({"movement": movement, "events_next_after": next})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryPage {
    #[serde(default = "first_event")]
    after: i64,
    limit: Option<i64>,
}

fn first_event() -> i64 {
    -1
}

/// `GET /movements/{mrn}/events?after=SEQ&limit=N`: a page of the history, oldest first.
async fn movement_history(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
    page: Result<Query<HistoryPage>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (_, principal) = reader(&state, &headers).await?;
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = limit(page.limit)?;
    let (id, _) = visible_movement(&state, &principal, &mrn).await?;
    let rows = read::history(&state.store, id, page.after, limit + 1).await?;
    let next = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].0);
    let events: Vec<serde_json::Value> = rows
        .into_iter()
        .take(limit as usize)
        .map(|(seq, e)| {
            let mut v = json!(e);
            v["seq"] = json!(seq);
            v
        })
        .collect();
    Ok(Json(json!({"events": events, "next_after": next})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

fn limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(100),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(l) => Err(ApiError::bad_request(format!(
            "limit: expected 1 to {MAX_PAGE}, found {l}"
        ))),
    }
}

/// The filters of `GET /movements` (the movements board).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardParams {
    after: Option<i64>,
    limit: Option<i64>,
    status: Option<MovementStatus>,
    office: Option<String>,
    country: Option<String>,
    /// RFC 3339 instant or YYYY-MM-DD (00:00 UTC).
    lodged_from: Option<String>,
    lodged_to: Option<String>,
    /// `asc` (oldest first, the default) or `desc`.
    order: Option<String>,
}

/// An instant of a query: RFC 3339, or a date (its start, UTC).
fn instant(field: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_micros());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{field} \"{text}\": expected YYYY-MM-DD or an RFC 3339 instant"
            ))
        })
}

async fn list_movements(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Result<Query<BoardParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (_, principal) = reader(&state, &headers).await?;
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if let Some(o) = &page.office {
        office("office", o)?;
    }
    if let Some(c) = &page.country
        && (c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(ApiError::bad_request(format!(
            "country \"{c}\": expected an ISO 3166 alpha-2 code in capitals, e.g. GE"
        )));
    }
    let newest_first = match page.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "order \"{other}\": expected asc or desc"
            )));
        }
    };
    let query = read::BoardQuery {
        status: page.status,
        office: page.office.clone(),
        country: page.country.clone(),
        lodged_from: page
            .lodged_from
            .as_deref()
            .map(|t| instant("lodged_from", t))
            .transpose()?,
        lodged_to: page
            .lodged_to
            .as_deref()
            .map(|t| instant("lodged_to", t))
            .transpose()?,
        newest_first,
        after: page.after.filter(|a| *a > 0 || !newest_first),
        limit: limit(page.limit)?,
    };
    let rows = read::board(&state.store, &principal, &query).await?;
    let next = rows.last().map(|(id, _)| *id);
    let movements: Vec<_> = rows.into_iter().map(|(_, m)| m).collect();
    Ok(Json(json!({"movements": movements, "next_after": next})).into_response())
}

async fn notifications(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (_, principal) = reader(&state, &headers).await?;
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let items =
        read::notifications(&state.store, &principal, page.after, limit(page.limit)?).await?;
    let next = items.last().map_or(page.after, |n| n.id);
    Ok(Json(json!({"notifications": items, "next_after": next})).into_response())
}
