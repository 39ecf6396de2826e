//! STS: who the provider's credentials belong to.

use super::AwsError;

/// The identity behind the provider's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
}

/// Calls GetCallerIdentity.
pub async fn caller_identity(client: &aws_sdk_sts::Client) -> Result<CallerIdentity, AwsError> {
    let output = client
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", e))?;
    Ok(CallerIdentity {
        account_id: output.account().unwrap_or_default().to_string(),
        arn: output.arn().unwrap_or_default().to_string(),
    })
}
