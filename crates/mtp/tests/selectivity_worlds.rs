//! Selectivity worlds: the key's posts are what the generator planted (the inspected history
//! estimates each post's non-compliance rate without bias); the reference plan scores full
//! marks, an empty plan and a plan that spends the capacity at random about zero, one rate for
//! every post less than the pass mark; grading is deterministic; variants differ and are
//! equally hard; plans that do not read are refused with their place.

use smartborder_mtp::exercise::{self, key_of};
use smartborder_mtp::scenario::{CATALOG, Scenario, SelectivityScenario};
use smartborder_mtp::selectivity_world::{build, grade};

fn definition() -> SelectivityScenario {
    let (file, text) = CATALOG
        .iter()
        .find(|(f, _)| *f == "selectivity-kz-posts.toml")
        .unwrap();
    match Scenario::from_toml(text, file).unwrap() {
        Scenario::Selectivity(s) => s,
        _ => unreachable!(),
    }
}

/// A plan with the same rates at every post.
fn uniform(expected: f64, random: f64) -> String {
    format!("[default]\nexpected = {{ red = {expected} }}\nrandom = {{ red = {random} }}\n")
}

/// The reference plan with its top-up turned into random draws: the capacity spent at random.
fn at_random(def: &SelectivityScenario, trainee: &str) -> String {
    let world = build(def, 7, trainee);
    let mut s = String::new();
    for p in &world.posts {
        let share = p.capacity_per_day as f64 / p.declarations_per_day as f64;
        s.push_str(&format!(
            "[offices.\"{}\"]\nexpected = {{ red = {share:.4} }}\nrandom = {{ red = {share:.4} }}\n",
            p.office
        ));
    }
    s
}

#[test]
fn the_history_estimates_each_posts_planted_rate() {
    let def = definition();
    let world = build(&def, 7, "daniyar");
    assert_eq!(
        world
            .posts
            .iter()
            .map(|p| p.office.as_str())
            .collect::<Vec<_>>(),
        def.offices
    );
    for p in &world.posts {
        let seen: Vec<bool> = world
            .history
            .iter()
            .zip(&world.inspected)
            .filter(|(r, shown)| **shown && r.office == p.office)
            .map(|(r, _)| r.non_compliant)
            .collect();
        // Inspected at random at the post's capacity, every day of the history.
        let expected = p.capacity_per_day as f64 * def.history_days as f64;
        assert!(
            (seen.len() as f64 - expected).abs() < 0.2 * expected,
            "{}: {} inspected, about {expected} expected",
            p.office,
            seen.len()
        );
        let rate = seen.iter().filter(|x| **x).count() as f64 / seen.len() as f64;
        let se = (p.non_compliance_rate * (1.0 - p.non_compliance_rate) / seen.len() as f64).sqrt();
        assert!(
            (rate - p.non_compliance_rate).abs() < 4.0 * se + 0.01,
            "{}: history rate {rate:.3}, planted {:.3}",
            p.office,
            p.non_compliance_rate
        );
    }
    // The capacities differ from post to post: one rate cannot fit them all.
    let shares: Vec<f64> = world
        .posts
        .iter()
        .map(|p| p.capacity_per_day as f64 / p.declarations_per_day as f64)
        .collect();
    let (lo, hi) = shares
        .iter()
        .fold((1.0f64, 0.0f64), |(l, h), s| (l.min(*s), h.max(*s)));
    assert!(hi > 3.0 * lo, "{shares:?}");
}

#[test]
fn the_reference_scores_full_and_null_plans_about_zero() {
    let def = definition();
    let world = build(&def, 7, "daniyar");
    let full = grade(&def, &world, &world.reference_plan).unwrap();
    assert_eq!((full.score, full.passed), (100.0, true));
    assert!(
        full.trainee.posts.iter().all(|p| p.fits_capacity()),
        "{:?}",
        full.trainee.posts
    );
    let empty = grade(&def, &world, "").unwrap();
    assert_eq!((empty.score, empty.trainee.found), (0.0, 0));
    let random = grade(&def, &world, &at_random(&def, "daniyar")).unwrap();
    assert!(random.score < 10.0, "{}", random.score);
    // The zero of the scale, recomputed: capacity × each post's share of non-compliance.
    let mut zero = 0.0;
    for p in &world.posts {
        let at: Vec<_> = world
            .later
            .iter()
            .filter(|r| r.office == p.office)
            .collect();
        let days = at
            .iter()
            .map(|r| r.date)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let bad = at.iter().filter(|r| r.non_compliant).count() as f64;
        zero += (days * p.capacity_per_day as usize) as f64 * bad / at.len() as f64;
    }
    assert!(
        (zero - full.random_found).abs() < 1e-6,
        "{zero} {}",
        full.random_found
    );
    // What the inspections found, recounted from the stream within each day's capacity.
    let found: usize = full.trainee.posts.iter().map(|p| p.found).sum();
    assert_eq!(found, full.trainee.found);
    assert!(
        full.trainee
            .posts
            .iter()
            .all(|p| p.inspected + p.over_capacity == p.red)
    );
    // One rate for every post overloads some and idles others: below the pass mark.
    let one = grade(&def, &world, &uniform(0.05, 0.01)).unwrap();
    assert!(
        one.score < def.pass_mark && one.score > 20.0,
        "{}",
        one.score
    );
    assert!(!one.trainee.posts.iter().all(|p| p.fits_capacity()));
}

#[test]
fn grading_is_deterministic_and_variants_are_equally_hard() {
    let def = definition();
    let a = build(&def, 7, "daniyar");
    let plan = uniform(0.04, 0.01);
    assert_eq!(
        grade(&def, &a, &plan).unwrap(),
        grade(&def, &a, &plan).unwrap()
    );
    let mut lifts = Vec::new();
    let mut capacities = Vec::new();
    for trainee in ["daniyar", "aigerim", "nodira", "giorgi"] {
        let w = build(&def, 7, trainee);
        let g = grade(&def, &w, &w.reference_plan).unwrap();
        // What knowing the scores adds over chance, at full marks.
        lifts.push(g.reference.found as f64 / g.random_found);
        capacities.push(
            w.posts
                .iter()
                .map(|p| p.capacity_per_day)
                .collect::<Vec<_>>(),
        );
    }
    assert!(
        capacities.windows(2).all(|w| w[0] != w[1]),
        "variants differ: {capacities:?}"
    );
    let (lo, hi) = lifts
        .iter()
        .fold((f64::MAX, 0.0f64), |(l, h), x| (l.min(*x), h.max(*x)));
    assert!(hi / lo < 1.35, "lifts over chance {lifts:?}");
}

#[test]
fn plans_that_do_not_read_are_refused_with_their_place() {
    let key = key_of(&Scenario::Selectivity(definition()), 7, "daniyar");
    let e = exercise::grade(
        &key,
        "seed = 1\n[default]\nexpected = { red = \"x\" }\n",
        "plan.toml",
    )
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("plan.toml", 3), "{e}");
    let e =
        exercise::grade(&key, "[default]\nexpected = { red = 1.5 }\n", "plan.toml").unwrap_err();
    assert!(e.message.contains("default.expected.red"), "{e}");
    let full = exercise::grade(&key, &key.reference_plan, "plan.toml").unwrap();
    assert_eq!(full.score, 100.0);
    assert_eq!(full.items.len(), 8);
    assert!(full.items.iter().all(|i| i.met), "{:?}", full.items);
}
