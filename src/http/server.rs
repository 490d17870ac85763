//! The HTTP listener: hyper's HTTP/1 connection with limits, in front of the
//! router. `axum::serve` exposes none of these, hence this small accept loop.
//!
//! - at most `max_connections` connections at once; one more is accepted and
//!   closed at once (shed, not queued), so probes never wait behind a flood;
//! - request headers must arrive within `header_read_timeout` (slowloris; see
//!   `http::deadline` for why this is not hyper's own timer);
//! - at most 64 request headers and 16 KiB of request head (431 beyond);
//! - probes (`/healthz`, `/readyz`, `/livez`) are answered by [`super::probe`]
//!   before the router.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use futures_util::future::Either;
use futures_util::FutureExt;
use http_body_util::Either as BodyEither;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::deadline::{HeadDeadline, Watched};
use super::AppState;

/// Connection limits of the HTTP listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time allowed to send a request's headers.
    pub header_read_timeout: Duration,
}

const MAX_HEADERS: usize = 64;
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Serves `app` on `listener` (over TLS with `tls`) until `shutdown`
/// completes, then lets open requests finish for at most `drain`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: Limits,
    tls: Option<Arc<super::tls::Tls>>,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let app = super::router(state.clone());
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = Conn {
            app: app.clone(),
            state: state.clone(),
            limits,
            peer,
            watcher: graceful.watcher(),
            permit,
        };
        match &tls {
            None => drop(tokio::spawn(conn.serve(stream))),
            Some(tls) => {
                let acceptor = tls.acceptor();
                tokio::spawn(async move {
                    // A handshake that stalls is cut like a request head that does.
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await
                    {
                        conn.serve(stream).await;
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
}

/// One accepted connection and what serving it needs.
struct Conn {
    app: axum::Router,
    state: AppState,
    limits: Limits,
    peer: std::net::SocketAddr,
    watcher: hyper_util::server::graceful::Watcher,
    permit: tokio::sync::OwnedSemaphorePermit,
}

impl Conn {
    /// Serves HTTP/1 on `io` (plain TCP or TLS) until the client or the
    /// deadline ends it.
    async fn serve<I>(self, io: I)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Conn {
            app,
            state,
            limits,
            peer,
            watcher,
            permit,
        } = self;
        let deadline = HeadDeadline::new(limits.header_read_timeout);
        let watch = deadline.clone();
        let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            // A probe is answered within this call, so the deadline's clock never
            // runs while it is being prepared: moving the deadline is enough.
            if let Some((resp, ready)) = super::probe::answer(&state, &req) {
                deadline.answered_at(ready);
                return Either::Left(std::future::ready(Ok(resp.map(BodyEither::Left))));
            }
            deadline.request_started();
            req.extensions_mut().insert(ConnectInfo(peer));
            let deadline = deadline.clone();
            // Boxed: hyper moves the answer future a few times per request, and
            // unboxed the router's future would make every probe's one as large.
            Either::Right(Box::pin(app.clone().oneshot(req).map(move |r| {
                deadline.request_answered();
                r.map(|resp| resp.map(BodyEither::Right))
            })))
        });
        let io = TokioIo::new(Watched::new(io, watch.clone()));
        let conn = hyper::server::conn::http1::Builder::new()
            .max_headers(MAX_HEADERS)
            .max_buf_size(MAX_HEAD_BYTES)
            .serve_connection(io, svc);
        let conn = watcher.watch(conn);
        tokio::select! {
            _ = conn => {}
            () = watch.missed() => {}
        }
        drop(permit);
    }
}
