//! Webhooks on transitions (`[[notify]]`).
//!
//! The publisher hands every reported-state change to the [`Outbox`], which
//! appends it to each receiver's bounded [`queue::Queue`] and returns: it
//! never waits, so a slow receiver cannot delay a check or a probe. Each
//! receiver has its own task ([`Notifier::run`]) that owns its time, as the
//! scheduler owns the checks': it applies the receiver's rules and interval
//! ([`throttle`]), then delivers one event at a time (`deliver`), retrying
//! with exponential backoff. Every attempt of one event carries the same
//! `webhook-id` (Standard Webhooks), so a receiver that got an attempt whose
//! answer was lost can drop the repeat. Events of one receiver leave in order;
//! while one is being retried, new ones wait in the queue (the oldest are
//! dropped past `queue`, and counted).

mod deliver;
pub mod payload;
pub mod queue;
pub mod throttle;

use std::sync::Arc;

use tokio::time::Instant;

use crate::config::NotifyConfig;
use crate::metrics::Metrics;
use crate::status::{State, Status};
use deliver::Attempt;
use queue::Queue;
use throttle::{Rules, Throttle, Verdict};

/// A reported-state change of one check, as the publisher saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The check.
    pub check: Arc<str>,
    /// Whether it is critical.
    pub critical: bool,
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// The reason reported with the new state (already scrubbed of secrets).
    pub reason: Arc<str>,
    /// When (Unix milliseconds).
    pub at: u64,
    /// The instance's overall status right after.
    pub status: Status,
}

/// An event on its way: a change and the id every attempt carries.
#[derive(Debug, Clone)]
pub struct Event {
    /// `hg_` and 24 hex digits, the same on every attempt.
    pub id: String,
    /// What happened.
    pub change: Change,
}

struct Inbox {
    name: String,
    queue: Queue<Change>,
}

/// The publisher's side: every receiver's queue.
#[derive(Clone, Default)]
pub struct Outbox {
    inboxes: Vec<Arc<Inbox>>,
    metrics: Option<Arc<Metrics>>,
}

impl Outbox {
    /// Queues the changes for every receiver; never waits.
    pub fn send(&self, changes: &[Change]) {
        for inbox in &self.inboxes {
            for c in changes {
                let (dropped, len) = inbox.queue.push(c.clone());
                if let Some(m) = &self.metrics {
                    m.notify_queued(&inbox.name, dropped as u64, len);
                }
                if dropped > 0 {
                    tracing::warn!(notify = %inbox.name, dropped, "webhook queue full: the oldest events were dropped");
                }
            }
        }
    }
}

/// Why the webhooks could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("notify[{index}] ({name}): cannot build its HTTP client: {why}")]
pub struct NotifyError {
    index: usize,
    name: String,
    why: String,
}

/// One receiver's task.
pub struct Notifier {
    cfg: NotifyConfig,
    inbox: Arc<Inbox>,
    client: reqwest::Client,
    key: Option<Vec<u8>>,
    instance: String,
    metrics: Arc<Metrics>,
}

/// Builds the outbox and one task per `[[notify]]` entry.
pub fn build(
    cfgs: &[NotifyConfig],
    instance: &str,
    metrics: &Arc<Metrics>,
) -> Result<(Outbox, Vec<Notifier>), NotifyError> {
    let mut outbox = Outbox {
        inboxes: Vec::new(),
        metrics: Some(metrics.clone()),
    };
    let mut tasks = Vec::new();
    for (index, cfg) in cfgs.iter().enumerate() {
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| NotifyError {
                index,
                name: cfg.name.clone(),
                why: e.to_string(),
            })?;
        let inbox = Arc::new(Inbox {
            name: cfg.name.clone(),
            queue: Queue::new(cfg.queue),
        });
        metrics.declare_notify(&cfg.name);
        outbox.inboxes.push(inbox.clone());
        tasks.push(Notifier {
            key: cfg.signing_secret.as_ref().map(|s| payload::signing_key(s.expose())),
            cfg: cfg.clone(),
            inbox,
            client,
            instance: instance.to_string(),
            metrics: metrics.clone(),
        });
    }
    Ok((outbox, tasks))
}

impl Notifier {
    /// Delivers this receiver's events until aborted.
    pub async fn run(self) {
        let mut throttle = Throttle::new(Rules {
            on: self.cfg.on.clone(),
            send_resolved: self.cfg.send_resolved,
            min_interval: self.cfg.min_interval,
        });
        loop {
            let due = throttle.next_due();
            let next = match due {
                Some(at) => tokio::select! {
                    c = self.inbox.queue.pop() => Some(c),
                    () = tokio::time::sleep_until(at) => None,
                },
                None => Some(self.inbox.queue.pop().await),
            };
            self.metrics.notify_queue_length(&self.cfg.name, self.inbox.queue.len());
            let now = Instant::now();
            let ready = match next {
                Some(change) => match throttle.offer(change, now) {
                    Verdict::Send(c) => vec![c],
                    Verdict::Held | Verdict::Skip => Vec::new(),
                },
                None => throttle.due(now),
            };
            for change in ready {
                let id = format!("hg_{:024x}", rand::random::<u128>() >> 32);
                self.deliver(Event { id, change }).await;
            }
        }
    }

    async fn deliver(&self, event: Event) {
        let body = payload::body(&event, &self.instance, self.cfg.format);
        let name = &self.cfg.name;
        let check = &*event.change.check;
        for n in 1..=self.cfg.max_attempts {
            let ts = crate::history::unix_ms(std::time::SystemTime::now()) / 1000;
            let sig = self.key.as_ref().map(|k| payload::signature(k, &event.id, ts, &body));
            let headers = deliver::headers(&event.id, ts, sig);
            match deliver::attempt(&self.client, self.cfg.url.expose(), headers, body.clone()).await {
                Attempt::Delivered => {
                    self.metrics.notify_sent(name);
                    tracing::debug!(notify = %name, check, id = %event.id, attempts = n, "webhook delivered");
                    return;
                }
                Attempt::Refused(why) => {
                    self.metrics.notify_attempt_failed(name);
                    self.metrics.notify_failed(name, "refused");
                    tracing::warn!(notify = %name, check, id = %event.id, %why, "webhook refused the event; not retried");
                    return;
                }
                Attempt::Retry(why, retry_after) => {
                    self.metrics.notify_attempt_failed(name);
                    if n == self.cfg.max_attempts {
                        self.metrics.notify_failed(name, "gave_up");
                        tracing::warn!(notify = %name, check, id = %event.id, %why, attempts = n, "webhook not delivered; giving up on this event");
                        return;
                    }
                    let wait = deliver::wait(n, self.cfg.backoff, self.cfg.max_backoff, retry_after);
                    if n == 1 {
                        tracing::info!(notify = %name, check, id = %event.id, %why, retry_in = %humantime::format_duration(std::time::Duration::from_millis(wait.as_millis() as u64)), "webhook attempt failed; retrying");
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}
