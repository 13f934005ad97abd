//! Selectivity worlds: posts with an inspection capacity (inspections per day) and a stream of
//! declarations to route, each with the risk score the administration's model gives it. The
//! trainee writes a selectivity plan (the risk engine's own format: expected and random rates
//! of the red lane per office) and it is run on the later stream with the engine's own
//! selectivity (`smartborder_risk::selectivity::select`).
//!
//! Capacity is per office and day: of a day's red-lane declarations, the post inspects as many
//! as it can, highest score first; the rest are released uninspected (over capacity). Each
//! variant gives the posts different volumes, capacities and non-compliance rates, so the right
//! rate differs by post and by trainee: a single rate for every post overloads some and leaves
//! others idle.
//!
//! Grading measures what the inspections found above chance: with the post's full capacity
//! spent on declarations drawn at random as the zero, and the reference plan (each post's
//! expected rate at its capacity, with the minimum random rate) as the hundred, for
//! non-compliance found and revenue recovered, half each.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};
use serde::{Deserialize, Serialize};
use smartborder_model::{Declaration, Lane};
use smartborder_risk::rules::RuleSet;
use smartborder_risk::selectivity::{SelectivityPlan, select};

use crate::risk_world::variant_seed;
use crate::scenario::SelectivityScenario;

/// A post of the world, as the key keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub office: String,
    pub declarations_per_day: u32,
    /// Inspections the post can make per day (given to the trainee).
    pub capacity_per_day: u32,
    /// Share of its declarations that are non-compliant (the trainee estimates it).
    pub non_compliance_rate: f64,
}

/// A declaration of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    pub id: String,
    pub date: NaiveDate,
    pub office: String,
    /// The model's risk score, 0 to 1.
    pub score: f64,
    pub non_compliant: bool,
    /// Revenue an inspection recovers (0 when compliant).
    pub revenue: f64,
}

/// A generated world.
pub struct SelectivityWorld {
    pub posts: Vec<Post>,
    /// Past days; `inspected` says which results the trainee sees (drawn at random, at each
    /// post's capacity, so they estimate rates without bias).
    pub history: Vec<Routed>,
    pub inspected: Vec<bool>,
    /// The days the plan is graded on (scores only, for the trainee), in date order.
    pub later: Vec<Routed>,
    /// The reference plan (TOML).
    pub reference_plan: String,
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The log-odds offset that gives a mean rate close to `rate` for a standard normal latent with
/// slope `b` (probit approximation of the logistic-normal mean).
fn offset_for(rate: f64, b: f64) -> f64 {
    let scale = (1.0 + std::f64::consts::PI * b * b / 8.0).sqrt();
    (rate / (1.0 - rate)).ln() * scale
}

/// Builds the world of a definition for a seed and a trainee (`""`: the common world).
pub fn build(def: &SelectivityScenario, seed: u64, trainee: &str) -> SelectivityWorld {
    let mut rng = ChaCha8Rng::seed_from_u64(variant_seed(seed, trainee));
    let start = NaiveDate::parse_from_str(&def.start, "%Y-%m-%d").unwrap_or(NaiveDate::MIN);
    // Capacity shares spread from tight to loose, shuffled over the posts per variant.
    let n = def.offices.len();
    let mut shares: Vec<f64> = (0..n)
        .map(|k| 0.015 + 0.10 * k as f64 / (n.max(2) - 1) as f64)
        .collect();
    for k in (1..n).rev() {
        shares.swap(k, rng.random_range(0..=k));
    }
    let posts: Vec<Post> = def
        .offices
        .iter()
        .zip(&shares)
        .map(|(office, share)| {
            let per_day = rng.random_range(150..=900u32);
            Post {
                office: office.clone(),
                declarations_per_day: per_day,
                capacity_per_day: ((per_day as f64 * share).round() as u32).max(2),
                non_compliance_rate: (rng.random_range(30..=100) as f64) / 1000.0,
            }
        })
        .collect();
    let latent = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!("unit normal"));
    let noise = Normal::new(0.0, 0.8).unwrap_or_else(|_| unreachable!("positive deviation"));
    let revenue = LogNormal::new(800.0_f64.ln(), 1.0).unwrap_or_else(|_| unreachable!("valid"));
    let mut next = 0u64;
    let mut day = |date: NaiveDate, rng: &mut ChaCha8Rng, out: &mut Vec<Routed>| {
        for p in &posts {
            // Posts work every day; the volume varies from day to day.
            let volume =
                (p.declarations_per_day as f64 * rng.random_range(0.85..1.15)).round() as u32;
            let b = 1.6;
            let a = offset_for(p.non_compliance_rate, b);
            for _ in 0..volume {
                next += 1;
                let z: f64 = latent.sample(rng);
                let non_compliant = rng.random_bool(logistic(a + b * z).clamp(0.0, 1.0));
                let score = logistic(-2.5 + 1.2 * (z + noise.sample(rng)));
                out.push(Routed {
                    id: format!("{}{:08}", def.country, next),
                    date,
                    office: p.office.clone(),
                    score: (score * 1000.0).round() / 1000.0,
                    non_compliant,
                    revenue: if non_compliant {
                        revenue.sample(rng).round().max(10.0)
                    } else {
                        0.0
                    },
                });
            }
        }
    };
    let mut history = Vec::new();
    for k in 0..def.history_days {
        day(start + chrono::Days::new(k as u64), &mut rng, &mut history);
    }
    let mut later = Vec::new();
    for k in def.history_days..def.history_days + def.days {
        day(start + chrono::Days::new(k as u64), &mut rng, &mut later);
    }
    let inspected = history
        .iter()
        .map(|r| {
            let p = posts.iter().find(|p| p.office == r.office);
            let share = p.map_or(0.0, |p| {
                p.capacity_per_day as f64 / p.declarations_per_day as f64
            });
            rng.random_bool(share.clamp(0.0, 1.0))
        })
        .collect();
    let reference_plan = reference_plan(def, &posts);
    SelectivityWorld {
        posts,
        history,
        inspected,
        later,
        reference_plan,
    }
}

/// The plan that sets each post's red lane at its capacity, with the minimum random rate.
fn reference_plan(def: &SelectivityScenario, posts: &[Post]) -> String {
    let random = def.minimum_random_percent / 100.0;
    let mut s = format!(
        "# The reference plan: each post's red lane at its capacity, {}% of it at random.\nseed = 1\nexploration_share = 0.0\n",
        def.minimum_random_percent
    );
    for p in posts {
        let share = p.capacity_per_day as f64 / p.declarations_per_day as f64;
        s.push_str(&format!(
            "\n[offices.\"{}\"]\nexpected = {{ red = {:.4} }}\nrandom = {{ red = {:.4} }}\n",
            p.office,
            share,
            random.min(share)
        ));
    }
    s
}

/// What a plan did at one post over the graded days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostResult {
    pub office: String,
    /// Capacity over the graded days.
    pub capacity: usize,
    /// Declarations the plan put in the red lane.
    pub red: usize,
    /// Of them, inspected within the day's capacity.
    pub inspected: usize,
    /// Red-lane declarations released uninspected: the day's capacity was spent.
    pub over_capacity: usize,
    pub found: usize,
    pub revenue: f64,
    /// The plan's random rate of the red lane, in percent.
    pub random_percent: f64,
}

impl PostResult {
    /// Capacity used well: at least 85% of it spent, and at most 15% of the red lane over
    /// capacity (daily volumes vary, so a rate at capacity overflows on busy days).
    pub fn fits_capacity(&self) -> bool {
        self.inspected as f64 >= 0.85 * self.capacity as f64
            && self.over_capacity as f64 <= 0.15 * self.red.max(1) as f64
    }
}

/// Totals of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanResult {
    pub posts: Vec<PostResult>,
    pub found: usize,
    pub revenue: f64,
}

/// The grade of a selectivity plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectivityGrade {
    pub score: f64,
    pub max_score: f64,
    pub pass_mark: f64,
    pub passed: bool,
    pub minimum_random_percent: f64,
    pub trainee: PlanResult,
    pub reference: PlanResult,
    /// What the full capacity finds when spent at random (the zero of the scale).
    pub random_found: f64,
    pub random_revenue: f64,
}

fn declarations(later: &[Routed]) -> Vec<Declaration> {
    later
        .iter()
        .map(|r| Declaration::new(&r.id, r.date, &r.office, "000000"))
        .collect()
}

/// Runs a plan on the later stream within each post's daily capacity. Each day's declarations
/// are routed as one batch, as a post routes its day: the expected rate is met day by day.
fn run(plan: &SelectivityPlan, world: &SelectivityWorld, stream: &[Declaration]) -> PlanResult {
    let rules = RuleSet { profiles: vec![] };
    let mut decisions = Vec::with_capacity(stream.len());
    let mut from = 0;
    while from < stream.len() {
        let date = stream[from].date;
        let to = from + stream[from..].iter().take_while(|d| d.date == date).count();
        let scores: Vec<f64> = world.later[from..to].iter().map(|r| r.score).collect();
        decisions.extend(select(&stream[from..to], &rules, Some(&scores), plan).0);
        from = to;
    }
    let mut posts = Vec::new();
    for p in &world.posts {
        let mut red: Vec<usize> = (0..world.later.len())
            .filter(|&i| world.later[i].office == p.office && decisions[i].lane == Lane::Red)
            .collect();
        // Each day, highest score first.
        red.sort_by(|&a, &b| {
            let (x, y) = (&world.later[a], &world.later[b]);
            x.date
                .cmp(&y.date)
                .then(y.score.total_cmp(&x.score))
                .then(x.id.cmp(&y.id))
        });
        let days = world
            .later
            .iter()
            .map(|r| r.date)
            .collect::<std::collections::BTreeSet<_>>();
        let mut r = PostResult {
            office: p.office.clone(),
            capacity: days.len() * p.capacity_per_day as usize,
            red: red.len(),
            inspected: 0,
            over_capacity: 0,
            found: 0,
            revenue: 0.0,
            random_percent: plan.rates(&p.office).random.red * 100.0,
        };
        let mut k = 0;
        while k < red.len() {
            let date = world.later[red[k]].date;
            let mut used = 0;
            while k < red.len() && world.later[red[k]].date == date {
                let d = &world.later[red[k]];
                if used < p.capacity_per_day {
                    used += 1;
                    r.inspected += 1;
                    if d.non_compliant {
                        r.found += 1;
                        r.revenue += d.revenue;
                    }
                } else {
                    r.over_capacity += 1;
                }
                k += 1;
            }
        }
        posts.push(r);
    }
    PlanResult {
        found: posts.iter().map(|p| p.found).sum(),
        revenue: posts.iter().map(|p| p.revenue).sum(),
        posts,
    }
}

/// Grades a plan (TOML). `file` names it in errors; the error is the plan reader's.
pub fn grade(
    def: &SelectivityScenario,
    world: &SelectivityWorld,
    plan_text: &str,
) -> Result<SelectivityGrade, String> {
    let plan = SelectivityPlan::from_toml(plan_text, "plan.toml")?;
    let reference = SelectivityPlan::from_toml(&world.reference_plan, "reference")?;
    let stream = declarations(&world.later);
    let mine = run(&plan, world, &stream);
    let best = run(&reference, world, &stream);
    // Full capacity at random: capacity × the stream's share of non-compliance (and revenue).
    let (mut random_found, mut random_revenue) = (0.0, 0.0);
    for (p, r) in world.posts.iter().zip(&best.posts) {
        let at: Vec<&Routed> = world
            .later
            .iter()
            .filter(|x| x.office == p.office)
            .collect();
        let n = at.len().max(1) as f64;
        let spent = (r.capacity as f64).min(n);
        random_found += spent * at.iter().filter(|x| x.non_compliant).count() as f64 / n;
        random_revenue += spent * at.iter().map(|x| x.revenue).sum::<f64>() / n;
    }
    let lift = |mine: f64, best: f64, zero: f64| {
        if best <= zero {
            0.0
        } else {
            ((mine - zero) / (best - zero)).clamp(0.0, 1.0)
        }
    };
    let score = 50.0 * lift(mine.found as f64, best.found as f64, random_found)
        + 50.0 * lift(mine.revenue, best.revenue, random_revenue);
    let score = (score * 10.0).round() / 10.0;
    Ok(SelectivityGrade {
        score,
        max_score: 100.0,
        pass_mark: def.pass_mark,
        passed: score >= def.pass_mark,
        minimum_random_percent: def.minimum_random_percent,
        trainee: mine,
        reference: best,
        random_found,
        random_revenue,
    })
}
