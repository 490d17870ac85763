//! `[[notify]]`: webhooks told about check transitions, and `[history]`:
//! where the status page's history is kept across restarts.

use std::path::PathBuf;
use std::time::Duration;

use super::fields::Table;
use crate::secret::{Redactor, Secret};
use crate::status::State;

/// What a webhook's body looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyFormat {
    /// healthgate's own JSON (documented in the README).
    Json,
    /// `{"text": ...}`: Slack and Mattermost incoming webhooks.
    Slack,
}

/// One validated `[[notify]]` entry.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Its name (the metrics' `notify` label, logs).
    pub name: String,
    /// Where to POST (a secret: such URLs often carry a token).
    pub url: Secret,
    /// The body format.
    pub format: NotifyFormat,
    /// The states whose arrival is announced.
    pub on: Vec<State>,
    /// Also announce leaving those states.
    pub send_resolved: bool,
    /// At most one event per check this often; changes in between are merged.
    pub min_interval: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Attempts per event, the first included.
    pub max_attempts: u32,
    /// The wait before the second attempt; it doubles after each.
    pub backoff: Duration,
    /// The longest wait between attempts (a `Retry-After` too).
    pub max_backoff: Duration,
    /// Events waiting at most; past it the oldest is dropped.
    pub queue: usize,
    /// The Standard Webhooks signing secret (`whsec_...`), if any.
    pub signing_secret: Option<Secret>,
}

impl PartialEq for NotifyConfig {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.url.expose() == other.url.expose()
            && self.format == other.format
            && self.on == other.on
            && self.send_resolved == other.send_resolved
            && self.min_interval == other.min_interval
            && self.timeout == other.timeout
            && self.max_attempts == other.max_attempts
            && self.backoff == other.backoff
            && self.max_backoff == other.max_backoff
            && self.queue == other.queue
            && self.signing_secret.as_ref().map(Secret::expose) == other.signing_secret.as_ref().map(Secret::expose)
    }
}

impl NotifyConfig {
    /// The keys of a `[[notify]]` entry.
    pub const KEYS: &'static [&'static str] = &[
        "name",
        "url",
        "url_env",
        "url_file",
        "format",
        "on",
        "send_resolved",
        "min_interval",
        "timeout",
        "max_attempts",
        "backoff",
        "max_backoff",
        "queue",
        "signing_secret",
        "signing_secret_env",
        "signing_secret_file",
    ];
}

/// The validated `[history]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryConfig {
    /// Where the history is saved and read back at start (none: memory only).
    pub file: Option<PathBuf>,
    /// How often it is saved while something changes (and at shutdown).
    pub save_interval: Duration,
}

impl HistoryConfig {
    /// The keys of `[history]`.
    pub const KEYS: &'static [&'static str] = &["file", "save_interval"];
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            file: None,
            save_interval: Duration::from_secs(5),
        }
    }
}

pub(super) fn parse_history(t: Option<&Table>) -> HistoryConfig {
    let mut h = HistoryConfig::default();
    let Some(t) = t else { return h };
    t.declare(HistoryConfig::KEYS);
    h.file = t.str("file").map(PathBuf::from);
    if let Some(d) = t.duration("save_interval") {
        if d < Duration::from_secs(1) {
            t.problem("save_interval", "must be at least 1s (each save writes the whole file)");
        } else {
            h.save_interval = d;
        }
    }
    t.finish();
    h
}

pub(super) fn parse(t: &Table, redactor: &mut Redactor) -> Option<NotifyConfig> {
    t.declare(NotifyConfig::KEYS);
    let name = t.required_str("name");
    if let Some(n) = &name {
        if n.is_empty()
            || n.len() > 64
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            t.problem("name", &format!("invalid name \"{n}\": use 1-64 of A-Z a-z 0-9 _ - ."));
        }
    }
    let url = t.secret("url");
    if url.is_none() && !t.has("url_env") && !t.has("url_file") && !t.has("url") {
        t.problem(
            "url_env",
            "a webhook needs its URL: url_env (an environment variable name) or url_file (a path)",
        );
    }
    let url = url.filter(|u| {
        redactor.add(u);
        // Never quote the URL: its path is often the credential.
        let ok =
            reqwest::Url::parse(u.expose()).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
        if !ok {
            t.problem(
                if t.has("url_env") { "url_env" } else { "url_file" },
                "the value is not an http:// or https:// URL (it is not shown here: webhook URLs carry tokens)",
            );
        }
        ok
    });
    let format = match t.str("format").as_deref() {
        None | Some("json") => NotifyFormat::Json,
        Some("slack") => NotifyFormat::Slack,
        Some(other) => {
            t.problem("format", &format!("invalid value \"{other}\" (expected json or slack)"));
            NotifyFormat::Json
        }
    };
    let mut on = Vec::new();
    let mut bad = false;
    for word in t.string_list("on").unwrap_or_else(|| vec!["fail".into()]) {
        match word.as_str() {
            "unknown" => on.push(State::Unknown),
            w => match crate::status::Status::parse(w) {
                Some(s) if !on.contains(&State::Known(s)) => on.push(State::Known(s)),
                Some(_) => {}
                None => {
                    bad = true;
                    t.problem(
                        "on",
                        &format!("invalid state \"{word}\" (expected fail, warn, pass or unknown)"),
                    );
                }
            },
        }
    }
    if on.is_empty() && !bad {
        t.problem("on", "give at least one state to announce (e.g. [\"fail\"])");
    }
    let duration = |key: &str, default: Duration| t.duration(key).unwrap_or(default);
    let timeout = duration("timeout", Duration::from_secs(5));
    if timeout.is_zero() {
        t.problem("timeout", "must be more than 0s");
    }
    let max_attempts = t.count("max_attempts").unwrap_or(8);
    let backoff = duration("backoff", Duration::from_secs(1));
    let max_backoff = duration("max_backoff", Duration::from_secs(60));
    if max_backoff < backoff {
        t.problem("max_backoff", "must not be shorter than backoff");
    }
    let queue = match t.u64("queue") {
        None => 256,
        Some(n @ 1..=100_000) => n as usize,
        Some(n) => {
            t.problem("queue", &format!("must be between 1 and 100000, found {n}"));
            256
        }
    };
    let signing_secret = t.secret("signing_secret");
    if let Some(s) = &signing_secret {
        redactor.add(s);
    }
    let send_resolved = t.bool("send_resolved").unwrap_or(true);
    let min_interval = duration("min_interval", Duration::from_secs(30));
    t.finish();
    Some(NotifyConfig {
        name: name?,
        url: url?,
        format,
        on,
        send_resolved,
        min_interval,
        timeout,
        max_attempts,
        backoff,
        max_backoff,
        queue,
        signing_secret,
    })
}
