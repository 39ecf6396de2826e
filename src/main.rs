//! Entry point: Terraform starts this binary as a plugin.

use std::process::ExitCode;
use std::sync::Arc;

use terraform_provider_kore::{plugin, provider::KoreProvider};

fn main() -> ExitCode {
    plugin::serve(Arc::new(KoreProvider::new()))
}
