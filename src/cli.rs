//! Command-line interface. `main.rs` parses [`Cli`] and calls [`dispatch`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::app::{App, AppError};
use crate::config::{Config, ConfigError};
use crate::telemetry::LogFormat;

mod demo;
mod docs;
mod dr;
mod maint;

pub use dr::DrAction;
pub use maint::MaintAction;

/// healthgate: cached dependency health for load balancers, Kubernetes and Prometheus.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML or YAML).
    #[arg(long, short, global = true, env = "HEALTHGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Worker threads of the runtime that runs the checks. One suffices for a
    /// sidecar (checks are asynchronous) and costs least when the host is busy.
    /// Probes are served by a thread of their own whatever this says; blocking
    /// work (DNS, process spawning) has its own threads too.
    #[arg(long, global = true, env = "HEALTHGATE_WORKER_THREADS", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub worker_threads: u16,
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the sidecar (the default).
    Run,
    /// Validate the configuration, print a summary, and exit.
    CheckConfig,
    /// GET a URL; exit 0 on a 2xx answer, 1 otherwise (for Docker HEALTHCHECK).
    Probe {
        /// The URL, e.g. http://127.0.0.1:9898/livez.
        url: String,
        /// Give up after this long.
        #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
        timeout: Duration,
    },
    /// Enter or leave maintenance through a running healthgate's admin API.
    Maint {
        /// on, off or status.
        #[command(subcommand)]
        action: MaintAction,
        /// The running healthgate.
        #[arg(long, default_value = "http://127.0.0.1:9898", global = true)]
        url: String,
        /// File holding the admin token (default: $HEALTHGATE_ADMIN_TOKEN).
        #[arg(long, global = true)]
        token_file: Option<PathBuf>,
    },
    /// Show or confirm the DR failback gates through a running healthgate's admin API.
    Dr {
        /// status or confirm.
        #[command(subcommand)]
        action: DrAction,
        /// The running healthgate.
        #[arg(long, default_value = "http://127.0.0.1:9898", global = true)]
        url: String,
        /// File holding the admin token (default: $HEALTHGATE_ADMIN_TOKEN).
        #[arg(long, global = true)]
        token_file: Option<PathBuf>,
    },
    /// Run against a built-in simulated Elasticsearch cluster whose colour you flip.
    Demo {
        /// Where healthgate listens.
        #[arg(long, default_value = "127.0.0.1:9898")]
        listen: std::net::SocketAddr,
    },
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page healthgate(1), as roff (`healthgate man | man -l -`).
    Man,
    /// Run only the Elasticsearch simulator (for tests and experiments).
    Simulate {
        /// The simulated Elasticsearch port.
        #[arg(long, default_value = "127.0.0.1:9200")]
        listen: std::net::SocketAddr,
        /// The control port (`PUT /mode/red`, `GET /stats`).
        #[arg(long, default_value = "127.0.0.1:9201")]
        control: std::net::SocketAddr,
        /// Initial mode.
        #[arg(long, default_value = "green")]
        mode: String,
    },
}

/// Errors a command reports before exiting non-zero.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The application could not start.
    #[error(transparent)]
    App(#[from] AppError),
    /// No configuration file was given.
    #[error("no configuration: pass --config FILE or set HEALTHGATE_CONFIG (try `healthgate demo` for a self-contained run)")]
    NoConfig,
    /// An I/O failure (listener, terminal).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A command-line value was invalid.
    #[error("{0}")]
    Usage(String),
}

/// Runs the chosen command.
pub async fn dispatch(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => run(cli.config).await,
        Command::CheckConfig => check_config(cli.config),
        Command::Probe { url, timeout } => Ok(probe(&url, timeout).await),
        Command::Demo { listen } => demo::run(listen).await,
        Command::Maint {
            action,
            url,
            token_file,
        } => maint::run(action, &url, token_file.as_ref()).await,
        Command::Dr {
            action,
            url,
            token_file,
        } => dr::run(action, &url, token_file.as_ref()).await,
        Command::Simulate { listen, control, mode } => simulate(listen, control, &mode).await,
        Command::Completions { shell } => {
            docs::completions(shell, &mut std::io::stdout().lock());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            docs::man(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(path: Option<PathBuf>) -> Result<Config, CliError> {
    let path = path.ok_or(CliError::NoConfig)?;
    Ok(Config::load(&path)?)
}

async fn run(path: Option<PathBuf>) -> Result<ExitCode, CliError> {
    let config = load(path)?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting");
    for line in summary(&config).lines() {
        tracing::info!("config: {line}");
    }
    let app = App::build(config).await?;
    tracing::info!(addr = %app.local_addr(), "listening");
    app.run(crate::shutdown::signal()).await?;
    Ok(ExitCode::SUCCESS)
}

fn check_config(path: Option<PathBuf>) -> Result<ExitCode, CliError> {
    let config = load(path)?;
    print!("configuration OK\n{}", summary(&config));
    for w in warnings(&config) {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// What a valid configuration may still get wrong.
pub fn warnings(c: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for ch in &c.checks {
        if let crate::config::CheckKind::Elasticsearch(es) = &ch.kind {
            if es.failback.as_ref().is_some_and(|f| f.state_file.is_none()) {
                out.push(format!(
                    "check {}: no state_file, so a restart forgets a latched failback gate (set state_file to keep it)",
                    ch.name
                ));
            }
        }
        if ch.scope == crate::config::Scope::Shared && !ch.critical {
            out.push(format!(
                "check {}: scope = \"shared\" on a non-critical check does nothing (its failure only warns already)",
                ch.name
            ));
        }
    }
    if c.fleet.as_ref().is_some_and(|f| f.guard)
        && !c.checks.is_empty()
        && !c.checks.iter().any(|ch| ch.scope == crate::config::Scope::Shared)
    {
        out.push("[fleet] guard is on but no check has scope = \"shared\": it has nothing to guard (the regional answer works regardless)".into());
    }
    out
}

/// A human summary of a configuration, with no secret values.
pub fn summary(c: &Config) -> String {
    let mut out = format!(
        "listen {}, show_details {:?}, status codes pass {} warn {} fail {}, shutdown grace {}\n",
        c.server.listen,
        c.server.show_details,
        c.server.status_codes.pass,
        c.server.status_codes.warn,
        c.server.status_codes.fail,
        humantime::format_duration(c.server.shutdown_grace)
    );
    for ch in &c.checks {
        let s = ch.schedule;
        let target = ch.kind.summary();
        out.push_str(&format!(
            "check {} [{}{}{}]: {target}; every {}, timeout {}, rise {}, fall {}, max_age {}\n",
            ch.name,
            ch.kind.name(),
            if ch.critical { "" } else { ", non-critical" },
            if ch.scope == crate::config::Scope::Shared {
                ", shared"
            } else {
                ""
            },
            humantime::format_duration(s.interval),
            humantime::format_duration(s.timeout),
            s.rise,
            s.fall,
            humantime::format_duration(s.max_age),
        ));
    }
    if let Some(f) = &c.fleet {
        let mut peers = vec![format!("{} listed", f.peers.len())];
        if let Some((name, port)) = &f.peers_dns {
            peers.push(format!(
                "every address of {name}:{port} (every {})",
                humantime::format_duration(f.resolve_interval)
            ));
        }
        out.push_str(&format!(
            "fleet{}: peers {}; every {}, timeout {}, {} per round; guard {} (quorum {}%, min_peers {}); /fleet passes with {} members serving\n",
            if c.checks.is_empty() { " (regional aggregator: reads every member)" } else { "" },
            peers.join(" and "),
            humantime::format_duration(f.interval),
            humantime::format_duration(f.timeout),
            if c.checks.is_empty() { "all".to_string() } else { f.sample.to_string() },
            if f.guard { "on" } else { "off" },
            f.shared_quorum,
            f.min_peers,
            f.min_healthy,
        ));
    }
    for n in &c.notify {
        let on: Vec<&str> = n.on.iter().map(|s| s.as_str()).collect();
        out.push_str(&format!(
            "notify {}: {}, on {}{}; at most one event per check every {}; {} attempts, {} timeout each{} (the URL is a secret: not shown)\n",
            n.name,
            match n.format {
                crate::config::NotifyFormat::Json => "json",
                crate::config::NotifyFormat::Slack => "slack",
            },
            on.join(", "),
            if n.send_resolved { " and resolved" } else { "" },
            humantime::format_duration(n.min_interval),
            n.max_attempts,
            humantime::format_duration(n.timeout),
            if n.signing_secret.is_some() { ", signed" } else { "" },
        ));
    }
    match &c.history.file {
        Some(f) => out.push_str(&format!(
            "history: kept in {} (saved every {} while it changes, and at shutdown)\n",
            f.display(),
            humantime::format_duration(c.history.save_interval)
        )),
        None => out.push_str("history: in memory only (lost on restart; set [history] file to keep it)\n"),
    }
    out
}

async fn probe(url: &str, timeout: Duration) -> ExitCode {
    let client = match reqwest::Client::builder().use_rustls_tls().timeout(timeout).build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("probe: cannot build client: {e}");
            return ExitCode::FAILURE;
        }
    };
    match client.get(url).send().await {
        Ok(resp) if resp.status().is_success() => {
            println!("{}", resp.status());
            ExitCode::SUCCESS
        }
        Ok(resp) => {
            println!("{}", resp.status());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("probe: {}", crate::checks::body::describe_reqwest_error(&e));
            ExitCode::FAILURE
        }
    }
}

async fn simulate(
    listen: std::net::SocketAddr,
    control: std::net::SocketAddr,
    mode: &str,
) -> Result<ExitCode, CliError> {
    let mode =
        crate::simulator::Mode::parse(mode).ok_or_else(|| CliError::Usage(format!("unknown mode \"{mode}\"")))?;
    let sim = crate::simulator::Simulator::start(listen).await?;
    sim.set_mode(mode).await?;
    let ctl = tokio::net::TcpListener::bind(control).await?;
    println!(
        "simulated Elasticsearch on {}, control on http://{}",
        sim.url(),
        ctl.local_addr()?
    );
    tokio::select! {
        r = crate::simulator::serve_control(ctl, sim.handle()) => r?,
        _ = crate::shutdown::signal() => {}
    }
    Ok(ExitCode::SUCCESS)
}
