//! Packaging that can be validated here: the systemd unit, the Kubernetes
//! manifests, the configuration they embed. (No container engine runs on these
//! machines, so the Dockerfile is not built here.)

use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
use crate::support::binary::{command, BIN};

#[test]
fn systemd_unit_verifies() {
    let unit = std::fs::read_to_string(Path::new(ROOT).join("examples/systemd/healthgate.service")).unwrap();
    assert!(
        unit.contains("DynamicUser=yes")
            && unit.contains("NoNewPrivileges=yes")
            && unit.contains("ProtectSystem=strict")
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("healthgate.service");
    std::fs::write(&path, unit.replace("/usr/bin/healthgate", BIN)).unwrap();
    // The manual page the unit names is checked where it is installed
    // (scripts/check-package); not here.
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian systemd) is needed");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze verify:\n{said}"
    );
}

fn load(file: &str) -> Yaml {
    let text = std::fs::read_to_string(Path::new(ROOT).join("examples/kubernetes").join(file)).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(docs.len(), 1, "{file}: one document");
    docs.remove(0)
}

#[test]
fn kubernetes_probes_point_at_the_sidecar() {
    let d = load("deployment.yaml");
    assert_eq!(d["kind"].as_str(), Some("Deployment"));
    let spec = &d["spec"]["template"]["spec"];
    let grace = spec["terminationGracePeriodSeconds"].as_i64().unwrap();
    let containers = spec["containers"].as_vec().unwrap();
    let hg = containers
        .iter()
        .find(|c| c["name"].as_str() == Some("healthgate"))
        .unwrap();
    assert_eq!(hg["readinessProbe"]["httpGet"]["path"].as_str(), Some("/readyz"));
    assert_eq!(hg["livenessProbe"]["httpGet"]["path"].as_str(), Some("/livez"));
    assert_eq!(hg["startupProbe"]["httpGet"]["path"].as_str(), Some("/livez"));
    assert_eq!(hg["ports"][0]["containerPort"].as_i64(), Some(9898));
    let app = containers.iter().find(|c| c["name"].as_str() == Some("app")).unwrap();
    let sleep: i64 = app["lifecycle"]["preStop"]["exec"]["command"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        grace > sleep + 5,
        "terminationGracePeriodSeconds leaves room after preStop"
    );
}

#[test]
fn kubernetes_configmap_holds_a_valid_configuration() {
    let cm = load("configmap.yaml");
    let toml = cm["data"]["healthgate.toml"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("healthgate.toml");
    std::fs::write(&path, toml.replace("/etc/ssl/certs/ca-certificates.crt", BIN)).unwrap();
    let out = command()
        .args(["check-config", "--config"])
        .arg(&path)
        .env("ES_PASSWORD", "pw-from-a-secret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The deployment's grace period covers healthgate's drain.
    assert!(toml.contains("shutdown_grace = \"5s\""));
}

#[test]
fn dockerfile_runs_as_non_root_with_a_liveness_healthcheck() {
    let df = std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).unwrap();
    assert!(df.contains("USER 10001:10001"));
    assert!(df.contains(r#"CMD ["healthgate", "probe", "http://127.0.0.1:9898/livez"]"#));
    assert_eq!(df.matches("FROM ").count(), 2, "multi-stage");
}

#[test]
fn man_page_renders_every_subcommand_kind_and_key() {
    use clap::CommandFactory;
    let out = command().arg("man").output().unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("healthgate.1");
    std::fs::write(&page, &out.stdout).unwrap();
    let shown = Command::new("man")
        .args(["--warnings", "-l", "-P", "cat"])
        .arg(&page)
        .env("MANWIDTH", "100")
        .output()
        .expect("man (Debian man-db) is needed");
    let text = String::from_utf8_lossy(&shown.stdout);
    let warnings = String::from_utf8_lossy(&shown.stderr);
    assert!(
        shown.status.success() && warnings.trim().is_empty(),
        "man -l: {warnings}"
    );
    for section in [
        "SYNOPSIS",
        "COMMANDS",
        "CONFIGURATION",
        "ENDPOINTS",
        "SIGNALS",
        "FILES",
        "EXIT STATUS",
    ] {
        assert!(text.contains(section), "no {section} section:\n{text}");
    }
    for sub in healthgate::cli::Cli::command().get_subcommands() {
        assert!(
            text.contains(&format!("healthgate {}", sub.get_name())),
            "{} missing",
            sub.get_name()
        );
    }
    for kind in healthgate::config::KINDS {
        assert!(
            text.contains(&format!("kind = \"{}\"", kind.name)),
            "kind {} missing",
            kind.name
        );
        for key in kind
            .keys
            .iter()
            .filter(|k| !kind.keys.contains(&format!("{k}_env").as_str()))
        {
            assert!(text.contains(key), "key {key} of {} missing", kind.name);
        }
    }
    for key in healthgate::config::ServerConfig::KEYS
        .iter()
        .chain(healthgate::config::SHARED_KEYS)
    {
        assert!(text.contains(key), "key {key} missing");
    }
}

#[test]
fn completions_parse_in_their_shells_and_complete_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [
        ("bash", &["bash", "-n"][..]),
        ("zsh", &["zsh", "-n"]),
        ("fish", &["fish", "--no-execute"]),
    ] {
        let out = command().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "completions {shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("check-config"), "{shell}: the subcommands are in it");
        let file = dir.path().join(format!("healthgate.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let parsed = Command::new(check[0])
            .args(&check[1..])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("{shell} is needed ({e}): ./scripts/test installs it"));
        assert!(
            parsed.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&parsed.stderr)
        );
    }
    // bash: sourcing registers the completion function.
    let file = dir.path().join("healthgate.bash");
    let registered = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p healthgate", file.display()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&registered.stdout);
    assert!(registered.status.success() && said.contains("healthgate"), "{said}");
}
