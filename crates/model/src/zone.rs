//! Local wall-clock time to UTC instants, per IANA zone, without guessing.
//!
//! Converting through chrono-tz costs a binary search per stamp; a TRS input has tens of millions of
//! stamps, so the offset is cached per (zone, local day) whenever that whole local day has a single
//! UTC offset. Days with a transition (e.g. Kazakhstan's move to UTC+5 on 2024-03-01 happened at
//! midnight, DST changes elsewhere) are resolved stamp by stamp, and a local time that is ambiguous
//! or does not exist is an error, never silently shifted.

use chrono::{LocalResult, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

/// Why a local time could not be placed on the UTC time line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    #[error("local time is ambiguous in this zone (clocks were turned back)")]
    Ambiguous,
    #[error("local time does not exist in this zone (clocks were turned forward)")]
    Nonexistent,
}

const CACHE_SLOTS: usize = 4096;
const TRANSITION_DAY: i32 = i32::MIN;

/// Converts local times to UTC seconds with a small direct-mapped cache of day offsets.
pub struct ZoneResolver {
    keys: Vec<u64>,
    offsets: Vec<i32>,
}

impl Default for ZoneResolver {
    fn default() -> Self {
        ZoneResolver {
            keys: vec![u64::MAX; CACHE_SLOTS],
            offsets: vec![0; CACHE_SLOTS],
        }
    }
}

impl ZoneResolver {
    /// UTC seconds since the Unix epoch of `local` read in `tz`.
    pub fn to_utc(&mut self, tz: Tz, local: NaiveDateTime) -> Result<i64, LocalTimeError> {
        self.local_seconds_to_utc(tz, local.and_utc().timestamp())
    }

    /// Like [`ZoneResolver::to_utc`], for a wall-clock time given as seconds since
    /// 1970-01-01 00:00 on the local clock.
    pub fn local_seconds_to_utc(
        &mut self,
        tz: Tz,
        local_seconds: i64,
    ) -> Result<i64, LocalTimeError> {
        let day = local_seconds.div_euclid(86_400);
        let key = ((tz as u64) << 32) | (day as u64 & 0xFFFF_FFFF);
        let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize % CACHE_SLOTS;
        let offset = if self.keys[slot] == key {
            self.offsets[slot]
        } else {
            let offset = match chrono::DateTime::from_timestamp(local_seconds, 0) {
                Some(t) => uniform_day_offset(tz, t.naive_utc()),
                None => TRANSITION_DAY,
            };
            self.keys[slot] = key;
            self.offsets[slot] = offset;
            offset
        };
        if offset != TRANSITION_DAY {
            return Ok(local_seconds - i64::from(offset));
        }
        let local = chrono::DateTime::from_timestamp(local_seconds, 0)
            .ok_or(LocalTimeError::Nonexistent)?
            .naive_utc();
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.timestamp()),
            LocalResult::Ambiguous(_, _) => Err(LocalTimeError::Ambiguous),
            LocalResult::None => Err(LocalTimeError::Nonexistent),
        }
    }

    /// Local wall-clock time of a UTC instant in `tz`, with the same day cache as
    /// [`ZoneResolver::to_utc`] (keyed by UTC day).
    pub fn local_of(&mut self, tz: Tz, utc_seconds: i64) -> Option<NaiveDateTime> {
        let day = utc_seconds.div_euclid(86_400);
        let key = ((tz as u64) << 32) | 0x8000_0000_0000_0000 | (day as u64 & 0xFFFF_FFFF);
        let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize % CACHE_SLOTS;
        if self.keys[slot] != key {
            let offset_at = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map(|d| d.with_timezone(&tz).offset().fix().local_minus_utc())
            };
            let (a, b) = (offset_at(day * 86_400)?, offset_at(day * 86_400 + 86_399)?);
            self.keys[slot] = key;
            self.offsets[slot] = if a == b { a } else { TRANSITION_DAY };
        }
        match self.offsets[slot] {
            TRANSITION_DAY => Self::to_local(tz, utc_seconds),
            offset => chrono::DateTime::from_timestamp(utc_seconds + i64::from(offset), 0)
                .map(|t| t.naive_utc()),
        }
    }

    /// Local wall-clock time of a UTC instant in `tz`.
    pub fn to_local(tz: Tz, utc_seconds: i64) -> Option<NaiveDateTime> {
        chrono::DateTime::from_timestamp(utc_seconds, 0).map(|t| t.with_timezone(&tz).naive_local())
    }
}

/// The offset (seconds east of UTC) valid for the whole local day of `local`, or
/// [`TRANSITION_DAY`] when the day contains a transition.
fn uniform_day_offset(tz: Tz, local: NaiveDateTime) -> i32 {
    let date = local.date();
    let first = tz.from_local_datetime(&date.and_time(NaiveTime::MIN));
    let last = tz.from_local_datetime(&date.and_hms_opt(23, 59, 59).expect("valid time"));
    match (first, last) {
        (LocalResult::Single(a), LocalResult::Single(b))
            if a.offset().fix() == b.offset().fix() =>
        {
            a.offset().fix().local_minus_utc()
        }
        _ => TRANSITION_DAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        local(y, m, d, h, min).and_utc().timestamp()
    }

    #[test]
    fn kazakhstan_moved_to_utc_plus_5_on_2024_03_01() {
        let mut r = ZoneResolver::default();
        // Asia/Almaty was UTC+6 until the end of February 2024 ...
        assert_eq!(
            r.to_utc(Tz::Asia__Almaty, local(2024, 2, 29, 12, 0)),
            Ok(utc(2024, 2, 29, 6, 0))
        );
        // ... and UTC+5 from 1 March 2024 (tzdata 2024a).
        assert_eq!(
            r.to_utc(Tz::Asia__Almaty, local(2024, 3, 1, 12, 0)),
            Ok(utc(2024, 3, 1, 7, 0))
        );
        // Aqtau was already on UTC+5.
        assert_eq!(
            r.to_utc(Tz::Asia__Aqtau, local(2024, 2, 29, 12, 0)),
            Ok(utc(2024, 2, 29, 7, 0))
        );
    }

    #[test]
    fn cached_and_uncached_conversions_agree() {
        let mut r = ZoneResolver::default();
        for tz in [
            Tz::Asia__Baku,
            Tz::Asia__Shanghai,
            Tz::Europe__Istanbul,
            Tz::Asia__Bishkek,
        ] {
            for day in 1..=28 {
                let l = local(2025, 2, day, 13, 37);
                let expected = tz.from_local_datetime(&l).single().unwrap().timestamp();
                assert_eq!(r.to_utc(tz, l), Ok(expected));
                assert_eq!(r.to_utc(tz, l), Ok(expected));
            }
        }
    }

    #[test]
    fn dst_gaps_and_overlaps_are_errors() {
        let mut r = ZoneResolver::default();
        // Europe/Berlin: 2025-03-30 02:30 does not exist, 2025-10-26 02:30 happens twice.
        assert_eq!(
            r.to_utc(Tz::Europe__Berlin, local(2025, 3, 30, 2, 30)),
            Err(LocalTimeError::Nonexistent)
        );
        assert_eq!(
            r.to_utc(Tz::Europe__Berlin, local(2025, 10, 26, 2, 30)),
            Err(LocalTimeError::Ambiguous)
        );
        // Other times of those days still resolve.
        assert_eq!(
            r.to_utc(Tz::Europe__Berlin, local(2025, 3, 30, 12, 0)),
            Ok(utc(2025, 3, 30, 10, 0))
        );
    }

    #[test]
    fn cached_local_of_agrees_with_chrono() {
        let mut r = ZoneResolver::default();
        let start = local(2024, 2, 27, 0, 0).and_utc().timestamp();
        for tz in [Tz::Asia__Almaty, Tz::Europe__Berlin, Tz::Asia__Baku] {
            for k in 0..2000 {
                let t = start + k * 5_399;
                assert_eq!(r.local_of(tz, t), ZoneResolver::to_local(tz, t));
            }
        }
        let berlin_change = local(2025, 3, 30, 1, 30).and_utc().timestamp();
        assert_eq!(
            r.local_of(Tz::Europe__Berlin, berlin_change),
            Some(local(2025, 3, 30, 3, 30))
        );
    }

    #[test]
    fn to_local_inverts_to_utc() {
        let mut r = ZoneResolver::default();
        let l = local(2026, 6, 1, 8, 15);
        let t = r.to_utc(Tz::Asia__Tbilisi, l).unwrap();
        assert_eq!(ZoneResolver::to_local(Tz::Asia__Tbilisi, t), Some(l));
    }
}
