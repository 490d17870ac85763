//! `healthgate demo`: the real sidecar against a built-in simulated cluster.
//!
//! It starts the simulator, runs healthgate with a configuration pointing at it
//! (through the same validation as any file), and prints every change of
//! `/healthz` as a client sees it. Typing a mode (`red`, `hang`, `refused`, ...)
//! flips the cluster; `cycle` walks through the interesting ones.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::CliError;
use crate::app::App;
use crate::config::Config;
use crate::simulator::{Mode, SimHandle, Simulator};

const CYCLE: &[&str] = &["yellow", "red", "green", "no_master", "hang", "refused", "green"];

fn demo_config(listen: SocketAddr, es: &str) -> String {
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
"#,
        addr = es.trim_start_matches("http://")
    )
}

pub(super) async fn run(listen: SocketAddr) -> Result<ExitCode, CliError> {
    let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let ctl = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let ctl_addr = ctl.local_addr()?;
    tokio::spawn(crate::simulator::serve_control(ctl, sim.handle()));
    let config = Config::from_toml_str(&demo_config(listen, &sim.url()))?;
    let app = App::build(config).await?;
    let addr = app.local_addr();
    println!("healthgate demo");
    println!(
        "  simulated Elasticsearch  {}   (control: http://{ctl_addr}/mode/<mode>)",
        sim.url()
    );
    println!("  healthgate               http://{addr}/healthz   /readyz   /livez   /metrics");
    println!();
    println!("  try:  curl -s 'http://{addr}/healthz?verbose'");
    println!("        curl -s http://{addr}/healthz | python3 -m json.tool");
    println!();
    println!("Type a cluster mode and Enter: {}", Mode::NAMES.join(" "));
    println!("or `cycle` to walk through yellow, red, green, no_master, hang, refused; Ctrl-C to stop.");
    println!();
    let snapshot = app.snapshot();
    let watcher = tokio::spawn(watch(snapshot));
    let input = tokio::spawn(read_commands(sim.handle()));
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

async fn read_commands(sim: SimHandle) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let word = line.trim();
        if word.is_empty() {
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
