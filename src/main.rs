//! The `braindrill` binary: `braindrill [--config FILE] [master|worker|standalone]`.
//! The role comes from the subcommand, else from `CLUSTER_ROLE`, else it is
//! standalone (master and worker in one process). It starts the node, waits
//! for SIGTERM or Ctrl-C, and stops it gracefully.

use std::path::PathBuf;
use std::process::ExitCode;

use braindrill::configuration::{Role, Settings};
use clap::Parser;

#[derive(Parser)]
#[command(version, about = "A distributed remote code execution engine")]
struct Cli {
    /// Settings file layered over config/default.toml.
    #[arg(long, short, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What this process runs.
    #[arg(value_enum)]
    role: Option<Role>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    braindrill::telemetry::init();
    let settings = match Settings::load(cli.config.as_deref(), std::env::vars()) {
        Ok(mut settings) => {
            if cli.role.is_some() {
                settings.role = cli.role;
            }
            settings
        }
        Err(error) => {
            eprintln!("braindrill: {error:#}");
            return ExitCode::from(2);
        }
    };
    let node = match braindrill::startup::start(settings).await {
        Ok(node) => node,
        Err(error) => {
            eprintln!("braindrill: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    shutdown_signal().await;
    node.stop().await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
