use chrono::NaiveDate;
use smartborder_model::{Declaration, Lane};

use super::*;

fn attrs() -> Vec<String> {
    vec!["tax_type".to_string()]
}

fn parse(text: &str) -> Result<RuleSet, RuleError> {
    parse_rules(text, "rules.risk", None, &attrs())
}

fn declaration(id: &str, hs: &str, origin: &str, value: f64, mass: f64) -> Declaration {
    Declaration {
        id: id.into(),
        date: NaiveDate::from_ymd_opt(2020, 6, 1).unwrap(),
        office: "30".into(),
        regime: Some("11".into()),
        declarant: None,
        importer: Some("IMP1".into()),
        seller: None,
        hs_code: hs.into(),
        origin: Some(origin.into()),
        departure: None,
        quantity: None,
        mass_kg: Some(mass),
        value: Some(value),
        fob_value: None,
        taxes: None,
        tax_rate_percent: Some(8.0),
        attributes: vec![Some("A".into())],
        outcome: None,
    }
}

const PROGRAM: &str = r#"
# Apples and pears
list fruit_origins = ["US", "NZ"]
profile "RP-1" {
    description "Apples from the US"
    owner "RMU"
    valid from 2020-01-01 to 2020-12-31
    offices "30", 40
    regime "11"
    when hs_code starts_with ["0808", "0809"] and origin in fruit_origins
         and not (importer = "TRUSTED" or value_per_kg between 0.5 and 2)
    then red 50%, yellow 50%
}
profile "RP-2" {
    when tax_type != "B" and seller is missing and mass_kg > 100
    then score 0.25, review
}
"#;

#[test]
fn a_valid_program_parses_with_every_setting() {
    let rules = parse(PROGRAM).unwrap();
    assert_eq!(rules.profiles.len(), 2);
    let p = &rules.profiles[0];
    assert_eq!(p.id, "RP-1");
    assert_eq!(p.description.as_deref(), Some("Apples from the US"));
    assert_eq!(p.owner.as_deref(), Some("RMU"));
    assert_eq!(p.valid_from, NaiveDate::from_ymd_opt(2020, 1, 1));
    assert_eq!(p.offices, vec!["30", "40"]);
    assert_eq!(p.regimes, vec!["11"]);
    assert_eq!(p.actions.lanes, vec![(Lane::Red, 0.5), (Lane::Yellow, 0.5)]);
    assert_eq!(p.line, 4);
    let q = &rules.profiles[1];
    assert_eq!(q.actions.score, 0.25);
    assert!(q.actions.review);
    assert!(q.actions.lanes.is_empty());
}

#[test]
fn conditions_evaluate_as_written() {
    let rules = parse(PROGRAM).unwrap();
    let hit = |d: &Declaration| rules.hits(d).collect::<Vec<_>>();
    // 0808 from the US at 10 per kg: RP-1; mass 200 > 100 with no seller: RP-2.
    assert_eq!(
        hit(&declaration("a", "080810", "US", 2000.0, 200.0)),
        vec![0, 1]
    );
    // Value per kg 1.0 is inside the excluded band.
    assert_eq!(
        hit(&declaration("b", "080810", "US", 100.0, 100.0)),
        Vec::<usize>::new()
    );
    // Origin not in the list; commodity not in the prefixes.
    assert!(hit(&declaration("c", "080810", "CN", 2000.0, 50.0)).is_empty());
    assert!(hit(&declaration("d", "081010", "US", 2000.0, 50.0)).is_empty());
    // Out of the validity period, another office, another regime.
    let mut d = declaration("e", "080810", "US", 2000.0, 50.0);
    d.date = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    assert!(hit(&d).is_empty());
    let mut d = declaration("f", "080810", "US", 2000.0, 50.0);
    d.office = "41".into();
    assert!(hit(&d).is_empty());
    let mut d = declaration("g", "080810", "US", 2000.0, 50.0);
    d.regime = None;
    assert!(hit(&d).is_empty());
    // Trusted importer excluded by `not (...)`.
    let mut d = declaration("h", "080810", "US", 2000.0, 50.0);
    d.importer = Some("TRUSTED".into());
    assert!(hit(&d).is_empty());
    // Attribute condition: tax_type "B" fails `!= "B"`; an absent attribute fails it too.
    let mut d = declaration("i", "010101", "CN", 2000.0, 500.0);
    d.attributes = vec![Some("B".into())];
    assert!(hit(&d).is_empty());
    d.attributes = vec![None];
    assert!(hit(&d).is_empty());
}

#[test]
fn absent_values_fail_comparisons_but_satisfy_is_missing() {
    let rules = parse(
        r#"profile "A" { when value_per_kg < 5 then red }
           profile "B" { when not (value_per_kg >= 5) then red }
           profile "C" { when mass_kg is missing then red }
           profile "D" { when mass_kg is not missing then red }"#,
    )
    .unwrap();
    let mut d = declaration("x", "0101", "CN", 10.0, 0.0);
    d.mass_kg = None;
    assert_eq!(rules.hits(&d).collect::<Vec<_>>(), vec![1, 2]);
}

#[test]
fn value_control_uses_the_most_specific_band() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bands.csv"),
        "hs_code,origin,low,high\n6109,,2,20\n610910,CN,1,5\n",
    )
    .unwrap();
    let rules = parse_rules(
        r#"value_control "VC" { measure value_per_kg bands file "bands.csv" then red 100% }"#,
        "rules.risk",
        Some(dir.path()),
        &[],
    )
    .unwrap();
    let vc = rules.profiles[0].value_control.as_ref().unwrap();
    assert_eq!(vc.bands.band("610910", Some("CN")), Some((1.0, 5.0)));
    assert_eq!(vc.bands.band("610910", Some("TR")), Some((2.0, 20.0)));
    assert_eq!(vc.bands.band("610990", None), Some((2.0, 20.0)));
    assert_eq!(vc.bands.band("620000", Some("CN")), None);
    let hits = |hs: &str, origin: &str, value: f64| {
        rules.profiles[0].hits(&declaration("v", hs, origin, value, 1.0))
    };
    assert!(
        hits("610910", "CN", 6.0),
        "6 per kg is above the CN band 1..5"
    );
    assert!(
        !hits("610910", "TR", 6.0),
        "6 per kg is inside the any-origin band 2..20"
    );
    assert!(hits("610910", "TR", 1.5));
    assert!(!hits("620000", "CN", 1000.0), "no band, no hit");
}

#[test]
fn lists_load_from_files_beside_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("imp.txt"),
        "# watched\nIMP1\n\n IMP2 # note\n",
    )
    .unwrap();
    let rules = parse_rules(
        "list watched = file \"imp.txt\"\nprofile \"W\" { when importer in watched then yellow }",
        "rules.risk",
        Some(dir.path()),
        &[],
    )
    .unwrap();
    let mut d = declaration("w", "0101", "CN", 1.0, 1.0);
    d.attributes.clear();
    assert!(rules.profiles[0].hits(&d));
    d.importer = Some("IMP2".into());
    assert!(rules.profiles[0].hits(&d));
    d.importer = Some("IMP3".into());
    assert!(!rules.profiles[0].hits(&d));
}

/// Each invalid program, the position of the error and a part of its message.
#[test]
fn invalid_programs_name_line_column_and_expectation() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "profile RP { then red }",
            (1, 9),
            "expected the profile identifier in quotes, found `RP`",
        ),
        (
            "profile \"A\" {\n  when origin = \"US\"\n}",
            (3, 1),
            "has no `then`",
        ),
        (
            "profile \"A\" {\n  when origin < \"US\" then red }",
            (2, 15),
            "`<` does not apply to `origin`, a text field",
        ),
        (
            "profile \"A\" { when value starts_with \"1\" then red }",
            (1, 26),
            "`starts_with` does not apply to `value`, a number field",
        ),
        (
            "profile \"A\" { when origne = \"US\" then red }",
            (1, 20),
            "unknown field `origne`",
        ),
        (
            "profile \"A\" { when origin in risky then red }",
            (1, 30),
            "unknown list `risky`",
        ),
        (
            "profile \"A\" { when (origin = \"US\" then red }",
            (1, 35),
            "expected `)`, `and` or `or`, found `then`",
        ),
        (
            "profile \"A\" { when origin = \"US\" then red 60%, yellow 50% }",
            (1, 48),
            "add up to 110%",
        ),
        (
            "profile \"A\" { when origin = \"US\" then purple }",
            (1, 39),
            "unknown action `purple`",
        ),
        (
            "profile \"A\" { when value > \"x\" then red }",
            (1, 28),
            "expected a number, found the text \"x\"",
        ),
        (
            "profile \"A\" { valid from 2021-01-01 to 2020-01-01 then red }",
            (1, 15),
            "ends (2020-01-01) before it starts",
        ),
        (
            "profile \"A\" { then red }\nprofile \"A\" { then blue }",
            (2, 1),
            "defined twice",
        ),
        (
            "profile \"A\" { colour \"red\" then red }",
            (1, 15),
            "unknown setting `colour`",
        ),
        (
            "profile \"A\" { then red then blue }",
            (1, 24),
            "`then` is given twice",
        ),
        (
            "value_control \"V\" { measure origin then red }",
            (1, 29),
            "`origin` is not a number field",
        ),
        (
            "value_control \"V\" { measure unit_value then red }",
            (1, 49),
            "needs `measure` and `bands file`",
        ),
        (
            "list l = file \"/nonexistent/x.txt\"",
            (1, 15),
            "cannot be read",
        ),
        (
            "rule \"A\" {}",
            (1, 1),
            "expected `list`, `profile` or `value_control`, found `rule`",
        ),
        (
            "profile \"A\" { when value between 5 and 1 then red }",
            (1, 26),
            "lower bound is above",
        ),
        (
            "profile \"A\" { when id is missing then red }",
            (1, 20),
            "always present",
        ),
        (
            "profile \"A\" { when origin = \"US\" then red 0% }",
            (1, 43),
            "above 0%",
        ),
    ];
    for (text, (line, column), message) in cases {
        let e = parse(text).expect_err(text);
        assert_eq!((e.line, e.column), (*line, *column), "{text}: {e}");
        assert!(
            e.message.contains(message),
            "{text}: {e} should contain {message}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("rules.risk:{line}:{column}: "))
        );
    }
}

#[test]
fn bands_file_errors_name_the_bands_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.csv"),
        "hs_code,origin,low,high\n6109,,2,20\n61x9,,1,2\n",
    )
    .unwrap();
    let e = parse_rules(
        r#"value_control "V" { measure unit_value bands file "b.csv" then red }"#,
        "rules.risk",
        Some(dir.path()),
        &[],
    )
    .unwrap_err();
    assert!(e.file.ends_with("b.csv"), "{e}");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("found \"61x9\""), "{e}");
}

/// Mangled programs (truncated, characters dropped, swapped or inserted) give an error or a rule
/// set, never a panic.
#[test]
fn mangled_programs_never_panic() {
    let source: Vec<char> = PROGRAM.chars().collect();
    let alphabet: Vec<char> = "\"{}()[],=<>!%#-.0123456789 \naeinorstw_é"
        .chars()
        .collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..3000 {
        let mut text = source.clone();
        for _ in 0..1 + next(4) {
            let at = next(text.len() + 1);
            match next(4) {
                0 => text.truncate(at),
                1 if at < text.len() => {
                    text.remove(at);
                }
                2 if at + 1 < text.len() => text.swap(at, at + 1),
                _ => text.insert(at, alphabet[next(alphabet.len())]),
            }
        }
        let text: String = text.into_iter().collect();
        if let Err(e) = parse(&text) {
            assert!(e.line >= 1 && e.column >= 1, "{e}");
        }
    }
}

/// Deep nesting is refused with a located error instead of overflowing the stack: 10,000
/// parentheses in 20 KB once aborted the process.
#[test]
fn deep_nesting_is_refused_at_its_line_and_column() {
    for (open, close) in [("(", ")"), ("not ", "")] {
        let text = format!(
            "profile \"P\" {{\n    when {}hs_code = \"1\"{}\n    then red 100%\n}}\n",
            open.repeat(10_000),
            close.repeat(10_000)
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert_eq!(
            e.column,
            10 + MAX_CONDITION_DEPTH * open.len(),
            "the error points at the first level too deep: {e}"
        );
        assert!(e.message.contains("nest deeper"), "{e}");
    }
    // The limit itself is accepted.
    let text = format!(
        "profile \"P\" {{\n    when {}hs_code = \"1\"{}\n    then red 100%\n}}\n",
        "(".repeat(MAX_CONDITION_DEPTH),
        ")".repeat(MAX_CONDITION_DEPTH)
    );
    assert!(parse(&text).is_ok());
}
