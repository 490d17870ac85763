//! `healthgate man` and `healthgate completions`: the manual page and the shell
//! completions, generated from the command-line definitions (clap) and the
//! configuration's key tables, so neither can drift from the binary. The
//! Debian package (`scripts/package`) ships what these print.
//!
//! clap_mangen renders the title, synopsis, global options and version; it
//! documents only the top-level command, so the subcommands (with their own
//! arguments), the configuration keys and the operational sections are
//! rendered here with the `roff` builder it re-exports (which does the escaping).

use std::io::Write;

use clap::{Arg, Command, CommandFactory};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};

use super::Cli;
use crate::config::{FleetConfig, ServerConfig, KINDS, SHARED_KEYS};

const DESCRIPTION: &str = "\
healthgate runs beside an application instance (or an Elasticsearch node) and checks, \
in the background and on a fixed schedule, what decides whether that instance should get \
traffic: Elasticsearch (cluster colour, nodes, shards, cross-cluster replication), the \
application over HTTP or gRPC, PostgreSQL, MySQL, Redis, Memcached, TCP, DNS and commands. \
It keeps the latest results in memory and serves them to load balancers (HAProxy httpchk and \
agent-check), Kubernetes and Docker probes (HTTP and gRPC), Route 53 and Prometheus. A health request never \
calls a dependency: it reads the latest snapshot, so the load on every dependency is set by \
the schedule, not by the number of probes.";

/// Writes the completion script for `shell` (bash, zsh, fish, elvish, powershell).
pub(super) fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "healthgate", out);
}

/// Writes the manual page healthgate(1), as roff.
pub(super) fn man(out: &mut dyn Write) -> std::io::Result<()> {
    let cmd = Cli::command().long_about(DESCRIPTION);
    let page = clap_mangen::Man::new(cmd.clone()).manual("healthgate manual");
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    let mut roff = Roff::new();
    commands(&mut roff, &cmd);
    configuration(&mut roff);
    operations(&mut roff);
    roff.to_writer(out)?;
    page.render_version_section(out)
}

/// COMMANDS: every subcommand with its own arguments (nested ones included).
fn commands(roff: &mut Roff, cmd: &Command) {
    roff.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        subcommand(roff, "healthgate", sub);
    }
}

fn subcommand(roff: &mut Roff, parent: &str, sub: &Command) {
    let name = format!("{parent} {}", sub.get_name());
    let mut usage = vec![bold(name.clone())];
    for a in sub.get_positionals() {
        usage.push(roman(" "));
        usage.push(italic(value_name(a)));
    }
    if sub.has_subcommands() {
        usage.push(roman(" "));
        usage.push(italic("ACTION"));
    }
    roff.control("SS", [name.as_str()]);
    if usage.len() > 1 {
        roff.text(usage);
        roff.control("PP", []);
    }
    if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
        roff.text([roman(about.to_string())]);
    }
    for a in sub.get_arguments().filter(|a| !a.is_hide_set()) {
        argument(roff, a);
    }
    for action in sub.get_subcommands() {
        roff.control("TP", []);
        roff.text([bold(format!("{name} {}", action.get_name()))]);
        roff.text([roman(action.get_about().map(|s| s.to_string()).unwrap_or_default())]);
    }
}

fn value_name(a: &Arg) -> String {
    a.get_value_names()
        .and_then(|v| v.first())
        .map(|s| s.to_string())
        .unwrap_or_else(|| a.get_id().as_str().to_uppercase())
}

fn argument(roff: &mut Roff, a: &Arg) {
    let mut head: Vec<Inline> = Vec::new();
    match a.get_long() {
        Some(long) => {
            head.push(bold(format!("--{long}")));
            if a.get_action().takes_values() {
                head.push(roman(" "));
                head.push(italic(value_name(a)));
            }
        }
        None => head.push(italic(value_name(a))),
    }
    roff.control("TP", []);
    roff.text(head);
    let mut help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|d| d.to_string_lossy().into())
        .collect();
    if !defaults.is_empty() {
        help.push_str(&format!(" [default: {}]", defaults.join(", ")));
    }
    roff.text([roman(help)]);
}

/// The keys a table takes, with secrets shown as their `_env`/`_file` forms
/// (an inline secret is refused, so it is not offered).
fn keys(list: &[&str]) -> String {
    list.iter()
        .filter(|k| !list.contains(&format!("{k}_env").as_str()))
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// CONFIGURATION: every section and key, from the tables the parser uses.
fn configuration(roff: &mut Roff) {
    roff.control("SH", ["CONFIGURATION"]);
    // Key names, paths and URLs are copied from here: never hyphenated or
    // stretched (to the end of the page).
    roff.control("nh", []);
    roff.control("ad", ["l"]);
    roff.text([roman(
        "One TOML or YAML file (--config or $HEALTHGATE_CONFIG). Every key is checked at start and \
         on reload: an unknown key, a wrong type or a missing required key is an error that names \
         it, and a rejected reload keeps the running configuration. Any key can be overridden \
         from the environment: HEALTHGATE__SERVER__LISTEN, HEALTHGATE__CHECKS__<NAME>__TIMEOUT (the check's name, - written as _). Secrets \
         are never inline: each secret key has an _env form (an environment variable name) and a \
         _file form (a path). A commented example of every kind is in \
         /usr/share/doc/healthgate/examples/healthgate.toml; healthgate check-config validates a \
         file and prints what it understood.",
    )]);
    let section = |roff: &mut Roff, title: &str, body: String| {
        roff.control("TP", []);
        roff.text([bold(title.to_string())]);
        roff.text([roman(body)]);
    };
    section(roff, "[server]", keys(ServerConfig::KEYS));
    section(roff, "[server.status_codes]", keys(ServerConfig::STATUS_CODE_KEYS));
    section(roff, "[server.agent_replies]", keys(ServerConfig::AGENT_REPLY_KEYS));
    section(roff, "[server.tls]", keys(crate::config::TlsConfig::KEYS));
    section(roff, "[server.auth]", keys(crate::config::AuthConfig::KEYS));
    section(roff, "[fleet]", keys(FleetConfig::KEYS));
    section(
        roff,
        "[[notify]]",
        format!("{} (one per webhook)", keys(crate::config::NotifyConfig::KEYS)),
    );
    section(roff, "[history]", keys(crate::config::HistoryConfig::KEYS));
    let schedule: Vec<&str> = SHARED_KEYS
        .iter()
        .copied()
        .filter(|k| !matches!(*k, "name" | "kind" | "critical" | "scope" | "max_age"))
        .collect();
    section(
        roff,
        "[defaults]",
        format!("{} (defaults for every check)", keys(&schedule)),
    );
    section(roff, "[[checks]], every kind", keys(SHARED_KEYS));
    for kind in KINDS {
        section(roff, &format!("kind = \"{}\"", kind.name), keys(kind.keys));
    }
}

/// Endpoints, signals, files, exit status.
fn operations(roff: &mut Roff) {
    let items = |roff: &mut Roff, title: &str, rows: &[(&str, &str)]| {
        roff.control("SH", [title]);
        for (term, text) in rows {
            roff.control("TP", []);
            roff.text([bold(*term)]);
            roff.text([roman(*text)]);
        }
    };
    items(roff, "ENDPOINTS", crate::http::ENDPOINTS);
    items(
        roff,
        "SIGNALS",
        &[
            (
                "SIGHUP",
                "Re-read the configuration; an invalid file is rejected and logged, the running one stays.",
            ),
            (
                "SIGTERM, SIGINT",
                "Drain: readiness fails at once, requests are served for server.shutdown_grace, then exit 0.",
            ),
        ],
    );
    items(
        roff,
        "FILES",
        &[
            (
                "/etc/healthgate/healthgate.toml",
                "The configuration the packaged service reads.",
            ),
            (
                "/etc/default/healthgate",
                "Environment for the service (mode 0600): the secrets named by the _env keys.",
            ),
            (
                "/lib/systemd/system/healthgate.service",
                "The hardened systemd unit (not enabled on install).",
            ),
            (
                "/var/lib/healthgate/",
                "The unit's state directory: where a failback gate's state_file keeps its latch across restarts.",
            ),
        ],
    );
    items(
        roff,
        "EXIT STATUS",
        &[
            ("0", "Success (run: after a drain; probe: a 2xx answer)."),
            ("1", "probe: a non-2xx answer or no answer."),
            (
                "2",
                "An error: invalid configuration, a listener that cannot bind, bad arguments.",
            ),
        ],
    );
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "haproxy(1), prometheus(1), systemd.service(5); /usr/share/doc/healthgate/README.md.",
    )]);
}
