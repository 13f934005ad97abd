//! Joint border studies (coordinated border management): two administrations' exports of the
//! same border, linked consignment by consignment through a key both record (transit MRN, TIR
//! carnet, container number, or vehicle plate within a time window), read as one timeline from
//! the formalities at A to the release at B.
//!
//! - **Keys** are compared after removing spaces, hyphens, dots and slashes and upper-casing
//!   (`01 kz-123 abc` = `01KZ123ABC`).
//! - **Window** (required for plates, which come back trip after trip; optional for the other
//!   keys): a consignment of B is a candidate partner of one of A when its first stamp is no
//!   earlier than A's last stamp and at most the window after it.
//! - **Matching** is mutual: a pair is linked when the consignment of A has exactly one candidate
//!   at B and that one has no other candidate at A. A consignment with several candidates (or
//!   whose one candidate is claimed by another) is an *ambiguous link*; one with none is an
//!   *unmatched link*; both are findings naming the file, line and key, and stay out of the
//!   joint timeline.
//! - **Timeline**: the stages of A then those of B, each named `SIDE.stage`; each side's stamps
//!   were read in its own zone (both are UTC instants). Intervals: the consecutive stages
//!   (`A.last → B.first` is the time between the two sides), each side's own first-to-last, and
//!   the whole, A's first stamp to B's last; cut by the border pair (`A office → B office`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use smartborder_model::{
    Finding, FindingKind, MISSING, NO_VALUE, NO_ZONE, StampTable, StudyDesign,
};

/// One side of the border: its name (a country code), table and design, the segment holding
/// the link key, and the name of its input (for findings).
pub struct Side<'a> {
    pub name: &'a str,
    pub table: &'a StampTable,
    pub design: &'a StudyDesign,
    /// The index of the key's column among `table.segments`.
    pub key: usize,
    pub input: &'a str,
}

/// How many consignments were linked, and how many were not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSummary {
    pub linked: u64,
    pub unmatched_a: u64,
    pub unmatched_b: u64,
    pub ambiguous_a: u64,
    pub ambiguous_b: u64,
    /// Consignments without a key (left out, not findings of the link).
    pub without_key_a: u64,
    pub without_key_b: u64,
}

/// The joint study: one table across the border, its design, the findings of the link.
pub struct JointStudy {
    pub table: StampTable,
    pub design: StudyDesign,
    pub findings: Vec<Finding>,
    pub summary: LinkSummary,
}

/// The name of the joint table's segment of border pairs.
pub const BORDER_PAIR: &str = "border_pair";

/// A key as compared: without spaces, hyphens, dots and slashes, upper case.
pub fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '/'))
        .flat_map(char::to_uppercase)
        .collect()
}

fn first_stamp(t: &StampTable, row: usize) -> Option<i64> {
    t.stamps.iter().map(|c| c[row]).find(|&s| s != MISSING)
}

fn last_stamp(t: &StampTable, row: usize) -> Option<i64> {
    t.stamps
        .iter()
        .rev()
        .map(|c| c[row])
        .find(|&s| s != MISSING)
}

/// The rows of a side by normalised key; rows without a key are counted apart.
fn by_key(side: &Side<'_>) -> (Vec<Option<String>>, HashMap<String, Vec<usize>>, u64) {
    let column = &side.table.segments[side.key];
    let mut keys = Vec::with_capacity(side.table.len());
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    let mut without = 0;
    for row in 0..side.table.len() {
        let key = column
            .value(row)
            .map(normalize_key)
            .filter(|k| !k.is_empty());
        match &key {
            Some(k) => index.entry(k.clone()).or_default().push(row),
            None => without += 1,
        }
        keys.push(key);
    }
    (keys, index, without)
}

/// Links the consignments of two sides and builds their joint timeline.
pub fn link(a: &Side<'_>, b: &Side<'_>, window_seconds: Option<i64>) -> JointStudy {
    let (a_keys, _, without_a) = by_key(a);
    let (b_keys, b_index, without_b) = by_key(b);
    // Candidates at B of each consignment of A; how many of A name each of B.
    let candidates: Vec<Vec<usize>> = (0..a.table.len())
        .map(|row| {
            let Some(rows) = a_keys[row].as_ref().and_then(|k| b_index.get(k)) else {
                return Vec::new();
            };
            match window_seconds {
                None => rows.clone(),
                Some(w) => {
                    let Some(left) = last_stamp(a.table, row) else {
                        return Vec::new();
                    };
                    rows.iter()
                        .copied()
                        .filter(|&r| {
                            first_stamp(b.table, r).is_some_and(|t| t >= left && t - left <= w)
                        })
                        .collect()
                }
            }
        })
        .collect();
    let mut claimed = vec![0u32; b.table.len()];
    for c in &candidates {
        for &r in c {
            claimed[r] += 1;
        }
    }

    let key_name = |side: &Side<'_>| side.table.segments[side.key].name.clone();
    let finding = |side: &Side<'_>, row: usize, kind: FindingKind, message: String| Finding {
        kind,
        file: side.table.source(row).unwrap_or(side.input).to_string(),
        line: Some(side.table.lines[row]),
        column: Some(key_name(side)),
        consignment: Some(side.table.id(row).to_string()),
        value: side.table.segments[side.key].value(row).map(String::from),
        message,
    };
    let within = match window_seconds {
        Some(w) => format!(" within {} h of its last stamp", w as f64 / 3600.0),
        None => String::new(),
    };

    // The joint table: A's stages, then B's; the border pair; A's zone.
    let mut stages: Vec<String> = a
        .design
        .stages
        .iter()
        .map(|s| format!("{}.{s}", a.name))
        .collect();
    stages.extend(b.design.stages.iter().map(|s| format!("{}.{s}", b.name)));
    let (na, nb) = (a.design.stages.len(), b.design.stages.len());
    let mut table = StampTable::new(stages.clone(), &[BORDER_PAIR.to_string()]);
    let office = |side: &Side<'_>, row: usize| {
        side.table
            .segments
            .iter()
            .find(|c| c.name == "office")
            .and_then(|c| c.value(row))
            .unwrap_or(side.name)
            .to_string()
    };
    let mut pairs: HashMap<String, u32> = HashMap::new();
    let mut findings = Vec::new();
    let mut summary = LinkSummary {
        without_key_a: without_a,
        without_key_b: without_b,
        ..LinkSummary::default()
    };
    for (row, c) in candidates.iter().enumerate() {
        if a_keys[row].is_none() {
            continue;
        }
        match c.as_slice() {
            [] => {
                summary.unmatched_a += 1;
                findings.push(finding(
                    a,
                    row,
                    FindingKind::UnmatchedLink,
                    format!("no consignment of {} has this key{within}", b.name),
                ));
            }
            [r] if claimed[*r] == 1 => {
                summary.linked += 1;
                let r = *r;
                let mut stamps: Vec<i64> = a.table.stamps.iter().map(|s| s[row]).collect();
                stamps.extend(b.table.stamps.iter().map(|s| s[r]));
                let pair = format!("{} → {}", office(a, row), office(b, r));
                let next = pairs.len() as u32;
                let code = *pairs.entry(pair.clone()).or_insert(next);
                if code == next {
                    table.segments[0].values.push(pair);
                }
                let zone = match a.table.zone(row) {
                    Some(tz) => table.zone_code(tz),
                    None => NO_ZONE,
                };
                table.push(
                    &format!("{}+{}", a.table.id(row), b.table.id(r)),
                    a.table.lines[row],
                    &stamps,
                    zone,
                    &[code],
                );
            }
            many => {
                summary.ambiguous_a += 1;
                let partners: Vec<&str> = many.iter().map(|&r| b.table.id(r)).collect();
                findings.push(finding(
                    a,
                    row,
                    FindingKind::AmbiguousLink,
                    if many.len() > 1 {
                        format!(
                            "{} consignments of {} have this key{within}: {}",
                            many.len(),
                            b.name,
                            partners.join(", ")
                        )
                    } else {
                        format!(
                            "its partner {} of {} is also the partner of another consignment",
                            partners.join(", "),
                            b.name
                        )
                    },
                ));
            }
        }
    }
    for (r, &n) in claimed.iter().enumerate() {
        if b_keys[r].is_none() {
            continue;
        }
        if n == 0 {
            summary.unmatched_b += 1;
            findings.push(finding(
                b,
                r,
                FindingKind::UnmatchedLink,
                format!("no consignment of {} has this key{within}", a.name),
            ));
        } else if n > 1 {
            summary.ambiguous_b += 1;
            findings.push(finding(
                b,
                r,
                FindingKind::AmbiguousLink,
                format!("{n} consignments of {} could be its partner", a.name),
            ));
        }
    }
    let mut extra_intervals = vec![(0, na - 1), (na, na + nb - 1)];
    extra_intervals.retain(|(f, t)| f < t);
    let design = StudyDesign {
        stages,
        segments: vec![BORDER_PAIR.to_string()],
        extra_intervals,
        targets_hours: a.design.targets_hours.clone(),
        working_hours: None,
    };
    debug_assert!(table.segments[0].codes.iter().all(|&c| c != NO_VALUE));
    JointStudy {
        table,
        design,
        findings,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    /// A side with stages arrival -> exit (A) or arrival -> release (B), an office and a key.
    fn side(stages: [&str; 2], rows: &[(&str, &str, &str, i64, i64)]) -> (StampTable, StudyDesign) {
        let stages: Vec<String> = stages.iter().map(|s| s.to_string()).collect();
        let mut t = StampTable::new(stages.clone(), &["office".into(), "plate".into()]);
        for (line, (id, office, key, s0, s1)) in rows.iter().enumerate() {
            let mut codes = Vec::new();
            for (k, v) in [office, key].iter().enumerate() {
                let column = &mut t.segments[k];
                let code = match column.values.iter().position(|x| x == *v) {
                    Some(c) => c as u32,
                    None => {
                        column.values.push(v.to_string());
                        (column.values.len() - 1) as u32
                    }
                };
                codes.push(if v.is_empty() { NO_VALUE } else { code });
            }
            t.push(id, line as u64 + 2, &[*s0, *s1], NO_ZONE, &codes);
        }
        let design = StudyDesign {
            stages,
            segments: vec!["office".into(), "plate".into()],
            extra_intervals: vec![],
            targets_hours: vec![1.0, 4.0],
            working_hours: None,
        };
        (t, design)
    }

    #[test]
    fn plates_link_trip_by_trip_within_the_window_and_ambiguity_is_found() {
        let day = 24 * H;
        let (a, ad) = side(
            ["arrival", "exit"],
            &[
                // The same truck twice, days apart; another truck; one nobody saw at B.
                ("A1", "Dostyk", "01 KZ 123 ABC", 0, 2 * H),
                ("A2", "Dostyk", "01KZ123ABC", 5 * day, 5 * day + 3 * H),
                ("A3", "Dostyk", "777-XY", 10 * H, 11 * H),
                ("A4", "Dostyk", "NOONE", 0, H),
                // Two entries at B within its window: ambiguous.
                ("A5", "Dostyk", "TWICE", 0, H),
                ("A6", "Dostyk", "", 0, H),
            ],
        );
        let (b, bd) = side(
            ["arrival", "release"],
            &[
                ("B1", "Alashankou", "01kz123abc", 3 * H, 6 * H),
                (
                    "B2",
                    "Alashankou",
                    "01 KZ 123 ABC",
                    5 * day + 4 * H,
                    5 * day + 9 * H,
                ),
                ("B3", "Alashankou", "777 XY", 12 * H, 13 * H),
                ("B4", "Alashankou", "TWICE", 2 * H, 3 * H),
                ("B5", "Alashankou", "TWICE", 4 * H, 5 * H),
                ("B6", "Alashankou", "STRANGER", 0, H),
            ],
        );
        let kz = Side {
            name: "KZ",
            table: &a,
            design: &ad,
            key: 1,
            input: "kz.csv",
        };
        let cn = Side {
            name: "CN",
            table: &b,
            design: &bd,
            key: 1,
            input: "cn.csv",
        };
        let joint = link(&kz, &cn, Some(48 * H));
        let ids: Vec<&str> = (0..joint.table.len()).map(|r| joint.table.id(r)).collect();
        assert_eq!(ids, ["A1+B1", "A2+B2", "A3+B3"]);
        assert_eq!(
            joint.summary,
            LinkSummary {
                linked: 3,
                unmatched_a: 1,
                unmatched_b: 1,
                ambiguous_a: 1,
                ambiguous_b: 0,
                without_key_a: 1,
                without_key_b: 0,
            }
        );
        let kinds: Vec<(FindingKind, &str)> = joint
            .findings
            .iter()
            .map(|f| (f.kind, f.consignment.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            kinds,
            [
                (FindingKind::UnmatchedLink, "A4"),
                (FindingKind::AmbiguousLink, "A5"),
                (FindingKind::UnmatchedLink, "B6"),
            ]
        );
        assert_eq!(joint.findings[2].file, "cn.csv");
        assert_eq!(joint.findings[2].line, Some(7));
        // The timeline: KZ's stages then CN's; A1's exit to B1's arrival is one hour.
        assert_eq!(
            joint.design.stages,
            ["KZ.arrival", "KZ.exit", "CN.arrival", "CN.release"]
        );
        assert_eq!(joint.table.stamps[2][0] - joint.table.stamps[1][0], H);
        assert_eq!(
            joint.table.segments[0].value(0),
            Some("Dostyk → Alashankou")
        );
        assert_eq!(joint.design.extra_intervals, [(0, 1), (2, 3)]);

        // Without a window the truck's two trips are ambiguous on both sides.
        let exact = link(&kz, &cn, None);
        assert_eq!(exact.summary.linked, 1);
        assert_eq!(exact.summary.ambiguous_a, 3);
        assert_eq!(exact.summary.ambiguous_b, 2);
    }

    #[test]
    fn keys_compare_without_separators_or_case() {
        assert_eq!(normalize_key(" 01 kz-123.abc/ "), "01KZ123ABC");
        assert_eq!(normalize_key("26KZ0001-AB"), normalize_key("26kz0001ab"));
    }
}
