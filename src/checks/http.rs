//! `kind = "http"`: the local application (or any HTTP endpoint) answers with an
//! expected status and, optionally, a body containing a given text.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::body::{describe_reqwest_error, node_label, read_capped};
use super::{Check, Fact, Observed, Outcome};
use crate::config::{HttpConfig, HttpMethod};

/// The HTTP check.
pub struct HttpCheck {
    cfg: HttpConfig,
    client: reqwest::Client,
}

impl HttpCheck {
    /// Builds the check with its own connection pool.
    pub fn new(cfg: &HttpConfig) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1)
            .user_agent(concat!("healthgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(HttpCheck {
            cfg: cfg.clone(),
            client,
        })
    }
}

#[async_trait]
impl Check for HttpCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        let started = Instant::now();
        let method = match self.cfg.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Head => reqwest::Method::HEAD,
        };
        let target = node_label(&self.cfg.url);
        let resp = match self.client.request(method, self.cfg.url.clone()).send().await {
            Ok(r) => r,
            Err(e) => return Outcome::fail(format!("{target}: {}", describe_reqwest_error(&e))),
        };
        let code = resp.status().as_u16();
        let expected = self.cfg.expect_status.iter().any(|p| p.matches(code));
        let needs_body = self.cfg.body_contains.is_some();
        let body = if needs_body {
            match read_capped(resp, self.cfg.max_body_bytes).await {
                Ok(b) => Some(b),
                Err(e) => return Outcome::fail(format!("{target}: HTTP {code}, {e}")),
            }
        } else {
            None
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let observed = Observed::Number((ms * 10.0).round() / 10.0, "ms");
        let mut o = if !expected {
            Outcome::fail(format!("{target}: unexpected HTTP status {code}"))
        } else if let (Some(needle), Some(body)) = (&self.cfg.body_contains, &body) {
            if String::from_utf8_lossy(body).contains(needle.as_str()) {
                Outcome::pass(format!("{target}: HTTP {code}, body matched"))
            } else {
                Outcome::fail(format!(
                    "{target}: HTTP {code}, body does not contain the expected text"
                ))
            }
        } else {
            Outcome::pass(format!("{target}: HTTP {code}"))
        };
        o.observed = Some(observed);
        o.measure(Fact::HttpStatus, f64::from(code));
        o
    }

    fn measurement(&self) -> &'static str {
        "responseTime"
    }
}
