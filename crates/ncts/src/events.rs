//! What an accepted NCTS message records on its movement, and how a refusal of the movement's
//! keeper (not the caller's office, unknown MRN, duplicate LRN, out of sequence) is said in
//! NCTS terms. The HTTP layer only carries these across.
//!
//! | message | event                        | time                                   |
//! |---------|------------------------------|----------------------------------------|
//! | CC013C  | `amended`, with the new route | stamped by the service when applied    |
//! | CC014C  | `invalidation_requested`     | stamped by the service when applied    |
//! | CC007C  | `arrival_at_destination`     | `arrivalNotificationDateAndTime` (UTC) |
//! | CC044C  | `unloading_remarks`          | `preparationDateAndTime` (UTC)         |
//!
//! | refusal   | HTTP | rejection code        | functional error                           |
//! |-----------|------|-----------------------|--------------------------------------------|
//! | forbidden | 403  | 12 functional errors  | SBR010 on the office (code 14)             |
//! | not found | 404  | 12                    | SBR011 on the MRN (code 90, unknown MRN)   |
//! | conflict  | 409  | 4 duplicate LRN (CC015C) or 13 invalid state | SBR012 on the LRN (14) or SBR013 on `messageType` (92, out of sequence) |
//! | invalid   | 422  | 12                    | SBR014 on the root (14)                    |

use chrono::{DateTime, Utc};
use smartborder_transit::{Event, EventKind, OfficeRef, country_zone};

use crate::answers::RejectionCode;
use crate::messages::{
    FunctionalError, FunctionalErrorCode, Message, MessageType, RejectionContext,
};

/// The event a message records, where its time comes from, and what a rejection of it repeats.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub event: Event,
    /// The event's time is the service's clock when it is applied (the office of departure
    /// takes amendments and invalidation requests when they arrive).
    pub stamped_by_service: bool,
}

/// What a rejection of the message repeats (LRN or MRN, office, holder or trader).
pub fn rejection_context(message: &Message, mrn: &str) -> RejectionContext {
    let mut context = RejectionContext {
        mrn: Some(mrn.to_string()),
        ..Default::default()
    };
    match message {
        Message::Declaration(d) => {
            context.mrn = None;
            context.lrn = Some(d.lrn.clone());
            context.office = Some(d.route.departure.to_string());
            context.holder = d.holder.clone();
        }
        Message::Amendment(a) => {
            context.office = Some(a.route.departure.to_string());
            context.holder = a.holder.clone();
        }
        Message::InvalidationRequest(i) => {
            context.office = Some(i.departure.to_string());
            context.holder = i.holder.clone();
        }
        Message::ArrivalNotification(a) => {
            context.office = Some(a.office.to_string());
            context.trader = Some(a.trader.clone());
        }
        Message::UnloadingRemarks(u) => {
            context.office = Some(u.office.to_string());
            context.trader = Some(u.trader.clone());
        }
    }
    context
}

fn zone_of(office: &OfficeRef) -> Result<chrono_tz::Tz, String> {
    country_zone(office.country()).ok_or_else(|| {
        format!(
            "no time zone is known for offices of {}; record this event through the JSON API with its zone",
            office.country()
        )
    })
}

/// The event a message of a movement records (`now` is a placeholder for the events the
/// service stamps). A CC015C records no event: it lodges a movement. `Err` says why the
/// event cannot be placed (an office of a country with no single zone).
pub fn recorded(message: &Message, now: DateTime<Utc>) -> Option<Result<Recorded, String>> {
    let stamped = |office: &OfficeRef, kind: EventKind| {
        zone_of(office).map(|zone| Recorded {
            event: Event {
                kind,
                office: office.clone(),
                at: now,
                zone,
            },
            stamped_by_service: true,
        })
    };
    Some(match message {
        Message::Declaration(_) => return None,
        Message::Amendment(a) => stamped(
            &a.route.departure,
            EventKind::Amended {
                route: Some(a.route.clone()),
            },
        ),
        Message::InvalidationRequest(i) => stamped(
            &i.departure,
            EventKind::InvalidationRequested {
                reason: i.justification.clone().unwrap_or_else(|| {
                    if i.initiated_by_customs {
                        "invalidation initiated by customs (IE014)".to_string()
                    } else {
                        "invalidation requested by the holder (IE014)".to_string()
                    }
                }),
                initiated_by_customs: i.initiated_by_customs,
            },
        ),
        Message::ArrivalNotification(a) => Ok(Recorded {
            event: Event {
                kind: EventKind::ArrivalAtDestination,
                office: a.office.clone(),
                at: a.arrived_at,
                zone: a.zone,
            },
            stamped_by_service: false,
        }),
        Message::UnloadingRemarks(u) => Ok(Recorded {
            event: Event {
                kind: EventKind::UnloadingRemarks { conform: u.conform },
                office: u.office.clone(),
                at: u.remarks_at,
                zone: u.zone,
            },
            stamped_by_service: false,
        }),
    })
}

/// Why the keeper of movements refused a message (nothing was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not the caller's office.
    Forbidden,
    /// No movement with this MRN that the caller may see.
    NotFound,
    /// A duplicate LRN, or not possible in the movement's state.
    Conflict,
    /// The request is wrong in itself (text, time, route).
    Invalid,
}

/// How a refusal is answered: HTTP status, rejection code, and the functional error that names
/// the element (see the module's table).
pub fn refusal(
    outcome: Outcome,
    description: &str,
    message_type: MessageType,
) -> (u16, RejectionCode, FunctionalError) {
    let root = message_type.name();
    let office_path = if message_type.at_departure() {
        "CustomsOfficeOfDeparture/referenceNumber"
    } else {
        "CustomsOfficeOfDestinationActual/referenceNumber"
    };
    let error = |pointer: String, code, reason| FunctionalError {
        pointer,
        code,
        reason,
        description: description.to_string(),
        value: None,
    };
    match outcome {
        Outcome::Forbidden => (
            403,
            RejectionCode::FunctionalErrors,
            error(
                format!("/{root}/{office_path}"),
                FunctionalErrorCode::RuleViolation,
                "SBR010",
            ),
        ),
        Outcome::NotFound => (
            404,
            RejectionCode::FunctionalErrors,
            error(
                format!("/{root}/TransitOperation/MRN"),
                FunctionalErrorCode::UnknownMrn,
                "SBR011",
            ),
        ),
        Outcome::Conflict if message_type == MessageType::CC015C => (
            409,
            RejectionCode::DuplicateLrn,
            error(
                format!("/{root}/TransitOperation/LRN"),
                FunctionalErrorCode::RuleViolation,
                "SBR012",
            ),
        ),
        Outcome::Conflict => (
            409,
            RejectionCode::InvalidState,
            error(
                format!("/{root}/messageType"),
                FunctionalErrorCode::OutOfSequence,
                "SBR013",
            ),
        ),
        Outcome::Invalid => (
            422,
            RejectionCode::FunctionalErrors,
            error(
                format!("/{root}"),
                FunctionalErrorCode::RuleViolation,
                "SBR014",
            ),
        ),
    }
}

/// The declaration a CC013C or CC014C names, and the MRN of any message, against the movement
/// it is posted to:
/// - C0467: once the declaration is accepted (here, always: the office of departure accepts
///   and allocates the MRN at lodgement), a CC013C or CC014C names it by its MRN, not its LRN;
/// - SBR015: the MRN a message names is the movement of the path.
///
/// Nothing about the movement is read, so the answer is the same whether or not it exists.
pub fn names_the_movement(message: &Message, mrn: &str) -> Result<(), FunctionalError> {
    let root = message.message_type().name();
    let error =
        |element: &str, code, reason, named: Option<&str>, description: String| FunctionalError {
            pointer: format!("/{root}/TransitOperation/{element}"),
            code,
            reason,
            description,
            value: named.map(str::to_string),
        };
    if matches!(
        message.message_type(),
        MessageType::CC013C | MessageType::CC014C
    ) {
        if let Some(lrn) = message.lrn() {
            return Err(error(
                "LRN",
                FunctionalErrorCode::NotAllowed,
                "C0467",
                Some(lrn),
                "the declaration is accepted (its MRN allocated): name it by its MRN, not its LRN"
                    .to_string(),
            ));
        }
        if message.mrn().is_none() {
            return Err(error(
                "MRN",
                FunctionalErrorCode::Missing,
                "C0467",
                None,
                "the declaration is accepted (its MRN allocated): name it by its MRN".to_string(),
            ));
        }
    }
    if let Some(named) = message.mrn()
        && named != mrn
    {
        return Err(error(
            "MRN",
            FunctionalErrorCode::RuleViolation,
            "SBR015",
            Some(named),
            format!("the message names MRN {named} but is posted to {mrn}"),
        ));
    }
    Ok(())
}

/// The conditions a CC044C is judged on against the declaration it answers (C0440, R0054; see
/// [`crate::conditions::against_declaration`]). A declaration that does not read judges nothing.
pub fn unloading_against_declaration(cc044c: &str, declaration: &str) -> Vec<FunctionalError> {
    match (crate::xml::parse(cc044c), crate::xml::parse(declaration)) {
        (Ok(message), Ok(declared)) => crate::conditions::against_declaration(&message, &declared),
        _ => Vec::new(),
    }
}
