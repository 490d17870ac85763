//! `kind = "exec"`: run a command with arguments (no shell), Nagios convention:
//! exit 0 pass, 1 warn, 2 or more (or a signal) fail; the first 4 KiB of output is
//! the reason.
//!
//! The command runs in its own process group. When the round ends, normally or by
//! the scheduler's timeout dropping it, the whole group is killed, so a plugin
//! that forks cannot leave processes behind or pile them up round after round.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use rustix::process::{kill_process_group, Pid, Signal};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use super::{Check, Outcome};
use crate::config::ExecConfig;
use crate::status::Status;

/// The reason keeps at most this much output.
const MAX_OUTPUT: usize = 4096;

/// The exec check.
pub struct ExecCheck {
    cfg: ExecConfig,
}

impl ExecCheck {
    /// Builds the check.
    pub fn new(cfg: &ExecConfig) -> Self {
        ExecCheck { cfg: cfg.clone() }
    }
}

/// Kills a process group when dropped.
struct GroupGuard(i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // The group we created for the child; ESRCH (already gone) is harmless.
        if let Some(group) = Pid::from_raw(self.0) {
            let _ = kill_process_group(group, Signal::KILL);
        }
    }
}

async fn read_bounded(mut r: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    // Keep the first MAX_OUTPUT bytes and drain the rest, so a chatty command
    // never blocks on a full pipe nor fills memory.
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = MAX_OUTPUT.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    kept
}

#[async_trait]
impl Check for ExecCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        let program = &self.cfg.command[0];
        let mut child = match Command::new(program)
            .args(&self.cfg.command[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return Outcome::fail(format!("cannot run {program}: {e}")),
        };
        let _guard = child.id().map(|pid| GroupGuard(pid as i32));
        let out = read_bounded(child.stdout.take().expect("piped"));
        let err = read_bounded(child.stderr.take().expect("piped"));
        let (out, err, status) = tokio::join!(out, err, child.wait());
        let text = if out.iter().any(|b| !b.is_ascii_whitespace()) {
            out
        } else {
            err
        };
        let reason = super::transport::one_line(&String::from_utf8_lossy(&text));
        match status {
            Ok(s) => match s.code() {
                Some(0) => Outcome::pass(reason),
                Some(1) => Outcome::warn(reason),
                Some(code) => Outcome::new(Status::Fail, format!("exit {code}: {reason}")),
                None => Outcome::fail(format!("killed by signal {}: {reason}", s.signal().unwrap_or(0))),
            },
            Err(e) => Outcome::fail(format!("waiting for {program}: {e}")),
        }
    }

    fn measurement(&self) -> &'static str {
        "exitStatus"
    }

    fn component_type(&self) -> &'static str {
        "system"
    }
}
