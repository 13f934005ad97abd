//! Time Release Studies run from the console: who ran which export, when, how it ended, and
//! the report (its JSON, as the TRS engine wrote it). A study belongs to an administration (or
//! to the corridor coordinator) and is listed to that owner only.

use serde::Serialize;

use crate::audit::{self, AuditEntry};
use crate::{Store, StoreError, keys, now_micros};

/// Where a study stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StudyStatus {
    Running,
    Done,
    Failed,
}

impl StudyStatus {
    fn name(self) -> &'static str {
        match self {
            StudyStatus::Running => "running",
            StudyStatus::Done => "done",
            StudyStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<StudyStatus> {
        [StudyStatus::Running, StudyStatus::Done, StudyStatus::Failed]
            .into_iter()
            .find(|x| x.name() == s)
    }
}

/// A study as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StudyInfo {
    pub id: String,
    /// The administration (ISO 3166 alpha-2), or `None` for the corridor coordinator.
    pub owner: Option<String>,
    pub name: String,
    /// The user who ran it.
    pub created_by: String,
    pub created_at: i64,
    pub status: StudyStatus,
    /// Why it failed, or what it read.
    pub message: String,
    pub consignments: i64,
}

type StudyRow = (
    String,
    Option<String>,
    String,
    String,
    i64,
    String,
    String,
    i64,
);

fn info(row: StudyRow) -> Result<StudyInfo, StoreError> {
    let (id, owner, name, created_by, created_at, status, message, consignments) = row;
    let status = StudyStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("study {id} has status {status}")))?;
    Ok(StudyInfo {
        id,
        owner,
        name,
        created_by,
        created_at,
        status,
        message,
        consignments,
    })
}

const COLUMNS: &str = "id, owner, name, created_by, created_at, status, message, consignments";

/// Records a study that starts running; audited with the user who started it.
pub async fn start(
    store: &Store,
    actor: &str,
    owner: Option<&str>,
    name: &str,
) -> Result<String, StoreError> {
    let id = format!("study_{}", keys::random_hex(6));
    let now = now_micros();
    let mut tx = store.pool.begin().await?;
    sqlx::query(
        "INSERT INTO trs_studies (id, owner, name, created_by, created_at, status, message, consignments, report) VALUES ($1, $2, $3, $4, $5, 'running', '', 0, '')",
    )
    .bind(&id)
    .bind(owner)
    .bind(name)
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        store.backend,
        &[AuditEntry {
            actor,
            action: "trs_study_started",
            subject: &id,
            body: name.as_bytes(),
            record: None,
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Records how a study ended: its report (JSON) and consignments read, or why it failed.
pub async fn finish(
    store: &Store,
    id: &str,
    outcome: Result<(String, i64), String>,
) -> Result<(), StoreError> {
    let (status, message, report, consignments) = match outcome {
        Ok((report, consignments)) => (StudyStatus::Done, String::new(), report, consignments),
        Err(message) => (StudyStatus::Failed, message, String::new(), 0),
    };
    sqlx::query(
        "UPDATE trs_studies SET status = $1, message = $2, report = $3, consignments = $4 WHERE id = $5",
    )
    .bind(status.name())
    .bind(message)
    .bind(report)
    .bind(consignments)
    .bind(id)
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// Studies still running when the service stopped will not finish: they are marked failed.
pub async fn interrupt_unfinished(store: &Store) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE trs_studies SET status = 'failed', message = 'the service stopped while the study ran; run it again' WHERE status = 'running'",
    )
    .execute(&store.pool)
    .await?;
    Ok(done.rows_affected())
}

/// The owner's studies, newest first.
pub async fn list(store: &Store, owner: Option<&str>) -> Result<Vec<StudyInfo>, StoreError> {
    let rows: Vec<StudyRow> = match owner {
        Some(o) => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM trs_studies WHERE owner = $1 ORDER BY created_at DESC"
            ))
            .bind(o)
            .fetch_all(&store.pool)
            .await?
        }
        None => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM trs_studies WHERE owner IS NULL ORDER BY created_at DESC"
            ))
            .fetch_all(&store.pool)
            .await?
        }
    };
    rows.into_iter().map(info).collect()
}

/// A study of this owner with its report (empty until done).
pub async fn get(
    store: &Store,
    owner: Option<&str>,
    id: &str,
) -> Result<Option<(StudyInfo, String)>, StoreError> {
    let row: Option<StudyRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM trs_studies WHERE id = $1"))
            .bind(id)
            .fetch_optional(&store.pool)
            .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let study = info(row)?;
    if study.owner.as_deref() != owner {
        return Ok(None);
    }
    let (report,): (String,) = sqlx::query_as("SELECT report FROM trs_studies WHERE id = $1")
        .bind(id)
        .fetch_one(&store.pool)
        .await?;
    Ok(Some((study, report)))
}
