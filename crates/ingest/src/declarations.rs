//! Reading declarations for risk management from CSV, Excel or Parquet through a
//! [`DeclarationMapping`].
//!
//! A row whose identifier, date, office or commodity code cannot be read is left out; a bad
//! optional cell (an amount, the control result) is left empty and the row kept. Both are
//! reported as [`RowProblem`]s that name the file, line, column, value and what was expected.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::path::Path;

use arrow_array::{Array, StringArray};
use arrow_schema::DataType;
use calamine::Data;
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use smartborder_model::{ControlOutcome, Declaration, DeclarationField, DeclarationSet};

use crate::declaration_mapping::{DeclarationMapping, Role};
use crate::error::IngestError;
use crate::row::{WordHasher, id_hash};
use crate::stamp_format::{CellTime, StampFormat};
use crate::{InputKind, Progress};

/// One problem with one row of a declarations file.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    pub file: String,
    /// 1-based line of a CSV file or row of a sheet (the header is 1); data row of a Parquet file.
    pub line: u64,
    pub column: String,
    /// The declaration identifier, when it could be read.
    pub declaration: Option<String>,
    /// The cell as found.
    pub value: String,
    pub expected: &'static str,
    /// Whether the whole row was left out (a required field is unreadable).
    pub row_left_out: bool,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: column \"{}\": found \"{}\", expected {}",
            self.file, self.line, self.column, self.value, self.expected
        )?;
        if let Some(id) = &self.declaration {
            write!(f, " (declaration {id})")?;
        }
        if self.row_left_out {
            f.write_str("; row left out")?;
        }
        Ok(())
    }
}

/// The declarations of one file and what was wrong with its rows.
#[derive(Debug, Clone, Default)]
pub struct DeclarationsRead {
    pub set: DeclarationSet,
    pub rows_read: u64,
    pub rows_left_out: u64,
    pub problems: Vec<RowProblem>,
}

/// Reads declarations from a CSV, Excel or Parquet file.
pub fn read_declarations(
    path: &Path,
    mapping: &DeclarationMapping,
    progress: &dyn Progress,
) -> Result<DeclarationsRead, IngestError> {
    let file = path.display().to_string();
    let format_err = |message: String| IngestError::Format {
        file: file.clone(),
        message,
    };
    match InputKind::of(path) {
        Some(InputKind::Csv) => {
            let io = |source| IngestError::Io {
                path: file.clone(),
                source,
            };
            let total = std::fs::metadata(path).map_err(io)?.len();
            progress.start(total);
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(mapping.delimiter)
                .flexible(true)
                .from_path(path)
                .map_err(|e| format_err(e.to_string()))?;
            let header: Vec<String> = reader
                .headers()
                .map_err(|e| format_err(e.to_string()))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            let mut builder = Builder::new(&file, mapping, &header)?;
            let mut record = csv::StringRecord::new();
            let mut reported = 0;
            loop {
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| p.line());
                        builder.row(line, |i| record.get(i));
                        if builder.out.rows_read % 4096 == 0 {
                            let at = record.position().map_or(reported, |p| p.byte());
                            progress.advance(at - reported);
                            reported = at;
                        }
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        builder.malformed(line, e.to_string());
                    }
                }
            }
            progress.advance(total.saturating_sub(reported));
            Ok(builder.finish())
        }
        Some(InputKind::Excel) => {
            let range = crate::excel::open_sheet(path, mapping.sheet.as_deref())?;
            let (first_row, header) = crate::excel::start_of(&range);
            let mut rows = range.rows();
            rows.next();
            let mut builder = Builder::new(&file, mapping, &header)?;
            progress.start(range.height().saturating_sub(1) as u64);
            for (i, row) in rows.enumerate() {
                let cells: Vec<String> = row.iter().map(excel_text).collect();
                builder.row(first_row + 2 + i as u64, |c| {
                    cells.get(c).map(String::as_str)
                });
                progress.advance(1);
            }
            Ok(builder.finish())
        }
        Some(InputKind::Parquet) => {
            let open = File::open(path).map_err(|source| IngestError::Io {
                path: file.clone(),
                source,
            })?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(open)
                .map_err(|e| format_err(e.to_string()))?;
            progress.start(reader.metadata().file_metadata().num_rows().max(0) as u64);
            let header: Vec<String> = reader
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let mut builder = Builder::new(&file, mapping, &header)?;
            let mut line = 0u64;
            for batch in reader.build().map_err(|e| format_err(e.to_string()))? {
                let batch = batch.map_err(|e| format_err(e.to_string()))?;
                let columns: Vec<StringArray> = batch
                    .columns()
                    .iter()
                    .map(|a| {
                        arrow_cast::cast(a, &DataType::Utf8).map(|t| {
                            t.as_any()
                                .downcast_ref::<StringArray>()
                                .expect("cast to Utf8 gives a StringArray")
                                .clone()
                        })
                    })
                    .collect::<Result<_, _>>()
                    .map_err(|e| format_err(e.to_string()))?;
                for r in 0..batch.num_rows() {
                    line += 1;
                    builder.row(line, |c| {
                        columns.get(c).filter(|a| a.is_valid(r)).map(|a| a.value(r))
                    });
                }
                progress.advance(batch.num_rows() as u64);
            }
            Ok(builder.finish())
        }
        None => Err(IngestError::UnsupportedFile { file }),
    }
}

/// The text of an Excel cell as a CSV export would give it (dates as ISO 8601).
fn excel_text(cell: &Data) -> String {
    match cell {
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => d.to_string(),
        },
        other => other.to_string(),
    }
}

/// Turns rows of cells into declarations.
struct Builder<'m> {
    file: String,
    mapping: &'m DeclarationMapping,
    /// Column index of every mapped role, in the mapping's order.
    roles: Vec<(Role, usize, &'m str)>,
    attributes: Vec<usize>,
    /// The identifiers read so far: each one's fingerprint and the index of its declaration.
    /// Fingerprints instead of copies of the identifiers: a history of millions of declarations
    /// would otherwise allocate a string per declaration and free them all at the end, which
    /// costs glibc's allocator half a second of consolidation at the next large allocation.
    seen: HashMap<u64, usize, BuildHasherDefault<WordHasher>>,
    /// The identifiers whose fingerprint an earlier, different identifier already holds.
    seen_colliding: HashSet<String>,
    out: DeclarationsRead,
}

impl<'m> Builder<'m> {
    fn new(
        file: &str,
        mapping: &'m DeclarationMapping,
        header: &[String],
    ) -> Result<Builder<'m>, IngestError> {
        let find = |column: &str, role: &str| {
            header
                .iter()
                .position(|h| h == column)
                .ok_or_else(|| IngestError::MissingColumn {
                    file: file.to_string(),
                    column: column.to_string(),
                    role: role.to_string(),
                    found: header.join(", "),
                })
        };
        let roles = mapping
            .columns
            .iter()
            .map(|(role, column)| Ok((*role, find(column, role.key())?, column.as_str())))
            .collect::<Result<_, IngestError>>()?;
        let attributes = mapping
            .attributes
            .iter()
            .map(|(name, column)| find(column, &format!("attribute {name}")))
            .collect::<Result<_, _>>()?;
        Ok(Builder {
            file: file.to_string(),
            mapping,
            roles,
            attributes,
            seen: HashMap::default(),
            seen_colliding: HashSet::new(),
            out: DeclarationsRead {
                set: DeclarationSet {
                    attributes: mapping.attributes.iter().map(|(n, _)| n.clone()).collect(),
                    declarations: Vec::new(),
                },
                ..DeclarationsRead::default()
            },
        })
    }

    fn malformed(&mut self, line: u64, message: String) {
        self.out.rows_read += 1;
        self.out.rows_left_out += 1;
        self.out.problems.push(RowProblem {
            file: self.file.clone(),
            line,
            column: String::new(),
            declaration: None,
            value: message,
            expected: "a well-formed row",
            row_left_out: true,
        });
    }

    fn row<'c>(&mut self, line: u64, cell: impl Fn(usize) -> Option<&'c str>) {
        self.out.rows_read += 1;
        let text = |i: usize| cell(i).map(str::trim).filter(|s| !s.is_empty());
        let mut problems: Vec<(&'m str, String, &'static str, bool)> = Vec::new();
        let mut d = Declaration {
            attributes: self
                .attributes
                .iter()
                .map(|&i| text(i).map(str::to_string))
                .collect(),
            ..Declaration::new("", NaiveDate::MIN, "", "")
        };
        let mut non_compliant = None;
        let mut revenue = None;
        let mut propensity = None;
        let mut missing_required = false;
        for &(role, index, column) in &self.roles {
            let raw = text(index);
            use DeclarationField as F;
            match role {
                Role::Field(F::Id | F::Office | F::Date | F::HsCode) if raw.is_none() => {
                    problems.push((column, String::new(), "a value (required field)", true));
                    missing_required = true;
                }
                Role::Field(F::Id) => d.id = raw.unwrap_or_default().to_string(),
                Role::Field(F::Office) => d.office = raw.unwrap_or_default().to_string(),
                Role::Field(F::Date) => {
                    let raw = raw.unwrap_or_default();
                    match parse_date(raw, self.mapping.date_format.as_deref()) {
                        Some(date) => d.date = date,
                        None => {
                            let expected = if self.mapping.date_format.is_some() {
                                "a date in the mapping's date_format"
                            } else {
                                "an ISO 8601 date (YYYY-MM-DD)"
                            };
                            problems.push((column, raw.to_string(), expected, true));
                            missing_required = true;
                        }
                    }
                }
                Role::Field(F::HsCode) => {
                    let raw = raw.unwrap_or_default();
                    match normalize_hs(raw, self.mapping.hs_code_digits) {
                        Some(code) => d.hs_code = code,
                        None => {
                            problems.push((
                                column,
                                raw.to_string(),
                                "a commodity code of 2 to 14 digits (dots and spaces allowed)",
                                true,
                            ));
                            missing_required = true;
                        }
                    }
                }
                Role::Field(field) if field.kind() == smartborder_model::FieldKind::Text => {
                    let value = raw.map(str::to_string);
                    match field {
                        F::Regime => d.regime = value,
                        F::Declarant => d.declarant = value,
                        F::Importer => d.importer = value,
                        F::Seller => d.seller = value,
                        F::Origin => d.origin = value,
                        F::Departure => d.departure = value,
                        _ => unreachable!("required text fields are handled above"),
                    }
                }
                Role::Field(field) => {
                    let Some(raw) = raw else { continue };
                    let Some(n) = parse_amount(raw) else {
                        problems.push((column, raw.to_string(), "a number >= 0", false));
                        continue;
                    };
                    match field {
                        F::Quantity => d.quantity = Some(n),
                        F::MassKg => d.mass_kg = Some(n),
                        F::Value => d.value = Some(n),
                        F::FobValue => d.fob_value = Some(n),
                        F::Taxes => d.taxes = Some(n),
                        F::TaxRatePercent => d.tax_rate_percent = Some(n),
                        _ => unreachable!("derived fields are never mapped"),
                    }
                }
                Role::NonCompliant => match raw.map(parse_flag) {
                    None => {}
                    Some(Some(flag)) => non_compliant = Some(flag),
                    Some(None) => problems.push((
                        column,
                        raw.unwrap_or_default().to_string(),
                        "0 or 1 (also true/false, yes/no)",
                        false,
                    )),
                },
                Role::Propensity => match raw.map(parse_amount) {
                    None => {}
                    Some(Some(p)) if p > 0.0 && p <= 1.0 => propensity = Some(p),
                    Some(_) => problems.push((
                        column,
                        raw.unwrap_or_default().to_string(),
                        "a probability above 0 and at most 1",
                        false,
                    )),
                },
                Role::Revenue => match raw.map(parse_amount) {
                    None => {}
                    Some(Some(r)) => revenue = Some(r),
                    Some(None) => problems.push((
                        column,
                        raw.unwrap_or_default().to_string(),
                        "a number >= 0",
                        false,
                    )),
                },
            }
        }
        if !missing_required && !self.first_time(&d.id) {
            let id_column = self.mapping.column(Role::Field(DeclarationField::Id));
            problems.push((
                self.roles
                    .iter()
                    .find(|(_, _, c)| Some(*c) == id_column)
                    .map_or("", |r| r.2),
                d.id.clone(),
                "a declaration identifier not seen before (duplicate)",
                true,
            ));
            missing_required = true;
        }
        let declaration = (!d.id.is_empty()).then(|| d.id.clone());
        for (column, value, expected, row_left_out) in problems {
            self.out.problems.push(RowProblem {
                file: self.file.clone(),
                line,
                column: column.to_string(),
                declaration: declaration.clone(),
                value,
                expected,
                row_left_out: row_left_out && missing_required,
            });
        }
        if missing_required {
            self.out.rows_left_out += 1;
            return;
        }
        d.outcome = non_compliant.map(|non_compliant| ControlOutcome {
            non_compliant,
            revenue,
            propensity,
        });
        if d.taxes.is_none()
            && let (Some(v), Some(r)) = (d.value, d.tax_rate_percent)
        {
            // Sources that carry only the rate (the KCS data) get taxes = value x rate.
            d.taxes = Some(v * r / 100.0);
        }
        self.out.set.declarations.push(d);
    }

    /// Whether no declaration kept so far has this identifier (the declaration being built is
    /// kept when it is).
    fn first_time(&mut self, id: &str) -> bool {
        let next = self.out.set.declarations.len();
        match self.seen.entry(id_hash(id)) {
            Entry::Vacant(slot) => {
                slot.insert(next);
                true
            }
            Entry::Occupied(slot) => {
                self.out.set.declarations[*slot.get()].id != id
                    && self.seen_colliding.insert(id.to_string())
            }
        }
    }

    fn finish(self) -> DeclarationsRead {
        self.out
    }
}

pub(crate) fn parse_date(raw: &str, format: Option<&str>) -> Option<NaiveDate> {
    match format {
        Some(f) => NaiveDate::parse_from_str(raw, f).ok(),
        None => {
            let date_part = match raw.as_bytes().get(10) {
                Some(b'T' | b' ') => &raw[..10],
                _ => raw,
            };
            iso_date(date_part).or_else(|| NaiveDate::parse_from_str(date_part, "%Y-%m-%d").ok())
        }
    }
}

/// `YYYY-MM-DD` written with every digit, read by the stamp reader's ISO 8601 parser instead of
/// chrono's format machinery: the form of nearly every date a clearance system sends, read once
/// per declaration of a live batch. Other spellings (`2021-1-5`) are left to chrono.
fn iso_date(raw: &str) -> Option<NaiveDate> {
    match StampFormat::Iso.parse(raw)? {
        CellTime::Local(seconds) if raw.len() == 10 => {
            Some(chrono::DateTime::from_timestamp(seconds, 0)?.date_naive())
        }
        _ => None,
    }
}

/// Digits only: "0808.10" and "0808 10" become "080810"; a spreadsheet's "80810.0" becomes
/// "80810", then left-padded to `digits` when given.
pub(crate) fn normalize_hs(raw: &str, digits: Option<usize>) -> Option<String> {
    let raw = raw.strip_suffix(".0").unwrap_or(raw);
    // The usual case, a code of digits already as long as asked: one copy.
    if (2..=14).contains(&raw.len())
        && raw.len() >= digits.unwrap_or(0)
        && raw.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(raw.to_string());
    }
    let code: String = raw.chars().filter(|c| *c != '.' && *c != ' ').collect();
    if !code.bytes().all(|b| b.is_ascii_digit()) || !(1..=14).contains(&code.len()) {
        return None;
    }
    let width = digits.unwrap_or(0).max(code.len());
    let padded = format!("{code:0>width$}");
    (padded.len() >= 2).then_some(padded)
}

fn parse_amount(raw: &str) -> Option<f64> {
    raw.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
}

fn parse_flag(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "1.0" | "true" | "yes" | "y" => Some(true),
        "0" | "0.0" | "false" | "no" | "n" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commodity_codes_are_normalised() {
        assert_eq!(normalize_hs("0808.10", None).as_deref(), Some("080810"));
        assert_eq!(normalize_hs("10121", Some(6)).as_deref(), Some("010121"));
        assert_eq!(normalize_hs("80810.0", Some(6)).as_deref(), Some("080810"));
        assert_eq!(
            normalize_hs("84713000", Some(6)).as_deref(),
            Some("84713000")
        );
        assert_eq!(normalize_hs("8", None), None);
        assert_eq!(normalize_hs("08A8", Some(6)), None);
        assert_eq!(normalize_hs("080810", Some(6)).as_deref(), Some("080810"));
        assert_eq!(normalize_hs("0808", Some(6)).as_deref(), Some("000808"));
        assert_eq!(normalize_hs("123456789012345", None), None);
    }

    #[test]
    fn dates_accept_a_time_after_the_day() {
        let d = NaiveDate::from_ymd_opt(2021, 3, 31);
        assert_eq!(parse_date("2021-03-31", None), d);
        assert_eq!(parse_date("2021-03-31 10:20:00", None), d);
        assert_eq!(parse_date("31.03.2021", Some("%d.%m.%Y")), d);
        assert_eq!(parse_date("2021-02-30", None), None);
    }

    #[test]
    fn the_iso_date_shortcut_reads_as_chrono_does() {
        let chrono_only = |raw: &str| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
        let mut texts: Vec<String> = Vec::new();
        for year in [0, 1, 999, 1999, 2000, 2020, 2021, 2024, 2100, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    texts.push(format!("{year:04}-{month:02}-{day:02}"));
                }
            }
        }
        texts.extend(
            [
                "2021-1-05",
                "2021-01-5",
                "+021-01-05",
                "2021/01/05",
                "2021-0a-05",
                "2021-01-0 ",
            ]
            .map(String::from),
        );
        let mut read = 0;
        for t in &texts {
            assert_eq!(parse_date(t, None), chrono_only(t), "{t}");
            read += usize::from(iso_date(t).is_some());
        }
        // Every valid day of the ten years (four of them leap: 0, 2000, 2020, 2024) went
        // through the shortcut.
        assert_eq!(read, 365 * 10 + 4);
    }

    #[test]
    fn identifiers_sharing_a_fingerprint_are_told_apart() {
        let mapping = DeclarationMapping::from_toml(
            "[columns]\ndeclaration_id = \"ID\"\ndate = \"Date\"\noffice = \"Office\"\nhs_code = \"HS\"\n",
            "mapping.toml",
        )
        .unwrap();
        let header: Vec<String> = ["ID", "Date", "Office", "HS"].map(String::from).into();
        let mut builder = Builder::new("d.csv", &mapping, &header).unwrap();
        let row = |builder: &mut Builder<'_>, line: u64, id: &str| {
            let cells = [id, "2021-01-04", "30", "847130"];
            builder.row(line, |c| cells.get(c).copied());
        };
        row(&mut builder, 2, "A");
        // As if "B" had the fingerprint of "A": the identifiers are compared, so "B" is new
        // the first time and a duplicate the second; "A" again is a duplicate.
        builder.seen.insert(id_hash("B"), 0);
        row(&mut builder, 3, "B");
        row(&mut builder, 4, "B");
        row(&mut builder, 5, "A");
        let read = builder.finish();
        let ids: Vec<&str> = read
            .set
            .declarations
            .iter()
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(ids, ["A", "B"]);
        let duplicates: Vec<u64> = read.problems.iter().map(|p| p.line).collect();
        assert_eq!(duplicates, [4, 5]);
        assert!(
            read.problems
                .iter()
                .all(|p| p.expected.contains("duplicate"))
        );
    }
}
