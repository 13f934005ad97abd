//! From cells to consignments: stamp parsing, zones, segments, and the row-level checks.
//!
//! Readers (CSV, Excel, Parquet) cut their input into work units and hand each unit's rows to a
//! [`UnitBuilder`] as [`Cell`]s; units are built in parallel and then assembled in input order by
//! an [`Assembler`], which also finds duplicate consignments (wide layout) or gathers the rows of
//! each consignment (long layout).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono_tz::Tz;
use smartborder_model::table::NO_VALUE;
use smartborder_model::{Finding, FindingKind, MISSING, NO_ZONE, StampTable, ZoneResolver};

use crate::duplicates::repeated_rows;
use crate::error::IngestError;
use crate::mapping::{Layout, Mapping};
use crate::stamp_format::CellTime;

/// One cell as a reader delivers it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Empty,
    Text(&'a str),
    /// Bytes not yet checked as UTF-8 (CSV); stamps are parsed from them directly.
    Raw(&'a [u8]),
    /// A typed date-time cell (Excel date, Parquet timestamp).
    Time(CellTime),
    /// A cell that could not be decoded (e.g. invalid UTF-8); the text says what was found.
    Invalid(&'a str),
    /// Text from a dictionary-encoded column (Parquet): `key` is its index in the dictionary of
    /// the reader's current batch, so a segment or zone value is looked up once per key (see
    /// [`UnitBuilder::new_dictionaries`]).
    Coded {
        text: &'a str,
        key: u32,
    },
}

const INVALID_UTF8: &str = "<bytes that are not valid UTF-8>";

/// A cell as text: raw bytes are checked as UTF-8 here.
fn decoded(cell: Cell<'_>) -> Cell<'_> {
    match cell {
        Cell::Raw(b) => match std::str::from_utf8(b) {
            Ok(s) => Cell::Text(s),
            Err(_) => Cell::Invalid(INVALID_UTF8),
        },
        Cell::Coded { text, .. } => Cell::Text(text),
        other => other,
    }
}

/// A local wall-clock time (seconds on the local clock) as people read it.
fn local_text(local_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(local_seconds, 0)
        .map_or_else(|| local_seconds.to_string(), |t| t.naive_utc().to_string())
}

/// Column positions of the mapping's columns in one input.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    id: usize,
    stamps: Vec<usize>,
    segments: Vec<usize>,
    zone: Option<usize>,
    stage: Option<usize>,
    timestamp: Option<usize>,
    /// Every column index the mapping uses (for projection).
    pub used: Vec<usize>,
}

impl Columns {
    /// The columns whose values are looked up rather than parsed (segments and the zone): worth
    /// reading as dictionary codes.
    pub(crate) fn looked_up(&self) -> impl Iterator<Item = usize> + '_ {
        self.segments.iter().copied().chain(self.zone)
    }

    pub(crate) fn resolve(
        header: &[String],
        mapping: &Mapping,
        file: &str,
    ) -> Result<Columns, IngestError> {
        let find = |column: &str, role: String| {
            header
                .iter()
                .position(|h| h.trim() == column)
                .ok_or_else(|| IngestError::MissingColumn {
                    file: file.to_string(),
                    column: column.to_string(),
                    role,
                    found: header.join(", "),
                })
        };
        let id = find(&mapping.consignment_id, "input.consignment_id".into())?;
        let stamps = match mapping.layout {
            Layout::Wide => mapping
                .stamp_columns
                .iter()
                .zip(&mapping.design.stages)
                .map(|(c, s)| find(c, format!("stamps.{s}")))
                .collect::<Result<_, _>>()?,
            Layout::Long => Vec::new(),
        };
        let segments: Vec<usize> = mapping
            .segment_columns
            .iter()
            .zip(&mapping.design.segments)
            .map(|(c, s)| find(c, format!("segments.{s}")))
            .collect::<Result<_, _>>()?;
        let zone = match &mapping.timezone_column {
            Some(c) => Some(find(c, "input.timezone_column".into())?),
            None => None,
        };
        let (stage, timestamp) = match &mapping.long {
            Some(l) => (
                Some(find(&l.stage_column, "input.stage_column".into())?),
                Some(find(&l.timestamp_column, "input.timestamp_column".into())?),
            ),
            None => (None, None),
        };
        let mut used: Vec<usize> = std::iter::once(id)
            .chain(stamps.iter().copied())
            .chain(segments.iter().copied())
            .chain(zone)
            .chain(stage)
            .chain(timestamp)
            .collect();
        used.sort_unstable();
        used.dedup();
        Ok(Columns {
            id,
            stamps,
            segments,
            zone,
            stage,
            timestamp,
            used,
        })
    }
}

/// What every unit builder shares: the mapping, the file name, the column positions, the header.
pub(crate) struct Context<'m> {
    pub mapping: &'m Mapping,
    pub file: String,
    pub columns: Columns,
    pub header: Vec<String>,
}

/// A consignment's row in the long layout, before assembly.
#[derive(Debug)]
pub(crate) struct LongRow {
    id: String,
    line: u64,
    stage: usize,
    stamp: i64,
    /// The stamp cell was present but unusable (already reported).
    reported: bool,
    zone: Option<Tz>,
    segments: Vec<Option<String>>,
}

/// The result of one work unit.
#[derive(Debug, Default)]
pub(crate) struct Unit {
    table: StampTable,
    long_rows: Vec<LongRow>,
    id_hashes: Vec<u64>,
    findings: Vec<Finding>,
    rows_read: u64,
}

impl Unit {
    /// Rows read into this unit.
    pub(crate) fn len(&self) -> usize {
        self.rows_read as usize
    }
}

/// Builds one work unit from rows of cells.
pub(crate) struct UnitBuilder<'c> {
    ctx: &'c Context<'c>,
    unit: Unit,
    resolver: ZoneResolver,
    zone_names: Vec<(String, Option<Tz>)>,
    segment_dicts: Vec<HashMap<String, u32, BuildHasherDefault<WordHasher>>>,
    /// Per segment, the code of each key of the current batch's dictionary met so far.
    segment_keys: Vec<Vec<Option<u32>>>,
    /// The zone of each key of the current batch's zone dictionary met so far (only zones
    /// that were found: an unknown zone is reported on every row).
    zone_keys: Vec<Option<Option<Tz>>>,
    stamps: Vec<i64>,
    reported: Vec<bool>,
    segment_codes: Vec<u32>,
}

impl<'c> UnitBuilder<'c> {
    pub(crate) fn new(ctx: &'c Context<'c>) -> Self {
        let design = &ctx.mapping.design;
        UnitBuilder {
            ctx,
            unit: Unit {
                table: StampTable::new(design.stages.clone(), &design.segments),
                ..Default::default()
            },
            resolver: ZoneResolver::default(),
            zone_names: Vec::new(),
            segment_dicts: vec![HashMap::default(); design.segments.len()],
            segment_keys: vec![Vec::new(); design.segments.len()],
            zone_keys: Vec::new(),
            stamps: vec![MISSING; design.stages.len()],
            reported: vec![false; design.stages.len()],
            segment_codes: vec![NO_VALUE; design.segments.len()],
        }
    }

    /// Makes room for `rows` more rows (wide layout), when the reader knows its unit's size:
    /// the unit's columns then never grow by copying.
    pub(crate) fn reserve(&mut self, rows: usize) {
        if self.ctx.mapping.layout == Layout::Wide {
            self.unit.table.reserve(rows);
            self.unit.id_hashes.reserve(rows);
        }
    }

    pub(crate) fn finish(self) -> Unit {
        self.unit
    }

    /// Forgets what the keys of [`Cell::Coded`] cells stood for: the reader calls it before each
    /// batch, whose dictionaries are its own.
    pub(crate) fn new_dictionaries(&mut self) {
        self.segment_keys.iter_mut().for_each(Vec::clear);
        self.zone_keys.clear();
    }

    fn finding(
        &mut self,
        kind: FindingKind,
        line: u64,
        column: Option<&str>,
        consignment: Option<&str>,
        value: Option<&str>,
        message: String,
    ) {
        self.unit.findings.push(Finding {
            kind,
            file: self.ctx.file.clone(),
            line: Some(line),
            column: column.map(str::to_string),
            consignment: consignment.filter(|c| !c.is_empty()).map(str::to_string),
            value: value.map(str::to_string),
            message,
        });
    }

    /// Reports a row whose shape is wrong (wrong number of fields, broken quoting ...).
    pub(crate) fn malformed(&mut self, line: u64, message: String) {
        self.finding(FindingKind::MalformedRow, line, None, None, None, message);
    }

    fn column_name(&self, index: usize) -> &str {
        self.ctx.header.get(index).map_or("?", |s| s.as_str())
    }

    /// The zone of a row: the zone column when it has a value, else the mapping's zone.
    /// `Err(())` when a zone cell is present but not a zone (already reported).
    fn row_zone(&mut self, line: u64, id: &str, cell: Cell<'_>) -> Result<Option<Tz>, ()> {
        let Cell::Coded { key, .. } = cell else {
            return self.row_zone_of_text(line, id, decoded(cell));
        };
        let key = key as usize;
        if let Some(Some(zone)) = self.zone_keys.get(key) {
            return Ok(*zone);
        }
        let zone = self.row_zone_of_text(line, id, decoded(cell))?;
        remember(&mut self.zone_keys, key, zone);
        Ok(zone)
    }

    fn row_zone_of_text(&mut self, line: u64, id: &str, cell: Cell<'_>) -> Result<Option<Tz>, ()> {
        let text = match cell {
            Cell::Text(t) if !t.trim().is_empty() => t.trim(),
            Cell::Invalid(v) => v,
            _ => return Ok(self.ctx.mapping.timezone),
        };
        let known = match self.zone_names.iter().find(|(n, _)| n == text) {
            Some((_, tz)) => *tz,
            None => {
                let tz = text.parse::<Tz>().ok();
                self.zone_names.push((text.to_string(), tz));
                tz
            }
        };
        known.map(Some).ok_or_else(|| {
            let col = self
                .column_name(self.ctx.columns.zone.unwrap_or(0))
                .to_string();
            self.finding(
                FindingKind::UnknownZone,
                line,
                Some(&col),
                Some(id),
                Some(text),
                "expected an IANA time zone name such as Asia/Almaty; the row's local stamps \
                 are left out"
                    .into(),
            );
        })
    }

    fn unparseable(&mut self, line: u64, id: &str, column: usize, bytes: &[u8]) {
        let col = self.column_name(column).to_string();
        let expected = self.ctx.mapping.format.describe();
        let value = String::from_utf8_lossy(bytes);
        self.finding(
            FindingKind::UnparseableStamp,
            line,
            Some(&col),
            Some(id),
            Some(value.trim()),
            format!("expected {expected}"),
        );
    }

    /// Reads one stamp cell; `Err(())` when the cell is present but unusable (reported).
    fn stamp(
        &mut self,
        line: u64,
        id: &str,
        column: usize,
        cell: Cell<'_>,
        zone: Result<Option<Tz>, ()>,
    ) -> Result<i64, ()> {
        let bytes = match cell {
            Cell::Empty => return Ok(MISSING),
            Cell::Text(t) => t.as_bytes(),
            Cell::Raw(b) => b,
            Cell::Invalid(v) => v.as_bytes(),
            Cell::Coded { text, .. } => text.as_bytes(),
            Cell::Time(_) => &[],
        };
        let parsed = match cell {
            Cell::Time(p) => Some(p),
            _ if bytes.trim_ascii().is_empty() => return Ok(MISSING),
            Cell::Invalid(_) => None,
            _ => self.ctx.mapping.format.parse_bytes(bytes),
        };
        let Some(parsed) = parsed else {
            self.unparseable(line, id, column, bytes);
            return Err(());
        };
        match parsed {
            CellTime::Instant(t) => Ok(t),
            CellTime::Local(local) => {
                let tz = match zone {
                    Ok(Some(tz)) => tz,
                    Ok(None) => {
                        let col = self.column_name(column).to_string();
                        self.finding(
                            FindingKind::UnknownZone,
                            line,
                            Some(&col),
                            Some(id),
                            Some(&local_text(local)),
                            "a local stamp needs a zone: give [input] timezone or timezone_column, \
                             or write the stamp with its UTC offset"
                                .into(),
                        );
                        return Err(());
                    }
                    Err(()) => return Err(()),
                };
                self.resolver.local_seconds_to_utc(tz, local).map_err(|e| {
                    let col = self.column_name(column).to_string();
                    self.finding(
                        FindingKind::InvalidLocalTime,
                        line,
                        Some(&col),
                        Some(id),
                        Some(&local_text(local)),
                        format!("{e} ({})", tz.name()),
                    );
                })
            }
        }
    }

    fn segment_code(&mut self, k: usize, cell: Cell<'_>) -> u32 {
        let Cell::Coded { key, .. } = cell else {
            return self.segment_code_of(k, cell);
        };
        let key = key as usize;
        if let Some(Some(code)) = self.segment_keys[k].get(key) {
            return *code;
        }
        let code = self.segment_code_of(k, cell);
        remember(&mut self.segment_keys[k], key, code);
        code
    }

    fn segment_code_of(&mut self, k: usize, cell: Cell<'_>) -> u32 {
        let owned;
        let text = match decoded(cell) {
            Cell::Text(t) => t.trim(),
            Cell::Time(CellTime::Local(t)) => {
                owned = local_text(t);
                owned.as_str()
            }
            Cell::Time(CellTime::Instant(t)) => {
                owned = t.to_string();
                owned.as_str()
            }
            // `decoded` turns raw bytes and dictionary codes into text or an invalid cell.
            Cell::Empty | Cell::Invalid(_) | Cell::Raw(_) | Cell::Coded { .. } => return NO_VALUE,
        };
        if text.is_empty() {
            return NO_VALUE;
        }
        if let Some(&c) = self.segment_dicts[k].get(text) {
            return c;
        }
        let values = &mut self.unit.table.segments[k].values;
        values.push(text.to_string());
        let c = (values.len() - 1) as u32;
        self.segment_dicts[k].insert(text.to_string(), c);
        c
    }

    fn id<'a>(&mut self, line: u64, cell: Cell<'a>) -> &'a str {
        let id = match cell {
            Cell::Text(t) => t.trim(),
            _ => "",
        };
        if id.is_empty() {
            let col = self.column_name(self.ctx.columns.id).to_string();
            self.finding(
                FindingKind::MissingConsignmentId,
                line,
                Some(&col),
                None,
                None,
                "expected a consignment identifier; the row is kept in the statistics but cannot \
                 be checked for duplicates"
                    .into(),
            );
        }
        id
    }

    /// Takes one input row. `cell(i)` returns the cell of column `i`.
    pub(crate) fn row<'a>(&mut self, line: u64, cell: impl Fn(usize) -> Cell<'a>) {
        self.unit.rows_read += 1;
        let columns = &self.ctx.columns;
        let (id_col, zone_col) = (columns.id, columns.zone);
        let id = self.id(line, decoded(cell(id_col)));
        let zone = match zone_col {
            Some(z) => self.row_zone(line, id, cell(z)),
            None => Ok(self.ctx.mapping.timezone),
        };
        match self.ctx.mapping.layout {
            Layout::Wide => self.wide_row(line, id, zone, &cell),
            Layout::Long => self.long_row(line, id, zone, &cell),
        }
    }

    fn wide_row<'a>(
        &mut self,
        line: u64,
        id: &str,
        zone: Result<Option<Tz>, ()>,
        cell: &impl Fn(usize) -> Cell<'a>,
    ) {
        let columns = &self.ctx.columns;
        for (k, &c) in columns.stamps.iter().enumerate() {
            let (t, reported) = match self.stamp(line, id, c, cell(c), zone) {
                Ok(t) => (t, false),
                Err(()) => (MISSING, true),
            };
            self.stamps[k] = t;
            self.reported[k] = reported;
        }
        for (k, &c) in columns.segments.iter().enumerate() {
            self.segment_codes[k] = self.segment_code(k, cell(c));
        }
        let zone_code = match zone {
            Ok(Some(tz)) => self.unit.table.zone_code(tz),
            _ => NO_ZONE,
        };
        let stamps = std::mem::take(&mut self.stamps);
        let reported = std::mem::take(&mut self.reported);
        check_process_order(
            &mut self.unit.findings,
            self.ctx,
            id,
            line,
            &stamps,
            &reported,
        );
        let codes = std::mem::take(&mut self.segment_codes);
        self.unit.table.push(id, line, &stamps, zone_code, &codes);
        self.unit.id_hashes.push(id_hash(id));
        self.stamps = stamps;
        self.reported = reported;
        self.segment_codes = codes;
    }

    fn long_row<'a>(
        &mut self,
        line: u64,
        id: &str,
        zone: Result<Option<Tz>, ()>,
        cell: &impl Fn(usize) -> Cell<'a>,
    ) {
        let (Some(stage_col), Some(time_col), Some(long)) = (
            self.ctx.columns.stage,
            self.ctx.columns.timestamp,
            self.ctx.mapping.long.as_ref(),
        ) else {
            return;
        };
        let stage_text = match decoded(cell(stage_col)) {
            Cell::Text(t) => t.trim(),
            _ => "",
        };
        let Some(&(_, stage)) = long.stage_values.iter().find(|(v, _)| v == stage_text) else {
            let col = self.column_name(stage_col).to_string();
            let known: Vec<&str> = long.stage_values.iter().map(|(v, _)| v.as_str()).collect();
            self.finding(
                FindingKind::UnknownStage,
                line,
                Some(&col),
                Some(id),
                Some(stage_text),
                format!(
                    "expected one of the stage values of [stamps]: {}; the row is left out",
                    known.join(", ")
                ),
            );
            return;
        };
        let (stamp, reported) = match self.stamp(line, id, time_col, cell(time_col), zone) {
            Ok(t) => (t, false),
            Err(()) => (MISSING, true),
        };
        let segments = self
            .ctx
            .columns
            .segments
            .iter()
            .map(|&c| match decoded(cell(c)) {
                Cell::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
                _ => None,
            })
            .collect();
        self.unit.long_rows.push(LongRow {
            id: id.to_string(),
            line,
            stage,
            stamp,
            reported,
            zone: zone.ok().flatten(),
            segments,
        });
    }
}

/// Remembers what dictionary key `key` stands for.
fn remember<T: Clone>(keys: &mut Vec<Option<T>>, key: usize, value: T) {
    if keys.len() <= key {
        keys.resize(key + 1, None);
    }
    keys[key] = Some(value);
}

/// Fingerprint of a consignment identifier, for duplicate detection. A fingerprint match is
/// always confirmed by comparing the identifiers themselves.
pub(crate) fn id_hash(id: &str) -> u64 {
    let mut h = WordHasher::default();
    h.write(id.as_bytes());
    h.finish()
}

/// A fast, non-cryptographic hasher for short keys (identifiers, segment values): eight bytes
/// at a time, folded 128-bit multiplication, and a final avalanche so that the fingerprint's bits are
/// usable directly. Inputs come from files the user chose, so flooding resistance is not needed.
#[derive(Default)]
pub(crate) struct WordHasher(u64);

/// 128-bit product folded to 64 bits: every input bit reaches many output bits.
fn folded_multiply(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        const L: u64 = 0xD6E8_FEB8_6659_FD93;
        let mut h = folded_multiply(self.0 ^ bytes.len() as u64 ^ L, K);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("eight bytes"));
            h = folded_multiply(h ^ w, K ^ L);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            h = folded_multiply(h ^ u64::from_le_bytes(last), K);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        // Murmur3's finaliser.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Missing stamps and stamps out of process order, for one consignment.
fn check_process_order(
    findings: &mut Vec<Finding>,
    ctx: &Context<'_>,
    id: &str,
    line: u64,
    stamps: &[i64],
    reported: &[bool],
) {
    let stages = &ctx.mapping.design.stages;
    let column_of = |k: usize| -> String {
        match ctx.columns.stamps.get(k) {
            Some(&c) => ctx.header.get(c).cloned().unwrap_or_default(),
            None => stages[k].clone(),
        }
    };
    let mut previous: Option<(usize, i64)> = None;
    for (k, &t) in stamps.iter().enumerate() {
        if t == MISSING {
            if !reported[k] {
                findings.push(Finding {
                    kind: FindingKind::MissingStamp,
                    file: ctx.file.clone(),
                    line: Some(line),
                    column: Some(column_of(k)),
                    consignment: (!id.is_empty()).then(|| id.to_string()),
                    value: None,
                    message: format!(
                        "no stamp for stage \"{}\"; intervals that need it leave this \
                         consignment out",
                        stages[k]
                    ),
                });
            }
            continue;
        }
        if let Some((p, pt)) = previous
            && t < pt
        {
            findings.push(Finding {
                kind: FindingKind::OutOfOrder,
                file: ctx.file.clone(),
                line: Some(line),
                column: Some(column_of(k)),
                consignment: (!id.is_empty()).then(|| id.to_string()),
                value: Some(format_utc(t)),
                message: format!(
                    "stage \"{}\" is stamped {} min before the earlier stage \"{}\" ({}); the \
                     negative interval is left out, the consignment's other intervals count",
                    stages[k],
                    (pt - t) as f64 / 60.0,
                    stages[p],
                    format_utc(pt)
                ),
            });
        }
        previous = Some((k, t));
    }
}

fn format_utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Everything read from one input.
#[derive(Debug)]
pub struct Ingested {
    pub table: StampTable,
    pub findings: Vec<Finding>,
    /// Data rows read from the file.
    pub rows_read: u64,
    /// Consignments read (equal to rows for the wide layout, distinct identifiers for the long).
    pub consignments_read: u64,
}

struct LongConsignment {
    id: String,
    line: u64,
    stamps: Vec<i64>,
    reported: Vec<bool>,
    zone: Option<Tz>,
    segments: Vec<Option<String>>,
}

/// Puts units together in input order.
pub(crate) struct Assembler<'c> {
    ctx: &'c Context<'c>,
    table: StampTable,
    findings: Vec<Finding>,
    rows_read: u64,
    threads: usize,
    /// Wide layout: the identifier fingerprint of every row of `table`.
    id_hashes: Vec<u64>,
    /// Wide layout, per unit added: its rows end (in `table`) and its findings end (in
    /// `findings`), where that unit's duplicate findings go.
    unit_ends: Vec<(usize, usize)>,
    long: Vec<LongConsignment>,
    long_index: HashMap<String, usize>,
}

impl<'c> Assembler<'c> {
    /// `threads` search the repeated identifiers once every unit is in.
    pub(crate) fn new(ctx: &'c Context<'c>, threads: usize) -> Self {
        let design = &ctx.mapping.design;
        Assembler {
            ctx,
            table: StampTable::new(design.stages.clone(), &design.segments),
            findings: Vec::new(),
            rows_read: 0,
            threads,
            id_hashes: Vec::new(),
            unit_ends: Vec::new(),
            long: Vec::new(),
            long_index: HashMap::new(),
        }
    }

    /// Makes room for about `rows` more consignments (wide layout).
    pub(crate) fn reserve(&mut self, rows: usize) {
        if self.ctx.mapping.layout == Layout::Wide {
            self.table.reserve(rows);
            self.id_hashes.reserve(rows);
        }
    }

    /// Adds the next unit (units must arrive in input order).
    pub(crate) fn add(&mut self, unit: Unit) {
        self.rows_read += unit.rows_read;
        let mut unit_findings = unit.findings;
        match self.ctx.mapping.layout {
            Layout::Wide => {
                // Repeated identifiers are searched in `finish`, over every unit at once.
                let maps = self.table.code_maps(&unit.table);
                self.table.append(&unit.table, &maps);
                self.id_hashes.extend_from_slice(&unit.id_hashes);
            }
            Layout::Long => {
                let stages = self.ctx.mapping.design.stages.len();
                for r in unit.long_rows {
                    let index = match self.long_index.get(&r.id) {
                        Some(&i) => i,
                        None => {
                            self.long.push(LongConsignment {
                                id: r.id.clone(),
                                line: r.line,
                                stamps: vec![MISSING; stages],
                                reported: vec![false; stages],
                                zone: r.zone,
                                segments: vec![None; r.segments.len()],
                            });
                            self.long_index.insert(r.id.clone(), self.long.len() - 1);
                            self.long.len() - 1
                        }
                    };
                    let c = &mut self.long[index];
                    if c.stamps[r.stage] != MISSING || c.reported[r.stage] {
                        unit_findings.push(Finding {
                            kind: FindingKind::DuplicateStamp,
                            file: self.ctx.file.clone(),
                            line: Some(r.line),
                            column: Some(self.ctx.mapping.design.stages[r.stage].clone()),
                            consignment: Some(r.id.clone()),
                            value: None,
                            message: format!(
                                "a stamp for this stage was already read on line {}; the first \
                                 is kept",
                                c.line
                            ),
                        });
                        continue;
                    }
                    c.stamps[r.stage] = r.stamp;
                    c.reported[r.stage] = r.reported;
                    if c.zone.is_none() {
                        c.zone = r.zone;
                    }
                    for (mine, theirs) in c.segments.iter_mut().zip(r.segments) {
                        if mine.is_none() {
                            *mine = theirs;
                        }
                    }
                }
            }
        }
        self.findings.append(&mut unit_findings);
        if self.ctx.mapping.layout == Layout::Wide {
            self.unit_ends.push((self.table.len(), self.findings.len()));
        }
    }

    /// Reports each row whose identifier an earlier row had, after the findings of its unit's
    /// rows (where reading row by row put it), and leaves it out of the table.
    fn leave_out_repeated_rows(&mut self) {
        let repeated = repeated_rows(&self.table, &self.id_hashes, self.threads);
        self.id_hashes = Vec::new();
        if repeated.is_empty() {
            return;
        }
        let mut row_findings = std::mem::take(&mut self.findings).into_iter();
        let mut repeats = repeated.iter().peekable();
        let mut findings_read = 0;
        for &(rows_end, findings_end) in &self.unit_ends {
            self.findings
                .extend(row_findings.by_ref().take(findings_end - findings_read));
            findings_read = findings_end;
            while let Some(&&(row, first)) = repeats.peek() {
                if row >= rows_end {
                    break;
                }
                repeats.next();
                let id = self.table.id(row);
                self.findings.push(Finding {
                    kind: FindingKind::DuplicateConsignment,
                    file: self.ctx.file.clone(),
                    line: Some(self.table.lines[row]),
                    column: Some(self.ctx.mapping.consignment_id.clone()),
                    consignment: Some(id.to_string()),
                    value: Some(id.to_string()),
                    message: format!(
                        "consignment already read on line {}; this row is left out of the \
                         statistics",
                        self.table.lines[first]
                    ),
                });
            }
        }
        self.findings.extend(row_findings);
        let rows: Vec<usize> = repeated.iter().map(|&(row, _)| row).collect();
        self.table.remove_rows(&rows);
    }

    pub(crate) fn finish(mut self) -> Ingested {
        let consignments_read = match self.ctx.mapping.layout {
            Layout::Wide => self.rows_read,
            Layout::Long => self.long.len() as u64,
        };
        if self.ctx.mapping.layout == Layout::Wide {
            self.leave_out_repeated_rows();
        }
        let mut dicts: Vec<HashMap<String, u32>> = vec![HashMap::new(); self.table.segments.len()];
        for c in std::mem::take(&mut self.long) {
            check_process_order(
                &mut self.findings,
                self.ctx,
                &c.id,
                c.line,
                &c.stamps,
                &c.reported,
            );
            let zone = c.zone.map_or(NO_ZONE, |tz| self.table.zone_code(tz));
            let codes: Vec<u32> = c
                .segments
                .into_iter()
                .enumerate()
                .map(|(k, v)| match v {
                    None => NO_VALUE,
                    Some(v) => *dicts[k].entry(v.clone()).or_insert_with(|| {
                        self.table.segments[k].values.push(v);
                        (self.table.segments[k].values.len() - 1) as u32
                    }),
                })
                .collect();
            self.table.push(&c.id, c.line, &c.stamps, zone, &codes);
        }
        Ingested {
            table: self.table,
            findings: self.findings,
            rows_read: self.rows_read,
            consignments_read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_of_many_similar_identifiers_do_not_collide() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..400_000u32 {
            for id in [format!("KZ{i:010}"), format!("{i}"), format!("AZ-{i}-2025")] {
                assert!(seen.insert(id_hash(&id)), "collision at {id}");
            }
        }
        // The string hashing used by the segment dictionaries agrees with itself.
        assert_eq!(id_hash("Sarpi"), id_hash("Sarpi"));
        assert_ne!(id_hash("Sarpi"), id_hash("Sarpi "));
        assert_ne!(id_hash(""), id_hash("\0"));
    }
}
