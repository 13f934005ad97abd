//! Who may see and write what: the Single Window rule of "lodge once, share along the route".
//!
//! - An administration sees a movement only if one of its offices is on the route.
//! - It records events only for its own offices, and lodges only from its own offices of
//!   departure.
//! - The corridor coordinator sees every movement and records nothing.

use serde::{Deserialize, Serialize};

use crate::movement::{OfficeRef, Route};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Principal {
    /// A customs administration, by country (ISO 3166 alpha-2).
    Administration { country: String },
    /// The corridor coordinator: reads everything, writes nothing.
    Coordinator,
}

/// Why a caller was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("no office of {country} is on this movement's route ({route})")]
    NotOnRoute { country: String, route: String },
    #[error(
        "office {office} belongs to {office_country}; {country} may record events only at its own offices"
    )]
    NotOwnOffice {
        office: String,
        office_country: String,
        country: String,
    },
    #[error("the coordinator reads movements but does not record events or lodge declarations")]
    CoordinatorReadOnly,
}

impl Principal {
    /// May this caller read a movement with this route?
    pub fn can_see(&self, route: &Route) -> Result<(), AccessError> {
        match self {
            Principal::Coordinator => Ok(()),
            Principal::Administration { country } => {
                if route.offices().any(|o| o.country() == country) {
                    Ok(())
                } else {
                    Err(AccessError::NotOnRoute {
                        country: country.clone(),
                        route: route
                            .offices()
                            .map(OfficeRef::as_str)
                            .collect::<Vec<_>>()
                            .join(" > "),
                    })
                }
            }
        }
    }

    /// May this caller record an event at this office?
    pub fn can_record_at(&self, office: &OfficeRef) -> Result<(), AccessError> {
        match self {
            Principal::Coordinator => Err(AccessError::CoordinatorReadOnly),
            Principal::Administration { country } if office.country() == country => Ok(()),
            Principal::Administration { country } => Err(AccessError::NotOwnOffice {
                office: office.to_string(),
                office_country: office.country().to_string(),
                country: country.clone(),
            }),
        }
    }

    /// May this caller lodge a declaration with this route (from its own office of departure)?
    pub fn can_lodge(&self, route: &Route) -> Result<(), AccessError> {
        self.can_record_at(&route.departure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::movement::TransitOffice;

    fn route() -> Route {
        let o = |s: &str| OfficeRef::parse(s).unwrap();
        Route {
            departure: o("KZ000101"),
            transit: vec![TransitOffice {
                office: o("AZ000201"),
                estimated_arrival: None,
            }],
            destination: o("GE000301"),
        }
    }

    fn admin(c: &str) -> Principal {
        Principal::Administration { country: c.into() }
    }

    #[test]
    fn administrations_on_the_route_see_it_others_do_not() {
        let r = route();
        for c in ["KZ", "AZ", "GE"] {
            assert!(admin(c).can_see(&r).is_ok(), "{c}");
        }
        let e = admin("UZ").can_see(&r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no office of UZ is on this movement's route (KZ000101 > AZ000201 > GE000301)"
        );
        assert!(Principal::Coordinator.can_see(&r).is_ok());
    }

    #[test]
    fn events_only_at_own_offices_and_never_by_the_coordinator() {
        let r = route();
        assert!(admin("AZ").can_record_at(&r.transit[0].office).is_ok());
        let e = admin("AZ").can_record_at(&r.destination).unwrap_err();
        assert!(matches!(e, AccessError::NotOwnOffice { .. }));
        assert!(e.to_string().contains("GE000301 belongs to GE"));
        assert_eq!(
            Principal::Coordinator.can_record_at(&r.departure),
            Err(AccessError::CoordinatorReadOnly)
        );
        assert!(admin("KZ").can_lodge(&r).is_ok());
        assert!(admin("GE").can_lodge(&r).is_err());
        assert!(Principal::Coordinator.can_lodge(&r).is_err());
    }
}
