//! Every network check kind against a real server, each behind its own
//! [`FaultProxy`]: PostgreSQL, MariaDB, Redis and Memcached started for the test,
//! the Elasticsearch simulator for the elasticsearch, http and tcp kinds, and
//! another healthgate's gRPC health service for the grpc kind.

use healthgate::simulator::Simulator;

use super::app::{spawn_app_config, TestApp};
use super::fault::{Fault, FaultProxy};
use super::mariadb::Mariadb;
use super::memcached::memcached;
use super::postgres::Postgres;
use super::process::Server;
use super::redis::redis;

/// Check names, one per kind, in the order [`Rig::checks`] writes them.
pub const KINDS: [&str; 8] = ["es", "http", "tcp", "pg", "my", "redis", "mc", "grpc"];

/// The real servers, each behind its own proxy.
pub struct Rig {
    proxies: Vec<(&'static str, FaultProxy)>,
    pub sim: Simulator,
    pub pg: Postgres,
    pub my: Mariadb,
    _redis: (Server, tempfile::TempDir),
    _mc: Server,
    _grpc: TestApp,
    pub dir: tempfile::TempDir,
}

/// Server start-up blocks (it waits for the port): off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

impl Rig {
    /// Starts the servers and the simulator, each behind a passing proxy.
    pub async fn start() -> Rig {
        let sim = Simulator::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let (pg, my, redis, mc) = tokio::join!(
            blocking(Postgres::start),
            blocking(Mariadb::start),
            blocking(|| redis(None)),
            blocking(memcached),
        );
        let grpc = grpc_target().await;
        let local = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut proxies = Vec::new();
        for (name, port) in [
            ("es", sim.addr().port()),
            ("http", sim.addr().port()),
            ("tcp", sim.addr().port()),
            ("pg", pg.server.port),
            ("my", my.server.port),
            ("redis", redis.0.port),
            ("mc", mc.port),
            ("grpc", grpc.grpc.unwrap().port()),
        ] {
            proxies.push((name, FaultProxy::start(local(port)).await));
        }
        Rig {
            proxies,
            sim,
            pg,
            my,
            _redis: redis,
            _mc: mc,
            _grpc: grpc,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The proxy port in front of `name`'s server.
    pub fn port(&self, name: &str) -> u16 {
        self.proxies.iter().find(|(n, _)| *n == name).unwrap().1.port
    }

    /// Sets the same fault on every proxy.
    pub fn set(&self, f: Fault) {
        for (_, p) in &self.proxies {
            p.set(f);
        }
    }

    /// One check of every kind through the proxies.
    pub fn checks(&self, schedule: &str) -> String {
        let pw = self.dir.path().join("pw");
        std::fs::write(&pw, "apppw\n").unwrap();
        let pw = pw.display();
        let redis_pw = self.dir.path().join("redis_pw");
        std::fs::write(&redis_pw, "pw1\n").unwrap();
        let redis_pw = redis_pw.display();
        let bodies = [
            format!("kind = \"elasticsearch\"\nurls = [\"http://127.0.0.1:{}\"]", self.port("es")),
            format!(
                "kind = \"http\"\nurl = \"http://127.0.0.1:{}/_cluster/health\"\nbody_json_pointer = \"/status\"\nbody_json_equals = \"green\"",
                self.port("http")
            ),
            format!(
                "kind = \"tcp\"\naddress = \"127.0.0.1:{}\"\nsend = \"GET / HTTP/1.0\\r\\n\\r\\n\"\nexpect = \"for Search\"",
                self.port("tcp")
            ),
            format!(
                "kind = \"postgres\"\nurl = \"postgres://app@127.0.0.1:{}/appdb\"\npassword_file = \"{pw}\"",
                self.port("pg")
            ),
            format!(
                "kind = \"mysql\"\nurl = \"mysql://app@127.0.0.1:{}/appdb\"\npassword_file = \"{pw}\"",
                self.port("my")
            ),
            format!(
                "kind = \"redis\"\nurl = \"redis://127.0.0.1:{}/0\"\npassword_file = \"{redis_pw}\"",
                self.port("redis")
            ),
            format!("kind = \"memcached\"\naddress = \"127.0.0.1:{}\"", self.port("mc")),
            format!(
                "kind = \"grpc\"\naddress = \"127.0.0.1:{}\"\nservice = \"up\"",
                self.port("grpc")
            ),
        ];
        KINDS
            .iter()
            .zip(bodies)
            .map(|(name, body)| format!("[[checks]]\nname = \"{name}\"\n{schedule}\n{body}\n"))
            .collect()
    }
}

/// A healthgate serving gRPC health, its one check `up` always passing: the
/// grpc kind's server.
pub async fn grpc_target() -> TestApp {
    spawn_app_config(
        "[server]\nlisten = \"127.0.0.1:0\"\ngrpc_listen = \"127.0.0.1:0\"\n\n[[checks]]\nname = \"up\"\nkind = \"exec\"\ncommand = [\"true\"]\ninterval = \"10s\"\n",
    )
    .await
}
