//! `kind = "grpc"`: a server's `grpc.health.v1.Health/Check` answers SERVING
//! for a service.

use std::path::PathBuf;

use super::database::ca_file;
use super::request::{client_cert, headers, HeaderValueSource};
use super::{parse_address, KindConfig};
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "grpc"`.
#[derive(Debug, Clone, PartialEq)]
pub struct GrpcConfig {
    /// `host:port` to connect to.
    pub address: String,
    /// The service asked about; `""` (the default) is the server as a whole.
    pub service: String,
    /// Speak TLS (HTTP/2 over TLS with ALPN `h2`) instead of plain HTTP/2.
    pub tls: bool,
    /// CA certificate to verify the server with (default: the public roots).
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// The `:authority` sent, and the name the server certificate must be
    /// valid for (default: the address).
    pub authority: Option<String>,
    /// Request metadata; values from `metadata_env`/`metadata_file` are secrets.
    pub metadata: Vec<(String, HeaderValueSource)>,
}

impl GrpcConfig {
    /// The host the certificate must name: the authority's, else the address's.
    pub fn server_name(&self) -> &str {
        let hostport = self.authority.as_deref().unwrap_or(&self.address);
        let host = match hostport.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => h,
            _ => hostport,
        };
        host.trim_start_matches('[').trim_end_matches(']')
    }
}

impl KindConfig for GrpcConfig {
    const KEYS: &'static [&'static str] = &[
        "address",
        "service",
        "tls",
        "ca_file",
        "client_cert_file",
        "client_key_file",
        "authority",
        "metadata",
        "metadata_env",
        "metadata_file",
    ];

    fn parse(t: &Table, redactor: &mut Redactor) -> Option<Self> {
        let address = t.required_str("address").filter(|a| {
            if a.contains("://") {
                t.problem(
                    "address",
                    &format!("invalid address \"{a}\" (expected host:port without a scheme; for TLS set tls = true)"),
                );
                return false;
            }
            parse_address(t, "address", a)
        });
        let service = t.str("service").unwrap_or_default();
        let tls = t.bool("tls").unwrap_or(false);
        let ca_file = ca_file(t);
        let client_cert = client_cert(t);
        let mut ok = true;
        for (key, set) in [
            ("ca_file", ca_file.is_some()),
            ("client_cert_file", client_cert.is_some()),
        ] {
            if set && !tls {
                t.problem(key, "only used with tls = true");
                ok = false;
            }
        }
        let authority = t.str("authority").filter(|a| {
            let valid = !a.is_empty() && !a.contains('@') && a.parse::<http::uri::Authority>().is_ok();
            if !valid {
                t.problem(
                    "authority",
                    &format!("invalid authority \"{a}\" (expected a host name, optionally with :port)"),
                );
                ok = false;
            }
            valid
        });
        let metadata = headers(t, "metadata", redactor, |k| {
            // Binary (`-bin`) values and the protocol's own `grpc-` keys are
            // not something a health check sends.
            http::HeaderName::from_bytes(k.as_bytes()).is_ok() && !k.ends_with("-bin") && !k.starts_with("grpc-")
        });
        Some(GrpcConfig {
            address: address?,
            service,
            tls,
            ca_file,
            client_cert,
            authority,
            metadata: metadata?,
        })
        .filter(|_| ok)
    }

    fn summary(&self) -> String {
        let tls = if self.tls { " over TLS" } else { "" };
        format!("{} service \"{}\"{tls}", self.address, self.service)
    }

    fn targets(&self) -> Vec<String> {
        vec![self.address.clone()]
    }
}
