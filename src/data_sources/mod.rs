//! Data sources, one file each. This module only registers them.

pub mod account_management_policy;
pub mod cloud_accounts;
pub mod organizational_units;

use std::sync::Arc;

use crate::plugin::DataSource;
use crate::provider::ProviderData;

/// Returns every data source type the provider registers.
pub fn all(data: &Arc<ProviderData>) -> Vec<Arc<dyn DataSource>> {
    vec![
        Arc::new(account_management_policy::AccountManagementPolicy::new()),
        Arc::new(cloud_accounts::CloudAccounts::new(data.clone())),
        Arc::new(organizational_units::OrganizationalUnits::new(data.clone())),
    ]
}
