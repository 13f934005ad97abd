//! `smartborder mtp`: a trainer builds a pack with its key kept apart and grades submissions,
//! offline.

mod common;

use common::bin;

const DEFINITION: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scenarios/risk-kz-imports.toml"
);

#[test]
fn a_trainer_builds_a_pack_and_grades_submissions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "scenario",
            "build",
            DEFINITION,
            "--seed",
            "11",
            "--trainee",
            "aliya",
            "--out",
            "pack",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains("wrote the answer key pack.key.json"),
        "{said}"
    );
    assert!(d.join("pack.key.json").is_file() && !d.join("pack/pack.key.json").exists());
    // The key may not go into the trainee's pack.
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "scenario",
            "build",
            DEFINITION,
            "--seed",
            "11",
            "--out",
            "pack",
            "--key",
            "pack/key.json",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("would be inside the trainee's pack"));
    // The reference solution passes with full marks; JSON for tools.
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("pack.key.json")).unwrap()).unwrap();
    std::fs::write(
        d.join("reference.risk"),
        key["reference_profile"].as_str().unwrap(),
    )
    .unwrap();
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "grade",
            "--key",
            "pack.key.json",
            "--submission",
            "reference.risk",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let grade: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(grade["score"], 100.0);
    assert_eq!(grade["passed"], true);
    // Feedback in Russian for a weak profile.
    std::fs::write(
        d.join("weak.risk"),
        "profile \"LOW\" {\n    when value_per_kg < 3\n    then red\n}\n",
    )
    .unwrap();
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "grade",
            "--key",
            "pack.key.json",
            "--submission",
            "weak.risk",
            "--lang",
            "ru",
        ])
        .output()
        .unwrap();
    let feedback = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        feedback.contains("не зачтено") && feedback.contains("пропущена"),
        "{feedback}"
    );
    // A file that does not parse gets its error located, not a zero.
    std::fs::write(
        d.join("bad.risk"),
        "profile \"X\" {\n    when orign = \"CN\"\n    then red\n}\n",
    )
    .unwrap();
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "grade",
            "--key",
            "pack.key.json",
            "--submission",
            "bad.risk",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(e.contains("bad.risk:2:10: unknown field `orign`"), "{e}");
}

#[test]
fn a_trs_world_is_built_and_its_answers_graded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let definition = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/trs-corridor-2025.toml"
    );
    let out = bin()
        .current_dir(d)
        .args([
            "mtp", "scenario", "build", definition, "--seed", "3", "--out", "trs",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "trs.csv",
        "trs.mapping.toml",
        "answers.toml",
        "brief.en.md",
        "brief.ru.md",
    ] {
        assert!(d.join("trs").join(f).is_file(), "{f}");
    }
    // The export reads with the TRS engine as the brief says.
    let out = bin()
        .current_dir(d.join("trs"))
        .args([
            "trs",
            "run",
            "trs.csv",
            "--mapping",
            "trs.mapping.toml",
            "--html",
            "r.html",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The key's answers, written as a trainee writes them, score 100.
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("trs.key.json")).unwrap()).unwrap();
    let a = &key["trs_answers"];
    let mut answers = format!(
        "red_median_hours = {}\nweekend_post = {}\nnight_queue_post = {}\ndoubling_post = {}\ndoubling_month = {}\n",
        a["red_median_hours"],
        a["weekend_post"],
        a["night_queue_post"],
        a["doubling_post"],
        a["doubling_month"]
    );
    for w in a["wrong_row"].as_array().unwrap() {
        answers.push_str(&format!(
            "[[wrong_row]]\nid = {}\nreason = {}\n",
            w["id"], w["reason"]
        ));
    }
    std::fs::write(d.join("answers.toml"), answers).unwrap();
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "grade",
            "--key",
            "trs.key.json",
            "--submission",
            "answers.toml",
        ])
        .output()
        .unwrap();
    let feedback = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        feedback.starts_with("Score 100.0 of 100"),
        "{feedback}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Answers that do not read are named with their line.
    std::fs::write(d.join("bad.toml"), "red_median_hours = \"soon\"\n").unwrap();
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "grade",
            "--key",
            "trs.key.json",
            "--submission",
            "bad.toml",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(e.contains("bad.toml:1:20: invalid type"), "{e}");
}

#[test]
fn certificates_are_issued_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let issue = |name: &str| {
        bin()
            .current_dir(d)
            .args([
                "mtp",
                "certificate",
                "issue",
                "--secret",
                "programme.secret",
                "--name",
                name,
            ])
            .args([
                "--country",
                "KZ",
                "--level",
                "trainer",
                "--course",
                "Risk profiling, Almaty",
            ])
            .args(["--date", "2026-12-01", "--score", "87.5", "--out", "cert"])
            .output()
            .unwrap()
    };
    let out = issue("Aliya K.");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("created the programme's secret"));
    for f in [
        "certificate.json",
        "certificate.en.html",
        "certificate.ru.html",
    ] {
        assert!(d.join("cert").join(f).is_file(), "{f}");
    }
    let verify = || {
        bin()
            .current_dir(d)
            .args([
                "mtp",
                "certificate",
                "verify",
                "--secret",
                "programme.secret",
            ])
            .args(["--certificate", "cert/certificate.json"])
            .output()
            .unwrap()
    };
    let out = verify();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("valid: Aliya K. (KZ)"));
    // A forged score fails the check.
    let path = d.join("cert/certificate.json");
    let forged = std::fs::read_to_string(&path)
        .unwrap()
        .replace("87.5", "97.5");
    std::fs::write(&path, forged).unwrap();
    let out = verify();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("NOT valid"));
    // Bad input is named.
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "certificate",
            "issue",
            "--secret",
            "programme.secret",
            "--name",
            "X",
        ])
        .args([
            "--country",
            "KZ",
            "--level",
            "expert",
            "--course",
            "c",
            "--date",
            "2026-12-01",
        ])
        .args(["--score", "50", "--out", "c2"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--level expert: expected participant"));
}

#[test]
fn a_selectivity_pack_is_built_and_its_plan_graded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let def = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/selectivity-kz-posts.toml"
    );
    let out = bin()
        .current_dir(d)
        .args([
            "mtp",
            "scenario",
            "build",
            def,
            "--seed",
            "3",
            "--out",
            "pack",
            "--trainee",
            "nodira",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains("post Khorgos:"), "{said}");
    for f in [
        "history.csv",
        "stream.csv",
        "posts.csv",
        "plan.toml",
        "brief.en.md",
        "brief.ru.md",
    ] {
        assert!(d.join("pack").join(f).is_file(), "{f}");
    }
    let stream = std::fs::read_to_string(d.join("pack/stream.csv")).unwrap();
    assert!(stream.starts_with("Declaration ID,Date,Office,Risk Score\n"));
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("pack.key.json")).unwrap()).unwrap();
    std::fs::write(
        d.join("reference.toml"),
        key["reference_plan"].as_str().unwrap(),
    )
    .unwrap();
    let grade = |file: &str| {
        let out = bin()
            .current_dir(d)
            .args([
                "mtp",
                "grade",
                "--key",
                "pack.key.json",
                "--submission",
                file,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(grade("reference.toml").starts_with("Score 100.0 of 100"));
    // The template as given finds nothing.
    let blank = grade("pack/plan.toml");
    assert!(
        blank.starts_with("Score 0.0 of 100") && blank.contains("below the required 1%"),
        "{blank}"
    );
}
