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
