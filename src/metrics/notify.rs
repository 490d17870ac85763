//! The webhooks' series, labelled by the `[[notify]]` entry's name (bounded
//! by the configuration) and, for drops, by a closed set of reasons.

use prometheus::{IntCounterVec, IntGaugeVec};

use super::{counter_vec, int_gauge_vec, Reg};

/// Why an event was dropped (the `reason` label).
pub(super) const DROP_REASONS: [&str; 3] = ["queue_full", "gave_up", "refused"];

/// The webhook families.
pub(super) struct NotifySeries {
    sent: IntCounterVec,
    failed_attempts: IntCounterVec,
    dropped: IntCounterVec,
    queue: IntGaugeVec,
}

impl NotifySeries {
    pub(super) fn declare(r: &mut Reg) -> NotifySeries {
        NotifySeries {
            sent: counter_vec(
                r,
                "healthgate_notify_sent_total",
                "Webhook events delivered (a 2xx answer).",
                &["notify"],
            ),
            failed_attempts: counter_vec(
                r,
                "healthgate_notify_failed_attempts_total",
                "Webhook attempts that failed and were retried or given up (connection errors, timeouts, 429, 5xx).",
                &["notify"],
            ),
            dropped: counter_vec(
                r,
                "healthgate_notify_dropped_total",
                "Webhook events never delivered: queue_full (the oldest dropped), gave_up (max_attempts reached), refused (a 4xx).",
                &["notify", "reason"],
            ),
            queue: int_gauge_vec(r, "healthgate_notify_queue_length", "Webhook events waiting.", &["notify"]),
        }
    }

    pub(super) fn declare_notify(&self, name: &str) {
        self.sent.with_label_values(&[name]);
        self.failed_attempts.with_label_values(&[name]);
        for reason in DROP_REASONS {
            self.dropped.with_label_values(&[name, reason]);
        }
        self.queue.with_label_values(&[name]).set(0);
    }

    pub(super) fn queued(&self, name: &str, dropped: u64, len: usize) {
        if dropped > 0 {
            self.dropped.with_label_values(&[name, "queue_full"]).inc_by(dropped);
        }
        self.queue.with_label_values(&[name]).set(len as i64);
    }

    pub(super) fn queue_length(&self, name: &str, len: usize) {
        self.queue.with_label_values(&[name]).set(len as i64);
    }

    pub(super) fn sent(&self, name: &str) {
        self.sent.with_label_values(&[name]).inc();
    }

    pub(super) fn attempt_failed(&self, name: &str) {
        self.failed_attempts.with_label_values(&[name]).inc();
    }

    pub(super) fn dropped(&self, name: &str, reason: &str) {
        self.dropped.with_label_values(&[name, reason]).inc();
    }
}
