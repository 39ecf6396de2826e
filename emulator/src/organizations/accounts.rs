//! Accounts: DescribeAccount, ListAccounts, ListAccountsForParent, MoveAccount and CloseAccount,
//! and the account changes that Account Factory, Account Management and the console endpoints
//! share (create, move, rename, close).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tracing::info;

use super::common::{
    account_json, account_not_found, check_account_id, check_parent_id, missing, parent_not_found,
    PageRequest,
};
use crate::ids;
use crate::protocol::json::parse_input;
use crate::protocol::AwsError;
use crate::runtime::{Runtime, Task};
use crate::state::{Account, AccountState, JoinedMethod, LandingZone, Tags};
use crate::telemetry::EventDetail;
use crate::timestamp::Timestamp;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountRequest {
    account_id: Option<String>,
}

impl AccountRequest {
    fn account_id(self) -> Result<String, AwsError> {
        let account_id = self.account_id.ok_or_else(|| missing("AccountId"))?;
        check_account_id(&account_id)?;
        Ok(account_id)
    }
}

pub fn describe_account(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: AccountRequest = parse_input(input)?;
    let account_id = request.account_id()?;
    let account = zone
        .account(&account_id)
        .ok_or_else(|| account_not_found(&account_id))?;
    Ok(json!({"Account": account_json(zone, account)}))
}

pub fn list_accounts(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: PageRequest = parse_input(input)?;
    let accounts: Vec<Value> = zone
        .accounts
        .iter()
        .map(|account| account_json(zone, account))
        .collect();
    let (page, next) = request.page(&accounts)?;
    Ok(json!({"Accounts": page, "NextToken": next}))
}

pub fn list_accounts_for_parent(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        parent_id: Option<String>,
        #[serde(flatten)]
        page: PageRequest,
    }
    let request: Request = parse_input(input)?;
    let parent_id = request
        .parent_id
        .clone()
        .ok_or_else(|| missing("ParentId"))?;
    check_parent_id(&parent_id)?;
    if !zone.is_parent(&parent_id) {
        return Err(parent_not_found(&parent_id));
    }
    let accounts: Vec<Value> = zone
        .accounts
        .iter()
        .filter(|account| account.parent_id == parent_id)
        .map(|account| account_json(zone, account))
        .collect();
    let (page, next) = request.page.page(&accounts)?;
    Ok(json!({"Accounts": page, "NextToken": next}))
}

pub fn move_account_operation(runtime: &mut Runtime, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        account_id: Option<String>,
        source_parent_id: Option<String>,
        destination_parent_id: Option<String>,
    }
    let request: Request = parse_input(input)?;
    let account_id = request.account_id.ok_or_else(|| missing("AccountId"))?;
    let source = request
        .source_parent_id
        .ok_or_else(|| missing("SourceParentId"))?;
    let destination = request
        .destination_parent_id
        .ok_or_else(|| missing("DestinationParentId"))?;
    check_account_id(&account_id)?;
    check_parent_id(&source)?;
    check_parent_id(&destination)?;

    let zone = &runtime.zone;
    if !zone.is_parent(&source) {
        return Err(AwsError::client(
            "SourceParentNotFoundException",
            format!(
                "We can't find a source root or OU with the ParentId that you specified: {source}."
            ),
        ));
    }
    if !zone.is_parent(&destination) {
        return Err(AwsError::client(
            "DestinationParentNotFoundException",
            format!("We can't find a destination root or OU with the ParentId that you specified: {destination}."),
        ));
    }
    let account = zone
        .account(&account_id)
        .ok_or_else(|| account_not_found(&account_id))?;
    if account.parent_id != source {
        return Err(AwsError::client(
            "AccountNotFoundException",
            format!(
                "Account {account_id} is not in the source parent {source}; it is in {}.",
                account.parent_id
            ),
        ));
    }
    if account.parent_id == destination {
        return Err(AwsError::client(
            "DuplicateAccountException",
            format!("Account {account_id} is already in the destination {destination}."),
        ));
    }
    move_account(runtime, &account_id, &destination);
    Ok(json!({}))
}

pub fn close_account_operation(runtime: &mut Runtime, input: &Value) -> Result<Value, AwsError> {
    let request: AccountRequest = parse_input(input)?;
    let account_id = request.account_id()?;
    let zone = &runtime.zone;
    let account = zone
        .account(&account_id)
        .ok_or_else(|| account_not_found(&account_id))?;
    if account_id == zone.organization.management_account_id {
        return Err(AwsError::client(
            "ConstraintViolationException",
            "You can't close the management account with the CloseAccount operation.",
        )
        .with_reason("CANNOT_CLOSE_MANAGEMENT_ACCOUNT"));
    }
    if account.state.is_closed_or_closing() {
        return Err(AwsError::client(
            "AccountAlreadyClosedException",
            format!("You attempted to close an account that is already closed: {account_id}."),
        ));
    }
    match zone.close_quota_remaining {
        Some(0) => {
            return Err(AwsError::client(
                "ConstraintViolationException",
                "You have exceeded close account quota for the past 30 days.",
            )
            .with_reason("CLOSE_ACCOUNT_QUOTA_EXCEEDED"));
        }
        Some(remaining) => runtime.zone.close_quota_remaining = Some(remaining - 1),
        None => {}
    }
    request_closure(runtime, &account_id, false);
    Ok(json!({}))
}

/// Creates an active account that joined by creation, with the given id or a random one.
/// Returns its id.
pub(crate) fn create_account(
    runtime: &mut Runtime,
    name: &str,
    email: &str,
    parent_id: &str,
    id: Option<&str>,
) -> String {
    let zone = &runtime.zone;
    let account_id = match id {
        Some(id) => id.to_string(),
        None => ids::account_id(|candidate| zone.account_id_taken(candidate)),
    };
    runtime.zone.accounts.push(Account {
        id: account_id.clone(),
        name: name.to_string(),
        email: email.to_string(),
        parent_id: parent_id.to_string(),
        state: AccountState::Active,
        joined_method: JoinedMethod::Created,
        joined_timestamp: Timestamp::now(),
        tags: Tags::new(),
    });
    log_account(
        runtime,
        &account_id,
        "created",
        Some(format!("{name} <{email}> in {parent_id}")),
    );
    account_id
}

/// Moves an account to another parent, unless it is there already.
pub(crate) fn move_account(runtime: &mut Runtime, account_id: &str, destination: &str) {
    let Some(account) = runtime.zone.account_mut(account_id) else {
        return;
    };
    if account.parent_id == destination {
        return;
    }
    let source = std::mem::replace(&mut account.parent_id, destination.to_string());
    log_account(
        runtime,
        account_id,
        "moved",
        Some(format!("from {source} to {destination}")),
    );
}

/// Renames an account, unless the name is unchanged.
pub(crate) fn rename_account(runtime: &mut Runtime, account_id: &str, name: &str) {
    let Some(account) = runtime.zone.account_mut(account_id) else {
        return;
    };
    if account.name == name {
        return;
    }
    let old = std::mem::replace(&mut account.name, name.to_string());
    log_account(
        runtime,
        account_id,
        "renamed",
        Some(format!("from {old:?} to {name:?}")),
    );
}

/// Starts closing an account: `PENDING_CLOSURE` now, `SUSPENDED` after the closure delay, or at
/// once when `immediate`.
pub(crate) fn request_closure(runtime: &mut Runtime, account_id: &str, immediate: bool) {
    let Some(account) = runtime.zone.account_mut(account_id) else {
        return;
    };
    if immediate {
        account.state = AccountState::Suspended;
        log_account(runtime, account_id, "suspended", None);
        return;
    }
    account.state = AccountState::PendingClosure;
    log_account(runtime, account_id, "closure_requested", None);
    let after = Duration::from_secs_f64(runtime.settings.close_seconds);
    runtime.schedule(Task::FinishClosure {
        account_id: account_id.to_string(),
        after,
    });
}

/// Ends a closure: `PENDING_CLOSURE` becomes `SUSPENDED`.
pub fn finish_closure(runtime: &mut Runtime, account_id: &str) {
    let Some(account) = runtime.zone.account_mut(account_id) else {
        return;
    };
    if account.state != AccountState::PendingClosure {
        return;
    }
    account.state = AccountState::Suspended;
    log_account(runtime, account_id, "suspended", None);
}

/// Logs an account change to tracing and to the event log, and marks the zone changed.
pub(crate) fn log_account(
    runtime: &mut Runtime,
    account_id: &str,
    change: &str,
    detail: Option<String>,
) {
    info!(
        account_id,
        change,
        detail = detail.as_deref().unwrap_or(""),
        "account changed"
    );
    runtime.log(EventDetail::Account {
        account_id: account_id.to_string(),
        change: change.to_string(),
        detail,
    });
    runtime.mark_changed();
}
