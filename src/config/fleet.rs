//! The `[fleet]` section: the other sidecars of this fleet, how often they are
//! read, and the two fleet rules (the shared-outage guard, the regional answer).

use std::net::SocketAddr;
use std::time::Duration;

use super::fields::Table;

/// A threshold given as a count of members or a percentage of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// At least this many.
    Count(usize),
    /// At least this share (0–100) of the whole, rounded up (0 % asks for nobody).
    Percent(f64),
}

impl Threshold {
    /// How many of `total` it asks for (a percentage above 0 rounds up, and
    /// asks for at least one member of a non-empty fleet).
    pub fn of(self, total: usize) -> usize {
        match self {
            Threshold::Count(n) => n,
            Threshold::Percent(p) => {
                let n = (p / 100.0 * total as f64 - 1e-9).ceil().max(0.0) as usize;
                if total > 0 && p > 0.0 {
                    n.clamp(1, total)
                } else {
                    0
                }
            }
        }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threshold::Count(n) => write!(f, "{n}"),
            Threshold::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// The validated `[fleet]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// Base URLs of other sidecars, as `host:port` (`http://` only: the fleet
    /// answer is not secret, and TLS on the listener is not there yet).
    pub peers: Vec<String>,
    /// `name:port`: every A/AAAA address of the name is a peer.
    pub peers_dns: Option<(String, u16)>,
    /// How often `peers_dns` is resolved again.
    pub resolve_interval: Duration,
    /// Ask this DNS server instead of the system resolver.
    pub nameserver: Option<SocketAddr>,
    /// How often peers are read.
    pub interval: Duration,
    /// How long one peer may take to answer.
    pub timeout: Duration,
    /// How many peers a sidecar reads per interval (an aggregator reads all).
    pub sample: usize,
    /// The share of answering peers that must fail a shared check for it to
    /// count as a shared outage.
    pub shared_quorum: f64,
    /// How many peers must answer before an outage can be called shared.
    pub min_peers: usize,
    /// Whether the shared-outage guard is on.
    pub guard: bool,
    /// How many members must be serving for `/fleet` to pass.
    pub min_healthy: Threshold,
    /// The name this instance gives itself in fleet answers (default: the host name).
    pub instance: Option<String>,
}

impl FleetConfig {
    /// The keys of `[fleet]`.
    pub const KEYS: &'static [&'static str] = &[
        "peers",
        "peers_dns",
        "resolve_interval",
        "nameserver",
        "interval",
        "timeout",
        "sample",
        "shared_quorum",
        "min_peers",
        "guard",
        "min_healthy",
        "instance",
    ];

    /// The most members a fleet may have: peers beyond it (from a DNS answer
    /// or a list) are left out and the log says so.
    pub const MAX_MEMBERS: usize = 4096;
}

pub(super) fn parse(t: &Table) -> Option<FleetConfig> {
    t.declare(FleetConfig::KEYS);
    let mut ok = true;
    let mut f = FleetConfig {
        peers: Vec::new(),
        peers_dns: None,
        resolve_interval: Duration::from_secs(30),
        nameserver: None,
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(1),
        sample: 16,
        shared_quorum: 50.0,
        min_peers: 2,
        guard: true,
        min_healthy: Threshold::Percent(50.0),
        instance: None,
    };
    for (i, text) in t.string_list("peers").unwrap_or_default().into_iter().enumerate() {
        match peer_address(&text) {
            Ok(a) if !f.peers.contains(&a) => f.peers.push(a),
            Ok(_) => {}
            Err(e) => {
                t.problem(&format!("peers[{i}]"), &e);
                ok = false;
            }
        }
    }
    if let Some(text) = t.str("peers_dns") {
        match text.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
            Some((host, Ok(port))) if !host.is_empty() && port > 0 && !host.contains('/') => {
                f.peers_dns = Some((host.trim_end_matches('.').to_string(), port));
            }
            _ => {
                t.problem(
                    "peers_dns",
                    &format!(
                        "invalid value \"{text}\" (expected NAME:PORT, e.g. \"healthgate.app.svc.cluster.local:9898\")"
                    ),
                );
                ok = false;
            }
        }
    }
    if f.peers.is_empty() && f.peers_dns.is_none() && !t.has("peers") && !t.has("peers_dns") {
        t.problem(
            "peers",
            "[fleet] needs peers (a list of sidecar addresses) or peers_dns (NAME:PORT)",
        );
        ok = false;
    }
    if let Some(text) = t.str("nameserver") {
        match text.parse::<SocketAddr>() {
            Ok(a) => f.nameserver = Some(a),
            Err(_) => {
                t.problem(
                    "nameserver",
                    &format!("invalid address \"{text}\" (expected IP:PORT, e.g. \"10.0.0.2:53\")"),
                );
                ok = false;
            }
        }
    }
    for (key, slot) in [
        ("resolve_interval", &mut f.resolve_interval),
        ("interval", &mut f.interval),
        ("timeout", &mut f.timeout),
    ] {
        match t.duration(key) {
            Some(d) if d < Duration::from_millis(100) => {
                t.problem(key, "must be at least 100ms");
                ok = false;
            }
            Some(d) => *slot = d,
            None => {}
        }
    }
    if f.timeout >= f.interval {
        t.problem(
            "timeout",
            &format!(
                "must be shorter than interval ({} >= {}): a round of peer reads ends before the next begins",
                humantime::format_duration(f.timeout),
                humantime::format_duration(f.interval)
            ),
        );
        ok = false;
    }
    if let Some(n) = t.u64("sample") {
        if (1..=FleetConfig::MAX_MEMBERS as u64).contains(&n) {
            f.sample = n as usize;
        } else {
            t.problem("sample", &format!("must be between 1 and {}", FleetConfig::MAX_MEMBERS));
            ok = false;
        }
    }
    if let Some(n) = t.u64("min_peers") {
        if n >= 1 {
            f.min_peers = n as usize;
        } else {
            t.problem(
                "min_peers",
                "must be at least 1: an outage seen by no peer is not shared",
            );
            ok = false;
        }
    }
    if let Some(b) = t.bool("guard") {
        f.guard = b;
    }
    match threshold(t, "shared_quorum") {
        Some(Threshold::Percent(p)) if p > 0.0 => f.shared_quorum = p,
        Some(_) => {
            t.problem("shared_quorum", "must be a percentage above 0%, e.g. \"50%\"");
            ok = false;
        }
        None => ok &= !t.has("shared_quorum"),
    }
    match threshold(t, "min_healthy") {
        Some(th) => f.min_healthy = th,
        None => ok &= !t.has("min_healthy"),
    }
    if let Some(name) = t.str("instance") {
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_graphic()) {
            t.problem("instance", "must be 1-64 printable ASCII characters without spaces");
            ok = false;
        } else {
            f.instance = Some(name);
        }
    }
    t.finish();
    ok.then_some(f)
}

/// `"50%"` or a count (`3`).
fn threshold(t: &Table, key: &str) -> Option<Threshold> {
    let v = t.get(key)?;
    let text = match v {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.trim().to_string(),
        _ => String::new(),
    };
    let parsed = match text.strip_suffix('%') {
        Some(p) => p
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|p| (0.0..=100.0).contains(p))
            .map(Threshold::Percent),
        None => text.parse::<usize>().ok().map(Threshold::Count),
    };
    if parsed.is_none() {
        t.problem(
            key,
            &format!("invalid value {v} (expected a count such as 3 or a percentage such as \"50%\")"),
        );
    }
    parsed
}

/// A peer as `host:port`, from `host:port` or `http://host:port[/]`.
fn peer_address(text: &str) -> Result<String, String> {
    let rest = match text.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "unsupported scheme \"{scheme}\" in \"{text}\" (peers are read over plain http: \"http://HOST:PORT\" or \"HOST:PORT\")"
            ))
        }
        None => text,
    };
    let rest = rest.trim_end_matches('/');
    if rest.contains('@') {
        return Err("a peer address must not carry credentials (the fleet answer needs none)".into());
    }
    let port_ok = rest
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
    if !port_ok || rest.contains('/') {
        return Err(format!(
            "invalid peer \"{text}\" (expected HOST:PORT or http://HOST:PORT, e.g. \"10.0.0.12:9898\")"
        ));
    }
    Ok(rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::Threshold;

    #[test]
    fn thresholds_round_up_and_ask_for_one_member_at_least() {
        assert_eq!(Threshold::Percent(50.0).of(5), 3);
        assert_eq!(Threshold::Percent(50.0).of(4), 2);
        assert_eq!(Threshold::Percent(1.0).of(5), 1);
        assert_eq!(Threshold::Percent(0.0).of(5), 0);
        assert_eq!(Threshold::Percent(100.0).of(5), 5);
        assert_eq!(Threshold::Count(3).of(2), 3);
        assert_eq!(Threshold::Percent(50.0).of(0), 0);
    }
}
