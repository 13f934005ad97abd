//! `smartborder serve`, `smartborder keys ...` and `smartborder audit verify`.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use smartborder_store::audit::{self, Verification};
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
    /// Recompute the audit log's hash chain.
    Verify {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn open(db: &str) -> Result<Store> {
    Store::open(db)
        .await
        .with_context(|| format!("opening {db}"))
}

pub fn serve(a: ServeArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        smartborder_server::serve(&a.db, a.listen, |addr| {
            // Tests and scripts read this line for the port.
            println!("listening on http://{addr} (database {})", a.db);
        })
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
    let AuditCommand::Verify { db } = command;
    runtime()?.block_on(async {
        let store = open(&db).await?;
        match audit::verify(&store).await? {
            Verification::Intact { entries } => {
                println!("audit log intact: {entries} entries, every hash recomputed");
                Ok(ExitCode::SUCCESS)
            }
            Verification::Broken { seq, reason } => {
                eprintln!("audit log broken at entry {seq}: {reason}");
                Ok(ExitCode::from(2))
            }
        }
    })
}
