//! Corridor times from recorded movements: how long goods spend at each office of transit, how
//! long each border crossing takes (frontier crossed at one office to arrival at the next), and
//! end to end (release at departure to arrival at destination). Only complete pairs of
//! instants give a time; a pair out of order is left out.
//!
//! The TRS studies of the corridor (one per route, stages = crossings) are built from these
//! movements by `smartborder_trs::corridor`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::movement::{EventKind, Movement, OfficeRef};

/// What a leg measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegKind {
    /// Release at departure to arrival at the first office after it.
    FromDeparture,
    /// Arrival at an office of transit to the frontier crossing there.
    AtOffice,
    /// Frontier crossed at an office of transit to arrival at the next office.
    BorderCrossing,
    /// Release at departure to arrival at destination.
    EndToEnd,
}

/// One measured leg of a movement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leg {
    pub kind: LegKind,
    pub from: OfficeRef,
    pub to: OfficeRef,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Leg {
    pub fn hours(&self) -> f64 {
        (self.end - self.start).num_seconds() as f64 / 3600.0
    }
}

/// An office after departure with its arrival and frontier-crossing instants.
type Stop = (OfficeRef, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The route of a movement as a key: its countries in order, e.g. "KZ-AZ-GE".
pub fn route_key(m: &Movement) -> String {
    m.route.countries().join("-")
}

/// The legs a movement's events allow to measure, in route order.
pub fn legs(m: &Movement) -> Vec<Leg> {
    let release = release_of(m);
    let destination_arrival = destination_arrival_of(m);
    let mut out = Vec::new();
    let mut push = |kind,
                    from: &OfficeRef,
                    to: &OfficeRef,
                    start: Option<DateTime<Utc>>,
                    end: Option<DateTime<Utc>>| {
        if let (Some(start), Some(end)) = (start, end)
            && end >= start
        {
            out.push(Leg {
                kind,
                from: from.clone(),
                to: to.clone(),
                start,
                end,
            });
        }
    };
    // The offices after departure: (office, arrival, frontier crossed).
    let mut stops: Vec<Stop> = m
        .route
        .transit
        .iter()
        .zip(&m.transit_progress)
        .map(|(t, p)| (t.office.clone(), p.arrival, p.frontier_crossed))
        .collect();
    let (dest_office, dest_at) = match &destination_arrival {
        Some((o, at)) => (o.clone(), Some(*at)),
        None => (m.route.destination.clone(), None),
    };
    stops.push((dest_office.clone(), dest_at, None));
    if let Some((first, arrival, _)) = stops.first() {
        push(
            LegKind::FromDeparture,
            &m.route.departure,
            first,
            release,
            *arrival,
        );
    }
    for (i, (office, arrival, crossed)) in stops.iter().enumerate() {
        if i + 1 < stops.len() {
            push(LegKind::AtOffice, office, office, *arrival, *crossed);
            let (next, next_arrival, _) = &stops[i + 1];
            push(
                LegKind::BorderCrossing,
                office,
                next,
                *crossed,
                *next_arrival,
            );
        }
    }
    push(
        LegKind::EndToEnd,
        &m.route.departure,
        &dest_office,
        release,
        dest_at,
    );
    out
}

/// When the movement was released for transit.
pub fn release_of(m: &Movement) -> Option<DateTime<Utc>> {
    m.events.iter().find_map(|e| match e.kind {
        EventKind::ReleasedForTransit { .. } => Some(e.at),
        _ => None,
    })
}

/// Where and when the goods arrived at destination.
pub fn destination_arrival_of(m: &Movement) -> Option<(OfficeRef, DateTime<Utc>)> {
    m.events.iter().find_map(|e| match e.kind {
        EventKind::ArrivalAtDestination => Some((e.office.clone(), e.at)),
        _ => None,
    })
}
