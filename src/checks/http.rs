//! `kind = "http"`: the local application (or any HTTP endpoint) answers with an
//! expected status and, optionally, a body containing a text or a JSON value at a
//! pointer. Header values from `headers_env`/`headers_file` are secrets: sent,
//! never shown.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

use super::body::{describe_reqwest_error, read_capped, read_prefix};
use super::{Check, Fact, Observed, Outcome};
use crate::config::node_label;
use crate::config::{HttpConfig, HttpMethod};

/// The HTTP check.
pub struct HttpCheck {
    cfg: HttpConfig,
    client: reqwest::Client,
}

impl HttpCheck {
    /// Builds the check with its own connection pool.
    pub fn new(cfg: &HttpConfig) -> Result<Self, String> {
        let mut headers = HeaderMap::new();
        for (name, value) in &cfg.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header \"{name}\": {e}"))?;
            let mut v = HeaderValue::from_str(value.expose())
                .map_err(|_| format!("header \"{name}\": the value is not a valid header value"))?;
            v.set_sensitive(value.is_secret());
            headers.insert(name, v);
        }
        let redirects = match cfg.max_redirects {
            0 => reqwest::redirect::Policy::none(),
            n => reqwest::redirect::Policy::limited(n),
        };
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .default_headers(headers)
            .redirect(redirects)
            .pool_max_idle_per_host(1)
            .user_agent(concat!("healthgate/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(cfg.tls_insecure_skip_verify);
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).map_err(|e| format!("ca_file \"{}\": {e}", path.display()))?;
            for c in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("ca_file \"{}\": not a PEM certificate: {e}", path.display()))?
            {
                builder = builder.add_root_certificate(c);
            }
        }
        if let Some((cert, key)) = &cfg.client_cert {
            let mut pem = std::fs::read(cert).map_err(|e| format!("client_cert_file \"{}\": {e}", cert.display()))?;
            pem.extend(std::fs::read(key).map_err(|e| format!("client_key_file \"{}\": {e}", key.display()))?);
            let id = reqwest::Identity::from_pem(&pem).map_err(|e| format!("client certificate: {e}"))?;
            builder = builder.identity(id);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(HttpCheck {
            cfg: cfg.clone(),
            client,
        })
    }

    fn judge_body(&self, body: &[u8]) -> Result<&'static str, String> {
        if let Some(needle) = &self.cfg.body_contains {
            if !String::from_utf8_lossy(body).contains(needle.as_str()) {
                return Err("body does not contain the expected text".into());
            }
        }
        if let Some((pointer, want)) = &self.cfg.body_json {
            let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
            match v.pointer(pointer) {
                Some(got) if got == want => {}
                Some(got) => {
                    let got = super::transport::one_line(&got.to_string());
                    return Err(format!("{pointer} is {got}, expected {want}"));
                }
                None => return Err(format!("{pointer} is missing from the body")),
            }
        }
        Ok("body matched")
    }
}

#[async_trait]
impl Check for HttpCheck {
    async fn run(&self, budget: Duration) -> Outcome {
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
        let needs_body = expected && (self.cfg.body_contains.is_some() || self.cfg.body_json.is_some());
        let verdict = if !expected {
            // What the server said about it, if it says it at once; never more
            // than a quarter of the budget, so the status still reaches the reason.
            let said = read_prefix(resp, 512, (budget / 4).min(Duration::from_millis(250))).await;
            let said = super::transport::one_line(&String::from_utf8_lossy(&said));
            if said.is_empty() {
                Err(format!("unexpected HTTP status {code} (empty body)"))
            } else {
                Err(format!("unexpected HTTP status {code}: {said}"))
            }
        } else if needs_body {
            match read_capped(resp, self.cfg.max_body_bytes).await {
                Ok(b) => self.judge_body(&b),
                Err(e) => Err(e.to_string()),
            }
        } else {
            Ok("")
        };
        let elapsed = started.elapsed();
        let mut o = match verdict {
            Ok("") => Outcome::pass(format!("{target}: HTTP {code}")),
            Ok(note) => Outcome::pass(format!("{target}: HTTP {code}, {note}")),
            Err(why) if !expected => Outcome::fail(format!("{target}: {why}")),
            Err(why) => Outcome::fail(format!("{target}: HTTP {code}, {why}")),
        };
        o.observed = Some(Observed::millis(elapsed));
        o.measure(Fact::HttpStatus, f64::from(code));
        o
    }

    fn measurement(&self) -> &'static str {
        "responseTime"
    }
}
