//! Risk on the route in the API: an administration's own view of a movement's risk (the goods,
//! its assessments before arrival, its control results) and the recording of control results.
//! Both are confidential: a movement off the caller's routes is answered as an unknown MRN,
//! the coordinator (who has no risk configuration) is refused, and an administration reads
//! only the rows of its own country.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use smartborder_model::Lane;
use smartborder_store::route_risk;
use smartborder_store::writer::{Answer, Command, Request};
use smartborder_transit::{ControlResult, Finding};

use crate::{
    ApiError, AppState, Media, Write, answer, office, parse_body, reader, risk, visible_movement,
    write_request,
};

/// `GET /api/v1/movements/{mrn}/risk`: the caller's administration's assessments and control
/// results of the movement, with its goods.
pub(crate) async fn movement_risk(
    State(state): State<AppState>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, principal) = reader(&state, &headers).await?;
    let (id, _) = visible_movement(&state, &principal, &mrn).await?;
    let country = risk::administration(principal)?;
    let consignment = route_risk::consignment(&state.store, id).await?;
    let assessments: Vec<serde_json::Value> = route_risk::assessments(&state.store, id, &country)
        .await?
        .into_iter()
        .map(|a| {
            let mut body = a.body;
            body["id"] = json!(a.id);
            body
        })
        .collect();
    let results: Vec<serde_json::Value> = route_risk::control_results(&state.store, id, &country)
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "recorded_by": r.recorded_by,
                "recorded_at": r.recorded_at,
                "result": r.result,
            })
        })
        .collect();
    Ok(Json(json!({
        "mrn": mrn,
        "country": country,
        "consignment": consignment,
        "assessments": assessments,
        "control_results": results,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlBody {
    office: String,
    /// When the control ended; the service's clock when absent.
    at: Option<DateTime<Utc>>,
    lane_applied: Lane,
    inspected: bool,
    finding: Finding,
    finding_code: Option<String>,
    revenue_recovered: Option<f64>,
    #[serde(default)]
    seizure: bool,
    remarks: Option<String>,
}

/// `POST /api/v1/movements/{mrn}/controls`: records what a control at one of the caller's
/// offices found. 201 with the result as kept (with the propensity of the assessment it
/// followed).
pub(crate) async fn record_control(
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
    let b: ControlBody = parse_body(&body)?;
    let result = ControlResult {
        office: office("office", &b.office)?,
        at: b.at.unwrap_or_else(Utc::now),
        lane_applied: b.lane_applied,
        inspected: b.inspected,
        finding: b.finding,
        finding_code: b.finding_code,
        revenue_recovered: b.revenue_recovered,
        seizure: b.seizure,
        remarks: b.remarks,
        propensity: None,
        assessment: None,
    };
    let country = result.office.country().to_string();
    let command = Command {
        actor,
        principal,
        request: Request::ControlResult {
            mrn: mrn.clone(),
            result,
        },
        idempotency_key,
        request_sha256,
        body: body.to_vec(),
    };
    match state.writer.submit(command).await {
        Ok(Answer::Recorded { id }) => {
            let movement = smartborder_store::read::movement_state(&state.store, &mrn).await?;
            let kept = match movement {
                Some((movement_id, _)) => {
                    route_risk::control_results(&state.store, movement_id, &country)
                        .await?
                        .into_iter()
                        .find(|r| r.id == id)
                }
                None => None,
            };
            Ok((
                StatusCode::CREATED,
                Json(json!({"control_result": {"id": id, "result": kept.map(|r| r.result)}})),
            )
                .into_response())
        }
        other => answer(other, true),
    }
}

/// `GET /api/v1/risk/monitoring`: the caller's administration's monitoring (profile hit and
/// detection rates per month, Pre@n among the inspected, score drift, exploration).
pub(crate) async fn monitoring(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, principal) = reader(&state, &headers).await?;
    let country = risk::administration(principal)?;
    let m = smartborder_console::route_risk::monitoring(&state.store, &country).await?;
    Ok(Json(json!({"country": country, "monitoring": m})).into_response())
}
