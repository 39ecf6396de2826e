//! Placeholder: the plugin server is being written.

use std::process::ExitCode;
use std::sync::Arc;

use super::Provider;

/// Runs the plugin server for `provider` until Terraform shuts it down.
pub fn serve(_provider: Arc<dyn Provider>) -> ExitCode {
    ExitCode::FAILURE
}
