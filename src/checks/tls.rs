//! One rustls client configuration builder for the database checks: the public
//! roots plus an optional CA file, with the ring provider chosen explicitly (so
//! the process never depends on which provider another crate enabled).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// A client configuration trusting the public roots and `ca_file`.
pub(super) fn client_config(ca_file: Option<&Path>) -> Result<ClientConfig, String> {
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
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
