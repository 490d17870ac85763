//! Hostile HTTP input: slowloris, oversized and too many headers, a connection
//! flood, huge query strings, unknown paths and methods. Probes keep answering
//! and no handler panics.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::app::*;

async fn app() -> TestApp {
    let checks = "[[checks]]\nname = \"self\"\nkind = \"tcp\"\naddress = \"127.0.0.1:9\"\ncritical = false\ninterval = \"1s\"\ntimeout = \"500ms\"\njitter = \"0s\"\n";
    spawn_app_with("max_connections = 16\nheader_read_timeout = \"1s\"", checks).await
}

/// Sends raw bytes and reads the answer (or the close) with a deadline.
fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

// Multi-threaded: blocking sockets in the test must not stall the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_cut_off_while_probes_keep_answering() {
    let app = app().await;
    let addr = app.addr;
    let slow = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
        let t0 = Instant::now();
        let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        for b in head.iter().chain(b"a".repeat(20).iter()) {
            if s.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            let mut buf = [0u8; 256];
            s.set_nonblocking(true).unwrap();
            let r = s.read(&mut buf);
            s.set_nonblocking(false).unwrap();
            if matches!(r, Ok(0)) || matches!(r, Ok(n) if n > 0) {
                return t0.elapsed();
            }
            if t0.elapsed() > Duration::from_secs(6) {
                break;
            }
        }
        t0.elapsed()
    });
    for _ in 0..10 {
        let a = app.get("/livez").await;
        assert_eq!(a.status, 200);
        assert!(a.elapsed < Duration::from_millis(50), "{:?}", a.elapsed);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cut_after = slow.await.unwrap();
    assert!(
        cut_after < Duration::from_millis(2500),
        "a header byte every 200 ms was served for {cut_after:?}"
    );
}

// The header deadline moves with every answer: a keep-alive connection asking
// more often than the timeout stays open for longer than it; left idle, it is
// closed one timeout after its last answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_keep_alive_connection_stays_open_and_an_idle_one_is_closed() {
    let app = app().await;
    let addr = app.addr;
    let (answers, closed_after) = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut answers = 0;
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(2500) {
            s.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
            answers += 1;
            std::thread::sleep(Duration::from_millis(300));
        }
        let idle = Instant::now();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        assert!(rest.is_empty(), "no answer to nothing");
        (answers, idle.elapsed())
    })
    .await
    .unwrap();
    assert!(answers >= 7, "{answers} answers on one connection");
    assert!(
        closed_after > Duration::from_millis(300) && closed_after < Duration::from_millis(1500),
        "an idle connection was closed after {closed_after:?} (timeout 1 s, 300 ms already idle)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_limits_query_limits_paths_and_methods() {
    let app = app().await;
    let addr = app.addr;
    let (big, many) = tokio::task::spawn_blocking(move || {
        let big = format!(
            "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(64 * 1024)
        );
        let mut many = String::from("GET /livez HTTP/1.1\r\nHost: x\r\n");
        for i in 0..200 {
            many.push_str(&format!("X-H{i}: v\r\n"));
        }
        many.push_str("\r\n");
        (raw(addr, big.as_bytes()), raw(addr, many.as_bytes()))
    })
    .await
    .unwrap();
    assert!(
        big.is_empty() || big.starts_with("HTTP/1.1 431"),
        "64 KiB header: {big:.80}"
    );
    assert!(
        many.is_empty() || many.starts_with("HTTP/1.1 431"),
        "200 headers: {many:.80}"
    );

    let q = format!("/healthz?exclude={}", "x".repeat(5000));
    assert_eq!(app.get(&q).await.status, 414);
    assert_eq!(app.get("/nope").await.status, 404);
    let r = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = app
        .client
        .post(app.url("/livez"))
        .body(vec![0u8; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(app.get("/livez").await.status, 200, "still serving");
    let m = app.get("/metrics").await.body;
    assert!(m.contains("healthgate_http_panics_total 0"), "no handler panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_is_shed_at_once_not_queued() {
    let app = app().await;
    let addr = app.addr;
    // Hold every connection slot with idle clients.
    let idle: Vec<TcpStream> = (0..16).map(|_| TcpStream::connect(addr).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let shed = tokio::task::spawn_blocking(move || {
        let t0 = Instant::now();
        let answer = raw(addr, b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
        (t0.elapsed(), answer)
    })
    .await
    .unwrap();
    assert!(
        shed.1.is_empty(),
        "the 17th connection is closed, not served: {}",
        shed.1
    );
    assert!(shed.0 < Duration::from_millis(200), "shed quickly: {:?}", shed.0);
    // The idle clients are cut off by the header timeout; service resumes.
    let t0 = Instant::now();
    loop {
        if let Ok(r) = app.client.get(app.url("/livez")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(4), "service did not resume");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(idle);
}
