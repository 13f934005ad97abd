//! The risk analyst's workplace: the administration's risk profiles edited in the browser and
//! checked as they are typed (the rule language's own parser, with line and column), published
//! as new versions; any file of the configuration (plan, model, bands) uploaded and published
//! once the configuration compiles with it; and the model card of the model in force (training
//! data and period, metrics on held-out declarations, top features).

use std::collections::BTreeMap;
use std::path::Path as FilePath;

use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;
use smartborder_ingest::declaration_mapping::KCS_MAPPING;
use smartborder_ingest::{DeclarationMapping, NoProgress, read_declarations};
use smartborder_risk::configuration::{
    ConfigurationFile, RiskConfiguration, check_file_name, with_new_files,
};
use smartborder_risk::evaluation::{BacktestPeriod, RulePerformance, backtest, rule_performance};
use smartborder_risk::gbdt::BoostParams;
use smartborder_risk::model::{Capacity, ModelCard, TrainOptions, Weighting};
use smartborder_risk::rules::{RuleError, RuleFiles, RuleSet, parse_rules_with};
use smartborder_store::risk_files::{self, RiskFile};
use smartborder_store::users::Role;

use crate::ConsoleState;
use crate::i18n::Lang;
use crate::pages;
use crate::session::{Signed, same_secret};

pub use smartborder_risk::configuration::{MODEL_CARD, PROFILES};

/// The largest upload of configuration files (a model of a large history runs to tens of
/// megabytes), as the API's `PUT /api/v1/risk/files/{name}` accepts.
pub const MAX_FILES_BYTES: usize = 64 * 1024 * 1024;

/// The administration of an analyst (`None`: not an analyst of an administration).
fn analyst_country(signed: &Signed) -> Option<&str> {
    match signed.session.user.role {
        Role::Analyst => signed.session.user.country.as_deref(),
        _ => None,
    }
}

fn analysts_only(signed: &Signed) -> Response {
    pages::refusal(
        signed.lang,
        StatusCode::FORBIDDEN,
        &signed.lang.t("analysts-only"),
    )
}

/// Checks a profiles text as `smartborder risk rules check --mapping published` does, with the
/// administration's other risk files (value bands, lists) beside it.
fn check(text: &str, files: &[RiskFile]) -> Result<RuleSet, RuleError> {
    let attributes = smartborder_ingest::declaration_mapping::published_attribute_names();
    let named: BTreeMap<String, String> = files
        .iter()
        .filter(|f| f.name != PROFILES)
        .map(|f| (f.name.clone(), f.body.clone()))
        .collect();
    parse_rules_with(text, PROFILES, RuleFiles::Named(&named), &attributes)
}

fn check_result(lang: Lang, result: &Result<RuleSet, RuleError>) -> Markup {
    html! {
        div #check-result aria-live="polite" {
            @match result {
                Err(e) => {
                    p.error role="alert" #rule-error data-line=(e.line) data-column=(e.column) {
                        (lang.t_args("rule-error-at", &[("line", (e.line as i64).into()), ("column", (e.column as i64).into())]))
                        " " (e.message)
                    }
                }
                Ok(rules) => {
                    p.ok #rule-ok { (lang.t_args("rules-ok", &[("profiles", (rules.profiles.len() as i64).into())])) }
                    table #profiles-table {
                        thead { tr {
                            th scope="col" { (lang.t("profile")) }
                            th scope="col" .num { (lang.t("rule-line")) }
                            th scope="col" { (lang.t("profile-actions")) }
                            th scope="col" { (lang.t("profile-description")) }
                        } }
                        tbody {
                            @for p in &rules.profiles {
                                tr {
                                    td { (p.id) }
                                    td.num { (p.line) }
                                    td {
                                        @if p.value_control.is_some() { (lang.t("value-control")) "; " }
                                        (p.actions.lanes.iter().map(|(l, s)| format!("{l} {:.0}%", s * 100.0)).collect::<Vec<_>>().join(", "))
                                        @if p.actions.review { ", " (lang.t("review")) }
                                    }
                                    td { (p.description.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn model_card(lang: Lang, card: Option<&ModelCard>) -> Markup {
    html! {
        h2 #model-card { (lang.t("model-card")) }
        @match card {
            None => p.empty { (lang.t("model-none")) },
            Some(card) => {
                dl.summary {
                    dt { (lang.t("model-training-data")) } dd { (card.training_data) }
                    dt { (lang.t("model-period")) } dd { (card.training.first_date) " – " (card.training.last_date) }
                    dt { (lang.t("model-declarations")) }
                    dd { (lang.t_args("model-inspected", &[("declarations", lang.count(card.training.declarations as i64).into()), ("illicit", lang.count(card.training.illicit as i64).into())])) }
                    dt { (lang.t("model-params")) }
                    dd { (lang.t_args("model-params-text", &[("trees", (card.params.trees as i64).into()), ("leaves", (card.params.max_leaves as i64).into())])) }
                    dt { (lang.t("model-evaluation-data")) } dd { (card.evaluation_data) }
                }
                table #model-metrics {
                    caption { (lang.t_args("model-metrics", &[("declarations", lang.count(card.evaluation.declarations as i64).into())])) }
                    thead { tr {
                        th scope="col" .num { (lang.t("budget-percent")) }
                        th scope="col" .num { (lang.t("selected")) }
                        th scope="col" .num { "Pre@n" }
                        th scope="col" .num { "Rec@n" }
                        th scope="col" .num { "Rev@n" }
                    } }
                    tbody {
                        @for b in &card.evaluation.budgets {
                            tr {
                                td.num { (b.budget_percent) }
                                td.num { (lang.count(b.selected as i64)) }
                                td.num { (format!("{:.3}", b.precision)) }
                                td.num { (format!("{:.3}", b.recall)) }
                                td.num { (b.revenue_recall.map_or("–".to_string(), |r| format!("{r:.3}"))) }
                            }
                        }
                    }
                }
                p { "AUC " (card.evaluation.auc.map_or("–".to_string(), |a| format!("{a:.3}"))) }
                table #top-features {
                    caption { (lang.t("model-top-features")) }
                    thead { tr {
                        th scope="col" { (lang.t("feature")) }
                        th scope="col" .num { (lang.t("mean-abs-log-odds")) }
                    } }
                    tbody {
                        @for f in card.top_features.iter().take(10) {
                            tr { td { (f.feature) } td.num { (format!("{:.3}", f.log_odds)) } }
                        }
                    }
                }
            }
        }
    }
}

async fn render(
    state: &ConsoleState,
    signed: &Signed,
    status: StatusCode,
    text: Option<String>,
    notice: Option<Markup>,
) -> Response {
    let lang = signed.lang;
    let Some(country) = analyst_country(signed) else {
        return analysts_only(signed);
    };
    let files = match risk_files::in_force(&state.store, country).await {
        Ok(f) => f,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let published = files.iter().find(|f| f.name == PROFILES);
    let text = text.unwrap_or_else(|| {
        published.map_or(smartborder_risk::examples::KCS_PROFILES.to_string(), |f| {
            f.body.clone()
        })
    });
    let result = check(&text, &files);
    let card: Option<ModelCard> = files
        .iter()
        .find(|f| f.name == MODEL_CARD)
        .and_then(|f| serde_json::from_str(&f.body).ok());
    let content = html! {
        @if let Some(n) = notice { (n) }
        h2 { (lang.t("profiles")) }
        p #profiles-version {
            @match published {
                Some(f) => (lang.t_args("profiles-version", &[
                    ("version", f.version.into()),
                    ("by", f.published_by.clone().into()),
                    ("at", lang.utc_time(DateTime::from_timestamp_micros(f.created_at).unwrap_or_default()).into()),
                ])),
                None => (lang.t("profiles-example")),
            }
        }
        form #profiles-form method="post" action="/console/risk/profiles" {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            label for="profiles" { (lang.t("profiles-editor")) }
            textarea #profiles name="text" rows="28" spellcheck="false" autocomplete="off"
                hx-post="/console/risk/check" hx-trigger="input changed delay:300ms"
                hx-target="#check-result" hx-swap="outerHTML" hx-include="closest form" {
                (text)
            }
            p { button type="submit" { (lang.t("profiles-publish")) } }
        }
        (check_result(lang, &result))
        (files_in_force(lang, signed, &files))
        (model_card(lang, card.as_ref()))
        h2 #backtest { (lang.t("backtest")) }
        p { (lang.t("backtest-intro")) }
        form.card #backtest-form method="post" action="/console/risk/backtest" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            p {
                label for="backtest-history" { (lang.t("backtest-history")) }
                input #backtest-history name="history" type="file" required accept=".csv,.xlsx,.xls,.parquet";
            }
            p {
                label for="backtest-split" { (lang.t("backtest-split")) }
                input #backtest-split name="split" type="date" aria-describedby="backtest-split-help";
                small #backtest-split-help { (lang.t("backtest-split-help")) }
            }
            p { button type="submit" { (lang.t("backtest-run")) } }
        }
    };
    pages::signed_page(state, signed, &lang.t("nav-risk"), status, content).await
}

/// The files in force, and the form that publishes new versions of any of them.
fn files_in_force(lang: Lang, signed: &Signed, files: &[RiskFile]) -> Markup {
    html! {
        h2 #files { (lang.t("risk-files")) }
        @if files.is_empty() {
            p { (lang.t("risk-files-none")) }
        } @else {
            table #risk-files {
                thead { tr { th { (lang.t("risk-file")) } th.num { (lang.t("risk-file-version")) } th { (lang.t("risk-file-by")) } } }
                tbody {
                    @for f in files {
                        tr {
                            td { (f.name) } td.num { (f.version) }
                            td { (f.published_by) " · " (lang.utc_time(DateTime::from_timestamp_micros(f.created_at).unwrap_or_default())) }
                        }
                    }
                }
            }
        }
        form.card #files-form method="post" action="/console/risk/files" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            p {
                label for="risk-files-upload" { (lang.t("risk-files-upload")) }
                input #risk-files-upload name="files" type="file" multiple required aria-describedby="risk-files-help";
                small #risk-files-help { (lang.t("risk-files-help")) }
            }
            p { button type="submit" { (lang.t("risk-files-publish")) } }
        }
    }
}

/// `POST /console/risk/files` (multipart: csrf, files): publishes new versions of the uploaded
/// files together, once the configuration compiles with them (as `risk publish` and the API do);
/// otherwise nothing is published and the page says which file and where.
pub async fn upload(
    State(state): State<ConsoleState>,
    signed: Signed,
    mut form: Multipart,
) -> Response {
    let lang = signed.lang;
    let Some(country) = analyst_country(&signed).map(str::to_string) else {
        return analysts_only(&signed);
    };
    let failed = |status: StatusCode, message: String| {
        let notice = html! { p.error role="alert" #files-error { (message) } };
        render(&state, &signed, status, None, Some(notice))
    };
    let (mut csrf, mut new) = (String::new(), Vec::new());
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return failed(StatusCode::BAD_REQUEST, e.body_text()).await,
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "files" => {
                let name = field.file_name().unwrap_or("").to_string();
                if name.is_empty() {
                    continue;
                }
                if let Err(message) = check_file_name(&name) {
                    return failed(StatusCode::UNPROCESSABLE_ENTITY, message).await;
                }
                let body = match field.bytes().await {
                    Ok(b) => b,
                    Err(e) => return failed(StatusCode::BAD_REQUEST, e.body_text()).await,
                };
                let Ok(body) = String::from_utf8(body.to_vec()) else {
                    let message = lang.t_args("risk-file-not-text", &[("file", name.into())]);
                    return failed(StatusCode::UNPROCESSABLE_ENTITY, message).await;
                };
                new.push(ConfigurationFile {
                    name,
                    version: 0,
                    body,
                });
            }
            _ => {}
        }
    }
    if !same_secret(&csrf, &signed.session.csrf) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("csrf-refused"));
    }
    if new.is_empty() {
        return failed(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.t("risk-files-none-given"),
        )
        .await;
    }
    let in_force: Vec<ConfigurationFile> = match risk_files::in_force(&state.store, &country).await
    {
        Ok(files) => files
            .into_iter()
            .map(|f| ConfigurationFile {
                name: f.name,
                version: f.version,
                body: f.body,
            })
            .collect(),
        Err(e) => return pages::store_failed(lang, &e),
    };
    let files = with_new_files(in_force, &new);
    let compiled = tokio::task::spawn_blocking(move || {
        let attributes = smartborder_ingest::declaration_mapping::published_attribute_names();
        RiskConfiguration::compile(&files, &attributes).map(|_| ())
    })
    .await;
    match compiled {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let message = lang.t_args("risk-files-refused", &[("error", e.to_string().into())]);
            return failed(StatusCode::UNPROCESSABLE_ENTITY, message).await;
        }
        Err(e) => return failed(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).await,
    }
    let named: Vec<(&str, &str)> = new
        .iter()
        .map(|f| (f.name.as_str(), f.body.as_str()))
        .collect();
    let actor = signed.session.user.id.clone();
    match risk_files::publish(&state.store, &actor, &country, &named).await {
        Ok(versions) => {
            let published: Vec<String> = new
                .iter()
                .zip(versions)
                .map(|(f, v)| format!("{} v{v}", f.name))
                .collect();
            let notice = html! { p.ok role="status" #files-published {
                (lang.t_args("risk-files-published", &[("files", published.join(", ").into())]))
            } };
            render(&state, &signed, StatusCode::OK, None, Some(notice)).await
        }
        Err(e) => pages::store_failed(lang, &e),
    }
}

/// `GET /console/risk`
pub async fn page(State(state): State<ConsoleState>, signed: Signed) -> Response {
    render(&state, &signed, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct ProfilesForm {
    #[serde(default)]
    csrf: String,
    text: String,
}

/// `POST /console/risk/check`: the check of the text being typed (a fragment for htmx).
pub async fn check_fragment(
    State(state): State<ConsoleState>,
    signed: Signed,
    Form(f): Form<ProfilesForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let Some(country) = analyst_country(&signed) else {
        return analysts_only(&signed);
    };
    let files = match risk_files::in_force(&state.store, country).await {
        Ok(f) => f,
        Err(e) => return pages::store_failed(signed.lang, &e),
    };
    let result = check(&f.text, &files);
    Html(check_result(signed.lang, &result).into_string()).into_response()
}

/// `POST /console/risk/profiles`: checks the text and publishes it as the new version.
pub async fn publish(
    State(state): State<ConsoleState>,
    signed: Signed,
    Form(f): Form<ProfilesForm>,
) -> Response {
    let lang = signed.lang;
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    let Some(country) = analyst_country(&signed).map(str::to_string) else {
        return analysts_only(&signed);
    };
    let files = match risk_files::in_force(&state.store, &country).await {
        Ok(f) => f,
        Err(e) => return pages::store_failed(lang, &e),
    };
    if check(&f.text, &files).is_err() {
        let notice = html! { p.error role="alert" { (lang.t("profiles-not-published")) } };
        return render(
            &state,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(f.text),
            Some(notice),
        )
        .await;
    }
    let actor = signed.session.user.id.clone();
    match risk_files::publish(&state.store, &actor, &country, &[(PROFILES, &f.text)]).await {
        Ok(versions) => {
            let version = versions.first().copied().unwrap_or_default();
            let notice = html! { p.ok role="status" #published { (lang.t_args("profiles-published", &[("version", version.into())])) } };
            render(&state, &signed, StatusCode::OK, None, Some(notice)).await
        }
        Err(e) => pages::store_failed(lang, &e),
    }
}

/// The outcome of a backtest, for its page.
struct Backtest {
    file: String,
    rows: u64,
    problems: Vec<String>,
    split: NaiveDate,
    period: BacktestPeriod,
    rules: Option<RulePerformance>,
}

/// Trains on the history before `split` and measures the model, and the profiles in force,
/// on the declarations from `split` on (the engine's `risk backtest`).
fn run_backtest(
    path: &FilePath,
    file: String,
    split: Option<NaiveDate>,
    files: &[RiskFile],
) -> Result<Backtest, String> {
    let mapping = DeclarationMapping::from_toml(KCS_MAPPING, "kcs").map_err(|e| e.to_string())?;
    let read = read_declarations(path, &mapping, &NoProgress).map_err(|e| e.to_string())?;
    let history = read.set;
    let mut dates: Vec<NaiveDate> = history.declarations.iter().map(|d| d.date).collect();
    dates.sort_unstable();
    let split = match split {
        Some(s) => s,
        // Three quarters of the history to train on.
        None => *dates
            .get(dates.len() * 3 / 4)
            .ok_or_else(|| format!("{file}: no declaration was read"))?,
    };
    let params = BoostParams {
        threads: std::thread::available_parallelism().map_or(1, usize::from),
        ..BoostParams::default()
    };
    let options = TrainOptions {
        params,
        seed: 1,
        weighting: Weighting::None,
        capacity: Capacity::Validated,
    };
    let period = backtest(&history, &[split], &options, params.threads)
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or_else(|| "the backtest measured no period".to_string())?;
    let profiles = files
        .iter()
        .find(|f| f.name == PROFILES)
        .map(|f| f.body.clone());
    let rules = profiles
        .and_then(|text| check(&text, files).ok())
        .map(|rules| {
            let later: Vec<_> = history
                .declarations
                .iter()
                .filter(|d| d.date >= split)
                .cloned()
                .collect();
            rule_performance(&rules, &later)
        });
    Ok(Backtest {
        file,
        rows: read.rows_read,
        problems: read
            .problems
            .iter()
            .take(20)
            .map(ToString::to_string)
            .collect(),
        split,
        period,
        rules,
    })
}

fn backtest_page(lang: Lang, b: &Backtest) -> Markup {
    let m = &b.period.metrics;
    html! {
        p #backtest-summary {
            (lang.t_args("backtest-summary", &[
                ("file", b.file.clone().into()),
                ("rows", lang.count(b.rows as i64).into()),
                ("split", b.split.to_string().into()),
                ("train", lang.count(b.period.train_declarations as i64).into()),
                ("test", lang.count(m.declarations as i64).into()),
            ]))
        }
        @if !b.problems.is_empty() {
            details {
                summary { (lang.t("backtest-problems")) }
                ul { @for p in &b.problems { li { (p) } } }
            }
        }
        table #backtest-metrics {
            caption { (lang.t("backtest-model")) }
            thead { tr {
                th scope="col" .num { (lang.t("budget-percent")) }
                th scope="col" .num { (lang.t("selected")) }
                th scope="col" .num { "Pre@n" }
                th scope="col" .num { "Rec@n" }
                th scope="col" .num { "Rev@n" }
            } }
            tbody {
                @for x in &m.budgets {
                    tr {
                        td.num { (x.budget_percent) }
                        td.num { (lang.count(x.selected as i64)) }
                        td.num { (format!("{:.3}", x.precision)) }
                        td.num { (format!("{:.3}", x.recall)) }
                        td.num { (x.revenue_recall.map_or("–".to_string(), |r| format!("{r:.3}"))) }
                    }
                }
            }
        }
        p { "AUC " (m.auc.map_or("–".to_string(), |a| format!("{a:.3}"))) }
        @match &b.rules {
            None => p.empty { (lang.t("backtest-no-profiles")) },
            Some(r) => {
                table #backtest-profiles {
                    caption { (lang.t("backtest-profiles")) }
                    thead { tr {
                        th scope="col" { (lang.t("profile")) }
                        th scope="col" .num { (lang.t("hits")) }
                        th scope="col" .num { (lang.t("inspection-rate")) }
                        th scope="col" .num { (lang.t("hit-rate")) }
                        th scope="col" .num { (lang.t("detection-rate")) }
                    } }
                    tbody {
                        @for p in r.profiles.iter().chain([&r.overall]) {
                            tr {
                                td { (p.profile) }
                                td.num { (lang.count(p.hits as i64)) }
                                td.num { (format!("{:.3}", p.inspection_rate)) }
                                td.num { (format!("{:.3}", p.hit_rate)) }
                                td.num { (format!("{:.3}", p.detection_rate)) }
                            }
                        }
                    }
                }
            }
        }
        p { a href="/console/risk" { (lang.t("back-to-profiles")) } }
    }
}

/// `POST /console/risk/backtest` (multipart: csrf, history, split): a backtest of a model
/// trained on the uploaded history before the split date, with the profiles in force.
pub async fn run(
    State(state): State<ConsoleState>,
    signed: Signed,
    mut form: Multipart,
) -> Response {
    let lang = signed.lang;
    let Some(country) = analyst_country(&signed).map(str::to_string) else {
        return analysts_only(&signed);
    };
    let refused = |status: StatusCode, message: String| {
        pages::refusal(
            lang,
            status,
            &format!("{}: {message}", lang.t("backtest-refused")),
        )
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return refused(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let (mut csrf, mut split, mut history) = (String::new(), String::new(), None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return refused(StatusCode::BAD_REQUEST, e.body_text()),
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "split" => split = field.text().await.unwrap_or_default(),
            "history" => match crate::trs::save_export(field, dir.path(), "history", lang).await {
                Ok(saved) => history = Some(saved),
                Err((status, message)) => return refused(status, message),
            },
            _ => {}
        }
    }
    if !same_secret(&csrf, &signed.session.csrf) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("csrf-refused"));
    }
    let Some((path, name)) = history else {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.t("backtest-no-history"),
        );
    };
    let split = match split.trim() {
        "" => None,
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                let message =
                    lang.t_args("backtest-bad-split", &[("found", text.to_string().into())]);
                return refused(StatusCode::UNPROCESSABLE_ENTITY, message);
            }
        },
    };
    let files = match risk_files::in_force(&state.store, &country).await {
        Ok(f) => f,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let outcome = tokio::task::spawn_blocking(move || {
        let result = run_backtest(&path, name, split, &files);
        drop(dir);
        result
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match outcome {
        Ok(b) => {
            let content = backtest_page(lang, &b);
            pages::signed_page(
                &state,
                &signed,
                &lang.t("backtest"),
                StatusCode::OK,
                content,
            )
            .await
        }
        Err(message) => refused(StatusCode::UNPROCESSABLE_ENTITY, message),
    }
}
