# Import by account ID. The organization and team come from the account's
# kore:installation and kore:team tags, which this provider sets.
terraform import kore_cloud_account.payments_prod 123456789012

# Import as organization_id/team/account_id, for an Account Factory account
# that carries no such tags, for example one provisioned in the console.
terraform import kore_cloud_account.payments_prod acme/payments/123456789012
