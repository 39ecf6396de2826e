//! `provider::kore::email_alias(sso_email, account_name)`: the root email that
//! `kore_cloud_account` generates, with the same validation.

use async_trait::async_trait;

use crate::plugin::{Function, FunctionError, FunctionParameter, FunctionSignature, Type, Value};
use crate::rules::{email_alias, validate_account_name};

pub struct EmailAlias;

#[async_trait]
impl Function for EmailAlias {
    fn name(&self) -> &'static str {
        "email_alias"
    }

    fn signature(&self) -> FunctionSignature {
        FunctionSignature {
            parameters: vec![
                FunctionParameter {
                    name: "sso_email".to_string(),
                    ty: Type::String,
                    description: "Email of the organization's SSO user, for example `cloud-team@example.com`.".to_string(),
                    allow_null: false,
                },
                FunctionParameter {
                    name: "account_name".to_string(),
                    ty: Type::String,
                    description: "Account name, for example `kore-project-a-notprod`.".to_string(),
                    allow_null: false,
                },
            ],
            return_type: Type::String,
            summary: "Returns the root email that kore_cloud_account generates for an account.".to_string(),
            description: "Returns `<local>+<account_name>@<domain>` of `sso_email`, exactly as `kore_cloud_account` generates it when `email` is not set, and fails with the same errors: an invalid SSO email, an invalid account name, or an alias longer than 64 characters.".to_string(),
        }
    }

    async fn call(&self, arguments: Vec<Value>) -> Result<Value, FunctionError> {
        let argument = |index: usize| arguments.get(index).and_then(Value::as_str);
        let (Some(sso_email), Some(account_name)) = (argument(0), argument(1)) else {
            return Err(FunctionError {
                text: "email_alias takes two strings: the SSO email and the account name."
                    .to_string(),
                argument: None,
            });
        };
        if let Err(error) = validate_account_name(account_name) {
            return Err(FunctionError {
                text: error.to_string(),
                argument: Some(1),
            });
        }
        email_alias(sso_email, account_name)
            .map(Value::String)
            .map_err(|error| FunctionError {
                text: error.to_string(),
                argument: Some(
                    if matches!(error, crate::rules::EmailError::TooLong { .. }) {
                        1
                    } else {
                        0
                    },
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn email_alias_function_cases() {
        let cases: &[(&str, &str, Result<&str, i64>)] = &[
            (
                "cloud-team@example.com",
                "kore-project-a-notprod",
                Ok("cloud-team+kore-project-a-notprod@example.com"),
            ),
            (
                "Cloud.Team@Example.COM",
                "kore-alpha-notprod",
                Ok("Cloud.Team+kore-alpha-notprod@Example.COM"),
            ),
            ("not-an-email", "kore-a", Err(0)),
            ("cloud-team@example.com", "bad name", Err(1)),
            (
                "cloud-team@example.com",
                "kore-a-very-long-team-name-for-the-platform-engineering-group-notprod",
                Err(1),
            ),
        ];
        for (email, name, expected) in cases {
            let result = EmailAlias
                .call(vec![Value::from(*email), Value::from(*name)])
                .await;
            match (result, expected) {
                (Ok(value), Ok(alias)) => {
                    assert_eq!(value.as_str(), Some(*alias), "{email} {name}")
                }
                (Err(error), Err(index)) => assert_eq!(
                    error.argument,
                    Some(*index),
                    "{email} {name}: {}",
                    error.text
                ),
                (result, expected) => {
                    panic!("{email} {name}: got {result:?}, expected {expected:?}")
                }
            }
        }
    }
}
