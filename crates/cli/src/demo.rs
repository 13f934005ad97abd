//! `smartborder demo`: a synthetic corridor TRS study and its reports, then (unless
//! `--no-serve`) the console on a populated single window: accounts for Kazakhstan, Azerbaijan
//! and Georgia and a corridor coordinator, about a thousand movements on the corridor's routes
//! at every stage of their lifecycle, and a course of the Master Trainer Programme with graded
//! attempts and a certificate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser};
use futures_util::future::join_all;
use indicatif::ProgressBar;
use smartborder_ingest::declaration_mapping::KCS_MAPPING;
use smartborder_ingest::{DeclarationMapping, NoProgress, read_declarations};
use smartborder_model::DeclarationSet;
use smartborder_mtp::certificate::{Certificate, Level};
use smartborder_mtp::programme::{course_score, expiry};
use smartborder_mtp::scenario::{CATALOG, Scenario};
use smartborder_mtp::text::Lang as MtpLang;
use smartborder_report::Lang;
use smartborder_risk::gbdt::BoostParams;
use smartborder_risk::model::{Capacity, ModelCard, RiskModel, TrainOptions, Weighting};
use smartborder_store::training::{self, Exercise, NewCourse};
use smartborder_store::writer::{Answer, Command, Request, Stamp, Writer, WriterConfig};
use smartborder_store::{Store, risk_files, studies, users};
use smartborder_synth::transit::{WorldMovement, world_movements};
use smartborder_transit::{OfficeRef, Principal};
use smartborder_trs::TrsOptions;

use crate::transit::{ServeArgs, runtime};
use crate::trs::{SynthArgs, study, synth, write_reports};

#[derive(Args)]
pub struct DemoArgs {
    /// Output directory (reports, data, and the demo's database).
    #[arg(long, default_value_os_t = crate::default_demo_dir())]
    dir: PathBuf,
    #[arg(long, default_value_t = 200_000)]
    consignments: u64,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Report language: en or ru.
    #[arg(long, default_value = "en")]
    lang: Lang,
    /// Write the reports and stop (for scripts): no single window, no console.
    #[arg(long)]
    no_serve: bool,
    /// Where the console listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Transit movements in the demo world.
    #[arg(long, default_value_t = 1000)]
    movements: usize,
    /// The Korea Customs Service open data (df_syn_train_eng.csv, df_syn_valid_eng.csv), to
    /// train the demo's risk model; default: $SMARTBORDER_KCS_DATA, else
    /// ../shared/data/kcs-customs when it is there. Without it, no model is published.
    #[arg(long)]
    kcs_data: Option<PathBuf>,
}

const KCS_TRAIN: &str = "df_syn_train_eng.csv";
const KCS_VALID: &str = "df_syn_valid_eng.csv";

/// Where the KCS data is, if anywhere.
fn kcs_data(given: Option<&std::path::Path>) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match given {
        Some(dir) => vec![dir.to_path_buf()],
        None => std::env::var_os("SMARTBORDER_KCS_DATA")
            .map(PathBuf::from)
            .into_iter()
            .chain([PathBuf::from("../shared/data/kcs-customs")])
            .collect(),
    };
    let found = candidates
        .into_iter()
        .find(|d| d.join(KCS_TRAIN).is_file() && d.join(KCS_VALID).is_file());
    if found.is_none() {
        eprintln!(
            "no Korea Customs Service data ({KCS_TRAIN}, {KCS_VALID}): the demo publishes the example profiles but no risk model (give --kcs-data DIR)"
        );
    }
    found
}

/// Kazakhstan's risk configuration: the example profiles and their value bands, the example
/// selectivity plan, and (with the KCS data) a model trained on the 2020 declarations with its
/// card measured on 2021's; Azerbaijan's and Georgia's route profiles and plan.
async fn publish_risk(db: &str, kcs: Option<&std::path::Path>, seed: u64) -> Result<()> {
    use smartborder_risk::configuration::{MODEL, MODEL_CARD, PLAN, PROFILES};
    use smartborder_risk::examples::{
        KCS_BANDS, KCS_BANDS_FILE, KCS_PLAN, KCS_PROFILES, ROUTE_AZ_PROFILES, ROUTE_GE_PROFILES,
        ROUTE_PLAN,
    };
    let store = Store::open(db).await?;
    let kz = [
        (PROFILES, KCS_PROFILES),
        (KCS_BANDS_FILE, KCS_BANDS),
        (PLAN, KCS_PLAN),
    ];
    risk_files::publish(&store, "demo", "KZ", &kz).await?;
    // Azerbaijan and Georgia assess the movements coming to them with their own profiles.
    for (country, profiles) in [("AZ", ROUTE_AZ_PROFILES), ("GE", ROUTE_GE_PROFILES)] {
        risk_files::publish(
            &store,
            "demo",
            country,
            &[(PROFILES, profiles), (PLAN, ROUTE_PLAN)],
        )
        .await?;
    }
    let Some(dir) = kcs else {
        return Ok(());
    };
    let dir = dir.to_path_buf();
    let (model, card) = tokio::task::spawn_blocking(move || -> Result<_> {
        let mapping = DeclarationMapping::from_toml(KCS_MAPPING, "kcs")?;
        let read = |file: &str| -> Result<DeclarationSet> {
            let path = dir.join(file);
            Ok(read_declarations(&path, &mapping, &NoProgress)
                .with_context(|| format!("reading {}", path.display()))?
                .set)
        };
        let (train, valid) = (read(KCS_TRAIN)?, read(KCS_VALID)?);
        let params = BoostParams {
            threads: crate::default_threads(),
            ..BoostParams::default()
        };
        eprintln!(
            "training the demo's risk model on {} declarations",
            train.declarations.len()
        );
        let options = TrainOptions {
            params,
            seed,
            weighting: Weighting::None,
            capacity: Capacity::Validated,
        };
        let model = RiskModel::train_with(&train, &options, &|_| {})?;
        let card = ModelCard::new(&model, KCS_TRAIN, &valid, KCS_VALID, params.threads);
        Ok((
            serde_json::to_string(&model)?,
            serde_json::to_string(&card)?,
        ))
    })
    .await??;
    risk_files::publish(
        &store,
        "demo",
        "KZ",
        &[(MODEL, &model), (MODEL_CARD, &card)],
    )
    .await?;
    Ok(())
}

/// The demo's accounts: (login, role, country, offices).
const ACCOUNTS: &[(&str, &str, Option<&str>, &[&str])] = &[
    ("kz.officer", "officer", Some("KZ"), &["KZ000102"]),
    ("kz.supervisor", "supervisor", Some("KZ"), &[]),
    ("kz.analyst", "analyst", Some("KZ"), &[]),
    ("kz.admin", "admin", Some("KZ"), &[]),
    ("az.officer", "officer", Some("AZ"), &["AZ000201"]),
    ("az.supervisor", "supervisor", Some("AZ"), &[]),
    (
        "ge.officer",
        "officer",
        Some("GE"),
        &["GE000301", "GE000302"],
    ),
    ("ge.supervisor", "supervisor", Some("GE"), &[]),
    ("corridor.coordinator", "coordinator", None, &[]),
    ("kz.trainer", "supervisor", Some("KZ"), &[]),
];

pub fn demo(a: DemoArgs) -> Result<ExitCode> {
    let (input, mapping) = synth(SynthArgs {
        consignments: a.consignments,
        seed: a.seed,
        out: a.dir.clone(),
        faults: 0.01,
        format: "csv".into(),
    })?;
    let report = study(
        std::slice::from_ref(&input),
        &mapping,
        &TrsOptions::default(),
    )?;
    let html = a.dir.join("report.html");
    write_reports(
        &report,
        a.lang,
        Some(&html),
        Some(&a.dir.join("report.json")),
        Some(&a.dir.join("report.xlsx")),
    )?;
    println!(
        "\nTRS report: {}",
        std::fs::canonicalize(&html).unwrap_or(html).display()
    );
    if a.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    let file = a.dir.join("single-window.db");
    // A fresh world each time: the demo's own database only.
    for suffix in ["", "-wal", "-shm", ".audit-key"] {
        let path = PathBuf::from(format!("{}{suffix}", file.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
        }
    }
    let db = format!("sqlite://{}", file.display());
    let report_json = serde_json::to_string(&report).context("the demo study's report")?;
    let consignments = report.consignments as i64;
    let kcs = kcs_data(a.kcs_data.as_deref());
    let passwords = runtime()?.block_on(async {
        let passwords = populate(&db, a.seed, a.movements).await?;
        keep_study(&db, report_json, consignments).await?;
        publish_risk(&db, kcs.as_deref(), a.seed).await?;
        training_course(&db, a.seed).await?;
        anyhow::Ok(passwords)
    })?;
    println!("\nThe console: http://{}/console/", a.listen);
    println!("Sign in as (the passwords are new at every run):");
    for (login, role, password) in &passwords {
        println!("  {login:<22} {password}   {role}");
    }
    println!("Stop with Ctrl-C.\n");
    let listen = a.listen.to_string();
    let serve = ServeOnly::parse_from(["serve", "--db", &db, "--listen", &listen]);
    crate::transit::serve(serve.args)
}

/// `serve` with its defaults, as the demo starts it.
#[derive(Parser)]
struct ServeOnly {
    #[command(flatten)]
    args: ServeArgs,
}

/// Creates the accounts and the movements; returns (login, role, password) of each account.
async fn populate(db: &str, seed: u64, count: usize) -> Result<Vec<(String, String, String)>> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening {db}"))?;
    let leadership = store.lead(|| {}).await?;
    let writer = Writer::spawn(store.clone(), leadership, WriterConfig::default());
    let world = world_movements(seed, count, 10, chrono::Utc::now());
    let events: usize = world.iter().map(|w| w.events.len()).sum();
    let bar = ProgressBar::new((world.len() + events) as u64);
    eprintln!("recording {} movements and {events} events", world.len());
    // Lodgements queued in lodging order (the writer applies its queue in order)...
    let mut mrns: Vec<Option<String>> = Vec::with_capacity(world.len());
    let mut refused: Vec<String> = Vec::new();
    let mut queued = Vec::with_capacity(world.len());
    for w in &world {
        queued.push(
            writer
                .queue(take_over(w))
                .await
                .map_err(anyhow::Error::msg)?,
        );
    }
    for answer in queued {
        bar.inc(1);
        let answer = answer
            .await
            .map_err(|_| anyhow::anyhow!("the writer has stopped"))?;
        match answer.map_err(anyhow::Error::msg)? {
            Answer::Done { movement } => mrns.push(movement.mrn.map(|m| m.to_string())),
            other => {
                refused.push(format!("{other:?}"));
                mrns.push(None);
            }
        }
    }
    // ...then the k-th event of every movement at once, round after round.
    let rounds = world.iter().map(|w| w.events.len()).max().unwrap_or(0);
    for k in 0..rounds {
        let commands: Vec<Command> = world
            .iter()
            .zip(&mrns)
            .filter_map(|(w, mrn)| Some(event(mrn.as_ref()?, w.events.get(k)?)))
            .collect();
        for answer in join_all(commands.into_iter().map(|c| writer.submit(c))).await {
            bar.inc(1);
            match answer.map_err(anyhow::Error::msg)? {
                Answer::Done { .. } => {}
                other => refused.push(format!("{other:?}")),
            }
        }
    }
    bar.finish_and_clear();
    if let Some(first) = refused.first() {
        bail!(
            "the single window refused {} of the demo world's requests; the first: {first}",
            refused.len()
        );
    }
    // The accounts come last, so that their notification feeds start empty.
    let mut passwords = Vec::new();
    for (login, role, country, offices) in ACCOUNTS {
        let Some(role_value) = users::Role::parse(role) else {
            bail!("demo account {login}: unknown role {role}");
        };
        let offices: Vec<OfficeRef> = offices
            .iter()
            .map(|o| OfficeRef::parse(o))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("demo account {login}: {e}"))?;
        let password = crate::users::generate_password();
        users::create(
            &store, "demo", login, role_value, *country, &offices, &password,
        )
        .await
        .with_context(|| format!("creating demo account {login}"))?;
        passwords.push((login.to_string(), role.to_string(), password));
    }
    Ok(passwords)
}

/// The synthetic corridor study joins the study lists of Kazakhstan and of the coordinator.
async fn keep_study(db: &str, report: String, consignments: i64) -> Result<()> {
    let store = Store::open(db).await?;
    for owner in [Some("KZ"), None] {
        let id = studies::start(&store, "demo", owner, "Synthetic corridor (demo)").await?;
        studies::finish(&store, &id, Ok((report.clone(), consignments))).await?;
    }
    Ok(())
}

/// One course of the Master Trainer Programme: `kz.trainer` (a master trainer) delivers every
/// shipped exercise to three officers; `kz.officer` submits the model answers and is
/// certified, `az.officer` submits a weak risk profile and partial TRS answers, `ge.officer`
/// has opened the first exercise only.
async fn training_course(db: &str, seed: u64) -> Result<()> {
    let store = Store::open(db).await?;
    let accounts = users::list(&store).await?;
    let id_of = |login: &str| {
        accounts
            .iter()
            .find(|u| u.login == login)
            .map(|u| u.id.clone())
            .with_context(|| format!("demo account {login}"))
    };
    let trainer = id_of("kz.trainer")?;
    let today = chrono::Utc::now().date_naive();
    let accredited = today - chrono::Days::new(400);
    training::set_person(
        &store,
        "demo",
        &trainer,
        "KZ",
        Level::MasterTrainer,
        Some(&accredited.to_string()),
        Some(&expiry(accredited).to_string()),
        None,
    )
    .await?;
    let mut exercises = Vec::new();
    for (k, (file, text)) in CATALOG.iter().enumerate() {
        let scenario = Scenario::from_toml(text, file)?;
        exercises.push((
            Exercise {
                number: k as i64 + 1,
                title: scenario.title(MtpLang::En).to_string(),
                definition: text.to_string(),
                seed,
            },
            scenario,
        ));
    }
    let participants = ["kz.officer", "az.officer", "ge.officer"];
    let course = NewCourse {
        title: "Risk management and Time Release Study (demo)".into(),
        country: "KZ".into(),
        place: "Almaty".into(),
        language: "en".into(),
        level: Level::Participant,
        starts_on: (today - chrono::Days::new(4)).to_string(),
        ends_on: today.to_string(),
        exercises: exercises.iter().map(|(e, _)| e.clone()).collect(),
        participants: participants
            .iter()
            .map(|l| id_of(l))
            .collect::<Result<_>>()?,
    };
    let id = training::create_course(&store, "demo", &trainer, &course).await?;
    eprintln!("grading the demo course's attempts");
    let weak = [
        "profile \"LOW-VALUE\" {\n    when value_per_kg < 3\n    then red\n}\n".to_string(),
        "weekend_post = \"unknown\"\n".to_string(),
    ];
    let mut best = Vec::new();
    for login in participants {
        let user = id_of(login)?;
        for (k, (e, scenario)) in exercises.iter().enumerate() {
            let submission = match login {
                "kz.officer" => None,
                "az.officer" if k < weak.len() => Some(weak[k].clone()),
                "ge.officer" if k == 0 => Some(String::new()),
                _ => continue,
            };
            let key = smartborder_mtp::exercise::key_of(scenario, e.seed, login);
            training::keep_key(&store, &id, e.number, &user, &serde_json::to_string(&key)?).await?;
            let text = match submission {
                // ge.officer has opened the exercise, and submitted nothing yet.
                Some(t) if t.is_empty() => continue,
                Some(t) => t,
                None => smartborder_mtp::exercise::reference_submission(&key),
            };
            let file = smartborder_mtp::exercise::submission_file(scenario);
            let o = smartborder_mtp::exercise::grade(&key, &text, file)
                .map_err(|r| anyhow::anyhow!("demo submission of {login}: {r}"))?;
            training::add_attempt(
                &store,
                &user,
                &id,
                e.number,
                &user,
                &text,
                o.score,
                o.passed,
                &serde_json::to_string(&o)?,
            )
            .await?;
            if login == "kz.officer" {
                best.push(Some((o.score, o.passed)));
            }
        }
    }
    let Some(score) = course_score(&best) else {
        bail!("the demo's model answers did not pass every exercise");
    };
    let secret = training::programme_secret(&store).await?;
    let certificate = Certificate::issue(
        &secret,
        "kz.officer",
        "KZ",
        Level::Participant,
        &course.title,
        &today.to_string(),
        score,
    );
    let Some((created, _, _)) = training::course_of(&store, &id).await? else {
        bail!("the demo course {id} is not in the store");
    };
    training::certify(
        &store,
        &trainer,
        &created,
        &id_of("kz.officer")?,
        "KZ",
        &certificate.code,
        &serde_json::to_string(&certificate)?,
        &today.to_string(),
        &expiry(today).to_string(),
    )
    .await?;
    Ok(())
}

fn take_over(w: &WorldMovement) -> Command {
    Command {
        actor: "demo".to_string(),
        principal: Principal::Administration {
            country: w.route.departure.country().to_string(),
        },
        request: Request::TakeOver {
            lrn: w.lrn.clone(),
            route: w.route.clone(),
            accepted_at: w.accepted_at,
            consignment: Some(Box::new(w.consignment.clone())),
        },
        idempotency_key: None,
        request_sha256: String::new(),
        body: Vec::new(),
    }
}

fn event(mrn: &str, e: &smartborder_transit::Event) -> Command {
    Command {
        actor: "demo".to_string(),
        principal: Principal::Administration {
            country: e.office.country().to_string(),
        },
        request: Request::Event {
            mrn: mrn.to_string(),
            event: e.clone(),
            stamp: Stamp::Given,
            message: None,
        },
        idempotency_key: None,
        request_sha256: String::new(),
        body: Vec::new(),
    }
}
