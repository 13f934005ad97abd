//! `smartborder serve`, `smartborder keys ...` and `smartborder audit verify`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use smartborder_server::{Limits, ServeOptions};
use smartborder_store::audit;
use smartborder_store::writer::WriterConfig;
use smartborder_store::{Store, keys};
use smartborder_transit::Principal;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DB: &str = "sqlite://smartborder.db";

#[derive(Args)]
pub struct ServeArgs {
    /// Database: sqlite://FILE (default) or postgres://USER@HOST/DB.
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Open connections at most; more are answered 503 at once and closed.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers.
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Seconds after which a connection that moves no bytes is closed.
    #[arg(long, default_value_t = 60)]
    idle_timeout: u64,
    /// Seconds within which a request, its body included, must be complete (408 otherwise).
    #[arg(long, default_value_t = 30)]
    request_timeout: u64,
    /// Seconds an event's time may be ahead of the server's clock.
    #[arg(long, default_value_t = 300)]
    max_clock_skew: i64,
    /// The Ed25519 key that signs audit checkpoints (64 hex characters; created if absent).
    /// Keep it outside the database's reach. Default for SQLite: FILE.audit-key beside the
    /// database; on PostgreSQL checkpoints are signed only when it is given.
    #[arg(long)]
    audit_key: Option<PathBuf>,
    /// Seconds between signed checkpoints of the audit log.
    #[arg(long, default_value_t = 60)]
    checkpoint_interval: u64,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create an API key; the key is printed once and stored only as a hash.
    Create(CreateKeyArgs),
    /// Revoke an API key by id.
    Revoke {
        id: String,
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
    /// List keys (ids, holders, status; never the keys).
    List {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Args)]
pub struct CreateKeyArgs {
    /// The administration's country (ISO 3166 alpha-2), e.g. KZ.
    #[arg(long, conflicts_with = "coordinator")]
    country: Option<String>,
    /// A key for the corridor coordinator (reads everything, writes nothing).
    #[arg(long)]
    coordinator: bool,
    /// Who holds the key, for the list.
    #[arg(long)]
    name: String,
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
}

#[derive(Subcommand)]
pub enum WebhooksCommand {
    /// Push a country's notification feed to a URL (http://HOST[:PORT]/PATH).
    Set {
        #[arg(long)]
        country: String,
        #[arg(long)]
        url: String,
        /// Deliver the whole feed, not only what comes from now on.
        #[arg(long)]
        from_start: bool,
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
    /// Stop pushing a country's feed.
    Remove {
        #[arg(long)]
        country: String,
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
    /// Registered webhooks and what they have received.
    List {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the audit log: the hash chain, the signed checkpoints, and every event and key
    /// row against the entry that recorded it. Exit status 2 when anything is wrong.
    Verify {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// The public key of the audit key (hex), to check checkpoint signatures.
        #[arg(long, conflicts_with = "audit_key")]
        public_key: Option<String>,
        /// Or the audit key file itself (its public key is used).
        #[arg(long)]
        audit_key: Option<PathBuf>,
        /// A checkpoint an administration received in its feed (JSON: the notification or its
        /// `audit_checkpoint`); may be repeated.
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
    },
    /// Print the public key of an audit key (give it to the administrations).
    PublicKey {
        #[arg(long)]
        audit_key: PathBuf,
    },
}

/// The audit key at `path`, created (readable by its owner only) when absent.
fn audit_key(path: &Path) -> Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => audit::read_signing_key(&text)
            .map_err(|e| anyhow::anyhow!("audit key {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, text) = audit::new_signing_key();
            crate::create_private_file(path, &text).context("the audit key")?;
            eprintln!(
                "created audit key {} (public key {}); keep it outside the database's reach",
                path.display(),
                audit::public_key_hex(&key)
            );
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading audit key {}", path.display())),
    }
}

/// Where `serve` keeps its audit key by default: beside a SQLite file.
fn default_audit_key(db: &str) -> Option<PathBuf> {
    let file = smartborder_store::database_name(db);
    (db.starts_with("sqlite:") && !file.is_empty() && !file.starts_with(":memory:"))
        .then(|| PathBuf::from(format!("{file}.audit-key")))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub(crate) async fn open(db: &str) -> Result<Store> {
    Store::open(db)
        .await
        .with_context(|| format!("opening {db}"))
}

pub fn serve(a: ServeArgs) -> Result<ExitCode> {
    let key = match a.audit_key.clone().or_else(|| default_audit_key(&a.db)) {
        Some(path) => Some(audit_key(&path)?),
        None => {
            eprintln!(
                "no --audit-key: the audit log's head is not signed, so deleting its newest entries would go unnoticed"
            );
            None
        }
    };
    runtime()?.block_on(async {
        let options = ServeOptions {
            limits: Limits {
                max_connections: a.max_connections.max(1),
                header_read_timeout: Duration::from_secs(a.header_timeout.max(1)),
                idle_timeout: Duration::from_secs(a.idle_timeout.max(1)),
                request_timeout: Duration::from_secs(a.request_timeout.max(1)),
            },
            writer: WriterConfig {
                max_clock_skew: chrono::Duration::seconds(a.max_clock_skew.max(0)),
                audit_key: key.map(Arc::new),
            },
            checkpoint_interval: Duration::from_secs(a.checkpoint_interval.max(1)),
        };
        smartborder_server::serve(
            &a.db,
            a.listen,
            options,
            || {
                eprintln!(
                    "standby: another server holds the leader lock of {}; waiting to take over",
                    smartborder_store::database_name(&a.db)
                );
            },
            |addr| {
                // Tests and scripts read this line for the port.
                println!("listening on http://{addr} (database {})", a.db);
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn keys(command: KeysCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match command {
            KeysCommand::Create(a) => {
                let who = match (&a.country, a.coordinator) {
                    (_, true) => Principal::Coordinator,
                    (Some(c), false) => {
                        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                            bail!("--country {c}: expected an ISO 3166 alpha-2 code in capitals, e.g. KZ");
                        }
                        Principal::Administration { country: c.clone() }
                    }
                    (None, false) => bail!("give --country CC or --coordinator"),
                };
                let store = open(&a.db).await?;
                let (id, token) = keys::create(&store, &a.name, &who).await?;
                eprintln!("created {id} for {}; the key is shown once:", a.name);
                println!("{token}");
            }
            KeysCommand::Revoke { id, db } => {
                let store = open(&db).await?;
                if !keys::revoke(&store, &id).await? {
                    bail!("no active key {id}");
                }
                println!("revoked {id}");
            }
            KeysCommand::List { db } => {
                let store = open(&db).await?;
                for k in keys::list(&store).await? {
                    let who = match &k.principal {
                        Principal::Administration { country } => country.clone(),
                        Principal::Coordinator => "coordinator".into(),
                    };
                    let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                    println!("{}  {:<12} {:<8} {}", k.id, who, state, k.name);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn webhooks(command: WebhooksCommand) -> Result<ExitCode> {
    use smartborder_store::webhooks;
    runtime()?.block_on(async {
        match command {
            WebhooksCommand::Set {
                country,
                url,
                from_start,
                db,
            } => {
                webhooks::check_url(&url).map_err(anyhow::Error::msg)?;
                let store = open(&db).await?;
                webhooks::set(&store, &country, &url, from_start).await?;
                println!("notifications for {country} will be pushed to {url}");
            }
            WebhooksCommand::Remove { country, db } => {
                let store = open(&db).await?;
                if !webhooks::remove(&store, &country).await? {
                    bail!("no webhook for {country}");
                }
                println!("removed the webhook of {country}");
            }
            WebhooksCommand::List { db } => {
                let store = open(&db).await?;
                for w in webhooks::list(&store).await? {
                    println!(
                        "{}  {}  delivered up to {}",
                        w.country, w.url, w.delivered_after
                    );
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn audit(command: AuditCommand) -> Result<ExitCode> {
    let (db, public_key, key_file, checkpoints) = match command {
        AuditCommand::PublicKey { audit_key: path } => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading audit key {}", path.display()))?;
            let key = audit::read_signing_key(&text)
                .map_err(|e| anyhow::anyhow!("audit key {}: {e}", path.display()))?;
            println!("{}", audit::public_key_hex(&key));
            return Ok(ExitCode::SUCCESS);
        }
        AuditCommand::Verify {
            db,
            public_key,
            audit_key,
            checkpoint,
        } => (db, public_key, audit_key, checkpoint),
    };
    let public_key = match (public_key, key_file) {
        (Some(hex), _) => {
            Some(audit::read_public_key(&hex).map_err(|e| anyhow::anyhow!("--public-key: {e}"))?)
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading audit key {}", path.display()))?;
            Some(
                audit::read_signing_key(&text)
                    .map_err(|e| anyhow::anyhow!("audit key {}: {e}", path.display()))?
                    .verifying_key(),
            )
        }
        (None, None) => None,
    };
    let mut held = Vec::new();
    for path in &checkpoints {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading checkpoint {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("checkpoint {}: not JSON", path.display()))?;
        let inner = value.get("audit_checkpoint").cloned().unwrap_or(value);
        held.push(
            serde_json::from_value::<audit::Checkpoint>(inner).with_context(|| {
                format!(
                    "checkpoint {}: expected seq, hash, at, public_key and signature",
                    path.display()
                )
            })?,
        );
    }
    runtime()?.block_on(async {
        let store = open(&db).await?;
        let v = audit::verify(&store, public_key.as_ref(), &held).await?;
        println!(
            "audit log: {} entries; {} event rows, {} key rows and {} accounts match their entries; {} checkpoints checked{}",
            v.entries,
            v.events_checked,
            v.keys_checked,
            v.users_checked,
            v.checkpoints_checked,
            if public_key.is_some() {
                " (signatures checked)"
            } else {
                " (signatures not checked: give --public-key or --audit-key)"
            }
        );
        if v.rows_before_anchoring > 0 {
            println!(
                "{} rows written before the log vouched for rows (an older database) are not checked",
                v.rows_before_anchoring
            );
        }
        if v.intact() {
            println!("audit log intact");
            return Ok(ExitCode::SUCCESS);
        }
        for p in &v.problems {
            match p.seq {
                Some(seq) => eprintln!("audit entry {seq}: {}", p.what),
                None => eprintln!("{}", p.what),
            }
        }
        eprintln!("audit log NOT intact: {} problems", v.problems.len());
        Ok(ExitCode::from(2))
    })
}
