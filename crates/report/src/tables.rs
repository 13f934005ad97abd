//! Plain tables as an Excel workbook, one sheet per table, a header row with units in the
//! names, filters on. For exports that are tables and nothing else (a course's results).

use rust_xlsxwriter::{Workbook, XlsxError};

/// A cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

/// A sheet: its name (at most 31 characters, as Excel requires), header and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The workbook's bytes.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    for s in sheets {
        let sheet = book.add_worksheet().set_name(&s.name)?;
        for (c, name) in s.header.iter().enumerate() {
            sheet.write_string(0, c as u16, name)?;
        }
        for (i, row) in s.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(t) => {
                        sheet.write_string(i as u32 + 1, c as u16, t)?;
                    }
                    Cell::Number(x) => {
                        sheet.write_number(i as u32 + 1, c as u16, *x)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        if !s.header.is_empty() {
            sheet.autofilter(0, 0, s.rows.len() as u32, s.header.len() as u16 - 1)?;
        }
    }
    book.save_to_buffer()
}
