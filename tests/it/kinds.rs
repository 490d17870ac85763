//! The kind registry is the one list of kinds: these tests take the kinds from
//! it and fail when a kind collides with a shared key, or is missing from the
//! README's table or the shipped example configuration.

use healthgate::config::{Config, KINDS, SHARED_KEYS};

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
const EXAMPLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/healthgate.toml"));

#[test]
fn no_kind_uses_a_shared_key() {
    for kind in KINDS {
        for key in kind.keys {
            assert!(
                !SHARED_KEYS.contains(key),
                "kind {} declares the shared key {key}: every check's {key} means something else; rename it",
                kind.name
            );
        }
        let mut sorted = kind.keys.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), kind.keys.len(), "kind {} declares a key twice", kind.name);
    }
}

#[test]
fn every_kind_is_in_the_readme_table_and_the_example_config() {
    for kind in KINDS {
        let row = format!("\n| `{}` |", kind.name);
        assert!(
            README.contains(&row),
            "README.md's Checks table has no row for kind {}",
            kind.name
        );
        let entry = format!("\nkind = \"{}\"", kind.name);
        assert!(
            EXAMPLE.contains(&entry),
            "examples/healthgate.toml has no check of kind {}",
            kind.name
        );
    }
}

#[test]
fn an_unknown_kind_names_every_registered_one() {
    let err = Config::from_toml_str("[[checks]]\nname = \"x\"\nkind = \"ftp\"\n")
        .unwrap_err()
        .to_string();
    for kind in KINDS {
        assert!(err.contains(kind.name), "{err}");
    }
    assert!(
        err.contains("checks[0].kind: unknown kind \"ftp\" (expected elasticsearch, http,"),
        "{err}"
    );
}

/// Every key a kind declares is accepted in a check of that kind (no declared
/// key is refused as unknown), and the shared keys are accepted by all.
#[test]
fn declared_keys_are_the_keys_each_kind_accepts() {
    for kind in KINDS {
        let err = Config::from_toml_str(&format!(
            "[[checks]]\nname = \"x\"\nkind = \"{}\"\nnot_a_key = 1\n",
            kind.name
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("checks[0].not_a_key: unknown key"), "{}: {err}", kind.name);
    }
}
