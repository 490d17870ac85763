//! What the database kinds (`postgres`, `mysql`, `redis`) share: a `url`
//! without a password in it (passwords come from `password_env` or
//! `password_file`), a TLS mode, a CA file, an expected role.

use std::path::PathBuf;

use reqwest::Url;

use crate::config::fields::Table;
use crate::secret::{Redactor, Secret};

/// Where and as whom to connect.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User, if any.
    pub user: Option<String>,
    /// Database (PostgreSQL/MySQL name, Redis index as text).
    pub database: Option<String>,
    /// Password from env or file.
    pub password: Option<SecretEq>,
}

impl Endpoint {
    /// `host:port as user[, password set]`, for `check-config`.
    pub fn summary(&self) -> String {
        let user = self.user.as_deref().unwrap_or("-");
        let auth = if self.password.is_some() { ", password set" } else { "" };
        format!("{} as {user}{auth}", self.label())
    }

    /// `host:port`, for reasons.
    pub fn label(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A secret compared by value (so reloads can tell whether a check changed).
#[derive(Debug, Clone)]
pub struct SecretEq(pub Secret);

impl PartialEq for SecretEq {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose() == other.0.expose()
    }
}

/// Transport security for database connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, else plain (PostgreSQL only).
    Prefer,
    /// TLS, verifying the server certificate against `ca_file` or the public roots.
    Require,
}

/// Which side of a replication pair the server must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes.
    Primary,
    /// Follows a primary.
    Replica,
}

pub(super) fn parse_endpoint(
    t: &Table,
    schemes: &[&str],
    default_port: u16,
    redactor: &mut Redactor,
) -> Option<(Endpoint, String)> {
    let text = t.required_str("url")?;
    let url = match Url::parse(&text) {
        Ok(u) => u,
        Err(e) => {
            t.problem("url", &format!("invalid URL \"{text}\": {e}"));
            return None;
        }
    };
    if !schemes.contains(&url.scheme()) {
        t.problem(
            "url",
            &format!(
                "unsupported scheme \"{}\" (expected {})",
                url.scheme(),
                schemes.join(" or ")
            ),
        );
        return None;
    }
    if url.password().is_some() {
        t.problem(
            "url",
            "a password in the URL is not accepted; use password_env or password_file",
        );
        return None;
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        t.problem("url", &format!("no host in \"{text}\""));
        return None;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let user = Some(url.username().to_string()).filter(|u| !u.is_empty());
    let database = Some(url.path().trim_start_matches('/').to_string()).filter(|d| !d.is_empty());
    let password = t.secret("password");
    if let Some(p) = &password {
        redactor.add(p);
    }
    let endpoint = Endpoint {
        host,
        port: url.port().unwrap_or(default_port),
        user,
        database,
        password: password.map(SecretEq),
    };
    Some((endpoint, url.scheme().to_string()))
}

pub(super) fn tls_mode(t: &Table, allowed: &[TlsMode]) -> TlsMode {
    let mode = match t.str("tls").as_deref() {
        None | Some("disable") => TlsMode::Disable,
        Some("prefer") => TlsMode::Prefer,
        Some("require") => TlsMode::Require,
        Some(other) => {
            t.problem(
                "tls",
                &format!("invalid tls mode \"{other}\" (expected disable, prefer or require)"),
            );
            return TlsMode::Disable;
        }
    };
    if !allowed.contains(&mode) {
        t.problem("tls", &format!("{mode:?} is not supported for this kind"));
    }
    mode
}

pub(super) fn ca_file(t: &Table) -> Option<PathBuf> {
    let p = t.str("ca_file").map(PathBuf::from)?;
    if let Err(e) = std::fs::metadata(&p) {
        t.problem("ca_file", &format!("cannot read \"{}\": {e}", p.display()));
    }
    Some(p)
}

pub(super) fn role(t: &Table, primary_key: &str, replica_key: &str) -> Option<Role> {
    match (t.bool(primary_key), t.bool(replica_key)) {
        (Some(true), Some(true)) => {
            t.problem(
                replica_key,
                &format!("{primary_key} and {replica_key} cannot both be true"),
            );
            None
        }
        (Some(true), _) => Some(Role::Primary),
        (_, Some(true)) => Some(Role::Replica),
        _ => None,
    }
}
