//! The status page in a real browser (Debian's chromium over the DevTools
//! protocol): every check with its state, a failure shown without a reload,
//! no console error, hostile text inert under the CSP, a phone-width screen,
//! the dark theme, and the same state with JavaScript off.

use std::time::Duration;

use axum::routing::get;
use healthgate::simulator::Mode;

use crate::support::app::{es_check, spawn_app, spawn_sim};
use crate::support::chromium::Browser;

/// Text a dependency or a peer might send, meant to run in the page.
const HOSTILE: &str =
    r#"<script>window.__pwned=1</script></style><img src=x onerror="window.__pwned=2">"quoted" 'single'"#;

/// A peer answering `/fleet/self` with a hostile instance name and check name.
async fn hostile_peer() -> std::net::SocketAddr {
    let body = serde_json::json!({
        "format": "healthgate-fleet/1",
        "id": "0123456789abcdef",
        "instance": "<img/src=x/onerror=window.__pwned=4>",
        "serving": false,
        "status": "fail",
        "age_ms": 5,
        "checks": {"</style><script>window.__pwned=5</script>": "fail"},
    })
    .to_string();
    let app = axum::Router::new().route("/fleet/self", get(move || async move { body.clone() }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    addr
}

fn artifact(name: &str) -> std::path::PathBuf {
    let dir = std::env::var_os("HEALTHGATE_ARTIFACTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts"));
    dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_follows_the_cluster_in_a_real_browser_and_hostile_text_stays_text() {
    let sim = spawn_sim().await;
    let peer = hostile_peer().await;
    let script = format!(
        "printf '%s' '{}'; head -c 10240 /dev/zero | tr '\\0' x; exit 1",
        HOSTILE.replace('\'', "'\\''")
    );
    let toml = format!(
        "{}\n[[checks]]\nname = \"reporter\"\nkind = \"exec\"\ncritical = false\ncommand = [\"sh\", \"-c\", {script:?}]\ninterval = \"1s\"\ntimeout = \"900ms\"\n\
         [fleet]\npeers = [\"{peer}\"]\ninterval = \"500ms\"\ntimeout = \"300ms\"\n",
        es_check("es", &[sim.url()], "200ms", "150ms", "fall = 1\nrise = 1\nscope = \"shared\""),
    );
    let app = spawn_app(&toml).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 200)
        .await;
    let url = app.url("/status");
    let mut b = Browser::start().await;
    b.goto(&url).await;
    b.wait_true(
        "document.querySelectorAll('article.check').length === 2 && document.querySelector('#check-es .word').textContent === 'PASS'",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        b.eval("document.querySelector('#check-reporter .word').textContent")
            .await,
        "WARN"
    );
    // Every state is a word and an icon, not only a colour.
    assert_eq!(
        b.eval("document.querySelector('#check-es .icon').textContent").await,
        "✔"
    );
    // Hostile text is shown as text, cut, and nothing of it ran.
    b.wait_true(
        "document.body.textContent.includes('<img/src=x/onerror=window.__pwned=4>')",
        Duration::from_secs(5),
    )
    .await;
    let reason = b
        .eval("document.querySelector('#check-reporter .reason').textContent")
        .await;
    let reason = reason.as_str().unwrap();
    assert!(reason.starts_with(HOSTILE), "{reason}");
    assert!(reason.chars().count() <= 301, "{} characters", reason.chars().count());
    assert!(
        b.eval("document.body.textContent.includes('</style><script>window.__pwned=5</script>')")
            .await
            == true
    );
    assert_eq!(b.eval("typeof window.__pwned").await, "undefined");
    assert_eq!(
        b.eval("document.querySelectorAll('script').length").await,
        1,
        "only the page's own script"
    );
    // The CSP holds even if escaping failed: an injected handler does not run.
    b.eval("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.__csp_broken=1\">'); 1")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.eval("typeof window.__csp_broken").await, "undefined");
    assert!(
        b.eval("window.__csp.length").await.as_u64().unwrap() >= 1,
        "the violation was reported"
    );
    b.eval("window.__csp = []; window.__marker = 42; 1").await;
    // Those two refusals are the only console errors so far.
    let refused = std::mem::take(&mut b.errors);
    assert!(
        !refused.is_empty() && refused.iter().all(|e| e.contains("Content Security Policy")),
        "{refused:?}"
    );
    b.screenshot(&artifact("status.png")).await;

    // Red: the page shows it within 3 s, without a reload.
    sim.set_mode(Mode::Red).await.unwrap();
    let took = b
        .wait_true(
            "document.querySelector('#check-es .word').textContent === 'FAIL'",
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(b.eval("window.__marker").await, 42, "the page was not reloaded");
    assert!(b.eval("document.querySelector('.overall h1').textContent").await == "FAIL");
    let title = b.eval("document.title").await;
    assert!(title.as_str().unwrap().starts_with("FAIL"), "{title}");
    b.wait_true(
        "document.querySelector('#check-es .bar .f') !== null",
        Duration::from_secs(3),
    )
    .await;
    b.screenshot(&artifact("status-red.png")).await;
    eprintln!("the page showed the red cluster {took:?} after the switch");

    // Green again: it recovers, still without a reload.
    sim.set_mode(Mode::Green).await.unwrap();
    b.wait_true(
        "document.querySelector('#check-es .word').textContent === 'PASS'",
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(b.eval("window.__marker").await, 42);

    // A phone: one column, nothing wider than the screen.
    b.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}),
    )
    .await;
    b.goto(&url).await;
    assert!(
        b.eval("document.documentElement.scrollWidth").await.as_u64().unwrap() <= 390,
        "the page scrolls sideways on a phone"
    );
    b.screenshot(&artifact("status-phone.png")).await;
    // The dark theme follows prefers-color-scheme.
    b.call(
        "Emulation.setEmulatedMedia",
        serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    )
    .await;
    assert_eq!(
        b.eval("getComputedStyle(document.body).backgroundColor").await,
        "rgb(17, 20, 23)"
    );
    assert_eq!(
        b.eval("window.__csp.length").await,
        0,
        "{}",
        b.eval("JSON.stringify(window.__csp)").await
    );
    let errors = std::mem::take(&mut b.errors);
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // JavaScript off: the same state is there.
    let dom = b.html_without_js(&url).await;
    assert!(dom.contains("id=\"check-es\""), "{dom}");
    assert!(dom.contains("<span class=\"word\">PASS</span>"), "{dom}");
    assert!(
        dom.contains("http-equiv=\"refresh\""),
        "it refreshes itself without JavaScript"
    );
    drop(b);
    app.stop().await;
}
