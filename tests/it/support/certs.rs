//! Certificates made with rcgen for the TLS tests: a CA and the leaves it
//! signs (for 127.0.0.1 and localhost), valid or expired.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};

use super::process::tmpdir;

/// A CA made with rcgen, and leaves it signs.
pub struct Ca {
    dir: tempfile::TempDir,
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name
            .push(DnType::CommonName, format!("healthgate test {name}"));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = p.self_signed(&key).unwrap();
        let dir = tmpdir();
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).unwrap();
        Ca { dir, cert, key }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A leaf for 127.0.0.1 and localhost, written as `{name}.pem` and
    /// `{name}.key`; returns its DER.
    pub fn leaf(&self, name: &str, expired: bool) -> Vec<u8> {
        let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        p.subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        p.distinguished_name.push(DnType::CommonName, name);
        if expired {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        std::fs::write(self.dir.path().join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.dir.path().join(format!("{name}.key")), key.serialize_pem()).unwrap();
        cert.der().to_vec()
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
}

/// A `[server.tls]` section with the leaf `name` of `ca`.
pub fn tls_section(ca: &Ca, name: &str, extra: &str) -> String {
    format!(
        "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n{extra}\n",
        ca.path(&format!("{name}.pem")).display(),
        ca.path(&format!("{name}.key")).display()
    )
}
