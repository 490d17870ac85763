//! `[history] file`: the histories written to disk and read back at start.
//!
//! The file is JSON (`"format": "healthgate-history/1"`), written to a
//! temporary file beside it, flushed to disk and renamed over the old one, so a
//! crash mid-write leaves the previous file whole. Only slots with data are
//! written. A file that cannot be read, is not JSON, is another program's or
//! another version's is reported and ignored: history is a convenience, never
//! a reason not to start.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{CheckHistory, Resolution, Slot, Transition};
use crate::status::State;

/// The format word of the file.
pub const FORMAT: &str = "healthgate-history/1";

/// Files larger than this are refused unread (1,000 full histories take ~12 MiB).
const MAX_FILE: u64 = 64 << 20;

/// Why the file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a history file this version understands.
    #[error("{path}: {why}; ignored (it is replaced at the next save)")]
    Foreign {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Saved {
    format: String,
    saved: u64,
    checks: Vec<SavedCheck>,
}

#[derive(Serialize, Deserialize)]
struct SavedCheck {
    name: String,
    kind: String,
    minutes: Vec<Slot>,
    tens: Vec<Slot>,
    journal: Vec<SavedTransition>,
}

#[derive(Serialize, Deserialize)]
struct SavedTransition {
    at: u64,
    from: String,
    to: String,
    reason: String,
}

fn state(word: &str) -> Option<State> {
    match word {
        "unknown" => Some(State::Unknown),
        w => crate::status::Status::parse(w).map(State::Known),
    }
}

/// One check's history to save: its name, its kind word and the history.
pub type Entry<'a> = (&'a str, &'a str, &'a CheckHistory);

/// Writes the histories atomically (temporary file, fsync, rename). Blocking:
/// call it off the runtime thread.
pub fn save(path: &Path, entries: &[Entry<'_>], now: u64) -> Result<(), FileError> {
    let io = |source| FileError::Io {
        path: path.display().to_string(),
        source,
    };
    let checks = entries
        .iter()
        .map(|(name, kind, h)| {
            // The time since the last result belongs in the file too: a
            // check that failed once and was saved before its next round
            // must come back having failed for that long.
            let mut h = (*h).clone();
            h.observe(now, h.current());
            (name, kind, h)
        })
        .map(|(name, kind, h)| SavedCheck {
            name: name.to_string(),
            kind: kind.to_string(),
            minutes: h.stored(Resolution::Minute).copied().collect(),
            tens: h.stored(Resolution::TenMinutes).copied().collect(),
            journal: h
                .transitions()
                .map(|t| SavedTransition {
                    at: t.at,
                    from: t.from.as_str().into(),
                    to: t.to.as_str().into(),
                    reason: t.reason.to_string(),
                })
                .collect(),
        })
        .collect();
    let saved = Saved {
        format: FORMAT.into(),
        saved: now,
        checks,
    };
    let body = serde_json::to_vec(&saved).map_err(|e| io(std::io::Error::other(e)))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(&body).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Reads the file back: the histories by check name, with their kind word,
/// each restored as of `now`. A missing file is an empty map.
pub fn load(path: &Path, now: u64) -> Result<HashMap<String, (String, CheckHistory)>, FileError> {
    let shown = path.display().to_string();
    let foreign = |why: String| FileError::Foreign {
        path: shown.clone(),
        why,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(source) => return Err(FileError::Io { path: shown, source }),
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_FILE {
        return Err(foreign(format!(
            "{len} bytes, more than a history file can be (64 MiB)"
        )));
    }
    let saved: Saved = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| foreign(format!("not a healthgate history file ({e})")))?;
    if saved.format != FORMAT {
        let mut word = saved.format;
        word.truncate(40);
        return Err(foreign(format!("format \"{word}\" (this version reads {FORMAT})")));
    }
    let mut out = HashMap::new();
    for c in saved.checks {
        let journal = c
            .journal
            .into_iter()
            .filter_map(|t| {
                Some(Transition {
                    at: t.at,
                    from: state(&t.from)?,
                    to: state(&t.to)?,
                    reason: t.reason.chars().take(super::REASON_CAP).collect::<String>().into(),
                })
            })
            .collect();
        let history = CheckHistory::restore(&c.minutes, &c.tens, journal, now);
        out.insert(c.name, (c.kind, history));
    }
    Ok(out)
}
