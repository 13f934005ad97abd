//! The single writer with group commit.
//!
//! Requests queue on a channel; the writer takes every request waiting (up to [`MAX_BATCH`]),
//! applies them in order inside one transaction, commits (a durable commit: fsync on SQLite with
//! `synchronous = FULL`, WAL flush on PostgreSQL), and only then answers each request. A disk
//! that completes a few hundred fsyncs a second can so acknowledge thousands of events a second,
//! and no request is ever acknowledged before its data is durable. If the commit fails, every
//! request of the batch gets an error and nothing of it is kept.
//!
//! One writer per database: identifiers (movement ids, notification cursors, MRN sequences) are
//! allocated in memory and reloaded from the database after a failed commit.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};
use smartborder_transit::{
    Event, EventKind, Movement, Mrn, Principal, Route, country_zone, movement::MAX_TRANSIT_OFFICES,
};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::audit::{self, AuditEntry};
use crate::write_set::{Param, WriteSet};
use crate::{Backend, Store, StoreError, now_micros};

/// The most requests committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// What a caller asks to write.
#[derive(Debug, Clone)]
pub enum Request {
    /// Lodge a transit declaration (IE015); the office of departure accepts it and allocates the
    /// MRN (IE028) at once when it passes the checks. `declaration` is the NCTS CC015C when it
    /// was lodged as one, kept for the release for transit (CC029C) that repeats it.
    Lodge {
        lrn: String,
        route: Route,
        declaration: Option<String>,
    },
    /// Record an event of a movement. `declaration` is the NCTS amendment (CC013C) the event
    /// came with: once accepted it is the declaration a release for transit repeats.
    Event {
        mrn: String,
        event: Event,
        declaration: Option<String>,
    },
}

/// A request with its caller.
pub struct Command {
    /// The API key id (the audit log's actor).
    pub actor: String,
    pub principal: Principal,
    pub request: Request,
    pub idempotency_key: Option<String>,
    /// The request body as received, for the audit log.
    pub body: Vec<u8>,
}

/// Why a request was refused (nothing was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The caller may not do this (not its office, not on the route, coordinator).
    Forbidden,
    /// No movement with this MRN (or none the caller may see).
    NotFound,
    /// The lifecycle does not allow it now, or the LRN was already lodged.
    Conflict,
    /// The request itself is wrong (route, zone, dates).
    Invalid,
}

/// The answer to a request, as stored for idempotent replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answer {
    Done { movement: Box<Movement> },
    Refused { refusal: Refusal, message: String },
}

/// A handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<(Command, oneshot::Sender<Result<Answer, String>>)>,
}

impl Writer {
    /// Starts the writer task on the current Tokio runtime.
    pub fn spawn(store: Store) -> Writer {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(store, rx));
        Writer { tx }
    }

    /// Submits a request and waits until it is durable (or refused). `Err` means the store
    /// failed and nothing was written.
    pub async fn submit(&self, command: Command) -> Result<Answer, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((command, reply))
            .await
            .map_err(|_| "the writer has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the writer has stopped".to_string())?
    }
}

/// Identifiers the writer hands out.
#[derive(Default)]
struct Counters {
    loaded: bool,
    movement: i64,
    notification: i64,
    /// Last MRN sequence per "YYCC" prefix.
    mrn: HashMap<String, u64>,
}

async fn run(
    store: Store,
    mut rx: mpsc::Receiver<(Command, oneshot::Sender<Result<Answer, String>>)>,
) {
    let mut counters = Counters::default();
    // The writer keeps one connection for itself: taking one from the pool per batch would
    // cost a hand-off to the driver and a liveness check each time.
    let mut conn: Option<PoolConnection<Any>> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let result = match &mut conn {
            Some(c) => commit_batch(&store, c, &mut counters, &batch).await,
            None => match store.pool.acquire().await {
                Ok(c) => commit_batch(&store, conn.insert(c), &mut counters, &batch).await,
                Err(e) => Err(e.into()),
            },
        };
        match result {
            Ok(answers) => {
                for ((_, reply), answer) in batch.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(e) => {
                counters = Counters::default();
                // The connection may be what failed: the next batch takes a fresh one.
                if let Some(mut c) = conn.take() {
                    c.close_on_drop();
                }
                let message = format!("the store could not commit: {e}");
                for (_, reply) in batch {
                    let _ = reply.send(Err(message.clone()));
                }
            }
        }
    }
}

async fn load_counters(tx: &mut Transaction<'_, Any>, c: &mut Counters) -> Result<(), StoreError> {
    let (m,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM movements")
        .fetch_one(&mut **tx)
        .await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM notifications")
        .fetch_one(&mut **tx)
        .await?;
    c.movement = m;
    c.notification = n;
    c.mrn.clear();
    c.loaded = true;
    Ok(())
}

async fn next_mrn(
    tx: &mut Transaction<'_, Any>,
    c: &mut Counters,
    year: i32,
    country: &str,
) -> Result<Mrn, StoreError> {
    let prefix = format!("{:02}{}", year.rem_euclid(100), country);
    if !c.mrn.contains_key(&prefix) {
        let last: Option<(String,)> =
            sqlx::query_as("SELECT mrn FROM movements WHERE mrn LIKE $1 ORDER BY mrn DESC LIMIT 1")
                .bind(format!("{prefix}%"))
                .fetch_optional(&mut **tx)
                .await?;
        let seq = last.map_or(0, |(m,)| u64::from_str_radix(&m[4..16], 36).unwrap_or(0));
        c.mrn.insert(prefix.clone(), seq);
    }
    let seq = c.mrn.get_mut(&prefix).expect("inserted above");
    *seq += 1;
    Ok(Mrn::allocate(year, country, *seq, 'J'))
}

async fn commit_batch(
    store: &Store,
    conn: &mut AnyConnection,
    counters: &mut Counters,
    batch: &[(Command, oneshot::Sender<Result<Answer, String>>)],
) -> Result<Vec<Answer>, StoreError> {
    let mut tx = conn.begin().await?;
    if !counters.loaded {
        load_counters(&mut tx, counters).await?;
    }
    let now = now_micros();
    let mut pending = Pending::default();
    let mut mrns: Vec<&str> = batch
        .iter()
        .filter_map(|(c, _)| match &c.request {
            Request::Event { mrn, .. } => Some(mrn.as_str()),
            Request::Lodge { .. } => None,
        })
        .collect();
    mrns.sort_unstable();
    mrns.dedup();
    pending.prefetch(&mut tx, store.backend, &mrns).await?;
    let mut answers = Vec::with_capacity(batch.len());
    let mut audit_actions: Vec<(usize, String, String)> = Vec::new();
    for (i, (cmd, _)) in batch.iter().enumerate() {
        if let Some(key) = &cmd.idempotency_key {
            let previous: Option<(String,)> =
                sqlx::query_as("SELECT response FROM idempotency WHERE actor = $1 AND key = $2")
                    .bind(&cmd.actor)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((response,)) = previous {
                let answer = serde_json::from_str(&response)
                    .map_err(|e| StoreError::Corrupt(format!("idempotency record: {e}")))?;
                answers.push(answer);
                continue;
            }
        }
        let answer = match &cmd.request {
            Request::Lodge {
                lrn,
                route,
                declaration,
            } => {
                lodge(
                    &mut tx,
                    counters,
                    &mut pending,
                    cmd,
                    (lrn, route, declaration.as_deref()),
                    now,
                )
                .await?
            }
            Request::Event {
                mrn,
                event,
                declaration,
            } => {
                let answer = record(&mut tx, counters, &mut pending, cmd, mrn, event).await?;
                if let (Answer::Done { .. }, Some(message)) = (&answer, declaration) {
                    let (id, _, _) = &pending.movements[mrn.as_str()];
                    sqlx::query(
                        "INSERT INTO declarations (movement_id, message) VALUES ($1, $2) \
                         ON CONFLICT (movement_id) DO UPDATE SET message = excluded.message",
                    )
                    .bind(*id)
                    .bind(message.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                answer
            }
        };
        if let Answer::Done { movement } = &answer {
            let action = match &cmd.request {
                Request::Lodge { .. } => "lodge".to_string(),
                Request::Event { event, .. } => format!("event:{}", event.kind.name()),
            };
            let subject = movement
                .mrn
                .as_ref()
                .map_or(movement.lrn.clone(), |m| m.to_string());
            audit_actions.push((i, action, subject));
        }
        if let Some(key) = &cmd.idempotency_key {
            let response = serde_json::to_string(&answer).expect("answers serialise");
            sqlx::query("INSERT INTO idempotency (actor, key, response, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&cmd.actor)
                .bind(key)
                .bind(response)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        answers.push(answer);
    }
    let entries: Vec<AuditEntry> = audit_actions
        .iter()
        .map(|(i, action, subject)| AuditEntry {
            actor: &batch[*i].0.actor,
            action,
            subject,
            body: &batch[*i].0.body,
        })
        .collect();
    // The batch's writes and its audit entries go to the database together: one round trip on
    // SQLite.
    let mut writes = WriteSet::new(store.backend);
    pending.flush(&mut writes, now);
    audit::append_to(&mut tx, &mut writes, &entries, now).await?;
    writes.execute(&mut tx).await?;
    tx.commit().await?;
    Ok(answers)
}

/// Rows a batch writes at its end: movements touched (written once each, however many events
/// they got) and multi-row inserts of events and notifications, to keep round trips per
/// request low.
#[derive(Default)]
struct Pending {
    /// MRN -> (id, movement state, events stored so far), loaded once per batch.
    movements: HashMap<String, (i64, Movement, i64)>,
    /// Movements changed by the batch, to write at its end.
    dirty: std::collections::HashSet<String>,
    events: Vec<(i64, i64, Event)>,
    /// (id, country, movement id, body).
    notifications: Vec<(i64, String, i64, String)>,
}

/// Rows per multi-row INSERT (8 columns: well under every engine's parameter limit).
const ROWS_PER_INSERT: usize = 200;

impl Pending {
    /// Loads, in one query per chunk, the movements the batch's events refer to.
    async fn prefetch(
        &mut self,
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
        mrns: &[&str],
    ) -> Result<(), StoreError> {
        for chunk in mrns.chunks(ROWS_PER_INSERT) {
            let placeholders: Vec<String> =
                (1..=chunk.len()).map(|i| backend.placeholder(i)).collect();
            let sql = format!(
                "SELECT id, mrn, body, event_count FROM movements WHERE mrn IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as::<_, (i64, String, String, i64)>(&sql);
            for m in chunk {
                q = q.bind(*m);
            }
            for (id, mrn, body, event_count) in q.fetch_all(&mut **tx).await? {
                let movement: Movement = serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("movement {mrn}: {e}")))?;
                self.movements.insert(mrn, (id, movement, event_count));
            }
        }
        Ok(())
    }

    /// Adds the batch's writes to `out`: changed movements (one upsert per chunk; SQLite and
    /// PostgreSQL share this syntax), then events and notifications in multi-row inserts.
    fn flush(self, out: &mut WriteSet, now: i64) {
        let dirty: Vec<&String> = self.dirty.iter().collect();
        for chunk in dirty.chunks(ROWS_PER_INSERT) {
            let sql = out.multi_row(
                "INSERT INTO movements (id, lrn, mrn, departure_country, status, body, event_count, updated_at) VALUES ",
                8,
                chunk.len(),
            ) + " ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body, \
                 event_count = excluded.event_count, updated_at = excluded.updated_at";
            let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * 8);
            for mrn in chunk {
                let (id, movement, event_count) = &self.movements[*mrn];
                params.extend([
                    Param::from(*id),
                    movement.lrn.as_str().into(),
                    mrn.as_str().into(),
                    movement.route.departure.country().into(),
                    status_name(movement).into(),
                    state_body(movement).into(),
                    (*event_count).into(),
                    now.into(),
                ]);
            }
            out.push(sql, params);
        }
        for chunk in self.events.chunks(ROWS_PER_INSERT) {
            let sql = out.multi_row(
                "INSERT INTO events (movement_id, seq, type, office, at_utc, zone, body, recorded_at) VALUES ",
                8,
                chunk.len(),
            );
            let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * 8);
            for (movement_id, seq, e) in chunk {
                params.extend([
                    Param::from(*movement_id),
                    (*seq).into(),
                    e.kind.name().into(),
                    e.office.as_str().into(),
                    e.at.to_rfc3339().into(),
                    e.zone.name().into(),
                    serde_json::to_string(e).expect("events serialise").into(),
                    now.into(),
                ]);
            }
            out.push(sql, params);
        }
        for chunk in self.notifications.chunks(ROWS_PER_INSERT) {
            let sql = out.multi_row(
                "INSERT INTO notifications (id, country, movement_id, body, created_at) VALUES ",
                5,
                chunk.len(),
            );
            let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * 5);
            for (id, country, movement_id, body) in chunk {
                params.extend([
                    Param::from(*id),
                    country.as_str().into(),
                    (*movement_id).into(),
                    body.as_str().into(),
                    now.into(),
                ]);
            }
            out.push(sql, params);
        }
    }
}

fn refused(refusal: Refusal, message: impl Into<String>) -> Answer {
    Answer::Refused {
        refusal,
        message: message.into(),
    }
}

async fn lodge(
    tx: &mut Transaction<'_, Any>,
    counters: &mut Counters,
    pending: &mut Pending,
    cmd: &Command,
    (lrn, route, declaration): (&str, &Route, Option<&str>),
    now: i64,
) -> Result<Answer, StoreError> {
    if let Err(e) = cmd.principal.can_lodge(route) {
        return Ok(refused(Refusal::Forbidden, e.to_string()));
    }
    if lrn.trim().is_empty() || lrn.len() > 22 {
        return Ok(refused(
            Refusal::Invalid,
            format!("LRN \"{lrn}\": expected 1 to 22 characters"),
        ));
    }
    if route.transit.len() > MAX_TRANSIT_OFFICES {
        return Ok(refused(
            Refusal::Invalid,
            format!(
                "{} offices of transit; a declaration names at most {MAX_TRANSIT_OFFICES}",
                route.transit.len()
            ),
        ));
    }
    let departure_country = route.departure.country();
    let Some(zone) = country_zone(departure_country) else {
        return Ok(refused(
            Refusal::Invalid,
            format!("no time zone is known for offices of {departure_country}"),
        ));
    };
    let duplicate: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM movements WHERE departure_country = $1 AND lrn = $2")
            .bind(departure_country)
            .bind(lrn)
            .fetch_optional(&mut **tx)
            .await?;
    if duplicate.is_some() {
        return Ok(refused(
            Refusal::Conflict,
            format!("LRN {lrn} was already lodged at {departure_country}"),
        ));
    }
    let at: DateTime<Utc> = DateTime::from_timestamp_micros(now).expect("now is a valid instant");
    let mrn = next_mrn(tx, counters, at.year(), departure_country).await?;
    let mut movement = Movement::lodged(lrn, route.clone());
    movement
        .apply(Event {
            kind: EventKind::Accepted { mrn: mrn.clone() },
            office: route.departure.clone(),
            at,
            zone,
        })
        .map_err(|e| StoreError::Corrupt(format!("acceptance of a new movement: {e}")))?;
    counters.movement += 1;
    let id = counters.movement;
    sqlx::query(
        "INSERT INTO movements (id, lrn, mrn, departure_country, status, body, event_count, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
    )
    .bind(id)
    .bind(lrn)
    .bind(mrn.as_str())
    .bind(departure_country)
    .bind(status_name(&movement))
    .bind(state_body(&movement))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for country in route.countries() {
        sqlx::query("INSERT INTO movement_countries (movement_id, country) VALUES ($1, $2)")
            .bind(id)
            .bind(country)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(message) = declaration {
        sqlx::query("INSERT INTO declarations (movement_id, message) VALUES ($1, $2)")
            .bind(id)
            .bind(message)
            .execute(&mut **tx)
            .await?;
    }
    pending.events.push((id, 0, movement.events[0].clone()));
    Ok(Answer::Done {
        movement: Box::new(movement),
    })
}

/// The movement as stored in `movements.body`: its state with the latest event only (the full
/// history is in `events`), so a write costs the same however long the history.
fn state_body(m: &Movement) -> String {
    let latest = Movement {
        events: m.events.last().cloned().into_iter().collect(),
        ..m.clone()
    };
    serde_json::to_string(&latest).expect("movements serialise")
}

fn status_name(m: &Movement) -> String {
    serde_json::to_value(m.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

async fn record(
    tx: &mut Transaction<'_, Any>,
    counters: &mut Counters,
    pending: &mut Pending,
    cmd: &Command,
    mrn: &str,
    event: &Event,
) -> Result<Answer, StoreError> {
    // A movement already touched in this batch is taken from the batch, not the database.
    let (id, mut movement, event_count) = match pending.movements.get(mrn) {
        Some(cached) => cached.clone(),
        None => {
            let row: Option<(i64, String, i64)> =
                sqlx::query_as("SELECT id, body, event_count FROM movements WHERE mrn = $1")
                    .bind(mrn)
                    .fetch_optional(&mut **tx)
                    .await?;
            let Some((id, body, event_count)) = row else {
                return Ok(refused(
                    Refusal::NotFound,
                    format!("no movement with MRN {mrn}"),
                ));
            };
            let movement: Movement = serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("movement {mrn}: {e}")))?;
            (id, movement, event_count)
        }
    };
    if cmd.principal.can_see(&movement.route).is_err() {
        return Ok(refused(
            Refusal::NotFound,
            format!("no movement with MRN {mrn}"),
        ));
    }
    if let Err(e) = cmd.principal.can_record_at(&event.office) {
        return Ok(refused(Refusal::Forbidden, e.to_string()));
    }
    if let EventKind::ReleasedForTransit { limit_date } = &event.kind
        && *limit_date > event.at + Duration::days(365)
    {
        return Ok(refused(
            Refusal::Invalid,
            "the limit date is more than a year after release",
        ));
    }
    let countries_before: Vec<String> = movement
        .route
        .countries()
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Err(e) = movement.apply(event.clone()) {
        return Ok(refused(Refusal::Conflict, e.to_string()));
    }
    if let EventKind::Amended { route: Some(_) } = &event.kind {
        // The amended route decides who sees the movement from now on.
        let after = movement.route.countries();
        for country in after
            .iter()
            .filter(|c| !countries_before.iter().any(|b| b == *c))
        {
            sqlx::query("INSERT INTO movement_countries (movement_id, country) VALUES ($1, $2)")
                .bind(id)
                .bind(*country)
                .execute(&mut **tx)
                .await?;
        }
        for country in countries_before
            .iter()
            .filter(|b| !after.contains(&b.as_str()))
        {
            sqlx::query("DELETE FROM movement_countries WHERE movement_id = $1 AND country = $2")
                .bind(id)
                .bind(country)
                .execute(&mut **tx)
                .await?;
        }
    }
    pending.events.push((id, event_count, event.clone()));
    // Share the event along the route: every other administration on it is notified; the release
    // carries the anticipated transit record (pre-arrival information) for the next borders.
    let others: Vec<&str> = movement
        .route
        .countries()
        .into_iter()
        .filter(|c| *c != event.office.country())
        .collect();
    let mut body = serde_json::json!({
        "mrn": mrn,
        "event": event,
        "status": movement.status,
    });
    if matches!(event.kind, EventKind::ReleasedForTransit { .. }) {
        body["anticipated_transit_record"] = serde_json::json!({
            "route": movement.route,
            "limit_date": movement.limit_date,
        });
    }
    let text = body.to_string();
    for country in others {
        counters.notification += 1;
        pending
            .notifications
            .push((counters.notification, country.to_string(), id, text.clone()));
    }
    // Only the latest event travels in the answer; GET the movement for its history.
    let state = Movement {
        events: movement.events.last().cloned().into_iter().collect(),
        ..movement.clone()
    };
    pending.dirty.insert(mrn.to_string());
    pending
        .movements
        .insert(mrn.to_string(), (id, movement, event_count + 1));
    Ok(Answer::Done {
        movement: Box::new(state),
    })
}
