//! One rustls client configuration builder for the database and gRPC checks:
//! the public roots plus an optional CA file and client identity, with the
//! ring provider chosen explicitly (so the process never depends on which
//! provider another crate enabled).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, SignatureScheme};

/// A client configuration trusting the public roots and `ca_file`.
pub(super) fn client_config(ca_file: Option<&Path>) -> Result<ClientConfig, String> {
    client_config_with(ca_file, None)
}

/// Like [`client_config`], presenting the certificate chain and key in
/// `identity` (PEM files) when the server asks for one.
pub(super) fn client_config_with(
    ca_file: Option<&Path>,
    identity: Option<(&Path, &Path)>,
) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("ca_file \"{}\": {e}", path.display()))?;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("ca_file \"{}\": {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("ca_file \"{}\": {e}", path.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("ca_file \"{}\": no PEM certificate found", path.display()));
        }
    }
    let builder = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots);
    let Some((cert_file, key_file)) = identity else {
        return Ok(builder.with_no_client_auth());
    };
    let chain = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("client_cert_file \"{}\": {e}", cert_file.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "client_cert_file \"{}\": no PEM certificate found",
            cert_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("client_key_file \"{}\": {e}", key_file.display()))?;
    builder
        .with_client_auth_cert(chain, key)
        .map_err(|e| format!("client_cert_file/client_key_file: {e}"))
}

/// Makes `config` note when a server asks for a client certificate (TLS 1.3
/// servers refuse a missing one only after the handshake, as a closed
/// connection: the note is what lets the reason say why). The flag is set
/// on every handshake that sees a request; the caller clears it.
pub(super) fn note_certificate_requests(config: &mut ClientConfig) -> Arc<AtomicBool> {
    let asked = Arc::new(AtomicBool::new(false));
    config.client_auth_cert_resolver = Arc::new(Noting {
        inner: config.client_auth_cert_resolver.clone(),
        asked: asked.clone(),
    });
    asked
}

#[derive(Debug)]
struct Noting {
    inner: Arc<dyn ResolvesClientCert>,
    asked: Arc<AtomicBool>,
}

impl ResolvesClientCert for Noting {
    fn resolve(&self, hints: &[&[u8]], schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.inner.resolve(hints, schemes)
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}
