//! A local emulator of an AWS Control Tower landing zone: Service Catalog's Account Factory,
//! Organizations, Account Management and STS on one loopback port, speaking the real wire
//! protocols so the unchanged AWS SDKs work against it.
//!
//! [`serve`] starts the server, and tests run it in process on port 0. Control endpoints live
//! under `/_emulator/`, and [`client::ControlClient`] calls them.

pub mod account;
pub mod client;
pub mod context;
pub mod control;
pub mod dispatch;
pub mod faults;
pub mod ids;
pub mod organizations;
pub mod paging;
pub mod persistence;
pub mod protocol;
pub mod provisioning;
pub mod runtime;
pub mod seed;
pub mod servicecatalog;
pub mod state;
pub mod sts;
pub mod telemetry;
pub mod timestamp;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use thiserror::Error;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::info;

use crate::persistence::PersistenceError;
use crate::runtime::{Emulator, Settings};
use crate::seed::{Seed, SeedError};
use crate::timestamp::Timestamp;

/// The source of the landing zone when no state file contains one.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SeedSource {
    /// The built-in landing zone ([`Seed::default_landing_zone`]).
    #[default]
    BuiltIn,
    /// A JSON seed file.
    File(PathBuf),
    /// A seed built in code.
    Inline(Box<Seed>),
}

/// How to run the emulator.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// Allow a listen address outside the loopback range.
    pub allow_non_loopback: bool,
    pub seed: SeedSource,
    /// How long each Account Factory operation takes, in seconds.
    pub provision_seconds: f64,
    /// How long a closed account stays `PENDING_CLOSURE`, in seconds.
    pub close_seconds: f64,
    /// Account Factory operations that may run at once. Requests beyond it fail their records.
    pub max_concurrent_operations: usize,
    /// File that stores the landing zone after each change, reloaded on start.
    pub state_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4566)),
            allow_non_loopback: false,
            seed: SeedSource::BuiltIn,
            provision_seconds: 3.0,
            close_seconds: 2.0,
            max_concurrent_operations: 5,
            state_file: None,
        }
    }
}

/// An error that kept the emulator from starting, or stopped it.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("refusing to listen on {0} because it is not a loopback address; pass --allow-non-loopback to serve other hosts")]
    NonLoopback(SocketAddr),
    #[error("invalid setting: {0}")]
    Setting(String),
    #[error("cannot read seed file {path}: {source}")]
    SeedFile { path: PathBuf, source: io::Error },
    #[error("seed file {path} is not a valid seed: {source}")]
    SeedSyntax {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    StateFile(#[from] PersistenceError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: io::Error,
    },
    #[error("the server failed: {0}")]
    Serve(io::Error),
}

/// A running emulator.
#[derive(Debug)]
pub struct ServerHandle {
    address: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl ServerHandle {
    /// Returns the bound address, with the real port when the configuration asked for port 0.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns the base URL, such as `http://127.0.0.1:4566`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops accepting requests, lets open ones finish, and waits for the server to stop.
    pub async fn shutdown(self) -> Result<(), StartError> {
        // The receiver is gone only when the server already stopped, which `wait` reports.
        let _ = self.shutdown.send(());
        Self::join(self.task).await
    }

    /// Serves until `signal` completes, then shuts down as [`ServerHandle::shutdown`] does.
    /// Returns early if the server stops on its own.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> Result<(), StartError> {
        tokio::select! {
            result = &mut self.task => match result {
                Ok(result) => result.map_err(StartError::Serve),
                Err(join_error) => Err(StartError::Serve(io::Error::other(join_error))),
            },
            () = signal => self.shutdown().await,
        }
    }

    async fn join(task: JoinHandle<io::Result<()>>) -> Result<(), StartError> {
        match task.await {
            Ok(result) => result.map_err(StartError::Serve),
            Err(join_error) => Err(StartError::Serve(io::Error::other(join_error))),
        }
    }
}

/// Loads the landing zone, binds the listener and serves in a background task.
pub async fn serve(config: Config) -> Result<ServerHandle, StartError> {
    if !config.allow_non_loopback && !config.listen.ip().is_loopback() {
        return Err(StartError::NonLoopback(config.listen));
    }
    check_settings(&config)?;

    let zone = match config
        .state_file
        .as_deref()
        .map(persistence::load)
        .transpose()?
    {
        Some(Some(zone)) => {
            let state_file = config.state_file.as_deref().unwrap_or(Path::new(""));
            info!(
                state_file = %state_file.display(),
                accounts = zone.accounts.len(),
                "loaded the landing zone from the state file"
            );
            zone
        }
        _ => load_seed(&config.seed)?.into_landing_zone(Timestamp::now())?,
    };
    let settings = Settings {
        provision_seconds: config.provision_seconds,
        close_seconds: config.close_seconds,
        max_concurrent_operations: config.max_concurrent_operations,
    };
    let emulator = Emulator::new(zone, settings, config.state_file.clone());
    // Writes the state file at once, so it exists even before the first change.
    emulator.with(|runtime| runtime.mark_changed());
    emulator.resume();

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| StartError::Bind {
        address: config.listen,
        source,
    })?;

    let app = router(emulator);
    let (shutdown, shutdown_signal) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = shutdown_signal.await;
            })
            .await
    });
    info!(%address, "emulator started");
    Ok(ServerHandle {
        address,
        shutdown,
        task,
    })
}

/// Builds the HTTP routes: control endpoints under their prefix, everything else to the AWS
/// services.
pub fn router(emulator: Emulator) -> Router {
    Router::new()
        .nest(control::PREFIX, control::router())
        .fallback(dispatch::handle_aws_request)
        .with_state(emulator)
}

fn check_settings(config: &Config) -> Result<(), StartError> {
    let durations = [
        ("--provision-seconds", config.provision_seconds),
        ("--close-seconds", config.close_seconds),
    ];
    for (flag, seconds) in durations {
        if !runtime::is_valid_duration(seconds) {
            return Err(StartError::Setting(format!(
                "{flag} must be between 0 and {} seconds, got {seconds}",
                runtime::MAX_DURATION_SECONDS
            )));
        }
    }
    if config.max_concurrent_operations == 0 {
        return Err(StartError::Setting(
            "--max-concurrent-operations must be at least 1".to_string(),
        ));
    }
    Ok(())
}

fn load_seed(source: &SeedSource) -> Result<Seed, StartError> {
    match source {
        SeedSource::BuiltIn => Ok(Seed::default_landing_zone()),
        SeedSource::Inline(seed) => Ok(seed.as_ref().clone()),
        SeedSource::File(path) => read_seed_file(path),
    }
}

fn read_seed_file(path: &Path) -> Result<Seed, StartError> {
    let text = std::fs::read_to_string(path).map_err(|source| StartError::SeedFile {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| StartError::SeedSyntax {
        path: path.to_path_buf(),
        source,
    })
}
