//! The Time Release Study engine: intervals, statistics by segment, extreme values, bottlenecks,
//! working time and arrival patterns, computed from a [`StampTable`].
//!
//! The rule every statistic follows (WCO TRS Guide, and stated in every report): an interval
//! counts for a consignment when both of its stamps are present and readable and the duration is
//! at least zero. A negative duration is left out of that interval (and reported by verification); the
//! consignment's other intervals still count. Each figure says how many consignments it rests on.

mod analysis;
pub mod compare;
pub mod corridor;
pub mod joint;
pub mod plan;
pub mod stats;
pub mod trends;

pub use analysis::{
    ArrivalPattern, Bottleneck, BottleneckStage, FindingCount, HeadlineFigures, Histogram,
    IntervalSample, IntervalStats, Method, OutlierRule, Study, TrsOptions, TrsReport, analyze,
    analyze_with_samples,
};
