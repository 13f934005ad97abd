//! `smartborder mtp`: the Master Trainer Programme from the command line, for workshops
//! without a server: build a scenario pack (and its key, kept apart), grade a submission.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use smartborder_mtp::certificate::{Certificate, Level};
use smartborder_mtp::exercise;
use smartborder_mtp::pack::{read_key, write_pack};
use smartborder_mtp::scenario::Scenario;
use smartborder_mtp::text::Lang;
use smartborder_store::training;
use smartborder_store::users;

use crate::transit::{DEFAULT_DB, open, runtime};

#[derive(Subcommand)]
pub enum MtpCommand {
    /// Training scenarios.
    Scenario {
        #[command(subcommand)]
        what: ScenarioCommand,
    },
    /// Grade a trainee's submission against the answer key.
    Grade(GradeArgs),
    /// Certificates with a verification code.
    Certificate {
        #[command(subcommand)]
        what: CertificateCommand,
    },
    /// The people of the programme in the server's database (levels and accreditation).
    People {
        #[command(subcommand)]
        what: PeopleCommand,
    },
}

#[derive(Subcommand)]
pub enum PeopleCommand {
    /// Set a person's level and accreditation: how the first master trainers join the
    /// programme (later levels come with the certificates of their courses).
    Set(SetPersonArgs),
    /// List the people of the programme.
    List {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Args)]
pub struct SetPersonArgs {
    /// The person's console account.
    #[arg(long)]
    login: String,
    /// participant, trainer or master_trainer.
    #[arg(long)]
    level: String,
    /// Date of accreditation, YYYY-MM-DD.
    #[arg(long)]
    accredited: String,
    /// Date the accreditation expires, YYYY-MM-DD.
    #[arg(long)]
    expires: String,
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
}

#[derive(Subcommand)]
pub enum CertificateCommand {
    /// Issue a certificate: certificate.json and the printable pages (English and Russian).
    Issue(IssueArgs),
    /// Check a certificate's verification code.
    Verify {
        /// The programme's secret (from `certificate issue`).
        #[arg(long)]
        secret: PathBuf,
        /// The certificate (certificate.json).
        #[arg(long)]
        certificate: PathBuf,
    },
}

#[derive(Args)]
pub struct IssueArgs {
    /// The programme's secret: 64 hex digits in a file, created (readable by its owner only)
    /// when absent. Keep it from trainees; whoever holds it can issue and check codes.
    #[arg(long)]
    secret: PathBuf,
    #[arg(long)]
    name: String,
    /// The administration (ISO 3166 alpha-2).
    #[arg(long)]
    country: String,
    /// participant, trainer or master_trainer.
    #[arg(long)]
    level: String,
    #[arg(long)]
    course: String,
    /// Date of issue, YYYY-MM-DD.
    #[arg(long)]
    date: String,
    /// Final score, out of 100.
    #[arg(long)]
    score: f64,
    /// Directory of the certificate's files.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Subcommand)]
pub enum ScenarioCommand {
    /// Build the world of a definition: the trainee's pack, and the answer key apart.
    Build(BuildArgs),
}

#[derive(Args)]
pub struct BuildArgs {
    /// The scenario definition (TOML), e.g. scenarios/risk-kz-imports.toml.
    definition: PathBuf,
    #[arg(long)]
    seed: u64,
    /// The trainee's identity, for a personal variant (default: the common world).
    #[arg(long, default_value = "")]
    trainee: String,
    /// Where the trainee's pack is written.
    #[arg(long)]
    out: PathBuf,
    /// Where the answer key is written (default: OUT.key.json beside the pack, not in it).
    #[arg(long)]
    key: Option<PathBuf>,
}

#[derive(Args)]
pub struct GradeArgs {
    /// The answer key (from `mtp scenario build`).
    #[arg(long)]
    key: PathBuf,
    /// The trainee's profile file.
    #[arg(long)]
    submission: PathBuf,
    /// Language of the feedback: en or ru.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Print the grade as JSON instead of the feedback.
    #[arg(long)]
    json: bool,
}

pub fn run(command: MtpCommand) -> Result<ExitCode> {
    match command {
        MtpCommand::Scenario {
            what: ScenarioCommand::Build(a),
        } => build(a),
        MtpCommand::Grade(a) => grade_submission(a),
        MtpCommand::Certificate {
            what: CertificateCommand::Issue(a),
        } => issue(a),
        MtpCommand::Certificate {
            what:
                CertificateCommand::Verify {
                    secret,
                    certificate,
                },
        } => verify(&secret, &certificate),
        MtpCommand::People { what } => people(what),
    }
}

fn people(command: PeopleCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match command {
            PeopleCommand::Set(a) => {
                let Some(level) = Level::parse(&a.level) else {
                    bail!(
                        "--level {}: expected participant, trainer or master_trainer",
                        a.level
                    );
                };
                for (flag, date) in [("--accredited", &a.accredited), ("--expires", &a.expires)] {
                    if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
                        bail!("{flag} {date}: expected YYYY-MM-DD");
                    }
                }
                if a.expires < a.accredited {
                    bail!(
                        "--expires {} is before --accredited {}",
                        a.expires,
                        a.accredited
                    );
                }
                let store = open(&a.db).await?;
                let user = users::list(&store)
                    .await?
                    .into_iter()
                    .find(|u| u.login == a.login)
                    .with_context(|| format!("--login {}: no such account in {}", a.login, a.db))?;
                let Some(country) = user.country.clone() else {
                    bail!(
                        "--login {}: the corridor coordinator belongs to no administration and is not a trainee",
                        a.login
                    );
                };
                training::set_person(
                    &store,
                    "cli",
                    &user.id,
                    &country,
                    level,
                    Some(&a.accredited),
                    Some(&a.expires),
                    None,
                )
                .await?;
                println!(
                    "{} ({country}) is a {} of the programme from {} to {}",
                    a.login,
                    level.name(),
                    a.accredited,
                    a.expires
                );
                store.close().await;
            }
            PeopleCommand::List { db } => {
                let store = open(&db).await?;
                for p in training::people(&store).await? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        p.login,
                        p.country,
                        p.level.name(),
                        p.accredited_on.as_deref().unwrap_or("-"),
                        p.expires_on.as_deref().unwrap_or("-"),
                        p.trained_by.as_deref().unwrap_or("-")
                    );
                }
                store.close().await;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The programme's secret, created when absent.
fn secret(path: &std::path::Path, create: bool) -> Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let text = text.trim();
            let bytes: Option<Vec<u8>> = (text.len() == 64)
                .then(|| {
                    (0..32)
                        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                        .collect()
                })
                .flatten();
            bytes.ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: expected 64 hex digits (a programme secret)",
                    path.display()
                )
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            crate::create_private_file(path, &text)?;
            eprintln!(
                "created the programme's secret {}; keep it from trainees",
                path.display()
            );
            Ok(bytes.to_vec())
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn issue(a: IssueArgs) -> Result<ExitCode> {
    let Some(level) = Level::parse(&a.level) else {
        bail!(
            "--level {}: expected participant, trainer or master_trainer",
            a.level
        );
    };
    if a.country.len() != 2 || !a.country.bytes().all(|b| b.is_ascii_uppercase()) {
        bail!(
            "--country {}: expected an ISO 3166 alpha-2 code such as KZ",
            a.country
        );
    }
    if chrono::NaiveDate::parse_from_str(&a.date, "%Y-%m-%d").is_err() {
        bail!("--date {}: expected YYYY-MM-DD", a.date);
    }
    if !(0.0..=100.0).contains(&a.score) {
        bail!("--score {}: expected 0 to 100", a.score);
    }
    let secret = secret(&a.secret, true)?;
    let c = Certificate::issue(
        &secret, &a.name, &a.country, level, &a.course, &a.date, a.score,
    );
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let json = a.out.join("certificate.json");
    std::fs::write(&json, serde_json::to_string_pretty(&c)?)
        .with_context(|| format!("writing {}", json.display()))?;
    for lang in [Lang::En, Lang::Ru] {
        let page = a.out.join(format!("certificate.{}.html", lang.code()));
        std::fs::write(&page, c.html(lang))
            .with_context(|| format!("writing {}", page.display()))?;
    }
    println!(
        "certificate {} for {} written to {}",
        c.code,
        c.name,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn verify(secret_path: &std::path::Path, certificate: &std::path::Path) -> Result<ExitCode> {
    let secret = secret(secret_path, false)?;
    let text = std::fs::read_to_string(certificate)
        .with_context(|| format!("reading {}", certificate.display()))?;
    let c: Certificate = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a certificate: {e}", certificate.display()))?;
    if c.verify(&secret) {
        println!(
            "valid: {} ({}), {}, code {}",
            c.name, c.country, c.course, c.code
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "NOT valid: the code {} does not match the certificate's fields",
            c.code
        );
        Ok(ExitCode::FAILURE)
    }
}

fn build(a: BuildArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&a.definition)
        .with_context(|| format!("reading {}", a.definition.display()))?;
    let scenario = Scenario::from_toml(&text, &a.definition.display().to_string())?;
    let key = a
        .key
        .unwrap_or_else(|| PathBuf::from(format!("{}.key.json", a.out.display())));
    let out_abs = std::path::absolute(&a.out).unwrap_or(a.out.clone());
    let key_abs = std::path::absolute(&key).unwrap_or(key.clone());
    if key_abs.starts_with(&out_abs) {
        bail!(
            "--key {}: the answer key would be inside the trainee's pack {}; write it elsewhere",
            key.display(),
            a.out.display()
        );
    }
    let written = write_pack(&scenario, a.seed, &a.trainee, &a.out, &key)?;
    match (&scenario, written.world()) {
        (_, Some(world)) => println!(
            "wrote {}: history.csv ({} declarations, {} with a result), later.csv ({}), mapping.toml, brief.en.md, brief.ru.md",
            a.out.display(),
            world.history.len(),
            world.inspected.iter().filter(|x| **x).count(),
            world.later.len()
        ),
        (Scenario::Transit(_), _) => println!(
            "wrote {}: movement.toml, brief.en.md, brief.ru.md",
            a.out.display()
        ),
        (Scenario::Selectivity(_), _) => println!(
            "wrote {}: history.csv, stream.csv, posts.csv, plan.toml, brief.en.md, brief.ru.md",
            a.out.display()
        ),
        _ => println!(
            "wrote {}: trs.csv, trs.mapping.toml, answers.toml, brief.en.md, brief.ru.md",
            a.out.display()
        ),
    }
    println!(
        "wrote the answer key {} (keep it from the trainee)",
        key.display()
    );
    for p in &written.posts {
        println!(
            "  post {}: {} declarations and {} inspections a day",
            p.office, p.declarations_per_day, p.capacity_per_day
        );
    }
    for p in &written.planted {
        println!(
            "  planted: {} ({} declarations in the history, {} later)",
            p.name, p.history_declarations, p.later_declarations
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn grade_submission(a: GradeArgs) -> Result<ExitCode> {
    let Some(lang) = Lang::parse(&a.lang) else {
        bail!("--lang {}: expected en or ru", a.lang);
    };
    let key = read_key(&a.key)?;
    let text = std::fs::read_to_string(&a.submission)
        .with_context(|| format!("reading {}", a.submission.display()))?;
    let outcome = exercise::grade(&key, &text, &a.submission.display().to_string())?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", outcome.feedback(lang));
    }
    Ok(ExitCode::SUCCESS)
}
