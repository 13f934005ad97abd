//! The Master Trainer Programme in the console. Participants open the exercises of their
//! courses (the brief, their personal variant's data, a submission form, their grades and
//! feedback); trainers set courses up, read the cohort's results and item analysis, export
//! them to Excel and issue certificates; the programme dashboard shows the cascade.
//!
//! Who sees what: a participant sees their own variant and attempts only, never a key (keys
//! stay in the store; grading runs on the server); a course's trainer sees its cohort; anyone
//! else is answered as if the course did not exist. Certificates are checked by anyone who has
//! the code, without signing in.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use smartborder_mtp::certificate::{Certificate, Level};
use smartborder_mtp::exercise::{self, Outcome, item_analysis};
use smartborder_mtp::pack::Key;
use smartborder_mtp::programme::{Completion, Member, cascade, course_score, expiry};
use smartborder_mtp::scenario::{CATALOG, Scenario};
use smartborder_mtp::text::Lang as MtpLang;
use smartborder_report::tables::{Cell, Sheet, workbook};
use smartborder_store::training::{
    self, Attempt, Course, Exercise, NewCourse, Participant, Person,
};
use smartborder_store::users::{self, Role, User};

use crate::ConsoleState;
use crate::i18n::Lang;
use crate::pages;
use crate::session::Signed;

fn mtp_lang(lang: Lang) -> MtpLang {
    MtpLang::parse(lang.tag()).unwrap_or(MtpLang::En)
}

fn today() -> String {
    Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

fn no_course(lang: Lang) -> Response {
    pages::refusal(lang, StatusCode::NOT_FOUND, &lang.t("no-course"))
}

fn scenario_of(e: &Exercise) -> Option<Scenario> {
    Scenario::from_toml(&e.definition, &e.title).ok()
}

/// An exercise's title in the page's language (its scenario's), numbered.
fn exercise_title(e: &Exercise, lang: Lang) -> String {
    let title = scenario_of(e).map_or(e.title.clone(), |s| s.title(mtp_lang(lang)).to_string());
    format!("{}. {title}", e.number)
}

/// A course and how the signed-in person takes part in it.
struct Seat {
    course: Course,
    exercises: Vec<Exercise>,
    participants: Vec<Participant>,
    trainer: bool,
}

/// The course if the signed-in person delivers it or is enrolled in it; anyone else gets the
/// answer of an unknown course.
async fn seat(state: &ConsoleState, signed: &Signed, id: &str) -> Result<Seat, Response> {
    let lang = signed.lang;
    let found = training::course_of(&state.store, id)
        .await
        .map_err(|e| pages::store_failed(lang, &e))?;
    let Some((course, exercises, participants)) = found else {
        return Err(no_course(lang));
    };
    let me = &signed.session.user.id;
    let trainer = &course.trainer_id == me;
    if !trainer && !participants.iter().any(|p| &p.user_id == me) {
        return Err(no_course(lang));
    }
    Ok(Seat {
        course,
        exercises,
        participants,
        trainer,
    })
}

fn level_name(lang: Lang, level: Level) -> String {
    lang.t(&format!("level-{}", level.name()))
}

fn course_row(lang: Lang, c: &Course) -> Markup {
    html! {
        tr {
            td { a href=(format!("/console/training/courses/{}", c.id)) { (c.title) } }
            td { (c.starts_on) " – " (c.ends_on) }
            td { (c.place) " (" (c.country) ")" }
            td { (c.language.to_uppercase()) }
            td { (level_name(lang, c.level)) }
            td { (c.trainer_login) }
        }
    }
}

fn courses_table(lang: Lang, id: &str, courses: &[Course]) -> Markup {
    html! {
        @if courses.is_empty() {
            p.empty { (lang.t("no-courses")) }
        } @else {
            table id=(id) {
                thead { tr {
                    th scope="col" { (lang.t("course")) }
                    th scope="col" { (lang.t("course-dates")) }
                    th scope="col" { (lang.t("course-place")) }
                    th scope="col" { (lang.t("course-language")) }
                    th scope="col" { (lang.t("course-level")) }
                    th scope="col" { (lang.t("trainer")) }
                } }
                tbody { @for c in courses { (course_row(lang, c)) } }
            }
        }
    }
}

fn new_course_form(signed: &Signed, country: &str) -> Markup {
    let lang = signed.lang;
    let today = today();
    html! {
        h2 #new-course { (lang.t("new-course")) }
        form.stack method="post" action="/console/training/courses" {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            p { label for="course-title" { (lang.t("course-title")) }
                input #course-title name="title" required maxlength="200"; }
            p { label for="course-country" { (lang.t("course-country")) }
                input #course-country name="country" required value=(country) pattern="[A-Z]{2}" maxlength="2"; }
            p { label for="course-place" { (lang.t("course-place")) }
                input #course-place name="place" required maxlength="200"; }
            p { label for="course-language" { (lang.t("course-language")) }
                select #course-language name="language" {
                    option value="en" selected[lang.tag() == "en"] { "English" }
                    option value="ru" selected[lang.tag() == "ru"] { "Русский" }
                } }
            p { label for="course-level" { (lang.t("course-level")) }
                select #course-level name="level" {
                    @for l in [Level::Participant, Level::Trainer, Level::MasterTrainer] {
                        option value=(l.name()) { (level_name(lang, l)) }
                    }
                } }
            p { label for="course-starts" { (lang.t("course-starts")) }
                input #course-starts name="starts_on" type="date" required value=(today); }
            p { label for="course-ends" { (lang.t("course-ends")) }
                input #course-ends name="ends_on" type="date" required value=(today); }
            fieldset {
                legend { (lang.t("course-exercises")) }
                @for (file, text) in CATALOG {
                    @if let Ok(s) = Scenario::from_toml(text, file) {
                        label { input type="checkbox" name="scenario" value=(file) checked; " " (s.title(mtp_lang(lang))) }
                    }
                }
            }
            p { label for="course-seed" { (lang.t("course-seed")) }
                input #course-seed name="seed" type="number" min="0" required value="1" aria-describedby="course-seed-help";
                small #course-seed-help { (lang.t("course-seed-help")) } }
            p { label for="course-participants" { (lang.t("course-participants")) }
                textarea #course-participants name="participants" rows="4" required aria-describedby="course-participants-help" {}
                small #course-participants-help { (lang.t("course-participants-help")) } }
            p { button type="submit" { (lang.t("create-course")) } }
        }
    }
}

async fn render_list(
    state: &ConsoleState,
    signed: &Signed,
    status: StatusCode,
    notice: Option<Markup>,
) -> Response {
    let lang = signed.lang;
    let me = &signed.session.user;
    let person = match training::person_of(&state.store, &me.id).await {
        Ok(p) => p,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let (attended, delivered, mine) = match tokio::try_join!(
        training::courses_attended(&state.store, &me.id),
        training::courses_delivered(&state.store, &me.id),
        training::certificates(&state.store, None, Some(&me.id)),
    ) {
        Ok(x) => x,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let may_train = person.as_ref().is_some_and(|p| p.may_train(&today()));
    let content = html! {
        @if let Some(n) = notice { (n) }
        @match &person {
            Some(p) => p #my-level {
                (lang.t_args("my-level", &[("level", level_name(lang, p.level).into())]))
                @if let Some(on) = &p.accredited_on { " · " (lang.t_args("accredited-on", &[("date", on.clone().into())])) }
                @if let Some(until) = &p.expires_on { " · " (lang.t_args("expires-on", &[("date", until.clone().into())])) }
            },
            None => p #my-level { (lang.t("not-in-programme")) },
        }
        h2 { (lang.t("my-courses")) }
        (courses_table(lang, "courses-attended", &attended))
        @if !mine.is_empty() {
            h2 { (lang.t("my-certificates")) }
            ul #my-certificates {
                @for c in &mine {
                    li { a href=(format!("/console/training/certificates/{}", c.code)) { (c.code) } " · " (c.date) }
                }
            }
        }
        @if may_train || !delivered.is_empty() {
            h2 { (lang.t("courses-delivered")) }
            (courses_table(lang, "courses-delivered", &delivered))
        }
        @if reads_programme(me, person.as_slice(), &today()) {
            p { a href="/console/training/programme" { (lang.t("programme-dashboard")) } }
        }
        @if may_train { (new_course_form(signed, person.as_ref().map_or("", |p| p.country.as_str()))) }
        h2 { (lang.t("check-certificate")) }
        form.inline method="get" action="/console/training/certificates" {
            label for="certificate-code" { (lang.t("certificate-code")) }
            " "
            input #certificate-code name="code" required maxlength="32";
            " "
            button type="submit" { (lang.t("check")) }
        }
    };
    pages::signed_page(state, signed, &lang.t("nav-training"), status, content).await
}

/// Who reads the programme's dashboard and its people's records: its trainers whose
/// accreditation is current, and the corridor coordinator. `people` holds at least the reader's
/// own record, if any.
fn reads_programme(me: &User, people: &[Person], today: &str) -> bool {
    me.role == Role::Coordinator
        || people
            .iter()
            .any(|p| p.user_id == me.id && p.may_train(today))
}

/// `GET /console/training`
pub async fn list(State(state): State<ConsoleState>, signed: Signed) -> Response {
    render_list(&state, &signed, StatusCode::OK, None).await
}

/// `POST /console/training/courses`: the form as pairs (the exercises are repeated fields).
pub async fn create(
    State(state): State<ConsoleState>,
    signed: Signed,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = signed.lang;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    };
    if let Some(r) = signed.csrf_refusal(field("csrf")) {
        return r;
    }
    let me = &signed.session.user;
    let person = match training::person_of(&state.store, &me.id).await {
        Ok(p) => p,
        Err(e) => return pages::store_failed(lang, &e),
    };
    if !person.is_some_and(|p| p.may_train(&today())) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("trainers-only"));
    }
    let refuse = |message: String| {
        let notice = html! { p.error role="alert" #course-error { (message) } };
        render_list(
            &state,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(notice),
        )
    };
    let date = |name: &str| NaiveDate::parse_from_str(field(name), "%Y-%m-%d").ok();
    let (Some(starts), Some(ends)) = (date("starts_on"), date("ends_on")) else {
        return refuse(lang.t("course-dates-invalid")).await;
    };
    if ends < starts {
        return refuse(lang.t("course-dates-invalid")).await;
    }
    let country = field("country").to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return refuse(lang.t_args("course-country-invalid", &[("country", country.into())])).await;
    }
    let Some(level) = Level::parse(field("level")) else {
        return refuse(lang.t("course-level-invalid")).await;
    };
    let language = field("language");
    if !["en", "ru"].contains(&language) {
        return refuse(lang.t("course-language-invalid")).await;
    }
    let title = field("title");
    let place = field("place");
    if title.is_empty() || place.is_empty() || title.chars().any(char::is_control) {
        return refuse(lang.t("course-title-invalid")).await;
    }
    let Ok(seed) = field("seed").parse::<u64>() else {
        return refuse(lang.t("course-seed-invalid")).await;
    };
    let mut exercises = Vec::new();
    for (k, v) in &fields {
        if k != "scenario" {
            continue;
        }
        let Some((file, text)) = CATALOG.iter().find(|(f, _)| f == v) else {
            return refuse(lang.t_args("unknown-scenario", &[("scenario", v.clone().into())]))
                .await;
        };
        let Ok(scenario) = Scenario::from_toml(text, file) else {
            return refuse(lang.t_args("unknown-scenario", &[("scenario", v.clone().into())]))
                .await;
        };
        exercises.push(Exercise {
            number: exercises.len() as i64 + 1,
            title: scenario.title(mtp_lang(lang)).to_string(),
            definition: text.to_string(),
            seed,
        });
    }
    if exercises.is_empty() {
        return refuse(lang.t("course-no-exercises")).await;
    }
    let accounts = match users::list(&state.store).await {
        Ok(a) => a,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let mut participants = Vec::new();
    for login in field("participants")
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        match accounts
            .iter()
            .find(|u| u.login == login && u.disabled_at.is_none())
        {
            Some(u) if u.id == me.id => {
                return refuse(lang.t("course-trainer-enrolled")).await;
            }
            Some(u) if u.country.is_none() => {
                return refuse(lang.t_args(
                    "course-participant-no-country",
                    &[("login", login.to_string().into())],
                ))
                .await;
            }
            Some(u) => {
                if !participants.contains(&u.id) {
                    participants.push(u.id.clone());
                }
            }
            None => {
                return refuse(lang.t_args(
                    "unknown-participant",
                    &[("login", login.to_string().into())],
                ))
                .await;
            }
        }
    }
    if participants.is_empty() {
        return refuse(lang.t("course-no-participants")).await;
    }
    let course = NewCourse {
        title: title.to_string(),
        country,
        place: place.to_string(),
        language: language.to_string(),
        level,
        starts_on: starts.to_string(),
        ends_on: ends.to_string(),
        exercises,
        participants,
    };
    match training::create_course(&state.store, &me.id, &me.id, &course).await {
        Ok(id) => Redirect::to(&format!("/console/training/courses/{id}")).into_response(),
        Err(e) => pages::store_failed(lang, &e),
    }
}

fn outcome_of(a: &Attempt) -> Option<Outcome> {
    serde_json::from_str(&a.outcome).ok()
}

/// The best attempt of each (participant, exercise), and how many attempts there were.
fn best<'a>(attempts: &'a [Attempt], user: &str, number: i64) -> (Option<&'a Attempt>, usize) {
    let mine: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.user_id == user && a.number == number)
        .collect();
    let top = mine.iter().copied().max_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then(b.submitted_at.cmp(&a.submitted_at))
    });
    (top, mine.len())
}

fn minutes(seconds: i64) -> String {
    format!("{}", (seconds + 59) / 60)
}

/// The score of a certificate ([`course_score`]) from the attempts of a participant.
fn final_score(attempts: &[Attempt], user: &str, exercises: &[Exercise]) -> Option<f64> {
    let best: Vec<Option<(f64, bool)>> = exercises
        .iter()
        .map(|e| {
            best(attempts, user, e.number)
                .0
                .map(|a| (a.score, a.passed))
        })
        .collect();
    course_score(&best)
}

/// `GET /console/training/courses/{id}`
pub async fn course(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let seat = match seat(&state, &signed, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let me = &signed.session.user.id;
    let who = (!seat.trainer).then_some(me.as_str());
    let (attempts, issued) = match tokio::try_join!(
        training::attempts(&state.store, &id, who),
        training::certificates(&state.store, Some(&id), None),
    ) {
        Ok(x) => x,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let c = &seat.course;
    let head = html! {
        dl.summary {
            dt { (lang.t("course-dates")) } dd { (c.starts_on) " – " (c.ends_on) }
            dt { (lang.t("course-place")) } dd { (c.place) " (" (c.country) ")" }
            dt { (lang.t("course-language")) } dd { (c.language.to_uppercase()) }
            dt { (lang.t("course-level")) } dd { (level_name(lang, c.level)) }
            dt { (lang.t("trainer")) } dd { (c.trainer_login) }
        }
    };
    let content = if seat.trainer {
        trainer_view(lang, &signed, &seat, &attempts, &issued, head)
    } else {
        let mine = issued.iter().find(|k| &k.user_id == me);
        html! {
            (head)
            h2 { (lang.t("course-exercises")) }
            table #my-exercises {
                thead { tr {
                    th scope="col" { (lang.t("exercise")) }
                    th scope="col" .num { (lang.t("attempts")) }
                    th scope="col" .num { (lang.t("best-score")) }
                    th scope="col" { (lang.t("result")) }
                } }
                tbody {
                    @for e in &seat.exercises {
                        @let (top, n) = best(&attempts, me, e.number);
                        tr {
                            td { a href=(format!("/console/training/courses/{id}/exercises/{}", e.number)) { (exercise_title(e, lang)) } }
                            td.num { (n) }
                            td.num { (top.map_or("–".to_string(), |a| format!("{:.1}", a.score))) }
                            td { (top.map_or(String::new(), |a| lang.t(if a.passed { "passed" } else { "not-passed" }))) }
                        }
                    }
                }
            }
            @if let Some(k) = mine {
                p #my-certificate { a href=(format!("/console/training/certificates/{}", k.code)) { (lang.t("my-certificate")) } }
            }
        }
    };
    pages::signed_page(&state, &signed, &c.title, StatusCode::OK, content).await
}

fn trainer_view(
    lang: Lang,
    signed: &Signed,
    seat: &Seat,
    attempts: &[Attempt],
    issued: &[training::IssuedCertificate],
    head: Markup,
) -> Markup {
    let id = &seat.course.id;
    let ml = mtp_lang(lang);
    html! {
           (head)
           p { a #export href=(format!("/console/training/courses/{id}/results.xlsx")) download { (lang.t("export-results")) } }
           h2 { (lang.t("cohort-results")) }
           table #cohort {
               thead { tr {
                   th scope="col" { (lang.t("participant")) }
                   @for e in &seat.exercises {
                       th scope="col" .num { (exercise_title(e, lang)) }
                   }
                   th scope="col" { (lang.t("certificate")) }
               } }
               tbody {
                   @for p in &seat.participants {
                       tr {
                           td { (p.login) @if let Some(c) = &p.country { " (" (c) ")" } }
                           @for e in &seat.exercises {
                               @let (top, n) = best(attempts, &p.user_id, e.number);
                               td.num {
                                   @match top {
                                       Some(a) => {
                                           (format!("{:.1}", a.score)) " "
                                           span class=(if a.passed { "ok" } else { "error" }) { (lang.t(if a.passed { "passed" } else { "not-passed" })) }
                                           br;
                                           small { (lang.t_args("attempts-minutes", &[("attempts", (n as i64).into()), ("minutes", minutes(a.seconds_spent).into())])) }
                                       }
                                       None => "–",
                                   }
                               }
                           }
                           td {
                               @match issued.iter().find(|k| k.user_id == p.user_id) {
                                   Some(k) => a href=(format!("/console/training/certificates/{}", k.code)) { (k.code) },
                                   None => @if let Some(score) = final_score(attempts, &p.user_id, &seat.exercises) {
                                       form.inline method="post" action=(format!("/console/training/courses/{id}/certificates")) {
                                           input type="hidden" name="csrf" value=(signed.session.csrf);
                                           input type="hidden" name="user" value=(p.user_id);
                                           label { (lang.t("certificate-name")) " " input name="name" required value=(p.login) maxlength="200"; }
                                           " "
                                           button type="submit" { (lang.t_args("issue-certificate", &[("score", format!("{score:.1}").into())])) }
                                       }
                                   } @else {
                                       small { (lang.t("certificate-not-yet")) }
                                   },
                               }
                           }
                       }
                   }
               }
           }
           h2 { (lang.t("item-analysis")) }
           @for e in &seat.exercises {
               @let outcomes: Vec<Outcome> = seat.participants.iter()
                   .filter_map(|p| best(attempts, &p.user_id, e.number).0.and_then(outcome_of))
                   .collect();
               @let items = item_analysis(&outcomes);
               table.items id=(format!("items-{}", e.number)) {
    caption { (exercise_title(e, lang)) " · " (lang.t_args("item-analysis-of", &[("participants", (outcomes.len() as i64).into())])) }
                   thead { tr {
                       th scope="col" { (lang.t("item")) }
                       th scope="col" .num { (lang.t("graded")) }
                       th scope="col" .num { (lang.t("failed")) }
                       th scope="col" .num { (lang.t("fail-rate")) }
                   } }
                   tbody {
                       @for s in &items {
                           tr {
                               td { (if ml == MtpLang::Ru { &s.label_ru } else { &s.label_en }) }
                               td.num { (s.graded) }
                               td.num { (s.failed) }
                               td.num { (format!("{:.0}%", 100.0 * s.fail_rate())) }
                           }
                       }
                   }
               }
           }
       }
}

fn exercise_of(seat: &Seat, number: i64) -> Option<(&Exercise, Scenario)> {
    let e = seat.exercises.iter().find(|e| e.number == number)?;
    Some((e, scenario_of(e)?))
}

/// The participant's key of an exercise, made (and the opening recorded) on first use.
async fn participant_key(
    state: &ConsoleState,
    signed: &Signed,
    course: &str,
    e: &Exercise,
    scenario: Scenario,
) -> Result<Key, Response> {
    let lang = signed.lang;
    let user = &signed.session.user;
    let kept = training::key_of(&state.store, course, e.number, &user.id)
        .await
        .map_err(|err| pages::store_failed(lang, &err))?;
    if let Some((text, _)) = kept {
        return serde_json::from_str(&text).map_err(|err| {
            pages::refusal(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("key: {err}"),
            )
        });
    }
    let seed = e.seed;
    let trainee = user.login.clone();
    let key = tokio::task::spawn_blocking(move || exercise::key_of(&scenario, seed, &trainee))
        .await
        .map_err(|err| pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()))?;
    let text = serde_json::to_string(&key)
        .map_err(|err| pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()))?;
    training::keep_key(&state.store, course, e.number, &user.id, &text)
        .await
        .map_err(|err| pages::store_failed(lang, &err))?;
    Ok(key)
}

/// The exercise of a participant (a trainer opens exercises through their cohort's results).
async fn participant_exercise(
    state: &ConsoleState,
    signed: &Signed,
    id: &str,
    number: i64,
) -> Result<(Seat, Exercise, Key), Response> {
    let lang = signed.lang;
    let seat = seat(state, signed, id).await?;
    if seat.trainer {
        return Err(pages::refusal(
            lang,
            StatusCode::FORBIDDEN,
            &lang.t("exercise-participants-only"),
        ));
    }
    let Some((e, scenario)) = exercise_of(&seat, number) else {
        return Err(no_course(lang));
    };
    let e = e.clone();
    let key = participant_key(state, signed, id, &e, scenario).await?;
    Ok((seat, e, key))
}

async fn render_exercise(
    state: &ConsoleState,
    signed: &Signed,
    seat: &Seat,
    e: &Exercise,
    key: &Key,
    status: StatusCode,
    draft: Option<(&str, Markup)>,
) -> Response {
    let lang = signed.lang;
    let ml = mtp_lang(lang);
    let id = &seat.course.id;
    let me = &signed.session.user.id;
    let attempts = match training::attempts(&state.store, id, Some(me)).await {
        Ok(a) => a,
        Err(err) => return pages::store_failed(lang, &err),
    };
    let mine: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.number == e.number)
        .rev()
        .collect();
    let brief = {
        let key = key.clone();
        tokio::task::spawn_blocking(move || exercise::brief(&key, ml))
            .await
            .unwrap_or_default()
    };
    let file = exercise::submission_file(&key.scenario);
    let (text, error) = match draft {
        Some((t, m)) => (t.to_string(), Some(m)),
        None => (exercise::submission_template(&key.scenario), None),
    };
    let content = html! {
        p { a href=(format!("/console/training/courses/{id}")) { "← " (seat.course.title) } }
        h2 { (lang.t("brief")) }
        pre.brief #brief { (brief) }
        p { a #pack href=(format!("/console/training/courses/{id}/exercises/{}/pack.zip", e.number)) download { (lang.t("download-pack")) } }
        h2 #submit { (lang.t("submit-answer")) }
        form.stack method="post" action=(format!("/console/training/courses/{id}/exercises/{}/attempts", e.number)) {
            input type="hidden" name="csrf" value=(signed.session.csrf);
            @if let Some(m) = error { (m) }
            p {
                label for="submission" { (lang.t_args("submission-file", &[("file", file.into())])) }
                textarea #submission name="submission" rows="16" spellcheck="false" required { (text) }
            }
            p { button type="submit" { (lang.t("submit-for-grading")) } }
        }
        h2 { (lang.t("my-attempts")) }
        @if mine.is_empty() { p.empty { (lang.t("no-attempts")) } }
        @for a in &mine {
            section.attempt id=(a.id) {
                h3 {
                    (lang.utc_time(DateTime::from_timestamp_micros(a.submitted_at).unwrap_or_default()))
                    " · " (format!("{:.1}", a.score)) " · "
                    span class=(if a.passed { "ok" } else { "error" }) { (lang.t(if a.passed { "passed" } else { "not-passed" })) }
                }
                @if let Some(o) = outcome_of(a) { pre.feedback { (o.feedback(ml)) } }
            }
        }
    };
    let title = exercise_title(e, lang);
    pages::signed_page(state, signed, &title, status, content).await
}

/// `GET /console/training/courses/{id}/exercises/{n}`
pub async fn exercise_page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path((id, number)): Path<(String, i64)>,
) -> Response {
    match participant_exercise(&state, &signed, &id, number).await {
        Ok((seat, e, key)) => {
            render_exercise(&state, &signed, &seat, &e, &key, StatusCode::OK, None).await
        }
        Err(r) => r,
    }
}

/// `GET /console/training/courses/{id}/exercises/{n}/pack.zip`: the participant's variant.
pub async fn pack(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path((id, number)): Path<(String, i64)>,
) -> Response {
    let lang = signed.lang;
    let (_, e, key) = match participant_exercise(&state, &signed, &id, number).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let zip = tokio::task::spawn_blocking(move || exercise::pack_zip(&key))
        .await
        .map_err(|err| err.to_string())
        .and_then(|r| r.map_err(|err| err.to_string()));
    match zip {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/zip".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"exercise-{}.zip\"", e.number),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &err),
    }
}

#[derive(Deserialize)]
pub struct Submission {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    submission: String,
}

/// The largest submission graded (profiles and answers are small text files).
pub const MAX_SUBMISSION_BYTES: usize = 256 * 1024;

/// `POST /console/training/courses/{id}/exercises/{n}/attempts`: graded on the server against
/// the key it keeps; a file that does not parse is answered with its located error and is not
/// an attempt.
pub async fn submit(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path((id, number)): Path<(String, i64)>,
    Form(f): Form<Submission>,
) -> Response {
    let lang = signed.lang;
    if let Some(r) = signed.csrf_refusal(&f.csrf) {
        return r;
    }
    let (seat, e, key) = match participant_exercise(&state, &signed, &id, number).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if f.submission.len() > MAX_SUBMISSION_BYTES {
        let m =
            html! { p.error role="alert" #submission-error { (lang.t("submission-too-large")) } };
        return render_exercise(
            &state,
            &signed,
            &seat,
            &e,
            &key,
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(("", m)),
        )
        .await;
    }
    let text = f.submission.replace("\r\n", "\n");
    let file = exercise::submission_file(&key.scenario);
    let graded = {
        let (key, text) = (key.clone(), text.clone());
        tokio::task::spawn_blocking(move || exercise::grade(&key, &text, file)).await
    };
    let outcome = match graded {
        Ok(Ok(o)) => o,
        Ok(Err(refusal)) => {
            let m = html! {
                p.error role="alert" #submission-error data-line=(refusal.line) data-column=(refusal.column) {
                    (lang.t_args("rule-error-at", &[("line", (refusal.line as i64).into()), ("column", (refusal.column as i64).into())]))
                    " " (refusal.message)
                }
            };
            return render_exercise(
                &state,
                &signed,
                &seat,
                &e,
                &key,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((&text, m)),
            )
            .await;
        }
        Err(err) => {
            return pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &err.to_string());
        }
    };
    let json = match serde_json::to_string(&outcome) {
        Ok(j) => j,
        Err(err) => {
            return pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &err.to_string());
        }
    };
    let user = &signed.session.user;
    match training::add_attempt(
        &state.store,
        &user.id,
        &id,
        e.number,
        &user.id,
        &text,
        outcome.score,
        outcome.passed,
        &json,
    )
    .await
    {
        Ok(attempt) => Redirect::to(&format!(
            "/console/training/courses/{id}/exercises/{}#{attempt}",
            e.number
        ))
        .into_response(),
        Err(err) => pages::store_failed(lang, &err),
    }
}

/// `GET /console/training/courses/{id}/results.xlsx`: the trainer's export.
pub async fn export(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = signed.lang;
    let seat = match seat(&state, &signed, &id).await {
        Ok(s) if s.trainer => s,
        Ok(_) => return no_course(lang),
        Err(r) => return r,
    };
    let attempts = match training::attempts(&state.store, &id, None).await {
        Ok(a) => a,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let ml = mtp_lang(lang);
    let mut results = Vec::new();
    let mut items = Vec::new();
    for e in &seat.exercises {
        let mut outcomes = Vec::new();
        for p in &seat.participants {
            let (top, n) = best(&attempts, &p.user_id, e.number);
            let last = attempts
                .iter()
                .filter(|a| a.user_id == p.user_id && a.number == e.number)
                .map(|a| a.seconds_spent)
                .max();
            results.push(vec![
                Cell::Text(p.login.clone()),
                Cell::Text(p.country.clone().unwrap_or_default()),
                Cell::Number(e.number as f64),
                Cell::Text(exercise_title(e, lang)),
                Cell::Number(n as f64),
                top.map_or(Cell::Empty, |a| Cell::Number(a.score)),
                top.map_or(Cell::Empty, |a| {
                    Cell::Text(if a.passed { "yes" } else { "no" }.into())
                }),
                last.map_or(Cell::Empty, |s| Cell::Number((s as f64 / 60.0).round())),
            ]);
            if let Some(o) = top.and_then(outcome_of) {
                outcomes.push(o);
            }
        }
        for s in item_analysis(&outcomes) {
            items.push(vec![
                Cell::Number(e.number as f64),
                Cell::Text(exercise_title(e, lang)),
                Cell::Text(s.id.clone()),
                Cell::Text(if ml == MtpLang::Ru {
                    s.label_ru.clone()
                } else {
                    s.label_en.clone()
                }),
                Cell::Number(s.graded as f64),
                Cell::Number(s.failed as f64),
                Cell::Number(s.fail_rate()),
            ]);
        }
    }
    let header = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let sheets = [
        Sheet {
            name: "Results".into(),
            header: header(&[
                "participant",
                "country",
                "exercise",
                "exercise_title",
                "attempts",
                "best_score_of_100",
                "passed",
                "time_spent_minutes",
            ]),
            rows: results,
        },
        Sheet {
            name: "Items".into(),
            header: header(&[
                "exercise",
                "exercise_title",
                "item",
                "item_label",
                "graded",
                "failed",
                "fail_rate_share",
            ]),
            rows: items,
        },
    ];
    match workbook(&sheets) {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{id}-results.xlsx\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[derive(Deserialize)]
pub struct Certify {
    #[serde(default)]
    csrf: String,
    user: String,
    name: String,
}

/// `POST /console/training/courses/{id}/certificates`: the trainer certifies a participant who
/// passed every exercise; the score is the mean of their best scores.
pub async fn certify(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<Certify>,
) -> Response {
    let lang = signed.lang;
    if let Some(r) = signed.csrf_refusal(&f.csrf) {
        return r;
    }
    let seat = match seat(&state, &signed, &id).await {
        Ok(s) if s.trainer => s,
        Ok(_) => return no_course(lang),
        Err(r) => return r,
    };
    let Some(p) = seat.participants.iter().find(|p| p.user_id == f.user) else {
        return no_course(lang);
    };
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return pages::refusal(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &lang.t("certificate-name-invalid"),
        );
    }
    let (attempts, issued, secret) = match tokio::try_join!(
        training::attempts(&state.store, &id, Some(&p.user_id)),
        training::certificates(&state.store, Some(&id), None),
        training::programme_secret(&state.store),
    ) {
        Ok(x) => x,
        Err(e) => return pages::store_failed(lang, &e),
    };
    if issued.iter().any(|k| k.user_id == p.user_id) {
        return Redirect::to(&format!("/console/training/courses/{id}")).into_response();
    }
    let Some(score) = final_score(&attempts, &p.user_id, &seat.exercises) else {
        return pages::refusal(lang, StatusCode::CONFLICT, &lang.t("certificate-not-yet"));
    };
    let today = Utc::now().date_naive();
    let expires = expiry(today);
    let country = p
        .country
        .clone()
        .unwrap_or_else(|| seat.course.country.clone());
    let certificate = Certificate::issue(
        &secret,
        name,
        &country,
        seat.course.level,
        &seat.course.title,
        &today.to_string(),
        score,
    );
    let body = match serde_json::to_string(&certificate) {
        Ok(b) => b,
        Err(e) => return pages::refusal(lang, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    match training::certify(
        &state.store,
        &signed.session.user.id,
        &seat.course,
        &p.user_id,
        &country,
        &certificate.code,
        &body,
        &today.to_string(),
        &expires.to_string(),
    )
    .await
    {
        Ok(()) => Redirect::to(&format!("/console/training/courses/{id}")).into_response(),
        Err(e) => pages::store_failed(lang, &e),
    }
}

/// The certificate of a code, when the server issued it and the code is the programme secret's
/// for its fields as stored.
async fn verified(
    state: &ConsoleState,
    code: &str,
) -> Result<Option<Certificate>, smartborder_store::StoreError> {
    let code = code.to_ascii_uppercase();
    let found = training::certificate_of(&state.store, &code).await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let secret = training::programme_secret(&state.store).await?;
    Ok(serde_json::from_str::<Certificate>(&found.body)
        .ok()
        .filter(|c| c.verify(&secret)))
}

#[derive(Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    code: String,
}

/// `GET /console/training/certificates?code=`: to the certificate's page.
pub async fn find_certificate(
    axum::extract::Query(q): axum::extract::Query<CodeQuery>,
) -> Redirect {
    let code: String = q
        .code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(32)
        .collect();
    Redirect::to(&format!(
        "/console/training/certificates/{}",
        code.to_ascii_uppercase()
    ))
}

/// `GET /console/training/certificates/{code}`: anyone holding a code checks it, signed in or
/// not. The certificate is valid when the server issued it and its code is the programme
/// secret's for its fields as stored.
pub async fn certificate_page(
    State(state): State<ConsoleState>,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let lang = crate::session::language(&headers);
    let certificate = match verified(&state, &code).await {
        Ok(c) => c,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let Some(c) = certificate else {
        return pages::frame(
            lang,
            None,
            &lang.t("certificate-check"),
            StatusCode::NOT_FOUND,
            html! { p.error role="alert" #certificate-invalid { (lang.t_args("certificate-invalid", &[("code", code.chars().take(32).collect::<String>().into())])) } },
        );
    };
    let content = html! {
        p.ok role="status" #certificate-valid { (lang.t_args("certificate-valid", &[("code", c.code.clone().into())])) }
        dl.summary {
            dt { (lang.t("certificate-name")) } dd #certificate-holder { (c.name) }
            dt { (lang.t("course-country")) } dd { (c.country) }
            dt { (lang.t("course-level")) } dd { (level_name(lang, c.level)) }
            dt { (lang.t("course")) } dd { (c.course) }
            dt { (lang.t("certificate-date")) } dd { (c.date) }
            dt { (lang.t("best-score")) } dd { (format!("{:.1}", c.score)) }
        }
        p { a href=(format!("/console/training/certificates/{}/print", c.code)) { (lang.t("certificate-print")) } }
    };
    pages::frame(
        lang,
        None,
        &lang.t("certificate-check"),
        StatusCode::OK,
        content,
    )
}

/// `GET /console/training/certificates/{code}/print`: the printable page in the console's
/// language.
pub async fn certificate_print(
    State(state): State<ConsoleState>,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let lang = crate::session::language(&headers);
    match verified(&state, &code).await {
        Err(e) => pages::store_failed(lang, &e),
        Ok(Some(c)) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            c.html(mtp_lang(lang)),
        )
            .into_response(),
        Ok(None) => pages::refusal(lang, StatusCode::NOT_FOUND, &lang.t("no-such-page")),
    }
}

/// `GET /console/training/programme`: the cascade (officers trained per country and per
/// master trainer, month by month) and the people of the programme. For trainers and the
/// corridor coordinator.
pub async fn programme(State(state): State<ConsoleState>, signed: Signed) -> Response {
    let lang = signed.lang;
    let me = &signed.session.user;
    let (people, issued) = match tokio::try_join!(
        training::people(&state.store),
        training::certificates(&state.store, None, None),
    ) {
        Ok(x) => x,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let today = today();
    if !reads_programme(me, &people, &today) {
        return pages::refusal(lang, StatusCode::FORBIDDEN, &lang.t("trainers-only"));
    }
    let members: Vec<Member> = people
        .iter()
        .map(|p: &Person| Member {
            login: p.login.clone(),
            level: p.level,
            trained_by: p.trained_by.clone(),
        })
        .collect();
    let completions: Vec<Completion> = issued
        .iter()
        .map(|k| Completion {
            person: k.login.clone(),
            country: k.country.clone(),
            date: k.date.clone(),
            trainer: k.trainer_login.clone(),
        })
        .collect();
    let c = cascade(&completions, &members);
    let table = |id: &str, group: &str, rows: &[smartborder_mtp::programme::CascadeRow]| {
        html! {
            table id=(id) {
                thead { tr {
                    th scope="col" { (group) }
                    th scope="col" { (lang.t("month")) }
                    th scope="col" .num { (lang.t("officers-trained")) }
                    th scope="col" .num { (lang.t("officers-trained-total")) }
                } }
                tbody {
                    @for r in rows {
                        tr { td { (r.group) } td { (r.month) } td.num { (r.trained) } td.num { (r.cumulative) } }
                    }
                }
            }
        }
    };
    let content = html! {
        p { (lang.t_args("programme-total", &[("completions", (completions.len() as i64).into())])) }
        h2 { (lang.t("cascade-by-country")) }
        (table("cascade-country", &lang.t("course-country"), &c.by_country))
        h2 { (lang.t("cascade-by-master-trainer")) }
        (table("cascade-master", &lang.t("master-trainer"), &c.by_master_trainer))
        h2 { (lang.t("programme-people")) }
        table #people {
            thead { tr {
                th scope="col" { (lang.t("login")) }
                th scope="col" { (lang.t("course-country")) }
                th scope="col" { (lang.t("course-level")) }
                th scope="col" { (lang.t("accredited")) }
                th scope="col" { (lang.t("expires")) }
                th scope="col" { (lang.t("trained-by")) }
            } }
            tbody {
                @for p in &people {
                    tr {
                        td { a href=(format!("/console/training/people/{}", p.login)) { (p.login) } }
                        td { (p.country) } td { (level_name(lang, p.level)) }
                        td { (p.accredited_on.as_deref().unwrap_or("–")) }
                        td {
                            (p.expires_on.as_deref().unwrap_or("–"))
                            @if p.expires_on.as_deref().is_some_and(|e| e < today.as_str()) { " " span.error { (lang.t("expired")) } }
                        }
                        td { (p.trained_by.as_deref().unwrap_or("–")) }
                    }
                }
            }
        }
    };
    pages::signed_page(
        &state,
        &signed,
        &lang.t("programme-dashboard"),
        StatusCode::OK,
        content,
    )
    .await
}

/// `GET /console/training/people/{login}`: a person's record in the programme (level,
/// accreditation, who trained them) and their history: courses attended, with certificates,
/// and courses delivered. For the person, trainers and the corridor coordinator.
pub async fn person(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(login): Path<String>,
) -> Response {
    let lang = signed.lang;
    let me = &signed.session.user;
    let people = match training::people(&state.store).await {
        Ok(p) => p,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let today = today();
    let allowed = me.login == login || reads_programme(me, &people, &today);
    let Some(p) = people.iter().find(|p| p.login == login).filter(|_| allowed) else {
        return pages::refusal(lang, StatusCode::NOT_FOUND, &lang.t("no-person"));
    };
    let (attended, delivered, issued) = match tokio::try_join!(
        training::courses_attended(&state.store, &p.user_id),
        training::courses_delivered(&state.store, &p.user_id),
        training::certificates(&state.store, None, None),
    ) {
        Ok(x) => x,
        Err(e) => return pages::store_failed(lang, &e),
    };
    let content = html! {
        dl.summary #person {
            dt { (lang.t("course-country")) } dd { (p.country) }
            dt { (lang.t("course-level")) } dd { (level_name(lang, p.level)) }
            dt { (lang.t("accredited")) } dd { (p.accredited_on.as_deref().unwrap_or("–")) }
            dt { (lang.t("expires")) } dd {
                (p.expires_on.as_deref().unwrap_or("–"))
                @if p.expires_on.as_deref().is_some_and(|e| e < today.as_str()) { " " span.error { (lang.t("expired")) } }
            }
            dt { (lang.t("trained-by")) } dd { (p.trained_by.as_deref().unwrap_or("–")) }
        }
        h2 { (lang.t("courses-attended")) }
        @if attended.is_empty() { p.empty { (lang.t("no-courses")) } } @else {
            table #history-attended {
                thead { tr {
                    th scope="col" { (lang.t("course")) }
                    th scope="col" { (lang.t("course-dates")) }
                    th scope="col" { (lang.t("trainer")) }
                    th scope="col" { (lang.t("certificate")) }
                } }
                tbody {
                    @for c in &attended {
                        tr {
                            td { (c.title) }
                            td { (c.starts_on) " – " (c.ends_on) }
                            td { (c.trainer_login) }
                            td {
                                @match issued.iter().find(|k| k.course_id == c.id && k.user_id == p.user_id) {
                                    Some(k) => a href=(format!("/console/training/certificates/{}", k.code)) { (k.code) },
                                    None => "–",
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (lang.t("courses-delivered")) }
        @if delivered.is_empty() { p.empty { (lang.t("no-courses")) } } @else {
            table #history-delivered {
                thead { tr {
                    th scope="col" { (lang.t("course")) }
                    th scope="col" { (lang.t("course-dates")) }
                    th scope="col" { (lang.t("course-place")) }
                    th scope="col" .num { (lang.t("certificates-issued")) }
                } }
                tbody {
                    @for c in &delivered {
                        tr {
                            td { (c.title) }
                            td { (c.starts_on) " – " (c.ends_on) }
                            td { (c.place) " (" (c.country) ")" }
                            td.num { (issued.iter().filter(|k| k.course_id == c.id).count()) }
                        }
                    }
                }
            }
        }
    };
    pages::signed_page(&state, &signed, &p.login, StatusCode::OK, content).await
}
