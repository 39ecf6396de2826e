//! The wire protocols the emulated services speak: awsJson 1.1 (Service Catalog, Organizations),
//! awsQuery with XML responses (STS) and restJson1 (Account Management), plus the error type they
//! all render.

pub mod error;
pub mod json;
pub mod query;
pub mod rest;

pub use error::AwsError;

/// Header that carries the request id on every response.
pub const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";
