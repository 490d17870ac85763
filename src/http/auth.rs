//! `[server.auth]`: basic authentication (the users of an exporter-toolkit
//! web configuration file, bcrypt hashes) and a bearer token, for
//! `/metrics`, `/status`, `/history` and `/admin` (and the probe routes with
//! `probes = true`). An authenticated request also sees details where
//! `show_details = "authorized"`.
//!
//! A bcrypt verification costs tens of milliseconds by design, so it runs on
//! the blocking pool (never on the probe thread's one worker), and results
//! are kept by a digest of the user and password, as exporter-toolkit does:
//! a scrape every 15 s costs one bcrypt per restart, not one per scrape. An
//! unknown user is verified against a dummy hash of the same cost, so its
//! answer takes as long as a wrong password (no user enumeration by timing).
//! Failures get 401 with `WWW-Authenticate`, and a log line (at most one per
//! 10 s, with the count) that names the route, never the credentials.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::config::AuthConfig;
use crate::secret::Secret;

/// Why `[server.auth]` could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("server.auth.basic_users_file \"{path}\": {why}")]
pub struct AuthError {
    path: String,
    why: String,
}

/// Marks a request whose credentials were accepted.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated;

/// Results kept at most; past it the cache starts over (a flood of wrong
/// passwords cannot grow it).
const CACHE: usize = 1024;

/// The users, the token and the verification cache.
pub struct Auth {
    users: HashMap<String, String>,
    token: Option<Secret>,
    /// Whether the probe routes need credentials too.
    pub probes: bool,
    dummy: String,
    cache: Mutex<HashMap<[u8; 32], bool>>,
    failures: AtomicU64,
    last_log: AtomicU64,
}

/// Reads `basic_auth_users` from an exporter-toolkit web configuration.
fn read_users(path: &Path) -> Result<HashMap<String, String>, AuthError> {
    let err = |why: String| AuthError {
        path: path.display().to_string(),
        why,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).map_err(|e| err(format!("not YAML ({e})")))?;
    let Some(map) = docs.first().and_then(|d| d["basic_auth_users"].as_hash()) else {
        return Err(err(
            "no basic_auth_users in it (expected `basic_auth_users:` with name: bcrypt-hash lines)".into(),
        ));
    };
    let mut users = HashMap::new();
    for (name, hash) in map {
        let (Some(name), Some(hash)) = (name.as_str(), hash.as_str()) else {
            return Err(err("basic_auth_users must map names to bcrypt hashes (strings)".into()));
        };
        if !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) || hash.len() != 60 {
            return Err(err(format!("the hash of user \"{name}\" is not a bcrypt hash ($2y$..., 60 characters; make one with htpasswd -nBC 10 \"\" | tr -d ':\\n')")));
        }
        users.insert(name.to_string(), hash.to_string());
    }
    Ok(users)
}

impl Auth {
    /// Reads the users file (blocking: once, at start).
    pub fn new(cfg: &AuthConfig) -> Result<Arc<Auth>, AuthError> {
        let users = match &cfg.basic_users_file {
            Some(path) => read_users(path)?,
            None => HashMap::new(),
        };
        // The dummy has the cost of the real hashes, so it takes as long.
        let cost = users
            .values()
            .next()
            .and_then(|h| h.get(4..6)?.parse::<u32>().ok())
            .unwrap_or(bcrypt::DEFAULT_COST);
        let dummy = bcrypt::hash("healthgate: no such user", cost).map_err(|e| AuthError {
            path: cfg
                .basic_users_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            why: e.to_string(),
        })?;
        Ok(Arc::new(Auth {
            users,
            token: cfg.bearer_token.clone(),
            probes: cfg.probes,
            dummy,
            cache: Mutex::new(HashMap::new()),
            failures: AtomicU64::new(0),
            last_log: AtomicU64::new(0),
        }))
    }

    /// Whether the request's credentials are accepted.
    pub async fn verify(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes) else {
            return false;
        };
        if let Some(token) = value.strip_prefix(b"Bearer ") {
            return self.token.as_ref().is_some_and(|t| t.matches(token));
        }
        let Some(encoded) = value.strip_prefix(b"Basic ") else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        // The user's length first: no two (user, password) pairs hash alike.
        let mut digest = Sha256::new();
        digest.update((user.len() as u64).to_le_bytes());
        digest.update(user);
        digest.update(password);
        let key: [u8; 32] = digest.finalize().into();
        if let Some(&ok) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return ok;
        }
        let user = String::from_utf8_lossy(user).into_owned();
        let known = self.users.get(&user);
        let hash = known.unwrap_or(&self.dummy).clone();
        let password = password.to_vec();
        let matched = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await
            .unwrap_or(false);
        let ok = matched && known.is_some();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE {
            cache.clear();
        }
        cache.insert(key, ok);
        ok
    }

    fn note_failure(&self, route: &str) {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let now = crate::history::unix_ms(std::time::SystemTime::now()) / 1000;
        let last = self.last_log.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .last_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                route,
                failures_so_far = n,
                "request refused: missing or wrong credentials (answered 401)"
            );
        }
    }

    fn challenge(&self) -> Response {
        let mut resp = super::json_error(StatusCode::UNAUTHORIZED, "authentication required ([server.auth])");
        let h = resp.headers_mut();
        if !self.users.is_empty() {
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"healthgate\", charset=\"UTF-8\""),
            );
        }
        if self.token.is_some() {
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"healthgate\""),
            );
        }
        resp
    }
}

/// The middleware of the protected routes: 401 without accepted credentials.
pub(super) async fn require(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    if auth.verify(req.headers()).await {
        req.extensions_mut().insert(Authenticated);
        return next.run(req).await;
    }
    auth.note_failure(req.uri().path());
    auth.challenge()
}

/// The middleware of the open routes: credentials, when sent and accepted,
/// unlock details (`show_details = "authorized"`); nothing is refused.
pub(super) async fn mark(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    if req.headers().contains_key(header::AUTHORIZATION) && auth.verify(req.headers()).await {
        req.extensions_mut().insert(Authenticated);
    }
    next.run(req).await
}
