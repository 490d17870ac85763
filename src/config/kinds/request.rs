//! What a check sends besides its target, shared by the kinds that speak a
//! request protocol (http, grpc): header (or gRPC metadata) values written in
//! the file or read as secrets from the environment or a file, and a TLS
//! client identity.

use std::path::PathBuf;

use crate::config::fields::Table;
use crate::secret::{Redactor, Secret};

/// Where a header value comes from.
#[derive(Debug, Clone)]
pub enum HeaderValueSource {
    /// Written in the configuration (not secret).
    Plain(String),
    /// From an environment variable or file: redacted everywhere.
    Secret(Secret),
}

impl PartialEq for HeaderValueSource {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Plain(a), Self::Plain(b)) => a == b,
            (Self::Secret(a), Self::Secret(b)) => a.expose() == b.expose(),
            _ => false,
        }
    }
}

impl HeaderValueSource {
    /// The value to send.
    pub fn expose(&self) -> &str {
        match self {
            HeaderValueSource::Plain(v) => v,
            HeaderValueSource::Secret(s) => s.expose(),
        }
    }

    /// Whether the value is a secret (sent marked sensitive: never indexed by
    /// HPACK, never shown).
    pub fn is_secret(&self) -> bool {
        matches!(self, HeaderValueSource::Secret(_))
    }
}

/// The tables `{stem}`, `{stem}_env` and `{stem}_file` (name -> value,
/// variable or path), values from the last two added to `redactor`. Every
/// name must pass `valid`; `None` when one does not (each named in `t`).
pub(super) fn headers(
    t: &Table,
    stem: &str,
    redactor: &mut Redactor,
    valid: impl Fn(&str) -> bool,
) -> Option<Vec<(String, HeaderValueSource)>> {
    let mut out: Vec<(String, HeaderValueSource)> = t
        .string_map(stem)
        .into_iter()
        .map(|(k, v)| (k, HeaderValueSource::Plain(v)))
        .collect();
    for (suffix, read) in [
        ("env", Secret::from_env as fn(&str) -> Result<Secret, String>),
        ("file", Secret::from_file),
    ] {
        for (k, source) in t.string_map(&format!("{stem}_{suffix}")) {
            match read(&source) {
                Ok(s) => {
                    redactor.add(&s);
                    out.push((k, HeaderValueSource::Secret(s)));
                }
                Err(e) => t.problem(&format!("{stem}_{suffix}.{k}"), &e),
            }
        }
    }
    let mut ok = true;
    for (k, _) in &out {
        if !valid(k) {
            t.problem(stem, &format!("invalid {} name \"{k}\"", stem.trim_end_matches('s')));
            ok = false;
        }
    }
    ok.then_some(out)
}

/// `client_cert_file` and `client_key_file`, which go together, each readable.
pub(super) fn client_cert(t: &Table) -> Option<(PathBuf, PathBuf)> {
    match (t.str("client_cert_file"), t.str("client_key_file")) {
        (Some(c), Some(k)) => {
            for (key, path) in [("client_cert_file", &c), ("client_key_file", &k)] {
                if let Err(e) = std::fs::metadata(path) {
                    t.problem(key, &format!("cannot read \"{path}\": {e}"));
                }
            }
            Some((PathBuf::from(c), PathBuf::from(k)))
        }
        (None, None) => None,
        _ => {
            t.problem("client_cert_file", "client_cert_file and client_key_file go together");
            None
        }
    }
}
