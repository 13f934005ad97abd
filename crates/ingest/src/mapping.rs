//! The mapping file (TOML): how to read a national system's export as a TRS study.
//!
//! The format is a contract with users and with tests outside the project; see the README for the
//! full reference. Unknown keys are refused so that a typo never silently changes a study.

use std::collections::BTreeMap;
use std::path::Path;

use chrono_tz::Tz;
use serde::Deserialize;
use smartborder_model::{DEFAULT_TARGETS_HOURS, StudyDesign, WorkingHours, WorkingHoursPlan};

use crate::error::IngestError;
use crate::stamp_format::StampFormat;

/// One row per consignment, or one row per stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Wide,
    Long,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    input: RawInput,
    stamps: toml::Table,
    #[serde(default)]
    segments: toml::Table,
    #[serde(default)]
    intervals: Vec<RawInterval>,
    #[serde(default)]
    targets: Option<RawTargets>,
    #[serde(default)]
    working_hours: Option<RawWorkingHours>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    layout: Layout,
    consignment_id: String,
    timestamp_format: Option<String>,
    timezone: Option<String>,
    timezone_column: Option<String>,
    stage_column: Option<String>,
    timestamp_column: Option<String>,
    delimiter: Option<String>,
    sheet: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInterval {
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    hours: Vec<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    open: String,
    close: String,
    #[serde(default)]
    days_off: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkingHours {
    open: String,
    close: String,
    #[serde(default)]
    days_off: Vec<String>,
    office_segment: Option<String>,
    #[serde(default)]
    offices: BTreeMap<String, RawHours>,
}

/// The CSV delimiter of an `[input] delimiter` key: one ASCII character, or `\t` for tabs;
/// a comma when absent.
pub(crate) fn parse_delimiter(value: Option<&str>) -> Result<u8, String> {
    match value {
        None => Ok(b','),
        Some("\\t") | Some("\t") => Ok(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() => Ok(d.as_bytes()[0]),
        Some(d) => Err(format!("expected one ASCII character, found \"{d}\"")),
    }
}

/// Long layout: which columns hold the stage and the stamp, and which stage values mean what.
#[derive(Debug, Clone, PartialEq)]
pub struct LongLayout {
    pub stage_column: String,
    pub timestamp_column: String,
    /// Stage value as found in the file -> stage index.
    pub stage_values: Vec<(String, usize)>,
}

/// A validated mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub layout: Layout,
    pub consignment_id: String,
    pub format: StampFormat,
    pub timezone: Option<Tz>,
    pub timezone_column: Option<String>,
    pub delimiter: u8,
    pub sheet: Option<String>,
    /// Wide layout: the column of each stage, in process order.
    pub stamp_columns: Vec<String>,
    /// The column of each segment, in design order.
    pub segment_columns: Vec<String>,
    pub long: Option<LongLayout>,
    pub design: StudyDesign,
}

impl Mapping {
    /// Reads and validates a mapping file.
    pub fn from_file(path: &Path) -> Result<Mapping, IngestError> {
        let text = std::fs::read_to_string(path).map_err(|source| IngestError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Mapping::from_toml(&text, &path.display().to_string())
    }

    /// Parses a mapping from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Mapping, IngestError> {
        let err = |message: String| IngestError::Mapping {
            file: origin.to_string(),
            message,
        };
        let raw: RawMapping = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let input = raw.input;

        let string_entries = |table: &toml::Table, section: &str| {
            table
                .iter()
                .map(|(k, v)| match v.as_str() {
                    Some(s) => Ok((k.clone(), s.to_string())),
                    None => Err(err(format!(
                        "[{section}] {k}: expected a column name in quotes, found {v}"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let stamps = string_entries(&raw.stamps, "stamps")?;
        if stamps.len() < 2 {
            return Err(err(format!(
                "[stamps] must name at least two stages in process order, found {}",
                stamps.len()
            )));
        }
        let segments = string_entries(&raw.segments, "segments")?;
        let stages: Vec<String> = stamps.iter().map(|(k, _)| k.clone()).collect();
        let stage_index = |name: &str, what: &str| {
            stages.iter().position(|s| s == name).ok_or_else(|| {
                err(format!(
                    "{what}: unknown stage \"{name}\"; the stages of [stamps] are {}",
                    stages.join(", ")
                ))
            })
        };
        let mut extra_intervals = Vec::new();
        for (i, iv) in raw.intervals.iter().enumerate() {
            let what = format!("[[intervals]] #{}", i + 1);
            let from = stage_index(&iv.from, &what)?;
            let to = stage_index(&iv.to, &what)?;
            if from == to {
                return Err(err(format!("{what}: from and to are both \"{}\"", iv.from)));
            }
            extra_intervals.push((from, to));
        }

        let timezone = match &input.timezone {
            None => None,
            Some(name) => Some(name.parse::<Tz>().map_err(|_| {
                err(format!(
                    "[input] timezone: \"{name}\" is not an IANA time zone name (e.g. \"Asia/Baku\")"
                ))
            })?),
        };
        let format = StampFormat::new(input.timestamp_format.as_deref());
        if input.timestamp_format.is_some()
            && !format.carries_offset()
            && timezone.is_none()
            && input.timezone_column.is_none()
        {
            return Err(err(
                "[input] timestamp_format gives local times but neither timezone nor \
                 timezone_column says in which zone; SmartBorder never guesses a zone"
                    .to_string(),
            ));
        }
        let delimiter = parse_delimiter(input.delimiter.as_deref())
            .map_err(|m| err(format!("[input] delimiter: {m}")))?;

        let long = match input.layout {
            Layout::Wide => {
                if input.stage_column.is_some() || input.timestamp_column.is_some() {
                    return Err(err(
                        "[input] stage_column / timestamp_column apply only to layout = \"long\""
                            .to_string(),
                    ));
                }
                None
            }
            Layout::Long => {
                let need = |v: &Option<String>, key: &str| {
                    v.clone().ok_or_else(|| {
                        err(format!("[input] {key} is required when layout = \"long\""))
                    })
                };
                Some(LongLayout {
                    stage_column: need(&input.stage_column, "stage_column")?,
                    timestamp_column: need(&input.timestamp_column, "timestamp_column")?,
                    stage_values: stamps
                        .iter()
                        .enumerate()
                        .map(|(i, (_, v))| (v.clone(), i))
                        .collect(),
                })
            }
        };

        let targets_hours = match raw.targets {
            None => DEFAULT_TARGETS_HOURS.to_vec(),
            Some(t) => {
                if t.hours.is_empty() || t.hours.iter().any(|h| !h.is_finite() || *h <= 0.0) {
                    return Err(err(
                        "[targets] hours: expected a list of positive numbers of hours".to_string(),
                    ));
                }
                t.hours
            }
        };

        let segment_names: Vec<String> = segments.iter().map(|(k, _)| k.clone()).collect();
        let working_hours = match raw.working_hours {
            None => None,
            Some(w) => {
                if let Some(seg) = &w.office_segment
                    && !segment_names.contains(seg)
                {
                    return Err(err(format!(
                        "[working_hours] office_segment: \"{seg}\" is not a segment of [segments]"
                    )));
                }
                let mut offices = BTreeMap::new();
                for (office, h) in &w.offices {
                    let hours = parse_hours(&h.open, &h.close, &h.days_off)
                        .map_err(|m| err(format!("[working_hours.offices.\"{office}\"] {m}")))?;
                    offices.insert(office.clone(), hours);
                }
                Some(WorkingHoursPlan {
                    default: parse_hours(&w.open, &w.close, &w.days_off)
                        .map_err(|m| err(format!("[working_hours] {m}")))?,
                    office_segment: w
                        .office_segment
                        .or_else(|| segment_names.iter().find(|s| *s == "office").cloned()),
                    offices,
                })
            }
        };

        Ok(Mapping {
            layout: input.layout,
            consignment_id: input.consignment_id,
            format,
            timezone,
            timezone_column: input.timezone_column,
            delimiter,
            sheet: input.sheet,
            stamp_columns: stamps.iter().map(|(_, v)| v.clone()).collect(),
            segment_columns: segments.iter().map(|(_, v)| v.clone()).collect(),
            long,
            design: StudyDesign {
                stages,
                segments: segment_names,
                extra_intervals,
                targets_hours,
                working_hours,
            },
        })
    }
}

fn parse_clock(s: &str, key: &str) -> Result<u16, String> {
    let bad = || format!("{key}: expected a time HH:MM between 00:00 and 24:00, found \"{s}\"");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_hours(open: &str, close: &str, days_off: &[String]) -> Result<WorkingHours, String> {
    let open_minute = parse_clock(open, "open")?;
    let close_minute = parse_clock(close, "close")?;
    if close_minute < open_minute {
        return Err(format!(
            "close ({close}) is before open ({open}); split overnight shifts are not supported"
        ));
    }
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut off = [false; 7];
    for d in days_off {
        let key = d.to_ascii_lowercase();
        let i = DAYS
            .iter()
            .position(|x| key.starts_with(x))
            .ok_or_else(|| {
                format!("days_off: expected day names like \"Sat\" or \"Sunday\", found \"{d}\"")
            })?;
        off[i] = true;
    }
    Ok(WorkingHours {
        open_minute,
        close_minute,
        days_off: off,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTRACT: &str = r#"
[input]
layout = "wide"                      # or "long"
consignment_id = "Declaration No"
timestamp_format = "%d.%m.%Y %H:%M"  # chrono format; if absent accept RFC 3339 / ISO 8601
timezone = "Asia/Baku"               # zone of naive stamps ...
timezone_column = "Zone"             # ... unless a column gives it per row (IANA name)
[stamps]                             # stage -> column, in process order
arrival = "Arrival"
lodgement = "Lodged"
release = "Released"
[segments]                           # segment name -> column
office = "Office"
lane = "Channel"
[[intervals]]                        # extra intervals beyond consecutive stages
from = "arrival"
to = "release"
"#;

    #[test]
    fn the_contract_example_parses() {
        let m = Mapping::from_toml(CONTRACT, "m.toml").unwrap();
        assert_eq!(m.layout, Layout::Wide);
        assert_eq!(m.design.stages, ["arrival", "lodgement", "release"]);
        assert_eq!(m.stamp_columns, ["Arrival", "Lodged", "Released"]);
        assert_eq!(m.design.segments, ["office", "lane"]);
        assert_eq!(m.segment_columns, ["Office", "Channel"]);
        assert_eq!(m.design.extra_intervals, [(0, 2)]);
        assert_eq!(m.timezone, Some(Tz::Asia__Baku));
        assert_eq!(m.timezone_column.as_deref(), Some("Zone"));
        assert_eq!(m.design.targets_hours, DEFAULT_TARGETS_HOURS);
    }

    #[test]
    fn stage_order_follows_the_file_not_the_alphabet() {
        let text = CONTRACT.replace(
            "arrival = \"Arrival\"\nlodgement = \"Lodged\"\nrelease = \"Released\"",
            "zulu = \"Z\"\nalpha = \"A\"\nmike = \"M\"",
        );
        let text = text.replace(
            "from = \"arrival\"\nto = \"release\"",
            "from = \"zulu\"\nto = \"mike\"",
        );
        let m = Mapping::from_toml(&text, "m.toml").unwrap();
        assert_eq!(m.design.stages, ["zulu", "alpha", "mike"]);
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            (
                CONTRACT.replace("Asia/Baku", "Asia/Atlantis"),
                "not an IANA time zone",
            ),
            (
                CONTRACT.replace("to = \"release\"", "to = \"exit\""),
                "unknown stage \"exit\"",
            ),
            (
                CONTRACT.replace("layout = \"wide\"", "layout = \"tall\""),
                "tall",
            ),
            (
                CONTRACT.replace("[segments]", "colour = 1\n[segments]"),
                "colour",
            ),
            (
                CONTRACT
                    .replace("timezone = \"Asia/Baku\"", "")
                    .replace("timezone_column = \"Zone\"", ""),
                "never guesses a zone",
            ),
            (
                CONTRACT.replace("layout = \"wide\"", "layout = \"long\""),
                "stage_column is required",
            ),
        ];
        for (text, needle) in cases {
            let e = Mapping::from_toml(&text, "m.toml").unwrap_err().to_string();
            assert!(e.contains("m.toml") && e.contains(needle), "{e}");
        }
    }

    #[test]
    fn working_hours_and_targets() {
        let text = format!(
            "{CONTRACT}\n[targets]\nhours = [2, 48]\n[working_hours]\nopen = \"09:00\"\nclose = \"18:00\"\n\
             days_off = [\"Sat\", \"Sunday\"]\n[working_hours.offices.\"Red Bridge\"]\nopen = \"00:00\"\nclose = \"24:00\"\n"
        );
        let m = Mapping::from_toml(&text, "m.toml").unwrap();
        assert_eq!(m.design.targets_hours, [2.0, 48.0]);
        let plan = m.design.working_hours.unwrap();
        assert_eq!(plan.office_segment.as_deref(), Some("office"));
        assert_eq!(plan.default.open_minute, 540);
        assert_eq!(
            plan.default.days_off,
            [false, false, false, false, false, true, true]
        );
        assert_eq!(
            plan.for_office(Some("Red Bridge")),
            &WorkingHours::ALWAYS_OPEN
        );
    }
}
