//! Sampling plans in the console (`smartborder trs plan`): a pilot export and its mapping in, the
//! consignments to record per office, lane or mode out, with the method in words.

use std::path::{Path as FilePath, PathBuf};

use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use smartborder_ingest::{Mapping, NoProgress, read_study};
use smartborder_report::Lang as ReportLang;
use smartborder_report::collection;
use smartborder_trs::plan::{Margin, Pilot, PlanRequest, SamplingPlan, Statistic, plan_from_pilot};

use crate::ConsoleState;
use crate::i18n::Lang;
use crate::pages;
use crate::session::{Signed, same_secret};
use crate::trs::{may_run, save_export};

/// The form, with the values last given.
fn form(signed: &Signed, given: &Given) -> Markup {
    let lang = signed.lang;
    html! {
        form.card #plan-form method="post" action="/console/trs/plan" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            p {
                label for="plan-pilot" { (lang.t("plan-pilot")) }
                input #plan-pilot name="pilot" type="file" required accept=".csv,.xlsx,.xls,.parquet";
            }
            p {
                label for="plan-mapping" { (lang.t("study-mapping")) }
                input #plan-mapping name="mapping" type="file" required accept=".toml";
            }
            p {
                label for="plan-statistic" { (lang.t("plan-statistic")) }
                select #plan-statistic name="statistic" {
                    option value="median" selected[given.statistic == "median"] { (lang.t("plan-median")) }
                    option value="mean" selected[given.statistic == "mean"] { (lang.t("plan-mean")) }
                }
            }
            p {
                label for="plan-margin" { (lang.t("plan-margin")) }
                input #plan-margin name="margin_minutes" type="number" min="0.1" step="any" required value=(given.margin);
            }
            p {
                label for="plan-confidence" { (lang.t("plan-confidence")) }
                select #plan-confidence name="confidence" {
                    @for c in ["0.90", "0.95", "0.99"] {
                        option value=(c) selected[given.confidence == c] { (c) }
                    }
                }
            }
            p {
                label for="plan-by" { (lang.t("plan-by")) }
                input #plan-by name="by" value=(given.by) placeholder="office";
            }
            p {
                label for="plan-days" { (lang.t("plan-days")) }
                input #plan-days name="study_days" type="number" min="1" step="any" value=(given.study_days);
            }
            p { button type="submit" { (lang.t("plan-make")) } }
        }
    }
}

/// What the form was given.
struct Given {
    statistic: String,
    margin: String,
    confidence: String,
    by: String,
    study_days: String,
}

impl Default for Given {
    fn default() -> Self {
        Given {
            statistic: "median".into(),
            margin: "30".into(),
            confidence: "0.95".into(),
            by: "office".into(),
            study_days: String::new(),
        }
    }
}

async fn page(state: &ConsoleState, signed: &Signed, status: StatusCode, body: Markup) -> Response {
    pages::signed_page(state, signed, &signed.lang.t("plan-title"), status, body).await
}

/// `GET /console/trs/plan`.
pub async fn show(State(state): State<ConsoleState>, signed: Signed) -> Response {
    let lang = signed.lang;
    if !may_run(signed.session.user.role) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("study-not-allowed"));
    }
    let body = html! {
        p { (lang.t("plan-intro")) }
        (form(&signed, &Given::default()))
    };
    page(&state, &signed, StatusCode::OK, body).await
}

fn table(lang: Lang, plan: &SamplingPlan) -> Markup {
    let minutes = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
    html! {
        table #plan {
            thead { tr {
                th scope="col" { (lang.t("plan-stratum")) }
                th scope="col" .num { (lang.t("plan-pilot-count")) }
                th scope="col" .num { (lang.t("plan-median-minutes")) }
                th scope="col" .num { (lang.t("plan-std-minutes")) }
                th scope="col" .num { (lang.t("plan-sample")) }
                th scope="col" .num { (lang.t("plan-in-period")) }
                th scope="col" { (lang.t("plan-note")) }
            } }
            tbody {
                @for s in &plan.strata {
                    tr {
                        td { (s.stratum) }
                        td.num { (s.pilot_count) }
                        td.num { (minutes(s.pilot_median_minutes)) }
                        td.num { (minutes(s.pilot_std_minutes)) }
                        td.num { (s.sample.map_or_else(|| "-".to_string(), |n| n.to_string())) }
                        td.num { (s.expected_population.map_or_else(|| "-".to_string(), |n| n.to_string())) }
                        td { (s.note.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if let Some(n) = plan.total_sample {
            p #plan-total { (lang.t_args("plan-total", &[("n", (n as i64).into())])) }
        }
        p.note { (plan.method) }
    }
}

/// `POST /console/trs/plan` (multipart: csrf, pilot, mapping, statistic, margin_minutes,
/// confidence, by, study_days): the plan under the form.
pub async fn make(
    State(state): State<ConsoleState>,
    signed: Signed,
    mut multipart: Multipart,
) -> Response {
    let lang = signed.lang;
    if !may_run(signed.session.user.role) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("study-not-allowed"));
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let mut given = Given::default();
    let (mut csrf, mut mapping_text) = (String::new(), String::new());
    let mut pilot = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return pages::refusal(lang, StatusCode::BAD_REQUEST, &e.body_text()),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "pilot" {
            match save_export(field, dir.path(), "pilot", lang).await {
                Ok((path, _)) => pilot = Some(path),
                Err((status, message)) => return pages::refusal(lang, status, &message),
            }
            continue;
        }
        let text = field.text().await.unwrap_or_default();
        match name.as_str() {
            "csrf" => csrf = text,
            "mapping" => mapping_text = text,
            "statistic" => given.statistic = text,
            "margin_minutes" => given.margin = text.trim().to_string(),
            "confidence" => given.confidence = text.trim().to_string(),
            "by" => given.by = text.trim().to_string(),
            "study_days" => given.study_days = text.trim().to_string(),
            _ => {}
        }
    }
    if !same_secret(&csrf, &signed.session.csrf) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("csrf-refused"));
    }
    let refused = |message: String| {
        let body = html! {
            p.error role="alert" { (lang.t("plan-refused")) ": " (message) }
            (form(&signed, &given))
        };
        (StatusCode::UNPROCESSABLE_ENTITY, body)
    };
    let number = |key: &str, text: &str, ok: fn(f64) -> bool| -> Result<f64, String> {
        text.parse::<f64>().ok().filter(|v| ok(*v)).ok_or_else(|| {
            lang.t_args(
                "plan-bad-number",
                &[
                    ("field", lang.t(key).into()),
                    ("found", text.to_string().into()),
                ],
            )
        })
    };
    let asked = (|| -> Result<(PathBuf, PlanRequest), String> {
        let pilot = pilot.clone().ok_or_else(|| lang.t("study-no-export"))?;
        let statistic = match given.statistic.as_str() {
            "mean" => Statistic::Mean,
            _ => Statistic::Median,
        };
        let margin = number("plan-margin", &given.margin, |m| m.is_finite() && m > 0.0)?;
        let confidence = number("plan-confidence", &given.confidence, |c| c > 0.5 && c < 1.0)?;
        let study_days = match given.study_days.as_str() {
            "" => None,
            d => Some(number("plan-days", d, |d| d.is_finite() && d > 0.0)?),
        };
        let request = PlanRequest {
            statistic,
            margin: Margin::Minutes(margin),
            confidence,
            study_days,
        };
        Ok((pilot, request))
    })();
    // Reading the pilot is file work: on a blocking thread.
    let outcome = match asked {
        Err(message) => Err(message),
        Ok((pilot, request)) => {
            let (text, by) = (mapping_text.clone(), given.by.clone());
            tokio::task::spawn_blocking(move || plan_of(&pilot, &text, &by, &request))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
        }
    };
    let (status, body) = match outcome {
        Ok(plan) => (
            StatusCode::OK,
            html! {
                h2 { (lang.t_args("plan-heading", &[("from", plan.interval_from.clone().into()), ("to", plan.interval_to.clone().into())])) }
                (table(lang, &plan))
                (workbook_form(&signed, &mapping_text, &plan))
                (form(&signed, &given))
            },
        ),
        Err(message) => refused(message),
    };
    page(&state, &signed, status, body).await
}

/// The collection workbook of the plan: its offices as sheets (when stratified by office), the
/// plan's rows; and the mapping that reads it back.
fn workbook_form(signed: &Signed, mapping_text: &str, plan: &SamplingPlan) -> Markup {
    let lang = signed.lang;
    let plan_json = serde_json::to_string(plan).unwrap_or_default();
    html! {
        h2 { (lang.t("workbook-title")) }
        p { (lang.t("workbook-intro")) }
        form.card #workbook-form method="post" action="/console/trs/workbook" {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            input type="hidden" name="mapping" value=(mapping_text);
            input type="hidden" name="plan" value=(plan_json);
            p {
                label for="workbook-posts" { (lang.t("workbook-posts")) }
                input #workbook-posts name="posts" placeholder="Red Bridge; New Post=Asia/Almaty";
            }
            p {
                label for="workbook-rows" { (lang.t("workbook-rows")) }
                input #workbook-rows name="rows" type="number" min="1" value="100";
            }
            p {
                button type="submit" name="what" value="xlsx" { (lang.t("workbook-download")) }
                " "
                button type="submit" name="what" value="mapping" { (lang.t("workbook-mapping")) }
            }
        }
    }
}

/// The workbook form's fields.
#[derive(Deserialize)]
pub struct WorkbookForm {
    csrf: String,
    mapping: String,
    plan: String,
    #[serde(default)]
    posts: String,
    #[serde(default)]
    rows: String,
    what: String,
}

/// `POST /console/trs/workbook`: the collection workbook (`what=xlsx`) or the mapping that reads
/// it back (`what=mapping`), as a download.
pub async fn workbook(signed: Signed, Form(f): Form<WorkbookForm>) -> Response {
    let lang = signed.lang;
    if !may_run(signed.session.user.role) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("study-not-allowed"));
    }
    if !same_secret(&f.csrf, &signed.session.csrf) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("csrf-refused"));
    }
    let refused = |message: String| {
        pages::refusal(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{}: {message}", lang.t("workbook-refused")),
        )
    };
    let mapping = match Mapping::from_toml(&f.mapping, "mapping") {
        Ok(m) => m,
        Err(e) => return refused(e.to_string()),
    };
    let plan: Option<SamplingPlan> = serde_json::from_str(&f.plan).ok();
    let posts: Vec<String> = f
        .posts
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    let rows = f
        .rows
        .trim()
        .parse::<u32>()
        .unwrap_or(100)
        .clamp(1, 100_000);
    let (design, mapping_out) = match collection::design_from_mapping(
        &mapping,
        &f.mapping,
        &posts,
        plan.as_ref(),
        rows,
        "collection.mapping.toml",
    ) {
        Ok(d) => d,
        Err(e) => return refused(e.to_string()),
    };
    let attachment = |name: &str| {
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            .unwrap_or(HeaderValue::from_static("attachment"))
    };
    if f.what == "mapping" {
        return (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    attachment("collection.mapping.toml"),
                ),
            ],
            mapping_out,
        )
            .into_response();
    }
    let report_lang = lang.tag().parse::<ReportLang>().unwrap_or(ReportLang::En);
    match tokio::task::spawn_blocking(move || collection::workbook(&design, report_lang)).await {
        Ok(Ok(bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    ),
                ),
                (header::CONTENT_DISPOSITION, attachment("collection.xlsx")),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => refused(e.to_string()),
        Err(e) => refused(e.to_string()),
    }
}

/// The plan of a pilot export, of its arrival-to-release interval, stratified by `by` (empty:
/// the whole population).
fn plan_of(
    pilot: &FilePath,
    mapping_text: &str,
    by: &str,
    request: &PlanRequest,
) -> Result<SamplingPlan, String> {
    let mapping = Mapping::from_toml(mapping_text, "mapping").map_err(|e| e.to_string())?;
    let ingested = read_study(pilot, &mapping, &NoProgress, 1).map_err(|e| e.to_string())?;
    let design = &mapping.design;
    let (from, to) = (
        &design.stages[design.arrival_stage()],
        &design.stages[design.release_stage()],
    );
    let by = (!by.is_empty()).then_some(by);
    let pilot = Pilot::new(&ingested.table, design, from, to, by).map_err(|e| e.to_string())?;
    Ok(plan_from_pilot(&pilot, request))
}
