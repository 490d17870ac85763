//! The healthgate binary: parse the command line, start the runtime, report errors.

use std::process::ExitCode;

use clap::Parser;
use healthgate::cli::{dispatch, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    healthgate::telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(cli.worker_threads))
        .enable_all()
        .build()
    {
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
