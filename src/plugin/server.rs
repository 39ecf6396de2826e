//! The plugin process: startup checks, the listener, the handshake line, signal handling
//! and the gRPC server with its services.
//!
//! [`serve`] is what `main` calls. [`PluginServer`] runs the same server on a listener
//! the caller has bound, which tests use to serve a provider in-process.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tracing::{error, info, warn};

use super::controller::{Controller, Stdio};
use super::grpc::{ProviderService, StopSignal};
use super::handshake::{self, Environment, HandshakeError};
use super::proto::{go_plugin, tfplugin6};
use super::tls::{self, TlsError};
use super::{logging, Provider};

/// The provider's source address, used in `TF_REATTACH_PROVIDERS`.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/appvia/kore";

/// Largest gRPC message accepted or sent. Terraform's client accepts schemas up to
/// 64 MiB; states of this provider are far smaller.
const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Time a graceful stop may take before the server stops waiting for open calls.
/// go-plugin kills the process 2 s after Shutdown, so this stays well below that.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1200);

/// A client that opens a TCP connection but never finishes the TLS handshake is dropped
/// after this long.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection security between the server and its client.
#[derive(Clone, Debug)]
pub enum Transport {
    /// Plain HTTP/2: Terraform set `TF_DISABLE_PLUGIN_TLS`, or debug mode.
    Plaintext,
    /// AutoMTLS: only the client holding this certificate (PEM) may connect.
    MutualTls { client_cert_pem: String },
}

/// Error that stops the plugin server from starting or ends it.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("binding a loopback port in {first}..={last} failed: {source}")]
    Bind {
        first: u16,
        last: u16,
        source: std::io::Error,
    },
    #[error("reading the listener's address failed: {0}")]
    LocalAddress(std::io::Error),
    #[error("starting the async runtime failed: {0}")]
    Runtime(std::io::Error),
    #[error("installing the interrupt handler failed: {0}")]
    Signal(std::io::Error),
    #[error("writing the handshake line to stdout failed: {0}")]
    Stdout(std::io::Error),
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A plugin server bound to a listener, ready to run.
pub struct PluginServer {
    listener: TcpListener,
    address: SocketAddr,
    service: ProviderService,
    stop: Arc<StopSignal>,
    tls: Option<TlsSetup>,
    shutdown: CancellationToken,
    honour_shutdown_rpc: bool,
}

struct TlsSetup {
    acceptor: tokio_rustls::TlsAcceptor,
    cert_der: Vec<u8>,
}

impl PluginServer {
    /// Prepares a server for `provider` on `listener`. With [`Transport::MutualTls`] this
    /// generates the server certificate.
    pub fn new(
        provider: Arc<dyn Provider>,
        listener: TcpListener,
        transport: Transport,
    ) -> Result<PluginServer, ServeError> {
        let address = listener.local_addr().map_err(ServeError::LocalAddress)?;
        let tls = match transport {
            Transport::Plaintext => None,
            Transport::MutualTls { client_cert_pem } => {
                let client_cert = tls::parse_certificate_pem(&client_cert_pem)?;
                let identity = tls::generate_server_identity()?;
                let config = tls::server_config(&identity, client_cert)?;
                Some(TlsSetup {
                    acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
                    cert_der: identity.cert_der.to_vec(),
                })
            }
        };
        let stop = Arc::new(StopSignal::default());
        Ok(PluginServer {
            listener,
            address,
            service: ProviderService::new(provider, stop.clone()),
            stop,
            tls,
            shutdown: CancellationToken::new(),
            honour_shutdown_rpc: true,
        })
    }

    /// Makes the server ignore `GRPCController.Shutdown`, for debug mode, where one
    /// server outlives many Terraform runs.
    pub fn ignore_shutdown_rpc(mut self) -> PluginServer {
        self.honour_shutdown_rpc = false;
        self
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns the server certificate (DER) when serving TLS.
    pub fn server_cert_der(&self) -> Option<&[u8]> {
        self.tls.as_ref().map(|setup| setup.cert_der.as_slice())
    }

    /// Returns the go-plugin handshake line for this server, without the newline.
    pub fn handshake_line(&self) -> String {
        handshake::handshake_line(
            handshake::APP_PROTOCOL_VERSION,
            self.address,
            self.server_cert_der(),
        )
    }

    /// Returns a token that stops the server gracefully when cancelled, as Shutdown does.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until Shutdown is called or the shutdown token is cancelled. A stop cancels
    /// every provider call in flight and waits at most 1.2 s for open calls.
    pub async fn run(self) -> Result<(), ServeError> {
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_service_status("plugin", tonic_health::ServingStatus::Serving)
            .await;

        let provider_service = tfplugin6::provider_server::ProviderServer::new(self.service)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let controller = go_plugin::grpc_controller_server::GrpcControllerServer::new(Controller {
            shutdown: self.shutdown.clone(),
            honour_shutdown: self.honour_shutdown_rpc,
        });
        let stdio = go_plugin::grpc_stdio_server::GrpcStdioServer::new(Stdio);

        let incoming = accept_connections(
            self.listener,
            self.tls.map(|setup| setup.acceptor),
            self.shutdown.clone(),
        );
        let serving = tonic::transport::Server::builder()
            .add_service(provider_service)
            .add_service(health_service)
            .add_service(controller)
            .add_service(stdio)
            .serve_with_incoming_shutdown(incoming, self.shutdown.clone().cancelled_owned());

        let shutdown = self.shutdown.clone();
        let stop = self.stop.clone();
        let deadline = async move {
            shutdown.cancelled().await;
            stop.stop_all();
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            result = serving => result?,
            () = deadline => warn!("open calls did not finish in time; stopping anyway"),
        }
        info!("plugin server stopped");
        Ok(())
    }
}

/// Accepts TCP connections on `listener` and, with TLS, completes each handshake in its
/// own task so a slow client holds up no other. Rejected clients are logged and dropped.
fn accept_connections(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: CancellationToken,
) -> tokio_stream::wrappers::ReceiverStream<Result<Connection, std::io::Error>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Usually a full file table; pausing keeps the loop from spinning.
                    warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if let Err(error) = stream.set_nodelay(true) {
                warn!(%error, %peer, "setting TCP_NODELAY failed");
            }
            let Some(acceptor) = tls.clone() else {
                if sender.send(Ok(Connection::Plain(stream))).await.is_err() {
                    break;
                }
                continue;
            };
            let sender = sender.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => {
                        // The server may already be stopping; then the connection is dropped.
                        let _ = sender.send(Ok(Connection::Tls(Box::new(tls_stream)))).await;
                    }
                    Ok(Err(error)) => {
                        warn!(%error, %peer, "rejected a connection: TLS handshake failed");
                    }
                    Err(_) => warn!(%peer, "rejected a connection: TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(receiver)
}

/// An accepted connection, plain or TLS.
enum Connection {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Connected for Connection {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Connection::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Connection::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Connection::Tls(stream) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Connection::Plain(stream) => stream.is_write_vectored(),
            Connection::Tls(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Connection::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Connection::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Runs the plugin server for `provider` until Terraform shuts it down.
///
/// Without arguments the process must have been started by Terraform. It checks the magic
/// cookie, negotiates protocol 6 and listens on a loopback port from `PLUGIN_MIN_PORT` to
/// `PLUGIN_MAX_PORT`. It serves AutoMTLS when `PLUGIN_CLIENT_CERT` is set, prints the
/// handshake line and ignores SIGINT, because Terraform coordinates stops through
/// StopProvider and Shutdown. With `--debug` it serves plaintext on a free port, prints
/// the `TF_REATTACH_PROVIDERS` value and runs until Ctrl-C.
pub fn serve(provider: Arc<dyn Provider>) -> ExitCode {
    let debug = std::env::args()
        .skip(1)
        .any(|argument| argument == "--debug");
    let environment = if debug {
        None
    } else {
        match handshake::read_environment(|key| std::env::var(key).ok()) {
            Ok(environment) => Some(environment),
            Err(problem) => {
                eprintln!("{problem}");
                return ExitCode::FAILURE;
            }
        }
    };
    logging::init();

    let workers = std::thread::available_parallelism().map_or(2, |count| count.get().min(4));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(problem) => {
            eprintln!("terraform-provider-kore: {}", ServeError::Runtime(problem));
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match environment {
            Some(environment) => serve_for_terraform(provider, environment).await,
            None => serve_for_debugger(provider).await,
        }
    });
    // Tasks still blocked (an AWS call that ignored cancellation, say) must not keep the
    // process alive past go-plugin's 2 s kill deadline.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            error!(error = %problem, "plugin server failed");
            eprintln!("terraform-provider-kore: {problem}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_for_terraform(
    provider: Arc<dyn Provider>,
    environment: Environment,
) -> Result<(), ServeError> {
    let listener = bind_loopback(environment.ports)?;
    let transport = match environment.client_cert_pem {
        Some(client_cert_pem) => Transport::MutualTls { client_cert_pem },
        None => Transport::Plaintext,
    };
    let tls = matches!(transport, Transport::MutualTls { .. });
    let server = PluginServer::new(provider, listener, transport)?;
    ignore_interrupts()?;

    let line = server.handshake_line();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(ServeError::Stdout)?;
    drop(stdout);
    info!(
        address = %server.address(),
        tls,
        protocol_version = environment.protocol_version,
        version = env!("CARGO_PKG_VERSION"),
        "plugin server started"
    );
    server.run().await
}

async fn serve_for_debugger(provider: Arc<dyn Provider>) -> Result<(), ServeError> {
    let listener = bind_loopback(0..=0)?;
    let server = PluginServer::new(provider, listener, Transport::Plaintext)?.ignore_shutdown_rpc();
    let shutdown = server.shutdown_token();
    tokio::spawn(async move {
        match tokio::signal::ctrl_c().await {
            Ok(()) => info!("interrupted; stopping the debug server"),
            Err(error) => error!(%error, "waiting for Ctrl-C failed; stopping the debug server"),
        }
        shutdown.cancel();
    });

    let reattach = handshake::reattach_json(PROVIDER_ADDRESS, std::process::id(), server.address());
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "terraform-provider-kore is running in debug mode on {address}.\n\
         TF_REATTACH_PROVIDERS value:\n{reattach}\n\n\
         Run Terraform in a shell where this is set:\n\
         export TF_REATTACH_PROVIDERS='{reattach}'\n\n\
         Press Ctrl-C here to stop the server.",
        address = server.address()
    )
    .and_then(|()| stdout.flush())
    .map_err(ServeError::Stdout)?;
    drop(stdout);
    server.run().await
}

/// Binds the first free port of `ports` on 127.0.0.1, trying them in order as go-plugin
/// does. `0..=0` lets the system pick a port.
fn bind_loopback(ports: std::ops::RangeInclusive<u16>) -> Result<TcpListener, ServeError> {
    let (first, last) = (*ports.start(), *ports.end());
    let mut last_error = None;
    for port in ports {
        match std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(listener) => {
                let bound = listener
                    .set_nonblocking(true)
                    .and_then(|()| TcpListener::from_std(listener));
                return bound.map_err(|source| ServeError::Bind {
                    first,
                    last,
                    source,
                });
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(ServeError::Bind {
        first,
        last,
        source: last_error.unwrap_or_else(|| std::io::Error::other("the port range is empty")),
    })
}

/// Replaces SIGINT's default action for the rest of the process. A Ctrl-C in Terraform's
/// terminal reaches the whole process group; Terraform then sends StopProvider, and the
/// provider must stay alive to finish or cancel its work and report the result.
fn ignore_interrupts() -> Result<(), ServeError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupts = signal(SignalKind::interrupt()).map_err(ServeError::Signal)?;
        tokio::spawn(async move {
            let mut count: u64 = 0;
            while interrupts.recv().await.is_some() {
                count += 1;
                info!(
                    count,
                    "ignoring SIGINT; Terraform stops the provider through StopProvider"
                );
            }
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            let mut count: u64 = 0;
            while tokio::signal::ctrl_c().await.is_ok() {
                count += 1;
                info!(
                    count,
                    "ignoring Ctrl-C; Terraform stops the provider through StopProvider"
                );
            }
        });
    }
    Ok(())
}
