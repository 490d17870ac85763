//! `healthgate maint on|off|status`: a wrapper over `/admin/maintenance`.
//!
//! The token comes from `HEALTHGATE_ADMIN_TOKEN` or `--token-file`, never from
//! the command line (where `ps` would show it).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::CliError;
use crate::secret::Secret;

/// What to do with maintenance.
#[derive(Debug, Subcommand)]
pub enum MaintAction {
    /// Enter maintenance: /healthz answers 503, the agent says `maint`.
    On {
        /// How long; it ends by itself (e.g. 15m, 2h).
        #[arg(long)]
        ttl: String,
        /// Why (shown to HAProxy and in /healthz).
        #[arg(long)]
        reason: String,
    },
    /// Leave maintenance now.
    Off,
    /// Show the current state.
    Status,
}

fn token(file: Option<&PathBuf>) -> Result<Secret, CliError> {
    match file {
        Some(path) => Secret::from_file(&path.display().to_string()).map_err(CliError::Usage),
        None => Secret::from_env("HEALTHGATE_ADMIN_TOKEN")
            .map_err(|e| CliError::Usage(format!("{e}; set it or pass --token-file FILE"))),
    }
}

pub(super) async fn run(action: MaintAction, url: &str, token_file: Option<&PathBuf>) -> Result<ExitCode, CliError> {
    let (method, body) = match &action {
        MaintAction::On { ttl, reason } => (
            reqwest::Method::POST,
            Some(serde_json::json!({ "reason": reason, "ttl": ttl })),
        ),
        MaintAction::Off => (reqwest::Method::DELETE, None),
        MaintAction::Status => (reqwest::Method::GET, None),
    };
    call(url, "/admin/maintenance", token_file, method, body).await
}

/// One request to a running healthgate's admin API with the admin token; the
/// answer is printed, and a non-2xx answer is a failing exit.
pub(super) async fn call(
    url: &str,
    path: &str,
    token_file: Option<&PathBuf>,
    method: reqwest::Method,
    body: Option<serde_json::Value>,
) -> Result<ExitCode, CliError> {
    let token = token(token_file)?;
    let endpoint = format!("{}{path}", url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| CliError::Usage(format!("cannot build the HTTP client: {e}")))?;
    let mut req = client.request(method, &endpoint);
    if let Some(body) = body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let resp = req.bearer_auth(token.expose()).send().await.map_err(|e| {
        CliError::Usage(format!(
            "{endpoint}: {}",
            crate::checks::body::describe_reqwest_error(&e)
        ))
    })?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    println!("{}", body.trim_end());
    if status.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("healthgate answered {status}");
        Ok(ExitCode::FAILURE)
    }
}
