# Policies for the automation role in the management account. Pass policy_json
# to an aws_iam_role_policy and assume_role_policy_json to the role's
# assume_role_policy.
data "kore_account_management_policy" "automation" {
  # Needed for kore_cloud_account's close_on_deletion = true.
  allow_account_closure = true

  # Who may assume the role: an account ID or IAM role and user ARNs.
  trusted_principal_arns = [
    "arn:aws:iam::111111111111:role/terraform-ci",
  ]
  external_id = "kore-automation"
}

output "automation_policy_json" {
  value = data.kore_account_management_policy.automation.policy_json
}

output "automation_trust_policy_json" {
  value = data.kore_account_management_policy.automation.assume_role_policy_json
}
