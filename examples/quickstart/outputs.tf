output "team_accounts" {
  description = "Every account the quickstart created, by team and environment."
  value = {
    payments = module.payments.accounts
    search   = module.search.accounts
  }
}

output "accounts" {
  description = "Every account that the installation manages, as kore_cloud_accounts lists them after apply."
  value       = data.kore_cloud_accounts.acme.accounts
}
