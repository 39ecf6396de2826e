# Import an installation by its name (the kore:installation tag on the claimed OU).
terraform import kore_aws_organization.acme acme
