//! Records the git commit for `healthgate_build_info` (or "unknown" outside
//! git), and generates the gRPC health service (`grpc.health.v1`) from the
//! proto in `proto/`, with a protoc shipped as a crate (nothing to install).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HEALTHGATE_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");

    let mut prost = prost_build::Config::new();
    prost.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    println!("cargo:rerun-if-changed=proto/grpc/health/v1/health.proto");
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_protos_with_config(prost, &["proto/grpc/health/v1/health.proto"], &["proto"])?;
    Ok(())
}
