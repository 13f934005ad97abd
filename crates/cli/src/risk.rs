//! `smartborder risk ...`: rule checks, training, evaluation, scoring, selectivity, backtests
//! and value-control bands.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};
use smartborder_ingest::{DeclarationMapping, DeclarationsRead, read_declarations};
use smartborder_model::{DeclarationField, DeclarationSet, FieldKind};
use smartborder_risk::anomaly::AnomalyModel;
use smartborder_risk::evaluation::{backtest, outcomes, rolling_backtest, rule_performance};
use smartborder_risk::gbdt::BoostParams;
use smartborder_risk::metrics::{TargetingMetrics, targeting_metrics};
use smartborder_risk::model::{
    Capacity, RiskModel, SEARCH_SPEED_UP, TrainOptions, TrainingProgress, Weighting,
};
use smartborder_risk::selectivity::{SelectivityPlan, deciding_reason, select};
use smartborder_risk::value_bands::{BandSettings, derive_bands, write_bands};
use smartborder_risk::{RuleSet, parse_rules};
use smartborder_transit::AssessedGoods;

use crate::progress::Bar;

#[derive(Subcommand)]
pub enum RiskCommand {
    /// Risk-profile files.
    Rules {
        #[command(subcommand)]
        what: RulesCommand,
    },
    /// Train a risk model on inspected history.
    Train(TrainArgs),
    /// Measure a model (and optionally a rule file) on labelled declarations.
    Eval(EvalArgs),
    /// Score declarations and explain each score.
    Score(ScoreArgs),
    /// Run selectivity: criteria, random quotas and top-up per office.
    Select(SelectArgs),
    /// Train before each split date, evaluate on the period after it.
    Backtest(BacktestArgs),
    /// Derive value-control bands from compliant history.
    Bands(BandsArgs),
    /// Fit an anomaly model (isolation forest over label-free features) on a history without
    /// control results; `risk eval` measures it like a trained model.
    Anomaly(AnomalyArgs),
    /// Publish files of an administration's risk configuration (profiles.risk, value bands,
    /// selectivity.toml, model.json, model-card.json) as new versions, after checking that
    /// they compile with the files in force; the live API swaps them in without a restart.
    Publish(PublishArgs),
}

#[derive(Args)]
pub struct AnomalyArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Write the model here (JSON).
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct PublishArgs {
    #[arg(long, default_value = crate::transit::DEFAULT_DB)]
    db: String,
    /// The administration (ISO 3166 alpha-2).
    #[arg(long)]
    country: String,
    /// Who publishes (kept in the audit log).
    #[arg(long)]
    by: String,
    /// The files, each published under its file name.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Parse and check a rule file; prints its profiles.
    Check(CheckArgs),
}

#[derive(Args)]
pub struct DataArgs {
    /// Declarations: .csv, .xlsx (.xls, .ods) or .parquet.
    #[arg(long)]
    data: PathBuf,
    /// Declaration mapping (TOML), or `kcs` for the built-in Korea Customs Service mapping.
    #[arg(long)]
    mapping: String,
    /// Exit with status 2 when any row has a problem (the work is still done).
    #[arg(long)]
    strict: bool,
}

#[derive(Args)]
pub struct CheckArgs {
    rules: PathBuf,
    /// Declaration mapping whose attributes the rules may use (or `kcs`; or `published`: the
    /// attributes a published configuration is checked with, the built-in mapping's and the
    /// single window's goods items').
    #[arg(long)]
    mapping: Option<String>,
}

#[derive(Args)]
pub struct ModelParamArgs {
    /// Number of trees (default: chosen by validation inside the training period, with the
    /// leaf size and the smoothing of category rates; giving --trees or --min-child fixes them).
    #[arg(long)]
    trees: Option<usize>,
    /// Maximum depth of a tree.
    #[arg(long, default_value_t = BoostParams::default().max_depth)]
    depth: usize,
    /// Maximum leaves of a tree.
    #[arg(long, default_value_t = BoostParams::default().max_leaves)]
    leaves: usize,
    #[arg(long, default_value_t = BoostParams::default().learning_rate)]
    learning_rate: f64,
    /// Minimum declarations in a leaf (default: chosen by validation, see --trees).
    #[arg(long)]
    min_child: Option<usize>,
    /// L2 regularisation of the leaf values.
    #[arg(long, default_value_t = BoostParams::default().lambda)]
    lambda: f64,
    /// Seed of the out-of-fold category rates.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// How inspected declarations weigh: `none`, or `inverse-propensity` (1 / the probability
    /// of inspection the selection recorded, in the mapping's `propensity` column).
    #[arg(long, default_value = "none")]
    weighting: String,
}

impl ModelParamArgs {
    fn options(&self, threads: usize) -> Result<TrainOptions> {
        let defaults = BoostParams::default();
        let trees = self.trees.unwrap_or(defaults.trees);
        if trees == 0 || self.depth == 0 || self.leaves < 2 {
            bail!("--trees and --depth must be at least 1 and --leaves at least 2");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            bail!(
                "--learning-rate must be in (0, 1], found {}",
                self.learning_rate
            );
        }
        if self.lambda.is_nan() || self.lambda < 0.0 {
            bail!("--lambda must be >= 0, found {}", self.lambda);
        }
        let weighting = match self.weighting.as_str() {
            "none" => Weighting::None,
            "inverse-propensity" => Weighting::InversePropensity,
            other => bail!("--weighting {other}: expected none or inverse-propensity"),
        };
        let capacity = if self.trees.is_some() || self.min_child.is_some() {
            Capacity::Fixed
        } else {
            Capacity::Validated
        };
        Ok(TrainOptions {
            params: BoostParams {
                trees,
                learning_rate: self.learning_rate,
                max_depth: self.depth,
                max_leaves: self.leaves,
                min_child_samples: self.min_child.unwrap_or(defaults.min_child_samples),
                lambda: self.lambda,
                threads,
                ..defaults
            },
            seed: self.seed,
            weighting,
            capacity,
        })
    }
}

#[derive(Args)]
pub struct TrainArgs {
    /// Declarations: .csv, .xlsx (.xls, .ods) or .parquet (or --from-transit).
    #[arg(long, required_unless_present = "from_transit", requires = "mapping")]
    data: Option<PathBuf>,
    /// Declaration mapping (TOML), or `kcs` for the built-in Korea Customs Service mapping.
    #[arg(long)]
    mapping: Option<String>,
    /// Exit with status 2 when any row has a problem (the work is still done).
    #[arg(long)]
    strict: bool,
    /// Train instead on the movements the single window (this database URL) assessed for
    /// --country: their goods items, labelled by the control results recorded.
    #[arg(long, conflicts_with = "data", requires = "country")]
    from_transit: Option<String>,
    /// The administration whose assessments and control results are learned from.
    #[arg(long)]
    country: Option<String>,
    /// Write the model here (JSON).
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    params: ModelParamArgs,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct EvalArgs {
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Write the metrics here (JSON).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also measure the profiles of this rule file.
    #[arg(long)]
    rules: Option<PathBuf>,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct ScoreArgs {
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Write the scores here (CSV: declaration, office, score, top contributions).
    #[arg(long)]
    out: PathBuf,
    /// Contributions listed per declaration.
    #[arg(long, default_value_t = 3)]
    explain: usize,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct SelectArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Risk-profile file.
    #[arg(long)]
    rules: PathBuf,
    /// Selectivity plan (TOML): expected and random rates per office, seed, exploration.
    #[arg(long)]
    plan: PathBuf,
    /// Risk model for the top-up order (without it: the rule score).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Write one decision per declaration here (CSV).
    #[arg(long)]
    out: PathBuf,
    /// Write the per-office summary here (JSON).
    #[arg(long)]
    json: Option<PathBuf>,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Split dates (YYYY-MM-DD): train before, test from the date to the next split. With
    /// --rolling month, one date: the first month tested.
    #[arg(long = "split", required = true)]
    splits: Vec<NaiveDate>,
    /// `month`: retrain each month on what was inspected before it, and report each month
    /// beside the model frozen at the first split.
    #[arg(long)]
    rolling: Option<String>,
    #[command(flatten)]
    params: ModelParamArgs,
    /// Write the periods here (JSON).
    #[arg(long)]
    json: Option<PathBuf>,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct BandsArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The measure: a number field such as unit_value or value_per_kg.
    #[arg(long, default_value = "unit_value")]
    measure: String,
    /// Percentile of the lower end of each band.
    #[arg(long, default_value_t = 5.0)]
    low: f64,
    /// Percentile of the upper end of each band.
    #[arg(long, default_value_t = 95.0)]
    high: f64,
    /// Fewest declarations behind a band.
    #[arg(long, default_value_t = 20)]
    min_count: usize,
    /// Write the bands file here (CSV).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(command: RiskCommand) -> Result<ExitCode> {
    match command {
        RiskCommand::Rules {
            what: RulesCommand::Check(a),
        } => check(a),
        RiskCommand::Train(a) => train(a),
        RiskCommand::Eval(a) => eval(a),
        RiskCommand::Score(a) => score(a),
        RiskCommand::Select(a) => selectivity(a),
        RiskCommand::Backtest(a) => run_backtest(a),
        RiskCommand::Bands(a) => bands(a),
        RiskCommand::Anomaly(a) => anomaly(a),
        RiskCommand::Publish(a) => publish(a),
    }
}

fn anomaly(a: AnomalyArgs) -> Result<ExitCode> {
    let (read, strict_failed) = load_data(&a.data)?;
    if read.set.declarations.is_empty() {
        bail!("{}: no declaration was read", a.data.data.display());
    }
    let started = Instant::now();
    let model = AnomalyModel::train(&read.set, a.seed, threads(a.threads));
    model.save(&a.model)?;
    println!(
        "anomaly model on {} declarations ({} label-free features, {} trees of {} declarations), in {:.2} s -> {}",
        model.declarations,
        model.feature_names.len(),
        model.trees.len(),
        smartborder_risk::anomaly::SAMPLE.min(model.declarations),
        started.elapsed().as_secs_f64(),
        a.model.display()
    );
    Ok(exit(strict_failed))
}

/// A model file of either kind: trained on control results, or an anomaly model.
enum Scorer {
    Trained(Box<RiskModel>),
    Anomaly(Box<AnomalyModel>),
}

impl Scorer {
    fn load(path: &Path) -> Result<Scorer> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let shown = path.display().to_string();
        // The file says which kind it is; each reader checks the rest.
        #[derive(serde::Deserialize)]
        struct Header {
            format: String,
        }
        let format = serde_json::from_str::<Header>(&text).map_or(String::new(), |h| h.format);
        Ok(if format == smartborder_risk::anomaly::ANOMALY_FORMAT {
            Scorer::Anomaly(Box::new(AnomalyModel::from_json(&text, &shown)?))
        } else {
            Scorer::Trained(Box::new(RiskModel::from_json(&text, &shown)?))
        })
    }

    fn score(&self, set: &smartborder_model::DeclarationSet, threads: usize) -> Vec<f64> {
        match self {
            Scorer::Trained(m) => m.score(set, threads),
            Scorer::Anomaly(m) => m.score(set, threads),
        }
    }

    fn training(&self) -> Value {
        match self {
            Scorer::Trained(m) => json!(m.training),
            Scorer::Anomaly(m) => {
                json!({"anomaly": true, "declarations": m.declarations, "seed": m.seed})
            }
        }
    }
}

fn publish(a: PublishArgs) -> Result<ExitCode> {
    use smartborder_risk::configuration::ConfigurationFile;
    let country = a.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        bail!("--country {}: expected an ISO 3166 alpha-2 code", a.country);
    }
    let mut new = Vec::new();
    for path in &a.files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{}: expected a file name in UTF-8", path.display()))?
            .to_string();
        let body =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        new.push(ConfigurationFile {
            name,
            version: 0,
            body,
        });
    }
    crate::transit::runtime()?.block_on(async {
        let store = crate::transit::open(&a.db).await?;
        for (name, version) in
            smartborder_server::publish_checked(&store, &a.by, &country, &new).await?
        {
            println!("{country}/{name} version {version}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The training set of `country` from the movements the single window assessed for it.
fn transit_training_set(db: &str, country: &str) -> Result<DeclarationSet> {
    let country = country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        bail!("--country {country}: expected an ISO 3166 alpha-2 code");
    }
    let movements = crate::transit::runtime()?.block_on(async {
        let store = crate::transit::open(db).await?;
        smartborder_store::route_risk::assessed_movements(&store, &country)
            .await
            .with_context(|| format!("reading the assessments of {country} from {db}"))
    })?;
    let rows: Vec<AssessedGoods<'_>> = movements
        .iter()
        .map(|m| AssessedGoods {
            reference: &m.mrn,
            consignment: &m.consignment,
            date: m.as_of.date_naive(),
            office: &m.office,
            propensity: m.propensity,
            result: m.result.as_ref(),
        })
        .collect();
    let set = smartborder_transit::goods::training_set(&rows);
    let inspected = movements
        .iter()
        .filter(|m| m.result.as_ref().and_then(|r| r.non_compliant()).is_some())
        .count();
    eprintln!(
        "{db}: {} movements assessed by {country} ({inspected} inspected with a result), {} goods items",
        movements.len(),
        set.declarations.len()
    );
    if inspected == 0 {
        bail!(
            "{country} has no inspected movement with a control result yet: record control results (POST /api/v1/movements/{{mrn}}/controls) before training"
        );
    }
    Ok(set)
}

fn load_mapping(arg: &str) -> Result<DeclarationMapping> {
    let path = Path::new(arg);
    if arg == "kcs" && !path.exists() {
        return Ok(DeclarationMapping::from_toml(
            smartborder_ingest::declaration_mapping::KCS_MAPPING,
            "kcs (built in)",
        )?);
    }
    if !path.exists() {
        bail!("mapping {arg}: no such file (give a declaration mapping TOML file, or `kcs`)");
    }
    Ok(DeclarationMapping::from_file(path)?)
}

/// Reads declarations, reports row problems on standard error, and says whether any occurred.
fn load_data(args: &DataArgs) -> Result<(DeclarationsRead, bool)> {
    let mapping = load_mapping(&args.mapping)?;
    let bar = Bar::new(matches!(
        smartborder_ingest::InputKind::of(&args.data),
        Some(smartborder_ingest::InputKind::Csv)
    ));
    let read = read_declarations(&args.data, &mapping, &bar)
        .with_context(|| format!("reading declarations from {}", args.data.display()))?;
    bar.finish();
    eprintln!(
        "{}: {} rows, {} declarations, {} rows left out, {} row problems",
        args.data.display(),
        read.rows_read,
        read.set.declarations.len(),
        read.rows_left_out,
        read.problems.len()
    );
    for p in read.problems.iter().take(20) {
        eprintln!("  {p}");
    }
    if read.problems.len() > 20 {
        eprintln!("  ... and {} more", read.problems.len() - 20);
    }
    let strict_failed = args.strict && !read.problems.is_empty();
    Ok((read, strict_failed))
}

fn exit(strict_failed: bool) -> ExitCode {
    if strict_failed {
        eprintln!("--strict: the input has row problems (listed above)");
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn load_rules(path: &Path, attributes: &[String]) -> Result<RuleSet> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading rule file {}", path.display()))?;
    Ok(parse_rules(
        &text,
        &path.display().to_string(),
        path.parent(),
        attributes,
    )?)
}

fn check(a: CheckArgs) -> Result<ExitCode> {
    let attributes: Vec<String> = match &a.mapping {
        Some(m) if m == "published" && !Path::new(m).exists() => {
            smartborder_ingest::declaration_mapping::published_attribute_names()
        }
        Some(m) => load_mapping(m)?
            .attributes
            .into_iter()
            .map(|(n, _)| n)
            .collect(),
        None => Vec::new(),
    };
    let rules = load_rules(&a.rules, &attributes)?;
    println!(
        "{}: {} profiles, no errors",
        a.rules.display(),
        rules.profiles.len()
    );
    for p in &rules.profiles {
        let lanes: Vec<String> = p
            .actions
            .lanes
            .iter()
            .map(|(l, s)| format!("{l} {:.0}%", s * 100.0))
            .collect();
        println!(
            "  {:<20} line {:<4} {}{}{}  {}",
            p.id,
            p.line,
            if p.value_control.is_some() {
                "value control; "
            } else {
                ""
            },
            lanes.join(", "),
            if p.actions.review { ", review" } else { "" },
            p.description.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn threads(t: Option<usize>) -> usize {
    t.unwrap_or_else(crate::default_threads).max(1)
}

fn train(a: TrainArgs) -> Result<ExitCode> {
    let threads = threads(a.threads);
    let options = a.params.options(threads)?;
    let (set, strict_failed) = match (&a.from_transit, &a.data, &a.mapping) {
        (Some(db), _, _) => (
            transit_training_set(db, a.country.as_deref().unwrap_or_default())?,
            false,
        ),
        (None, Some(data), Some(mapping)) => {
            let (read, strict_failed) = load_data(&DataArgs {
                data: data.clone(),
                mapping: mapping.clone(),
                strict: a.strict,
            })?;
            (read.set, strict_failed)
        }
        _ => bail!("give --data with --mapping, or --from-transit with --country"),
    };
    if options.capacity == Capacity::Validated {
        eprintln!("choosing the model's size by validation on the last fifth of the period");
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let model = RiskModel::train_with(&set, &options, &|p| {
        let (what, done, of) = match p {
            TrainingProgress::Candidates { done, of } => {
                ("choosing the size: candidates", done, of)
            }
            TrainingProgress::Trees { built, of } => ("training: trees", built, of),
        };
        bar.set_length(of as u64);
        bar.set_position(done as u64);
        bar.set_message(what);
    })?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    model.save(&a.model)?;
    if let Some(c) = &model.capacity {
        println!(
            "validation from {} ({} inspected declarations): smoothing, leaf size, trees (at {} times the learning rate), log-loss",
            c.validation_from, c.validation_declarations, SEARCH_SPEED_UP
        );
        for (k, t) in c.candidates.iter().enumerate() {
            println!(
                "  {}{:>5} {:>6} {:>6} {:.5}",
                if k == c.chosen { "* " } else { "  " },
                t.smoothing,
                t.min_child_samples,
                t.trees,
                t.log_loss
            );
        }
    }

    println!(
        "trained on {} inspected declarations ({} non-compliant; {} declarations as context, {} to {}), {} features, {} trees, in {:.2} s -> {}",
        model.training.declarations,
        model.training.illicit,
        model.training.context_declarations,
        model.training.first_date,
        model.training.last_date,
        model.feature_names.len(),
        model.booster.trees.len(),
        seconds,
        a.model.display()
    );
    Ok(exit(strict_failed))
}

/// The metrics table as printed.
fn metrics_table(m: &TargetingMetrics) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "budget  selected  Pre@n   Rec@n   Rev@n");
    for b in &m.budgets {
        let _ = writeln!(
            s,
            "{:>5}%  {:>8}  {:.4}  {:.4}  {}",
            b.budget_percent,
            b.selected,
            b.precision,
            b.recall,
            b.revenue_recall
                .map_or("-".to_string(), |r| format!("{r:.4}"))
        );
    }
    let _ = writeln!(
        s,
        "AUC {}   ({} declarations, {} non-compliant)",
        m.auc.map_or("-".to_string(), |a| format!("{a:.4}")),
        m.declarations,
        m.illicit
    );
    s
}

/// The JSON contract of `risk eval`: `pre@n`, `rec@n` (and `rev@n` with revenue) and `auc` at
/// the top level.
fn metrics_json(m: &TargetingMetrics) -> Map<String, Value> {
    let mut o = Map::new();
    for b in &m.budgets {
        let n = b.budget_percent;
        o.insert(format!("pre@{n}"), json!(b.precision));
        o.insert(format!("rec@{n}"), json!(b.recall));
        if let Some(r) = b.revenue_recall {
            o.insert(format!("rev@{n}"), json!(r));
        }
    }
    o.insert("auc".into(), json!(m.auc));
    o.insert("declarations".into(), json!(m.declarations));
    o.insert("illicit".into(), json!(m.illicit));
    o.insert("budgets".into(), json!(m.budgets));
    o
}

fn write_json_file(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

fn eval(a: EvalArgs) -> Result<ExitCode> {
    let threads = threads(a.threads);
    let model = Scorer::load(&a.model)?;
    let (read, strict_failed) = load_data(&a.data)?;
    let started = Instant::now();
    let all_scores = model.score(&read.set, threads);
    let seconds = started.elapsed().as_secs_f64();
    let (index, labels, revenue) = outcomes(&read.set.declarations);
    if index.is_empty() {
        bail!(
            "{}: no declaration has a recorded outcome (map the non_compliant column) to evaluate on",
            a.data.data.display()
        );
    }
    let scores: Vec<f64> = index.iter().map(|&i| all_scores[i]).collect();
    let metrics = targeting_metrics(&scores, &labels, revenue.as_deref());
    print!("{}", metrics_table(&metrics));
    let rate = all_scores.len() as f64 / seconds.max(1e-9);
    println!(
        "scored {} declarations in {:.3} s ({:.0} declarations/s, features included, {} threads)",
        all_scores.len(),
        seconds,
        rate,
        threads
    );
    let mut out = metrics_json(&metrics);
    out.insert(
        "scoring".into(),
        json!({"declarations": all_scores.len(), "seconds": seconds, "declarations_per_second": rate, "threads": threads}),
    );
    out.insert("model".into(), json!(a.model.display().to_string()));
    out.insert("training".into(), model.training());
    if let Some(rules_path) = &a.rules {
        let rules = load_rules(rules_path, &read.set.attributes)?;
        let perf = rule_performance(&rules, &read.set.declarations);
        let width = perf
            .profiles
            .iter()
            .map(|p| p.profile.len())
            .max()
            .unwrap_or(0)
            .max("overall".len());
        println!(
            "\n{:<width$}    hits  inspection  hit rate  detection",
            "profile"
        );
        for p in perf.profiles.iter().chain([&perf.overall]) {
            println!(
                "{:<width$}  {:>6}   {:>9.4}  {:>8.4}  {:>9.4}",
                p.profile, p.hits, p.inspection_rate, p.hit_rate, p.detection_rate
            );
        }
        out.insert("rules".into(), json!(perf));
    }
    if let Some(path) = &a.json {
        write_json_file(path, &Value::Object(out))?;
    }
    Ok(exit(strict_failed))
}

fn score(a: ScoreArgs) -> Result<ExitCode> {
    let threads = threads(a.threads);
    let model = RiskModel::load(&a.model)?;
    let (read, strict_failed) = load_data(&a.data)?;
    let started = Instant::now();
    let assessed = model.assess(&read.set, threads);
    let scores = &assessed.scores;
    let seconds = started.elapsed().as_secs_f64();
    let mut w =
        csv::Writer::from_path(&a.out).with_context(|| format!("writing {}", a.out.display()))?;
    let mut header = vec!["declaration".to_string(), "office".into(), "score".into()];
    for k in 1..=a.explain {
        header.push(format!("feature_{k}"));
        header.push(format!("contribution_{k}_log_odds"));
    }
    w.write_record(&header)?;
    for (i, (d, s)) in read.set.declarations.iter().zip(scores).enumerate() {
        let mut row = vec![d.id.clone(), d.office.clone(), format!("{s:.6}")];
        if a.explain > 0 {
            let e = model.explain(&assessed, i);
            for k in 0..a.explain {
                match e.contributions.get(k) {
                    Some(c) => {
                        row.push(c.feature.to_string());
                        row.push(format!("{:.6}", c.log_odds));
                    }
                    None => row.extend([String::new(), String::new()]),
                }
            }
        }
        w.write_record(&row)?;
    }
    w.flush()?;
    println!(
        "scored {} declarations in {:.3} s ({:.0}/s) -> {}",
        scores.len(),
        seconds,
        scores.len() as f64 / seconds.max(1e-9),
        a.out.display()
    );
    Ok(exit(strict_failed))
}

fn selectivity(a: SelectArgs) -> Result<ExitCode> {
    let threads = threads(a.threads);
    let (read, strict_failed) = load_data(&a.data)?;
    let rules = load_rules(&a.rules, &read.set.attributes)?;
    let plan_text = std::fs::read_to_string(&a.plan)
        .with_context(|| format!("reading selectivity plan {}", a.plan.display()))?;
    let plan = SelectivityPlan::from_toml(&plan_text, &a.plan.display().to_string())
        .map_err(anyhow::Error::msg)?;
    let model = a.model.as_deref().map(RiskModel::load).transpose()?;
    let assessed = model.as_ref().map(|m| m.assess(&read.set, threads));
    let scores = assessed.as_ref().map(|a| a.scores.as_slice());
    let (decisions, summaries) = select(&read.set.declarations, &rules, scores, &plan);
    let mut w =
        csv::Writer::from_path(&a.out).with_context(|| format!("writing {}", a.out.display()))?;
    w.write_record([
        "declaration",
        "office",
        "lane",
        "decided_by",
        "review",
        "score",
        "rule_score",
        "propensity",
        "reasons",
        "top_features",
    ])?;
    for (i, (d, x)) in read.set.declarations.iter().zip(&decisions).enumerate() {
        let reasons = serde_json::to_string(&x.reasons)?;
        let top = match (&model, &assessed, x.lane) {
            (Some(m), Some(a), lane) if lane != smartborder_model::Lane::Green => m
                .explain(a, i)
                .contributions
                .iter()
                .take(3)
                .map(|c| format!("{} {:+.3}", c.feature, c.log_odds))
                .collect::<Vec<_>>()
                .join("; "),
            _ => String::new(),
        };
        w.write_record([
            d.id.as_str(),
            d.office.as_str(),
            x.lane.as_str(),
            deciding_reason(x),
            if x.review { "yes" } else { "no" },
            &x.score.map_or(String::new(), |s| format!("{s:.6}")),
            &x.rule_score.to_string(),
            &format!("{:.6}", x.propensity),
            &reasons,
            &top,
        ])?;
    }
    w.flush()?;
    println!(
        "office        declarations    red  yellow    blue   green   (criteria/random/exploration/top-up)"
    );
    for s in &summaries {
        let lane = |l: &str| s.by_lane.get(l).copied().unwrap_or(0);
        let reason = |r: &str| s.by_reason.get(r).copied().unwrap_or(0);
        println!(
            "{:<12} {:>13} {:>6} {:>7} {:>7} {:>7}   {}/{}/{}/{}",
            s.office,
            s.declarations,
            lane("red"),
            lane("yellow"),
            lane("blue"),
            lane("green"),
            reason("criteria"),
            reason("random"),
            reason("exploration"),
            reason("top_up"),
        );
    }
    println!("decisions -> {}", a.out.display());
    if let Some(path) = &a.json {
        write_json_file(
            path,
            &json!({"seed": plan.seed, "exploration_share": plan.exploration_share, "offices": summaries}),
        )?;
    }
    Ok(exit(strict_failed))
}

fn run_backtest(a: BacktestArgs) -> Result<ExitCode> {
    let threads = threads(a.threads);
    let options = a.params.options(threads)?;
    let (read, strict_failed) = load_data(&a.data)?;
    match a.rolling.as_deref() {
        None => {}
        Some("month") => {
            let [start] = a.splits[..] else {
                bail!("--rolling month takes one --split: the first month tested");
            };
            let months = rolling_backtest(&read.set, start, &options, threads, &|m| {
                eprintln!("month {}", m.format("%Y-%m"))
            })?;
            println!(
                "month    trained   test   retrained Pre@5  Pre@10  Rec@10   frozen Pre@5  Pre@10  Rec@10"
            );
            let b = |t: &smartborder_risk::metrics::TargetingMetrics, k: usize| {
                t.budgets
                    .get(k)
                    .map_or((f64::NAN, f64::NAN), |b| (b.precision, b.recall))
            };
            for m in &months {
                println!(
                    "{}  {:>7} {:>6}             {:.4}  {:.4}  {:.4}         {:.4}  {:.4}  {:.4}",
                    m.month.format("%Y-%m"),
                    m.train_declarations,
                    m.retrained.declarations,
                    b(&m.retrained, 2).0,
                    b(&m.retrained, 3).0,
                    b(&m.retrained, 3).1,
                    b(&m.frozen, 2).0,
                    b(&m.frozen, 3).0,
                    b(&m.frozen, 3).1,
                );
            }
            if let Some(path) = &a.json {
                write_json_file(path, &json!(months))?;
            }
            return Ok(exit(strict_failed));
        }
        Some(other) => bail!("--rolling {other}: expected month"),
    }
    let periods = backtest(&read.set, &a.splits, &options, threads)?;
    println!(
        "train before  test until   train   test   Pre@1   Pre@2   Pre@5  Pre@10  Rec@10     AUC"
    );
    for p in &periods {
        let pre = |k: usize| p.metrics.budgets.get(k).map_or(f64::NAN, |b| b.precision);
        println!(
            "{}    {:<10} {:>6} {:>6}  {:.4}  {:.4}  {:.4}  {:.4}  {:.4}  {}",
            p.train_until,
            p.test_until.map_or("end".to_string(), |d| d.to_string()),
            p.train_declarations,
            p.metrics.declarations,
            pre(0),
            pre(1),
            pre(2),
            pre(3),
            p.metrics.budgets.get(3).map_or(f64::NAN, |b| b.recall),
            p.metrics.auc.map_or("-".to_string(), |a| format!("{a:.4}")),
        );
    }
    if let Some(path) = &a.json {
        write_json_file(path, &json!(periods))?;
    }
    Ok(exit(strict_failed))
}

fn bands(a: BandsArgs) -> Result<ExitCode> {
    let measure = DeclarationField::from_name(&a.measure)
        .filter(|f| f.kind() == FieldKind::Number)
        .with_context(|| {
            format!(
                "--measure {}: expected a number field (unit_value, value_per_kg, tax_ratio ...)",
                a.measure
            )
        })?;
    if !(0.0..=100.0).contains(&a.low) || !(0.0..=100.0).contains(&a.high) || a.low > a.high {
        bail!("--low and --high are percentiles with 0 <= low <= high <= 100");
    }
    let (read, strict_failed) = load_data(&a.data)?;
    let settings = BandSettings {
        measure,
        low_percentile: a.low,
        high_percentile: a.high,
        min_count: a.min_count,
    };
    let bands = derive_bands(&read.set.declarations, &settings);
    write_bands(&a.out, &bands).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "{} bands of {} (percentiles {}..{}, at least {} declarations each) -> {}",
        bands.len(),
        measure.name(),
        a.low,
        a.high,
        a.min_count,
        a.out.display()
    );
    Ok(exit(strict_failed))
}
