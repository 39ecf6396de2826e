//! The Terraform plugin protocol layer (protocol 6 over go-plugin's gRPC transport).
//!
//! This module owns the handshake, AutoMTLS, the gRPC services, value encoding, schemas,
//! diagnostics, private state and the log format that Terraform parses. It knows nothing of
//! AWS: a provider plugs in through the [`Provider`], [`Resource`], [`DataSource`] and
//! [`Function`] traits defined here.

pub mod diagnostics;
pub mod plan;
pub mod private;
pub mod schema;
pub mod value;

mod api;
mod codec;
mod controller;
mod convert;
mod grpc;
mod handshake;
pub mod logging;
pub mod proto;
mod server;
mod tls;

pub use api::*;
pub use codec::CodecError;
pub use diagnostics::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
pub use handshake::HandshakeError;
pub use private::PrivateState;
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema, Type};
pub use server::{serve, PluginServer, ServeError, Transport, PROVIDER_ADDRESS};
pub use tls::TlsError;
pub use value::{Number, Value};
