//! Reads: movements and the notification feed, filtered by who is asking.

use serde::{Deserialize, Serialize};
use smartborder_transit::{Event, Movement, MovementStatus, Principal};

use crate::{Store, StoreError};

fn parse_movement(body: &str) -> Result<Movement, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("movement: {e}")))
}

/// A movement by MRN with its state and latest event only, and its internal id, whoever may
/// see it (the caller checks access on the route before reading more). One indexed row: as
/// cheap for a movement with a long history as for an unknown MRN.
pub async fn movement_state(
    store: &Store,
    mrn: &str,
) -> Result<Option<(i64, Movement)>, StoreError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, body FROM movements WHERE mrn = $1")
            .bind(mrn)
            .fetch_optional(&store.pool)
            .await?;
    row.map(|(id, body)| Ok((id, parse_movement(&body)?)))
        .transpose()
}

/// A page of a movement's history (by internal id): the events after sequence number `after`
/// (-1 for the first page), oldest first, with their sequence numbers (0 is the acceptance).
pub async fn history(
    store: &Store,
    movement_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Event)>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, body FROM events WHERE movement_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(movement_id)
    .bind(after)
    .bind(limit)
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter()
        .map(|(seq, b)| {
            serde_json::from_str(&b).map(|e| (seq, e)).map_err(|e| {
                StoreError::Corrupt(format!("event {seq} of movement {movement_id}: {e}"))
            })
        })
        .collect()
}

/// The first event of a type (`EventKind::name`) in a movement's history, by internal id.
pub async fn first_event(
    store: &Store,
    movement_id: i64,
    kind: &str,
) -> Result<Option<Event>, StoreError> {
    event_of_kind(store, movement_id, kind, "ASC").await
}

/// The latest event of a type in a movement's history, by internal id.
pub async fn last_event(
    store: &Store,
    movement_id: i64,
    kind: &str,
) -> Result<Option<Event>, StoreError> {
    event_of_kind(store, movement_id, kind, "DESC").await
}

async fn event_of_kind(
    store: &Store,
    movement_id: i64,
    kind: &str,
    order: &str,
) -> Result<Option<Event>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT body FROM events WHERE movement_id = $1 AND type = $2 ORDER BY seq {order} LIMIT 1"
    ))
    .bind(movement_id)
    .bind(kind)
    .fetch_optional(&store.pool)
    .await?;
    row.map(|(b,)| {
        serde_json::from_str(&b).map_err(|e| {
            StoreError::Corrupt(format!("{kind} event of movement {movement_id}: {e}"))
        })
    })
    .transpose()
}

/// A movement by MRN with its whole history, whoever may see it (the caller checks access on
/// the route).
pub async fn movement(store: &Store, mrn: &str) -> Result<Option<Movement>, StoreError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, body FROM movements WHERE mrn = $1")
            .bind(mrn)
            .fetch_optional(&store.pool)
            .await?;
    let Some((id, body)) = row else {
        return Ok(None);
    };
    let mut movement = parse_movement(&body)?;
    let events: Vec<(String,)> =
        sqlx::query_as("SELECT body FROM events WHERE movement_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&store.pool)
            .await?;
    movement.events = events
        .into_iter()
        .map(|(b,)| {
            serde_json::from_str(&b)
                .map_err(|e| StoreError::Corrupt(format!("event of {mrn}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(movement))
}

/// The latest NCTS invalidation request (CC014C) of a movement, by internal id.
pub async fn invalidation_request(
    store: &Store,
    movement_id: i64,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT message FROM invalidation_requests WHERE movement_id = $1")
            .bind(movement_id)
            .fetch_optional(&store.pool)
            .await?;
    Ok(row.map(|(m,)| m))
}

/// The NCTS declaration (CC015C) a movement was lodged with; `None` when it was lodged as JSON
/// or does not exist.
pub async fn declaration(store: &Store, mrn: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT d.message FROM declarations d JOIN movements m ON m.id = d.movement_id WHERE m.mrn = $1",
    )
    .bind(mrn)
    .fetch_optional(&store.pool)
    .await?;
    Ok(row.map(|(m,)| m))
}

/// Movements the caller may see, oldest first, after the internal id `after`, each with its
/// latest event only ([`movement`] gives the history).
/// Returns (id, movement) pairs; the last id is the cursor of the next page.
pub async fn visible_movements(
    store: &Store,
    who: &Principal,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Movement)>, StoreError> {
    let query = BoardQuery {
        after: Some(after),
        limit,
        ..BoardQuery::default()
    };
    board(store, who, &query).await
}

/// What the movements board asks for: filters on what the caller may see, and a page.
#[derive(Debug, Clone)]
pub struct BoardQuery {
    pub status: Option<MovementStatus>,
    /// An office on the route (departure, transit or destination).
    pub office: Option<String>,
    /// A country on the route.
    pub country: Option<String>,
    /// Lodged at or after (microseconds since the Unix epoch).
    pub lodged_from: Option<i64>,
    /// Lodged before.
    pub lodged_to: Option<i64>,
    /// Newest first (by lodging) instead of oldest first.
    pub newest_first: bool,
    /// The cursor: the internal id of the last movement of the previous page.
    pub after: Option<i64>,
    pub limit: i64,
}

impl Default for BoardQuery {
    fn default() -> BoardQuery {
        BoardQuery {
            status: None,
            office: None,
            country: None,
            lodged_from: None,
            lodged_to: None,
            newest_first: false,
            after: None,
            limit: 100,
        }
    }
}

/// The movements board: the movements the caller may see that pass the filters, a page at a
/// time in lodging order (keyset paging on the internal id, which the single writer hands out
/// in lodging order), each with its state and latest event.
///
/// The query is driven by the most selective index it can use: the office's rows in
/// `movement_offices (office, movement_id)`, else the status's in `movements (status, id)`,
/// else the country's in `movement_countries (country, movement_id)`, else the movements
/// themselves; the driving index gives the rows in
/// id order, so a page reads about as many rows as it returns, and the other filters are
/// probes. A lodging date range is also turned into a range of ids (the first movement lodged
/// at or after each bound, by the `lodged_at` index), since ids follow lodging.
pub async fn board(
    store: &Store,
    who: &Principal,
    q: &BoardQuery,
) -> Result<Vec<(i64, Movement)>, StoreError> {
    let backend = store.backend;
    let mut n = 0;
    let mut next = || {
        n += 1;
        backend.placeholder(n)
    };
    let mut binds: Vec<Bind> = Vec::new();
    let visible_country = match who {
        Principal::Administration { country } => Some(country.as_str()),
        Principal::Coordinator => None,
    };
    let country_filter = q.country.as_deref().filter(|c| Some(*c) != visible_country);
    // The driving rows and the column that orders them.
    let (mut sql, key) = if let Some(office) = &q.office {
        let sql = format!(
            "SELECT m.id, m.body FROM movement_offices d JOIN movements m ON m.id = d.movement_id AND d.office = {}",
            next()
        );
        binds.push(Bind::Text(office.clone()));
        (sql, "d.movement_id")
    } else if q.status.is_some() {
        // The index (status, id) gives a status's movements in id order.
        ("SELECT m.id, m.body FROM movements m".to_string(), "m.id")
    } else if let Some(country) = country_filter.or(visible_country) {
        let sql = format!(
            "SELECT m.id, m.body FROM movement_countries d JOIN movements m ON m.id = d.movement_id AND d.country = {}",
            next()
        );
        binds.push(Bind::Text(country.to_string()));
        (sql, "d.movement_id")
    } else {
        ("SELECT m.id, m.body FROM movements m".to_string(), "m.id")
    };
    // Membership probes for the filters the driver did not take.
    let mut probes: Vec<&str> = Vec::new();
    let country_drives = q.office.is_none() && q.status.is_none();
    if !country_drives || country_filter.is_some() {
        probes.extend(visible_country);
    }
    if !country_drives {
        probes.extend(country_filter);
    }
    for (i, country) in probes.into_iter().enumerate() {
        sql.push_str(&format!(
            " JOIN movement_countries p{i} ON p{i}.movement_id = m.id AND p{i}.country = {}",
            next()
        ));
        binds.push(Bind::Text(country.to_string()));
    }
    let mut conditions: Vec<String> = Vec::new();
    if let Some(status) = q.status {
        conditions.push(format!("m.status = {}", next()));
        binds.push(Bind::Text(status_name(status)));
    }
    for (bound, op) in [(q.lodged_from, ">="), (q.lodged_to, "<")] {
        if let Some(at) = bound {
            conditions.push(format!("m.lodged_at {op} {}", next()));
            binds.push(Bind::Int(at));
            conditions.push(format!(
                "{key} {op} COALESCE((SELECT id FROM movements WHERE lodged_at >= {} ORDER BY lodged_at LIMIT 1), {})",
                next(),
                i64::MAX
            ));
            binds.push(Bind::Int(at));
        }
    }
    if let Some(after) = q.after {
        let op = if q.newest_first { "<" } else { ">" };
        conditions.push(format!("{key} {op} {}", next()));
        binds.push(Bind::Int(after));
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(&format!(
        " ORDER BY {key} {} LIMIT {}",
        if q.newest_first { "DESC" } else { "ASC" },
        next()
    ));
    binds.push(Bind::Int(q.limit));
    let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
    for b in binds {
        query = match b {
            Bind::Text(t) => query.bind(t),
            Bind::Int(i) => query.bind(i),
        };
    }
    let rows = query.fetch_all(&store.pool).await?;
    rows.into_iter()
        .map(|(id, b)| Ok((id, parse_movement(&b)?)))
        .collect()
}

enum Bind {
    Text(String),
    Int(i64),
}

/// A status as stored in `movements.status`: its snake_case name.
pub fn status_name(status: MovementStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One entry of the notification feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The cursor: pass the last one seen as `after` to get the next ones.
    pub id: i64,
    /// The administration it is for.
    pub country: String,
    #[serde(flatten)]
    pub body: serde_json::Value,
}

/// Notifications for the caller after the cursor, in order (at least once: a client that
/// loses its place asks again from its last confirmed cursor).
pub async fn notifications(
    store: &Store,
    who: &Principal,
    after: i64,
    limit: i64,
) -> Result<Vec<Notification>, StoreError> {
    let rows: Vec<(i64, String, String)> = match who {
        Principal::Coordinator => {
            sqlx::query_as("SELECT id, country, body FROM notifications WHERE id > $1 AND confidential = 0 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&store.pool)
                .await?
        }
        Principal::Administration { country } => {
            sqlx::query_as(
                "SELECT id, country, body FROM notifications WHERE country = $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(country)
            .bind(after)
            .bind(limit)
            .fetch_all(&store.pool)
            .await?
        }
    };
    rows.into_iter().map(notification_of).collect()
}

/// How many notifications for the caller came after the cursor `seen`.
pub async fn unread_notifications(
    store: &Store,
    who: &Principal,
    seen: i64,
) -> Result<i64, StoreError> {
    let (n,): (i64,) = match who {
        Principal::Coordinator => {
            sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE id > $1 AND confidential = 0")
                .bind(seen)
                .fetch_one(&store.pool)
                .await?
        }
        Principal::Administration { country } => {
            sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE country = $1 AND id > $2")
                .bind(country)
                .bind(seen)
                .fetch_one(&store.pool)
                .await?
        }
    };
    Ok(n)
}

/// The caller's latest notifications, newest first.
pub async fn latest_notifications(
    store: &Store,
    who: &Principal,
    limit: i64,
) -> Result<Vec<Notification>, StoreError> {
    let rows: Vec<(i64, String, String)> = match who {
        Principal::Coordinator => {
            sqlx::query_as("SELECT id, country, body FROM notifications WHERE confidential = 0 ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(&store.pool)
                .await?
        }
        Principal::Administration { country } => {
            sqlx::query_as(
                "SELECT id, country, body FROM notifications WHERE country = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(country)
            .bind(limit)
            .fetch_all(&store.pool)
            .await?
        }
    };
    rows.into_iter().map(notification_of).collect()
}

fn notification_of((id, country, body): (i64, String, String)) -> Result<Notification, StoreError> {
    let body = serde_json::from_str(&body)
        .map_err(|e| StoreError::Corrupt(format!("notification {id}: {e}")))?;
    Ok(Notification { id, country, body })
}

/// Number of events stored for a movement (for checks and tests).
pub async fn event_count(store: &Store, mrn: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM events e JOIN movements m ON m.id = e.movement_id WHERE m.mrn = $1",
    )
    .bind(mrn)
    .fetch_one(&store.pool)
    .await?;
    Ok(n)
}

/// The movements the caller may see lodged at or after `lodged_from` (microseconds), each with
/// its whole history, oldest first (for the corridor dashboard).
pub async fn movements_since(
    store: &Store,
    who: &Principal,
    lodged_from: i64,
) -> Result<Vec<Movement>, StoreError> {
    let (visible, country) = match who {
        Principal::Coordinator => ("", None),
        Principal::Administration { country } => (
            " AND m.id IN (SELECT movement_id FROM movement_countries WHERE country = $2)",
            Some(country.as_str()),
        ),
    };
    let movements_sql = format!(
        "SELECT m.id, m.body FROM movements m WHERE m.lodged_at >= $1{visible} ORDER BY m.id"
    );
    let events_sql = format!(
        "SELECT e.movement_id, e.body FROM events e JOIN movements m ON m.id = e.movement_id \
         WHERE m.lodged_at >= $1{visible} ORDER BY e.movement_id, e.seq"
    );
    let mut rows = sqlx::query_as::<_, (i64, String)>(&movements_sql).bind(lodged_from);
    let mut events = sqlx::query_as::<_, (i64, String)>(&events_sql).bind(lodged_from);
    if let Some(c) = country {
        rows = rows.bind(c);
        events = events.bind(c);
    }
    let rows = rows.fetch_all(&store.pool).await?;
    let events = events.fetch_all(&store.pool).await?;
    with_histories(rows, events)
}

/// Movements (id, body) with their events (movement id, body), both in id order.
fn with_histories(
    rows: Vec<(i64, String)>,
    events: Vec<(i64, String)>,
) -> Result<Vec<Movement>, StoreError> {
    let mut by_movement: std::collections::HashMap<i64, Vec<smartborder_transit::Event>> =
        std::collections::HashMap::new();
    for (id, body) in events {
        let e = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("event of movement {id}: {e}")))?;
        by_movement.entry(id).or_default().push(e);
    }
    rows.into_iter()
        .map(|(id, body)| {
            let mut m = parse_movement(&body)?;
            m.events = by_movement.remove(&id).unwrap_or_default();
            Ok(m)
        })
        .collect()
}

/// Every movement with its whole history, oldest first (for corridor studies).
pub async fn all_movements(store: &Store) -> Result<Vec<Movement>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, body FROM movements ORDER BY id")
        .fetch_all(&store.pool)
        .await?;
    let events: Vec<(i64, String)> =
        sqlx::query_as("SELECT movement_id, body FROM events ORDER BY movement_id, seq")
            .fetch_all(&store.pool)
            .await?;
    with_histories(rows, events)
}
