//! Risk assessment before arrival, inside the single window. The writer queues an assessment
//! for every administration on the route when a movement with goods is lodged or amended, and
//! for the administration of an office of transit when the anticipated transit record reaches
//! it (the queue is in the same transaction as the event, so none is lost). This task, on the
//! leader only, takes the queue in order and assesses each movement with that administration's
//! own configuration (profiles, bands, plan, model or anomaly model, the same compiled
//! configuration as the live API), then records the result through the writer: kept for that
//! administration only and sent to its feed alone.
//!
//! A movement is assessed item by item (the risk engine reads single-item declarations); its
//! lane is the most severe of its items' (red > yellow > blue > green), its score the highest,
//! its hits the union, and its propensity the chance that at least one item is selected,
//! `1 - Π(1 - pᵢ)` (items are drawn independently).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use smartborder_model::Lane;
use smartborder_risk::configuration::{LiveAssessment, RiskConfiguration};
use smartborder_store::Store;
use smartborder_store::route_risk::{self, QueuedAssessment};
use smartborder_store::writer::{AssessmentRecord, Command, Request, Writer};
use smartborder_transit::Principal;

use crate::risk::Configurations;

/// Queue entries taken at once.
const BATCH: i64 = 256;
/// The actor of the assessor's writes in the audit log.
pub const ACTOR: &str = "risk-assessor";

/// An administration's assessment of a movement, as kept and sent to its feed.
#[derive(Debug, Serialize)]
pub struct RouteAssessment<'a> {
    pub mrn: &'a str,
    pub country: &'a str,
    /// The administration's office on the route where it assessed.
    pub office: &'a str,
    /// `lodgement`, `amendment` or `anticipated_transit_record`.
    pub trigger: &'a str,
    /// The instant of the event that asked for the assessment: the date the risk engine reads.
    pub as_of: DateTime<Utc>,
    pub assessed_at: DateTime<Utc>,
    /// The files of the configuration that produced it, with their versions.
    pub versions: &'a BTreeMap<String, i64>,
    pub lane: Lane,
    /// The highest item score (model probability, or anomaly score), when there is a score.
    pub score: Option<f64>,
    /// The profiles that hit on any item.
    pub hits: Vec<String>,
    /// The exploration share of the selectivity plan in force.
    pub exploration_share: f64,
    /// Whether an item was selected by an exploration draw.
    pub explored: bool,
    /// The chance that the movement is controlled under the plan.
    pub propensity: f64,
    pub items: Vec<LiveAssessment>,
    /// Why the movement could not be assessed (goods unreadable, configuration not compiling).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Assesses one queued movement with a compiled configuration.
pub fn assess(
    queued: &QueuedAssessment,
    config: &RiskConfiguration,
    now: DateTime<Utc>,
) -> (Lane, String) {
    let (items, error) = match &queued.consignment {
        Ok(goods) => {
            let set = goods.declarations(
                &queued.mrn,
                queued.as_of.date_naive(),
                &queued.office,
                &config.attributes,
            );
            (config.assess(set, 1), None)
        }
        Err(why) => (Vec::new(), Some(why.clone())),
    };
    let lane = items
        .iter()
        .map(|i| i.lane)
        .max_by_key(|l| l.severity())
        .unwrap_or(Lane::Green);
    let mut hits: Vec<String> = Vec::new();
    for h in items.iter().flat_map(|i| &i.hits) {
        if !hits.contains(h) {
            hits.push(h.clone());
        }
    }
    let body = RouteAssessment {
        mrn: &queued.mrn,
        country: &queued.country,
        office: &queued.office,
        trigger: &queued.trigger,
        as_of: queued.as_of,
        assessed_at: now,
        versions: &config.versions,
        lane,
        score: items.iter().filter_map(|i| i.score).reduce(f64::max),
        hits,
        exploration_share: config.exploration_share(),
        explored: items.iter().any(|i| {
            i.selection
                .iter()
                .any(|r| matches!(r, smartborder_risk::selectivity::Reason::Exploration { .. }))
        }),
        propensity: 1.0 - items.iter().map(|i| 1.0 - i.propensity).product::<f64>(),
        items,
        error,
    };
    (
        lane,
        serde_json::to_string(&body).expect("assessments serialise"),
    )
}

/// Starts the assessor on the current runtime (the leader's: the writer refuses the others).
pub(crate) fn spawn(store: Store, writer: Writer, configurations: Arc<Configurations>) {
    tokio::spawn(async move {
        let mut queued = writer.queued();
        loop {
            match drain(&store, &writer, &configurations).await {
                Ok(()) => {}
                Err(e) => {
                    eprintln!("risk assessor: {e}; trying again in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            if writer.is_stopped() {
                return;
            }
            // Woken by the next commit that queues; a timeout catches entries queued by an
            // earlier process.
            let _ = tokio::time::timeout(Duration::from_secs(5), queued.changed()).await;
        }
    });
}

/// Assesses everything queued.
async fn drain(
    store: &Store,
    writer: &Writer,
    configurations: &Arc<Configurations>,
) -> Result<(), String> {
    loop {
        let batch = route_risk::queued(store, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        if batch.is_empty() {
            return Ok(());
        }
        let mut assessments = Vec::with_capacity(batch.len());
        for q in batch {
            let now = Utc::now();
            let (lane, body) = match configurations.get(store, &q.country).await {
                // Nothing published: nothing to assess with; the entry is only taken off the
                // queue.
                Ok(config) if config.versions.is_empty() => (String::new(), None),
                Ok(config) => {
                    let q = q.clone();
                    let (lane, body) =
                        tokio::task::spawn_blocking(move || assess(&q, &config, now))
                            .await
                            .map_err(|e| e.to_string())?;
                    (lane.as_str().to_string(), Some(body))
                }
                // Recorded as such, so that the administration sees why and the queue moves
                // on.
                Err(e) => (
                    "unassessed".to_string(),
                    Some(
                        serde_json::json!({
                            "mrn": q.mrn, "country": q.country, "office": q.office,
                            "trigger": q.trigger, "as_of": q.as_of, "assessed_at": now,
                            "error": e.message,
                        })
                        .to_string(),
                    ),
                ),
            };
            assessments.push(AssessmentRecord {
                queue_id: q.queue_id,
                movement_id: q.movement_id,
                mrn: q.mrn,
                country: q.country,
                lane,
                body,
            });
        }
        // The audit log keeps what was decided: movement, administration and lane.
        let audited: Vec<(&str, &str, &str)> = assessments
            .iter()
            .map(|a| (a.mrn.as_str(), a.country.as_str(), a.lane.as_str()))
            .collect();
        let body = serde_json::to_vec(&audited).unwrap_or_default();
        writer
            .submit(Command {
                actor: ACTOR.to_string(),
                principal: Principal::Coordinator,
                request: Request::Assessed { assessments },
                idempotency_key: None,
                request_sha256: String::new(),
                body,
            })
            .await?;
    }
}
