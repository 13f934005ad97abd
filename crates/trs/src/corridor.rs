//! Corridor time as Time Release Studies: the recorded crossings of transit movements turned
//! into TRS studies, one per route (the same offices in the same order), whose stages are the
//! crossings in route order: release at the office of departure, arrival and frontier crossing at
//! each office of transit, arrival at destination. The engine then measures them like any study
//! (first to last stamp = end to end).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use smartborder_model::{DEFAULT_TARGETS_HOURS, MISSING, NO_ZONE, StampTable, StudyDesign};
use smartborder_transit::corridor::{destination_arrival_of, release_of};
use smartborder_transit::{Movement, OfficeRef};

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
}
