//! The `kore_account_management_policy` data source: the IAM permissions policy and trust
//! policy of the role that runs this provider in the management account, for users to pass to
//! `aws_iam_role` in their own modules. It makes no AWS call.
//!
//! The permissions cover what Account Factory callers need. They are the Service Catalog
//! end-user actions on the Account Factory product, Organizations reads, tagging and moves, and
//! the Account Management name calls. They also include the IAM Identity Center and Control
//! Tower actions that programmatic Account Factory callers need.
//! `organizations:CloseAccount` is added only when `allow_account_closure = true`.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::Serialize;
use thiserror::Error;
use uuid::Uuid;

use crate::plugin::{
    Attribute, AttributePath, Block, Context, DataSource, Diagnostics, Schema, Severity, Type,
    Value,
};
use crate::rules::validate_account_id;

const TYPE_NAME: &str = "kore_account_management_policy";

/// Namespace of the UUIDv5 that forms the `id` attribute from the inputs.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x4a952036_541d_4cbb_bd95_efc2e17cd650);

const POLICY_VERSION: &str = "2012-10-17";

/// Minimum and maximum length of an STS external ID.
const EXTERNAL_ID_LENGTH: std::ops::RangeInclusive<usize> = 2..=1224;

/// One statement of the permissions policy: a Sid and the actions it allows on every resource.
struct StatementSpec {
    sid: &'static str,
    actions: &'static [&'static str],
}

/// Statements that every automation role gets.
const BASE_STATEMENTS: &[StatementSpec] = &[
    StatementSpec {
        sid: "AccountFactoryServiceCatalog",
        actions: &[
            "servicecatalog:SearchProducts",
            "servicecatalog:DescribeProduct",
            "servicecatalog:DescribeProductView",
            "servicecatalog:ListLaunchPaths",
            "servicecatalog:ListProvisioningArtifacts",
            "servicecatalog:DescribeProvisioningParameters",
            "servicecatalog:ProvisionProduct",
            "servicecatalog:DescribeRecord",
            "servicecatalog:DescribeProvisionedProduct",
            "servicecatalog:SearchProvisionedProducts",
            "servicecatalog:ScanProvisionedProducts",
            "servicecatalog:GetProvisionedProductOutputs",
            "servicecatalog:UpdateProvisionedProduct",
            "servicecatalog:TerminateProvisionedProduct",
            "servicecatalog:ListPortfolios",
        ],
    },
    StatementSpec {
        sid: "OrganizationsRead",
        actions: &[
            "organizations:DescribeOrganization",
            "organizations:DescribeOrganizationalUnit",
            "organizations:DescribeAccount",
            "organizations:ListRoots",
            "organizations:ListOrganizationalUnitsForParent",
            "organizations:ListAccounts",
            "organizations:ListAccountsForParent",
            "organizations:ListParents",
            "organizations:ListChildren",
            "organizations:ListTagsForResource",
        ],
    },
    StatementSpec {
        sid: "OrganizationsManageAccounts",
        actions: &[
            "organizations:TagResource",
            "organizations:UntagResource",
            "organizations:MoveAccount",
        ],
    },
    StatementSpec {
        sid: "AccountManagementNames",
        actions: &["account:GetAccountInformation", "account:PutAccountName"],
    },
    StatementSpec {
        sid: "CallerIdentity",
        actions: &["sts:GetCallerIdentity"],
    },
    // Account Factory creates or looks up the account's IAM Identity Center user and grants it
    // access to the new account, and programmatic callers need these permissions for that.
    StatementSpec {
        sid: "AccountFactoryIdentityCenter",
        actions: &["sso:*", "sso-directory:*"],
    },
    StatementSpec {
        sid: "AccountFactoryControlTower",
        actions: &[
            "controltower:CreateManagedAccount",
            "controltower:DescribeManagedAccount",
            "controltower:DeregisterManagedAccount",
        ],
    },
];

/// The statement added when `allow_account_closure = true`.
const CLOSE_ACCOUNT_STATEMENT: StatementSpec = StatementSpec {
    sid: "OrganizationsCloseAccount",
    actions: &["organizations:CloseAccount"],
};

#[derive(Serialize)]
struct PolicyDocument<S> {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Statement")]
    statement: Vec<S>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PermissionStatement {
    sid: &'static str,
    effect: &'static str,
    action: Vec<&'static str>,
    resource: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TrustStatement {
    sid: &'static str,
    effect: &'static str,
    principal: TrustedPrincipals,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<TrustCondition>,
}

#[derive(Serialize)]
struct TrustedPrincipals {
    #[serde(rename = "AWS")]
    aws: Vec<String>,
}

#[derive(Serialize)]
struct TrustCondition {
    #[serde(rename = "StringEquals")]
    string_equals: ExternalIdCondition,
}

#[derive(Serialize)]
struct ExternalIdCondition {
    #[serde(rename = "sts:ExternalId")]
    external_id: String,
}

/// The validated inputs. Principals are normalized to ARNs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct PolicyInputs {
    allow_account_closure: bool,
    trusted_principal_arns: Vec<String>,
    external_id: Option<String>,
}

/// An invalid entry of `trusted_principal_arns`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error(
    "{value:?} is not a trusted principal: {reason}; write a 12-digit account ID such as \
     123456789012, or an IAM ARN such as arn:aws:iam::123456789012:root, \
     arn:aws:iam::123456789012:role/automation or arn:aws:iam::123456789012:user/ci"
)]
pub struct PrincipalError {
    pub value: String,
    pub reason: &'static str,
}

/// An invalid `external_id`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ExternalIdError {
    #[error(
        "external_id has {length} character(s), but STS accepts 2 to 1224; use an ID of that length"
    )]
    Length { length: usize },
    #[error(
        "external_id contains {character:?} at position {position}, but STS accepts only letters, \
         digits and _ + = , . @ : / -; remove or replace it"
    )]
    Character { character: char, position: usize },
}

/// Validates one trusted principal and returns its ARN: an IAM ARN of the form
/// `arn:<partition>:iam::<account>:root`, `...:role/<path and name>` or `...:user/<path and
/// name>` is returned unchanged, and a 12-digit account ID becomes `arn:aws:iam::<id>:root`.
pub fn normalize_principal(value: &str) -> Result<String, PrincipalError> {
    let error = |reason| PrincipalError {
        value: value.to_string(),
        reason,
    };
    if !value.starts_with("arn:") {
        // An account ID carries no partition, so it gets the commercial `aws` partition.
        // Principals in other partitions must be written as ARNs.
        return match validate_account_id(value) {
            Ok(()) => Ok(format!("arn:aws:iam::{value}:root")),
            Err(_) => Err(error("it is neither an ARN nor a 12-digit account ID")),
        };
    }

    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [_, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(error("an ARN has six parts separated by ':'"));
    };
    if !is_partition(partition) {
        return Err(error(
            "the partition must be aws or another AWS partition such as aws-cn",
        ));
    }
    if *service != "iam" {
        return Err(error("the service must be iam"));
    }
    if !region.is_empty() {
        return Err(error("an IAM ARN has an empty region part (iam::)"));
    }
    if validate_account_id(account).is_err() {
        return Err(error("the account part must be exactly 12 digits"));
    }
    if !is_principal_resource(resource) {
        return Err(error(
            "the resource must be root, role/<name> or user/<name>, optionally with a path such \
             as role/ci/<name>, and the name may contain only letters, digits and _ + = , . @ -",
        ));
    }
    Ok(value.to_string())
}

/// Matches AWS partition names: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b` and so on.
fn is_partition(partition: &str) -> bool {
    partition.strip_prefix("aws").is_some_and(|rest| {
        rest.is_empty()
            || rest
                .strip_prefix('-')
                .is_some_and(|suffix| suffix.split('-').all(is_lowercase_word))
    })
}

fn is_lowercase_word(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase())
}

fn is_principal_resource(resource: &str) -> bool {
    if resource == "root" {
        return true;
    }
    let Some(path_and_name) = resource
        .strip_prefix("role/")
        .or_else(|| resource.strip_prefix("user/"))
    else {
        return false;
    };
    // IAM names match `[\w+=,.@-]+`. Paths may use any printable ASCII character, and the ARN
    // shows a path without its leading slash, such as `role/ci/deployer`.
    let (path, name) = path_and_name
        .rsplit_once('/')
        .unwrap_or(("", path_and_name));
    let name_is_valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    let path_is_valid = path.is_empty()
        || path
            .split('/')
            .all(|segment| !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_graphic()));
    name_is_valid && path_is_valid
}

/// Validates an STS external ID: 2 to 1224 characters matching `[\w+=,.@:/-]*`.
pub fn validate_external_id(external_id: &str) -> Result<(), ExternalIdError> {
    let length = external_id.chars().count();
    if !EXTERNAL_ID_LENGTH.contains(&length) {
        return Err(ExternalIdError::Length { length });
    }
    match external_id
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(*c)))
    {
        Some((index, character)) => Err(ExternalIdError::Character {
            character,
            position: index + 1,
        }),
        None => Ok(()),
    }
}

/// Checks the known parts of `config` and returns the inputs when every part is known and
/// valid. Unknown values are skipped without error, so validation works before apply.
fn check_config(config: &Value, diagnostics: &mut Diagnostics) -> Option<PolicyInputs> {
    let mut complete = true;

    let allow_account_closure = match config.get("allow_account_closure") {
        Value::Unknown => {
            complete = false;
            false
        }
        value => value.as_bool().unwrap_or(false),
    };

    let mut trusted_principal_arns = Vec::new();
    match config.get("trusted_principal_arns") {
        Value::Null => {}
        Value::List(items) => {
            for (index, item) in items.iter().enumerate() {
                let path = AttributePath::root("trusted_principal_arns").index(index as i64);
                match item {
                    Value::Unknown => complete = false,
                    Value::String(text) => match normalize_principal(text) {
                        Ok(arn) if !trusted_principal_arns.contains(&arn) => {
                            trusted_principal_arns.push(arn)
                        }
                        Ok(_) => {}
                        Err(error) => diagnostics.attribute_error(
                            path,
                            "Invalid trusted principal",
                            format!("trusted_principal_arns[{index}]: {error}"),
                        ),
                    },
                    _ => diagnostics.attribute_error(
                        path,
                        "Invalid trusted principal",
                        format!(
                            "trusted_principal_arns[{index}] is null; remove the entry or write \
                             an IAM ARN or a 12-digit account ID."
                        ),
                    ),
                }
            }
        }
        _ => complete = false,
    }

    let external_id = match config.get("external_id") {
        Value::Null => None,
        Value::String(text) => {
            if let Err(error) = validate_external_id(text) {
                diagnostics.attribute_error(
                    AttributePath::root("external_id"),
                    "Invalid external ID",
                    error.to_string(),
                );
            }
            Some(text.clone())
        }
        _ => {
            complete = false;
            None
        }
    };

    if complete
        && external_id.is_some()
        && trusted_principal_arns.is_empty()
        && !diagnostics.has_errors()
    {
        diagnostics.attribute_warning(
            AttributePath::root("external_id"),
            "External ID has no effect",
            "external_id is set but trusted_principal_arns is empty, so no trust policy is \
             generated and assume_role_policy_json is null; add trusted principals or remove \
             external_id.",
        );
    }

    if !complete || diagnostics.has_errors() {
        return None;
    }
    Some(PolicyInputs {
        allow_account_closure,
        trusted_principal_arns,
        external_id,
    })
}

fn permission_statements(allow_account_closure: bool) -> Vec<PermissionStatement> {
    let close = allow_account_closure.then_some(&CLOSE_ACCOUNT_STATEMENT);
    BASE_STATEMENTS
        .iter()
        .chain(close)
        .map(|spec| PermissionStatement {
            sid: spec.sid,
            effect: "Allow",
            action: spec.actions.to_vec(),
            resource: "*",
        })
        .collect()
}

fn trust_statement(inputs: &PolicyInputs) -> Option<TrustStatement> {
    if inputs.trusted_principal_arns.is_empty() {
        return None;
    }
    Some(TrustStatement {
        sid: "TrustedPrincipalsAssumeRole",
        effect: "Allow",
        principal: TrustedPrincipals {
            aws: inputs.trusted_principal_arns.clone(),
        },
        action: "sts:AssumeRole",
        condition: inputs
            .external_id
            .clone()
            .map(|external_id| TrustCondition {
                string_equals: ExternalIdCondition { external_id },
            }),
    })
}

/// The computed attributes of one read.
#[derive(Debug, PartialEq)]
struct PolicyOutputs {
    id: String,
    policy_json: String,
    assume_role_policy_json: Option<String>,
    actions: Vec<String>,
}

fn build_outputs(inputs: &PolicyInputs) -> Result<PolicyOutputs, serde_json::Error> {
    let statements = permission_statements(inputs.allow_account_closure);
    let actions: BTreeSet<&str> = statements
        .iter()
        .flat_map(|statement| statement.action.iter().copied())
        .collect();
    let actions = actions.into_iter().map(str::to_string).collect();

    let policy_json = serde_json::to_string_pretty(&PolicyDocument {
        version: POLICY_VERSION,
        statement: statements,
    })?;
    let assume_role_policy_json = trust_statement(inputs)
        .map(|statement| {
            serde_json::to_string_pretty(&PolicyDocument {
                version: POLICY_VERSION,
                statement: vec![statement],
            })
        })
        .transpose()?;
    let id = Uuid::new_v5(&ID_NAMESPACE, serde_json::to_string(inputs)?.as_bytes()).to_string();

    Ok(PolicyOutputs {
        id,
        policy_json,
        assume_role_policy_json,
        actions,
    })
}

/// The `kore_account_management_policy` data source.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccountManagementPolicy;

impl AccountManagementPolicy {
    pub fn new() -> AccountManagementPolicy {
        AccountManagementPolicy
    }
}

#[async_trait]
impl DataSource for AccountManagementPolicy {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(0, schema_block())
    }

    async fn validate(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::default();
        check_config(config, &mut diagnostics);
        diagnostics
    }

    async fn read(&self, _ctx: &Context, config: &Value) -> (Value, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let inputs = check_config(config, &mut diagnostics);
        // Terraform validates the configuration before reading it, so validate has already
        // shown every warning and repeating them here would print each one twice.
        diagnostics
            .0
            .retain(|diagnostic| diagnostic.severity == Severity::Error);
        let Some(inputs) = inputs else {
            if !diagnostics.has_errors() {
                diagnostics.error(
                    "Unknown input",
                    "kore_account_management_policy was read while an input was still unknown; \
                     this is a bug in the provider, because Terraform reads data sources only \
                     once their inputs are known.",
                );
            }
            return (Value::Null, diagnostics);
        };

        let outputs = match build_outputs(&inputs) {
            Ok(outputs) => outputs,
            Err(error) => {
                diagnostics.error(
                    "Failed to encode the policy",
                    format!("Encoding the IAM policy as JSON failed: {error}."),
                );
                return (Value::Null, diagnostics);
            }
        };
        tracing::debug!(
            allow_account_closure = inputs.allow_account_closure,
            trusted_principals = inputs.trusted_principal_arns.len(),
            action_count = outputs.actions.len(),
            "built the account management policy"
        );

        // Non-computed attributes must come back exactly as configured.
        let mut state = config.clone();
        state.set("id", outputs.id.into());
        state.set("policy_json", outputs.policy_json.into());
        state.set(
            "assume_role_policy_json",
            outputs.assume_role_policy_json.into(),
        );
        state.set(
            "actions",
            Value::List(outputs.actions.into_iter().map(Value::String).collect()),
        );
        (state, diagnostics)
    }
}

fn schema_block() -> Block {
    Block::new()
        .description(
            "IAM policies for the role that runs the `kore` provider in the management account, \
             the equivalent of Kore's `setup roles --feature AccountManagement`. Pass \
             `policy_json` to an `aws_iam_role_policy` and `assume_role_policy_json` to the \
             role's `assume_role_policy`. This data source makes no AWS call.\n\n\
             The role must also be given access to the Account Factory portfolio \
             (`AWS Control Tower Account Factory Portfolio`) in Service Catalog, which IAM \
             permissions alone do not grant.",
        )
        .attribute(Attribute::string("id").computed().description(
            "Identifier derived from the inputs; the same inputs always give the same ID.",
        ))
        .attribute(
            Attribute::bool("allow_account_closure")
                .optional()
                .description(
                    "Whether the role may close accounts (`organizations:CloseAccount`), which \
             `kore_cloud_account` needs for `close_on_deletion = true`. Defaults to `false`.",
                ),
        )
        .attribute(
            Attribute::new("trusted_principal_arns", Type::list(Type::String))
                .optional()
                .description(
                    "Principals allowed to assume the role: IAM ARNs of the form \
                     `arn:aws:iam::123456789012:root`, `arn:aws:iam::123456789012:role/name` \
                     or `arn:aws:iam::123456789012:user/name`, or 12-digit account IDs, which \
                     become `arn:aws:iam::<id>:root` in the commercial partition. When empty, `assume_role_policy_json` \
                     is null.",
                ),
        )
        .attribute(Attribute::string("external_id").optional().description(
            "External ID that callers must pass to `sts:AssumeRole`, added to the trust \
             policy as a `StringEquals` condition on `sts:ExternalId`. 2 to 1224 characters: \
             letters, digits and `_+=,.@:/-`.",
        ))
        .attribute(Attribute::string("policy_json").computed().description(
            "The permissions policy as JSON, indented by two spaces with a fixed key order: \
             Service Catalog end-user actions for Account Factory, Organizations reads, \
             tagging and `MoveAccount`, Account Management name actions, \
             `sts:GetCallerIdentity`, the IAM Identity Center (`sso:*`, `sso-directory:*`) \
             and Control Tower actions that Account Factory needs, and \
             `organizations:CloseAccount` when `allow_account_closure` is `true`.",
        ))
        .attribute(
            Attribute::string("assume_role_policy_json")
                .computed()
                .description(
                    "The trust policy as JSON: `sts:AssumeRole` for `trusted_principal_arns`, \
                     with the `external_id` condition when set. Null when no trusted \
                     principals are given.",
                ),
        )
        .attribute(
            Attribute::new("actions", Type::list(Type::String))
                .computed()
                .description("Every action in `policy_json`, sorted and without duplicates."),
        )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plugin::PathStep;

    fn config(entries: &[(&str, Value)]) -> Value {
        let mut map: BTreeMap<String, Value> = [
            "id",
            "allow_account_closure",
            "trusted_principal_arns",
            "external_id",
            "policy_json",
            "assume_role_policy_json",
            "actions",
        ]
        .iter()
        .map(|name| (name.to_string(), Value::Null))
        .collect();
        for (name, value) in entries {
            map.insert(name.to_string(), value.clone());
        }
        Value::Map(map)
    }

    fn strings(items: &[&str]) -> Value {
        Value::List(items.iter().map(|item| Value::string(*item)).collect())
    }

    async fn read(config: &Value) -> (Value, Diagnostics) {
        AccountManagementPolicy::new()
            .read(&Context::default(), config)
            .await
    }

    fn json(value: &Value) -> serde_json::Value {
        serde_json::from_str(value.as_str().expect("a JSON string")).expect("valid JSON")
    }

    fn statement_actions(policy: &serde_json::Value) -> Vec<String> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|statement| statement["Action"].as_array().unwrap().clone())
            .map(|action| action.as_str().unwrap().to_string())
            .collect()
    }

    #[tokio::test]
    async fn close_account_only_when_allowed() {
        let cases = [
            (Value::Null, false),
            (Value::Bool(false), false),
            (Value::Bool(true), true),
        ];
        for (flag, expected) in cases {
            let (state, diagnostics) =
                read(&config(&[("allow_account_closure", flag.clone())])).await;
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
            assert_eq!(state.get("allow_account_closure"), &flag);

            let policy = json(state.get("policy_json"));
            let actions = statement_actions(&policy);
            assert_eq!(
                actions.contains(&"organizations:CloseAccount".to_string()),
                expected,
                "allow_account_closure {flag:?}"
            );
            let close_statement = policy["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|statement| statement["Sid"] == "OrganizationsCloseAccount");
            assert_eq!(close_statement.is_some(), expected);
            if let Some(statement) = close_statement {
                assert_eq!(
                    statement["Action"],
                    serde_json::json!(["organizations:CloseAccount"])
                );
            }
        }
    }

    #[tokio::test]
    async fn actions_sorted_unique_and_complete() {
        for allow in [false, true] {
            let (state, _) = read(&config(&[("allow_account_closure", allow.into())])).await;
            let actions: Vec<String> = state
                .get("actions")
                .as_list()
                .unwrap()
                .iter()
                .map(|action| action.as_str().unwrap().to_string())
                .collect();

            let mut expected = statement_actions(&json(state.get("policy_json")));
            expected.sort();
            expected.dedup();
            assert_eq!(actions, expected);

            let mut sorted = actions.clone();
            sorted.sort();
            assert_eq!(actions, sorted);
        }
    }

    #[tokio::test]
    async fn policy_contains_required_actions() {
        let (state, _) = read(&config(&[])).await;
        let actions = statement_actions(&json(state.get("policy_json")));
        let required = [
            "servicecatalog:ProvisionProduct",
            "servicecatalog:SearchProducts",
            "servicecatalog:ListLaunchPaths",
            "servicecatalog:DescribeRecord",
            "servicecatalog:TerminateProvisionedProduct",
            "servicecatalog:UpdateProvisionedProduct",
            "servicecatalog:ListPortfolios",
            "organizations:ListAccounts",
            "organizations:ListParents",
            "organizations:TagResource",
            "organizations:UntagResource",
            "organizations:MoveAccount",
            "account:PutAccountName",
            "account:GetAccountInformation",
            "sts:GetCallerIdentity",
            "sso:*",
            "sso-directory:*",
            "controltower:CreateManagedAccount",
            "controltower:DescribeManagedAccount",
            "controltower:DeregisterManagedAccount",
        ];
        for action in required {
            assert!(actions.contains(&action.to_string()), "missing {action}");
        }
    }

    #[tokio::test]
    async fn policy_json_layout() {
        let (state, _) = read(&config(&[])).await;
        let text = state.get("policy_json").as_str().unwrap();
        assert!(text.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": ["));
        assert!(text.contains(
            "\n    {\n      \"Sid\": \"AccountFactoryServiceCatalog\",\n      \"Effect\": \"Allow\",\n      \"Action\": [\n"
        ));

        let policy = json(state.get("policy_json"));
        let sids: Vec<&str> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|statement| statement["Sid"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&str> = sids.iter().copied().collect();
        assert_eq!(unique.len(), sids.len(), "duplicate Sid in {sids:?}");
        for statement in policy["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow");
            assert_eq!(statement["Resource"], "*");
        }
    }

    #[tokio::test]
    async fn trust_policy_with_and_without_external_id() {
        let principals = strings(&[
            "123456789012",
            "arn:aws:iam::210987654321:role/ci/deployer",
            "arn:aws-us-gov:iam::111122223333:user/ops",
        ]);
        let expected_principals = serde_json::json!([
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::210987654321:role/ci/deployer",
            "arn:aws-us-gov:iam::111122223333:user/ops",
        ]);

        let (state, diagnostics) =
            read(&config(&[("trusted_principal_arns", principals.clone())])).await;
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let trust = json(state.get("assume_role_policy_json"));
        assert_eq!(
            trust,
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "TrustedPrincipalsAssumeRole",
                    "Effect": "Allow",
                    "Principal": {"AWS": expected_principals},
                    "Action": "sts:AssumeRole",
                }],
            })
        );

        let (state, diagnostics) = read(&config(&[
            ("trusted_principal_arns", principals),
            ("external_id", Value::string("kore-automation")),
        ]))
        .await;
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let trust = json(state.get("assume_role_policy_json"));
        assert_eq!(
            trust["Statement"][0]["Condition"],
            serde_json::json!({"StringEquals": {"sts:ExternalId": "kore-automation"}})
        );
        assert_eq!(
            trust["Statement"][0]["Principal"]["AWS"],
            expected_principals
        );
    }

    #[tokio::test]
    async fn trust_policy_null_without_principals() {
        let cases = [Value::Null, Value::List(Vec::new())];
        for principals in cases {
            let (state, diagnostics) =
                read(&config(&[("trusted_principal_arns", principals.clone())])).await;
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
            assert_eq!(state.get("assume_role_policy_json"), &Value::Null);
            assert_eq!(state.get("trusted_principal_arns"), &principals);
        }
    }

    #[tokio::test]
    async fn external_id_without_principals_warns() {
        let config = config(&[("external_id", Value::string("kore-automation"))]);
        let (state, diagnostics) = read(&config).await;
        assert_eq!(state.get("assume_role_policy_json"), &Value::Null);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");

        let diagnostics = AccountManagementPolicy::new()
            .validate(&Context::default(), &config)
            .await;
        assert_eq!(diagnostics.0.len(), 1);
        assert_eq!(diagnostics.0[0].severity, Severity::Warning);
        assert_eq!(
            diagnostics.0[0].attribute,
            Some(AttributePath::root("external_id"))
        );
    }

    #[tokio::test]
    async fn invalid_principal_names_index() {
        let principals = strings(&[
            "123456789012",
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::12345:root",
            "arn:aws:s3:::bucket",
        ]);
        let (state, diagnostics) = read(&config(&[("trusted_principal_arns", principals)])).await;
        assert_eq!(state, Value::Null);
        let paths: Vec<String> = diagnostics
            .0
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(
            paths,
            ["trusted_principal_arns[2]", "trusted_principal_arns[3]"]
        );
        assert_eq!(
            diagnostics.0[0].attribute.as_ref().unwrap().0,
            vec![
                PathStep::Attribute("trusted_principal_arns".to_string()),
                PathStep::ElementKeyInt(2),
            ]
        );
        assert!(diagnostics.0[0]
            .detail
            .contains("\"arn:aws:iam::12345:root\""));
        assert!(diagnostics.0[0].detail.contains("12 digits"));
        assert!(diagnostics.0[1].detail.contains("the service must be iam"));
    }

    #[test]
    fn principal_table() {
        let cases: Vec<(&str, Result<&str, &str>)> = vec![
            ("123456789012", Ok("arn:aws:iam::123456789012:root")),
            (
                "arn:aws:iam::123456789012:root",
                Ok("arn:aws:iam::123456789012:root"),
            ),
            (
                "arn:aws:iam::123456789012:role/automation",
                Ok("arn:aws:iam::123456789012:role/automation"),
            ),
            (
                "arn:aws:iam::123456789012:role/path/to/Name_1+=,.@-",
                Ok("arn:aws:iam::123456789012:role/path/to/Name_1+=,.@-"),
            ),
            (
                "arn:aws:iam::123456789012:user/ci",
                Ok("arn:aws:iam::123456789012:user/ci"),
            ),
            (
                "arn:aws-cn:iam::123456789012:root",
                Ok("arn:aws-cn:iam::123456789012:root"),
            ),
            (
                "arn:aws-iso-b:iam::123456789012:root",
                Ok("arn:aws-iso-b:iam::123456789012:root"),
            ),
            (
                "12345678901",
                Err("neither an ARN nor a 12-digit account ID"),
            ),
            ("root", Err("neither an ARN nor a 12-digit account ID")),
            ("arn:aws:iam::123456789012", Err("six parts")),
            ("arn:gcp:iam::123456789012:root", Err("partition")),
            ("arn:aws-:iam::123456789012:root", Err("partition")),
            ("arn:AWS:iam::123456789012:root", Err("partition")),
            (
                "arn:aws:sts::123456789012:assumed-role/x/y",
                Err("service must be iam"),
            ),
            (
                "arn:aws:iam:us-east-1:123456789012:root",
                Err("empty region"),
            ),
            ("arn:aws:iam::1234567890:root", Err("12 digits")),
            (
                "arn:aws:iam::123456789012:group/admins",
                Err("resource must be"),
            ),
            ("arn:aws:iam::123456789012:role/", Err("resource must be")),
            (
                "arn:aws:iam::123456789012:role/a//b",
                Err("resource must be"),
            ),
            (
                "arn:aws:iam::123456789012:role/bad name",
                Err("resource must be"),
            ),
            (
                "arn:aws:iam::123456789012:role/bad path/name",
                Err("resource must be"),
            ),
            (
                "arn:aws:iam::123456789012:role/name/",
                Err("resource must be"),
            ),
            (
                "arn:aws:iam::123456789012:user/path#1/name",
                Ok("arn:aws:iam::123456789012:user/path#1/name"),
            ),
            ("arn:aws:iam::123456789012:*", Err("resource must be")),
        ];
        for (value, expected) in cases {
            match (normalize_principal(value), expected) {
                (Ok(arn), Ok(expected_arn)) => assert_eq!(arn, expected_arn, "{value}"),
                (Err(error), Err(fragment)) => {
                    assert!(error.reason.contains(fragment), "{value}: {error}");
                    assert!(error.to_string().contains(&format!("{value:?}")));
                }
                (result, expected) => panic!("{value}: got {result:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn external_id_table() {
        let longest = "x".repeat(1224);
        let too_long = "x".repeat(1225);
        let cases: Vec<(&str, Result<(), ExternalIdError>)> = vec![
            ("ab", Ok(())),
            ("kore-automation_1+=,.@:/", Ok(())),
            (&longest, Ok(())),
            ("a", Err(ExternalIdError::Length { length: 1 })),
            ("", Err(ExternalIdError::Length { length: 0 })),
            (&too_long, Err(ExternalIdError::Length { length: 1225 })),
            (
                "kore automation",
                Err(ExternalIdError::Character {
                    character: ' ',
                    position: 5,
                }),
            ),
            (
                "kore#1",
                Err(ExternalIdError::Character {
                    character: '#',
                    position: 5,
                }),
            ),
        ];
        for (external_id, expected) in cases {
            assert_eq!(
                validate_external_id(external_id),
                expected,
                "{external_id:?}"
            );
        }
    }

    #[tokio::test]
    async fn invalid_external_id_is_attribute_error() {
        let (state, diagnostics) = read(&config(&[
            ("trusted_principal_arns", strings(&["123456789012"])),
            ("external_id", Value::string("x")),
        ]))
        .await;
        assert_eq!(state, Value::Null);
        assert_eq!(diagnostics.0.len(), 1);
        assert_eq!(diagnostics.0[0].severity, Severity::Error);
        assert_eq!(
            diagnostics.0[0].attribute,
            Some(AttributePath::root("external_id"))
        );
    }

    #[tokio::test]
    async fn validate_skips_unknown_values() {
        let source = AccountManagementPolicy::new();
        let cases = [
            config(&[("allow_account_closure", Value::Unknown)]),
            config(&[("trusted_principal_arns", Value::Unknown)]),
            config(&[(
                "trusted_principal_arns",
                Value::List(vec![Value::Unknown, Value::string("123456789012")]),
            )]),
            config(&[("external_id", Value::Unknown)]),
        ];
        for config in cases {
            let diagnostics = source.validate(&Context::default(), &config).await;
            assert!(diagnostics.is_empty(), "{config:?}: {diagnostics:?}");
        }

        let bad = config(&[(
            "trusted_principal_arns",
            Value::List(vec![Value::Unknown, Value::string("not-an-arn")]),
        )]);
        let diagnostics = source.validate(&Context::default(), &bad).await;
        assert_eq!(
            diagnostics.0[0].attribute,
            Some(AttributePath::root("trusted_principal_arns").index(1))
        );
    }

    #[tokio::test]
    async fn id_is_stable_and_depends_on_inputs() {
        let base = config(&[("trusted_principal_arns", strings(&["123456789012"]))]);
        let (first, _) = read(&base).await;
        let (again, _) = read(&base).await;
        assert_eq!(first.get("id"), again.get("id"));

        // An account ID and its root ARN are the same principal, so the ID is the same.
        let (same, _) = read(&config(&[(
            "trusted_principal_arns",
            strings(&["arn:aws:iam::123456789012:root"]),
        )]))
        .await;
        assert_eq!(first.get("id"), same.get("id"));

        let others = [
            config(&[]),
            config(&[("allow_account_closure", true.into())]),
            config(&[
                ("trusted_principal_arns", strings(&["123456789012"])),
                ("external_id", Value::string("kore")),
            ]),
        ];
        for other in others {
            let (state, _) = read(&other).await;
            assert_ne!(first.get("id"), state.get("id"), "{other:?}");
        }
    }

    #[tokio::test]
    async fn duplicate_principals_listed_once() {
        let (state, _) = read(&config(&[(
            "trusted_principal_arns",
            strings(&["123456789012", "arn:aws:iam::123456789012:root"]),
        )]))
        .await;
        let trust = json(state.get("assume_role_policy_json"));
        assert_eq!(
            trust["Statement"][0]["Principal"]["AWS"],
            serde_json::json!(["arn:aws:iam::123456789012:root"])
        );
    }

    #[test]
    fn every_attribute_has_description() {
        let schema = AccountManagementPolicy::new().schema();
        assert!(!schema.block.description.is_empty());
        assert_eq!(schema.block.attributes.len(), 7);
        for attribute in &schema.block.attributes {
            assert!(
                !attribute.description.is_empty(),
                "{} has no description",
                attribute.name
            );
        }
        assert_eq!(AccountManagementPolicy::new().type_name(), TYPE_NAME);
    }
}
