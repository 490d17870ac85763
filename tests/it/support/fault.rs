//! A TCP proxy that injects transport faults between a check and a real server.
//!
//! The fault can be changed at any time and applies at once to new and existing
//! connections, so a database connection kept across rounds sees it too.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways.
    Pass,
    /// Stop listening: connections are refused.
    Refuse,
    /// Accept and read, never answer (and never forward).
    Blackhole,
    /// Forward requests; send the first half of the next answer, then reset (RST).
    ResetMidResponse,
    /// Hold every answer chunk this long before forwarding it.
    Slow(Duration),
    /// Odd-numbered connections are reset at their first answer; even-numbered ones
    /// pass and are closed 100 ms after they open, so that kept connections do not
    /// hide the flapping: a dependency that fails every other round.
    Flap,
}

/// A running proxy; stopped on drop.
pub struct FaultProxy {
    /// Loopback port to point the check at.
    pub port: u16,
    fault: watch::Sender<Fault>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` on a free loopback port, passing traffic.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        Self::start_on("127.0.0.1:0".parse().unwrap(), upstream).await
    }

    /// Starts a proxy to `upstream` listening on `bind` (any 127.x.y.z address).
    pub async fn start_on(bind: SocketAddr, upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind(bind).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (fault, rx) = watch::channel(Fault::Pass);
        let task = tokio::spawn(accept_loop(listener, upstream, rx));
        FaultProxy { port, fault, task }
    }

    /// Switches the fault for every connection, new and open.
    pub fn set(&self, f: Fault) {
        self.fault.send_replace(f);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(mut listener: TcpListener, upstream: SocketAddr, mut fault: watch::Receiver<Fault>) {
    let addr = listener.local_addr().unwrap();
    let mut accepted_count = 0u64;
    let mut conns = tokio::task::JoinSet::new();
    loop {
        if *fault.borrow() == Fault::Refuse {
            drop(listener);
            // Established connections are cut too, as when a server goes away.
            conns.abort_all();
            while *fault.borrow_and_update() == Fault::Refuse {
                if fault.changed().await.is_err() {
                    return;
                }
            }
            listener = TcpListener::bind(addr).await.expect("rebind the proxy port");
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                conns.spawn(connection(client, upstream, fault.clone(), accepted_count));
                accepted_count += 1;
            }
            _ = fault.changed() => {}
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn connection(mut client: TcpStream, upstream: SocketAddr, fault: watch::Receiver<Fault>, n: u64) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let flap_pass = n % 2 == 0;
    let closes_at = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut up = vec![0u8; 16 * 1024];
    let mut down = vec![0u8; 16 * 1024];
    let mut client_done = false;
    loop {
        let f = *fault.borrow();
        let lifetime = async {
            if f == Fault::Flap && flap_pass {
                tokio::time::sleep_until(closes_at).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = client.read(&mut up), if !client_done => {
                let n = match r {
                    // A half-close is passed on; the answer may still come.
                    Ok(0) => {
                        client_done = true;
                        if *fault.borrow() != Fault::Blackhole {
                            let _ = server.shutdown().await;
                        }
                        continue;
                    }
                    Err(_) => return,
                    Ok(n) => n,
                };
                if *fault.borrow() != Fault::Blackhole && server.write_all(&up[..n]).await.is_err() {
                    return;
                }
            }
            r = server.read(&mut down) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                let now = *fault.borrow();
                let cut = match now {
                    Fault::Blackhole => continue,
                    Fault::ResetMidResponse => true,
                    Fault::Flap => !flap_pass,
                    Fault::Slow(d) => {
                        tokio::time::sleep(d).await;
                        false
                    }
                    Fault::Pass | Fault::Refuse => false,
                };
                if cut {
                    let _ = client.write_all(&down[..n.div_ceil(2)]).await;
                    // Linger 0 turns the close into a reset (RST), not a FIN.
                    let _ = client.set_zero_linger();
                    return;
                }
                if client.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
            _ = lifetime => return,
        }
    }
}
