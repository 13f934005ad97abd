//! The frame every page shares (head, navigation by role, language switch, unread count,
//! sign-out) and the answers shared by pages: refusals, store failures, the home redirect.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use smartborder_store::sessions::Session;
use smartborder_store::users::Role;
use smartborder_store::{StoreError, read};
use smartborder_transit::MovementStatus;

use crate::ConsoleState;
use crate::assets::HTMX;
use crate::i18n::{self, Lang};
use crate::session::Signed;

/// Security headers of every console page: scripts and styles only from the console itself,
/// never framed, never sniffed, never cached by shared caches.
fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A whole page. `who` is the signed-in person (with their unread count), if any.
pub fn frame(
    lang: Lang,
    who: Option<(&Session, i64)>,
    title: &str,
    status: StatusCode,
    content: Markup,
) -> Response {
    let page = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false}"#;
                title { (title) " · SmartBorder" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src=(format!("/console/assets/{HTMX}")) defer {}
                script src="/console/assets/console.js" defer {}
            }
            body data-live=[who.map(|_| "/console/live")] {
                a.skip href="#main" { (lang.t("skip-to-content")) }
                header.top {
                    a.brand href="/console/" { "SmartBorder" }
                    @if let Some((session, unread)) = who {
                        nav aria-label=(lang.t("navigation")) {
                            ul {
                                @for (href, id) in nav_items(session.user.role) {
                                    li { a href=(href) { (lang.t(id)) } }
                                }
                                li {
                                    a href="/console/notifications" {
                                        (lang.t("nav-notifications")) " "
                                        span #unread .badge aria-live="polite"
                                            title=(lang.t("unread")) { (unread) }
                                    }
                                }
                            }
                        }
                        span.who {
                            (session.user.login) " · " (lang.t(&format!("role-{}", session.user.role.name())))
                            @if let Some(c) = &session.user.country { " · " (c) }
                        }
                        form.inline method="post" action="/console/sign-out" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            button type="submit" { (lang.t("sign-out")) }
                        }
                    }
                    nav.languages aria-label=(lang.t("language")) {
                        @for tag in i18n::locales() {
                            @if tag == lang.tag() {
                                span aria-current="true" { (tag.to_uppercase()) }
                            } @else {
                                a href=(format!("/console/language?lang={tag}")) hreflang=(tag) lang=(tag) {
                                    (tag.to_uppercase())
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
                div #live-region .visually-hidden aria-live="polite" {}
            }
        }
    };
    secured((status, Html(page.into_string())).into_response())
}

/// A page for the signed-in person, with their unread count.
pub async fn signed_page(
    state: &ConsoleState,
    signed: &Signed,
    title: &str,
    status: StatusCode,
    content: Markup,
) -> Response {
    let unread = read::unread_notifications(
        &state.store,
        &signed.session.user.principal(),
        signed.session.notifications_seen,
    )
    .await
    .unwrap_or(0);
    frame(
        signed.lang,
        Some((&signed.session, unread)),
        title,
        status,
        content,
    )
}

/// The pages of a role's navigation: (path, message id).
fn nav_items(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Officer => &[
            ("/console/arrivals", "nav-arrivals"),
            ("/console/movements", "nav-movements"),
            ("/console/training", "nav-training"),
        ],
        Role::Supervisor => &[
            ("/console/arrivals", "nav-arrivals"),
            ("/console/movements", "nav-movements"),
            ("/console/risk/monitoring", "nav-monitoring"),
            ("/console/corridor", "nav-corridor"),
            ("/console/trs", "nav-trs"),
            ("/console/training", "nav-training"),
        ],
        Role::Analyst => &[
            ("/console/risk", "nav-risk"),
            ("/console/risk/monitoring", "nav-monitoring"),
            ("/console/movements", "nav-movements"),
            ("/console/trs", "nav-trs"),
            ("/console/training", "nav-training"),
        ],
        Role::Coordinator => &[
            ("/console/corridor", "nav-corridor"),
            ("/console/movements", "nav-movements"),
            ("/console/trs", "nav-trs"),
            ("/console/training", "nav-training"),
        ],
        Role::Admin => &[
            ("/console/accounts", "nav-accounts"),
            ("/console/movements", "nav-movements"),
            ("/console/training", "nav-training"),
        ],
    }
}

/// `/console/`: each role's first page.
pub async fn home(signed: Signed) -> Redirect {
    Redirect::to(match signed.session.user.role {
        Role::Officer | Role::Supervisor => "/console/arrivals",
        Role::Admin => "/console/accounts",
        Role::Analyst => "/console/risk",
        Role::Coordinator => "/console/corridor",
    })
}

/// A page that says why a request was refused.
pub fn refusal(lang: Lang, status: StatusCode, message: &str) -> Response {
    frame(
        lang,
        None,
        &lang.t("refused"),
        status,
        html! { p.error role="alert" { (message) } p { a href="/console/" { (lang.t("back-home")) } } },
    )
}

/// The page of a store that did not answer.
pub fn store_failed(lang: Lang, e: &StoreError) -> Response {
    refusal(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("{}: {e}", lang.t("store-unavailable")),
    )
}

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A movement status in words, with a mark that does not rely on colour.
pub fn status_label(lang: Lang, status: MovementStatus) -> Markup {
    let name = read::status_name(status);
    html! {
        span class=(format!("status status-{name}")) {
            (lang.t(&format!("status-{name}")))
        }
    }
}
