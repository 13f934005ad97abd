//! Webhooks: an administration's URL to which its notification feed is pushed, with the cursor
//! of what was delivered (a notification counts as delivered when the URL answered 2xx, so
//! delivery is at least once and in order).

use crate::{Store, StoreError, now_micros};

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Webhook {
    pub country: String,
    pub url: String,
    /// Notifications up to this cursor were delivered.
    pub delivered_after: i64,
}

/// Only plain `http://host[:port]/path` URLs: TLS is left to a proxy in front of the receiver.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!(
            "webhook URL \"{url}\": expected http://HOST[:PORT]/PATH (https through a TLS proxy)"
        )
    })?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("webhook URL \"{url}\": no host"));
    }
    Ok(())
}

/// Registers (or replaces) the webhook of a country; delivery starts after the current end of
/// its feed unless `from_start`.
pub async fn set(
    store: &Store,
    country: &str,
    url: &str,
    from_start: bool,
) -> Result<(), StoreError> {
    let start = if from_start {
        0
    } else {
        let (max,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM notifications WHERE country = $1")
                .bind(country)
                .fetch_one(&store.pool)
                .await?;
        max
    };
    let mut tx = store.pool.begin().await?;
    sqlx::query("DELETE FROM webhooks WHERE country = $1")
        .bind(country)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO webhooks (country, url, delivered_after, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(country)
    .bind(url)
    .bind(start)
    .bind(now_micros())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a country's webhook; false when it had none.
pub async fn remove(store: &Store, country: &str) -> Result<bool, StoreError> {
    let n = sqlx::query("DELETE FROM webhooks WHERE country = $1")
        .bind(country)
        .execute(&store.pool)
        .await?
        .rows_affected();
    Ok(n > 0)
}

pub async fn list(store: &Store) -> Result<Vec<Webhook>, StoreError> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT country, url, delivered_after FROM webhooks ORDER BY country")
            .fetch_all(&store.pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(country, url, delivered_after)| Webhook {
            country,
            url,
            delivered_after,
        })
        .collect())
}

/// Records that notifications up to `cursor` were delivered (never moves backwards).
pub async fn delivered(store: &Store, country: &str, cursor: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE webhooks SET delivered_after = $1, updated_at = $2 WHERE country = $3 AND delivered_after < $1")
        .bind(cursor)
        .bind(now_micros())
        .bind(country)
        .execute(&store.pool)
        .await?;
    Ok(())
}
