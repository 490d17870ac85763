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

/// The agent-check replies for the healthy states (HAProxy agent protocol words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentReplies {
    /// For `pass` (default `up ready 100%`).
    pub pass: String,
    /// For `warn` (default `up ready 50%`: degraded, so fewer requests).
    pub warn: String,
}

impl Default for AgentReplies {
    fn default() -> Self {
        AgentReplies {
            pass: "up ready 100%".into(),
            warn: "up ready 50%".into(),
        }
    }
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
    /// Where the HAProxy agent-check listener listens (off when absent).
    pub agent_listen: Option<SocketAddr>,
    /// Where the gRPC health service listens (off when absent).
    pub grpc_listen: Option<SocketAddr>,
    /// `Watch` streams open at once, at most.
    pub grpc_max_streams: usize,
    /// Agent replies for pass and warn.
    pub agent_replies: AgentReplies,
    /// Bearer token for `/admin/*`; no token, no admin API.
    pub admin_token: Option<Secret>,
    /// HTTP connections served at once; more are closed at once.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (slowloris protection).
    pub header_read_timeout: Duration,
    /// TLS on the HTTP listener (`[server.tls]`).
    pub tls: Option<super::TlsConfig>,
    /// Who may read `/metrics`, the page, history and admin (`[server.auth]`).
    pub auth: Option<super::AuthConfig>,
}

impl ServerConfig {
    /// The keys of `[server]` (the manual page lists them; parsing, in debug
    /// builds, refuses to read any other).
    pub const KEYS: &'static [&'static str] = &[
        "listen",
        "shutdown_grace",
        "show_details",
        "details_token",
        "details_token_env",
        "details_token_file",
        "max_concurrent_checks",
        "max_connections",
        "header_read_timeout",
        "agent_listen",
        "agent_replies",
        "grpc_listen",
        "grpc_max_streams",
        "admin_token",
        "admin_token_env",
        "admin_token_file",
        "status_codes",
        "tls",
        "auth",
    ];
    /// The keys of `[server.status_codes]`.
    pub const STATUS_CODE_KEYS: &'static [&'static str] = &["pass", "warn", "fail"];
    /// The keys of `[server.agent_replies]`.
    pub const AGENT_REPLY_KEYS: &'static [&'static str] = &["pass", "warn"];
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
        agent_listen: None,
        grpc_listen: None,
        grpc_max_streams: 1000,
        agent_replies: AgentReplies::default(),
        admin_token: None,
        max_connections: 1024,
        header_read_timeout: Duration::from_secs(5),
        tls: None,
        auth: None,
    };
    let Some(t) = t else { return Some(s) };
    t.declare(ServerConfig::KEYS);
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
    if let Some(n) = t.u64("max_concurrent_checks") {
        if n == 0 || n > 100_000 {
            t.problem("max_concurrent_checks", "must be between 1 and 100000");
        } else {
            s.max_concurrent_checks = n as usize;
        }
    }
    if let Some(n) = t.u64("max_connections") {
        if (1..=100_000).contains(&n) {
            s.max_connections = n as usize;
        } else {
            t.problem("max_connections", "must be between 1 and 100000");
        }
    }
    if let Some(d) = t.duration("header_read_timeout") {
        if d.is_zero() {
            t.problem("header_read_timeout", "must be greater than zero");
        } else {
            s.header_read_timeout = d;
        }
    }
    if let Some(text) = t.str("agent_listen") {
        match parse_listen(&text) {
            Ok(a) => s.agent_listen = Some(a),
            Err(e) => t.problem("agent_listen", &e),
        }
    }
    if let Some(text) = t.str("grpc_listen") {
        match parse_listen(&text) {
            Ok(a) => s.grpc_listen = Some(a),
            Err(e) => t.problem("grpc_listen", &e),
        }
    }
    if let Some(n) = t.u64("grpc_max_streams") {
        if (1..=100_000).contains(&n) {
            s.grpc_max_streams = n as usize;
        } else {
            t.problem("grpc_max_streams", "must be between 1 and 100000");
        }
    }
    if let Some(replies) = t.table("agent_replies") {
        replies.declare(ServerConfig::AGENT_REPLY_KEYS);
        for (key, slot) in [("pass", &mut s.agent_replies.pass), ("warn", &mut s.agent_replies.warn)] {
            if let Some(text) = replies.str(key) {
                match check_agent_reply(&text) {
                    Ok(()) => *slot = text,
                    Err(e) => replies.problem(key, &e),
                }
            }
        }
        replies.finish();
    }
    s.admin_token = t.secret("admin_token");
    if let Some(tok) = &s.admin_token {
        redactor.add(tok);
        if tok.expose().len() < 16 {
            t.problem("admin_token_env", "the admin token must be at least 16 characters");
        }
    }
    if let Some(codes) = t.table("status_codes") {
        codes.declare(ServerConfig::STATUS_CODE_KEYS);
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
    if let Some(tls) = t.table("tls") {
        s.tls = super::listener::parse_tls(&tls);
    }
    if let Some(auth) = t.table("auth") {
        s.auth = super::listener::parse_auth(&auth, redactor);
    }
    if s.show_details == ShowDetails::Authorized
        && s.details_token.is_none()
        && !t.has("details_token_env")
        && !t.has("details_token_file")
        && !t.has("auth")
    {
        t.problem(
            "show_details",
            "\"authorized\" needs details_token_env or details_token_file, or a [server.auth] section",
        );
    }
    t.finish();
    (problems.len() == before).then_some(s)
}

/// Agent replies are words of HAProxy's agent protocol on one ASCII line, e.g.
/// `up ready 100%` or `up 50%`.
fn check_agent_reply(text: &str) -> Result<(), String> {
    const WORDS: &[&str] = &["up", "down", "ready", "drain", "maint", "stopped", "fail"];
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(format!(
            "invalid agent reply \"{}\" (one line of printable ASCII)",
            text.escape_default()
        ));
    }
    for word in text.split_whitespace() {
        let pct = word
            .strip_suffix('%')
            .and_then(|n| n.parse::<u16>().ok())
            .is_some_and(|n| n <= 256);
        if !pct && !WORDS.contains(&word) && !word.starts_with("maxconn:") {
            return Err(format!(
                "invalid agent reply \"{text}\": \"{word}\" is not an agent word (up, down, ready, drain, maint, N%, maxconn:N)"
            ));
        }
    }
    Ok(())
}
