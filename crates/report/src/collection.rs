//! The manual collection workbook (WCO TRS Guide version 4, data collection): for posts without
//! automated stamps, one sheet per post with a row per consignment to record, the post (and
//! its time zone) filled in, and the stamp cells limited to dates and times. `trs run` reads
//! it back with the mapping written beside it (`input.sheet = "*"`: every sheet holding the
//! mapping's columns).

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, ExcelDateTime, Format, Formula,
    Workbook, Worksheet, XlsxError,
};

use smartborder_ingest::{EVERY_SHEET, Layout, Mapping};
use smartborder_model::CORRIDOR_OFFICES;
use smartborder_trs::plan::SamplingPlan;

use crate::i18n::Lang;

/// What a column of a post's sheet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// The consignment's identifier (declaration number).
    Id,
    /// The post's time zone, filled in.
    Zone,
    /// The post's name, filled in (the segment of offices).
    Post,
    /// A segment the officer fills in (lane, mode ...).
    Segment,
    /// The date and local time a stage was reached.
    Stamp,
}

/// A column: its header (as the mapping names it) and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionColumn {
    pub header: String,
    pub kind: ColumnKind,
    /// For a stamp, the stage's name in the study.
    pub stage: Option<String>,
}

/// A post: its name, time zone (when the mapping reads zones from a column) and the rows to
/// record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionPost {
    pub name: String,
    pub zone: Option<String>,
    pub rows: u32,
}

/// The workbook's design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionDesign {
    pub columns: Vec<CollectionColumn>,
    pub posts: Vec<CollectionPost>,
    /// The file name of the mapping to read it back with.
    pub mapping_file: String,
}

/// Why a collection workbook cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectionError {
    #[error(
        "the collection workbook has one row per consignment (layout = \"wide\"); this mapping is long"
    )]
    LongLayout,
    #[error("no post: name the posts, or give a plan stratified by {0}")]
    NoPost(String),
    #[error("a post needs a name")]
    EmptyPost,
    #[error("post \"{post}\": \"{zone}\" is not an IANA time zone (Asia/Almaty)")]
    BadZone { post: String, zone: String },
    #[error(
        "post \"{post}\": the mapping reads time zones from the column \"{column}\"; give the post's zone as \"{post}=Area/City\""
    )]
    NoZone { post: String, column: String },
    #[error("the mapping: {0}")]
    Mapping(String),
}

/// The workbook of a study's mapping for `posts` (`NAME` or `NAME=ZONE`; none: the offices of
/// `plan` when it is stratified by offices), each with the plan's sample as its rows, else
/// `rows`; and the mapping that reads it back (the study's, with `sheet = "*"`), as text.
/// `mapping_file` is that mapping's file name, which the instructions give.
pub fn design_from_mapping(
    mapping: &Mapping,
    mapping_text: &str,
    posts: &[String],
    plan: Option<&SamplingPlan>,
    rows: u32,
    mapping_file: &str,
) -> Result<(CollectionDesign, String), CollectionError> {
    if mapping.layout != Layout::Wide {
        return Err(CollectionError::LongLayout);
    }
    // The segment that names the post: the working hours' office segment, else "office".
    let office_segment = mapping
        .design
        .working_hours
        .as_ref()
        .and_then(|w| w.office_segment.clone())
        .unwrap_or_else(|| "office".to_string());
    let by_offices = plan.filter(|p| p.stratified_by.as_deref() == Some(office_segment.as_str()));
    let planned = |name: &str| -> Option<u32> {
        by_offices?
            .strata
            .iter()
            .find(|s| s.stratum == name)
            .and_then(|s| s.sample)
            .map(|n| n.min(u64::from(u32::MAX)) as u32)
    };
    let mut named: Vec<(String, Option<String>)> = posts
        .iter()
        .map(|p| match p.split_once('=') {
            Some((name, zone)) => (name.trim().to_string(), Some(zone.trim().to_string())),
            None => (p.trim().to_string(), None),
        })
        .collect();
    if named.is_empty() {
        let Some(plan) = by_offices else {
            return Err(CollectionError::NoPost(office_segment));
        };
        named = plan
            .strata
            .iter()
            .filter(|s| s.stratum != "all")
            .map(|s| (s.stratum.clone(), None))
            .collect();
    }
    let mut collection_posts = Vec::with_capacity(named.len());
    for (name, zone) in named {
        if name.is_empty() {
            return Err(CollectionError::EmptyPost);
        }
        let zone = match (&mapping.timezone_column, zone) {
            (None, _) => None,
            (Some(_), Some(z)) => {
                if z.parse::<chrono_tz::Tz>().is_err() {
                    return Err(CollectionError::BadZone {
                        post: name,
                        zone: z,
                    });
                }
                Some(z)
            }
            (Some(column), None) => Some(
                CORRIDOR_OFFICES
                    .iter()
                    .find(|o| o.name == name)
                    .map(|o| o.zone.name().to_string())
                    .ok_or_else(|| CollectionError::NoZone {
                        post: name.clone(),
                        column: column.clone(),
                    })?,
            ),
        };
        let rows = planned(&name).unwrap_or(rows).max(1);
        collection_posts.push(CollectionPost { name, zone, rows });
    }
    let mut columns = vec![CollectionColumn {
        header: mapping.consignment_id.clone(),
        kind: ColumnKind::Id,
        stage: None,
    }];
    for (segment, column) in mapping.design.segments.iter().zip(&mapping.segment_columns) {
        columns.push(CollectionColumn {
            header: column.clone(),
            kind: if *segment == office_segment {
                ColumnKind::Post
            } else {
                ColumnKind::Segment
            },
            stage: None,
        });
    }
    if let Some(zone) = &mapping.timezone_column {
        columns.push(CollectionColumn {
            header: zone.clone(),
            kind: ColumnKind::Zone,
            stage: None,
        });
    }
    for (stage, column) in mapping.design.stages.iter().zip(&mapping.stamp_columns) {
        columns.push(CollectionColumn {
            header: column.clone(),
            kind: ColumnKind::Stamp,
            stage: Some(stage.clone()),
        });
    }
    // The mapping that reads it back: the study's, reading every sheet that has its columns.
    let mut table: toml::Table =
        toml::from_str(mapping_text).map_err(|e| CollectionError::Mapping(e.to_string()))?;
    if let Some(toml::Value::Table(input)) = table.get_mut("input") {
        input.remove("delimiter");
        input.insert("sheet".into(), toml::Value::String(EVERY_SHEET.into()));
    }
    let text = toml::to_string(&table).map_err(|e| CollectionError::Mapping(e.to_string()))?;
    let mapping_out = format!(
        "# Reads a manual collection workbook (every sheet with the study's columns).\n{text}"
    );
    Ok((
        CollectionDesign {
            columns,
            posts: collection_posts,
            mapping_file: mapping_file.to_string(),
        },
        mapping_out,
    ))
}

/// A sheet name Excel accepts (at most 31 characters, none of `[]:*?/\`), unique among `taken`.
fn sheet_name(post: &str, taken: &[String]) -> String {
    let clean: String = post
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').trim();
    let base: String = if clean.is_empty() {
        "post".to_string()
    } else {
        clean.chars().take(31).collect()
    };
    let mut name = base.clone();
    let mut k = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        let suffix = format!(" ({k})");
        name = base
            .chars()
            .take(31 - suffix.chars().count())
            .collect::<String>()
            + &suffix;
        k += 1;
    }
    name
}

/// The sheet names the workbook gives its posts, in order.
pub fn sheet_names(posts: &[CollectionPost]) -> Vec<String> {
    let mut names: Vec<String> = vec![];
    for p in posts {
        let n = sheet_name(&p.name, &names);
        names.push(n);
    }
    names
}

/// The workbook's bytes: a read-me sheet, then one sheet per post.
pub fn workbook(design: &CollectionDesign, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let t = |en: &'static str, ru: &'static str| match lang {
        Lang::En => en,
        Lang::Ru => ru,
    };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let stamp_format = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let text_format = Format::new().set_num_format("@");

    // The read-me: what to record and how it is read back.
    let readme = book.add_worksheet().set_name(t("Read me", "Инструкция"))?;
    readme.set_column_width(0, 110)?;
    let stages: Vec<&str> = design
        .columns
        .iter()
        .filter_map(|c| c.stage.as_deref())
        .collect();
    let lines: Vec<String> = match lang {
        Lang::En => vec![
            "Time Release Study: manual collection".into(),
            String::new(),
            "One sheet per post. Each row is one consignment: its declaration number, then the date and local time at the post at which each stage was reached.".into(),
            format!("Stages, in process order: {}.", stages.join(" → ")),
            "Type stamps as 2026-12-01 14:35 (the cells accept only dates and times). Leave a cell empty when the stage did not happen or was not seen.".into(),
            "The post and its time zone are filled in; do not change them. Record the consignments as they come, without choosing them.".into(),
            "The rows are the sample the plan asks for at this post; add rows below if more consignments are recorded.".into(),
            String::new(),
            format!("Read back with: smartborder trs run THIS_FILE.xlsx --mapping {} --html report.html", design.mapping_file),
        ],
        Lang::Ru => vec![
            "Исследование времени выпуска: ручной сбор данных".into(),
            String::new(),
            "Один лист на каждый пункт. Каждая строка — одна партия: номер декларации, затем дата и местное время пункта, когда пройден каждый этап.".into(),
            format!("Этапы по порядку: {}.", stages.join(" → ")),
            "Вводите отметки в виде 2026-12-01 14:35 (ячейки принимают только дату и время). Оставьте ячейку пустой, если этап не проводился или не наблюдался.".into(),
            "Пункт и его часовой пояс уже заполнены; не меняйте их. Записывайте партии подряд, по мере поступления, не выбирая их.".into(),
            "Число строк — выборка, которую план требует для этого пункта; при необходимости добавьте строки ниже.".into(),
            String::new(),
            format!("Обработка: smartborder trs run ФАЙЛ.xlsx --mapping {} --html report.html", design.mapping_file),
        ],
    };
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            readme.write_string_with_format(i as u32, 0, line, &bold)?;
        } else {
            readme.write_string(i as u32, 0, line)?;
        }
    }

    let earliest = ExcelDateTime::from_ymd(2000, 1, 1)?;
    let latest = ExcelDateTime::from_ymd(2099, 12, 31)?.and_hms(23, 59, 59)?;
    let stamp_rule = DataValidation::new()
        .allow_date(DataValidationRule::Between(earliest, latest))
        .set_input_title(t("Date and local time", "Дата и местное время"))?
        .set_input_message(t(
            "When this stage was reached, at the post's local time: 2026-12-01 14:35. Empty if it did not happen.",
            "Когда пройден этап, по местному времени пункта: 2026-12-01 14:35. Пусто, если этапа не было.",
        ))?
        .set_error_title(t("Not a date and time", "Не дата и время"))?
        .set_error_message(t(
            "Type the date and local time as 2026-12-01 14:35.",
            "Введите дату и местное время в виде 2026-12-01 14:35.",
        ))?
        .set_error_style(DataValidationErrorStyle::Stop);
    let id_rule = DataValidation::new()
        .allow_text_length(DataValidationRule::Between(1u32, 64u32))
        .set_input_title(t("Declaration number", "Номер декларации"))?
        .set_input_message(t(
            "The consignment's declaration (or transit) number, as in the clearance system.",
            "Номер декларации (или транзитной декларации) партии, как в системе оформления.",
        ))?;
    let id_column = design
        .columns
        .iter()
        .position(|c| c.kind == ColumnKind::Id)
        .unwrap_or(0) as u16;
    for (post, name) in design.posts.iter().zip(sheet_names(&design.posts)) {
        let sheet = book.add_worksheet().set_name(&name)?;
        sheet.set_freeze_panes(1, 0)?;
        // Formulas not calculated yet read as empty text, not 0: a row not used stays empty.
        sheet.set_formula_result_default("");
        let last = post.rows.max(1);
        for (c, column) in design.columns.iter().enumerate() {
            let c = c as u16;
            sheet.write_string_with_format(0, c, &column.header, &bold)?;
            let width = (column.header.chars().count() as f64 + 2.0).max(18.0);
            sheet.set_column_width(c, width)?;
            match column.kind {
                ColumnKind::Stamp => {
                    sheet.set_column_format(c, &stamp_format)?;
                    sheet.add_data_validation(1, c, last, c, &stamp_rule)?;
                }
                ColumnKind::Id => {
                    sheet.set_column_format(c, &text_format)?;
                    sheet.add_data_validation(1, c, last, c, &id_rule)?;
                }
                ColumnKind::Post => fill(sheet, c, last, id_column, &post.name)?,
                ColumnKind::Zone => {
                    if let Some(zone) = &post.zone {
                        fill(sheet, c, last, id_column, zone)?;
                    }
                }
                ColumnKind::Segment => {
                    sheet.set_column_format(c, &text_format)?;
                }
            }
        }
    }
    book.save_to_buffer()
}

/// Fills rows 1..=last of column `c` with `value` once the row's identifier is typed: a formula
/// that gives empty text before, so that a row not used stays empty and is not read.
fn fill(
    sheet: &mut Worksheet,
    c: u16,
    last: u32,
    id_column: u16,
    value: &str,
) -> Result<(), XlsxError> {
    let id = column_letters(id_column);
    let quoted = value.replace('"', "\"\"");
    for r in 1..=last {
        let formula = format!("=IF(${id}{}=\"\",\"\",\"{quoted}\")", r + 1);
        sheet.write_formula(r, c, Formula::new(formula))?;
    }
    Ok(())
}

/// The letters of a 0-based column (0 = A, 26 = AA).
fn column_letters(mut c: u16) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_what_excel_accepts_and_unique() {
        let post = |name: &str| CollectionPost {
            name: name.into(),
            zone: None,
            rows: 1,
        };
        let names = sheet_names(&[
            post("Khorgos / Nur Zholy"),
            post("A very long name of a border crossing point somewhere"),
            post("Khorgos - Nur Zholy"),
            post("[x]"),
        ]);
        assert_eq!(names[0], "Khorgos - Nur Zholy");
        assert_eq!(names[1].chars().count(), 31);
        assert_eq!(names[2], "Khorgos - Nur Zholy (2)");
        assert_eq!(names[3], "-x-");
        assert_eq!(
            [0, 25, 26, 27, 701, 702].map(column_letters),
            ["A", "Z", "AA", "AB", "ZZ", "AAA"]
        );
    }
}
