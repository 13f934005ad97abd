//! Reading inputs: CSV, Excel and Parquet exports of national clearance systems.
//!
//! - TRS studies ([`read_study`]): in the wide layout (one row per consignment) or the long
//!   layout (one row per stamp), through a [`Mapping`]; several exports as one study
//!   ([`read_studies`]).
//! - Declarations for risk management ([`read_declarations`]), through a [`DeclarationMapping`].
//!
//! Reading never stops at a bad row: every problem becomes a [`Finding`] (or a [`RowProblem`])
//! that names the file, the
//! line or row, the column and the value, and the rest of the input is still read. Only problems
//! that make the whole input unreadable (missing file, missing column, broken mapping) are errors.
//!
//! [`Finding`]: smartborder_model::Finding

mod csv;
pub mod declaration_json;
pub mod declaration_mapping;
mod declarations;
mod duplicates;
mod error;
mod excel;
pub mod mapping;
mod parallel;
mod parquet;
mod row;
pub mod stamp_format;
mod studies;

use std::path::Path;

pub use declaration_mapping::DeclarationMapping;
pub use declarations::{DeclarationsRead, RowProblem, read_declarations};
pub use error::IngestError;
pub use excel::EVERY_SHEET;
pub use mapping::{Layout, Mapping};
pub use row::Ingested;
pub use studies::read_studies;

/// Receives progress of a long read (bytes for CSV, rows for Excel and Parquet).
pub trait Progress: Sync {
    /// The total amount of work, when known.
    fn start(&self, total: u64);
    fn advance(&self, done: u64);
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// Kinds of input file, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Csv,
    Excel,
    Parquet,
}

impl InputKind {
    pub fn of(path: &Path) -> Option<InputKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Some(InputKind::Csv),
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Some(InputKind::Excel),
            "parquet" | "pq" => Some(InputKind::Parquet),
            _ => None,
        }
    }
}

/// Reads a study input. `threads` is the number of worker threads (CSV and Parquet).
pub fn read_study(
    path: &Path,
    mapping: &Mapping,
    progress: &dyn Progress,
    threads: usize,
) -> Result<Ingested, IngestError> {
    match InputKind::of(path) {
        Some(InputKind::Csv) => csv::read(path, mapping, progress, threads),
        Some(InputKind::Excel) if mapping.sheet.as_deref() == Some(excel::EVERY_SHEET) => {
            read_studies(&[path.to_path_buf()], mapping, progress, threads)
        }
        Some(InputKind::Excel) => excel::read(path, mapping, progress),
        Some(InputKind::Parquet) => parquet::read(path, mapping, progress, threads),
        None => Err(IngestError::UnsupportedFile {
            file: path.display().to_string(),
        }),
    }
}
