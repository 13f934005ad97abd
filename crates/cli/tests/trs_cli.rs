//! End-to-end: synthetic data -> `smartborder trs run` -> JSON and HTML reports, checked against an
//! independent computation written here from the CSV itself.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn smartborder(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_smartborder"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn synth(dir: &Path, n: &str, faults: &str) {
    let out = smartborder(&[
        "synth",
        "trs",
        "--consignments",
        n,
        "--seed",
        "11",
        "--faults",
        faults,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(dir: &Path, input: &str, extra: &[&str]) -> (std::process::Output, Value) {
    let json = dir.join(format!("{input}.json"));
    let mut args = vec![
        "trs",
        "run",
        input,
        "--mapping",
        "trs.mapping.toml",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_smartborder"))
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap();
    let report = std::fs::read(&json)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(Value::Null);
    (out, report)
}

/// Runs the binary in `dir`, asserts it succeeded, and returns its standard output.
fn succeed_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_smartborder"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// numpy.percentile(..., method="linear"), written independently of the engine.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[test]
fn report_numbers_match_an_independent_computation_from_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "3000", "0");
    let (out, report) = run(dir.path(), "trs.csv", &["--findings-limit", "0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report["consignments"], 3000);

    // Arrival -> release in minutes, per office, straight from the CSV. Both stamps are local
    // times of the same office zone, and no corridor zone changes offset in 2025, so the
    // difference of wall-clock times is the elapsed time.
    let mut reader = csv::Reader::from_path(dir.path().join("trs.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (office, arrival, release) = (col("Office"), col("Arrival"), col("Released"));
    let mut by_office: HashMap<String, Vec<f64>> = HashMap::new();
    let mut all = Vec::new();
    for r in reader.records() {
        let r = r.unwrap();
        let t = |i: usize| chrono::NaiveDateTime::parse_from_str(&r[i], "%Y-%m-%d %H:%M").unwrap();
        let minutes = (t(release) - t(arrival)).num_seconds() as f64 / 60.0;
        by_office
            .entry(r[office].to_string())
            .or_default()
            .push(minutes);
        all.push(minutes);
    }
    let intervals = report["intervals"].as_array().unwrap();
    let entry = |segment_by: &str, segment: Option<&str>| {
        intervals
            .iter()
            .find(|i| {
                i["from"] == "arrival"
                    && i["to"] == "release"
                    && i["segment_by"] == segment_by
                    && i["segment"].as_str() == segment
            })
            .unwrap_or_else(|| panic!("no entry for {segment_by} {segment:?}"))
    };
    let check = |e: &Value, values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        assert_eq!(e["count"].as_u64().unwrap() as usize, values.len());
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let close = |key: &str, want: f64| {
            let got = e[key].as_f64().unwrap();
            assert!((got - want).abs() < 1e-6, "{key}: {got} vs {want}");
        };
        close("mean_minutes", mean);
        close("median_minutes", percentile(values, 0.5));
        close("p90_minutes", percentile(values, 0.9));
        close("p95_minutes", percentile(values, 0.95));
    };
    check(entry("all", None), &mut all);
    assert!(by_office.len() > 5);
    for (office, values) in &mut by_office {
        check(entry("office", Some(office)), values);
    }
    // The contract keys exist on every entry.
    for i in intervals {
        for key in [
            "from",
            "to",
            "segment_by",
            "segment",
            "count",
            "mean_minutes",
            "median_minutes",
            "p90_minutes",
        ] {
            assert!(i.get(key).is_some(), "missing {key}");
        }
    }
}

#[test]
fn injected_faults_are_all_found_and_strict_makes_them_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = smartborder(&[
        "synth",
        "trs",
        "--consignments",
        "5000",
        "--seed",
        "3",
        "--faults",
        "0.05",
        "--format",
        "csv",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    // "injected faults: MissingStamp: 51, OutOfOrder: 47, ..."
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let injected = |name: &str| -> u64 {
        let at = stdout.find(&format!("{name}: ")).unwrap() + name.len() + 2;
        stdout[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (ok, report) = run(dir.path(), "trs.csv", &[]);
    assert!(ok.status.success());
    let found = |kind: &str| -> u64 {
        report["findings_summary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == kind)
            .map_or(0, |f| f["count"].as_u64().unwrap())
    };
    assert_eq!(found("missing_stamp"), injected("MissingStamp"));
    assert_eq!(found("out_of_order"), injected("OutOfOrder"));
    assert_eq!(found("duplicate_consignment"), injected("Duplicate"));
    assert_eq!(found("unparseable_stamp"), injected("Unparseable"));
    assert_eq!(found("unknown_zone"), injected("UnknownZone"));
    assert_eq!(
        report["consignments"].as_u64().unwrap(),
        5000 + injected("Duplicate")
    );
    assert_eq!(report["consignments_analysed"], 5000);
    let listed = report["findings"].as_array().unwrap();
    let f = listed
        .iter()
        .find(|f| f["kind"] == "unparseable_stamp")
        .unwrap();
    assert!(f["file"].as_str().unwrap().ends_with("trs.csv"));
    assert!(f["line"].as_u64().unwrap() >= 2);
    assert_eq!(f["value"], "31.02.2025 25:61");

    let (strict, _) = run(dir.path(), "trs.csv", &["--strict"]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("--strict"));
}

#[test]
fn csv_and_parquet_give_the_same_statistics() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "4000", "0");
    let (_, csv) = run(dir.path(), "trs.csv", &[]);
    let (_, parquet) = run(dir.path(), "trs.parquet", &[]);
    assert!(csv["intervals"].as_array().unwrap().len() > 50);
    // Compared whole, without printing thousands of numbers on failure.
    assert!(
        csv["intervals"] == parquet["intervals"],
        "interval statistics differ"
    );
    assert!(
        csv["arrival_pattern"] == parquet["arrival_pattern"],
        "arrival patterns differ"
    );
    assert!(csv["working_time_intervals"] == parquet["working_time_intervals"]);
    assert!(!csv["working_time_intervals"].as_array().unwrap().is_empty());
}

#[test]
fn html_report_in_english_and_russian_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "2000", "0.02");
    for (lang, title, findings) in [
        ("en", "Time Release Study", "Verification findings"),
        (
            "ru",
            "Исследование времени выпуска товаров",
            "Результаты проверки данных",
        ),
    ] {
        let html = dir.path().join(format!("report-{lang}.html"));
        let xlsx = dir.path().join(format!("report-{lang}.xlsx"));
        let (out, _) = run(
            dir.path(),
            "trs.csv",
            &[
                "--html",
                html.to_str().unwrap(),
                "--xlsx",
                xlsx.to_str().unwrap(),
                "--lang",
                lang,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&html).unwrap();
        assert!(text.contains(title) && text.contains(findings));
        assert!(text.contains(&format!("lang=\"{lang}\"")));
        // The method section is in the report's language too.
        let method = if lang == "ru" {
            "Квантили — линейная интерполяция"
        } else {
            "Linear interpolation between closest ranks"
        };
        assert!(text.contains(method), "{lang}: method section");
        if lang == "ru" {
            assert!(
                text.contains("Ожидались дата и время в формате"),
                "finding rules in Russian"
            );
        }
        assert!(text.matches("<svg").count() >= 5, "charts are inline SVG");
        assert!(
            !text.contains("<script")
                && !text
                    .replace("http://www.w3.org/2000/svg", "")
                    .contains("http://")
        );
        assert!(!text.contains("https://"), "no network resources");
        assert!(std::fs::metadata(&xlsx).unwrap().len() > 1000);
    }
}

#[test]
fn bad_arguments_and_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "10", "0");
    let (out, _) = run(dir.path(), "missing.csv", &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
    let (out, _) = run(dir.path(), "trs.mapping.toml", &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported input type"));
}

/// Several exports as one study: the synthetic study cut into three CSV files (a pattern names
/// them), one consignment's stamps split across two files, one stage stamped again differently
/// in a later file, give the statistics of the whole file; a CSV and the Parquet of the same
/// consignments read together give them too, each repeated consignment reported once, naming
/// the later file.
#[test]
fn many_files_make_one_study() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth(d, "3000", "0");
    let (_, whole) = run(d, "trs.csv", &[]);
    let text = std::fs::read_to_string(d.join("trs.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (header, rows) = (lines[0], &lines[1..]);
    let stamps_from = header.split(',').position(|c| c == "Lodged").unwrap();
    // Row 1600's first stamps in part-b, its last three in part-c.
    let cells = |row: &str| row.split(',').map(str::to_string).collect::<Vec<String>>();
    let mut early = cells(rows[1600]);
    let mut late = early.clone();
    let n = early.len();
    for c in &mut early[n - 3..] {
        c.clear();
    }
    for c in &mut late[stamps_from..n - 3] {
        c.clear();
    }
    // Row 10's release stamped a minute apart in part-c: the earlier is kept.
    let mut again = cells(rows[10]);
    let released = header.split(',').position(|c| c == "Released").unwrap();
    let last = if again[released].ends_with('4') {
        "5"
    } else {
        "4"
    };
    again[released].pop();
    again[released].push_str(last);
    assert_ne!(again[released], cells(rows[10])[released]);
    let file = |rows: Vec<String>| format!("{header}\n{}\n", rows.join("\n"));
    let owned = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    std::fs::write(d.join("part-a.csv"), file(owned(&rows[..1500]))).unwrap();
    let mut b = owned(&rows[1500..]);
    b[100] = early.join(",");
    std::fs::write(d.join("part-b.csv"), file(b)).unwrap();
    std::fs::write(
        d.join("part-c.csv"),
        file(vec![late.join(","), again.join(",")]),
    )
    .unwrap();

    let (out, parts) = run(d, "part-*.csv", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        parts["consignments"], whole["consignments"],
        "{}",
        parts["consignments"]
    );
    assert!(
        parts["intervals"] == whole["intervals"],
        "the statistics of the whole file"
    );
    let findings = parts["findings"].as_array().unwrap();
    let repeated: Vec<&Value> = findings
        .iter()
        .filter(|f| f["kind"] == "duplicate_stamp")
        .collect();
    assert_eq!(repeated.len(), 1, "{repeated:?}");
    assert_eq!(repeated[0]["file"], "part-c.csv");
    assert_eq!(repeated[0]["line"], 3);
    assert_eq!(
        repeated[0]["column"], "release",
        "the stage, as the mapping names it"
    );
    assert!(
        !findings
            .iter()
            .any(|f| f["kind"] == "duplicate_consignment"),
        "the split consignment added stamps"
    );

    // A CSV and the Parquet of all consignments: the CSV's 1,500 repeated in the Parquet.
    let (out, mixed) = run(d, "part-a.csv", &["trs.parquet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(mixed["intervals"] == whole["intervals"]);
    let summary = mixed["findings_summary"].as_array().unwrap();
    let duplicates = summary
        .iter()
        .find(|f| f["kind"] == "duplicate_consignment")
        .unwrap();
    assert_eq!(duplicates["count"], 1500);
    let listed = mixed["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "duplicate_consignment")
        .unwrap();
    assert_eq!(listed["file"], "trs.parquet");
    assert!(
        listed["message"].as_str().unwrap().contains("part-a.csv"),
        "{listed}"
    );

    let (out, _) = run(d, "nothing-*.csv", &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no file matches this pattern"));
}

/// The outlier rules: trimming p% at each end per office, checked against a computation from
/// the CSV (numpy-style percentiles per office, values strictly outside left out); the headline
/// figures with the outliers equal the statistics' own; with no rule nothing is flagged.
#[test]
fn outlier_rules_and_headline_figures_with_and_without() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "3000", "0");
    let (out, trimmed) = run(
        dir.path(),
        "trs.csv",
        &[
            "--outliers",
            "trim",
            "--trim-percent",
            "5",
            "--findings-limit",
            "0",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_path(dir.path().join("trs.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (office, arrival, release) = (col("Office"), col("Arrival"), col("Released"));
    let mut by_office: HashMap<String, Vec<f64>> = HashMap::new();
    for r in reader.records() {
        let r = r.unwrap();
        let t = |i: usize| chrono::NaiveDateTime::parse_from_str(&r[i], "%Y-%m-%d %H:%M").unwrap();
        let minutes = (t(release) - t(arrival)).num_seconds() as f64 / 60.0;
        by_office
            .entry(r[office].to_string())
            .or_default()
            .push(minutes);
    }
    let (mut kept, mut all) = (Vec::new(), Vec::new());
    for values in by_office.values_mut() {
        values.sort_by(f64::total_cmp);
        let (lo, hi) = (percentile(values, 0.05), percentile(values, 0.95));
        kept.extend(values.iter().copied().filter(|v| *v >= lo && *v <= hi));
        all.extend(values.iter().copied());
    }
    kept.sort_by(f64::total_cmp);
    all.sort_by(f64::total_cmp);
    let headline = trimmed["headline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["from"] == "arrival" && h["to"] == "release")
        .unwrap();
    let without = &headline["without_outliers"];
    assert_eq!(without["count"].as_u64().unwrap() as usize, kept.len());
    let median = without["median_minutes"].as_f64().unwrap();
    assert!((median - percentile(&kept, 0.5)).abs() < 1e-6, "{median}");
    let with = &headline["with_outliers"];
    assert_eq!(with["count"].as_u64().unwrap() as usize, all.len());
    assert!((with["median_minutes"].as_f64().unwrap() - percentile(&all, 0.5)).abs() < 1e-6);
    let flagged = trimmed["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "extreme_value" && f["column"] == "arrival -> release")
        .count();
    assert_eq!(flagged, all.len() - kept.len());
    assert_eq!(trimmed["method"]["outlier_rule"]["rule"], "trim");
    assert!(
        trimmed["method"]["extreme_values"]
            .as_str()
            .unwrap()
            .contains("95th")
    );

    let (_, none) = run(dir.path(), "trs.csv", &["--outliers", "none"]);
    assert!(
        !none["findings_summary"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "extreme_value")
    );
    let h = &none["headline"][0];
    assert_eq!(h["with_outliers"], h["without_outliers"]);

    let (out, _) = run(
        dir.path(),
        "trs.csv",
        &["--outliers", "trim", "--trim-percent", "60"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trim-percent"));
}

/// Trends per month against a group-by written here: arrival -> release durations grouped by
/// the UTC month of the arrival (local stamps turned into UTC with the row's zone), for the
/// whole population and for one office; the control limits recomputed from the medians.
#[test]
fn monthly_trends_match_a_group_by() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path(), "3000", "0");
    let (out, report) = run(dir.path(), "trs.csv", &["--trends", "month"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_path(dir.path().join("trs.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (office, zone, arrival, release) =
        (col("Office"), col("Zone"), col("Arrival"), col("Released"));
    let mut all: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut first_office: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut office_name = None;
    for r in reader.records() {
        let r = r.unwrap();
        let tz: chrono_tz::Tz = r[zone].parse().unwrap();
        let local =
            |i: usize| chrono::NaiveDateTime::parse_from_str(&r[i], "%Y-%m-%d %H:%M").unwrap();
        let arrived = local(arrival)
            .and_local_timezone(tz)
            .earliest()
            .unwrap()
            .with_timezone(&chrono::Utc);
        let minutes = (local(release) - local(arrival)).num_seconds() as f64 / 60.0;
        let month = arrived.format("%Y-%m").to_string();
        all.entry(month.clone()).or_default().push(minutes);
        let name = office_name
            .get_or_insert_with(|| r[office].to_string())
            .clone();
        if r[office] == name {
            first_office.entry(month).or_default().push(minutes);
        }
    }
    let series = |segment_by: &str, segment: Option<&str>| {
        report["trends"]["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["from"] == "arrival"
                    && s["to"] == "release"
                    && s["segment_by"] == segment_by
                    && s["segment"].as_str() == segment
            })
            .unwrap()
            .clone()
    };
    let check = |s: &Value, groups: &mut std::collections::BTreeMap<String, Vec<f64>>| {
        let points = s["points"].as_array().unwrap();
        assert_eq!(points.len(), groups.len());
        let mut medians = Vec::new();
        for (p, (month, values)) in points.iter().zip(groups.iter_mut()) {
            values.sort_by(f64::total_cmp);
            assert_eq!(p["period"], month.as_str());
            assert_eq!(p["count"].as_u64().unwrap() as usize, values.len());
            let median = percentile(values, 0.5);
            assert!((p["median_minutes"].as_f64().unwrap() - median).abs() < 1e-6);
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            assert!((p["mean_minutes"].as_f64().unwrap() - mean).abs() < 1e-6);
            assert!((p["p90_minutes"].as_f64().unwrap() - percentile(values, 0.9)).abs() < 1e-6);
            if values.len() >= 10 {
                medians.push(median);
            }
        }
        if medians.len() >= 3 {
            medians.sort_by(f64::total_cmp);
            let center = percentile(&medians, 0.5);
            let mut deviations: Vec<f64> = medians.iter().map(|m| (m - center).abs()).collect();
            deviations.sort_by(f64::total_cmp);
            let upper = center + 3.0 * 1.4826 * percentile(&deviations, 0.5);
            assert!((s["center_minutes"].as_f64().unwrap() - center).abs() < 1e-6);
            assert!((s["upper_limit_minutes"].as_f64().unwrap() - upper).abs() < 1e-6);
        }
    };
    check(&series("all", None), &mut all);
    let name = office_name.unwrap();
    check(&series("office", Some(&name)), &mut first_office);
    assert_eq!(report["trends"]["period"], "month");

    let (out, _) = run(dir.path(), "trs.csv", &["--trends", "daily"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected week or month"));
}

/// SplitMix64, written here from the published algorithm, for the reference bootstrap.
struct Reference(u64);

impl Reference {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The synthetic study with the release (and exit) of one office's consignments two hours
/// later.
fn delayed(dir: &Path, office: &str, out: &str) {
    let mut reader = csv::Reader::from_path(dir.join("trs.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut writer = csv::Writer::from_path(dir.join(out)).unwrap();
    writer.write_record(&headers).unwrap();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (o, released, exit) = (col("Office"), col("Released"), col("Exit"));
    for r in reader.records() {
        let mut r: Vec<String> = r.unwrap().iter().map(String::from).collect();
        if r[o] == office {
            for c in [released, exit] {
                if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&r[c], "%Y-%m-%d %H:%M") {
                    r[c] = (t + chrono::Duration::hours(2))
                        .format("%Y-%m-%d %H:%M")
                        .to_string();
                }
            }
        }
        writer.write_record(&r).unwrap();
    }
    writer.flush().unwrap();
}

/// Control-to-release minutes of one office's consignments, in file order.
fn control_to_release(path: &Path, office: &str) -> Vec<f64> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (o, control, released) = (col("Office"), col("Control completed"), col("Released"));
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[o] == office)
        .filter_map(|r| {
            let t = |i: usize| chrono::NaiveDateTime::parse_from_str(&r[i], "%Y-%m-%d %H:%M").ok();
            let d = (t(released)? - t(control)?).num_seconds() as f64 / 60.0;
            (d >= 0.0).then_some(d)
        })
        .collect()
}

#[test]
fn before_and_after_comparison_matches_a_reference_bootstrap_and_u() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth(d, "2000", "0");
    // Before: Poti port releases two hours late; after: Red Bridge does.
    delayed(d, "Poti port", "before.csv");
    delayed(d, "Red Bridge", "after.csv");
    let compare = |before: &str, extra: &[&str]| {
        let mut args = vec![
            "trs",
            "compare",
            before,
            "after.csv",
            "--mapping",
            "trs.mapping.toml",
            "--resamples",
            "300",
            "--seed",
            "11",
            "--json",
            "compare.json",
        ];
        args.extend_from_slice(extra);
        succeed_in(d, &args);
        let report: Value =
            serde_json::from_slice(&std::fs::read(d.join("compare.json")).unwrap()).unwrap();
        report
    };
    let report = compare(
        "before.csv",
        &[
            "--html",
            "compare.html",
            "--xlsx",
            "compare.xlsx",
            "--lang",
            "ru",
        ],
    );
    let comparisons = report["comparisons"].as_array().unwrap();
    let find = |office: &str| {
        comparisons
            .iter()
            .position(|c| c["from"] == "control" && c["to"] == "release" && c["segment"] == office)
            .unwrap()
    };
    let verdict = |office: &str| comparisons[find(office)]["verdict"].as_str().unwrap();
    assert_eq!(verdict("Poti port"), "improved");
    assert_eq!(verdict("Red Bridge"), "worsened");
    assert_eq!(verdict("Dostyk"), "no_clear_change");

    // The reference bootstrap of Poti port's comparison: the same generator and seed
    // (seed + k for the k-th comparison), medians by a full sort.
    let k = find("Poti port");
    let c = &comparisons[k];
    let before = control_to_release(&d.join("before.csv"), "Poti port");
    let after = control_to_release(&d.join("after.csv"), "Poti port");
    assert_eq!(c["count_before"].as_u64().unwrap() as usize, before.len());
    assert_eq!(c["count_after"].as_u64().unwrap() as usize, after.len());
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let mut rng = Reference(11 + k as u64);
    let draw = |rng: &mut Reference, from: &[f64]| -> Vec<f64> {
        (0..from.len())
            .map(|_| from[((rng.next() as u128 * from.len() as u128) >> 64) as usize])
            .collect()
    };
    let (mut medians, mut means) = (Vec::new(), Vec::new());
    for _ in 0..300 {
        let mut b = draw(&mut rng, &before);
        let mut a = draw(&mut rng, &after);
        means.push(mean(&a) - mean(&b));
        medians.push(median(&mut a) - median(&mut b));
    }
    medians.sort_by(f64::total_cmp);
    means.sort_by(f64::total_cmp);
    let close = |x: &Value, y: f64| (x.as_f64().unwrap() - y).abs() < 1e-9;
    assert!(
        close(&c["median"]["lower_minutes"], percentile(&medians, 0.025)),
        "{c}"
    );
    assert!(
        close(&c["median"]["upper_minutes"], percentile(&medians, 0.975)),
        "{c}"
    );
    assert!(
        close(&c["mean"]["lower_minutes"], percentile(&means, 0.025)),
        "{c}"
    );
    assert!(
        close(&c["mean"]["upper_minutes"], percentile(&means, 0.975)),
        "{c}"
    );
    let (mut b, mut a) = (before.clone(), after.clone());
    assert!(close(
        &c["median"]["difference_minutes"],
        median(&mut a) - median(&mut b)
    ));
    // U: the pairs (after, before) where after is longer, ties one half, counted pair by pair.
    let u: f64 = after
        .iter()
        .flat_map(|y| before.iter().map(move |x| (x, y)))
        .map(|(x, y)| {
            if y > x {
                1.0
            } else if y == x {
                0.5
            } else {
                0.0
            }
        })
        .sum();
    assert_eq!(c["mann_whitney"]["u_after"].as_f64().unwrap(), u);
    assert!(c["mann_whitney"]["p_value"].as_f64().unwrap() < 0.001);
    // Shares within each target, before and after, counted here.
    for w in c["within_target"].as_array().unwrap() {
        let limit = w["hours"].as_f64().unwrap() * 60.0;
        let share = |v: &[f64]| v.iter().filter(|&&m| m <= limit).count() as f64 / v.len() as f64;
        assert!(close(&w["before"], share(&before)), "{w}");
        assert!(close(&w["after"], share(&after)), "{w}");
    }

    // The reports: Russian HTML that says where time improved; an Excel workbook.
    let html = std::fs::read_to_string(d.join("compare.html")).unwrap();
    assert!(
        html.contains("lang=\"ru\"") && html.contains("улучшение") && html.contains("ухудшение")
    );
    assert!(
        html.contains("Poti port") && html.contains("быстрее на 2,0 ч"),
        "{html}"
    );
    // The forest plot of the median changes: a dot per interval of all consignments.
    let figure = html.split("id=\"median-changes\"").nth(1).unwrap();
    let figure = figure.split("</figure>").next().unwrap();
    let all_rows = comparisons
        .iter()
        .filter(|c| c["segment_by"] == "all")
        .count();
    assert_eq!(figure.matches("<circle").count(), all_rows);
    assert!(
        std::fs::read(d.join("compare.xlsx"))
            .unwrap()
            .starts_with(b"PK")
    );

    // The same bootstrap again: the same intervals.
    let again = compare("before.csv", &[]);
    assert_eq!(again["comparisons"], report["comparisons"]);

    // A report.json on one side: summaries only, Welch's interval for the mean.
    let (out, before_report) = run(d, "before.csv", &[]);
    assert!(out.status.success());
    let from_json = compare("before.csv.json", &[]);
    let c = from_json["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["from"] == "control" && c["to"] == "release" && c["segment"] == "Poti port")
        .unwrap();
    assert_eq!(c["from_durations"], false);
    assert!(c["mann_whitney"].is_null());
    let summary = before_report["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["from"] == "control" && s["to"] == "release" && s["segment"] == "Poti port")
        .unwrap()
        .clone();
    let (nb, sb) = (
        summary["count"].as_f64().unwrap(),
        summary["std_minutes"].as_f64().unwrap(),
    );
    let na = after.len() as f64;
    let ma = mean(&after);
    let sa = (after.iter().map(|x| (x - ma).powi(2)).sum::<f64>() / (na - 1.0)).sqrt();
    let d_mean = ma - summary["mean_minutes"].as_f64().unwrap();
    let se = (sb * sb / nb + sa * sa / na).sqrt();
    let close6 = |x: &Value, y: f64| (x.as_f64().unwrap() - y).abs() < 1e-6;
    assert!(
        close6(&c["mean"]["lower_minutes"], d_mean - 1.959964 * se),
        "{c}"
    );
    assert!(
        close6(&c["mean"]["upper_minutes"], d_mean + 1.959964 * se),
        "{c}"
    );
    assert_eq!(c["verdict"], "improved");

    // Bad input: a report that is not one, an export without a mapping.
    std::fs::write(d.join("bad.json"), "{\"intervals\": 3}").unwrap();
    let out = smartborder(&[
        "trs",
        "compare",
        d.join("bad.json").to_str().unwrap(),
        d.join("after.csv").to_str().unwrap(),
        "--json",
        d.join("x.json").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a TRS report"));
    let out = smartborder(&[
        "trs",
        "compare",
        d.join("before.csv").to_str().unwrap(),
        d.join("after.csv").to_str().unwrap(),
        "--json",
        d.join("x.json").to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs --mapping"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Arrival-to-release minutes per value of a column, from the CSV (local stamps of one office
/// share its zone).
fn arrival_to_release_by(path: &Path, column: &str) -> HashMap<String, Vec<f64>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (by, arrival, released) = (col(column), col("Arrival"), col("Released"));
    let mut out: HashMap<String, Vec<f64>> = HashMap::new();
    for r in reader.records() {
        let r = r.unwrap();
        let t = |i: usize| chrono::NaiveDateTime::parse_from_str(&r[i], "%Y-%m-%d %H:%M").ok();
        if let (Some(a), Some(b)) = (t(arrival), t(released)) {
            let m = (b - a).num_seconds() as f64 / 60.0;
            if m >= 0.0 {
                out.entry(r[by].to_string()).or_default().push(m);
            }
        }
    }
    out
}

#[test]
fn sampling_plans_match_the_formulas_computed_here() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth(d, "2000", "0");
    let plan = |args: &[&str]| -> Value {
        let json = d.join("plan.json");
        let mut all = vec!["trs", "plan"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--json", json.to_str().unwrap()]);
        succeed_in(d, &all);
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap()
    };
    let z = 1.959_963_984_540_054_f64;
    let stratum = |p: &Value, name: &str| -> Value {
        p["strata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stratum"] == name)
            .unwrap()
            .clone()
    };

    // The median by lane, 30 minutes: the smallest n whose order-statistic interval, read
    // from the pilot's quantiles, is at most 30 minutes either side; searched one n at a time.
    let median = plan(&[
        "trs.csv",
        "--mapping",
        "trs.mapping.toml",
        "--margin-minutes",
        "30",
        "--by",
        "lane",
    ]);
    let by_lane = arrival_to_release_by(&d.join("trs.csv"), "Lane");
    let mut total = 0;
    for (lane, values) in &by_lane {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| percentile(&sorted, p.clamp(0.0, 1.0));
        let n = (1..)
            .find(|&n: &u64| {
                let dp = z / (2.0 * (n as f64).sqrt());
                (q(0.5 + dp) - q(0.5 - dp)) / 2.0 <= 30.0
            })
            .unwrap();
        let s = stratum(&median, lane);
        assert_eq!(s["pilot_count"].as_u64().unwrap() as usize, values.len());
        assert_eq!(s["sample"].as_u64().unwrap(), n, "{lane}: {s}");
        total += n;
    }
    assert_eq!(median["stratified_by"], "lane");
    assert_eq!(median["total_sample"].as_u64().unwrap(), total);

    // The mean by mode within 10% of each mode's mean: n = ceil((z s / E)^2).
    let mean = plan(&[
        "trs.csv",
        "--mapping",
        "trs.mapping.toml",
        "--margin-percent",
        "10",
        "--by",
        "mode",
        "--statistic",
        "mean",
    ]);
    for (mode, v) in arrival_to_release_by(&d.join("trs.csv"), "Mode") {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let e = m * 0.10;
        let got = stratum(&mean, &mode);
        assert!((got["margin_minutes"].as_f64().unwrap() - e).abs() < 1e-6);
        assert_eq!(
            got["sample"].as_u64().unwrap(),
            ((z * s / e).powi(2) - 1e-9).ceil() as u64,
            "{mode}: {got}"
        );
    }

    // An assumed spread, no pilot: s = 120 min, E = 15 min, the mean: ceil((1.96 × 8)^2) = 246.
    let assumed = plan(&[
        "--assumed-std-minutes",
        "120",
        "--margin-minutes",
        "15",
        "--statistic",
        "mean",
    ]);
    assert_eq!(assumed["total_sample"], 246);

    // Clear errors.
    for (args, expected) in [
        (
            vec![
                "trs",
                "plan",
                "trs.csv",
                "--mapping",
                "trs.mapping.toml",
                "--margin-minutes",
                "30",
                "--by",
                "colour",
            ],
            "no segment \"colour\"",
        ),
        (
            vec![
                "trs",
                "plan",
                "trs.csv",
                "--mapping",
                "trs.mapping.toml",
                "--margin-minutes",
                "30",
                "--interval",
                "arrival:gone",
            ],
            "no stage \"gone\"",
        ),
        (
            vec![
                "trs",
                "plan",
                "trs.csv",
                "--mapping",
                "trs.mapping.toml",
                "--margin-minutes",
                "30",
                "--interval",
                "release:arrival",
            ],
            "must come before",
        ),
        (
            vec![
                "trs",
                "plan",
                "--assumed-std-minutes",
                "50",
                "--margin-minutes",
                "0",
            ],
            "--margin-minutes",
        ),
        (
            vec![
                "trs",
                "plan",
                "--assumed-std-minutes",
                "50",
                "--margin-minutes",
                "5",
                "--confidence",
                "95",
            ],
            "--confidence",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_smartborder"))
            .args(&args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn a_manual_collection_workbook_is_generated_filled_and_read_back() {
    use calamine::{Reader, open_workbook_auto};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth(d, "2000", "0");
    let cli = |args: &[&str]| succeed_in(d, args);
    cli(&[
        "trs",
        "plan",
        "trs.csv",
        "--mapping",
        "trs.mapping.toml",
        "--margin-minutes",
        "60",
        "--by",
        "office",
        "--study-days",
        "14",
        "--json",
        "plan.json",
    ]);
    let plan: Value = serde_json::from_slice(&std::fs::read(d.join("plan.json")).unwrap()).unwrap();
    let planned = |office: &str| {
        plan["strata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stratum"] == office)
            .unwrap()["sample"]
            .as_u64()
            .unwrap() as usize
    };
    let out = cli(&[
        "trs",
        "workbook",
        "--mapping",
        "trs.mapping.toml",
        "--plan",
        "plan.json",
        "--out",
        "collection.xlsx",
        "--lang",
        "ru",
    ]);
    assert!(out.contains("collection.mapping.toml"), "{out}");

    // A read-me, then a sheet per office of the plan with the mapping's columns, the plan's
    // rows, the office and its zone given by a formula once an identifier is typed.
    let mut book = open_workbook_auto(d.join("collection.xlsx")).unwrap();
    let sheets = book.sheet_names();
    assert_eq!(sheets[0], "Инструкция");
    assert!(
        sheets.contains(&"Red Bridge".to_string())
            && sheets.contains(&"Khorgos - Nur Zholy".to_string())
    );
    assert_eq!(sheets.len(), 15, "{sheets:?}");
    let range = book.worksheet_range("Red Bridge").unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        header,
        [
            "Declaration No",
            "Office",
            "Lane",
            "Mode",
            "Regime",
            "OGA",
            "Pre-arrival",
            "AEO",
            "Zone",
            "Arrival",
            "Registered",
            "Channel assigned",
            "Control completed",
            "Released",
            "Exit"
        ]
    );
    let formulas = book.worksheet_formula("Red Bridge").unwrap();
    let office_formulas: Vec<String> = formulas
        .rows()
        .flatten()
        .filter(|f| f.contains("Red Bridge"))
        .cloned()
        .collect();
    assert_eq!(office_formulas.len(), planned("Red Bridge"));
    assert!(
        office_formulas[0].contains("\"Red Bridge\""),
        "{}",
        office_formulas[0]
    );
    // The stamps accept dates and times only, on the plan's rows.
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(d.join("collection.xlsx")).unwrap()).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet2.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    assert!(xml.contains("type=\"date\""), "{xml}");
    assert!(
        xml.contains(&format!("J2:J{}", planned("Red Bridge") + 1)),
        "{xml}"
    );

    // Two posts fill some rows (the workbook as an officer would leave it: typed stamps are
    // dates, unused rows keep their empty formulas), one with a stamp that is not a date.
    let mut filled = rust_xlsxwriter::Workbook::new();
    filled
        .add_worksheet()
        .set_name("Инструкция")
        .unwrap()
        .write_string(0, 0, "read me")
        .unwrap();
    let mut expected: HashMap<&str, Vec<f64>> = HashMap::new();
    let stamp = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (post, zone, n) in [
        ("Red Bridge", "Asia/Tbilisi", 12u32),
        ("Sarpi", "Asia/Tbilisi", 9),
    ] {
        let sheet = filled.add_worksheet().set_name(post).unwrap();
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        for r in 1..=n {
            let minutes = 30 + 7 * r;
            sheet.write_string(r, 0, format!("{post}-{r}")).unwrap();
            sheet.write_string(r, 1, post).unwrap();
            sheet.write_string(r, 2, "green").unwrap();
            sheet.write_string(r, 8, zone).unwrap();
            let at = |h: u16, m: u8| {
                rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 11, 2)
                    .unwrap()
                    .and_hms(h, m, 0)
                    .unwrap()
            };
            sheet
                .write_datetime_with_format(r, 9, at(8, 0), &stamp)
                .unwrap();
            sheet
                .write_datetime_with_format(
                    r,
                    13,
                    at(8 + (minutes / 60) as u16, (minutes % 60) as u8),
                    &stamp,
                )
                .unwrap();
            expected.entry(post).or_default().push(minutes as f64);
        }
        // Rows not used: formulas that give empty text.
        sheet.set_formula_result_default("");
        for r in n + 1..n + 5 {
            sheet
                .write_formula(
                    r,
                    1,
                    rust_xlsxwriter::Formula::new(format!("=IF($A{}=\"\",\"\",\"{post}\")", r + 1))
                        .set_result(""),
                )
                .unwrap();
        }
        if post == "Sarpi" {
            sheet.write_string(n + 5, 0, "Sarpi-bad").unwrap();
            sheet.write_string(n + 5, 8, zone).unwrap();
            sheet.write_string(n + 5, 9, "yesterday").unwrap();
        }
    }
    filled.save(d.join("filled.xlsx")).unwrap();
    cli(&[
        "trs",
        "run",
        "filled.xlsx",
        "--mapping",
        "collection.mapping.toml",
        "--json",
        "filled.json",
    ]);
    let report: Value =
        serde_json::from_slice(&std::fs::read(d.join("filled.json")).unwrap()).unwrap();
    assert_eq!(report["consignments"], 22);
    for (post, minutes) in expected {
        let s = report["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["from"] == "arrival" && s["to"] == "release" && s["segment"] == post)
            .unwrap_or_else(|| panic!("{post}: {}", report["intervals"]));
        let mut sorted = minutes.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(s["count"].as_u64().unwrap() as usize, minutes.len());
        assert!((s["median_minutes"].as_f64().unwrap() - percentile(&sorted, 0.5)).abs() < 1e-9);
    }
    let bad = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["consignment"] == "Sarpi-bad")
        .unwrap_or_else(|| panic!("{}", report["findings"]));
    assert_eq!(bad["file"], "filled.xlsx [Sarpi]", "{bad}");
    assert_eq!(bad["line"], 15, "{bad}");
}

#[test]
fn a_joint_border_study_links_two_exports_by_mrn() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("kz.toml"),
        "[input]\nlayout = \"wide\"\nconsignment_id = \"Decl\"\ntimestamp_format = \"%Y-%m-%d %H:%M\"\ntimezone = \"Asia/Tashkent\"\n[stamps]\narrival = \"Arrived\"\nrelease = \"Released\"\nexit = \"Exited\"\n[segments]\noffice = \"Post\"\n",
    )
    .unwrap();
    std::fs::write(
        d.join("cn.toml"),
        "[input]\nlayout = \"wide\"\nconsignment_id = \"Entry\"\ntimestamp_format = \"%Y-%m-%d %H:%M\"\ntimezone = \"Asia/Shanghai\"\n[stamps]\narrival = \"Arrival\"\nrelease = \"Release\"\n[segments]\noffice = \"Port\"\n",
    )
    .unwrap();
    // Exits at 10:00 in Tashkent (05:00 UTC); arrivals in China (UTC+8) 90, 30, 60 and 120
    // minutes later; T5 never arrives; T6's MRN is on two Chinese entries.
    let mut kz = String::from("Decl,Post,MRN,Arrived,Released,Exited\n");
    for (i, mrn) in [
        "26KZ0001", "26KZ0002", "26KZ0003", "26KZ0004", "26KZ0005", "26KZ0006",
    ]
    .iter()
    .enumerate()
    {
        kz += &format!(
            "K{i},Khorgos,{mrn},2026-11-0{} 07:00,2026-11-0{} 09:00,2026-11-0{} 10:00\n",
            i + 1,
            i + 1,
            i + 1
        );
    }
    std::fs::write(d.join("kz.csv"), kz).unwrap();
    let mut cn = String::from("Entry,Port,Transit MRN,Arrival,Release\n");
    for (i, (mrn, minutes)) in [
        ("26kz-0001", 90),
        ("26 KZ 0002", 30),
        ("26kz0003", 60),
        ("26KZ0004", 120),
    ]
    .iter()
    .enumerate()
    {
        let arrival = 13 * 60 + minutes; // 05:00 UTC = 13:00 in Shanghai
        cn += &format!(
            "C{i},Horgos,{mrn},2026-11-0{} {:02}:{:02},2026-11-0{} 18:00\n",
            i + 1,
            arrival / 60,
            arrival % 60,
            i + 1
        );
    }
    cn += "C8,Horgos,26KZ9999,2026-11-09 14:00,2026-11-09 18:00\n";
    cn += "C6a,Horgos,26KZ0006,2026-11-06 14:00,2026-11-06 18:00\n";
    cn += "C6b,Horgos,26KZ0006,2026-11-07 14:00,2026-11-07 18:00\n";
    std::fs::write(d.join("cn.csv"), cn).unwrap();
    let out = smartborder(&[
        "trs",
        "joint",
        d.join("kz.csv").to_str().unwrap(),
        d.join("cn.csv").to_str().unwrap(),
        "--a-mapping",
        d.join("kz.toml").to_str().unwrap(),
        "--b-mapping",
        d.join("cn.toml").to_str().unwrap(),
        "--a-key",
        "MRN",
        "--b-key",
        "Transit MRN",
        "--a-name",
        "KZ",
        "--b-name",
        "CN",
        "--json",
        d.join("joint.json").to_str().unwrap(),
        "--html",
        d.join("joint.html").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("4 linked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(d.join("joint.json")).unwrap()).unwrap();
    assert_eq!(
        report["stages"],
        serde_json::json!([
            "KZ.arrival",
            "KZ.release",
            "KZ.exit",
            "CN.arrival",
            "CN.release"
        ])
    );
    let interval = |from: &str, to: &str, segment: Option<&str>| {
        report["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["from"] == from && s["to"] == to && s["segment"].as_str() == segment)
            .unwrap_or_else(|| panic!("{from} -> {to}: {}", report["intervals"]))
            .clone()
    };
    // The crossing, across two zones: 90, 30, 60, 120 minutes.
    let crossing = interval("KZ.exit", "CN.arrival", None);
    assert_eq!(crossing["count"], 4);
    assert_eq!(crossing["median_minutes"], 75.0);
    assert_eq!(crossing["mean_minutes"], 75.0);
    // The whole timeline, KZ's arrival (02:00 UTC) to CN's release (10:00 UTC): 8 hours.
    assert_eq!(
        interval("KZ.arrival", "CN.release", None)["median_minutes"],
        480.0
    );
    assert_eq!(
        interval("KZ.exit", "CN.arrival", Some("Khorgos → Horgos"))["count"],
        4
    );
    let count = |kind: &str| {
        report["findings_summary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == kind)
            .map_or(0, |f| f["count"].as_u64().unwrap())
    };
    assert_eq!(count("unmatched_link"), 2);
    assert_eq!(count("ambiguous_link"), 1);
    let ambiguous = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "ambiguous_link")
        .unwrap();
    assert_eq!(ambiguous["consignment"], "K5");
    assert_eq!(ambiguous["line"], 7);
    assert!(
        ambiguous["message"].as_str().unwrap().contains("C6a, C6b"),
        "{ambiguous}"
    );
    let stranger = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unmatched_link" && f["consignment"] == "C8")
        .unwrap();
    assert!(
        stranger["file"].as_str().unwrap().ends_with("cn.csv"),
        "{stranger}"
    );

    // A plate needs a window.
    let out = smartborder(&[
        "trs",
        "joint",
        "kz.csv",
        "cn.csv",
        "--a-mapping",
        "kz.toml",
        "--b-mapping",
        "cn.toml",
        "--a-key",
        "MRN",
        "--b-key",
        "Transit MRN",
        "--link",
        "plate",
        "--json",
        "x.json",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--window-hours"));
}
