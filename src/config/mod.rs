//! Configuration: a TOML or YAML file, layered with `HEALTHGATE__SECTION__KEY`
//! environment variables, validated into the domain types below.
//!
//! Validation collects *every* problem before giving up, each prefixed with its key
//! path (`checks[1].timeout: invalid duration "2x"`), so an operator fixes a file in
//! one pass. The raw layers are merged by the `config` crate (`config::source`); the
//! walk over the merged tree is ours (`config::fields`) because serde stops at the first
//! error and cannot name array positions.

mod fields;
mod fleet;
mod kinds;
mod listener;
mod notify;
mod schedule;
mod server;
mod source;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use fleet::{FleetConfig, Threshold};
pub use kinds::{
    node_label, CheckKind, DnsConfig, Endpoint, EsAuth, EsConfig, EsMode, ExecConfig, FailbackConfig, GrpcConfig,
    HeaderValueSource, HttpConfig, HttpMethod, Kind, MemcachedConfig, MysqlConfig, PostgresConfig, RedisConfig, Role,
    SecretEq, StatusPattern, TcpConfig, TlsMode, KINDS, SHARED_KEYS,
};
pub use listener::{AuthConfig, ClientAuth, TlsConfig};
pub use notify::{HistoryConfig, NotifyConfig, NotifyFormat};
pub use schedule::{FlapPolicy, Schedule};
pub use server::{AgentReplies, ServerConfig, ShowDetails, StatusCodes};

use crate::secret::Redactor;
use crate::status::Status;
use fields::{Problems, Table};

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file was read from (for reloads and messages).
    pub path: Option<PathBuf>,
    /// The `[server]` section.
    pub server: ServerConfig,
    /// The `[[checks]]`, in file order (none for a regional aggregator).
    pub checks: Vec<CheckConfig>,
    /// The `[fleet]` section, when this instance has peers.
    pub fleet: Option<FleetConfig>,
    /// The `[[notify]]` webhooks.
    pub notify: Vec<NotifyConfig>,
    /// The `[history]` section.
    pub history: HistoryConfig,
    /// Every secret value the configuration loaded, for scrubbing output.
    pub redactor: Redactor,
}

/// One `[[checks]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConfig {
    /// Unique name, `[A-Za-z0-9_.-]{1,64}`; used in URLs, JSON keys and metric labels.
    pub name: String,
    /// A critical check failing makes the instance fail; a non-critical one only warns.
    pub critical: bool,
    /// Whether a failure here may be a shared outage (the fleet guard).
    pub scope: Scope,
    /// Timing.
    pub schedule: Schedule,
    /// What to check.
    pub kind: CheckKind,
}

/// Whose failure a check reports: this instance's alone, or possibly the
/// whole fleet's (a dependency every instance shares, such as Elasticsearch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A failure evicts this instance (the default).
    Local,
    /// A failure that most of the fleet shares degrades instead of evicting
    /// (`[fleet]` guard).
    Shared,
}

/// Everything wrong with a configuration, one problem per line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or parsed at all.
    #[error("{0}")]
    Source(String),
    /// The file parsed but some values are invalid.
    #[error("{} problem(s) in the configuration:\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<String>),
}

impl Config {
    /// Reads a file (format from its extension: `.toml`, `.yaml`/`.yml`) plus the
    /// environment overrides, and validates the result.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let tree = source::merge(Some(path), None, &env)?;
        let mut cfg = Self::from_tree(&tree)?;
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parses TOML text without environment overrides (tests, the demo).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let tree = source::merge(None, Some(text), &[])?;
        Self::from_tree(&tree)
    }

    fn from_tree(tree: &serde_json::Value) -> Result<Config, ConfigError> {
        let problems = Problems::default();
        let mut redactor = Redactor::default();
        let root = Table::root(tree, &problems);
        let server = server::parse(root.table("server").as_ref(), &problems, &mut redactor);
        let fleet_table = root.table("fleet");
        let fleet = fleet_table.as_ref().and_then(fleet::parse);
        let history = notify::parse_history(root.table("history").as_ref());
        let mut notifiers = Vec::new();
        let mut notify_names = Vec::new();
        for (i, item) in root.array("notify").into_iter().flatten().enumerate() {
            let t = Table::new(format!("notify[{i}]"), item, &problems);
            // Compared from the raw entries, as check names are.
            if let Some(name) = item.get("name").and_then(serde_json::Value::as_str) {
                if notify_names.contains(&name) {
                    t.problem(
                        "name",
                        &format!("duplicate name \"{name}\" (each [[notify]] needs its own)"),
                    );
                }
                notify_names.push(name);
            }
            if let Some(n) = notify::parse(&t, &mut redactor) {
                notifiers.push(n);
            }
        }
        let defaults = root.table("defaults");
        let base = schedule::parse_defaults(defaults.as_ref());
        let mut checks = Vec::new();
        let list = root.array("checks");
        root.finish();
        match list {
            Some(items) if !items.is_empty() => {
                for (i, item) in items.iter().enumerate() {
                    let t = Table::new(format!("checks[{i}]"), item, &problems);
                    if let Some(c) = parse_check(&t, base, &mut redactor) {
                        checks.push(c);
                    }
                }
            }
            _ if fleet_table.is_some() => {}
            _ => problems.push(
                "checks",
                "at least one [[checks]] entry is required (or a [fleet] section: a regional aggregator has no checks)",
            ),
        }
        if fleet_table.is_none() {
            for (i, c) in checks.iter().enumerate() {
                if c.scope == Scope::Shared {
                    problems.push(
                        &format!("checks[{i}].scope"),
                        &format!(
                            "check \"{}\" is scope = \"shared\" but there is no [fleet] section: a shared outage is judged by asking the other sidecars (add [fleet] with peers or peers_dns, or use scope = \"local\")",
                            c.name
                        ),
                    );
                }
            }
        }
        // Names are compared from the raw entries, so a duplicate is reported even
        // when the entry carrying it has other problems.
        let mut seen = std::collections::HashMap::new();
        for (i, item) in list.into_iter().flatten().enumerate() {
            if let Some(name) = item.get("name").and_then(serde_json::Value::as_str) {
                if let Some(first) = seen.insert(name.to_string(), i) {
                    problems.push(
                        &format!("checks[{i}].name"),
                        &format!("duplicate name \"{name}\" (also used by checks[{first}])"),
                    );
                }
            }
        }
        let problems = problems.into_vec();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        Ok(Config {
            path: None,
            server: server.expect("server parsed without problems"),
            checks,
            fleet,
            notify: notifiers,
            history,
            redactor,
        })
    }
}

fn parse_check(t: &Table, base: schedule::Base, redactor: &mut Redactor) -> Option<CheckConfig> {
    let name = t.required_str("name");
    if let Some(n) = &name {
        let ok = !n.is_empty()
            && n.len() <= 64
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            t.problem("name", &format!("invalid name \"{n}\": use 1-64 of A-Z a-z 0-9 _ - ."));
        }
    }
    let critical = t.bool("critical").unwrap_or(true);
    let scope = match t.str("scope").as_deref() {
        None | Some("local") => Scope::Local,
        Some("shared") => Scope::Shared,
        Some(other) => {
            t.problem(
                "scope",
                &format!("invalid value \"{other}\" (expected local or shared)"),
            );
            Scope::Local
        }
    };
    let schedule = schedule::parse(t, base);
    let kind_word = t.required_str("kind");
    let kind = kind_word.as_deref().and_then(|word| {
        kinds::parse(word, t, redactor).unwrap_or_else(|| {
            t.problem("kind", &kinds::unknown_kind(word));
            None
        })
    });
    // Unknown keys are only meaningful once the kind is known.
    if kind_word.is_some() {
        t.finish();
    }
    Some(CheckConfig {
        name: name?,
        critical,
        scope,
        schedule: schedule?,
        kind: kind?,
    })
}

/// Parses `host:port` for listeners, with a message that names the mistake.
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse::<SocketAddr>().map_err(|_| {
        format!("invalid listen address \"{text}\" (expected IP:PORT, e.g. \"0.0.0.0:9898\" or \"[::1]:9898\")")
    })
}

/// Parses `pass`/`warn`/`fail`, naming the accepted words on error.
fn parse_status_word(text: &str) -> Result<Status, String> {
    Status::parse(text).ok_or_else(|| format!("invalid status \"{text}\" (expected pass, warn or fail)"))
}

#[cfg(test)]
mod tests;
