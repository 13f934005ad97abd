//! Verification findings: what is wrong with one cell, row or consignment of the input.
//!
//! A finding always says where (file, line or row, column), what was found and what was expected,
//! so that a TRS working group can go back to the clearance system and fix the source.

use serde::Serialize;

/// The verification rule that produced a finding.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The row could not be read (broken quoting, wrong number of fields, bad encoding).
    MalformedRow,
    /// The consignment identifier cell is empty.
    MissingConsignmentId,
    /// A stamp cell is not a date-time in the expected format.
    UnparseableStamp,
    /// The time-zone cell is not an IANA zone name, or no zone is known for a local stamp.
    UnknownZone,
    /// A local stamp that falls in a clock change (does not exist, or exists twice).
    InvalidLocalTime,
    /// A stage of the process map has no stamp.
    MissingStamp,
    /// A stamp is earlier than the stamp of an earlier stage: the interval is negative.
    OutOfOrder,
    /// The consignment identifier was already seen; the later row is left out.
    DuplicateConsignment,
    /// Long layout: a stage value that the mapping does not name.
    UnknownStage,
    /// Long layout: a second stamp for the same consignment and stage; the first is kept.
    DuplicateStamp,
    /// An interval beyond the extreme-value fences of its interval and office.
    ExtremeValue,
    /// Joint border study: a consignment of one side with no partner on the other.
    UnmatchedLink,
    /// Joint border study: a consignment with more than one possible partner (or one claimed
    /// by more than one); it is left out of the joint timeline.
    AmbiguousLink,
}

impl FindingKind {
    pub const ALL: [FindingKind; 13] = [
        FindingKind::MalformedRow,
        FindingKind::MissingConsignmentId,
        FindingKind::UnparseableStamp,
        FindingKind::UnknownZone,
        FindingKind::InvalidLocalTime,
        FindingKind::MissingStamp,
        FindingKind::OutOfOrder,
        FindingKind::DuplicateConsignment,
        FindingKind::UnknownStage,
        FindingKind::DuplicateStamp,
        FindingKind::ExtremeValue,
        FindingKind::UnmatchedLink,
        FindingKind::AmbiguousLink,
    ];

    /// The snake_case name used in JSON and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::MalformedRow => "malformed_row",
            FindingKind::MissingConsignmentId => "missing_consignment_id",
            FindingKind::UnparseableStamp => "unparseable_stamp",
            FindingKind::UnknownZone => "unknown_zone",
            FindingKind::InvalidLocalTime => "invalid_local_time",
            FindingKind::MissingStamp => "missing_stamp",
            FindingKind::OutOfOrder => "out_of_order",
            FindingKind::DuplicateConsignment => "duplicate_consignment",
            FindingKind::UnknownStage => "unknown_stage",
            FindingKind::DuplicateStamp => "duplicate_stamp",
            FindingKind::ExtremeValue => "extreme_value",
            FindingKind::UnmatchedLink => "unmatched_link",
            FindingKind::AmbiguousLink => "ambiguous_link",
        }
    }
}

/// One verification finding.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Input file.
    pub file: String,
    /// 1-based line of a CSV file (the header is line 1), row of an Excel sheet, or data row of
    /// a Parquet file.
    pub line: Option<u64>,
    /// Column (or, for interval findings, the interval "from -> to").
    pub column: Option<String>,
    /// Consignment identifier, when known.
    pub consignment: Option<String>,
    /// The offending value as found.
    pub value: Option<String>,
    /// What was expected, or which rule flagged it.
    pub message: String,
}
