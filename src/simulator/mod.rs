//! An Elasticsearch simulator that replays captured responses, for tests and the
//! demo (there is no Elasticsearch on the machines this is built on).
//!
//! It reproduces what the fixtures README documents: red is HTTP 200, a wait
//! timeout is 408 with `timed_out: true`, 401 carries `WWW-Authenticate` and no
//! `X-elastic-product` header, `GET /` is pretty-printed, `HEAD /` has a
//! `Content-Length` and no body. Its [`Mode`] can be switched at run time,
//! including to states a real server gets into: hung after accept, connection
//! refused, an endless body. It counts the requests it receives, so tests can prove
//! that probes add no load.
//!
//! Control goes through [`Simulator`] methods in-process, or a separate control
//! listener (`PUT /mode/<mode>`, `PUT /delay/<ms>`, `GET /stats`) so it keeps
//! working while the Elasticsearch port refuses connections.

mod apis;
mod ccr;
mod control;
mod fixtures;
mod responses;
mod server;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use ccr::IndexChange;
pub use control::serve_control;
pub use fixtures::{CLUSTER_HEALTH_FIXTURES, INFO_FIXTURES};

/// What the simulated cluster does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Cluster health green (ES 5.2.2 capture).
    Green,
    /// Yellow (ES 7.x capture).
    Yellow,
    /// Red (ES 8.x Elastic Cloud capture), still HTTP 200.
    Red,
    /// 503 `master_not_discovered_exception`.
    NoMaster,
    /// 503 `cluster_block_exception` (no master block).
    Blocked,
    /// 401 `security_exception` with challenges, whatever the credentials.
    Unauthorized,
    /// 403 `security_exception` (authenticated, not allowed).
    Forbidden,
    /// 500 with an Elasticsearch error body.
    ServerError,
    /// 500 with an empty body.
    ServerErrorEmpty,
    /// 200 with an HTML page (a proxy in the way).
    Garbage,
    /// 200 with valid JSON that is not a health body.
    WrongShape,
    /// 200 with an endless body (10 GiB, streamed).
    Huge,
    /// 408 with a health body and `timed_out: true`.
    Timeout408,
    /// Accept and read the request, never answer.
    Hang,
    /// Answer headers, then stall the body forever.
    StallBody,
    /// Not listening: connections are refused.
    Refused,
    /// Serve one named fixture from `cluster-health/` with HTTP 200.
    Fixture(String),
}

impl Mode {
    /// Parses a mode name as used by the control API and the demo.
    pub fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "green" => Mode::Green,
            "yellow" => Mode::Yellow,
            "red" => Mode::Red,
            "no_master" | "no-master" => Mode::NoMaster,
            "blocked" => Mode::Blocked,
            "unauthorized" | "401" => Mode::Unauthorized,
            "forbidden" | "403" => Mode::Forbidden,
            "error" | "500" => Mode::ServerError,
            "error_empty" => Mode::ServerErrorEmpty,
            "garbage" => Mode::Garbage,
            "wrong_shape" => Mode::WrongShape,
            "huge" => Mode::Huge,
            "timeout" | "408" => Mode::Timeout408,
            "hang" => Mode::Hang,
            "stall_body" => Mode::StallBody,
            "refused" | "down" => Mode::Refused,
            other => {
                let name = other.strip_prefix("fixture:")?;
                fixtures::cluster_health_fixture(name)?;
                Mode::Fixture(name.to_string())
            }
        })
    }

    /// The name [`Mode::parse`] accepts for this mode.
    pub fn name(&self) -> String {
        match self {
            Mode::Green => "green".into(),
            Mode::Yellow => "yellow".into(),
            Mode::Red => "red".into(),
            Mode::NoMaster => "no_master".into(),
            Mode::Blocked => "blocked".into(),
            Mode::Unauthorized => "unauthorized".into(),
            Mode::Forbidden => "forbidden".into(),
            Mode::ServerError => "error".into(),
            Mode::ServerErrorEmpty => "error_empty".into(),
            Mode::Garbage => "garbage".into(),
            Mode::WrongShape => "wrong_shape".into(),
            Mode::Huge => "huge".into(),
            Mode::Timeout408 => "timeout".into(),
            Mode::Hang => "hang".into(),
            Mode::StallBody => "stall_body".into(),
            Mode::Refused => "refused".into(),
            Mode::Fixture(f) => format!("fixture:{f}"),
        }
    }

    /// Every mode name accepted by [`Mode::parse`] (fixtures aside).
    pub const NAMES: &'static [&'static str] = &[
        "green",
        "yellow",
        "red",
        "no_master",
        "blocked",
        "unauthorized",
        "forbidden",
        "error",
        "error_empty",
        "garbage",
        "wrong_shape",
        "huge",
        "timeout",
        "hang",
        "stall_body",
        "refused",
    ];
}

/// What the follower index `follower_index` is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcrState {
    /// Replicating; 256 operations behind (the documentation example).
    Following,
    /// 50,000 operations behind, no read for two minutes.
    Lagging,
    /// Reads failing and being retried.
    ReadExceptions,
    /// Stopped by a fatal exception.
    Fatal,
    /// Paused: absent from the stats.
    Paused,
}

impl CcrState {
    /// Parses `following`, `lagging`, `read_exceptions`, `fatal`, `paused`.
    pub fn parse(s: &str) -> Option<CcrState> {
        Some(match s {
            "following" | "ok" => CcrState::Following,
            "lagging" => CcrState::Lagging,
            "read_exceptions" => CcrState::ReadExceptions,
            "fatal" => CcrState::Fatal,
            "paused" => CcrState::Paused,
            _ => return None,
        })
    }
}

/// Credentials the simulator demands (none by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimAuth {
    /// Anyone may ask.
    Open,
    /// HTTP basic with this user and password.
    Basic(String, String),
    /// `Authorization: ApiKey <key>`.
    ApiKey(String),
}

/// Shared simulator state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) mode: Mutex<Mode>,
    pub(crate) delay_ms: AtomicU64,
    pub(crate) requests: AtomicU64,
    /// The `Authorization` value required, if any.
    pub(crate) auth: Mutex<Option<String>>,
    pub(crate) ccr: Mutex<ccr::Ccr>,
    /// Another cluster's name and UUID in `GET /` (default: the fixture's).
    pub(crate) identity: Mutex<Option<(String, String)>>,
    /// The `GET /` body: which version the simulator is.
    pub(crate) info: Mutex<&'static str>,
}

impl Shared {
    pub(crate) fn mode(&self) -> Mode {
        self.mode.lock().expect("mode lock").clone()
    }
}

/// A running simulator; stops when dropped. Control it through [`SimHandle`]
/// (it derefs to one).
pub struct Simulator {
    handle: SimHandle,
}

impl Simulator {
    /// Starts on `addr` (port 0 picks a free port), green and open.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Simulator> {
        let shared = Arc::new(Shared {
            mode: Mutex::new(Mode::Green),
            delay_ms: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            auth: Mutex::new(None),
            ccr: Mutex::new(ccr::Ccr::default()),
            identity: Mutex::new(None),
            info: Mutex::new(INFO_FIXTURES[0].1),
        });
        let server = server::Server::start(addr, shared.clone()).await?;
        Ok(Simulator {
            handle: SimHandle { shared, server },
        })
    }

    /// A cloneable handle (for a control listener or another task).
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.handle.server.stop();
    }
}

impl std::ops::Deref for Simulator {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

/// Drives a simulator: mode, delay, credentials, request count.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    server: server::Server,
}

impl SimHandle {
    /// The Elasticsearch address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Switches the mode; `Refused` closes the port (dropping open connections),
    /// leaving it reopens the same port.
    pub async fn set_mode(&self, mode: Mode) -> std::io::Result<()> {
        *self.shared.mode.lock().expect("mode lock") = mode.clone();
        self.server.apply(&mode).await
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.shared.mode()
    }

    /// Delays every answer (on top of the mode).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Demands credentials.
    pub fn set_auth(&self, auth: SimAuth) {
        *self.shared.auth.lock().expect("auth lock") = responses::expected_header(&auth);
    }

    /// Sets what the CCR follower `follower_index` is doing.
    pub fn set_ccr(&self, state: CcrState) {
        let _ = self.change_index("follower_index", IndexChange::Condition(state));
    }

    /// Changes one index's CCR role (pause, resume, promote, re-seed, ...);
    /// the error says what Elasticsearch would refuse.
    pub fn change_index(&self, index: &str, change: IndexChange) -> Result<(), String> {
        self.shared.ccr.lock().expect("ccr lock").apply(index, change)
    }

    /// Makes `GET /` name another cluster (two simulators as two clusters).
    pub fn set_cluster(&self, name: &str, uuid: &str) {
        *self.shared.identity.lock().expect("identity lock") = Some((name.to_string(), uuid.to_string()));
    }

    /// Answers `GET /` as this version (one of [`INFO_FIXTURES`]: 8.17.0, the
    /// default, 7.17.0 or 6.3.2); it decides what `GET /` says without a master.
    pub fn set_version(&self, version: &str) -> Result<(), String> {
        let (_, body) = INFO_FIXTURES.iter().find(|(v, _)| *v == version).ok_or_else(|| {
            let known: Vec<&str> = INFO_FIXTURES.iter().map(|(v, _)| *v).collect();
            format!("unknown version \"{version}\"; expected one of {}", known.join(", "))
        })?;
        *self.shared.info.lock().expect("info lock") = body;
        Ok(())
    }

    /// Requests received on the Elasticsearch port so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }
}
