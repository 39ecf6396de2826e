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
        R: std::fmt::Debug + 'static,
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
                message: transport_message(&error),
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

/// Formats a service timestamp as RFC 3339 with millisecond precision. Services send epoch
/// seconds as floats, whose binary rounding would otherwise show as digits like `.463999`.
pub fn format_time(time: &aws_smithy_types::DateTime) -> Option<String> {
    let millis = time.secs() * 1000 + (i64::from(time.subsec_nanos()) + 500_000) / 1_000_000;
    let rounded = aws_smithy_types::DateTime::from_millis(millis);
    rounded
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .ok()
}

/// Describes a failure that is not a service error (no credentials, no connection, a
/// timeout) in one line: the error chain's messages, then what to check.
fn transport_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        let text = cause.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = cause.source();
    }
    let chain = parts.join(": ");
    let lower = chain.to_lowercase();
    let hint = if lower.contains("credential") {
        "Check the AWS credentials that Terraform uses: environment variables, the profile, or the provider's assume_role block."
    } else if lower.contains("connect")
        || lower.contains("dns")
        || lower.contains("timed out")
        || lower.contains("timeout")
    {
        "Check that the service's endpoint is reachable: the provider's endpoints block, AWS_ENDPOINT_URL, or the network."
    } else {
        ""
    };
    if hint.is_empty() {
        chain
    } else {
        format!("{chain}. {hint}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_time_rounds_to_millis() {
        let cases = [
            (1_796_415_684.463_999, "2026-12-04T20:21:24.464Z"),
            (1_796_415_684.0, "2026-12-04T20:21:24Z"),
            (1_796_415_684.424, "2026-12-04T20:21:24.424Z"),
        ];
        for (seconds, expected) in cases {
            let time = aws_smithy_types::DateTime::from_secs_f64(seconds);
            assert_eq!(format_time(&time).as_deref(), Some(expected), "{seconds}");
        }
    }
}
