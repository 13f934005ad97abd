//! Corridor time as Time Release Studies: the recorded crossings of transit movements turned
//! into TRS studies, one per route (the same offices in the same order), whose stages are the
//! crossings in route order: release at the office of departure, arrival and frontier crossing at
//! each office of transit, arrival at destination. The engine then measures them like any study
//! (first to last stamp = end to end).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use smartborder_model::{DEFAULT_TARGETS_HOURS, MISSING, NO_ZONE, StampTable, StudyDesign};
use smartborder_transit::corridor::{LegKind, destination_arrival_of, legs, release_of};
use smartborder_transit::{Movement, OfficeRef};

use crate::stats::quantiles;

/// The TRS study of one route.
pub struct CorridorStudy {
    /// The offices of the route joined by ">", e.g. "KZ000101>AZ000201>GE000301".
    pub route: String,
    pub design: StudyDesign,
    pub table: StampTable,
}

/// One TRS study per route, over the movements released for transit (movements never released
/// have no corridor time and are left out). Stamps are UTC seconds; each row keeps the zone of
/// its office of departure. Rows are in the order given.
pub fn corridor_studies(movements: &[Movement]) -> Vec<CorridorStudy> {
    let mut by_route: BTreeMap<String, Vec<&Movement>> = BTreeMap::new();
    for m in movements {
        if release_of(m).is_some() {
            let key: Vec<&str> = m.route.offices().map(OfficeRef::as_str).collect();
            by_route.entry(key.join(">")).or_default().push(m);
        }
    }
    by_route
        .into_iter()
        .map(|(route, ms)| {
            let first = ms[0];
            let mut stages = vec![format!("release {}", first.route.departure)];
            for t in &first.route.transit {
                stages.push(format!("arrival {}", t.office));
                stages.push(format!("frontier crossed {}", t.office));
            }
            stages.push(format!("arrival {}", first.route.destination));
            let design = StudyDesign {
                stages: stages.clone(),
                segments: Vec::new(),
                extra_intervals: Vec::new(),
                targets_hours: DEFAULT_TARGETS_HOURS.to_vec(),
                working_hours: None,
            };
            let mut table = StampTable::new(stages, &[]);
            for (row, m) in ms.iter().enumerate() {
                let secs = |t: Option<DateTime<Utc>>| t.map_or(MISSING, |t| t.timestamp());
                let mut stamps = vec![secs(release_of(m))];
                for p in &m.transit_progress {
                    stamps.push(secs(p.arrival));
                    stamps.push(secs(p.frontier_crossed));
                }
                stamps.push(secs(destination_arrival_of(m).map(|(_, at)| at)));
                let zone = m.events.first().map(|e| table.zone_code(e.zone));
                let id = m.mrn.as_ref().map_or(m.lrn.as_str(), |x| x.as_str());
                table.push(id, row as u64 + 1, &stamps, zone.unwrap_or(NO_ZONE), &[]);
            }
            CorridorStudy {
                route,
                design,
                table,
            }
        })
        .collect()
}

/// The time of one leg of the corridor (an office, or a border pair) in one week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegWeek {
    pub kind: LegKind,
    pub from: OfficeRef,
    pub to: OfficeRef,
    /// The Monday (UTC) of the week in which the legs started.
    pub week: NaiveDate,
    pub count: usize,
    pub median_hours: f64,
    pub p90_hours: f64,
}

/// Offices before border pairs (0, 1), then the two offices, then the week.
type LegWeekKey = (u8, String, String, NaiveDate);

/// The corridor dashboard's figures: for every office of transit (arrival to frontier crossing)
/// and every border pair (frontier crossed at one office to arrival at the next), per ISO week
/// of the leg's start in UTC, the number of legs, the median and the 90th percentile in hours
/// (the TRS quantile rule: linear interpolation between closest ranks). Sorted by leg, then
/// week.
pub fn weekly_legs(movements: &[Movement]) -> Vec<LegWeek> {
    let mut groups: BTreeMap<LegWeekKey, (LegKind, OfficeRef, OfficeRef, Vec<i64>)> =
        BTreeMap::new();
    for m in movements {
        for leg in legs(m) {
            let order = match leg.kind {
                LegKind::AtOffice => 0,
                LegKind::BorderCrossing => 1,
                LegKind::FromDeparture | LegKind::EndToEnd => continue,
            };
            let day = leg.start.date_naive();
            let week =
                day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()));
            groups
                .entry((order, leg.from.to_string(), leg.to.to_string(), week))
                .or_insert_with(|| (leg.kind, leg.from.clone(), leg.to.clone(), Vec::new()))
                .3
                .push((leg.end - leg.start).num_seconds());
        }
    }
    groups
        .into_iter()
        .map(|((_, _, _, week), (kind, from, to, mut seconds))| {
            let q = quantiles(&mut seconds, &[0.5, 0.9]);
            LegWeek {
                kind,
                from,
                to,
                week,
                count: seconds.len(),
                median_hours: q[0] / 3600.0,
                p90_hours: q[1] / 3600.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use chrono_tz::Tz;
    use smartborder_transit::{Event, EventKind, Mrn, Route, TransitOffice};

    use super::*;

    fn o(s: &str) -> OfficeRef {
        OfficeRef::parse(s).unwrap()
    }

    fn route() -> Route {
        Route {
            departure: o("KZ000101"),
            transit: vec![TransitOffice {
                office: o("AZ000201"),
                estimated_arrival: None,
            }],
            destination: o("GE000301"),
        }
    }

    fn ev(kind: EventKind, office: &str, hours: i64) -> Event {
        let zone: Tz = match &office[..2] {
            "KZ" => "Asia/Almaty",
            "AZ" => "Asia/Baku",
            _ => "Asia/Tbilisi",
        }
        .parse()
        .unwrap();
        Event {
            kind,
            office: o(office),
            at: Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap() + Duration::hours(hours),
            zone,
        }
    }

    /// The corridor study of a route: stages in route order, stamps in UTC seconds; a movement
    /// never released is left out.
    #[test]
    fn one_study_per_route_with_the_crossings_as_stages() {
        let mut m = Movement::lodged("LRN-1", route());
        for (kind, office, hours) in [
            (
                EventKind::Accepted {
                    mrn: Mrn::allocate(2026, "KZ", 1, 'J'),
                },
                "KZ000101",
                0,
            ),
            (
                EventKind::ReleasedForTransit {
                    limit_date: Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap(),
                },
                "KZ000101",
                1,
            ),
            (EventKind::ArrivalAtTransit, "AZ000201", 49),
            (EventKind::FrontierCrossed, "AZ000201", 53),
            (EventKind::ArrivalAtDestination, "GE000301", 62),
        ] {
            m.apply(ev(kind, office, hours)).unwrap();
        }
        let studies = corridor_studies(&[m, Movement::lodged("LRN-X", route())]);
        assert_eq!(studies.len(), 1);
        let s = &studies[0];
        assert_eq!(s.route, "KZ000101>AZ000201>GE000301");
        assert_eq!(
            s.design.stages,
            vec![
                "release KZ000101",
                "arrival AZ000201",
                "frontier crossed AZ000201",
                "arrival GE000301"
            ]
        );
        assert_eq!(s.table.len(), 1);
        let stamps: Vec<i64> = (0..4).map(|k| s.table.stamps[k][0]).collect();
        let hours: Vec<i64> = stamps.iter().map(|t| (t - stamps[0]) / 3600).collect();
        assert_eq!(hours, vec![0, 48, 52, 61]);
        assert_eq!(s.table.zone(0).map(|z| z.name()), Some("Asia/Almaty"));
    }

    fn journey(lrn: &str, start_hours: i64, at_office: i64, crossing: i64) -> Movement {
        let mut m = Movement::lodged(lrn, route());
        let arrival = start_hours + 10;
        for (kind, office, hours) in [
            (
                EventKind::Accepted {
                    mrn: Mrn::allocate(2026, "KZ", 1, 'J'),
                },
                "KZ000101",
                start_hours,
            ),
            (
                EventKind::ReleasedForTransit {
                    limit_date: Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(),
                },
                "KZ000101",
                start_hours + 1,
            ),
            (EventKind::ArrivalAtTransit, "AZ000201", arrival),
            (EventKind::FrontierCrossed, "AZ000201", arrival + at_office),
            (
                EventKind::ArrivalAtDestination,
                "GE000301",
                arrival + at_office + crossing,
            ),
        ] {
            m.apply(ev(kind, office, hours)).unwrap();
        }
        m
    }

    /// Weekly figures per office and border pair, checked against quantiles computed by hand:
    /// four journeys in the week of Monday 2026-03-02 and one in the next.
    #[test]
    fn weekly_legs_give_count_median_and_p90_per_week() {
        let movements = vec![
            journey("A", 0, 2, 5),
            journey("B", 24, 4, 7),
            journey("C", 48, 6, 9),
            journey("D", 72, 8, 11),
            journey("E", 24 * 7, 3, 20),
        ];
        let weeks = weekly_legs(&movements);
        let find = |kind, week: &str| {
            weeks
                .iter()
                .find(|w| w.kind == kind && w.week.to_string() == week)
                .unwrap()
        };
        let office = find(LegKind::AtOffice, "2026-03-02");
        assert_eq!(
            (office.from.as_str(), office.to.as_str()),
            ("AZ000201", "AZ000201")
        );
        assert_eq!(office.count, 4);
        // 2, 4, 6, 8 hours: median 5; p90 at rank 2.7 -> 6 + 0.7 * 2 = 7.4.
        assert!((office.median_hours - 5.0).abs() < 1e-9);
        assert!((office.p90_hours - 7.4).abs() < 1e-9);
        let border = find(LegKind::BorderCrossing, "2026-03-02");
        assert_eq!(
            (border.from.as_str(), border.to.as_str()),
            ("AZ000201", "GE000301")
        );
        assert!((border.median_hours - 8.0).abs() < 1e-9);
        assert!((border.p90_hours - 10.4).abs() < 1e-9);
        let next = find(LegKind::BorderCrossing, "2026-03-09");
        assert_eq!((next.count, next.median_hours), (1, 20.0));
        // Offices first, then border pairs; each by week.
        let kinds: Vec<LegKind> = weeks.iter().map(|w| w.kind).collect();
        assert_eq!(
            kinds,
            vec![
                LegKind::AtOffice,
                LegKind::AtOffice,
                LegKind::BorderCrossing,
                LegKind::BorderCrossing
            ]
        );
    }
}
