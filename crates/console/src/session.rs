//! Who is signed in, from the session cookie; the language cookie; CSRF checks.
//!
//! Cookies are HttpOnly and SameSite=Strict, and Secure when the request came over TLS (the
//! console sits behind a TLS-terminating proxy that says so in `X-Forwarded-Proto`). Every form
//! carries the session's CSRF token; a POST without the right one is refused, whatever its
//! cookies say.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use smartborder_store::sessions::{self, Session};

use crate::ConsoleState;
use crate::i18n::Lang;

/// The session cookie.
pub const SESSION_COOKIE: &str = "sb_session";
/// The language cookie (kept a year, also before signing in).
pub const LANG_COOKIE: &str = "sb_lang";
/// The CSRF token of the sign-in form (a double-submit cookie: there is no session yet).
pub const SIGN_IN_COOKIE: &str = "sb_sign_in";

/// The value of a cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request: the language cookie, else the browser's preference.
pub fn language(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::find)
        .unwrap_or_else(|| {
            Lang::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        })
}

/// A `Set-Cookie` value with the console's attributes; `max_age` 0 deletes the cookie.
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let text = format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    );
    // Names and values are ours (hex tokens, locale tags): always a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A signed-in request: the session and the page language.
pub struct Signed {
    pub session: Session,
    pub lang: Lang,
}

impl Signed {
    /// The refusal of a form whose CSRF token is not the session's (`None` when it is).
    pub fn csrf_refusal(&self, token: &str) -> Option<Response> {
        (!same_secret(token, &self.session.csrf)).then(|| {
            crate::pages::refusal(
                self.lang,
                StatusCode::FORBIDDEN,
                &self.lang.t("csrf-refused"),
            )
        })
    }
}

impl FromRequestParts<ConsoleState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Signed, Response> {
        let lang = language(&parts.headers);
        let token = cookie(&parts.headers, SESSION_COOKIE).unwrap_or("");
        let found = if token.is_empty() {
            None
        } else {
            sessions::find(&state.store, token)
                .await
                .map_err(|e| crate::pages::store_failed(lang, &e))?
        };
        match found {
            Some(session) => Ok(Signed { session, lang }),
            None => {
                let back = parts
                    .uri
                    .path_and_query()
                    .map_or("/console/", |p| p.as_str());
                let to = format!("/console/sign-in?back={}", crate::pages::url_encode(back));
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}
