//! Features of a declaration for the risk model, after the WCO BACUDA / DATE work, computed
//! for *every* declaration: in an administration only the controlled declarations have a
//! result, and the others are context, not "compliant".
//!
//! - amounts and ratios: customs value, mass, quantity, taxes, tax rate, unit value,
//!   value per kg, tax ratio, taxes per unit, FOB/CIF ratio; month and weekday;
//! - for each category key (office, regime, declarant, importer, seller, origin, departure,
//!   HS2, HS4, HS6, each mapped attribute, and the crossed keys HS6 x origin, office x importer,
//!   office x HS6, office x origin, importer x HS6, importer x origin):
//!   - `risk:` the category's rate of non-compliance among its *inspected* declarations,
//!     weighted (by inverse propensity when the selection recorded one) and pulled towards the
//!     history's rate when it has few: `(illicit + m p0) / (inspected + m)`, m = [`SMOOTHING`];
//!   - `per_day:` how many declarations of the category came before, inspected or not, per day
//!     of history before it (a frequency, so that a declaration scored after a year of history
//!     reads like one trained on in the middle of it; a count would grow with the history);
//!   - for traders (declarant, importer, seller), `days:` the days since the trader was first
//!     seen; for commodities (HS6, HS6 x origin), `value_dev:` ln(value per kg) minus the mean
//!     ln(value per kg) of the category's earlier declarations.
//!
//! **No look-ahead.** The label-free features (`count:`, `days:`, `value_dev:`) of a declaration
//! use only declarations of earlier days: in training, the history is replayed day by day; in
//! scoring, a batch starts from the whole training history and is replayed day by day after it.
//!
//! **No label leakage.** A training declaration never sees its own label: its category rates
//! are computed out of fold (the inspected declarations are cut into [`FOLDS`] folds by a
//! seeded draw on the identifier; a row's rate, and the history's rate it is pulled towards,
//! come from the other folds). Declarations scored later get the rates of the whole training
//! history.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use smartborder_model::{Declaration, DeclarationField, DeclarationSet};

use crate::draw;
use crate::threads::on_threads;

/// Folds of the out-of-fold category rates.
pub const FOLDS: usize = 5;
/// The default weight m of the history's rate in a category's rate
/// `(illicit + m p0) / (inspected + m)` (training may choose another by validation).
pub const SMOOTHING: f64 = 3.0;
/// The fewest earlier declarations with a value per kg for a unit-value deviation.
pub const MIN_VALUE_HISTORY: u32 = 3;

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

/// What a key adds besides its rate and count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// Days since the category (a trader) was first seen.
    pub days_known: bool,
    /// The value per kg against the category's (a commodity's) earlier declarations.
    pub value_deviation: bool,
}

/// What was known of a category, without labels, after the declarations seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    pub count: u32,
    /// The day of its first declaration (days since 1970-01-01).
    pub first_day: i32,
    /// Sum and number of ln(value per kg) of its declarations that have one.
    pub log_vpk_sum: f64,
    pub log_vpk_n: u32,
}

/// What a fitted key knows of each category, by the category's name. Looked up for every
/// category of every batch scored, so hashed with a fast fixed hasher: the names come from the
/// training history, not from the request.
pub type CategoryMap<V> = HashMap<String, V, foldhash::fast::FixedState>;

/// The declarations features are computed over, borrowed: a whole [`DeclarationSet`], or a
/// part of one (training chooses its capacity on the earlier part of a history and validates on
/// the rest) without copying a declaration.
#[derive(Debug, Clone)]
pub struct DeclarationRows<'a> {
    /// Names of the declarations' attributes (the set's).
    pub attributes: &'a [String],
    pub declarations: Vec<&'a Declaration>,
}

impl<'a> From<&'a DeclarationSet> for DeclarationRows<'a> {
    fn from(set: &'a DeclarationSet) -> Self {
        DeclarationRows {
            attributes: &set.attributes,
            declarations: set.declarations.iter().collect(),
        }
    }
}

/// What a fitted key knows of one category of the training history.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CategoryStats {
    /// Its inspected declarations: (weight, weight of the non-compliant ones); `None` when
    /// none was inspected.
    pub inspected: Option<(f64, f64)>,
    /// Its declarations in the training history.
    pub seen: Option<Seen>,
}

/// A category key and its training statistics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "SavedCategoryKey")]
pub struct CategoryKey {
    pub name: String,
    pub parts: Vec<KeyPart>,
    pub context: Context,
    /// Each category of the training history, by name: scoring looks a category up once.
    pub categories: CategoryMap<CategoryStats>,
}

/// A [`CategoryKey`] as saved in a model: the inspected statistics and the declarations seen
/// in two maps (the layout of model version 2).
#[derive(Deserialize)]
struct SavedCategoryKey {
    name: String,
    parts: Vec<KeyPart>,
    context: Context,
    stats: CategoryMap<(f64, f64)>,
    seen: CategoryMap<Seen>,
}

impl From<SavedCategoryKey> for CategoryKey {
    fn from(saved: SavedCategoryKey) -> CategoryKey {
        let mut categories: CategoryMap<CategoryStats> = saved
            .seen
            .into_iter()
            .map(|(name, seen)| {
                let stats = CategoryStats {
                    inspected: None,
                    seen: Some(seen),
                };
                (name, stats)
            })
            .collect();
        for (name, inspected) in saved.stats {
            categories.entry(name).or_default().inspected = Some(inspected);
        }
        CategoryKey {
            name: saved.name,
            parts: saved.parts,
            context: saved.context,
            categories,
        }
    }
}

/// Written as [`SavedCategoryKey`] lays it out, the two maps read from the categories without
/// copying them.
impl Serialize for CategoryKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        /// One of the saved maps: the categories that have the part `of` picks.
        struct Saved<'a, T> {
            categories: &'a CategoryMap<CategoryStats>,
            of: fn(&CategoryStats) -> Option<T>,
        }
        impl<T: Serialize> Serialize for Saved<'_, T> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(
                    self.categories
                        .iter()
                        .filter_map(|(name, c)| (self.of)(c).map(|v| (name, v))),
                )
            }
        }
        let categories = &self.categories;
        let mut key = serializer.serialize_struct("CategoryKey", 5)?;
        key.serialize_field("name", &self.name)?;
        key.serialize_field("parts", &self.parts)?;
        key.serialize_field("context", &self.context)?;
        let stats = Saved {
            categories,
            of: |c| c.inspected,
        };
        key.serialize_field("stats", &stats)?;
        let seen = Saved {
            categories,
            of: |c| c.seen,
        };
        key.serialize_field("seen", &seen)?;
        key.end()
    }
}

/// A key part resolved against a declaration set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoundPart {
    Field(DeclarationField),
    Hs(usize),
    Attribute(Option<usize>),
}

impl BoundPart {
    /// The part's value in a declaration; `None` when the declaration has none.
    fn value(self, d: &Declaration) -> Option<&str> {
        match self {
            BoundPart::Field(f) => f.text(d),
            BoundPart::Hs(n) => (d.hs_code.len() >= n).then(|| d.hs_prefix(n)),
            BoundPart::Attribute(i) => i.and_then(|i| d.attributes.get(i)?.as_deref()),
        }
    }
}

/// The category of every declaration of a set under a part or a key, interned: `of[i]`
/// indexes `names`, `u32::MAX` when the declaration has no value. Categories are numbered in
/// the order of their first declaration, so the numbering does not depend on hashing. A part's
/// names are borrowed from the set (a batch scored copies none), a crossed key's are built.
#[derive(Debug, Clone)]
struct Interned<'a> {
    of: Vec<u32>,
    names: Vec<Cow<'a, str>>,
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

impl<'a> Interned<'a> {
    fn part(part: BoundPart, set: &DeclarationRows<'a>) -> Interned<'a> {
        let mut ids: FastMap<&str, u32> = FastMap::default();
        let mut names = Vec::new();
        let of = set
            .declarations
            .iter()
            .map(|&d| match part.value(d) {
                None => u32::MAX,
                Some(v) => *ids.entry(v).or_insert_with(|| {
                    names.push(Cow::Borrowed(v));
                    (names.len() - 1) as u32
                }),
            })
            .collect();
        Interned { of, names }
    }

    /// The crossed categories of two interned parts (names joined by a unit separator).
    fn cross(&self, other: &Interned<'_>) -> Interned<'a> {
        let mut ids: FastMap<(u32, u32), u32> = FastMap::default();
        let mut pairs = Vec::new();
        let of = self
            .of
            .iter()
            .zip(&other.of)
            .map(|(&a, &b)| {
                if a == u32::MAX || b == u32::MAX {
                    return u32::MAX;
                }
                *ids.entry((a, b)).or_insert_with(|| {
                    pairs.push((a, b));
                    (pairs.len() - 1) as u32
                })
            })
            .collect();
        let names = pairs
            .into_iter()
            .map(|(a, b)| {
                let (a, b) = (&self.names[a as usize], &other.names[b as usize]);
                let mut name = String::with_capacity(a.len() + 1 + b.len());
                name.push_str(a);
                name.push('\u{1f}');
                name.push_str(b);
                Cow::Owned(name)
            })
            .collect();
        Interned { of, names }
    }
}

/// Each distinct part of a set of keys, interned once over a declaration set: keys that share
/// a part (importer, office x importer, importer x HS6 ...) read the declarations once, and
/// crossed keys pair small integers instead of building strings.
struct PartTable<'a> {
    set: &'a DeclarationRows<'a>,
    parts: Vec<BoundPart>,
    values: Vec<Interned<'a>>,
}

impl<'a> PartTable<'a> {
    fn new<'k>(
        keys: impl Iterator<Item = &'k [KeyPart]>,
        set: &'a DeclarationRows<'a>,
        threads: usize,
    ) -> PartTable<'a> {
        let mut parts = Vec::new();
        for key in keys {
            for p in bind(key, set.attributes) {
                if !parts.contains(&p) {
                    parts.push(p);
                }
            }
        }
        let values = on_threads(&parts, threads, |&p| Interned::part(p, set));
        PartTable { set, parts, values }
    }

    /// The categories of a key over the set (none for a key without parts).
    fn key(&self, parts: &[KeyPart]) -> Cow<'_, Interned<'a>> {
        let interned = |p: BoundPart| match self.parts.iter().position(|&q| q == p) {
            Some(i) => Cow::Borrowed(&self.values[i]),
            None => Cow::Owned(Interned::part(p, self.set)),
        };
        let mut bound = bind(parts, self.set.attributes).into_iter();
        let Some(first) = bound.next() else {
            return Cow::Owned(Interned {
                of: vec![u32::MAX; self.set.declarations.len()],
                names: Vec::new(),
            });
        };
        bound.fold(interned(first), |key, p| {
            Cow::Owned(key.cross(&interned(p)))
        })
    }
}

/// Turns declarations into feature vectors. Fitted on training history; saved with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEncoder {
    pub keys: Vec<CategoryKey>,
    /// The (weighted) rate of non-compliance of the inspected training history.
    pub base_rate: f64,
    /// The first day of the training history (days since 0001-01-01).
    #[serde(default)]
    pub first_day: i32,
    /// The weight m of the history's rate in a category's rate.
    #[serde(default = "default_smoothing")]
    pub smoothing: f64,
}

fn default_smoothing() -> f64 {
    SMOOTHING
}

/// Feature values, one column per feature.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureColumns {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

/// The labels of a training history: `labels[i]` is the result of declaration i (`None`: not
/// inspected), `weights[i]` the weight of an inspected one (1, or its inverse propensity).
pub struct Labels<'a> {
    pub labels: &'a [Option<bool>],
    pub weights: &'a [f64],
}

const TRADERS: [DeclarationField; 3] = [
    DeclarationField::Declarant,
    DeclarationField::Importer,
    DeclarationField::Seller,
];

impl FeatureEncoder {
    /// The category keys a set can fill, before fitting.
    fn candidate_keys(attributes: &[String]) -> Vec<(String, Vec<KeyPart>, Context)> {
        let field = |f: DeclarationField| KeyPart::Field(f.name().to_string());
        let trader = Context {
            days_known: true,
            value_deviation: false,
        };
        let commodity = Context {
            days_known: false,
            value_deviation: true,
        };
        let mut keys: Vec<(String, Vec<KeyPart>, Context)> = [
            DeclarationField::Office,
            DeclarationField::Regime,
            DeclarationField::Declarant,
            DeclarationField::Importer,
            DeclarationField::Seller,
            DeclarationField::Origin,
            DeclarationField::Departure,
        ]
        .into_iter()
        .map(|f| {
            let context = if TRADERS.contains(&f) {
                trader
            } else {
                Context::default()
            };
            (f.name().to_string(), vec![field(f)], context)
        })
        .collect();
        for n in [2, 4, 6] {
            let context = if n == 6 {
                commodity
            } else {
                Context::default()
            };
            keys.push((format!("hs{n}"), vec![KeyPart::Hs(n)], context));
        }
        for a in attributes {
            keys.push((
                a.clone(),
                vec![KeyPart::Attribute(a.clone())],
                Context::default(),
            ));
        }
        let office = || field(DeclarationField::Office);
        let importer = || field(DeclarationField::Importer);
        let origin = || field(DeclarationField::Origin);
        let crossed = [
            ("hs6_x_origin", vec![KeyPart::Hs(6), origin()], commodity),
            (
                "office_x_importer",
                vec![office(), importer()],
                Context::default(),
            ),
            (
                "office_x_hs6",
                vec![office(), KeyPart::Hs(6)],
                Context::default(),
            ),
            (
                "office_x_origin",
                vec![office(), origin()],
                Context::default(),
            ),
            (
                "importer_x_hs6",
                vec![importer(), KeyPart::Hs(6)],
                Context::default(),
            ),
            (
                "importer_x_origin",
                vec![importer(), origin()],
                Context::default(),
            ),
        ];
        keys.extend(crossed.into_iter().map(|(n, p, c)| (n.to_string(), p, c)));
        keys
    }

    /// The feature names, in the order of the vectors.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names: Vec<String> = AMOUNTS.iter().map(|f| f.name().to_string()).collect();
        names.push("month".into());
        names.push("weekday".into());
        for k in &self.keys {
            names.push(format!("risk:{}", k.name));
            names.push(format!("per_day:{}", k.name));
            if k.context.days_known {
                names.push(format!("days:{}", k.name));
            }
            if k.context.value_deviation {
                names.push(format!("value_dev:{}", k.name));
            }
        }
        names
    }

    /// Number of features.
    pub fn feature_count(&self) -> usize {
        AMOUNTS.len()
            + 2
            + self
                .keys
                .iter()
                .map(|k| {
                    2 + usize::from(k.context.days_known) + usize::from(k.context.value_deviation)
                })
                .sum::<usize>()
    }

    /// Fits the encoder on a training history (every declaration, inspected or not) and
    /// returns the features of its inspected declarations, in the set's order, with their
    /// indices in the set. Label-free features replay the history day by day; rates are out of
    /// fold (see the module documentation).
    pub fn fit(
        set: &DeclarationSet,
        labels: &Labels<'_>,
        smoothing: f64,
        seed: u64,
        threads: usize,
    ) -> (FeatureEncoder, FeatureColumns, Vec<usize>) {
        let (encoder, mut columns, rows) =
            Self::fit_smoothings(&set.into(), labels, &[smoothing], seed, threads);
        (encoder, columns.swap_remove(0), rows)
    }

    /// [`FeatureEncoder::fit`] for several smoothings m at once: the encoder fitted with the
    /// first smoothing (with another, only its `smoothing` differs: the categories, the replay
    /// of the history and the counts per fold do not depend on m), and the features for each
    /// smoothing, of which only the rates differ. `smoothings` must not be empty.
    pub fn fit_smoothings(
        set: &DeclarationRows<'_>,
        labels: &Labels<'_>,
        smoothings: &[f64],
        seed: u64,
        threads: usize,
    ) -> (FeatureEncoder, Vec<FeatureColumns>, Vec<usize>) {
        assert!(!smoothings.is_empty(), "at least one smoothing");
        assert_eq!(
            set.declarations.len(),
            labels.labels.len(),
            "one label slot per declaration"
        );
        assert_eq!(
            labels.labels.len(),
            labels.weights.len(),
            "one weight per declaration"
        );
        let rows: Vec<usize> = (0..labels.labels.len())
            .filter(|&i| labels.labels[i].is_some())
            .collect();
        let fold: Vec<u8> = set
            .declarations
            .iter()
            .map(|&d| fold_of(seed, d) as u8)
            .collect();
        let (w, y) = rows.iter().fold((0.0, 0.0), |(w, y), &i| {
            let wi = labels.weights[i];
            (
                w + wi,
                y + wi * f64::from(u8::from(labels.labels[i] == Some(true))),
            )
        });
        let base_rate = if w > 0.0 { y / w } else { 0.0 };
        // The history's rate without each fold, for that fold's rows.
        let mut fold_totals = [(0.0, 0.0); FOLDS];
        for &i in &rows {
            let wi = labels.weights[i];
            let cell = &mut fold_totals[fold[i] as usize];
            cell.0 += wi;
            cell.1 += wi * f64::from(u8::from(labels.labels[i] == Some(true)));
        }
        let fold_base: [f64; FOLDS] = std::array::from_fn(|f| {
            let (wf, yf) = fold_totals[f];
            if w - wf > 0.0 {
                (y - yf) / (w - wf)
            } else {
                base_rate
            }
        });
        let (days, order) = date_order(set);
        let first_day = order.first().map_or(0, |&i| days[i]);
        let candidates = Self::candidate_keys(set.attributes);
        let job = Job {
            set,
            days: &days,
            order: &order,
            rows: &rows,
            first_day,
            categories: PartTable::new(candidates.iter().map(|k| k.1.as_slice()), set, threads),
            log_value_per_kg: log_values_per_kg(set),
        };
        let fitted: Vec<Option<FittedKey>> =
            on_threads(&candidates, threads, |(name, parts, context)| {
                let folds = Folds {
                    fold: &fold,
                    base: &fold_base,
                };
                fit_key(name, parts, *context, &job, labels, &folds, smoothings)
            });
        let (keys, per_key): (Vec<CategoryKey>, Vec<_>) = fitted
            .into_iter()
            .flatten()
            .map(|f| (f.key, f.columns))
            .unzip();
        let encoder = FeatureEncoder {
            keys,
            base_rate,
            first_day,
            smoothing: smoothings[0],
        };
        let names = encoder.feature_names();
        let columns = per_smoothing(plain_columns(set, &rows), per_key, smoothings.len())
            .into_iter()
            .map(|columns| FeatureColumns {
                names: names.clone(),
                columns,
            })
            .collect();
        (encoder, columns, rows)
    }

    /// The features of every declaration of a set scored after training: rates of the whole
    /// training history; label-free features from the training history and then the set's
    /// own earlier days.
    pub fn columns(&self, set: &DeclarationSet, threads: usize) -> FeatureColumns {
        self.columns_smoothings(&set.into(), &[self.smoothing], threads)
            .swap_remove(0)
    }

    /// [`FeatureEncoder::columns`] as if the encoder had been fitted with each of `smoothings`
    /// (the rates change, nothing else): what validation compares. `smoothings` must not be
    /// empty.
    pub fn columns_smoothings(
        &self,
        set: &DeclarationRows<'_>,
        smoothings: &[f64],
        threads: usize,
    ) -> Vec<FeatureColumns> {
        assert!(!smoothings.is_empty(), "at least one smoothing");
        let (days, order) = date_order(set);
        let rows: Vec<usize> = (0..set.declarations.len()).collect();
        let job = Job {
            set,
            days: &days,
            order: &order,
            rows: &rows,
            first_day: self.first_day,
            categories: PartTable::new(self.keys.iter().map(|k| k.parts.as_slice()), set, threads),
            log_value_per_kg: log_values_per_kg(set),
        };
        let per_key: Vec<KeyColumns> = on_threads(&self.keys, threads, |key| {
            key_columns(key, &job, self.base_rate, smoothings)
        });
        let names = self.feature_names();
        per_smoothing(plain_columns(set, &rows), per_key, smoothings.len())
            .into_iter()
            .map(|columns| FeatureColumns {
                names: names.clone(),
                columns,
            })
            .collect()
    }
}

/// The columns for each of `n` smoothings: the plain columns, then each key's rate for that
/// smoothing and its label-free columns. The last smoothing takes the columns, the others copy.
fn per_smoothing(
    mut plain: Vec<Vec<f64>>,
    mut per_key: Vec<KeyColumns>,
    n: usize,
) -> Vec<Vec<Vec<f64>>> {
    fn own<T: Clone + Default>(value: &mut T, last: bool) -> T {
        if last {
            std::mem::take(value)
        } else {
            value.clone()
        }
    }
    (0..n)
        .map(|j| {
            let last = j + 1 == n;
            let mut columns = own(&mut plain, last);
            for key in &mut per_key {
                columns.push(own(&mut key.rates[j], last));
                columns.extend(own(&mut key.context, last));
            }
            columns
        })
        .collect()
}

/// The day number of each declaration of a set, and the declarations in date order (ties in
/// set order).
fn date_order(set: &DeclarationRows<'_>) -> (Vec<i32>, Vec<usize>) {
    let days: Vec<i32> = set.declarations.iter().map(|d| day_number(d)).collect();
    let mut order: Vec<usize> = (0..days.len()).collect();
    // The keys are distinct (the index breaks ties): unstable sorting gives the stable order.
    order.sort_unstable_by_key(|&i| (days[i], i));
    (days, order)
}

/// Amounts, month and weekday of the given rows.
fn plain_columns(set: &DeclarationRows<'_>, rows: &[usize]) -> Vec<Vec<f64>> {
    let mut columns: Vec<Vec<f64>> = AMOUNTS
        .iter()
        .map(|f| {
            rows.iter()
                .map(|&i| f.number(set.declarations[i]).unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    columns.push(
        rows.iter()
            .map(|&i| f64::from(set.declarations[i].date.month()))
            .collect(),
    );
    columns.push(
        rows.iter()
            .map(|&i| f64::from(set.declarations[i].date.weekday().num_days_from_monday()))
            .collect(),
    );
    columns
}

/// The out-of-fold group of a training declaration.
fn fold_of(seed: u64, d: &Declaration) -> usize {
    ((draw::uniform(seed, "fold", &d.id) * FOLDS as f64) as usize).min(FOLDS - 1)
}

/// What one key's columns are computed over: the set, its date order, and the rows whose
/// features are wanted (in set order).
struct Job<'a> {
    set: &'a DeclarationRows<'a>,
    /// The day number of each declaration (read day by day for every key: a copy beside the
    /// declarations, which are far larger than their date).
    days: &'a [i32],
    order: &'a [usize],
    rows: &'a [usize],
    /// The first day of the training history.
    first_day: i32,
    /// The parts of the keys, interned over the set.
    categories: PartTable<'a>,
    /// ln(value per kg) of each declaration of the set (NaN without one), computed once for
    /// the keys that compare it.
    log_value_per_kg: Vec<f64>,
}

fn day_number(d: &Declaration) -> i32 {
    d.date.num_days_from_ce()
}

fn log_values_per_kg(set: &DeclarationRows<'_>) -> Vec<f64> {
    set.declarations
        .iter()
        .map(|d| {
            d.value_per_kg()
                .filter(|v| *v > 0.0 && v.is_finite())
                .map_or(f64::NAN, f64::ln)
        })
        .collect()
}

/// Replays the set day by day from `start`: for each wanted row, the label-free features of its
/// category as known before its day. Returns the columns (declarations per day of history,
/// then days and value deviation as the key's context asks) and the state after the whole set.
fn replay(
    context: Context,
    job: &Job<'_>,
    category_of: &[u32],
    start: &dyn Fn(u32) -> Seen,
    categories: usize,
) -> (Vec<Vec<f64>>, Vec<Seen>) {
    let n = job.set.declarations.len();
    let mut position = vec![usize::MAX; n];
    for (k, &i) in job.rows.iter().enumerate() {
        position[i] = k;
    }
    let width = 1 + usize::from(context.days_known) + usize::from(context.value_deviation);
    let mut columns = vec![vec![f64::NAN; job.rows.len()]; width];
    let mut state: Vec<Option<Seen>> = vec![None; categories];
    let mut k = 0;
    while k < job.order.len() {
        let day = job.days[job.order[k]];
        let end = k + job.order[k..]
            .iter()
            .take_while(|&&i| job.days[i] == day)
            .count();
        // Read the state before the day...
        for &i in &job.order[k..end] {
            let (c, p) = (category_of[i], position[i]);
            if c == u32::MAX || p == usize::MAX {
                continue;
            }
            let seen = *state[c as usize].get_or_insert_with(|| start(c));
            let mut col = 0;
            columns[col][p] = f64::from(seen.count) / f64::from((day - job.first_day).max(0) + 1);
            col += 1;
            if context.days_known {
                if seen.count > 0 {
                    columns[col][p] = f64::from(day - seen.first_day);
                }
                col += 1;
            }
            let v = job.log_value_per_kg[i];
            if context.value_deviation && seen.log_vpk_n >= MIN_VALUE_HISTORY && !v.is_nan() {
                columns[col][p] = v - seen.log_vpk_sum / f64::from(seen.log_vpk_n);
            }
        }
        // ...then learn the day.
        for &i in &job.order[k..end] {
            let c = category_of[i];
            if c == u32::MAX {
                continue;
            }
            let seen = state[c as usize].get_or_insert_with(|| start(c));
            if seen.count == 0 {
                seen.first_day = day;
            }
            seen.count += 1;
            let v = job.log_value_per_kg[i];
            if !v.is_nan() {
                seen.log_vpk_sum += v;
                seen.log_vpk_n += 1;
            }
        }
        k = end;
    }
    let state = state
        .into_iter()
        .enumerate()
        .map(|(c, s)| s.unwrap_or_else(|| start(c as u32)))
        .collect();
    (columns, state)
}

/// The out-of-fold setting of a fit: each row's fold and the history's rate without each fold.
struct Folds<'a> {
    fold: &'a [u8],
    base: &'a [f64; FOLDS],
}

/// A key's columns: its rate for each smoothing, and its label-free columns.
struct KeyColumns {
    rates: Vec<Vec<f64>>,
    context: Vec<Vec<f64>>,
}

/// A key fitted on the training history, and its columns there.
struct FittedKey {
    key: CategoryKey,
    columns: KeyColumns,
}

/// Fits one key on the training history; `None` when no declaration has a value for it.
fn fit_key(
    name: &str,
    parts: &[KeyPart],
    context: Context,
    job: &Job<'_>,
    labels: &Labels<'_>,
    folds: &Folds<'_>,
    smoothings: &[f64],
) -> Option<FittedKey> {
    let (fold, fold_base) = (folds.fold, folds.base);
    let interned = job.categories.key(parts);
    let (category_of, names) = (&interned.of, &interned.names);
    if names.is_empty() {
        return None;
    }
    // (weight, weighted illicit) per fold per category, over the inspected declarations.
    let mut per_fold: Vec<[(f64, f64); FOLDS]> = vec![[(0.0, 0.0); FOLDS]; names.len()];
    for &i in job.rows {
        let c = category_of[i];
        if c == u32::MAX {
            continue;
        }
        let w = labels.weights[i];
        let cell = &mut per_fold[c as usize][fold[i] as usize];
        cell.0 += w;
        cell.1 += w * f64::from(u8::from(labels.labels[i] == Some(true)));
    }
    let totals: Vec<(f64, f64)> = per_fold
        .iter()
        .map(|folds| {
            folds
                .iter()
                .fold((0.0, 0.0), |(w, y), f| (w + f.0, y + f.1))
        })
        .collect();
    // Each row's (illicit, inspected, history's rate) out of its fold, then its rate for
    // each smoothing.
    let out_of_fold: Vec<Option<(f64, f64, f64)>> = job
        .rows
        .iter()
        .map(|&i| {
            let c = category_of[i];
            (c != u32::MAX).then(|| {
                let (w, y) = totals[c as usize];
                let own = per_fold[c as usize][fold[i] as usize];
                (y - own.1, w - own.0, fold_base[fold[i] as usize])
            })
        })
        .collect();
    let rates = smoothings
        .iter()
        .map(|&m| {
            out_of_fold
                .iter()
                .map(|r| r.map_or(f64::NAN, |(y, w, p0)| smoothed(y, w, p0, m)))
                .collect()
        })
        .collect();
    let (context_columns, state) =
        replay(context, job, category_of, &|_| Seen::default(), names.len());
    let categories = names
        .iter()
        .zip(totals)
        .zip(state)
        .map(|((c, t), seen)| {
            let stats = CategoryStats {
                inspected: (t.0 > 0.0).then_some(t),
                seen: Some(seen),
            };
            (c.to_string(), stats)
        })
        .collect();
    Some(FittedKey {
        key: CategoryKey {
            name: name.to_string(),
            parts: parts.to_vec(),
            context,
            categories,
        },
        columns: KeyColumns {
            rates,
            context: context_columns,
        },
    })
}

/// A category's rate: `(illicit + m p0) / (inspected + m)`.
fn smoothed(illicit: f64, inspected: f64, base_rate: f64, m: f64) -> f64 {
    (illicit + m * base_rate) / (inspected + m)
}

/// A fitted key's columns for a set scored after training: its rate column for each smoothing,
/// and its label-free columns.
fn key_columns(key: &CategoryKey, job: &Job<'_>, base_rate: f64, smoothings: &[f64]) -> KeyColumns {
    let interned = job.categories.key(&key.parts);
    let (category_of, names) = (&interned.of, &interned.names);
    // One lookup per category of the set, for its rate and its replay's start.
    let known: Vec<CategoryStats> = names
        .iter()
        .map(|c| key.categories.get(c.as_ref()).copied().unwrap_or_default())
        .collect();
    let rates = smoothings
        .iter()
        .map(|&m| {
            let rates: Vec<f64> = known
                .iter()
                .map(|c| {
                    let (w, y) = c.inspected.unwrap_or((0.0, 0.0));
                    smoothed(y, w, base_rate, m)
                })
                .collect();
            job.rows
                .iter()
                .map(|&i| match category_of[i] {
                    u32::MAX => f64::NAN,
                    c => rates[c as usize],
                })
                .collect()
        })
        .collect();
    let start = |c: u32| known[c as usize].seen.unwrap_or_default();
    let (context, _) = replay(key.context, job, category_of, &start, names.len());
    KeyColumns { rates, context }
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn set(n: usize) -> (DeclarationSet, Vec<bool>) {
        let declarations = (0..n)
            .map(|i| Declaration {
                id: format!("D{i}"),
                date: NaiveDate::from_ymd_opt(2020, 1 + (i % 12) as u32, 1 + (i % 5) as u32)
                    .unwrap(),
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

    fn all(y: &[bool]) -> (Vec<Option<bool>>, Vec<f64>) {
        every(y, 1)
    }

    /// Every k-th declaration inspected (with its outcome), the others context; weights 1.
    fn every(y: &[bool], k: usize) -> (Vec<Option<bool>>, Vec<f64>) {
        let labels = y
            .iter()
            .enumerate()
            .map(|(i, v)| (i % k == 0).then_some(*v))
            .collect();
        (labels, vec![1.0; y.len()])
    }

    fn fit(
        s: &DeclarationSet,
        labels: &[Option<bool>],
        weights: &[f64],
        seed: u64,
    ) -> (FeatureEncoder, FeatureColumns, Vec<usize>) {
        FeatureEncoder::fit(s, &Labels { labels, weights }, SMOOTHING, seed, 2)
    }

    fn column<'a>(cols: &'a FeatureColumns, name: &str) -> &'a [f64] {
        let k = cols
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name}"));
        &cols.columns[k]
    }

    #[test]
    fn several_smoothings_at_once_equal_one_fit_each() {
        let (s, y) = set(400);
        // Half inspected, so that rates, context and out-of-fold folds all matter.
        let (labels, weights) = every(&y, 2);
        let labels = Labels {
            labels: &labels,
            weights: &weights,
        };
        let smoothings = [1.0, 3.0, 10.0];
        let (fitted, fits, rows) =
            FeatureEncoder::fit_smoothings(&(&s).into(), &labels, &smoothings, 7, 2);
        let (scored, _) = set(90);
        let at_once = fitted.columns_smoothings(&(&scored).into(), &smoothings, 2);
        for (j, &m) in smoothings.iter().enumerate() {
            let (encoder, columns, one_rows) = FeatureEncoder::fit(&s, &labels, m, 7, 1);
            assert_eq!(rows, one_rows);
            let with_m = FeatureEncoder {
                smoothing: m,
                ..fitted.clone()
            };
            assert_eq!(with_m, encoder);
            assert_eq!(bits_of(&fits[j]), bits_of(&columns));
            assert_eq!(bits_of(&at_once[j]), bits_of(&encoder.columns(&scored, 1)));
        }
        // The rates differ between smoothings; nothing else does.
        assert_ne!(bits_of(&fits[0]), bits_of(&fits[2]));
    }

    /// Features of a part of a set, borrowed, are those of a set made of copies of that part
    /// (what the capacity search relies on).
    #[test]
    fn a_borrowed_part_has_the_features_of_its_copy() {
        let (s, y) = set(400);
        let (labels, weights) = every(&y, 2);
        let cut = NaiveDate::from_ymd_opt(2020, 9, 1).unwrap();
        let keep: Vec<usize> = (0..s.declarations.len())
            .filter(|&i| s.declarations[i].date < cut)
            .collect();
        let copy = DeclarationSet {
            attributes: s.attributes.clone(),
            declarations: keep.iter().map(|&i| s.declarations[i].clone()).collect(),
        };
        let borrowed = DeclarationRows {
            attributes: &s.attributes,
            declarations: keep.iter().map(|&i| &s.declarations[i]).collect(),
        };
        let part_labels: Vec<Option<bool>> = keep.iter().map(|&i| labels[i]).collect();
        let part_weights: Vec<f64> = keep.iter().map(|&i| weights[i]).collect();
        let labels = Labels {
            labels: &part_labels,
            weights: &part_weights,
        };
        let smoothings = [1.0, 3.0];
        let from_copy = FeatureEncoder::fit_smoothings(&(&copy).into(), &labels, &smoothings, 5, 2);
        let from_rows = FeatureEncoder::fit_smoothings(&borrowed, &labels, &smoothings, 5, 2);
        assert!(keep.len() < s.declarations.len() && !keep.is_empty());
        assert_eq!(from_copy.0, from_rows.0);
        assert_eq!(from_copy.2, from_rows.2);
        for (a, b) in from_copy.1.iter().zip(&from_rows.1) {
            assert_eq!(bits_of(a), bits_of(b));
        }
        let later = DeclarationRows {
            attributes: &s.attributes,
            declarations: s.declarations.iter().filter(|d| d.date >= cut).collect(),
        };
        let later_copy = DeclarationSet {
            attributes: s.attributes.clone(),
            declarations: later.declarations.iter().map(|&d| d.clone()).collect(),
        };
        let with_3 = FeatureEncoder {
            smoothing: 3.0,
            ..from_rows.0.clone()
        };
        assert_eq!(
            bits_of(&from_rows.0.columns_smoothings(&later, &smoothings, 2)[1]),
            bits_of(&with_3.columns(&later_copy, 1))
        );
    }

    /// The columns' bits (NaN is not equal to itself).
    fn bits_of(c: &FeatureColumns) -> Vec<Vec<u64>> {
        c.columns
            .iter()
            .map(|c| c.iter().map(|v| v.to_bits()).collect())
            .collect()
    }

    #[test]
    fn crossed_categories_are_the_joined_values_numbered_by_first_declaration() {
        let (mut s, _) = set(60);
        s.declarations[5].importer = None;
        s.declarations[6].origin = None;
        let keys = [
            vec![
                KeyPart::Field("importer".into()),
                KeyPart::Hs(6),
                KeyPart::Field("origin".into()),
            ],
            vec![KeyPart::Attribute("tax_type".into())],
            vec![],
        ];
        let rows = DeclarationRows::from(&s);
        let table = PartTable::new(keys[..2].iter().map(Vec::as_slice), &rows, 2);
        // Computed here by joining the values as text, the way a reader of the model file sees
        // the categories.
        let d = &s.declarations;
        let joined: Vec<Option<String>> = d
            .iter()
            .map(|d| {
                Some(format!(
                    "{}\u{1f}{}\u{1f}{}",
                    d.importer.as_deref()?,
                    d.hs_prefix(6),
                    d.origin.as_deref()?
                ))
            })
            .collect();
        let mut names: Vec<String> = Vec::new();
        let of: Vec<u32> = joined
            .iter()
            .map(|j| match j {
                None => u32::MAX,
                Some(j) => match names.iter().position(|n| n == j) {
                    Some(i) => i as u32,
                    None => {
                        names.push(j.clone());
                        (names.len() - 1) as u32
                    }
                },
            })
            .collect();
        let crossed = table.key(&keys[0]);
        assert_eq!(crossed.of, of);
        assert_eq!(crossed.names, names);
        assert_eq!(crossed.of[5], u32::MAX);
        assert_eq!(crossed.of[6], u32::MAX);
        assert_eq!(table.key(&keys[1]).names, ["T0", "T1"]);
        // A part outside the table is read on demand; a key without parts has no categories.
        assert_eq!(table.key(&[KeyPart::Hs(2)]).names, ["01", "02"]);
        assert!(table.key(&keys[2]).of.iter().all(|&c| c == u32::MAX));
    }

    /// A key is saved as model version 2 lays it out (inspected statistics and declarations
    /// seen in two maps) and read back into one map, a category in only one of them included.
    #[test]
    fn a_key_keeps_the_saved_layout_of_its_statistics() {
        let saved = serde_json::json!({
            "name": "importer",
            "parts": [{"field": "importer"}],
            "context": {"days_known": true, "value_deviation": false},
            "stats": {"A": [4.0, 1.0], "B": [2.0, 0.0]},
            "seen": {"A": {"count": 9, "first_day": 737791, "log_vpk_sum": 0.0, "log_vpk_n": 0},
                     "C": {"count": 1, "first_day": 737800, "log_vpk_sum": 2.5, "log_vpk_n": 1}}
        });
        let key: CategoryKey = serde_json::from_value(saved.clone()).unwrap();
        assert_eq!(key.categories.len(), 3);
        assert_eq!(key.categories["A"].inspected, Some((4.0, 1.0)));
        assert_eq!(key.categories["A"].seen.map(|s| s.count), Some(9));
        assert_eq!(key.categories["B"].seen, None);
        assert_eq!(key.categories["C"].inspected, None);
        assert_eq!(serde_json::to_value(&key).unwrap(), saved);
    }

    #[test]
    fn keys_without_values_are_dropped_and_names_match_columns() {
        let (s, y) = set(200);
        let (l, w) = all(&y);
        let (enc, cols, rows) = fit(&s, &l, &w, 1);
        let names: Vec<&str> = enc.keys.iter().map(|k| k.name.as_str()).collect();
        assert!(!names.contains(&"seller") && !names.contains(&"regime"));
        assert!(names.contains(&"tax_type") && names.contains(&"office_x_importer"));
        assert_eq!(cols.names.len(), cols.columns.len());
        assert_eq!(cols.names.len(), enc.feature_count());
        assert!(cols.columns.iter().all(|c| c.len() == 200));
        assert_eq!(rows, (0..200).collect::<Vec<_>>());
        let scored = enc.columns(&s, 2);
        assert_eq!(scored.names, cols.names);
        assert!(cols.names.contains(&"days:importer".to_string()));
        assert!(cols.names.contains(&"value_dev:hs6_x_origin".to_string()));
    }

    /// Flipping the label of one training declaration changes no feature of that declaration.
    #[test]
    fn a_row_never_sees_its_own_label() {
        let (s, y) = set(300);
        let (l, w) = all(&y);
        let (_, base, _) = fit(&s, &l, &w, 1);
        for row in [0, 1, 7, 150, 299] {
            let mut flipped = l.clone();
            flipped[row] = flipped[row].map(|v| !v);
            let (_, other, _) = FeatureEncoder::fit(
                &s,
                &Labels {
                    labels: &flipped,
                    weights: &w,
                },
                SMOOTHING,
                1,
                1,
            );
            for (c, (a, b)) in base.columns.iter().zip(&other.columns).enumerate() {
                assert!(
                    a[row].total_cmp(&b[row]).is_eq(),
                    "feature {} of row {row} moved with its own label",
                    base.names[c]
                );
            }
        }
    }

    /// The out-of-fold rate equals an independent count over the other folds (pulled to the
    /// history's rate), and scoring uses the whole history.
    #[test]
    fn rates_match_an_independent_count() {
        let (s, y) = set(300);
        let (l, w) = all(&y);
        let (enc, cols, _) = fit(&s, &l, &w, 3);
        let p0 = y.iter().filter(|v| **v).count() as f64 / y.len() as f64;
        assert!((enc.base_rate - p0).abs() < 1e-12);
        let rate = column(&cols, "risk:importer");
        let fold = |d: &Declaration| fold_of(3, d);
        for row in [0usize, 5, 77] {
            let d = &s.declarations[row];
            let (mut c, mut ill, mut n, mut all_ill) = (0.0, 0.0, 0.0, 0.0);
            for (j, e) in s.declarations.iter().enumerate() {
                if fold(e) == fold(d) {
                    continue;
                }
                n += 1.0;
                all_ill += f64::from(u8::from(y[j]));
                if e.importer == d.importer {
                    c += 1.0;
                    ill += f64::from(u8::from(y[j]));
                }
            }
            let p0_other = all_ill / n;
            assert!((rate[row] - (ill + SMOOTHING * p0_other) / (c + SMOOTHING)).abs() < 1e-12);
        }
        // A new declaration of importer I0 gets the whole-history rate, and the count of the
        // whole history.
        let one = DeclarationSet {
            attributes: s.attributes.clone(),
            declarations: vec![Declaration {
                id: "NEW".into(),
                date: NaiveDate::from_ymd_opt(2021, 1, 4).unwrap(),
                ..s.declarations[0].clone()
            }],
        };
        let scored = enc.columns(&one, 1);
        let (c, ill) = s
            .declarations
            .iter()
            .zip(&y)
            .filter(|(e, _)| e.importer.as_deref() == Some("I0"))
            .fold((0.0, 0.0), |(c, i), (_, y)| {
                (c + 1.0, i + f64::from(u8::from(*y)))
            });
        assert!(
            (column(&scored, "risk:importer")[0] - (ill + SMOOTHING * p0) / (c + SMOOTHING)).abs()
                < 1e-12
        );
        // Declarations per day of history: the whole training history, until the day before.
        let days = (one.declarations[0].date - s.declarations.iter().map(|d| d.date).min().unwrap())
            .num_days() as f64
            + 1.0;
        assert!((column(&scored, "per_day:importer")[0] - c / days).abs() < 1e-12);
        // Amount features agree between fit and scoring (the new declaration has another date).
        for (f, name) in cols.names.iter().enumerate().take(AMOUNTS.len()) {
            assert!(
                scored.columns[f][0].total_cmp(&cols.columns[f][0]).is_eq(),
                "{name}"
            );
        }
    }

    /// The label-free features of a declaration use only declarations of earlier days,
    /// inspected or not: an independent computation agrees, and changing every later
    /// declaration changes none of them.
    #[test]
    fn label_free_features_use_only_earlier_days() {
        let (s, y) = set(400);
        // A third of the history is inspected; the rest is context.
        let (labels, w) = every(&y, 3);
        let (_, cols, rows) = fit(&s, &labels, &w, 1);
        assert_eq!(rows.len(), 134);
        let per_day = column(&cols, "per_day:importer");
        let start = s.declarations.iter().map(|d| d.date).min().unwrap();
        let days_known = column(&cols, "days:importer");
        let dev = column(&cols, "value_dev:hs6_x_origin");
        for (k, &i) in rows.iter().enumerate() {
            let d = &s.declarations[i];
            let earlier: Vec<&Declaration> = s
                .declarations
                .iter()
                .filter(|e| e.date < d.date && e.importer == d.importer)
                .collect();
            let days = (d.date - start).num_days() as f64 + 1.0;
            assert!(
                (per_day[k] - earlier.len() as f64 / days).abs() < 1e-12,
                "row {i}"
            );
            match earlier.iter().map(|e| e.date).min() {
                Some(first) => assert_eq!(days_known[k], (d.date - first).num_days() as f64),
                None => assert!(days_known[k].is_nan()),
            }
            let same: Vec<f64> = s
                .declarations
                .iter()
                .filter(|e| e.date < d.date && e.hs_code == d.hs_code && e.origin == d.origin)
                .map(|e| (e.value.unwrap() / e.mass_kg.unwrap()).ln())
                .collect();
            if same.len() >= MIN_VALUE_HISTORY as usize {
                let mean = same.iter().sum::<f64>() / same.len() as f64;
                let own = (d.value.unwrap() / d.mass_kg.unwrap()).ln();
                assert!((dev[k] - (own - mean)).abs() < 1e-9, "row {i}");
            } else {
                assert!(dev[k].is_nan());
            }
        }
        // Every declaration after 2020-06-30 changed: no feature of an earlier one moves.
        let cut = NaiveDate::from_ymd_opt(2020, 6, 30).unwrap();
        let mut later = s.clone();
        for d in later.declarations.iter_mut().filter(|d| d.date > cut) {
            d.importer = Some("OTHER".into());
            d.value = d.value.map(|v| v * 9.0);
        }
        let (_, other, _) = fit(&later, &labels, &w, 1);
        for (k, &i) in rows.iter().enumerate() {
            if s.declarations[i].date > cut {
                continue;
            }
            for name in [
                "per_day:importer",
                "days:importer",
                "value_dev:hs6_x_origin",
                "per_day:hs6",
            ] {
                let (a, b) = (column(&cols, name)[k], column(&other, name)[k]);
                assert!(
                    a.total_cmp(&b).is_eq(),
                    "{name} of row {i} saw a later declaration"
                );
            }
        }
    }

    /// A biased selection: the non-compliant are inspected eight times as often as the
    /// compliant. The naive rate of the inspected is far off the truth; weighted by inverse
    /// propensity it is not.
    #[test]
    fn inverse_propensity_corrects_a_biased_selection() {
        let n = 20_000;
        let (mut s, _) = set(n);
        for d in &mut s.declarations {
            d.importer = Some("A".into());
        }
        let truth: Vec<bool> = (0..n)
            .map(|i| draw::uniform(7, "truth", &format!("D{i}")) < 0.1)
            .collect();
        let propensity: Vec<f64> = truth.iter().map(|t| if *t { 0.8 } else { 0.1 }).collect();
        let inspected: Vec<bool> = (0..n)
            .map(|i| draw::uniform(7, "inspect", &format!("D{i}")) < propensity[i])
            .collect();
        let labels: Vec<Option<bool>> = (0..n).map(|i| inspected[i].then_some(truth[i])).collect();
        let rate = |weights: &[f64]| {
            let (enc, _, _) = fit(&s, &labels, weights, 1);
            let key = enc.keys.iter().find(|k| k.name == "importer").unwrap();
            let (w, y) = key.categories["A"].inspected.unwrap();
            (enc.base_rate, y / w)
        };
        let true_rate = truth.iter().filter(|t| **t).count() as f64 / n as f64;
        let (naive_base, naive) = rate(&vec![1.0; n]);
        let ipw: Vec<f64> = propensity.iter().map(|p| 1.0 / p).collect();
        let (ipw_base, corrected) = rate(&ipw);
        assert!(
            (naive - true_rate).abs() > 0.3,
            "naive {naive}, truth {true_rate}"
        );
        assert!((naive_base - naive).abs() < 1e-12);
        assert!(
            (corrected - true_rate).abs() < 0.01,
            "corrected {corrected}, truth {true_rate}"
        );
        assert!((ipw_base - corrected).abs() < 1e-12);
    }
}
