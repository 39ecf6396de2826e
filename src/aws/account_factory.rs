//! Service Catalog, as Control Tower's Account Factory uses it: find the product, its launch
//! path and artifact, list the registered OUs, and provision, update, describe and terminate
//! account products.

use std::collections::BTreeMap;

use aws_sdk_servicecatalog::types::{
    AccessLevelFilter, AccessLevelFilterKey, ProductViewFilterBy, ProvisionedProductViewFilterBy,
    ProvisioningParameter, UpdateProvisioningParameter,
};
use aws_sdk_servicecatalog::Client;

use super::AwsError;

/// Name of the Account Factory product in Service Catalog.
pub const PRODUCT_NAME: &str = "AWS Control Tower Account Factory";
/// Name of the portfolio that contains the product; callers must be associated with it.
pub const PORTFOLIO_NAME: &str = "AWS Control Tower Account Factory Portfolio";
/// `Type` of every provisioned product that Account Factory creates.
pub const PRODUCT_TYPE: &str = "CONTROL_TOWER_ACCOUNT";
/// Provisioning parameter that names the target OU as `Name (ou-id)`.
pub const OU_PARAMETER: &str = "ManagedOrganizationalUnit";

/// The Account Factory product with the launch path and artifact used to provision it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactoryProduct {
    pub product_id: String,
    pub provisioning_artifact_id: String,
    pub launch_path_id: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum FactoryError {
    #[error("the Account Factory product \"{PRODUCT_NAME}\" is not visible to these credentials: they are not associated with the \"{PORTFOLIO_NAME}\" portfolio. In the management account, open Service Catalog > Portfolios > {PORTFOLIO_NAME} > Access and grant access to the IAM role or user that Terraform uses (or run `aws servicecatalog associate-principal-with-portfolio`), then plan again")]
    ProductNotVisible,
    #[error("no launch path of the Account Factory product {product_id} is visible to these credentials: {message}. Associate the IAM role or user that Terraform uses with the \"{PORTFOLIO_NAME}\" portfolio (Service Catalog > Portfolios > Access), then plan again")]
    NoLaunchPath { product_id: String, message: String },
    #[error("the Account Factory product {product_id} has no active provisioning artifact; check the landing zone in the Control Tower console")]
    NoArtifact { product_id: String },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// The six parameters of an Account Factory product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountParameters {
    pub account_name: String,
    pub account_email: String,
    pub sso_user_email: String,
    pub sso_user_first_name: String,
    pub sso_user_last_name: String,
    /// The target OU in Account Factory's `Name (ou-id)` form.
    pub managed_organizational_unit: String,
}

impl AccountParameters {
    fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            ("AccountName", &self.account_name),
            ("AccountEmail", &self.account_email),
            ("SSOUserEmail", &self.sso_user_email),
            ("SSOUserFirstName", &self.sso_user_first_name),
            ("SSOUserLastName", &self.sso_user_last_name),
            (OU_PARAMETER, &self.managed_organizational_unit),
        ]
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    Created,
    InProgress,
    InProgressInError,
    Succeeded,
    Failed,
    Other(String),
}

impl RecordStatus {
    fn parse(text: &str) -> RecordStatus {
        match text {
            "CREATED" => RecordStatus::Created,
            "IN_PROGRESS" => RecordStatus::InProgress,
            "IN_PROGRESS_IN_ERROR" => RecordStatus::InProgressInError,
            "SUCCEEDED" => RecordStatus::Succeeded,
            "FAILED" => RecordStatus::Failed,
            other => RecordStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            RecordStatus::Created => "CREATED",
            RecordStatus::InProgress => "IN_PROGRESS",
            RecordStatus::InProgressInError => "IN_PROGRESS_IN_ERROR",
            RecordStatus::Succeeded => "SUCCEEDED",
            RecordStatus::Failed => "FAILED",
            RecordStatus::Other(text) => text,
        }
    }

    /// Returns true once the record has stopped changing.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            RecordStatus::Succeeded | RecordStatus::Failed | RecordStatus::InProgressInError
        )
    }
}

/// One error of a failed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    pub code: String,
    pub description: String,
}

/// A Service Catalog record: one provision, update or terminate operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub status: RecordStatus,
    pub record_type: String,
    pub provisioned_product_id: String,
    pub provisioned_product_name: String,
    pub errors: Vec<RecordError>,
    pub outputs: BTreeMap<String, String>,
}

impl Record {
    /// Joins the record's errors into one line for a diagnostic.
    pub fn error_text(&self) -> String {
        if self.errors.is_empty() {
            return format!(
                "the record ended in {} without an error message",
                self.status.as_str()
            );
        }
        self.errors
            .iter()
            .map(|e| {
                // Control Tower often starts the description with the exception name.
                let description = e.description.trim();
                if e.code.is_empty() || description.starts_with(e.code.as_str()) {
                    description.split_whitespace().collect::<Vec<_>>().join(" ")
                } else {
                    format!("{}: {description}", e.code)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Returns true when the record failed because Control Tower was busy with other
    /// operations, which is worth retrying.
    pub fn failed_because_busy(&self) -> bool {
        self.errors.iter().any(|e| {
            let text = format!("{} {}", e.code, e.description);
            text.contains("ResourceInUseException")
                || text.contains("another AWS Control Tower operation is in progress")
                || text.contains("another execution is in progress")
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductStatus {
    Available,
    UnderChange,
    Tainted,
    Error,
    PlanInProgress,
    Other(String),
}

impl ProductStatus {
    fn parse(text: &str) -> ProductStatus {
        match text {
            "AVAILABLE" => ProductStatus::Available,
            "UNDER_CHANGE" => ProductStatus::UnderChange,
            "TAINTED" => ProductStatus::Tainted,
            "ERROR" => ProductStatus::Error,
            "PLAN_IN_PROGRESS" => ProductStatus::PlanInProgress,
            other => ProductStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ProductStatus::Available => "AVAILABLE",
            ProductStatus::UnderChange => "UNDER_CHANGE",
            ProductStatus::Tainted => "TAINTED",
            ProductStatus::Error => "ERROR",
            ProductStatus::PlanInProgress => "PLAN_IN_PROGRESS",
            ProductStatus::Other(text) => text,
        }
    }
}

/// A provisioned Account Factory product; `physical_id` is the account ID once it exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionedProduct {
    pub id: String,
    pub name: String,
    pub status: ProductStatus,
    pub status_message: Option<String>,
    pub physical_id: Option<String>,
    pub last_record_id: Option<String>,
    pub last_provisioning_record_id: Option<String>,
    pub last_successful_record_id: Option<String>,
    pub created: Option<String>,
    /// Tags set when the product was provisioned; Service Catalog cannot change them later.
    pub tags: BTreeMap<String, String>,
}

fn product_from_attribute(
    attribute: &aws_sdk_servicecatalog::types::ProvisionedProductAttribute,
) -> ProvisionedProduct {
    ProvisionedProduct {
        id: attribute.id().unwrap_or_default().to_string(),
        name: attribute.name().unwrap_or_default().to_string(),
        status: ProductStatus::parse(attribute.status().map(|s| s.as_str()).unwrap_or_default()),
        status_message: attribute.status_message().map(str::to_string),
        physical_id: attribute
            .physical_id()
            .filter(|id| !id.is_empty())
            .map(str::to_string),
        last_record_id: attribute.last_record_id().map(str::to_string),
        last_provisioning_record_id: attribute.last_provisioning_record_id().map(str::to_string),
        last_successful_record_id: attribute
            .last_successful_provisioning_record_id()
            .map(str::to_string),
        created: attribute.created_time().and_then(crate::aws::format_time),
        tags: attribute
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    }
}

fn record_from_detail(
    detail: Option<&aws_sdk_servicecatalog::types::RecordDetail>,
    outputs: &[aws_sdk_servicecatalog::types::RecordOutput],
) -> Record {
    Record {
        id: detail
            .and_then(|d| d.record_id())
            .unwrap_or_default()
            .to_string(),
        status: RecordStatus::parse(
            detail
                .and_then(|d| d.status())
                .map(|s| s.as_str())
                .unwrap_or_default(),
        ),
        record_type: detail
            .and_then(|d| d.record_type())
            .unwrap_or_default()
            .to_string(),
        provisioned_product_id: detail
            .and_then(|d| d.provisioned_product_id())
            .unwrap_or_default()
            .to_string(),
        provisioned_product_name: detail
            .and_then(|d| d.provisioned_product_name())
            .unwrap_or_default()
            .to_string(),
        errors: detail
            .map(|d| d.record_errors())
            .unwrap_or_default()
            .iter()
            .map(|e| RecordError {
                code: e.code().unwrap_or_default().to_string(),
                description: e.description().unwrap_or_default().to_string(),
            })
            .collect(),
        outputs: outputs
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
            .collect(),
    }
}

/// Finds the Account Factory product, its launch path and its default artifact. Fails with
/// an error naming the missing portfolio access when the product is invisible.
pub async fn find_product(client: &Client) -> Result<FactoryProduct, FactoryError> {
    let search = client
        .search_products()
        .filters(
            ProductViewFilterBy::FullTextSearch,
            vec![PRODUCT_NAME.to_string()],
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("servicecatalog:SearchProducts", e))?;
    let product_id = search
        .product_view_summaries()
        .iter()
        .find(|s| s.name() == Some(PRODUCT_NAME))
        .and_then(|s| s.product_id())
        .map(str::to_string)
        .ok_or(FactoryError::ProductNotVisible)?;

    let paths = client
        .list_launch_paths()
        .product_id(&product_id)
        .send()
        .await;
    let launch_path_id = match paths {
        Ok(output) => output
            .launch_path_summaries()
            .iter()
            .find_map(|p| p.id().map(str::to_string)),
        Err(error) => {
            let error = AwsError::from_sdk("servicecatalog:ListLaunchPaths", error);
            if error.has_code("ResourceNotFoundException") {
                return Err(FactoryError::NoLaunchPath {
                    product_id,
                    message: error.message,
                });
            }
            return Err(error.into());
        }
    }
    .ok_or_else(|| FactoryError::NoLaunchPath {
        product_id: product_id.clone(),
        message: "ListLaunchPaths returned no launch path".to_string(),
    })?;

    let artifacts = client
        .list_provisioning_artifacts()
        .product_id(&product_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("servicecatalog:ListProvisioningArtifacts", e))?;
    let active: Vec<_> = artifacts
        .provisioning_artifact_details()
        .iter()
        .filter(|a| a.active() == Some(true))
        .collect();
    let artifact = active
        .iter()
        .find(|a| a.guidance().map(|g| g.as_str()) == Some("DEFAULT"))
        .or_else(|| active.first())
        .and_then(|a| a.id())
        .map(str::to_string)
        .ok_or_else(|| FactoryError::NoArtifact {
            product_id: product_id.clone(),
        })?;

    Ok(FactoryProduct {
        product_id,
        provisioning_artifact_id: artifact,
        launch_path_id,
    })
}

/// Lists the OUs Account Factory accepts, as the raw `Name (ou-id)` values of the
/// `ManagedOrganizationalUnit` parameter. This is the only API that returns which OUs are
/// registered with Control Tower.
pub async fn registered_unit_values(
    client: &Client,
    product: &FactoryProduct,
) -> Result<Vec<String>, AwsError> {
    let output = client
        .describe_provisioning_parameters()
        .product_id(&product.product_id)
        .provisioning_artifact_id(&product.provisioning_artifact_id)
        .path_id(&product.launch_path_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("servicecatalog:DescribeProvisioningParameters", e))?;
    Ok(output
        .provisioning_artifact_parameters()
        .iter()
        .find(|p| p.parameter_key() == Some(OU_PARAMETER))
        .and_then(|p| p.parameter_constraints())
        .map(|c| c.allowed_values().to_vec())
        .unwrap_or_default())
}

/// Starts provisioning a new account; returns the record in `CREATED`.
pub async fn provision(
    client: &Client,
    product: &FactoryProduct,
    provisioned_product_name: &str,
    token: &str,
    parameters: &AccountParameters,
    tags: &BTreeMap<String, String>,
) -> Result<Record, AwsError> {
    let mut sdk_tags = Vec::with_capacity(tags.len());
    for (key, value) in tags {
        let tag = aws_sdk_servicecatalog::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| AwsError {
                operation: "servicecatalog:ProvisionProduct",
                code: None,
                message: e.to_string(),
                reason: None,
            })?;
        sdk_tags.push(tag);
    }
    let sdk_parameters: Vec<ProvisioningParameter> = parameters
        .pairs()
        .iter()
        .map(|(key, value)| {
            ProvisioningParameter::builder()
                .key(*key)
                .value(*value)
                .build()
        })
        .collect();
    let output = client
        .provision_product()
        .product_id(&product.product_id)
        .provisioning_artifact_id(&product.provisioning_artifact_id)
        .path_id(&product.launch_path_id)
        .provisioned_product_name(provisioned_product_name)
        .provision_token(token)
        .set_provisioning_parameters(Some(sdk_parameters))
        .set_tags(Some(sdk_tags))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("servicecatalog:ProvisionProduct", e))?;
    Ok(record_from_detail(output.record_detail(), &[]))
}

/// Updates an account product with a full set of parameters (Account Factory requires all).
pub async fn update(
    client: &Client,
    product: &FactoryProduct,
    provisioned_product_id: &str,
    token: &str,
    parameters: &AccountParameters,
) -> Result<Record, AwsError> {
    let sdk_parameters: Vec<UpdateProvisioningParameter> = parameters
        .pairs()
        .iter()
        .map(|(key, value)| {
            UpdateProvisioningParameter::builder()
                .key(*key)
                .value(*value)
                .build()
        })
        .collect();
    let output = client
        .update_provisioned_product()
        .provisioned_product_id(provisioned_product_id)
        .product_id(&product.product_id)
        .provisioning_artifact_id(&product.provisioning_artifact_id)
        .path_id(&product.launch_path_id)
        .update_token(token)
        .set_provisioning_parameters(Some(sdk_parameters))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("servicecatalog:UpdateProvisionedProduct", e))?;
    Ok(record_from_detail(output.record_detail(), &[]))
}

/// Terminates (unmanages) an account product. Returns `None` when the product no longer
/// exists, which counts as terminated.
pub async fn terminate(
    client: &Client,
    provisioned_product_id: &str,
    token: &str,
    ignore_errors: bool,
) -> Result<Option<Record>, AwsError> {
    let result = client
        .terminate_provisioned_product()
        .provisioned_product_id(provisioned_product_id)
        .terminate_token(token)
        .ignore_errors(ignore_errors)
        .send()
        .await;
    match result {
        Ok(output) => Ok(Some(record_from_detail(output.record_detail(), &[]))),
        Err(error) => {
            let error = AwsError::from_sdk("servicecatalog:TerminateProvisionedProduct", error);
            if error.has_code("ResourceNotFoundException") {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

/// Reads a record with its outputs.
pub async fn describe_record(client: &Client, record_id: &str) -> Result<Record, AwsError> {
    let output = client
        .describe_record()
        .id(record_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("servicecatalog:DescribeRecord", e))?;
    Ok(record_from_detail(
        output.record_detail(),
        output.record_outputs(),
    ))
}

/// Reads the outputs of a provisioned product (AccountId, AccountEmail, SSOUserEmail,
/// SSOUserPortal for Account Factory).
pub async fn product_outputs(
    client: &Client,
    provisioned_product_id: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let mut outputs = BTreeMap::new();
    let mut token = None;
    loop {
        let output = client
            .get_provisioned_product_outputs()
            .provisioned_product_id(provisioned_product_id)
            .set_page_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("servicecatalog:GetProvisionedProductOutputs", e))?;
        for item in output.outputs() {
            if let (Some(key), Some(value)) = (item.output_key(), item.output_value()) {
                outputs.insert(key.to_string(), value.to_string());
            }
        }
        token = output.next_page_token().map(str::to_string);
        if token.is_none() {
            return Ok(outputs);
        }
    }
}

/// Searches account products with one `SearchQuery` term, for example `physicalId:1234...`,
/// following every page.
pub async fn search(client: &Client, query: &str) -> Result<Vec<ProvisionedProduct>, AwsError> {
    let mut products = Vec::new();
    let mut token = None;
    let filter = AccessLevelFilter::builder()
        .key(AccessLevelFilterKey::Account)
        .value("self")
        .build();
    loop {
        let output = client
            .search_provisioned_products()
            .access_level_filter(filter.clone())
            .filters(
                ProvisionedProductViewFilterBy::SearchQuery,
                vec![query.to_string()],
            )
            .page_size(100)
            .set_page_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("servicecatalog:SearchProvisionedProducts", e))?;
        products.extend(
            output
                .provisioned_products()
                .iter()
                .filter(|p| p.r#type() == Some(PRODUCT_TYPE))
                .map(product_from_attribute),
        );
        token = output.next_page_token().map(str::to_string);
        if token.is_none() {
            return Ok(products);
        }
    }
}

/// Lists every Account Factory product in the account.
pub async fn list_account_products(client: &Client) -> Result<Vec<ProvisionedProduct>, AwsError> {
    search(client, &format!("type:{PRODUCT_TYPE}")).await
}

/// Finds the account product with exactly this name.
pub async fn find_by_name(
    client: &Client,
    name: &str,
) -> Result<Option<ProvisionedProduct>, AwsError> {
    let found = search(client, &format!("name:{name}")).await?;
    Ok(found.into_iter().find(|p| p.name == name))
}

/// Finds the account product whose physical ID is this account ID.
pub async fn find_by_account(
    client: &Client,
    account_id: &str,
) -> Result<Option<ProvisionedProduct>, AwsError> {
    let found = search(client, &format!("physicalId:{account_id}")).await?;
    Ok(found
        .into_iter()
        .find(|p| p.physical_id.as_deref() == Some(account_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(errors: &[(&str, &str)]) -> Record {
        Record {
            id: "rec-1".to_string(),
            status: RecordStatus::Failed,
            record_type: "PROVISION_PRODUCT".to_string(),
            provisioned_product_id: "pp-1".to_string(),
            provisioned_product_name: "acme-a".to_string(),
            errors: errors
                .iter()
                .map(|(code, description)| RecordError {
                    code: code.to_string(),
                    description: description.to_string(),
                })
                .collect(),
            outputs: BTreeMap::new(),
        }
    }

    /// Record errors as (code, description) pairs.
    type ErrorPairs<'a> = &'a [(&'a str, &'a str)];

    #[test]
    fn record_error_text_forms() {
        let busy = "ResourceInUseException  AWS Control Tower cannot unmanage the account because another AWS Control Tower operation is in progress.";
        let cases: &[(ErrorPairs, &str, bool)] = &[
            (&[], "the record ended in FAILED without an error message", false),
            (&[("InvalidParametersException", "Email taken")], "InvalidParametersException: Email taken", false),
            (&[("ResourceInUseException", busy)], "ResourceInUseException AWS Control Tower cannot unmanage the account because another AWS Control Tower operation is in progress.", true),
            (&[("", "plain text")], "plain text", false),
        ];
        for (errors, text, busy) in cases {
            let record = record(errors);
            assert_eq!(record.error_text(), *text);
            assert_eq!(record.failed_because_busy(), *busy, "{text}");
        }
    }

    #[test]
    fn statuses_round_trip() {
        for text in [
            "CREATED",
            "IN_PROGRESS",
            "IN_PROGRESS_IN_ERROR",
            "SUCCEEDED",
            "FAILED",
            "NEW_ONE",
        ] {
            assert_eq!(RecordStatus::parse(text).as_str(), text);
        }
        for text in [
            "AVAILABLE",
            "UNDER_CHANGE",
            "TAINTED",
            "ERROR",
            "PLAN_IN_PROGRESS",
            "NEW_ONE",
        ] {
            assert_eq!(ProductStatus::parse(text).as_str(), text);
        }
        assert!(RecordStatus::InProgressInError.is_final());
        assert!(!RecordStatus::InProgress.is_final());
    }
}
