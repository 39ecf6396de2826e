//! Command line of `account-factory-emulator`: parses flags, sets up logging, starts the server
//! and runs until Ctrl-C or SIGTERM.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use account_factory_emulator::{serve, Config, SeedSource};
use clap::Parser;
use tracing::{error, info};
use tracing_subscriber::EnvFilter;

/// Local emulator of an AWS Control Tower landing zone: Account Factory (Service Catalog),
/// Organizations, Account Management and STS on one port.
#[derive(Debug, Parser)]
#[command(name = "account-factory-emulator", version)]
struct Cli {
    /// Address and port to listen on, as IP:PORT.
    #[arg(long, default_value = "127.0.0.1:4566")]
    listen: SocketAddr,

    /// Allow a --listen address outside the loopback range.
    #[arg(long)]
    allow_non_loopback: bool,

    /// JSON seed file describing the landing zone. Without it the built-in landing zone is used.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,

    /// Seconds each Account Factory operation (provision, update, terminate) takes.
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS")]
    provision_seconds: f64,

    /// Seconds a closed account stays PENDING_CLOSURE before it becomes SUSPENDED.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    close_seconds: f64,

    /// Account Factory operations that may run at once. Records beyond the limit fail.
    #[arg(long, default_value_t = 5, value_name = "COUNT")]
    max_concurrent_operations: usize,

    /// File to save the landing zone to after each change, and to reload it from on start.
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let config = Config {
        listen: cli.listen,
        allow_non_loopback: cli.allow_non_loopback,
        seed: cli.seed.map_or(SeedSource::BuiltIn, SeedSource::File),
        provision_seconds: cli.provision_seconds,
        close_seconds: cli.close_seconds,
        max_concurrent_operations: cli.max_concurrent_operations,
        state_file: cli.state_file,
    };
    let server = match serve(config).await {
        Ok(server) => server,
        Err(failure) => {
            eprintln!("account-factory-emulator: {failure}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts wait for this line before they send requests.
    println!("account-factory-emulator listening on {}", server.url());

    let signal = async {
        if let Err(failure) = shutdown_signal().await {
            error!(error = %failure, "cannot listen for shutdown signals; stopping");
        }
        info!("shutting down");
    };
    if let Err(failure) = server.run_until(signal).await {
        error!(error = %failure, "the server stopped with an error");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Completes on Ctrl-C, or on SIGTERM on Unix.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
