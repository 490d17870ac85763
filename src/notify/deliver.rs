//! One attempt at delivering an event, and what to do after it.
//!
//! Retried: connection errors, timeouts, an answer cut off, 5xx and 429
//! (after its `Retry-After`, seconds or an HTTP date, capped at
//! `max_backoff`). Not retried: any other answer (a 4xx says the request
//! itself is wrong; sending it again cannot help). What the receiver said is
//! never quoted in full: only its status code reaches logs and metrics.

use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};

/// How much of an answer's body is read (and thrown away) before the
/// attempt counts as answered.
const MAX_ANSWER: usize = 64 * 1024;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Attempt {
    /// A 2xx answer, read to its end.
    Delivered,
    /// Worth another attempt, after at least this long (a `Retry-After`) or
    /// the backoff; the text says why (no URL in it).
    Retry(String, Option<Duration>),
    /// Refused for good (a 4xx other than 429, a 3xx).
    Refused(String),
}

/// The headers of one attempt: content type, user agent and the Standard
/// Webhooks trio (`webhook-signature` only with a signing key).
pub(super) fn headers(id: &str, timestamp: u64, signature: Option<String>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("healthgate/", env!("CARGO_PKG_VERSION"))),
    );
    let value = |s: &str| HeaderValue::from_str(s).expect("ids, numbers and base64 are valid header values");
    h.insert("webhook-id", value(id));
    h.insert("webhook-timestamp", value(&timestamp.to_string()));
    if let Some(sig) = signature {
        h.insert("webhook-signature", value(&sig));
    }
    h
}

/// Sends one attempt and reads the answer (bounded by the client's timeout).
pub(super) async fn attempt(client: &reqwest::Client, url: &str, headers: HeaderMap, body: Vec<u8>) -> Attempt {
    let resp = match client.post(url).headers(headers).body(body).send().await {
        Ok(r) => r,
        Err(e) => return Attempt::Retry(transport(&e), None),
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| retry_after(v.to_str().ok()?, SystemTime::now()));
    // The answer counts once it has been read: a receiver that closes
    // mid-answer may not have taken the event.
    let mut stream = resp.bytes_stream();
    let mut read = 0;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                read += c.len();
                if read > MAX_ANSWER {
                    break;
                }
            }
            Err(e) => return Attempt::Retry(format!("HTTP {}, then {}", status.as_u16(), transport(&e)), None),
        }
    }
    let code = status.as_u16();
    if status.is_success() {
        Attempt::Delivered
    } else if code == 429 || status.is_server_error() {
        Attempt::Retry(format!("HTTP {code}"), retry_after)
    } else {
        Attempt::Refused(format!("HTTP {code}"))
    }
}

/// A transport failure in the words every kind uses, without the URL.
fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        let text = format!("{:?}", e).to_lowercase();
        if text.contains("refused") {
            "connection refused".into()
        } else {
            "cannot connect".into()
        }
    } else if e.is_body() || e.is_decode() {
        "answer cut off".into()
    } else {
        "connection closed".into()
    }
}

/// A `Retry-After` value: delay-seconds or an HTTP date.
pub(super) fn retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// The wait before attempt `n + 1` (after `n` failed ones): `backoff`
/// doubled per attempt, at most `max`, with up to a tenth of random jitter
/// so receivers coming back are not hit by every sender at once; a
/// `Retry-After` is honoured when longer (still capped at `max`).
pub(super) fn wait(n: u32, backoff: Duration, max: Duration, retry_after: Option<Duration>) -> Duration {
    let base = backoff
        .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
        .min(max);
    let jitter = base.mul_f64(rand::random::<f64>() * 0.1);
    let wait = (base + jitter).min(max);
    match retry_after {
        Some(ra) => ra.max(wait).min(max),
        None => wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 10:00:00 GMT").unwrap();
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 02 Dec 2026 10:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after("Wed, 02 Dec 2026 09:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn waits_double_and_stop_at_the_cap() {
        let s = Duration::from_secs;
        let w = |n| wait(n, s(1), s(10), None);
        assert!(w(1) >= s(1) && w(1) <= Duration::from_millis(1100));
        assert!(w(3) >= s(4) && w(3) <= Duration::from_millis(4400));
        assert_eq!(w(9), s(10));
        assert_eq!(wait(1, s(1), s(10), Some(s(5))), s(5));
        assert_eq!(wait(1, s(1), s(10), Some(s(3600))), s(10));
    }
}
