//! Office working hours and the working-time measure of the TRS Guide.
//!
//! Elapsed time runs around the clock; *working time* counts only the seconds that fall inside an
//! office's opening hours on its working days. Both are computed on the office's local wall clock.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime, NaiveTime, TimeDelta};
use serde::Serialize;

/// Daily opening hours (local time) and weekly days off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WorkingHours {
    /// Minutes after local midnight when the office opens (0..=1440).
    pub open_minute: u16,
    /// Minutes after local midnight when the office closes (0..=1440; 1440 = midnight).
    pub close_minute: u16,
    /// Monday first; `true` means the office is closed all day.
    pub days_off: [bool; 7],
}

impl WorkingHours {
    /// Open around the clock, every day.
    pub const ALWAYS_OPEN: WorkingHours = WorkingHours {
        open_minute: 0,
        close_minute: 1440,
        days_off: [false; 7],
    };

    fn open_seconds_per_day(&self) -> i64 {
        (i64::from(self.close_minute) - i64::from(self.open_minute)).max(0) * 60
    }

    /// Seconds of `[start, end)` (local wall-clock times) that fall inside working hours.
    /// Returns 0 when `end <= start`.
    pub fn working_seconds(&self, start: NaiveDateTime, end: NaiveDateTime) -> i64 {
        if end <= start {
            return 0;
        }
        let open = i64::from(self.open_minute) * 60;
        let close = i64::from(self.close_minute) * 60;
        let midnight = NaiveTime::MIN;
        let first = start.date();
        let last = end.date();
        let open_days = self.days_off.iter().filter(|off| !**off).count() as i64;
        let mut day = first;
        let mut total = 0i64;
        while day <= last {
            // Whole weeks strictly between the first and the last day are fully inside the
            // interval: add them arithmetically so that an interval of years costs a fortnight.
            let remaining = (last - day).num_days();
            if day > first && remaining > 14 {
                let weeks = (remaining - 7) / 7;
                total += weeks * open_days * self.open_seconds_per_day();
                day += TimeDelta::days(weeks * 7);
                continue;
            }
            total += self.day_overlap(day, start, end, open, close, midnight);
            day += TimeDelta::days(1);
        }
        total
    }

    fn day_overlap(
        &self,
        day: chrono::NaiveDate,
        start: NaiveDateTime,
        end: NaiveDateTime,
        open: i64,
        close: i64,
        midnight: NaiveTime,
    ) -> i64 {
        if self.days_off[day.weekday().num_days_from_monday() as usize] {
            return 0;
        }
        let day_start = day.and_time(midnight);
        let window_start = day_start + TimeDelta::seconds(open);
        let window_end = day_start + TimeDelta::seconds(close);
        let from = window_start.max(start);
        let to = window_end.min(end);
        (to - from).num_seconds().max(0)
    }
}

/// Working hours of a study: a default plus per-office exceptions, keyed by the value of the
/// segment that names the office.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct WorkingHoursPlan {
    pub default: WorkingHours,
    /// Segment whose value identifies the office (usually "office").
    pub office_segment: Option<String>,
    pub offices: BTreeMap<String, WorkingHours>,
}

impl WorkingHoursPlan {
    /// Hours for an office (the default when the office has no entry).
    pub fn for_office(&self, office: Option<&str>) -> &WorkingHours {
        office
            .and_then(|o| self.offices.get(o))
            .unwrap_or(&self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        // November 2026: the 2nd is a Monday.
        NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    const OFFICE: WorkingHours = WorkingHours {
        open_minute: 9 * 60,
        close_minute: 18 * 60,
        days_off: [false, false, false, false, false, true, true],
    };

    #[test]
    fn inside_one_day_counts_only_opening_hours() {
        // 07:00 -> 10:30 on a Monday: only 09:00-10:30 counts.
        assert_eq!(OFFICE.working_seconds(at(2, 7, 0), at(2, 10, 30)), 90 * 60);
    }

    #[test]
    fn weekend_is_skipped() {
        // Friday 17:00 -> Monday 10:00: 1 h on Friday + 1 h on Monday.
        assert_eq!(OFFICE.working_seconds(at(6, 17, 0), at(9, 10, 0)), 2 * 3600);
    }

    #[test]
    fn long_spans_match_the_day_by_day_count() {
        let start = at(3, 11, 17);
        let end = NaiveDate::from_ymd_opt(2027, 2, 19)
            .unwrap()
            .and_hms_opt(15, 4, 0)
            .unwrap();
        let mut naive = 0;
        let mut t = start;
        while t < end {
            let next = (t + TimeDelta::minutes(1)).min(end);
            let wd = t.weekday().num_days_from_monday() as usize;
            let minute = t.hour_minute();
            if !OFFICE.days_off[wd] && (9 * 60..18 * 60).contains(&minute) {
                naive += (next - t).num_seconds();
            }
            t = next;
        }
        assert_eq!(OFFICE.working_seconds(start, end), naive);
    }

    trait HourMinute {
        fn hour_minute(&self) -> u32;
    }
    impl HourMinute for NaiveDateTime {
        fn hour_minute(&self) -> u32 {
            use chrono::Timelike;
            self.hour() * 60 + self.minute()
        }
    }

    #[test]
    fn always_open_equals_elapsed() {
        let s = at(2, 3, 0);
        let e = at(20, 4, 30);
        assert_eq!(
            WorkingHours::ALWAYS_OPEN.working_seconds(s, e),
            (e - s).num_seconds()
        );
    }
}
