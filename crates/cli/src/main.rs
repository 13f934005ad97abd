//! `smartborder`: the command line of the SmartBorder toolkit. Thin by design: it parses
//! arguments, shows progress, and calls the library crates, which do the work.

mod demo;
mod mtp;
mod ncts;
mod progress;
mod risk;
mod transit;
mod trs;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "smartborder",
    version,
    about = "SMART borders for the Middle Corridor: Time Release Study, risk management, transit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A synthetic corridor study with its TRS report, then the console on a populated single
    /// window (no setup needed; --no-serve writes the reports only).
    Demo(demo::DemoArgs),
    /// Generate deterministic synthetic data.
    Synth {
        #[command(subcommand)]
        what: SynthCommand,
    },
    /// Time Release Study.
    Trs {
        #[command(subcommand)]
        what: TrsCommand,
    },
    /// Risk management: rules, selectivity, models, evaluation.
    Risk {
        #[command(subcommand)]
        what: risk::RiskCommand,
    },
    /// Run the transit single window (HTTP API on 127.0.0.1 by default).
    Serve(transit::ServeArgs),
    /// Accounts of the people who sign in to the console.
    Users {
        #[command(subcommand)]
        what: users::UsersCommand,
    },
    /// API keys of administrations.
    Keys {
        #[command(subcommand)]
        what: transit::KeysCommand,
    },
    /// Webhooks that push notification feeds to administrations.
    Webhooks {
        #[command(subcommand)]
        what: transit::WebhooksCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        what: transit::AuditCommand,
    },
    /// Master Trainer Programme: training scenarios with known answers, and grading.
    Mtp {
        #[command(subcommand)]
        what: mtp::MtpCommand,
    },
    /// NCTS Phase 5 messages.
    Ncts {
        #[command(subcommand)]
        what: NctsCommand,
    },
}

#[derive(Subcommand)]
enum NctsCommand {
    /// Check messages against the schemas and the business rules, as the single window does.
    Check(ncts::CheckArgs),
}

#[derive(Subcommand)]
enum SynthCommand {
    /// Synthetic TRS consignments (CSV and/or Parquet, plus the mapping that reads them).
    Trs(trs::SynthArgs),
}

#[derive(Subcommand)]
enum TrsCommand {
    /// Read, verify and analyse a study; write the HTML / JSON / Excel report.
    Run(trs::RunArgs),
    /// Compare two studies, before and after a change: differences in median and mean with
    /// bootstrap 95% intervals, the Mann-Whitney U test, shares within targets; a report that
    /// says where time improved, where it worsened and where the data cannot tell.
    Compare(trs::CompareArgs),
    /// How many consignments a study must record, per office, lane or mode, for its mean or
    /// median to be within a margin of error: from a pilot export or an assumed spread.
    Plan(trs::PlanArgs),
    /// A manual collection workbook for posts without automated stamps: a sheet per post, a
    /// row per consignment, stamp cells limited to dates and times; `trs run` reads it back
    /// with the mapping written beside it.
    Workbook(trs::WorkbookArgs),
    /// A joint border study: two administrations' exports linked by a key both record
    /// (transit MRN, TIR carnet, container, plate within a window), one timeline across the
    /// border, unmatched and ambiguous links as findings.
    Joint(trs::JointArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(a) => demo::demo(a),
        Command::Synth {
            what: SynthCommand::Trs(a),
        } => trs::synth(a).map(|_| ExitCode::SUCCESS),
        Command::Trs {
            what: TrsCommand::Run(a),
        } => trs::run(a),
        Command::Trs {
            what: TrsCommand::Compare(a),
        } => trs::compare(a),
        Command::Trs {
            what: TrsCommand::Plan(a),
        } => trs::plan(a),
        Command::Trs {
            what: TrsCommand::Workbook(a),
        } => trs::workbook(a),
        Command::Trs {
            what: TrsCommand::Joint(a),
        } => trs::joint(a),
        Command::Risk { what } => risk::run(what),
        Command::Serve(a) => transit::serve(a),
        Command::Users { what } => users::run(what),
        Command::Keys { what } => transit::keys(what),
        Command::Webhooks { what } => transit::webhooks(what),
        Command::Audit { what } => transit::audit(what),
        Command::Ncts {
            what: NctsCommand::Check(a),
        } => ncts::check(a),
        Command::Mtp { what } => mtp::run(what),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Default number of worker threads: every core.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Where the demo writes by default.
fn default_demo_dir() -> PathBuf {
    PathBuf::from("smartborder-demo")
}

/// Writes a secret into a new file readable by its owner only; an existing file is an error.
pub(crate) fn create_private_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, format!("{text}\n").as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
