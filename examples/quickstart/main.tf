# One installation with two teams, each with a notprod and a prod account,
# provisioned through the local Account Factory emulator. Credentials can be any
# dummy values, for example AWS_ACCESS_KEY_ID=test and AWS_SECRET_ACCESS_KEY=test.
provider "kore" {
  region = "eu-west-2"

  endpoints {
    servicecatalog = var.emulator_endpoint
    organizations  = var.emulator_endpoint
    sts            = var.emulator_endpoint
    account        = var.emulator_endpoint
  }
}

# Claims the registered OU "kore-managed" of the emulator's management account.
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

module "payments" {
  source = "../modules/team-accounts"

  organization_id = kore_aws_organization.acme.id
  team            = "payments"
  environments    = ["notprod", "prod"]
  prefix          = "kore"

  # Destroy closes these accounts after unmanaging them; the search team's stay open.
  close_on_deletion = true
}

module "search" {
  source = "../modules/team-accounts"

  organization_id = kore_aws_organization.acme.id
  team            = "search"
  environments    = ["notprod", "prod"]
  prefix          = "kore"
}

# Read after both modules are applied, so it lists the four new accounts.
data "kore_cloud_accounts" "acme" {
  organization_id = kore_aws_organization.acme.id

  depends_on = [module.payments, module.search]
}
