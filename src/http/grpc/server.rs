//! The gRPC listener: HTTP/2 only (hyper), over TLS when `[server.tls]` is
//! set (the same certificate, offered with ALPN `h2`), kept alive with
//! HTTP/2 pings so idle watches of vanished clients are noticed.
//!
//! A client speaking HTTP/1 (or TLS to the plain port, or plain to the TLS
//! one) fails the HTTP/2 preface or the handshake and its connection is
//! closed; nothing else is affected. Connections are capped like the HTTP
//! listener's (`max_connections`, one more is closed at once), and one that
//! sends nothing (or does not finish its TLS handshake) within
//! `header_read_timeout` is closed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::pb::health_server::HealthServer;
use super::HealthService;
use crate::http::server::Limits;
use crate::http::tls::Tls;

/// Pings an idle connection this often; a peer that does not answer within
/// the timeout is dropped.
const KEEPALIVE: Duration = Duration::from_secs(20);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the health service on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    service: HealthService,
    tls: Option<Arc<Tls>>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let max_streams = service.max_streams;
    let routes = tonic::service::Routes::new(HealthServer::new(service));
    let svc = TowerToHyperService::new(routes);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "gRPC accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        let acceptor = tls.as_ref().map(|t| t.acceptor_h2());
        tokio::spawn(async move {
            match acceptor {
                None => {
                    // A client that connects and says nothing is cut like a
                    // silent HTTP client: HTTP/2's pings start after its preface.
                    let mut first = [0u8; 1];
                    if let Ok(Ok(n)) = tokio::time::timeout(limits.header_read_timeout, stream.peek(&mut first)).await {
                        if n > 0 {
                            connection(stream, svc, max_streams).await;
                        }
                    }
                }
                Some(acceptor) => {
                    if let Ok(Ok(s)) = tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
                        connection(s, svc, max_streams).await;
                    }
                }
            }
            drop(permit);
        });
    }
}

async fn connection<I>(io: I, svc: TowerToHyperService<tonic::service::Routes>, max_streams: usize)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // Room for every allowed watch plus checks beside them: past the cap a
    // watch reaches the service and is refused with RESOURCE_EXHAUSTED
    // instead of waiting in the client for a stream slot.
    let streams = u32::try_from(max_streams + 64).unwrap_or(u32::MAX);
    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(KEEPALIVE))
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .max_concurrent_streams(streams)
        .serve_connection(TokioIo::new(io), svc)
        .await;
}
