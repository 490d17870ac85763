//! One connection kept across rounds, for the database checks.
//!
//! The connection is made on first use, kept while rounds succeed, and dropped
//! when a round fails. A round the scheduler cut off mid-conversation leaves the
//! `busy` mark set, so the next round does not trust that connection and
//! reconnects.

use tokio::sync::Mutex;

struct Slot<C> {
    conn: Option<C>,
    busy: bool,
}

/// A connection reused across rounds.
pub(super) struct Reused<C> {
    slot: Mutex<Slot<C>>,
}

impl<C> Default for Reused<C> {
    fn default() -> Self {
        Reused {
            slot: Mutex::new(Slot {
                conn: None,
                busy: false,
            }),
        }
    }
}

impl<C: Send> Reused<C> {
    /// Runs `probe` on the kept connection (connecting first when there is none,
    /// when `usable` says it is broken, or when the last round was cut off). The
    /// connection is kept only when the probe succeeds.
    pub(super) async fn run<T, E>(
        &self,
        usable: impl Fn(&C) -> bool,
        connect: impl AsyncFnOnce() -> Result<C, E>,
        probe: impl AsyncFnOnce(&mut C) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut slot = self.slot.lock().await;
        if slot.busy || slot.conn.as_ref().is_some_and(|c| !usable(c)) {
            slot.conn = None;
        }
        slot.busy = true;
        let mut conn = match slot.conn.take() {
            Some(c) => c,
            None => match connect().await {
                Ok(c) => c,
                Err(e) => {
                    slot.busy = false;
                    return Err(e);
                }
            },
        };
        let result = probe(&mut conn).await;
        slot.busy = false;
        if result.is_ok() {
            slot.conn = Some(conn);
        }
        result
    }
}
