//! The life of a transit movement, with the message semantics of NCTS Phase 5:
//!
//! ```text
//! lodged (IE015) ──▶ accepted (IE028, MRN allocated) ──▶ released for transit (IE029)
//!   │  ▲ amended (IE013)     │                               │ at each office of transit:
//!   │  └─────────────────────┤                               │   anticipated record (IE050),
//!   ├─▶ rejected (IE056)     ├─▶ not released (IE051)        │   arrival, frontier crossed (IE118)
//!   └─▶ invalidated (IE014 / IE009, before release) ◀────────┤ incidents (IE180)
//!                                                            ▼
//!                        arrival at destination (IE007) ──▶ unloading remarks (IE044)
//!                          ▲                               ──▶ goods released (IE025)
//!   limit date passed: enquiry (IE140) ── recovery          ──▶ written off (IE045)
//! ```
//!
//! Every event keeps its instant in UTC and the IANA zone of the office where it happened, so
//! local times can always be recovered. An event that the lifecycle does not allow in the
//! movement's state is refused with a [`TransitionError`] that says what was expected.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::mrn::Mrn;
use crate::text::{TextError, check_free_text};

/// A customs office reference number (NCTS: 2-letter country code + 6 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfficeRef(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "customs office reference \"{0}\": expected 8 characters, a country code (2 capital letters) then 6 capital letters or digits, e.g. GE100100"
)]
pub struct OfficeRefError(pub String);

impl OfficeRef {
    pub fn parse(s: &str) -> Result<OfficeRef, OfficeRefError> {
        let b = s.as_bytes();
        let ok = b.len() == 8
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(OfficeRef(s.to_string()))
        } else {
            Err(OfficeRefError(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country of the office (ISO 3166 alpha-2).
    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

impl std::fmt::Display for OfficeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OfficeRef {
    type Error = OfficeRefError;
    fn try_from(s: String) -> Result<OfficeRef, OfficeRefError> {
        OfficeRef::parse(&s)
    }
}

impl From<OfficeRef> for String {
    fn from(o: OfficeRef) -> String {
        o.0
    }
}

/// The IANA zone the customs offices of a country keep time in, for countries with one zone:
/// the corridor, its neighbours and the Common Transit countries of Europe (Kazakhstan has been
/// on UTC+5 everywhere since 2024-03-01, `Asia/Almaty`; XI is Northern Ireland's NCTS code).
/// `None` for countries with several zones (Russia, Spain, Portugal, the United States ...) and
/// unknown codes: the caller must then say the zone.
pub fn country_zone(country: &str) -> Option<Tz> {
    let name = match country {
        // The corridor and its neighbours.
        "KZ" => "Asia/Almaty",
        "KG" => "Asia/Bishkek",
        "UZ" => "Asia/Tashkent",
        "TJ" => "Asia/Dushanbe",
        "TM" => "Asia/Ashgabat",
        "AZ" => "Asia/Baku",
        "GE" => "Asia/Tbilisi",
        "AM" => "Asia/Yerevan",
        "TR" => "Europe/Istanbul",
        "CN" => "Asia/Shanghai",
        "IR" => "Asia/Tehran",
        "AF" => "Asia/Kabul",
        "PK" => "Asia/Karachi",
        "IN" => "Asia/Kolkata",
        "BY" => "Europe/Minsk",
        "UA" => "Europe/Kyiv",
        "MD" => "Europe/Chisinau",
        // Common Transit Convention countries with one zone.
        "GB" | "XI" => "Europe/London",
        "IE" => "Europe/Dublin",
        "IS" => "Atlantic/Reykjavik",
        "NO" => "Europe/Oslo",
        "SE" => "Europe/Stockholm",
        "FI" => "Europe/Helsinki",
        "DK" => "Europe/Copenhagen",
        "EE" => "Europe/Tallinn",
        "LV" => "Europe/Riga",
        "LT" => "Europe/Vilnius",
        "PL" => "Europe/Warsaw",
        "DE" => "Europe/Berlin",
        "NL" => "Europe/Amsterdam",
        "BE" => "Europe/Brussels",
        "LU" => "Europe/Luxembourg",
        "FR" => "Europe/Paris",
        "CH" => "Europe/Zurich",
        "LI" => "Europe/Vaduz",
        "AT" => "Europe/Vienna",
        "IT" => "Europe/Rome",
        "SM" => "Europe/San_Marino",
        "MT" => "Europe/Malta",
        "SI" => "Europe/Ljubljana",
        "HR" => "Europe/Zagreb",
        "HU" => "Europe/Budapest",
        "CZ" => "Europe/Prague",
        "SK" => "Europe/Bratislava",
        "RO" => "Europe/Bucharest",
        "BG" => "Europe/Sofia",
        "GR" => "Europe/Athens",
        "CY" => "Asia/Nicosia",
        "RS" => "Europe/Belgrade",
        "ME" => "Europe/Podgorica",
        "MK" => "Europe/Skopje",
        "AL" => "Europe/Tirane",
        "AD" => "Europe/Andorra",
        _ => return None,
    };
    name.parse().ok()
}

/// An office of transit with the estimated arrival the declarant gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitOffice {
    pub office: OfficeRef,
    pub estimated_arrival: Option<DateTime<Utc>>,
}

/// The route of a movement: departure, up to nine offices of transit, destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub departure: OfficeRef,
    pub transit: Vec<TransitOffice>,
    pub destination: OfficeRef,
}

/// The most offices of transit a declaration may name (NCTS Phase 5).
pub const MAX_TRANSIT_OFFICES: usize = 9;

impl Route {
    /// Every office on the route, in order.
    pub fn offices(&self) -> impl Iterator<Item = &OfficeRef> {
        std::iter::once(&self.departure)
            .chain(self.transit.iter().map(|t| &t.office))
            .chain(std::iter::once(&self.destination))
    }

    /// The countries of the route, in order, without repeats.
    pub fn countries(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for o in self.offices() {
            if !out.contains(&o.country()) {
                out.push(o.country());
            }
        }
        out
    }

    fn transit_index(&self, office: &OfficeRef) -> Option<usize> {
        self.transit.iter().position(|t| t.office == *office)
    }
}

/// Where a movement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementStatus {
    Lodged,
    Rejected,
    Accepted,
    NotReleased,
    ReleasedForTransit,
    Invalidated,
    ArrivedAtDestination,
    UnloadingRemarks,
    GoodsReleased,
    WrittenOff,
    UnderEnquiry,
    Recovery,
}

impl MovementStatus {
    /// No event may follow.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            MovementStatus::Rejected
                | MovementStatus::NotReleased
                | MovementStatus::Invalidated
                | MovementStatus::WrittenOff
                | MovementStatus::Recovery
        )
    }
}

/// What happened, named after the NCTS Phase 5 message that carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// IE013: the declaration is amended before release, with the route as amended when the
    /// amendment changes offices of transit or destination (the office of departure stays).
    Amended {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        route: Option<Route>,
    },
    /// IE056: the declaration is rejected.
    Rejected { reason: String },
    /// IE028: accepted, MRN allocated.
    Accepted { mrn: Mrn },
    /// IE051: not released for transit.
    NotReleased { reason: String },
    /// IE029: released for transit, with the time limit for presentation at destination.
    ReleasedForTransit { limit_date: DateTime<Utc> },
    /// IE014 request and IE009 decision: invalidated before release.
    Invalidated { reason: String },
    /// IE014: the holder (or customs) asks the office of departure to invalidate the
    /// declaration. Before release the office grants it at once (the movement is invalidated);
    /// after release the request waits for the office's decision.
    InvalidationRequested {
        reason: String,
        #[serde(default)]
        initiated_by_customs: bool,
    },
    /// IE009: the office of departure decides on a pending invalidation request after release.
    InvalidationDecided {
        accepted: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// IE050: the anticipated transit record reached an office of transit (pre-arrival).
    AnticipatedTransitRecord,
    /// Arrival of the goods at an office of transit.
    ArrivalAtTransit,
    /// IE118: the office of transit notifies the crossing of the frontier.
    FrontierCrossed,
    /// IE180 / IE182: an incident en route.
    Incident { description: String },
    /// IE007: arrival notification at the office of destination.
    ArrivalAtDestination,
    /// IE044: unloading remarks.
    UnloadingRemarks { conform: bool },
    /// IE025: goods released at destination.
    GoodsReleased,
    /// IE045: write-off notification to the office of departure.
    WrittenOff,
    /// IE140: enquiry opened because the limit date passed without arrival.
    EnquiryOpened,
    /// Recovery started after an unanswered enquiry.
    RecoveryStarted,
}

impl EventKind {
    /// The snake_case name of the event (also its `type` in JSON).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Amended { .. } => "amended",
            EventKind::Rejected { .. } => "rejected",
            EventKind::Accepted { .. } => "accepted",
            EventKind::NotReleased { .. } => "not_released",
            EventKind::ReleasedForTransit { .. } => "released_for_transit",
            EventKind::Invalidated { .. } => "invalidated",
            EventKind::InvalidationRequested { .. } => "invalidation_requested",
            EventKind::InvalidationDecided { .. } => "invalidation_decided",
            EventKind::AnticipatedTransitRecord => "anticipated_transit_record",
            EventKind::ArrivalAtTransit => "arrival_at_transit",
            EventKind::FrontierCrossed => "frontier_crossed",
            EventKind::Incident { .. } => "incident",
            EventKind::ArrivalAtDestination => "arrival_at_destination",
            EventKind::UnloadingRemarks { .. } => "unloading_remarks",
            EventKind::GoodsReleased => "goods_released",
            EventKind::WrittenOff => "written_off",
            EventKind::EnquiryOpened => "enquiry_opened",
            EventKind::RecoveryStarted => "recovery_started",
        }
    }
}

/// An event of a movement: what, where, when (UTC) and in which zone the office keeps time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(flatten)]
    pub kind: EventKind,
    pub office: OfficeRef,
    pub at: DateTime<Utc>,
    pub zone: Tz,
}

impl Event {
    /// The event's free texts follow the text rule ([`crate::text`]).
    pub fn check_text(&self) -> Result<(), TextError> {
        match &self.kind {
            EventKind::Rejected { reason }
            | EventKind::NotReleased { reason }
            | EventKind::Invalidated { reason }
            | EventKind::InvalidationRequested { reason, .. }
            | EventKind::InvalidationDecided {
                reason: Some(reason),
                ..
            } => check_free_text("reason", reason),
            EventKind::Incident { description } => check_free_text("description", description),
            _ => Ok(()),
        }
    }
}

/// The furthest a limit date may be after the release.
pub const MAX_LIMIT_DAYS: i64 = 365;

/// Why an event's time is refused by the service's clock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error(
        "{event} at {at}: more than {skew_seconds} s after the service's clock ({now}); an event is recorded when it has happened"
    )]
    InTheFuture {
        event: &'static str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        skew_seconds: i64,
    },
    #[error("the limit date ({limit}) is more than {MAX_LIMIT_DAYS} days after the release ({at})")]
    LimitDateTooFar {
        limit: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    #[error(
        "{event}: the limit date ({limit}) has not passed by the service's clock ({now}); an enquiry opens only after it"
    )]
    LimitDateNotPassed {
        event: &'static str,
        limit: DateTime<Utc>,
        now: DateTime<Utc>,
    },
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{event} is not allowed when the movement is {status:?}; {expected}")]
    NotAllowed {
        event: &'static str,
        status: MovementStatus,
        expected: String,
    },
    #[error("{event} at {office}: {expected}")]
    WrongOffice {
        event: &'static str,
        office: String,
        expected: String,
    },
    #[error("{event} at {office}: already recorded")]
    Repeated { event: &'static str, office: String },
    #[error("{event} at {office}: {expected} comes first")]
    OutOfOrder {
        event: &'static str,
        office: String,
        expected: &'static str,
    },
    #[error("{event} at {at}: earlier than the movement's last event ({last})")]
    BeforeLastEvent {
        event: &'static str,
        at: DateTime<Utc>,
        last: DateTime<Utc>,
    },
}

/// Progress at one office of transit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransitProgress {
    pub anticipated_record: Option<DateTime<Utc>>,
    pub arrival: Option<DateTime<Utc>>,
    pub frontier_crossed: Option<DateTime<Utc>>,
}

/// A transit movement: the declaration's route and reference, its status and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movement {
    /// Local reference number given by the declarant.
    pub lrn: String,
    pub mrn: Option<Mrn>,
    pub route: Route,
    pub status: MovementStatus,
    /// Time limit for presentation at destination, set at release.
    pub limit_date: Option<DateTime<Utc>>,
    /// Progress at each office of transit, in route order.
    pub transit_progress: Vec<TransitProgress>,
    /// The office where the goods actually arrived (may differ from the declared destination).
    pub actual_destination: Option<OfficeRef>,
    /// An invalidation request made after release, waiting for the office of departure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_invalidation: Option<PendingInvalidation>,
    pub events: Vec<Event>,
}

/// An invalidation requested after release (IE014), until the office of departure decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingInvalidation {
    pub reason: String,
    pub initiated_by_customs: bool,
    pub requested_at: DateTime<Utc>,
}

impl Movement {
    /// A movement as lodged (IE015), before acceptance.
    pub fn lodged(lrn: &str, route: Route) -> Movement {
        Movement {
            lrn: lrn.to_string(),
            mrn: None,
            transit_progress: vec![TransitProgress::default(); route.transit.len()],
            route,
            status: MovementStatus::Lodged,
            limit_date: None,
            actual_destination: None,
            pending_invalidation: None,
            events: Vec::new(),
        }
    }

    /// Applies an event if the lifecycle allows it; otherwise the movement is unchanged.
    pub fn apply(&mut self, event: Event) -> Result<(), TransitionError> {
        use EventKind as E;
        use MovementStatus as S;
        let name = event.kind.name();
        let status = self.status;
        let not_allowed = |expected: &str| TransitionError::NotAllowed {
            event: name,
            status,
            expected: expected.to_string(),
        };
        if let Some(last) = self.events.last()
            && event.at < last.at
        {
            return Err(TransitionError::BeforeLastEvent {
                event: name,
                at: event.at,
                last: last.at,
            });
        }
        let at_departure = || {
            if event.office == self.route.departure {
                Ok(())
            } else {
                Err(TransitionError::WrongOffice {
                    event: name,
                    office: event.office.to_string(),
                    expected: format!(
                        "only the office of departure ({}) decides this",
                        self.route.departure
                    ),
                })
            }
        };
        let next = match (&event.kind, status) {
            (_, s) if s.is_final() => {
                return Err(not_allowed("the movement is closed"));
            }
            (E::Amended { route }, S::Lodged | S::Accepted) => {
                at_departure()?;
                if let Some(route) = route {
                    if route.departure != self.route.departure {
                        return Err(TransitionError::WrongOffice {
                            event: name,
                            office: route.departure.to_string(),
                            expected: format!(
                                "an amendment keeps the office of departure ({})",
                                self.route.departure
                            ),
                        });
                    }
                    if route.transit.len() > MAX_TRANSIT_OFFICES {
                        return Err(not_allowed(&format!(
                            "a declaration names at most {MAX_TRANSIT_OFFICES} offices of transit"
                        )));
                    }
                    self.transit_progress = vec![TransitProgress::default(); route.transit.len()];
                    self.route = route.clone();
                }
                status
            }
            (E::Amended { .. }, _) => {
                return Err(not_allowed(
                    "a declaration can be amended only before release",
                ));
            }
            (E::Rejected { .. }, S::Lodged) => {
                at_departure()?;
                S::Rejected
            }
            (E::Rejected { .. }, _) => {
                return Err(not_allowed("only a lodged declaration can be rejected"));
            }
            (E::Accepted { mrn }, S::Lodged) => {
                at_departure()?;
                self.mrn = Some(mrn.clone());
                S::Accepted
            }
            (E::Accepted { .. }, _) => {
                return Err(not_allowed("only a lodged declaration can be accepted"));
            }
            (E::NotReleased { .. }, S::Accepted) => {
                at_departure()?;
                S::NotReleased
            }
            (E::ReleasedForTransit { limit_date }, S::Accepted) => {
                at_departure()?;
                if *limit_date <= event.at {
                    return Err(not_allowed("the limit date must be after the release"));
                }
                self.limit_date = Some(*limit_date);
                S::ReleasedForTransit
            }
            (E::NotReleased { .. } | E::ReleasedForTransit { .. }, _) => {
                return Err(not_allowed("release is decided on an accepted declaration"));
            }
            (E::Invalidated { .. }, S::Lodged | S::Accepted) => {
                at_departure()?;
                S::Invalidated
            }
            (E::Invalidated { .. }, _) => {
                return Err(not_allowed(
                    "a declaration can be invalidated only before release",
                ));
            }
            (E::InvalidationRequested { .. }, S::Lodged | S::Accepted) => {
                at_departure()?;
                S::Invalidated
            }
            (
                E::InvalidationRequested {
                    reason,
                    initiated_by_customs,
                },
                S::ReleasedForTransit,
            ) => {
                at_departure()?;
                if self.pending_invalidation.is_some() {
                    return Err(TransitionError::Repeated {
                        event: name,
                        office: event.office.to_string(),
                    });
                }
                self.pending_invalidation = Some(PendingInvalidation {
                    reason: reason.clone(),
                    initiated_by_customs: *initiated_by_customs,
                    requested_at: event.at,
                });
                status
            }
            (E::InvalidationRequested { .. }, _) => {
                return Err(not_allowed(
                    "an invalidation is requested before the goods arrive at destination",
                ));
            }
            (E::InvalidationDecided { accepted, .. }, _) => {
                at_departure()?;
                if self.pending_invalidation.is_none() {
                    return Err(not_allowed("no invalidation request is pending"));
                }
                let moved = self.actual_destination.is_some()
                    || self
                        .transit_progress
                        .iter()
                        .any(|p| p.arrival.is_some() || p.frontier_crossed.is_some());
                if *accepted && (status != S::ReleasedForTransit || moved) {
                    return Err(not_allowed(
                        "the goods have already been presented en route; the invalidation can only be refused",
                    ));
                }
                self.pending_invalidation = None;
                if *accepted { S::Invalidated } else { status }
            }
            (
                E::AnticipatedTransitRecord | E::ArrivalAtTransit | E::FrontierCrossed,
                S::ReleasedForTransit | S::UnderEnquiry,
            ) => {
                let Some(i) = self.route.transit_index(&event.office) else {
                    return Err(TransitionError::WrongOffice {
                        event: name,
                        office: event.office.to_string(),
                        expected: format!(
                            "not an office of transit of this movement ({})",
                            self.route
                                .transit
                                .iter()
                                .map(|t| t.office.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                };
                let progress = &mut self.transit_progress[i];
                let (slot, before): (&mut Option<DateTime<Utc>>, Option<(&'static str, bool)>) =
                    match event.kind {
                        E::AnticipatedTransitRecord => (&mut progress.anticipated_record, None),
                        E::ArrivalAtTransit => (&mut progress.arrival, None),
                        _ => {
                            let arrived = progress.arrival.is_some();
                            (
                                &mut progress.frontier_crossed,
                                Some(("arrival_at_transit", arrived)),
                            )
                        }
                    };
                if slot.is_some() {
                    return Err(TransitionError::Repeated {
                        event: name,
                        office: event.office.to_string(),
                    });
                }
                if let Some((expected, false)) = before {
                    return Err(TransitionError::OutOfOrder {
                        event: name,
                        office: event.office.to_string(),
                        expected,
                    });
                }
                *slot = Some(event.at);
                status
            }
            (E::AnticipatedTransitRecord | E::ArrivalAtTransit | E::FrontierCrossed, _) => {
                return Err(not_allowed(
                    "events at offices of transit need a movement released for transit",
                ));
            }
            (E::Incident { .. }, S::ReleasedForTransit | S::UnderEnquiry) => {
                if !self.route.offices().any(|o| *o == event.office) {
                    return Err(TransitionError::WrongOffice {
                        event: name,
                        office: event.office.to_string(),
                        expected: "incidents are recorded by an office on the route".into(),
                    });
                }
                status
            }
            (E::Incident { .. }, _) => {
                return Err(not_allowed("incidents happen between release and arrival"));
            }
            (E::ArrivalAtDestination, S::ReleasedForTransit | S::UnderEnquiry) => {
                if event.office.country() != self.route.destination.country() {
                    return Err(TransitionError::WrongOffice {
                        event: name,
                        office: event.office.to_string(),
                        expected: format!(
                            "the goods arrive at an office of the destination country ({}, declared {})",
                            self.route.destination.country(),
                            self.route.destination
                        ),
                    });
                }
                self.actual_destination = Some(event.office.clone());
                S::ArrivedAtDestination
            }
            (E::ArrivalAtDestination, _) => {
                return Err(not_allowed("arrival needs a movement released for transit"));
            }
            (E::UnloadingRemarks { .. }, S::ArrivedAtDestination) => {
                self.at_actual_destination(&event)?;
                S::UnloadingRemarks
            }
            (E::UnloadingRemarks { .. }, _) => {
                return Err(not_allowed(
                    "unloading remarks follow the arrival at destination",
                ));
            }
            (E::GoodsReleased, S::ArrivedAtDestination | S::UnloadingRemarks) => {
                self.at_actual_destination(&event)?;
                S::GoodsReleased
            }
            (E::GoodsReleased, _) => {
                return Err(not_allowed(
                    "goods are released at destination after arrival",
                ));
            }
            (E::WrittenOff, S::GoodsReleased) => {
                at_departure()?;
                S::WrittenOff
            }
            (E::WrittenOff, _) => {
                return Err(not_allowed(
                    "the movement is written off after the goods are released at destination",
                ));
            }
            (E::EnquiryOpened, S::ReleasedForTransit) => {
                at_departure()?;
                if self.limit_date.is_some_and(|l| event.at <= l) {
                    return Err(not_allowed("an enquiry opens only after the limit date"));
                }
                S::UnderEnquiry
            }
            (E::EnquiryOpened, _) => {
                return Err(not_allowed(
                    "an enquiry opens on a movement released for transit",
                ));
            }
            (E::RecoveryStarted, S::UnderEnquiry) => {
                at_departure()?;
                S::Recovery
            }
            (E::RecoveryStarted, _) => return Err(not_allowed("recovery follows an enquiry")),
        };
        self.status = next;
        self.events.push(event);
        Ok(())
    }

    fn at_actual_destination(&self, event: &Event) -> Result<(), TransitionError> {
        match &self.actual_destination {
            Some(o) if *o == event.office => Ok(()),
            other => Err(TransitionError::WrongOffice {
                event: event.kind.name(),
                office: event.office.to_string(),
                expected: format!(
                    "only the office where the goods arrived ({}) records this",
                    other.as_ref().map_or("none", |o| o.as_str())
                ),
            }),
        }
    }

    /// Checks an event against the service's clock `now`, before [`Movement::apply`]: the event
    /// is not more than `max_skew` ahead of it (a date far in the future would block every
    /// later event), a release's limit date is at most [`MAX_LIMIT_DAYS`] after it, and an
    /// enquiry or recovery comes only once the limit date has passed by that clock, whatever
    /// time the caller gives the event.
    pub fn check_clock(
        &self,
        event: &Event,
        now: DateTime<Utc>,
        max_skew: chrono::Duration,
    ) -> Result<(), ClockError> {
        let name = event.kind.name();
        if event.at > now + max_skew {
            return Err(ClockError::InTheFuture {
                event: name,
                at: event.at,
                now,
                skew_seconds: max_skew.num_seconds(),
            });
        }
        if let EventKind::ReleasedForTransit { limit_date } = &event.kind
            && *limit_date > event.at + chrono::Duration::days(MAX_LIMIT_DAYS)
        {
            return Err(ClockError::LimitDateTooFar {
                limit: *limit_date,
                at: event.at,
            });
        }
        if let (EventKind::EnquiryOpened | EventKind::RecoveryStarted, Some(limit)) =
            (&event.kind, self.limit_date)
            && now <= limit
        {
            return Err(ClockError::LimitDateNotPassed {
                event: name,
                limit,
                now,
            });
        }
        Ok(())
    }

    /// Whether the limit date has passed at `now` without arrival: an enquiry is due.
    pub fn enquiry_due(&self, now: DateTime<Utc>) -> bool {
        self.status == MovementStatus::ReleasedForTransit
            && self.limit_date.is_some_and(|l| now > l)
    }
}

#[cfg(test)]
mod tests;
