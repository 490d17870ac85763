//! Debian's chromium, headless, driven over the DevTools protocol (a
//! WebSocket, JSON commands): navigate, evaluate, emulate a phone or a dark
//! theme, take screenshots, and collect every console error, uncaught
//! exception and Content-Security-Policy violation the page produces.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A running headless chromium with one page attached.
pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws: Socket,
    next_id: u64,
    /// Console errors, exceptions and log entries of level error, as text.
    pub errors: Vec<String>,
}

fn binary() -> &'static str {
    if Path::new("/usr/bin/chromium").exists() {
        "/usr/bin/chromium"
    } else {
        "chromium"
    }
}

impl Browser {
    /// Starts chromium and attaches to its first page.
    pub async fn start() -> Browser {
        let profile = super::process::tmpdir();
        let child = Command::new(binary())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "--window-size=1200,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts (apt-get install chromium)");
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Some(p) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u16>().ok()))
            {
                break p;
            }
            assert!(Instant::now() < deadline, "chromium did not open its DevTools port");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let targets: Value = loop {
            if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/json/list")).send().await {
                if let Ok(v) = r
                    .text()
                    .await
                    .map(|t| serde_json::from_str::<Value>(&t).unwrap_or(Value::Null))
                {
                    if v.as_array().is_some_and(|a| a.iter().any(|t| t["type"] == "page")) {
                        break v;
                    }
                }
            }
            assert!(Instant::now() < deadline, "chromium lists no page");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let page = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .unwrap();
        let url = page["webSocketDebuggerUrl"].as_str().unwrap().to_string();
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("DevTools WebSocket");
        let mut b = Browser {
            child,
            _profile: profile,
            ws,
            next_id: 1,
            errors: Vec::new(),
        };
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            b.call(domain, json!({})).await;
        }
        // Before any script of the page: collect CSP violations.
        b.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.__csp=[];document.addEventListener('securitypolicyviolation',e=>window.__csp.push(e.violatedDirective+' '+e.blockedURI));"}),
        )
        .await;
        b
    }

    fn note_event(&mut self, v: &Value) {
        let p = &v["params"];
        match v["method"].as_str() {
            Some("Runtime.exceptionThrown") => self.errors.push(format!("exception: {}", p["exceptionDetails"])),
            Some("Runtime.consoleAPICalled") if p["type"] == "error" => {
                self.errors.push(format!("console.error: {}", p["args"]))
            }
            Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                self.errors.push(format!("log: {}", p["entry"]["text"]))
            }
            _ => {}
        }
    }

    /// Sends a command and waits for its result (events seen meanwhile are noted).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::Text(msg.into())).await.expect("DevTools send");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            let Some(Ok(Message::Text(text))) = next else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method} failed: {}", v["error"]);
                return v["result"].clone();
            }
            self.note_event(&v);
        }
    }

    /// Evaluates an expression in the page and returns its value.
    pub async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call("Runtime.evaluate", json!({"expression": expr, "returnByValue": true}))
            .await;
        r["result"]["value"].clone()
    }

    /// Navigates and waits for the load to complete.
    pub async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.eval("document.readyState").await != "complete" {
            assert!(Instant::now() < deadline, "{url} did not load");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `expr` until it is `true`; returns how long it took.
    pub async fn wait_true(&mut self, expr: &str, within: Duration) -> Duration {
        let t = Instant::now();
        loop {
            if self.eval(expr).await == Value::Bool(true) {
                return t.elapsed();
            }
            assert!(t.elapsed() < within, "`{expr}` not true within {within:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's HTML as the browser built it, read through the DOM domain
    /// (which works with JavaScript disabled).
    pub async fn outer_html(&mut self) -> String {
        let doc = self.call("DOM.getDocument", json!({})).await;
        let id = doc["root"]["nodeId"].clone();
        let r = self.call("DOM.getOuterHTML", json!({"nodeId": id})).await;
        r["outerHTML"].as_str().unwrap_or_default().to_string()
    }

    /// Loads `url` with JavaScript disabled and returns the HTML the browser built.
    pub async fn html_without_js(&mut self, url: &str) -> String {
        self.call("Emulation.setScriptExecutionDisabled", json!({"value": true}))
            .await;
        self.call("Page.navigate", json!({"url": url})).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        self.outer_html().await
    }

    /// A PNG of the page as it is displayed, written to `path`.
    pub async fn screenshot(&mut self, path: &Path) {
        use base64::Engine;
        let r = self.call("Page.captureScreenshot", json!({"format": "png"})).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
