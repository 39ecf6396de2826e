# Every account that the installation "acme" manages.
data "kore_cloud_accounts" "all" {
  organization_id = "acme"
}

# Only the payments team's accounts that are still active.
data "kore_cloud_accounts" "payments_active" {
  organization_id = "acme"
  team            = "payments"
  state           = "ACTIVE"
}

output "accounts_by_name" {
  value = {
    for account in data.kore_cloud_accounts.all.accounts :
    account.name => account.account_id
  }
}

output "payments_active_account_ids" {
  value = data.kore_cloud_accounts.payments_active.accounts[*].account_id
}
