//! The Master Trainer Programme's records: the people of the programme (level, accreditation,
//! who trained them), courses (dates, place, language, exercises, participants), each
//! participant's answer keys (kept here, never shown to them), attempts with their grades and
//! time spent, and the certificates issued, with the programme's secret that signs them.
//!
//! The store keeps what the console decided; grading and the cascade are the `mtp` crate's.
//! Every write is audited with the person who made it.

use smartborder_mtp::certificate::Level;

use crate::audit::{self, AuditEntry};
use crate::{Store, StoreError, keys, now_micros};

/// A person of the programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub user_id: String,
    pub login: String,
    pub country: String,
    pub level: Level,
    /// YYYY-MM-DD, when accredited at this level.
    pub accredited_on: Option<String>,
    pub expires_on: Option<String>,
    /// The login of the trainer whose course accredited them.
    pub trained_by: Option<String>,
}

impl Person {
    /// Whether they may deliver courses on `today` (YYYY-MM-DD): a trainer or master trainer
    /// whose accreditation has not expired.
    pub fn may_train(&self, today: &str) -> bool {
        self.level >= Level::Trainer && self.expires_on.as_deref().is_none_or(|e| e >= today)
    }
}

fn level(s: &str) -> Result<Level, StoreError> {
    Level::parse(s).ok_or_else(|| StoreError::Corrupt(format!("programme level {s}")))
}

type PersonRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

const PERSON: &str = "SELECT p.user_id, u.login, p.country, p.level, p.accredited_on, p.expires_on, t.login FROM mtp_people p JOIN users u ON u.id = p.user_id LEFT JOIN users t ON t.id = p.trained_by";

fn person(row: PersonRow) -> Result<Person, StoreError> {
    let (user_id, login, country, lvl, accredited_on, expires_on, trained_by) = row;
    Ok(Person {
        user_id,
        login,
        country,
        level: level(&lvl)?,
        accredited_on,
        expires_on,
        trained_by,
    })
}

/// Writes a person's record in place of any earlier one, inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn replace_person(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    country: &str,
    level: Level,
    accredited_on: Option<&str>,
    expires_on: Option<&str>,
    trained_by: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM mtp_people WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO mtp_people (user_id, country, level, accredited_on, expires_on, trained_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user_id)
    .bind(country)
    .bind(level.name())
    .bind(accredited_on)
    .bind(expires_on)
    .bind(trained_by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets a person's level and accreditation (creating their record); audited.
#[allow(clippy::too_many_arguments)]
pub async fn set_person(
    store: &Store,
    actor: &str,
    user_id: &str,
    country: &str,
    level: Level,
    accredited_on: Option<&str>,
    expires_on: Option<&str>,
    trained_by: Option<&str>,
) -> Result<(), StoreError> {
    let now = now_micros();
    let mut tx = store.pool.begin().await?;
    replace_person(
        &mut tx,
        user_id,
        country,
        level,
        accredited_on,
        expires_on,
        trained_by,
        now,
    )
    .await?;
    let body = format!(
        "{} {} {} {}",
        level.name(),
        accredited_on.unwrap_or("-"),
        expires_on.unwrap_or("-"),
        trained_by.unwrap_or("-")
    );
    audit::append(
        &mut tx,
        store.backend,
        &[AuditEntry {
            actor,
            action: "mtp_person_set",
            subject: user_id,
            body: body.as_bytes(),
            record: None,
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A person of the programme, by account.
pub async fn person_of(store: &Store, user_id: &str) -> Result<Option<Person>, StoreError> {
    let row: Option<PersonRow> = sqlx::query_as(&format!("{PERSON} WHERE p.user_id = $1"))
        .bind(user_id)
        .fetch_optional(&store.pool)
        .await?;
    row.map(person).transpose()
}

/// Everyone in the programme, by login.
pub async fn people(store: &Store) -> Result<Vec<Person>, StoreError> {
    let rows: Vec<PersonRow> = sqlx::query_as(&format!("{PERSON} ORDER BY u.login"))
        .fetch_all(&store.pool)
        .await?;
    rows.into_iter().map(person).collect()
}

/// An exercise of a course: a scenario definition (TOML) and its seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    pub number: i64,
    pub title: String,
    pub definition: String,
    pub seed: u64,
}

/// A course as a trainer sets it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCourse {
    pub title: String,
    /// The host administration (ISO 3166 alpha-2).
    pub country: String,
    pub place: String,
    /// The language it is taught in (en, ru).
    pub language: String,
    /// The level the course accredits its participants to.
    pub level: Level,
    /// YYYY-MM-DD.
    pub starts_on: String,
    pub ends_on: String,
    pub exercises: Vec<Exercise>,
    /// Accounts enrolled.
    pub participants: Vec<String>,
}

/// A course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    pub id: String,
    pub title: String,
    pub trainer_id: String,
    pub trainer_login: String,
    pub country: String,
    pub place: String,
    pub language: String,
    pub level: Level,
    pub starts_on: String,
    pub ends_on: String,
}

/// A participant of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub user_id: String,
    pub login: String,
    pub country: Option<String>,
}

type CourseRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

const COURSE: &str = "SELECT c.id, c.title, c.trainer, u.login, c.country, c.place, c.language, c.level, c.starts_on, c.ends_on FROM mtp_courses c JOIN users u ON u.id = c.trainer";

fn course(row: CourseRow) -> Result<Course, StoreError> {
    let (id, title, trainer_id, trainer_login, country, place, language, lvl, starts_on, ends_on) =
        row;
    Ok(Course {
        id,
        title,
        trainer_id,
        trainer_login,
        country,
        place,
        language,
        level: level(&lvl)?,
        starts_on,
        ends_on,
    })
}

/// Creates a course delivered by `trainer_id`, with its exercises and participants (who join
/// the programme as participants if they were not in it); audited.
pub async fn create_course(
    store: &Store,
    actor: &str,
    trainer_id: &str,
    c: &NewCourse,
) -> Result<String, StoreError> {
    let id = format!("course_{}", keys::random_hex(6));
    let now = now_micros();
    let mut tx = store.pool.begin().await?;
    sqlx::query(
        "INSERT INTO mtp_courses (id, title, trainer, country, place, language, level, starts_on, ends_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&c.title)
    .bind(trainer_id)
    .bind(&c.country)
    .bind(&c.place)
    .bind(&c.language)
    .bind(c.level.name())
    .bind(&c.starts_on)
    .bind(&c.ends_on)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for e in &c.exercises {
        sqlx::query(
            "INSERT INTO mtp_exercises (course_id, number, title, definition, seed) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(e.number)
        .bind(&e.title)
        .bind(&e.definition)
        .bind(e.seed as i64)
        .execute(&mut *tx)
        .await?;
    }
    for user in &c.participants {
        sqlx::query(
            "INSERT INTO mtp_enrolments (course_id, user_id, enrolled_at) VALUES ($1, $2, $3)",
        )
        .bind(&id)
        .bind(user)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO mtp_people (user_id, country, level, accredited_on, expires_on, trained_by, updated_at) SELECT id, COALESCE(country, ''), 'participant', NULL, NULL, NULL, $2 FROM users WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM mtp_people WHERE user_id = $1)",
        )
        .bind(user)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let body = format!(
        "{} | {} {} {} | {} exercises | {}",
        c.title,
        c.country,
        c.starts_on,
        c.ends_on,
        c.exercises.len(),
        c.participants.join(",")
    );
    audit::append(
        &mut tx,
        store.backend,
        &[AuditEntry {
            actor,
            action: "mtp_course_created",
            subject: &id,
            body: body.as_bytes(),
            record: None,
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Courses a trainer delivers, newest first.
pub async fn courses_delivered(store: &Store, trainer_id: &str) -> Result<Vec<Course>, StoreError> {
    let rows: Vec<CourseRow> = sqlx::query_as(&format!(
        "{COURSE} WHERE c.trainer = $1 ORDER BY c.starts_on DESC, c.id"
    ))
    .bind(trainer_id)
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter().map(course).collect()
}

/// Courses a person is enrolled in, newest first.
pub async fn courses_attended(store: &Store, user_id: &str) -> Result<Vec<Course>, StoreError> {
    let rows: Vec<CourseRow> = sqlx::query_as(&format!(
        "{COURSE} JOIN mtp_enrolments e ON e.course_id = c.id WHERE e.user_id = $1 ORDER BY c.starts_on DESC, c.id"
    ))
    .bind(user_id)
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter().map(course).collect()
}

/// A course with its exercises and participants.
pub async fn course_of(
    store: &Store,
    id: &str,
) -> Result<Option<(Course, Vec<Exercise>, Vec<Participant>)>, StoreError> {
    let row: Option<CourseRow> = sqlx::query_as(&format!("{COURSE} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let exercises: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT number, title, definition, seed FROM mtp_exercises WHERE course_id = $1 ORDER BY number",
    )
    .bind(id)
    .fetch_all(&store.pool)
    .await?;
    let participants: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT u.id, u.login, u.country FROM mtp_enrolments e JOIN users u ON u.id = e.user_id WHERE e.course_id = $1 ORDER BY u.login",
    )
    .bind(id)
    .fetch_all(&store.pool)
    .await?;
    Ok(Some((
        course(row)?,
        exercises
            .into_iter()
            .map(|(number, title, definition, seed)| Exercise {
                number,
                title,
                definition,
                seed: seed as u64,
            })
            .collect(),
        participants
            .into_iter()
            .map(|(user_id, login, country)| Participant {
                user_id,
                login,
                country,
            })
            .collect(),
    )))
}

/// A participant's answer key of an exercise and when they first opened it.
pub async fn key_of(
    store: &Store,
    course_id: &str,
    number: i64,
    user_id: &str,
) -> Result<Option<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT key, opened_at FROM mtp_keys WHERE course_id = $1 AND number = $2 AND user_id = $3",
    )
    .bind(course_id)
    .bind(number)
    .bind(user_id)
    .fetch_optional(&store.pool)
    .await?)
}

/// Keeps the key of a participant's variant, made when they first open the exercise (a key
/// kept already stays: the first opening counts).
pub async fn keep_key(
    store: &Store,
    course_id: &str,
    number: i64,
    user_id: &str,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO mtp_keys (course_id, number, user_id, key, opened_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(course_id)
    .bind(number)
    .bind(user_id)
    .bind(key)
    .bind(now_micros())
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// A graded attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub id: String,
    pub course_id: String,
    pub number: i64,
    pub user_id: String,
    pub login: String,
    pub submitted_at: i64,
    /// From the first opening of the exercise to the submission.
    pub seconds_spent: i64,
    pub score: f64,
    pub passed: bool,
    /// The grade (`mtp::exercise::Outcome`, JSON).
    pub outcome: String,
}

/// Records a graded attempt; audited.
#[allow(clippy::too_many_arguments)]
pub async fn add_attempt(
    store: &Store,
    actor: &str,
    course_id: &str,
    number: i64,
    user_id: &str,
    submission: &str,
    score: f64,
    passed: bool,
    outcome: &str,
) -> Result<String, StoreError> {
    let id = format!("attempt_{}", keys::random_hex(6));
    let now = now_micros();
    let mut tx = store.pool.begin().await?;
    let opened: Option<(i64,)> = sqlx::query_as(
        "SELECT opened_at FROM mtp_keys WHERE course_id = $1 AND number = $2 AND user_id = $3",
    )
    .bind(course_id)
    .bind(number)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let seconds = opened.map_or(0, |(at,)| (now - at).max(0) / 1_000_000);
    sqlx::query(
        "INSERT INTO mtp_attempts (id, course_id, number, user_id, submitted_at, seconds_spent, submission, score_tenths, passed, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(course_id)
    .bind(number)
    .bind(user_id)
    .bind(now)
    .bind(seconds)
    .bind(submission)
    .bind((score * 10.0).round() as i64)
    .bind(i64::from(passed))
    .bind(outcome)
    .execute(&mut *tx)
    .await?;
    let subject = format!("{course_id}/{number}/{user_id}");
    audit::append(
        &mut tx,
        store.backend,
        &[AuditEntry {
            actor,
            action: "mtp_attempt_graded",
            subject: &subject,
            body: submission.as_bytes(),
            record: None,
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

type AttemptRow = (
    String,
    String,
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
);

/// A course's attempts (of one participant, or all), oldest first.
pub async fn attempts(
    store: &Store,
    course_id: &str,
    user_id: Option<&str>,
) -> Result<Vec<Attempt>, StoreError> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT a.id, a.course_id, a.number, a.user_id, u.login, a.submitted_at, a.seconds_spent, a.score_tenths, a.passed, a.outcome FROM mtp_attempts a JOIN users u ON u.id = a.user_id WHERE a.course_id = $1 AND ($2 IS NULL OR a.user_id = $2) ORDER BY a.submitted_at, a.id",
    )
    .bind(course_id)
    .bind(user_id)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                course_id,
                number,
                user_id,
                login,
                submitted_at,
                seconds,
                tenths,
                passed,
                outcome,
            )| {
                Attempt {
                    id,
                    course_id,
                    number,
                    user_id,
                    login,
                    submitted_at,
                    seconds_spent: seconds,
                    score: tenths as f64 / 10.0,
                    passed: passed != 0,
                    outcome,
                }
            },
        )
        .collect())
}

/// A certificate issued to a participant at the end of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    pub code: String,
    pub user_id: String,
    pub login: String,
    pub course_id: String,
    /// The certificate (`mtp::certificate::Certificate`, JSON).
    pub body: String,
    pub trainer_login: String,
    /// YYYY-MM-DD.
    pub date: String,
    pub country: String,
}

/// Issues a certificate and raises the person to the course's level (never lowers it), with
/// the accreditation's dates and the course's trainer as who trained them; audited.
#[allow(clippy::too_many_arguments)]
pub async fn certify(
    store: &Store,
    actor: &str,
    course: &Course,
    user_id: &str,
    country: &str,
    code: &str,
    body: &str,
    date: &str,
    expires_on: &str,
) -> Result<(), StoreError> {
    let now = now_micros();
    let mut tx = store.pool.begin().await?;
    sqlx::query(
        "INSERT INTO mtp_certificates (code, user_id, course_id, body, date, country, issued_by, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(code)
    .bind(user_id)
    .bind(&course.id)
    .bind(body)
    .bind(date)
    .bind(country)
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let current: Option<(String,)> =
        sqlx::query_as("SELECT level FROM mtp_people WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let current = current.map(|(l,)| level(&l)).transpose()?;
    if current.is_none_or(|l| l <= course.level) {
        replace_person(
            &mut tx,
            user_id,
            country,
            course.level,
            Some(date),
            Some(expires_on),
            Some(&course.trainer_id),
            now,
        )
        .await?;
    }
    audit::append(
        &mut tx,
        store.backend,
        &[AuditEntry {
            actor,
            action: "mtp_certificate_issued",
            subject: code,
            body: body.as_bytes(),
            record: None,
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

type CertificateRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

const CERTIFICATE: &str = "SELECT k.code, k.user_id, u.login, k.course_id, k.body, t.login, k.date, k.country FROM mtp_certificates k JOIN users u ON u.id = k.user_id JOIN mtp_courses c ON c.id = k.course_id JOIN users t ON t.id = c.trainer";

fn certificate(row: CertificateRow) -> IssuedCertificate {
    let (code, user_id, login, course_id, body, trainer_login, date, country) = row;
    IssuedCertificate {
        code,
        user_id,
        login,
        course_id,
        body,
        trainer_login,
        date,
        country,
    }
}

/// A certificate by its code.
pub async fn certificate_of(
    store: &Store,
    code: &str,
) -> Result<Option<IssuedCertificate>, StoreError> {
    let row: Option<CertificateRow> = sqlx::query_as(&format!("{CERTIFICATE} WHERE k.code = $1"))
        .bind(code)
        .fetch_optional(&store.pool)
        .await?;
    Ok(row.map(certificate))
}

/// Certificates of one course, of one person, or all (`None`: any), oldest first.
pub async fn certificates(
    store: &Store,
    course_id: Option<&str>,
    user_id: Option<&str>,
) -> Result<Vec<IssuedCertificate>, StoreError> {
    let rows: Vec<CertificateRow> = sqlx::query_as(&format!(
        "{CERTIFICATE} WHERE ($1 IS NULL OR k.course_id = $1) AND ($2 IS NULL OR k.user_id = $2) ORDER BY k.date, k.code"
    ))
    .bind(course_id)
    .bind(user_id)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.into_iter().map(certificate).collect())
}

/// The programme's secret that signs certificates (32 random bytes, made on first use).
pub async fn programme_secret(store: &Store) -> Result<Vec<u8>, StoreError> {
    sqlx::query("INSERT INTO mtp_secret (id, secret) VALUES (1, $1) ON CONFLICT DO NOTHING")
        .bind(keys::random_hex(32))
        .execute(&store.pool)
        .await?;
    let (hex,): (String,) = sqlx::query_as("SELECT secret FROM mtp_secret WHERE id = 1")
        .fetch_one(&store.pool)
        .await?;
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16).ok())
        .collect::<Option<Vec<u8>>>()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| StoreError::Corrupt("the programme's secret is not 64 hex digits".into()))
}
