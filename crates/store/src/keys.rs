//! API keys of administrations. A key is shown once, when created; only its SHA-256 is stored.

use rand::RngCore;
use smartborder_transit::Principal;

use crate::audit::{self, AuditEntry, sha256_hex};
use crate::{Store, StoreError, now_micros};

/// A key as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    pub principal: Principal,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// `bytes` random bytes from the OS's generator, in hex (ids and secrets).
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn role_of(p: &Principal) -> (&'static str, Option<&str>) {
    match p {
        Principal::Administration { country } => ("administration", Some(country.as_str())),
        Principal::Coordinator => ("coordinator", None),
    }
}

fn principal(role: &str, country: Option<String>) -> Result<Principal, StoreError> {
    match (role, country) {
        ("administration", Some(country)) => Ok(Principal::Administration { country }),
        ("coordinator", _) => Ok(Principal::Coordinator),
        (r, _) => Err(StoreError::Corrupt(format!("api key with role {r}"))),
    }
}

/// Creates a key; returns its id and the secret token (to hand to the administration).
pub async fn create(
    store: &Store,
    name: &str,
    who: &Principal,
) -> Result<(String, String), StoreError> {
    let id = format!("key_{}", random_hex(6));
    let token = format!("sbk_{}", random_hex(32));
    let (role, country) = role_of(who);
    let now = now_micros();
    let key_hash = sha256_hex(token.as_bytes());
    let mut tx = store.pool.begin().await?;
    sqlx::query(
        "INSERT INTO api_keys (id, key_hash, role, country, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&key_hash)
    .bind(role)
    .bind(country)
    .bind(name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let body = format!("{role} {} {name}", country.unwrap_or("-"));
    audit::append(
        &mut tx,
        store.backend,
        &[AuditEntry {
            actor: "cli",
            action: "key_created",
            subject: &id,
            body: body.as_bytes(),
            record: Some(audit::key_record(&id, &key_hash, role, country, name, now)),
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((id, token))
}

/// Revokes a key; false when no active key has this id.
pub async fn revoke(store: &Store, id: &str) -> Result<bool, StoreError> {
    let now = now_micros();
    let mut tx = store.pool.begin().await?;
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
    if done {
        audit::append(
            &mut tx,
            store.backend,
            &[AuditEntry {
                actor: "cli",
                action: "key_revoked",
                subject: id,
                body: b"",
                record: Some(audit::withdrawal_record("api_keys", id, "revoked", now)),
            }],
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// The key id and principal of a bearer token, if the key exists and is not revoked.
pub async fn authenticate(
    store: &Store,
    token: &str,
) -> Result<Option<(String, Principal)>, StoreError> {
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, role, country FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(sha256_hex(token.as_bytes()))
    .fetch_optional(&store.pool)
    .await?;
    row.map(|(id, role, country)| Ok((id, principal(&role, country)?)))
        .transpose()
}

/// id, name, role, country, created_at, revoked_at.
type KeyRow = (String, String, String, Option<String>, i64, Option<i64>);

pub async fn list(store: &Store) -> Result<Vec<KeyInfo>, StoreError> {
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT id, name, role, country, created_at, revoked_at FROM api_keys ORDER BY created_at",
    )
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter()
        .map(|(id, name, role, country, created_at, revoked_at)| {
            Ok(KeyInfo {
                id,
                name,
                principal: principal(&role, country)?,
                created_at,
                revoked_at,
            })
        })
        .collect()
}
