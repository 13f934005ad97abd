//! Several exports as one study (`trs run exports/2026-*.csv`): each file is read on its own,
//! with its own findings, then added to the study in the order given. Memory stays bounded by
//! the consignments of the study plus one file's table.
//!
//! A consignment already read from an earlier file is one consignment, not two: a monthly export
//! often has the first stamps of a consignment and the next month's the rest. The later file's
//! stamps fill the stages the earlier left empty; a stage stamped in both with different times
//! keeps the earlier and is reported (`duplicate_stamp`, naming the later file and line); a
//! later row that adds nothing is reported as a `duplicate_consignment` and left out, as within
//! one file. Zone and segments are the earlier row's. Row checks of the ingest (order of stamps,
//! zones) were made on each file's row; the TRS interval rule (both stamps, duration ≥ 0) is
//! applied to the merged consignment by the engine.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

use chrono::DateTime;
use smartborder_model::{Finding, FindingKind, MISSING, StampTable};

use crate::{IngestError, Ingested, InputKind, Mapping, Progress, excel, read_study};

/// Reads `paths` (any mix of CSV, Excel and Parquet) as one study.
pub fn read_studies(
    paths: &[PathBuf],
    mapping: &Mapping,
    progress: &dyn Progress,
    threads: usize,
) -> Result<Ingested, IngestError> {
    // The parts of the study: each file, or each data sheet of a workbook read with
    // `input.sheet = "*"` (named "file [sheet]"), added in order as they are read.
    let mut study: Option<(Ingested, Option<Index>)> = None;
    let mut parts = 0usize;
    let mut add_part = |ingested: Ingested, file: String| {
        parts += 1;
        study = Some(match study.take() {
            None => {
                let mut first = ingested;
                // Named as a part of several (taken back below if it stays the only one).
                first.table.sources.push((0, file));
                (first, None)
            }
            // The index of identifiers is built when a second part comes: a single export needs
            // none (for 10 million consignments it is a second of hashing and some 200 MB).
            Some((mut into, index)) => {
                let mut index = index.unwrap_or_else(|| Index::of(&into.table));
                add(&mut into, &mut index, ingested, file);
                (into, Some(index))
            }
        });
    };
    for path in paths {
        let file = path.display().to_string();
        if InputKind::of(path) == Some(InputKind::Excel)
            && mapping.sheet.as_deref() == Some(excel::EVERY_SHEET)
        {
            excel::read_data_sheets(path, mapping, progress, &mut add_part)?;
        } else {
            add_part(read_study(path, mapping, progress, threads)?, file);
        }
    }
    if parts == 1
        && let Some((only, _)) = &mut study
    {
        only.table.sources.clear();
    }
    study.map(|(s, _)| s).ok_or(IngestError::NoInput)
}

/// The rows of the study by identifier: a 64-bit fingerprint to the row, and the identifiers
/// whose fingerprint another identifier already holds (rare) by name.
#[derive(Default)]
struct Index {
    by_fingerprint: HashMap<u64, u32>,
    collided: HashMap<String, u32>,
}

fn fingerprint(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl Index {
    fn of(table: &StampTable) -> Index {
        let mut index = Index::default();
        for row in 0..table.len() {
            index.insert(table, row);
        }
        index
    }

    fn find(&self, table: &StampTable, id: &str) -> Option<usize> {
        let row = *self.by_fingerprint.get(&fingerprint(id))? as usize;
        if table.id(row) == id {
            Some(row)
        } else {
            self.collided.get(id).map(|r| *r as usize)
        }
    }

    /// Indexes row `row` of `table` (an identifier not indexed yet).
    fn insert(&mut self, table: &StampTable, row: usize) {
        let id = table.id(row);
        if id.is_empty() {
            return;
        }
        match self.by_fingerprint.entry(fingerprint(id)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(row as u32);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(id.to_string(), row as u32);
            }
        }
    }
}

/// Adds the consignments of a later file to the study.
fn add(study: &mut Ingested, index: &mut Index, later: Ingested, file: String) {
    let table = &mut study.table;
    let from = &later.table;
    let maps = table.code_maps(from);
    table.sources.push((table.len(), file.clone()));
    table.reserve(from.len());
    let mut findings = later.findings;
    let mut merged = 0u64;
    for row in 0..from.len() {
        let id = from.id(row);
        let Some(earlier) = (!id.is_empty()).then(|| index.find(table, id)).flatten() else {
            table.push_from(from, row, &maps);
            index.insert(table, table.len() - 1);
            continue;
        };
        merged += 1;
        let (mut added, mut conflicted) = (false, false);
        for stage in 0..table.stages.len() {
            let stamp = from.stamps[stage][row];
            let kept = table.stamps[stage][earlier];
            if stamp == MISSING || stamp == kept {
                continue;
            }
            if kept == MISSING {
                table.stamps[stage][earlier] = stamp;
                added = true;
            } else {
                conflicted = true;
                findings.push(Finding {
                    kind: FindingKind::DuplicateStamp,
                    file: file.clone(),
                    line: Some(from.lines[row]),
                    column: Some(table.stages[stage].clone()),
                    consignment: Some(id.to_string()),
                    value: DateTime::from_timestamp(stamp, 0).map(|t| t.to_rfc3339()),
                    message: format!(
                        "this stage was stamped {} in {} (line {}); the earlier is kept",
                        DateTime::from_timestamp(kept, 0).map_or(String::new(), |t| t.to_rfc3339()),
                        table.source(earlier).unwrap_or("an earlier file"),
                        table.lines[earlier]
                    ),
                });
            }
        }
        if !added && !conflicted {
            findings.push(Finding {
                kind: FindingKind::DuplicateConsignment,
                file: file.clone(),
                line: Some(from.lines[row]),
                column: None,
                consignment: Some(id.to_string()),
                value: None,
                message: format!(
                    "already read from {} (line {}) with the same stamps; left out",
                    table.source(earlier).unwrap_or("an earlier file"),
                    table.lines[earlier]
                ),
            });
        }
    }
    study.findings.append(&mut findings);
    study.rows_read += later.rows_read;
    study.consignments_read += later.consignments_read.saturating_sub(merged);
}
