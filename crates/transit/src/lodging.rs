//! The checks a transit declaration passes before the office of departure accepts it, whether
//! it was lodged as JSON or as an NCTS CC015C: the LRN, the number of offices of transit, and a
//! known time zone at the office of departure (the acceptance is stamped in it).

use chrono_tz::Tz;

use crate::movement::{MAX_TRANSIT_OFFICES, Route, country_zone};
use crate::text::{TextError, check_lrn};

/// Why a declaration is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LodgingError {
    #[error(transparent)]
    Lrn(#[from] TextError),
    #[error("{0} offices of transit; a declaration names at most {MAX_TRANSIT_OFFICES}")]
    TooManyTransitOffices(usize),
    #[error("no time zone is known for offices of {0}")]
    NoZone(String),
}

/// Checks a declaration's LRN and route; returns the zone of the office of departure.
pub fn check(lrn: &str, route: &Route) -> Result<Tz, LodgingError> {
    check_lrn(lrn)?;
    if route.transit.len() > MAX_TRANSIT_OFFICES {
        return Err(LodgingError::TooManyTransitOffices(route.transit.len()));
    }
    let country = route.departure.country();
    country_zone(country).ok_or_else(|| LodgingError::NoZone(country.to_string()))
}
