//! The Account Management API over restJson1: PutAccountName (`POST /putAccountName`) and
//! GetAccountInformation (`POST /getAccountInformation`), which rename and read member accounts
//! in place.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::RequestContext;
use crate::organizations::accounts::rename_account;
use crate::protocol::json::parse_input;
use crate::protocol::AwsError;
use crate::runtime::Runtime;
use crate::state::{AccountState, LandingZone};

pub const PUT_ACCOUNT_NAME_PATH: &str = "/putAccountName";
pub const GET_ACCOUNT_INFORMATION_PATH: &str = "/getAccountInformation";

/// Returns the operation served at a request path, if any.
pub fn operation_for_path(path: &str) -> Option<&'static str> {
    match path {
        PUT_ACCOUNT_NAME_PATH => Some("PutAccountName"),
        GET_ACCOUNT_INFORMATION_PATH => Some("GetAccountInformation"),
        _ => None,
    }
}

/// Runs one Account Management operation. `Ok(None)` is a success without a body.
pub fn handle(
    runtime: &mut Runtime,
    context: &RequestContext,
    operation: &str,
    input: &Value,
) -> Result<Option<Value>, AwsError> {
    match operation {
        "PutAccountName" => put_account_name(runtime, context, input).map(|()| None),
        "GetAccountInformation" => get_account_information(&runtime.zone, context, input).map(Some),
        other => Err(AwsError::new(
            404,
            "UnknownOperationException",
            format!("Account Management has no operation named {other}."),
        )),
    }
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::client("ValidationException", message)
}

/// Resolves the account a request targets: `AccountId` when given, else the caller's own account.
fn target_account(
    zone: &LandingZone,
    context: &RequestContext,
    account_id: Option<String>,
) -> Result<String, AwsError> {
    let caller = context.caller(zone);
    let Some(account_id) = account_id else {
        return Ok(caller.account_id);
    };
    if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(validation(format!(
            "The account id {account_id:?} is not 12 digits."
        )));
    }
    let management = &zone.organization.management_account_id;
    if caller.account_id != *management {
        return Err(AwsError::new(
            403,
            "AccessDeniedException",
            format!(
                "{} is not in the management account, so it cannot name another account.",
                caller.arn
            ),
        ));
    }
    if account_id == *management {
        return Err(validation(
            "The management account can't specify its own AccountId; call the operation without AccountId.",
        ));
    }
    if zone.account(&account_id).is_none() {
        return Err(AwsError::new(
            403,
            "AccessDeniedException",
            format!("Account {account_id} is not a member of the organization."),
        ));
    }
    Ok(account_id)
}

fn put_account_name(
    runtime: &mut Runtime,
    context: &RequestContext,
    input: &Value,
) -> Result<(), AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        account_id: Option<String>,
        account_name: Option<String>,
    }
    let request: Request = parse_input(input)?;
    let name = request
        .account_name
        .ok_or_else(|| validation("AccountName is required."))?;
    // The API's AccountName is 1 to 50 characters from ASCII space to tilde, without `<` and `>`.
    let valid_characters = name
        .chars()
        .all(|c| (' '..='~').contains(&c) && c != '<' && c != '>');
    if name.is_empty() || name.chars().count() > 50 || !valid_characters {
        return Err(validation(format!(
            "AccountName {name:?} must be 1 to 50 printable ASCII characters other than < and >."
        )));
    }
    let account_id = target_account(&runtime.zone, context, request.account_id)?;
    rename_account(runtime, &account_id, &name);
    Ok(())
}

fn get_account_information(
    zone: &LandingZone,
    context: &RequestContext,
    input: &Value,
) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        account_id: Option<String>,
    }
    let request: Request = parse_input(input)?;
    let account_id = target_account(zone, context, request.account_id)?;
    let account = zone.account(&account_id).ok_or_else(|| {
        AwsError::new(
            403,
            "AccessDeniedException",
            format!("Account {account_id} is not a member of the organization."),
        )
    })?;
    // The Account Management API has no PENDING_CLOSURE state.
    let state = match account.state {
        AccountState::PendingClosure => AccountState::Suspended,
        other => other,
    };
    Ok(json!({
        "AccountId": account.id,
        "AccountName": account.name,
        "AccountCreatedDate": account.joined_timestamp.to_iso8601(),
        "AccountState": state.as_str(),
    }))
}
