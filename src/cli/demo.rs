//! `healthgate demo`: the real sidecar against a built-in simulated cluster.
//!
//! It starts the simulator (the primary cluster) and a second one (the
//! secondary, following the primary's `orders` by cross-cluster replication),
//! runs healthgate with a configuration pointing at them (through the same
//! validation as any file), and prints every change of `/healthz` as a client
//! sees it. Typing a mode (`red`, `hang`, `refused`, ...) flips the primary;
//! `cycle` walks through the interesting ones; `promote`, `reseed` and
//! `switchback` (or `drill`, all in turn) are the DR runbook's steps, which the
//! failback gate follows.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::CliError;
use crate::app::App;
use crate::config::Config;
use crate::simulator::{IndexChange, Mode, SimHandle, Simulator};

const CYCLE: &[&str] = &["yellow", "red", "green", "no_master", "hang", "refused", "green"];

/// The DR drill, step by step: what each does to the two clusters.
const DRILL: &[&str] = &["red", "promote", "green", "reseed", "switchback"];

fn demo_config(listen: SocketAddr, es: &str, secondary: &str) -> String {
    format!(
        r#"
[server]
listen = "{listen}"
show_details = "always"
shutdown_grace = "1s"

[defaults]
interval = "1s"
timeout = "500ms"
jitter = "0s"

[[checks]]
name = "elasticsearch"
kind = "elasticsearch"
urls = ["{es}"]
min_nodes = 1

[[checks]]
name = "es-port"
kind = "tcp"
address = "{addr}"
critical = false

[[checks]]
name = "dr"
kind = "elasticsearch"
mode = "failback"
urls = ["{es}"]
peer_urls = ["{secondary}"]
indices = ["orders"]
peer_alias = "secondary"
alias_on_peer = "primary"
caught_up_rounds = 3
"#,
        addr = es.trim_start_matches("http://")
    )
}

pub(super) async fn run(listen: SocketAddr) -> Result<ExitCode, CliError> {
    let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let secondary = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    sim.set_cluster("primary", "demo-primary-uuid");
    secondary.set_cluster("secondary", "demo-secondary-uuid");
    let _ = secondary.change_index("orders", follow("primary", 0, 0));
    let ctl = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let ctl_addr = ctl.local_addr()?;
    tokio::spawn(crate::simulator::serve_control(ctl, sim.handle()));
    let config = Config::from_toml_str(&demo_config(listen, &sim.url(), &secondary.url()))?;
    let app = App::build(config).await?;
    let addr = app.local_addr();
    println!("healthgate demo");
    println!(
        "  simulated Elasticsearch  {}   (control: http://{ctl_addr}/mode/<mode>)",
        sim.url()
    );
    println!(
        "  its secondary (CCR)      {}   (its orders follows the primary's)",
        secondary.url()
    );
    println!("  healthgate               http://{addr}/healthz   /readyz   /livez   /metrics");
    println!("  the status page          http://{addr}/status    (open it in a browser)   /history");
    println!();
    println!("  try:  curl -s 'http://{addr}/healthz?verbose'");
    println!("        curl -s http://{addr}/healthz | python3 -m json.tool");
    println!();
    println!("Type a cluster mode and Enter: {}", Mode::NAMES.join(" "));
    println!("or `cycle` to walk through yellow, red, green, no_master, hang, refused;");
    println!("DR runbook steps: promote (the secondary), reseed (the primary from it), switchback,");
    println!("or `drill` for red, promote, green, reseed, switchback in turn; Ctrl-C to stop.");
    println!();
    let snapshot = app.snapshot();
    let watcher = tokio::spawn(watch(snapshot));
    let input = tokio::spawn(read_commands(sim.handle(), secondary.handle()));
    app.run(crate::shutdown::signal()).await?;
    watcher.abort();
    input.abort();
    Ok(ExitCode::SUCCESS)
}

/// Prints the answer a load balancer would get whenever it changes.
async fn watch(snapshot: crate::snapshot::SharedSnapshot) {
    let mut last = None;
    loop {
        let snap = snapshot.load_full();
        let key: Vec<_> = snap.checks.iter().map(|c| (c.state, c.output.clone())).collect();
        if last.as_ref() != Some(&key) {
            let p = snap.aggregate(crate::snapshot::Format::Verbose, true);
            let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
            println!("[{now}] GET /healthz -> {}", p.status);
            for line in String::from_utf8_lossy(&p.body).lines() {
                println!("    {line}");
            }
            last = Some(key);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn follow(remote: &str, behind: u64, rate: u64) -> IndexChange {
    IndexChange::Follow {
        remote_cluster: remote.into(),
        leader_index: "orders".into(),
        behind,
        rate,
    }
}

/// A DR runbook step on the two clusters; false if `word` is none.
fn dr_step(word: &str, primary: &SimHandle, secondary: &SimHandle) -> bool {
    let said = match word {
        // Fail over: the secondary's follower becomes a leader.
        "promote" => secondary.change_index("orders", IndexChange::Promote),
        // The primary's stale index is replaced by a follower of the secondary.
        "reseed" => primary.change_index("orders", follow("secondary", 30_000, 5_000)),
        // The planned switch back: the primary leads, the secondary follows it.
        "switchback" => primary
            .change_index("orders", IndexChange::Promote)
            .and_then(|()| secondary.change_index("orders", follow("primary", 0, 0))),
        _ => return false,
    };
    match said {
        Ok(()) => println!(">>> DR step: {word}"),
        Err(e) => println!(">>> DR step {word}: {e}"),
    }
    true
}

async fn read_commands(sim: SimHandle, secondary: SimHandle) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let word = line.trim();
        if word.is_empty() || dr_step(word, &sim, &secondary) {
            continue;
        }
        if word == "drill" {
            let (sim, secondary) = (sim.clone(), secondary.clone());
            tokio::spawn(async move {
                for step in DRILL {
                    if !dr_step(step, &sim, &secondary) {
                        println!(">>> cluster mode: {step}");
                        if let Some(mode) = Mode::parse(step) {
                            let _ = sim.set_mode(mode).await;
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(8)).await;
                }
            });
            continue;
        }
        if word == "cycle" {
            let sim = sim.clone();
            tokio::spawn(async move {
                for m in CYCLE {
                    println!(">>> cluster mode: {m}");
                    if let Some(mode) = Mode::parse(m) {
                        let _ = sim.set_mode(mode).await;
                    }
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            });
            continue;
        }
        match Mode::parse(word) {
            Some(mode) => match sim.set_mode(mode).await {
                Ok(()) => println!(">>> cluster mode: {word}"),
                Err(e) => println!(">>> cannot switch to {word}: {e}"),
            },
            None => println!(">>> unknown mode \"{word}\"; try: {}", Mode::NAMES.join(" ")),
        }
    }
}
