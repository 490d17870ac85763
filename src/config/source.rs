//! Layering: the file, then `HEALTHGATE__SECTION__KEY` environment overrides.
//!
//! Sections (`server`, `defaults`) are overridden through the `config` crate.
//! Checks live in an array, which environment variables cannot index well, so
//! they are addressed by name instead: `HEALTHGATE__CHECKS__<NAME>__<KEY>`, with the
//! name matched case-insensitively and `-` written as `_`.

use std::path::Path;

use config::{Environment, File, FileFormat};
use serde_json::Value;

use super::ConfigError;

const PREFIX: &str = "HEALTHGATE";
const CHECKS_PREFIX: &str = "HEALTHGATE__CHECKS__";

/// Merges a file (or inline TOML text) with the environment into one tree.
pub(super) fn merge(path: Option<&Path>, text: Option<&str>, env: &[(String, String)]) -> Result<Value, ConfigError> {
    let mut builder = config::Config::builder();
    if let Some(path) = path {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => FileFormat::Toml,
            Some("yaml" | "yml") => FileFormat::Yaml,
            _ => {
                return Err(ConfigError::Source(format!(
                    "config file \"{}\": unknown format (name it *.toml, *.yaml or *.yml)",
                    path.display()
                )))
            }
        };
        if !path.exists() {
            return Err(ConfigError::Source(format!(
                "config file \"{}\" does not exist (pass --config FILE or set HEALTHGATE_CONFIG)",
                path.display()
            )));
        }
        builder = builder.add_source(File::from(path).format(format).required(true));
    }
    if let Some(text) = text {
        builder = builder.add_source(File::from_str(text, FileFormat::Toml));
    }
    let (check_env, section_env): (Vec<_>, Vec<_>) = env
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{PREFIX}__")))
        .cloned()
        .partition(|(k, _)| k.starts_with(CHECKS_PREFIX));
    builder = builder.add_source(
        Environment::with_prefix(PREFIX)
            .prefix_separator("__")
            .separator("__")
            .source(Some(section_env.into_iter().collect())),
    );
    let where_ = path
        .map(|p| format!("config file \"{}\"", p.display()))
        .unwrap_or_else(|| "configuration".into());
    let built = builder
        .build()
        .map_err(|e| ConfigError::Source(format!("{where_}: {e}")))?;
    let mut tree: Value = built
        .try_deserialize()
        .map_err(|e| ConfigError::Source(format!("{where_}: {e}")))?;
    apply_check_overrides(&mut tree, &check_env)?;
    Ok(tree)
}

fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

fn apply_check_overrides(tree: &mut Value, env: &[(String, String)]) -> Result<(), ConfigError> {
    let mut problems = Vec::new();
    for (var, value) in env {
        let rest = &var[CHECKS_PREFIX.len()..];
        let Some((name, key)) = rest.split_once("__") else {
            problems.push(format!("{var}: expected {CHECKS_PREFIX}<NAME>__<KEY>"));
            continue;
        };
        let checks = tree.get_mut("checks").and_then(Value::as_array_mut);
        let target = checks.and_then(|list| {
            list.iter_mut().find(|c| {
                c.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| normalise(n) == normalise(name))
            })
        });
        match target.and_then(Value::as_object_mut) {
            Some(obj) => {
                obj.insert(key.to_ascii_lowercase(), Value::String(value.clone()));
            }
            None => problems.push(format!(
                "{var}: no check named \"{}\" in the file",
                name.to_ascii_lowercase()
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid(problems))
    }
}
