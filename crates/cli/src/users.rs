//! `smartborder users create|disable|list`: the accounts of the people who sign in to the
//! console. Passwords are hashed with Argon2id; one is generated and shown once unless given on
//! standard input.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use smartborder_store::users::{self, Role};
use smartborder_transit::OfficeRef;

use crate::transit::{DEFAULT_DB, open, runtime};

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Create an account.
    Create(CreateArgs),
    /// Disable an account (it can no longer sign in; its history stays).
    Disable {
        login: String,
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
    /// List accounts (never passwords).
    List {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    /// The name the person signs in with (3 to 64 letters, digits or . _ - @).
    #[arg(long)]
    login: String,
    /// officer, supervisor, analyst, coordinator or admin.
    #[arg(long)]
    role: String,
    /// The administration (ISO 3166 alpha-2); not for the coordinator.
    #[arg(long)]
    country: Option<String>,
    /// An officer's office (repeat for several), e.g. KZ000101.
    #[arg(long = "office")]
    offices: Vec<String>,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    password_stdin: bool,
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
}

/// A generated password: 20 characters from an alphabet without look-alikes.
pub(crate) fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

pub fn run(command: UsersCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match command {
            UsersCommand::Create(a) => {
                let Some(role) = Role::parse(&a.role) else {
                    bail!(
                        "--role {}: expected officer, supervisor, analyst, coordinator or admin",
                        a.role
                    );
                };
                let offices = a
                    .offices
                    .iter()
                    .map(|o| OfficeRef::parse(o).with_context(|| format!("--office {o}")))
                    .collect::<Result<Vec<_>>>()?;
                let (password, generated) = if a.password_stdin {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("reading the password from standard input")?;
                    (text.trim_end_matches(['\r', '\n']).to_string(), false)
                } else {
                    (generate_password(), true)
                };
                let store = open(&a.db).await?;
                let user = users::create(
                    &store,
                    "cli",
                    &a.login,
                    role,
                    a.country.as_deref(),
                    &offices,
                    &password,
                )
                .await?;
                eprintln!("created {} ({}) for {}", user.id, role.name(), user.login);
                if generated {
                    eprintln!("the password is shown once:");
                    println!("{password}");
                }
            }
            UsersCommand::Disable { login, db } => {
                let store = open(&db).await?;
                if !users::disable(&store, "cli", &login).await? {
                    bail!("no active account {login}");
                }
                println!("disabled {login}");
            }
            UsersCommand::List { db } => {
                let store = open(&db).await?;
                for u in users::list(&store).await? {
                    let offices: Vec<&str> = u.offices.iter().map(OfficeRef::as_str).collect();
                    println!(
                        "{}  {:<20} {:<12} {:<11} {:<9} {}",
                        u.id,
                        u.login,
                        u.role.name(),
                        u.country.as_deref().unwrap_or("-"),
                        if u.disabled_at.is_some() {
                            "disabled"
                        } else {
                            "active"
                        },
                        offices.join(",")
                    );
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
