//! TRS reports: one self-contained HTML file (inline SVG charts, no network needed to view it),
//! the JSON contract, and an Excel workbook; text in English or Russian.

pub mod collection;
mod compare;
mod html;
mod i18n;
mod svg;
pub mod tables;
mod xlsx;

use std::path::Path;

pub use i18n::Lang;
use smartborder_trs::TrsReport;
use smartborder_trs::compare::CompareReport;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Excel {
        path: String,
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// The JSON report (`report.json`): the serialised [`TrsReport`].
pub fn write_json(report: &TrsReport, path: &Path) -> Result<(), ReportError> {
    write_file(path, &serde_json::to_vec_pretty(report)?)
}

/// The HTML report.
pub fn render_html(report: &TrsReport, lang: Lang) -> String {
    html::render(report, lang)
}

/// Writes the HTML report.
pub fn write_html(report: &TrsReport, lang: Lang, path: &Path) -> Result<(), ReportError> {
    write_file(path, render_html(report, lang).as_bytes())
}

/// Writes the Excel workbook.
pub fn write_xlsx(report: &TrsReport, lang: Lang, path: &Path) -> Result<(), ReportError> {
    xlsx::write(report, lang, path).map_err(|source| ReportError::Excel {
        path: path.display().to_string(),
        source,
    })
}

/// The before-and-after report as JSON: the serialised [`CompareReport`].
pub fn write_compare_json(report: &CompareReport, path: &Path) -> Result<(), ReportError> {
    write_file(path, &serde_json::to_vec_pretty(report)?)
}

/// The before-and-after report as HTML.
pub fn render_compare_html(report: &CompareReport, lang: Lang) -> String {
    compare::render(report, lang)
}

/// Writes the before-and-after HTML report.
pub fn write_compare_html(
    report: &CompareReport,
    lang: Lang,
    path: &Path,
) -> Result<(), ReportError> {
    write_file(path, render_compare_html(report, lang).as_bytes())
}

/// Writes the before-and-after Excel workbook.
pub fn write_compare_xlsx(
    report: &CompareReport,
    lang: Lang,
    path: &Path,
) -> Result<(), ReportError> {
    let bytes = compare::xlsx(report, lang).map_err(|source| ReportError::Excel {
        path: path.display().to_string(),
        source,
    })?;
    write_file(path, &bytes)
}
