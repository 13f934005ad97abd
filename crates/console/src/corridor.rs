//! The corridor dashboard: time at each office of transit and at each border pair, per week,
//! from the crossings recorded in the single window (the figures are the TRS engine's,
//! `smartborder_trs::corridor::weekly_legs`), a schematic map of the corridor with each border
//! coloured by its latest weekly median (and the figure written beside it), and trends.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use smartborder_store::read;
use smartborder_transit::OfficeRef;
use smartborder_transit::corridor::LegKind;
use smartborder_trs::corridor::{LegWeek, weekly_legs};

use crate::ConsoleState;
use crate::i18n::Lang;
use crate::pages;
use crate::session::Signed;

/// The corridor's countries from east to west, for the schematic map.
const CORRIDOR_ORDER: &[&str] = &["CN", "KG", "TJ", "UZ", "KZ", "TM", "AZ", "AM", "GE", "TR"];

/// Latest medians at or under these hours are drawn as fluid, then as slow, above as congested.
const FLUID_HOURS: f64 = 6.0;
const SLOW_HOURS: f64 = 24.0;

#[derive(Deserialize)]
pub struct Window {
    weeks: Option<i64>,
}

/// One leg of the corridor with its weeks, oldest first.
struct Leg<'a> {
    kind: LegKind,
    from: &'a OfficeRef,
    to: &'a OfficeRef,
    weeks: Vec<&'a LegWeek>,
}

impl Leg<'_> {
    fn latest(&self) -> &LegWeek {
        self.weeks[self.weeks.len() - 1]
    }

    fn name(&self) -> String {
        match self.kind {
            LegKind::AtOffice => self.from.to_string(),
            _ => format!("{} → {}", self.from, self.to),
        }
    }
}

fn group(weeks: &[LegWeek]) -> Vec<Leg<'_>> {
    let mut legs: Vec<Leg> = Vec::new();
    for w in weeks {
        match legs.last_mut() {
            Some(l) if l.kind == w.kind && l.from == &w.from && l.to == &w.to => l.weeks.push(w),
            _ => legs.push(Leg {
                kind: w.kind,
                from: &w.from,
                to: &w.to,
                weeks: vec![w],
            }),
        }
    }
    legs
}

/// The band of a median: (CSS class, message id). The figure is always written too.
fn band(median_hours: f64) -> (&'static str, &'static str) {
    if median_hours <= FLUID_HOURS {
        ("fluid", "band-fluid")
    } else if median_hours <= SLOW_HOURS {
        ("slow", "band-slow")
    } else {
        ("congested", "band-congested")
    }
}

/// The schematic map: offices as points, grouped by country from east to west; border pairs
/// as lines coloured (and dashed for congested) by their latest median, which is written on them.
fn map(lang: Lang, legs: &[Leg]) -> Markup {
    let mut offices: BTreeMap<(usize, String), ()> = BTreeMap::new();
    for l in legs {
        for o in [l.from, l.to] {
            let rank = CORRIDOR_ORDER
                .iter()
                .position(|c| *c == o.country())
                .unwrap_or(CORRIDOR_ORDER.len());
            offices.insert((rank, o.to_string()), ());
        }
    }
    let mut columns: Vec<(usize, Vec<String>)> = Vec::new();
    for ((rank, office), ()) in offices {
        match columns.last_mut() {
            Some((r, list)) if *r == rank => list.push(office),
            _ => columns.push((rank, vec![office])),
        }
    }
    let mut place: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (i, (_, list)) in columns.iter().enumerate() {
        for (k, office) in list.iter().enumerate() {
            place.insert(
                office.clone(),
                (80.0 + i as f64 * 170.0, 70.0 + k as f64 * 70.0),
            );
        }
    }
    let width = 160.0 + columns.len().max(1) as f64 * 170.0;
    let height = 110.0 + columns.iter().map(|(_, l)| l.len()).max().unwrap_or(1) as f64 * 70.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-labelledby="map-title"><title id="map-title">{}</title>"#,
        lang.t("corridor-map")
    );
    for l in legs.iter().filter(|l| l.kind == LegKind::BorderCrossing) {
        let (Some(&(x1, y1)), Some(&(x2, y2))) =
            (place.get(l.from.as_str()), place.get(l.to.as_str()))
        else {
            continue;
        };
        let median = l.latest().median_hours;
        let (class, _) = band(median);
        svg.push_str(&format!(
            r#"<line class="border {class}" x1="{x1:.0}" y1="{y1:.0}" x2="{x2:.0}" y2="{y2:.0}"/><text class="figure" x="{:.0}" y="{:.0}" text-anchor="middle">{} h</text>"#,
            (x1 + x2) / 2.0,
            (y1 + y2) / 2.0 - 8.0,
            lang.hours(median)
        ));
    }
    for (office, (x, y)) in &place {
        let at_office = legs
            .iter()
            .find(|l| l.kind == LegKind::AtOffice && l.from.as_str() == office)
            .map(|l| format!(" · {} h", lang.hours(l.latest().median_hours)))
            .unwrap_or_default();
        svg.push_str(&format!(
            r#"<circle class="office" cx="{x:.0}" cy="{y:.0}" r="9"/><text x="{x:.0}" y="{:.0}" text-anchor="middle">{office}{at_office}</text>"#,
            y + 26.0
        ));
    }
    svg.push_str("</svg>");
    html! {
        figure.map {
            (PreEscaped(svg))
            figcaption {
                ul.legend {
                    @for (class, id, text) in [
                        ("fluid", "band-fluid", format!("≤ {FLUID_HOURS} h")),
                        ("slow", "band-slow", format!("≤ {SLOW_HOURS} h")),
                        ("congested", "band-congested", format!("> {SLOW_HOURS} h")),
                    ] {
                        li { span class=(format!("swatch {class}")) {} (lang.t(id)) " (" (text) ")" }
                    }
                }
                (lang.t("corridor-map-help"))
            }
        }
    }
}

/// A small line of the weekly medians, with its figures as the accessible title.
fn sparkline(lang: Lang, leg: &Leg) -> Markup {
    let values: Vec<f64> = leg.weeks.iter().map(|w| w.median_hours).collect();
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9);
    let (w, h) = (120.0, 28.0);
    let step = if values.len() > 1 {
        w / (values.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                h - 2.0 - v / max * (h - 4.0)
            )
        })
        .collect();
    let title: Vec<String> = leg
        .weeks
        .iter()
        .map(|wk| format!("{}: {} h", wk.week, lang.hours(wk.median_hours)))
        .collect();
    PreEscaped(format!(
        r#"<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img"><title>{}</title><polyline fill="none" stroke="currentColor" stroke-width="2" points="{}"/></svg>"#,
        title.join("; "),
        points.join(" ")
    ))
}

/// `GET /console/corridor?weeks=12`
pub async fn dashboard(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(window): Query<Window>,
) -> Response {
    let lang = signed.lang;
    let weeks = window.weeks.unwrap_or(12).clamp(1, 104);
    let since = (Utc::now() - Duration::weeks(weeks)).timestamp_micros();
    let principal = signed.session.user.principal();
    let movements = match read::movements_since(&state.store, &principal, since).await {
        Ok(m) => m,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let figures = weekly_legs(&movements);
    let legs = group(&figures);
    let content = html! {
        p { (lang.t_args("corridor-intro", &[("weeks", weeks.into()), ("movements", lang.count(movements.len() as i64).into())])) }
        @if legs.is_empty() {
            p.empty { (lang.t("corridor-empty")) }
        } @else {
            (map(lang, &legs))
            h2 { (lang.t("corridor-latest")) }
            table #corridor-legs {
                thead { tr {
                    th scope="col" { (lang.t("leg")) }
                    th scope="col" { (lang.t("leg-kind")) }
                    th scope="col" { (lang.t("week-of")) }
                    th scope="col" .num { (lang.t("count-legs")) }
                    th scope="col" .num { (lang.t("median-hours")) }
                    th scope="col" .num { (lang.t("p90-hours")) }
                    th scope="col" { (lang.t("trend")) }
                } }
                tbody {
                    @for leg in &legs {
                        @let last = leg.latest();
                        tr {
                            th scope="row" { (leg.name()) }
                            td { (lang.t(match leg.kind { LegKind::AtOffice => "leg-at-office", _ => "leg-border" })) }
                            td { (last.week) }
                            td.num { (lang.count(last.count as i64)) }
                            td.num { (lang.hours(last.median_hours)) " " span.tag { (lang.t(band(last.median_hours).1)) } }
                            td.num { (lang.hours(last.p90_hours)) }
                            td { (sparkline(lang, leg)) }
                        }
                    }
                }
            }
            h2 { (lang.t("corridor-weeks")) }
            table #corridor-weeks {
                thead { tr {
                    th scope="col" { (lang.t("leg")) }
                    th scope="col" { (lang.t("week-of")) }
                    th scope="col" .num { (lang.t("count-legs")) }
                    th scope="col" .num { (lang.t("median-hours")) }
                    th scope="col" .num { (lang.t("p90-hours")) }
                } }
                tbody {
                    @for leg in &legs {
                        @for w in &leg.weeks {
                            tr {
                                th scope="row" { (leg.name()) }
                                td { (w.week) }
                                td.num { (lang.count(w.count as i64)) }
                                td.num { (lang.hours(w.median_hours)) }
                                td.num { (lang.hours(w.p90_hours)) }
                            }
                        }
                    }
                }
            }
        }
    };
    pages::signed_page(
        &state,
        &signed,
        &lang.t("nav-corridor"),
        StatusCode::OK,
        content,
    )
    .await
}
