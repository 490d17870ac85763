//! A small typed Elasticsearch client: node failover, credentials, TLS, a body cap.
//!
//! Nodes are tried in order and the first one that gives an HTTP answer wins, even
//! an error answer: a node that says "no master" is telling the truth about the
//! cluster it sees. Only transport failures (refused, reset, TLS, no answer within
//! the node's share of the budget) move on to the next node. The budget is shared
//! evenly between the nodes still to try, so one hung node cannot use up the time
//! the next one needs.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use tokio::time::Instant;

use crate::checks::body::{describe_reqwest_error, node_label, read_capped};
use crate::config::{EsAuth, EsConfig};

/// One HTTP answer from one node.
#[derive(Debug)]
pub struct Answer {
    /// `scheme://host:port` of the node that answered.
    pub node: String,
    /// HTTP status.
    pub status: StatusCode,
    /// Body, at most the configured cap.
    pub body: Bytes,
}

/// Why no node gave a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Every node failed at the transport level.
    #[error("{}", describe_all(.0))]
    Unreachable(Vec<(String, String)>),
    /// A node answered, but its body broke the cap or the connection broke mid-body.
    #[error("{node}: {message}")]
    Body {
        /// The node.
        node: String,
        /// What went wrong.
        message: String,
    },
}

fn describe_all(failures: &[(String, String)]) -> String {
    match failures {
        [(node, why)] => format!("{node}: {why}"),
        many => format!(
            "all {} nodes failed: {}",
            many.len(),
            many.iter()
                .map(|(n, w)| format!("{n}: {w}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// The client; cheap to share, keeps connections alive between rounds.
pub struct EsClient {
    http: reqwest::Client,
    urls: Vec<Url>,
    max_body: usize,
    auth: EsAuth,
}

impl EsClient {
    /// Builds the client; fails on an unreadable or invalid CA file.
    pub fn new(cfg: &EsConfig) -> Result<Self, String> {
        let mut headers = HeaderMap::new();
        match &cfg.auth {
            // Basic credentials are added per request by reqwest, which marks them sensitive.
            EsAuth::None | EsAuth::Basic { .. } => {}
            EsAuth::ApiKey(key) => {
                let mut v = HeaderValue::from_str(&format!("ApiKey {}", key.expose()))
                    .map_err(|_| "the API key contains characters not allowed in a header".to_string())?;
                v.set_sensitive(true);
                headers.insert(AUTHORIZATION, v);
            }
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1)
            .user_agent(concat!("healthgate/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(cfg.tls_insecure_skip_verify);
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).map_err(|e| format!("ca_file \"{}\": {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("ca_file \"{}\": not a PEM certificate: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("ca_file \"{}\": no certificate found", path.display()));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(EsClient {
            http,
            urls: cfg.urls.clone(),
            max_body: cfg.max_body_bytes,
            auth: cfg.auth.clone(),
        })
    }

    /// Sends `method path_and_query` to the nodes in order within `budget`.
    pub async fn request(&self, method: Method, path_and_query: &str, budget: Duration) -> Result<Answer, ClientError> {
        let deadline = Instant::now() + budget;
        let mut failures = Vec::new();
        for (i, base) in self.urls.iter().enumerate() {
            let node = node_label(base);
            let left = deadline.saturating_duration_since(Instant::now());
            let share = left / (self.urls.len() - i) as u32;
            let url = match base.join(path_and_query.trim_start_matches('/')) {
                Ok(u) => u,
                Err(e) => {
                    failures.push((node, format!("invalid request path: {e}")));
                    continue;
                }
            };
            let mut req = self.http.request(method.clone(), url);
            if let EsAuth::Basic { username, password } = &self.auth {
                req = req.basic_auth(username, Some(password.expose()));
            }
            // The last node gets no timeout of its own: the scheduler's timeout ends it,
            // with a reason that names the check's timeout.
            let is_last = i + 1 == self.urls.len();
            let send = req.send();
            let sent = if is_last {
                Ok(send.await)
            } else {
                tokio::time::timeout(share, send).await
            };
            let resp = match sent {
                Ok(Ok(resp)) => resp,
                Ok(Err(e)) => {
                    failures.push((node, describe_reqwest_error(&e)));
                    continue;
                }
                Err(_) => {
                    failures.push((node, format!("no answer within {}", humantime::format_duration(share))));
                    continue;
                }
            };
            let status = resp.status();
            // The body read is bounded by the scheduler's timeout of the whole run.
            let body = read_capped(resp, self.max_body).await.map_err(|e| ClientError::Body {
                node: node.clone(),
                message: e.to_string(),
            })?;
            return Ok(Answer { node, status, body });
        }
        Err(ClientError::Unreachable(failures))
    }
}
