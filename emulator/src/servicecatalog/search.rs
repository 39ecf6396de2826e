//! SearchProvisionedProducts, with its `SearchQuery` filter, sorting and paging, and
//! ScanProvisionedProducts.
//!
//! A query entry contains one or more terms separated by spaces, and every term of every entry must
//! match. A term is `field:value`, with the value optionally in double quotes, and matches when the
//! field equals the value (`status` and `type` ignore case). A term without a field matches when
//! the product's name, id or physical id contains it, ignoring case.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::common::{
    invalid_parameters, page, provisioned_product_attribute, provisioned_product_detail,
    PRODUCT_TYPE,
};
use crate::protocol::json::parse_input;
use crate::protocol::AwsError;
use crate::state::{LandingZone, ProvisionedProduct};

/// The `SearchQuery` fields this emulator can match.
const FIELDS: [&str; 14] = [
    "arn",
    "id",
    "name",
    "physicalId",
    "productId",
    "productName",
    "provisioningArtifactId",
    "provisioningArtifactName",
    "type",
    "status",
    "idempotencyToken",
    "lastRecordId",
    "lastProvisioningRecordId",
    "lastSuccessfulProvisioningRecordId",
];

#[derive(Debug, PartialEq)]
struct Term {
    field: Option<String>,
    value: String,
}

/// Splits a query entry into terms, keeping quoted values with spaces together.
fn parse_terms(entry: &str) -> Result<Vec<Term>, AwsError> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    for character in entry.chars() {
        match character {
            '"' => in_quotes = !in_quotes,
            c if c.is_whitespace() && !in_quotes => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if in_quotes {
        return Err(invalid_parameters(format!(
            "The search query {entry:?} has an unterminated quote."
        )));
    }
    if !current.is_empty() {
        terms.push(current);
    }
    terms
        .into_iter()
        .map(|term| match term.split_once(':') {
            Some((field, value)) => {
                if !FIELDS.contains(&field) {
                    return Err(invalid_parameters(format!(
                        "The search query field {field:?} is not supported; use one of {}.",
                        FIELDS.join(", ")
                    )));
                }
                Ok(Term {
                    field: Some(field.to_string()),
                    value: value.to_string(),
                })
            }
            None => Ok(Term {
                field: None,
                value: term,
            }),
        })
        .collect()
}

fn field_value(zone: &LandingZone, product: &ProvisionedProduct, field: &str) -> Option<String> {
    let factory = &zone.account_factory;
    let value = match field {
        "arn" => product.arn(&zone.organization),
        "id" => product.id.clone(),
        "name" => product.name.clone(),
        "physicalId" => product.physical_id.clone()?,
        "productId" => factory.product_id.clone(),
        "productName" => factory.product_name.clone(),
        "provisioningArtifactId" => factory.artifact_id.clone(),
        "provisioningArtifactName" => factory.artifact_name.clone(),
        "type" => PRODUCT_TYPE.to_string(),
        "status" => product.status.as_str().to_string(),
        "idempotencyToken" => product.idempotency_token.clone(),
        "lastRecordId" => product.last_record_id.clone(),
        "lastProvisioningRecordId" => product.last_provisioning_record_id.clone(),
        "lastSuccessfulProvisioningRecordId" => {
            product.last_successful_provisioning_record_id.clone()?
        }
        _ => return None,
    };
    Some(value)
}

fn matches(zone: &LandingZone, product: &ProvisionedProduct, term: &Term) -> bool {
    match &term.field {
        Some(field) => {
            let Some(value) = field_value(zone, product, field) else {
                return false;
            };
            if field == "status" || field == "type" {
                value.eq_ignore_ascii_case(&term.value)
            } else {
                value == term.value
            }
        }
        None => {
            let needle = term.value.to_lowercase();
            [
                Some(&product.name),
                Some(&product.id),
                product.physical_id.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|haystack| haystack.to_lowercase().contains(&needle))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccessLevelFilter {
    key: Option<String>,
    value: Option<String>,
}

/// Checks the access level filter. Only `self` is supported, for the keys `Account`, `Role` and
/// `User`. The emulator has a single caller, so every key matches every product.
fn check_access_level(filter: Option<&AccessLevelFilter>) -> Result<(), AwsError> {
    let Some(filter) = filter else {
        return Ok(());
    };
    if let Some(key) = &filter.key {
        if !["Account", "Role", "User"].contains(&key.as_str()) {
            return Err(invalid_parameters(format!(
                "AccessLevelFilter key {key:?} is not valid; use Account, Role or User."
            )));
        }
    }
    match filter.value.as_deref() {
        None | Some("self") => Ok(()),
        Some(other) => Err(invalid_parameters(format!(
            "AccessLevelFilter value {other:?} is not supported; only self is."
        ))),
    }
}

pub fn search_provisioned_products(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        access_level_filter: Option<AccessLevelFilter>,
        filters: Option<BTreeMap<String, Vec<String>>>,
        sort_by: Option<String>,
        sort_order: Option<String>,
        page_size: Option<i64>,
        page_token: Option<String>,
    }
    let request: Request = parse_input(input)?;
    check_access_level(request.access_level_filter.as_ref())?;

    let mut terms = Vec::new();
    for (key, entries) in request.filters.unwrap_or_default() {
        if key != "SearchQuery" {
            return Err(invalid_parameters(format!(
                "Filter key {key:?} is not valid; the only key is SearchQuery."
            )));
        }
        for entry in entries {
            terms.extend(parse_terms(&entry)?);
        }
    }

    let mut found: Vec<&ProvisionedProduct> = zone
        .provisioned_products
        .iter()
        .filter(|product| terms.iter().all(|term| matches(zone, product, term)))
        .collect();
    if let Some(sort_by) = request.sort_by.as_deref() {
        let field = match sort_by {
            "arn" | "id" | "name" | "lastRecordId" => sort_by,
            other => {
                return Err(invalid_parameters(format!(
                    "SortBy {other:?} is not valid; use arn, id, name or lastRecordId."
                )))
            }
        };
        found.sort_by_key(|product| field_value(zone, product, field).unwrap_or_default());
    }
    match request.sort_order.as_deref() {
        None | Some("ASCENDING") => {}
        Some("DESCENDING") => found.reverse(),
        Some(other) => {
            return Err(invalid_parameters(format!(
                "SortOrder {other:?} is not valid; use ASCENDING or DESCENDING."
            )))
        }
    }

    let total = found.len();
    let attributes: Vec<Value> = found
        .into_iter()
        .map(|product| provisioned_product_attribute(zone, product))
        .collect();
    let (attributes, next) = page(
        &attributes,
        request.page_token.as_deref(),
        request.page_size,
        100,
    )?;
    Ok(json!({
        "ProvisionedProducts": attributes,
        "TotalResultsCount": total,
        "NextPageToken": next,
    }))
}

pub fn scan_provisioned_products(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        access_level_filter: Option<AccessLevelFilter>,
        page_size: Option<i64>,
        page_token: Option<String>,
    }
    let request: Request = parse_input(input)?;
    check_access_level(request.access_level_filter.as_ref())?;
    // Terminated products are removed from the landing zone, so every product listed here is
    // not terminated.
    let details: Vec<Value> = zone
        .provisioned_products
        .iter()
        .map(|product| provisioned_product_detail(zone, product))
        .collect();
    let (details, next) = page(
        &details,
        request.page_token.as_deref(),
        request.page_size,
        20,
    )?;
    Ok(json!({"ProvisionedProducts": details, "NextPageToken": next}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_quotes_and_free_text() {
        let terms = parse_terms(r#"name:"a b" status:AVAILABLE loose"#).expect("parses");
        assert_eq!(
            terms,
            vec![
                Term {
                    field: Some("name".to_string()),
                    value: "a b".to_string()
                },
                Term {
                    field: Some("status".to_string()),
                    value: "AVAILABLE".to_string()
                },
                Term {
                    field: None,
                    value: "loose".to_string()
                },
            ]
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let error = parse_terms("colour:red").expect_err("unknown field");
        assert_eq!(error.code, "InvalidParametersException");
    }

    #[test]
    fn unterminated_quote_is_rejected() {
        assert!(parse_terms(r#"name:"open"#).is_err());
    }
}
