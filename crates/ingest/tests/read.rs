//! Reading every input kind and layout, with the verification findings each bad cell produces.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Tz;
use smartborder_ingest::{Ingested, Mapping, NoProgress, read_study};
use smartborder_model::{FindingKind, MISSING};

const MAPPING: &str = r#"
[input]
layout = "wide"
consignment_id = "Declaration No"
timestamp_format = "%d.%m.%Y %H:%M"
timezone = "Asia/Baku"
timezone_column = "Zone"
[stamps]
arrival = "Arrival"
lodgement = "Lodged"
release = "Released"
[segments]
office = "Office"
lane = "Channel"
[[intervals]]
from = "arrival"
to = "release"
"#;

const CSV: &str = "\
Declaration No,Office,Channel,Zone,Arrival,Lodged,Released
D1,Red Bridge,green,,01.03.2025 08:00,01.03.2025 08:30,01.03.2025 10:00
D2,Altynkol,red,Asia/Almaty,29.02.2024 12:00,29.02.2024 13:00,29.02.2024 18:00
D3,Altynkol,red,Asia/Almaty,01.03.2024 12:00,,01.03.2024 18:00
D4,Sarpi,yellow,Asia/Tbilisi,01.03.2025 08:00,1st of March,01.03.2025 10:00
D5,Sarpi,yellow,Asia/Atlantis,01.03.2025 08:00,01.03.2025 09:00,01.03.2025 10:00
D6,Sarpi,green,Asia/Tbilisi,01.03.2025 08:00,01.03.2025 07:00,01.03.2025 10:00
D1,Red Bridge,green,,02.03.2025 08:00,02.03.2025 08:30,02.03.2025 10:00
";

fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

fn read(path: &Path, mapping: &str) -> Ingested {
    let mapping = Mapping::from_toml(mapping, "mapping.toml").unwrap();
    read_study(path, &mapping, &NoProgress, 2).unwrap()
}

/// The same assertions for every input kind carrying the rows of `CSV`.
/// `header`: 1 when rows are numbered as file lines (CSV, Excel), 0 for Parquet data rows.
fn check_wide(ingested: &Ingested, file: &str, typed_cells: bool, header: u64) {
    let t = &ingested.table;
    assert_eq!(ingested.rows_read, 7);
    // D1 appears twice: the second is left out.
    assert_eq!(t.len(), 6);
    assert_eq!(t.id(0), "D1");
    // Empty zone cell: the mapping's zone (Baku, UTC+4).
    assert_eq!(t.stamps[0][0], utc(2025, 3, 1, 4, 0));
    assert_eq!(t.zone(0), Some(Tz::Asia__Baku));
    // Kazakhstan: UTC+6 before 2024-03-01, UTC+5 from then on.
    assert_eq!(t.stamps[0][1], utc(2024, 2, 29, 6, 0));
    assert_eq!(t.stamps[0][2], utc(2024, 3, 1, 7, 0));
    assert_eq!(t.stamps[1][2], MISSING);
    assert_eq!(t.segments[0].value(1), Some("Altynkol"));
    assert_eq!(t.segments[1].value(2), Some("red"));

    let find = |kind: FindingKind| {
        ingested
            .findings
            .iter()
            .filter(|f| f.kind == kind)
            .collect::<Vec<_>>()
    };
    let missing = find(FindingKind::MissingStamp);
    // In a typed column the unreadable cell of D4 can only be an empty cell.
    assert_eq!(missing.len(), 1 + usize::from(typed_cells));
    assert_eq!(missing[0].line, Some(3 + header));
    assert_eq!(missing[0].column.as_deref(), Some("Lodged"));
    assert_eq!(missing[0].consignment.as_deref(), Some("D3"));
    assert_eq!(missing[0].file, file);

    let zone = find(FindingKind::UnknownZone);
    assert_eq!(zone.len(), 1);
    assert_eq!(
        (zone[0].line, zone[0].value.as_deref()),
        (Some(5 + header), Some("Asia/Atlantis"))
    );
    assert_eq!(zone[0].column.as_deref(), Some("Zone"));
    // D5's local stamps cannot be placed without its zone.
    assert!((0..3).all(|s| t.stamps[s][4] == MISSING));

    let order = find(FindingKind::OutOfOrder);
    assert_eq!(order.len(), 1);
    assert_eq!(order[0].line, Some(6 + header));
    assert_eq!(order[0].column.as_deref(), Some("Lodged"));
    assert_eq!(order[0].consignment.as_deref(), Some("D6"));

    let dup = find(FindingKind::DuplicateConsignment);
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].line, Some(7 + header));
    assert!(
        dup[0].message.contains(&format!("line {}", 1 + header)),
        "{}",
        dup[0].message
    );

    let bad = find(FindingKind::UnparseableStamp);
    if typed_cells {
        // A typed input writes the unreadable cell as text; it is still reported.
        assert!(bad.len() <= 1);
    } else {
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, Some(4 + header));
        assert_eq!(bad[0].column.as_deref(), Some("Lodged"));
        assert_eq!(bad[0].value.as_deref(), Some("1st of March"));
        assert!(bad[0].message.contains("%d.%m.%Y %H:%M"));
    }
}

#[test]
fn csv_wide_layout() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.csv");
    std::fs::write(&p, CSV).unwrap();
    let ingested = read(&p, MAPPING);
    check_wide(&ingested, &p.display().to_string(), false, 1);
    assert_eq!(ingested.findings.len(), 5);
}

#[test]
fn csv_with_bom_semicolons_quotes_and_embedded_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.csv");
    let text = CSV
        .replace(',', ";")
        .replace("D2;Altynkol", "D2;\"Altynkol\nrail yard\"");
    std::fs::write(&p, format!("\u{feff}{text}")).unwrap();
    let mapping = MAPPING.replace("timezone_column", "delimiter = \";\"\ntimezone_column");
    let ingested = read(&p, &mapping);
    assert_eq!(
        ingested.table.segments[0].value(1),
        Some("Altynkol\nrail yard")
    );
    // Every row after the quoted newline is one physical line further down.
    let missing = ingested
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::MissingStamp)
        .unwrap();
    assert_eq!(missing.line, Some(5));
}

#[test]
fn csv_large_input_is_split_into_blocks_without_losing_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.csv");
    let mut text = String::from("Declaration No,Office,Channel,Zone,Arrival,Lodged,Released\n");
    let n = 200_000;
    // Repeated identifiers and rows without a release stamp in several blocks, with their lines.
    let extra = |text: &mut String, row: String, kind: FindingKind, expected: &mut Vec<_>| {
        text.push_str(&row);
        // The header is line 1 and every row ends its line.
        expected.push((kind, text.matches('\n').count() as u64));
    };
    let mut expected = Vec::new();
    let mut block_findings = Vec::new();
    for i in 0..n {
        text.push_str(&format!(
            "C{i},\"Office, {}\",green,Asia/Tbilisi,01.03.2025 08:00,01.03.2025 08:{:02},01.03.2025 10:00\n",
            i % 7,
            i % 60
        ));
        if i == 50 || i == n - 100 {
            // Within a block, the rows' own findings come first, then its repeated identifiers.
            let mut repeats = Vec::new();
            extra(
                &mut text,
                format!(
                    "C{},x,green,Asia/Tbilisi,01.03.2025 08:00,01.03.2025 08:30,01.03.2025 10:00\n",
                    i / 2
                ),
                FindingKind::DuplicateConsignment,
                &mut repeats,
            );
            extra(
                &mut text,
                format!("M{i},x,green,Asia/Tbilisi,01.03.2025 08:00,01.03.2025 08:30,\n"),
                FindingKind::MissingStamp,
                &mut block_findings,
            );
            expected.append(&mut block_findings);
            expected.append(&mut repeats);
        }
    }
    extra(
        &mut text,
        "C5,x,green,Asia/Tbilisi,01.03.2025 08:00,01.03.2025 08:30,01.03.2025 10:00\n".into(),
        FindingKind::DuplicateConsignment,
        &mut expected,
    );
    std::fs::write(&p, &text).unwrap();
    assert!(text.len() > 2 * (8 << 20), "needs more than one block");
    let ingested = read(&p, MAPPING);
    assert_eq!(ingested.rows_read, n + 5);
    assert_eq!(ingested.table.len(), n as usize + 2);
    let found: Vec<(FindingKind, u64)> = ingested
        .findings
        .iter()
        .map(|f| (f.kind, f.line.unwrap()))
        .collect();
    assert_eq!(found, expected);
    let repeat = &ingested.findings[1];
    assert_eq!(repeat.consignment.as_deref(), Some("C25"));
    assert_eq!(
        repeat.message,
        "consignment already read on line 27; this row is left out of the statistics"
    );
    // Rows keep input order and their own line numbers.
    for row in [0usize, 1, 50] {
        assert_eq!(ingested.table.id(row), format!("C{row}"));
    }
    assert_eq!(ingested.table.id(51), "M50");
    assert_eq!(ingested.table.lines[51], 54);
    assert_eq!(ingested.table.id(100_000), "C99999");
    assert_eq!(ingested.table.id(200_001), "C199999");
    assert_eq!(ingested.table.lines[200_001], n + 5);
    let offices: std::collections::BTreeSet<&str> = (0..ingested.table.len())
        .filter_map(|r| ingested.table.segments[0].value(r))
        .collect();
    assert_eq!(offices.len(), 8);
    assert!(offices.contains("Office, 3"));
}

#[test]
fn excel_wide_layout_with_date_cells_and_text_cells() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let format = rust_xlsxwriter::Format::new().set_num_format("dd.mm.yyyy hh:mm");
    for (r, line) in CSV.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            let (r, c) = (r as u32, c as u16);
            // Stamp cells that parse become real Excel date-times; the rest stay text.
            match chrono::NaiveDateTime::parse_from_str(cell, "%d.%m.%Y %H:%M") {
                Ok(t) if r > 0 => {
                    let dt = rust_xlsxwriter::ExcelDateTime::parse_from_str(
                        &t.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    )
                    .unwrap();
                    sheet
                        .write_datetime_with_format(r, c, &dt, &format)
                        .unwrap();
                }
                _ if cell.is_empty() => {}
                _ => {
                    sheet.write_string(r, c, cell).unwrap();
                }
            }
        }
    }
    book.save(&p).unwrap();
    let ingested = read(&p, MAPPING);
    check_wide(&ingested, &p.display().to_string(), false, 1);
}

#[test]
fn parquet_wide_layout_with_typed_timestamps() {
    use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampSecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.parquet");
    let rows: Vec<Vec<&str>> = CSV
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let text = |c: usize| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter()
                .map(|r| (!r[c].is_empty()).then_some(r[c]))
                .collect::<Vec<_>>(),
        ))
    };
    let time = |c: usize| -> ArrayRef {
        Arc::new(TimestampSecondArray::from(
            rows.iter()
                .map(|r| {
                    chrono::NaiveDateTime::parse_from_str(r[c], "%d.%m.%Y %H:%M")
                        .ok()
                        .map(|t| t.and_utc().timestamp())
                })
                .collect::<Vec<_>>(),
        ))
    };
    let header: Vec<&str> = CSV.lines().next().unwrap().split(',').collect();
    let fields: Vec<Field> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let ty = if i >= 4 {
                DataType::Timestamp(TimeUnit::Second, None)
            } else {
                DataType::Utf8
            };
            Field::new(*h, ty, true)
        })
        .collect();
    let columns: Vec<ArrayRef> = (0..header.len())
        .map(|c| if c >= 4 { time(c) } else { text(c) })
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&p).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let ingested = read(&p, MAPPING);
    // The unparseable cell of D4 cannot exist in a timestamp column: it is an empty cell there.
    check_wide(&ingested, &p.display().to_string(), true, 0);
}

/// Writes a Parquet file with the columns of `MAPPING` (identifier, office, lane and zone as
/// text, three local timestamps), in that order.
fn write_wide_parquet(
    path: &Path,
    columns: Vec<arrow_array::ArrayRef>,
    props: parquet::file::properties::WriterProperties,
) {
    use arrow_array::RecordBatch;
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    let local = DataType::Timestamp(TimeUnit::Second, None);
    let fields = vec![
        Field::new("Declaration No", DataType::Utf8, false),
        Field::new("Office", DataType::Utf8, true),
        Field::new("Channel", DataType::Utf8, true),
        Field::new("Zone", DataType::Utf8, true),
        Field::new("Arrival", local.clone(), true),
        Field::new("Lodged", local.clone(), true),
        Field::new("Released", local, true),
    ];
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_dictionaries_of_each_row_group_are_their_own() {
    use arrow_array::{ArrayRef, StringArray, TimestampSecondArray};
    use parquet::file::properties::WriterProperties;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("groups.parquet");
    // Two row groups of three rows. Each group's dictionaries list values in the order they first
    // appear, so key 0 is Sarpi and Asia/Tbilisi in the first group, Altynkol and Asia/Atlantis
    // (not a zone) in the second.
    let offices = [
        "Sarpi",
        "Altynkol",
        "Sarpi",
        "Altynkol",
        "Red Bridge",
        "Sarpi",
    ];
    let lanes = ["green", "red", "green", "red", "red", "yellow"];
    let zones = [
        Some("Asia/Tbilisi"),
        Some("Asia/Almaty"),
        None,
        Some("Asia/Atlantis"),
        Some("Asia/Tbilisi"),
        Some("Asia/Atlantis"),
    ];
    let ids: Vec<String> = (1..=6).map(|i| format!("G{i}")).collect();
    let local = utc(2025, 3, 1, 8, 0);
    let text = |v: Vec<Option<&str>>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    let time = |offset: i64| -> ArrayRef {
        Arc::new(TimestampSecondArray::from(vec![Some(local + offset); 6]))
    };
    let columns = vec![
        text(ids.iter().map(|i| Some(i.as_str())).collect()),
        text(offices.iter().map(|o| Some(*o)).collect()),
        text(lanes.iter().map(|l| Some(*l)).collect()),
        text(zones.to_vec()),
        time(0),
        time(1800),
        time(7200),
    ];
    let props = WriterProperties::builder()
        .set_max_row_group_size(3)
        .build();
    write_wide_parquet(&p, columns, props);
    let ingested = read(&p, MAPPING);
    let t = &ingested.table;
    assert_eq!(t.len(), 6);
    for row in 0..6 {
        assert_eq!(t.id(row), ids[row]);
        assert_eq!(
            t.segments[0].value(row),
            Some(offices[row]),
            "office of row {row}"
        );
        assert_eq!(
            t.segments[1].value(row),
            Some(lanes[row]),
            "lane of row {row}"
        );
    }
    // No zone cell: the mapping's zone (Asia/Baku).
    let expected_zones = [
        Some(Tz::Asia__Tbilisi),
        Some(Tz::Asia__Almaty),
        Some(Tz::Asia__Baku),
        None,
        Some(Tz::Asia__Tbilisi),
        None,
    ];
    for (row, zone) in expected_zones.iter().enumerate() {
        assert_eq!(t.zone(row), *zone, "zone of row {row}");
    }
    // Tbilisi is UTC+4, Almaty UTC+5 (since 2024-03-01).
    assert_eq!(t.stamps[0][0], utc(2025, 3, 1, 4, 0));
    assert_eq!(t.stamps[0][1], utc(2025, 3, 1, 3, 0));
    assert_eq!(t.stamps[0][3], MISSING);
    // The unknown zone is reported on each of its rows (data rows 4 and 6).
    let unknown: Vec<(Option<u64>, Option<&str>)> = ingested
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::UnknownZone)
        .map(|f| (f.line, f.value.as_deref()))
        .collect();
    assert_eq!(
        unknown,
        vec![
            (Some(4), Some("Asia/Atlantis")),
            (Some(6), Some("Asia/Atlantis"))
        ]
    );
}

#[test]
fn parquet_dictionaries_of_each_batch_are_their_own() {
    use arrow_array::{ArrayRef, StringArray, TimestampSecondArray};
    use parquet::file::properties::WriterProperties;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("batches.parquet");
    // One row group longer than a read batch (65,536 rows), its dictionary pages given up for
    // plain pages early (a tiny dictionary page limit): the reader then builds a dictionary
    // per batch, and the second batch's keys mean other offices than the first's.
    let n = 70_000usize;
    let office = |i: usize| {
        if i < 65_536 {
            format!("O{}", i % 300)
        } else {
            format!("O{}", 299 - i % 300)
        }
    };
    let ids: Vec<String> = (0..n).map(|i| format!("B{i}")).collect();
    let offices: Vec<String> = (0..n).map(office).collect();
    let local = utc(2025, 3, 1, 8, 0);
    let text = |v: Vec<Option<&str>>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    let time = |offset: i64| -> ArrayRef {
        Arc::new(TimestampSecondArray::from(vec![Some(local + offset); n]))
    };
    let columns = vec![
        text(ids.iter().map(|i| Some(i.as_str())).collect()),
        text(offices.iter().map(|o| Some(o.as_str())).collect()),
        text(vec![Some("green"); n]),
        text(vec![None; n]),
        time(0),
        time(1800),
        time(7200),
    ];
    let props = WriterProperties::builder()
        .set_max_row_group_size(n)
        .set_dictionary_page_size_limit(256)
        .build();
    write_wide_parquet(&p, columns, props);
    let ingested = read(&p, MAPPING);
    let t = &ingested.table;
    assert_eq!(t.len(), n);
    for (row, office) in offices.iter().enumerate() {
        assert_eq!(t.segments[0].value(row), Some(office.as_str()), "row {row}");
    }
    assert_eq!(t.segments[0].values.len(), 300);
}

#[test]
fn long_layout_assembles_consignments() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stamps.csv");
    std::fs::write(
        &p,
        "Decl,Stage,Time,Office\n\
         A,ARR,2025-03-01T08:00:00+04:00,Red Bridge\n\
         B,ARR,2025-03-01 09:00,Sarpi\n\
         A,REL,2025-03-01T10:00:00+04:00,\n\
         A,XXX,2025-03-01T10:30:00+04:00,Red Bridge\n\
         B,LOD,2025-03-01 09:30,Sarpi\n\
         B,LOD,2025-03-01 09:45,Sarpi\n\
         B,REL,yesterday,Sarpi\n",
    )
    .unwrap();
    let mapping = r#"
[input]
layout = "long"
consignment_id = "Decl"
stage_column = "Stage"
timestamp_column = "Time"
timezone = "Asia/Tbilisi"
[stamps]
arrival = "ARR"
lodgement = "LOD"
release = "REL"
[segments]
office = "Office"
"#;
    let ingested = read(&p, mapping);
    let t = &ingested.table;
    assert_eq!(ingested.rows_read, 7);
    assert_eq!(ingested.consignments_read, 2);
    assert_eq!(t.len(), 2);
    assert_eq!((t.id(0), t.id(1)), ("A", "B"));
    assert_eq!(t.stamps[0][0], utc(2025, 3, 1, 4, 0));
    assert_eq!(t.stamps[2][0], utc(2025, 3, 1, 6, 0));
    assert_eq!(t.stamps[1][0], MISSING);
    // B's first LOD row is kept; Tbilisi is UTC+4.
    assert_eq!(t.stamps[1][1], utc(2025, 3, 1, 5, 30));
    assert_eq!(t.segments[0].value(0), Some("Red Bridge"));
    let kinds: Vec<(FindingKind, Option<u64>)> =
        ingested.findings.iter().map(|f| (f.kind, f.line)).collect();
    assert!(kinds.contains(&(FindingKind::UnknownStage, Some(5))));
    assert!(kinds.contains(&(FindingKind::DuplicateStamp, Some(7))));
    assert!(kinds.contains(&(FindingKind::UnparseableStamp, Some(8))));
    // A has no lodgement stamp; B's release was unparseable (reported once, not also missing).
    assert!(kinds.contains(&(FindingKind::MissingStamp, Some(2))));
    assert_eq!(kinds.len(), 4, "{kinds:?}");
}

#[test]
fn a_missing_column_names_the_column_and_what_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.csv");
    std::fs::write(&p, CSV.replace("Released", "Release time")).unwrap();
    let mapping = Mapping::from_toml(MAPPING, "mapping.toml").unwrap();
    let e = read_study(&p, &mapping, &NoProgress, 1)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"Released\"") && e.contains("stamps.release") && e.contains("Release time"),
        "{e}"
    );
}

#[test]
fn malformed_rows_and_invalid_utf8_are_findings_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.csv");
    let mut bytes = CSV
        .lines()
        .take(2)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    bytes.extend_from_slice(b"\nD9,Sarpi,green\n");
    bytes.extend_from_slice(
        b"D10,Sarpi,green,Asia/Tbilisi,01.03.2025 08:00,\xff\xfe,01.03.2025 10:00\n",
    );
    std::fs::write(&p, bytes).unwrap();
    let ingested = read(&p, MAPPING);
    assert_eq!(ingested.table.len(), 3);
    let f: Vec<_> = ingested.findings.iter().map(|f| (f.kind, f.line)).collect();
    assert!(f.contains(&(FindingKind::MalformedRow, Some(3))), "{f:?}");
    assert!(
        f.contains(&(FindingKind::UnparseableStamp, Some(4))),
        "{f:?}"
    );
}

#[test]
fn empty_identifiers_and_local_times_in_a_clock_change_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.csv");
    std::fs::write(
        &p,
        "Declaration No,Office,Channel,Zone,Arrival,Lodged,Released\n\
         ,Sarpi,green,Asia/Tbilisi,01.03.2025 08:00,01.03.2025 08:30,01.03.2025 10:00\n\
         E2,Kapitan Andreevo,red,Europe/Berlin,30.03.2025 01:00,30.03.2025 02:30,30.03.2025 04:00\n",
    )
    .unwrap();
    let ingested = read(&p, MAPPING);
    assert_eq!(ingested.table.len(), 2, "both rows stay in the statistics");
    let f: Vec<_> = ingested
        .findings
        .iter()
        .map(|f| (f.kind, f.line, f.column.as_deref(), f.value.as_deref()))
        .collect();
    assert_eq!(
        f,
        vec![
            (
                FindingKind::MissingConsignmentId,
                Some(2),
                Some("Declaration No"),
                None
            ),
            (
                FindingKind::InvalidLocalTime,
                Some(3),
                Some("Lodged"),
                Some("2025-03-30 02:30:00")
            ),
        ]
    );
    assert!(ingested.findings[1].message.contains("does not exist"));
    // 01:00 CET and 04:00 CEST on either side of the gap are still read.
    assert_eq!(ingested.table.stamps[0][1], utc(2025, 3, 30, 0, 0));
    assert_eq!(ingested.table.stamps[2][1], utc(2025, 3, 30, 2, 0));
}

#[test]
fn every_sheet_of_a_workbook_holding_the_columns_is_a_part_of_the_study() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = MAPPING.replace("[input]\n", "[input]\nsheet = \"*\"\n");
    let mut lines = CSV.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // A workbook of a read-me, then sheets of the given rows of `CSV`, in order.
    let write = |name: &str, sheets: &[(&str, &[usize])]| {
        let path = dir.path().join(name);
        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet()
            .set_name("Read me")
            .unwrap()
            .write_string(0, 0, "how to fill the posts' sheets")
            .unwrap();
        for (sheet_name, taken) in sheets {
            let sheet = book.add_worksheet().set_name(*sheet_name).unwrap();
            for (c, h) in header.iter().enumerate() {
                sheet.write_string(0, c as u16, *h).unwrap();
            }
            for (r, &i) in taken.iter().enumerate() {
                for (c, cell) in rows[i].iter().enumerate() {
                    if !cell.is_empty() {
                        sheet.write_string(r as u32 + 1, c as u16, *cell).unwrap();
                    }
                }
            }
        }
        book.save(&path).unwrap();
        path
    };
    let mapping = Mapping::from_toml(&mapping, "mapping.toml").unwrap();

    // Two posts: one study, each sheet a named part; a row's finding names its sheet and line.
    let path = write(
        "posts.xlsx",
        &[("Red Bridge", &[0, 1, 2]), ("Sarpi", &[3, 4, 5])],
    );
    let file = path.display().to_string();
    let study = read_study(&path, &mapping, &NoProgress, 2).unwrap();
    assert_eq!(study.rows_read, 6);
    assert_eq!(study.table.len(), 6);
    assert_eq!(
        study.table.sources,
        vec![
            (0, format!("{file} [Red Bridge]")),
            (3, format!("{file} [Sarpi]"))
        ]
    );
    assert_eq!(
        study.table.source(4),
        Some(format!("{file} [Sarpi]").as_str())
    );
    let unparseable = study
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::UnparseableStamp)
        .unwrap();
    assert_eq!(unparseable.file, format!("{file} [Sarpi]"));
    assert_eq!(unparseable.consignment.as_deref(), Some("D4"));
    assert_eq!(unparseable.line, Some(2));

    // One post: read as that sheet alone, without parts.
    let path = write("one.xlsx", &[("Sarpi", &[3, 4])]);
    let study = read_study(&path, &mapping, &NoProgress, 2).unwrap();
    assert_eq!(study.table.len(), 2);
    assert!(study.table.sources.is_empty());
    assert!(!study.findings.is_empty());
    assert!(
        study
            .findings
            .iter()
            .all(|f| f.file == format!("{} [Sarpi]", path.display()))
    );

    // No sheet with the columns: an error that lists the sheets.
    let path = write("empty.xlsx", &[]);
    let err = read_study(&path, &mapping, &NoProgress, 2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no sheet has the mapping's columns"), "{err}");
    assert!(err.contains("Read me"), "{err}");
}
