//! Provisioned products and records: ProvisionProduct, UpdateProvisionedProduct,
//! TerminateProvisionedProduct, DescribeRecord, DescribeProvisionedProduct and
//! GetProvisionedProductOutputs. The three changing operations return a `CREATED` record at once
//! and leave the work to the record engine in `provisioning`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::common::{
    invalid_parameters, missing, page, provisioned_product_detail, record_detail, record_outputs,
    resource_not_found, validation, LaunchSelection,
};
use crate::context::RequestContext;
use crate::ids;
use crate::protocol::json::parse_input;
use crate::protocol::AwsError;
use crate::provisioning::{begin_operation, OperationRequest};
use crate::runtime::Runtime;
use crate::state::{
    AccountFactoryParameters, CatalogTag, LandingZone, PendingChange, ProvisionedProduct,
    ProvisionedProductStatus, RecordError, RecordType,
};
use crate::timestamp::Timestamp;

/// The Account Factory template's parameters, in the order error messages list them.
const PARAMETER_KEYS: [&str; 6] = [
    "AccountEmail",
    "AccountName",
    "ManagedOrganizationalUnit",
    "SSOUserEmail",
    "SSOUserFirstName",
    "SSOUserLastName",
];

/// Service Catalog allows at most 50 tags on a provisioned product.
const MAX_TAGS: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Parameter {
    key: String,
    value: Option<String>,
    #[serde(default)]
    use_previous_value: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProvisionRequest {
    product_id: Option<String>,
    product_name: Option<String>,
    provisioning_artifact_id: Option<String>,
    provisioning_artifact_name: Option<String>,
    path_id: Option<String>,
    path_name: Option<String>,
    provisioned_product_name: Option<String>,
    provisioning_parameters: Option<Vec<Parameter>>,
    tags: Option<Vec<Tag>>,
    provision_token: Option<String>,
}

pub fn provision_product(
    runtime: &mut Runtime,
    context: &RequestContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let request: ProvisionRequest = parse_input(input)?;
    let name = request
        .provisioned_product_name
        .as_deref()
        .ok_or_else(|| missing("provisionedProductName"))?;
    check_pattern("provisionedProductName", name, &['.', '_', '-'], 128)?;
    let token = request
        .provision_token
        .as_deref()
        .ok_or_else(|| missing("provisionToken"))?;
    check_pattern("provisionToken", token, &['_', '-'], 128)?;
    LaunchSelection {
        product_id: request.product_id.as_deref(),
        product_name: request.product_name.as_deref(),
        artifact_id: request.provisioning_artifact_id.as_deref(),
        artifact_name: request.provisioning_artifact_name.as_deref(),
        path_id: request.path_id.as_deref(),
        path_name: request.path_name.as_deref(),
    }
    .check(&runtime.zone)?;

    if let Some(existing) = runtime.zone.provisioned_product_by_name(name) {
        // A retry of the same request (same token) gets the original record back.
        if existing.idempotency_token == token {
            if let Some(record) = runtime.zone.record(&existing.last_provisioning_record_id) {
                if record.record_type == RecordType::ProvisionProduct {
                    return Ok(json!({"RecordDetail": record_detail(record)}));
                }
            }
        }
        return Err(invalid_parameters(format!(
            "A stack named {name} already exists."
        )));
    }

    let given = request.provisioning_parameters.unwrap_or_default();
    let parameters = resolve_parameters(&given, None)?;
    let tags = catalog_tags(request.tags.unwrap_or_default())?;

    let product_id = ids::service_catalog_id("pp");
    let zone = &runtime.zone;
    let product = ProvisionedProduct {
        id: product_id.clone(),
        name: name.to_string(),
        status: ProvisionedProductStatus::UnderChange,
        status_message: None,
        created_time: Timestamp::now(),
        idempotency_token: token.to_string(),
        last_record_id: String::new(),
        last_provisioning_record_id: String::new(),
        last_successful_provisioning_record_id: None,
        physical_id: None,
        parameters: parameters.clone(),
        tags: tags.clone(),
        user_arn: context.caller(zone).arn,
        path_id: zone.account_factory.launch_path_id.clone(),
    };
    runtime.zone.provisioned_products.push(product);

    let injected_failure = runtime.faults.take_provisioning_failure();
    let record_id = begin_operation(
        runtime,
        OperationRequest {
            provisioned_product_id: product_id,
            record_type: RecordType::ProvisionProduct,
            change: PendingChange::Provision { parameters },
            injected_failure,
            known_failure: None,
            tags,
        },
    );
    record_response(&runtime.zone, &record_id)
}

pub fn update_provisioned_product(runtime: &mut Runtime, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        provisioned_product_name: Option<String>,
        provisioned_product_id: Option<String>,
        product_id: Option<String>,
        product_name: Option<String>,
        provisioning_artifact_id: Option<String>,
        provisioning_artifact_name: Option<String>,
        path_id: Option<String>,
        path_name: Option<String>,
        provisioning_parameters: Option<Vec<Parameter>>,
        update_token: Option<String>,
    }
    let request: Request = parse_input(input)?;
    let token = request
        .update_token
        .as_deref()
        .ok_or_else(|| missing("updateToken"))?;
    check_pattern("updateToken", token, &['_', '-'], 128)?;
    let zone = &runtime.zone;
    let product = find_product(
        zone,
        request.provisioned_product_id.as_deref(),
        request.provisioned_product_name.as_deref(),
    )?;
    // An update may leave the product out, which means the product already provisioned.
    let default_product = (request.product_id.is_none() && request.product_name.is_none())
        .then_some(zone.account_factory.product_id.as_str());
    LaunchSelection {
        product_id: request.product_id.as_deref().or(default_product),
        product_name: request.product_name.as_deref(),
        artifact_id: request.provisioning_artifact_id.as_deref(),
        artifact_name: request.provisioning_artifact_name.as_deref(),
        path_id: request.path_id.as_deref(),
        path_name: request.path_name.as_deref(),
    }
    .check(zone)?;
    reject_while_under_change(product)?;

    let given = request.provisioning_parameters.unwrap_or_default();
    let parameters = resolve_parameters(&given, Some(&product.parameters))?;
    let product_id = product.id.clone();
    let tags = product.tags.clone();

    let injected_failure = runtime
        .faults
        .take_tainted_update()
        .map(|message| RecordError::new("InternalFailure", &message));
    let record_id = begin_operation(
        runtime,
        OperationRequest {
            provisioned_product_id: product_id,
            record_type: RecordType::UpdateProvisionedProduct,
            change: PendingChange::Update { parameters },
            injected_failure,
            known_failure: None,
            tags,
        },
    );
    record_response(&runtime.zone, &record_id)
}

pub fn terminate_provisioned_product(
    runtime: &mut Runtime,
    input: &Value,
) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        provisioned_product_name: Option<String>,
        provisioned_product_id: Option<String>,
        terminate_token: Option<String>,
        #[serde(default)]
        ignore_errors: bool,
    }
    let request: Request = parse_input(input)?;
    let token = request
        .terminate_token
        .as_deref()
        .ok_or_else(|| missing("terminateToken"))?;
    check_pattern("terminateToken", token, &['_', '-'], 128)?;
    let product = find_product(
        &runtime.zone,
        request.provisioned_product_id.as_deref(),
        request.provisioned_product_name.as_deref(),
    )?;
    reject_while_under_change(product)?;

    let broken = matches!(
        product.status,
        ProvisionedProductStatus::Error | ProvisionedProductStatus::Tainted
    );
    let known_failure = (broken && !request.ignore_errors).then(|| {
        RecordError::new(
            "InvalidStateException",
            &format!(
                "AWS Control Tower cannot unmanage the account of provisioned product {} because the product is {}. Terminate it with IgnoreErrors to stop managing it anyway.",
                product.name,
                product.status.as_str()
            ),
        )
    });
    let product_id = product.id.clone();
    let tags = product.tags.clone();
    let record_id = begin_operation(
        runtime,
        OperationRequest {
            provisioned_product_id: product_id,
            record_type: RecordType::TerminateProvisionedProduct,
            change: PendingChange::Terminate {
                ignore_errors: request.ignore_errors,
            },
            injected_failure: None,
            known_failure,
            tags,
        },
    );
    record_response(&runtime.zone, &record_id)
}

pub fn describe_record(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        id: Option<String>,
        page_size: Option<i64>,
        page_token: Option<String>,
    }
    let request: Request = parse_input(input)?;
    let record_id = request.id.as_deref().ok_or_else(|| missing("id"))?;
    let record = zone
        .record(record_id)
        .ok_or_else(|| resource_not_found(format!("Record {record_id} not found.")))?;
    let outputs = record_outputs(record);
    let (outputs, next) = page(
        &outputs,
        request.page_token.as_deref(),
        request.page_size,
        20,
    )?;
    Ok(json!({
        "RecordDetail": record_detail(record),
        "RecordOutputs": outputs,
        "NextPageToken": next,
    }))
}

pub fn describe_provisioned_product(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        id: Option<String>,
        name: Option<String>,
    }
    let request: Request = parse_input(input)?;
    let product = match (request.id.as_deref(), request.name.as_deref()) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(invalid_parameters("Specify exactly one of Id and Name."))
        }
        (Some(id), None) => zone.provisioned_product(id),
        (None, Some(name)) => zone.provisioned_product_by_name(name),
    };
    let label = request.id.or(request.name).unwrap_or_default();
    let product = product
        .ok_or_else(|| resource_not_found(format!("Provisioned product {label} not found.")))?;
    Ok(json!({
        "ProvisionedProductDetail": provisioned_product_detail(zone, product),
        "CloudWatchDashboards": [],
    }))
}

pub fn get_provisioned_product_outputs(
    zone: &LandingZone,
    input: &Value,
) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        provisioned_product_id: Option<String>,
        provisioned_product_name: Option<String>,
        output_keys: Option<Vec<String>>,
        page_size: Option<i64>,
        page_token: Option<String>,
    }
    let request: Request = parse_input(input)?;
    let product = find_product(
        zone,
        request.provisioned_product_id.as_deref(),
        request.provisioned_product_name.as_deref(),
    )?;
    let record = product
        .last_successful_provisioning_record_id
        .as_deref()
        .and_then(|record_id| zone.record(record_id));
    let keys = request.output_keys.unwrap_or_default();
    let outputs: Vec<Value> = record
        .map(record_outputs)
        .unwrap_or_default()
        .into_iter()
        .filter(|output| {
            keys.is_empty() || keys.iter().any(|key| output["OutputKey"] == key.as_str())
        })
        .collect();
    let (outputs, next) = page(
        &outputs,
        request.page_token.as_deref(),
        request.page_size,
        20,
    )?;
    Ok(json!({"Outputs": outputs, "NextPageToken": next}))
}

fn record_response(zone: &LandingZone, record_id: &str) -> Result<Value, AwsError> {
    let record = zone
        .record(record_id)
        .ok_or_else(|| resource_not_found(format!("Record {record_id} not found.")))?;
    Ok(json!({"RecordDetail": record_detail(record)}))
}

/// Finds a provisioned product by id, or by name or ARN.
fn find_product<'a>(
    zone: &'a LandingZone,
    id: Option<&str>,
    name_or_arn: Option<&str>,
) -> Result<&'a ProvisionedProduct, AwsError> {
    let found = match (id, name_or_arn) {
        (Some(id), _) => zone.provisioned_product(id),
        (None, Some(name)) if name.starts_with("arn:") => zone
            .provisioned_products
            .iter()
            .find(|product| product.arn(&zone.organization) == name),
        (None, Some(name)) => zone.provisioned_product_by_name(name),
        (None, None) => {
            return Err(invalid_parameters(
                "Specify ProvisionedProductId or ProvisionedProductName.",
            ))
        }
    };
    let label = id.or(name_or_arn).unwrap_or_default();
    found.ok_or_else(|| resource_not_found(format!("Provisioned product {label} not found.")))
}

fn reject_while_under_change(product: &ProvisionedProduct) -> Result<(), AwsError> {
    if product.status != ProvisionedProductStatus::UnderChange {
        return Ok(());
    }
    // NOTE: AWS does not document the code and text here, so they are the emulator's choice.
    Err(invalid_parameters(format!(
        "Provisioned product {} is UNDER_CHANGE; wait until its operation {} finishes.",
        product.id, product.last_record_id
    )))
}

/// Checks a `[a-zA-Z0-9][a-zA-Z0-9<extra>]*` pattern and a length limit.
fn check_pattern(
    member: &str,
    value: &str,
    extra: &[char],
    max_length: usize,
) -> Result<(), AwsError> {
    let mut characters = value.chars();
    let first_ok = characters.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = characters.all(|c| c.is_ascii_alphanumeric() || extra.contains(&c));
    if !(first_ok && rest_ok) {
        let allowed: String = extra.iter().collect();
        return Err(validation(
            member,
            value,
            &format!(
                "Member must satisfy regular expression pattern: [a-zA-Z0-9][a-zA-Z0-9{allowed}]*"
            ),
        ));
    }
    if value.chars().count() > max_length {
        return Err(validation(
            member,
            value,
            &format!("Member must have length less than or equal to {max_length}"),
        ));
    }
    Ok(())
}

fn catalog_tags(tags: Vec<Tag>) -> Result<Vec<CatalogTag>, AwsError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid_parameters(format!(
            "A provisioned product can have at most {MAX_TAGS} tags; the request has {}.",
            tags.len()
        )));
    }
    Ok(tags
        .into_iter()
        .map(|tag| CatalogTag {
            key: tag.key,
            value: tag.value,
        })
        .collect())
}

/// Builds the six Account Factory parameters from a request. On update, `previous` fills the
/// keys that are left out or marked `UsePreviousValue`.
fn resolve_parameters(
    given: &[Parameter],
    previous: Option<&AccountFactoryParameters>,
) -> Result<AccountFactoryParameters, AwsError> {
    let unknown: Vec<&str> = given
        .iter()
        .map(|parameter| parameter.key.as_str())
        .filter(|key| !PARAMETER_KEYS.contains(key))
        .collect();
    if !unknown.is_empty() {
        return Err(invalid_parameters(format!(
            "Parameters: [{}] do not exist in the template",
            unknown.join(", ")
        )));
    }

    let previous_value = |key: &str| -> Option<String> {
        let previous = previous?;
        Some(
            match key {
                "AccountEmail" => &previous.account_email,
                "AccountName" => &previous.account_name,
                "ManagedOrganizationalUnit" => &previous.managed_organizational_unit,
                "SSOUserEmail" => &previous.sso_user_email,
                "SSOUserFirstName" => &previous.sso_user_first_name,
                _ => &previous.sso_user_last_name,
            }
            .clone(),
        )
    };
    let value_of = |key: &str| -> Option<String> {
        match given.iter().rev().find(|parameter| parameter.key == key) {
            Some(parameter) if parameter.use_previous_value => previous_value(key),
            Some(parameter) => parameter.value.clone(),
            None => previous_value(key),
        }
        .filter(|value| !value.is_empty())
    };

    let values: Vec<Option<String>> = PARAMETER_KEYS.iter().map(|key| value_of(key)).collect();
    let missing_keys: Vec<&str> = PARAMETER_KEYS
        .iter()
        .zip(&values)
        .filter(|(_, value)| value.is_none())
        .map(|(key, _)| *key)
        .collect();
    if !missing_keys.is_empty() {
        return Err(invalid_parameters(format!(
            "Parameters: [{}] must have values",
            missing_keys.join(", ")
        )));
    }
    let [account_email, account_name, managed_organizational_unit, sso_user_email, sso_user_first_name, sso_user_last_name] =
        <[Option<String>; 6]>::try_from(values)
            .map_err(|_| invalid_parameters("The Account Factory takes six parameters."))?
            .map(Option::unwrap_or_default);

    for (key, email) in [
        ("AccountEmail", &account_email),
        ("SSOUserEmail", &sso_user_email),
    ] {
        if !is_email(email) {
            return Err(invalid_parameters(format!(
                "Parameter '{key}' must match pattern [^\\s@]+@[^\\s@]+\\.[^\\s@]+; got {email:?}."
            )));
        }
    }
    Ok(AccountFactoryParameters {
        account_name,
        account_email,
        sso_user_email,
        sso_user_first_name,
        sso_user_last_name,
        managed_organizational_unit,
    })
}

/// Returns `true` if `value` matches the template's email pattern `[^\s@]+@[^\s@]+\.[^\s@]+` as a whole.
fn is_email(value: &str) -> bool {
    if value.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    // Some dot must have at least one character on each side.
    domain
        .char_indices()
        .any(|(index, c)| c == '.' && index > 0 && index + 1 < domain.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(key: &str, value: &str) -> Parameter {
        Parameter {
            key: key.to_string(),
            value: Some(value.to_string()),
            use_previous_value: false,
        }
    }

    fn full_parameters() -> Vec<Parameter> {
        vec![
            parameter("AccountEmail", "team+a@example.com"),
            parameter("AccountName", "a"),
            parameter(
                "ManagedOrganizationalUnit",
                "kore-managed (ou-xxxx-12345678)",
            ),
            parameter("SSOUserEmail", "team@example.com"),
            parameter("SSOUserFirstName", "Cloud"),
            parameter("SSOUserLastName", "Team"),
        ]
    }

    #[test]
    fn email_pattern() {
        assert!(is_email("a@b.c"));
        assert!(is_email("team+x@example.co.uk"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.d"));
        assert!(!is_email("@b.c"));
        assert!(!is_email("a@.c"));
        assert!(!is_email("a@b@c.d"));
    }

    #[test]
    fn provision_needs_all_parameters() {
        let mut given = full_parameters();
        given.retain(|p| p.key != "SSOUserLastName" && p.key != "AccountName");
        let error = resolve_parameters(&given, None).expect_err("missing parameters");
        assert_eq!(
            error.message,
            "Parameters: [AccountName, SSOUserLastName] must have values"
        );
    }

    #[test]
    fn unknown_parameter_is_rejected() {
        let mut given = full_parameters();
        given.push(parameter("Region", "eu-west-2"));
        let error = resolve_parameters(&given, None).expect_err("unknown parameter");
        assert_eq!(
            error.message,
            "Parameters: [Region] do not exist in the template"
        );
    }

    #[test]
    fn update_keeps_previous_values() {
        let previous = resolve_parameters(&full_parameters(), None).expect("valid");
        let given = vec![
            parameter("AccountName", "renamed"),
            Parameter {
                key: "AccountEmail".to_string(),
                value: None,
                use_previous_value: true,
            },
        ];
        let updated = resolve_parameters(&given, Some(&previous)).expect("valid");
        assert_eq!(updated.account_name, "renamed");
        assert_eq!(updated.account_email, previous.account_email);
        assert_eq!(
            updated.managed_organizational_unit,
            previous.managed_organizational_unit
        );
    }

    #[test]
    fn name_pattern() {
        assert!(check_pattern(
            "provisionedProductName",
            "kore-a.b_c",
            &['.', '_', '-'],
            128
        )
        .is_ok());
        let error = check_pattern("provisionedProductName", "has space", &['.', '_', '-'], 128)
            .expect_err("space rejected");
        assert_eq!(error.code, "ValidationException");
        assert!(check_pattern("provisionedProductName", "-lead", &['.', '_', '-'], 128).is_err());
    }
}
