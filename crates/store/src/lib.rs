//! Persistence of the transit single window: SQLite by default (one file, WAL, durable commits)
//! and PostgreSQL for production, through one code path (sqlx's `Any` driver) and the same
//! migrations.
//!
//! Writes go through one [`writer::Writer`] task that commits many requests in one durable
//! transaction (group commit) and answers each only after the commit. Reads go straight to the
//! pool. Every write appends to a hash-chained audit log ([`audit`]).

pub mod audit;
pub mod keys;
mod migrations;
pub mod read;
pub mod risk_files;
pub mod route_risk;
pub mod sessions;
pub mod studies;
pub mod training;
pub mod users;
pub mod webhooks;
mod write_set;
pub mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database URL \"{0}\": expected sqlite://FILE or postgres://USER@HOST/DB")]
    Url(String),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// The database cannot be used at all: not a database, damaged, another application's,
    /// or already served by another process.
    #[error("{database}: {problem}")]
    Unusable { database: String, problem: String },
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The `n`th (1-based) bind parameter. SQLite gets anonymous `?`: with numbered `$n` its
    /// driver looks every parameter up by name, which costs quadratic time on multi-row
    /// statements of hundreds of parameters.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${n}"),
        }
    }
}

/// An open database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    pub backend: Backend,
    /// The database, for messages (no password).
    name: String,
    options: AnyConnectOptions,
    /// The SQLite file, `None` on PostgreSQL and for in-memory databases.
    file: Option<std::path::PathBuf>,
}

/// The advisory lock a PostgreSQL server holds while it writes ("SBWR").
const LEADER_LOCK: i64 = 0x5342_5752;

/// The right to write to a database, held by one server at a time (see [`Store::lead`]).
pub struct Leadership {
    pub(crate) lock: LeaderLock,
}

pub(crate) enum LeaderLock {
    /// An exclusive `flock` on the SQLite file (SQLite's own locks are `fcntl` locks, which
    /// this does not touch), released when the process ends however it ends.
    Sqlite(Option<std::fs::File>),
    /// The session holding the advisory lock: the writer writes through it, so a server that
    /// lost its session (and with it the lock) cannot write any more.
    Postgres(AnyConnection),
}

/// The tables of this application: a database holding other tables but not
/// `schema_migrations` belongs to another application and is not touched.
const OWN_TABLES: &[&str] = &[
    "schema_migrations",
    "movements",
    "movement_countries",
    "events",
    "notifications",
    "api_keys",
    "audit_log",
    "idempotency",
    "webhooks",
    "declarations",
    "audit_checkpoints",
    "invalidation_requests",
    "users",
    "movement_offices",
];

/// The database a URL names, for messages: the file of a SQLite URL, the URL without its
/// password otherwise.
pub fn database_name(url: &str) -> String {
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        return rest.split('?').next().unwrap_or(rest).to_string();
    }
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
                }
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Now as microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Migration 8's data: the offices of every stored movement and the instant it was lodged (its
/// acceptance, the first event).
async fn backfill_board(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, body FROM movements ORDER BY id")
        .fetch_all(&mut **tx)
        .await?;
    for (id, body) in rows {
        let movement: smartborder_transit::Movement = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("movement {id}: {e}")))?;
        for office in board_offices(&movement.route) {
            sqlx::query("INSERT INTO movement_offices (movement_id, office) VALUES ($1, $2)")
                .bind(id)
                .bind(office)
                .execute(&mut **tx)
                .await?;
        }
        let first: Option<(String,)> =
            sqlx::query_as("SELECT at_utc FROM events WHERE movement_id = $1 AND seq = 0")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(at) = first.and_then(|(t,)| chrono::DateTime::parse_from_rfc3339(&t).ok()) {
            sqlx::query("UPDATE movements SET lodged_at = $1 WHERE id = $2")
                .bind(at.timestamp_micros())
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// The offices of a route, each once, as the board filters them.
pub(crate) fn board_offices(route: &smartborder_transit::Route) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for o in route.offices() {
        if !out.contains(&o.as_str()) {
            out.push(o.as_str());
        }
    }
    out
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates a database.
    /// `sqlite://path/to/file.db` or `postgres://user:password@host/db`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|_| StoreError::Url(url.clone()))?;
        // One connection first, so that a file that is not a database, a damaged one or an
        // unreachable server is named at once (the pool would retry until its timeout).
        let unusable = |problem: String| StoreError::Unusable {
            database: database_name(&url),
            problem,
        };
        {
            let mut probe = AnyConnection::connect_with(&options)
                .await
                .map_err(|e| unusable(format!("cannot connect: {e}")))?;
            let tables: Vec<(String,)> = sqlx::query_as(match backend {
                Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
                Backend::Postgres => {
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
                }
            })
            .fetch_all(&mut probe)
            .await
            .map_err(|e| unusable(format!("not a readable database: {e}")))?;
            let names: Vec<&str> = tables.iter().map(|(t,)| t.as_str()).collect();
            if !names.is_empty() && !names.contains(&"schema_migrations") {
                let foreign: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|t| !OWN_TABLES.contains(t))
                    .take(5)
                    .collect();
                return Err(unusable(format!(
                    "holds tables of another application ({}); give SmartBorder a database of its own",
                    foreign.join(", ")
                )));
            }
            let _ = probe.close().await;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(10))
            // A SQLite connection is a file handle in this process and cannot go stale; checking
            // it on every acquire would cost a round trip to the driver's thread.
            .test_before_acquire(backend != Backend::Sqlite)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; synchronous=FULL makes every
                        // commit durable (fsync) before it is acknowledged.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        let file = match backend {
            Backend::Sqlite => {
                let path = database_name(&url);
                (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.into())
            }
            Backend::Postgres => None,
        };
        let store = Store {
            pool,
            backend,
            name: database_name(&url),
            options,
            file,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.pool
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .await?;
        let (newest,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .fetch_one(&self.pool)
                .await?;
        let known = migrations::MIGRATIONS.last().map_or(0, |(v, _, _)| *v);
        if newest > known {
            return Err(StoreError::Unusable {
                database: self.name.clone(),
                problem: format!(
                    "its schema is at migration {newest}, written by a newer SmartBorder (this one knows up to {known})"
                ),
            });
        }
        for (version, name, statements) in migrations::MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            let done: Option<(i64,)> =
                sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                continue;
            }
            for s in *statements {
                tx.execute(*s).await?;
            }
            if migrations::BACKFILLS.contains(version) {
                backfill_board(&mut tx).await?;
            }
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(*version)
            .bind(*name)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Takes the right to write: one server per database.
    ///
    /// On SQLite a second server is refused at once, naming the file. On PostgreSQL a second
    /// server waits as a hot standby (`on_wait` is called once, when it starts waiting) until
    /// the leader's session ends, then takes over; the leader's session ends when its process
    /// dies, so the standby takes over within a second of polling plus PostgreSQL's detection
    /// of the dead connection.
    pub async fn lead(&self, on_wait: impl FnOnce()) -> Result<Leadership, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let Some(path) = &self.file else {
                    return Ok(Leadership {
                        lock: LeaderLock::Sqlite(None),
                    });
                };
                let unusable = |problem: String| StoreError::Unusable {
                    database: self.name.clone(),
                    problem,
                };
                let file = std::fs::File::open(path)
                    .map_err(|e| unusable(format!("cannot open for locking: {e}")))?;
                match file.try_lock() {
                    Ok(()) => Ok(Leadership {
                        lock: LeaderLock::Sqlite(Some(file)),
                    }),
                    Err(std::fs::TryLockError::WouldBlock) => Err(unusable(
                        "another `smartborder serve` is already writing to this file; run one server per SQLite database (PostgreSQL allows a standby)".to_string(),
                    )),
                    Err(std::fs::TryLockError::Error(e)) => {
                        Err(unusable(format!("cannot lock: {e}")))
                    }
                }
            }
            Backend::Postgres => {
                let mut on_wait = Some(on_wait);
                loop {
                    let conn = self.try_lead_postgres().await?;
                    if let Some(conn) = conn {
                        return Ok(Leadership {
                            lock: LeaderLock::Postgres(conn),
                        });
                    }
                    if let Some(f) = on_wait.take() {
                        f();
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// A new session holding the leader lock, or `None` when another session holds it.
    pub(crate) async fn try_lead_postgres(&self) -> Result<Option<AnyConnection>, StoreError> {
        let mut conn = AnyConnection::connect_with(&self.options).await?;
        let (locked,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(LEADER_LOCK)
            .fetch_one(&mut conn)
            .await?;
        if locked {
            Ok(Some(conn))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// The database, for messages: the SQLite file, or the URL without its password.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}
