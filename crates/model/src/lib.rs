//! Domain types of SmartBorder, shared by every engine. No I/O lives here.
//!
//! The vocabulary follows the WCO Time Release Study (TRS) Guide: a *consignment* carries *stamps*
//! (the instant each *stage* of the process map was reached); the time between two stamps is an
//! *interval*; statistics are cut by *segments* (office, lane, mode ...). Instants are stored as UTC
//! seconds; every office keeps its IANA time zone so that local hours and working time can be
//! recovered, and a zone is never guessed.

pub mod corridor;
pub mod declaration;
pub mod finding;
pub mod lane;
pub mod study;
pub mod table;
pub mod text;
pub mod working_hours;
pub mod zone;

pub use corridor::{CORRIDOR_OFFICES, Country, CustomsOffice, TransportMode};
pub use declaration::{
    ControlOutcome, Declaration, DeclarationField, DeclarationSet, FieldKind, GOODS_ITEM_ATTRIBUTES,
};
pub use finding::{Finding, FindingKind};
pub use lane::Lane;
pub use study::{
    DEFAULT_TARGETS_HOURS, FIRST_STAMP, IntervalDef, IntervalKind, LAST_STAMP, StampRef,
    StudyDesign,
};
pub use table::{CodeMaps, MISSING, NO_VALUE, NO_ZONE, SegmentColumn, StampTable};
pub use text::refused_in_text;
pub use working_hours::{WorkingHours, WorkingHoursPlan};
pub use zone::{LocalTimeError, ZoneResolver};
