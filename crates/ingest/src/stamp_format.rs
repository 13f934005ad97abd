//! Parsing of stamp cells: a chrono format from the mapping, or RFC 3339 / ISO 8601.
//!
//! chrono's `parse_from_str` interprets its format string for every cell, which costs more than
//! the rest of a row's work together on a ten-million-row export. The formats national systems use
//! are plain sequences of numeric fields and separators, so a format made only of `%Y %m %d %H %M
//! %S %F %T %R` and literal characters is compiled to a byte matcher. The compiled matcher accepts
//! a subset of what chrono accepts and gives the same result; anything it rejects goes to chrono,
//! so the meaning of a format is always chrono's.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// A stamp as read from a cell: either a local wall-clock time (its zone comes from the mapping or
/// the zone column) or an instant that carried its own UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellTime {
    /// Wall-clock seconds since 1970-01-01 00:00 on the local clock (not yet placed in a zone).
    Local(i64),
    /// UTC seconds since the epoch.
    Instant(i64),
}

/// One element of a compiled format: a numeric field or a literal byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Literal(u8),
}

/// How the stamps of a study are written.
#[derive(Debug, Clone)]
pub enum StampFormat {
    /// RFC 3339 / ISO 8601: `2026-03-01T08:30:00+05:00`, `2026-03-01 08:30`, `2026-03-01`.
    Iso,
    /// A chrono format string, with its compiled fast path when it has one.
    Chrono {
        format: String,
        compiled: Option<Vec<Item>>,
        has_offset: bool,
        has_time: bool,
    },
}

impl StampFormat {
    /// `None` means ISO 8601 / RFC 3339.
    pub fn new(format: Option<&str>) -> StampFormat {
        match format {
            None => StampFormat::Iso,
            Some(f) => StampFormat::Chrono {
                format: f.to_string(),
                compiled: compile(f),
                has_offset: f.contains("%z") || f.contains("%:z") || f.contains("%#z"),
                has_time: ["%H", "%I", "%M", "%T", "%R", "%s", "%X", "%c"]
                    .iter()
                    .any(|spec| f.contains(spec)),
            },
        }
    }

    /// True when stamps in this format carry their own offset (no zone needed).
    pub fn carries_offset(&self) -> bool {
        matches!(
            self,
            StampFormat::Chrono {
                has_offset: true,
                ..
            }
        )
    }

    /// What a cell should look like, for error messages.
    pub fn describe(&self) -> String {
        match self {
            StampFormat::Iso => {
                "an ISO 8601 / RFC 3339 date-time such as 2026-03-01T08:30:00 or 2026-03-01 08:30+05:00"
                    .to_string()
            }
            StampFormat::Chrono { format, .. } => format!("a date-time in the format \"{format}\""),
        }
    }

    /// Parses a cell (surrounding whitespace ignored).
    pub fn parse(&self, cell: &str) -> Option<CellTime> {
        self.parse_bytes(cell.as_bytes())
    }

    /// Parses a cell given as bytes; the common formats never need the bytes to be checked as
    /// UTF-8 first.
    pub fn parse_bytes(&self, cell: &[u8]) -> Option<CellTime> {
        let bytes = cell.trim_ascii();
        match self {
            StampFormat::Iso => parse_iso(bytes),
            StampFormat::Chrono {
                format,
                compiled,
                has_offset,
                has_time,
            } => {
                if let Some(items) = compiled
                    && let Some(t) = parse_compiled(items, bytes)
                {
                    return Some(CellTime::Local(t));
                }
                let cell = std::str::from_utf8(bytes).ok()?.trim();
                if *has_offset {
                    return DateTime::parse_from_str(cell, format)
                        .ok()
                        .map(|t| CellTime::Instant(t.timestamp()));
                }
                if *has_time {
                    NaiveDateTime::parse_from_str(cell, format)
                        .ok()
                        .map(|t| CellTime::Local(t.and_utc().timestamp()))
                } else {
                    NaiveDate::parse_from_str(cell, format)
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| CellTime::Local(t.and_utc().timestamp()))
                }
            }
        }
    }
}

fn compile(format: &str) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    let mut chars = format.bytes();
    let mut has = [false; 6];
    while let Some(b) = chars.next() {
        if b != b'%' {
            if !b.is_ascii() || b.is_ascii_whitespace() && b != b' ' {
                return None;
            }
            items.push(Item::Literal(b));
            continue;
        }
        let spec: &[Item] = match chars.next()? {
            b'Y' => &[Item::Year],
            b'm' => &[Item::Month],
            b'd' => &[Item::Day],
            b'H' => &[Item::Hour],
            b'M' => &[Item::Minute],
            b'S' => &[Item::Second],
            b'F' => &[
                Item::Year,
                Item::Literal(b'-'),
                Item::Month,
                Item::Literal(b'-'),
                Item::Day,
            ],
            b'T' => &[
                Item::Hour,
                Item::Literal(b':'),
                Item::Minute,
                Item::Literal(b':'),
                Item::Second,
            ],
            b'R' => &[Item::Hour, Item::Literal(b':'), Item::Minute],
            _ => return None,
        };
        for item in spec {
            let slot = match item {
                Item::Year => 0,
                Item::Month => 1,
                Item::Day => 2,
                Item::Hour => 3,
                Item::Minute => 4,
                Item::Second => 5,
                Item::Literal(_) => {
                    items.push(*item);
                    continue;
                }
            };
            if has[slot] {
                return None; // repeated fields: leave the semantics to chrono
            }
            has[slot] = true;
            items.push(*item);
        }
    }
    // A date needs year, month and day; a time needs hour and minute (seconds optional).
    let date_ok = has[0] && has[1] && has[2];
    let time_ok = has[3] == has[4] && (!has[5] || has[4]);
    (date_ok && time_ok && has[3]).then_some(items)
}

/// Reads 1..=max digits.
fn digits(s: &[u8], pos: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *pos;
    let mut v = 0u32;
    while *pos < s.len() && *pos - start < max && s[*pos].is_ascii_digit() {
        v = v * 10 + u32::from(s[*pos] - b'0');
        *pos += 1;
    }
    (*pos - start >= min).then_some(v)
}

fn parse_compiled(items: &[Item], s: &[u8]) -> Option<i64> {
    let mut pos = 0;
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec) = (0i32, 0, 0, 0, 0, 0);
    for item in items {
        match *item {
            Item::Year => y = digits(s, &mut pos, 4, 4)? as i32,
            Item::Month => mo = digits(s, &mut pos, 2, 2)?,
            Item::Day => d = digits(s, &mut pos, 2, 2)?,
            Item::Hour => h = digits(s, &mut pos, 2, 2)?,
            Item::Minute => mi = digits(s, &mut pos, 2, 2)?,
            Item::Second => sec = digits(s, &mut pos, 2, 2)?,
            Item::Literal(b) => {
                if s.get(pos) != Some(&b) {
                    return None;
                }
                pos += 1;
            }
        }
    }
    if pos != s.len() {
        return None;
    }
    wall_clock_seconds(y, mo, d, h, mi, sec)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Seconds since 1970-01-01 00:00 of a valid proleptic Gregorian date and time, or `None`.
fn wall_clock_seconds(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || h > 23 || mi > 59 || s > 59 || d == 0 {
        return None;
    }
    let month_days = DAYS[m as usize - 1] + u32::from(m == 2 && is_leap(y));
    if d > month_days {
        return None;
    }
    // Days from the civil date: count from 1 March of year 0 so that the leap day ends a year.
    let (y, m, d) = (
        i64::from(if m <= 2 { y - 1 } else { y }),
        i64::from(m),
        i64::from(d),
    );
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s))
}

fn parse_iso(s: &[u8]) -> Option<CellTime> {
    let mut pos = 0;
    let y = digits(s, &mut pos, 4, 4)? as i32;
    expect(s, &mut pos, b'-')?;
    let mo = digits(s, &mut pos, 2, 2)?;
    expect(s, &mut pos, b'-')?;
    let d = digits(s, &mut pos, 2, 2)?;
    if pos == s.len() {
        return Some(CellTime::Local(wall_clock_seconds(y, mo, d, 0, 0, 0)?));
    }
    if !matches!(s[pos], b'T' | b't' | b' ') {
        return None;
    }
    pos += 1;
    let h = digits(s, &mut pos, 2, 2)?;
    expect(s, &mut pos, b':')?;
    let mi = digits(s, &mut pos, 2, 2)?;
    let mut sec = 0;
    if s.get(pos) == Some(&b':') {
        pos += 1;
        sec = digits(s, &mut pos, 2, 2)?;
        // Fractions of a second are accepted and dropped: stamps are kept to the second.
        if matches!(s.get(pos), Some(b'.') | Some(b',')) {
            pos += 1;
            digits(s, &mut pos, 1, 9)?;
        }
    }
    let local = wall_clock_seconds(y, mo, d, h, mi, sec)?;
    if pos == s.len() {
        return Some(CellTime::Local(local));
    }
    let offset_seconds = match s[pos] {
        b'Z' | b'z' => {
            pos += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            pos += 1;
            let oh = digits(s, &mut pos, 2, 2)? as i64;
            if s.get(pos) == Some(&b':') {
                pos += 1;
            }
            let om = if pos < s.len() {
                digits(s, &mut pos, 2, 2)? as i64
            } else {
                0
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let v = oh * 3600 + om * 60;
            if sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    (pos == s.len()).then_some(CellTime::Instant(local - offset_seconds))
}

fn expect(s: &[u8], pos: &mut usize, b: u8) -> Option<()> {
    (s.get(*pos) == Some(&b)).then(|| *pos += 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> CellTime {
        CellTime::Local(
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, mi, s)
                .unwrap()
                .and_utc()
                .timestamp(),
        )
    }

    #[test]
    fn wall_clock_seconds_agree_with_chrono_for_every_day_of_four_centuries() {
        let mut date = NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2200, 12, 31).unwrap();
        while date <= end {
            use chrono::Datelike;
            let want = date.and_hms_opt(13, 7, 59).unwrap().and_utc().timestamp();
            assert_eq!(
                wall_clock_seconds(date.year(), date.month(), date.day(), 13, 7, 59),
                Some(want),
                "{date}"
            );
            date = date.succ_opt().unwrap();
        }
        assert_eq!(wall_clock_seconds(2023, 2, 29, 0, 0, 0), None);
        assert!(wall_clock_seconds(2024, 2, 29, 0, 0, 0).is_some());
        assert_eq!(wall_clock_seconds(1900, 2, 29, 0, 0, 0), None);
        assert!(wall_clock_seconds(2000, 2, 29, 0, 0, 0).is_some());
    }

    #[test]
    fn compiled_format_agrees_with_chrono() {
        let fmt = StampFormat::new(Some("%d.%m.%Y %H:%M"));
        assert!(matches!(
            &fmt,
            StampFormat::Chrono {
                compiled: Some(_),
                ..
            }
        ));
        assert_eq!(
            fmt.parse("01.03.2024 07:05"),
            Some(local(2024, 3, 1, 7, 5, 0))
        );
        // Single-digit fields are not in the fast path but chrono accepts them.
        assert_eq!(fmt.parse("1.3.2024 7:05"), Some(local(2024, 3, 1, 7, 5, 0)));
        for bad in [
            "31.02.2024 07:05",
            "01.03.2024",
            "2024-03-01 07:05",
            "",
            "01.03.2024 25:00",
        ] {
            assert_eq!(
                fmt.parse(bad),
                NaiveDateTime::parse_from_str(bad, "%d.%m.%Y %H:%M")
                    .ok()
                    .map(|t| CellTime::Local(t.and_utc().timestamp())),
                "{bad}"
            );
            assert_eq!(fmt.parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_outside_the_fast_path_use_chrono() {
        let fmt = StampFormat::new(Some("%d/%m/%y %I:%M %p"));
        assert!(matches!(&fmt, StampFormat::Chrono { compiled: None, .. }));
        assert_eq!(
            fmt.parse("05/11/26 03:30 PM"),
            Some(local(2026, 11, 5, 15, 30, 0))
        );
        let with_offset = StampFormat::new(Some("%Y-%m-%d %H:%M %z"));
        assert_eq!(
            with_offset.parse("2026-11-05 15:30 +0400"),
            Some(CellTime::Instant(
                NaiveDate::from_ymd_opt(2026, 11, 5)
                    .unwrap()
                    .and_hms_opt(11, 30, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp()
            ))
        );
        let date_only = StampFormat::new(Some("%d.%m.%Y"));
        assert_eq!(
            date_only.parse("05.11.2026"),
            Some(local(2026, 11, 5, 0, 0, 0))
        );
    }

    #[test]
    fn iso_forms() {
        let iso = StampFormat::new(None);
        assert_eq!(
            iso.parse("2026-03-01T08:30:00"),
            Some(local(2026, 3, 1, 8, 30, 0))
        );
        assert_eq!(
            iso.parse(" 2026-03-01 08:30 "),
            Some(local(2026, 3, 1, 8, 30, 0))
        );
        assert_eq!(iso.parse("2026-03-01"), Some(local(2026, 3, 1, 0, 0, 0)));
        let utc = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(3, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        assert_eq!(
            iso.parse("2026-03-01T08:30:00+05:00"),
            Some(CellTime::Instant(utc))
        );
        assert_eq!(
            iso.parse("2026-03-01T08:30+0500"),
            Some(CellTime::Instant(utc))
        );
        assert_eq!(
            iso.parse("2026-03-01T03:30:00Z"),
            Some(CellTime::Instant(utc))
        );
        assert_eq!(
            iso.parse("2026-03-01T03:30:00.250Z"),
            Some(CellTime::Instant(utc))
        );
        for bad in [
            "2026-13-01",
            "2026-03-01T",
            "01.03.2026",
            "2026-03-01T08:30+5",
            "x",
        ] {
            assert_eq!(iso.parse(bad), None, "{bad}");
        }
    }
}
