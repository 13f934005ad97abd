//! An administration's risk configuration as versioned files: its risk profiles (`profiles.risk`),
//! the value bands they name (`*.csv`), its model and model card (`model.json`,
//! `model-card.json`). Every publication is a new version, audited with the person who made it;
//! the newest version of each file is the one in force. Files are confidential to their
//! administration: every read names the country.

use crate::audit::{self, AuditEntry, Record, sha256_hex};
use crate::{Store, StoreError, now_micros};

/// A published version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFile {
    pub country: String,
    pub name: String,
    pub version: i64,
    pub body: String,
    /// Who published it: a console account's id, or the name the CLI was given (`--by`).
    pub created_by: String,
    /// The same person as people read it: the account's login when a console account
    /// published it, else `created_by`.
    pub published_by: String,
    pub created_at: i64,
}

/// Publishes a new version of each file, all in one transaction (none is published if one
/// fails); returns each file's version number (1, 2, ...), in order. Each is audited apart.
pub async fn publish(
    store: &Store,
    actor: &str,
    country: &str,
    files: &[(&str, &str)],
) -> Result<Vec<i64>, StoreError> {
    let now = now_micros();
    let mut tx = store.pool.begin().await?;
    let mut versions = Vec::with_capacity(files.len());
    for (name, body) in files {
        let (latest,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM risk_files WHERE country = $1 AND name = $2")
                .bind(country)
                .bind(*name)
                .fetch_one(&mut *tx)
                .await?;
        let version = latest.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO risk_files (country, name, version, body, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(country)
        .bind(*name)
        .bind(version)
        .bind(*body)
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        versions.push(version);
    }
    let subjects: Vec<String> = files
        .iter()
        .zip(&versions)
        .map(|((name, _), version)| format!("{country}/{name}/{version}"))
        .collect();
    let entries: Vec<AuditEntry> = files
        .iter()
        .zip(&versions)
        .zip(&subjects)
        .map(|(((name, body), version), subject)| AuditEntry {
            actor,
            action: "risk_file_published",
            subject,
            body: body.as_bytes(),
            record: Some(file_record(country, name, *version, body)),
        })
        .collect();
    audit::append(&mut tx, store.backend, &entries, now).await?;
    tx.commit().await?;
    Ok(versions)
}

/// What the audit log vouches for of a published file: its content.
pub(crate) fn file_record(country: &str, name: &str, version: i64, body: &str) -> Record {
    Record {
        name: format!("risk_files/{country}/{name}/{version}"),
        sha256: sha256_hex(body.as_bytes()),
    }
}

type FileRow = (String, String, i64, String, String, String, i64);

fn file((country, name, version, body, created_by, published_by, created_at): FileRow) -> RiskFile {
    RiskFile {
        country,
        name,
        version,
        body,
        created_by,
        published_by,
        created_at,
    }
}

/// The version in force of a file of an administration.
pub async fn latest(
    store: &Store,
    country: &str,
    name: &str,
) -> Result<Option<RiskFile>, StoreError> {
    let row: Option<FileRow> = sqlx::query_as(
        "SELECT f.country, f.name, f.version, f.body, f.created_by, COALESCE(u.login, f.created_by), \
         f.created_at FROM risk_files f LEFT JOIN users u ON u.id = f.created_by \
         WHERE f.country = $1 AND f.name = $2 ORDER BY f.version DESC LIMIT 1",
    )
    .bind(country)
    .bind(name)
    .fetch_optional(&store.pool)
    .await?;
    Ok(row.map(file))
}

/// The version in force of every file of an administration, by name.
pub async fn in_force(store: &Store, country: &str) -> Result<Vec<RiskFile>, StoreError> {
    let rows: Vec<FileRow> = sqlx::query_as(
        "SELECT f.country, f.name, f.version, f.body, f.created_by, COALESCE(u.login, f.created_by), \
         f.created_at FROM risk_files f LEFT JOIN users u ON u.id = f.created_by \
         WHERE f.country = $1 AND f.version = (SELECT MAX(g.version) FROM risk_files g WHERE g.country = f.country AND g.name = f.name) \
         ORDER BY f.name",
    )
    .bind(country)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.into_iter().map(file).collect())
}

/// The version in force of every file of an administration, by name (no bodies: cheap enough
/// to ask often).
pub async fn versions(store: &Store, country: &str) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT name, MAX(version) FROM risk_files WHERE country = $1 GROUP BY name ORDER BY name",
    )
    .bind(country)
    .fetch_all(&store.pool)
    .await?)
}
