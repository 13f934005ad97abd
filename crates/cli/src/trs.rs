//! `smartborder trs ...`, `smartborder synth trs` and `smartborder demo`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use smartborder_ingest::{InputKind, Mapping, read_studies};
use smartborder_report::collection;
use smartborder_report::{
    Lang, write_compare_html, write_compare_json, write_compare_xlsx, write_html, write_json,
    write_xlsx,
};
use smartborder_synth::{TrsSynthConfig, generate_trs};
use smartborder_trs::compare::{
    CompareOptions, Group, Verdict, common, groups_of_report, groups_of_study,
};
use smartborder_trs::joint::{Side as JointSide, link};
use smartborder_trs::plan::{
    Margin, Pilot, PlanRequest, SamplingPlan, Statistic, plan_from_assumption, plan_from_pilot,
};
use smartborder_trs::trends::TrendPeriod;
use smartborder_trs::{OutlierRule, Study, TrsOptions, TrsReport, analyze, analyze_with_samples};

use crate::progress::Bar;

#[derive(Args)]
pub struct RunArgs {
    /// Input files, read as one study: .csv, .xlsx (.xls, .ods) or .parquet, in any mix; a
    /// pattern with `*` or `?` in its file name (`exports/2026-*.csv`) stands for the files it
    /// matches, in name order.
    #[arg(required_unless_present = "from_transit")]
    input: Vec<PathBuf>,
    /// Mapping file (TOML) that says how to read the input.
    #[arg(long, required_unless_present = "from_transit")]
    mapping: Option<PathBuf>,
    /// Instead of a file: the transit database (sqlite://FILE or postgres://...). One corridor
    /// study per route; each report file name gets the route before its extension.
    #[arg(long, conflicts_with_all = ["input", "mapping"])]
    from_transit: Option<String>,
    #[command(flatten)]
    out: ReportArgs,
    /// Treat any verification finding as an error (the reports are still written).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    extremes: ExtremeArgs,
    /// Trends of every interval and segment per `week` or `month` (of the interval's first
    /// stamp), with control limits on the medians.
    #[arg(long)]
    trends: Option<String>,
    /// Findings listed per kind in the reports (0 = all); counts are always complete.
    #[arg(long, default_value_t = 1000)]
    findings_limit: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// Where the reports go, and in which language.
#[derive(Args)]
struct ReportArgs {
    /// Write the HTML report here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write the JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the Excel workbook here.
    #[arg(long)]
    xlsx: Option<PathBuf>,
    /// Report language: en or ru.
    #[arg(long, default_value = "en")]
    lang: Lang,
}

impl ReportArgs {
    fn require_one(&self) -> Result<()> {
        if self.html.is_none() && self.json.is_none() && self.xlsx.is_none() {
            bail!("nothing to write: give at least one of --html, --json, --xlsx");
        }
        Ok(())
    }
}

/// How extreme values are found and whether they count.
#[derive(Args)]
struct ExtremeArgs {
    /// Leave extreme values out of the statistics (they are always reported, and the headline
    /// figures are given with and without them).
    #[arg(long)]
    exclude_extremes: bool,
    /// How extreme values are found, per interval and office: `iqr` (below Q1 - k IQR or above
    /// Q3 + k IQR), `trim` (below the p-th or above the (100 - p)-th percentile), or `none`.
    #[arg(long, default_value = "iqr")]
    outliers: String,
    /// k of the `iqr` rule.
    #[arg(long, default_value_t = 3.0)]
    iqr_factor: f64,
    /// p of the `trim` rule, in percent (0 < p < 50).
    #[arg(long, default_value_t = 1.0)]
    trim_percent: f64,
}

impl ExtremeArgs {
    fn rule(&self) -> Result<OutlierRule> {
        if !(self.iqr_factor.is_finite() && self.iqr_factor > 0.0) {
            bail!(
                "--iqr-factor: expected a positive number, found {}",
                self.iqr_factor
            );
        }
        Ok(match self.outliers.as_str() {
            "iqr" => OutlierRule::Iqr { k: self.iqr_factor },
            "trim" if self.trim_percent > 0.0 && self.trim_percent < 50.0 => OutlierRule::Trim {
                percent: self.trim_percent,
            },
            "trim" => bail!(
                "--trim-percent: expected a share above 0 and below 50, found {}",
                self.trim_percent
            ),
            "none" => OutlierRule::None,
            other => bail!("--outliers {other}: expected iqr, trim or none"),
        })
    }
}

#[derive(Args)]
pub struct SynthArgs {
    /// Number of consignments.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) consignments: u64,
    /// Random seed: the same seed always gives the same files.
    #[arg(long, default_value_t = 2026)]
    pub(crate) seed: u64,
    /// Output directory.
    #[arg(long, default_value = "synth")]
    pub(crate) out: PathBuf,
    /// Share of consignments with one injected data fault (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) faults: f64,
    /// Formats to write: csv, parquet or both.
    #[arg(long, default_value = "both")]
    pub(crate) format: String,
}

pub fn synth(a: SynthArgs) -> Result<(PathBuf, PathBuf)> {
    if !(0.0..=1.0).contains(&a.faults) {
        bail!(
            "--faults: expected a share between 0 and 1, found {}",
            a.faults
        );
    }
    let (csv, parquet) = match a.format.as_str() {
        "csv" => (true, false),
        "parquet" => (false, true),
        "both" => (true, true),
        other => bail!("--format: expected csv, parquet or both, found \"{other}\""),
    };
    let config = TrsSynthConfig {
        consignments: a.consignments,
        seed: a.seed,
        fault_rate: a.faults,
        csv,
        parquet,
    };
    let bar = ProgressBar::new(a.consignments);
    let started = Instant::now();
    let (out, summary) = generate_trs(&config, &a.out, &mut |done| bar.set_position(done))
        .context("generating synthetic TRS data")?;
    bar.finish_and_clear();
    for p in [&out.csv, &out.parquet].into_iter().flatten() {
        println!("wrote {}", p.display());
    }
    println!("wrote {}", out.mapping.display());
    let injected: Vec<String> = summary
        .faults
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k:?}: {n}"))
        .collect();
    println!(
        "{} consignments, {} rows in {:.1} s{}",
        summary.consignments,
        summary.rows,
        started.elapsed().as_secs_f64(),
        if injected.is_empty() {
            String::new()
        } else {
            format!("; injected faults: {}", injected.join(", "))
        }
    );
    let input = out
        .csv
        .or(out.parquet)
        .context("no output format selected")?;
    Ok((input, out.mapping))
}

/// `path` with `tag` before its extension: report.html -> report.TAG.html.
fn tagged(path: Option<&Path>, tag: &str) -> Option<PathBuf> {
    path.map(|p| {
        let stem = p
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned());
        let name = match p.extension() {
            Some(ext) => format!("{stem}.{tag}.{}", ext.to_string_lossy()),
            None => format!("{stem}.{tag}"),
        };
        p.with_file_name(name)
    })
}

/// Corridor time from recorded transit movements: one TRS report per route.
fn corridor(db: &str, a: &RunArgs, options: &TrsOptions) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let movements = runtime.block_on(async {
        let store = smartborder_store::Store::open(db)
            .await
            .with_context(|| format!("opening {db}"))?;
        anyhow::Ok(smartborder_store::read::all_movements(&store).await?)
    })?;
    let studies = smartborder_trs::corridor::corridor_studies(&movements);
    if studies.is_empty() {
        bail!("{db}: no movement has been released for transit yet; nothing to measure");
    }
    for s in &studies {
        let report = analyze(
            &format!("{db} route {}", s.route),
            &s.table,
            &s.design,
            Vec::new(),
            s.table.len() as u64,
            s.table.len() as u64,
            options,
        );
        let tag = s.route.replace('>', "-");
        println!("route {}: {} movements", s.route, s.table.len());
        write_reports(
            &report,
            a.out.lang,
            tagged(a.out.html.as_deref(), &tag).as_deref(),
            tagged(a.out.json.as_deref(), &tag).as_deref(),
            tagged(a.out.xlsx.as_deref(), &tag).as_deref(),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The files named, with each pattern (`*` or `?` in the file name) replaced by the files it
/// matches in its directory, in name order. A pattern that matches nothing is an error.
fn expand_patterns(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        let name = input.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if input.exists() || !(name.contains('*') || name.contains('?')) {
            out.push(input.clone());
            continue;
        }
        // Matches keep the pattern's directory as written ("part-*.csv" gives "part-a.csv").
        let base = input.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = base.unwrap_or(Path::new("."));
        let mut matched: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("{}: reading the directory of the pattern", dir.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| matches_pattern(name, n))
            })
            .map(|e| base.map_or_else(|| PathBuf::from(e.file_name()), |b| b.join(e.file_name())))
            .collect();
        if matched.is_empty() {
            bail!("{}: no file matches this pattern", input.display());
        }
        matched.sort();
        out.extend(matched);
    }
    Ok(out)
}

/// Whether a file name matches a pattern where `*` stands for any characters and `?` for one.
fn matches_pattern(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// Reads, verifies and analyses a study of one or more input files.
pub(crate) fn study(inputs: &[PathBuf], mapping: &Path, options: &TrsOptions) -> Result<TrsReport> {
    Ok(read_and_analyse(inputs, mapping, options, false)?.0)
}

/// Reads the files of one study with a progress bar; returns it and the files' names as shown.
fn read_inputs(
    inputs: &[PathBuf],
    mapping: &Mapping,
    threads: usize,
) -> Result<(smartborder_ingest::Ingested, String)> {
    let shown = inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let bar = Bar::new(
        inputs
            .iter()
            .all(|i| InputKind::of(i) == Some(InputKind::Csv)),
    );
    let ingested =
        read_studies(inputs, mapping, &bar, threads).with_context(|| format!("reading {shown}"))?;
    bar.finish();
    Ok((ingested, shown))
}

/// Reads, verifies and analyses a study; with `groups`, also each interval and segment's
/// durations (for a comparison).
fn read_and_analyse(
    inputs: &[PathBuf],
    mapping: &Path,
    options: &TrsOptions,
    groups: bool,
) -> Result<(TrsReport, Vec<Group>)> {
    let mapping = Mapping::from_file(mapping)?;
    let started = Instant::now();
    let (ingested, shown) = read_inputs(inputs, &mapping, options.threads)?;
    let read = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let study = Study {
        input: &shown,
        table: &ingested.table,
        design: &mapping.design,
        consignments_read: ingested.consignments_read,
        rows_read: ingested.rows_read,
    };
    let (report, groups) = if groups {
        let (report, samples) = analyze_with_samples(&study, ingested.findings, options);
        let groups = groups_of_study(&ingested.table, &mapping.design, &report, &samples);
        (report, groups)
    } else {
        let report = analyze(
            &shown,
            &ingested.table,
            &mapping.design,
            ingested.findings,
            ingested.consignments_read,
            ingested.rows_read,
            options,
        );
        (report, Vec::new())
    };
    eprintln!(
        "{shown}: read and verified in {read:.1} s, analysed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok((report, groups))
}

#[derive(Args)]
pub struct CompareArgs {
    /// The study before the change: an export (.csv, .xlsx, .parquet; a pattern with `*` or
    /// `?` in the file name for many files) read with --mapping, or a `report.json` written by
    /// `trs run` (summaries only: no bootstrap or U test for its comparisons).
    before: PathBuf,
    /// The study after the change, likewise.
    after: PathBuf,
    /// Mapping of the exports (of both, unless --after-mapping is given).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Mapping of the after export, when it differs.
    #[arg(long)]
    after_mapping: Option<PathBuf>,
    #[command(flatten)]
    out: ReportArgs,
    /// Bootstrap resamples per interval and segment.
    #[arg(long, default_value_t = 1000)]
    resamples: usize,
    /// Seed of the bootstrap: the same seed gives the same intervals.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    #[command(flatten)]
    extremes: ExtremeArgs,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct PlanArgs {
    /// A pilot export (any format; patterns allowed), read with --mapping: each stratum's
    /// spread comes from it.
    #[arg(required_unless_present = "assumed_std_minutes")]
    pilot: Vec<PathBuf>,
    /// Mapping of the pilot.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// The interval to estimate, `FROM:TO` (stage names of the mapping).
    #[arg(long, default_value = "arrival:release")]
    interval: String,
    /// `mean` or `median`.
    #[arg(long, default_value = "median")]
    statistic: String,
    /// Margin of error, in minutes.
    #[arg(
        long,
        required_unless_present = "margin_percent",
        conflicts_with = "margin_percent"
    )]
    margin_minutes: Option<f64>,
    /// Margin of error, in percent of each stratum's pilot estimate.
    #[arg(long)]
    margin_percent: Option<f64>,
    /// Two-sided confidence level.
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
    /// Stratify by this segment of the mapping (office, lane, mode ...): a sample per value.
    #[arg(long)]
    by: Option<String>,
    /// Days the study will record: the finite-population correction, with each stratum's
    /// consignments in that period estimated from the pilot's.
    #[arg(long)]
    study_days: Option<f64>,
    /// Without a pilot: the standard deviation assumed for the interval, in minutes.
    #[arg(long, conflicts_with_all = ["pilot", "by", "margin_percent", "study_days"])]
    assumed_std_minutes: Option<f64>,
    /// Write the plan as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Worker threads for reading the pilot (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn plan(a: PlanArgs) -> Result<ExitCode> {
    let statistic = match a.statistic.as_str() {
        "mean" => Statistic::Mean,
        "median" => Statistic::Median,
        other => bail!("--statistic {other}: expected mean or median"),
    };
    let margin = match (a.margin_minutes, a.margin_percent) {
        (Some(m), _) if m.is_finite() && m > 0.0 => Margin::Minutes(m),
        (Some(m), _) => bail!("--margin-minutes: expected a number above 0, found {m}"),
        (None, Some(p)) if p.is_finite() && p > 0.0 && p < 100.0 => Margin::Percent(p),
        (None, Some(p)) => {
            bail!("--margin-percent: expected a number above 0 and below 100, found {p}")
        }
        (None, None) => bail!("give --margin-minutes or --margin-percent"),
    };
    if !(a.confidence > 0.5 && a.confidence < 1.0) {
        bail!(
            "--confidence: expected a level above 0.5 and below 1 (0.95), found {}",
            a.confidence
        );
    }
    if let Some(d) = a.study_days.filter(|d| !(d.is_finite() && *d > 0.0)) {
        bail!("--study-days: expected a number of days above 0, found {d}");
    }
    let Some((from, to)) = a.interval.split_once(':') else {
        bail!(
            "--interval {}: expected FROM:TO, two stage names of the mapping",
            a.interval
        );
    };
    let request = PlanRequest {
        statistic,
        margin,
        confidence: a.confidence,
        study_days: a.study_days,
    };
    let plan = match a.assumed_std_minutes {
        Some(s) if s.is_finite() && s > 0.0 => plan_from_assumption(from, to, s, &request),
        Some(s) => bail!("--assumed-std-minutes: expected a number above 0, found {s}"),
        None => {
            let Some(mapping) = &a.mapping else {
                bail!("a pilot export needs --mapping to be read");
            };
            let mapping = Mapping::from_file(mapping)?;
            let inputs = expand_patterns(&a.pilot)?;
            let threads = a.threads.unwrap_or_else(crate::default_threads).max(1);
            let (ingested, _) =
                read_inputs(&inputs, &mapping, threads).context("reading the pilot")?;
            let pilot = Pilot::new(&ingested.table, &mapping.design, from, to, a.by.as_deref())?;
            plan_from_pilot(&pilot, &request)
        }
    };
    let minutes = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
    println!(
        "sampling plan: the {} of {} -> {} within {} at {}% confidence (z = {:.3}){}",
        a.statistic,
        plan.interval_from,
        plan.interval_to,
        match margin {
            Margin::Minutes(m) => format!("{m} min"),
            Margin::Percent(p) => format!("{p}% of each stratum's pilot {}", a.statistic),
        },
        a.confidence * 100.0,
        plan.z,
        plan.pilot_days
            .map_or_else(String::new, |d| format!("; pilot of {d} days"))
    );
    println!(
        "{:<24} {:>8} {:>11} {:>11} {:>11} {:>11} {:>10} {:>12}",
        "stratum",
        "pilot",
        "median_min",
        "mean_min",
        "std_min",
        "margin_min",
        "sample",
        "in_period"
    );
    for s in &plan.strata {
        println!(
            "{:<24} {:>8} {:>11} {:>11} {:>11} {:>11} {:>10} {:>12}{}",
            s.stratum,
            s.pilot_count,
            minutes(s.pilot_median_minutes),
            minutes(s.pilot_mean_minutes),
            minutes(s.pilot_std_minutes),
            minutes(s.margin_minutes),
            s.sample.map_or_else(|| "-".to_string(), |n| n.to_string()),
            s.expected_population
                .map_or_else(|| "-".to_string(), |n| n.to_string()),
            s.note
                .as_deref()
                .map_or_else(String::new, |n| format!("  ({n})"))
        );
    }
    match (&plan.stratified_by, plan.total_sample) {
        (Some(by), Some(n)) => println!("total over the strata by {by}: {n} consignments"),
        (Some(by), None) => println!(
            "total over the strata by {by}: not every stratum can be planned (see the notes)"
        ),
        _ => {}
    }
    println!("method: {}", plan.method);
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_vec_pretty(&plan)?)
            .with_context(|| format!("writing {}", p.display()))?;
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct WorkbookArgs {
    /// Mapping of the study (wide layout): the workbook has its columns.
    #[arg(long)]
    mapping: PathBuf,
    /// A post: `NAME`, or `NAME=ZONE` (IANA) when the mapping reads zones from a column and the
    /// post is not a corridor office SmartBorder knows. Repeat for each post.
    #[arg(long = "post")]
    posts: Vec<String>,
    /// A plan written by `trs plan --by office --json`: a sheet per office of the plan (unless
    /// --post names them), each with the plan's sample as its rows.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Rows per post when no plan gives them.
    #[arg(long, default_value_t = 100)]
    rows: u32,
    /// Write the workbook here (.xlsx); the mapping to read it back is written beside it
    /// (NAME.mapping.toml).
    #[arg(long)]
    out: PathBuf,
    /// Language of the instructions: en or ru.
    #[arg(long, default_value = "en")]
    lang: Lang,
}

/// `smartborder trs workbook`: the manual collection workbook and the mapping that reads it.
pub fn workbook(a: WorkbookArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&a.mapping)
        .with_context(|| format!("reading {}", a.mapping.display()))?;
    let mapping = Mapping::from_toml(&text, &a.mapping.display().to_string())?;
    if !a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
    {
        bail!("--out {}: expected a .xlsx file", a.out.display());
    }
    let plan: Option<SamplingPlan> = match &a.plan {
        Some(p) => Some(
            serde_json::from_slice(
                &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            )
            .with_context(|| format!("{}: not a plan written by `trs plan --json`", p.display()))?,
        ),
        None => None,
    };
    let mapping_out = a.out.with_extension("mapping.toml");
    let mapping_name = mapping_out
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let (design, mapping_text) = collection::design_from_mapping(
        &mapping,
        &text,
        &a.posts,
        plan.as_ref(),
        a.rows,
        &mapping_name,
    )
    .with_context(|| format!("{}", a.mapping.display()))?;
    let bytes = collection::workbook(&design, a.lang)
        .with_context(|| format!("writing {}", a.out.display()))?;
    std::fs::write(&a.out, bytes).with_context(|| format!("writing {}", a.out.display()))?;
    std::fs::write(&mapping_out, mapping_text)
        .with_context(|| format!("writing {}", mapping_out.display()))?;
    println!("wrote {}", a.out.display());
    println!("wrote {}", mapping_out.display());
    for (p, sheet) in design
        .posts
        .iter()
        .zip(collection::sheet_names(&design.posts))
    {
        println!("  sheet \"{sheet}\": {} rows", p.rows);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct JointArgs {
    /// The export of the administration the goods leave (A): a file or a pattern.
    a: PathBuf,
    /// The export of the administration they enter (B).
    b: PathBuf,
    /// Mapping of A's export.
    #[arg(long)]
    a_mapping: PathBuf,
    /// Mapping of B's export.
    #[arg(long)]
    b_mapping: PathBuf,
    /// The column of A's export holding the key both record.
    #[arg(long)]
    a_key: String,
    /// The column of B's export holding it.
    #[arg(long)]
    b_key: String,
    /// What the key is: `mrn` (transit MRN), `tir` (TIR carnet), `container`, or `plate`
    /// (vehicle plate, which needs --window-hours).
    #[arg(long, default_value = "mrn")]
    link: String,
    /// A partner at B must arrive within this many hours of A's last stamp.
    #[arg(long)]
    window_hours: Option<f64>,
    /// A's name in the timeline (a country code).
    #[arg(long, default_value = "A")]
    a_name: String,
    /// B's name in the timeline.
    #[arg(long, default_value = "B")]
    b_name: String,
    #[command(flatten)]
    out: ReportArgs,
    #[command(flatten)]
    extremes: ExtremeArgs,
    /// Findings listed per kind in the reports (0 = all); counts are always complete.
    #[arg(long, default_value_t = 1000)]
    findings_limit: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// The segment a joint study reads the link key into.
const LINK_KEY: &str = "link_key";

/// Reads one side of a joint study with the key's column as one more segment.
fn joint_side(
    input: &Path,
    mapping: &Path,
    key: &str,
    threads: usize,
) -> Result<(smartborder_ingest::Ingested, Mapping, String)> {
    let mut mapping = Mapping::from_file(mapping)?;
    if mapping.design.segments.iter().any(|s| s == LINK_KEY) {
        bail!("the mapping already has a segment named {LINK_KEY}");
    }
    mapping.segment_columns.push(key.to_string());
    mapping.design.segments.push(LINK_KEY.to_string());
    let inputs = expand_patterns(&[input.to_path_buf()])?;
    let (ingested, shown) =
        read_inputs(&inputs, &mapping, threads).with_context(|| format!("key column \"{key}\""))?;
    Ok((ingested, mapping, shown))
}

/// `smartborder trs joint`: a joint border study of two administrations' exports.
pub fn joint(a: JointArgs) -> Result<ExitCode> {
    a.out.require_one()?;
    let window = match (a.link.as_str(), a.window_hours) {
        (_, Some(h)) if !(h.is_finite() && h > 0.0) => {
            bail!("--window-hours: expected a number of hours above 0, found {h}")
        }
        ("plate", None) => bail!(
            "--link plate: a vehicle crosses again and again; give --window-hours (the longest plausible time from A's last stamp to B's first)"
        ),
        ("mrn" | "tir" | "container" | "plate", h) => h.map(|h| (h * 3600.0).round() as i64),
        (other, _) => bail!("--link {other}: expected mrn, tir, container or plate"),
    };
    if a.a_name == a.b_name || a.a_name.is_empty() || a.b_name.is_empty() {
        bail!("--a-name and --b-name: expected two different names");
    }
    let threads = a.threads.unwrap_or_else(crate::default_threads).max(1);
    let (ia, ma, sa) = joint_side(&a.a, &a.a_mapping, &a.a_key, threads)?;
    let (ib, mb, sb) = joint_side(&a.b, &a.b_mapping, &a.b_key, threads)?;
    let key_of = |m: &Mapping| m.design.segments.len() - 1;
    let joint = link(
        &JointSide {
            name: &a.a_name,
            table: &ia.table,
            design: &ma.design,
            key: key_of(&ma),
            input: &sa,
        },
        &JointSide {
            name: &a.b_name,
            table: &ib.table,
            design: &mb.design,
            key: key_of(&mb),
            input: &sb,
        },
        window,
    );
    let l = &joint.summary;
    eprintln!(
        "{} linked; {} of {} and {} of {} without a partner; {} of {} and {} of {} ambiguous; {} and {} without a key",
        l.linked,
        l.unmatched_a,
        a.a_name,
        l.unmatched_b,
        a.b_name,
        l.ambiguous_a,
        a.a_name,
        l.ambiguous_b,
        a.b_name,
        l.without_key_a,
        l.without_key_b
    );
    if joint.table.is_empty() {
        bail!(
            "no consignment of {} was linked to one of {}: check --a-key / --b-key and the window",
            a.a_name,
            a.b_name
        );
    }
    let mut findings = ia.findings;
    findings.extend(ib.findings);
    findings.extend(joint.findings);
    let options = TrsOptions {
        exclude_extremes: a.extremes.exclude_extremes,
        outliers: a.extremes.rule()?,
        trends: None,
        findings_limit: a.findings_limit,
        threads,
    };
    let report = analyze(
        &format!("{} ({sa}) + {} ({sb})", a.a_name, a.b_name),
        &joint.table,
        &joint.design,
        findings,
        ia.consignments_read + ib.consignments_read,
        ia.rows_read + ib.rows_read,
        &options,
    );
    write_reports(
        &report,
        a.out.lang,
        a.out.html.as_deref(),
        a.out.json.as_deref(),
        a.out.xlsx.as_deref(),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// One side of a comparison: its name and groups.
fn side(path: &Path, mapping: Option<&Path>, options: &TrsOptions) -> Result<(String, Vec<Group>)> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let report: TrsReport = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a TRS report (the report.json that `trs run --json` writes)",
                path.display()
            )
        })?;
        return Ok((path.display().to_string(), groups_of_report(&report)));
    }
    let Some(mapping) = mapping else {
        bail!(
            "{}: an export needs --mapping to be read (or give a report.json)",
            path.display()
        );
    };
    let inputs = expand_patterns(&[path.to_path_buf()])?;
    let (report, groups) = read_and_analyse(&inputs, mapping, options, true)?;
    Ok((report.input, groups))
}

pub fn compare(a: CompareArgs) -> Result<ExitCode> {
    a.out.require_one()?;
    if a.resamples < 100 {
        bail!("--resamples: expected at least 100, found {}", a.resamples);
    }
    let threads = a.threads.unwrap_or_else(crate::default_threads).max(1);
    let options = TrsOptions {
        exclude_extremes: a.extremes.exclude_extremes,
        outliers: a.extremes.rule()?,
        trends: None,
        findings_limit: 0,
        threads,
    };
    let (before_name, before) = side(&a.before, a.mapping.as_deref(), &options)?;
    let after_mapping = a.after_mapping.as_deref().or(a.mapping.as_deref());
    let (after_name, after) = side(&a.after, after_mapping, &options)?;
    let started = Instant::now();
    let bar = ProgressBar::new(common(&before, &after) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "comparing [{bar:40}] {pos}/{len} intervals and segments ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let report = smartborder_trs::compare::compare(
        &before_name,
        &after_name,
        &before,
        &after,
        &CompareOptions {
            resamples: a.resamples,
            seed: a.seed,
            threads,
        },
        &|done| bar.set_position(done as u64),
    );
    bar.finish_and_clear();
    if report.comparisons.is_empty() {
        bail!(
            "{before_name} and {after_name} have no interval and segment in common: check that both were read with the same stages and segments"
        );
    }
    if let Some(p) = &a.out.html {
        write_compare_html(&report, a.out.lang, p)?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = &a.out.json {
        write_compare_json(&report, p)?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = &a.out.xlsx {
        write_compare_xlsx(&report, a.out.lang, p)?;
        println!("wrote {}", p.display());
    }
    let count = |v: Verdict| report.comparisons.iter().filter(|c| c.verdict == v).count();
    eprintln!(
        "{} intervals and segments compared in {:.1} s: {} improved, {} worsened, {} where the data cannot tell, {} with too few consignments",
        report.comparisons.len(),
        started.elapsed().as_secs_f64(),
        count(Verdict::Improved),
        count(Verdict::Worsened),
        count(Verdict::NoClearChange),
        count(Verdict::TooFew)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: RunArgs) -> Result<ExitCode> {
    a.out.require_one()?;
    let outliers = a.extremes.rule()?;
    let trends = match a.trends.as_deref() {
        None => None,
        Some("week") => Some(TrendPeriod::Week),
        Some("month") => Some(TrendPeriod::Month),
        Some(other) => bail!("--trends {other}: expected week or month"),
    };
    let options = TrsOptions {
        exclude_extremes: a.extremes.exclude_extremes,
        outliers,
        trends,
        findings_limit: a.findings_limit,
        threads: a.threads.unwrap_or_else(crate::default_threads).max(1),
    };
    if let Some(db) = &a.from_transit {
        return corridor(db, &a, &options);
    }
    let (false, Some(mapping)) = (a.input.is_empty(), &a.mapping) else {
        bail!("give input files and --mapping, or --from-transit DB");
    };
    let inputs = expand_patterns(&a.input)?;
    let started = Instant::now();
    let report = study(&inputs, mapping, &options)?;
    write_reports(
        &report,
        a.out.lang,
        a.out.html.as_deref(),
        a.out.json.as_deref(),
        a.out.xlsx.as_deref(),
    )?;
    let findings: u64 = report.findings_summary.iter().map(|f| f.count).sum();
    eprintln!(
        "{} consignments read, {} analysed, {} findings, {:.1} s",
        report.consignments,
        report.consignments_analysed,
        findings,
        started.elapsed().as_secs_f64()
    );
    if a.strict && findings > 0 {
        let kinds: Vec<String> = report
            .findings_summary
            .iter()
            .map(|f| format!("{} {}", f.count, f.kind.code()))
            .collect();
        eprintln!("error: --strict: verification found {}", kinds.join(", "));
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn write_reports(
    report: &TrsReport,
    lang: Lang,
    html: Option<&Path>,
    json: Option<&Path>,
    xlsx: Option<&Path>,
) -> Result<()> {
    if let Some(p) = html {
        write_html(report, lang, p)?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = json {
        write_json(report, p)?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = xlsx {
        write_xlsx(report, lang, p)?;
        println!("wrote {}", p.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

    #[test]
    fn patterns_match_file_names() {
        for (pattern, name) in [
            ("2026-*.csv", "2026-01.csv"),
            ("*", "x"),
            ("a?c", "abc"),
            ("*-*.parquet", "kz-march.parquet"),
            ("a*b*c", "aXbYbZc"),
            ("exact.csv", "exact.csv"),
        ] {
            assert!(matches_pattern(pattern, name), "{pattern} {name}");
        }
        for (pattern, name) in [
            ("2026-*.csv", "2025-01.csv"),
            ("a?c", "ac"),
            ("*.csv", "data.csv.bak"),
            ("a*b*c", "aXbY"),
        ] {
            assert!(!matches_pattern(pattern, name), "{pattern} {name}");
        }
    }
}
