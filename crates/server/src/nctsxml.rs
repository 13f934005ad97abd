//! NCTS Phase 5 XML over the same API: a CC015C lodged at `POST /api/v1/movements`, and the
//! CC013C, CC014C, CC007C and CC044C of a movement at `POST /api/v1/movements/{mrn}/messages`.
//! They become the same store requests as their JSON equivalents; the answers are what NCTS
//! answers:
//!
//! | outcome                                   | HTTP | body                       |
//! |-------------------------------------------|------|----------------------------|
//! | CC015C accepted                           | 201  | CC028C (MRN allocated)     |
//! | CC013C accepted                           | 200  | CC004C (amendment accepted)|
//! | CC014C before release                     | 200  | CC009C (invalidation granted) |
//! | CC014C after release                      | 202  | none: the office of departure decides (`invalidation_decided`); the CC009C is then at `GET .../invalidation` |
//! | CC007C, CC044C recorded                   | 202  | none: the office of destination answers later (unloading permission, goods release) |
//! | not well-formed, not schema-valid         | 400  | CC917C (XML NACK): line, column, XPath, code |
//! | business rule broken                      | 422  | CC056C / CC057C with functional errors |
//! | not the caller's office                   | 403  | CC056C / CC057C            |
//! | unknown MRN                               | 404  | CC056C / CC057C, error code 90 |
//! | duplicate LRN, or out of sequence         | 409  | CC056C / CC057C, error code 92 (rejection code 4 for a duplicate LRN) |
//!
//! Authentication, size and media type errors come before the message is read and are the
//! API's usual JSON errors. `GET /api/v1/movements/{mrn}/release` gives the release for transit
//! (CC029C) of a movement lodged as a CC015C, once it is released: the declaration as lodged (or
//! as last amended by a CC013C) repeated with the MRN and the dates.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use chrono_tz::Tz;
use smartborder_ncts::answers::{self, Envelope, RejectionCode};
use smartborder_ncts::events::{self, Outcome};
use smartborder_ncts::messages::header_of;
use smartborder_ncts::messages::read_bytes;
use smartborder_ncts::messages::{FunctionalError, Header, Message, MessageType, RejectionContext};
use smartborder_ncts::{Refusal as NctsRefusal, xml as ncts_xml};
use smartborder_store::read;
use smartborder_store::writer::{Answer, Command, KeptMessage, Refusal, Request, Stamp};
use smartborder_transit::{Event, EventKind, Movement, MovementStatus, Principal, country_zone};

use crate::{
    ApiError, AppState, Media, Write, reader, unexpected_answer, visible_movement, write_request,
};

/// Answer identifications: unique within a process, and across restarts by the timestamp.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// The country that answers: the caller's administration (the coordinator writes nothing).
fn answering_country(principal: &Principal) -> Result<String, ApiError> {
    match principal {
        Principal::Administration { country } => Ok(country.clone()),
        Principal::Coordinator => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the coordinator reads movements but does not send NCTS messages",
        )),
    }
}

fn envelope(country: &str, answered: Option<Header>) -> Envelope {
    let at = Utc::now();
    let zone: Tz = country_zone(country).unwrap_or(chrono_tz::UTC);
    Envelope {
        country: country.to_string(),
        zone,
        at,
        identification: format!(
            "SB{country}{}{}",
            at.timestamp_micros(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed) % 1000
        ),
        answered,
    }
}

/// Reads an NCTS message off the async workers: parsing and validating cost CPU in
/// proportion to the body, so they run on blocking threads, as many at once as there are cores.
/// Returns the message and its text.
async fn read_xml(
    state: &AppState,
    body: Bytes,
) -> Result<Result<(Message, String), NctsRefusal>, ApiError> {
    let _permit = state.xml_permits.acquire().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is stopping",
        )
    })?;
    tokio::task::spawn_blocking(move || {
        read_bytes(&body).map(|m| (m, String::from_utf8_lossy(&body).into_owned()))
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("reading the message failed: {e}"),
        )
    })
}

/// 422 with a CC056C or CC057C listing the rules the message breaks.
fn breaks_rules(
    country: &str,
    header: Header,
    message_type: MessageType,
    reason: &str,
    context: &RejectionContext,
    errors: &[FunctionalError],
) -> Response {
    let env = envelope(country, Some(header));
    xml(
        StatusCode::UNPROCESSABLE_ENTITY,
        answers::rejection(
            &env,
            message_type,
            RejectionCode::FunctionalErrors,
            reason,
            context,
            errors,
        ),
    )
}

/// The answer to a message that could not be read.
fn refused(country: &str, refusal: NctsRefusal) -> Response {
    match refusal {
        NctsRefusal::Rules {
            message_type,
            header,
            context,
            errors,
        } => breaks_rules(
            country,
            *header,
            message_type,
            "the message breaks business rules (see the functional errors)",
            &context,
            &errors,
        ),
        NctsRefusal::Unsupported { root, expected } => {
            ApiError::bad_request(format!("{root}: this endpoint takes {expected}")).into_response()
        }
        other => {
            let header = match &other {
                NctsRefusal::Schema { header, .. } => header.as_deref().cloned(),
                _ => None,
            };
            let env = envelope(country, header);
            xml(
                StatusCode::BAD_REQUEST,
                answers::xml_nack(&env, &other.xml_errors()),
            )
        }
    }
}

fn reject(
    country: &str,
    header: Header,
    message_type: MessageType,
    context: &RejectionContext,
    refusal: Refusal,
    message: &str,
) -> Response {
    let outcome = match refusal {
        Refusal::Forbidden => Outcome::Forbidden,
        Refusal::NotFound => Outcome::NotFound,
        Refusal::Conflict => Outcome::Conflict,
        Refusal::Invalid | Refusal::Corrupt => Outcome::Invalid,
    };
    let (status, code, error) = events::refusal(outcome, message, message_type);
    let env = envelope(country, Some(header));
    xml(
        StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
        answers::rejection(&env, message_type, code, message, context, &[error]),
    )
}

/// `POST /api/v1/movements` with an XML body: a CC015C.
pub(crate) async fn lodge(state: &AppState, write: Write) -> Result<Response, ApiError> {
    let country = answering_country(&write.principal)?;
    let (message, body) = match read_xml(state, write.body.clone()).await? {
        Ok(m) => m,
        Err(refusal) => return Ok(refused(&country, refusal)),
    };
    let Message::Declaration(d) = message else {
        return Err(ApiError::bad_request(format!(
            "{}: POST it to /api/v1/movements/{{mrn}}/messages; this endpoint lodges a CC015C",
            message.message_type().name()
        )));
    };
    let context = RejectionContext {
        lrn: Some(d.lrn.clone()),
        office: Some(d.route.departure.to_string()),
        holder: d.holder.clone(),
        ..Default::default()
    };
    let command = Command {
        actor: write.actor,
        principal: write.principal,
        request: Request::Lodge {
            lrn: d.lrn.clone(),
            route: d.route.clone(),
            declaration: Some(body),
            consignment: Some(Box::new(d.consignment.clone())),
        },
        idempotency_key: write.idempotency_key,
        request_sha256: write.request_sha256,
        body: write.body.to_vec(),
    };
    match submit(state, command).await? {
        Ok(movement) => {
            let env = envelope(&country, Some(d.header.clone()));
            let mrn = movement.mrn.as_ref().map_or("", |m| m.as_str());
            Ok(xml(
                StatusCode::CREATED,
                answers::mrn_allocated(&env, &d.lrn, mrn, d.route.departure.as_str(), &d.holder),
            ))
        }
        Err((refusal, message)) => Ok(reject(
            &country,
            d.header,
            MessageType::CC015C,
            &context,
            refusal,
            &message,
        )),
    }
}

/// The writer's answer: the movement, or the refusal and its text.
async fn submit(
    state: &AppState,
    command: Command,
) -> Result<Result<Box<Movement>, (Refusal, String)>, ApiError> {
    match state
        .writer
        .submit(command)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e))?
    {
        Answer::Done { movement } => Ok(Ok(movement)),
        // Unreadable stored data is the service's fault, not the message's: no NCTS rejection.
        Answer::Refused {
            refusal: Refusal::Corrupt,
            message,
        } => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt",
            message,
        )),
        Answer::Refused { refusal, message } => Ok(Err((refusal, message))),
        Answer::Checkpointed { .. } | Answer::Recorded { .. } => Err(crate::unexpected_answer()),
    }
}

/// `POST /api/v1/movements/{mrn}/messages`: a CC013C, CC014C, CC007C or CC044C.
pub(crate) async fn post_message(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let write = write_request(&state, (&method, &uri, &headers), body, &[Media::Xml]).await?;
    let country = answering_country(&write.principal)?;
    let (message, body) = match read_xml(&state, write.body.clone()).await? {
        Ok(m) => m,
        Err(refusal) => return Ok(refused(&country, refusal)),
    };
    let message_type = message.message_type();
    let answered = message.header().clone();
    let context = events::rejection_context(&message, &mrn);
    let Some(recorded) = events::recorded(&message, Utc::now()) else {
        return Err(ApiError::bad_request(
            "CC015C: lodge a declaration with POST /api/v1/movements",
        ));
    };
    // C0467 and SBR015, judged on the message and the path alone.
    if let Err(error) = events::names_the_movement(&message, &mrn) {
        return Ok(breaks_rules(
            &country,
            answered,
            message_type,
            &error.description,
            &context,
            std::slice::from_ref(&error),
        ));
    }
    // Unloading remarks are judged against the declaration they answer, on a movement the
    // caller may see (any other is refused by the writer as unknown).
    if let Message::UnloadingRemarks(_) = &message
        && let Some((_, movement)) = read::movement_state(&state.store, &mrn).await?
        && write.principal.can_see(&movement.route).is_ok()
        && let Some(declaration) = read::declaration(&state.store, &mrn).await?
    {
        let errors = events::unloading_against_declaration(&body, &declaration);
        if !errors.is_empty() {
            return Ok(breaks_rules(
                &country,
                answered,
                message_type,
                "the unloading remarks do not agree with the declaration (see the functional errors)",
                &context,
                &errors,
            ));
        }
    }
    let recorded = match recorded {
        Ok(r) => r,
        Err(why) => {
            return Ok(reject(
                &country,
                answered,
                message_type,
                &context,
                Refusal::Invalid,
                &why,
            ));
        }
    };
    let kept = match &message {
        // An accepted amendment is the declaration from now on.
        Message::Amendment(a) => Some(KeptMessage::Amendment {
            message: Some(body),
            consignment: Some(Box::new(a.consignment.clone())),
        }),
        // An invalidation request is what its decision answers.
        Message::InvalidationRequest(_) => Some(KeptMessage::InvalidationRequest(body)),
        _ => None,
    };
    let command = Command {
        actor: write.actor,
        principal: write.principal,
        request: Request::Event {
            mrn: mrn.clone(),
            event: recorded.event,
            stamp: if recorded.stamped_by_service {
                Stamp::WhenApplied
            } else {
                Stamp::Given
            },
            message: kept,
        },
        idempotency_key: write.idempotency_key,
        request_sha256: write.request_sha256,
        body: write.body.to_vec(),
    };
    let movement = match submit(&state, command).await? {
        Ok(m) => m,
        Err((refusal, why)) => {
            return Ok(reject(
                &country,
                answered,
                message_type,
                &context,
                refusal,
                &why,
            ));
        }
    };
    let env = envelope(&country, Some(answered.clone()));
    let departure = movement.route.departure.as_str();
    let later = || {
        (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/api/v1/movements/{mrn}"))],
        )
            .into_response()
    };
    Ok(match &message {
        Message::Amendment(a) => xml(
            StatusCode::OK,
            answers::amendment_accepted(&env, &mrn, &answered, departure, &a.holder),
        ),
        // Before release the office grants the request at once; after release it decides
        // later (`invalidation_decided`), and the decision is at GET .../invalidation.
        Message::InvalidationRequest(i) if movement.status == MovementStatus::Invalidated => xml(
            StatusCode::OK,
            answers::invalidation_decision(
                &env,
                &mrn,
                true,
                i.initiated_by_customs,
                i.justification.as_deref(),
                departure,
                &i.holder,
            ),
        ),
        Message::InvalidationRequest(_) => (
            StatusCode::ACCEPTED,
            [(
                header::LOCATION,
                format!("/api/v1/movements/{mrn}/invalidation"),
            )],
        )
            .into_response(),
        _ => later(),
    })
}

/// `GET /api/v1/movements/{mrn}/invalidation`: the invalidation decision (CC009C) on the
/// movement's latest invalidation request (CC014C) made after release, once the office of
/// departure has decided; 409 while it has not, or when the request was not an NCTS message.
pub(crate) async fn invalidation(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, principal) = reader(&state, &headers).await?;
    let conflict = |message: String| ApiError::new(StatusCode::CONFLICT, "conflict", message);
    let (id, movement) = visible_movement(&state, &principal, &mrn).await?;
    if movement.pending_invalidation.is_some() {
        return Err(conflict(format!(
            "the invalidation request of {mrn} waits for the decision of the office of departure ({})",
            movement.route.departure
        )));
    }
    let Some(decision) = read::last_event(&state.store, id, "invalidation_decided").await? else {
        return Err(conflict(format!(
            "no invalidation of {mrn} was requested after release"
        )));
    };
    let EventKind::InvalidationDecided { accepted, reason } = &decision.kind else {
        return Err(unexpected_answer());
    };
    let Some(request) = read::invalidation_request(&state.store, id).await? else {
        return Err(conflict(format!(
            "the invalidation of {mrn} was requested as JSON; a CC009C answers a CC014C"
        )));
    };
    let doc = ncts_xml::parse(&request).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt",
            format!("the stored invalidation request of {mrn} does not read: {e}"),
        )
    })?;
    let holder = smartborder_ncts::messages::Holder {
        identification_number: doc
            .text_at(&["HolderOfTheTransitProcedure", "identificationNumber"])
            .map(str::to_string),
        tir_holder_identification_number: doc
            .text_at(&[
                "HolderOfTheTransitProcedure",
                "TIRHolderIdentificationNumber",
            ])
            .map(str::to_string),
    };
    let mut env = envelope(movement.route.departure.country(), header_of(&doc));
    env.at = decision.at;
    let justification = reason.clone().or_else(|| {
        doc.text_at(&["Invalidation", "justification"])
            .map(str::to_string)
    });
    Ok(xml(
        StatusCode::OK,
        answers::invalidation_decision(
            &env,
            &mrn,
            *accepted,
            doc.text_at(&["Invalidation", "initiatedByCustoms"]) == Some("1"),
            justification.as_deref(),
            movement.route.departure.as_str(),
            &holder,
        ),
    ))
}

/// `GET /api/v1/movements/{mrn}/release`: the release for transit (CC029C) of a movement lodged
/// as a CC015C, once the office of departure has released it. It repeats the declaration with
/// the MRN and the dates of acceptance and release, local to the office of departure.
pub(crate) async fn release(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, principal) = reader(&state, &headers).await?;
    let conflict = |message: String| ApiError::new(StatusCode::CONFLICT, "conflict", message);
    let (id, movement) = visible_movement(&state, &principal, &mrn).await?;
    let accepted = read::first_event(&state.store, id, "accepted").await?;
    let released = read::first_event(&state.store, id, "released_for_transit").await?;
    let (Some(accepted), Some(released)) = (accepted, released) else {
        return Err(conflict(format!(
            "{mrn} is not released for transit (status {:?})",
            movement.status
        )));
    };
    let Some(declaration) = read::declaration(&state.store, &mrn).await? else {
        return Err(conflict(format!(
            "{mrn} was lodged as JSON; a release for transit (CC029C) repeats an NCTS declaration (CC015C)"
        )));
    };
    let doc = ncts_xml::parse(&declaration).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt",
            format!("the stored declaration of {mrn} does not read: {e}"),
        )
    })?;
    let env = envelope(movement.route.departure.country(), header_of(&doc));
    let local_date = |e: &Event| e.at.with_timezone(&e.zone).date_naive();
    answers::release_for_transit(
        &env,
        &doc,
        &movement.lrn,
        &mrn,
        local_date(&accepted),
        local_date(&released),
    )
    .map(|text| xml(StatusCode::OK, text))
    .map_err(|violations| {
        conflict(format!(
            "the declaration of {mrn} lacks what a release for transit must state: {}",
            violations
                .iter()
                .map(|v| format!("{} ({})", v.pointer, v.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}
