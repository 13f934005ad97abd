//! The notification feed in the console: the list (which marks it read) and the live stream
//! (Server-Sent Events) that brings the unread count and new pre-arrival items to open pages
//! without a reload.
//!
//! The stream waits on the writer's commit signal ([`smartborder_store::writer::Writer::notified`])
//! rather than polling, so a notification reaches an open page as soon as it is durable. A
//! browser that reconnects sends `Last-Event-ID` and continues from there.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use maud::{Markup, html};
use serde_json::json;
use smartborder_store::read::{self, Notification};
use smartborder_store::sessions;
use smartborder_store::users::User;
use smartborder_transit::{Event as MovementEvent, Movement};

use crate::ConsoleState;
use crate::board::{instant_markup, is_expected_by, movement_row};
use crate::i18n::Lang;
use crate::pages;
use crate::session::Signed;

/// Notifications shown on the list.
const LIST: i64 = 100;

/// A notification in words: what happened, where, to which movement, when.
fn item(lang: Lang, n: &Notification) -> Markup {
    let mrn = n.body["mrn"].as_str().unwrap_or_default();
    let event: Option<MovementEvent> = serde_json::from_value(n.body["event"].clone()).ok();
    let signed_head = n.body.get("checkpoint").is_some();
    html! {
        li data-id=(n.id) {
            @if let Some(e) = event {
                strong { (lang.t(&format!("event-{}", e.kind.name()))) }
                " · " (e.office) " · "
                a href=(format!("/console/movements/{mrn}")) { (mrn) }
                " · " (instant_markup(lang, e.at, e.zone))
                @if n.body.get("anticipated_transit_record").is_some() {
                    " · " span.tag { (lang.t("pre-arrival")) }
                }
            } @else if signed_head {
                (lang.t("audit-checkpoint"))
            } @else {
                (lang.t("notification")) " " (n.id)
            }
        }
    }
}

/// `GET /console/notifications`: the latest notifications of the person's administration;
/// viewing them marks them read.
pub async fn notifications(State(state): State<ConsoleState>, mut signed: Signed) -> Response {
    let lang = signed.lang;
    let principal = signed.session.user.principal();
    let items = match read::latest_notifications(&state.store, &principal, LIST).await {
        Ok(items) => items,
        Err(e) => return pages::store_failed(lang, &e),
    };
    if let Some(newest) = items.first() {
        if let Err(e) = sessions::mark_seen(&state.store, &signed.session.user.id, newest.id).await
        {
            return pages::store_failed(lang, &e);
        }
        signed.session.notifications_seen = signed.session.notifications_seen.max(newest.id);
    }
    let content = html! {
        ol #notifications .feed reversed {
            @for n in &items { (item(lang, n)) }
        }
        @if items.is_empty() { p.empty { (lang.t("no-notifications")) } }
    };
    pages::signed_page(
        &state,
        &signed,
        &lang.t("nav-notifications"),
        StatusCode::OK,
        content,
    )
    .await
}

/// What the stream keeps between events.
struct Feed {
    state: ConsoleState,
    user: User,
    lang: Lang,
    /// Unread notifications: counted once at connection, then kept up to date.
    unread: i64,
    cursor: i64,
    notified: tokio::sync::watch::Receiver<i64>,
    ready: VecDeque<Event>,
}

impl Feed {
    /// The next event: one already prepared, else the notifications committed since the
    /// cursor, waiting for the writer's next commit when there are none.
    async fn next(mut self) -> Option<(Event, Feed)> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some((event, self));
            }
            let principal = self.user.principal();
            let fresh = read::notifications(&self.state.store, &principal, self.cursor, 100)
                .await
                .ok()?;
            if fresh.is_empty() {
                // Wake at the next commit; the keep-alive comments hold the connection.
                self.notified.changed().await.ok()?;
                continue;
            }
            for n in fresh {
                self.cursor = n.id;
                self.unread += 1;
                let arrival = self.arrival_row(&n).await;
                let data = json!({
                    "unread": self.unread,
                    "item": item(self.lang, &n).into_string(),
                    "arrival": arrival,
                });
                self.ready.push_back(
                    Event::default()
                        .event("notification")
                        .id(n.id.to_string())
                        .data(data.to_string()),
                );
            }
        }
    }

    /// The pre-arrival row of a released movement on its way to this person's offices.
    async fn arrival_row(&self, n: &Notification) -> Option<String> {
        n.body.get("anticipated_transit_record")?;
        let mrn = n.body["mrn"].as_str()?;
        let (_, movement): (i64, Movement) =
            read::movement_state(&self.state.store, mrn).await.ok()??;
        is_expected_by(&movement, &self.user)
            .then(|| movement_row(self.lang, &movement).into_string())
    }
}

/// `GET /console/live`: the person's notifications as Server-Sent Events, from the newest
/// at connection (or from `Last-Event-ID` on a reconnection).
pub async fn stream(
    State(state): State<ConsoleState>,
    signed: Signed,
    headers: HeaderMap,
) -> Response {
    let principal = signed.session.user.principal();
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let cursor = match resumed {
        Some(id) => id,
        None => match read::latest_notifications(&state.store, &principal, 1).await {
            Ok(latest) => latest.first().map_or(0, |n| n.id),
            Err(e) => return pages::store_failed(signed.lang, &e),
        },
    };
    let unread = match read::unread_notifications(
        &state.store,
        &principal,
        signed.session.notifications_seen.max(0),
    )
    .await
    {
        // The count up to the cursor; later notifications are counted as they are sent.
        Ok(n) => (n - unread_after(&state, &principal, cursor).await).max(0),
        Err(e) => return pages::store_failed(signed.lang, &e),
    };
    let feed = Feed {
        notified: state.writer.notified(),
        state,
        user: signed.session.user,
        lang: signed.lang,
        unread,
        cursor,
        ready: VecDeque::new(),
    };
    let events = stream::unfold(feed, Feed::next);
    live(events).into_response()
}

/// Notifications after the cursor (counted as they are sent, not at connection).
async fn unread_after(
    state: &ConsoleState,
    principal: &smartborder_transit::Principal,
    cursor: i64,
) -> i64 {
    read::unread_notifications(&state.store, principal, cursor)
        .await
        .unwrap_or(0)
}

fn live(
    events: impl Stream<Item = Event> + Send + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    use futures_util::StreamExt;
    Sse::new(events.map(Ok)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
