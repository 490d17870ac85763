//! The check kinds: one module per kind holding its configuration type, its
//! parser (the kind's keys of a `[[checks]]` entry) and its `check-config`
//! summary, and one registration table ([`kinds!`] below) that generates
//! [`CheckKind`], the `kind` words, the dispatch and the "expected ..." text.
//!
//! Adding a kind: a module here implementing [`KindConfig`], one line in the
//! table, and its `Check` in `checks/` with one line in `checks::build`. The
//! keys every check has ([`SHARED_KEYS`]) are reserved: a test checks that no
//! kind declares one, and parsing asserts (in debug builds) that a kind reads
//! only the keys it declares.

mod database;
mod dns;
mod elasticsearch;
mod es_access;
mod exec;
mod failback;
mod grpc;
mod http;
mod memcached;
mod mysql;
mod postgres;
mod redis;
mod request;
mod tcp;

use reqwest::Url;

use super::fields::Table;
use crate::secret::Redactor;

pub use database::{Endpoint, Role, SecretEq, TlsMode};
pub use dns::DnsConfig;
pub use elasticsearch::{EsConfig, EsMode};
pub use es_access::EsAuth;
pub use exec::ExecConfig;
pub use failback::FailbackConfig;
pub use grpc::GrpcConfig;
pub use http::{HttpConfig, HttpMethod, StatusPattern};
pub use memcached::MemcachedConfig;
pub use mysql::MysqlConfig;
pub use postgres::PostgresConfig;
pub use redis::RedisConfig;
pub use request::HeaderValueSource;
pub use tcp::TcpConfig;

/// Keys every `[[checks]]` entry has, whatever its kind; no kind may use them
/// for anything else.
pub const SHARED_KEYS: &[&str] = &[
    "name",
    "kind",
    "critical",
    "scope",
    "interval",
    "timeout",
    "jitter",
    "rise",
    "fall",
    "max_age",
    "fast_interval",
    "down_interval",
    "start_period",
    "start_interval",
    "while_starting",
    "flap_low",
    "flap_high",
    "on_flap",
];

/// A kind's configuration: parsed from the kind's keys of one entry.
pub(super) trait KindConfig: Sized {
    /// Every key the kind reads, beyond [`SHARED_KEYS`].
    const KEYS: &'static [&'static str];

    /// Parses the kind's keys, recording every problem in `t`; `None` when
    /// one was found. Secret values are added to `redactor`.
    fn parse(t: &Table, redactor: &mut Redactor) -> Option<Self>;

    /// The target as `check-config` prints it, with no secret in it.
    fn summary(&self) -> String;

    /// The dependency targets requests go to, as `host:port` (labels of the
    /// upstream-requests counter, in the order the check tries them).
    fn targets(&self) -> Vec<String>;
}

/// A registered kind: its `kind` word and its keys.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The `kind` word.
    pub name: &'static str,
    /// The keys it reads, beyond [`SHARED_KEYS`].
    pub keys: &'static [&'static str],
}

/// The registration table's expansion: everything that lists the kinds.
macro_rules! kinds {
    ($($variant:ident($word:literal, $ty:ty)),+ $(,)?) => {
        /// The kind-specific part of a check.
        #[derive(Debug, Clone, PartialEq)]
        pub enum CheckKind {
            $(
                #[doc = concat!("`kind = \"", $word, "\"`.")]
                $variant($ty),
            )+
        }

        /// Every kind, in registration order.
        pub const KINDS: &[Kind] = &[$(Kind { name: $word, keys: <$ty as KindConfig>::KEYS },)+];

        impl CheckKind {
            /// The `kind` word.
            pub fn name(&self) -> &'static str {
                match self {
                    $(CheckKind::$variant(_) => $word,)+
                }
            }

            /// The target as `check-config` prints it (no secret in it).
            pub fn summary(&self) -> String {
                match self {
                    $(CheckKind::$variant(c) => c.summary(),)+
                }
            }

            /// The dependency targets, as `host:port`, in the order tried.
            pub fn targets(&self) -> Vec<String> {
                match self {
                    $(CheckKind::$variant(c) => c.targets(),)+
                }
            }
        }

        /// Parses the kind-specific keys of `t` for the kind `word`; `None` when
        /// no kind has that word.
        pub(super) fn parse(word: &str, t: &Table, redactor: &mut Redactor) -> Option<Option<CheckKind>> {
            match word {
                $($word => {
                    t.declare(<$ty as KindConfig>::KEYS);
                    Some(<$ty as KindConfig>::parse(t, redactor).map(CheckKind::$variant))
                })+
                _ => None,
            }
        }
    };
}

kinds! {
    Elasticsearch("elasticsearch", EsConfig),
    Http("http", HttpConfig),
    Tcp("tcp", TcpConfig),
    Postgres("postgres", PostgresConfig),
    Mysql("mysql", MysqlConfig),
    Redis("redis", RedisConfig),
    Memcached("memcached", MemcachedConfig),
    Dns("dns", DnsConfig),
    Exec("exec", ExecConfig),
    Grpc("grpc", GrpcConfig),
}

/// `unknown kind "x" (expected a, b or c)`: the words from the table.
pub(super) fn unknown_kind(word: &str) -> String {
    let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
    let (last, rest) = names.split_last().expect("at least one kind is registered");
    format!("unknown kind \"{word}\" (expected {} or {last})", rest.join(", "))
}

/// `host:port` of a URL (the port defaulted from the scheme).
pub(crate) fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or_default();
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `scheme://host:port` of a URL, for reasons and summaries (never path,
/// query or credentials).
pub fn node_label(url: &Url) -> String {
    url.origin().ascii_serialization()
}

const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Parses an http(s) URL, refusing credentials in it (they would leak into reasons).
pub(super) fn parse_url(t: &Table, key: &str, text: &str) -> Option<Url> {
    let url = match Url::parse(text) {
        Ok(u) => u,
        Err(e) => {
            t.problem(key, &format!("invalid URL \"{text}\": {e}"));
            return None;
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        t.problem(
            key,
            &format!("unsupported scheme \"{}\" (expected http or https)", url.scheme()),
        );
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        t.problem(
            key,
            "credentials in the URL are not accepted; use username with password_env/password_file, or api_key_env",
        );
        return None;
    }
    Some(url)
}

pub(super) fn max_body(t: &Table) -> usize {
    match t.u64("max_body_bytes") {
        Some(0) => {
            t.problem("max_body_bytes", "must be greater than zero");
            DEFAULT_MAX_BODY
        }
        Some(n) => n as usize,
        None => DEFAULT_MAX_BODY,
    }
}

/// Checks `host:port`, recording a problem for `key` when it is not.
pub(super) fn parse_address(t: &Table, key: &str, address: &str) -> bool {
    let ok = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !ok {
        t.problem(
            key,
            &format!("invalid address \"{address}\" (expected host:port, e.g. \"127.0.0.1:5432\" or \"[::1]:6379\")"),
        );
    }
    ok
}
