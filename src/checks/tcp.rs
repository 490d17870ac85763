//! `kind = "tcp"`: a TCP connection to `address` opens; optionally `send` a
//! string and `expect` one in what comes back (banner checks), reading at most
//! 4 KiB.

use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::transport::io_reason;
use super::{Check, Observed, Outcome};
use crate::config::TcpConfig;

const MAX_READ: usize = 4096;

/// The TCP check.
pub struct TcpCheck {
    cfg: TcpConfig,
}

impl TcpCheck {
    /// Builds the check.
    pub fn new(cfg: &TcpConfig) -> Self {
        TcpCheck { cfg: cfg.clone() }
    }

    /// Sends and reads until the expected text, the end of the stream, 4 KiB, or
    /// nine tenths of the budget: stopping just before the scheduler's timeout lets
    /// the reason say what the server did send.
    async fn converse(&self, stream: &mut TcpStream, budget: Duration) -> Result<(), String> {
        let reading_budget = Duration::from_millis((budget.as_millis() * 9 / 10) as u64);
        let deadline = Instant::now() + reading_budget;
        if let Some(send) = &self.cfg.send {
            stream
                .write_all(send.as_bytes())
                .await
                .map_err(|e| format!("sending: {e}"))?;
        }
        let Some(expect) = &self.cfg.expect else { return Ok(()) };
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        let ended = loop {
            if got.len() >= MAX_READ {
                break format!("no {expect:?} in the first {MAX_READ} bytes");
            }
            let n = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => break format!("reading: {}", io_reason(&e)),
                Err(_) => {
                    break format!("no {expect:?} within {}", humantime::format_duration(reading_budget));
                }
            };
            if n == 0 {
                break format!("connection closed before {expect:?} arrived");
            }
            got.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&got).contains(expect.as_str()) {
                return Ok(());
            }
        };
        let seen = super::transport::one_line(&String::from_utf8_lossy(&got));
        Err(format!("{ended} (got \"{seen}\")"))
    }
}

#[async_trait]
impl Check for TcpCheck {
    async fn run(&self, budget: Duration) -> Outcome {
        let started = Instant::now();
        let address = &self.cfg.address;
        let mut stream = match TcpStream::connect(address).await {
            Ok(s) => s,
            Err(e) => return Outcome::fail(format!("{address}: {}", io_reason(&e))),
        };
        if let Err(why) = self.converse(&mut stream, budget).await {
            return Outcome::fail(format!("{address}: {why}"));
        }
        let elapsed = started.elapsed();
        let what = if self.cfg.expect.is_some() {
            "banner matched"
        } else {
            "connected"
        };
        Outcome::pass(format!("{what}: {address}")).with_observed(Observed::millis(elapsed))
    }

    fn measurement(&self) -> &'static str {
        "connectTime"
    }
}
