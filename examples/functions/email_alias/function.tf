# Requires Terraform 1.8 or later.
terraform {
  required_providers {
    kore = {
      source = "appvia/kore"
    }
  }
}

locals {
  sso_email = "cloud-team@example.com"
}

# "cloud-team+kore-payments-prod@example.com"
output "payments_prod_email" {
  value = provider::kore::email_alias(local.sso_email, "kore-payments-prod")
}
