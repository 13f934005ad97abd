//! The append-only audit log, the rows it vouches for, and signed checkpoints of its head.
//!
//! Each entry's hash covers the previous entry's hash, so changing, removing or reordering any
//! entry breaks the chain from there on:
//!
//! `hash = SHA-256(prev_hash | seq | at | actor | action | subject | body_sha256)` (hex), with
//! `prev_hash` of the first entry 64 zeros; an entry that vouches for a row appends
//! `| record | record_sha256` (the row's name, e.g. `events/12/3`, and the SHA-256 of its
//! content).
//!
//! What the chain alone cannot show (someone who can write the database can delete the newest
//! entries, delete them all, or rewrite the whole chain with recomputed hashes) is shown by:
//! - **rows**: every `events` row and every `api_keys` row must match the entry that recorded
//!   it, and every entry that recorded a row must find it ([`verify`]);
//! - **checkpoints**: the server signs the head of the chain (seq, hash) with an Ed25519 key
//!   kept outside the database and sends the checkpoint to every administration in its feed;
//!   a checkpoint must match the chain, whether it is the copy kept in the database or the one
//!   an administration holds.

use std::collections::HashMap;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use smartborder_transit::Event;
use sqlx::{Any, Transaction};

use crate::write_set::{Param, WriteSet};
use crate::{Backend, Store, StoreError};

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    hex(&digest)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn entry_hash(
    prev: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    body: &str,
    (record, record_sha256): (&str, &str),
) -> String {
    let mut text = format!("{prev}|{seq}|{at}|{actor}|{action}|{subject}|{body}");
    if !record.is_empty() {
        text.push_str(&format!("|{record}|{record_sha256}"));
    }
    sha256_hex(text.as_bytes())
}

/// A row the audit log vouches for: its name and the SHA-256 of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub sha256: String,
}

/// An `events` row as written: every column as text, so that the writer and [`verify`] hash
/// exactly the same bytes.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub movement_id: i64,
    pub seq: i64,
    pub kind: String,
    pub office: String,
    pub at_utc: String,
    pub zone: String,
    pub body: String,
}

impl EventRow {
    pub(crate) fn new(movement_id: i64, seq: i64, e: &Event) -> EventRow {
        EventRow {
            movement_id,
            seq,
            kind: e.kind.name().to_string(),
            office: e.office.as_str().to_string(),
            at_utc: e.at.to_rfc3339(),
            zone: e.zone.name().to_string(),
            body: serde_json::to_string(e).expect("events serialise"),
        }
    }

    pub(crate) fn record(&self) -> Record {
        Record {
            name: format!("events/{}/{}", self.movement_id, self.seq),
            sha256: sha256_hex(
                format!(
                    "{}|{}|{}|{}|{}|{}|{}",
                    self.movement_id,
                    self.seq,
                    self.kind,
                    self.office,
                    self.at_utc,
                    self.zone,
                    self.body
                )
                .as_bytes(),
            ),
        }
    }
}

/// The record of an API key as created.
pub(crate) fn key_record(
    id: &str,
    key_hash: &str,
    role: &str,
    country: Option<&str>,
    name: &str,
    created_at: i64,
) -> Record {
    Record {
        name: format!("api_keys/{id}"),
        sha256: sha256_hex(
            format!(
                "{id}|{key_hash}|{role}|{}|{name}|{created_at}",
                country.unwrap_or("")
            )
            .as_bytes(),
        ),
    }
}

/// The record of a row's withdrawal (an API key revoked: `api_keys/ID/revoked`; an account
/// disabled: `users/ID/disabled`).
pub(crate) fn withdrawal_record(table: &str, id: &str, what: &str, at: i64) -> Record {
    Record {
        name: format!("{table}/{id}/{what}"),
        sha256: sha256_hex(format!("{id}|{at}").as_bytes()),
    }
}

/// One write to record.
pub struct AuditEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    /// The request as received (its SHA-256 is chained, not the text).
    pub body: &'a [u8],
    /// The row the write produced, when there is one to vouch for.
    pub record: Option<Record>,
}

/// Appends entries inside the caller's transaction, after the current head of the chain.
pub async fn append(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    entries: &[AuditEntry<'_>],
    at: i64,
) -> Result<(), StoreError> {
    let mut writes = WriteSet::new(backend);
    append_to(tx, &mut writes, entries, at).await?;
    writes.execute(tx).await
}

/// Like [`append`], but the inserts join `writes`, to be executed with the caller's other
/// statements (the head of the chain is read now).
pub(crate) async fn append_to(
    tx: &mut Transaction<'_, Any>,
    writes: &mut WriteSet,
    entries: &[AuditEntry<'_>],
    at: i64,
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let (mut seq, mut prev) = head.unwrap_or((0, GENESIS.to_string()));
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        seq += 1;
        let body = sha256_hex(e.body);
        let (record, record_sha256) = e
            .record
            .as_ref()
            .map_or(("", ""), |r| (r.name.as_str(), r.sha256.as_str()));
        let hash = entry_hash(
            &prev,
            seq,
            at,
            e.actor,
            e.action,
            e.subject,
            &body,
            (record, record_sha256),
        );
        rows.push((
            seq,
            e,
            body,
            (record, record_sha256),
            std::mem::replace(&mut prev, hash.clone()),
            hash,
        ));
    }
    // Multi-row inserts of at most 100 entries (10 parameters each).
    for chunk in rows.chunks(100) {
        let sql = writes.multi_row(
            "INSERT INTO audit_log (seq, at, actor, action, subject, body_sha256, record, record_sha256, prev_hash, hash) VALUES ",
            10,
            chunk.len(),
        );
        let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * 10);
        for (seq, e, body, (record, record_sha256), prev_hash, hash) in chunk {
            params.extend([
                Param::from(*seq),
                at.into(),
                e.actor.into(),
                e.action.into(),
                e.subject.into(),
                body.as_str().into(),
                (*record).into(),
                (*record_sha256).into(),
                prev_hash.as_str().into(),
                hash.as_str().into(),
            ]);
        }
        writes.push(sql, params);
    }
    Ok(())
}

/// A signed statement of the head of the chain: "the audit log had `seq` entries, the last
/// with this hash". Administrations keep the ones they receive; any of them later shows
/// whether entries up to it were removed or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// When it was signed (microseconds since the Unix epoch).
    pub at: i64,
    /// The Ed25519 public key (hex) that signed it.
    pub public_key: String,
    /// Ed25519 signature (hex) of [`Checkpoint::signed_text`].
    pub signature: String,
}

impl Checkpoint {
    /// The bytes signed: `smartborder-audit-checkpoint|seq|hash|at`.
    pub fn signed_text(seq: i64, hash: &str, at: i64) -> String {
        format!("smartborder-audit-checkpoint|{seq}|{hash}|{at}")
    }

    pub fn sign(key: &SigningKey, seq: i64, hash: &str, at: i64) -> Checkpoint {
        let signature = key.sign(Checkpoint::signed_text(seq, hash, at).as_bytes());
        Checkpoint {
            seq,
            hash: hash.to_string(),
            at,
            public_key: hex(key.verifying_key().as_bytes()),
            signature: hex(&signature.to_bytes()),
        }
    }

    /// Whether the signature is good for `key`.
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        let Some(bytes) = unhex(&self.signature) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        key.verify(
            Checkpoint::signed_text(self.seq, &self.hash, self.at).as_bytes(),
            &Signature::from_bytes(&bytes),
        )
        .is_ok()
    }
}

/// An Ed25519 key from its file: 64 hex characters (the 32-byte secret), as written by
/// [`new_signing_key`].
pub fn read_signing_key(text: &str) -> Result<SigningKey, String> {
    let bytes = unhex(text.trim()).ok_or("expected 64 hexadecimal characters")?;
    let bytes = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "expected 32 bytes (64 hexadecimal characters), found {}",
            bytes.len()
        )
    })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A new random signing key and the text of its file.
pub fn new_signing_key() -> (SigningKey, String) {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    (SigningKey::from_bytes(&bytes), hex(&bytes))
}

/// The public key of a signing key, in hex (what administrations are given to check
/// checkpoints).
pub fn public_key_hex(key: &SigningKey) -> String {
    hex(key.verifying_key().as_bytes())
}

/// A public key from hex.
pub fn read_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = unhex(text.trim()).ok_or("expected 64 hexadecimal characters")?;
    let bytes = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| "expected 32 bytes (64 hexadecimal characters)".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not an Ed25519 public key: {e}"))
}

/// The head of the chain, signed, in the caller's transaction; stored in `audit_checkpoints`.
/// `None` when the chain is empty or its head is already checkpointed.
pub(crate) async fn checkpoint(
    tx: &mut Transaction<'_, Any>,
    key: &SigningKey,
    at: i64,
) -> Result<Option<Checkpoint>, StoreError> {
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let Some((seq, hash)) = head else {
        return Ok(None);
    };
    let last: Option<(i64,)> =
        sqlx::query_as("SELECT seq FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    if last.is_some_and(|(s,)| s >= seq) {
        return Ok(None);
    }
    let c = Checkpoint::sign(key, seq, &hash, at);
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, at, public_key, signature) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(c.seq)
    .bind(&c.hash)
    .bind(c.at)
    .bind(&c.public_key)
    .bind(&c.signature)
    .execute(&mut **tx)
    .await?;
    Ok(Some(c))
}

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The audit entry concerned, when there is one.
    pub seq: Option<i64>,
    pub what: String,
}

/// What `verify` checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub entries: i64,
    pub events_checked: i64,
    pub keys_checked: i64,
    pub users_checked: i64,
    pub checkpoints_checked: usize,
    /// Rows written before the log vouched for rows (migration 5), which cannot be checked.
    pub rows_before_anchoring: i64,
    pub problems: Vec<Problem>,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, seq: Option<i64>, what: impl Into<String>) {
        self.problems.push(Problem {
            seq,
            what: what.into(),
        });
    }
}

/// seq, at, actor, action, subject, body_sha256, record, record_sha256, prev_hash, hash.
type AuditRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// Entries that vouch for rows, by the row's name: (entry, SHA-256 of the row).
type Recorded<'a> = HashMap<&'a str, (i64, &'a str)>;

/// A created row (a key, an account) against the entry that recorded it; true when it matches.
fn check_created(
    v: &mut Verification,
    recorded: &mut Recorded<'_>,
    record: &Record,
    noun: &str,
) -> bool {
    match recorded.remove(record.name.as_str()) {
        Some((_, sha)) if sha == record.sha256 => true,
        Some((entry, _)) => {
            v.problem(
                Some(entry),
                format!("{}: the {noun} differs from what was recorded", record.name),
            );
            false
        }
        None => {
            v.problem(
                None,
                format!(
                    "{}: the {noun} has no audit entry (added outside the service)",
                    record.name
                ),
            );
            false
        }
    }
}

/// A row's withdrawal (`record`, when the row says it was withdrawn) against the entry that
/// recorded it: a withdrawal without an entry, or an entry whose withdrawal the row no longer
/// shows (undone), is a problem.
fn check_withdrawn(
    v: &mut Verification,
    recorded: &mut Recorded<'_>,
    (table, id, done, withdrawal): (&str, &str, &str, &str),
    at: Option<i64>,
) {
    let name = format!("{table}/{id}/{done}");
    let record = at.map(|at| withdrawal_record(table, id, done, at));
    match (record, recorded.remove(name.as_str())) {
        (Some(record), Some((entry, sha))) => {
            if record.sha256 != sha {
                v.problem(
                    Some(entry),
                    format!("{name}: the time it was {done} differs from what was recorded"),
                );
            }
        }
        (None, Some((entry, _))) => v.problem(
            Some(entry),
            format!("{name}: it was {done}, but the row says it is active ({withdrawal} undone)"),
        ),
        (Some(_), None) => v.problem(None, format!("{name}: {done} without an audit entry")),
        (None, None) => {}
    }
}

/// movement_id, seq, type, office, at_utc, zone, body, recorded_at.
type StoredEvent = (i64, i64, String, String, String, String, String, i64);

/// A row of a table of identities, `api_keys` or `users`: id, key hash or login, role,
/// country, name or offices, created at, revoked or disabled at.
pub(crate) type IdentityRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
);

/// Checks the audit log and what it vouches for:
/// 1. the chain: every hash recomputed from the first entry on;
/// 2. checkpoints: those stored in the database and those given (`held`, e.g. the latest one
///    an administration received in its feed) must be signed by `public_key` (when given) and
///    match the chain at their seq, and the chain must reach them;
/// 3. rows: every `events`, `api_keys` and `users` row written since rows were anchored must
///    match the entry that recorded it, and every recorded row must exist (a revocation or a
///    disabling must not be undone).
pub async fn verify(
    store: &Store,
    public_key: Option<&VerifyingKey>,
    held: &[Checkpoint],
) -> Result<Verification, StoreError> {
    let mut v = Verification::default();
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT seq, at, actor, action, subject, body_sha256, record, record_sha256, prev_hash, hash FROM audit_log ORDER BY seq",
    )
    .fetch_all(&store.pool)
    .await?;
    v.entries = rows.len() as i64;
    // 1. The chain.
    let mut prev = GENESIS.to_string();
    let mut hashes: Vec<String> = Vec::with_capacity(rows.len());
    for (expected_seq, row) in (1..).zip(&rows) {
        let (seq, at, actor, action, subject, body, record, record_sha256, stored_prev, hash) = row;
        if *seq != expected_seq {
            v.problem(
                Some(*seq),
                format!("expected entry {expected_seq}, found {seq} (an entry is missing)"),
            );
            break;
        }
        if *stored_prev != prev {
            v.problem(
                Some(*seq),
                "prev_hash does not match the hash of the entry before",
            );
            break;
        }
        let computed = entry_hash(
            &prev,
            *seq,
            *at,
            actor,
            action,
            subject,
            body,
            (record, record_sha256),
        );
        if computed != *hash {
            v.problem(Some(*seq), "hash does not match the entry's content");
            break;
        }
        hashes.push(computed.clone());
        prev = computed;
    }
    // 2. Checkpoints.
    let stored: Vec<(i64, String, i64, String, String)> = sqlx::query_as(
        "SELECT seq, hash, at, public_key, signature FROM audit_checkpoints ORDER BY seq",
    )
    .fetch_all(&store.pool)
    .await?;
    let stored = stored
        .into_iter()
        .map(|(seq, hash, at, public_key, signature)| Checkpoint {
            seq,
            hash,
            at,
            public_key,
            signature,
        });
    for (origin, c) in stored
        .map(|c| ("stored", c))
        .chain(held.iter().cloned().map(|c| ("held", c)))
    {
        v.checkpoints_checked += 1;
        let label = format!("{origin} checkpoint of entry {}", c.seq);
        if let Some(key) = public_key
            && !c.signed_by(key)
        {
            v.problem(
                Some(c.seq),
                format!("{label}: the signature is not the audit key's (forged or altered)"),
            );
            continue;
        }
        match usize::try_from(c.seq - 1).ok().and_then(|i| hashes.get(i)) {
            Some(h) if *h == c.hash => {}
            Some(_) => v.problem(
                Some(c.seq),
                format!("{label}: the chain has another hash there (the log was rewritten)"),
            ),
            None if c.seq as usize > rows.len() => v.problem(
                Some(c.seq),
                format!(
                    "{label}: the log has only {} entries (entries were deleted)",
                    rows.len()
                ),
            ),
            None => v.problem(
                Some(c.seq),
                format!("{label}: the chain is broken before it"),
            ),
        }
    }
    // 3. Rows.
    let anchored_since: Option<(i64,)> =
        sqlx::query_as("SELECT applied_at FROM schema_migrations WHERE version = 5")
            .fetch_optional(&store.pool)
            .await?;
    let since = anchored_since.map_or(0, |(t,)| t);
    let mut recorded: Recorded<'_> = HashMap::new();
    for (seq, _, _, _, _, _, record, record_sha256, _, _) in &rows {
        if !record.is_empty() {
            recorded.insert(record.as_str(), (*seq, record_sha256.as_str()));
        }
    }
    let events: Vec<StoredEvent> = sqlx::query_as(
        "SELECT movement_id, seq, type, office, at_utc, zone, body, recorded_at FROM events ORDER BY movement_id, seq",
    )
    .fetch_all(&store.pool)
    .await?;
    for (movement_id, seq, kind, office, at_utc, zone, body, recorded_at) in events {
        let row = EventRow {
            movement_id,
            seq,
            kind,
            office,
            at_utc,
            zone,
            body,
        };
        let record = row.record();
        match recorded.remove(record.name.as_str()) {
            Some((_, sha)) if sha == record.sha256 => v.events_checked += 1,
            Some((entry, _)) => v.problem(
                Some(entry),
                format!("{}: the row differs from what was recorded", record.name),
            ),
            None if recorded_at < since => v.rows_before_anchoring += 1,
            None => v.problem(
                None,
                format!(
                    "{}: the row has no audit entry (written outside the service)",
                    record.name
                ),
            ),
        }
    }
    let keys: Vec<IdentityRow> =
        sqlx::query_as(
            "SELECT id, key_hash, role, country, name, created_at, revoked_at FROM api_keys ORDER BY id",
        )
        .fetch_all(&store.pool)
        .await?;
    for (id, key_hash, role, country, name, created_at, revoked_at) in keys {
        let record = key_record(&id, &key_hash, &role, country.as_deref(), &name, created_at);
        if created_at < since && !recorded.contains_key(record.name.as_str()) {
            v.rows_before_anchoring += 1;
            continue;
        }
        if check_created(&mut v, &mut recorded, &record, "key") {
            v.keys_checked += 1;
        }
        check_withdrawn(
            &mut v,
            &mut recorded,
            ("api_keys", &id, "revoked", "revocation"),
            revoked_at,
        );
    }
    let users: Vec<IdentityRow> = sqlx::query_as(
        "SELECT id, login, role, country, offices, created_at, disabled_at FROM users ORDER BY id",
    )
    .fetch_all(&store.pool)
    .await?;
    for (id, login, role, country, offices, created_at, disabled_at) in users {
        let record =
            crate::users::user_record(&id, &login, &role, country.as_deref(), &offices, created_at);
        if check_created(&mut v, &mut recorded, &record, "account") {
            v.users_checked += 1;
        }
        check_withdrawn(
            &mut v,
            &mut recorded,
            ("users", &id, "disabled", "disabling"),
            disabled_at,
        );
    }
    let files: Vec<(String, String, i64, String)> = sqlx::query_as(
        "SELECT country, name, version, body FROM risk_files ORDER BY country, name, version",
    )
    .fetch_all(&store.pool)
    .await?;
    for (country, name, version, body) in files {
        let record = crate::risk_files::file_record(&country, &name, version, &body);
        check_created(&mut v, &mut recorded, &record, "risk file");
    }
    let mut missing: Vec<(&str, i64)> = recorded
        .into_iter()
        .map(|(name, (seq, _))| (name, seq))
        .collect();
    missing.sort_by_key(|(_, seq)| *seq);
    for (name, seq) in missing {
        v.problem(
            Some(seq),
            format!("{name}: recorded in the audit log but missing from the database (deleted)"),
        );
    }
    Ok(v)
}
