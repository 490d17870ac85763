//! The healthgate binary: parse the command line, start the runtime, report errors.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use healthgate::cli::{dispatch, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    healthgate::telemetry::init(cli.log_format);
    // One worker: the current-thread scheduler, which skips the work-stealing
    // machinery that a single worker cannot use anyway.
    let mut builder = match cli.worker_threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(usize::from(n));
            b
        }
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(dispatch(cli));
    // A blocking reader of stdin (the demo) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result.map_err(anyhow::Error::from) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
