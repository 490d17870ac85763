//! The page's inline style and script, and the Content-Security-Policy that
//! allows exactly them (by hash): no other script or style can run, whatever
//! a reason or a peer's answer contains.

use std::sync::OnceLock;

use base64::Engine;
use sha2::{Digest, Sha256};

/// The style sheet: light and dark (`prefers-color-scheme`), a grid that
/// becomes one column on a phone. States never rely on colour alone: each
/// has an icon and a word.
pub const CSS: &str = r#":root{--bg:#fff;--fg:#1d2329;--mut:#5d6670;--card:#f5f7f9;--line:#d8dde2;--pass:#1e8e3e;--warn:#b06000;--fail:#c5221f;--unk:#80868b;--none:#e3e6e9}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--fg:#e6e9ec;--mut:#9aa3ab;--card:#1b1f24;--line:#2e343b;--pass:#34a853;--warn:#f9ab00;--fail:#ee675c;--unk:#9aa0a6;--none:#2a2f35}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main,footer{max-width:1100px;margin:0 auto;padding:12px 16px}footer{color:var(--mut);font-size:13px}a{color:inherit}
.overall{display:flex;gap:14px;align-items:center;border-radius:10px;padding:14px 18px;background:var(--card);border-left:8px solid var(--c)}
.overall h1{margin:0;font-size:28px;letter-spacing:.04em}.overall p{margin:2px 0 0;color:var(--mut)}
.s-pass{--c:var(--pass)}.s-warn{--c:var(--warn)}.s-fail{--c:var(--fail)}.s-unknown{--c:var(--unk)}
.icon{color:var(--c);font-size:22px;line-height:1}.word{color:var(--c);font-weight:700;letter-spacing:.04em}
h2{font-size:17px;margin:22px 0 8px}.checks{display:grid;gap:10px}
.check{background:var(--card);border-radius:10px;padding:10px 14px;border-left:6px solid var(--c);display:grid;grid-template-columns:minmax(0,1fr) 250px;gap:4px 18px}
.check h3{margin:0;font-size:16px;display:inline}.head{display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}
.tag{font-size:12px;color:var(--mut);border:1px solid var(--line);border-radius:9px;padding:0 7px}
.reason{margin:2px 0;color:var(--fg);overflow-wrap:anywhere}.reason.hidden{color:var(--mut);font-style:italic}
dl{display:flex;flex-wrap:wrap;gap:2px 16px;margin:2px 0;color:var(--mut);font-size:13px}dt{display:inline}dd{display:inline;margin:0 0 0 4px;color:var(--fg)}
.viz{grid-column:2;grid-row:1/span 3;align-self:center}svg{display:block;width:100%}
.bar{height:22px}.bar .p{fill:var(--pass)}.bar .w{fill:var(--warn)}.bar .f{fill:var(--fail)}.bar .u{fill:var(--unk)}.bar .n{fill:var(--none)}
.spark{height:26px;margin-top:4px}.spark polyline{fill:none;stroke:var(--mut);stroke-width:1.2;vector-effect:non-scaling-stroke}
.axis{display:flex;justify-content:space-between;font-size:11px;color:var(--mut)}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
#lost{display:none;background:var(--fail);color:#fff;padding:6px 16px;text-align:center}.stale #lost{display:block}
@media (max-width:700px){.check{grid-template-columns:1fr}.viz{grid-column:1;grid-row:auto}.overall h1{font-size:22px}}"#;

/// The script: fetches the current fragment every 2 s and swaps it in when
/// it changed; a banner says so when the sidecar stops answering. Without
/// JavaScript the page refreshes itself (`<noscript>` meta refresh).
pub const JS: &str = r#"(()=>{const m=document.getElementById("main");let last=null,misses=0;
async function tick(){try{const r=await fetch(location.pathname+"?format=json",{cache:"no-store"});if(!r.ok)throw new Error(r.status);
const d=await r.json();if(d.html!==last){m.innerHTML=d.html;last=d.html;document.title=d.title;}
misses=0;document.body.classList.remove("stale");}catch(e){if(++misses>1)document.body.classList.add("stale");}
setTimeout(tick,2000);}tick();})();"#;

fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// The policy: nothing but the page's own style and script (by hash),
/// `data:` images (the favicon), fetches to this origin; no frames, forms,
/// base URL or plugins.
pub fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; script-src {}; style-src {}; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            hash(JS),
            hash(CSS)
        )
    })
}
