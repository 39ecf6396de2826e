//! Catalog reads: SearchProducts, SearchProductsAsAdmin, DescribeProduct, DescribeProductAsAdmin,
//! ListLaunchPaths, ListProvisioningArtifacts and DescribeProvisioningParameters. The catalog
//! contains one product, the Account Factory, which end-user calls find only with portfolio
//! access.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::common::{
    invalid_parameters, no_launch_paths, page, product_arn, product_view_summary,
    resource_not_found, LaunchSelection,
};
use crate::protocol::json::parse_input;
use crate::protocol::AwsError;
use crate::state::{managed_organizational_unit_value, AccountFactory, LandingZone};

const EMAIL_PATTERN: &str = r"[^\s@]+@[^\s@]+\.[^\s@]+";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProductSearch {
    filters: Option<BTreeMap<String, Vec<String>>>,
    page_size: Option<i64>,
    page_token: Option<String>,
    portfolio_id: Option<String>,
}

/// Returns `true` if the Account Factory product passes the `ProductViewFilters`.
fn product_matches_filters(
    factory: &AccountFactory,
    filters: &BTreeMap<String, Vec<String>>,
) -> Result<bool, AwsError> {
    for (key, values) in filters {
        let matches = match key.as_str() {
            "FullTextSearch" => values.iter().all(|text| {
                let text = text.to_lowercase();
                [&factory.product_name, &factory.product_owner, &factory.product_description]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&text))
            }),
            "Owner" => values.iter().all(|owner| *owner == factory.product_owner),
            "ProductType" => values
                .iter()
                .all(|product_type| product_type == "CLOUD_FORMATION_TEMPLATE"),
            "SourceProductId" => values.iter().all(|id| *id == factory.product_id),
            other => {
                return Err(invalid_parameters(format!(
                    "Unknown filter {other}; use FullTextSearch, Owner, ProductType or SourceProductId."
                )))
            }
        };
        if !matches {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn search_products(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: ProductSearch = parse_input(input)?;
    let factory = &zone.account_factory;
    let filters = request.filters.unwrap_or_default();
    // A caller outside the portfolio gets an empty list, not an error.
    let visible = zone.caller.portfolio_access && product_matches_filters(factory, &filters)?;
    let products: Vec<Value> = if visible {
        vec![product_view_summary(factory)]
    } else {
        Vec::new()
    };
    let (products, next) = page(
        &products,
        request.page_token.as_deref(),
        request.page_size,
        100,
    )?;
    Ok(json!({"ProductViewSummaries": products, "NextPageToken": next}))
}

pub fn search_products_as_admin(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: ProductSearch = parse_input(input)?;
    let factory = &zone.account_factory;
    if let Some(portfolio_id) = &request.portfolio_id {
        if *portfolio_id != factory.portfolio_id {
            return Err(resource_not_found(format!(
                "Portfolio {portfolio_id} not found."
            )));
        }
    }
    let filters = request.filters.unwrap_or_default();
    let products: Vec<Value> = if product_matches_filters(factory, &filters)? {
        vec![product_view_detail(zone)]
    } else {
        Vec::new()
    };
    let (products, next) = page(
        &products,
        request.page_token.as_deref(),
        request.page_size,
        20,
    )?;
    Ok(json!({"ProductViewDetails": products, "NextPageToken": next}))
}

fn product_view_detail(zone: &LandingZone) -> Value {
    json!({
        "ProductViewSummary": product_view_summary(&zone.account_factory),
        "Status": "AVAILABLE",
        "ProductARN": product_arn(zone),
        "CreatedTime": zone.account_factory.product_created_time.epoch_seconds(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProductLookup {
    id: Option<String>,
    name: Option<String>,
    source_portfolio_id: Option<String>,
}

impl ProductLookup {
    /// Checks that the request names the Account Factory product by id or name.
    fn check(&self, factory: &AccountFactory) -> Result<(), AwsError> {
        match (&self.id, &self.name) {
            (Some(_), Some(_)) => Err(invalid_parameters("Specify either Id or Name, not both.")),
            (None, None) => Err(invalid_parameters("Id or Name is required.")),
            (Some(id), None) if *id != factory.product_id => Err(resource_not_found(format!(
                "Product with id {id} not found"
            ))),
            (None, Some(name)) if *name != factory.product_name => Err(resource_not_found(
                format!("Product with name {name} not found"),
            )),
            _ => Ok(()),
        }
    }
}

fn provisioning_artifact(factory: &AccountFactory) -> Value {
    json!({
        "Id": factory.artifact_id,
        "Name": factory.artifact_name,
        "Description": factory.artifact_description,
        "CreatedTime": factory.artifact_created_time.epoch_seconds(),
        "Guidance": "DEFAULT",
    })
}

pub fn describe_product(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: ProductLookup = parse_input(input)?;
    let factory = &zone.account_factory;
    request.check(factory)?;
    if !zone.caller.portfolio_access {
        let name = request.name.as_deref().unwrap_or(&factory.product_id);
        return Err(resource_not_found(format!("Product {name} not found")));
    }
    Ok(json!({
        "ProductViewSummary": product_view_summary(factory),
        "ProvisioningArtifacts": [provisioning_artifact(factory)],
        "Budgets": [],
        "LaunchPaths": [{"Id": factory.launch_path_id, "Name": factory.portfolio_name}],
    }))
}

pub fn describe_product_as_admin(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: ProductLookup = parse_input(input)?;
    let factory = &zone.account_factory;
    request.check(factory)?;
    if let Some(portfolio_id) = &request.source_portfolio_id {
        if *portfolio_id != factory.portfolio_id {
            return Err(resource_not_found(format!(
                "Portfolio {portfolio_id} not found."
            )));
        }
    }
    Ok(json!({
        "ProductViewDetail": product_view_detail(zone),
        "ProvisioningArtifactSummaries": [{
            "Id": factory.artifact_id,
            "Name": factory.artifact_name,
            "Description": factory.artifact_description,
            "CreatedTime": factory.artifact_created_time.epoch_seconds(),
        }],
        "Tags": [],
        "TagOptions": [],
        "Budgets": [],
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProductRequest {
    product_id: Option<String>,
    page_size: Option<i64>,
    page_token: Option<String>,
}

impl ProductRequest {
    fn product_id(&self) -> Result<&str, AwsError> {
        self.product_id
            .as_deref()
            .ok_or_else(|| super::common::missing("productId"))
    }
}

pub fn list_launch_paths(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: ProductRequest = parse_input(input)?;
    let product_id = request.product_id()?;
    let factory = &zone.account_factory;
    if product_id != factory.product_id || !zone.caller.portfolio_access {
        return Err(no_launch_paths(product_id));
    }
    let paths = vec![json!({
        "Id": factory.launch_path_id,
        "ConstraintSummaries": [],
        "Tags": [],
        "Name": factory.portfolio_name,
    })];
    let (paths, next) = page(&paths, request.page_token.as_deref(), request.page_size, 20)?;
    Ok(json!({"LaunchPathSummaries": paths, "NextPageToken": next}))
}

pub fn list_provisioning_artifacts(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: ProductRequest = parse_input(input)?;
    let product_id = request.product_id()?;
    let factory = &zone.account_factory;
    if product_id != factory.product_id {
        return Err(resource_not_found(format!(
            "Product with id {product_id} not found"
        )));
    }
    Ok(json!({
        "ProvisioningArtifactDetails": [{
            "Id": factory.artifact_id,
            "Name": factory.artifact_name,
            "Description": factory.artifact_description,
            "Type": "CLOUD_FORMATION_TEMPLATE",
            "CreatedTime": factory.artifact_created_time.epoch_seconds(),
            "Active": true,
            "Guidance": "DEFAULT",
        }]
    }))
}

pub fn describe_provisioning_parameters(
    zone: &LandingZone,
    input: &Value,
) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        product_id: Option<String>,
        product_name: Option<String>,
        provisioning_artifact_id: Option<String>,
        provisioning_artifact_name: Option<String>,
        path_id: Option<String>,
        path_name: Option<String>,
    }
    let request: Request = parse_input(input)?;
    LaunchSelection {
        product_id: request.product_id.as_deref(),
        product_name: request.product_name.as_deref(),
        artifact_id: request.provisioning_artifact_id.as_deref(),
        artifact_name: request.provisioning_artifact_name.as_deref(),
        path_id: request.path_id.as_deref(),
        path_name: request.path_name.as_deref(),
    }
    .check(zone)?;

    let registered: Vec<String> = zone
        .registered_organizational_units()
        .into_iter()
        .map(managed_organizational_unit_value)
        .collect();
    let parameter = |key: &str, description: &str, constraints: Value| {
        json!({
            "ParameterKey": key,
            "DefaultValue": "",
            "ParameterType": "String",
            "IsNoEcho": false,
            "Description": description,
            "ParameterConstraints": constraints,
        })
    };
    let pattern = |pattern: &str, description: &str| json!({"AllowedValues": [], "AllowedPattern": pattern, "ConstraintDescription": description});
    let parameters = vec![
        parameter(
            "AccountEmail",
            "Account email, which must be unique for each AWS account.",
            pattern(EMAIL_PATTERN, "Must be a valid email address."),
        ),
        parameter(
            "AccountName",
            "Account name.",
            pattern(".+", "Must not be empty."),
        ),
        parameter(
            "ManagedOrganizationalUnit",
            "Managed organizational unit.",
            json!({"AllowedValues": registered}),
        ),
        parameter(
            "SSOUserEmail",
            "Email of the IAM Identity Center user who owns the account.",
            pattern(EMAIL_PATTERN, "Must be a valid email address."),
        ),
        parameter(
            "SSOUserFirstName",
            "First name of the IAM Identity Center user.",
            pattern(".+", "Must not be empty."),
        ),
        parameter(
            "SSOUserLastName",
            "Last name of the IAM Identity Center user.",
            pattern(".+", "Must not be empty."),
        ),
    ];
    let outputs: Vec<Value> = [
        (
            "AccountEmail",
            "The email address associated with the account",
        ),
        ("AccountId", "The ID of the managed account"),
        (
            "SSOUserEmail",
            "The SSO user email associated with the account",
        ),
        ("SSOUserPortal", "The portal to federate into the account"),
    ]
    .iter()
    .map(|(key, description)| json!({"Key": key, "Description": description}))
    .collect();
    Ok(json!({
        "ProvisioningArtifactParameters": parameters,
        "ConstraintSummaries": [],
        "UsageInstructions": [],
        "TagOptions": [],
        "ProvisioningArtifactPreferences": {},
        "ProvisioningArtifactOutputs": outputs,
        "ProvisioningArtifactOutputKeys": outputs,
    }))
}
