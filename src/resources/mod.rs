//! Managed resources, one file each.

pub mod aws_organization;
pub mod cloud_account;
pub(crate) mod support;

use std::sync::Arc;

use crate::plugin::Resource;
use crate::provider::ProviderData;

/// Returns every resource type the provider registers.
pub fn all(data: &Arc<ProviderData>) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(aws_organization::AwsOrganization::new(data.clone())),
        Arc::new(cloud_account::CloudAccount::new(data.clone())),
    ]
}
