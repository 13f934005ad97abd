//! The SmartBorder console: the web workplace of border officers, supervisors, risk analysts,
//! corridor coordinators and account administrators, served under `/console/` next to the API.
//!
//! Pages are rendered on the server (maud templates, checked at compile time); a pinned htmx
//! and a small script, both embedded, update parts of pages and receive live notifications
//! over Server-Sent Events. Nothing is fetched from elsewhere: the console works offline.
//!
//! The console holds no rule of its own about movements: it reads through the store and writes
//! through the same writer as the API, with the signed-in person's administration as the
//! principal, so route visibility and own-office writes are judged by the same code. What the
//! console adds is the person: an officer records only at their own offices
//! ([`smartborder_store::users::User::may_record_at`]), and the audit log names the user.

mod accounts;
mod assets;
mod board;
mod corridor;
pub mod i18n;
mod live;
mod movement;
mod pages;
mod risk;
pub mod route_risk;
pub mod session;
mod sign_in;
mod training;
mod trs;
mod trs_plan;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};
use smartborder_store::Store;
use smartborder_store::writer::Writer;

/// What every console handler needs.
#[derive(Clone)]
pub struct ConsoleState {
    pub store: Store,
    pub writer: Writer,
    /// Progress of the studies running in this process.
    running: trs::Running,
}

/// The page of a console address that does not exist.
pub fn not_found(headers: &axum::http::HeaderMap) -> axum::response::Response {
    let lang = session::language(headers);
    pages::refusal(
        lang,
        axum::http::StatusCode::NOT_FOUND,
        &lang.t("no-such-page"),
    )
}

/// The console's routes, all under `/console/`; `/` leads there.
pub fn router(store: Store, writer: Writer) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(pages::home))
        .route("/console/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/language", get(sign_in::language_switch))
        .route("/console/arrivals", get(board::arrivals))
        .route("/console/movements", get(board::board))
        .route("/console/movements/{mrn}", get(movement::page))
        .route("/console/movements/{mrn}/events", post(movement::record))
        .route(
            "/console/movements/{mrn}/controls",
            post(route_risk::record),
        )
        .route(
            "/console/movements/{mrn}/declaration.xml",
            get(movement::declaration),
        )
        .route("/console/corridor", get(corridor::dashboard))
        .route("/console/notifications", get(live::notifications))
        .route("/console/live", get(live::stream))
        .route(
            "/console/accounts",
            get(accounts::list).post(accounts::create),
        )
        .route("/console/accounts/disable", post(accounts::disable))
        .route(
            "/console/trs",
            get(trs::list)
                .post(trs::start)
                .layer(axum::extract::DefaultBodyLimit::max(trs::MAX_UPLOAD_BYTES)),
        )
        .route(
            "/console/trs/plan",
            get(trs_plan::show)
                .post(trs_plan::make)
                .layer(axum::extract::DefaultBodyLimit::max(trs::MAX_UPLOAD_BYTES)),
        )
        .route("/console/trs/workbook", post(trs_plan::workbook))
        .route("/console/trs/{id}", get(trs::study))
        .route("/console/trs/{id}/{file}", get(trs::report))
        .route("/console/risk", get(risk::page))
        .route("/console/risk/monitoring", get(route_risk::monitoring_page))
        .route(
            "/console/risk/files",
            post(risk::upload).layer(axum::extract::DefaultBodyLimit::max(risk::MAX_FILES_BYTES)),
        )
        .route("/console/risk/check", post(risk::check_fragment))
        .route("/console/risk/profiles", post(risk::publish))
        .route(
            "/console/risk/backtest",
            post(risk::run).layer(axum::extract::DefaultBodyLimit::max(trs::MAX_UPLOAD_BYTES)),
        )
        .route("/console/training", get(training::list))
        .route("/console/training/courses", post(training::create))
        .route("/console/training/courses/{id}", get(training::course))
        .route(
            "/console/training/courses/{id}/exercises/{number}",
            get(training::exercise_page),
        )
        .route(
            "/console/training/courses/{id}/exercises/{number}/pack.zip",
            get(training::pack),
        )
        .route(
            "/console/training/courses/{id}/exercises/{number}/attempts",
            post(training::submit),
        )
        .route(
            "/console/training/courses/{id}/results.xlsx",
            get(training::export),
        )
        .route(
            "/console/training/courses/{id}/certificates",
            post(training::certify),
        )
        .route("/console/training/programme", get(training::programme))
        .route("/console/training/people/{login}", get(training::person))
        .route(
            "/console/training/certificates",
            get(training::find_certificate),
        )
        .route(
            "/console/training/certificates/{code}",
            get(training::certificate_page),
        )
        .route(
            "/console/training/certificates/{code}/print",
            get(training::certificate_print),
        )
        .route("/console/assets/{name}", get(assets::asset))
        .with_state(ConsoleState {
            store,
            writer,
            running: trs::Running::default(),
        })
}
