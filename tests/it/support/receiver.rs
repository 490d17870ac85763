//! A webhook receiver on loopback that misbehaves on cue: each request takes
//! the next behaviour from a script (hang, 500, 429 with `Retry-After`, close
//! mid-answer, 200) and is recorded with its headers and body.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the receiver does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Read the request, never answer.
    Hang,
    /// Answer this status (with `Retry-After: N` when given).
    Status(u16, Option<u64>),
    /// Send the headers of a 200 with a 100-byte body, then close after 5 bytes.
    CloseMidAnswer,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub answered: Behaviour,
}

/// A running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listens on `addr` (port 0 for any); requests past the script get 200.
    pub async fn start(addr: SocketAddr, script: Vec<Behaviour>) -> Receiver {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(
            script.into_iter().collect::<std::collections::VecDeque<_>>(),
        ));
        let l2 = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else { return };
                let (log, script) = (l2.clone(), script.clone());
                tokio::spawn(async move { serve(s, log, script).await });
            }
        });
        Receiver { addr, log, task }
    }

    /// The requests so far.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// The URL to post to (with a token in the path, as real webhook URLs have).
    pub fn url(&self) -> String {
        format!("http://{}/hooks/T0KEN-s3cret-path", self.addr)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut s: TcpStream,
    log: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<std::collections::VecDeque<Behaviour>>>,
) {
    loop {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let headers: HashMap<String, String> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < head_end + len {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
        let behaviour = script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Behaviour::Status(200, None));
        log.lock().unwrap().push(Received {
            at: Instant::now(),
            headers,
            body,
            answered: behaviour,
        });
        match behaviour {
            Behaviour::Hang => {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                return;
            }
            Behaviour::CloseMidAnswer => {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello")
                    .await;
                return;
            }
            Behaviour::Status(code, retry_after) => {
                let extra = retry_after.map(|r| format!("retry-after: {r}\r\n")).unwrap_or_default();
                let resp = format!("HTTP/1.1 {code} X\r\ncontent-length: 2\r\n{extra}\r\nok");
                if s.write_all(resp.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}
