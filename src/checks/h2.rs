//! One HTTP/2 client connection for a generated gRPC client: hyper's own
//! HTTP/2 client, wrapped as the tower service tonic's clients call.
//!
//! Not tonic's `Channel`, which reconnects and queues behind a background
//! worker: a check wants one connection it can see (closed by the server
//! between rounds: reopen; a round that failed or was cut off: drop it, and
//! the task that drives it, at once). Two guards sit in the answer path:
//! an HTTP answer that is not gRPC (a proxy's 503, a web page) becomes a
//! [`NotGrpc`] error naming what came, and `grpc-status-details-bin` is
//! removed before tonic reads it (tonic 0.13 panics, in
//! `Status::from_header_map`, on one that is not base64; a check reads no
//! details).

use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::MapFrame;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};

use super::transport::one_line;

/// The stream under the HTTP/2 connection: TCP or TLS over TCP.
pub(super) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// An open connection and the task driving it (aborted with it).
pub(super) struct Conn {
    /// The service to give the generated client (cheap to clone).
    pub(super) send: H2,
    /// Whether the server has answered a call on it.
    pub(super) answered: bool,
    _task: AbortOnDrop,
}

impl Conn {
    /// The HTTP/2 handshake on `io`, accepting header blocks up to
    /// `max_headers` bytes; the connection's task is spawned.
    pub(super) async fn open(io: Box<dyn Io>, max_headers: u32) -> Result<Conn, hyper::Error> {
        let (send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .max_header_list_size(max_headers)
            .handshake(TokioIo::new(io))
            .await?;
        let task = tokio::spawn(async move {
            // The error, if any, reaches the request that was in flight.
            let _ = connection.await;
        });
        Ok(Conn {
            send: H2(send),
            answered: false,
            _task: AbortOnDrop(task),
        })
    }

    /// Whether the server closed it (or it broke).
    pub(super) fn is_closed(&self) -> bool {
        self.send.0.is_closed()
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// hyper's HTTP/2 sender as the service the generated client calls.
#[derive(Clone)]
pub(super) struct H2(SendRequest<tonic::body::Body>);

const DETAILS: &str = "grpc-status-details-bin";

type Answer = http::Response<MapFrame<Incoming, fn(Frame<Bytes>) -> Frame<Bytes>>>;
fn without_details(frame: Frame<Bytes>) -> Frame<Bytes> {
    match frame.into_trailers() {
        Ok(mut trailers) => {
            trailers.remove(DETAILS);
            Frame::trailers(trailers)
        }
        Err(frame) => frame,
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for H2 {
    type Response = Answer;
    type Error = Box<dyn Error + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let answer = self.0.send_request(request);
        Box::pin(async move {
            let mut answer = answer.await?;
            let content_type = answer.headers().get(http::header::CONTENT_TYPE);
            let grpc = content_type.is_some_and(|t| t.as_bytes().starts_with(b"application/grpc"));
            if answer.status() != http::StatusCode::OK || !grpc {
                let what = content_type
                    .map(|t| format!(" ({})", one_line(&String::from_utf8_lossy(t.as_bytes()))))
                    .unwrap_or_default();
                return Err(NotGrpc(format!("HTTP {}{what}, not a gRPC answer", answer.status().as_u16())).into());
            }
            answer.headers_mut().remove(DETAILS);
            Ok(answer.map(|body| body.map_frame(without_details as fn(_) -> _)))
        })
    }
}

/// An HTTP/2 answer that is not gRPC (a proxy's 503, a web page).
#[derive(Debug)]
pub(super) struct NotGrpc(String);

impl std::fmt::Display for NotGrpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for NotGrpc {}

/// The [`NotGrpc`] text somewhere in `status`'s sources.
pub(super) fn not_grpc(status: &tonic::Status) -> Option<String> {
    let mut cur = status.source();
    while let Some(e) = cur {
        if let Some(n) = e.downcast_ref::<NotGrpc>() {
            return Some(n.0.clone());
        }
        cur = e.source();
    }
    None
}
