//! Risk profiles (selectivity criteria) in a small readable language, in the spirit of ASYCUDA's
//! selectivity module.
//!
//! ```text
//! # Named lists: inline, or one value per line in a file beside the rule file.
//! list fruit_origins = ["US", "NZ", "CL"]
//! list watched_importers = file "importers.txt"
//!
//! profile "RP-0808-US" {
//!     description "Apples from the United States: phytosanitary and valuation risk"
//!     owner "Risk management unit"
//!     valid from 2020-01-01 to 2020-12-31
//!     offices "30", "40"              # absent: every office
//!     regime "11"                     # absent: every regime
//!     when hs_code starts_with "0808" and origin in fruit_origins
//!          and not (importer in watched_importers or value_per_kg between 0.5 and 2)
//!     then red 50%, yellow 50%
//! }
//!
//! value_control "VC-TEXTILES" {
//!     description "Unit value outside the band of its HS code and origin"
//!     measure value_per_kg
//!     bands file "bands.csv"          # hs_code,origin,low,high (origin empty: any origin)
//!     when hs_code starts_with "6"
//!     then red 100%
//! }
//! ```
//!
//! Conditions: `=`, `!=`, `<`, `<=`, `>`, `>=`, `between A and B` (inclusive), `in` / `not in`
//! a list, `starts_with` a text or a list of prefixes, `is missing` / `is not missing`; combined
//! with `not`, `and`, `or` (in that order of precedence) and parentheses. Actions: lanes with
//! percentages of the hits (`red 50%, yellow 50%`; a lane alone means 100%; the rest stays green),
//! `score N` (added to the declaration's rule score), `review` (hold for an officer's review).

mod lexer;
mod parser;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use smartborder_model::{Declaration, DeclarationField, Lane};

pub use parser::{MAX_CONDITION_DEPTH, RuleFiles, parse_rules, parse_rules_with};

use crate::value_bands::ValueBands;

/// A rule file that could not be read: where, and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A parsed, checked rule file.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub profiles: Vec<Profile>,
}

/// One risk profile: a selectivity criterion or a value-control rule.
#[derive(Debug, Clone)]
pub struct Profile {
    pub id: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// Offices where the profile applies; empty = every office.
    pub offices: Vec<String>,
    /// Regimes where the profile applies; empty = every regime.
    pub regimes: Vec<String>,
    /// The condition (`when`); `None` = every declaration in scope.
    pub condition: Option<Condition>,
    /// Value control: the measure and its bands.
    pub value_control: Option<ValueControl>,
    pub actions: Actions,
    /// Line of the `profile` keyword, for messages.
    pub line: usize,
}

/// What a hit does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actions {
    /// Lanes and the share of hits (0..=1) routed to each; the shares sum to at most 1.
    pub lanes: Vec<(Lane, f64)>,
    /// Added to the declaration's rule score.
    pub score: f64,
    /// Hold for an officer's review.
    pub review: bool,
}

/// A value-control rule: the measure (unit value, value per kg ...) must lie inside the band of
/// the declaration's commodity code and origin.
#[derive(Debug, Clone)]
pub struct ValueControl {
    pub measure: DeclarationField,
    pub bands: Arc<ValueBands>,
}

/// A declaration field or a mapped attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRef {
    Field(DeclarationField),
    /// An attribute of the mapping, by name and index in the declaration set.
    Attribute(String, usize),
}

impl FieldRef {
    fn text<'d>(&self, d: &'d Declaration) -> Option<&'d str> {
        match self {
            FieldRef::Field(f) => f.text(d),
            FieldRef::Attribute(_, i) => d.attributes.get(*i).and_then(|a| a.as_deref()),
        }
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::Field(field) => f.write_str(field.name()),
            FieldRef::Attribute(name, _) => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Comparison::Eq => a == b,
            Comparison::Ne => a != b,
            Comparison::Lt => a < b,
            Comparison::Le => a <= b,
            Comparison::Gt => a > b,
            Comparison::Ge => a >= b,
        }
    }
}

/// What a condition checks on one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Text(Comparison, String),
    InList(Arc<HashSet<String>>),
    StartsWith(Arc<Vec<String>>),
    Number(Comparison, f64),
    NumberBetween(f64, f64),
    Date(Comparison, NaiveDate),
    DateBetween(NaiveDate, NaiveDate),
    Missing,
}

/// A selectivity condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Test(FieldRef, Test),
}

impl Condition {
    /// Whether the declaration meets the condition. A comparison on an absent value is false
    /// (only `is missing` is true for it), so `not (value > 10)` holds when the value is absent.
    pub fn holds(&self, d: &Declaration) -> bool {
        match self {
            Condition::And(all) => all.iter().all(|c| c.holds(d)),
            Condition::Or(any) => any.iter().any(|c| c.holds(d)),
            Condition::Not(c) => !c.holds(d),
            Condition::Test(field, test) => match test {
                Test::Missing => match field {
                    FieldRef::Field(f) if f.kind() == smartborder_model::FieldKind::Number => {
                        f.number(d).is_none()
                    }
                    _ => field.text(d).is_none(),
                },
                Test::Text(op, v) => field.text(d).is_some_and(|t| op.holds(t, v.as_str())),
                Test::InList(set) => field.text(d).is_some_and(|t| set.contains(t)),
                Test::StartsWith(prefixes) => field
                    .text(d)
                    .is_some_and(|t| prefixes.iter().any(|p| t.starts_with(p.as_str()))),
                Test::Number(op, v) => number(field, d).is_some_and(|n| op.holds(n, *v)),
                Test::NumberBetween(lo, hi) => {
                    number(field, d).is_some_and(|n| *lo <= n && n <= *hi)
                }
                Test::Date(op, v) => op.holds(d.date, *v),
                Test::DateBetween(lo, hi) => *lo <= d.date && d.date <= *hi,
            },
        }
    }
}

fn number(field: &FieldRef, d: &Declaration) -> Option<f64> {
    match field {
        FieldRef::Field(f) => f.number(d),
        FieldRef::Attribute(..) => None,
    }
}

impl Profile {
    /// Whether the declaration is in the profile's scope: validity dates, offices, regimes.
    pub fn in_scope(&self, d: &Declaration) -> bool {
        self.valid_from.is_none_or(|from| d.date >= from)
            && self.valid_to.is_none_or(|to| d.date <= to)
            && (self.offices.is_empty() || self.offices.contains(&d.office))
            && (self.regimes.is_empty()
                || d.regime
                    .as_deref()
                    .is_some_and(|r| self.regimes.iter().any(|x| x == r)))
    }

    /// Whether the profile hits the declaration: in scope, condition met, and for value control,
    /// the measure outside its band (a declaration without the measure or without a band is not
    /// hit: there is nothing to compare).
    pub fn hits(&self, d: &Declaration) -> bool {
        if !self.in_scope(d) || !self.condition.as_ref().is_none_or(|c| c.holds(d)) {
            return false;
        }
        match &self.value_control {
            None => true,
            Some(vc) => match (
                vc.measure.number(d),
                vc.bands.band(&d.hs_code, d.origin.as_deref()),
            ) {
                (Some(m), Some((low, high))) => m < low || m > high,
                _ => false,
            },
        }
    }
}

impl RuleSet {
    /// Indices of the profiles that hit the declaration.
    pub fn hits<'a>(&'a self, d: &'a Declaration) -> impl Iterator<Item = usize> + 'a {
        self.profiles
            .iter()
            .enumerate()
            .filter(|(_, p)| p.hits(d))
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests;
