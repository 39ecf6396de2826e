//! The error every emulated operation returns, independent of how its protocol renders it.

/// An AWS service error: HTTP status, error code (the shape name, or the wire code for STS) and
/// message, plus the extra members some Organizations errors carry.
#[derive(Clone, Debug, PartialEq)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// The Organizations `Reason` member of `ConstraintViolationException` and
    /// `InvalidInputException`.
    pub reason: Option<String>,
}

impl AwsError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            reason: None,
        }
    }

    /// Builds a 400 error, the status these services use for nearly every client error.
    pub fn client(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn with_reason(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_string());
        self
    }

    /// Returns `true` if the fault lies with the server (5xx), which the query protocol reports as
    /// `Receiver` rather than `Sender`.
    pub fn is_server_fault(&self) -> bool {
        self.status >= 500
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}
