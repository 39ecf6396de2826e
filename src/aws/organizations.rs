//! AWS Organizations: the OU tree, accounts, their parents and tags, moves and closure.

use std::collections::BTreeMap;

use aws_sdk_organizations::types::Tag;
use aws_sdk_organizations::Client;

use super::AwsError;

/// The organization the credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationInfo {
    pub id: String,
    pub master_account_id: String,
}

/// One organizational unit with its slash path from the root, for example
/// `Workloads/Production`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationalUnit {
    pub id: String,
    pub name: String,
    pub parent_id: String,
    pub path: String,
}

/// One member account as Organizations reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    /// `ACTIVE`, `PENDING_CLOSURE`, `SUSPENDED`, `CLOSED` or `PENDING_ACTIVATION`.
    pub state: String,
    /// When the account joined the organization, RFC 3339.
    pub joined: Option<String>,
}

impl Account {
    /// Returns true for accounts that are closed or on their way to being closed.
    pub fn is_closed(&self) -> bool {
        matches!(
            self.state.as_str(),
            "PENDING_CLOSURE" | "SUSPENDED" | "CLOSED"
        )
    }
}

/// The result of a CloseAccount call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseOutcome {
    /// The close request was accepted; the account moves to `PENDING_CLOSURE`.
    Closing,
    /// The account was already closed.
    AlreadyClosed,
}

fn account_from_sdk(account: &aws_sdk_organizations::types::Account) -> Account {
    #[allow(deprecated)]
    let state = account
        .state()
        .map(|s| s.as_str().to_string())
        .or_else(|| account.status().map(|s| s.as_str().to_string()))
        .unwrap_or_default();
    Account {
        id: account.id().unwrap_or_default().to_string(),
        name: account.name().unwrap_or_default().to_string(),
        email: account.email().unwrap_or_default().to_string(),
        state,
        joined: account.joined_timestamp().and_then(crate::aws::format_time),
    }
}

pub async fn describe_organization(client: &Client) -> Result<OrganizationInfo, AwsError> {
    let output = client
        .describe_organization()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("organizations:DescribeOrganization", e))?;
    let organization = output.organization();
    Ok(OrganizationInfo {
        id: organization
            .and_then(|o| o.id())
            .unwrap_or_default()
            .to_string(),
        master_account_id: organization
            .and_then(|o| o.master_account_id())
            .unwrap_or_default()
            .to_string(),
    })
}

/// Returns the ID of the organization's root.
pub async fn root_id(client: &Client) -> Result<String, AwsError> {
    let mut token = None;
    loop {
        let output = client
            .list_roots()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("organizations:ListRoots", e))?;
        if let Some(root) = output.roots().first() {
            return Ok(root.id().unwrap_or_default().to_string());
        }
        token = output.next_token().map(str::to_string);
        if token.is_none() {
            return Err(AwsError {
                operation: "organizations:ListRoots",
                code: None,
                message: "the organization has no root".to_string(),
                reason: None,
            });
        }
    }
}

/// Lists the OUs directly under `parent_id`, following every page (a page may be empty
/// while more follow).
pub async fn child_units(
    client: &Client,
    parent_id: &str,
) -> Result<Vec<(String, String)>, AwsError> {
    let mut units = Vec::new();
    let mut token = None;
    loop {
        let output = client
            .list_organizational_units_for_parent()
            .parent_id(parent_id)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("organizations:ListOrganizationalUnitsForParent", e))?;
        for unit in output.organizational_units() {
            units.push((
                unit.id().unwrap_or_default().to_string(),
                unit.name().unwrap_or_default().to_string(),
            ));
        }
        token = output.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(units);
        }
    }
}

/// Lists every OU of the organization with its path, breadth first from the root.
pub async fn unit_tree(
    client: &Client,
    root_id: &str,
) -> Result<Vec<OrganizationalUnit>, AwsError> {
    let mut tree = Vec::new();
    let mut pending = vec![(root_id.to_string(), String::new())];
    while let Some((parent_id, parent_path)) = pending.pop() {
        for (id, name) in child_units(client, &parent_id).await? {
            let path = if parent_path.is_empty() {
                name.clone()
            } else {
                format!("{parent_path}/{name}")
            };
            pending.push((id.clone(), path.clone()));
            tree.push(OrganizationalUnit {
                id,
                name,
                parent_id: parent_id.clone(),
                path,
            });
        }
    }
    tree.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));
    Ok(tree)
}

/// Lists every account of the organization.
pub async fn list_accounts(client: &Client) -> Result<Vec<Account>, AwsError> {
    let mut accounts = Vec::new();
    let mut token = None;
    loop {
        let output = client
            .list_accounts()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("organizations:ListAccounts", e))?;
        accounts.extend(output.accounts().iter().map(account_from_sdk));
        token = output.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(accounts);
        }
    }
}

/// Lists the accounts directly under `parent_id`.
pub async fn accounts_for_parent(
    client: &Client,
    parent_id: &str,
) -> Result<Vec<Account>, AwsError> {
    let mut accounts = Vec::new();
    let mut token = None;
    loop {
        let output = client
            .list_accounts_for_parent()
            .parent_id(parent_id)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("organizations:ListAccountsForParent", e))?;
        accounts.extend(output.accounts().iter().map(account_from_sdk));
        token = output.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(accounts);
        }
    }
}

/// Returns the account, or `None` when it is not (or no longer) in the organization.
pub async fn describe_account(
    client: &Client,
    account_id: &str,
) -> Result<Option<Account>, AwsError> {
    match client
        .describe_account()
        .account_id(account_id)
        .send()
        .await
    {
        Ok(output) => Ok(output.account().map(account_from_sdk)),
        Err(error) => {
            let error = AwsError::from_sdk("organizations:DescribeAccount", error);
            if error.has_code("AccountNotFoundException") {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

/// Returns the ID of the account's parent (an OU or the root).
pub async fn parent_of(client: &Client, child_id: &str) -> Result<String, AwsError> {
    let output = client
        .list_parents()
        .child_id(child_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("organizations:ListParents", e))?;
    Ok(output
        .parents()
        .first()
        .and_then(|p| p.id())
        .unwrap_or_default()
        .to_string())
}

pub async fn move_account(
    client: &Client,
    account_id: &str,
    source_parent_id: &str,
    destination_parent_id: &str,
) -> Result<(), AwsError> {
    client
        .move_account()
        .account_id(account_id)
        .source_parent_id(source_parent_id)
        .destination_parent_id(destination_parent_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("organizations:MoveAccount", e))?;
    Ok(())
}

/// Closes the account. An account already closed counts as closed.
pub async fn close_account(client: &Client, account_id: &str) -> Result<CloseOutcome, AwsError> {
    use aws_sdk_organizations::operation::close_account::CloseAccountError;
    match client.close_account().account_id(account_id).send().await {
        Ok(_) => Ok(CloseOutcome::Closing),
        Err(error) => {
            let reason = match error.as_service_error() {
                Some(CloseAccountError::ConstraintViolationException(e)) => {
                    e.reason().map(|r| r.as_str().to_string())
                }
                _ => None,
            };
            let error = AwsError::from_sdk("organizations:CloseAccount", error).with_reason(reason);
            if error.has_code("AccountAlreadyClosedException") {
                Ok(CloseOutcome::AlreadyClosed)
            } else {
                Err(error)
            }
        }
    }
}

/// Lists the tags of an account, OU or root.
pub async fn list_tags(
    client: &Client,
    resource_id: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let mut tags = BTreeMap::new();
    let mut token = None;
    loop {
        let output = client
            .list_tags_for_resource()
            .resource_id(resource_id)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("organizations:ListTagsForResource", e))?;
        for tag in output.tags() {
            tags.insert(tag.key().to_string(), tag.value().to_string());
        }
        token = output.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(tags);
        }
    }
}

pub async fn tag_resource(
    client: &Client,
    resource_id: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut sdk_tags = Vec::with_capacity(tags.len());
    for (key, value) in tags {
        let tag = Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| AwsError {
                operation: "organizations:TagResource",
                code: None,
                message: e.to_string(),
                reason: None,
            })?;
        sdk_tags.push(tag);
    }
    client
        .tag_resource()
        .resource_id(resource_id)
        .set_tags(Some(sdk_tags))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("organizations:TagResource", e))?;
    Ok(())
}

pub async fn untag_resource(
    client: &Client,
    resource_id: &str,
    keys: &[String],
) -> Result<(), AwsError> {
    if keys.is_empty() {
        return Ok(());
    }
    client
        .untag_resource()
        .resource_id(resource_id)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("organizations:UntagResource", e))?;
    Ok(())
}
