//! The live risk API for national clearance systems: `POST /api/v1/risk/assess` scores a batch
//! of declarations with the caller's own administration's risk configuration (profiles, value
//! bands, selectivity plan, model), as ASYCUDA's selectivity module does for its declarations.
//!
//! Configurations are confidential: an administration assesses only with its own, and the
//! corridor coordinator, which has none, is refused. Each compiled configuration is kept in
//! memory and shared by every request; at most once a second a request looks up the versions
//! in force, and a new publication is compiled in the background and swapped in while the old
//! one keeps answering, so that a hot swap costs no failed request and no wait.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use smartborder_ingest::declaration_json::{DeclarationJson, declarations_from_json};
use smartborder_ingest::declaration_mapping::published_attribute_names;
use smartborder_risk::configuration::{
    ConfigurationError, ConfigurationFile, LiveAssessment, RiskConfiguration, check_file_name,
    with_new_files,
};
use smartborder_store::{Store, StoreError, risk_files};
use smartborder_transit::Principal;

use crate::{ApiError, AppState, body_bytes, caller};

/// The most declarations one request may assess.
pub const MAX_BATCH: usize = 10_000;
/// The largest body of an assessment request.
pub const MAX_ASSESS_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The largest file of a configuration accepted by the API (a model of a large history with
/// its category statistics runs to tens of megabytes: 16 MB for the KCS data).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// How often, at most, a request looks up the versions in force.
pub const VERSION_CHECK: Duration = Duration::from_secs(1);

/// The compiled configuration of each administration.
#[derive(Default)]
pub(crate) struct Configurations {
    by_country: Mutex<HashMap<String, Cached>>,
    /// Held while an administration's configuration is compiled for the first time: the
    /// requests that arrive meanwhile wait for it and then find the configuration kept,
    /// instead of each compiling its own copy (32 requests at once used to compile 32 copies
    /// of a 16 MB model, 850 MB).
    first: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

struct Cached {
    /// The configuration in force, compiled; or, when the files in force do not compile (they
    /// were checked when published, so only a build with other rules can get here), why, with
    /// their versions: they are not compiled again until another version is published.
    compiled: Compiled,
    /// Versions published after a configuration that works, which did not compile: the working
    /// one keeps answering, and they are not compiled again.
    refused: Option<BTreeMap<String, i64>>,
    checked: Instant,
    compiling: bool,
}

type Compiled = Result<Arc<RiskConfiguration>, Arc<Failure>>;

/// Files in force that did not compile.
struct Failure {
    versions: BTreeMap<String, i64>,
    message: String,
}

impl Failure {
    fn error(&self) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "risk_configuration_invalid",
            self.message.clone(),
        )
    }
}

/// Why a publication was refused.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the risk configuration of {country} would not compile: {source}")]
    Invalid {
        country: String,
        #[source]
        source: ConfigurationError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Publishes files of an administration's configuration as new versions (each audited with
/// `actor`), all in one transaction, once they compile together with the other files in force;
/// when they do not, nothing is published. Returns each file's name and new version. The CLI's `risk publish` and
/// `PUT /api/v1/risk/files/{name}` both publish through here.
pub async fn publish_checked(
    store: &Store,
    actor: &str,
    country: &str,
    new: &[ConfigurationFile],
) -> Result<Vec<(String, i64)>, PublishError> {
    let files = with_new_files(files_in_force(store, country).await?, new);
    let checked = tokio::task::spawn_blocking(move || {
        RiskConfiguration::compile(&files, &published_attribute_names()).map(|_| ())
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    checked.map_err(|source| PublishError::Invalid {
        country: country.to_string(),
        source,
    })?;
    let named: Vec<(&str, &str)> = new
        .iter()
        .map(|f| (f.name.as_str(), f.body.as_str()))
        .collect();
    let versions = risk_files::publish(store, actor, country, &named).await?;
    Ok(new.iter().map(|f| f.name.clone()).zip(versions).collect())
}

/// The files in force of `country`, as the configuration compiles them.
async fn files_in_force(
    store: &Store,
    country: &str,
) -> Result<Vec<ConfigurationFile>, StoreError> {
    Ok(risk_files::in_force(store, country)
        .await?
        .into_iter()
        .map(|f| ConfigurationFile {
            name: f.name,
            version: f.version,
            body: f.body,
        })
        .collect())
}

/// Compiles the files in force of `country` on a blocking thread.
async fn compile(store: &Store, country: &str) -> Result<Compiled, ApiError> {
    let files = files_in_force(store, country).await?;
    let versions = files.iter().map(|f| (f.name.clone(), f.version)).collect();
    let compiled = tokio::task::spawn_blocking(move || {
        RiskConfiguration::compile(&files, &published_attribute_names())
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok(compiled.map(Arc::new).map_err(|e| {
        let message = format!("the risk configuration of {country} in force does not compile: {e}");
        // Once per set of versions: they are not compiled again until another is published.
        eprintln!("risk configuration: {message}");
        Arc::new(Failure { versions, message })
    }))
}

impl Configurations {
    /// The configuration in force of `country`: the one in memory unless a newer version was
    /// published (then compiled in the background), compiled now on the first request. Files
    /// that do not compile answer 503 with the reason until another version is published.
    pub(crate) async fn get(
        self: &Arc<Self>,
        store: &Store,
        country: &str,
    ) -> Result<Arc<RiskConfiguration>, ApiError> {
        let answer = |c: &Compiled| c.clone().map_err(|f| f.error());
        let current = {
            let mut map = self.by_country.lock().expect("configurations");
            match map.get_mut(country) {
                Some(c) if c.checked.elapsed() < VERSION_CHECK || c.compiling => {
                    return answer(&c.compiled);
                }
                Some(c) => {
                    c.checked = Instant::now();
                    Some((c.compiled.clone(), c.refused.clone()))
                }
                None => None,
            }
        };
        let Some((current, refused)) = current else {
            let gate = self
                .first
                .lock()
                .expect("configurations")
                .entry(country.to_string())
                .or_default()
                .clone();
            let _first = gate.lock().await;
            // Compiled by the request that held the gate before this one.
            let kept = self
                .by_country
                .lock()
                .expect("configurations")
                .get(country)
                .map(|c| c.compiled.clone());
            let compiled = match kept {
                Some(compiled) => compiled,
                None => {
                    let compiled = compile(store, country).await?;
                    self.by_country.lock().expect("configurations").insert(
                        country.to_string(),
                        Cached {
                            compiled: compiled.clone(),
                            refused: None,
                            checked: Instant::now(),
                            compiling: false,
                        },
                    );
                    compiled
                }
            };
            // The configuration is kept: later requests find it and never come here, and those
            // already waiting keep their handle on the gate. (When the store failed, the gate stays for the
            // next request to try again.)
            self.first.lock().expect("configurations").remove(country);
            return answer(&compiled);
        };
        let versions = risk_files::versions(store, country).await?;
        let compiled_versions = match &current {
            Ok(config) => &config.versions,
            Err(failure) => &failure.versions,
        };
        let same = |known: &BTreeMap<String, i64>| versions.iter().map(|(n, v)| (n, v)).eq(known);
        if same(compiled_versions) || refused.as_ref().is_some_and(same) {
            return answer(&current);
        }
        // A new publication: compile it apart while the current configuration answers.
        if let Some(c) = self
            .by_country
            .lock()
            .expect("configurations")
            .get_mut(country)
        {
            c.compiling = true;
        }
        let (this, store, country) = (self.clone(), store.clone(), country.to_string());
        tokio::spawn(async move {
            let compiled = compile(&store, &country).await;
            let mut map = this.by_country.lock().expect("configurations");
            if let Some(c) = map.get_mut(&country) {
                c.compiling = false;
                c.checked = Instant::now();
                match compiled {
                    // Files that do not compile replace only files that did not compile either:
                    // a configuration that works keeps answering (uploads are checked before
                    // they are accepted, so this is the unlikely case).
                    Ok(Err(failure)) if c.compiled.is_ok() => {
                        c.refused = Some(failure.versions.clone());
                    }
                    Ok(compiled) => {
                        c.compiled = compiled;
                        c.refused = None;
                    }
                    // The store did not answer: the next request tries again.
                    Err(_) => {
                        c.checked = Instant::now()
                            .checked_sub(VERSION_CHECK)
                            .unwrap_or(c.checked)
                    }
                }
            }
        });
        answer(&current)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessBody<'a> {
    #[serde(borrow)]
    declarations: Vec<DeclarationJson<'a>>,
}

/// `POST /api/v1/risk/assess`. The body is read, checked and assessed on a blocking thread: a
/// batch of thousands of declarations is CPU work that must not hold an async worker.
pub(crate) async fn assess(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (_, principal) = caller(&state, &headers).await?;
    let country = administration(principal)?;
    let body = body_bytes(body, MAX_ASSESS_BODY_BYTES)?;
    let config = state.risk.get(&state.store, &country).await?;
    let answer = tokio::task::spawn_blocking(move || {
        // One check of the whole body, instead of one per string as the JSON reader would do
        // it on bytes.
        let text = std::str::from_utf8(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "request body: not UTF-8 at byte {} (expected JSON text)",
                e.valid_up_to()
            ))
        })?;
        let b: AssessBody = serde_json::from_str(text).map_err(|e| {
            ApiError::bad_request(format!(
                "request body: {e} (expected {{\"declarations\": [...]}})"
            ))
        })?;
        if b.declarations.is_empty() || b.declarations.len() > MAX_BATCH {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_batch",
                format!(
                    "declarations: found {}, expected 1 to {MAX_BATCH}",
                    b.declarations.len()
                ),
            ));
        }
        let (set, index, problems) = declarations_from_json(b.declarations, &config.attributes);
        let threads = if set.declarations.len() >= 1000 { 2 } else { 1 };
        let assessments: Vec<Indexed> = config
            .assess(set, threads)
            .into_iter()
            .zip(index)
            .map(|(assessment, index)| Indexed { index, assessment })
            .collect();
        let problems = problems
            .into_iter()
            .map(|p| Problem {
                index: p.index,
                field: p.field,
                found: p.found,
                expected: p.expected,
            })
            .collect();
        // An assessment with its five reasons is about 500 bytes of JSON: room for it up front
        // instead of the answer being copied as it grows.
        let mut out = Vec::with_capacity(1024 + assessments.len() * 640);
        serde_json::to_writer(
            &mut out,
            &Answer {
                country: &country,
                versions: &config.versions,
                assessments,
                problems,
            },
        )
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
        Ok(out)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??;
    Ok(([(header::CONTENT_TYPE, "application/json")], answer).into_response())
}

#[derive(Serialize)]
struct Answer<'a> {
    country: &'a str,
    versions: &'a BTreeMap<String, i64>,
    assessments: Vec<Indexed>,
    problems: Vec<Problem>,
}

#[derive(Serialize)]
struct Indexed {
    index: usize,
    assessment: LiveAssessment,
}

#[derive(Serialize)]
struct Problem {
    index: usize,
    field: String,
    found: String,
    expected: String,
}

/// The caller's administration, or 403 for the coordinator.
pub(crate) fn administration(principal: Principal) -> Result<String, ApiError> {
    match principal {
        Principal::Administration { country } => Ok(country),
        Principal::Coordinator => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "risk configurations belong to administrations; the coordinator has none",
        )),
    }
}

/// `PUT /api/v1/risk/files/{name}`: publishes a new version of one file of the caller's
/// configuration, checked with the others in force.
pub(crate) async fn put_file(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (actor, principal) = caller(&state, &headers).await?;
    let country = administration(principal)?;
    check_file_name(&name).map_err(ApiError::bad_request)?;
    let body = body_bytes(body, MAX_FILE_BYTES)?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request(format!("{name}: expected UTF-8 text")))?;
    let file = ConfigurationFile {
        name: name.clone(),
        version: 0,
        body: text,
    };
    match publish_checked(&state.store, &actor, &country, &[file]).await {
        Ok(published) => {
            let version = published.first().map_or(0, |(_, v)| *v);
            Ok((
                StatusCode::CREATED,
                axum::Json(
                    serde_json::json!({"country": country, "name": name, "version": version}),
                ),
            )
                .into_response())
        }
        Err(PublishError::Invalid { source, .. }) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_configuration",
            source.to_string(),
        )),
        Err(PublishError::Store(e)) => Err(e.into()),
    }
}

/// `GET /api/v1/risk/files`: the files of the caller's configuration in force, with versions.
pub(crate) async fn list_files(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, principal) = caller(&state, &headers).await?;
    let country = administration(principal)?;
    let versions: BTreeMap<String, i64> = risk_files::versions(&state.store, &country)
        .await?
        .into_iter()
        .collect();
    Ok(axum::Json(serde_json::json!({"country": country, "versions": versions})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server started under load: the requests that arrive together before any configuration
    /// is in memory share one compilation (each used to compile its own copy).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn requests_arriving_together_share_the_first_compilation() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("risk.db").display());
        let store = Store::open(&url).await.unwrap();
        let profiles = "profile \"KZ-XX\" { when origin = \"XX\" then yellow }\n";
        risk_files::publish(&store, "analyst", "KZ", &[("profiles.risk", profiles)])
            .await
            .unwrap();
        let configurations = Arc::new(Configurations::default());
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let requests: Vec<_> = (0..16)
            .map(|_| {
                let (c, s, b) = (configurations.clone(), store.clone(), barrier.clone());
                tokio::spawn(async move {
                    b.wait().await;
                    c.get(&s, "KZ")
                        .await
                        .unwrap_or_else(|_| panic!("no configuration"))
                })
            })
            .collect();
        let mut compiled = Vec::new();
        for r in requests {
            compiled.push(r.await.unwrap());
        }
        assert_eq!(compiled[0].versions["profiles.risk"], 1);
        let distinct: std::collections::BTreeSet<*const RiskConfiguration> =
            compiled.iter().map(Arc::as_ptr).collect();
        assert_eq!(distinct.len(), 1, "compilations");
        assert!(configurations.first.lock().unwrap().is_empty());
    }
}
