//! `kind = "grpc"`: `grpc.health.v1.Health/Check` for one service, over one
//! HTTP/2 connection (plain, or TLS with ALPN `h2`) kept across rounds
//! (`checks::h2` says why it is not tonic's `Channel`).
//!
//! SERVING passes; NOT_SERVING, UNKNOWN and SERVICE_UNKNOWN fail with that
//! word; a gRPC status (NOT_FOUND, UNIMPLEMENTED, ...) fails with its name and
//! the server's message; an HTTP answer that is not gRPC says what it was;
//! transport failures use the shared vocabulary, with what a connection that
//! closes before its first answer most likely means.

use std::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::Uri;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};

use super::h2;
use super::reused::Reused;
use super::transport::{io_in_chain, one_line, words};
use super::{Check, Observed, Outcome};
use crate::config::GrpcConfig;
use crate::proto::health::health_check_response::ServingStatus;
use crate::proto::health::health_client::HealthClient;
use crate::proto::health::HealthCheckRequest;

/// The largest answer read: a `HealthCheckResponse` is a few bytes.
const MAX_MESSAGE: usize = 64 * 1024;
/// The largest header block accepted from the server.
const MAX_HEADERS: u32 = 64 * 1024;

/// The gRPC check.
pub struct GrpcCheck {
    address: String,
    service: String,
    origin: Uri,
    tls: Option<Tls>,
    metadata: Vec<(AsciiMetadataKey, AsciiMetadataValue)>,
    conn: Reused<h2::Conn>,
}

impl GrpcCheck {
    /// Builds the check (no connection yet): the TLS configuration with its
    /// files read, and the metadata checked.
    pub fn new(cfg: &GrpcConfig) -> Result<Self, String> {
        let scheme = if cfg.tls { "https" } else { "http" };
        let authority = cfg.authority.as_deref().unwrap_or(&cfg.address);
        let origin = Uri::try_from(format!("{scheme}://{authority}"))
            .map_err(|e| format!("invalid authority \"{authority}\": {e}"))?;
        let tls = if cfg.tls {
            let identity = cfg.client_cert.as_ref().map(|(c, k)| (c.as_path(), k.as_path()));
            let mut config = super::tls::client_config_with(cfg.ca_file.as_deref(), identity)?;
            config.alpn_protocols = vec![b"h2".to_vec()];
            let asked = super::tls::note_certificate_requests(&mut config);
            let name = ServerName::try_from(cfg.server_name().to_string())
                .map_err(|_| format!("\"{}\" is not a valid TLS server name", cfg.server_name()))?;
            Some(Tls {
                connector: TlsConnector::from(Arc::new(config)),
                name,
                asked,
                identity: identity.is_some(),
            })
        } else {
            None
        };
        let mut metadata = Vec::new();
        for (name, source) in &cfg.metadata {
            let key = AsciiMetadataKey::from_bytes(name.as_bytes())
                .map_err(|_| format!("metadata \"{name}\": not a valid metadata name"))?;
            let mut value = AsciiMetadataValue::try_from(source.expose())
                .map_err(|_| format!("metadata \"{name}\": the value is not printable ASCII"))?;
            // Secret values are never added to the HPACK table.
            value.set_sensitive(source.is_secret());
            metadata.push((key, value));
        }
        Ok(GrpcCheck {
            address: cfg.address.clone(),
            service: cfg.service.clone(),
            origin,
            tls,
            metadata,
            conn: Reused::default(),
        })
    }

    /// Opens the connection: TCP, TLS when configured, the HTTP/2 handshake.
    async fn connect(&self) -> Result<h2::Conn, String> {
        let tcp = TcpStream::connect(&self.address).await.map_err(|e| describe(&e))?;
        // Nagle would hold the small frames of a unary call.
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn h2::Io> = match &self.tls {
            None => Box::new(tcp),
            Some(t) => {
                t.asked.store(false, Ordering::Relaxed);
                let tls = t
                    .connector
                    .connect(t.name.clone(), tcp)
                    .await
                    .map_err(|e| describe(&e))?;
                if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
                    return Err("the server did not agree to HTTP/2 over TLS (ALPN h2): not a gRPC server".into());
                }
                Box::new(tls)
            }
        };
        h2::Conn::open(io, MAX_HEADERS).await.map_err(|e| describe(&e))
    }

    /// One `Check` call. A status the server sent keeps the connection (`Ok`);
    /// a failure of the connection itself drops it (`Err`).
    async fn probe(&self, conn: &mut h2::Conn) -> Result<Outcome, String> {
        let started = tokio::time::Instant::now();
        let mut client =
            HealthClient::with_origin(conn.send.clone(), self.origin.clone()).max_decoding_message_size(MAX_MESSAGE);
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: self.service.clone(),
        });
        for (k, v) in &self.metadata {
            request.metadata_mut().insert(k.clone(), v.clone());
        }
        let answer = match client.check(request).await {
            Ok(a) => a.into_inner(),
            Err(status) if h2::not_grpc(&status).is_some() => {
                conn.answered = true;
                let not = h2::not_grpc(&status).unwrap_or_default();
                return Ok(Outcome::fail(format!("{}: {not}", self.address)));
            }
            Err(status) if status.source().is_some() => return Err(self.first_answer(&status, conn.answered)),
            Err(status) => {
                conn.answered = true;
                return Ok(Outcome::fail(self.refused(&status)));
            }
        };
        conn.answered = true;
        let elapsed = Observed::millis(started.elapsed());
        let outcome = match ServingStatus::try_from(answer.status) {
            Ok(ServingStatus::Serving) => Outcome::pass(self.said("SERVING")),
            Ok(ServingStatus::NotServing) => Outcome::fail(self.said("NOT_SERVING")),
            Ok(ServingStatus::Unknown) => Outcome::fail(self.said("UNKNOWN")),
            Ok(ServingStatus::ServiceUnknown) => Outcome::fail(self.said("SERVICE_UNKNOWN")),
            Err(_) => Outcome::fail(self.said(&format!("serving status {} (not in the protocol)", answer.status))),
        };
        Ok(outcome.with_observed(elapsed))
    }

    /// The reason for a failed call, and for a connection that failed before
    /// its first answer, what that most likely means: TLS 1.3 servers refuse
    /// a client certificate, and TLS ports refuse plain HTTP/2, by closing.
    fn first_answer(&self, e: &tonic::Status, answered: bool) -> String {
        let reason = describe(e);
        if answered {
            return reason;
        }
        match &self.tls {
            None => format!("{reason}, before any answer: not a gRPC port, or one that wants TLS (tls = true)?"),
            Some(t) if t.asked.load(Ordering::Relaxed) && !t.identity => format!(
                "{reason}, after the server asked for a client certificate: none is configured (client_cert_file, client_key_file)"
            ),
            Some(t) if t.asked.load(Ordering::Relaxed) => {
                format!("{reason}, after the TLS handshake: did the server refuse the client certificate?")
            }
            Some(_) => format!("{reason}, before any answer: not a gRPC server?"),
        }
    }

    /// `addr: WORD`, naming the service when it is not the server as a whole.
    fn said(&self, word: &str) -> String {
        if self.service.is_empty() {
            format!("{}: {word}", self.address)
        } else {
            format!("{} service \"{}\": {word}", self.address, self.service)
        }
    }

    /// The reason for a gRPC status the server answered with.
    fn refused(&self, status: &tonic::Status) -> String {
        let code = code_word(status.code());
        let detail = match one_line(status.message()) {
            m if m.is_empty() => String::new(),
            m => format!(": {m}"),
        };
        let what = match status.code() {
            tonic::Code::NotFound => format!("service \"{}\" is not known to the server", self.service),
            tonic::Code::Unimplemented => "the server does not implement grpc.health.v1.Health".into(),
            _ => "gRPC status".into(),
        };
        format!("{}: {what} ({code}{detail})", self.address)
    }
}

#[async_trait]
impl Check for GrpcCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        self.conn
            .run(
                |c: &h2::Conn| !c.is_closed(),
                async || self.connect().await,
                async |c: &mut h2::Conn| self.probe(c).await,
            )
            .await
            .unwrap_or_else(|reason| Outcome::fail(format!("{}: {reason}", self.address)))
    }

    fn measurement(&self) -> &'static str {
        "responseTime"
    }
}
/// The TLS side of a check.
struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
    /// Set when the last handshake saw a request for a client certificate.
    asked: Arc<AtomicBool>,
    /// Whether a client certificate is configured.
    identity: bool,
}
/// A local failure (the connection, TLS, HTTP/2) in the shared words.
fn describe(e: &(dyn Error + 'static)) -> String {
    let mut deepest = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    let text = deepest.to_string();
    if text.contains("NoApplicationProtocol") {
        return "TLS: the server does not offer HTTP/2 (ALPN h2): not a gRPC port".into();
    }
    io_in_chain(e).unwrap_or_else(|| words(&text))
}

/// The protocol's name for a status code (`NOT_FOUND`), as servers log it.
fn code_word(code: tonic::Code) -> &'static str {
    const WORDS: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    WORDS.get(code as usize).copied().unwrap_or("UNKNOWN")
}
