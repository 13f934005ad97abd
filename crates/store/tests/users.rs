//! Accounts of people: created with a role, an administration and (for officers) offices;
//! passwords hashed with Argon2id; signing in locks the account after five failures in a row;
//! creation and disabling are audited and their rows checked by `audit::verify`.

mod common;

use common::*;
use smartborder_store::users::{self, AccountError, MAX_FAILURES, Role, SignIn};
use smartborder_store::{Store, audit};
use smartborder_transit::{OfficeRef, Principal};
use sqlx::Connection;

async fn store() -> (tempfile::TempDir, String, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("users.db").display());
    let store = Store::open(&url).await.unwrap();
    (dir, url, store)
}

const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_checked_when_created() {
    let (_dir, _, store) = store().await;
    let officer = users::create(
        &store,
        "cli",
        "aliya.k",
        Role::Officer,
        Some("KZ"),
        &[o("KZ000101")],
        PASSWORD,
    )
    .await
    .unwrap();
    assert_eq!(
        officer.principal(),
        Principal::Administration {
            country: "KZ".into()
        }
    );
    let coordinator = users::create(
        &store,
        "cli",
        "carec",
        Role::Coordinator,
        None,
        &[],
        PASSWORD,
    )
    .await
    .unwrap();
    assert_eq!(coordinator.principal(), Principal::Coordinator);
    // login, role, country, offices, password, what the refusal says
    type Case<'a> = (
        &'a str,
        Role,
        Option<&'a str>,
        &'a [&'a str],
        &'a str,
        &'a str,
    );
    let cases: [Case; 9] = [
        ("a", Role::Analyst, Some("KZ"), &[], PASSWORD, "login"),
        (
            "bob\u{0}",
            Role::Analyst,
            Some("KZ"),
            &[],
            PASSWORD,
            "login",
        ),
        (
            "bob",
            Role::Analyst,
            Some("KZ"),
            &[],
            "short",
            "at least 12",
        ),
        ("bob", Role::Analyst, None, &[], PASSWORD, "country"),
        (
            "bob",
            Role::Coordinator,
            Some("KZ"),
            &[],
            PASSWORD,
            "no administration",
        ),
        (
            "bob",
            Role::Officer,
            Some("KZ"),
            &[],
            PASSWORD,
            "at least one",
        ),
        (
            "bob",
            Role::Officer,
            Some("KZ"),
            &["GE000301"],
            PASSWORD,
            "not an office of KZ",
        ),
        (
            "bob",
            Role::Analyst,
            Some("KZ"),
            &["KZ000101"],
            PASSWORD,
            "only officers",
        ),
        ("aliya.k", Role::Analyst, Some("KZ"), &[], PASSWORD, "taken"),
    ];
    for (login, role, country, offices, password, expected) in cases {
        let offices: Vec<OfficeRef> = offices.iter().map(|x| o(x)).collect();
        let e: AccountError =
            users::create(&store, "cli", login, role, country, &offices, password)
                .await
                .unwrap_err();
        assert!(e.to_string().contains(expected), "{login:?}: {e}");
    }
    let listed = users::list(&store).await.unwrap();
    assert_eq!(listed, vec![officer, coordinator]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_locks_after_repeated_failures() {
    let (_dir, url, store) = store().await;
    let user = users::create(
        &store,
        "cli",
        "giorgi",
        Role::Supervisor,
        Some("GE"),
        &[],
        PASSWORD,
    )
    .await
    .unwrap();
    // The password is stored as an Argon2id hash, never as text.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (stored,): (String,) = sqlx::query_as("SELECT password_hash FROM users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains(PASSWORD));

    assert_eq!(
        users::sign_in(&store, "giorgi", PASSWORD).await.unwrap(),
        SignIn::Accepted(user.clone())
    );
    // An unknown login and a wrong password get the same answer.
    assert_eq!(
        users::sign_in(&store, "nobody", PASSWORD).await.unwrap(),
        SignIn::Refused
    );
    for _ in 1..MAX_FAILURES {
        assert_eq!(
            users::sign_in(&store, "giorgi", "wrong password!")
                .await
                .unwrap(),
            SignIn::Refused
        );
    }
    // A success in between clears the count.
    assert!(matches!(
        users::sign_in(&store, "giorgi", PASSWORD).await.unwrap(),
        SignIn::Accepted(_)
    ));
    for _ in 1..MAX_FAILURES {
        assert_eq!(
            users::sign_in(&store, "giorgi", "wrong password!")
                .await
                .unwrap(),
            SignIn::Refused
        );
    }
    assert!(matches!(
        users::sign_in(&store, "giorgi", "wrong password!")
            .await
            .unwrap(),
        SignIn::Locked { .. }
    ));
    // Locked: even the right password is refused until the lock ends.
    assert!(matches!(
        users::sign_in(&store, "giorgi", PASSWORD).await.unwrap(),
        SignIn::Locked { .. }
    ));
    sqlx::query("UPDATE users SET locked_until = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        users::sign_in(&store, "giorgi", PASSWORD).await.unwrap(),
        SignIn::Accepted(_)
    ));
    // Disabled.
    assert!(users::disable(&store, "cli", "giorgi").await.unwrap());
    assert!(!users::disable(&store, "cli", "giorgi").await.unwrap());
    assert_eq!(
        users::sign_in(&store, "giorgi", PASSWORD).await.unwrap(),
        SignIn::Disabled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_audited_and_checked() {
    let (_dir, url, store) = store().await;
    users::create(
        &store,
        "cli",
        "nigora",
        Role::Analyst,
        Some("UZ"),
        &[],
        PASSWORD,
    )
    .await
    .unwrap();
    users::create(
        &store,
        "cli",
        "arman",
        Role::Admin,
        Some("KZ"),
        &[],
        PASSWORD,
    )
    .await
    .unwrap();
    users::disable(&store, "cli", "arman").await.unwrap();
    let v = audit::verify(&store, None, &[]).await.unwrap();
    assert!(v.intact(), "{:?}", v.problems);
    assert_eq!(v.users_checked, 2);
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for (tamper, expected) in [
        (
            "UPDATE users SET role = 'admin' WHERE login = 'nigora'",
            "differs",
        ),
        (
            "UPDATE users SET disabled_at = NULL WHERE login = 'arman'",
            "disabling undone",
        ),
    ] {
        sqlx::query(tamper).execute(&mut conn).await.unwrap();
        let v = audit::verify(&store, None, &[]).await.unwrap();
        assert!(
            v.problems.iter().any(|p| p.what.contains(expected)),
            "{tamper}: {:?}",
            v.problems
        );
    }
}
