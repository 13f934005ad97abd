//! The stamp table: consignments as columns, ready for the TRS engine.
//!
//! Columnar because a study can hold ten million consignments: one `Vec<i64>` of UTC seconds per
//! stage, dictionary-coded segments, and identifiers packed into one string.

use chrono_tz::Tz;

/// Marks a stamp that is absent or could not be read.
pub const MISSING: i64 = i64::MIN;
/// Segment code of an empty cell.
pub const NO_VALUE: u32 = u32::MAX;
/// Zone code of a row without a known zone.
pub const NO_ZONE: u16 = u16::MAX;

/// A dictionary-coded segment column (office, lane, mode ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentColumn {
    pub name: String,
    /// One code per consignment; [`NO_VALUE`] for an empty cell.
    pub codes: Vec<u32>,
    /// Distinct values, indexed by code.
    pub values: Vec<String>,
}

impl SegmentColumn {
    pub fn new(name: impl Into<String>) -> Self {
        SegmentColumn {
            name: name.into(),
            ..Default::default()
        }
    }

    /// The value of row `row`, if any.
    pub fn value(&self, row: usize) -> Option<&str> {
        let code = self.codes[row];
        (code != NO_VALUE).then(|| self.values[code as usize].as_str())
    }
}

/// Consignments of one study, columnar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StampTable {
    /// Stage names, in process order.
    pub stages: Vec<String>,
    /// `stamps[stage][row]`: UTC seconds since the epoch, or [`MISSING`].
    pub stamps: Vec<Vec<i64>>,
    /// Zone of each row, as an index into `zones`, or [`NO_ZONE`].
    pub zone_codes: Vec<u16>,
    pub zones: Vec<Tz>,
    pub segments: Vec<SegmentColumn>,
    /// Source line (or row) of each consignment.
    pub lines: Vec<u64>,
    /// The input files of a study read from several, as (first row, file) in row order: rows
    /// from `first row` on came from that file (until the next). Empty for one input.
    pub sources: Vec<(usize, String)>,
    id_bytes: String,
    id_ends: Vec<usize>,
}

impl StampTable {
    pub fn new(stages: Vec<String>, segments: &[String]) -> Self {
        StampTable {
            stamps: vec![Vec::new(); stages.len()],
            stages,
            segments: segments.iter().map(SegmentColumn::new).collect(),
            ..Default::default()
        }
    }

    /// Number of consignments.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Identifier of consignment `row`.
    pub fn id(&self, row: usize) -> &str {
        let start = if row == 0 { 0 } else { self.id_ends[row - 1] };
        &self.id_bytes[start..self.id_ends[row]]
    }

    /// The input file row `row` came from, when the table was read from several.
    pub fn source(&self, row: usize) -> Option<&str> {
        let after = self.sources.partition_point(|(first, _)| *first <= row);
        after.checked_sub(1).map(|i| self.sources[i].1.as_str())
    }

    /// The zone of row `row`, if known.
    pub fn zone(&self, row: usize) -> Option<Tz> {
        let code = self.zone_codes[row];
        (code != NO_ZONE).then(|| self.zones[code as usize])
    }

    /// Code of `tz` in this table, adding it on first use.
    pub fn zone_code(&mut self, tz: Tz) -> u16 {
        match self.zones.iter().position(|z| *z == tz) {
            Some(i) => i as u16,
            None => {
                self.zones.push(tz);
                (self.zones.len() - 1) as u16
            }
        }
    }

    /// Appends one consignment. `stamps` has one entry per stage, `segment_codes` one per segment
    /// (codes of this table's dictionaries).
    pub fn push(
        &mut self,
        id: &str,
        line: u64,
        stamps: &[i64],
        zone_code: u16,
        segment_codes: &[u32],
    ) {
        debug_assert_eq!(stamps.len(), self.stamps.len());
        debug_assert_eq!(segment_codes.len(), self.segments.len());
        self.id_bytes.push_str(id);
        self.id_ends.push(self.id_bytes.len());
        self.lines.push(line);
        for (column, &t) in self.stamps.iter_mut().zip(stamps) {
            column.push(t);
        }
        self.zone_codes.push(zone_code);
        for (column, &c) in self.segments.iter_mut().zip(segment_codes) {
            column.codes.push(c);
        }
    }

    /// Appends row `row` of `other`, translating its zone and segment codes with the given maps
    /// (from [`StampTable::code_maps`]).
    pub fn push_from(&mut self, other: &StampTable, row: usize, maps: &CodeMaps) {
        self.id_bytes.push_str(other.id(row));
        self.id_ends.push(self.id_bytes.len());
        self.lines.push(other.lines[row]);
        for (column, source) in self.stamps.iter_mut().zip(&other.stamps) {
            column.push(source[row]);
        }
        self.zone_codes.push(maps.zone(other.zone_codes[row]));
        for (k, (column, source)) in self.segments.iter_mut().zip(&other.segments).enumerate() {
            column.codes.push(maps.segment(k, source.codes[row]));
        }
    }

    /// Appends every row of `other` (column by column), translating its codes with `maps`.
    pub fn append(&mut self, other: &StampTable, maps: &CodeMaps) {
        let offset = self.id_bytes.len();
        self.id_bytes.push_str(&other.id_bytes);
        self.id_ends
            .extend(other.id_ends.iter().map(|e| e + offset));
        self.lines.extend_from_slice(&other.lines);
        for (column, source) in self.stamps.iter_mut().zip(&other.stamps) {
            column.extend_from_slice(source);
        }
        self.zone_codes
            .extend(other.zone_codes.iter().map(|&z| maps.zone(z)));
        for (k, (column, source)) in self.segments.iter_mut().zip(&other.segments).enumerate() {
            column
                .codes
                .extend(source.codes.iter().map(|&c| maps.segment(k, c)));
        }
    }

    /// Removes the rows `rows` (ascending, no repeats), keeping the others in order.
    pub fn remove_rows(&mut self, rows: &[usize]) {
        debug_assert!(rows.windows(2).all(|w| w[0] < w[1]));
        if rows.is_empty() {
            return;
        }
        let mut removed = rows.iter().peekable();
        let keep: Vec<bool> = (0..self.len())
            .map(|row| {
                let out = removed.next_if_eq(&&row).is_some();
                !out
            })
            .collect();
        fn retain<T>(column: &mut Vec<T>, keep: &[bool]) {
            let mut k = keep.iter();
            column.retain(|_| k.next().copied().unwrap_or(true));
        }
        let mut id_bytes = String::with_capacity(self.id_bytes.len());
        let mut id_ends = Vec::with_capacity(self.len() - rows.len());
        for row in (0..self.len()).filter(|&r| keep[r]) {
            id_bytes.push_str(self.id(row));
            id_ends.push(id_bytes.len());
        }
        self.id_bytes = id_bytes;
        self.id_ends = id_ends;
        retain(&mut self.lines, &keep);
        for column in &mut self.stamps {
            retain(column, &keep);
        }
        retain(&mut self.zone_codes, &keep);
        for column in &mut self.segments {
            retain(&mut column.codes, &keep);
        }
        // A file's first row moves up by the rows removed before it.
        for (first, _) in &mut self.sources {
            *first -= rows.partition_point(|&r| r < *first);
        }
    }

    /// Merges `other`'s dictionaries into this table's and returns the code translations.
    pub fn code_maps(&mut self, other: &StampTable) -> CodeMaps {
        let zones = other.zones.iter().map(|&tz| self.zone_code(tz)).collect();
        let segments = self
            .segments
            .iter_mut()
            .zip(&other.segments)
            .map(|(mine, theirs)| {
                theirs
                    .values
                    .iter()
                    .map(|v| match mine.values.iter().position(|m| m == v) {
                        Some(i) => i as u32,
                        None => {
                            mine.values.push(v.clone());
                            (mine.values.len() - 1) as u32
                        }
                    })
                    .collect()
            })
            .collect();
        CodeMaps { zones, segments }
    }

    /// Reserves room for `additional` more consignments.
    pub fn reserve(&mut self, additional: usize) {
        self.lines.reserve(additional);
        self.id_ends.reserve(additional);
        self.zone_codes.reserve(additional);
        for c in &mut self.stamps {
            c.reserve(additional);
        }
        for s in &mut self.segments {
            s.codes.reserve(additional);
        }
    }
}

/// Translations of one table's dictionary codes into another's.
#[derive(Debug, Clone)]
pub struct CodeMaps {
    zones: Vec<u16>,
    segments: Vec<Vec<u32>>,
}

impl CodeMaps {
    fn zone(&self, code: u16) -> u16 {
        if code == NO_ZONE {
            NO_ZONE
        } else {
            self.zones[code as usize]
        }
    }

    fn segment(&self, column: usize, code: u32) -> u32 {
        if code == NO_VALUE {
            NO_VALUE
        } else {
            self.segments[column][code as usize]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_translates_dictionaries() {
        let stages = vec!["arrival".to_string(), "release".to_string()];
        let segs = vec!["office".to_string()];
        let mut a = StampTable::new(stages.clone(), &segs);
        a.segments[0].values = vec!["Sarpi".into()];
        let baku = a.zone_code(Tz::Asia__Baku);
        a.push("A1", 2, &[10, 20], baku, &[0]);

        let mut b = StampTable::new(stages, &segs);
        b.segments[0].values = vec!["Poti port".into(), "Sarpi".into()];
        let tbilisi = b.zone_code(Tz::Asia__Tbilisi);
        b.push("B1", 7, &[30, MISSING], tbilisi, &[1]);
        b.push("B2", 8, &[40, 50], NO_ZONE, &[0]);

        let maps = a.code_maps(&b);
        let mut bulk = a.clone();
        for row in 0..b.len() {
            a.push_from(&b, row, &maps);
        }
        bulk.append(&b, &maps);
        assert_eq!(
            bulk, a,
            "appending whole tables equals appending row by row"
        );
        assert_eq!(a.len(), 3);
        assert_eq!(a.id(1), "B1");
        assert_eq!(a.id(2), "B2");
        assert_eq!(a.segments[0].value(1), Some("Sarpi"));
        assert_eq!(a.segments[0].value(2), Some("Poti port"));
        assert_eq!(a.zone(1), Some(Tz::Asia__Tbilisi));
        assert_eq!(a.zone(2), None);
        assert_eq!(a.stamps[1], vec![20, MISSING, 50]);
        assert_eq!(a.lines, vec![2, 7, 8]);
    }

    #[test]
    fn removing_rows_equals_pushing_only_the_others() {
        let stages = vec!["arrival".to_string(), "release".to_string()];
        let segs = vec!["office".to_string(), "lane".to_string()];
        /// Identifier, line, stamps, zone, segment codes.
        type Row = (String, u64, [i64; 2], Option<Tz>, [u32; 2]);
        let rows: Vec<Row> = (0..12u32)
            .map(|i| {
                let zone = [Some(Tz::Asia__Baku), None, Some(Tz::Asia__Almaty)][i as usize % 3];
                let stamps = [i64::from(i) * 60, if i % 4 == 0 { MISSING } else { 999 }];
                (
                    format!("ID{i}"),
                    u64::from(i) + 2,
                    stamps,
                    zone,
                    [i % 2, i % 3],
                )
            })
            .collect();
        let build = |keep: &dyn Fn(usize) -> bool| {
            let mut t = StampTable::new(stages.clone(), &segs);
            t.segments[0].values = vec!["Sarpi".into(), "Poti".into()];
            t.segments[1].values = vec!["green".into(), "yellow".into(), "red".into()];
            t.zone_code(Tz::Asia__Baku);
            t.zone_code(Tz::Asia__Almaty);
            t.sources = vec![
                (0, "a.csv".into()),
                (5, "b.csv".into()),
                (9, "c.csv".into()),
            ];
            for (r, (id, line, stamps, zone, codes)) in rows.iter().enumerate() {
                if keep(r) {
                    let code = zone.map_or(NO_ZONE, |z| t.zone_code(z));
                    t.push(id, *line, stamps, code, codes);
                }
            }
            t
        };
        let removed = [0, 3, 4, 9, 11];
        let mut table = build(&|_| true);
        table.remove_rows(&removed);
        let mut expected = build(&|r| !removed.contains(&r));
        // Rows 0-4 came from a.csv (0, 3 and 4 removed), 5-8 from b.csv, 9-11 from c.csv (9
        // and 11 removed).
        expected.sources = vec![
            (0, "a.csv".into()),
            (2, "b.csv".into()),
            (6, "c.csv".into()),
        ];
        assert_eq!(table, expected);
        assert_eq!(table.id(2), "ID5");
        assert_eq!(table.source(6), Some("c.csv"));
    }
}
