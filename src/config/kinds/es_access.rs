//! How any Elasticsearch setting reaches a cluster: its nodes, credentials and
//! extra CA, shared by every mode and by the failback gate's secondary
//! (`peer_*` keys).

use std::path::PathBuf;

use reqwest::Url;

use super::parse_url;
use crate::config::fields::Table;
use crate::secret::{Redactor, Secret};

/// How the Elasticsearch check authenticates.
#[derive(Debug, Clone)]
pub enum EsAuth {
    /// No credentials.
    None,
    /// HTTP basic.
    Basic {
        /// User name (not secret).
        username: String,
        /// Password from env or file.
        password: Secret,
    },
    /// `Authorization: ApiKey <key>`.
    ApiKey(Secret),
}

impl PartialEq for EsAuth {
    // Compared by the values that reach the wire, so a reload can tell whether a
    // check changed.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EsAuth::None, EsAuth::None) => true,
            (
                EsAuth::Basic {
                    username: a,
                    password: p,
                },
                EsAuth::Basic {
                    username: b,
                    password: q,
                },
            ) => a == b && p.expose() == q.expose(),
            (EsAuth::ApiKey(a), EsAuth::ApiKey(b)) => a.expose() == b.expose(),
            _ => false,
        }
    }
}

/// A list of node URLs under `key` (a string is a list of one).
pub(super) fn url_list(t: &Table, key: &str, ok: &mut bool) -> Vec<Url> {
    let mut urls = Vec::new();
    match t.get(key) {
        Some(serde_json::Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let k = format!("{key}[{i}]");
                match item.as_str().map(|s| parse_url(t, &k, s)) {
                    Some(Some(u)) => urls.push(u),
                    Some(None) => *ok = false,
                    None => {
                        t.problem(&k, "expected a URL string");
                        *ok = false;
                    }
                }
            }
        }
        Some(serde_json::Value::String(s)) => match parse_url(t, key, s) {
            Some(u) => urls.push(u),
            None => *ok = false,
        },
        Some(_) => {
            t.problem(key, "expected a non-empty list of node URLs");
            *ok = false;
        }
        None => {
            t.problem(
                key,
                "missing required key (a list of node URLs, e.g. [\"http://127.0.0.1:9200\"])",
            );
            *ok = false;
        }
    }
    urls
}

/// Credentials from `{prefix}username` + `{prefix}password_env|_file`, or
/// `{prefix}api_key_env|_file`.
pub(super) fn auth(t: &Table, prefix: &str, redactor: &mut Redactor, ok: &mut bool) -> EsAuth {
    let key = |k: &str| format!("{prefix}{k}");
    let username = t.str(&key("username"));
    let password = t.secret(&key("password"));
    let api_key = t.secret(&key("api_key"));
    let mut refuse = |k: &str, why: &str| {
        t.problem(&key(k), why);
        *ok = false;
        EsAuth::None
    };
    match (username, password, api_key) {
        (Some(_), _, Some(_)) => refuse("api_key_env", "give either username/password or an API key, not both"),
        (Some(username), Some(password), None) => {
            redactor.add(&password);
            EsAuth::Basic { username, password }
        }
        (Some(_), None, None) => {
            if !t.has(&key("password_env")) && !t.has(&key("password_file")) {
                t.problem(
                    &key("username"),
                    &format!("needs {prefix}password_env or {prefix}password_file"),
                );
            }
            *ok = false;
            EsAuth::None
        }
        (None, Some(_), _) => refuse("password_env", "a password needs a username"),
        (None, None, Some(api_key)) => {
            redactor.add(&api_key);
            EsAuth::ApiKey(api_key)
        }
        (None, None, None) => EsAuth::None,
    }
}

/// An extra CA file that must be readable now.
pub(super) fn ca_file(t: &Table, key: &str, ok: &mut bool) -> Option<PathBuf> {
    let p = t.str(key).map(PathBuf::from)?;
    if let Err(e) = std::fs::metadata(&p) {
        t.problem(key, &format!("cannot read \"{}\": {e}", p.display()));
        *ok = false;
    }
    Some(p)
}
