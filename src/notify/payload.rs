//! The bodies a webhook receives, and the Standard Webhooks headers.
//!
//! JSON (`format = "json"`), one object per event:
//!
//! ```json
//! {"type":"healthgate.check.transition","id":"hg_5f0c...","time":"2026-12-02T03:12:09Z",
//!  "instance":"app-1","check":"es","critical":true,"from":"pass","to":"fail",
//!  "reason":"cluster red: 3 unassigned primary shards","status":"fail"}
//! ```
//!
//! `status` is the instance's overall status right after the change. Slack
//! (`format = "slack"`) gets `{"text": "..."}` with the same facts, which
//! Mattermost and most chat tools accept too.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::Event;
use crate::config::NotifyFormat;
use crate::status::{State, Status};

/// The `type` of a transition event.
pub const EVENT_TYPE: &str = "healthgate.check.transition";

/// The body of an event in a format.
pub fn body(event: &Event, instance: &str, format: NotifyFormat) -> Vec<u8> {
    let c = &event.change;
    let time = crate::history::rfc3339(c.at);
    let value = match format {
        NotifyFormat::Json => json!({
            "type": EVENT_TYPE,
            "id": event.id,
            "time": time,
            "instance": instance,
            "check": &*c.check,
            "critical": c.critical,
            "from": c.from.as_str(),
            "to": c.to.as_str(),
            "reason": &*c.reason,
            "status": c.status.as_str(),
        }),
        NotifyFormat::Slack => {
            let icon = match c.to {
                State::Known(Status::Pass) => ":large_green_circle:",
                State::Known(Status::Warn) => ":large_yellow_circle:",
                State::Known(Status::Fail) => ":red_circle:",
                State::Unknown => ":white_circle:",
            };
            let text = format!(
                "{icon} *{}* is {} on {instance} (was {}): {} · instance {} · {time}",
                c.check,
                c.to.as_str().to_uppercase(),
                c.from.as_str(),
                c.reason,
                c.status.as_str(),
            );
            json!({ "text": text })
        }
    };
    serde_json::to_vec(&value).expect("JSON values serialise")
}

/// The key of a Standard Webhooks secret: the base64 after `whsec_`, or the
/// secret's own bytes when it has no such prefix.
pub fn signing_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` (Standard Webhooks).
pub fn signature(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("v1,{sig}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = br#"{"test": 2432232314}"#;
        let sig = signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
