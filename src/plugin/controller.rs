//! go-plugin's side services: `GRPCController.Shutdown`, which Terraform calls when it
//! closes the provider, and `GRPCStdio.StreamStdio`, which it may read for plugin output.

use std::pin::Pin;

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::info;

use super::proto::go_plugin as pb;

/// Stops the server when Terraform calls Shutdown.
pub(crate) struct Controller {
    /// Cancelled to begin the graceful stop.
    pub(crate) shutdown: CancellationToken,
    /// False in debug mode, where the server outlives each Terraform run.
    pub(crate) honour_shutdown: bool,
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        if self.honour_shutdown {
            info!("Terraform asked the plugin to shut down");
            self.shutdown.cancel();
        } else {
            info!("ignoring Shutdown in debug mode; press Ctrl-C to stop the server");
        }
        Ok(Response::new(pb::Empty {}))
    }
}

/// Streams nothing: the provider writes its logs to stderr, which go-plugin reads
/// directly, and it never writes to stdout after the handshake line.
pub(crate) struct Stdio;

type StdioStream =
    Pin<Box<dyn futures::Stream<Item = Result<pb::StdioData, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        // An empty stream ends at once, so it never holds up a graceful shutdown.
        Ok(Response::new(Box::pin(futures::stream::empty())))
    }
}
