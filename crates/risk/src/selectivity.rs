//! Selectivity per office, as in ASYCUDA's selectivity module (MODSEL):
//!
//! 1. **Criteria.** Every risk profile that hits a declaration draws a lane from its split
//!    percentages (`red 50%, yellow 50%`); the most severe lane drawn wins
//!    (red > yellow > blue > green). Scores add up to the rule score; `review` holds it.
//! 2. **Random quotas.** For each lane with a minimum random rate r, `round(r × N)` of the
//!    office's would-be-green declarations are drawn at random into it.
//! 3. **Top-up.** For each lane in order red, yellow, blue, until `round(expected × N)`
//!    declarations of the office are in it: an exploration share of the shortfall is drawn at
//!    random from the would-be-green, the rest taken in order of the model score (the rule score
//!    without a model).
//!
//! All draws are seeded and depend only on the seed and the declaration identifier
//! ([`crate::draw`]), so a run is reproducible and does not depend on the order of the input.
//!
//! Every decision records its **propensity**: the probability that the declaration would be
//! controlled (any lane but green) under the plan, so that a model trained later on the control
//! results can correct for how they were chosen. It combines the steps as independent chances:
//! `1 - (1 - criteria)(1 - random)(1 - exploration)(1 - top_up)`, where criteria is
//! `1 - product of the green shares of the profiles that hit`, random and exploration are the
//! office's draws divided by the would-be-green declarations they were drawn from, and top-up
//! is 1 for a declaration taken by score and 0 otherwise (the order of the steps is left out:
//! an approximation, exact when one step decides).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use smartborder_model::{Declaration, Lane};

use crate::draw;
use crate::rules::RuleSet;

/// Lanes that selection fills, in order of precedence.
pub const SELECTION_LANES: [Lane; 3] = [Lane::Red, Lane::Yellow, Lane::Blue];

/// Rates per lane (shares of the office's declarations, 0..=1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneRates {
    #[serde(default)]
    pub red: f64,
    #[serde(default)]
    pub yellow: f64,
    #[serde(default)]
    pub blue: f64,
}

impl LaneRates {
    pub fn get(&self, lane: Lane) -> f64 {
        match lane {
            Lane::Red => self.red,
            Lane::Yellow => self.yellow,
            Lane::Blue => self.blue,
            Lane::Green => 0.0,
        }
    }

    fn check(&self, what: &str) -> Result<(), String> {
        for lane in SELECTION_LANES {
            let r = self.get(lane);
            if !(0.0..=1.0).contains(&r) {
                return Err(format!(
                    "{what}.{lane}: expected a share between 0 and 1, found {r}"
                ));
            }
        }
        let sum = self.red + self.yellow + self.blue;
        if sum > 1.0 + 1e-9 {
            return Err(format!(
                "{what}: the lane shares add up to {sum}, more than 1"
            ));
        }
        Ok(())
    }
}

/// The selectivity settings of an office.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeRates {
    /// Expected share of declarations in each lane, met by top-up.
    #[serde(default)]
    pub expected: LaneRates,
    /// Minimum share drawn at random into each lane.
    #[serde(default)]
    pub random: LaneRates,
    /// For declarations decided one at a time ([`decide`]): the score from which a declaration
    /// goes to each lane (the model's probability, or the rule score without a model).
    #[serde(default)]
    pub score_at_least: LaneThresholds,
}

/// Scores from which a declaration goes to a lane; a lane without one takes none by score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneThresholds {
    pub red: Option<f64>,
    pub yellow: Option<f64>,
    pub blue: Option<f64>,
}

impl LaneThresholds {
    pub fn get(&self, lane: Lane) -> Option<f64> {
        match lane {
            Lane::Red => self.red,
            Lane::Yellow => self.yellow,
            Lane::Blue => self.blue,
            Lane::Green => None,
        }
    }

    fn check(&self, what: &str) -> Result<(), String> {
        for lane in SELECTION_LANES {
            if let Some(t) = self.get(lane)
                && !t.is_finite()
            {
                return Err(format!("{what}.{lane}: expected a number, found {t}"));
            }
        }
        Ok(())
    }
}

/// The selectivity plan (TOML):
///
/// ```toml
/// seed = 2026
/// exploration_share = 0.1       # of each lane's top-up, drawn at random
/// [default]
/// expected = { red = 0.05, yellow = 0.10, blue = 0.02 }
/// random = { red = 0.005 }
/// score_at_least = { red = 0.8, yellow = 0.6 }   # for declarations decided one at a time
/// [offices."30"]
/// expected = { red = 0.08, yellow = 0.10 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectivityPlan {
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub exploration_share: f64,
    #[serde(default)]
    pub default: OfficeRates,
    #[serde(default)]
    pub offices: BTreeMap<String, OfficeRates>,
}

impl SelectivityPlan {
    /// Parses and checks a plan; errors name `origin` and the offending key.
    pub fn from_toml(text: &str, origin: &str) -> Result<SelectivityPlan, String> {
        let plan: SelectivityPlan =
            toml::from_str(text).map_err(|e| format!("selectivity plan {origin}: {e}"))?;
        let err = |m: String| format!("selectivity plan {origin}: {m}");
        if !(0.0..=1.0).contains(&plan.exploration_share) {
            return Err(err(format!(
                "exploration_share: expected a share between 0 and 1, found {}",
                plan.exploration_share
            )));
        }
        let all = std::iter::once(("default".to_string(), &plan.default)).chain(
            plan.offices
                .iter()
                .map(|(o, r)| (format!("offices.\"{o}\""), r)),
        );
        for (name, rates) in all {
            rates
                .expected
                .check(&format!("{name}.expected"))
                .map_err(err)?;
            rates.random.check(&format!("{name}.random")).map_err(err)?;
            rates
                .score_at_least
                .check(&format!("{name}.score_at_least"))
                .map_err(err)?;
        }
        Ok(plan)
    }

    pub fn rates(&self, office: &str) -> &OfficeRates {
        self.offices.get(office).unwrap_or(&self.default)
    }
}

/// Why a declaration is in its lane.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A risk profile hit and drew this lane (green when its split left the hit green).
    Profile { id: String, lane: Lane },
    /// Drawn by the office's minimum random rate.
    Random { lane: Lane },
    /// Drawn at random from the top-up, to keep learning where the model does not look.
    Exploration { lane: Lane },
    /// Taken by score to meet the office's expected rate.
    TopUp { lane: Lane, score: f64 },
}

/// The selectivity decision for one declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub lane: Lane,
    /// Held for an officer's review by a profile.
    pub review: bool,
    /// The model score, when a model was used.
    pub score: Option<f64>,
    /// Sum of the `score` actions of the profiles that hit.
    pub rule_score: f64,
    pub reasons: Vec<Reason>,
    /// The probability that the declaration would be controlled under the plan (see the
    /// module documentation).
    pub propensity: f64,
}

/// Counts of one office after selection.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OfficeSummary {
    pub office: String,
    pub declarations: usize,
    /// Declarations per lane: green, yellow, red, blue.
    pub by_lane: BTreeMap<String, usize>,
    /// Declarations per deciding reason: criteria, random, exploration, top_up.
    pub by_reason: BTreeMap<String, usize>,
    pub expected: LaneRates,
}

/// Step 1, the criteria: every profile that hits draws a lane; the most severe wins. The
/// propensity is the chance that some profile's draw controls the declaration.
fn criteria(d: &Declaration, rules: &RuleSet, score: Option<f64>, seed: u64) -> Decision {
    let mut decision = Decision {
        lane: Lane::Green,
        review: false,
        score,
        rule_score: 0.0,
        reasons: Vec::new(),
        propensity: 0.0,
    };
    // The chance that every profile's draw left the declaration green.
    let mut green = 1.0;
    for p in rules.hits(d).map(|k| &rules.profiles[k]) {
        let controlled: f64 = p
            .actions
            .lanes
            .iter()
            .filter(|(l, _)| *l != Lane::Green)
            .map(|(_, share)| share)
            .sum();
        green *= 1.0 - controlled.clamp(0.0, 1.0);
        let u = draw::uniform(seed, &p.id, &d.id);
        let mut cumulative = 0.0;
        let mut lane = Lane::Green;
        for &(l, share) in &p.actions.lanes {
            cumulative += share;
            if u < cumulative {
                lane = l;
                break;
            }
        }
        if lane.severity() > decision.lane.severity() {
            decision.lane = lane;
        }
        decision.review |= p.actions.review;
        decision.rule_score += p.actions.score;
        decision.reasons.push(Reason::Profile {
            id: p.id.clone(),
            lane,
        });
    }
    decision.propensity = 1.0 - green;
    decision
}

/// Decides one declaration on its own, as a clearance system asks when the declaration is
/// lodged (the live API), where [`select`] ranks a batch. The steps are those of a batch with
/// chances in place of quotas: the criteria; each lane's minimum random rate r, a seeded draw
/// of the declaration at chance r; exploration, at chance `exploration_share × expected` of
/// each lane; then the lanes' `score_at_least` thresholds (the model score, or the rule score
/// without a model). A step only moves a declaration that is still green. The same
/// declaration, plan and rules always get the same lane.
///
/// The propensity is exact here: every step controls the declaration independently of the
/// others, so the chance that none does is `(1 - criteria) × Π(1 - r) × Π(1 - exploration)`,
/// and 0 when the score reaches a threshold.
pub fn decide(
    d: &Declaration,
    rules: &RuleSet,
    score: Option<f64>,
    plan: &SelectivityPlan,
) -> Decision {
    let seed = plan.seed;
    let mut decision = criteria(d, rules, score, seed);
    let rates = plan.rates(&d.office);
    let mut kept = 1.0 - decision.propensity;
    // Random rates, then exploration: a seeded draw per lane at its chance.
    let draws = SELECTION_LANES
        .map(|lane| ("random", lane, rates.random.get(lane)))
        .into_iter()
        .chain(SELECTION_LANES.map(|lane| {
            let chance = plan.exploration_share * rates.expected.get(lane);
            ("explore", lane, chance)
        }));
    for (step, lane, chance) in draws {
        kept *= 1.0 - chance.clamp(0.0, 1.0);
        if decision.lane == Lane::Green
            && draw::uniform_for(seed, &[step, ":", lane.as_str()], &d.id) < chance
        {
            decision.lane = lane;
            decision.reasons.push(if step == "random" {
                Reason::Random { lane }
            } else {
                Reason::Exploration { lane }
            });
        }
    }
    let priority = decision.score.unwrap_or(decision.rule_score);
    for lane in SELECTION_LANES {
        if rates
            .score_at_least
            .get(lane)
            .is_some_and(|t| priority >= t)
        {
            kept = 0.0;
            if decision.lane == Lane::Green {
                decision.lane = lane;
                decision.reasons.push(Reason::TopUp {
                    lane,
                    score: priority,
                });
            }
        }
    }
    decision.propensity = 1.0 - kept;
    decision
}

/// Runs selectivity over a batch. `scores[i]`, when given, is the model score of
/// `declarations[i]`. Returns one decision per declaration and a summary per office.
pub fn select(
    declarations: &[Declaration],
    rules: &RuleSet,
    scores: Option<&[f64]>,
    plan: &SelectivityPlan,
) -> (Vec<Decision>, Vec<OfficeSummary>) {
    let seed = plan.seed;
    // 1. Criteria.
    let mut decisions: Vec<Decision> = declarations
        .iter()
        .enumerate()
        .map(|(i, d)| criteria(d, rules, scores.map(|s| s[i]), seed))
        .collect();

    let mut by_office: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, d) in declarations.iter().enumerate() {
        by_office.entry(d.office.as_str()).or_default().push(i);
    }
    let mut summaries = Vec::new();
    for (office, members) in by_office {
        let rates = plan.rates(office);
        let n = members.len() as f64;
        let green = |decisions: &[Decision]| -> Vec<usize> {
            members
                .iter()
                .copied()
                .filter(|&i| decisions[i].lane == Lane::Green)
                .collect()
        };
        let drawn_order = |ids: Vec<usize>, purpose: &str| {
            let mut keyed: Vec<(f64, usize)> = ids
                .into_iter()
                .map(|i| (draw::uniform(seed, purpose, &declarations[i].id), i))
                .collect();
            keyed.sort_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then_with(|| declarations[a.1].id.cmp(&declarations[b.1].id))
            });
            keyed.into_iter().map(|(_, i)| i).collect::<Vec<usize>>()
        };
        // 2. Random quotas, drawn from the would-be-green.
        let pool = green(&decisions).len().max(1) as f64;
        let mut drawn = 0usize;
        for lane in SELECTION_LANES {
            let k = (rates.random.get(lane) * n).round() as usize;
            let purpose = format!("random:{lane}");
            for i in drawn_order(green(&decisions), &purpose).into_iter().take(k) {
                decisions[i].lane = lane;
                decisions[i].reasons.push(Reason::Random { lane });
                drawn += 1;
            }
        }
        let random_chance = (drawn as f64 / pool).min(1.0);
        let mut explored = 0usize;
        let mut explore_pool = 0usize;
        // 3. Top-up, lane by lane in order of precedence.
        for lane in SELECTION_LANES {
            let target = (rates.expected.get(lane) * n).round() as usize;
            let have = members
                .iter()
                .filter(|&&i| decisions[i].lane == lane)
                .count();
            let need = target.saturating_sub(have);
            if need == 0 {
                continue;
            }
            let explore = (plan.exploration_share * need as f64).round() as usize;
            explore_pool = explore_pool.max(green(&decisions).len());
            explored += explore;
            let purpose = format!("explore:{lane}");
            for i in drawn_order(green(&decisions), &purpose)
                .into_iter()
                .take(explore)
            {
                decisions[i].lane = lane;
                decisions[i].reasons.push(Reason::Exploration { lane });
            }
            let priority = |d: &Decision| d.score.unwrap_or(d.rule_score);
            let mut candidates = drawn_order(green(&decisions), &format!("top-up:{lane}"));
            // Stable sort: equal priorities keep their seeded random order.
            candidates
                .sort_by(|&a, &b| priority(&decisions[b]).total_cmp(&priority(&decisions[a])));
            for i in candidates.into_iter().take(need - explore.min(need)) {
                let score = priority(&decisions[i]);
                decisions[i].lane = lane;
                decisions[i].reasons.push(Reason::TopUp { lane, score });
            }
        }
        let explore_chance = (explored as f64 / explore_pool.max(1) as f64).min(1.0);
        for &i in &members {
            let d = &mut decisions[i];
            let top_up = d.reasons.iter().any(|r| matches!(r, Reason::TopUp { .. }));
            let kept = (1.0 - d.propensity)
                * (1.0 - random_chance)
                * (1.0 - explore_chance)
                * if top_up { 0.0 } else { 1.0 };
            d.propensity = 1.0 - kept;
        }
        let mut summary = OfficeSummary {
            office: office.to_string(),
            declarations: members.len(),
            expected: rates.expected,
            ..OfficeSummary::default()
        };
        for &i in &members {
            let d = &decisions[i];
            *summary.by_lane.entry(d.lane.to_string()).or_default() += 1;
            *summary
                .by_reason
                .entry(deciding_reason(d).to_string())
                .or_default() += 1;
        }
        summaries.push(summary);
    }
    (decisions, summaries)
}

/// What put the declaration in its lane: "criteria", "random", "exploration", "top_up", or
/// "none" for green declarations no profile hit.
pub fn deciding_reason(d: &Decision) -> &'static str {
    match d.reasons.last() {
        _ if d.lane == Lane::Green => "none",
        Some(Reason::Random { .. }) => "random",
        Some(Reason::Exploration { .. }) => "exploration",
        Some(Reason::TopUp { .. }) => "top_up",
        _ => "criteria",
    }
}

#[cfg(test)]
mod tests;
