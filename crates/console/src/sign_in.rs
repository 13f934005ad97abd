//! Signing in and out, and the language switch.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::DateTime;
use maud::html;
use serde::Deserialize;
use smartborder_store::users::{self, SignIn};
use smartborder_store::{keys, sessions};

use crate::ConsoleState;
use crate::i18n::Lang;
use crate::pages::{self, frame};
use crate::session::{
    LANG_COOKIE, SESSION_COOKIE, SIGN_IN_COOKIE, Signed, cookie, language, same_secret, set_cookie,
};

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// Where to go after signing in: a console page, never another site.
fn safe_back(back: Option<&str>) -> &str {
    match back {
        Some(b) if b.starts_with("/console/") && !b.contains("//") && !b.contains('\\') => b,
        _ => "/console/",
    }
}

fn sign_in_page(
    headers: &HeaderMap,
    lang: Lang,
    back: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let token = keys::random_hex(16);
    let content = html! {
        @if let Some(e) = &error {
            p.error role="alert" #sign-in-error { (e) }
        }
        form.card method="post" action="/console/sign-in" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="back" value=(back);
            p {
                label for="login" { (lang.t("login")) }
                input #login name="login" type="text" autocomplete="username" required autofocus;
            }
            p {
                label for="password" { (lang.t("password")) }
                input #password name="password" type="password" autocomplete="current-password" required;
            }
            p { button type="submit" { (lang.t("sign-in")) } }
        }
    };
    let mut response = frame(lang, None, &lang.t("sign-in"), status, content);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(headers, SIGN_IN_COOKIE, &token, 3600),
    );
    response
}

/// `GET /console/sign-in`
pub async fn form(headers: HeaderMap, Query(q): Query<Back>) -> Response {
    let lang = language(&headers);
    sign_in_page(
        &headers,
        lang,
        safe_back(q.back.as_deref()),
        StatusCode::OK,
        None,
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    login: String,
    password: String,
    back: Option<String>,
}

/// `POST /console/sign-in`
pub async fn submit(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let lang = language(&headers);
    let back = safe_back(f.back.as_deref()).to_string();
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(&f.csrf, expected) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("csrf-refused"));
    }
    let outcome = match users::sign_in(&state.store, &f.login, &f.password).await {
        Ok(o) => o,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let refused = |message: String| {
        sign_in_page(
            &headers,
            lang,
            &back,
            StatusCode::UNAUTHORIZED,
            Some(message),
        )
    };
    match outcome {
        SignIn::Accepted(user) => match sessions::open(&state.store, &user).await {
            Ok(session) => {
                let mut response = Redirect::to(&back).into_response();
                let max_age = sessions::SESSION_SECONDS;
                let cookies = response.headers_mut();
                cookies.append(
                    header::SET_COOKIE,
                    set_cookie(&headers, SESSION_COOKIE, &session.token, max_age),
                );
                cookies.append(
                    header::SET_COOKIE,
                    set_cookie(&headers, SIGN_IN_COOKIE, "", 0),
                );
                response
            }
            Err(e) => pages::store_failed(lang, &e),
        },
        SignIn::Refused => refused(lang.t("sign-in-refused")),
        SignIn::Disabled => refused(lang.t("sign-in-refused")),
        SignIn::Locked { until } => {
            let until = DateTime::from_timestamp_micros(until).unwrap_or_default();
            refused(lang.t_args("sign-in-locked", &[("until", lang.utc_time(until).into())]))
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/sign-out`
pub async fn sign_out(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    signed: Signed,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = signed.csrf_refusal(&f.csrf) {
        return refused;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = sessions::close(&state.store, token).await
    {
        return pages::store_failed(signed.lang, &e);
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", 0),
    );
    response
}

#[derive(Deserialize)]
pub struct LanguageQuery {
    lang: String,
}

/// `GET /console/language?lang=ru`: remembers the language (a cookie kept a year) and goes
/// back to the page the switch was on.
pub async fn language_switch(headers: HeaderMap, Query(q): Query<LanguageQuery>) -> Response {
    let Some(lang) = Lang::find(&q.lang) else {
        let lang = language(&headers);
        return pages::refusal(
            lang,
            StatusCode::BAD_REQUEST,
            &lang.t_args("unknown-language", &[("lang", q.lang.as_str().into())]),
        );
    };
    // Back to the same page: the path of the Referer, when it is a console page.
    let referer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/console/").map(|i| r[i..].to_string()));
    let mut response = Redirect::to(safe_back(referer.as_deref())).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, LANG_COOKIE, lang.tag(), 365 * 24 * 3600),
    );
    response
}
