//! Account management by an administration's admin: the accounts of their administration,
//! created and disabled through the same store functions as `smartborder users`, audited with
//! the admin as the actor.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use smartborder_store::users::{self, AccountError, Role, User};
use smartborder_transit::OfficeRef;

use crate::ConsoleState;
use crate::pages;
use crate::session::Signed;

/// Roles an administration's admin gives (the coordinator is created from the CLI).
const ROLES: &[Role] = &[Role::Officer, Role::Supervisor, Role::Analyst, Role::Admin];

/// The admin's administration (`None` for anyone but an administration's admin).
fn admin_country(signed: &Signed) -> Option<String> {
    let user = &signed.session.user;
    match (&user.role, &user.country) {
        (Role::Admin, Some(country)) => Some(country.clone()),
        _ => None,
    }
}

fn admins_only(signed: &Signed) -> Response {
    pages::refusal(
        signed.lang,
        StatusCode::FORBIDDEN,
        &signed.lang.t("admins-only"),
    )
}

async fn render(
    state: &ConsoleState,
    signed: &Signed,
    status: StatusCode,
    notice: Option<Markup>,
) -> Response {
    let lang = signed.lang;
    let Some(country) = admin_country(signed) else {
        return admins_only(signed);
    };
    let accounts: Vec<User> = match users::list(&state.store).await {
        Ok(all) => all
            .into_iter()
            .filter(|u| u.country.as_deref() == Some(country.as_str()))
            .collect(),
        Err(e) => return pages::store_failed(lang, &e),
    };
    let csrf = &signed.session.csrf;
    let content = html! {
        @if let Some(n) = notice { (n) }
        table #accounts {
            caption.visually-hidden { (lang.t("nav-accounts")) }
            thead { tr {
                th scope="col" { (lang.t("login")) }
                th scope="col" { (lang.t("role")) }
                th scope="col" { (lang.t("offices")) }
                th scope="col" { (lang.t("account-state")) }
                th scope="col" { span.visually-hidden { (lang.t("actions")) } }
            } }
            tbody {
                @for u in &accounts {
                    tr {
                        td { (u.login) }
                        td { (lang.t(&format!("role-{}", u.role.name()))) }
                        td { (u.offices.iter().map(OfficeRef::as_str).collect::<Vec<_>>().join(", ")) }
                        td { (lang.t(if u.disabled_at.is_some() { "account-disabled" } else { "account-active" })) }
                        td {
                            @if u.disabled_at.is_none() && u.id != signed.session.user.id {
                                form.inline method="post" action="/console/accounts/disable" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="login" value=(u.login);
                                    button type="submit" aria-label=(lang.t_args("disable-account", &[("login", u.login.clone().into())])) {
                                        (lang.t("disable"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (lang.t("create-account")) }
        form.card #account-form method="post" action="/console/accounts" {
            input type="hidden" name="csrf" value=(csrf);
            p { label for="new-login" { (lang.t("login")) } input #new-login name="login" required autocomplete="off"; }
            p {
                label for="new-role" { (lang.t("role")) }
                select #new-role name="role" {
                    @for r in ROLES { option value=(r.name()) { (lang.t(&format!("role-{}", r.name()))) } }
                }
            }
            p {
                label for="new-offices" { (lang.t("offices")) }
                input #new-offices name="offices" placeholder=(format!("{country}000100")) aria-describedby="new-offices-help";
                small #new-offices-help { (lang.t("offices-help")) }
            }
            p {
                label for="new-password" { (lang.t("password")) }
                input #new-password name="password" type="password" autocomplete="new-password" required minlength=(users::MIN_PASSWORD_CHARS);
            }
            p { button type="submit" { (lang.t("create-account")) } }
        }
    };
    pages::signed_page(state, signed, &lang.t("nav-accounts"), status, content).await
}

/// `GET /console/accounts`
pub async fn list(State(state): State<ConsoleState>, signed: Signed) -> Response {
    render(&state, &signed, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct NewAccount {
    #[serde(default)]
    csrf: String,
    login: String,
    role: String,
    #[serde(default)]
    offices: String,
    password: String,
}

/// `POST /console/accounts`
pub async fn create(
    State(state): State<ConsoleState>,
    signed: Signed,
    Form(f): Form<NewAccount>,
) -> Response {
    let lang = signed.lang;
    if let Some(r) = signed.csrf_refusal(&f.csrf) {
        return r;
    }
    let Some(country) = admin_country(&signed) else {
        return admins_only(&signed);
    };
    let error = |message: String| html! { p.error role="alert" #account-error { (message) } };
    let Some(role) = Role::parse(&f.role).filter(|r| ROLES.contains(r)) else {
        let message = lang.t_args("unknown-role", &[("role", f.role.clone().into())]);
        return render(
            &state,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(error(message)),
        )
        .await;
    };
    let offices: Result<Vec<OfficeRef>, String> = f
        .offices
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|s| OfficeRef::parse(&s.to_ascii_uppercase()).map_err(|e| e.to_string()))
        .collect();
    let offices = match offices {
        Ok(o) => o,
        Err(message) => {
            return render(
                &state,
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(error(message)),
            )
            .await;
        }
    };
    let actor = signed.session.user.id.clone();
    match users::create(
        &state.store,
        &actor,
        f.login.trim(),
        role,
        Some(&country),
        &offices,
        &f.password,
    )
    .await
    {
        Ok(user) => {
            let notice = html! { p.ok role="status" { (lang.t_args("account-created", &[("login", user.login.into())])) } };
            render(&state, &signed, StatusCode::CREATED, Some(notice)).await
        }
        Err(AccountError::Store(e)) => pages::store_failed(lang, &e),
        Err(e) => {
            render(
                &state,
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(error(e.to_string())),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct Disable {
    #[serde(default)]
    csrf: String,
    login: String,
}

/// `POST /console/accounts/disable`
pub async fn disable(
    State(state): State<ConsoleState>,
    signed: Signed,
    Form(f): Form<Disable>,
) -> Response {
    if let Some(r) = signed.csrf_refusal(&f.csrf) {
        return r;
    }
    let Some(country) = admin_country(&signed) else {
        return admins_only(&signed);
    };
    // Only accounts of the admin's own administration.
    let own = match users::list(&state.store).await {
        Ok(all) => all
            .into_iter()
            .any(|u| u.login == f.login && u.country.as_deref() == Some(country.as_str())),
        Err(e) => return pages::store_failed(signed.lang, &e),
    };
    if !own {
        let message = signed
            .lang
            .t_args("unknown-account", &[("login", f.login.clone().into())]);
        return pages::refusal(signed.lang, StatusCode::NOT_FOUND, &message);
    }
    match users::disable(&state.store, &signed.session.user.id, &f.login).await {
        Ok(_) => Redirect::to("/console/accounts").into_response(),
        Err(e) => pages::store_failed(signed.lang, &e),
    }
}
