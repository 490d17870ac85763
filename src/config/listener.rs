//! `[server.tls]` and `[server.auth]`: TLS on the HTTP listener and who may
//! read what. Only paths and words are checked here; the files are read
//! (and the certificate's dates and key checked) when the listener is built,
//! and again when they change.

use std::path::PathBuf;

use super::fields::Table;
use crate::secret::{Redactor, Secret};

/// Whether clients must show a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Asked for and verified when given; clients without one are served.
    Request,
    /// Required: a client without a certificate from `client_ca_file` is refused.
    Require,
}

/// The validated `[server.tls]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The certificate chain (PEM, leaf first).
    pub cert_file: PathBuf,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1; RSA or ECDSA).
    pub key_file: PathBuf,
    /// CAs whose client certificates are accepted.
    pub client_ca_file: Option<PathBuf>,
    /// With `client_ca_file`: request or require a client certificate.
    pub client_auth: ClientAuth,
}

impl TlsConfig {
    /// The keys of `[server.tls]`.
    pub const KEYS: &'static [&'static str] = &["cert_file", "key_file", "client_ca_file", "client_auth"];
}

pub(super) fn parse_tls(t: &Table) -> Option<TlsConfig> {
    t.declare(TlsConfig::KEYS);
    let cert_file = t.required_str("cert_file").map(PathBuf::from);
    let key_file = t.required_str("key_file").map(PathBuf::from);
    let client_ca_file = t.str("client_ca_file").map(PathBuf::from);
    let client_auth = match t.str("client_auth").as_deref() {
        None | Some("require") => ClientAuth::Require,
        Some("request") => ClientAuth::Request,
        Some(other) => {
            t.problem(
                "client_auth",
                &format!("invalid value \"{other}\" (expected request or require)"),
            );
            ClientAuth::Require
        }
    };
    if t.has("client_auth") && client_ca_file.is_none() {
        t.problem(
            "client_auth",
            "needs client_ca_file: the CAs whose client certificates are accepted",
        );
    }
    t.finish();
    Some(TlsConfig {
        cert_file: cert_file?,
        key_file: key_file?,
        client_ca_file,
        client_auth,
    })
}

/// The validated `[server.auth]` section.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// An exporter-toolkit web configuration file: its `basic_auth_users`
    /// (name: bcrypt hash) are the users.
    pub basic_users_file: Option<PathBuf>,
    /// A bearer token accepted instead of a user.
    pub bearer_token: Option<Secret>,
    /// Whether the probe routes need it too.
    pub probes: bool,
}

impl PartialEq for AuthConfig {
    fn eq(&self, other: &Self) -> bool {
        self.basic_users_file == other.basic_users_file
            && self.probes == other.probes
            && self.bearer_token.as_ref().map(Secret::expose) == other.bearer_token.as_ref().map(Secret::expose)
    }
}

impl AuthConfig {
    /// The keys of `[server.auth]`.
    pub const KEYS: &'static [&'static str] = &[
        "basic_users_file",
        "bearer_token",
        "bearer_token_env",
        "bearer_token_file",
        "probes",
    ];
}

pub(super) fn parse_auth(t: &Table, redactor: &mut Redactor) -> Option<AuthConfig> {
    t.declare(AuthConfig::KEYS);
    let basic_users_file = t.str("basic_users_file").map(PathBuf::from);
    let bearer_token = t.secret("bearer_token");
    if let Some(tok) = &bearer_token {
        redactor.add(tok);
        if tok.expose().len() < 16 {
            t.problem("bearer_token_env", "the bearer token must be at least 16 characters");
        }
    }
    let probes = t.bool("probes").unwrap_or(false);
    if basic_users_file.is_none() && bearer_token.is_none() && !t.has("bearer_token_env") && !t.has("bearer_token_file")
    {
        t.problem(
            "basic_users_file",
            "[server.auth] needs basic_users_file (an exporter-toolkit web config with basic_auth_users) or bearer_token_env / bearer_token_file",
        );
    }
    t.finish();
    Some(AuthConfig {
        basic_users_file,
        bearer_token,
        probes,
    })
}
