//! `[history] file`: the task that saves the published histories, at most
//! every `save_interval` while something changes and once more at shutdown.
//!
//! It reads the snapshot like any handler (the histories travel in it) and
//! writes on a blocking thread, so neither the publisher nor a probe waits on
//! the disk. A failing disk is logged when saving starts failing and when it
//! works again, not at every attempt.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::history::{file, unix_ms};
use crate::snapshot::{SharedSnapshot, Snapshot};

/// Saves the histories of `snapshot` to `path`.
pub struct Saver {
    path: PathBuf,
    snapshot: SharedSnapshot,
    saved: Option<u64>,
    failing: bool,
}

impl Saver {
    /// A saver that has saved nothing yet.
    pub fn new(path: PathBuf, snapshot: SharedSnapshot) -> Saver {
        Saver {
            path,
            snapshot,
            saved: None,
            failing: false,
        }
    }

    /// Saves every `interval` when the snapshot changed; never returns (abort it).
    pub async fn run(mut self, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            self.save().await;
        }
    }

    /// Saves now if anything changed since the last save.
    pub async fn save(&mut self) {
        let snap = self.snapshot.load_full();
        if self.saved == Some(snap.generation) {
            return;
        }
        let path = self.path.clone();
        let generation = snap.generation;
        let result = tokio::task::spawn_blocking(move || write(&path, &snap)).await;
        match result {
            Ok(Ok(())) => {
                if self.failing {
                    tracing::info!(file = %self.path.display(), "history saved again");
                }
                self.failing = false;
                self.saved = Some(generation);
            }
            Ok(Err(e)) => {
                if !self.failing {
                    tracing::warn!(error = %e, "cannot save the history file; the history is kept in memory and saving is retried");
                }
                self.failing = true;
            }
            Err(_) => tracing::error!("saving the history file panicked"),
        }
    }
}

fn write(path: &std::path::Path, snap: &Arc<Snapshot>) -> Result<(), file::FileError> {
    let entries: Vec<file::Entry<'_>> = snap.checks.iter().map(|c| (&*c.name, c.kind, &*c.history)).collect();
    file::save(path, &entries, unix_ms(SystemTime::now()))
}
