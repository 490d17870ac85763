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
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use tokio::time::Instant;

use crate::checks::body::{describe_reqwest_error, read_capped};
use crate::config::node_label;
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

/// The client for one request path; keeps connections alive between rounds.
pub struct EsClient {
    http: reqwest::Client,
    /// Per node: the full request URL and the node's label, made once.
    targets: Vec<(Url, String)>,
    /// The nodes' base URLs, for requests to other paths ([`EsClient::get`]).
    bases: Vec<Url>,
    max_body: usize,
    auth: EsAuth,
    api_key: Option<HeaderValue>,
    /// Query parameters that bound the server's own waits, set per request to
    /// most of the node's share of the budget.
    waits: &'static [&'static str],
    /// Which nodes this round sent a request to.
    pub attempts: std::sync::Arc<crate::checks::Attempts>,
    /// This client's first node's position among the check's targets.
    first_target: usize,
}

/// One HTTP client (and connection pool) per distinct TLS setup, shared by every
/// Elasticsearch check that uses it: 1,000 checks against one cluster hold a
/// handful of connections and one TLS configuration, not 1,000 of each.
/// Credentials are per request, so sharing never mixes them.
fn shared_client(ca_file: Option<&std::path::Path>, insecure: bool) -> Result<reqwest::Client, String> {
    type Key = (Option<std::path::PathBuf>, bool);
    static CLIENTS: OnceLock<Mutex<HashMap<Key, reqwest::Client>>> = OnceLock::new();
    let key = (ca_file.map(|p| p.to_path_buf()), insecure);
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(c) = clients.get(&key) {
        return Ok(c.clone());
    }
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(32)
        .user_agent(concat!("healthgate/", env!("CARGO_PKG_VERSION")))
        .danger_accept_invalid_certs(insecure);
    if let Some(path) = ca_file {
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
    let client = builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    clients.insert(key, client.clone());
    Ok(client)
}

impl EsClient {
    /// Builds the client for `path_and_query` on every node; fails on an
    /// unreadable or invalid CA file. `waits` names the API's wait parameters
    /// (`master_timeout`, `timeout`), sent with every request so that the
    /// server answers within the check's budget.
    pub fn new(cfg: &EsConfig, path_and_query: &str, waits: &'static [&'static str]) -> Result<Self, String> {
        // Joined once, not per round: URL parsing was 2 % of a round's work.
        let targets = cfg
            .urls
            .iter()
            .map(|base| {
                let url = base
                    .join(path_and_query.trim_start_matches('/'))
                    .map_err(|e| format!("{}: invalid request path \"{path_and_query}\": {e}", node_label(base)))?;
                Ok((url, node_label(base)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let api_key = match &cfg.auth {
            // Basic credentials are added per request by reqwest, which marks them sensitive.
            EsAuth::None | EsAuth::Basic { .. } => None,
            EsAuth::ApiKey(key) => {
                let mut v = HeaderValue::from_str(&format!("ApiKey {}", key.expose()))
                    .map_err(|_| "the API key contains characters not allowed in a header".to_string())?;
                v.set_sensitive(true);
                Some(v)
            }
        };
        Ok(EsClient {
            http: shared_client(cfg.ca_file.as_deref(), cfg.tls_insecure_skip_verify)?,
            targets,
            bases: cfg.urls.clone(),
            max_body: cfg.max_body_bytes,
            auth: cfg.auth.clone(),
            api_key,
            waits,
            attempts: Default::default(),
            first_target: 0,
        })
    }

    /// Records attempts in `attempts`, as targets `first_target..` (a check
    /// with two clusters counts both on one record).
    pub fn sharing_attempts(mut self, attempts: std::sync::Arc<crate::checks::Attempts>, first_target: usize) -> Self {
        self.attempts = attempts;
        self.first_target = first_target;
        self
    }

    /// `GET path_and_query` on the nodes in order within `budget`, with the
    /// wait parameters `waits` bounded by it.
    pub async fn get(&self, path_and_query: &str, waits: &[&str], budget: Duration) -> Result<Answer, ClientError> {
        let mut targets = Vec::with_capacity(self.bases.len());
        for (base, (_, node)) in self.bases.iter().zip(&self.targets) {
            match base.join(path_and_query.trim_start_matches('/')) {
                Ok(u) => targets.push((u, node.clone())),
                Err(e) => {
                    return Err(ClientError::Unreachable(vec![(
                        node.clone(),
                        format!("invalid request path \"{path_and_query}\": {e}"),
                    )]))
                }
            }
        }
        self.send(Method::GET, &targets, waits, budget).await
    }

    /// `url` with the wait parameters set to three quarters of `share`, which
    /// leaves the answer a quarter to travel back.
    fn url_within(url: &Url, waits: &[&str], share: Duration) -> Url {
        let mut url = url.clone();
        if !waits.is_empty() {
            let ms = format!("{}ms", (share.as_millis() * 3 / 4).max(1));
            let mut q = url.query_pairs_mut();
            for key in waits {
                q.append_pair(key, &ms);
            }
        }
        url
    }

    /// Sends `method` for the client's path to the nodes in order within `budget`.
    pub async fn request(&self, method: Method, budget: Duration) -> Result<Answer, ClientError> {
        self.send(method, &self.targets, self.waits, budget).await
    }

    async fn send(
        &self,
        method: Method,
        targets: &[(Url, String)],
        waits: &[&str],
        budget: Duration,
    ) -> Result<Answer, ClientError> {
        let deadline = Instant::now() + budget;
        let mut failures = Vec::new();
        for (i, (url, node)) in targets.iter().enumerate() {
            let node = node.clone();
            let left = deadline.saturating_duration_since(Instant::now());
            let share = left / (targets.len() - i) as u32;
            let mut req = self.http.request(method.clone(), Self::url_within(url, waits, share));
            if let EsAuth::Basic { username, password } = &self.auth {
                req = req.basic_auth(username, Some(password.expose()));
            }
            if let Some(key) = &self.api_key {
                req = req.header(AUTHORIZATION, key.clone());
            }
            // The last node gets no timeout of its own: the scheduler's timeout ends it,
            // with a reason that names the check's timeout.
            let is_last = i + 1 == targets.len();
            self.attempts.mark(self.first_target + i);
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
