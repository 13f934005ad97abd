//! Exercises as courses run them: a variant's key made in memory is the key `scenario build`
//! writes; grading through `exercise::grade` gives the reference full marks and a null
//! submission nothing, with items that item analysis counts the same in every variant; the
//! trainee's zip holds the pack and never the key.

use smartborder_mtp::exercise::{self, Outcome, item_analysis, key_of};
use smartborder_mtp::pack::{read_key, write_pack};
use smartborder_mtp::scenario::{CATALOG, Scenario};

fn scenario(name: &str) -> Scenario {
    let (file, text) = CATALOG.iter().find(|(f, _)| *f == name).unwrap();
    Scenario::from_toml(text, file).unwrap()
}

#[test]
fn the_key_made_in_memory_is_the_key_a_pack_is_written_with() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["risk-kz-imports.toml", "trs-corridor-2025.toml"] {
        let s = scenario(name);
        let key_path = dir.path().join(format!("{name}.key.json"));
        write_pack(&s, 11, "aigerim", &dir.path().join(name), &key_path).unwrap();
        assert_eq!(
            read_key(&key_path).unwrap(),
            key_of(&s, 11, "aigerim"),
            "{name}"
        );
    }
}

#[test]
fn risk_exercises_grade_the_reference_full_and_nothing_zero() {
    let key = key_of(&scenario("risk-kz-imports.toml"), 3, "daniyar");
    let full = exercise::grade(&key, &key.reference_profile, "reference.risk").unwrap();
    assert_eq!((full.score, full.passed), (100.0, true));
    assert!(full.items.iter().all(|i| i.met), "{:?}", full.items);
    let ids: Vec<&str> = full.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "undervaluation",
            "misclassification",
            "transhipment",
            "new_trader_burst",
            "decoy"
        ]
    );
    let none = exercise::grade(&key, "# nothing yet\n", "empty.risk").unwrap();
    assert_eq!((none.score, none.passed), (0.0, false));
    // Every non-compliant pattern missed; the decoy rightly left alone.
    let met: Vec<bool> = none.items.iter().map(|i| i.met).collect();
    assert_eq!(met, [false, false, false, false, true]);
    assert!(none.feedback_ru.contains("не зачтено") && none.feedback_en.contains("not passed"));
    // A file that does not parse is refused with its place, not graded.
    let e = exercise::grade(
        &key,
        "profile \"X\" {\n  when orign = \"CN\"\n  then red\n}\n",
        "x.risk",
    )
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), ("x.risk", 2, 8));
}

#[test]
fn trs_exercises_grade_the_key_answers_full_and_locate_bad_toml() {
    let key = key_of(&scenario("trs-corridor-2025.toml"), 3, "daniyar");
    let answers = toml::to_string(key.trs_answers.as_ref().unwrap()).unwrap();
    let full = exercise::grade(&key, &answers, "answers.toml").unwrap();
    assert_eq!(full.score, 100.0, "{}", full.feedback_en);
    assert_eq!(full.items.len(), 6);
    let none = exercise::grade(&key, "", "answers.toml").unwrap();
    assert_eq!((none.score, none.passed), (0.0, false));
    assert!(none.items.iter().all(|i| !i.met));
    let e = exercise::grade(
        &key,
        "weekend_post = \"A\"\nred_median_hours = \"soon\"\n",
        "a.toml",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 20), "{e}");
}

#[test]
fn item_analysis_counts_items_by_id_across_variants() {
    let s = scenario("risk-kz-imports.toml");
    let outcomes: Vec<Outcome> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(k, trainee)| {
            let key = key_of(&s, 5, trainee);
            // The first trainee submits the reference; the others nothing.
            let text = if k == 0 {
                key.reference_profile.clone()
            } else {
                String::new()
            };
            exercise::grade(&key, &text, "p.risk").unwrap()
        })
        .collect();
    let stats = item_analysis(&outcomes);
    assert_eq!(
        stats.len(),
        5,
        "one row per pattern, whatever each variant's heading"
    );
    for s in &stats {
        assert_eq!(s.graded, 3);
        let expected = if s.id == "decoy" { 0 } else { 2 };
        assert_eq!(s.failed, expected, "{}", s.id);
    }
    assert_eq!(
        stats.last().unwrap().id,
        "decoy",
        "the items failed most come first"
    );
}

#[test]
fn the_trainees_zip_holds_the_pack_and_not_the_key() {
    let key = key_of(&scenario("trs-corridor-2025.toml"), 3, "daniyar");
    let zip = exercise::pack_zip(&key).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "answers.toml",
            "brief.en.md",
            "brief.ru.md",
            "trs.csv",
            "trs.mapping.toml"
        ]
    );
    let mut answers = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("answers.toml").unwrap(), &mut answers)
        .unwrap();
    let wrong = &key.trs_answers.as_ref().unwrap().wrong_rows[0].id;
    assert!(
        !answers.contains(wrong.as_str()),
        "the template holds no answer"
    );
}

#[test]
fn the_reference_submission_of_every_kind_scores_full_marks() {
    for (file, text) in CATALOG {
        let key = key_of(&Scenario::from_toml(text, file).unwrap(), 9, "giorgi");
        let reference = exercise::reference_submission(&key);
        let o =
            exercise::grade(&key, &reference, exercise::submission_file(&key.scenario)).unwrap();
        assert_eq!(o.score, 100.0, "{file}: {}", o.feedback_en);
        let blank = exercise::submission_template(&key.scenario);
        let o = exercise::grade(&key, &blank, "blank").unwrap();
        assert!(o.score < 1.0, "{file}: the template scores {}", o.score);
        for lang in [
            smartborder_mtp::text::Lang::En,
            smartborder_mtp::text::Lang::Ru,
        ] {
            assert!(exercise::brief(&key, lang).len() > 400, "{file}");
        }
    }
}
