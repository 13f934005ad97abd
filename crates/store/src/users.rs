//! People who sign in to the console: accounts of an administration with a role, passwords
//! hashed with Argon2id, locked for a while after repeated failures. API keys stay for systems;
//! accounts are for people, and the audit log names the user behind every write.
//!
//! Signing in costs the same whether the login exists or not (a dummy hash is checked for an
//! unknown login), so the answer does not tell which logins exist.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use smartborder_transit::{OfficeRef, Principal};

use crate::audit::{self, AuditEntry, Record, sha256_hex};
use crate::{Store, StoreError, now_micros};

/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub const LOCK_SECONDS: i64 = 15 * 60;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// What a person does in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A border officer: records events at their own offices.
    Officer,
    /// Sees the whole administration's movements.
    Supervisor,
    /// Risk analyst: profiles, backtests, models.
    Analyst,
    /// Corridor coordinator: reads every movement, writes none.
    Coordinator,
    /// Manages the administration's accounts.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Analyst => "analyst",
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Officer,
            Role::Supervisor,
            Role::Analyst,
            Role::Coordinator,
            Role::Admin,
        ]
        .into_iter()
        .find(|r| r.name() == s)
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub login: String,
    pub role: Role,
    /// The administration (ISO 3166 alpha-2); `None` for the corridor coordinator.
    pub country: Option<String>,
    /// An officer's offices.
    pub offices: Vec<OfficeRef>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl User {
    /// Who the user is to the rules of the single window: their administration, or the
    /// coordinator.
    pub fn principal(&self) -> Principal {
        match &self.country {
            Some(country) if self.role != Role::Coordinator => Principal::Administration {
                country: country.clone(),
            },
            _ => Principal::Coordinator,
        }
    }

    /// May this person record events at this office? An officer at their own offices only; a
    /// supervisor at any office of their administration; other roles record nothing. The
    /// single window's own rules (the administration's offices, the lifecycle) still apply.
    pub fn may_record_at(&self, office: &OfficeRef) -> bool {
        match self.role {
            Role::Officer => self.offices.contains(office),
            Role::Supervisor => self.country.as_deref() == Some(office.country()),
            Role::Analyst | Role::Coordinator | Role::Admin => false,
        }
    }
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(
        "login \"{0}\": expected 3 to 64 letters, digits or . _ - @ (the login is shown in the audit log)"
    )]
    Login(String),
    #[error("the password has {0} characters; at least {MIN_PASSWORD_CHARS} are required")]
    ShortPassword(usize),
    #[error("country \"{0}\": expected an ISO 3166 alpha-2 code such as KZ")]
    Country(String),
    #[error("a {0} belongs to an administration: give its country")]
    NoCountry(&'static str),
    #[error("the coordinator belongs to no administration: give no country")]
    CoordinatorCountry,
    #[error("an officer records events at their offices: give at least one")]
    NoOffices,
    #[error("office {office} is not an office of {country}")]
    ForeignOffice { office: String, country: String },
    #[error("only officers have offices")]
    OfficesForNonOfficer,
    #[error("login \"{0}\" is taken")]
    Taken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outcome of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Accepted(User),
    /// Unknown login or wrong password: the same answer for both.
    Refused,
    /// Locked after repeated failures, until this instant (microseconds).
    Locked {
        until: i64,
    },
    Disabled,
}

fn hasher() -> Argon2<'static> {
    Argon2::default()
}

fn hash(password: &str) -> Result<String, StoreError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("hashing a password: {e}")))
}

fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to check unknown logins against, so that they cost as much as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("not the password of anyone").unwrap_or_default())
}

fn check_login(login: &str) -> Result<(), AccountError> {
    let ok = (3..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::Login(login.escape_default().to_string()))
    }
}

/// The record of an account as created (its stable fields; not the password hash, nor the
/// count of failed sign-ins, which change without a write of the account).
pub(crate) fn user_record(
    id: &str,
    login: &str,
    role: &str,
    country: Option<&str>,
    offices: &str,
    created_at: i64,
) -> Record {
    Record {
        name: format!("users/{id}"),
        sha256: sha256_hex(
            format!(
                "{id}|{login}|{role}|{}|{offices}|{created_at}",
                country.unwrap_or("")
            )
            .as_bytes(),
        ),
    }
}

/// Creates an account; `actor` is who creates it (the audit log's actor). A new account starts
/// with the notifications sent before it marked as seen.
pub async fn create(
    store: &Store,
    actor: &str,
    login: &str,
    role: Role,
    country: Option<&str>,
    offices: &[OfficeRef],
    password: &str,
) -> Result<User, AccountError> {
    check_login(login)?;
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::ShortPassword(chars));
    }
    match (role, country) {
        (Role::Coordinator, Some(_)) => return Err(AccountError::CoordinatorCountry),
        (Role::Coordinator, None) => {}
        (r, None) => return Err(AccountError::NoCountry(r.name())),
        (_, Some(c)) if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) => {
            return Err(AccountError::Country(c.escape_default().to_string()));
        }
        _ => {}
    }
    match role {
        Role::Officer if offices.is_empty() => return Err(AccountError::NoOffices),
        Role::Officer => {
            if let Some(o) = offices.iter().find(|o| Some(o.country()) != country) {
                return Err(AccountError::ForeignOffice {
                    office: o.to_string(),
                    country: country.unwrap_or_default().to_string(),
                });
            }
        }
        _ if !offices.is_empty() => return Err(AccountError::OfficesForNonOfficer),
        _ => {}
    }
    let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE login = $1")
        .bind(login)
        .fetch_optional(&store.pool)
        .await
        .map_err(StoreError::from)?;
    if taken.is_some() {
        return Err(AccountError::Taken(login.to_string()));
    }
    let password_hash = hash(password)?;
    let user = User {
        id: format!("user_{}", crate::keys::random_hex(6)),
        login: login.to_string(),
        role,
        country: country.map(str::to_string),
        offices: offices.to_vec(),
        created_at: now_micros(),
        disabled_at: None,
    };
    let offices_text: Vec<&str> = user.offices.iter().map(OfficeRef::as_str).collect();
    let mut tx = store.pool.begin().await.map_err(StoreError::from)?;
    sqlx::query(
        "INSERT INTO users (id, login, role, country, offices, password_hash, failed_attempts, created_at, notifications_seen) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, (SELECT COALESCE(MAX(id), 0) FROM notifications))",
    )
    .bind(&user.id)
    .bind(&user.login)
    .bind(role.name())
    .bind(user.country.as_deref())
    .bind(offices_text.join(","))
    .bind(&password_hash)
    .bind(user.created_at)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    let body = format!(
        "{} {} {} {}",
        login,
        role.name(),
        user.country.as_deref().unwrap_or("-"),
        offices_text.join(",")
    );
    audit::append(
        &mut tx,
        store.backend,
        &[AuditEntry {
            actor,
            action: "user_created",
            subject: &user.id,
            body: body.as_bytes(),
            record: Some(user_record(
                &user.id,
                &user.login,
                role.name(),
                user.country.as_deref(),
                &offices_text.join(","),
                user.created_at,
            )),
        }],
        user.created_at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(user)
}

/// id, login, role, country, offices, created_at, disabled_at.
pub(crate) type UserRow = crate::audit::IdentityRow;

pub(crate) fn user_of(row: UserRow) -> Result<User, StoreError> {
    let (id, login, role, country, offices, created_at, disabled_at) = row;
    let role = Role::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("user {id} has role {role}")))?;
    let offices = offices
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|o| OfficeRef::parse(o).map_err(|e| StoreError::Corrupt(format!("user {id}: {e}"))))
        .collect::<Result<_, _>>()?;
    Ok(User {
        id,
        login,
        role,
        country,
        offices,
        created_at,
        disabled_at,
    })
}

pub(crate) const USER_COLUMNS: &str = "id, login, role, country, offices, created_at, disabled_at";

/// Every account, oldest first.
pub async fn list(store: &Store) -> Result<Vec<User>, StoreError> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY created_at"
    ))
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter().map(user_of).collect()
}

/// Disables an account by login; false when no active account has it.
pub async fn disable(store: &Store, actor: &str, login: &str) -> Result<bool, StoreError> {
    let now = now_micros();
    let mut tx = store.pool.begin().await?;
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM users WHERE login = $1 AND disabled_at IS NULL")
            .bind(login)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((id,)) = row else {
        return Ok(false);
    };
    sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        store.backend,
        &[AuditEntry {
            actor,
            action: "user_disabled",
            subject: &id,
            body: b"",
            record: Some(audit::withdrawal_record("users", &id, "disabled", now)),
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Signs a person in. A wrong password counts a failure; the fifth in a row locks the account
/// for [`LOCK_SECONDS`]; a success clears the count.
pub async fn sign_in(store: &Store, login: &str, password: &str) -> Result<SignIn, StoreError> {
    let row: Option<(String, String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT id, password_hash, locked_until, disabled_at FROM users WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(&store.pool)
    .await?;
    let Some((id, stored, locked_until, disabled_at)) = row else {
        // The same work as for a known login.
        verify(password, dummy_hash());
        return Ok(SignIn::Refused);
    };
    let now = now_micros();
    let good = verify(password, &stored);
    if disabled_at.is_some() {
        return Ok(SignIn::Disabled);
    }
    if let Some(until) = locked_until
        && until > now
    {
        return Ok(SignIn::Locked { until });
    }
    if !good {
        // Counted in the database, so concurrent attempts all count.
        sqlx::query("UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = $1")
            .bind(&id)
            .execute(&store.pool)
            .await?;
        let (failures,): (i64,) = sqlx::query_as("SELECT failed_attempts FROM users WHERE id = $1")
            .bind(&id)
            .fetch_one(&store.pool)
            .await?;
        if failures >= MAX_FAILURES {
            let until = now + LOCK_SECONDS * 1_000_000;
            sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = $1 WHERE id = $2")
                .bind(until)
                .bind(&id)
                .execute(&store.pool)
                .await?;
            return Ok(SignIn::Locked { until });
        }
        return Ok(SignIn::Refused);
    }
    sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
        .bind(&id)
        .execute(&store.pool)
        .await?;
    let row: UserRow = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(&id)
        .fetch_one(&store.pool)
        .await?;
    Ok(SignIn::Accepted(user_of(row)?))
}
