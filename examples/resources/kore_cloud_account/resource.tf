resource "kore_aws_organization" "acme" {
  name                 = "acme"
  master_account_id    = "111111111111"
  control_tower_region = "eu-west-2"
  organizational_unit  = "kore-managed"

  sso_user {
    email      = "cloud-team@example.com"
    first_name = "Cloud"
    last_name  = "Team"
  }
}

# Lands in the organization's OU with the email
# cloud-team+kore-payments-notprod@example.com.
resource "kore_cloud_account" "payments_notprod" {
  organization_id = kore_aws_organization.acme.id
  team            = "payments"
  name            = "kore-payments-notprod"
}

# Lands in another registered OU and is closed when it is destroyed.
resource "kore_cloud_account" "payments_prod" {
  organization_id     = kore_aws_organization.acme.id
  team                = "payments"
  name                = "kore-payments-prod"
  organizational_unit = "Workloads/Production"
  close_on_deletion   = true

  tags = {
    cost-centre = "cc-1234"
  }

  timeouts {
    create = "45m"
    delete = "2h"
  }
}
