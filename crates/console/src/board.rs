//! The movements board (filters, sorting, keyset paging on the store's board query) and the
//! pre-arrival list of an officer's offices.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use smartborder_store::read::{self, BoardQuery};
use smartborder_store::users::{Role, User};
use smartborder_transit::{Movement, MovementStatus, OfficeRef};

use crate::ConsoleState;
use crate::i18n::Lang;
use crate::pages::{self, status_label, url_encode};
use crate::session::Signed;

/// Movements on a page of the board.
pub const PAGE: i64 = 50;

/// Every status, in lifecycle order, for the filter.
const STATUSES: &[MovementStatus] = &[
    MovementStatus::Lodged,
    MovementStatus::Accepted,
    MovementStatus::ReleasedForTransit,
    MovementStatus::ArrivedAtDestination,
    MovementStatus::UnloadingRemarks,
    MovementStatus::GoodsReleased,
    MovementStatus::WrittenOff,
    MovementStatus::UnderEnquiry,
    MovementStatus::Recovery,
    MovementStatus::NotReleased,
    MovementStatus::Rejected,
    MovementStatus::Invalidated,
];

/// The board's filters as the form sends them (empty fields are no filter).
#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    status: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    lodged_from: String,
    #[serde(default)]
    lodged_to: String,
    #[serde(default)]
    order: String,
    after: Option<i64>,
}

impl Filters {
    /// The store's query, or the message of each field that does not read.
    fn query(&self, lang: Lang) -> Result<BoardQuery, Vec<String>> {
        let mut errors = Vec::new();
        let mut field_error = |field: &str, found: &str, expected: &str| {
            errors.push(lang.t_args(
                "filter-invalid",
                &[
                    ("field", lang.t(field).into()),
                    ("found", found.to_string().into()),
                    ("expected", expected.to_string().into()),
                ],
            ));
        };
        let status = match self.status.as_str() {
            "" => None,
            s => {
                let found = STATUSES
                    .iter()
                    .copied()
                    .find(|st| read::status_name(*st) == s);
                if found.is_none() {
                    field_error("filter-status", s, "released_for_transit");
                }
                found
            }
        };
        let office = match self.office.trim() {
            "" => None,
            o => match OfficeRef::parse(&o.to_ascii_uppercase()) {
                Ok(office) => Some(office.as_str().to_string()),
                Err(_) => {
                    field_error("filter-office", o, "GE000100");
                    None
                }
            },
        };
        let country = match self.country.trim() {
            "" => None,
            c if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase())
            }
            c => {
                field_error("filter-country", c, "AZ");
                None
            }
        };
        let mut date = |field: &str, text: &str| -> Option<i64> {
            if text.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(d) => d
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc().timestamp_micros()),
                Err(_) => {
                    field_error(field, text, "2026-12-01");
                    None
                }
            }
        };
        let lodged_from = date("filter-lodged-from", self.lodged_from.trim());
        // "Lodged to" a date includes that whole day.
        let lodged_to =
            date("filter-lodged-to", self.lodged_to.trim()).map(|t| t + 86_400 * 1_000_000);
        let newest_first = match self.order.as_str() {
            "" | "desc" => true,
            "asc" => false,
            o => {
                field_error("filter-order", o, "asc, desc");
                true
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(BoardQuery {
            status,
            office,
            country,
            lodged_from,
            lodged_to,
            newest_first,
            after: self.after,
            limit: PAGE,
        })
    }

    /// The query string of these filters with another cursor (none: the first page).
    fn with_after(&self, after: Option<i64>) -> String {
        let mut pairs = Vec::new();
        for (name, value) in [
            ("status", &self.status),
            ("office", &self.office),
            ("country", &self.country),
            ("lodged_from", &self.lodged_from),
            ("lodged_to", &self.lodged_to),
            ("order", &self.order),
        ] {
            if !value.is_empty() {
                pairs.push(format!("{name}={}", url_encode(value)));
            }
        }
        if let Some(after) = after {
            pairs.push(format!("after={after}"));
        }
        pairs.join("&")
    }
}

/// A movement's route in words: departure → transit … → destination.
pub fn route_text(m: &Movement) -> String {
    m.route
        .offices()
        .map(OfficeRef::as_str)
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The time of a movement's latest event, at its office and in UTC.
fn last_event(lang: Lang, m: &Movement) -> Markup {
    html! {
        @if let Some(e) = m.events.last() {
            (lang.t(&format!("event-{}", e.kind.name()))) " · " (e.office)
            br;
            time datetime=(e.at.to_rfc3339()) title=(lang.utc_time(e.at)) {
                (lang.local_time(e.at, e.zone))
            }
        }
    }
}

/// One row of a movements table.
pub fn movement_row(lang: Lang, m: &Movement) -> Markup {
    let mrn = m.mrn.as_ref().map(|m| m.to_string()).unwrap_or_default();
    html! {
        tr data-mrn=(mrn) {
            td {
                @if mrn.is_empty() { (m.lrn) } @else {
                    a href=(format!("/console/movements/{mrn}")) { (mrn) }
                }
            }
            td { (m.lrn) }
            td { (route_text(m)) }
            td { (status_label(lang, m.status)) }
            td { (last_event(lang, m)) }
        }
    }
}

/// A table of movements (`id` names it for live updates and tests).
fn movements_table(lang: Lang, id: &str, movements: &[Movement]) -> Markup {
    html! {
        table #(id) {
            caption.visually-hidden { (lang.t("nav-movements")) }
            thead {
                tr {
                    th scope="col" { "MRN" }
                    th scope="col" { "LRN" }
                    th scope="col" { (lang.t("route")) }
                    th scope="col" { (lang.t("status")) }
                    th scope="col" { (lang.t("last-event")) }
                }
            }
            tbody {
                @for m in movements { (movement_row(lang, m)) }
            }
        }
        @if movements.is_empty() {
            p.empty { (lang.t("no-movements")) }
        }
    }
}

fn filters_form(lang: Lang, f: &Filters) -> Markup {
    html! {
        form.filters method="get" action="/console/movements"
            hx-get="/console/movements" hx-target="#board" hx-select="#board"
            hx-swap="outerHTML" hx-push-url="true" {
            p {
                label for="status" { (lang.t("filter-status")) }
                select #status name="status" {
                    option value="" { (lang.t("any")) }
                    @for s in STATUSES {
                        @let name = read::status_name(*s);
                        option value=(name) selected[f.status == name] {
                            (lang.t(&format!("status-{name}")))
                        }
                    }
                }
            }
            p {
                label for="office" { (lang.t("filter-office")) }
                input #office name="office" value=(f.office) size="9" placeholder="GE000100";
            }
            p {
                label for="country" { (lang.t("filter-country")) }
                input #country name="country" value=(f.country) size="3" placeholder="AZ";
            }
            p {
                label for="lodged_from" { (lang.t("filter-lodged-from")) }
                input #lodged_from name="lodged_from" type="date" value=(f.lodged_from);
            }
            p {
                label for="lodged_to" { (lang.t("filter-lodged-to")) }
                input #lodged_to name="lodged_to" type="date" value=(f.lodged_to);
            }
            p {
                label for="order" { (lang.t("filter-order")) }
                select #order name="order" {
                    option value="desc" selected[f.order != "asc"] { (lang.t("order-newest")) }
                    option value="asc" selected[f.order == "asc"] { (lang.t("order-oldest")) }
                }
            }
            p { button type="submit" { (lang.t("apply-filters")) } }
        }
    }
}

/// `GET /console/movements`: the movements board of the person's administration (every
/// movement for the coordinator), filtered, newest first unless asked otherwise.
pub async fn board(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(f): Query<Filters>,
) -> Response {
    let lang = signed.lang;
    let principal = signed.session.user.principal();
    let (status, body) = match f.query(lang) {
        Err(errors) => (
            StatusCode::BAD_REQUEST,
            html! {
                div #board {
                    ul.error role="alert" { @for e in &errors { li { (e) } } }
                }
            },
        ),
        Ok(query) => match read::board(&state.store, &principal, &query).await {
            Err(e) => return pages::store_failed(lang, &e),
            Ok(rows) => {
                let next = (rows.len() as i64 == PAGE)
                    .then(|| rows.last().map(|(id, _)| *id))
                    .flatten();
                let movements: Vec<Movement> = rows.into_iter().map(|(_, m)| m).collect();
                (
                    StatusCode::OK,
                    html! {
                        div #board {
                            p.count { (lang.t_args("page-of", &[("count", (movements.len() as i64).into())])) }
                            (movements_table(lang, "movements", &movements))
                            nav.pager aria-label=(lang.t("pages")) {
                                @if f.after.is_some() {
                                    a href=(format!("/console/movements?{}", f.with_after(None))) { (lang.t("first-page")) }
                                }
                                @if let Some(next) = next {
                                    " "
                                    a #next-page rel="next" href=(format!("/console/movements?{}", f.with_after(Some(next)))) { (lang.t("next-page")) }
                                }
                            }
                        }
                    },
                )
            }
        },
    };
    let content = html! {
        (filters_form(lang, &f))
        (body)
    };
    pages::signed_page(&state, &signed, &lang.t("nav-movements"), status, content).await
}

/// The movements released for transit and on their way to the person's offices (an officer)
/// or to their administration (a supervisor): the pre-arrival information.
pub async fn expected(
    state: &ConsoleState,
    signed: &Signed,
) -> Result<Vec<Movement>, smartborder_store::StoreError> {
    let user = &signed.session.user;
    let principal = user.principal();
    let queries: Vec<BoardQuery> = match user.role {
        Role::Officer => user
            .offices
            .iter()
            .map(|o| BoardQuery {
                status: Some(MovementStatus::ReleasedForTransit),
                office: Some(o.as_str().to_string()),
                newest_first: true,
                limit: 100,
                ..BoardQuery::default()
            })
            .collect(),
        _ => vec![BoardQuery {
            status: Some(MovementStatus::ReleasedForTransit),
            newest_first: true,
            limit: 100,
            ..BoardQuery::default()
        }],
    };
    // Released movements, newest first, keeping those still on their way to the person's
    // offices (the others passed them already): at most 100, reading at most 20 pages each.
    let mut rows: Vec<(i64, Movement)> = Vec::new();
    for q in &queries {
        let mut q = q.clone();
        let mut kept = 0;
        for _ in 0..20 {
            let page = read::board(&state.store, &principal, &q).await?;
            let last = page.last().map(|(id, _)| *id);
            let full = page.len() as i64 == q.limit;
            for (id, m) in page {
                if is_expected_by(&m, user) && !rows.iter().any(|(seen, _)| *seen == id) {
                    rows.push((id, m));
                    kept += 1;
                }
            }
            match last {
                Some(last) if full && kept < 100 => q.after = Some(last),
                _ => break,
            }
        }
    }
    rows.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    rows.truncate(100);
    Ok(rows.into_iter().map(|(_, m)| m).collect())
}

/// A movement the person's offices (or administration) still wait for: released, and not yet
/// arrived at one of them (an office of transit it has not reached, or its destination).
pub fn is_expected_by(m: &Movement, user: &User) -> bool {
    let mine = |o: &OfficeRef| match user.role {
        Role::Officer => user.offices.contains(o),
        _ => user.country.as_deref().is_none_or(|c| c == o.country()),
    };
    let transit = m
        .route
        .transit
        .iter()
        .zip(&m.transit_progress)
        .any(|(t, p)| mine(&t.office) && p.arrival.is_none());
    m.status == MovementStatus::ReleasedForTransit && (transit || mine(&m.route.destination))
}

/// `GET /console/arrivals`: pre-arrival information; new items appear live.
pub async fn arrivals(State(state): State<ConsoleState>, signed: Signed) -> Response {
    let lang = signed.lang;
    let movements = match expected(&state, &signed).await {
        Ok(m) => m,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let content = html! {
        p { (lang.t("arrivals-intro")) }
        (movements_table(lang, "arrivals", &movements))
    };
    pages::signed_page(
        &state,
        &signed,
        &lang.t("nav-arrivals"),
        StatusCode::OK,
        content,
    )
    .await
}

/// An instant for a `datetime` attribute and people.
pub fn instant_markup(lang: Lang, at: DateTime<Utc>, zone: chrono_tz::Tz) -> Markup {
    html! {
        time datetime=(at.to_rfc3339()) { (lang.local_time(at, zone)) }
        " "
        span.utc { "(" (lang.utc_time(at)) ")" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use smartborder_transit::{Event, EventKind, Mrn, Route, TransitOffice, country_zone};

    fn o(s: &str) -> OfficeRef {
        OfficeRef::parse(s).unwrap()
    }

    fn ev(kind: EventKind, office: &str, hour: u32) -> Event {
        Event {
            kind,
            office: o(office),
            at: Utc.with_ymd_and_hms(2026, 11, 2, hour, 0, 0).unwrap(),
            zone: country_zone(&office[..2]).unwrap(),
        }
    }

    fn officer(offices: &[&str]) -> User {
        User {
            id: "user_1".into(),
            login: "x.y".into(),
            role: Role::Officer,
            country: Some(offices[0][..2].to_string()),
            offices: offices.iter().map(|s| o(s)).collect(),
            created_at: 0,
            disabled_at: None,
        }
    }

    /// Pre-arrival: released and not yet arrived at the officer's office; never before release.
    #[test]
    fn a_movement_is_expected_until_it_arrives_at_the_office() {
        let route = Route {
            departure: o("KZ000101"),
            transit: vec![TransitOffice {
                office: o("AZ000201"),
                estimated_arrival: None,
            }],
            destination: o("GE000301"),
        };
        let mut m = Movement::lodged("L1", route);
        m.apply(ev(
            EventKind::Accepted {
                mrn: Mrn::allocate(2026, "KZ", 1, 'J'),
            },
            "KZ000101",
            1,
        ))
        .unwrap();
        let (az, ge) = (officer(&["AZ000201"]), officer(&["GE000301"]));
        assert!(!is_expected_by(&m, &az), "not released yet");
        m.apply(ev(
            EventKind::ReleasedForTransit {
                limit_date: Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap(),
            },
            "KZ000101",
            2,
        ))
        .unwrap();
        assert!(is_expected_by(&m, &az) && is_expected_by(&m, &ge));
        assert!(
            !is_expected_by(&m, &officer(&["KZ000101"])),
            "departure expects nothing"
        );
        m.apply(ev(EventKind::ArrivalAtTransit, "AZ000201", 9))
            .unwrap();
        assert!(!is_expected_by(&m, &az), "arrived at the office of transit");
        assert!(is_expected_by(&m, &ge));
        m.apply(ev(EventKind::FrontierCrossed, "AZ000201", 10))
            .unwrap();
        m.apply(ev(EventKind::ArrivalAtDestination, "GE000301", 14))
            .unwrap();
        assert!(!is_expected_by(&m, &ge), "arrived at destination");
    }
}
