//! From a stamp table to a TRS report.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Datelike, Timelike};
use serde::Serialize;
use smartborder_model::table::NO_VALUE;
use smartborder_model::{
    Finding, FindingKind, IntervalDef, IntervalKind, MISSING, StampRef, StampTable, StudyDesign,
    ZoneResolver,
};

use crate::stats::{HISTOGRAM_EDGES_MINUTES, Summary, histogram, quantiles, summarize};
use crate::trends::{self, TrendPeriod, TrendSeries, Trends, interval_trends};

/// Choices the analyst makes when running a study.
#[derive(Debug, Clone)]
pub struct TrsOptions {
    /// Leave extreme values (outliers) out of the statistics (default: keep them).
    pub exclude_extremes: bool,
    /// How extreme values are found.
    pub outliers: OutlierRule,
    /// Trends per week or month (none by default).
    pub trends: Option<TrendPeriod>,
    /// Findings listed per kind in the report (0 = all); the counts are always complete.
    pub findings_limit: usize,
    pub threads: usize,
}

impl Default for TrsOptions {
    fn default() -> Self {
        TrsOptions {
            exclude_extremes: false,
            outliers: OutlierRule::Iqr { k: 3.0 },
            trends: None,
            findings_limit: 1000,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// How extreme values (outliers) of an interval are found, per office (or over the whole
/// population when the study has no office segment), as the WCO TRS Guide (version 4) asks a
/// study to say.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum OutlierRule {
    /// Below Q1 − k·IQR or above Q3 + k·IQR (IQR = Q3 − Q1).
    Iqr { k: f64 },
    /// Below the p-th or above the (100 − p)-th percentile (trimming p% at each end).
    Trim { percent: f64 },
    /// No value is an outlier.
    None,
}

impl OutlierRule {
    /// The rule in words, for the report.
    pub fn describe(self) -> String {
        match self {
            OutlierRule::Iqr { k } => format!(
                "Per interval and office: a duration below Q1 - {k} IQR or above Q3 + {k} IQR is an extreme value (IQR = Q3 - Q1)."
            ),
            OutlierRule::Trim { percent } => format!(
                "Per interval and office: a duration below the {percent}th or above the {}th percentile is an extreme value (trimming {percent}% at each end).",
                100.0 - percent
            ),
            OutlierRule::None => "No rule for extreme values: every duration counts.".to_string(),
        }
    }
}

/// The headline figures of a total interval for the whole population, with and without the
/// extreme values, whichever the statistics use.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct HeadlineFigures {
    pub from: String,
    pub to: String,
    pub with_outliers: Summary,
    pub without_outliers: Summary,
}

/// Statistics of one interval for one segment value (or the whole population).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct IntervalStats {
    pub from: String,
    pub to: String,
    pub kind: IntervalKind,
    /// "all", or the name of the segment.
    pub segment_by: String,
    /// The segment value; `None` for "all".
    pub segment: Option<String>,
    #[serde(flatten)]
    pub summary: Summary,
}

/// Distribution of one interval over the whole population.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Histogram {
    pub from: String,
    pub to: String,
    /// Upper bin edges in minutes; the last bin (beyond the last edge) is open.
    pub edges_minutes: Vec<f64>,
    pub counts: Vec<u64>,
}

/// One stage's part of the total, in a bottleneck ranking.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BottleneckStage {
    pub from: String,
    pub to: String,
    pub count: u64,
    pub mean_minutes: f64,
    /// mean of this interval / sum of the means of all consecutive intervals.
    pub share: f64,
}

/// Consecutive intervals ranked by their share of the time, for one segment value.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Bottleneck {
    pub segment_by: String,
    pub segment: Option<String>,
    pub stages: Vec<BottleneckStage>,
}

/// Arrivals by local hour of day and day of week, and the median release time of each cell.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ArrivalPattern {
    /// `counts[day][hour]`, Monday first.
    pub counts: Vec<Vec<u64>>,
    /// Median arrival-to-release minutes per cell (null when no consignment was released).
    pub median_release_minutes: Vec<Vec<Option<f64>>>,
    /// Arrivals placed on UTC because the row had no zone.
    pub rows_without_zone: u64,
}

/// How many findings of one kind there are and how many the report lists.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FindingCount {
    pub kind: FindingKind,
    pub count: u64,
    pub listed: u64,
}

/// The method, as the report states it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Method {
    pub interval_rule: String,
    pub quantiles: String,
    pub standard_deviation: String,
    pub extreme_values: String,
    /// The rule that finds extreme values.
    pub outlier_rule: OutlierRule,
    pub extremes_excluded: bool,
    pub bottleneck_share: String,
    pub working_time_measured: bool,
    pub working_time: String,
    pub duplicates: String,
}

/// Everything a TRS report shows; serialised as `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TrsReport {
    pub input: String,
    /// Consignments read (rows of a wide input, distinct identifiers of a long one).
    pub consignments: u64,
    pub rows_read: u64,
    /// Consignments in the statistics (duplicates left out).
    pub consignments_analysed: u64,
    pub stages: Vec<String>,
    pub segments: Vec<String>,
    pub targets_hours: Vec<f64>,
    pub findings_summary: Vec<FindingCount>,
    pub findings: Vec<Finding>,
    pub intervals: Vec<IntervalStats>,
    /// Same layout as `intervals`, counting only minutes inside office working hours.
    pub working_time_intervals: Vec<IntervalStats>,
    pub histograms: Vec<Histogram>,
    pub bottlenecks: Vec<Bottleneck>,
    pub arrival_pattern: ArrivalPattern,
    pub method: Method,
    /// The total intervals with and without the extreme values.
    #[serde(default)]
    pub headline: Vec<HeadlineFigures>,
    /// Trends per week or month, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trends: Option<Trends>,
}

/// Durations in seconds of one interval for every row (`MISSING` when it does not count).
pub(crate) fn durations(table: &StampTable, def: &IntervalDef) -> Vec<i64> {
    let mut out = Vec::new();
    durations_into(table, def, &mut out);
    out
}

/// [`durations`] into `out` (cleared first), whose memory a caller reuses from one interval to
/// the next: a fresh vector of ten million durations is 80 MB of pages for the kernel to map and
/// zero, and to unmap after.
fn durations_into(table: &StampTable, def: &IntervalDef, out: &mut Vec<i64>) {
    out.clear();
    let at = |r: StampRef, row: usize| -> i64 {
        match r {
            StampRef::Stage(s) => table.stamps[s][row],
            StampRef::FirstPresent => table
                .stamps
                .iter()
                .map(|c| c[row])
                .find(|&t| t != MISSING)
                .unwrap_or(MISSING),
            StampRef::LastPresent => table
                .stamps
                .iter()
                .rev()
                .map(|c| c[row])
                .find(|&t| t != MISSING)
                .unwrap_or(MISSING),
        }
    };
    let duration = |a: i64, b: i64| {
        if a == MISSING || b == MISSING || b < a {
            MISSING
        } else {
            b - a
        }
    };
    if let (StampRef::Stage(from), StampRef::Stage(to)) = (def.from, def.to) {
        out.extend(
            table.stamps[from]
                .iter()
                .zip(&table.stamps[to])
                .map(|(&a, &b)| duration(a, b)),
        );
        return;
    }
    out.extend((0..table.len()).map(|row| duration(at(def.from, row), at(def.to, row))));
}

/// Working seconds of one interval for every row.
fn working_durations(
    table: &StampTable,
    design: &StudyDesign,
    elapsed: &[i64],
    def: &IntervalDef,
) -> Vec<i64> {
    let Some(plan) = &design.working_hours else {
        return Vec::new();
    };
    let office_column = plan
        .office_segment
        .as_ref()
        .and_then(|name| table.segments.iter().find(|s| &s.name == name));
    let start_of = |row: usize| match def.from {
        StampRef::Stage(s) => table.stamps[s][row],
        _ => table
            .stamps
            .iter()
            .map(|c| c[row])
            .find(|&t| t != MISSING)
            .unwrap_or(MISSING),
    };
    let mut resolver = ZoneResolver::default();
    (0..table.len())
        .map(|row| {
            let d = elapsed[row];
            if d == MISSING {
                return MISSING;
            }
            let start = start_of(row);
            let tz = table.zone(row).unwrap_or(chrono_tz::UTC);
            let hours = plan.for_office(office_column.and_then(|c| c.value(row)));
            match (
                resolver.local_of(tz, start),
                resolver.local_of(tz, start + d),
            ) {
                (Some(a), Some(b)) => hours.working_seconds(a, b),
                _ => MISSING,
            }
        })
        .collect()
}

/// Statistics of `values` for the whole population and for each value of each segment.
/// `scratch` holds the counted durations, then each segment's groups (its memory is reused).
fn segment_stats(
    table: &StampTable,
    design: &StudyDesign,
    def: &IntervalDef,
    values: &[i64],
    scratch: &mut Vec<i64>,
) -> (Vec<IntervalStats>, Histogram, Quartiles) {
    let from = design.stamp_name(def.from).to_string();
    let to = design.stamp_name(def.to).to_string();
    let entry = |segment_by: &str, segment: Option<String>, summary: Summary| IntervalStats {
        from: from.clone(),
        to: to.clone(),
        kind: def.kind,
        segment_by: segment_by.to_string(),
        segment,
        summary,
    };
    let mut out = Vec::new();
    scratch.clear();
    scratch.extend(values.iter().copied().filter(|&v| v != MISSING));
    let counts = histogram(scratch);
    let summary = summarize(scratch, &design.targets_hours);
    let mut quartiles = Quartiles {
        all: summary.q1_q3_seconds,
        by_segment: Vec::with_capacity(table.segments.len()),
    };
    out.push(entry("all", None, summary));
    for column in &table.segments {
        let mut by_code = vec![None; column.values.len()];
        for (value, group) in grouped(values, &column.codes, column.values.len(), scratch) {
            let summary = summarize(group, &design.targets_hours);
            by_code[value] = summary.q1_q3_seconds;
            out.push(entry(
                &column.name,
                Some(column.values[value].clone()),
                summary,
            ));
        }
        quartiles.by_segment.push(by_code);
    }
    (
        out,
        Histogram {
            from,
            to,
            edges_minutes: HISTOGRAM_EDGES_MINUTES.to_vec(),
            counts,
        },
        quartiles,
    )
}

/// First and third quartiles (seconds) of one interval: whole population, and per segment
/// column and value code.
struct Quartiles {
    all: Option<(f64, f64)>,
    by_segment: Vec<Vec<Option<(f64, f64)>>>,
}

/// Counting sort of the valid `values` by segment code into `buffer`; yields (code, group).
fn grouped<'b>(
    values: &[i64],
    codes: &[u32],
    distinct: usize,
    buffer: &'b mut Vec<i64>,
) -> impl Iterator<Item = (usize, &'b mut [i64])> {
    let mut counts = vec![0usize; distinct];
    for (&v, &c) in values.iter().zip(codes) {
        if v != MISSING && c != NO_VALUE {
            counts[c as usize] += 1;
        }
    }
    let mut starts = Vec::with_capacity(distinct);
    let mut total = 0;
    for &c in &counts {
        starts.push(total);
        total += c;
    }
    buffer.clear();
    buffer.resize(total, 0);
    let mut next = starts.clone();
    for (&v, &c) in values.iter().zip(codes) {
        if v != MISSING && c != NO_VALUE {
            buffer[next[c as usize]] = v;
            next[c as usize] += 1;
        }
    }
    let mut rest: &'b mut [i64] = buffer.as_mut_slice();
    let mut groups = Vec::with_capacity(distinct);
    for (code, &count) in counts.iter().enumerate() {
        let (group, tail) = rest.split_at_mut(count);
        rest = tail;
        if count > 0 {
            groups.push((code, group));
        }
    }
    groups.into_iter()
}

/// Flags durations beyond Q1 - k IQR or Q3 + k IQR of their interval and office (or of the whole
/// population when the study has no office segment). Returns one finding per flagged value and
/// the flagged rows.
#[allow(clippy::too_many_arguments)]
fn extreme_values(
    table: &StampTable,
    design: &StudyDesign,
    def: &IntervalDef,
    values: &[i64],
    quartiles: &Quartiles,
    rule: OutlierRule,
    file: &str,
    limit: usize,
) -> (Vec<Finding>, u64, Vec<usize>) {
    let office = table.segments.iter().position(|s| s.name == "office");
    // Fences per office (lower, upper, and the two quantiles they come from), or of the whole
    // population when the study has no office segment.
    let fences: Vec<Option<(f64, f64, f64, f64)>> = match rule {
        OutlierRule::None => return (Vec::new(), 0, Vec::new()),
        // From the quartiles the statistics already computed (Q1 and Q3 of the same groups).
        OutlierRule::Iqr { k } => {
            let fence = |q: &Option<(f64, f64)>| {
                q.map(|(q1, q3)| (q1 - k * (q3 - q1), q3 + k * (q3 - q1), q1, q3))
            };
            match office {
                Some(o) => quartiles.by_segment[o].iter().map(fence).collect(),
                None => vec![fence(&quartiles.all)],
            }
        }
        OutlierRule::Trim { percent } => {
            let ps = [percent / 100.0, 1.0 - percent / 100.0];
            let fence = |group: &mut [i64]| {
                let q = quantiles(group, &ps);
                (q[0], q[1], q[0], q[1])
            };
            match office {
                Some(o) => {
                    let column = &table.segments[o];
                    let mut fences = vec![None; column.values.len()];
                    let mut buffer = Vec::new();
                    for (code, group) in
                        grouped(values, &column.codes, column.values.len(), &mut buffer)
                    {
                        fences[code] = Some(fence(group));
                    }
                    fences
                }
                None => {
                    let mut all: Vec<i64> =
                        values.iter().copied().filter(|&v| v != MISSING).collect();
                    vec![(!all.is_empty()).then(|| fence(&mut all))]
                }
            }
        }
    };
    let office_name = |code: u32| match office {
        Some(o) => table.segments[o].values[code as usize].as_str(),
        None => "all offices",
    };
    let interval = format!(
        "{} -> {}",
        design.stamp_name(def.from),
        design.stamp_name(def.to)
    );
    let mut findings = Vec::new();
    let mut rows = Vec::new();
    for (row, &v) in values.iter().enumerate() {
        let c = office.map_or(0, |o| table.segments[o].codes[row]);
        if v == MISSING || c == NO_VALUE {
            continue;
        }
        let Some((lo, hi, q1, q3)) = fences[c as usize] else {
            continue;
        };
        let x = v as f64;
        if x > hi || x < lo {
            rows.push(row);
            // Counted always; described only as many times as the report can list.
            if limit != 0 && findings.len() >= limit {
                continue;
            }
            let fence = if x > hi { hi } else { lo };
            let message = match rule {
                OutlierRule::Iqr { k } => format!(
                    "{} ({:.1} min) for office \"{}\" (Q1 {:.1} min, Q3 {:.1} min)",
                    if x > hi {
                        format!("above Q3 + {k} IQR")
                    } else {
                        format!("below Q1 - {k} IQR")
                    },
                    fence / 60.0,
                    office_name(c),
                    q1 / 60.0,
                    q3 / 60.0
                ),
                OutlierRule::Trim { percent } => format!(
                    "{} percentile ({:.1} min) for office \"{}\"",
                    if x > hi {
                        format!("above the {}th", 100.0 - percent)
                    } else {
                        format!("below the {percent}th")
                    },
                    fence / 60.0,
                    office_name(c),
                ),
                // Returned above: no value is flagged.
                OutlierRule::None => String::new(),
            };
            findings.push(Finding {
                kind: FindingKind::ExtremeValue,
                file: table.source(row).unwrap_or(file).to_string(),
                line: Some(table.lines[row]),
                column: Some(interval.clone()),
                consignment: Some(table.id(row).to_string()).filter(|s| !s.is_empty()),
                value: Some(format!("{:.1} min", x / 60.0)),
                message,
            });
        }
    }
    let unlisted = (rows.len() - findings.len()) as u64;
    (findings, unlisted, rows)
}

fn arrival_pattern(table: &StampTable, design: &StudyDesign) -> ArrivalPattern {
    let arrival = &table.stamps[design.arrival_stage()];
    let release = &table.stamps[design.release_stage()];
    let mut counts = vec![vec![0u64; 24]; 7];
    let mut cells: Vec<Vec<i64>> = vec![Vec::new(); 7 * 24];
    let mut rows_without_zone = 0;
    let mut resolver = ZoneResolver::default();
    for row in 0..table.len() {
        let a = arrival[row];
        if a == MISSING {
            continue;
        }
        let tz = table.zone(row).unwrap_or_else(|| {
            rows_without_zone += 1;
            chrono_tz::UTC
        });
        let Some(local) = resolver.local_of(tz, a) else {
            continue;
        };
        let (day, hour) = (
            local.weekday().num_days_from_monday() as usize,
            local.hour() as usize,
        );
        counts[day][hour] += 1;
        let r = release[row];
        if r != MISSING && r >= a {
            cells[day * 24 + hour].push(r - a);
        }
    }
    let median_release_minutes = (0..7)
        .map(|d| {
            (0..24)
                .map(|h| {
                    let cell = &mut cells[d * 24 + h];
                    (!cell.is_empty()).then(|| quantiles(cell, &[0.5])[0] / 60.0)
                })
                .collect()
        })
        .collect();
    ArrivalPattern {
        counts,
        median_release_minutes,
        rows_without_zone,
    }
}

fn bottlenecks(intervals: &[IntervalStats]) -> Vec<Bottleneck> {
    let mut groups: Vec<(String, Option<String>)> = Vec::new();
    for s in intervals {
        let key = (s.segment_by.clone(), s.segment.clone());
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    groups
        .into_iter()
        .map(|(segment_by, segment)| {
            let mut stages: Vec<BottleneckStage> = intervals
                .iter()
                .filter(|s| {
                    s.kind == IntervalKind::Consecutive
                        && s.segment_by == segment_by
                        && s.segment == segment
                })
                .filter_map(|s| {
                    Some(BottleneckStage {
                        from: s.from.clone(),
                        to: s.to.clone(),
                        count: s.summary.count,
                        mean_minutes: s.summary.mean_minutes?,
                        share: 0.0,
                    })
                })
                .collect();
            let total: f64 = stages.iter().map(|s| s.mean_minutes).sum();
            for s in &mut stages {
                s.share = if total > 0.0 {
                    s.mean_minutes / total
                } else {
                    0.0
                };
            }
            stages.sort_by(|a, b| b.share.total_cmp(&a.share));
            Bottleneck {
                segment_by,
                segment,
                stages,
            }
        })
        .collect()
}

/// Runs the study.
pub fn analyze(
    input: &str,
    table: &StampTable,
    design: &StudyDesign,
    ingest_findings: Vec<Finding>,
    consignments_read: u64,
    rows_read: u64,
    options: &TrsOptions,
) -> TrsReport {
    let study = Study {
        input,
        table,
        design,
        consignments_read,
        rows_read,
    };
    analyze_study(&study, ingest_findings, options, false).0
}

/// A study to analyse: its stamps and design, and what was read.
pub struct Study<'a> {
    pub input: &'a str,
    pub table: &'a StampTable,
    pub design: &'a StudyDesign,
    pub consignments_read: u64,
    pub rows_read: u64,
}

/// The durations of one interval that its statistics rest on, per row of the table (seconds;
/// [`MISSING`] where the interval does not count, or where the value is extreme and the
/// options leave extreme values out).
#[derive(Debug, Clone)]
pub struct IntervalSample {
    pub def: IntervalDef,
    pub seconds: Vec<i64>,
}

/// [`analyze`], also returning each interval's durations (for a before-and-after comparison).
pub fn analyze_with_samples(
    study: &Study<'_>,
    ingest_findings: Vec<Finding>,
    options: &TrsOptions,
) -> (TrsReport, Vec<IntervalSample>) {
    analyze_study(study, ingest_findings, options, true)
}

fn analyze_study(
    study: &Study<'_>,
    ingest_findings: Vec<Finding>,
    options: &TrsOptions,
    keep_samples: bool,
) -> (TrsReport, Vec<IntervalSample>) {
    let &Study {
        input,
        table,
        design,
        consignments_read,
        rows_read,
    } = study;
    let defs = design.intervals();
    let next = AtomicUsize::new(0);
    type Done = (
        usize,
        Vec<IntervalStats>,
        Histogram,
        Vec<IntervalStats>,
        Vec<Finding>,
        u64,
        Option<HeadlineFigures>,
        Vec<TrendSeries>,
        Option<Vec<i64>>,
    );
    let done: Mutex<Vec<Done>> = Mutex::new(Vec::new());
    // The arrival pattern is one more task beside the intervals (task number `defs.len()`).
    let pattern: Mutex<Option<ArrivalPattern>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..options.threads.clamp(1, defs.len() + 1) {
            s.spawn(|| {
                // Reused from one interval to the next (see `durations_into`).
                let (mut values, mut scratch) = (Vec::new(), Vec::new());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i == defs.len() {
                        let p = arrival_pattern(table, design);
                        *pattern
                            .lock()
                            .expect("no worker panics while holding the lock") = Some(p);
                        continue;
                    }
                    let Some(def) = defs.get(i) else { break };
                    durations_into(table, def, &mut values);
                    let (mut elapsed, mut histogram, quartiles) =
                        segment_stats(table, design, def, &values, &mut scratch);
                    let (findings, unlisted, flagged) = extreme_values(
                        table,
                        design,
                        def,
                        &values,
                        &quartiles,
                        options.outliers,
                        input,
                        options.findings_limit,
                    );
                    let headline = (def.kind == IntervalKind::Total)
                        .then(|| headline_figures(&elapsed[0], &values, &flagged, design));
                    if options.exclude_extremes && !flagged.is_empty() {
                        for row in flagged {
                            values[row] = MISSING;
                        }
                        (elapsed, histogram, _) =
                            segment_stats(table, design, def, &values, &mut scratch);
                    }
                    // Over the durations the statistics use (extreme values out when excluded).
                    let trend = options.trends.map_or_else(Vec::new, |period| {
                        interval_trends(table, design, def, &values, period)
                    });
                    let working = if design.working_hours.is_some() {
                        let w = working_durations(table, design, &values, def);
                        segment_stats(table, design, def, &w, &mut scratch).0
                    } else {
                        Vec::new()
                    };
                    let sample = keep_samples.then(|| std::mem::take(&mut values));
                    done.lock()
                        .expect("no worker panics while holding the lock")
                        .push((
                            i, elapsed, histogram, working, findings, unlisted, headline, trend,
                            sample,
                        ));
                }
            });
        }
    });
    let mut done = done.into_inner().expect("workers finished");
    done.sort_by_key(|d| d.0);
    let mut intervals = Vec::new();
    let mut working_time_intervals = Vec::new();
    let mut histograms = Vec::new();
    let mut findings = ingest_findings;
    let mut unlisted_extremes = 0;
    let mut headline = Vec::new();
    let mut series = Vec::new();
    let mut samples = Vec::new();
    for (i, elapsed, histogram, working, extreme, unlisted, figures, trend, sample) in done {
        if let Some(seconds) = sample {
            samples.push(IntervalSample {
                def: defs[i],
                seconds,
            });
        }
        unlisted_extremes += unlisted;
        headline.extend(figures);
        series.extend(trend);
        intervals.extend(elapsed);
        histograms.push(histogram);
        working_time_intervals.extend(working);
        findings.extend(extreme);
    }
    let (mut findings_summary, findings) = limit_findings(findings, options.findings_limit);
    if unlisted_extremes > 0 {
        match findings_summary
            .iter_mut()
            .find(|c| c.kind == FindingKind::ExtremeValue)
        {
            Some(c) => c.count += unlisted_extremes,
            None => findings_summary.push(FindingCount {
                kind: FindingKind::ExtremeValue,
                count: unlisted_extremes,
                listed: 0,
            }),
        }
    }
    let report = TrsReport {
        input: input.to_string(),
        consignments: consignments_read,
        rows_read,
        consignments_analysed: table.len() as u64,
        stages: design.stages.clone(),
        segments: design.segments.clone(),
        targets_hours: design.targets_hours.clone(),
        findings_summary,
        findings,
        bottlenecks: bottlenecks(&intervals),
        intervals,
        working_time_intervals,
        histograms,
        arrival_pattern: pattern
            .into_inner()
            .expect("workers finished")
            .expect("the arrival pattern task ran"),
        method: method(options, design),
        headline,
        trends: options.trends.map(|period| Trends {
            period,
            method: trends::method(period),
            series,
        }),
    };
    (report, samples)
}

/// A total interval's whole-population figures with every duration (`all`, as computed) and
/// without the rows flagged as extreme (in row order).
fn headline_figures(
    all: &IntervalStats,
    values: &[i64],
    flagged: &[usize],
    design: &StudyDesign,
) -> HeadlineFigures {
    if flagged.is_empty() {
        return HeadlineFigures {
            from: all.from.clone(),
            to: all.to.clone(),
            with_outliers: all.summary.clone(),
            without_outliers: all.summary.clone(),
        };
    }
    let mut next = flagged.iter().peekable();
    let mut kept: Vec<i64> = Vec::with_capacity(values.len());
    for (row, &v) in values.iter().enumerate() {
        if next.peek() == Some(&&row) {
            next.next();
            continue;
        }
        if v != MISSING {
            kept.push(v);
        }
    }
    HeadlineFigures {
        from: all.from.clone(),
        to: all.to.clone(),
        with_outliers: all.summary.clone(),
        without_outliers: summarize(&mut kept, &design.targets_hours),
    }
}

fn limit_findings(findings: Vec<Finding>, limit: usize) -> (Vec<FindingCount>, Vec<Finding>) {
    let mut counts: Vec<FindingCount> = FindingKind::ALL
        .iter()
        .map(|&kind| FindingCount {
            kind,
            count: 0,
            listed: 0,
        })
        .collect();
    let mut listed = Vec::new();
    for f in findings {
        let c = counts
            .iter_mut()
            .find(|c| c.kind == f.kind)
            .expect("every kind is counted");
        c.count += 1;
        if limit == 0 || (c.listed as usize) < limit {
            c.listed += 1;
            listed.push(f);
        }
    }
    counts.retain(|c| c.count > 0);
    (counts, listed)
}

fn method(options: &TrsOptions, design: &StudyDesign) -> Method {
    Method {
        interval_rule: "d(i,k) = t(to) - t(from). An interval counts for a consignment when both \
                        stamps are present and readable and d >= 0; a negative d is left out of \
                        that interval and reported; the consignment's other intervals still count. \
                        Totals: arrival to release when both exist, and first to last stamp present."
            .into(),
        quantiles: "Linear interpolation between closest ranks (numpy default, DuckDB \
                    quantile_cont): h = (n - 1) p, Q(p) = x[floor h] + (h - floor h)(x[floor h + 1] \
                    - x[floor h])."
            .into(),
        standard_deviation: "Sample standard deviation, divisor n - 1.".into(),
        extreme_values: format!(
            "{} {} The headline figures are given with and without them.",
            options.outliers.describe(),
            if options.exclude_extremes {
                "Extreme values are excluded from the statistics."
            } else {
                "Extreme values are reported and kept in the statistics."
            }
        ),
        outlier_rule: options.outliers,
        extremes_excluded: options.exclude_extremes,
        bottleneck_share: "Share of a stage = its mean interval / the sum of the mean intervals \
                           of all consecutive stages, within the same segment."
            .into(),
        working_time_measured: design.working_hours.is_some(),
        working_time: match &design.working_hours {
            Some(_) => "Working time counts only the minutes inside the office's working hours \
                        on its working days, on the office's local clock."
                .into(),
            None => "No working hours in the mapping: only elapsed time is reported.".into(),
        },
        duplicates: "A consignment identifier seen again is reported; the later row is left out."
            .into(),
    }
}

#[cfg(test)]
mod tests;
