output "accounts" {
  description = "The accounts by environment. admin_role_arn is the Control Tower execution role, for the assume_role block of an aliased aws provider."
  value = {
    for environment, account in kore_cloud_account.environment : environment => {
      account_id     = account.account_id
      name           = account.name
      email          = account.email
      admin_role_arn = account.admin_role_arn
    }
  }
}
