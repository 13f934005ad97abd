//! `smartborder trs ...`, `smartborder synth trs` and `smartborder demo`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::ProgressBar;
use smartborder_ingest::{InputKind, Mapping, read_study};
use smartborder_report::{Lang, write_html, write_json, write_xlsx};
use smartborder_synth::{TrsSynthConfig, generate_trs};
use smartborder_trs::{TrsOptions, TrsReport, analyze};

use crate::progress::Bar;

#[derive(Args)]
pub struct RunArgs {
    /// Input file: .csv, .xlsx (.xls, .ods) or .parquet.
    #[arg(required_unless_present = "from_transit")]
    input: Option<PathBuf>,
    /// Mapping file (TOML) that says how to read the input.
    #[arg(long, required_unless_present = "from_transit")]
    mapping: Option<PathBuf>,
    /// Instead of a file: the transit database (sqlite://FILE or postgres://...). One corridor
    /// study per route; each report file name gets the route before its extension.
    #[arg(long, conflicts_with_all = ["input", "mapping"])]
    from_transit: Option<String>,
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
    /// Treat any verification finding as an error (the reports are still written).
    #[arg(long)]
    strict: bool,
    /// Leave extreme values out of the statistics (they are always reported).
    #[arg(long)]
    exclude_extremes: bool,
    /// k of the extreme-value fences Q1 - k IQR and Q3 + k IQR.
    #[arg(long, default_value_t = 3.0)]
    iqr_factor: f64,
    /// Findings listed per kind in the reports (0 = all); counts are always complete.
    #[arg(long, default_value_t = 1000)]
    findings_limit: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
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
            a.lang,
            tagged(a.html.as_deref(), &tag).as_deref(),
            tagged(a.json.as_deref(), &tag).as_deref(),
            tagged(a.xlsx.as_deref(), &tag).as_deref(),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads, verifies and analyses a study.
pub(crate) fn study(input: &Path, mapping: &Path, options: &TrsOptions) -> Result<TrsReport> {
    let mapping = Mapping::from_file(mapping)?;
    let bar = Bar::new(InputKind::of(input) == Some(InputKind::Csv));
    let started = Instant::now();
    let ingested = read_study(input, &mapping, &bar, options.threads)
        .with_context(|| format!("reading {}", input.display()))?;
    bar.finish();
    let read = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let report = analyze(
        &input.display().to_string(),
        &ingested.table,
        &mapping.design,
        ingested.findings,
        ingested.consignments_read,
        ingested.rows_read,
        options,
    );
    eprintln!(
        "read and verified in {read:.1} s, analysed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(report)
}

pub fn run(a: RunArgs) -> Result<ExitCode> {
    if a.html.is_none() && a.json.is_none() && a.xlsx.is_none() {
        bail!("nothing to write: give at least one of --html, --json, --xlsx");
    }
    if !(a.iqr_factor.is_finite() && a.iqr_factor > 0.0) {
        bail!(
            "--iqr-factor: expected a positive number, found {}",
            a.iqr_factor
        );
    }
    let options = TrsOptions {
        exclude_extremes: a.exclude_extremes,
        extreme_iqr_factor: a.iqr_factor,
        findings_limit: a.findings_limit,
        threads: a.threads.unwrap_or_else(crate::default_threads).max(1),
    };
    if let Some(db) = &a.from_transit {
        return corridor(db, &a, &options);
    }
    let (Some(input), Some(mapping)) = (&a.input, &a.mapping) else {
        bail!("give an input file and --mapping, or --from-transit DB");
    };
    let started = Instant::now();
    let report = study(input, mapping, &options)?;
    write_reports(
        &report,
        a.lang,
        a.html.as_deref(),
        a.json.as_deref(),
        a.xlsx.as_deref(),
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
