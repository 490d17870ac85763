//! A small typed walk over the merged configuration tree that records every
//! problem with its key path instead of stopping at the first.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::secret::Secret;

/// Problems found so far, as `path: message` lines.
#[derive(Default)]
pub(super) struct Problems(RefCell<Vec<String>>);

impl Problems {
    pub(super) fn push(&self, path: &str, message: &str) {
        self.0.borrow_mut().push(format!("{path}: {message}"));
    }

    pub(super) fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub(super) fn into_vec(self) -> Vec<String> {
        self.0.into_inner()
    }
}

/// One table (section or check) of the tree, with the keys it has handed out.
pub(super) struct Table<'a> {
    path: String,
    map: Option<&'a Map<String, Value>>,
    used: RefCell<HashSet<String>>,
    /// The declared keys (a kind's, once the kind is known, or a section's):
    /// reading any other key (beyond the shared ones) is a bug in the parser,
    /// caught in debug builds.
    declared: Cell<Option<&'static [&'static str]>>,
    problems: &'a Problems,
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a table".into(),
        other => other.to_string(),
    }
}

impl<'a> Table<'a> {
    pub(super) fn root(v: &'a Value, problems: &'a Problems) -> Self {
        Self::new(String::new(), v, problems)
    }

    pub(super) fn new(path: String, v: &'a Value, problems: &'a Problems) -> Self {
        let map = v.as_object();
        if map.is_none() {
            let where_ = if path.is_empty() { "configuration" } else { &path };
            problems.push(where_, &format!("expected a table, found {}", describe(v)));
        }
        Table {
            path,
            map,
            used: RefCell::default(),
            declared: Cell::new(None),
            problems,
        }
    }

    pub(super) fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Records a problem for `key` of this table.
    pub(super) fn problem(&self, key: &str, message: &str) {
        self.problems.push(&self.key_path(key), message);
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        debug_assert!(
            self.declared
                .get()
                .is_none_or(|keys| keys.contains(&key) || super::SHARED_KEYS.contains(&key)),
            "{}: the parser reads the undeclared key \"{key}\" (add it to its KEYS)",
            self.path
        );
        self.used.borrow_mut().insert(key.to_string());
        self.map?.get(key)
    }

    /// Declares the keys this table may have (see [`Table::get`]).
    pub(super) fn declare(&self, keys: &'static [&'static str]) {
        self.declared.set(Some(keys));
    }

    /// Whether this node is a table at all.
    pub(super) fn map_present(&self) -> bool {
        self.map.is_some()
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.map.is_some_and(|m| m.contains_key(key))
    }

    pub(super) fn table(&self, key: &str) -> Option<Table<'a>> {
        self.get(key).map(|v| Table::new(self.key_path(key), v, self.problems))
    }

    pub(super) fn array(&self, key: &str) -> Option<&'a Vec<Value>> {
        match self.get(key)? {
            Value::Array(a) => Some(a),
            other => {
                self.problem(key, &format!("expected a list, found {}", describe(other)));
                None
            }
        }
    }

    pub(super) fn str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                self.problem(key, &format!("expected a string, found {}", describe(other)));
                None
            }
        }
    }

    pub(super) fn required_str(&self, key: &str) -> Option<String> {
        if self.map.is_some() && !self.has(key) {
            self.problem(key, "missing required key");
        }
        self.str(key)
    }

    pub(super) fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            other => {
                self.problem(key, &format!("expected true or false, found {}", describe(other)));
                None
            }
        }
    }

    /// A table of strings (e.g. HTTP headers), in file order.
    pub(super) fn string_map(&self, key: &str) -> Vec<(String, String)> {
        match self.get(key) {
            None => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| match v.as_str() {
                    Some(s) => Some((k.clone(), s.to_string())),
                    None => {
                        self.problem(
                            &format!("{key}.{k}"),
                            &format!("expected a string, found {}", describe(v)),
                        );
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.problem(key, &format!("expected a table, found {}", describe(other)));
                Vec::new()
            }
        }
    }

    /// A list of strings.
    pub(super) fn string_list(&self, key: &str) -> Option<Vec<String>> {
        let items = self.array(key)?;
        let mut out = Vec::new();
        for (i, v) in items.iter().enumerate() {
            match v.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.problem(
                    &format!("{key}[{i}]"),
                    &format!("expected a string, found {}", describe(v)),
                ),
            }
        }
        Some(out)
    }

    /// A non-negative integer (numbers from the environment arrive as strings).
    pub(super) fn u64(&self, key: &str) -> Option<u64> {
        let v = self.get(key)?;
        let parsed = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.problem(key, &format!("expected a non-negative integer, found {}", describe(v)));
        }
        parsed
    }

    /// A count for rise/fall: 1 to 100.
    pub(super) fn count(&self, key: &str) -> Option<u32> {
        let n = self.u64(key)?;
        if !(1..=100).contains(&n) {
            self.problem(key, &format!("must be between 1 and 100, found {n}"));
            return None;
        }
        Some(n as u32)
    }

    /// A human duration such as `"2s"`, `"500ms"`, `"1m 30s"`.
    pub(super) fn duration(&self, key: &str) -> Option<Duration> {
        match self.get(key)? {
            Value::String(s) => match humantime::parse_duration(s.trim()) {
                Ok(d) => Some(d),
                Err(_) => {
                    self.problem(
                        key,
                        &format!("invalid duration \"{s}\" (use e.g. \"2s\", \"500ms\", \"1m\")"),
                    );
                    None
                }
            },
            other => {
                self.problem(
                    key,
                    &format!(
                        "invalid duration {} (write it as a string with a unit, e.g. \"2s\")",
                        describe(other)
                    ),
                );
                None
            }
        }
    }

    /// A secret from `<stem>_env` or `<stem>_file` (exactly one may be given).
    /// Inline `<stem>` is refused so secrets never sit in configuration files.
    pub(super) fn secret(&self, stem: &str) -> Option<Secret> {
        let env_key = format!("{stem}_env");
        let file_key = format!("{stem}_file");
        if self.get(stem).is_some() {
            self.problem(
                stem,
                &format!("secrets are not accepted inline; use {env_key} (an environment variable name) or {file_key} (a path)"),
            );
        }
        let env = self.str(&env_key);
        let file = self.str(&file_key);
        let (key, result) = match (env, file) {
            (Some(_), Some(_)) => {
                self.problem(&env_key, &format!("give either {env_key} or {file_key}, not both"));
                return None;
            }
            (Some(var), None) => (env_key, Secret::from_env(&var)),
            (None, Some(path)) => (file_key, Secret::from_file(&path)),
            (None, None) => return None,
        };
        result.map_err(|e| self.problem(&key, &e)).ok()
    }

    /// Reports keys present in the table that the parser never asked for: the keys
    /// a parser reads are, by construction, the keys it knows.
    pub(super) fn finish(&self) {
        let Some(map) = self.map else { return };
        let used = self.used.borrow();
        // Inline secret stems (`password`) are read only to be refused; hide them.
        let mut expected: Vec<&str> = used
            .iter()
            .map(String::as_str)
            .filter(|k| !used.contains(&format!("{k}_env")))
            .collect();
        expected.sort_unstable();
        for key in map.keys() {
            if !used.contains(key) {
                self.problem(key, &format!("unknown key (expected one of: {})", expected.join(", ")));
            }
        }
    }
}
