terraform {
  required_providers {
    kore = {
      source = "appvia/kore"
    }
  }
}

# Run in the Control Tower home region, as the automation role of the management
# account. The base credentials come from the usual AWS sources (environment,
# shared files, IAM Identity Center, instance or container roles).
provider "kore" {
  region = "eu-west-2"

  assume_role {
    role_arn = "arn:aws:iam::111111111111:role/KoreAccountFactory"
  }
}
