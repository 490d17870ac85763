//! The `[server]` section: listener, shutdown grace, details policy, status codes.

use std::net::SocketAddr;
use std::time::Duration;

use super::fields::{Problems, Table};
use super::parse_listen;
use crate::secret::{Redactor, Secret};

/// Who may see check reasons and observed values in health bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowDetails {
    /// Everyone (trusted networks, the demo).
    Always,
    /// Nobody: names and statuses only. The default, because reasons can name
    /// internal hosts and error texts.
    Never,
    /// Requests with `Authorization: Bearer <details token>`.
    Authorized,
}

/// HTTP status codes answered for each aggregate status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCodes {
    /// For `pass` (default 200).
    pub pass: u16,
    /// For `warn` (default 200: degraded but serviceable).
    pub warn: u16,
    /// For `fail` (default 503).
    pub fail: u16,
}

/// The validated `[server]` section.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address of the HTTP listener.
    pub listen: SocketAddr,
    /// How long requests keep being served (with readiness failing) after SIGTERM.
    pub shutdown_grace: Duration,
    /// Details policy.
    pub show_details: ShowDetails,
    /// Token that unlocks details under [`ShowDetails::Authorized`].
    pub details_token: Option<Secret>,
    /// Status-to-HTTP-code mapping.
    pub status_codes: StatusCodes,
    /// How many check rounds may be in flight at once across all checks.
    pub max_concurrent_checks: usize,
}

pub(super) fn parse(t: Option<&Table>, problems: &Problems, redactor: &mut Redactor) -> Option<ServerConfig> {
    let mut s = ServerConfig {
        listen: SocketAddr::from(([0, 0, 0, 0], 9898)),
        shutdown_grace: Duration::from_secs(5),
        show_details: ShowDetails::Never,
        details_token: None,
        status_codes: StatusCodes {
            pass: 200,
            warn: 200,
            fail: 503,
        },
        max_concurrent_checks: 64,
    };
    let Some(t) = t else { return Some(s) };
    let before = problems.len();
    if let Some(text) = t.str("listen") {
        match parse_listen(&text) {
            Ok(a) => s.listen = a,
            Err(e) => t.problem("listen", &e),
        }
    }
    if let Some(d) = t.duration("shutdown_grace") {
        s.shutdown_grace = d;
    }
    if let Some(word) = t.str("show_details") {
        match word.as_str() {
            "always" => s.show_details = ShowDetails::Always,
            "never" => s.show_details = ShowDetails::Never,
            "authorized" => s.show_details = ShowDetails::Authorized,
            other => t.problem(
                "show_details",
                &format!("invalid value \"{other}\" (expected always, never or authorized)"),
            ),
        }
    }
    s.details_token = t.secret("details_token");
    if let Some(tok) = &s.details_token {
        redactor.add(tok);
    }
    if s.show_details == ShowDetails::Authorized
        && s.details_token.is_none()
        && !t.has("details_token_env")
        && !t.has("details_token_file")
    {
        t.problem(
            "show_details",
            "\"authorized\" needs details_token_env or details_token_file",
        );
    }
    if let Some(n) = t.u64("max_concurrent_checks") {
        if n == 0 || n > 100_000 {
            t.problem("max_concurrent_checks", "must be between 1 and 100000");
        } else {
            s.max_concurrent_checks = n as usize;
        }
    }
    if let Some(codes) = t.table("status_codes") {
        for (key, slot) in [
            ("pass", &mut s.status_codes.pass),
            ("warn", &mut s.status_codes.warn),
            ("fail", &mut s.status_codes.fail),
        ] {
            if let Some(n) = codes.u64(key) {
                if (200..=599).contains(&n) {
                    *slot = n as u16;
                } else {
                    codes.problem(key, &format!("HTTP status must be between 200 and 599, found {n}"));
                }
            }
        }
        codes.finish();
    }
    t.finish();
    (problems.len() == before).then_some(s)
}
