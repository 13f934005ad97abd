//! Console sessions: what the cookie of a signed-in person stands for.
//!
//! The cookie holds a random token; the database keeps only its SHA-256, so a copy of the
//! database signs no one in. Each session has its own CSRF token, which every form of the
//! console carries, and an absolute expiry. A disabled account's sessions stop at once
//! (they are looked up together with the account).

use crate::audit::sha256_hex;
use crate::users::{USER_COLUMNS, User, UserRow, user_of};
use crate::{Store, StoreError, keys, now_micros};

/// How long a session lasts from sign-in: a working shift.
pub const SESSION_SECONDS: i64 = 10 * 3600;

/// A session as handed to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The cookie's value (never stored).
    pub token: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Microseconds since the Unix epoch.
    pub expires_at: i64,
}

/// A live session: the person and the CSRF token their forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: i64,
    /// The last notification the person has seen: later ones are unread.
    pub notifications_seen: i64,
}

/// Opens a session for a user who has just signed in, and drops sessions that have expired.
pub async fn open(store: &Store, user: &User) -> Result<NewSession, StoreError> {
    let now = now_micros();
    let session = NewSession {
        token: keys::random_hex(32),
        csrf: keys::random_hex(32),
        expires_at: now + SESSION_SECONDS * 1_000_000,
    };
    let mut tx = store.pool.begin().await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_sha256, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(sha256_hex(session.token.as_bytes()))
    .bind(&user.id)
    .bind(&session.csrf)
    .bind(now)
    .bind(session.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(session)
}

/// The session of a cookie, if it exists, has not expired and its account is not disabled.
pub async fn find(store: &Store, token: &str) -> Result<Option<Session>, StoreError> {
    let columns = USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    type Row = (
        String,
        i64,
        i64,
        String,
        String,
        String,
        Option<String>,
        String,
        i64,
        Option<i64>,
    );
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT s.csrf, s.expires_at, u.notifications_seen, {columns} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL"
    ))
    .bind(sha256_hex(token.as_bytes()))
    .bind(now_micros())
    .fetch_optional(&store.pool)
    .await?;
    row.map(
        |(
            csrf,
            expires_at,
            notifications_seen,
            id,
            login,
            role,
            country,
            offices,
            created,
            disabled,
        )| {
            let user: UserRow = (id, login, role, country, offices, created, disabled);
            Ok(Session {
                user: user_of(user)?,
                csrf,
                expires_at,
                notifications_seen,
            })
        },
    )
    .transpose()
}

/// Ends a session (signing out); true if it existed.
pub async fn close(store: &Store, token: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
        .bind(sha256_hex(token.as_bytes()))
        .execute(&store.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records that a person has seen the notifications up to `id`.
pub async fn mark_seen(store: &Store, user_id: &str, id: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET notifications_seen = $1 WHERE id = $2 AND notifications_seen < $1",
    )
    .bind(id)
    .bind(user_id)
    .execute(&store.pool)
    .await?;
    Ok(())
}
