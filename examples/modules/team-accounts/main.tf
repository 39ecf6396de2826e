# One account per environment, named <prefix>-<team>-<environment>, for example
# kore-payments-notprod. Each account's email is the alias of the organization's
# SSO user email, such as cloud-team+kore-payments-notprod@example.com.
resource "kore_cloud_account" "environment" {
  for_each = toset(var.environments)

  organization_id   = var.organization_id
  team              = var.team
  name              = "${var.prefix}-${var.team}-${each.key}"
  close_on_deletion = var.close_on_deletion
  tags              = var.tags
}
