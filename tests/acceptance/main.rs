//! Acceptance tests: the provider binary driven by real Terraform and by a gRPC client
//! that behaves like Terraform's.
//!
//! - `harness`: working directories wired to the built provider, and the Terraform
//!   versions to run (1.0.3 and 1.15.5 from `make tools`, plus 1.11.4 when installed).
//! - `grpc_client`: starts the binary as Terraform does and connects over mutual TLS.
//! - `protocol`: handshake, AutoMTLS, logging, signals, Shutdown and debug mode.
//! - `service`: the tfplugin6 service with a test provider served in-process.
//!
//! Tests of the provider's own resources and data sources (for example
//! `kore_account_management_policy`, which must return valid JSON containing
//! `CloseAccount` only when `allow_account_closure = true`) go in their own modules
//! here, built on `harness::Workdir`.

mod cases;
mod cloud_account;
mod data_sources;
mod docs;
mod drift;
mod examples;
mod grpc_client;
mod harness;
mod import;
mod landing;
mod protocol;
mod regressions;
mod service;
