//! AWS access: one module per service, plus the operation limiter and the record waiter.
//!
//! Every function here takes an SDK client and returns the project's own types, so resources
//! never build a raw request or match on SDK error enums.

pub mod account;
pub mod account_factory;
pub mod limiter;
pub mod organizations;
pub mod sts;
pub mod waiter;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A failed AWS call: the operation, the service's error code and its message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct AwsError {
    pub operation: &'static str,
    /// The service's error code, for example `ResourceNotFoundException`; absent for
    /// transport failures.
    pub code: Option<String>,
    pub message: String,
    /// The `Reason` member of Organizations errors that carry one.
    pub reason: Option<String>,
}

impl AwsError {
    /// Converts an SDK error, keeping the code and message the service sent.
    pub fn from_sdk<E, R>(
        operation: &'static str,
        error: aws_smithy_runtime_api::client::result::SdkError<E, R>,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        use aws_smithy_runtime_api::client::result::SdkError;
        match &error {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                AwsError {
                    operation,
                    code: inner.code().map(str::to_string),
                    // Callers append their own sentences, so a final period is dropped.
                    message: inner
                        .message()
                        .map(str::to_string)
                        .unwrap_or_else(|| inner.to_string())
                        .trim_end_matches('.')
                        .to_string(),
                    reason: None,
                }
            }
            _ => AwsError {
                operation,
                code: None,
                message: aws_smithy_types::error::display::DisplayErrorContext(&error).to_string(),
                reason: None,
            },
        }
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn with_reason(mut self, reason: Option<String>) -> AwsError {
        self.reason = reason;
        self
    }
}

/// Clients for every service the provider calls, built once by the provider block.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub service_catalog: aws_sdk_servicecatalog::Client,
    pub organizations: aws_sdk_organizations::Client,
    pub sts: aws_sdk_sts::Client,
    pub account: aws_sdk_account::Client,
}
