//! The HTTP API of the transit single window (`/api/v1`), over the store and the transit engine.
//! Handlers only translate: HTTP in, a store request or read, HTTP out. Every error is JSON:
//! `{"error": {"status": 403, "code": "forbidden", "message": "..."}}`.

mod nctsxml;
mod openapi;
mod webhook;

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
use smartborder_store::writer::{Answer, Command, Refusal, Request, Writer};
use smartborder_store::{Store, keys, read};
use smartborder_transit::{
    Event, EventKind, OfficeRef, Principal, Route, TransitOffice, country_zone,
};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest page of a list.
pub const MAX_PAGE: i64 = 1000;

/// How long an authenticated key is remembered; a revocation takes effect within this time.
pub const KEY_CACHE_SECONDS: u64 = 10;

#[derive(Clone)]
struct AppState {
    store: Store,
    writer: Writer,
    keys: Arc<Mutex<KeyCache>>,
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

/// The router of the API, over an open store and its writer.
pub fn router(store: Store, writer: Writer) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/movements", post(lodge).get(list_movements))
        .route("/api/v1/movements/{mrn}", get(get_movement))
        .route("/api/v1/movements/{mrn}/events", post(post_event))
        .route(
            "/api/v1/movements/{mrn}/messages",
            post(nctsxml::post_message),
        )
        .route("/api/v1/movements/{mrn}/release", get(nctsxml::release))
        .route("/api/v1/notifications", get(notifications))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint; see /api/v1/openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(AppState {
            store,
            writer,
            keys: Arc::default(),
        })
}

/// Opens the store, binds `addr`, calls `ready` with the bound address, pushes notifications to
/// registered webhooks, and serves until Ctrl-C or SIGTERM.
pub async fn serve(
    store_url: &str,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let store = Store::open(store_url).await?;
    // Compile the NCTS schemas now rather than on the first XML message.
    smartborder_ncts::schema();
    let writer = Writer::spawn(store.clone());
    webhook::spawn(store.clone());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, router(store, writer))
        .with_graceful_shutdown(async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
        })
        .await?;
    Ok(())
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
        }),
    }
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
}

/// What every write request carries once its caller, content type and body are checked.
struct Write {
    actor: String,
    principal: Principal,
    idempotency_key: Option<String>,
    media: Media,
    body: Bytes,
}

/// The checks shared by every write, in the order a client would want to hear of them:
/// authentication, body size, content type, idempotency key.
async fn write_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    accepted: &[Media],
) -> Result<Write, ApiError> {
    let (actor, principal) = caller(state, headers).await?;
    let body = body_bytes(body)?;
    let media = media(headers, accepted)?;
    Ok(Write {
        actor,
        principal,
        idempotency_key: idempotency_key(headers)?,
        media,
        body,
    })
}

/// The body, or a JSON error when it is too large or unreadable.
fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
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
            format!(
                "request body: {} (at most {MAX_BODY_BYTES} bytes)",
                e.body_text()
            ),
        )
    })
}

async fn lodge(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let write = write_request(&state, &headers, body, &[Media::Json, Media::Xml]).await?;
    if write.media == Media::Xml {
        return nctsxml::lodge(&state, write).await;
    }
    let Write {
        actor,
        principal,
        idempotency_key,
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
        },
        idempotency_key,
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
}

async fn post_event(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Write {
        actor,
        principal,
        idempotency_key,
        body,
        ..
    } = write_request(&state, &headers, body, &[Media::Json]).await?;
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
            declaration: None,
        },
        idempotency_key,
        body: body.to_vec(),
    };
    answer(state.writer.submit(command).await, false)
}

async fn get_movement(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, principal) = caller(&state, &headers).await?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no movement with MRN {mrn}"),
        )
    };
    let movement = read::movement(&state.store, &mrn)
        .await?
        .ok_or_else(not_found)?;
    // A movement off the caller's routes is answered as absent: its existence is not shared.
    principal
        .can_see(&movement.route)
        .map_err(|_| not_found())?;
    Ok(Json(json!({"movement": movement})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

fn limit(page: &Page) -> Result<i64, ApiError> {
    match page.limit {
        None => Ok(100),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(l) => Err(ApiError::bad_request(format!(
            "limit: expected 1 to {MAX_PAGE}, found {l}"
        ))),
    }
}

async fn list_movements(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (_, principal) = caller(&state, &headers).await?;
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let rows = read::visible_movements(&state.store, &principal, page.after, limit(&page)?).await?;
    let next = rows.last().map(|(id, _)| *id);
    let movements: Vec<_> = rows.into_iter().map(|(_, m)| m).collect();
    Ok(Json(json!({"movements": movements, "next_after": next})).into_response())
}

async fn notifications(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (_, principal) = caller(&state, &headers).await?;
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let items = read::notifications(&state.store, &principal, page.after, limit(&page)?).await?;
    let next = items.last().map_or(page.after, |n| n.id);
    Ok(Json(json!({"notifications": items, "next_after": next})).into_response())
}
