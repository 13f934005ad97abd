//! Features of a declaration for the risk model, after the WCO BACUDA / DATE work:
//!
//! - amounts and ratios: customs value, mass, quantity, taxes, tax rate, unit value,
//!   value per kg, tax ratio, taxes per unit, FOB/CIF ratio; month and weekday;
//! - for each category key (office, regime, declarant, importer, seller, origin, departure,
//!   HS2, HS4, HS6, each mapped attribute, and the crossed keys HS6 x origin, office x importer,
//!   office x HS6, office x origin): the smoothed illicit rate of the category in the training
//!   history, `illicit / (count + 10)`, and the number of training declarations of the category.
//!
//! **No label leakage.** A training declaration never sees its own label: its category rates
//! are computed out of fold (the training set is cut into [`FOLDS`] folds by a seeded draw on
//! the declaration identifier; a row's rate comes from the other folds), and its category count
//! leaves the row itself out. Declarations scored later get the rates and counts of the whole
//! training history.

use std::collections::HashMap;

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use smartborder_model::{Declaration, DeclarationField, DeclarationSet};

use crate::draw;

/// Folds of the out-of-fold category rates.
pub const FOLDS: usize = 5;
/// The smoothing count of the category rate `illicit / (count + SMOOTHING)`.
pub const SMOOTHING: f64 = 10.0;

/// The numeric fields used as features, in order.
const AMOUNTS: [DeclarationField; 11] = [
    DeclarationField::Value,
    DeclarationField::MassKg,
    DeclarationField::Quantity,
    DeclarationField::FobValue,
    DeclarationField::Taxes,
    DeclarationField::TaxRatePercent,
    DeclarationField::UnitValue,
    DeclarationField::ValuePerKg,
    DeclarationField::TaxRatio,
    DeclarationField::TaxesPerUnit,
    DeclarationField::FobCifRatio,
];

/// One part of a category key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPart {
    Field(String),
    /// The first n digits of the commodity code.
    Hs(usize),
    Attribute(String),
}

/// A category key and its training statistics: category -> (count, illicit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryKey {
    pub name: String,
    pub parts: Vec<KeyPart>,
    pub stats: HashMap<String, (u32, u32)>,
}

/// A key part resolved against a declaration set.
#[derive(Debug, Clone, Copy)]
enum BoundPart {
    Field(DeclarationField),
    Hs(usize),
    Attribute(Option<usize>),
}

impl BoundPart {
    /// Appends the part's value to `buf`; false when the declaration has no value.
    fn write(self, d: &Declaration, buf: &mut String) -> bool {
        let value = match self {
            BoundPart::Field(f) => f.text(d),
            BoundPart::Hs(n) => (d.hs_code.len() >= n).then(|| d.hs_prefix(n)),
            BoundPart::Attribute(i) => i.and_then(|i| d.attributes.get(i)?.as_deref()),
        };
        match value {
            Some(v) => {
                buf.push_str(v);
                true
            }
            None => false,
        }
    }
}

/// Turns declarations into feature vectors. Fitted on training history; saved with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEncoder {
    pub keys: Vec<CategoryKey>,
    /// The overall illicit rate of the training history.
    pub base_rate: f64,
}

/// Feature values, one column per feature.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureColumns {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

impl FeatureEncoder {
    /// The category keys a set can fill, before fitting.
    fn candidate_keys(attributes: &[String]) -> Vec<(String, Vec<KeyPart>)> {
        let field = |f: DeclarationField| KeyPart::Field(f.name().to_string());
        let mut keys: Vec<(String, Vec<KeyPart>)> = [
            DeclarationField::Office,
            DeclarationField::Regime,
            DeclarationField::Declarant,
            DeclarationField::Importer,
            DeclarationField::Seller,
            DeclarationField::Origin,
            DeclarationField::Departure,
        ]
        .into_iter()
        .map(|f| (f.name().to_string(), vec![field(f)]))
        .collect();
        for n in [2, 4, 6] {
            keys.push((format!("hs{n}"), vec![KeyPart::Hs(n)]));
        }
        for a in attributes {
            keys.push((a.clone(), vec![KeyPart::Attribute(a.clone())]));
        }
        let office = || field(DeclarationField::Office);
        let crossed = [
            (
                "hs6_x_origin",
                vec![KeyPart::Hs(6), field(DeclarationField::Origin)],
            ),
            (
                "office_x_importer",
                vec![office(), field(DeclarationField::Importer)],
            ),
            ("office_x_hs6", vec![office(), KeyPart::Hs(6)]),
            (
                "office_x_origin",
                vec![office(), field(DeclarationField::Origin)],
            ),
        ];
        keys.extend(crossed.into_iter().map(|(n, p)| (n.to_string(), p)));
        keys
    }

    /// The feature names, in the order of the vectors.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names: Vec<String> = AMOUNTS.iter().map(|f| f.name().to_string()).collect();
        names.push("month".into());
        names.push("weekday".into());
        for k in &self.keys {
            names.push(format!("risk:{}", k.name));
            names.push(format!("count:{}", k.name));
        }
        names
    }

    /// Fits the encoder on labelled history and returns the training features, computed without
    /// label leakage (see the module documentation). `labels[i]` is the outcome of
    /// `set.declarations[i]`.
    pub fn fit(
        set: &DeclarationSet,
        labels: &[bool],
        seed: u64,
        threads: usize,
    ) -> (FeatureEncoder, FeatureColumns) {
        assert_eq!(
            set.declarations.len(),
            labels.len(),
            "one label per declaration"
        );
        let n = labels.len();
        let fold: Vec<u8> = set
            .declarations
            .iter()
            .map(|d| fold_of(seed, d) as u8)
            .collect();
        let mut encoder = FeatureEncoder {
            keys: Vec::new(),
            base_rate: labels.iter().filter(|y| **y).count() as f64 / n.max(1) as f64,
        };
        // Keys are independent: fit them on `threads` threads, keeping the candidate order.
        let candidates = Self::candidate_keys(&set.attributes);
        let mut fitted: Vec<Option<FittedKey>> = vec![None; candidates.len()];
        let threads = threads.clamp(1, candidates.len().max(1));
        let per = candidates.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            for (keys, out) in candidates.chunks(per).zip(fitted.chunks_mut(per)) {
                let fold = &fold;
                s.spawn(move || {
                    for ((name, parts), slot) in keys.iter().zip(out) {
                        *slot = fit_key(name, parts, set, labels, fold);
                    }
                });
            }
        });
        let mut key_columns = Vec::new();
        for f in fitted.into_iter().flatten() {
            encoder.keys.push(f.key);
            key_columns.push((f.rate, f.count));
        }
        let mut columns: Vec<Vec<f64>> = AMOUNTS
            .iter()
            .map(|f| {
                set.declarations
                    .iter()
                    .map(|d| f.number(d).unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        columns.push(
            set.declarations
                .iter()
                .map(|d| f64::from(d.date.month()))
                .collect(),
        );
        columns.push(
            set.declarations
                .iter()
                .map(|d| f64::from(d.date.weekday().num_days_from_monday()))
                .collect(),
        );
        for (rate, count) in key_columns {
            columns.push(rate);
            columns.push(count);
        }
        let names = encoder.feature_names();
        (encoder, FeatureColumns { names, columns })
    }

    /// Prepares the encoder for declarations whose attributes are named `attributes`.
    pub fn bind(&self, attributes: &[String]) -> BoundEncoder<'_> {
        BoundEncoder {
            encoder: self,
            keys: self
                .keys
                .iter()
                .map(|k| bind(&k.parts, attributes))
                .collect(),
        }
    }

    /// Number of features.
    pub fn feature_count(&self) -> usize {
        AMOUNTS.len() + 2 + 2 * self.keys.len()
    }
}

/// The out-of-fold group of a training declaration.
fn fold_of(seed: u64, d: &Declaration) -> usize {
    ((draw::uniform(seed, "fold", &d.id) * FOLDS as f64) as usize).min(FOLDS - 1)
}

/// A fitted category key and its leakage-free training columns.
#[derive(Clone)]
struct FittedKey {
    key: CategoryKey,
    rate: Vec<f64>,
    count: Vec<f64>,
}

/// Fits one category key; `None` when no declaration has a value for it.
fn fit_key(
    name: &str,
    parts: &[KeyPart],
    set: &DeclarationSet,
    labels: &[bool],
    fold: &[u8],
) -> Option<FittedKey> {
    let bound = bind(parts, &set.attributes);
    let n = labels.len();
    // Intern the categories: one hash lookup per row, (count, illicit) per fold per category.
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut per_fold: Vec<[(u32, u32); FOLDS]> = Vec::new();
    let mut row_category: Vec<u32> = vec![u32::MAX; n];
    let mut buf = String::new();
    for (i, d) in set.declarations.iter().enumerate() {
        if !category(&bound, d, &mut buf) {
            continue;
        }
        let id = match ids.get(buf.as_str()) {
            Some(&id) => id,
            None => {
                let id = per_fold.len() as u32;
                ids.insert(buf.clone(), id);
                per_fold.push([(0, 0); FOLDS]);
                id
            }
        };
        row_category[i] = id;
        let cell = &mut per_fold[id as usize][fold[i] as usize];
        cell.0 += 1;
        cell.1 += u32::from(labels[i]);
    }
    if per_fold.is_empty() {
        return None;
    }
    let totals: Vec<(u32, u32)> = per_fold
        .iter()
        .map(|folds| folds.iter().fold((0, 0), |(c, y), f| (c + f.0, y + f.1)))
        .collect();
    let mut rate = vec![f64::NAN; n];
    let mut count = vec![f64::NAN; n];
    for (i, &id) in row_category.iter().enumerate() {
        if id == u32::MAX {
            continue;
        }
        let (all_count, all_illicit) = totals[id as usize];
        let own = per_fold[id as usize][fold[i] as usize];
        rate[i] = f64::from(all_illicit - own.1) / (f64::from(all_count - own.0) + SMOOTHING);
        count[i] = f64::from(all_count - 1);
    }
    let stats = ids
        .into_iter()
        .map(|(c, id)| (c, totals[id as usize]))
        .collect();
    Some(FittedKey {
        key: CategoryKey {
            name: name.to_string(),
            parts: parts.to_vec(),
            stats,
        },
        rate,
        count,
    })
}

fn bind(parts: &[KeyPart], attributes: &[String]) -> Vec<BoundPart> {
    parts
        .iter()
        .map(|p| match p {
            KeyPart::Field(name) => BoundPart::Field(
                DeclarationField::from_name(name).unwrap_or(DeclarationField::Office),
            ),
            KeyPart::Hs(n) => BoundPart::Hs(*n),
            KeyPart::Attribute(a) => BoundPart::Attribute(attributes.iter().position(|x| x == a)),
        })
        .collect()
}

/// Writes the category of a key into `buf` (parts joined by a unit separator); false when a
/// part is absent.
fn category(parts: &[BoundPart], d: &Declaration, buf: &mut String) -> bool {
    buf.clear();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            buf.push('\u{1f}');
        }
        if !p.write(d, buf) {
            return false;
        }
    }
    true
}

/// An encoder bound to the attribute order of one declaration set.
pub struct BoundEncoder<'e> {
    encoder: &'e FeatureEncoder,
    keys: Vec<Vec<BoundPart>>,
}

impl BoundEncoder<'_> {
    /// Writes the features of a declaration into `out` (length [`FeatureEncoder::feature_count`]).
    /// `buf` is scratch space, reused between calls.
    pub fn encode(&self, d: &Declaration, out: &mut [f64], buf: &mut String) {
        for (o, f) in out.iter_mut().zip(AMOUNTS) {
            *o = f.number(d).unwrap_or(f64::NAN);
        }
        let mut i = AMOUNTS.len();
        out[i] = f64::from(d.date.month());
        out[i + 1] = f64::from(d.date.weekday().num_days_from_monday());
        i += 2;
        for (key, parts) in self.encoder.keys.iter().zip(&self.keys) {
            let (rate, count) = if category(parts, d, buf) {
                let (c, y) = key.stats.get(buf.as_str()).copied().unwrap_or((0, 0));
                (f64::from(y) / (f64::from(c) + SMOOTHING), f64::from(c))
            } else {
                (f64::NAN, f64::NAN)
            };
            out[i] = rate;
            out[i + 1] = count;
            i += 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn set(n: usize) -> (DeclarationSet, Vec<bool>) {
        let declarations = (0..n)
            .map(|i| Declaration {
                id: format!("D{i}"),
                date: NaiveDate::from_ymd_opt(2020, 1 + (i % 12) as u32, 1).unwrap(),
                office: format!("O{}", i % 3),
                regime: None,
                declarant: Some(format!("B{}", i % 5)),
                importer: Some(format!("I{}", i % 40)),
                seller: None,
                hs_code: format!("{:06}", 10000 + (i % 17) * 1000),
                origin: Some(["CN", "TR", "DE"][i % 3].to_string()),
                departure: None,
                quantity: None,
                mass_kg: Some(10.0 + i as f64),
                value: Some(100.0 * (1 + i % 7) as f64),
                fob_value: None,
                taxes: None,
                tax_rate_percent: Some(8.0),
                attributes: vec![Some(format!("T{}", i % 2))],
                outcome: None,
            })
            .collect();
        let labels = (0..n).map(|i| i % 4 == 0 || i % 7 == 0).collect();
        (
            DeclarationSet {
                attributes: vec!["tax_type".into()],
                declarations,
            },
            labels,
        )
    }

    #[test]
    fn keys_without_values_are_dropped_and_names_match_columns() {
        let (s, y) = set(200);
        let (enc, cols) = FeatureEncoder::fit(&s, &y, 1, 2);
        let names: Vec<&str> = enc.keys.iter().map(|k| k.name.as_str()).collect();
        assert!(!names.contains(&"seller") && !names.contains(&"regime"));
        assert!(names.contains(&"tax_type") && names.contains(&"office_x_importer"));
        assert_eq!(cols.names.len(), cols.columns.len());
        assert_eq!(cols.names.len(), enc.feature_count());
        assert!(cols.columns.iter().all(|c| c.len() == 200));
    }

    /// Flipping the label of one training declaration changes no feature of that declaration.
    #[test]
    fn a_row_never_sees_its_own_label() {
        let (s, y) = set(300);
        let (_, base) = FeatureEncoder::fit(&s, &y, 1, 2);
        for row in [0, 1, 7, 150, 299] {
            let mut flipped = y.clone();
            flipped[row] = !flipped[row];
            let (_, other) = FeatureEncoder::fit(&s, &flipped, 1, 1);
            for (c, (a, b)) in base.columns.iter().zip(&other.columns).enumerate() {
                assert!(
                    a[row].total_cmp(&b[row]).is_eq(),
                    "feature {} of row {row} moved with its own label",
                    base.names[c]
                );
            }
        }
    }

    /// The out-of-fold rate equals an independent count over the other folds, and scoring uses
    /// the whole history.
    #[test]
    fn rates_match_an_independent_count() {
        let (s, y) = set(300);
        let (enc, cols) = FeatureEncoder::fit(&s, &y, 3, 2);
        let k = cols
            .names
            .iter()
            .position(|n| n == "risk:importer")
            .unwrap();
        let fold = |d: &Declaration| fold_of(3, d);
        for row in [0usize, 5, 77] {
            let d = &s.declarations[row];
            let (mut c, mut ill) = (0.0, 0.0);
            for (j, e) in s.declarations.iter().enumerate() {
                if e.importer == d.importer && fold(e) != fold(d) {
                    c += 1.0;
                    ill += f64::from(u8::from(y[j]));
                }
            }
            assert!((cols.columns[k][row] - ill / (c + SMOOTHING)).abs() < 1e-12);
        }
        // A new declaration of importer I0 gets the whole-history rate.
        let bound = enc.bind(&s.attributes);
        let mut out = vec![0.0; enc.feature_count()];
        bound.encode(&s.declarations[0], &mut out, &mut String::new());
        let (c, ill) = s
            .declarations
            .iter()
            .zip(&y)
            .filter(|(e, _)| e.importer.as_deref() == Some("I0"))
            .fold((0.0, 0.0), |(c, i), (_, y)| {
                (c + 1.0, i + f64::from(u8::from(*y)))
            });
        assert!((out[k] - ill / (c + SMOOTHING)).abs() < 1e-12);
        assert_eq!(out[k + 1], c);
        // Amount features agree between fit and encode.
        for (f, name) in cols.names.iter().enumerate().take(AMOUNTS.len() + 2) {
            assert!(out[f].total_cmp(&cols.columns[f][0]).is_eq(), "{name}");
        }
    }
}
