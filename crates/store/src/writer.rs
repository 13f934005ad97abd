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
use std::sync::Arc;

use ed25519_dalek::SigningKey;

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use smartborder_transit::ClockError;
use smartborder_transit::mrn::UNIQUE_PARTS;
use smartborder_transit::{
    Consignment, ControlResult, Event, EventKind, Movement, Mrn, OfficeRef, Principal, Route,
    lodging,
};
use sqlx::{Any, AnyConnection, Connection, Transaction};
use tokio::sync::{mpsc, oneshot, watch};

use crate::audit::{self, AuditEntry, Checkpoint, EventRow, Record};
use crate::write_set::{Param, WriteSet};
use crate::{Backend, LeaderLock, Leadership, Store, StoreError, now_micros};

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
        /// The goods (the JSON body's `consignment`, or read from the CC015C). When present,
        /// every administration on the route is queued to assess the movement.
        consignment: Option<Box<Consignment>>,
    },
    /// Take over a movement accepted earlier by another system (the history of a legacy
    /// transit system, or the demo's world): lodged and accepted at `accepted_at`, with a new
    /// MRN; its later events follow as [`Request::Event`]s with their own times. Taken-over
    /// movements come in lodging order, after every movement already lodged, so that internal
    /// ids keep following lodging (the movements board relies on it). Not offered by the API.
    TakeOver {
        lrn: String,
        route: Route,
        accepted_at: DateTime<Utc>,
        /// Its goods, assessed as at `accepted_at` by every administration on the route.
        consignment: Option<Box<Consignment>>,
    },
    /// Record an event of a movement. `message` is the NCTS message the event came with, kept
    /// once the event is accepted: an amendment (CC013C) is the declaration a release for
    /// transit repeats from then on; an invalidation request (CC014C) is what the decision
    /// (CC009C) answers. When
    /// `stamp` is [`Stamp::WhenApplied`] the event's time is the writer's clock when it applies
    /// the event, so that concurrent requests to one movement are stamped in the order they are
    /// applied.
    Event {
        mrn: String,
        event: Event,
        stamp: Stamp,
        message: Option<KeptMessage>,
    },
    /// Sign the audit log's head (as committed before this batch) with the audit key and send
    /// the checkpoint to every administration that holds an active key. Nothing is signed
    /// when the head is already checkpointed.
    Checkpoint,
    /// Record risk assessments made for queued movements (the service's assessor sends them):
    /// each is kept for its administration, goes to that administration's feed only, and
    /// takes its entry off the queue. An entry already taken off is skipped.
    Assessed { assessments: Vec<AssessmentRecord> },
    /// Record what a control found on a movement: confidential to the administration of the
    /// office (its own), which must be on the movement's route.
    ControlResult { mrn: String, result: ControlResult },
}

/// A risk assessment of a movement by one administration, for [`Request::Assessed`].
#[derive(Debug, Clone)]
pub struct AssessmentRecord {
    /// The queue entry it answers.
    pub queue_id: i64,
    pub movement_id: i64,
    pub mrn: String,
    pub country: String,
    /// The movement's lane (the highest of its goods items').
    pub lane: String,
    /// The assessment as JSON (goods items, scores, hits, reasons, propensity, versions);
    /// `None` when the administration has no risk configuration: the entry is only taken off
    /// the queue.
    pub body: Option<String>,
}

/// An NCTS message kept with the event it brought.
#[derive(Debug, Clone)]
pub enum KeptMessage {
    /// The declaration as amended: the CC013C when it came as one, and the goods when the
    /// amendment gives them (they replace the goods lodged; every administration on the route
    /// is queued to assess the movement again).
    Amendment {
        message: Option<String>,
        consignment: Option<Box<Consignment>>,
    },
    /// A CC014C: the invalidation request, answered by a CC009C once decided.
    InvalidationRequest(String),
}

/// Where an event's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// The caller said when it happened (`Event::at`).
    Given,
    /// The service stamps it when it is applied (`Event::at` is replaced).
    WhenApplied,
}

/// A request with its caller.
pub struct Command {
    /// The API key id (the audit log's actor).
    pub actor: String,
    pub principal: Principal,
    pub request: Request,
    pub idempotency_key: Option<String>,
    /// SHA-256 (hex) of the method, path and body of the request: an idempotency key is bound
    /// to it, so that a key reused for another request is refused instead of replaying the
    /// first answer.
    pub request_sha256: String,
    /// The request body as received, for the audit log.
    pub body: Vec<u8>,
}

/// The fingerprint a request's idempotency key is bound to: SHA-256 of
/// `METHOD SP PATH LF BODY` (hex).
pub fn request_sha256(method: &str, path: &str, body: &[u8]) -> String {
    let mut text = Vec::with_capacity(method.len() + path.len() + 2 + body.len());
    text.extend_from_slice(method.as_bytes());
    text.push(b' ');
    text.extend_from_slice(path.as_bytes());
    text.push(b'\n');
    text.extend_from_slice(body);
    audit::sha256_hex(&text)
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
    /// The request itself is wrong (route, zone, dates, text, a reused idempotency key).
    Invalid,
    /// The stored movement cannot be read: only the requests touching it fail.
    Corrupt,
}

/// The answer to a request, as stored for idempotent replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answer {
    Done {
        movement: Box<Movement>,
    },
    Refused {
        refusal: Refusal,
        message: String,
    },
    /// The checkpoint signed, if the head had moved.
    Checkpointed {
        checkpoint: Option<Checkpoint>,
    },
    /// Rows recorded: the control result's id, or the number of assessments kept.
    Recorded {
        id: i64,
    },
}

/// How the writer judges requests.
#[derive(Clone)]
pub struct WriterConfig {
    /// How far ahead of the service's clock an event's time may be.
    pub max_clock_skew: Duration,
    /// The key that signs audit checkpoints; kept outside the database.
    pub audit_key: Option<Arc<SigningKey>>,
}

impl Default for WriterConfig {
    fn default() -> WriterConfig {
        WriterConfig {
            max_clock_skew: Duration::minutes(5),
            audit_key: None,
        }
    }
}

/// A handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<(Command, oneshot::Sender<Result<Answer, String>>)>,
    /// The id of the last notification committed: live feeds (the console's Server-Sent
    /// Events) wait on it instead of polling the database.
    notified: watch::Receiver<i64>,
    queued: watch::Receiver<i64>,
}

impl Writer {
    /// Starts the writer task on the current Tokio runtime. It needs the database's
    /// [`Leadership`]: one writer per database.
    pub fn spawn(store: Store, leadership: Leadership, config: WriterConfig) -> Writer {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let (notify, notified) = watch::channel(0);
        let (queue, queued) = watch::channel(0);
        tokio::spawn(run(store, leadership, config, rx, (notify, queue)));
        Writer {
            tx,
            notified,
            queued,
        }
    }

    /// The id of the last notification committed, changing after each commit that added
    /// notifications (0 until the first such commit of this writer).
    pub fn notified(&self) -> watch::Receiver<i64> {
        self.notified.clone()
    }

    /// The id of the last risk assessment queued, changing after each commit that queued
    /// some: the assessor waits on it.
    pub fn queued(&self) -> watch::Receiver<i64> {
        self.queued.clone()
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

    /// Queues a request and returns where its answer will come, without waiting for it:
    /// requests queued one after another are applied in that order (a taken-over history
    /// must arrive in lodging order).
    pub async fn queue(
        &self,
        command: Command,
    ) -> Result<oneshot::Receiver<Result<Answer, String>>, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((command, reply))
            .await
            .map_err(|_| "the writer has stopped".to_string())?;
        Ok(answer)
    }

    /// Whether the writer has stopped for good.
    pub fn is_stopped(&self) -> bool {
        self.tx.is_closed()
    }

    /// Completes when the writer has stopped for good: on PostgreSQL, when it lost the leader
    /// lock to another server.
    pub async fn stopped(&self) {
        self.tx.closed().await;
    }
}

/// Identifiers the writer hands out.
#[derive(Default)]
struct Counters {
    loaded: bool,
    movement: i64,
    notification: i64,
    queue: i64,
}

async fn run(
    store: Store,
    leadership: Leadership,
    config: WriterConfig,
    mut rx: mpsc::Receiver<(Command, oneshot::Sender<Result<Answer, String>>)>,
    (notify, queue): (watch::Sender<i64>, watch::Sender<i64>),
) {
    let mut counters = Counters::default();
    // The writer keeps one connection for itself: taking one from the pool per batch would
    // cost a hand-off to the driver and a liveness check each time. On PostgreSQL it is the
    // session that holds the leader lock, so only the leader's writes reach the database.
    let (mut conn, _file_lock): (Option<AnyConnection>, _) = match leadership.lock {
        LeaderLock::Postgres(c) => (Some(c), None),
        LeaderLock::Sqlite(file) => (None, file),
    };
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            match connect_writer(&store).await {
                Ok(Some(c)) => conn = Some(c),
                Ok(None) => {
                    // Another server took the leader lock: this one no longer writes.
                    for (_, reply) in batch {
                        let _ = reply.send(Err(
                            "this server lost the leader lock to another; retry on the leader"
                                .to_string(),
                        ));
                    }
                    return;
                }
                Err(e) => {
                    let message = format!("the store could not commit: {e}");
                    for (_, reply) in batch {
                        let _ = reply.send(Err(message.clone()));
                    }
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let result = commit_batch(&store, c, &config, &mut counters, &batch).await;
        match result {
            Ok(answers) => {
                for (sender, value) in [(&notify, counters.notification), (&queue, counters.queue)]
                {
                    sender.send_if_modified(|last| {
                        let moved = *last != value;
                        *last = value;
                        moved
                    });
                }
                for ((_, reply), answer) in batch.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(e) => {
                counters = Counters::default();
                // The connection may be what failed: the next batch takes a fresh one (on
                // PostgreSQL, only if the leader lock can be taken again).
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
                let message = format!("the store could not commit: {e}");
                for (_, reply) in batch {
                    let _ = reply.send(Err(message.clone()));
                }
            }
        }
    }
}

/// A connection for the writer: on PostgreSQL a session that takes the leader lock again
/// (`None` when another server holds it), on SQLite one taken out of the pool.
async fn connect_writer(store: &Store) -> Result<Option<AnyConnection>, StoreError> {
    match store.backend {
        Backend::Postgres => store.try_lead_postgres().await,
        Backend::Sqlite => Ok(Some(store.pool.acquire().await?.detach())),
    }
}

async fn load_counters(tx: &mut Transaction<'_, Any>, c: &mut Counters) -> Result<(), StoreError> {
    let (m,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM movements")
        .fetch_one(&mut **tx)
        .await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM notifications")
        .fetch_one(&mut **tx)
        .await?;
    let (q,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM risk_queue")
        .fetch_one(&mut **tx)
        .await?;
    c.movement = m;
    c.notification = n;
    c.queue = q;
    c.loaded = true;
    Ok(())
}

/// A new MRN with a random unique part (about 62 bits), drawn again in the unlikely case that
/// it is taken (the batch's own lodgements are already in the transaction, so they count).
async fn next_mrn(
    tx: &mut Transaction<'_, Any>,
    year: i32,
    country: &str,
) -> Result<Mrn, StoreError> {
    loop {
        let unique = rand::rng().random_range(0..UNIQUE_PARTS);
        let mrn = Mrn::allocate(year, country, unique, 'J');
        let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM movements WHERE mrn = $1")
            .bind(mrn.as_str())
            .fetch_optional(&mut **tx)
            .await?;
        if taken.is_none() {
            return Ok(mrn);
        }
    }
}

async fn commit_batch(
    store: &Store,
    conn: &mut AnyConnection,
    config: &WriterConfig,
    counters: &mut Counters,
    batch: &[(Command, oneshot::Sender<Result<Answer, String>>)],
) -> Result<Vec<Answer>, StoreError> {
    let mut tx = conn.begin().await?;
    if !counters.loaded {
        load_counters(&mut tx, counters).await?;
    }
    let now = now_micros();
    let mut pending = Pending {
        backend: store.backend,
        movements: HashMap::new(),
        dirty: std::collections::HashSet::new(),
        events: Vec::new(),
        notifications: Vec::new(),
        queue: Vec::new(),
    };
    let mut mrns: Vec<&str> = batch
        .iter()
        .filter_map(|(c, _)| match &c.request {
            Request::Event { mrn, .. } => Some(mrn.as_str()),
            Request::Lodge { .. }
            | Request::TakeOver { .. }
            | Request::Checkpoint
            | Request::Assessed { .. }
            | Request::ControlResult { .. } => None,
        })
        .collect();
    mrns.sort_unstable();
    mrns.dedup();
    pending.prefetch(&mut tx, store.backend, &mrns).await?;
    let mut answers = Vec::with_capacity(batch.len());
    let mut audit_actions: Vec<(usize, String, String, Option<Record>)> = Vec::new();
    for (i, (cmd, _)) in batch.iter().enumerate() {
        if let Some(key) = &cmd.idempotency_key {
            let previous: Option<(String, String)> = sqlx::query_as(
                "SELECT response, request_sha256 FROM idempotency WHERE actor = $1 AND key = $2",
            )
            .bind(&cmd.actor)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((response, bound_to)) = previous {
                let answer = if bound_to != cmd.request_sha256 {
                    refused(
                        Refusal::Invalid,
                        format!(
                            "Idempotency-Key \"{key}\" was used for another request (another method, path or body); use a new key for a new request"
                        ),
                    )
                } else {
                    serde_json::from_str(&response).unwrap_or_else(|e| {
                        refused(
                            Refusal::Corrupt,
                            format!("the stored answer of Idempotency-Key \"{key}\" is not readable: {e}"),
                        )
                    })
                };
                answers.push(answer);
                continue;
            }
        }
        let answer = match &cmd.request {
            Request::Checkpoint => checkpoint(&mut tx, config, counters, &mut pending, now).await?,
            Request::Lodge {
                lrn,
                route,
                declaration,
                consignment,
            } => {
                lodge(
                    &mut tx,
                    counters,
                    &mut pending,
                    cmd,
                    (lrn, route, declaration.as_deref(), consignment.as_deref()),
                    now,
                )
                .await?
            }
            Request::Assessed { assessments } => {
                assessed(&mut tx, counters, &mut pending, assessments, now).await?
            }
            Request::ControlResult { mrn, result } => {
                control_result(&mut tx, counters, &mut pending, cmd, (mrn, result), config).await?
            }
            Request::TakeOver {
                lrn,
                route,
                accepted_at,
                consignment,
            } => match take_over_time(&mut tx, *accepted_at, now, config).await? {
                Ok(at) => {
                    lodge(
                        &mut tx,
                        counters,
                        &mut pending,
                        cmd,
                        (lrn, route, None, consignment.as_deref()),
                        at,
                    )
                    .await?
                }
                Err(refusal) => refusal,
            },
            Request::Event {
                mrn,
                event,
                stamp,
                message,
            } => {
                record(
                    &mut tx,
                    counters,
                    &mut pending,
                    cmd,
                    mrn,
                    (event, *stamp, message.as_ref()),
                    config,
                )
                .await?
            }
        };
        match (&answer, &cmd.request) {
            (Answer::Done { movement }, request) => {
                let action = match request {
                    Request::Lodge { .. } => "lodge".to_string(),
                    Request::TakeOver { .. } => "take_over".to_string(),
                    Request::Event { event, .. } => format!("event:{}", event.kind.name()),
                    _ => "write".to_string(),
                };
                let subject = movement
                    .mrn
                    .as_ref()
                    .map_or(movement.lrn.clone(), |m| m.to_string());
                // The entry vouches for the event row the request wrote (the last one pushed).
                let record = pending.events.last().map(EventRow::record);
                audit_actions.push((i, action, subject, record));
            }
            (Answer::Recorded { .. }, Request::Assessed { assessments }) => {
                let subject = assessments
                    .iter()
                    .map(|a| format!("{}@{}", a.mrn, a.country))
                    .collect::<Vec<_>>()
                    .join(" ");
                audit_actions.push((i, "risk_assessments".to_string(), subject, None));
            }
            (Answer::Recorded { .. }, Request::ControlResult { mrn, .. }) => {
                audit_actions.push((i, "control_result".to_string(), mrn.clone(), None));
            }
            _ => {}
        }
        // A request that failed on unreadable stored data is not remembered: once the data
        // is repaired, the retry is done.
        let corrupt = matches!(
            answer,
            Answer::Refused {
                refusal: Refusal::Corrupt,
                ..
            }
        );
        if let Some(key) = &cmd.idempotency_key
            && !corrupt
        {
            let response = serde_json::to_string(&answer).expect("answers serialise");
            sqlx::query("INSERT INTO idempotency (actor, key, response, request_sha256, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&cmd.actor)
                .bind(key)
                .bind(response)
                .bind(&cmd.request_sha256)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        answers.push(answer);
    }
    let entries: Vec<AuditEntry> = audit_actions
        .iter()
        .map(|(i, action, subject, record)| AuditEntry {
            actor: &batch[*i].0.actor,
            action,
            subject,
            body: &batch[*i].0.body,
            record: record.clone(),
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
struct Pending {
    /// The engine the batch writes to (placeholders of the statements built on the way).
    backend: Backend,
    /// MRN -> (id, movement state, events stored so far), loaded once per batch; or why the
    /// stored movement cannot be read (only the requests touching it fail).
    movements: HashMap<String, Result<(i64, Movement, i64), String>>,
    /// Movements changed by the batch, to write at its end.
    dirty: std::collections::HashSet<String>,
    events: Vec<EventRow>,
    /// (id, country, movement id, body, confidential to the country).
    notifications: Vec<(i64, String, i64, String, bool)>,
    /// Assessments to make: (id, movement id, country, office, trigger event, the instant of
    /// the event that asks for it, in microseconds).
    queue: Vec<(i64, i64, String, String, &'static str, i64)>,
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
                let movement = serde_json::from_str::<Movement>(&body)
                    .map(|m| (id, m, event_count))
                    .map_err(|e| unreadable(&mrn, &e));
                self.movements.insert(mrn, movement);
            }
        }
        Ok(())
    }

    /// Adds the batch's writes to `out`: changed movements (one upsert per chunk; SQLite and
    /// PostgreSQL share this syntax), then events and notifications in multi-row inserts.
    fn flush(self, out: &mut WriteSet, now: i64) {
        // Only movements that read are ever changed.
        let dirty: Vec<(&String, &(i64, Movement, i64))> = self
            .dirty
            .iter()
            .filter_map(|mrn| match self.movements.get(mrn) {
                Some(Ok(row)) => Some((mrn, row)),
                _ => None,
            })
            .collect();
        for chunk in dirty.chunks(ROWS_PER_INSERT) {
            let sql = out.multi_row(
                "INSERT INTO movements (id, lrn, mrn, departure_country, status, body, event_count, updated_at) VALUES ",
                8,
                chunk.len(),
            ) + " ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body, \
                 event_count = excluded.event_count, updated_at = excluded.updated_at";
            let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * 8);
            for (mrn, (id, movement, event_count)) in chunk {
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
            for row in chunk {
                params.extend([
                    Param::from(row.movement_id),
                    row.seq.into(),
                    row.kind.as_str().into(),
                    row.office.as_str().into(),
                    row.at_utc.as_str().into(),
                    row.zone.as_str().into(),
                    row.body.as_str().into(),
                    now.into(),
                ]);
            }
            out.push(sql, params);
        }
        for chunk in self.notifications.chunks(ROWS_PER_INSERT) {
            let sql = out.multi_row(
                "INSERT INTO notifications (id, country, movement_id, body, created_at, confidential) VALUES ",
                6,
                chunk.len(),
            );
            let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * 6);
            for (id, country, movement_id, body, confidential) in chunk {
                params.extend([
                    Param::from(*id),
                    country.as_str().into(),
                    (*movement_id).into(),
                    body.as_str().into(),
                    now.into(),
                    i64::from(*confidential).into(),
                ]);
            }
            out.push(sql, params);
        }
        for chunk in self.queue.chunks(ROWS_PER_INSERT) {
            let sql = out.multi_row(
                "INSERT INTO risk_queue (id, movement_id, country, office, trigger_event, as_of) VALUES ",
                6,
                chunk.len(),
            );
            let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * 6);
            for (id, movement_id, country, office, trigger, at) in chunk {
                params.extend([
                    Param::from(*id),
                    (*movement_id).into(),
                    country.as_str().into(),
                    office.as_str().into(),
                    (*trigger).into(),
                    (*at).into(),
                ]);
            }
            out.push(sql, params);
        }
    }

    /// Queues an assessment of the movement, as at `at` (microseconds), by the administration
    /// of each office given.
    fn queue_assessments<'a>(
        &mut self,
        counters: &mut Counters,
        movement_id: i64,
        offices: impl Iterator<Item = &'a OfficeRef>,
        (trigger, at): (&'static str, i64),
    ) {
        for office in offices {
            counters.queue += 1;
            self.queue.push((
                counters.queue,
                movement_id,
                office.country().to_string(),
                office.as_str().to_string(),
                trigger,
                at,
            ));
        }
    }
}

/// The first office of each country on the route: where each administration assesses.
fn first_office_per_country(route: &Route) -> Vec<&OfficeRef> {
    let mut out: Vec<&OfficeRef> = Vec::new();
    for o in route.offices() {
        if !out.iter().any(|x| x.country() == o.country()) {
            out.push(o);
        }
    }
    out
}

/// Signs the committed head of the audit log and queues the checkpoint in the feed of every
/// administration with an active key.
async fn checkpoint(
    tx: &mut Transaction<'_, Any>,
    config: &WriterConfig,
    counters: &mut Counters,
    pending: &mut Pending,
    now: i64,
) -> Result<Answer, StoreError> {
    let Some(key) = &config.audit_key else {
        return Ok(refused(
            Refusal::Invalid,
            "the server has no audit key to sign checkpoints with",
        ));
    };
    let Some(c) = audit::checkpoint(tx, key, now).await? else {
        return Ok(Answer::Checkpointed { checkpoint: None });
    };
    let countries: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT country FROM api_keys WHERE role = 'administration' AND revoked_at IS NULL AND country IS NOT NULL ORDER BY country",
    )
    .fetch_all(&mut **tx)
    .await?;
    let body = serde_json::json!({ "audit_checkpoint": c }).to_string();
    for (country,) in countries {
        counters.notification += 1;
        pending
            .notifications
            .push((counters.notification, country, 0, body.clone(), false));
    }
    Ok(Answer::Checkpointed {
        checkpoint: Some(c),
    })
}

/// Why a stored movement is refused: its row does not read.
fn unreadable(mrn: &str, e: &serde_json::Error) -> String {
    format!("the stored movement {mrn} is not readable ({e}); the administrator must repair it")
}

fn refused(refusal: Refusal, message: impl Into<String>) -> Answer {
    Answer::Refused {
        refusal,
        message: message.into(),
    }
}

/// The offices of a route, for the board's office filter: one statement.
async fn insert_offices(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    id: i64,
    route: &Route,
) -> Result<(), StoreError> {
    let offices = crate::board_offices(route);
    let rows: Vec<String> = (0..offices.len())
        .map(|i| {
            format!(
                "({}, {})",
                backend.placeholder(2 * i + 1),
                backend.placeholder(2 * i + 2)
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO movement_offices (movement_id, office) VALUES {}",
        rows.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for office in offices {
        q = q.bind(id).bind(office);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The acceptance instant of a taken-over movement (microseconds), or why it is refused: not
/// ahead of the service's clock, and not before a movement already lodged.
async fn take_over_time(
    tx: &mut Transaction<'_, Any>,
    accepted_at: DateTime<Utc>,
    now: i64,
    config: &WriterConfig,
) -> Result<Result<i64, Answer>, StoreError> {
    let at = accepted_at.timestamp_micros();
    let ahead = at - now;
    if ahead > config.max_clock_skew.num_microseconds().unwrap_or(i64::MAX) {
        return Ok(Err(refused(
            Refusal::Invalid,
            format!("accepted_at {accepted_at} is ahead of the service's clock"),
        )));
    }
    let (latest,): (Option<i64>,) = sqlx::query_as("SELECT MAX(lodged_at) FROM movements")
        .fetch_one(&mut **tx)
        .await?;
    if let Some(latest) = latest
        && at < latest
    {
        return Ok(Err(refused(
            Refusal::Invalid,
            format!(
                "accepted_at {accepted_at} is before a movement already lodged: taken-over movements come in lodging order"
            ),
        )));
    }
    Ok(Ok(at))
}

async fn lodge(
    tx: &mut Transaction<'_, Any>,
    counters: &mut Counters,
    pending: &mut Pending,
    cmd: &Command,
    (lrn, route, declaration, consignment): (&str, &Route, Option<&str>, Option<&Consignment>),
    now: i64,
) -> Result<Answer, StoreError> {
    if let Err(e) = cmd.principal.can_lodge(route) {
        return Ok(refused(Refusal::Forbidden, e.to_string()));
    }
    let zone = match lodging::check(lrn, route) {
        Ok(zone) => zone,
        Err(e) => return Ok(refused(Refusal::Invalid, e.to_string())),
    };
    if let Some(Err(e)) = consignment.map(Consignment::check) {
        return Ok(refused(Refusal::Invalid, e.to_string()));
    }
    let departure_country = route.departure.country();
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
    let mrn = next_mrn(tx, at.year(), departure_country).await?;
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
        "INSERT INTO movements (id, lrn, mrn, departure_country, status, body, event_count, updated_at, lodged_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)",
    )
    .bind(id)
    .bind(lrn)
    .bind(mrn.as_str())
    .bind(departure_country)
    .bind(status_name(&movement))
    .bind(state_body(&movement))
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_offices(tx, pending.backend, id, route).await?;
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
    if let Some(goods) = consignment {
        keep_consignment(tx, id, goods).await?;
        pending.queue_assessments(
            counters,
            id,
            first_office_per_country(route).into_iter(),
            ("lodgement", now),
        );
    }
    pending
        .events
        .push(EventRow::new(id, 0, &movement.events[0]));
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
    crate::read::status_name(m.status)
}

async fn record(
    tx: &mut Transaction<'_, Any>,
    counters: &mut Counters,
    pending: &mut Pending,
    cmd: &Command,
    mrn: &str,
    (event, stamp, message): (&Event, Stamp, Option<&KeptMessage>),
    config: &WriterConfig,
) -> Result<Answer, StoreError> {
    // A movement already touched in this batch is taken from the batch, not the database.
    let (id, mut movement, event_count) = match pending.movements.get(mrn) {
        Some(Ok(cached)) => cached.clone(),
        Some(Err(why)) => return Ok(refused(Refusal::Corrupt, why.clone())),
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
            match serde_json::from_str::<Movement>(&body) {
                Ok(movement) => (id, movement, event_count),
                Err(e) => return Ok(refused(Refusal::Corrupt, unreadable(mrn, &e))),
            }
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
    if let Err(e) = event.check_text() {
        return Ok(refused(Refusal::Invalid, e.to_string()));
    }
    let amended_goods = match message {
        Some(KeptMessage::Amendment { consignment, .. }) => {
            if !matches!(event.kind, EventKind::Amended { .. }) {
                return Ok(refused(
                    Refusal::Invalid,
                    "a declaration's goods are amended only by an amendment (type \"amended\")",
                ));
            }
            if let Some(Err(e)) = consignment.as_deref().map(Consignment::check) {
                return Ok(refused(Refusal::Invalid, e.to_string()));
            }
            consignment.as_deref()
        }
        _ => None,
    };
    // The service's clock when the event is applied. A server-stamped event takes it (never
    // earlier than the movement's last event, should the clock step back).
    let now = Utc::now();
    let mut event = event.clone();
    if stamp == Stamp::WhenApplied {
        event.at = movement.events.last().map_or(now, |last| now.max(last.at));
    }
    let event = &event;
    match movement.check_clock(event, now, config.max_clock_skew) {
        Ok(()) => {}
        Err(e @ (ClockError::InTheFuture { .. } | ClockError::LimitDateTooFar { .. })) => {
            return Ok(refused(Refusal::Invalid, e.to_string()));
        }
        Err(e @ ClockError::LimitDateNotPassed { .. }) => {
            return Ok(refused(Refusal::Conflict, e.to_string()));
        }
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
    if let EventKind::Amended { route: Some(route) } = &event.kind {
        sqlx::query("DELETE FROM movement_offices WHERE movement_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        insert_offices(tx, pending.backend, id, route).await?;
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
    match message {
        Some(KeptMessage::Amendment { message, .. }) => {
            if let Some(text) = message {
                keep_message(tx, "declarations", id, text).await?;
            }
            if let Some(goods) = amended_goods {
                keep_consignment(tx, id, goods).await?;
            }
        }
        Some(KeptMessage::InvalidationRequest(text)) => {
            keep_message(tx, "invalidation_requests", id, text).await?;
        }
        None => {}
    }
    // Each administration assesses again after an amendment; an administration whose office
    // receives the anticipated transit record assesses with its configuration of that day.
    let trigger = match event.kind {
        EventKind::Amended { .. } => Some("amendment"),
        EventKind::AnticipatedTransitRecord => Some("anticipated_transit_record"),
        _ => None,
    };
    if let Some(trigger) = trigger
        && (amended_goods.is_some() || has_consignment(tx, id).await?)
    {
        let offices = if trigger == "amendment" {
            first_office_per_country(&movement.route)
        } else {
            vec![&event.office]
        };
        pending.queue_assessments(
            counters,
            id,
            offices.into_iter(),
            (trigger, event.at.timestamp_micros()),
        );
    }
    pending.events.push(EventRow::new(id, event_count, event));
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
        pending.notifications.push((
            counters.notification,
            country.to_string(),
            id,
            text.clone(),
            false,
        ));
    }
    // Only the latest event travels in the answer; GET the movement for its history.
    let state = Movement {
        events: movement.events.last().cloned().into_iter().collect(),
        ..movement.clone()
    };
    pending.dirty.insert(mrn.to_string());
    pending
        .movements
        .insert(mrn.to_string(), Ok((id, movement, event_count + 1)));
    Ok(Answer::Done {
        movement: Box::new(state),
    })
}

/// Keeps the NCTS message an event came with (one per movement and table, the latest).
async fn keep_message(
    tx: &mut Transaction<'_, Any>,
    table: &str,
    movement_id: i64,
    text: &str,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {table} (movement_id, message) VALUES ($1, $2) \
         ON CONFLICT (movement_id) DO UPDATE SET message = excluded.message"
    ))
    .bind(movement_id)
    .bind(text)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps the goods of a movement (an amendment's replace the lodged ones).
async fn keep_consignment(
    tx: &mut Transaction<'_, Any>,
    movement_id: i64,
    goods: &Consignment,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(goods).expect("consignments serialise");
    sqlx::query(
        "INSERT INTO consignments (movement_id, body) VALUES ($1, $2) \
         ON CONFLICT (movement_id) DO UPDATE SET body = excluded.body",
    )
    .bind(movement_id)
    .bind(body)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn has_consignment(
    tx: &mut Transaction<'_, Any>,
    movement_id: i64,
) -> Result<bool, StoreError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT movement_id FROM consignments WHERE movement_id = $1")
            .bind(movement_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.is_some())
}

/// The next id of a table whose rows are few (assessments, control results).
async fn next_id(tx: &mut Transaction<'_, Any>, table: &str) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))
        .fetch_one(&mut **tx)
        .await?;
    Ok(id)
}

async fn assessed(
    tx: &mut Transaction<'_, Any>,
    counters: &mut Counters,
    pending: &mut Pending,
    assessments: &[AssessmentRecord],
    now: i64,
) -> Result<Answer, StoreError> {
    let mut kept = 0;
    for a in assessments {
        let taken = sqlx::query("DELETE FROM risk_queue WHERE id = $1")
            .bind(a.queue_id)
            .execute(&mut **tx)
            .await?;
        let Some(assessment) = &a.body else { continue };
        if taken.rows_affected() == 0 {
            continue;
        }
        let id = next_id(tx, "risk_assessments").await?;
        sqlx::query(
            "INSERT INTO risk_assessments (id, movement_id, country, lane, body, assessed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(a.movement_id)
        .bind(&a.country)
        .bind(&a.lane)
        .bind(assessment)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let body = format!(
            "{{\"mrn\":{},\"risk_assessment\":{}}}",
            serde_json::Value::String(a.mrn.clone()),
            assessment
        );
        counters.notification += 1;
        pending.notifications.push((
            counters.notification,
            a.country.clone(),
            a.movement_id,
            body,
            true,
        ));
        kept += 1;
    }
    Ok(Answer::Recorded { id: kept })
}

async fn control_result(
    tx: &mut Transaction<'_, Any>,
    counters: &mut Counters,
    pending: &mut Pending,
    cmd: &Command,
    (mrn, result): (&str, &ControlResult),
    config: &WriterConfig,
) -> Result<Answer, StoreError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, body FROM movements WHERE mrn = $1")
            .bind(mrn)
            .fetch_optional(&mut **tx)
            .await?;
    let not_found = || refused(Refusal::NotFound, format!("no movement with MRN {mrn}"));
    let Some((id, body)) = row else {
        return Ok(not_found());
    };
    let movement = match serde_json::from_str::<Movement>(&body) {
        Ok(m) => m,
        Err(e) => return Ok(refused(Refusal::Corrupt, unreadable(mrn, &e))),
    };
    if cmd.principal.can_see(&movement.route).is_err() {
        return Ok(not_found());
    }
    if let Err(e) = cmd.principal.can_record_at(&result.office) {
        return Ok(refused(Refusal::Forbidden, e.to_string()));
    }
    if !movement.route.offices().any(|o| *o == result.office) {
        return Ok(refused(
            Refusal::Invalid,
            format!("office {} is not on the route of {mrn}", result.office),
        ));
    }
    if let Err(e) = result.check() {
        return Ok(refused(Refusal::Invalid, e.to_string()));
    }
    if result.at > Utc::now() + config.max_clock_skew {
        return Ok(refused(
            Refusal::Invalid,
            format!("at {} is ahead of the service's clock", result.at),
        ));
    }
    // The selection it follows: the administration's latest assessment of the movement.
    let country = result.office.country();
    let latest: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, body FROM risk_assessments WHERE movement_id = $1 AND country = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .bind(country)
    .fetch_optional(&mut **tx)
    .await?;
    let mut result = result.clone();
    result.assessment = latest.as_ref().map(|(a, _)| *a);
    result.propensity = latest.and_then(|(_, body)| {
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()?
            .get("propensity")?
            .as_f64()
    });
    let body = serde_json::to_string(&result).expect("control results serialise");
    let result_id = next_id(tx, "control_results").await?;
    sqlx::query(
        "INSERT INTO control_results (id, movement_id, country, body, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(result_id)
    .bind(id)
    .bind(country)
    .bind(&body)
    .bind(&cmd.actor)
    .bind(now_micros())
    .execute(&mut **tx)
    .await?;
    counters.notification += 1;
    pending.notifications.push((
        counters.notification,
        country.to_string(),
        id,
        format!(
            "{{\"mrn\":{},\"control_result\":{body}}}",
            serde_json::Value::String(mrn.to_string())
        ),
        true,
    ));
    Ok(Answer::Recorded { id: result_id })
}
