//! Risk on the route, as stored: the goods of each movement, the queue of assessments to make,
//! each administration's assessments and control results. Assessments and control results are
//! read by (movement, country) only, so an administration's never reach another's view. Writes
//! go through the writer (`Request::Lodge`'s goods, `Request::Assessed`,
//! `Request::ControlResult`).

use chrono::{DateTime, Utc};
use smartborder_transit::{Consignment, ControlResult, Movement};

use crate::{Store, StoreError};

/// An assessment waiting to be made.
#[derive(Debug, Clone)]
pub struct QueuedAssessment {
    pub queue_id: i64,
    pub movement_id: i64,
    pub mrn: String,
    /// The administration that assesses.
    pub country: String,
    /// Its office on the route where it assesses (the first, or the office that received the
    /// anticipated transit record).
    pub office: String,
    /// `lodgement`, `amendment` or `anticipated_transit_record`.
    pub trigger: String,
    /// The instant of the event that asked for it (the lodgement, the amendment, the
    /// anticipated transit record): the declaration's date for the risk engine.
    pub as_of: DateTime<Utc>,
    /// The goods, or why the stored goods do not read.
    pub consignment: Result<Consignment, String>,
}

/// A row of the queue as read: ids, MRN, country, office, trigger, when, the goods' JSON.
type QueueRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
);

/// The oldest assessments waiting, at most `limit`.
pub async fn queued(store: &Store, limit: i64) -> Result<Vec<QueuedAssessment>, StoreError> {
    let rows: Vec<QueueRow> = sqlx::query_as(
        "SELECT q.id, q.movement_id, m.mrn, q.country, q.office, q.trigger_event, q.as_of, c.body \
             FROM risk_queue q JOIN movements m ON m.id = q.movement_id \
             LEFT JOIN consignments c ON c.movement_id = q.movement_id \
             ORDER BY q.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(queue_id, movement_id, mrn, country, office, trigger, as_of, body)| {
                let consignment = match body {
                    Some(b) => serde_json::from_str(&b)
                        .map_err(|e| format!("the stored goods of {mrn} do not read: {e}")),
                    None => Err(format!("{mrn} has no goods stored")),
                };
                QueuedAssessment {
                    queue_id,
                    movement_id,
                    mrn,
                    country,
                    office,
                    trigger,
                    as_of: micros(as_of),
                    consignment,
                }
            },
        )
        .collect())
}

/// The goods of a movement, when it has any.
pub async fn consignment(
    store: &Store,
    movement_id: i64,
) -> Result<Option<Consignment>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT body FROM consignments WHERE movement_id = $1")
            .bind(movement_id)
            .fetch_optional(&store.pool)
            .await?;
    row.map(|(b,)| {
        serde_json::from_str(&b)
            .map_err(|e| StoreError::Corrupt(format!("the stored goods do not read: {e}")))
    })
    .transpose()
}

/// An administration's assessment of a movement.
#[derive(Debug, Clone)]
pub struct StoredAssessment {
    pub id: i64,
    pub lane: String,
    /// As the assessor wrote it (JSON).
    pub body: serde_json::Value,
    pub assessed_at: DateTime<Utc>,
}

/// `country`'s assessments of a movement, oldest first.
pub async fn assessments(
    store: &Store,
    movement_id: i64,
    country: &str,
) -> Result<Vec<StoredAssessment>, StoreError> {
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, lane, body, assessed_at FROM risk_assessments \
         WHERE movement_id = $1 AND country = $2 ORDER BY id",
    )
    .bind(movement_id)
    .bind(country)
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter()
        .map(|(id, lane, body, at)| {
            Ok(StoredAssessment {
                id,
                lane,
                body: serde_json::from_str(&body).map_err(|e| {
                    StoreError::Corrupt(format!("risk assessment {id} does not read: {e}"))
                })?,
                assessed_at: micros(at),
            })
        })
        .collect()
}

/// A control result as stored.
#[derive(Debug, Clone)]
pub struct StoredControlResult {
    pub id: i64,
    pub result: ControlResult,
    /// The key or person that recorded it.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// `country`'s control results on a movement, oldest first.
pub async fn control_results(
    store: &Store,
    movement_id: i64,
    country: &str,
) -> Result<Vec<StoredControlResult>, StoreError> {
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, body, recorded_by, recorded_at FROM control_results \
         WHERE movement_id = $1 AND country = $2 ORDER BY id",
    )
    .bind(movement_id)
    .bind(country)
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter()
        .map(|(id, body, recorded_by, at)| {
            Ok(StoredControlResult {
                id,
                result: serde_json::from_str(&body).map_err(|e| {
                    StoreError::Corrupt(format!("control result {id} does not read: {e}"))
                })?,
                recorded_by,
                recorded_at: micros(at),
            })
        })
        .collect()
}

/// The latest assessment `a` of each movement by the country bound as `$1`.
const LATEST_OF_COUNTRY: &str = "a.country = $1 AND a.id = (SELECT MAX(b.id) FROM risk_assessments b \
     WHERE b.movement_id = a.movement_id AND b.country = a.country)";

/// A movement an administration assessed, for training: its goods, the office and day of the
/// latest assessment, the propensity of that assessment, and the latest control result.
#[derive(Debug, Clone)]
pub struct AssessedMovement {
    pub mrn: String,
    pub movement: Movement,
    pub consignment: Consignment,
    pub office: String,
    /// The instant the assessment was made as at (its declaration date).
    pub as_of: DateTime<Utc>,
    pub propensity: Option<f64>,
    pub result: Option<ControlResult>,
}

/// Every movement `country` assessed, in the order of their latest assessment.
pub async fn assessed_movements(
    store: &Store,
    country: &str,
) -> Result<Vec<AssessedMovement>, StoreError> {
    let rows: Vec<(i64, String, String, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT m.id, m.mrn, m.body, c.body, a.body, a.assessed_at \
             FROM risk_assessments a \
             JOIN movements m ON m.id = a.movement_id \
             JOIN consignments c ON c.movement_id = a.movement_id \
             WHERE {LATEST_OF_COUNTRY} ORDER BY a.id"
    ))
    .bind(country)
    .fetch_all(&store.pool)
    .await?;
    let mut latest_result = latest_results(store, country).await?;
    rows.into_iter()
        .map(|(id, mrn, movement, goods, assessment, at)| {
            let corrupt = |what: &str, e: serde_json::Error| {
                StoreError::Corrupt(format!("the stored {what} of {mrn} does not read: {e}"))
            };
            let assessment: serde_json::Value =
                serde_json::from_str(&assessment).map_err(|e| corrupt("assessment", e))?;
            Ok(AssessedMovement {
                movement: serde_json::from_str(&movement).map_err(|e| corrupt("movement", e))?,
                consignment: serde_json::from_str(&goods).map_err(|e| corrupt("goods", e))?,
                office: assessment
                    .get("office")
                    .and_then(|o| o.as_str())
                    .unwrap_or_default()
                    .to_string(),
                propensity: assessment.get("propensity").and_then(|p| p.as_f64()),
                as_of: as_of(&assessment).unwrap_or_else(|| micros(at)),
                result: latest_result.remove(&id),
                mrn,
            })
        })
        .collect()
}

fn micros(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at).unwrap_or_default()
}

/// What monitoring reads of a movement an administration assessed: its latest assessment and
/// its latest control result.
#[derive(Debug, Clone)]
pub struct MonitoringRow {
    /// The instant the assessment was made as at.
    pub as_of: DateTime<Utc>,
    pub score: Option<f64>,
    pub hits: Vec<String>,
    /// An exploration draw selected it.
    pub explored: bool,
    pub result: Option<ControlResult>,
}

/// Every movement `country` assessed, with its latest assessment and control result.
pub async fn monitoring_rows(
    store: &Store,
    country: &str,
) -> Result<Vec<MonitoringRow>, StoreError> {
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(&format!(
        "SELECT a.movement_id, a.body, a.assessed_at FROM risk_assessments a \
             WHERE {LATEST_OF_COUNTRY} ORDER BY a.id"
    ))
    .bind(country)
    .fetch_all(&store.pool)
    .await?;
    let mut results = latest_results(store, country).await?;
    rows.into_iter()
        .map(|(movement_id, body, at)| {
            let body: serde_json::Value = serde_json::from_str(&body).map_err(|e| {
                StoreError::Corrupt(format!("an assessment of {country} does not read: {e}"))
            })?;
            Ok(MonitoringRow {
                as_of: as_of(&body).unwrap_or_else(|| micros(at)),
                score: body.get("score").and_then(|s| s.as_f64()),
                hits: body
                    .get("hits")
                    .and_then(|h| h.as_array())
                    .map(|h| {
                        h.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                explored: body
                    .get("explored")
                    .and_then(|e| e.as_bool())
                    .unwrap_or(false),
                result: results.remove(&movement_id),
            })
        })
        .collect()
}

/// The latest control result of each movement of `country`.
async fn latest_results(
    store: &Store,
    country: &str,
) -> Result<std::collections::HashMap<i64, ControlResult>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT movement_id, body FROM control_results WHERE country = $1 ORDER BY id",
    )
    .bind(country)
    .fetch_all(&store.pool)
    .await?;
    let mut latest = std::collections::HashMap::new();
    for (movement_id, body) in rows {
        let r = serde_json::from_str(&body).map_err(|e| {
            StoreError::Corrupt(format!("a control result of {country} does not read: {e}"))
        })?;
        latest.insert(movement_id, r);
    }
    Ok(latest)
}

/// The `as_of` instant an assessment's body names.
fn as_of(body: &serde_json::Value) -> Option<DateTime<Utc>> {
    body.get("as_of")?.as_str()?.parse().ok()
}
