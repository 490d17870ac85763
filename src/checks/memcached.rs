//! `kind = "memcached"`: a `version` round trip over the text protocol (one line
//! each way; a client library would add nothing here).

use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::transport::io_reason;
use super::{Check, Observed, Outcome};
use crate::config::MemcachedConfig;

/// The Memcached check.
pub struct MemcachedCheck {
    address: String,
}

impl MemcachedCheck {
    /// Builds the check.
    pub fn new(cfg: &MemcachedConfig) -> Self {
        MemcachedCheck {
            address: cfg.address.clone(),
        }
    }
}

#[async_trait]
impl Check for MemcachedCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        let started = tokio::time::Instant::now();
        let mut stream = match TcpStream::connect(&self.address).await {
            Ok(s) => s,
            Err(e) => return Outcome::fail(format!("{}: {}", self.address, io_reason(&e))),
        };
        if let Err(e) = stream.write_all(b"version\r\n").await {
            return Outcome::fail(format!("{}: {}", self.address, io_reason(&e)));
        }
        let mut line = String::new();
        let mut reader = BufReader::new(stream).take(256);
        match reader.read_line(&mut line).await {
            Ok(_) if line.starts_with("VERSION ") => {
                let elapsed = started.elapsed();
                Outcome::pass(format!("{}: memcached {}", self.address, line[8..].trim()))
                    .with_observed(Observed::millis(elapsed))
            }
            Ok(0) => Outcome::fail(format!("{}: connection closed by the server", self.address)),
            Ok(_) => Outcome::fail(format!(
                "{}: unexpected answer \"{}\"",
                self.address,
                super::transport::one_line(&line)
            )),
            Err(e) => Outcome::fail(format!("{}: {}", self.address, io_reason(&e))),
        }
    }

    fn measurement(&self) -> &'static str {
        "responseTime"
    }

    fn component_type(&self) -> &'static str {
        "datastore"
    }
}
