//! The design of a Time Release Study: process map, segments, intervals, targets, working hours.

use serde::Serialize;

use crate::working_hours::WorkingHoursPlan;

/// One end of an interval: a stage of the process map, or the first / last stamp present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum StampRef {
    Stage(usize),
    FirstPresent,
    LastPresent,
}

/// What an interval is, for the reader of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalKind {
    /// Between two consecutive stages of the process map.
    Consecutive,
    /// A total: arrival to release, or first to last stamp present.
    Total,
    /// Asked for by the mapping's `[[intervals]]`.
    Extra,
}

/// An interval whose duration is measured for every consignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct IntervalDef {
    pub from: StampRef,
    pub to: StampRef,
    pub kind: IntervalKind,
}

/// Name of the pseudo-stage "first stamp present".
pub const FIRST_STAMP: &str = "first_stamp";
/// Name of the pseudo-stage "last stamp present".
pub const LAST_STAMP: &str = "last_stamp";

/// Default release-time targets, in hours.
pub const DEFAULT_TARGETS_HOURS: [f64; 4] = [1.0, 4.0, 24.0, 72.0];

/// Everything the TRS engine needs to know about a study besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StudyDesign {
    /// Stage names in process order.
    pub stages: Vec<String>,
    /// Segment names (office, lane, mode ...), in mapping order.
    pub segments: Vec<String>,
    /// Extra intervals as (from stage, to stage) indexes.
    pub extra_intervals: Vec<(usize, usize)>,
    /// Targets for the share released within a time, in hours.
    pub targets_hours: Vec<f64>,
    /// Working hours, when the study measures working time.
    pub working_hours: Option<WorkingHoursPlan>,
}

impl StudyDesign {
    /// Index of the stage that marks arrival: the stage named "arrival", else the first.
    pub fn arrival_stage(&self) -> usize {
        self.stages.iter().position(|s| s == "arrival").unwrap_or(0)
    }

    /// Index of the stage that marks release: the stage named "release", else the last.
    pub fn release_stage(&self) -> usize {
        self.stages
            .iter()
            .position(|s| s == "release")
            .unwrap_or(self.stages.len().saturating_sub(1))
    }

    /// All intervals the study measures: consecutive stages, the two totals, then the extra
    /// intervals that do not repeat one of those.
    pub fn intervals(&self) -> Vec<IntervalDef> {
        let mut out: Vec<IntervalDef> = (1..self.stages.len())
            .map(|k| IntervalDef {
                from: StampRef::Stage(k - 1),
                to: StampRef::Stage(k),
                kind: IntervalKind::Consecutive,
            })
            .collect();
        let (arrival, release) = (self.arrival_stage(), self.release_stage());
        if arrival < release {
            let total = IntervalDef {
                from: StampRef::Stage(arrival),
                to: StampRef::Stage(release),
                kind: IntervalKind::Total,
            };
            if !out.iter().any(|d| d.from == total.from && d.to == total.to) {
                out.push(total);
            }
        }
        if self.stages.len() > 1 {
            out.push(IntervalDef {
                from: StampRef::FirstPresent,
                to: StampRef::LastPresent,
                kind: IntervalKind::Total,
            });
        }
        for &(from, to) in &self.extra_intervals {
            let (from, to) = (StampRef::Stage(from), StampRef::Stage(to));
            if !out.iter().any(|d| d.from == from && d.to == to) {
                out.push(IntervalDef {
                    from,
                    to,
                    kind: IntervalKind::Extra,
                });
            }
        }
        out
    }

    /// Display name of an interval end.
    pub fn stamp_name(&self, r: StampRef) -> &str {
        match r {
            StampRef::Stage(i) => &self.stages[i],
            StampRef::FirstPresent => FIRST_STAMP,
            StampRef::LastPresent => LAST_STAMP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(stages: &[&str], extra: Vec<(usize, usize)>) -> StudyDesign {
        StudyDesign {
            stages: stages.iter().map(|s| s.to_string()).collect(),
            segments: vec![],
            extra_intervals: extra,
            targets_hours: DEFAULT_TARGETS_HOURS.to_vec(),
            working_hours: None,
        }
    }

    #[test]
    fn intervals_are_consecutive_then_totals_then_new_extras() {
        let d = design(
            &["arrival", "lodgement", "release", "exit"],
            vec![(0, 2), (1, 3)],
        );
        let names: Vec<(String, String, IntervalKind)> = d
            .intervals()
            .iter()
            .map(|i| {
                (
                    d.stamp_name(i.from).to_string(),
                    d.stamp_name(i.to).to_string(),
                    i.kind,
                )
            })
            .collect();
        let expect = [
            ("arrival", "lodgement", IntervalKind::Consecutive),
            ("lodgement", "release", IntervalKind::Consecutive),
            ("release", "exit", IntervalKind::Consecutive),
            ("arrival", "release", IntervalKind::Total),
            (FIRST_STAMP, LAST_STAMP, IntervalKind::Total),
            ("lodgement", "exit", IntervalKind::Extra),
        ];
        assert_eq!(names.len(), expect.len());
        for (got, want) in names.iter().zip(expect) {
            assert_eq!((got.0.as_str(), got.1.as_str(), got.2), want);
        }
    }
}
