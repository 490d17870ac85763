//! One read of one peer's `/fleet/self`, bounded in time and size; every way it
//! can go wrong becomes one short reason in the shared transport vocabulary.

use std::time::Duration;

use super::wire::{self, PeerAnswer, MAX_ANSWER};

/// The client every peer read goes through: kept-alive connections (one per
/// peer), no proxy from the environment, no redirects.
pub(super) fn client(interval: Duration, timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(interval * 3)
        .user_agent(concat!("healthgate/", env!("CARGO_PKG_VERSION"), " fleet"))
        .build()
        .map_err(|e| format!("cannot build the fleet HTTP client: {e}"))
}

/// Reads `http://{address}/fleet/self` within `timeout`.
pub(super) async fn read(client: &reqwest::Client, address: &str, timeout: Duration) -> Result<PeerAnswer, String> {
    match tokio::time::timeout(timeout, attempt(client, address)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "{address}: no answer within {}",
            humantime::format_duration(timeout)
        )),
    }
}

async fn attempt(client: &reqwest::Client, address: &str) -> Result<PeerAnswer, String> {
    let url = format!("http://{address}/fleet/self");
    let mut resp = client
        .get(&url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("{address}: {}", crate::checks::body::describe_reqwest_error(&e)))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!(
            "{address}: answered HTTP {} to /fleet/self (is it a healthgate of this version?)",
            status.as_u16()
        ));
    }
    if resp.content_length().is_some_and(|n| n > MAX_ANSWER as u64) {
        return Err(format!("{address}: answer larger than {} KiB", MAX_ANSWER / 1024));
    }
    let mut body = Vec::with_capacity(1024);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("{address}: {}", crate::checks::body::describe_reqwest_error(&e)))?
    {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(format!("{address}: answer larger than {} KiB", MAX_ANSWER / 1024));
        }
        body.extend_from_slice(&chunk);
    }
    wire::parse(&body).map_err(|e| format!("{address}: {e}"))
}
