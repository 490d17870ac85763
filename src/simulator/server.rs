//! The simulator's accept loop. Connections are served by hyper directly (not
//! `axum::serve`) so that the port can really be closed for `Refused` and reopened,
//! with every open connection dropped.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::{JoinHandle, JoinSet};

use super::{responses, Mode, Shared};

#[derive(Clone)]
pub(super) struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Arc<Mutex<Option<JoinHandle<()>>>>,
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

impl Server {
    pub(super) async fn start(addr: SocketAddr, shared: Arc<Shared>) -> std::io::Result<Server> {
        let listener = bind(addr)?;
        let addr = listener.local_addr()?;
        let server = Server {
            addr,
            shared,
            accept: Arc::new(Mutex::new(None)),
        };
        server.serve(listener);
        Ok(server)
    }

    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn serve(&self, listener: TcpListener) {
        let shared = self.shared.clone();
        let task = tokio::spawn(async move {
            // Dropping this set (when the task is aborted) aborts every connection.
            let mut conns = JoinSet::new();
            loop {
                let (stream, _) = match listener.accept().await {
                    Ok(s) => s,
                    Err(_) => continue,
                };
                while conns.try_join_next().is_some() {}
                let shared = shared.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| responses::handle(req, shared.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        *self.accept.lock().expect("accept lock") = Some(task);
    }

    pub(super) fn stop(&self) {
        if let Some(task) = self.accept.lock().expect("accept lock").take() {
            task.abort();
        }
    }

    /// Opens or closes the port to match the mode.
    pub(super) async fn apply(&self, mode: &Mode) -> std::io::Result<()> {
        let running = self.accept.lock().expect("accept lock").is_some();
        match (mode == &Mode::Refused, running) {
            (true, true) => {
                let task = self.accept.lock().expect("accept lock").take();
                if let Some(task) = task {
                    task.abort();
                    let _ = task.await;
                }
            }
            (false, false) => self.serve(bind(self.addr)?),
            _ => {}
        }
        Ok(())
    }
}
