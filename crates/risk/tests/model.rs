//! The risk model end to end: it learns a planted pattern, explains its scores exactly, and a
//! saved model loads back giving identical scores.

use chrono::NaiveDate;
use smartborder_model::{ControlOutcome, Declaration, DeclarationSet};
use smartborder_risk::draw;
use smartborder_risk::gbdt::BoostParams;
use smartborder_risk::metrics::targeting_metrics;
use smartborder_risk::model::{MODEL_VERSION, ModelError, RiskModel, TrainingProgress};

/// Declarations where importers I0..I9 from origin XX under-declare (value per kg below 5) and
/// are non-compliant 80% of the time; everyone else 5%.
fn history(n: usize, salt: &str) -> DeclarationSet {
    let declarations = (0..n)
        .map(|i| {
            let u = |p: &str| draw::uniform(7, &format!("{salt}{p}"), &i.to_string());
            let risky = u("risky") < 0.2;
            let importer = if risky {
                format!("I{}", (u("imp") * 10.0) as usize)
            } else {
                format!("J{}", (u("imp") * 200.0) as usize)
            };
            let mass = 10.0 + u("mass") * 1000.0;
            let per_kg = if risky {
                1.0 + u("v") * 4.0
            } else {
                5.0 + u("v") * 50.0
            };
            let fraud = u("fraud") < if risky { 0.8 } else { 0.05 };
            Declaration {
                id: format!("{salt}{i}"),
                date: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
                    + chrono::Days::new((u("day") * 365.0) as u64),
                office: format!("{}", 10 + (u("office") * 4.0) as usize),
                regime: Some("11".into()),
                declarant: Some(format!("B{}", (u("decl") * 30.0) as usize)),
                importer: Some(importer),
                seller: None,
                hs_code: format!("{:06}", 840000 + (u("hs") * 50.0) as usize),
                origin: Some(if risky { "XX" } else { "DE" }.into()),
                departure: None,
                quantity: None,
                mass_kg: Some(mass),
                value: Some(mass * per_kg),
                fob_value: None,
                taxes: None,
                tax_rate_percent: Some(8.0),
                attributes: vec![],
                outcome: Some(ControlOutcome {
                    non_compliant: fraud,
                    revenue: None,
                    propensity: None,
                }),
            }
        })
        .collect();
    DeclarationSet {
        attributes: vec![],
        declarations,
    }
}

fn labels(set: &DeclarationSet) -> Vec<bool> {
    set.declarations
        .iter()
        .map(|d| d.non_compliant() == Some(true))
        .collect()
}

#[test]
fn learns_the_pattern_and_round_trips_through_its_file() {
    let train = history(6000, "t");
    let test = history(3000, "v");
    let params = BoostParams {
        threads: 2,
        ..BoostParams::default()
    };
    let ticks = std::sync::Mutex::new(Vec::new());
    let model = RiskModel::train(&train, &params, 1, &|p| ticks.lock().unwrap().push(p)).unwrap();
    let trees: Vec<TrainingProgress> = (1..=100)
        .map(|built| TrainingProgress::Trees { built, of: 100 })
        .collect();
    assert_eq!(*ticks.lock().unwrap(), trees, "progress reports every tree");
    assert_eq!(model.training.declarations, 6000);
    let scores = model.score(&test, 2);
    let m = targeting_metrics(&scores, &labels(&test), None);
    // About 16% of the test set is risky-and-fraudulent, so the top 10% should be nearly all hits.
    assert!(m.budgets[3].precision > 0.7, "{:?}", m.budgets[3]);
    assert!(m.auc.unwrap() > 0.85, "{:?}", m.auc);

    // Top features: the mean |contribution| over the set, as `explain` gives it row by row.
    let top = model.top_features(&test, test.declarations.len());
    assert!(!top.is_empty());
    assert!(top.windows(2).all(|w| w[0].log_odds >= w[1].log_odds));
    let first = &top[0];
    let assessed = model.assess(&test, 2);
    let by_hand: f64 = (0..test.declarations.len())
        .map(|i| {
            model
                .explain(&assessed, i)
                .contributions
                .iter()
                .find(|c| c.feature == first.feature)
                .map_or(0.0, |c| c.log_odds.abs())
        })
        .sum::<f64>()
        / test.declarations.len() as f64;
    assert!(
        (first.log_odds - by_hand).abs() < 1e-9,
        "{} vs {by_hand}",
        first.log_odds
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    model.save(&path).unwrap();
    let loaded = RiskModel::load(&path).unwrap();
    assert_eq!(loaded, model);
    let again = loaded.score(&test, 1);
    assert!(
        scores
            .iter()
            .zip(&again)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "identical scores after a save/load round trip, on any number of threads"
    );

    // Explanations add up to the score and point at the planted features.
    let d = test
        .declarations
        .iter()
        .find(|d| d.origin.as_deref() == Some("XX"))
        .unwrap();
    let i = test.declarations.iter().position(|x| x.id == d.id).unwrap();
    let e = model.explain(&assessed, i);
    // The live API's reasons are explain's first five, for every declaration.
    for threads in [1, 2] {
        let live = model.assess_with_reasons(&test, threads, 5);
        assert_eq!(live.len(), test.declarations.len());
        for (j, (score, reasons)) in live.iter().enumerate() {
            let all = model.explain(&assessed, j).contributions;
            assert_eq!(reasons, &all[..all.len().min(5)]);
            assert_eq!(score.to_bits(), scores[j].to_bits());
        }
    }
    let raw = e.bias + e.contributions.iter().map(|c| c.log_odds).sum::<f64>();
    assert!((1.0 / (1.0 + (-raw).exp()) - scores[i]).abs() < 1e-12);
    assert!((e.probability - scores[i]).abs() < 1e-12);
    let top: Vec<&str> = e
        .contributions
        .iter()
        .take(3)
        .map(|c| &*c.feature)
        .collect();
    assert!(
        top.iter()
            .any(|f| f.contains("origin") || f.contains("importer") || *f == "value_per_kg"),
        "{top:?}"
    );
}

#[test]
fn bad_model_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let model = RiskModel::train(
        &history(600, "s"),
        &BoostParams {
            trees: 3,
            ..BoostParams::default()
        },
        1,
        &|_| {},
    )
    .unwrap();
    let path = dir.path().join("m.json");
    model.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();

    let other = dir.path().join("v2.json");
    std::fs::write(
        &other,
        text.replace(&format!("\"version\":{MODEL_VERSION}"), "\"version\":99"),
    )
    .unwrap();
    assert!(matches!(
        RiskModel::load(&other),
        Err(ModelError::Version { found: 99, .. })
    ));

    let wrong = dir.path().join("wrong.json");
    std::fs::write(&wrong, r#"{"format":"something-else","version":1}"#).unwrap();
    let e = RiskModel::load(&wrong).unwrap_err().to_string();
    assert!(
        e.contains("not a SmartBorder risk model") && e.contains("something-else"),
        "{e}"
    );

    // A tree whose child points back at its parent would loop for ever: refused.
    let cyclic = dir.path().join("cyclic.json");
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["booster"]["trees"][0]["nodes"][1]["left"] = serde_json::json!(1);
    value["booster"]["trees"][0]["nodes"][1]["right"] = serde_json::json!(2);
    std::fs::write(&cyclic, value.to_string()).unwrap();
    let e = RiskModel::load(&cyclic).unwrap_err().to_string();
    assert!(e.contains("inconsistent"), "{e}");

    // Children swapped (right before left): walks rely on right = left + 1, so refused.
    let swapped = dir.path().join("swapped.json");
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let root = &mut value["booster"]["trees"][0]["nodes"][0];
    let (left, right) = (root["left"].clone(), root["right"].clone());
    assert_eq!(
        right.as_u64(),
        left.as_u64().map(|l| l + 1),
        "a trained tree's children"
    );
    root["left"] = right;
    root["right"] = left;
    std::fs::write(&swapped, value.to_string()).unwrap();
    let e = RiskModel::load(&swapped).unwrap_err().to_string();
    assert!(e.contains("inconsistent"), "{e}");

    let truncated = dir.path().join("t.json");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    assert!(matches!(
        RiskModel::load(&truncated),
        Err(ModelError::Format { .. })
    ));
}

#[test]
fn training_needs_both_outcomes() {
    let mut set = history(100, "n");
    for d in &mut set.declarations {
        d.outcome = Some(ControlOutcome {
            non_compliant: false,
            revenue: None,
            propensity: None,
        });
    }
    let e = RiskModel::train(&set, &BoostParams::default(), 1, &|_| {}).unwrap_err();
    assert!(matches!(
        e,
        ModelError::NoHistory {
            declarations: 100,
            illicit: 0
        }
    ));
}

fn options(
    capacity: smartborder_risk::model::Capacity,
    trees: usize,
) -> smartborder_risk::model::TrainOptions {
    smartborder_risk::model::TrainOptions {
        params: BoostParams {
            trees,
            threads: 2,
            ..BoostParams::default()
        },
        seed: 5,
        weighting: smartborder_risk::model::Weighting::None,
        capacity,
    }
}

/// Validation inside the training period chooses the smoothing, the leaf size and the trees,
/// the same way every time; with too few labels it keeps the parameters given.
#[test]
fn capacity_is_chosen_by_validation_and_deterministically() {
    use smartborder_risk::model::{Capacity, MAX_TREES};
    let train = history(6000, "c");
    let heard = std::sync::Mutex::new(Vec::new());
    let a = RiskModel::train_with(&train, &options(Capacity::Validated, 100), &|p| {
        heard.lock().unwrap().push(p)
    })
    .unwrap();
    let b = RiskModel::train_with(&train, &options(Capacity::Validated, 100), &|_| {}).unwrap();
    assert_eq!(a, b, "the same history and seed give the same model");
    let mut one_thread = options(Capacity::Validated, 100);
    one_thread.params.threads = 1;
    let c = RiskModel::train_with(&train, &one_thread, &|_| {}).unwrap();
    assert_eq!(
        (&a.capacity, &a.booster, &a.encoder),
        (&c.capacity, &c.booster, &c.encoder),
        "the candidates side by side or one after the other choose the same model"
    );
    let c = a.capacity.as_ref().expect("a choice is recorded");
    assert_eq!(c.candidates.len(), 5, "{c:?}");
    // Progress: each candidate once (side by side, so in any order), then each tree.
    let heard = heard.into_inner().unwrap();
    let (searched, built) = heard.split_at(5);
    let mut done: Vec<usize> = searched
        .iter()
        .map(|p| match *p {
            TrainingProgress::Candidates { done, of: 5 } => done,
            other => panic!("{other:?} during the search"),
        })
        .collect();
    done.sort_unstable();
    assert_eq!(done, [1, 2, 3, 4, 5]);
    let trees = a.booster.trees.len();
    assert_eq!(built.len(), trees);
    assert!(built.iter().enumerate().all(|(k, p)| *p
        == TrainingProgress::Trees {
            built: k + 1,
            of: trees
        }));
    let best = c
        .candidates
        .iter()
        .map(|x| x.log_loss)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(c.candidates[c.chosen].log_loss, best);
    let chosen = &c.candidates[c.chosen];
    assert_eq!(a.encoder.smoothing, chosen.smoothing);
    assert_eq!(a.params.min_child_samples, chosen.min_child_samples);
    assert!(a.booster.trees.len() >= chosen.trees && a.booster.trees.len() <= MAX_TREES);
    // The last fifth of the inspected declarations, by date, was set aside.
    let after = train
        .declarations
        .iter()
        .filter(|d| d.date >= c.validation_from)
        .count();
    assert_eq!(after, c.validation_declarations);
    assert!((after as f64 / 6000.0 - 0.2).abs() < 0.02, "{after}");
    // The chosen model still finds the planted pattern.
    let test = history(3000, "w");
    let m = targeting_metrics(&a.score(&test, 2), &labels(&test), None);
    assert!(m.budgets[3].precision > 0.7, "{:?}", m.budgets[3]);
    // Too few labels to set any aside: the parameters as given.
    let small = RiskModel::train_with(
        &history(400, "s"),
        &options(Capacity::Validated, 17),
        &|_| {},
    )
    .unwrap();
    assert!(small.capacity.is_none());
    assert_eq!(small.booster.trees.len(), 17);
}

/// A pattern that moves in July: the model retrained each month follows it, the model frozen
/// in May does not.
#[test]
fn a_rolling_backtest_follows_drift_that_a_frozen_model_misses() {
    use smartborder_risk::evaluation::rolling_backtest;
    use smartborder_risk::model::Capacity;
    let mut set = history(12000, "r");
    let july = NaiveDate::from_ymd_opt(2020, 7, 1).unwrap();
    for d in &mut set.declarations {
        if d.date < july {
            continue;
        }
        // From July the old pattern is gone (its traders comply) and five brokers of the
        // ordinary trade start to cheat.
        let u = draw::uniform(9, "drift", &d.id);
        let fraud = if d.origin.as_deref() == Some("XX") {
            u < 0.05
        } else if ["B0", "B1", "B2", "B3", "B4"].contains(&d.declarant.as_deref().unwrap_or("")) {
            u < 0.8
        } else {
            u < 0.05
        };
        d.outcome = Some(ControlOutcome {
            non_compliant: fraud,
            revenue: None,
            propensity: None,
        });
    }
    let seen = std::cell::RefCell::new(Vec::new());
    let months = rolling_backtest(
        &set,
        NaiveDate::from_ymd_opt(2020, 5, 20).unwrap(),
        &options(Capacity::Fixed, 40),
        2,
        &|m| seen.borrow_mut().push(m),
    )
    .unwrap();
    assert_eq!(months.len(), 8, "May to December");
    assert_eq!(seen.borrow().len(), 8, "progress per month");
    assert_eq!(
        months[0].month,
        NaiveDate::from_ymd_opt(2020, 5, 1).unwrap()
    );
    assert_eq!(months[0].retrained, months[0].frozen);
    assert!(
        months
            .windows(2)
            .all(|w| w[0].train_declarations < w[1].train_declarations)
    );
    let pre10 = |m: &smartborder_risk::metrics::TargetingMetrics| m.budgets[3].precision;
    for m in &months[5..] {
        assert!(
            pre10(&m.retrained) > pre10(&m.frozen) + 0.2,
            "{}: retrained {:.3}, frozen {:.3}",
            m.month,
            pre10(&m.retrained),
            pre10(&m.frozen)
        );
    }
}
