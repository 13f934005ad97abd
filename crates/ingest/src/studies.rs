//! Several exports as one study (`trs run exports/2026-*.csv`): each file is read on its own,
//! with its own findings, and appended to the study's table in the order given; consignments
//! met again are merged once every file is in. Memory stays bounded by the consignments of the
//! study (the repeated rows until the merge) plus one file's table.
//!
//! A consignment already read from an earlier file is one consignment, not two: a monthly export
//! often has the first stamps of a consignment and the next month's the rest. The later file's
//! stamps fill the stages the earlier left empty; a stage stamped in both with different times
//! keeps the earlier and is reported (`duplicate_stamp`, naming the later file and line); a
//! later row that adds nothing is reported as a `duplicate_consignment` and left out, as within
//! one file. Zone and segments are the earlier row's. Row checks of the ingest (order of stamps,
//! zones) were made on each file's row; the TRS interval rule (both stamps, duration ≥ 0) is
//! applied to the merged consignment by the engine.
//!
//! The repeated identifiers are found as within one file (`duplicates`: shard by shard, on
//! every thread), each later row paired with the identifier's first row, and merged into it in
//! row order: a consignment in three files gets the second file's stamps, then the third's.
//! (Until 2026-12-03 each row of a later file was looked up in a hash map of the study's
//! identifiers as it was added, one row at a time on one thread: ten files of a million
//! rows took two to three times as long to read as the same rows in one file.)

use std::path::PathBuf;

use chrono::DateTime;
use smartborder_model::{Finding, FindingKind, MISSING, StampTable};

use crate::duplicates::repeated_rows;
use crate::row::id_hash;
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
    let mut combined = Combined::default();
    let mut add_part = |ingested: Ingested, file: String| combined.add(ingested, file);
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
    combined.finish(threads)
}

/// The parts of a study as they are read: the first, then each later part appended.
#[derive(Default)]
struct Combined {
    study: Option<Ingested>,
    /// Each part after the first: where its rows start in the study, its file, its findings.
    later: Vec<Later>,
}

/// A part of the study after the first, until the merge.
struct Later {
    first_row: usize,
    file: String,
    findings: Vec<Finding>,
}

impl Combined {
    fn add(&mut self, ingested: Ingested, file: String) {
        let Some(into) = &mut self.study else {
            let mut first = ingested;
            // Named as a part of several (taken back if it stays the only one).
            first.table.sources.push((0, file));
            self.study = Some(first);
            return;
        };
        let maps = into.table.code_maps(&ingested.table);
        let first_row = into.table.len();
        into.table.sources.push((first_row, file.clone()));
        into.table.append(&ingested.table, &maps);
        into.rows_read += ingested.rows_read;
        into.consignments_read += ingested.consignments_read;
        self.later.push(Later {
            first_row,
            file,
            findings: ingested.findings,
        });
    }

    fn finish(self, threads: usize) -> Result<Ingested, IngestError> {
        let mut study = self.study.ok_or(IngestError::NoInput)?;
        if self.later.is_empty() {
            study.table.sources.clear();
        } else {
            merge_repeated(&mut study, self.later, threads);
        }
        Ok(study)
    }
}

/// Merges each consignment met again in a later part into its first row, removes the later
/// rows, and puts each later part's findings after the earlier parts', its own first and then
/// those of its merges (in row order), as adding the parts one by one did.
fn merge_repeated(study: &mut Ingested, later: Vec<Later>, threads: usize) {
    let table = &mut study.table;
    let repeated = repeated_rows(table, &id_hashes(table, threads), threads);
    let mut merges: Vec<Vec<Finding>> = vec![Vec::new(); later.len()];
    let mut merged = 0u64;
    for &(row, earlier) in &repeated {
        // Each part's reader left its own repeats out, so a repeated row is in a later part
        // than its first occurrence, never in the first part.
        let Some(part) = later.partition_point(|l| l.first_row <= row).checked_sub(1) else {
            continue;
        };
        merged += 1;
        merge_row(table, row, earlier, &later[part].file, &mut merges[part]);
    }
    let rows: Vec<usize> = repeated
        .iter()
        .map(|&(row, _)| row)
        .filter(|&row| row >= later[0].first_row)
        .collect();
    table.remove_rows(&rows);
    study.consignments_read = study.consignments_read.saturating_sub(merged);
    for (part, merge_findings) in later.into_iter().zip(merges) {
        study.findings.extend(part.findings);
        study.findings.extend(merge_findings);
    }
}

/// The fingerprint of every row's identifier, in row order, computed on `threads` threads.
fn id_hashes(table: &StampTable, threads: usize) -> Vec<u64> {
    let mut hashes = vec![0u64; table.len()];
    let chunk = table.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (k, out) in hashes.chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                for (i, h) in out.iter_mut().enumerate() {
                    *h = id_hash(table.id(k * chunk + i));
                }
            });
        }
    });
    hashes
}

/// Merges the stamps of row `row` (from `file`) into the consignment's first row `earlier`: an
/// empty stage takes the later stamp, a stage stamped differently keeps the earlier and is
/// reported, and a row that adds nothing is reported as a repeat.
fn merge_row(
    table: &mut StampTable,
    row: usize,
    earlier: usize,
    file: &str,
    findings: &mut Vec<Finding>,
) {
    let (mut added, mut conflicted) = (false, false);
    for stage in 0..table.stages.len() {
        let stamp = table.stamps[stage][row];
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
                file: file.to_string(),
                line: Some(table.lines[row]),
                column: Some(table.stages[stage].clone()),
                consignment: Some(table.id(row).to_string()),
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
            file: file.to_string(),
            line: Some(table.lines[row]),
            column: None,
            consignment: Some(table.id(row).to_string()),
            value: None,
            message: format!(
                "already read from {} (line {}) with the same stamps; left out",
                table.source(earlier).unwrap_or("an earlier file"),
                table.lines[earlier]
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use smartborder_model::NO_ZONE;

    use super::*;

    /// The parts merged as before: each later row looked up by identifier in the study as it
    /// stands, merged into the row found or pushed as a new consignment.
    fn reference(parts: Vec<(Ingested, String)>) -> Ingested {
        let mut parts = parts.into_iter();
        let (mut study, first_file) = parts.next().unwrap();
        let many = parts.len() > 0;
        if many {
            study.table.sources.push((0, first_file));
        }
        let mut first_row: HashMap<String, usize> = HashMap::new();
        for row in 0..study.table.len() {
            let id = study.table.id(row);
            if !id.is_empty() {
                first_row.entry(id.to_string()).or_insert(row);
            }
        }
        for (later, file) in parts {
            let table = &mut study.table;
            let maps = table.code_maps(&later.table);
            table.sources.push((table.len(), file.clone()));
            let mut findings = later.findings;
            let mut merged = 0u64;
            for row in 0..later.table.len() {
                let id = later.table.id(row).to_string();
                match first_row.get(&id).copied().filter(|_| !id.is_empty()) {
                    None => {
                        table.push_from(&later.table, row, &maps);
                        if !id.is_empty() {
                            first_row.insert(id, table.len() - 1);
                        }
                    }
                    Some(earlier) => {
                        // The rule of one merge is `merge_row`'s (unchanged); what this checks
                        // is which rows are merged, into which, and in what order.
                        merged += 1;
                        table.push_from(&later.table, row, &maps);
                        let at = table.len() - 1;
                        merge_row(table, at, earlier, &file, &mut findings);
                        table.remove_rows(&[at]);
                    }
                }
            }
            study.findings.append(&mut findings);
            study.rows_read += later.rows_read;
            study.consignments_read += later.consignments_read - merged;
        }
        study
    }

    /// A part: distinct identifiers drawn from a small pool (so that later parts repeat earlier
    /// ones), a few empty ones, stamps from a few values or missing, segment values in an
    /// order of its own, one finding of its own.
    fn part(seed: u64, rows: usize, file: &str) -> (Ingested, String) {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut table = StampTable::new(
            vec!["arrival".into(), "release".into(), "exit".into()],
            &["office".to_string()],
        );
        let offices = ["Sarpi", "Red Bridge", "Altynkol"];
        let mut used = std::collections::HashSet::new();
        for line in 2..rows as u64 + 2 {
            let id = if next(10) == 0 {
                String::new()
            } else {
                let id = format!("C{}", next(60));
                if !used.insert(id.clone()) {
                    continue;
                }
                id
            };
            let stamps: Vec<i64> = (0..3)
                .map(|_| match next(4) {
                    0 => MISSING,
                    k => 1_700_000_000 + 60 * k as i64,
                })
                .collect();
            let office = table.segments[0].values.len() as u32;
            let name = offices[next(3) as usize];
            let code = match table.segments[0].values.iter().position(|v| v == name) {
                Some(c) => c as u32,
                None => {
                    table.segments[0].values.push(name.to_string());
                    office
                }
            };
            table.push(&id, line, &stamps, NO_ZONE, &[code]);
        }
        let findings = vec![Finding {
            kind: FindingKind::MissingStamp,
            file: file.to_string(),
            line: Some(2),
            column: None,
            consignment: None,
            value: None,
            message: "a finding of the part's own".into(),
        }];
        let n = table.len() as u64;
        (
            Ingested {
                table,
                findings,
                rows_read: n + 1,
                consignments_read: n,
            },
            file.to_string(),
        )
    }

    #[test]
    fn merging_after_appending_equals_merging_row_by_row() {
        let mut seen: HashMap<FindingKind, usize> = HashMap::new();
        let mut filled = 0;
        for seed in 1..40u64 {
            let parts: Vec<(Ingested, String)> = (0..1 + seed % 4)
                .map(|k| part(seed * 10 + k, 40, &format!("part-{k}.csv")))
                .collect();
            let copy = || {
                parts
                    .iter()
                    .map(|(i, f)| {
                        let i = Ingested {
                            table: i.table.clone(),
                            findings: i.findings.clone(),
                            rows_read: i.rows_read,
                            consignments_read: i.consignments_read,
                        };
                        (i, f.clone())
                    })
                    .collect::<Vec<_>>()
            };
            let expected = reference(copy());
            for threads in [1, 2, 3] {
                let mut combined = Combined::default();
                for (i, f) in copy() {
                    combined.add(i, f);
                }
                let got = combined.finish(threads).unwrap();
                assert_eq!(got.table, expected.table, "seed {seed}");
                assert_eq!(got.findings, expected.findings, "seed {seed}");
                assert_eq!(got.rows_read, expected.rows_read);
                assert_eq!(got.consignments_read, expected.consignments_read);
            }
            for f in &expected.findings {
                *seen.entry(f.kind).or_default() += 1;
            }
            // Stamps the first part lacked and a later part gave (its rows stay first).
            let first = &parts[0].0.table;
            for (stage, column) in first.stamps.iter().enumerate() {
                filled += (0..first.len())
                    .filter(|&r| column[r] == MISSING && expected.table.stamps[stage][r] != MISSING)
                    .count();
            }
        }
        // The cases met: stamps in conflict, rows adding nothing, stamps filled in.
        assert!(seen[&FindingKind::DuplicateStamp] > 20, "{seen:?}");
        assert!(seen[&FindingKind::DuplicateConsignment] > 5, "{seen:?}");
        assert!(filled > 20, "{filled}");
    }
}
