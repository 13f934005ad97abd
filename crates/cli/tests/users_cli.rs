//! `smartborder users`: accounts created from the command line, a generated password shown
//! once, mistakes named, disabling, and the audit log vouching for every account.

use std::io::Write;
use std::process::{Command, Stdio};

fn smartborder(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartborder"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("console.db").display());
    let out = smartborder(
        &[
            "users",
            "create",
            "--db",
            &db,
            "--login",
            "aliya",
            "--role",
            "officer",
            "--country",
            "KZ",
            "--office",
            "KZ000101",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        password.trim().len(),
        20,
        "a generated password, shown once"
    );
    let out = smartborder(
        &[
            "users",
            "create",
            "--db",
            &db,
            "--login",
            "carec",
            "--role",
            "coordinator",
            "--password-stdin",
        ],
        Some("a password of the secretariat\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "a given password is not shown");
    for (args, expected) in [
        (
            vec!["--login", "xx1", "--role", "king", "--country", "KZ"],
            "--role king",
        ),
        (
            vec![
                "--login",
                "xx2",
                "--role",
                "officer",
                "--country",
                "KZ",
                "--office",
                "GE000301",
            ],
            "not an office of KZ",
        ),
        (
            vec![
                "--login",
                "xx3",
                "--role",
                "officer",
                "--country",
                "KZ",
                "--office",
                "kz-1",
            ],
            "--office kz-1",
        ),
        (
            vec!["--login", "aliya", "--role", "analyst", "--country", "KZ"],
            "taken",
        ),
    ] {
        let mut all = vec!["users", "create", "--db", &db];
        all.extend(args);
        let out = smartborder(&all, None);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
    assert!(
        smartborder(&["users", "disable", "--db", &db, "aliya"], None)
            .status
            .success()
    );
    assert!(
        !smartborder(&["users", "disable", "--db", &db, "aliya"], None)
            .status
            .success()
    );
    let out = smartborder(&["users", "list", "--db", &db], None);
    let list = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].contains("aliya")
            && lines[0].contains("disabled")
            && lines[0].contains("KZ000101"),
        "{list}"
    );
    assert!(
        lines[1].contains("carec")
            && lines[1].contains("coordinator")
            && lines[1].contains("active"),
        "{list}"
    );
    assert!(!list.contains(password.trim()));
    let out = smartborder(&["audit", "verify", "--db", &db], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("2 accounts match their entries"),
        "{stdout}"
    );
}
