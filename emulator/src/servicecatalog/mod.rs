//! Service Catalog over awsJson 1.1 (`X-Amz-Target: AWS242ServiceCatalogService.<Operation>`),
//! limited to the Account Factory product: catalog reads, provisioning, and reads and searches of
//! provisioned products and records.

mod catalog;
mod common;
mod provisioned;
mod search;

use serde_json::Value;

use crate::context::RequestContext;
use crate::protocol::AwsError;
use crate::runtime::Runtime;

pub const TARGET_PREFIX: &str = "AWS242ServiceCatalogService";

/// Runs one Service Catalog operation.
pub fn handle(
    runtime: &mut Runtime,
    context: &RequestContext,
    operation: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    match operation {
        "SearchProducts" => catalog::search_products(&runtime.zone, input),
        "SearchProductsAsAdmin" => catalog::search_products_as_admin(&runtime.zone, input),
        "DescribeProduct" => catalog::describe_product(&runtime.zone, input),
        "DescribeProductAsAdmin" => catalog::describe_product_as_admin(&runtime.zone, input),
        "ListLaunchPaths" => catalog::list_launch_paths(&runtime.zone, input),
        "ListProvisioningArtifacts" => catalog::list_provisioning_artifacts(&runtime.zone, input),
        "DescribeProvisioningParameters" => {
            catalog::describe_provisioning_parameters(&runtime.zone, input)
        }
        "ProvisionProduct" => provisioned::provision_product(runtime, context, input),
        "UpdateProvisionedProduct" => provisioned::update_provisioned_product(runtime, input),
        "TerminateProvisionedProduct" => provisioned::terminate_provisioned_product(runtime, input),
        "DescribeRecord" => provisioned::describe_record(&runtime.zone, input),
        "DescribeProvisionedProduct" => {
            provisioned::describe_provisioned_product(&runtime.zone, input)
        }
        "GetProvisionedProductOutputs" => {
            provisioned::get_provisioned_product_outputs(&runtime.zone, input)
        }
        "SearchProvisionedProducts" => search::search_provisioned_products(&runtime.zone, input),
        "ScanProvisionedProducts" => search::scan_provisioned_products(&runtime.zone, input),
        other => Err(AwsError::client(
            "UnknownOperationException",
            format!("Service Catalog has no operation named {other}."),
        )),
    }
}
