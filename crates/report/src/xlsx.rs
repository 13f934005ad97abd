//! The Excel workbook: one sheet per table of the report.

use std::path::Path;

use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};
use smartborder_trs::{IntervalStats, TrsReport};

use crate::i18n::{Lang, Text};

fn interval_sheet(
    sheet: &mut Worksheet,
    rows: &[IntervalStats],
    targets: &[f64],
    lang: Lang,
) -> Result<(), XlsxError> {
    let mut header: Vec<String> = [
        "segment_by",
        "segment",
        "from",
        "to",
        "count",
        "mean_minutes",
        "median_minutes",
        "p25_minutes",
        "p75_minutes",
        "p90_minutes",
        "p95_minutes",
        "min_minutes",
        "max_minutes",
        "std_minutes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(targets.iter().map(|t| format!("share_within_{t}_hours")));
    for (c, name) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, name)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let s = &r.summary;
        sheet.write_string(row, 0, &r.segment_by)?;
        sheet.write_string(row, 1, r.segment.as_deref().unwrap_or(lang.t(Text::All)))?;
        sheet.write_string(row, 2, &r.from)?;
        sheet.write_string(row, 3, &r.to)?;
        sheet.write_number(row, 4, s.count as f64)?;
        let values = [
            s.mean_minutes,
            s.median_minutes,
            s.p25_minutes,
            s.p75_minutes,
            s.p90_minutes,
            s.p95_minutes,
            s.min_minutes,
            s.max_minutes,
            s.std_minutes,
        ];
        for (k, v) in values.iter().enumerate() {
            if let Some(v) = v {
                sheet.write_number(row, 5 + k as u16, *v)?;
            }
        }
        for (k, w) in s.within_target.iter().enumerate() {
            sheet.write_number(row, 14 + k as u16, w.share)?;
        }
    }
    sheet.autofilter(0, 0, rows.len() as u32, header.len() as u16 - 1)?;
    Ok(())
}

pub(crate) fn write(report: &TrsReport, lang: Lang, path: &Path) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    interval_sheet(
        book.add_worksheet().set_name("Intervals")?,
        &report.intervals,
        &report.targets_hours,
        lang,
    )?;
    if !report.working_time_intervals.is_empty() {
        interval_sheet(
            book.add_worksheet().set_name("Working time")?,
            &report.working_time_intervals,
            &report.targets_hours,
            lang,
        )?;
    }
    // The total intervals with and without the extreme values, and the rule that found them.
    let sheet = book.add_worksheet().set_name("Headline")?;
    for (c, h) in [
        "from",
        "to",
        "outliers",
        "count",
        "median_minutes",
        "mean_minutes",
        "p90_minutes",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h)?;
    }
    let mut row = 1;
    for h in &report.headline {
        for (label, m) in [("with", &h.with_outliers), ("without", &h.without_outliers)] {
            sheet.write_string(row, 0, &h.from)?;
            sheet.write_string(row, 1, &h.to)?;
            sheet.write_string(row, 2, label)?;
            sheet.write_number(row, 3, m.count as f64)?;
            for (c, v) in [
                (4, m.median_minutes),
                (5, m.mean_minutes),
                (6, m.p90_minutes),
            ] {
                if let Some(v) = v {
                    sheet.write_number(row, c, v)?;
                }
            }
            row += 1;
        }
    }
    sheet.write_string(row + 1, 0, &report.method.extreme_values)?;
    if let Some(trends) = &report.trends {
        let sheet = book.add_worksheet().set_name("Trends")?;
        for (c, h) in [
            "from",
            "to",
            "segment_by",
            "segment",
            "period",
            "count",
            "median_minutes",
            "mean_minutes",
            "p90_minutes",
            "center_minutes",
            "lower_limit_minutes",
            "upper_limit_minutes",
            "flagged",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(0, c as u16, *h)?;
        }
        let mut row = 1;
        for t in &trends.series {
            for p in &t.points {
                sheet.write_string(row, 0, &t.from)?;
                sheet.write_string(row, 1, &t.to)?;
                sheet.write_string(row, 2, &t.segment_by)?;
                sheet.write_string(row, 3, t.segment.as_deref().unwrap_or(lang.t(Text::All)))?;
                sheet.write_string(row, 4, &p.period)?;
                sheet.write_number(row, 5, p.count as f64)?;
                sheet.write_number(row, 6, p.median_minutes)?;
                sheet.write_number(row, 7, p.mean_minutes)?;
                sheet.write_number(row, 8, p.p90_minutes)?;
                for (c, v) in [
                    (9, t.center_minutes),
                    (10, t.lower_limit_minutes),
                    (11, t.upper_limit_minutes),
                ] {
                    if let Some(v) = v {
                        sheet.write_number(row, c, v)?;
                    }
                }
                sheet.write_boolean(row, 12, t.flagged.contains(&p.period))?;
                row += 1;
            }
        }
        sheet.write_string(row + 1, 0, &trends.method)?;
    }
    let sheet = book.add_worksheet().set_name("Bottlenecks")?;
    for (c, h) in [
        "segment_by",
        "segment",
        "rank",
        "from",
        "to",
        "count",
        "mean_minutes",
        "share",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h)?;
    }
    let mut row = 1;
    for b in &report.bottlenecks {
        for (rank, st) in b.stages.iter().enumerate() {
            sheet.write_string(row, 0, &b.segment_by)?;
            sheet.write_string(row, 1, b.segment.as_deref().unwrap_or(lang.t(Text::All)))?;
            sheet.write_number(row, 2, rank as f64 + 1.0)?;
            sheet.write_string(row, 3, &st.from)?;
            sheet.write_string(row, 4, &st.to)?;
            sheet.write_number(row, 5, st.count as f64)?;
            sheet.write_number(row, 6, st.mean_minutes)?;
            sheet.write_number(row, 7, st.share)?;
            row += 1;
        }
    }
    let sheet = book.add_worksheet().set_name("Arrivals")?;
    sheet.write_string(0, 0, "day \\ hour (arrivals)")?;
    for h in 0..24u16 {
        sheet.write_number(0, h + 1, f64::from(h))?;
    }
    for (d, name) in lang.t(Text::Days).split(' ').enumerate() {
        sheet.write_string(d as u32 + 1, 0, name)?;
        for h in 0..24 {
            sheet.write_number(
                d as u32 + 1,
                h as u16 + 1,
                report.arrival_pattern.counts[d][h] as f64,
            )?;
        }
    }
    let sheet = book.add_worksheet().set_name("Findings")?;
    for (c, h) in [
        "kind",
        "file",
        "line",
        "column",
        "consignment",
        "value",
        "message",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h)?;
    }
    for (i, f) in report.findings.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, f.kind.code())?;
        sheet.write_string(row, 1, &f.file)?;
        if let Some(l) = f.line {
            sheet.write_number(row, 2, l as f64)?;
        }
        sheet.write_string(row, 3, f.column.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 4, f.consignment.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 5, f.value.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 6, &f.message)?;
    }
    book.save(path)
}
