//! The append-only audit log. Each entry's hash covers the previous entry's hash, so changing,
//! removing or reordering any entry breaks the chain from there on:
//!
//! `hash = SHA-256(prev_hash | seq | at | actor | action | subject | body_sha256)` (hex), with
//! `prev_hash` of the first entry 64 zeros.

use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use crate::write_set::{Param, WriteSet};
use crate::{Backend, Store, StoreError};

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn entry_hash(
    prev: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    body: &str,
) -> String {
    sha256_hex(format!("{prev}|{seq}|{at}|{actor}|{action}|{subject}|{body}").as_bytes())
}

/// One write to record.
pub struct AuditEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    /// The request as received (its SHA-256 is chained, not the text).
    pub body: &'a [u8],
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
        let hash = entry_hash(&prev, seq, at, e.actor, e.action, e.subject, &body);
        rows.push((
            seq,
            e,
            body,
            std::mem::replace(&mut prev, hash.clone()),
            hash,
        ));
    }
    // Multi-row inserts of at most 100 entries (8 parameters each).
    for chunk in rows.chunks(100) {
        let sql = writes.multi_row(
            "INSERT INTO audit_log (seq, at, actor, action, subject, body_sha256, prev_hash, hash) VALUES ",
            8,
            chunk.len(),
        );
        let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * 8);
        for (seq, e, body, prev_hash, hash) in chunk {
            params.extend([
                Param::from(*seq),
                at.into(),
                e.actor.into(),
                e.action.into(),
                e.subject.into(),
                body.as_str().into(),
                prev_hash.as_str().into(),
                hash.as_str().into(),
            ]);
        }
        writes.push(sql, params);
    }
    Ok(())
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact { entries: i64 },
    Broken { seq: i64, reason: String },
}

/// seq, at, actor, action, subject, body_sha256, prev_hash, hash.
type AuditRow = (i64, i64, String, String, String, String, String, String);

/// Recomputes every hash from the first entry on.
pub async fn verify(store: &Store) -> Result<Verification, StoreError> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT seq, at, actor, action, subject, body_sha256, prev_hash, hash FROM audit_log ORDER BY seq",
    )
    .fetch_all(&store.pool)
    .await?;
    let mut prev = GENESIS.to_string();
    for (expected_seq, (seq, at, actor, action, subject, body, stored_prev, hash)) in
        (1..).zip(&rows)
    {
        if *seq != expected_seq {
            return Ok(Verification::Broken {
                seq: *seq,
                reason: format!("expected entry {expected_seq}, found {seq} (an entry is missing)"),
            });
        }
        if *stored_prev != prev {
            return Ok(Verification::Broken {
                seq: *seq,
                reason: "prev_hash does not match the hash of the entry before".into(),
            });
        }
        let computed = entry_hash(&prev, *seq, *at, actor, action, subject, body);
        if computed != *hash {
            return Ok(Verification::Broken {
                seq: *seq,
                reason: "hash does not match the entry's content".into(),
            });
        }
        prev = computed;
    }
    Ok(Verification::Intact {
        entries: rows.len() as i64,
    })
}
