//! `smartborder mtp`: the Master Trainer Programme from the command line, for workshops
//! without a server: build a scenario pack (and its key, kept apart), grade a submission.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use smartborder_mtp::grade::grade;
use smartborder_mtp::pack::{read_key, write_pack};
use smartborder_mtp::scenario::Scenario;
use smartborder_mtp::text::{Lang, feedback, trs_feedback};
use smartborder_mtp::trs_world::{self, TrsAnswers};

#[derive(Subcommand)]
pub enum MtpCommand {
    /// Training scenarios.
    Scenario {
        #[command(subcommand)]
        what: ScenarioCommand,
    },
    /// Grade a trainee's submission against the answer key.
    Grade(GradeArgs),
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
    match written.world() {
        Some(world) => println!(
            "wrote {}: history.csv ({} declarations, {} with a result), later.csv ({}), mapping.toml, brief.en.md, brief.ru.md",
            a.out.display(),
            world.history.len(),
            world.inspected.iter().filter(|x| **x).count(),
            world.later.len()
        ),
        None => println!(
            "wrote {}: trs.csv, trs.mapping.toml, answers.toml, brief.en.md, brief.ru.md",
            a.out.display()
        ),
    }
    println!(
        "wrote the answer key {} (keep it from the trainee)",
        key.display()
    );
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
    let file = a.submission.display().to_string();
    match (&key.scenario, key.world(), &key.trs_answers) {
        (Scenario::Risk(def), Some(world), _) => {
            let g = grade(def, &world, &text, &file)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&g)?);
            } else {
                print!("{}", feedback(lang, &g));
            }
        }
        (Scenario::Trs(def), _, Some(answers)) => {
            let given: TrsAnswers =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            let g = trs_world::grade(def, answers, &given);
            if a.json {
                println!("{}", serde_json::to_string_pretty(&g)?);
            } else {
                print!("{}", trs_feedback(lang, &g));
            }
        }
        _ => bail!(
            "{}: the key has no answers for its scenario",
            a.key.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}
