//! AWS Account Management: renaming a member account in place.

use super::AwsError;

/// Sets the name of member account `account_id` (PutAccountName).
pub async fn put_account_name(
    client: &aws_sdk_account::Client,
    account_id: &str,
    name: &str,
) -> Result<(), AwsError> {
    client
        .put_account_name()
        .account_id(account_id)
        .account_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("account:PutAccountName", e))?;
    Ok(())
}
