//! Writing synthetic studies: CSV, Parquet and the mapping that reads them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{Datelike, NaiveDateTime, Timelike};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use smartborder_model::CORRIDOR_OFFICES;

use crate::corridor::{FaultKind, SynthRow, TrsGenerator};

/// Column headers of the wide layout, in file order.
const HEADER: [&str; 18] = [
    "Declaration No",
    "Office",
    "Country",
    "Mode",
    "Lane",
    "Regime",
    "HS Chapter",
    "OGA",
    "Pre-arrival",
    "AEO",
    "Zone",
    "Lodged",
    "Arrival",
    "Registered",
    "Channel assigned",
    "Control completed",
    "Released",
    "Exit",
];
const FIRST_STAMP_COLUMN: usize = 12;
const PARQUET_ROW_GROUP: usize = 1 << 20;

/// The part of the mapping that reads the synthetic files (see [`mapping_toml`]).
const MAPPING_HEAD: &str = r#"# Mapping for SmartBorder's synthetic Middle Corridor study (smartborder synth trs).
[input]
layout = "wide"
consignment_id = "Declaration No"
timestamp_format = "%Y-%m-%d %H:%M"
timezone_column = "Zone"

[stamps]
arrival = "Arrival"
registration = "Registered"
assessment = "Channel assigned"
control = "Control completed"
release = "Released"
exit = "Exit"

[segments]
office = "Office"
lane = "Lane"
mode = "Mode"
regime = "Regime"
oga = "OGA"
pre_arrival = "Pre-arrival"
aeo = "AEO"

[[intervals]]
from = "registration"
to = "release"

"#;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The mapping that reads what [`generate_trs`] writes (CSV or Parquet). Its working hours are
/// those of the corridor offices in the model, so working time and the generator agree.
pub fn mapping_toml() -> String {
    let mut text = String::from(MAPPING_HEAD);
    text.push_str(
        "[working_hours]\nopen = \"09:00\"\nclose = \"18:00\"\ndays_off = [\"Sat\", \"Sun\"]\n\
         office_segment = \"office\"\n",
    );
    for office in CORRIDOR_OFFICES {
        let h = &office.hours;
        let days_off: Vec<String> = DAYS
            .iter()
            .zip(h.days_off)
            .filter(|(_, off)| *off)
            .map(|(d, _)| format!("\"{d}\""))
            .collect();
        text.push_str(&format!(
            "\n[working_hours.offices.\"{}\"]\nopen = \"{}\"\nclose = \"{}\"\ndays_off = [{}]\n",
            office.name,
            clock(h.open_minute),
            clock(h.close_minute),
            days_off.join(", ")
        ));
    }
    text
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parquet {
        path: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct TrsSynthConfig {
    pub consignments: u64,
    pub seed: u64,
    /// Share of consignments with one injected fault (0 = clean data).
    pub fault_rate: f64,
    pub csv: bool,
    pub parquet: bool,
}

/// Files written.
#[derive(Debug, Clone)]
pub struct SynthOutput {
    pub csv: Option<PathBuf>,
    pub parquet: Option<PathBuf>,
    pub mapping: PathBuf,
}

/// What was written, including the faults injected (so that tests can check verification).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SynthSummary {
    pub consignments: u64,
    pub rows: u64,
    pub faults: Vec<(FaultKind, u64)>,
}

fn push2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// `%Y-%m-%d %H:%M`, without going through a formatter (ten million rows).
fn push_stamp(out: &mut Vec<u8>, t: NaiveDateTime) {
    let y = t.year() as u32;
    push2(out, y / 100);
    push2(out, y % 100);
    out.push(b'-');
    push2(out, t.month());
    out.push(b'-');
    push2(out, t.day());
    out.push(b' ');
    push2(out, t.hour());
    out.push(b':');
    push2(out, t.minute());
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn csv_field(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n']) {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// The text cells of a row, in file order (the columns before "Lodged").
fn text_cells<'a>(r: &'a SynthRow, hs_chapter: &'a str) -> [&'a str; FIRST_STAMP_COLUMN - 1] {
    [
        r.id.as_str(),
        r.office.name,
        r.office.country.code(),
        r.office.mode.as_str(),
        r.lane.as_str(),
        r.regime,
        hs_chapter,
        yes_no(r.oga),
        yes_no(r.pre_arrival),
        yes_no(r.aeo),
        &r.zone,
    ]
}

fn csv_row(out: &mut Vec<u8>, r: &SynthRow) {
    let hs = r.hs_chapter.to_string();
    for (k, t) in text_cells(r, &hs).into_iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        csv_field(out, t);
    }
    out.push(b',');
    push_stamp(out, r.lodged);
    for (k, s) in r.stamps.iter().enumerate() {
        out.push(b',');
        if r.garbled == Some(k) {
            out.extend_from_slice(b"31.02.2025 25:61");
        } else if let Some(t) = s {
            push_stamp(out, *t);
        }
    }
    out.push(b'\n');
}

struct ParquetSink {
    writer: ArrowWriter<File>,
    schema: Arc<Schema>,
    text: Vec<StringBuilder>,
    times: Vec<TimestampMillisecondBuilder>,
    rows: usize,
    path: String,
}

impl ParquetSink {
    fn new(path: &Path) -> Result<ParquetSink, SynthError> {
        let p = path.display().to_string();
        let fields: Vec<Field> = HEADER
            .iter()
            .enumerate()
            .map(|(i, name)| {
                if i >= FIRST_STAMP_COLUMN - 1 && *name != "Zone" {
                    Field::new(
                        *name,
                        DataType::Timestamp(TimeUnit::Millisecond, None),
                        true,
                    )
                } else {
                    Field::new(*name, DataType::Utf8, true)
                }
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let file = File::create(path).map_err(|source| SynthError::Io {
            path: p.clone(),
            source,
        })?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_size(PARQUET_ROW_GROUP)
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|source| {
            SynthError::Parquet {
                path: p.clone(),
                source,
            }
        })?;
        Ok(ParquetSink {
            writer,
            schema,
            text: (0..FIRST_STAMP_COLUMN - 1)
                .map(|_| StringBuilder::new())
                .collect(),
            times: (0..7).map(|_| TimestampMillisecondBuilder::new()).collect(),
            rows: 0,
            path: p,
        })
    }

    fn push(&mut self, r: &SynthRow) -> Result<(), SynthError> {
        let hs = r.hs_chapter.to_string();
        for (b, t) in self.text.iter_mut().zip(text_cells(r, &hs)) {
            b.append_value(t);
        }
        // Milliseconds: Parquet has no seconds unit, and other tools must read the column as a timestamp.
        let secs = |t: NaiveDateTime| t.and_utc().timestamp_millis();
        self.times[0].append_value(secs(r.lodged));
        for (k, s) in r.stamps.iter().enumerate() {
            // A garbled cell cannot exist in a typed column: it is written as empty.
            match s {
                Some(t) if r.garbled != Some(k) => self.times[k + 1].append_value(secs(*t)),
                _ => self.times[k + 1].append_null(),
            }
        }
        self.rows += 1;
        if self.rows == PARQUET_ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SynthError> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (i, _) in HEADER.iter().enumerate() {
            if i < FIRST_STAMP_COLUMN - 1 {
                columns.push(Arc::new(self.text[i].finish()));
            } else {
                columns.push(Arc::new(self.times[i - (FIRST_STAMP_COLUMN - 1)].finish()));
            }
        }
        let batch =
            RecordBatch::try_new(self.schema.clone(), columns).expect("columns match the schema");
        self.writer
            .write(&batch)
            .map_err(|source| SynthError::Parquet {
                path: self.path.clone(),
                source,
            })?;
        self.rows = 0;
        Ok(())
    }

    fn close(mut self) -> Result<(), SynthError> {
        self.flush()?;
        self.writer.close().map_err(|source| SynthError::Parquet {
            path: self.path,
            source,
        })?;
        Ok(())
    }
}

/// Generates a study into `dir` (files `trs.csv`, `trs.parquet`, `trs.mapping.toml`), calling
/// `progress` with the number of consignments written so far every 100,000 consignments.
/// Writes consignments as the wide CSV that [`mapping_toml`] reads (a row whose fault is
/// `Duplicate` twice); returns the rows written. For worlds that change generated rows before
/// writing them (the training scenarios' planted bottlenecks).
pub fn write_csv(path: &Path, rows: &[SynthRow]) -> Result<u64, SynthError> {
    let io = |source| SynthError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).map_err(io)?);
    w.write_all(HEADER.join(",").as_bytes()).map_err(io)?;
    w.write_all(b"\n").map_err(io)?;
    let mut line = Vec::with_capacity(512);
    let mut written = 0;
    for row in rows {
        let copies = if row.fault == Some(FaultKind::Duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            line.clear();
            csv_row(&mut line, row);
            w.write_all(&line).map_err(io)?;
            written += 1;
        }
    }
    w.flush().map_err(io)?;
    Ok(written)
}

pub fn generate_trs(
    config: &TrsSynthConfig,
    dir: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<(SynthOutput, SynthSummary), SynthError> {
    let io = |path: &Path| {
        let p = path.display().to_string();
        move |source| SynthError::Io { path: p, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mapping = dir.join("trs.mapping.toml");
    std::fs::write(&mapping, mapping_toml()).map_err(io(&mapping))?;
    let csv_path = config.csv.then(|| dir.join("trs.csv"));
    let parquet_path = config.parquet.then(|| dir.join("trs.parquet"));

    let mut csv = match &csv_path {
        Some(p) => Some(BufWriter::with_capacity(
            1 << 20,
            File::create(p).map_err(io(p))?,
        )),
        None => None,
    };
    let mut parquet = match &parquet_path {
        Some(p) => Some(ParquetSink::new(p)?),
        None => None,
    };
    let mut line = Vec::with_capacity(512);
    if let (Some(w), Some(p)) = (&mut csv, &csv_path) {
        w.write_all(HEADER.join(",").as_bytes()).map_err(io(p))?;
        w.write_all(b"\n").map_err(io(p))?;
    }
    let mut summary = SynthSummary {
        consignments: config.consignments,
        ..Default::default()
    };
    let mut faults = [0u64; 5];
    let mut generator = TrsGenerator::new(config.seed, config.fault_rate);
    for i in 0..config.consignments {
        let row = generator.next_row();
        let copies = if row.fault == Some(FaultKind::Duplicate) {
            2
        } else {
            1
        };
        if let Some(f) = row.fault {
            faults[FaultKind::ALL
                .iter()
                .position(|k| *k == f)
                .expect("known fault")] += 1;
        }
        for _ in 0..copies {
            summary.rows += 1;
            if let (Some(w), Some(p)) = (&mut csv, &csv_path) {
                line.clear();
                csv_row(&mut line, &row);
                w.write_all(&line).map_err(io(p))?;
            }
            if let Some(pq) = &mut parquet {
                pq.push(&row)?;
            }
        }
        if (i + 1) % 100_000 == 0 {
            progress(i + 1);
        }
    }
    if let (Some(mut w), Some(p)) = (csv, &csv_path) {
        w.flush().map_err(io(p))?;
    }
    if let Some(pq) = parquet {
        pq.close()?;
    }
    progress(config.consignments);
    summary.faults = FaultKind::ALL.iter().copied().zip(faults).collect();
    Ok((
        SynthOutput {
            csv: csv_path,
            parquet: parquet_path,
            mapping,
        },
        summary,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let run = |seed, sub: &str| {
            let config = TrsSynthConfig {
                consignments: 500,
                seed,
                fault_rate: 0.1,
                csv: true,
                parquet: false,
            };
            let (out, _) = generate_trs(&config, &dir.path().join(sub), &mut |_| {}).unwrap();
            std::fs::read(out.csv.unwrap()).unwrap()
        };
        assert_eq!(run(7, "a"), run(7, "b"));
        assert_ne!(run(7, "a"), run(8, "c"));
    }
}
