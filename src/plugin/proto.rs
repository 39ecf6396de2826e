//! Generated protobuf and gRPC code for `proto/tfplugin6.proto` and `proto/go_plugin.proto`.
//!
//! Public so that tests and benchmarks can act as Terraform's gRPC client. Providers use
//! the traits in [`crate::plugin`] instead.

/// Terraform plugin protocol 6 (package `tfplugin6`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's controller and stdio services (package `plugin`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod go_plugin {
    tonic::include_proto!("plugin");
}
