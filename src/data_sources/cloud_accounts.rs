//! `kore_cloud_accounts`: every account an installation manages, from paged listings only
//! (Account Factory products with their tags, accounts and their parents), so a large
//! organization costs no call per account.

use std::sync::Arc;

use async_trait::async_trait;

use crate::inventory::{TAG_INSTALLATION, TAG_TEAM};
use crate::plugin::{
    Attribute, AttributePath, Block, Context, DataSource, Diagnostics, Schema, Type, Value,
};
use crate::provider::ProviderData;

pub struct CloudAccounts {
    data: Arc<ProviderData>,
}

impl CloudAccounts {
    pub fn new(data: Arc<ProviderData>) -> CloudAccounts {
        CloudAccounts { data }
    }
}

fn account_type() -> Type {
    Type::Object(
        [
            "account_id",
            "name",
            "team",
            "email",
            "state",
            "organizational_unit_id",
            "organizational_unit_path",
            "provisioned_product_id",
            "provisioned_product_status",
            "created_time",
        ]
        .iter()
        .map(|name| (name.to_string(), Type::String))
        .collect(),
    )
}

#[async_trait]
impl DataSource for CloudAccounts {
    fn type_name(&self) -> &'static str {
        "kore_cloud_accounts"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .description("Lists the accounts that an installation (`kore_aws_organization`) manages through Account Factory, to find unused ones. The team is the one recorded when the account was provisioned.")
                .attribute(Attribute::string("id").computed().description("The installation name."))
                .attribute(Attribute::string("organization_id").required().description("`id` of the `kore_aws_organization`."))
                .attribute(Attribute::string("team").optional().description("List only this team's accounts."))
                .attribute(Attribute::string("state").optional().description("List only accounts in this Organizations state, such as `ACTIVE` or `SUSPENDED`."))
                .attribute(Attribute::new("accounts", Type::list(account_type())).computed().description("The accounts, sorted by name. Each has `account_id`, `name`, `team`, `email`, `state`, `organizational_unit_id`, `organizational_unit_path`, `provisioned_product_id`, `provisioned_product_status` and `created_time` (RFC 3339).")),
        )
    }

    async fn validate(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::default();
        if let Some(state) = config.get("state").as_str() {
            const STATES: [&str; 5] = [
                "ACTIVE",
                "PENDING_ACTIVATION",
                "PENDING_CLOSURE",
                "SUSPENDED",
                "CLOSED",
            ];
            if !STATES.contains(&state) {
                diagnostics.attribute_error(
                    AttributePath::root("state"),
                    "Invalid account state",
                    format!("state is {state:?}; use one of {}.", STATES.join(", ")),
                );
            }
        }
        diagnostics
    }

    async fn read(&self, _ctx: &Context, config: &Value) -> (Value, Diagnostics) {
        let connection = match self.data.connection().await {
            Ok(connection) => connection,
            Err(errors) => return (Value::Null, errors),
        };
        let zone = match connection.inventory.landing_zone().await {
            Ok(zone) => zone,
            Err(error) => {
                return (
                    Value::Null,
                    crate::resources::support::diagnostic_from_inventory(&error),
                )
            }
        };
        let organization_id = config.get("organization_id").as_str().unwrap_or_default();
        let team_filter = config.get("team").as_str();
        let state_filter = config.get("state").as_str();

        let mut rows: Vec<(String, Value)> = Vec::new();
        for product in &zone.products {
            if product.tags.get(TAG_INSTALLATION).map(String::as_str) != Some(organization_id) {
                continue;
            }
            let Some(account_id) = product.physical_id.as_deref() else {
                continue;
            };
            let Some(account) = zone.account(account_id) else {
                continue;
            };
            let team = product.tags.get(TAG_TEAM).cloned().unwrap_or_default();
            if team_filter.is_some_and(|t| t != team)
                || state_filter.is_some_and(|s| s != account.state)
            {
                continue;
            }
            let parent = zone.parents.get(account_id).cloned().unwrap_or_default();
            let mut row = Value::Null;
            row.set("account_id", account.id.clone().into());
            row.set("name", account.name.clone().into());
            row.set("team", team.into());
            row.set("email", account.email.clone().into());
            row.set("state", account.state.clone().into());
            row.set("organizational_unit_id", parent.clone().into());
            row.set("organizational_unit_path", zone.parent_path(&parent).into());
            row.set("provisioned_product_id", product.id.clone().into());
            row.set(
                "provisioned_product_status",
                product.status.as_str().to_string().into(),
            );
            row.set(
                "created_time",
                product.created.clone().or(account.joined.clone()).into(),
            );
            rows.push((account.name.clone(), row));
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let mut state = config.clone();
        state.set("id", organization_id.to_string().into());
        state.set(
            "accounts",
            Value::List(rows.into_iter().map(|(_, row)| row).collect()),
        );
        (state, Diagnostics::default())
    }
}
