//! `healthgate dr status|confirm`: a wrapper over `/admin/dr`, for the DR
//! runbook (the token as for `healthgate maint`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::CliError;

/// What to do with the failback gates.
#[derive(Debug, Subcommand)]
pub enum DrAction {
    /// Show every failback gate: latched or not, why, since when, the
    /// confirmation in force, the clusters seen.
    Status,
    /// Open a latched failback gate: traffic may return to this (primary)
    /// cluster although the secondary was promoted. Logged with the reason.
    Confirm {
        /// Why (e.g. "secondary's writes replayed to the primary, ticket 4711").
        #[arg(long)]
        reason: String,
        /// How long split leaders are accepted without latching again (e.g. 1h).
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// The failback check (needed when several run).
        #[arg(long)]
        check: Option<String>,
    },
}

pub(super) async fn run(action: DrAction, url: &str, token_file: Option<&PathBuf>) -> Result<ExitCode, CliError> {
    match action {
        DrAction::Status => super::maint::call(url, "/admin/dr", token_file, reqwest::Method::GET, None).await,
        DrAction::Confirm { reason, ttl, check } => {
            let mut body = serde_json::json!({ "reason": reason, "ttl": ttl });
            if let Some(c) = check {
                body["check"] = serde_json::json!(c);
            }
            super::maint::call(url, "/admin/dr/confirm", token_file, reqwest::Method::POST, Some(body)).await
        }
    }
}
