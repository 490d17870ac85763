//! Any text given as a configuration file: parsed into a `Config` or rejected with
//! problems that each name a key, never a panic.
#![no_main]

use healthgate::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = Config::from_toml_str(&text) {
        assert!(!e.to_string().is_empty(), "an empty error for {text:?}");
    }
});
