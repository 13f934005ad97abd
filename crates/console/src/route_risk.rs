//! Risk on the route in a movement's page: the goods, the person's administration's own
//! assessments before arrival (lane, score, profiles hit, top reasons, the versions that
//! produced them) and its control results, with the form an officer records a control result
//! on. Nothing here is shown to another administration or to the coordinator: the rows are
//! read by the person's country, and the writer judges the office and the route as for the API.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;
use smartborder_model::Lane;
use smartborder_risk::monitoring::{Monitored, Monitoring, monitor};
use smartborder_store::keys;
use smartborder_store::route_risk;
use smartborder_store::users::Role;
use smartborder_store::writer::{Command, Request, request_sha256};
use smartborder_transit::{ControlResult, Finding, Movement, OfficeRef, Principal};

use crate::ConsoleState;
use crate::i18n::Lang;
use crate::movement::{failure, own_office, submitted};
use crate::pages;
use crate::session::Signed;

/// The section of a movement's page, for a person of an administration; empty for the
/// coordinator (who has no risk configuration and sees no results).
pub(crate) async fn section(
    state: &ConsoleState,
    signed: &Signed,
    movement_id: i64,
    movement: &Movement,
) -> Result<Markup, Response> {
    let lang = signed.lang;
    let Principal::Administration { country } = signed.session.user.principal() else {
        return Ok(html! {});
    };
    let failed = |e: smartborder_store::StoreError| pages::store_failed(lang, &e);
    let goods = route_risk::consignment(&state.store, movement_id)
        .await
        .map_err(failed)?;
    let assessments = route_risk::assessments(&state.store, movement_id, &country)
        .await
        .map_err(failed)?;
    let results = route_risk::control_results(&state.store, movement_id, &country)
        .await
        .map_err(failed)?;
    Ok(html! {
        h2 #risk { (lang.t_args("risk-heading", &[("country", country.clone().into())])) }
        p.help { (lang.t("risk-confidential")) }
        @match &goods {
            None => p { (lang.t("risk-no-goods")) },
            Some(g) => {
                table.goods {
                    caption { (lang.t("goods")) }
                    thead { tr {
                        th { "#" } th { (lang.t("goods-code")) } th { (lang.t("goods-description")) }
                        th.num { (lang.t("goods-gross-kg")) }
                    } }
                    tbody {
                        @for (i, item) in g.items.iter().enumerate() {
                            tr {
                                td { (i + 1) }
                                td { (item.commodity_code.as_deref().unwrap_or("-")) }
                                td { (item.description) }
                                td.num { (item.gross_mass_kg.map_or("-".to_string(), |m| lang.count(m.round() as i64))) }
                            }
                        }
                    }
                }
            }
        }
        @if assessments.is_empty() {
            p #risk-assessments { (lang.t("risk-none")) }
        } @else {
            ol #risk-assessments .timeline {
                @for a in assessments.iter().rev() {
                    (assessment(lang, a))
                }
            }
        }
        @if !results.is_empty() {
            h3 { (lang.t("control-results")) }
            ul #control-results {
                @for r in &results {
                    li {
                        strong { (lang.t(&format!("finding-{}", r.result.finding.as_str()))) }
                        " · " (r.result.office) " · " (lang.utc_time(r.result.at))
                        " · " (lang.t(&format!("lane-{}", r.result.lane_applied.as_str())))
                        @if !r.result.inspected { " · " (lang.t("control-not-inspected")) }
                        @if let Some(code) = &r.result.finding_code { " · " (code) }
                        @if let Some(v) = r.result.revenue_recovered { " · " (lang.t("revenue-recovered")) " " (v) }
                        @if r.result.seizure { " · " (lang.t("seizure")) }
                        @if let Some(p) = r.result.propensity { " · " (lang.t("propensity")) " " (format!("{p:.3}")) }
                        " · " (r.recorded_by)
                    }
                }
            }
        }
        (control_form(lang, signed, movement))
    })
}

fn assessment(lang: Lang, a: &route_risk::StoredAssessment) -> Markup {
    let b = &a.body;
    let text = |k: &str| {
        b.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let hits: Vec<&str> = b
        .get("hits")
        .and_then(|h| h.as_array())
        .map(|h| h.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let versions: Vec<String> = b
        .get("versions")
        .and_then(|v| v.as_object())
        .map(|v| v.iter().map(|(name, n)| format!("{name} v{n}")).collect())
        .unwrap_or_default();
    // The reasons of the item that decided the movement's score.
    let reasons: Vec<String> = b
        .get("items")
        .and_then(|i| i.as_array())
        .and_then(|items| {
            items.iter().max_by(|x, y| {
                let s =
                    |v: &serde_json::Value| v.get("score").and_then(|s| s.as_f64()).unwrap_or(-1.0);
                s(x).total_cmp(&s(y))
            })
        })
        .and_then(|i| i.get("reasons"))
        .and_then(|r| r.as_array())
        .map(|r| {
            r.iter()
                .filter_map(|c| {
                    let feature = c.get("feature")?.as_str()?;
                    let value = c.get("log_odds")?.as_f64()?;
                    Some(format!("{feature} {value:+.2}"))
                })
                .collect()
        })
        .unwrap_or_default();
    html! {
        li {
            strong class=(format!("lane lane-{}", a.lane)) { (lang.t(&format!("lane-{}", a.lane))) }
            " · " (lang.t(&format!("trigger-{}", text("trigger")))) " · " (text("office"))
            " · " (lang.utc_time(a.assessed_at))
            @if let Some(s) = b.get("score").and_then(|s| s.as_f64()) {
                " · " (lang.t("score")) " " (format!("{s:.3}"))
            }
            @if let Some(p) = b.get("propensity").and_then(|p| p.as_f64()) {
                " · " (lang.t("propensity")) " " (format!("{p:.3}"))
            }
            @if b.get("explored").and_then(|e| e.as_bool()) == Some(true) {
                " · " (lang.t("explored"))
            }
            br;
            span.detail {
                (lang.t("profiles-hit")) ": " (if hits.is_empty() { "-".to_string() } else { hits.join(", ") })
                @if !reasons.is_empty() { " · " (lang.t("top-reasons")) ": " (reasons.join(", ")) }
                " · " (versions.join(", "))
                @if let Some(e) = b.get("error").and_then(|e| e.as_str()) { " · " (e) }
            }
        }
    }
}

/// The form of a control result, at the person's offices on the route.
fn control_form(lang: Lang, signed: &Signed, m: &Movement) -> Markup {
    let user = &signed.session.user;
    let mine: Vec<&OfficeRef> = m
        .route
        .offices()
        .filter(|o| user.may_record_at(o))
        .collect();
    let Some(mrn) = &m.mrn else { return html! {} };
    if mine.is_empty() {
        return html! {};
    }
    html! {
        h3 #record-control { (lang.t("record-control")) }
        form.card #control-form method="post" action=(format!("/console/movements/{mrn}/controls")) {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            input type="hidden" name="nonce" value=(keys::random_hex(16));
            p {
                label for="control-office" { (lang.t("office")) }
                select #control-office name="office" required {
                    @for o in &mine { option value=(o) { (o) } }
                }
            }
            p {
                label for="control-lane" { (lang.t("lane-applied")) }
                select #control-lane name="lane_applied" {
                    @for l in ["red", "yellow", "green", "blue"] {
                        option value=(l) { (lang.t(&format!("lane-{l}"))) }
                    }
                }
            }
            p {
                label for="control-inspected" { (lang.t("control-inspected")) }
                select #control-inspected name="inspected" {
                    option value="yes" { (lang.t("conform-yes")) }
                    option value="no" { (lang.t("conform-no")) }
                }
            }
            p {
                label for="control-finding" { (lang.t("finding")) }
                select #control-finding name="finding" {
                    @for f in ["none", "minor", "major"] {
                        option value=(f) { (lang.t(&format!("finding-{f}"))) }
                    }
                }
            }
            p {
                label for="control-code" { (lang.t("finding-code")) }
                input #control-code name="finding_code" maxlength="512";
            }
            p {
                label for="control-revenue" { (lang.t("revenue-recovered")) }
                input #control-revenue name="revenue_recovered" type="number" min="0" step="any";
            }
            p {
                label for="control-seizure" { (lang.t("seizure")) }
                select #control-seizure name="seizure" {
                    option value="no" { (lang.t("conform-no")) }
                    option value="yes" { (lang.t("conform-yes")) }
                }
            }
            p {
                label for="control-remarks" { (lang.t("remarks")) }
                input #control-remarks name="remarks" maxlength="512";
            }
            p { button type="submit" { (lang.t("record")) } }
        }
    }
}

#[derive(Deserialize)]
pub struct ControlForm {
    #[serde(default)]
    csrf: String,
    nonce: String,
    office: String,
    lane_applied: String,
    inspected: String,
    finding: String,
    #[serde(default)]
    finding_code: String,
    #[serde(default)]
    revenue_recovered: String,
    #[serde(default)]
    seizure: String,
    #[serde(default)]
    remarks: String,
}

/// The control result a form asks to record, or the message id and text of what is wrong.
fn result_of(f: &ControlForm, office: OfficeRef) -> Result<ControlResult, (&'static str, String)> {
    let lane_applied = match f.lane_applied.as_str() {
        "red" => Lane::Red,
        "yellow" => Lane::Yellow,
        "green" => Lane::Green,
        "blue" => Lane::Blue,
        other => return Err(("form-kind-invalid", other.to_string())),
    };
    let finding = match f.finding.as_str() {
        "none" => Finding::None,
        "minor" => Finding::Minor,
        "major" => Finding::Major,
        other => return Err(("form-kind-invalid", other.to_string())),
    };
    let revenue_recovered = match f.revenue_recovered.trim() {
        "" => None,
        text => Some(
            text.replace(',', ".")
                .parse::<f64>()
                .map_err(|_| ("form-amount-invalid", text.to_string()))?,
        ),
    };
    let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(ControlResult {
        office,
        at: Utc::now(),
        lane_applied,
        inspected: f.inspected == "yes",
        finding,
        finding_code: optional(&f.finding_code),
        revenue_recovered,
        seizure: f.seizure == "yes",
        remarks: optional(&f.remarks),
        propensity: None,
        assessment: None,
    })
}

/// `POST /console/movements/{mrn}/controls`: records a control result through the single
/// writer, as the API does, with the person as the audit log's actor; the form's nonce is the
/// idempotency key.
pub async fn record(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(mrn): Path<String>,
    form: Result<Form<ControlForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = signed.lang;
    let Ok(Form(f)) = form else {
        return pages::refusal(lang, StatusCode::BAD_REQUEST, &lang.t("form-unreadable"));
    };
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let office = match own_office(&state, &signed, &mrn, &f.office, "control-error").await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let result = match result_of(&f, office) {
        Ok(r) => r,
        Err((id, found)) => {
            let message = lang.t_args(id, &[("found", found.into())]);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return failure(&state, &signed, &mrn, ("control-error", status, message)).await;
        }
    };
    let user = &signed.session.user;
    let path = format!("/console/movements/{mrn}/controls");
    // What the audit log keeps of the request, and what the form's nonce is bound to.
    let body = serde_json::json!({
        "office": f.office, "lane_applied": f.lane_applied, "inspected": f.inspected,
        "finding": f.finding, "finding_code": f.finding_code,
        "revenue_recovered": f.revenue_recovered, "seizure": f.seizure, "remarks": f.remarks,
    })
    .to_string();
    let command = Command {
        actor: user.id.clone(),
        principal: user.principal(),
        request: Request::ControlResult {
            mrn: mrn.clone(),
            result,
        },
        idempotency_key: Some(format!("console:{}", f.nonce)),
        request_sha256: request_sha256("POST", &path, body.as_bytes()),
        body: body.into_bytes(),
    };
    let answer = state.writer.submit(command).await;
    submitted(&state, &signed, &mrn, answer, ("risk", "control-error")).await
}

/// The monitoring of `country`'s risk management from the movements it assessed (the
/// console's page and `GET /api/v1/risk/monitoring` both read it here).
pub async fn monitoring(
    store: &smartborder_store::Store,
    country: &str,
) -> Result<Monitoring, smartborder_store::StoreError> {
    let rows: Vec<Monitored> = route_risk::monitoring_rows(store, country)
        .await?
        .into_iter()
        .map(|r| Monitored {
            month: r.as_of.format("%Y-%m").to_string(),
            score: r.score,
            hits: r.hits,
            explored: r.explored,
            inspected: r.result.as_ref().map(|c| c.inspected),
            non_compliant: r.result.as_ref().and_then(ControlResult::non_compliant),
        })
        .collect();
    Ok(monitor(&rows))
}

/// `GET /console/risk/monitoring`: for an administration's analysts and supervisors.
pub async fn monitoring_page(State(state): State<ConsoleState>, signed: Signed) -> Response {
    let lang = signed.lang;
    let user = &signed.session.user;
    let country = match (user.role, user.country.as_deref()) {
        (Role::Analyst | Role::Supervisor, Some(c)) => c.to_string(),
        _ => {
            return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("monitoring-who"));
        }
    };
    let m = match monitoring(&state.store, &country).await {
        Ok(m) => m,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let rate = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{:.1}%", 100.0 * r));
    let content = html! {
        p.help { (lang.t_args("monitoring-intro", &[("country", country.clone().into())])) " "
            a href="/api/v1/risk/monitoring" { "JSON" } }
        @for w in &m.warnings { p.error role="alert" { (w) } }
        @if m.months.is_empty() {
            p { (lang.t("monitoring-empty")) }
        } @else {
            table #monitoring-months {
                caption { (lang.t("monitoring-months")) }
                thead { tr {
                    th { (lang.t("month")) } th.num { (lang.t("monitoring-assessed")) }
                    th.num { (lang.t("monitoring-inspected")) } th.num { (lang.t("monitoring-non-compliant")) }
                    th.num { (lang.t("monitoring-base-rate")) } th.num { "Pre@5%" } th.num { "Pre@10%" }
                    th.num { (lang.t_args("monitoring-psi", &[("reference", m.psi_reference.clone().unwrap_or_default().into())])) }
                    th.num { (lang.t("monitoring-explored")) } th.num { (lang.t("monitoring-from-exploration")) }
                } }
                tbody {
                    @for month in &m.months {
                        @let at = |n: u32| rate(month.precision_at.iter().find(|p| p.budget_percent == n).map(|p| p.precision));
                        tr {
                            td { (month.month) }
                            td.num { (lang.count(month.assessed as i64)) }
                            td.num { (lang.count(month.inspected as i64)) }
                            td.num { (lang.count(month.non_compliant as i64)) }
                            td.num { (rate(month.base_rate)) }
                            td.num { (at(5)) } td.num { (at(10)) }
                            td.num class=(if month.psi.is_some_and(|p| p > m.psi_warning_above) { "warning" } else { "" }) {
                                (month.psi.map_or("-".to_string(), |p| format!("{p:.3}")))
                            }
                            td.num { (rate(Some(month.exploration_share))) }
                            td.num { (rate(month.inspections_from_exploration)) }
                        }
                    }
                }
            }
            table #monitoring-profiles {
                caption { (lang.t("monitoring-profiles")) }
                thead { tr {
                    th { (lang.t("profile")) } th { (lang.t("month")) } th.num { (lang.t("monitoring-hits")) }
                    th.num { (lang.t("monitoring-hit-rate")) } th.num { (lang.t("monitoring-inspected")) }
                    th.num { (lang.t("monitoring-detection-rate")) }
                } }
                tbody {
                    @for (id, months) in &m.profiles {
                        @for p in months {
                            tr {
                                td { (id) } td { (p.month) } td.num { (lang.count(p.hits as i64)) }
                                td.num { (rate(Some(p.hit_rate))) } td.num { (lang.count(p.inspected as i64)) }
                                td.num { (rate(p.detection_rate)) }
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
        &lang.t("nav-monitoring"),
        StatusCode::OK,
        content,
    )
    .await
}
