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

/// Console sessions: the token signs in until it expires, is closed, or its account is
/// disabled; the database keeps only the token's hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_last_until_expiry_sign_out_or_disabling() {
    use smartborder_store::sessions;
    let (_dir, url, store) = store().await;
    let user = users::create(
        &store,
        "cli",
        "nino.b",
        Role::Officer,
        Some("GE"),
        &[o("GE000301")],
        PASSWORD,
    )
    .await
    .unwrap();
    let first = sessions::open(&store, &user).await.unwrap();
    let second = sessions::open(&store, &user).await.unwrap();
    assert_ne!(first.token, second.token);
    assert_ne!(first.csrf, second.csrf);
    let found = sessions::find(&store, &first.token).await.unwrap().unwrap();
    assert_eq!(found.user, user);
    assert_eq!(found.csrf, first.csrf);
    assert_eq!(found.notifications_seen, 0);
    assert!(
        sessions::find(&store, "not a token")
            .await
            .unwrap()
            .is_none()
    );
    // Only hashes are stored.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE token_sha256 = $1")
        .bind(&first.token)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    // Signing out ends that session only.
    assert!(sessions::close(&store, &first.token).await.unwrap());
    assert!(!sessions::close(&store, &first.token).await.unwrap());
    assert!(
        sessions::find(&store, &first.token)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        sessions::find(&store, &second.token)
            .await
            .unwrap()
            .is_some()
    );
    // An expired session does not sign in (and is dropped at the next sign-in).
    sqlx::query("UPDATE sessions SET expires_at = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(
        sessions::find(&store, &second.token)
            .await
            .unwrap()
            .is_none()
    );
    let third = sessions::open(&store, &user).await.unwrap();
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 1, "the expired session is gone");
    // The seen cursor only moves forward.
    sessions::mark_seen(&store, &user.id, 7).await.unwrap();
    sessions::mark_seen(&store, &user.id, 3).await.unwrap();
    let found = sessions::find(&store, &third.token).await.unwrap().unwrap();
    assert_eq!(found.notifications_seen, 7);
    // Disabling the account ends its sessions at once.
    assert!(users::disable(&store, "cli", "nino.b").await.unwrap());
    assert!(
        sessions::find(&store, &third.token)
            .await
            .unwrap()
            .is_none()
    );
}

#[test]
fn who_records_where() {
    let user = |role, country: Option<&str>, offices: &[&str]| users::User {
        id: "user_1".into(),
        login: "x.y".into(),
        role,
        country: country.map(str::to_string),
        offices: offices.iter().map(|s| o(s)).collect(),
        created_at: 0,
        disabled_at: None,
    };
    let officer = user(Role::Officer, Some("AZ"), &["AZ000201"]);
    assert!(officer.may_record_at(&o("AZ000201")));
    assert!(!officer.may_record_at(&o("AZ000202")), "not their office");
    let supervisor = user(Role::Supervisor, Some("AZ"), &[]);
    assert!(supervisor.may_record_at(&o("AZ000202")));
    assert!(!supervisor.may_record_at(&o("GE000301")));
    for role in [Role::Analyst, Role::Admin] {
        assert!(!user(role, Some("AZ"), &[]).may_record_at(&o("AZ000201")));
    }
    assert!(!user(Role::Coordinator, None, &[]).may_record_at(&o("AZ000201")));
}
