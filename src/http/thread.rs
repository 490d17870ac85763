//! The probe thread: the HTTP listener and the agent listener run on their own OS
//! thread with their own single-threaded runtime.
//!
//! Checks sometimes hold their runtime for a moment with plain CPU work: a TLS
//! handshake, a SCRAM password hash, parsing a large answer, a thousand results
//! arriving at once. On a shared runtime every probe waiting behind that work
//! would be answered late. On its own thread a probe waits for nothing but the
//! kernel's scheduler, and the check runtime never sees probe traffic.
//! The compromise: one more thread (its stack is mostly untouched memory).

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::server::{serve, Limits};
use super::AppState;

/// What the probe thread serves.
pub struct Listeners {
    /// The HTTP listener.
    pub http: TcpListener,
    /// The HAProxy agent-check listener, if configured.
    pub agent: Option<TcpListener>,
    /// TLS on the HTTP listener, if configured.
    pub tls: Option<std::sync::Arc<super::tls::Tls>>,
    /// The gRPC health listener and its stream cap, if configured.
    pub grpc: Option<(TcpListener, usize)>,
}

/// Starts the probe thread. It serves until `stop` fires (or its sender is
/// dropped), drains HTTP for at most `drain`, then ends; the returned future
/// resolves then.
pub fn spawn(
    listeners: Listeners,
    state: AppState,
    limits: Limits,
    stop: oneshot::Receiver<()>,
    drain: Duration,
) -> std::io::Result<impl Future<Output = ()>> {
    // A listener belongs to the runtime that registered it: hand the sockets over
    // as std listeners and register them again on the probe runtime.
    let http = listeners.http.into_std()?;
    let agent = listeners.agent.map(TcpListener::into_std).transpose()?;
    let tls = listeners.tls;
    let grpc = listeners
        .grpc
        .map(|(l, max)| l.into_std().map(|l| (l, max)))
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (done_tx, done_rx) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("healthgate-probes".into())
        .spawn(move || {
            runtime.block_on(async move {
                let http = match TcpListener::from_std(http) {
                    Ok(l) => l,
                    Err(e) => return tracing::error!(error = %e, "cannot register the HTTP listener"),
                };
                if let Some(agent) = agent.map(TcpListener::from_std) {
                    match agent {
                        Ok(l) => drop(tokio::spawn(crate::agent::serve(l, state.snapshot.clone()))),
                        Err(e) => tracing::error!(error = %e, "cannot register the agent listener"),
                    }
                }
                if let Some(tls) = &tls {
                    drop(tokio::spawn(tls.clone().watch()));
                }
                if let Some((l, max_streams)) = grpc {
                    match TcpListener::from_std(l) {
                        Ok(l) => {
                            let changes = super::grpc::changes(state.snapshot.clone());
                            let service = super::grpc::HealthService::new(state.snapshot.clone(), changes, max_streams)
                                .with_auth(state.auth.clone());
                            drop(tokio::spawn(super::grpc::serve(
                                l,
                                service,
                                tls.clone(),
                                limits,
                                std::future::pending(),
                            )));
                        }
                        Err(e) => tracing::error!(error = %e, "cannot register the gRPC listener"),
                    }
                }
                serve(
                    http,
                    state,
                    limits,
                    tls,
                    async {
                        let _ = stop.await;
                    },
                    drain,
                )
                .await;
            });
            // Dropping the runtime here ends the agent listener too.
            drop(runtime);
            let _ = done_tx.send(());
        })?;
    Ok(async move {
        let _ = done_rx.await;
    })
}
