//! Time Release Studies in the console: upload an export and its mapping, watch the study run,
//! read the report inside the console, download it as HTML, JSON or Excel, and find past
//! studies in a list kept in the database. The study is the same as `smartborder trs run`:
//! the ingest readers and the TRS engine, on a blocking thread.

use std::collections::HashMap;
use std::path::{Path as FilePath, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::DateTime;
use maud::html;
use smartborder_ingest::{InputKind, Mapping, Progress, read_study};
use smartborder_report::Lang as ReportLang;
use smartborder_store::studies::{self, StudyInfo, StudyStatus};
use smartborder_store::users::Role;
use smartborder_trs::{TrsOptions, TrsReport, analyze};
use tokio::io::AsyncWriteExt;

use crate::ConsoleState;
use crate::i18n::Lang;
use crate::pages;
use crate::session::{Signed, same_secret};

/// Largest export accepted from the browser.
pub const MAX_UPLOAD_BYTES: usize = 1 << 30;

/// Progress of running studies: id -> (work done, work in all), in the reader's units.
pub type Running = Arc<Mutex<HashMap<String, (u64, u64)>>>;

/// Who runs studies: not officers (they record at the border) nor account admins.
pub(crate) fn may_run(role: Role) -> bool {
    matches!(role, Role::Supervisor | Role::Analyst | Role::Coordinator)
}

fn owner(signed: &Signed) -> Option<&str> {
    signed.session.user.country.as_deref()
}

fn when(lang: Lang, micros: i64) -> String {
    lang.utc_time(DateTime::from_timestamp_micros(micros).unwrap_or_default())
}

fn status_text(lang: Lang, s: StudyStatus) -> String {
    lang.t(match s {
        StudyStatus::Running => "study-running",
        StudyStatus::Done => "study-done",
        StudyStatus::Failed => "study-failed",
    })
}

/// `GET /console/trs`: past studies and the upload form.
pub async fn list(State(state): State<ConsoleState>, signed: Signed) -> Response {
    let lang = signed.lang;
    let studies = match studies::list(&state.store, owner(&signed)).await {
        Ok(s) => s,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let content = html! {
        @if may_run(signed.session.user.role) {
            p { a #plan-link href="/console/trs/plan" { (lang.t("nav-plan")) } }
            h2 { (lang.t("study-new")) }
            form.card #study-form method="post" action="/console/trs" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(signed.session.csrf);
                p {
                    label for="study-name" { (lang.t("study-name")) }
                    input #study-name name="name" required maxlength="200";
                }
                p {
                    label for="study-export" { (lang.t("study-export")) }
                    input #study-export name="export" type="file" required accept=".csv,.xlsx,.xls,.parquet" aria-describedby="study-export-help";
                    small #study-export-help { (lang.t("study-export-help")) }
                }
                p {
                    label for="study-mapping" { (lang.t("study-mapping")) }
                    input #study-mapping name="mapping" type="file" required accept=".toml";
                }
                p { button type="submit" { (lang.t("study-run")) } }
            }
        }
        h2 { (lang.t("study-list")) }
        table #studies {
            thead { tr {
                th scope="col" { (lang.t("study-name")) }
                th scope="col" { (lang.t("study-started")) }
                th scope="col" { (lang.t("status")) }
                th scope="col" .num { (lang.t("study-consignments")) }
            } }
            tbody {
                @for s in &studies {
                    tr {
                        td { a href=(format!("/console/trs/{}", s.id)) { (s.name) } }
                        td { (when(lang, s.created_at)) }
                        td { (status_text(lang, s.status)) }
                        td.num { (lang.count(s.consignments)) }
                    }
                }
            }
        }
        @if studies.is_empty() { p.empty { (lang.t("study-none")) } }
    };
    pages::signed_page(&state, &signed, &lang.t("nav-trs"), StatusCode::OK, content).await
}

/// Reports the reader's progress into the shared map.
struct StudyProgress {
    id: String,
    running: Running,
}

impl Progress for StudyProgress {
    fn start(&self, total: u64) {
        if let Ok(mut map) = self.running.lock() {
            map.insert(self.id.clone(), (0, total));
        }
    }

    fn advance(&self, done: u64) {
        if let Ok(mut map) = self.running.lock()
            && let Some(entry) = map.get_mut(&self.id)
        {
            entry.0 += done;
        }
    }
}

/// Reads and analyses a study (on a blocking thread): the report, or the error in words.
fn run_study(
    export: &FilePath,
    mapping: &Mapping,
    file_name: &str,
    progress: &StudyProgress,
) -> Result<TrsReport, String> {
    let options = TrsOptions::default();
    let ingested =
        read_study(export, mapping, progress, options.threads).map_err(|e| e.to_string())?;
    Ok(analyze(
        file_name,
        &ingested.table,
        &mapping.design,
        ingested.findings,
        ingested.consignments_read,
        ingested.rows_read,
        &options,
    ))
}

/// `POST /console/trs` (multipart: csrf, name, export, mapping): starts a study and goes to
/// its page, where its progress shows.
pub async fn start(
    State(state): State<ConsoleState>,
    signed: Signed,
    mut form: Multipart,
) -> Response {
    let lang = signed.lang;
    if !may_run(signed.session.user.role) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("study-not-allowed"));
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return failed(lang, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let (mut csrf, mut name, mut mapping_text) = (String::new(), String::new(), String::new());
    let mut export: Option<PathBuf> = None;
    let mut export_name = String::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return failed(lang, StatusCode::BAD_REQUEST, e.body_text()),
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "name" => name = field.text().await.unwrap_or_default().trim().to_string(),
            "mapping" => match field.text().await {
                Ok(t) => mapping_text = t,
                Err(e) => return failed(lang, StatusCode::BAD_REQUEST, e.body_text()),
            },
            "export" => match save_export(field, dir.path(), "export", lang).await {
                Ok((path, file_name)) => {
                    export_name = file_name;
                    export = Some(path);
                }
                Err((status, message)) => return failed(lang, status, message),
            },
            _ => {}
        }
    }
    if !same_secret(&csrf, &signed.session.csrf) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("csrf-refused"));
    }
    let Some(export) = export else {
        return failed(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.t("study-no-export"),
        );
    };
    if name.is_empty() {
        name = lang.t("study-unnamed");
    }
    let mapping = match Mapping::from_toml(&mapping_text, "mapping") {
        Ok(m) => m,
        Err(e) => return failed(lang, StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let actor = signed.session.user.id.clone();
    let id = match studies::start(&state.store, &actor, owner(&signed), &name).await {
        Ok(id) => id,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let progress = StudyProgress {
        id: id.clone(),
        running: state.running.clone(),
    };
    if let Ok(mut map) = state.running.lock() {
        map.insert(id.clone(), (0, 0));
    }
    let store = state.store.clone();
    let running = state.running.clone();
    let study_id = id.clone();
    tokio::spawn(async move {
        let outcome = tokio::task::spawn_blocking(move || {
            let result = run_study(&export, &mapping, &export_name, &progress);
            drop(dir);
            result
        })
        .await
        .unwrap_or_else(|e| Err(format!("the study stopped: {e}")));
        let outcome = outcome.and_then(|report| {
            serde_json::to_string(&report)
                .map(|json| (json, report.consignments as i64))
                .map_err(|e| e.to_string())
        });
        // The row says how it ended; nothing else is left to do if the store is gone.
        let _ = studies::finish(&store, &study_id, outcome).await;
        if let Ok(mut map) = running.lock() {
            map.remove(&study_id);
        }
    });
    Redirect::to(&format!("/console/trs/{id}")).into_response()
}

/// Saves an uploaded export in `dir` as `stem` with the extension of its file name (which
/// tells the reader the format); returns the path and the file's name as uploaded.
pub(crate) async fn save_export(
    field: axum::extract::multipart::Field<'_>,
    dir: &FilePath,
    stem: &str,
    lang: Lang,
) -> Result<(PathBuf, String), (StatusCode, String)> {
    let file_name = field.file_name().unwrap_or(stem).to_string();
    let extension = FilePath::new(&file_name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let path = dir.join(format!("{stem}.{extension}"));
    if InputKind::of(&path).is_none() {
        let message = lang.t_args("study-format", &[("file", file_name.as_str().into())]);
        return Err((StatusCode::UNPROCESSABLE_ENTITY, message));
    }
    save(field, &path)
        .await
        .map_err(|message| (StatusCode::BAD_REQUEST, message))?;
    Ok((path, file_name))
}

/// Streams an uploaded file to disk.
async fn save(
    mut field: axum::extract::multipart::Field<'_>,
    path: &FilePath,
) -> Result<(), String> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| e.to_string())?;
    while let Some(chunk) = field.chunk().await.map_err(|e| e.body_text())? {
        file.write_all(&chunk).await.map_err(|e| e.to_string())?;
    }
    file.flush().await.map_err(|e| e.to_string())
}

fn failed(lang: Lang, status: StatusCode, message: String) -> Response {
    pages::refusal(
        lang,
        status,
        &format!("{}: {message}", lang.t("study-refused")),
    )
}

async fn find(
    state: &ConsoleState,
    signed: &Signed,
    id: &str,
) -> Result<(StudyInfo, String), Response> {
    match studies::get(&state.store, owner(signed), id).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(pages::refusal(
            signed.lang,
            StatusCode::NOT_FOUND,
            &signed
                .lang
                .t_args("study-unknown", &[("id", id.to_string().into())]),
        )),
        Err(e) => Err(pages::store_failed(signed.lang, &e)),
    }
}

/// `GET /console/trs/{id}`: a running study's progress (the page refreshes itself), or the
/// finished study's report and downloads.
pub async fn study(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let (study, _) = match find(&state, &signed, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let progress = state
        .running
        .lock()
        .ok()
        .and_then(|m| m.get(&id).copied())
        .unwrap_or((0, 0));
    let content = html! {
        div #study data-status=(match study.status { StudyStatus::Running => "running", StudyStatus::Done => "done", StudyStatus::Failed => "failed" }) {
            p { (lang.t("study-started")) ": " (when(lang, study.created_at)) " · " (status_text(lang, study.status)) }
            @match study.status {
                StudyStatus::Running => {
                    div hx-get=(format!("/console/trs/{id}")) hx-trigger="every 500ms" hx-select="#study" hx-target="#study" hx-swap="outerHTML" {
                        label for="study-progress" { (lang.t("study-reading")) }
                        @if progress.1 > 0 {
                            progress #study-progress max=(progress.1) value=(progress.0.min(progress.1)) {
                                (progress.0 * 100 / progress.1.max(1)) "%"
                            }
                            " " (progress.0 * 100 / progress.1.max(1)) " %"
                        } @else {
                            progress #study-progress {}
                        }
                    }
                    noscript { p { a href=(format!("/console/trs/{id}")) { (lang.t("study-reload")) } } }
                }
                StudyStatus::Failed => {
                    p.error role="alert" #study-error { (study.message) }
                }
                StudyStatus::Done => {
                    p { (lang.t_args("study-read", &[("consignments", lang.count(study.consignments).into())])) }
                    ul.downloads {
                        li { a download href=(format!("/console/trs/{id}/report.html")) { (lang.t("download-html")) } }
                        li { a download href=(format!("/console/trs/{id}/report.json")) { (lang.t("download-json")) } }
                        li { a download href=(format!("/console/trs/{id}/report.xlsx")) { (lang.t("download-xlsx")) } }
                    }
                    iframe #report src=(format!("/console/trs/{id}/report.html")) title=(study.name) sandbox="" {}
                }
            }
        }
    };
    pages::signed_page(&state, &signed, &study.name, StatusCode::OK, content).await
}

/// `GET /console/trs/{id}/report.{html,json,xlsx}` in the page's language.
pub async fn report(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let lang = signed.lang;
    let (study, json) = match find(&state, &signed, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let report: TrsReport = match serde_json::from_str(&json) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("{}: {e}", lang.t("study-no-report"));
            return pages::refusal(lang, StatusCode::CONFLICT, &message);
        }
    };
    let report_lang = lang.tag().parse::<ReportLang>().unwrap_or(ReportLang::En);
    let base = study.name.replace(|c: char| !c.is_alphanumeric(), "-");
    let attachment = |ext: &str| format!("attachment; filename=\"{base}.{ext}\"");
    match file.as_str() {
        "report.html" => {
            let mut response = (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8".to_string())],
                smartborder_report::render_html(&report, report_lang),
            )
                .into_response();
            // The report is self-contained (inline styles, SVG) and runs no script; it may be
            // framed by the console only.
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
                ),
            );
            response
        }
        "report.json" => (
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (header::CONTENT_DISPOSITION, attachment("json")),
            ],
            json,
        )
            .into_response(),
        "report.xlsx" => {
            let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let path = dir.path().join("report.xlsx");
                smartborder_report::write_xlsx(&report, report_lang, &path)
                    .map_err(|e| e.to_string())?;
                std::fs::read(&path).map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            match bytes {
                Ok(bytes) => (
                    [
                        (
                            header::CONTENT_TYPE,
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                .to_string(),
                        ),
                        (header::CONTENT_DISPOSITION, attachment("xlsx")),
                    ],
                    bytes,
                )
                    .into_response(),
                Err(e) => pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &e),
            }
        }
        _ => pages::refusal(lang, StatusCode::NOT_FOUND, &lang.t("study-no-file")),
    }
}
