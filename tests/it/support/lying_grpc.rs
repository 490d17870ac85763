//! An HTTP/2 server that answers every gRPC call with the same lie, for the
//! grpc check's hostile-server test.

/// How the lying server answers every call.
#[derive(Clone, Copy)]
pub enum Lie {
    /// A trailers-only error whose `grpc-status-details-bin` is not base64.
    BadDetails,
    /// A message announcing 2 GiB.
    HugeLength,
    /// A message that is not protobuf.
    NotProtobuf,
    /// A serving status the protocol does not have.
    StatusNinetyNine,
    /// HTTP 503 with no gRPC status.
    Http503,
    /// An HTML page with HTTP 200.
    Html,
}

/// An HTTP/2 server that answers every call with `lie`.
pub async fn lying_server(lie: Lie) -> std::net::SocketAddr {
    use http_body_util::{BodyExt, Full, StreamBody};
    use hyper::body::{Bytes, Frame};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |_req: hyper::Request<hyper::body::Incoming>| async move {
                        let grpc = |body: Vec<u8>, trailers: &[(&'static str, &'static str)]| {
                            let mut t = http::HeaderMap::new();
                            for (k, v) in trailers {
                                t.insert(*k, v.parse().unwrap());
                            }
                            let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> =
                                vec![Ok(Frame::data(Bytes::from(body))), Ok(Frame::trailers(t))];
                            http::Response::builder()
                                .header("content-type", "application/grpc")
                                .body(StreamBody::new(futures_util::stream::iter(frames)).boxed())
                                .unwrap()
                        };
                        let message = |payload: &[u8]| {
                            let mut m = vec![0u8];
                            m.extend_from_slice(&(payload.len() as u32).to_be_bytes());
                            m.extend_from_slice(payload);
                            m
                        };
                        let ok = [("grpc-status", "0")];
                        Ok::<_, std::convert::Infallible>(match lie {
                            Lie::BadDetails => http::Response::builder()
                                .header("content-type", "application/grpc")
                                .header("grpc-status", "2")
                                .header("grpc-message", "lying")
                                .header("grpc-status-details-bin", "!!not base64!!")
                                .body(Full::new(Bytes::new()).boxed())
                                .unwrap(),
                            Lie::HugeLength => grpc(vec![0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3], &ok),
                            Lie::NotProtobuf => grpc(message(&[0xff, 0xff, 0xff]), &ok),
                            Lie::StatusNinetyNine => grpc(message(&[0x08, 99]), &ok),
                            Lie::Http503 => http::Response::builder()
                                .status(503)
                                .body(Full::new(Bytes::from_static(b"busy")).boxed())
                                .unwrap(),
                            Lie::Html => http::Response::builder()
                                .header("content-type", "text/html")
                                .body(Full::new(Bytes::from_static(b"<html>hello</html>")).boxed())
                                .unwrap(),
                        })
                    });
                let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
