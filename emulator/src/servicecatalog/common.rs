//! Errors, paging and response shapes shared by the Service Catalog operations.

use serde_json::{json, Value};

use crate::paging::{self, PagingError};
use crate::protocol::AwsError;
use crate::state::{AccountFactory, LandingZone, ProvisionedProduct, Record};

/// The `ProvisionedProductType` of every Account Factory product.
pub const PRODUCT_TYPE: &str = "CONTROL_TOWER_ACCOUNT";

/// Page size when the request has none or 0.
const DEFAULT_PAGE_SIZE: usize = 20;

pub fn invalid_parameters(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParametersException", message)
}

pub fn resource_not_found(message: impl Into<String>) -> AwsError {
    AwsError::client("ResourceNotFoundException", message)
}

/// The `ValidationException` AWS returns when a member breaks a model constraint, a code no Service
/// Catalog operation declares.
pub fn validation(member: &str, value: &str, constraint: &str) -> AwsError {
    AwsError::client(
        "ValidationException",
        format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"),
    )
}

pub fn missing(member: &str) -> AwsError {
    AwsError::client(
        "ValidationException",
        format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"),
    )
}

/// Builds the error for callers outside the Account Factory portfolio, or for an unknown product.
pub fn no_launch_paths(product_id: &str) -> AwsError {
    resource_not_found(format!("No launch paths found for resource: {product_id}"))
}

/// Pages `items` with a `PageSize` whose model maximum is `max_size`. 0 or none means the default.
pub fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    page_size: Option<i64>,
    max_size: i64,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let size = match page_size {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(size) if !(0..=max_size).contains(&size) => {
            return Err(AwsError::client(
                "ValidationException",
                format!("1 validation error detected: Value '{size}' at 'pageSize' failed to satisfy constraint: Member must have value between 0 and {max_size}"),
            ))
        }
        // The guard above keeps `size` within 1..=max_size.
        Some(size) => size as usize,
    };
    paging::page(items, token, size)
        .map_err(|PagingError::InvalidToken| invalid_parameters("The page token is not valid."))
}

/// Derives the product view id of the Account Factory product.
pub fn product_view_id(factory: &AccountFactory) -> String {
    let suffix = factory
        .product_id
        .strip_prefix("prod-")
        .unwrap_or(&factory.product_id);
    format!("prodview-{suffix}")
}

pub fn product_view_summary(factory: &AccountFactory) -> Value {
    json!({
        "Id": product_view_id(factory),
        "ProductId": factory.product_id,
        "Name": factory.product_name,
        "Owner": factory.product_owner,
        "ShortDescription": factory.product_description,
        "Type": "CLOUD_FORMATION_TEMPLATE",
        "Distributor": "",
        "HasDefaultPath": true,
        "SupportEmail": "",
        "SupportDescription": "",
        "SupportUrl": "",
    })
}

pub fn product_arn(zone: &LandingZone) -> String {
    format!(
        "arn:aws:catalog:{}:{}:product/{}",
        zone.organization.home_region,
        zone.organization.management_account_id,
        zone.account_factory.product_id
    )
}

pub fn record_detail(record: &Record) -> Value {
    let errors: Vec<Value> = record
        .errors
        .iter()
        .map(|error| json!({"Code": error.code, "Description": error.description}))
        .collect();
    let tags: Vec<Value> = record
        .tags
        .iter()
        .map(|tag| json!({"Key": tag.key, "Value": tag.value}))
        .collect();
    json!({
        "RecordId": record.id,
        "ProvisionedProductName": record.provisioned_product_name,
        "Status": record.status.as_str(),
        "CreatedTime": record.created_time.epoch_seconds(),
        "UpdatedTime": record.updated_time.epoch_seconds(),
        "ProvisionedProductType": PRODUCT_TYPE,
        "RecordType": record.record_type.as_str(),
        "ProvisionedProductId": record.provisioned_product_id,
        "ProductId": record.product_id,
        "ProvisioningArtifactId": record.provisioning_artifact_id,
        "PathId": record.path_id,
        "RecordErrors": errors,
        "RecordTags": tags,
    })
}

pub fn record_outputs(record: &Record) -> Vec<Value> {
    record
        .outputs
        .iter()
        .map(|output| {
            json!({
                "OutputKey": output.key,
                "OutputValue": output.value,
                "Description": output.description,
            })
        })
        .collect()
}

/// Renders a product as the `ProvisionedProductDetail` shape.
pub fn provisioned_product_detail(zone: &LandingZone, product: &ProvisionedProduct) -> Value {
    json!({
        "Name": product.name,
        "Arn": product.arn(&zone.organization),
        "Type": PRODUCT_TYPE,
        "Id": product.id,
        "Status": product.status.as_str(),
        "StatusMessage": product.status_message,
        "CreatedTime": product.created_time.epoch_seconds(),
        "IdempotencyToken": product.idempotency_token,
        "LastRecordId": product.last_record_id,
        "LastProvisioningRecordId": product.last_provisioning_record_id,
        "LastSuccessfulProvisioningRecordId": product.last_successful_provisioning_record_id,
        "ProductId": zone.account_factory.product_id,
        "ProvisioningArtifactId": zone.account_factory.artifact_id,
    })
}

/// Renders a product as the `ProvisionedProductAttribute` shape that SearchProvisionedProducts
/// returns.
pub fn provisioned_product_attribute(zone: &LandingZone, product: &ProvisionedProduct) -> Value {
    let mut attribute = provisioned_product_detail(zone, product);
    let tags: Vec<Value> = product
        .tags
        .iter()
        .map(|tag| json!({"Key": tag.key, "Value": tag.value}))
        .collect();
    attribute["Tags"] = Value::Array(tags);
    attribute["PhysicalId"] = json!(product.physical_id);
    attribute["ProductName"] = json!(zone.account_factory.product_name);
    attribute["ProvisioningArtifactName"] = json!(zone.account_factory.artifact_name);
    attribute["UserArn"] = json!(product.user_arn);
    attribute["UserArnSession"] = json!(product.user_arn);
    attribute
}

/// The product, artifact and launch path a request names, each by id or by name.
#[derive(Debug, Default)]
pub struct LaunchSelection<'a> {
    pub product_id: Option<&'a str>,
    pub product_name: Option<&'a str>,
    pub artifact_id: Option<&'a str>,
    pub artifact_name: Option<&'a str>,
    pub path_id: Option<&'a str>,
    pub path_name: Option<&'a str>,
}

impl LaunchSelection<'_> {
    /// Checks that the selection names the Account Factory product, its artifact and its launch
    /// path, and that the caller may launch it. Artifact and path may be left out.
    pub fn check(&self, zone: &LandingZone) -> Result<(), AwsError> {
        let factory = &zone.account_factory;
        match (self.product_id, self.product_name) {
            (Some(_), Some(_)) => {
                return Err(invalid_parameters(
                    "Specify either ProductId or ProductName, not both.",
                ))
            }
            (None, None) => {
                return Err(invalid_parameters("ProductId or ProductName is required."))
            }
            (Some(id), None) if id != factory.product_id => {
                return Err(resource_not_found(format!("Product {id} not found.")))
            }
            (None, Some(name)) if name != factory.product_name => {
                return Err(resource_not_found(format!(
                    "Product with name {name} not found."
                )))
            }
            _ => {}
        }
        if !zone.caller.portfolio_access {
            return Err(no_launch_paths(&factory.product_id));
        }
        match (self.artifact_id, self.artifact_name) {
            (Some(_), Some(_)) => {
                return Err(invalid_parameters(
                    "Specify either ProvisioningArtifactId or ProvisioningArtifactName, not both.",
                ))
            }
            (Some(id), None) if id != factory.artifact_id => {
                return Err(resource_not_found(format!(
                    "Provisioning artifact {id} not found for product {}.",
                    factory.product_id
                )))
            }
            (None, Some(name)) if name != factory.artifact_name => {
                return Err(resource_not_found(format!(
                    "Provisioning artifact with name {name} not found for product {}.",
                    factory.product_id
                )))
            }
            _ => {}
        }
        match (self.path_id, self.path_name) {
            (Some(_), Some(_)) => Err(invalid_parameters(
                "Specify either PathId or PathName, not both.",
            )),
            (Some(id), None) if id != factory.launch_path_id => Err(resource_not_found(format!(
                "Launch path {id} not found for product {}.",
                factory.product_id
            ))),
            (None, Some(name)) if name != factory.portfolio_name => {
                Err(resource_not_found(format!(
                    "Launch path with name {name} not found for product {}.",
                    factory.product_id
                )))
            }
            _ => Ok(()),
        }
    }
}
