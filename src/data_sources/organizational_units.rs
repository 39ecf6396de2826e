//! `kore_organizational_units`: every OU of the organization, whether Control Tower has
//! registered it, and which installation claimed it.

use std::sync::Arc;

use async_trait::async_trait;

use crate::inventory::TAG_INSTALLATION;
use crate::plugin::{Attribute, Block, Context, DataSource, Diagnostics, Schema, Type, Value};
use crate::provider::ProviderData;

pub struct OrganizationalUnits {
    data: Arc<ProviderData>,
}

impl OrganizationalUnits {
    pub fn new(data: Arc<ProviderData>) -> OrganizationalUnits {
        OrganizationalUnits { data }
    }
}

fn unit_type() -> Type {
    Type::Object(vec![
        ("id".to_string(), Type::String),
        ("name".to_string(), Type::String),
        ("path".to_string(), Type::String),
        ("parent_id".to_string(), Type::String),
        ("registered".to_string(), Type::Bool),
        ("claimed_by".to_string(), Type::String),
    ])
}

#[async_trait]
impl DataSource for OrganizationalUnits {
    fn type_name(&self) -> &'static str {
        "kore_organizational_units"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .description("Lists every organizational unit of the organization, whether AWS Control Tower has registered it (only registered OUs can receive Account Factory accounts), and which installation has claimed it.")
                .attribute(Attribute::string("id").computed().description("ID of the organization."))
                .attribute(Attribute::bool("registered_only").optional().description("List only OUs registered with Control Tower. Default: `false`."))
                .attribute(Attribute::new("organizational_units", Type::list(unit_type())).computed().description("The OUs, sorted by path. Each has `id`, `name`, `path` (slash path from the root, such as `Workloads/Production`), `parent_id`, `registered` and `claimed_by` (the installation name, or null).")),
        )
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
        let registered_only = config.get("registered_only").as_bool().unwrap_or(false);
        let units: Vec<Value> = zone
            .units
            .iter()
            .filter(|unit| unit.registered || !registered_only)
            .map(|unit| {
                let mut item = Value::Null;
                item.set("id", unit.id.clone().into());
                item.set("name", unit.name.clone().into());
                item.set("path", unit.path.clone().into());
                item.set("parent_id", unit.parent_id.clone().into());
                item.set("registered", unit.registered.into());
                let claimed_by = zone
                    .unit_tags
                    .get(&unit.id)
                    .and_then(|tags| tags.get(TAG_INSTALLATION))
                    .cloned();
                item.set("claimed_by", claimed_by.into());
                item
            })
            .collect();
        let mut state = config.clone();
        state.set("id", zone.organization.id.clone().into());
        state.set("organizational_units", Value::List(units));
        (state, Diagnostics::default())
    }
}
