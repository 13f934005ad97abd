//! Risk worlds and their grading: keys that match what was planted, reference and null
//! submissions, determinism, personal variants that differ but are equally hard, files the
//! risk engine reads, and both languages.

use std::collections::HashMap;

use smartborder_mtp::grade::grade;
use smartborder_mtp::pack::{MAPPING, read_key, write_pack};
use smartborder_mtp::risk_world::{World, build};
use smartborder_mtp::scenario::{PatternKind, RiskScenario, Scenario};
use smartborder_mtp::text::{Lang, brief, feedback};

const DEFINITION: &str = include_str!("../../../scenarios/risk-kz-imports.toml");

/// The shipped scenario, smaller (the same patterns, a thousand declarations a month).
fn scenario() -> RiskScenario {
    let Scenario::Risk(mut r) = Scenario::from_toml(DEFINITION, "risk-kz-imports.toml").unwrap()
    else {
        panic!("a risk scenario")
    };
    r.declarations_per_month = 1000;
    r
}

/// Median of a list.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn the_undervaluation_group_is_the_top_group_by_unit_value_deviation() {
    let def = scenario();
    let world = build(&def, 7, "");
    let planted = world
        .planted
        .iter()
        .find(|p| p.kind == PatternKind::Undervaluation)
        .unwrap();
    // Independently: value per kg against the heading's median, per (importer, heading, origin)
    // with at least 10 declarations; the groups with the lowest median ratio.
    let mut by_heading: HashMap<String, Vec<f64>> = HashMap::new();
    for d in &world.history {
        by_heading
            .entry(d.hs_code[..4].to_string())
            .or_default()
            .push(d.value_per_kg().unwrap());
    }
    let heading_median: HashMap<String, f64> = by_heading
        .into_iter()
        .map(|(h, v)| (h, median(v)))
        .collect();
    let mut groups: HashMap<(String, String, String), Vec<f64>> = HashMap::new();
    for d in &world.history {
        let h = d.hs_code[..4].to_string();
        let ratio = d.value_per_kg().unwrap() / heading_median[&h];
        groups
            .entry((d.importer.clone().unwrap(), h, d.origin.clone().unwrap()))
            .or_default()
            .push(ratio);
    }
    let mut ranked: Vec<((String, String, String), f64)> = groups
        .into_iter()
        .filter(|(_, v)| v.len() >= 10)
        .map(|(k, v)| (k, median(v)))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    // The decoy (used computers at 15% of the usual value) is lower still, by design: it is
    // the trap of this pattern. Apart from it, the top groups are the planted importers.
    let decoy = &world
        .planted
        .iter()
        .find(|p| p.kind == PatternKind::Decoy)
        .unwrap()
        .importers;
    let top: Vec<&String> = ranked
        .iter()
        .map(|((importer, _, _), _)| importer)
        .filter(|i| !decoy.contains(i))
        .take(planted.importers.len())
        .collect();
    for (importer, heading, origin) in ranked
        .iter()
        .map(|(k, _)| k)
        .filter(|k| planted.importers.contains(&k.0))
    {
        assert_eq!(Some(heading), planted.heading.as_ref());
        assert_eq!(Some(origin), planted.origin.as_ref());
        assert!(
            top.contains(&importer),
            "{importer} is not among the top groups: {top:?}"
        );
    }
}

#[test]
fn reference_scores_full_marks_and_null_submissions_about_zero() {
    let def = scenario();
    let world = build(&def, 7, "");
    let reference = grade(&def, &world, &world.reference_profile, "reference.risk").unwrap();
    assert_eq!(reference.score, 100.0);
    assert!(reference.passed);
    // Every non-compliant pattern is caught by the reference; the decoy is left alone.
    for p in &reference.patterns {
        if p.non_compliant {
            assert!(p.inspected > 0, "{} missed by the reference", p.name);
        } else {
            assert_eq!(p.hit, 0, "the reference hits the decoy");
        }
    }
    let empty = grade(&def, &world, "", "empty.risk").unwrap();
    assert_eq!(empty.score, 0.0);
    assert!(!empty.passed);
    // A profile that selects at random (by the last digit of the declaration number) finds
    // about the base rate of non-compliance.
    let random = "profile \"RANDOM\" {\n    when id starts_with [\"KZ0000001\", \"KZ0000002\"]\n    then red\n}\n";
    let random_grade = grade(&def, &world, random, "random.risk").unwrap();
    assert!(random_grade.score < 25.0, "{}", random_grade.score);
    // A file that does not parse is returned with its line and column.
    let e = grade(
        &def,
        &world,
        "profile \"X\" {\n    when orign = \"CN\"\n    then red\n}\n",
        "bad.risk",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("bad.risk:2:10: unknown field `orign`"), "{e}");
}

#[test]
fn grading_is_deterministic_and_the_same_seed_gives_the_same_world() {
    let def = scenario();
    let (a, b) = (build(&def, 7, "aliya"), build(&def, 7, "aliya"));
    assert_eq!(a.history, b.history);
    assert_eq!(a.later, b.later);
    assert_eq!(a.reference_profile, b.reference_profile);
    let profile =
        "profile \"CN\" {\n    when origin = \"CN\" and value_per_kg < 20\n    then red\n}\n";
    let g1 = grade(&def, &a, profile, "p.risk").unwrap();
    let g2 = grade(&def, &b, profile, "p.risk").unwrap();
    assert_eq!(g1, g2);
}

/// Key figures of a world: declarations, the non-compliance rate of the later months, each
/// pattern's size, and what the reference finds.
fn figures(def: &RiskScenario, w: &World) -> (usize, f64, Vec<usize>, usize) {
    let later_nc = w
        .later
        .iter()
        .filter(|d| d.non_compliant() == Some(true))
        .count();
    let reference = grade(def, w, &w.reference_profile, "r").unwrap();
    (
        w.history.len() + w.later.len(),
        later_nc as f64 / w.later.len() as f64,
        w.planted.iter().map(|p| p.later_declarations).collect(),
        reference.reference.found,
    )
}

#[test]
fn personal_variants_differ_but_are_equally_hard() {
    let def = scenario();
    let worlds: Vec<World> = ["aliya", "bakhyt", "nino"]
        .iter()
        .map(|t| build(&def, 7, t))
        .collect();
    assert_ne!(worlds[0].reference_profile, worlds[1].reference_profile);
    assert_ne!(worlds[1].later, worlds[2].later);
    let f: Vec<_> = worlds.iter().map(|w| figures(&def, w)).collect();
    for other in &f[1..] {
        let (n0, rate0, sizes0, found0) = &f[0];
        let (n, rate, sizes, found) = other;
        assert!((*n as f64 / *n0 as f64 - 1.0).abs() < 0.05, "{n} vs {n0}");
        assert!(
            (rate - rate0).abs() < 0.01,
            "non-compliance {rate} vs {rate0}"
        );
        for (s, s0) in sizes.iter().zip(sizes0) {
            assert!(
                (*s as f64 / *s0 as f64 - 1.0).abs() < 0.35,
                "pattern sizes {sizes:?} vs {sizes0:?}"
            );
        }
        assert!(
            (*found as f64 / *found0 as f64 - 1.0).abs() < 0.15,
            "found {found} vs {found0}"
        );
    }
    // A trainee's own solution, copied into another's variant, loses most of its worth.
    let theirs = grade(&def, &worlds[1], &worlds[0].reference_profile, "copied").unwrap();
    assert!(
        theirs.score < 60.0,
        "a copied solution scores {}",
        theirs.score
    );
}

#[test]
fn the_pack_reads_with_the_risk_engine_and_keeps_the_key_apart() {
    let def = scenario();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    let key_path = dir.path().join("pack.key.json");
    let key = write_pack(&Scenario::Risk(def.clone()), 7, "aliya", &out, &key_path).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "brief.en.md",
            "brief.ru.md",
            "history.csv",
            "later.csv",
            "mapping.toml"
        ]
    );
    let mapping =
        smartborder_ingest::DeclarationMapping::from_toml(MAPPING, "mapping.toml").unwrap();
    let history = smartborder_ingest::read_declarations(
        &out.join("history.csv"),
        &mapping,
        &smartborder_ingest::NoProgress,
    )
    .unwrap();
    assert!(history.problems.is_empty(), "{:?}", &history.problems[..1]);
    let world = key.world().unwrap();
    assert_eq!(history.set.declarations.len(), world.history.len());
    // Only the inspected declarations carry a result.
    let with_result = history
        .set
        .declarations
        .iter()
        .filter(|d| d.outcome.is_some())
        .count();
    assert_eq!(with_result, world.inspected.iter().filter(|x| **x).count());
    let later = smartborder_ingest::read_declarations(
        &out.join("later.csv"),
        &mapping,
        &smartborder_ingest::NoProgress,
    )
    .unwrap();
    assert!(later.set.declarations.iter().all(|d| d.outcome.is_none()));
    // The key rebuilds the world it was written with.
    let read = read_key(&key_path).unwrap();
    assert_eq!(read, key);
    assert_eq!(read.world().unwrap().later, world.later);
    let bad = dir.path().join("not-a-key.json");
    std::fs::write(&bad, "{}").unwrap();
    assert!(
        read_key(&bad)
            .unwrap_err()
            .to_string()
            .contains("not an answer key")
    );
}

#[test]
fn briefs_and_feedback_exist_in_both_languages() {
    let def = scenario();
    let world = build(&def, 7, "");
    let g = grade(&def, &world, &world.reference_profile, "r").unwrap();
    for lang in [Lang::En, Lang::Ru] {
        let b = brief(lang, &def, &world);
        let f = feedback(lang, &g);
        assert!(b.len() > 500 && f.len() > 200);
        let cyrillic = |s: &str| s.chars().any(|c| ('а'..='я').contains(&c));
        assert_eq!(cyrillic(&b), lang == Lang::Ru, "{b}");
        // Pattern names are translated too (importer and HS codes aside).
        assert_eq!(cyrillic(&f), lang == Lang::Ru, "{f}");
        assert!(!(lang == Lang::Ru && f.contains("undervaluation")), "{f}");
    }
}

#[test]
fn definitions_are_checked() {
    for (text, expected) in [
        (
            "kind = \"risk\"\ntitle_en = \"x\"\ntitle_ru = \"x\"\ncountry = \"kz\"\nstart = \"2025-01\"\ndeclarations_per_month = 1000\nbudget_percent = 5\npatterns = [\"decoy\"]\n",
            "country \"kz\"",
        ),
        (
            "kind = \"risk\"\ntitle_en = \"x\"\ntitle_ru = \"x\"\ncountry = \"KZ\"\nstart = \"2025-13\"\ndeclarations_per_month = 1000\nbudget_percent = 5\npatterns = [\"decoy\"]\n",
            "start \"2025-13\"",
        ),
        (
            "kind = \"risk\"\ntitle_en = \"x\"\ntitle_ru = \"x\"\ncountry = \"KZ\"\nstart = \"2025-01\"\ndeclarations_per_month = 1000\nbudget_percent = 5\npatterns = [\"smuggling\"]\n",
            "unknown variant `smuggling`",
        ),
        ("kind = \"customs\"\n", "unknown variant `customs`"),
        (
            "kind = \"selectivity\"\ntitle_en = \"x\"\ntitle_ru = \"x\"\ncountry = \"KZ\"\nstart = \"2026-03-02\"\noffices = [\"A\", \"A\"]\n",
            "offices: \"A\" is named twice",
        ),
        (
            "kind = \"transit\"\ntitle_en = \"x\"\ntitle_ru = \"x\"\nstart = \"March\"\n",
            "start \"March\"",
        ),
    ] {
        let e = Scenario::from_toml(text, "d.toml").unwrap_err().to_string();
        assert!(e.starts_with("d.toml: ") && e.contains(expected), "{e}");
    }
}
