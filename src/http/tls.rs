//! TLS on the HTTP listener (`[server.tls]`): rustls with the ring provider,
//! TLS 1.2 and 1.3 only, optional client certificates.
//!
//! The certificate, key and client CAs are read at start (a missing or
//! unreadable file, a key that does not match the certificate, or a
//! certificate outside its validity dates stops the start with the file and
//! the dates named) and again on SIGHUP and whenever one of the files
//! changes (checked every 2 s). A new set that does not load is reported and
//! the one in use keeps serving; connections already open keep theirs.
//!
//! The handshake runs in the connection's task, bounded by
//! `header_read_timeout` like the request head, so a client that stalls in it
//! holds one connection slot for that long and nothing else.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::config::{ClientAuth, TlsConfig};

/// Why a TLS setup could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("server.tls.{key} \"{path}\": {why}")]
pub struct TlsError {
    key: &'static str,
    path: String,
    why: String,
}

fn err(key: &'static str, path: &Path, why: impl std::fmt::Display) -> TlsError {
    TlsError {
        key,
        path: path.display().to_string(),
        why: why.to_string(),
    }
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| err(key, path, format!("cannot read it: {e}")))
}

fn certs(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(key, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(key, path, format!("not PEM certificates ({e})")))?;
    if certs.is_empty() {
        return Err(err(key, path, "no PEM certificate in it"));
    }
    Ok(certs)
}

/// Refuses a leaf certificate outside its validity dates, naming them.
fn check_dates(path: &Path, leaf: &CertificateDer<'_>, now: SystemTime) -> Result<SystemTime, TlsError> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| err("cert_file", path, format!("the first certificate does not parse ({e})")))?;
    let validity = cert.validity();
    let at = |t: &x509_parser::time::ASN1Time| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t.timestamp()).unwrap_or(0))
    };
    let (from, until) = (at(&validity.not_before), at(&validity.not_after));
    let shown = |t| humantime::format_rfc3339_seconds(t).to_string();
    if now < from {
        return Err(err(
            "cert_file",
            path,
            format!(
                "the certificate is not valid yet: valid from {} until {}",
                shown(from),
                shown(until)
            ),
        ));
    }
    if now > until {
        return Err(err(
            "cert_file",
            path,
            format!(
                "the certificate expired: valid from {} until {}",
                shown(from),
                shown(until)
            ),
        ));
    }
    Ok(until)
}

/// Reads the files of `cfg` into a server configuration; also returns when
/// the certificate expires.
pub fn load(cfg: &TlsConfig) -> Result<(ServerConfig, SystemTime), TlsError> {
    let chain = certs("cert_file", &cfg.cert_file)?;
    let until = check_dates(&cfg.cert_file, &chain[0], SystemTime::now())?;
    let key_pem = read("key_file", &cfg.key_file)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| err("key_file", &cfg.key_file, format!("no PEM private key in it ({e})")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| err("cert_file", &cfg.cert_file, e))?;
    let builder = match &cfg.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certs("client_ca_file", ca)? {
                roots
                    .add(c)
                    .map_err(|e| err("client_ca_file", ca, format!("not a CA certificate ({e})")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = match cfg.client_auth {
                ClientAuth::Require => verifier.build(),
                ClientAuth::Request => verifier.allow_unauthenticated().build(),
            }
            .map_err(|e| err("client_ca_file", ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        let why = match e {
            rustls::Error::InconsistentKeys(_) => "the key does not match the certificate".to_string(),
            other => other.to_string(),
        };
        err("key_file", &cfg.key_file, why)
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, until))
}

/// The TLS setup in use, swapped whole when its files change: one for the
/// HTTP listener (ALPN `http/1.1`) and one for gRPC (ALPN `h2`).
pub struct Tls {
    cfg: TlsConfig,
    current: ArcSwap<ServerConfig>,
    current_h2: ArcSwap<ServerConfig>,
}

fn for_h2(config: &ServerConfig) -> ServerConfig {
    let mut h2 = config.clone();
    h2.alpn_protocols = vec![b"h2".to_vec()];
    h2
}

impl Tls {
    /// Loads `cfg` (failing the start when it does not load).
    pub fn new(cfg: TlsConfig) -> Result<Arc<Tls>, TlsError> {
        let (config, until) = load(&cfg)?;
        tracing::info!(cert = %cfg.cert_file.display(), until = %humantime::format_rfc3339_seconds(until), "TLS on the HTTP listener");
        Ok(Arc::new(Tls {
            cfg,
            current_h2: ArcSwap::from_pointee(for_h2(&config)),
            current: ArcSwap::from_pointee(config),
        }))
    }

    /// The acceptor for a new connection (the setup in use now).
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.current.load_full())
    }

    /// The acceptor for a new gRPC connection.
    pub fn acceptor_h2(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.current_h2.load_full())
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut f = vec![self.cfg.cert_file.clone(), self.cfg.key_file.clone()];
        f.extend(self.cfg.client_ca_file.clone());
        f
    }

    /// Loads the files again; on failure the setup in use stays.
    pub fn reload(&self, why: &str) {
        match load(&self.cfg) {
            Ok((config, until)) => {
                self.current_h2.store(Arc::new(for_h2(&config)));
                self.current.store(Arc::new(config));
                tracing::info!(why, until = %humantime::format_rfc3339_seconds(until), "TLS certificate reloaded");
            }
            Err(e) => tracing::warn!(why, error = %e, "TLS files not reloaded; the certificate in use keeps serving"),
        }
    }

    /// Reloads on SIGHUP and when a file changes (modification time or size,
    /// polled every 2 s); never returns.
    pub async fn watch(self: Arc<Tls>) {
        let stamp = |files: &[PathBuf]| -> Vec<Option<(SystemTime, u64)>> {
            files
                .iter()
                .map(|f| {
                    std::fs::metadata(f)
                        .ok()
                        .and_then(|m| Some((m.modified().ok()?, m.len())))
                })
                .collect()
        };
        let files = self.files();
        let mut seen = stamp(&files);
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            let hangup = async {
                match &mut hup {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = hangup => {
                    seen = stamp(&files);
                    self.reload("SIGHUP");
                }
                _ = tick.tick() => {
                    let now = stamp(&files);
                    if now != seen {
                        seen = now;
                        self.reload("a file changed");
                    }
                }
            }
        }
    }
}
