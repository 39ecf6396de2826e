//! terraform-provider-kore: a Terraform provider that vends AWS accounts through AWS Control
//! Tower Account Factory.
//!
//! - [`plugin`] speaks the Terraform plugin protocol and contains no AWS code.
//! - [`provider`] holds the provider block and builds the AWS clients.
//! - [`aws`] wraps each AWS service, the operation limiter and the record waiter.
//! - [`inventory`] is the shared, cached snapshot of the landing zone.
//! - [`rules`] holds the pure naming, email and OU rules.
//! - [`resources`], [`data_sources`] and [`functions`] hold one Terraform type per file.

pub mod aws;
pub mod data_sources;
pub mod functions;
pub mod inventory;
pub mod plugin;
pub mod provider;
pub mod resources;
pub mod rules;
