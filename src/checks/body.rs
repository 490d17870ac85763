//! Bounded response-body reading shared by the HTTP-speaking checks.

use bytes::{Bytes, BytesMut};

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than the cap; reading stopped there.
    #[error("response body exceeds the {cap} byte cap")]
    TooLarge {
        /// The configured cap in bytes.
        cap: usize,
    },
    /// The connection broke while the body was being read.
    #[error("reading the response body failed: {0}")]
    Read(String),
}

/// Reads at most `cap` bytes of a response body; a longer body is an error and is
/// not read further (a 10 GiB answer costs at most `cap` bytes of memory).
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Bytes, BodyError> {
    if let Some(len) = resp.content_length() {
        if len > cap as u64 {
            return Err(BodyError::TooLarge { cap });
        }
    }
    let mut buf = BytesMut::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > cap {
                    return Err(BodyError::TooLarge { cap });
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(e) => return Err(BodyError::Read(describe_reqwest_error(&e))),
        }
    }
}

/// The first bytes of a body, for a reason: at most `n` bytes and at most `within`,
/// whatever the server does (an empty prefix when it sends nothing in time).
pub(crate) async fn read_prefix(mut resp: reqwest::Response, n: usize, within: std::time::Duration) -> Bytes {
    let mut buf = BytesMut::new();
    let _ = tokio::time::timeout(within, async {
        while buf.len() < n {
            match resp.chunk().await {
                Ok(Some(chunk)) => buf.extend_from_slice(&chunk[..chunk.len().min(n - buf.len())]),
                _ => break,
            }
        }
    })
    .await;
    buf.freeze()
}

/// A short description of a transport error, walking the source chain for the
/// root cause (`connection refused`, `certificate verify failed`, ...) and never
/// including the URL (which reqwest prints with its query string).
pub(crate) fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(src) = root.source() {
        root = src;
    }
    let root_text = root.to_string();
    let kind = if e.is_connect() {
        "connect failed"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "reading the body failed"
    } else if e.is_request() {
        "request failed"
    } else {
        "failed"
    };
    if let Some(known) = super::transport::known(&root_text) {
        known
    } else if root_text == e.to_string() {
        kind.to_string()
    } else {
        format!("{kind}: {root_text}")
    }
}
