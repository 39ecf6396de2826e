//! Provider-defined functions (Terraform 1.8 and later), one file each.

pub mod email_alias;

use std::sync::Arc;

use crate::plugin::Function;

/// Every function the provider registers.
pub fn all() -> Vec<Arc<dyn Function>> {
    vec![Arc::new(email_alias::EmailAlias)]
}
