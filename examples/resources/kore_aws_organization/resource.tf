resource "kore_aws_organization" "acme" {
  name                 = "acme"
  master_account_id    = "111111111111"
  control_tower_region = "eu-west-2"

  # A name, a path such as "Workloads/Production", an OU ID or "Name (ou-id)".
  organizational_unit = "kore-managed"

  sso_user {
    email      = "cloud-team@example.com"
    first_name = "Cloud"
    last_name  = "Team"
  }
}
