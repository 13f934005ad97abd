//! Excel input (.xlsx, .xlsm, .xls, .ods) through calamine. Date-time cells are read as local
//! times; text cells go through the mapping's timestamp format like CSV cells.

use std::path::Path;

use calamine::{Data, Range, Reader, open_workbook_auto};

use crate::Progress;
use crate::error::IngestError;
use crate::mapping::Mapping;
use crate::row::{Assembler, Cell, Columns, Context, Ingested, UnitBuilder};
use crate::stamp_format::CellTime;

enum Owned {
    Empty,
    Text(String),
    Time(CellTime),
    Invalid(String),
}

fn owned(cell: &Data) -> Owned {
    match cell {
        Data::Empty => Owned::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Owned::Text(s.clone()),
        Data::Int(i) => Owned::Text(i.to_string()),
        Data::Float(f) => Owned::Text(f.to_string()),
        Data::Bool(b) => Owned::Text(b.to_string()),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if d.is_datetime() => Owned::Time(CellTime::Local(t.and_utc().timestamp())),
            _ => Owned::Invalid(d.to_string()),
        },
        Data::Error(e) => Owned::Invalid(format!("{e:?}")),
    }
}

/// Opens the named sheet (default: the first) and returns its cells ([`start_of`] gives where
/// they start and the header).
pub(crate) fn open_sheet(path: &Path, sheet: Option<&str>) -> Result<Range<Data>, IngestError> {
    let format_err = |message: String| IngestError::Format {
        file: path.display().to_string(),
        message,
    };
    let mut workbook = open_workbook_auto(path).map_err(|e| format_err(e.to_string()))?;
    let sheets = workbook.sheet_names();
    let sheet = match sheet {
        Some(s) if sheets.iter().any(|x| x == s) => s.to_string(),
        Some(s) => {
            return Err(format_err(format!(
                "sheet \"{s}\" (input.sheet in the mapping) not found; sheets: {}",
                sheets.join(", ")
            )));
        }
        None => sheets
            .first()
            .cloned()
            .ok_or_else(|| format_err("the workbook has no sheet".into()))?,
    };
    workbook
        .worksheet_range(&sheet)
        .map_err(|e| format_err(format!("sheet \"{sheet}\": {e}")))
}

/// The 0-based row where a sheet's cells start, and its header (see [`header_of`]).
pub(crate) fn start_of(range: &Range<Data>) -> (u64, Vec<String>) {
    (range.start().map_or(0, |(r, _)| r as u64), header_of(range))
}

/// The trimmed texts of a sheet's first row.
fn header_of(range: &Range<Data>) -> Vec<String> {
    range
        .rows()
        .next()
        .map(|r| r.iter().map(|c| c.to_string().trim().to_string()).collect())
        .unwrap_or_default()
}

/// `input.sheet` that reads every sheet holding the mapping's columns as one study (a manual
/// collection workbook: a sheet per post).
pub const EVERY_SHEET: &str = "*";

/// Reads every sheet of a workbook whose header holds the mapping's columns, in workbook order
/// (a read-me or a list of codes is left aside), each as its own part named `file [sheet]`,
/// handed to `each` before the next sheet is parsed. The workbook is opened once and each sheet
/// parsed once. Returns the number of sheets read; none is an error that lists the sheets.
pub(crate) fn read_data_sheets(
    path: &Path,
    mapping: &Mapping,
    progress: &dyn Progress,
    each: &mut dyn FnMut(Ingested, String),
) -> Result<usize, IngestError> {
    let file = path.display().to_string();
    let format_err = |message: String| IngestError::Format {
        file: file.clone(),
        message,
    };
    let mut workbook = open_workbook_auto(path).map_err(|e| format_err(e.to_string()))?;
    let names = workbook.sheet_names();
    let mut read = 0;
    for name in &names {
        let range = workbook
            .worksheet_range(name)
            .map_err(|e| format_err(format!("sheet \"{name}\": {e}")))?;
        if Columns::resolve(&header_of(&range), mapping, &file).is_err() {
            continue;
        }
        let label = format!("{file} [{name}]");
        each(read_range(&range, label.clone(), mapping, progress)?, label);
        read += 1;
    }
    if read == 0 {
        return Err(IngestError::Format {
            file,
            message: format!(
                "no sheet has the mapping's columns (input.sheet = \"*\" reads every sheet that does); sheets: {}",
                names.join(", ")
            ),
        });
    }
    Ok(read)
}

pub(crate) fn read(
    path: &Path,
    mapping: &Mapping,
    progress: &dyn Progress,
) -> Result<Ingested, IngestError> {
    let range = open_sheet(path, mapping.sheet.as_deref())?;
    read_range(&range, path.display().to_string(), mapping, progress)
}

/// Reads one sheet's cells; findings name it as `file`.
fn read_range(
    range: &Range<Data>,
    file: String,
    mapping: &Mapping,
    progress: &dyn Progress,
) -> Result<Ingested, IngestError> {
    let (first_row, header) = start_of(range);
    let mut rows = range.rows();
    rows.next();
    let columns = Columns::resolve(&header, mapping, &file)?;
    let ctx = Context {
        mapping,
        file: file.clone(),
        columns,
        header,
    };
    progress.start(range.height().saturating_sub(1) as u64);
    let mut builder = UnitBuilder::new(&ctx);
    for (i, row) in rows.enumerate() {
        // Sheet rows are 1-based; the header is on `first_row + 1`.
        let line = first_row + 2 + i as u64;
        let cells: Vec<Owned> = row.iter().map(owned).collect();
        // A row with nothing in it (a spacer, or a collection row not used yet whose formulas
        // give empty text) is not a record.
        if cells.iter().all(|c| {
            matches!(c, Owned::Empty) || matches!(c, Owned::Text(t) if t.trim().is_empty())
        }) {
            progress.advance(1);
            continue;
        }
        builder.row(line, |c| match cells.get(c) {
            None | Some(Owned::Empty) => Cell::Empty,
            Some(Owned::Text(s)) => Cell::Text(s),
            Some(Owned::Time(t)) => Cell::Time(*t),
            Some(Owned::Invalid(s)) => Cell::Invalid(s),
        });
        progress.advance(1);
    }
    // A sheet is read on one thread; so are its repeated identifiers searched.
    let mut assembler = Assembler::new(&ctx, 1);
    assembler.add(builder.finish());
    Ok(assembler.finish())
}
