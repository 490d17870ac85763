//! Secret values (passwords, API keys, tokens) and the redactor that keeps them out
//! of every reason, log line and response.
//!
//! Secrets come only from environment variables or files, never inline in the
//! configuration. [`Secret`] wraps [`secrecy::SecretString`], so `Debug` prints
//! `[REDACTED]` and the value is reachable only through [`Secret::expose`].

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// A secret string that cannot be printed by accident.
#[derive(Clone)]
pub struct Secret(Arc<SecretString>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::new(SecretString::from(value.into())))
    }

    /// Reads the value of an environment variable.
    pub fn from_env(var: &str) -> Result<Self, String> {
        match std::env::var(var) {
            Ok(v) if v.is_empty() => Err(format!("environment variable {var} is empty")),
            Ok(v) => Ok(Secret::new(v)),
            Err(std::env::VarError::NotPresent) => Err(format!("environment variable {var} is not set")),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("environment variable {var} is not valid UTF-8")),
        }
    }

    /// Reads a file and trims one trailing newline (as written by `echo` or editors).
    pub fn from_file(path: &str) -> Result<Self, String> {
        let raw = std::fs::read_to_string(path).map_err(|e| format!("cannot read secret file \"{path}\": {e}"))?;
        let value = raw.strip_suffix('\n').unwrap_or(&raw);
        let value = value.strip_suffix('\r').unwrap_or(value);
        if value.is_empty() {
            return Err(format!("secret file \"{path}\" is empty"));
        }
        Ok(Secret::new(value))
    }

    /// The plain value, for the one place that must send it (an auth header).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Compares with a candidate in constant time (for bearer tokens).
    pub fn matches(&self, candidate: &[u8]) -> bool {
        self.expose().as_bytes().ct_eq(candidate).into()
    }
}

/// Replaces every configured secret value in a text with `[REDACTED]`.
///
/// A last line of defence: reasons are built not to contain secrets, but an upstream
/// error message could echo one back (a misconfigured proxy, a verbose server).
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// Registers a secret to be scrubbed.
    pub fn add(&mut self, secret: &Secret) {
        // Very short values would scrub ordinary words; they are weak secrets anyway.
        if secret.expose().len() >= 4 {
            self.secrets.push(secret.clone());
        }
    }

    /// Returns the text with every known secret replaced.
    pub fn scrub<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.expose()) {
                out = out.replace(s.expose(), "[REDACTED]").into();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_value() {
        let s = Secret::new("hunter2-marker");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn redactor_scrubs_values() {
        let mut r = Redactor::default();
        r.add(&Secret::new("topsecret"));
        assert_eq!(r.scrub("bad password topsecret!"), "bad password [REDACTED]!");
    }

    #[test]
    fn constant_time_match() {
        let s = Secret::new("token-1");
        assert!(s.matches(b"token-1"));
        assert!(!s.matches(b"token-2"));
        assert!(!s.matches(b"token"));
    }
}
