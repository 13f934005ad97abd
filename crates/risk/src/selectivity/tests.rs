use chrono::NaiveDate;
use smartborder_model::{Declaration, Lane};

use super::*;
use crate::rules::parse_rules;

/// `n` declarations: office A for i % 5 < 3, else B; HS "01..." for i % 7 == 0; origin CN for
/// i % 4 == 0; score = a fixed pseudo-random number.
fn batch(n: usize) -> (Vec<Declaration>, Vec<f64>) {
    let declarations = (0..n)
        .map(|i| Declaration {
            origin: Some(if i % 4 == 0 { "CN" } else { "DE" }.into()),
            ..Declaration::new(
                &format!("D{i:05}"),
                NaiveDate::from_ymd_opt(2021, 1, 4).unwrap(),
                if i % 5 < 3 { "A" } else { "B" },
                if i % 7 == 0 { "010121" } else { "840000" },
            )
        })
        .collect();
    let scores = (0..n)
        .map(|i| ((i * 7919) % 10007) as f64 / 10007.0)
        .collect();
    (declarations, scores)
}

fn rules() -> RuleSet {
    parse_rules(
        r#"profile "LIVE-ANIMALS" { when hs_code starts_with "01" then red }
           profile "CN" { when origin = "CN" then yellow 100%, score 0.5 }"#,
        "t.risk",
        None,
        &[],
    )
    .unwrap()
}

fn plan(exploration: f64) -> SelectivityPlan {
    SelectivityPlan::from_toml(
        &format!(
            r#"seed = 11
exploration_share = {exploration}
[default]
expected = {{ red = 0.20, yellow = 0.30, blue = 0.02 }}
random = {{ red = 0.01, blue = 0.005 }}
[offices.B]
expected = {{ red = 0.05, yellow = 0.10 }}
"#
        ),
        "plan.toml",
    )
    .unwrap()
}

fn count(decisions: &[Decision], members: &[usize], lane: Lane) -> usize {
    members
        .iter()
        .filter(|&&i| decisions[i].lane == lane)
        .count()
}

#[test]
fn lanes_meet_expected_rates_with_precedence_red_over_yellow() {
    let (ds, scores) = batch(10_000);
    let (decisions, summaries) = select(&ds, &rules(), Some(&scores), &plan(0.0));
    for (office, rates) in [("A", plan(0.0).default), ("B", plan(0.0).offices["B"])] {
        let members: Vec<usize> = (0..ds.len()).filter(|&i| ds[i].office == office).collect();
        let n = members.len() as f64;
        // Independent count of what the criteria give.
        let red_hits = members
            .iter()
            .filter(|&&i| ds[i].hs_code.starts_with("01"))
            .count();
        let yellow_only = members
            .iter()
            .filter(|&&i| !ds[i].hs_code.starts_with("01") && ds[i].origin.as_deref() == Some("CN"))
            .count();
        let random_red = (rates.random.red * n).round() as usize;
        let random_blue = (rates.random.blue * n).round() as usize;
        let expect = |target: f64, floor: usize| ((target * n).round() as usize).max(floor);
        assert_eq!(
            count(&decisions, &members, Lane::Red),
            expect(rates.expected.red, red_hits + random_red),
            "{office} red"
        );
        assert_eq!(
            count(&decisions, &members, Lane::Yellow),
            expect(rates.expected.yellow, yellow_only),
            "{office} yellow"
        );
        assert_eq!(
            count(&decisions, &members, Lane::Blue),
            expect(rates.expected.blue, random_blue),
            "{office} blue"
        );
        let s = summaries.iter().find(|s| s.office == office).unwrap();
        assert_eq!(s.declarations, members.len());
        assert_eq!(s.by_lane.values().sum::<usize>(), members.len());
    }
    // Hit by both profiles: red wins, and both hits are recorded.
    for (i, d) in ds.iter().enumerate() {
        if d.hs_code.starts_with("01") && d.origin.as_deref() == Some("CN") {
            assert_eq!(decisions[i].lane, Lane::Red);
            assert_eq!(decisions[i].reasons.len(), 2);
            assert_eq!(decisions[i].rule_score, 0.5);
        }
    }
}

#[test]
fn top_up_takes_the_highest_scores() {
    let (ds, scores) = batch(5_000);
    let (decisions, _) = select(&ds, &rules(), Some(&scores), &plan(0.0));
    for office in ["A", "B"] {
        let members: Vec<usize> = (0..ds.len()).filter(|&i| ds[i].office == office).collect();
        for lane in SELECTION_LANES {
            let topped: Vec<f64> = members
                .iter()
                .filter(|&&i| matches!(decisions[i].reasons.last(), Some(Reason::TopUp { lane: l, .. }) if *l == lane))
                .map(|&i| scores[i])
                .collect();
            let Some(lowest) = topped.iter().copied().reduce(f64::min) else {
                continue;
            };
            let best_green = members
                .iter()
                .filter(|&&i| decisions[i].lane == Lane::Green)
                .map(|&i| scores[i])
                .fold(f64::MIN, f64::max);
            assert!(
                lowest >= best_green,
                "{office} {lane}: {lowest} < {best_green}"
            );
        }
    }
    // Red tops up before yellow: red's top-up scores are all above yellow's.
    let min_red = (0..ds.len())
        .filter(|&i| {
            ds[i].office == "A"
                && matches!(
                    decisions[i].reasons.last(),
                    Some(Reason::TopUp {
                        lane: Lane::Red,
                        ..
                    })
                )
        })
        .map(|i| scores[i])
        .fold(f64::MAX, f64::min);
    let max_yellow = (0..ds.len())
        .filter(|&i| {
            ds[i].office == "A"
                && matches!(
                    decisions[i].reasons.last(),
                    Some(Reason::TopUp {
                        lane: Lane::Yellow,
                        ..
                    })
                )
        })
        .map(|i| scores[i])
        .fold(f64::MIN, f64::max);
    assert!(min_red >= max_yellow);
}

#[test]
fn exploration_draws_its_share_of_the_top_up() {
    let (ds, scores) = batch(10_000);
    let p = plan(0.1);
    let (without, _) = select(&ds, &rules(), Some(&scores), &plan(0.0));
    let (decisions, summaries) = select(&ds, &rules(), Some(&scores), &p);
    for office in ["A", "B"] {
        let members: Vec<usize> = (0..ds.len()).filter(|&i| ds[i].office == office).collect();
        for lane in SELECTION_LANES {
            let topped = |ds: &[Decision]| {
                members
                    .iter()
                    .filter(|&&i| matches!(ds[i].reasons.last(), Some(Reason::TopUp { lane: l, .. } | Reason::Exploration { lane: l }) if *l == lane))
                    .count()
            };
            let need = topped(&without);
            let explored = members
                .iter()
                .filter(|&&i| matches!(decisions[i].reasons.last(), Some(Reason::Exploration { lane: l }) if *l == lane))
                .count();
            assert_eq!(
                explored,
                (0.1 * need as f64).round() as usize,
                "{office} {lane}"
            );
            assert_eq!(topped(&decisions), need, "the lane total does not change");
        }
    }
    // Office A tops up every lane, so some of its selections are exploration; office B's
    // criteria already exceed its expected rates, so it explores nothing.
    let explored = |office: &str| {
        summaries
            .iter()
            .find(|s| s.office == office)
            .unwrap()
            .by_reason
            .get("exploration")
            .copied()
            .unwrap_or(0)
    };
    assert!(explored("A") > 0);
    assert_eq!(explored("B"), 0);
}

#[test]
fn runs_are_reproducible_and_independent_of_input_order() {
    let (ds, scores) = batch(3_000);
    let (a, _) = select(&ds, &rules(), Some(&scores), &plan(0.1));
    let (b, _) = select(&ds, &rules(), Some(&scores), &plan(0.1));
    assert_eq!(a, b);
    let mut order: Vec<usize> = (0..ds.len()).collect();
    order.reverse();
    let ds_rev: Vec<Declaration> = order.iter().map(|&i| ds[i].clone()).collect();
    let scores_rev: Vec<f64> = order.iter().map(|&i| scores[i]).collect();
    let (c, _) = select(&ds_rev, &rules(), Some(&scores_rev), &plan(0.1));
    for (k, &i) in order.iter().enumerate() {
        assert_eq!(c[k], a[i], "declaration {}", ds[i].id);
    }
    // Another seed changes the random draws.
    let mut other = plan(0.1);
    other.seed = 12;
    let (d, _) = select(&ds, &rules(), Some(&scores), &other);
    assert_ne!(a, d);
}

#[test]
fn split_percentages_route_their_share_of_hits() {
    let (ds, _) = batch(20_000);
    let rules = parse_rules(
        r#"profile "S" { when office = "A" then red 30%, yellow 50% }"#,
        "t.risk",
        None,
        &[],
    )
    .unwrap();
    let plan = SelectivityPlan::from_toml("seed = 3", "p").unwrap();
    let (decisions, _) = select(&ds, &rules, None, &plan);
    let hits: Vec<&Decision> = ds
        .iter()
        .zip(&decisions)
        .filter(|(d, _)| d.office == "A")
        .map(|(_, x)| x)
        .collect();
    let n = hits.len() as f64;
    for (lane, share) in [(Lane::Red, 0.3), (Lane::Yellow, 0.5), (Lane::Green, 0.2)] {
        let got = hits.iter().filter(|d| d.lane == lane).count() as f64 / n;
        let se = (share * (1.0 - share) / n).sqrt();
        assert!((got - share).abs() < 5.0 * se, "{lane}: {got}");
    }
    assert!(
        decisions
            .iter()
            .zip(&ds)
            .all(|(x, d)| d.office == "A" || x.lane == Lane::Green)
    );
}

#[test]
fn plan_errors_name_the_key() {
    for (text, expected) in [
        (
            "exploration_share = 1.5",
            "exploration_share: expected a share between 0 and 1, found 1.5",
        ),
        (
            "[default]\nexpected = { red = 0.6, yellow = 0.6 }",
            "default.expected: the lane shares add up to 1.2",
        ),
        (
            "[offices.\"30\"]\nrandom = { red = -0.1 }",
            "offices.\"30\".random.red: expected a share between 0 and 1",
        ),
        (
            "[default]\nexpected = { purple = 0.1 }",
            "unknown field `purple`",
        ),
    ] {
        let e = SelectivityPlan::from_toml(text, "plan.toml").unwrap_err();
        assert!(
            e.contains(expected) && e.starts_with("selectivity plan plan.toml"),
            "{e}"
        );
    }
}

/// The recorded propensity is the chance of a control: over many seeds, a declaration left to
/// random draws is controlled as often as its propensity says; a profile's lane shares and a
/// top-up by score give theirs exactly.
#[test]
fn propensities_match_how_often_a_declaration_is_controlled() {
    let (declarations, scores) = batch(2000);
    let split = parse_rules(
        r#"profile "HALF" { when origin = "CN" then red 30%, yellow 20% }"#,
        "t.risk",
        None,
        &[],
    )
    .unwrap();
    let plan_for = |seed: u64| {
        SelectivityPlan::from_toml(
            &format!("seed = {seed}\n[default]\nrandom = {{ red = 0.05, yellow = 0.03 }}\n"),
            "p.toml",
        )
        .unwrap()
    };
    let seeds = 300;
    let mut controlled = vec![0usize; declarations.len()];
    let mut propensity = vec![0.0; declarations.len()];
    for seed in 0..seeds {
        let (decisions, _) = select(&declarations, &split, None, &plan_for(seed));
        for (i, d) in decisions.iter().enumerate() {
            controlled[i] += usize::from(d.lane != Lane::Green);
            propensity[i] += d.propensity / seeds as f64;
        }
    }
    // Mean over the declarations of each kind: the profile's (CN) and the others.
    for cn in [true, false] {
        let members: Vec<usize> = (0..declarations.len())
            .filter(|&i| (declarations[i].origin.as_deref() == Some("CN")) == cn)
            .collect();
        let observed = members.iter().map(|&i| controlled[i]).sum::<usize>() as f64
            / (members.len() * seeds as usize) as f64;
        let expected = members.iter().map(|&i| propensity[i]).sum::<f64>() / members.len() as f64;
        assert!(
            (observed - expected).abs() < 0.01,
            "CN {cn}: controlled {observed:.4}, propensity {expected:.4}"
        );
    }
    // The profile alone: 50% controlled by its shares, then the random draws among the rest.
    let (decisions, _) = select(&declarations, &split, None, &plan_for(1));
    let cn = (0..declarations.len())
        .find(|&i| declarations[i].origin.as_deref() == Some("CN"))
        .unwrap();
    assert!(decisions[cn].propensity > 0.5 && decisions[cn].propensity < 0.6);
    // Taken by score to meet an expected rate: certain.
    let topup =
        SelectivityPlan::from_toml("[default]\nexpected = { red = 0.1 }\n", "p.toml").unwrap();
    let (decisions, _) = select(
        &declarations,
        &RuleSet { profiles: vec![] },
        Some(&scores),
        &topup,
    );
    for d in &decisions {
        let by_score = d.reasons.iter().any(|r| matches!(r, Reason::TopUp { .. }));
        assert_eq!(d.propensity, if by_score { 1.0 } else { 0.0 });
    }
}

/// One declaration at a time: the lane depends only on the declaration, the rules and the
/// plan; declarations are controlled as often as their propensity says (over many seeds, and
/// per kind: hit by a profile's shares, left to random and exploration draws, or above a
/// score threshold); the thresholds take every score at or above them.
#[test]
fn declarations_decided_one_at_a_time() {
    let (declarations, scores) = batch(3000);
    let split = parse_rules(
        r#"profile "HALF" { when origin = "CN" then red 30%, yellow 20% }"#,
        "t.risk",
        None,
        &[],
    )
    .unwrap();
    let plan_for = |seed: u64| {
        SelectivityPlan::from_toml(
            &format!(
                "seed = {seed}\nexploration_share = 0.2\n[default]\nexpected = {{ red = 0.1, yellow = 0.2 }}\nrandom = {{ red = 0.05, yellow = 0.03 }}\nscore_at_least = {{ red = 0.95, yellow = 0.9 }}\n"
            ),
            "p.toml",
        )
        .unwrap()
    };
    let p = plan_for(3);
    for (i, d) in declarations.iter().enumerate().take(200) {
        let a = decide(d, &split, Some(scores[i]), &p);
        assert_eq!(a, decide(d, &split, Some(scores[i]), &p), "{i}");
        if scores[i] >= 0.95 {
            assert_ne!(a.lane, Lane::Green);
            assert_eq!(a.propensity, 1.0);
        }
        assert!(
            scores[i] < 0.9 || !a.reasons.is_empty(),
            "a score of {} over a threshold moved nothing",
            scores[i]
        );
    }
    let seeds = 300;
    let kinds = |i: usize| {
        (
            declarations[i].origin.as_deref() == Some("CN"),
            scores[i] >= 0.9,
        )
    };
    let mut controlled: BTreeMap<(bool, bool), (f64, f64, usize)> = BTreeMap::new();
    for seed in 0..seeds {
        let plan = plan_for(seed);
        for (i, d) in declarations.iter().enumerate() {
            let a = decide(d, &split, Some(scores[i]), &plan);
            let e = controlled.entry(kinds(i)).or_default();
            e.0 += f64::from(u8::from(a.lane != Lane::Green));
            e.1 += a.propensity;
            e.2 += 1;
        }
    }
    assert_eq!(controlled.len(), 4, "every kind is present");
    for (kind, (observed, expected, n)) in controlled {
        let (observed, expected) = (observed / n as f64, expected / n as f64);
        assert!(
            (observed - expected).abs() < 0.01,
            "{kind:?}: controlled {observed:.4}, propensity {expected:.4}"
        );
    }
    // Random and exploration alone: 1 - (1 - 0.05)(1 - 0.03)(1 - 0.02)(1 - 0.04).
    let plain = (0..declarations.len())
        .find(|&i| kinds(i) == (false, false))
        .unwrap();
    let a = decide(&declarations[plain], &split, Some(scores[plain]), &p);
    let expected = 1.0 - 0.95 * 0.97 * 0.98 * 0.96;
    assert!((a.propensity - expected).abs() < 1e-12, "{}", a.propensity);
}
