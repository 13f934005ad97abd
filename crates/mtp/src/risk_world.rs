//! Risk worlds: months of import declarations at an administration of the corridor, with planted
//! patterns of non-compliance whose truth only the answer key holds.
//!
//! The world is made of ordinary trade (importers with their usual headings and origins,
//! values around each heading's typical value per kg, duty and 12% VAT) and noise (small
//! errors found at random), into which the definition's patterns are planted. Each planted
//! pattern is a named truth: who, which heading, which origin, and which declarations. The
//! later months carry the same patterns; their results are in the key only, and profiles are
//! graded on them. The world depends only on the definition, the seed and the trainee's identity.

use chrono::{Datelike, Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};
use smartborder_model::{ControlOutcome, Declaration};

use crate::scenario::{PatternKind, RiskScenario};

/// VAT charged on imports, in percent of the customs value (with the duty).
pub const VAT_PERCENT: f64 = 12.0;

/// A heading of the world: HS 4-digit code, typical value per kg (USD), duty rate (%).
struct Heading {
    code: &'static str,
    value_per_kg: f64,
    duty: f64,
}

const HEADINGS: &[Heading] = &[
    Heading {
        code: "8471",
        value_per_kg: 60.0,
        duty: 0.0,
    },
    Heading {
        code: "8517",
        value_per_kg: 150.0,
        duty: 0.0,
    },
    Heading {
        code: "8528",
        value_per_kg: 25.0,
        duty: 10.0,
    },
    Heading {
        code: "8529",
        value_per_kg: 15.0,
        duty: 0.0,
    },
    Heading {
        code: "6403",
        value_per_kg: 30.0,
        duty: 15.0,
    },
    Heading {
        code: "6110",
        value_per_kg: 25.0,
        duty: 12.0,
    },
    Heading {
        code: "6307",
        value_per_kg: 6.0,
        duty: 5.0,
    },
    Heading {
        code: "8708",
        value_per_kg: 9.0,
        duty: 5.0,
    },
    Heading {
        code: "3004",
        value_per_kg: 80.0,
        duty: 0.0,
    },
    Heading {
        code: "0805",
        value_per_kg: 1.2,
        duty: 5.0,
    },
    Heading {
        code: "9403",
        value_per_kg: 4.0,
        duty: 10.0,
    },
    Heading {
        code: "7208",
        value_per_kg: 0.7,
        duty: 5.0,
    },
    Heading {
        code: "3923",
        value_per_kg: 3.0,
        duty: 6.5,
    },
    Heading {
        code: "8544",
        value_per_kg: 8.0,
        duty: 5.0,
    },
    Heading {
        code: "8418",
        value_per_kg: 5.0,
        duty: 10.0,
    },
];

/// Origins and their weights in ordinary trade.
const ORIGINS: &[(&str, u32)] = &[
    ("CN", 35),
    ("TR", 12),
    ("RU", 10),
    ("KR", 6),
    ("DE", 6),
    ("IN", 5),
    ("UZ", 5),
    ("KG", 3),
    ("IR", 4),
    ("AE", 4),
    ("US", 3),
    ("IT", 3),
    ("JP", 2),
    ("PL", 2),
];

/// Extra duty on goods of Chinese origin for the headings transhipment hides (anti-dumping).
const ANTI_DUMPING_PERCENT: f64 = 25.0;

fn heading(code: &str) -> &'static Heading {
    HEADINGS
        .iter()
        .find(|h| h.code == code)
        .unwrap_or(&HEADINGS[0])
}

/// A planted pattern: its truth, as the key keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Planted {
    pub kind: PatternKind,
    /// A short name, e.g. "undervaluation of 8517 from CN", and in Russian.
    pub name: String,
    pub name_ru: String,
    pub heading: Option<String>,
    /// For misclassification: the heading the goods really are.
    pub true_heading: Option<String>,
    pub origin: Option<String>,
    pub importers: Vec<String>,
    /// Declarations of the pattern in the history and in the later months.
    pub history_declarations: usize,
    pub later_declarations: usize,
    /// Whether the pattern is non-compliance (decoys are compliant).
    pub non_compliant: bool,
}

/// A generated world: every declaration with its true outcome, and what was planted.
pub struct World {
    /// The history, with the true outcome of every declaration; `inspected` says which results
    /// the trainee sees.
    pub history: Vec<Declaration>,
    pub inspected: Vec<bool>,
    /// The later months, with their true outcomes (hidden from the trainee).
    pub later: Vec<Declaration>,
    /// The pattern of each later declaration (index into `planted`), if any.
    pub later_pattern: Vec<Option<usize>>,
    pub planted: Vec<Planted>,
    /// A profile file that targets every planted pattern (the reference submission).
    pub reference_profile: String,
}

/// The seed of a trainee's personal variant (FNV-1a of the identity, mixed with the seed).
pub fn variant_seed(seed: u64, trainee: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in trainee.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    seed ^ h.rotate_left(17)
}

struct Trader {
    id: String,
    declarant: String,
    headings: Vec<&'static str>,
    origins: Vec<&'static str>,
}

struct Gen<'a> {
    def: &'a RiskScenario,
    rng: ChaCha8Rng,
    offices: Vec<String>,
    next_id: u64,
}

impl Gen<'_> {
    fn pick_origin(&mut self) -> &'static str {
        let total: u32 = ORIGINS.iter().map(|o| o.1).sum();
        let mut x = self.rng.random_range(0..total);
        for (o, w) in ORIGINS {
            if x < *w {
                return o;
            }
            x -= w;
        }
        "CN"
    }

    /// A declaration of `heading` worth `factor` times the typical value per kg.
    #[allow(clippy::too_many_arguments)]
    fn declaration(
        &mut self,
        date: NaiveDate,
        importer: &str,
        declarant: &str,
        seller: &str,
        hs4: &str,
        origin: &str,
        departure: &str,
        factor: f64,
    ) -> Declaration {
        self.next_id += 1;
        let id = format!("{}{:08}", self.def.country, self.next_id);
        let office = self.offices[self.rng.random_range(0..self.offices.len())].clone();
        let h = heading(hs4);
        let mass = LogNormal::new(2000.0_f64.ln(), 0.9)
            .map(|d| d.sample(&mut self.rng))
            .unwrap_or(2000.0)
            .round()
            .max(1.0);
        let spread = LogNormal::new(0.0, 0.2)
            .map(|d| d.sample(&mut self.rng))
            .unwrap_or(1.0);
        let value = (mass * h.value_per_kg * factor * spread).round().max(1.0);
        let suffix = ["10", "20", "90"][self.rng.random_range(0..3)];
        let mut d = Declaration::new(&id, date, &office, &format!("{hs4}{suffix}"));
        d.declarant = Some(declarant.to_string());
        d.importer = Some(importer.to_string());
        d.seller = Some(seller.to_string());
        d.origin = Some(origin.to_string());
        d.departure = Some(departure.to_string());
        d.mass_kg = Some(mass);
        d.quantity = Some((mass / 2.0).round().max(1.0));
        d.value = Some(value);
        d.tax_rate_percent = Some(h.duty);
        d.taxes = Some((value * (h.duty + VAT_PERCENT) / 100.0).round());
        d.outcome = Some(ControlOutcome {
            non_compliant: false,
            revenue: Some(0.0),
            propensity: None,
        });
        d
    }
}

fn non_compliant(d: &mut Declaration, revenue: f64) {
    d.outcome = Some(ControlOutcome {
        non_compliant: true,
        revenue: Some(revenue.round().max(1.0)),
        propensity: None,
    });
}

/// The month starting `months` after `start`.
fn month(start: NaiveDate, months: u32) -> NaiveDate {
    let m0 = start.month0() + months;
    NaiveDate::from_ymd_opt(start.year() + (m0 / 12) as i32, m0 % 12 + 1, 1).unwrap_or(start)
}

/// `n` importers numbered from `base` (a planted group).
fn importer_group(country: &str, base: u32, n: u32) -> Vec<String> {
    (base..base + n)
        .map(|k| format!("IMP-{country}-{k:04}"))
        .collect()
}

/// A list for the rule language: "a", "b".
fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the world of a definition for a seed and a trainee (`""`: the common world).
pub fn build(def: &RiskScenario, seed: u64, trainee: &str) -> World {
    let start = NaiveDate::parse_from_str(&format!("{}-01", def.start), "%Y-%m-%d")
        .unwrap_or(NaiveDate::MIN);
    let c = def.country.as_str();
    let mut g = Gen {
        def,
        rng: ChaCha8Rng::seed_from_u64(variant_seed(seed, trainee)),
        offices: (1..=3).map(|k| format!("{c}00010{k}")).collect(),
        next_id: 0,
    };
    // Ordinary traders: usual headings and origins, their own customs broker.
    let brokers: Vec<String> = (1..=30).map(|k| format!("BRK-{c}-{k:03}")).collect();
    let traders: Vec<Trader> = (1..=400)
        .map(|k| {
            let headings = (0..g.rng.random_range(1..=3))
                .map(|_| HEADINGS[g.rng.random_range(0..HEADINGS.len())].code)
                .collect();
            let origins = (0..g.rng.random_range(1..=3))
                .map(|_| g.pick_origin())
                .collect();
            Trader {
                id: format!("IMP-{c}-{k:04}"),
                declarant: brokers[g.rng.random_range(0..brokers.len())].clone(),
                headings,
                origins,
            }
        })
        .collect();
    let months = def.history_months + def.later_months;
    let later_from = month(start, def.history_months);
    let mut all: Vec<(Declaration, Option<usize>)> = Vec::new();
    let day_in = |g: &mut Gen, m: u32| {
        let first = month(start, m);
        let days = (month(start, m + 1) - first).num_days().max(1);
        first + Duration::days(g.rng.random_range(0..days))
    };
    // Ordinary trade with noise.
    for m in 0..months {
        for _ in 0..def.declarations_per_month {
            // A few importers trade much more than the rest.
            let k = ((g.rng.random::<f64>().powi(2)) * traders.len() as f64) as usize;
            let t = &traders[k.min(traders.len() - 1)];
            let hs4 = t.headings[g.rng.random_range(0..t.headings.len())];
            let origin = t.origins[g.rng.random_range(0..t.origins.len())];
            let departure = if g.rng.random::<f64>() < 0.2 {
                "AE"
            } else {
                origin
            };
            let seller = format!("SEL-{origin}-{:03}", g.rng.random_range(1..=200));
            let date = day_in(&mut g, m);
            let mut d = g.declaration(
                date,
                &t.id,
                &t.declarant,
                &seller,
                hs4,
                origin,
                departure,
                1.0,
            );
            if g.rng.random::<f64>() < def.noise_rate {
                let revenue = d.value.unwrap_or(0.0) * g.rng.random_range(0.01..0.06);
                non_compliant(&mut d, revenue);
            }
            all.push((d, None));
        }
    }
    // The planted patterns.
    let per_month = f64::from(def.declarations_per_month);
    let mut planted: Vec<Planted> = Vec::new();
    let mut reference = String::from(
        "# Reference profiles: one per planted pattern (the answer key's own solution).\n\n",
    );
    for kind in &def.patterns {
        let index = planted.len();
        let n = ((per_month * 0.006).round() as u32).max(3);
        match kind {
            PatternKind::Undervaluation => {
                let hs4 = ["8517", "8471", "6403", "3004"][g.rng.random_range(0..4)];
                let origin = ["CN", "TR"][g.rng.random_range(0..2)];
                let base = g.rng.random_range(500..900);
                let importers: Vec<String> = importer_group(c, base, 4);
                let broker = format!("BRK-{c}-{:03}", g.rng.random_range(31..60));
                let seller = format!("SEL-{origin}-{:03}", g.rng.random_range(201..300));
                for m in 0..months {
                    for _ in 0..n {
                        let imp = importers[g.rng.random_range(0..importers.len())].clone();
                        let date = day_in(&mut g, m);
                        let factor = g.rng.random_range(0.35..0.55);
                        let mut d = g
                            .declaration(date, &imp, &broker, &seller, hs4, origin, origin, factor);
                        let declared = d.value.unwrap_or(0.0);
                        let owed = declared / factor - declared;
                        non_compliant(&mut d, owed * (heading(hs4).duty + VAT_PERCENT) / 100.0);
                        all.push((d, Some(index)));
                    }
                }
                reference.push_str(&format!(
                    "profile \"UNDERVALUATION\" {{\n    description \"{hs4} from {origin} declared by the related importers of one broker\"\n    when hs_code starts_with \"{hs4}\" and origin = \"{origin}\" and importer in [{}]\n    then red\n}}\n\n",
                    quoted(&importers)
                ));
                planted.push(Planted {
                    kind: *kind,
                    name: format!("undervaluation of {hs4} from {origin}"),
                    name_ru: format!("занижение стоимости {hs4} из {origin}"),
                    heading: Some(hs4.into()),
                    true_heading: None,
                    origin: Some(origin.into()),
                    importers,
                    history_declarations: 0,
                    later_declarations: 0,
                    non_compliant: true,
                });
            }
            PatternKind::Misclassification => {
                let (true_hs, declared_hs) =
                    [("6110", "6307"), ("8528", "8544")][g.rng.random_range(0..2)];
                let base = g.rng.random_range(900..1200);
                let importers: Vec<String> = importer_group(c, base, 3);
                let truth = heading(true_hs);
                let declared = heading(declared_hs);
                let factor = truth.value_per_kg / declared.value_per_kg;
                for m in 0..months {
                    for _ in 0..n {
                        let imp = importers[g.rng.random_range(0..importers.len())].clone();
                        let origin = g.pick_origin();
                        let seller = format!("SEL-{origin}-{:03}", g.rng.random_range(1..=200));
                        let broker = format!("BRK-{c}-{:03}", g.rng.random_range(1..=30));
                        let date = day_in(&mut g, m);
                        let mut d = g.declaration(
                            date,
                            &imp,
                            &broker,
                            &seller,
                            declared_hs,
                            origin,
                            origin,
                            factor,
                        );
                        let revenue = d.value.unwrap_or(0.0) * (truth.duty - declared.duty) / 100.0;
                        non_compliant(&mut d, revenue);
                        all.push((d, Some(index)));
                    }
                }
                // Between the two headings' typical values (geometric mean).
                let limit = (declared.value_per_kg * truth.value_per_kg).sqrt().round();
                reference.push_str(&format!(
                    "profile \"MISCLASSIFICATION\" {{\n    description \"{declared_hs} declared at the value per kg of {true_hs}\"\n    when hs_code starts_with \"{declared_hs}\" and value_per_kg > {limit}\n    then red\n}}\n\n"
                ));
                planted.push(Planted {
                    kind: *kind,
                    name: format!("{true_hs} declared as {declared_hs}"),
                    name_ru: format!("{true_hs} заявлен как {declared_hs}"),
                    heading: Some(declared_hs.into()),
                    true_heading: Some(true_hs.into()),
                    origin: None,
                    importers,
                    history_declarations: 0,
                    later_declarations: 0,
                    non_compliant: true,
                });
            }
            PatternKind::Transhipment => {
                let hs4 = ["7208", "3923"][g.rng.random_range(0..2)];
                let declared_origin = ["KG", "UZ"][g.rng.random_range(0..2)];
                let base = g.rng.random_range(1200..1500);
                let importers: Vec<String> = importer_group(c, base, 3);
                for m in 0..months {
                    for _ in 0..n {
                        let imp = importers[g.rng.random_range(0..importers.len())].clone();
                        let seller =
                            format!("SEL-{declared_origin}-{:03}", g.rng.random_range(1..=50));
                        let broker = format!("BRK-{c}-{:03}", g.rng.random_range(1..=30));
                        let date = day_in(&mut g, m);
                        let mut d = g.declaration(
                            date,
                            &imp,
                            &broker,
                            &seller,
                            hs4,
                            declared_origin,
                            "CN",
                            1.0,
                        );
                        let revenue = d.value.unwrap_or(0.0) * ANTI_DUMPING_PERCENT / 100.0;
                        non_compliant(&mut d, revenue);
                        all.push((d, Some(index)));
                    }
                }
                reference.push_str(&format!(
                    "profile \"TRANSHIPMENT\" {{\n    description \"{hs4} of {declared_origin} origin dispatched from China\"\n    when hs_code starts_with \"{hs4}\" and origin = \"{declared_origin}\" and departure = \"CN\"\n    then red\n}}\n\n"
                ));
                planted.push(Planted {
                    kind: *kind,
                    name: format!("{hs4} from CN declared as of {declared_origin} origin"),
                    name_ru: format!(
                        "{hs4} из CN заявлен как товар происхождения {declared_origin}"
                    ),
                    heading: Some(hs4.into()),
                    true_heading: None,
                    origin: Some(declared_origin.into()),
                    importers,
                    history_declarations: 0,
                    later_declarations: 0,
                    non_compliant: true,
                });
            }
            PatternKind::NewTraderBurst => {
                // New importers appear in the last month of the history and keep declaring.
                let base = g.rng.random_range(1500..1700);
                let importers: Vec<String> = importer_group(c, base, 12);
                for m in (def.history_months - 1)..months {
                    for _ in 0..(n * 3) {
                        let imp = importers[g.rng.random_range(0..importers.len())].clone();
                        let hs4 = HEADINGS[g.rng.random_range(0..HEADINGS.len())].code;
                        let origin = g.pick_origin();
                        let seller = format!("SEL-{origin}-{:03}", g.rng.random_range(1..=200));
                        let broker = format!("BRK-{c}-{:03}", g.rng.random_range(1..=30));
                        let date = day_in(&mut g, m);
                        let fraud = g.rng.random::<f64>() < 0.6;
                        let factor = if fraud {
                            g.rng.random_range(0.4..0.7)
                        } else {
                            1.0
                        };
                        let mut d = g
                            .declaration(date, &imp, &broker, &seller, hs4, origin, origin, factor);
                        if fraud {
                            let declared = d.value.unwrap_or(0.0);
                            let owed = declared / factor - declared;
                            non_compliant(&mut d, owed * (heading(hs4).duty + VAT_PERCENT) / 100.0);
                        }
                        all.push((d, Some(index)));
                    }
                }
                reference.push_str(&format!(
                    "profile \"NEW-TRADERS\" {{\n    description \"importers first seen in the last month of the history\"\n    when importer in [{}]\n    then red\n}}\n\n",
                    quoted(&importers)
                ));
                planted.push(Planted {
                    kind: *kind,
                    name: "a burst of declarations from new importers".into(),
                    name_ru: "всплеск деклараций новых импортёров".into(),
                    heading: None,
                    true_heading: None,
                    origin: None,
                    importers,
                    history_declarations: 0,
                    later_declarations: 0,
                    non_compliant: true,
                });
            }
            PatternKind::Decoy => {
                // An established dealer in used computers: very low values per kg, compliant.
                let importer = format!("IMP-{c}-{:04}", g.rng.random_range(1800..1900));
                let broker = format!("BRK-{c}-{:03}", g.rng.random_range(1..=30));
                for m in 0..months {
                    for _ in 0..n {
                        let seller = format!("SEL-DE-{:03}", g.rng.random_range(1..=20));
                        let date = day_in(&mut g, m);
                        let d = g.declaration(
                            date, &importer, &broker, &seller, "8471", "DE", "DE", 0.15,
                        );
                        all.push((d, Some(index)));
                    }
                }
                planted.push(Planted {
                    kind: *kind,
                    name: "used computers from DE at a very low value per kg (compliant)".into(),
                    name_ru: "бывшие в употреблении компьютеры из DE по очень низкой цене за кг (без нарушений)".into(),
                    heading: Some("8471".into()),
                    true_heading: None,
                    origin: Some("DE".into()),
                    importers: vec![importer],
                    history_declarations: 0,
                    later_declarations: 0,
                    non_compliant: false,
                });
            }
        }
    }
    // In date order (ties in generation order), numbered in that order.
    all.sort_by_key(|(d, _)| d.date);
    let mut history = Vec::new();
    let mut inspected = Vec::new();
    let mut later = Vec::new();
    let mut later_pattern = Vec::new();
    for (k, (mut d, pattern)) in all.into_iter().enumerate() {
        d.id = format!("{c}{:08}", k + 1);
        if d.date < later_from {
            if let Some(p) = pattern {
                planted[p].history_declarations += 1;
            }
            inspected.push(g.rng.random::<f64>() < def.inspection_rate);
            history.push(d);
        } else {
            if let Some(p) = pattern {
                planted[p].later_declarations += 1;
            }
            later_pattern.push(pattern);
            later.push(d);
        }
    }
    World {
        history,
        inspected,
        later,
        later_pattern,
        planted,
        reference_profile: reference,
    }
}
