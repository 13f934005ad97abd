//! Reading declarations for risk management: CSV, Excel and Parquet give the same declarations;
//! every bad cell is reported with its file, line, column, value and what was expected.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use chrono::NaiveDate;
use smartborder_ingest::{DeclarationMapping, DeclarationsRead, NoProgress, read_declarations};

const MAPPING: &str = r#"
[input]
hs_code_digits = 6
[columns]
declaration_id = "ID"
date = "Date"
office = "Office"
hs_code = "HS"
origin = "Origin"
mass_kg = "Mass"
value = "Price"
tax_rate_percent = "Rate"
non_compliant = "Fraud"
revenue = "Revenue"
[attributes]
tax_type = "Tax Type"
"#;

/// Rows: a good one, HS stored as a number (leading zero lost), a bad mass (kept without it),
/// a bad date (left out), a duplicate identifier (left out), a bad label (kept without outcome),
/// an empty commodity code (left out).
const CSV: &str = "\
ID,Date,Office,HS,Origin,Mass,Price,Rate,Fraud,Revenue,Tax Type
1,2021-01-04,30,847130,CN,10,1000,8,1,55.5,A
2,2021-01-05,30,10121,US,2,300,0,0,,
3,2021-01-05,40,847130,CN,ten,500,8,0,0,C
4,04.01.2021,40,847130,CN,1,1,8,0,0,C
1,2021-01-06,30,847130,CN,1,1,8,0,0,C
5,2021-01-06,40,0808.10,NZ,1,20,8,maybe,0,A
6,2021-01-06,40,,NZ,1,20,8,0,0,A
";

fn mapping() -> DeclarationMapping {
    DeclarationMapping::from_toml(MAPPING, "mapping.toml").unwrap()
}

fn check(read: &DeclarationsRead, file: &str, lines: bool) {
    assert_eq!(read.rows_read, 7);
    assert_eq!(read.rows_left_out, 3);
    let ds = &read.set.declarations;
    let ids: Vec<&str> = ds.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, vec!["1", "2", "3", "5"]);
    assert_eq!(read.set.attributes, vec!["tax_type"]);
    let d1 = &ds[0];
    assert_eq!(d1.date, NaiveDate::from_ymd_opt(2021, 1, 4).unwrap());
    assert_eq!(d1.hs_code, "847130");
    assert_eq!(d1.value_per_kg(), Some(100.0));
    // Taxes derived from the rate when the source has no taxes column.
    assert_eq!(d1.taxes, Some(80.0));
    assert_eq!(d1.non_compliant(), Some(true));
    assert_eq!(d1.outcome.unwrap().revenue, Some(55.5));
    assert_eq!(d1.attributes, vec![Some("A".to_string())]);
    assert_eq!(ds[1].hs_code, "010121");
    assert_eq!(ds[1].attributes, vec![None]);
    assert_eq!(ds[1].outcome.unwrap().revenue, None);
    assert_eq!(
        ds[2].mass_kg, None,
        "the bad mass is left empty, the row kept"
    );
    assert_eq!(ds[3].hs_code, "080810");
    assert_eq!(
        ds[3].outcome, None,
        "the bad label leaves the outcome unknown"
    );

    let problems: Vec<(u64, &str, &str, bool)> = read
        .problems
        .iter()
        .map(|p| (p.line, p.column.as_str(), p.value.as_str(), p.row_left_out))
        .collect();
    let line = |csv_line: u64| if lines { csv_line } else { csv_line - 1 };
    assert_eq!(
        problems,
        vec![
            (line(4), "Mass", "ten", false),
            (line(5), "Date", "04.01.2021", true),
            (line(6), "ID", "1", true),
            (line(7), "Fraud", "maybe", false),
            (line(8), "HS", "", true),
        ]
    );
    let text = read.problems[1].to_string();
    assert_eq!(
        text,
        format!(
            "{file}:{}: column \"Date\": found \"04.01.2021\", expected an ISO 8601 date (YYYY-MM-DD) (declaration 4); row left out",
            line(5)
        )
    );
    assert!(read.problems[2].to_string().contains("duplicate"));
}

fn rows() -> Vec<Vec<String>> {
    CSV.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn csv_declarations_and_their_problems() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("declarations.csv");
    std::fs::write(&p, CSV).unwrap();
    let read = read_declarations(&p, &mapping(), &NoProgress).unwrap();
    check(&read, &p.display().to_string(), true);
}

#[test]
fn excel_declarations_match_csv() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("declarations.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in CSV.lines().next().unwrap().split(',').enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (r, row) in rows().iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            // Numbers as number cells (as an analyst's workbook has them), the rest as text;
            // codes with a leading zero stay text, as a workbook must keep them.
            match cell.parse::<f64>() {
                Ok(n) if c != 1 && !cell.starts_with('0') => {
                    sheet.write_number(r, c, n).map(|_| ()).unwrap()
                }
                _ if cell.is_empty() => {}
                _ => sheet.write_string(r, c, cell).map(|_| ()).unwrap(),
            }
        }
    }
    book.save(&p).unwrap();
    let read = read_declarations(&p, &mapping(), &NoProgress).unwrap();
    check(&read, &p.display().to_string(), true);
    // A sheet the workbook does not have is named, with the sheets it has.
    let other = DeclarationMapping::from_toml(
        &MAPPING.replace("[input]", "[input]\nsheet = \"Nope\""),
        "m.toml",
    )
    .unwrap();
    let e = read_declarations(&p, &other, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sheet \"Nope\" (input.sheet in the mapping) not found; sheets: Sheet1"),
        "{e}"
    );
}

#[test]
fn parquet_declarations_match_csv() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("declarations.parquet");
    let header: Vec<&str> = CSV.lines().next().unwrap().split(',').collect();
    let rows = rows();
    let text = |c: usize| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter()
                .map(|r| (!r[c].is_empty()).then(|| r[c].clone()))
                .collect::<Vec<_>>(),
        ))
    };
    // Typed columns where the data allows: integer identifiers and HS codes, float prices.
    let columns: Vec<ArrayRef> = (0..header.len())
        .map(|c| match header[c] {
            "Office" => Arc::new(Int64Array::from(
                rows.iter()
                    .map(|r| r[c].parse::<i64>().unwrap())
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
            "Price" => Arc::new(Float64Array::from(
                rows.iter()
                    .map(|r| r[c].parse::<f64>().unwrap())
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
            _ => text(c),
        })
        .collect();
    let batch = RecordBatch::try_from_iter(header.iter().zip(columns)).unwrap();
    let file = std::fs::File::create(&p).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let read = read_declarations(&p, &mapping(), &NoProgress).unwrap();
    check(&read, &p.display().to_string(), false);
}

#[test]
fn a_missing_column_stops_the_read_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.csv");
    std::fs::write(&p, "ID,Date,Office\n1,2021-01-01,30\n").unwrap();
    let e = read_declarations(&p, &mapping(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column \"HS\" (hs_code in the mapping) is not in the header"),
        "{e}"
    );
    assert!(e.contains("columns found: ID, Date, Office"), "{e}");
    let e =
        read_declarations(Path::new("/nonexistent/d.csv"), &mapping(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/d.csv"));
}

/// A control result keeps the propensity its selection recorded; a value that is not a
/// probability is named and the result kept without it.
#[test]
fn control_results_keep_their_propensity() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("results.csv");
    std::fs::write(
        &p,
        "ID,Date,Office,HS,Fraud,Propensity\n1,2021-01-04,30,847130,1,0.25\n2,2021-01-04,30,847130,0,1.5\n3,2021-01-04,30,847130,,\n",
    )
    .unwrap();
    let m = DeclarationMapping::from_toml(
        "[columns]\ndeclaration_id = \"ID\"\ndate = \"Date\"\noffice = \"Office\"\nhs_code = \"HS\"\nnon_compliant = \"Fraud\"\npropensity = \"Propensity\"\n",
        "m.toml",
    )
    .unwrap();
    let read = read_declarations(&p, &m, &NoProgress).unwrap();
    let ds = &read.set.declarations;
    assert_eq!(ds[0].outcome.unwrap().propensity, Some(0.25));
    assert_eq!(ds[1].outcome.unwrap().propensity, None);
    assert_eq!(ds[2].outcome, None, "not inspected");
    assert_eq!(read.problems.len(), 1);
    let text = read.problems[0].to_string();
    assert!(
        text.contains("\"Propensity\"") && text.contains("1.5") && text.contains("a probability"),
        "{text}"
    );
}
