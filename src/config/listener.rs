//! `[server.tls]` and `[server.auth]`: TLS on the HTTP listener and who may
//! read what. Only paths and words are checked here; the files are read
//! (and the certificate's dates and key checked) when the listener is built,
//! and again when they change.

use std::path::PathBuf;

use super::fields::Table;

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
