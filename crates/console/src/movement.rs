//! A movement: its route and history as a timeline (each step in the office's local time and
//! in UTC), the NCTS messages to download, and the form an officer records events with.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;
use smartborder_store::keys;
use smartborder_store::read;
use smartborder_store::writer::{Answer, Command, Refusal, Request, Stamp, request_sha256};
use smartborder_transit::{Event, EventKind, Movement, OfficeRef, country_zone};

use crate::ConsoleState;
use crate::board::{instant_markup, route_text};
use crate::i18n::Lang;
use crate::pages::{self, status_label};
use crate::session::Signed;

/// Events shown on a movement's page (the API pages longer histories).
const TIMELINE_EVENTS: i64 = 500;

/// Where an office stands on a route.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Departure,
    Transit,
    Destination,
}

impl Place {
    fn message(self) -> &'static str {
        match self {
            Place::Departure => "place-departure",
            Place::Transit => "place-transit",
            Place::Destination => "place-destination",
        }
    }

    /// The events recorded on the console's form at such an office.
    fn events(self) -> &'static [&'static str] {
        match self {
            Place::Departure => &["released_for_transit", "not_released"],
            Place::Transit => &["arrival_at_transit", "frontier_crossed", "incident"],
            Place::Destination => &[
                "arrival_at_destination",
                "unloading_remarks",
                "goods_released",
                "incident",
            ],
        }
    }
}

fn places(m: &Movement) -> Vec<(Place, &OfficeRef)> {
    let mut out = vec![(Place::Departure, &m.route.departure)];
    out.extend(m.route.transit.iter().map(|t| (Place::Transit, &t.office)));
    out.push((Place::Destination, &m.route.destination));
    out
}

/// The movement if the person may see it; otherwise `None`, answered like an unknown MRN.
async fn visible(
    state: &ConsoleState,
    signed: &Signed,
    mrn: &str,
) -> Result<Option<(i64, Movement)>, Response> {
    let found = read::movement_state(&state.store, mrn)
        .await
        .map_err(|e| pages::store_failed(signed.lang, &e))?;
    Ok(found.filter(|(_, m)| signed.session.user.principal().can_see(&m.route).is_ok()))
}

fn not_found(lang: Lang, mrn: &str) -> Response {
    pages::refusal(
        lang,
        StatusCode::NOT_FOUND,
        &lang.t_args("no-such-movement", &[("mrn", mrn.to_string().into())]),
    )
}

/// `GET /console/movements/{mrn}`
pub async fn page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(mrn): Path<String>,
) -> Response {
    render(&state, &signed, &mrn, StatusCode::OK, None).await
}

async fn render(
    state: &ConsoleState,
    signed: &Signed,
    mrn: &str,
    status: StatusCode,
    notice: Option<Markup>,
) -> Response {
    let lang = signed.lang;
    let (id, mut movement) = match visible(state, signed, mrn).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(lang, mrn),
        Err(r) => return r,
    };
    let history = match read::history(&state.store, id, -1, TIMELINE_EVENTS).await {
        Ok(h) => h,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let declared = match read::declaration(&state.store, mrn).await {
        Ok(d) => d.is_some(),
        Err(e) => return pages::store_failed(lang, &e),
    };
    movement.events = history.into_iter().map(|(_, e)| e).collect();
    let risk = match crate::route_risk::section(state, signed, id, &movement).await {
        Ok(section) => section,
        Err(r) => return r,
    };
    let content = html! {
        @if let Some(n) = notice { (n) }
        dl.summary {
            dt { "LRN" } dd { (movement.lrn) }
            dt { (lang.t("status")) } dd #movement-status { (status_label(lang, movement.status)) }
            dt { (lang.t("route")) } dd { (route_text(&movement)) }
            @if let Some(limit) = movement.limit_date {
                dt { (lang.t("limit-date")) }
                dd { (instant_markup(lang, limit, zone_of(&movement.route.destination))) }
            }
        }
        (route_strip(lang, &movement))
        h2 { (lang.t("timeline")) }
        (timeline(lang, &movement.events))
        h2 { (lang.t("downloads")) }
        ul.downloads {
            @if declared {
                li { a download href=(format!("/console/movements/{mrn}/declaration.xml")) { (lang.t("download-declaration")) } }
                @if movement.limit_date.is_some() {
                    li { a download href=(format!("/api/v1/movements/{mrn}/release")) { (lang.t("download-release")) } }
                }
            } @else {
                li { (lang.t("lodged-as-json")) }
            }
        }
        (event_form(lang, signed, &movement))
        (risk)
    };
    pages::signed_page(state, signed, &format!("MRN {mrn}"), status, content).await
}

fn zone_of(office: &OfficeRef) -> Tz {
    country_zone(office.country()).unwrap_or(Tz::UTC)
}

/// The route as a strip of offices, each with where it stands and what happened there.
fn route_strip(lang: Lang, m: &Movement) -> Markup {
    html! {
        ol.route aria-label=(lang.t("route")) {
            @for (place, office) in places(m) {
                @let done = m.events.iter().filter(|e| &e.office == office).count();
                li class=(if done > 0 { "reached" } else { "pending" }) {
                    strong { (office) }
                    " · " (lang.t(place.message()))
                    " · " (lang.t_args("events-here", &[("count", (done as i64).into())]))
                }
            }
        }
    }
}

fn timeline(lang: Lang, events: &[Event]) -> Markup {
    html! {
        ol #timeline .timeline {
            @for e in events {
                li {
                    strong { (lang.t(&format!("event-{}", e.kind.name()))) }
                    " · " (e.office) " · "
                    (instant_markup(lang, e.at, e.zone))
                    @if let Some(detail) = detail(lang, &e.kind) {
                        br; span.detail { (detail) }
                    }
                }
            }
        }
    }
}

/// The words an event carries, if any.
fn detail(lang: Lang, kind: &EventKind) -> Option<String> {
    match kind {
        EventKind::Rejected { reason }
        | EventKind::NotReleased { reason }
        | EventKind::Invalidated { reason }
        | EventKind::InvalidationRequested { reason, .. } => Some(reason.clone()),
        EventKind::Incident { description } => Some(description.clone()),
        EventKind::UnloadingRemarks { conform } => Some(lang.t(if *conform {
            "conform-yes"
        } else {
            "conform-no"
        })),
        EventKind::Accepted { mrn } => Some(mrn.to_string()),
        EventKind::ReleasedForTransit { limit_date } => Some(format!(
            "{}: {}",
            lang.t("limit-date"),
            lang.utc_time(*limit_date)
        )),
        _ => None,
    }
}

/// The form to record an event, at the offices of the route where this person may record.
fn event_form(lang: Lang, signed: &Signed, m: &Movement) -> Markup {
    let user = &signed.session.user;
    let mine: Vec<(Place, &OfficeRef)> = places(m)
        .into_iter()
        .filter(|(_, o)| user.may_record_at(o))
        .collect();
    if mine.is_empty() || m.status.is_final() {
        return html! {};
    }
    let mut kinds: Vec<&str> = Vec::new();
    for (place, _) in &mine {
        for k in place.events() {
            if !kinds.contains(k) {
                kinds.push(k);
            }
        }
    }
    html! {
        h2 #record { (lang.t("record-event")) }
        form.card #event-form method="post" action=(format!("/console/movements/{}/events", m.mrn.as_ref().map(|x| x.to_string()).unwrap_or_default())) {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            input type="hidden" name="nonce" value=(keys::random_hex(16));
            p {
                label for="event-office" { (lang.t("office")) }
                select #event-office name="office" required {
                    @for (place, office) in &mine {
                        option value=(office) { (office) " · " (lang.t(place.message())) }
                    }
                }
            }
            p {
                label for="event-kind" { (lang.t("event")) }
                select #event-kind name="kind" required {
                    @for k in &kinds {
                        option value=(k) { (lang.t(&format!("event-{k}"))) }
                    }
                }
            }
            p {
                label for="event-at" { (lang.t("event-time")) }
                input #event-at name="at" type="datetime-local" aria-describedby="event-at-help";
                small #event-at-help { (lang.t("event-time-help")) }
            }
            p {
                label for="event-description" { (lang.t("event-description")) }
                input #event-description name="description" maxlength="512";
            }
            p {
                label for="event-conform" { (lang.t("event-conform")) }
                select #event-conform name="conform" {
                    option value="yes" { (lang.t("conform-yes")) }
                    option value="no" { (lang.t("conform-no")) }
                }
            }
            p {
                label for="event-limit" { (lang.t("limit-date")) }
                input #event-limit name="limit_date" type="date";
            }
            p { button type="submit" { (lang.t("record")) } }
        }
    }
}

#[derive(Deserialize)]
pub struct EventForm {
    #[serde(default)]
    csrf: String,
    nonce: String,
    office: String,
    kind: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    conform: String,
    #[serde(default)]
    limit_date: String,
}

/// Why a form does not make an event: (message id, the field's text).
type FormError = (&'static str, String);

/// The event a form asks to record, in the office's zone.
fn event_of(f: &EventForm, office: OfficeRef) -> Result<(Event, Stamp), FormError> {
    let zone = zone_of(&office);
    let local = |naive: NaiveDateTime, field: &str| -> Result<DateTime<Utc>, FormError> {
        zone.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or(("form-time-invalid", field.to_string()))
    };
    let kind = match f.kind.as_str() {
        "arrival_at_transit" => EventKind::ArrivalAtTransit,
        "frontier_crossed" => EventKind::FrontierCrossed,
        "arrival_at_destination" => EventKind::ArrivalAtDestination,
        "goods_released" => EventKind::GoodsReleased,
        "incident" if f.description.trim().is_empty() => {
            return Err(("form-description-required", String::new()));
        }
        "incident" => EventKind::Incident {
            description: f.description.trim().to_string(),
        },
        "not_released" if f.description.trim().is_empty() => {
            return Err(("form-description-required", String::new()));
        }
        "not_released" => EventKind::NotReleased {
            reason: f.description.trim().to_string(),
        },
        "unloading_remarks" => EventKind::UnloadingRemarks {
            conform: f.conform != "no",
        },
        "released_for_transit" => {
            let date = NaiveDate::parse_from_str(f.limit_date.trim(), "%Y-%m-%d")
                .map_err(|_| ("form-limit-date", f.limit_date.clone()))?;
            // The limit date ends at midnight, local time, at the end of that day.
            let end = date
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .ok_or(("form-limit-date", f.limit_date.clone()))?;
            EventKind::ReleasedForTransit {
                limit_date: local(end, &f.limit_date)?,
            }
        }
        other => return Err(("form-kind-invalid", other.to_string())),
    };
    let (at, stamp) = match f.at.trim() {
        "" => (Utc::now(), Stamp::WhenApplied),
        text => {
            let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
                .map_err(|_| ("form-time-invalid", text.to_string()))?;
            (local(naive, text)?, Stamp::Given)
        }
    };
    Ok((
        Event {
            kind,
            office,
            at,
            zone,
        },
        stamp,
    ))
}

/// `POST /console/movements/{mrn}/events`: records an event through the single writer, as
/// the API does, with the person as the audit log's actor. The form's nonce is the
/// idempotency key, so a form sent twice records once.
pub async fn record(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(mrn): Path<String>,
    form: Result<Form<EventForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = signed.lang;
    let Ok(Form(f)) = form else {
        return pages::refusal(lang, StatusCode::BAD_REQUEST, &lang.t("form-unreadable"));
    };
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let office = match own_office(&state, &signed, &mrn, &f.office, "event-error").await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let (event, stamp) = match event_of(&f, office) {
        Ok(e) => e,
        Err((id, found)) => {
            let message = lang.t_args(id, &[("found", found.into())]);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return failure(&state, &signed, &mrn, ("event-error", status, message)).await;
        }
    };
    let user = &signed.session.user;
    let path = format!("/console/movements/{mrn}/events");
    // What the audit log keeps of the request, and what the form's nonce is bound to.
    let body = serde_json::json!({
        "office": f.office, "kind": f.kind, "at": f.at, "description": f.description,
        "conform": f.conform, "limit_date": f.limit_date,
    })
    .to_string();
    let command = Command {
        actor: user.id.clone(),
        principal: user.principal(),
        request: Request::Event {
            mrn: mrn.clone(),
            event,
            stamp,
            message: None,
        },
        idempotency_key: Some(format!("console:{}", f.nonce)),
        request_sha256: request_sha256("POST", &path, body.as_bytes()),
        body: body.into_bytes(),
    };
    let answer = state.writer.submit(command).await;
    submitted(&state, &signed, &mrn, answer, ("timeline", "event-error")).await
}

/// The movement's page again with an error notice (`id` the notice's element id).
pub(crate) async fn failure(
    state: &ConsoleState,
    signed: &Signed,
    mrn: &str,
    (id, status, message): (&str, StatusCode, String),
) -> Response {
    let notice = html! { p.error role="alert" id=(id) { (message) } };
    render(state, signed, mrn, status, Some(notice)).await
}

/// The office a form at a movement names, once the movement is the person's to see and the
/// office theirs to record at; otherwise the answer (not found, or the page with the notice).
pub(crate) async fn own_office(
    state: &ConsoleState,
    signed: &Signed,
    mrn: &str,
    office: &str,
    notice: &str,
) -> Result<OfficeRef, Response> {
    let lang = signed.lang;
    match visible(state, signed, mrn).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(not_found(lang, mrn)),
        Err(r) => return Err(r),
    }
    let office = match OfficeRef::parse(office) {
        Ok(o) => o,
        Err(e) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Err(failure(state, signed, mrn, (notice, status, e.to_string())).await);
        }
    };
    if !signed.session.user.may_record_at(&office) {
        let message = lang.t_args("not-your-office", &[("office", office.to_string().into())]);
        let status = StatusCode::FORBIDDEN;
        return Err(failure(state, signed, mrn, (notice, status, message)).await);
    }
    Ok(office)
}

/// The answer to a form the writer took: back to the page at `anchor`, or the page with the
/// refusal in the notice.
pub(crate) async fn submitted(
    state: &ConsoleState,
    signed: &Signed,
    mrn: &str,
    answer: Result<Answer, String>,
    (anchor, notice): (&str, &str),
) -> Response {
    let (status, message) = match answer {
        Ok(Answer::Done { .. } | Answer::Recorded { .. }) => {
            return Redirect::to(&format!("/console/movements/{mrn}?recorded=1#{anchor}"))
                .into_response();
        }
        Ok(Answer::Refused { refusal, message }) => (refusal_status(refusal), message),
        Ok(Answer::Checkpointed { .. }) | Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            signed.lang.t("store-unavailable"),
        ),
    };
    failure(state, signed, mrn, (notice, status, message)).await
}

/// The HTTP status of a refusal of the writer, as the API gives it.
fn refusal_status(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::Forbidden => StatusCode::FORBIDDEN,
        Refusal::NotFound => StatusCode::NOT_FOUND,
        Refusal::Conflict => StatusCode::CONFLICT,
        Refusal::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::Corrupt => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `GET /console/movements/{mrn}/declaration.xml`: the CC015C as lodged (or as amended).
pub async fn declaration(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(mrn): Path<String>,
) -> Response {
    let lang = signed.lang;
    match visible(&state, &signed, &mrn).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(lang, &mrn),
        Err(r) => return r,
    }
    match read::declaration(&state.store, &mrn).await {
        Ok(Some(xml)) => (
            [
                (header::CONTENT_TYPE, "application/xml".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{mrn}-CC015C.xml\""),
                ),
            ],
            xml,
        )
            .into_response(),
        Ok(None) => pages::refusal(lang, StatusCode::NOT_FOUND, &lang.t("lodged-as-json")),
        Err(e) => pages::store_failed(lang, &e),
    }
}
