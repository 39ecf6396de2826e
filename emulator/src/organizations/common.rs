//! Shapes, input checks and errors shared by the Organizations operations.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::RequestContext;
use crate::paging::{self, PagingError};
use crate::protocol::AwsError;
use crate::state::{Account, LandingZone, OrganizationalUnit};

/// Page size when the request has no `MaxResults`.
const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: i64 = 20;

pub fn unknown_operation(operation: &str) -> AwsError {
    AwsError::client(
        "UnknownOperationException",
        format!("Organizations has no operation named {operation}."),
    )
}

pub fn invalid_input(reason: &str, message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidInputException", message).with_reason(reason)
}

pub fn missing(member: &str) -> AwsError {
    invalid_input(
        "INPUT_REQUIRED",
        format!("You must specify a value for {member}."),
    )
}

pub fn account_not_found(account_id: &str) -> AwsError {
    AwsError::client(
        "AccountNotFoundException",
        format!("You specified an account that doesn't exist: {account_id}."),
    )
}

pub fn parent_not_found(parent_id: &str) -> AwsError {
    AwsError::client(
        "ParentNotFoundException",
        format!("We can't find a root or OU with the ParentId that you specified: {parent_id}."),
    )
}

/// Rejects callers outside the management account, as Organizations does.
pub fn require_management_account(
    zone: &LandingZone,
    context: &RequestContext,
) -> Result<(), AwsError> {
    let caller = context.caller(zone);
    if caller.account_id == zone.organization.management_account_id {
        return Ok(());
    }
    Err(AwsError::client(
        "AccessDeniedException",
        format!(
            "You don't have permissions to access this resource: {} is not in the management account {}.",
            caller.arn, zone.organization.management_account_id
        ),
    ))
}

/// `NextToken` and `MaxResults`, as every list operation takes them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PageRequest {
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

impl PageRequest {
    /// Pages `items`, checking `MaxResults` against its limits of 1 to 20.
    pub fn page<T: Clone>(&self, items: &[T]) -> Result<(Vec<T>, Option<String>), AwsError> {
        let size = match self.max_results {
            None => DEFAULT_PAGE_SIZE,
            Some(size) if size < 1 => {
                return Err(invalid_input(
                    "MIN_VALUE_EXCEEDED",
                    format!("MaxResults must be at least 1, got {size}."),
                ))
            }
            Some(size) if size > MAX_PAGE_SIZE => {
                return Err(invalid_input(
                    "MAX_VALUE_EXCEEDED",
                    format!("MaxResults must be at most {MAX_PAGE_SIZE}, got {size}."),
                ))
            }
            // The guards above keep `size` within 1..=20.
            Some(size) => size as usize,
        };
        paging::page(items, self.next_token.as_deref(), size).map_err(
            |PagingError::InvalidToken| {
                invalid_input(
                    "INVALID_NEXT_TOKEN",
                    "The specified NextToken is not valid.",
                )
            },
        )
    }
}

/// Checks the `^\d{12}$` pattern of account ids.
pub fn check_account_id(account_id: &str) -> Result<(), AwsError> {
    if account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(invalid_input(
        "INVALID_PATTERN",
        format!("The account id {account_id:?} is not 12 digits."),
    ))
}

/// Checks the `r-...` or `ou-...-...` pattern of parent ids.
pub fn check_parent_id(parent_id: &str) -> Result<(), AwsError> {
    let well_formed = (parent_id.starts_with("r-") || parent_id.starts_with("ou-"))
        && parent_id[2..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if well_formed {
        return Ok(());
    }
    Err(invalid_input(
        "INVALID_PATTERN",
        format!("The parent id {parent_id:?} is neither a root id (r-...) nor an OU id (ou-...)."),
    ))
}

pub fn account_json(zone: &LandingZone, account: &Account) -> Value {
    json!({
        "Id": account.id,
        "Arn": zone.account_arn(&account.id),
        "Email": account.email,
        "Name": account.name,
        "Status": account.state.legacy_status(),
        "State": account.state.as_str(),
        "Paths": [format!("{}{}/", zone.entity_path(&account.parent_id), account.id)],
        "JoinedMethod": account.joined_method.as_str(),
        "JoinedTimestamp": account.joined_timestamp.epoch_seconds(),
    })
}

pub fn organizational_unit_json(zone: &LandingZone, ou: &OrganizationalUnit) -> Value {
    json!({
        "Id": ou.id,
        "Arn": zone.organizational_unit_arn(&ou.id),
        "Name": ou.name,
        "Path": zone.entity_path(&ou.id),
    })
}

pub fn policy_types() -> Value {
    json!([{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}])
}
