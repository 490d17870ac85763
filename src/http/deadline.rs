//! Slowloris protection with one timer per connection instead of one per request.
//!
//! hyper's own `header_read_timeout` allocates and registers a timer for every
//! request head and removes it again when the head is complete: about 1,400 of
//! the ~9,500 CPU instructions a `/healthz` answer cost (callgrind, BENCHMARKS.md).
//! Here a connection instead keeps a deadline in an atomic, moved forward with
//! a clock read whenever an answer is produced or written, and one watchdog
//! that sleeps until the deadline, finds it moved, and sleeps again: it wakes
//! once per timeout at most, however many requests pass.
//!
//! The rule is hyper's: after the connection opens, and after each answer, the
//! next request head must arrive within the timeout; while a request is being
//! answered the clock does not run (a slow handler or a slow reader of a large
//! body is not a slowloris). A connection that misses the deadline is closed
//! without an answer, as hyper does. The compromise: the deadline is checked when
//! the watchdog wakes, so a connection can be closed up to one clock tick late.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// The deadline of one connection for its next complete request head.
#[derive(Debug)]
pub(super) struct HeadDeadline {
    opened: Instant,
    timeout: Duration,
    /// The deadline, in milliseconds since `opened`.
    at_ms: AtomicU64,
    /// Requests being answered; the clock stands still while this is not zero.
    busy: AtomicUsize,
}

impl HeadDeadline {
    /// A deadline `timeout` from now.
    pub(super) fn new(timeout: Duration) -> Arc<Self> {
        let d = Arc::new(HeadDeadline {
            opened: Instant::now(),
            timeout,
            at_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        });
        d.rearm();
        d
    }

    /// A request head arrived and its answer is being prepared.
    pub(super) fn request_started(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
    }

    /// The answer to a request is ready: the next head is due `timeout` from now.
    pub(super) fn request_answered(&self) {
        self.busy.fetch_sub(1, Ordering::Relaxed);
        self.rearm();
    }

    /// An answer produced without yielding was ready at `at`: the next head is
    /// due `timeout` after that. Such an answer takes microseconds, so it needs
    /// no busy spell around it (the probe path saves two atomic updates).
    pub(super) fn answered_at(&self, at: Instant) {
        self.rearm_from(at);
    }

    /// Bytes of an answer went out: a reader still receiving is not idle.
    fn wrote(&self) {
        if self.busy.load(Ordering::Relaxed) == 0 {
            self.rearm();
        }
    }

    fn rearm(&self) {
        self.rearm_from(Instant::now());
    }

    fn rearm_from(&self, now: Instant) {
        let at = now.saturating_duration_since(self.opened) + self.timeout;
        self.at_ms.store(at.as_millis() as u64, Ordering::Relaxed);
    }

    /// Resolves once the deadline passes with no request in progress.
    pub(super) async fn missed(&self) {
        loop {
            let at = self.opened + Duration::from_millis(self.at_ms.load(Ordering::Relaxed));
            let busy = self.busy.load(Ordering::Relaxed) > 0;
            let now = Instant::now();
            if !busy && now >= at {
                return;
            }
            let wake = if busy { now + self.timeout } else { at };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// A connection's stream that moves its deadline on every write.
pub(super) struct Watched<S> {
    inner: S,
    deadline: Arc<HeadDeadline>,
}

impl<S> Watched<S> {
    /// Wraps `inner`.
    pub(super) fn new(inner: S, deadline: Arc<HeadDeadline>) -> Self {
        Watched { inner, deadline }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.deadline.wrote();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.deadline.wrote();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_misses_its_deadline() {
        let d = HeadDeadline::new(Duration::from_secs(5));
        let t0 = Instant::now();
        d.missed().await;
        assert_eq!(t0.elapsed().as_secs(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn answers_move_the_deadline_and_busy_stops_the_clock() {
        let d = HeadDeadline::new(Duration::from_secs(5));
        let t0 = Instant::now();
        let watch = tokio::spawn({
            let d = d.clone();
            async move { d.missed().await }
        });
        tokio::time::sleep(Duration::from_secs(4)).await;
        d.request_started();
        // A handler taking 20 s is not a slowloris.
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert!(!watch.is_finished());
        d.request_answered();
        watch.await.unwrap();
        assert_eq!(t0.elapsed().as_secs(), 29);
    }
}
