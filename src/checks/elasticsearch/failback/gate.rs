//! The failback gate's memory: the latch, an operator's confirmation, the
//! clusters seen, and caught-up counts; kept per check name in [`Gates`] (so a
//! reload that changes the check keeps it) and, with `state_file`, on disk.
//!
//! The file is small JSON written atomically (a temporary file renamed over
//! it) when the latch, the confirmation or a cluster identity changes, never
//! per round. A file that cannot be read, is not JSON, or belongs to another
//! check is reported and closes the gate: failing safe is the point.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// The format marker and version of the state file.
const FORMAT: &str = "healthgate-dr-gate/1";

/// Why the gate is latched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latch {
    /// When it latched (RFC 3339).
    pub since: String,
    /// What was seen, and what to do.
    pub reason: String,
}

/// An operator's confirmation: the gate opens, and split leaders do not latch
/// it again, until `until`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    /// Why the operator confirmed.
    pub reason: String,
    /// When it ends (RFC 3339).
    pub until: String,
    /// The same instant, for comparisons.
    #[serde(skip)]
    pub until_at: Option<SystemTime>,
}

/// What survives a restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Stored {
    format: String,
    check: String,
    latched: Option<Latch>,
    confirmed: Option<Confirmation>,
    /// Cluster UUIDs seen, by side (`local`, `peer`).
    clusters: BTreeMap<String, String>,
}

/// One check's gate.
#[derive(Debug)]
pub struct Gate {
    check: String,
    file: Option<PathBuf>,
    stored: Stored,
    /// Consecutive rounds each index was seen caught up.
    pub caught_up: BTreeMap<String, u32>,
    /// Serialises writes of the file, so the last state written is the last one made.
    write: Arc<Mutex<()>>,
}

fn now_text() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

impl Gate {
    fn load(check: &str, file: Option<&Path>) -> Gate {
        let mut gate = Gate {
            check: check.to_string(),
            file: file.map(Path::to_path_buf),
            stored: Stored {
                format: FORMAT.into(),
                check: check.into(),
                ..Stored::default()
            },
            caught_up: BTreeMap::new(),
            write: Arc::default(),
        };
        let Some(path) = file else { return gate };
        let problem = match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return gate,
            Err(e) => format!("cannot read it: {e}"),
            Ok(bytes) => match serde_json::from_slice::<Stored>(&bytes) {
                Ok(s) if s.format == FORMAT && s.check == check => {
                    gate.stored = s;
                    if let Some(c) = &mut gate.stored.confirmed {
                        c.until_at = humantime::parse_rfc3339(&c.until).ok();
                    }
                    return gate;
                }
                Ok(s) if s.format == FORMAT => format!("it belongs to the check \"{}\"", s.check),
                Ok(_) => "it is not a healthgate DR gate file".to_string(),
                Err(e) => format!("it is not a healthgate DR gate file ({e})"),
            },
        };
        let reason = format!(
            "state file {} is unusable ({problem}): the gate stays closed until the switch back is observed or an operator confirms with healthgate dr confirm",
            path.display()
        );
        tracing::warn!(check = %check, "{reason}");
        gate.stored.latched = Some(Latch {
            since: now_text(),
            reason,
        });
        gate
    }

    /// The latch, if any.
    pub fn latched(&self) -> Option<&Latch> {
        self.stored.latched.as_ref()
    }

    /// The confirmation in force now (an expired one is dropped).
    pub fn confirmation(&mut self) -> Option<&Confirmation> {
        let expired = self
            .stored
            .confirmed
            .as_ref()
            .is_some_and(|c| c.until_at.is_none_or(|t| t <= SystemTime::now()));
        if expired {
            tracing::info!(check = %self.check, "the operator's DR confirmation expired");
            self.stored.confirmed = None;
        }
        self.stored.confirmed.as_ref()
    }

    /// Latches with `reason` (kept from the first time while latched); true if it changed.
    pub fn latch(&mut self, reason: String) -> bool {
        if self.stored.latched.is_some() {
            return false;
        }
        tracing::warn!(check = %self.check, "failback gate latched: {reason}");
        self.stored.latched = Some(Latch {
            since: now_text(),
            reason,
        });
        true
    }

    /// Opens the latch after the switch back was observed; true if it changed.
    pub fn unlatch(&mut self, why: &str) -> bool {
        if self.stored.latched.take().is_none() {
            return false;
        }
        tracing::info!(check = %self.check, "failback gate opened: {why}");
        true
    }

    /// The cluster UUID remembered for `side`; remembers `uuid` the first time.
    /// `Err(old)` when it differs. True in `Ok` when it was new.
    pub fn identity(&mut self, side: &str, uuid: &str) -> Result<bool, String> {
        match self.stored.clusters.get(side) {
            Some(old) if old == uuid => Ok(false),
            Some(old) => Err(old.clone()),
            None => {
                self.stored.clusters.insert(side.to_string(), uuid.to_string());
                Ok(true)
            }
        }
    }

    /// An operator's confirmation: opens the latch, forgets the clusters seen
    /// (a replaced cluster is accepted) and keeps split leaders from latching
    /// until `ttl` has passed.
    pub fn confirm(&mut self, reason: &str, ttl: Duration) {
        let until = SystemTime::now() + ttl;
        tracing::warn!(check = %self.check, reason = %reason, ttl = %humantime::format_duration(ttl), "failback gate confirmed by an operator");
        self.stored.latched = None;
        self.stored.clusters.clear();
        self.caught_up.clear();
        self.stored.confirmed = Some(Confirmation {
            reason: reason.to_string(),
            until: humantime::format_rfc3339_seconds(until).to_string(),
            until_at: Some(until),
        });
    }

    /// The state as JSON, for `GET /admin/dr` and `healthgate dr status`.
    pub fn status(&mut self) -> serde_json::Value {
        let confirmed = self.confirmation().cloned();
        serde_json::json!({
            "check": self.check,
            "latched": self.stored.latched,
            "confirmed": confirmed,
            "clusters": self.stored.clusters,
            "caught_up_rounds": self.caught_up,
            "state_file": self.file.as_ref().map(|p| p.display().to_string()),
        })
    }
}

/// Writes the gate's current state to its file, off the runtime's thread.
pub fn save(gate: &Arc<Mutex<Gate>>) {
    let (file, write) = {
        let g = gate.lock().unwrap_or_else(|e| e.into_inner());
        (g.file.clone(), g.write.clone())
    };
    let Some(file) = file else { return };
    let gate = gate.clone();
    let job = move || {
        let _one_writer = write.lock().unwrap_or_else(|e| e.into_inner());
        let (text, check) = {
            let g = gate.lock().unwrap_or_else(|e| e.into_inner());
            (serde_json::to_vec_pretty(&g.stored), g.check.clone())
        };
        let result = text.map_err(std::io::Error::other).and_then(|text| {
            let tmp = file.with_extension("tmp");
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, &file)
        });
        if let Err(e) = result {
            tracing::warn!(check = %check, "cannot write the failback gate's state file {}: {e}", file.display());
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => drop(rt.spawn_blocking(job)),
        Err(_) => job(),
    }
}

/// Every failback gate of the process, by check name. Held weakly: a gate
/// lives as long as a check uses it, so a reload that rebuilds the check
/// (the old one still runs while the new one is built) keeps it, and a check
/// removed from the file takes its gate with it.
#[derive(Debug, Clone, Default)]
pub struct Gates(Arc<Mutex<BTreeMap<String, Weak<Mutex<Gate>>>>>);

/// Why a confirmation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// No failback check runs.
    #[error("no failback check is configured")]
    NoGate,
    /// Several run and none was named.
    #[error("several failback checks run ({0}); name one with \"check\"")]
    Ambiguous(String),
    /// The named one does not run.
    #[error("no failback check named \"{0}\"")]
    Unknown(String),
}

impl Gates {
    /// The gate of `check`, made (and read from `file`) the first time.
    pub fn gate(&self, check: &str, file: Option<&Path>) -> Arc<Mutex<Gate>> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, g| g.strong_count() > 0);
        if let Some(g) = all.get(check).and_then(Weak::upgrade) {
            return g;
        }
        let g = Arc::new(Mutex::new(Gate::load(check, file)));
        all.insert(check.to_string(), Arc::downgrade(&g));
        g
    }

    fn live(&self) -> BTreeMap<String, Arc<Mutex<Gate>>> {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.iter()
            .filter_map(|(k, g)| Some((k.clone(), g.upgrade()?)))
            .collect()
    }

    /// Every gate's state.
    pub fn status(&self) -> Vec<serde_json::Value> {
        self.live()
            .values()
            .map(|g| g.lock().unwrap_or_else(|e| e.into_inner()).status())
            .collect()
    }

    /// Confirms `check` (or the only gate) for `ttl`; its state afterwards.
    pub fn confirm(&self, check: Option<&str>, reason: &str, ttl: Duration) -> Result<serde_json::Value, ConfirmError> {
        let gate = {
            let all = self.live();
            match check {
                Some(name) => all
                    .get(name)
                    .cloned()
                    .ok_or_else(|| ConfirmError::Unknown(name.into()))?,
                None if all.len() == 1 => all.values().next().cloned().ok_or(ConfirmError::NoGate)?,
                None if all.is_empty() => return Err(ConfirmError::NoGate),
                None => {
                    return Err(ConfirmError::Ambiguous(
                        all.keys().cloned().collect::<Vec<_>>().join(", "),
                    ))
                }
            }
        };
        let status = {
            let mut g = gate.lock().unwrap_or_else(|e| e.into_inner());
            g.confirm(reason, ttl);
            g.status()
        };
        save(&gate);
        Ok(status)
    }
}
