//! `kind = "exec"`: a command, Nagios style (exit 0 pass, 1 warn, 2+ fail).

use super::KindConfig;
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "exec"`: a command, Nagios style (exit 0 pass, 1 warn, 2+ fail).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecConfig {
    /// Program and arguments; no shell.
    pub command: Vec<String>,
}

impl KindConfig for ExecConfig {
    const KEYS: &'static [&'static str] = &["command"];

    fn parse(t: &Table, _redactor: &mut Redactor) -> Option<Self> {
        let command = t.string_list("command");
        if command.is_none() && t.map_present() {
            t.problem(
                "command",
                "missing required key (a list: program and arguments, no shell)",
            );
        }
        let command = command?;
        if command.first().is_none_or(|p| p.is_empty()) {
            t.problem("command", "must name a program (a list: program and arguments)");
            return None;
        }
        Some(ExecConfig { command })
    }

    fn summary(&self) -> String {
        self.command.join(" ")
    }

    fn targets(&self) -> Vec<String> {
        Vec::new()
    }
}
