//! Transit on the Single Window principle, with NCTS Phase 5 semantics: MRNs, the movement
//! lifecycle from lodgement to write-off, who may see and write what along the route, and the
//! corridor times that crossings give. Pure logic: no storage, no HTTP.

pub mod access;
pub mod control;
pub mod corridor;
pub mod goods;
pub mod lodging;
pub mod movement;
pub mod mrn;
pub mod text;

pub use access::{AccessError, Principal};
pub use control::{ControlError, ControlResult, Finding};
pub use goods::{AssessedGoods, Consignment, GoodsError, GoodsItem};
pub use lodging::LodgingError;
pub use movement::{
    ClockError, Event, EventKind, Movement, MovementStatus, OfficeRef, Route, TransitOffice,
    TransitionError, country_zone,
};
pub use mrn::{Mrn, MrnError};
pub use text::TextError;
