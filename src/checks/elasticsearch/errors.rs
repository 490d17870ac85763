//! Reading Elasticsearch and OpenSearch error answers into one short reason.
//!
//! Shapes: `{"error":{"type","reason",...},"status":N}` (ES ≥ 5, OpenSearch),
//! `{"error":"AuthenticationException[...]","status":401}` (1.x Shield), and plain
//! text (`Unauthorized`, `OpenSearch Security not initialized.`), or nothing.

use crate::checks::transport::one_line;

/// The error type and reason found in a body, if any.
pub fn error_detail(body: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let v: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = one_line(&text);
            return (!text.is_empty()).then_some((None, Some(text)));
        }
    };
    match v.get("error") {
        Some(serde_json::Value::Object(e)) => {
            let ty = e.get("type").and_then(|t| t.as_str()).map(one_line);
            let reason = e.get("reason").and_then(|r| r.as_str()).map(one_line);
            Some((ty, reason))
        }
        Some(serde_json::Value::String(s)) => Some((None, Some(one_line(s)))),
        _ => None,
    }
}

/// A reason for a non-2xx answer, naming what it means for an operator.
pub fn describe(status: u16, body: &[u8], node: &str) -> String {
    let detail = error_detail(body);
    let ty = detail.as_ref().and_then(|d| d.0.clone());
    let reason = detail.and_then(|d| d.1);
    let what = match (status, ty.as_deref()) {
        (401, _) => "authentication failed (check username/password_env or api_key_env)",
        (403, _) => "authorization failed (the user needs the cluster privilege \"monitor\")",
        (_, Some("master_not_discovered_exception" | "cluster_manager_not_discovered_exception")) => {
            "no elected master"
        }
        (_, Some("cluster_block_exception")) => "cluster blocked",
        (503, None) => "service unavailable",
        (404, _) => "not found",
        (s, _) if s >= 500 => "server error",
        _ => "unexpected answer",
    };
    let mut out = format!("{what}: HTTP {status}");
    match (ty, reason) {
        (Some(t), Some(r)) => out.push_str(&format!(" {t}: {r}")),
        (Some(t), None) => out.push_str(&format!(" {t}")),
        (None, Some(r)) => out.push_str(&format!(": {r}")),
        (None, None) => {}
    }
    out.push_str(&format!(" from {node}"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_error_with_null_reason() {
        let body =
            br#"{"error":{"root_cause":[],"type":"master_not_discovered_exception","reason":null},"status":503}"#;
        assert_eq!(
            describe(503, body, "http://n1:9200"),
            "no elected master: HTTP 503 master_not_discovered_exception from http://n1:9200"
        );
    }

    #[test]
    fn string_error_1x() {
        let body = br#"{"error":"AuthenticationException[missing authentication token]","status":401}"#;
        let d = describe(401, body, "n");
        assert!(d.starts_with("authentication failed"), "{d}");
        assert!(d.contains("AuthenticationException"), "{d}");
    }

    #[test]
    fn text_body_and_control_chars() {
        assert_eq!(
            describe(503, b"OpenSearch Security not initialized.", "n"),
            "service unavailable: HTTP 503: OpenSearch Security not initialized. from n"
        );
        assert_eq!(one_line("a\r\nb\u{0}c"), "a b c");
        assert!(one_line(&"x".repeat(1000)).len() < 260);
    }

    /// Found by `cargo fuzz` (es_answer): a body of invalid UTF-8 quoted 240
    /// replacement characters, 720 bytes, into one reason.
    #[test]
    fn invalid_utf8_is_cut_by_bytes() {
        let mut body = br#"{ "cluster_name": "abea12cb73c7"#.to_vec();
        body.extend([0xa3; 400]);
        body.extend_from_slice(br#"", "status": "red" "#);
        let d = describe(200, &body, "n");
        assert!(d.len() < 300, "{} bytes: {d}", d.len());
        assert!(one_line(&"é".repeat(500)).len() <= 243);
    }
}
