//! STS over awsQuery: GetCallerIdentity and AssumeRole. AssumeRole issues dummy credentials for any
//! role in an active member account and remembers them, so a later GetCallerIdentity signed with
//! them reports the assumed role.

use std::collections::BTreeMap;

use crate::context::RequestContext;
use crate::ids;
use crate::protocol::query::element;
use crate::protocol::AwsError;
use crate::runtime::Runtime;
use crate::state::{AccountState, RoleSession};
use crate::timestamp::Timestamp;

/// Session length when the request has no `DurationSeconds`.
const DEFAULT_DURATION_SECONDS: i64 = 3600;

/// Runs one STS operation and returns the XML elements inside its `<Action>Result`.
pub fn handle(
    runtime: &mut Runtime,
    context: &RequestContext,
    action: &str,
    fields: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    match action {
        "GetCallerIdentity" => Ok(get_caller_identity(runtime, context)),
        "AssumeRole" => assume_role(runtime, context, fields),
        other => Err(AwsError::client(
            "InvalidAction",
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
    }
}

fn validation_error(message: impl Into<String>) -> AwsError {
    AwsError::client("ValidationError", message)
}

fn get_caller_identity(runtime: &Runtime, context: &RequestContext) -> String {
    let caller = context.caller(&runtime.zone);
    let mut xml = element(4, "Arn", &caller.arn);
    xml.push_str(&element(4, "UserId", &caller.user_id));
    xml.push_str(&element(4, "Account", &caller.account_id));
    xml
}

fn assume_role(
    runtime: &mut Runtime,
    context: &RequestContext,
    fields: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let role_arn = fields.get("RoleArn").ok_or_else(|| {
        validation_error("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
    })?;
    let session_name = fields.get("RoleSessionName").ok_or_else(|| {
        validation_error("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
    })?;
    check_session_name(session_name)?;
    let duration = match fields.get("DurationSeconds") {
        None => DEFAULT_DURATION_SECONDS,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|seconds| (900..=43_200).contains(seconds))
            .ok_or_else(|| {
                validation_error(format!("1 validation error detected: Value '{text}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"))
            })?,
    };
    let (account_id, role_name) = parse_role_arn(role_arn).ok_or_else(|| {
        validation_error(format!(
            "{role_arn} is not a valid IAM role ARN (arn:aws:iam::<account id>:role/<name>)."
        ))
    })?;

    let caller = context.caller(&runtime.zone);
    let assumable = runtime
        .zone
        .account(&account_id)
        .is_some_and(|account| account.state == AccountState::Active);
    if !assumable {
        return Err(AwsError::new(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        ));
    }

    let now = Timestamp::now();
    let session = RoleSession {
        access_key_id: ids::temporary_access_key_id(),
        account_id: account_id.clone(),
        assumed_role_arn: format!(
            "arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"
        ),
        assumed_role_id: format!("{}:{session_name}", ids::role_id(role_arn)),
        expiration: now.plus_seconds(duration as f64),
    };
    let secret = ids::dummy_secret(40);
    let token = ids::dummy_secret(356);
    runtime
        .zone
        .role_sessions
        .retain(|existing| existing.expiration > now);
    runtime.zone.role_sessions.push(session.clone());
    runtime.mark_changed();

    let mut xml = String::from("    <Credentials>\n");
    xml.push_str(&element(6, "AccessKeyId", &session.access_key_id));
    xml.push_str(&element(6, "SecretAccessKey", &secret));
    xml.push_str(&element(6, "SessionToken", &token));
    xml.push_str(&element(6, "Expiration", &session.expiration.to_iso8601()));
    xml.push_str("    </Credentials>\n    <AssumedRoleUser>\n");
    xml.push_str(&element(6, "AssumedRoleId", &session.assumed_role_id));
    xml.push_str(&element(6, "Arn", &session.assumed_role_arn));
    xml.push_str("    </AssumedRoleUser>\n");
    Ok(xml)
}

/// Checks `RoleSessionName`: 2 to 64 characters from `[\w+=,.@-]`.
fn check_session_name(name: &str) -> Result<(), AwsError> {
    let valid = (2..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if valid {
        return Ok(());
    }
    Err(validation_error(format!(
        "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64"
    )))
}

/// Splits `arn:aws:iam::<account>:role/<path/><name>` into the account id and the role name.
fn parse_role_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account_id, resource) = rest.split_once(':')?;
    let role_path = resource.strip_prefix("role/")?;
    let role_name = role_path.rsplit('/').next()?;
    let valid_account = account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit());
    (valid_account && !role_name.is_empty())
        .then(|| (account_id.to_string(), role_name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::222222222222:role/path/AWSControlTowerExecution"),
            Some((
                "222222222222".to_string(),
                "AWSControlTowerExecution".to_string()
            ))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::2222:role/x"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::222222222222:user/x"), None);
    }

    #[test]
    fn session_name_rules() {
        assert!(check_session_name("terraform-kore").is_ok());
        assert!(check_session_name("a").is_err());
        assert!(check_session_name("has space").is_err());
    }
}
