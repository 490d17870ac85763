//! `kind = "tcp"`: a TCP connection to `address` opens.

use std::time::Duration;

use async_trait::async_trait;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{Check, Observed, Outcome};
use crate::config::TcpConfig;

/// The TCP check.
pub struct TcpCheck {
    address: String,
}

impl TcpCheck {
    /// Builds the check.
    pub fn new(cfg: &TcpConfig) -> Self {
        TcpCheck {
            address: cfg.address.clone(),
        }
    }
}

#[async_trait]
impl Check for TcpCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        let started = Instant::now();
        match TcpStream::connect(&self.address).await {
            Ok(_) => {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                Outcome::pass(format!("connected to {}", self.address))
                    .with_observed(Observed::Number((ms * 10.0).round() / 10.0, "ms"))
            }
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                    _ => e.to_string(),
                };
                Outcome::fail(format!("{}: {why}", self.address))
            }
        }
    }

    fn measurement(&self) -> &'static str {
        "connectTime"
    }
}
