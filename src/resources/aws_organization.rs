//! `kore_aws_organization`: one installation's claim on a Control Tower-registered OU, and
//! the SSO user that owns the accounts it creates.
//!
//! The claim lives in AWS as tags on the OU (`kore:installation` and the SSO user's details),
//! so accounts, data sources and other installations can see it without Terraform state.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;

use crate::aws::{organizations, sts};
use crate::inventory::{
    LandingZone, TAG_INSTALLATION, TAG_SSO_EMAIL, TAG_SSO_FIRST_NAME, TAG_SSO_LAST_NAME,
};
use crate::plugin::plan::mark_computed_unknown;
use crate::plugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Context, Diagnostics,
    ImportResponse, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};
use crate::provider::{Connection, PlannedOrganization, ProviderData};
use crate::resources::support::{check_string, connect, diagnostic_from_inventory, resolve_unit};
use crate::rules::{validate_account_id, validate_email, validate_installation_name, OuNode};

pub struct AwsOrganization {
    data: Arc<ProviderData>,
}

impl AwsOrganization {
    pub fn new(data: Arc<ProviderData>) -> AwsOrganization {
        AwsOrganization { data }
    }
}

fn schema() -> Schema {
    let sso_user = Block::new()
        .description("The AWS IAM Identity Center (SSO) user that owns every account of this installation. Use a group mailbox of the team that closes accounts. Account Factory creates the user on the first request if it does not exist; the names are used only then. Changes apply in place to accounts created afterwards.")
        .attribute(Attribute::string("email").required().description("Email of the SSO user; account emails are generated from it as `<local>+<account name>@<domain>`."))
        .attribute(Attribute::string("first_name").required().description("First name of the SSO user."))
        .attribute(Attribute::string("last_name").required().description("Last name of the SSO user."));
    let block = Block::new()
        .description("Claims one AWS Control Tower-registered organizational unit for one installation of the provider and records the SSO user that owns its accounts. Accounts are created by `kore_cloud_account`.")
        .attribute(Attribute::string("id").computed().description("The installation name."))
        .attribute(Attribute::string("name").required().description("Installation name: lowercase letters, digits and hyphens, starting with a letter, at most 32 characters. Changing it replaces the resource."))
        .attribute(Attribute::string("master_account_id").required().description("12-digit ID of the organization's management account, where Control Tower runs. The provider's credentials must belong to it. Changing it replaces the resource."))
        .attribute(Attribute::string("control_tower_region").required().description("Home region of the Control Tower landing zone; must equal the provider's region. Changing it replaces the resource."))
        .attribute(Attribute::string("organizational_unit").required().description("The OU this installation manages: a name (`kore-managed`), a slash path from the root (`Workloads/Production`), an ID (`ou-ab12-cd34ef56`) or Account Factory's `Name (ou-id)` form. It must resolve to exactly one OU registered with Control Tower. Changing it to another OU replaces the resource."))
        .attribute(Attribute::string("organizational_unit_id").computed().description("ID of the claimed OU."))
        .attribute(Attribute::string("organizational_unit_path").computed().description("Slash path of the claimed OU from the root."))
        .attribute(Attribute::string("account_factory_product_id").computed().description("ID of the Account Factory product in Service Catalog."))
        .attribute(Attribute::string("provisioning_artifact_id").computed().description("ID of the Account Factory provisioning artifact in use."))
        .attribute(Attribute::string("launch_path_id").computed().description("ID of the Account Factory launch path in use."))
        .required_block("sso_user", sso_user);
    Schema::new(0, block)
}

/// Checks the arguments that need no AWS call.
fn validate_static(config: &Value) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    check_string(
        config,
        "name",
        "Invalid installation name",
        validate_installation_name,
        &mut diagnostics,
    );
    check_string(
        config,
        "master_account_id",
        "Invalid management account ID",
        validate_account_id,
        &mut diagnostics,
    );
    let sso_user = config.get("sso_user");
    if let Some(email) = sso_user.get("email").as_str() {
        if let Err(error) = validate_email(email) {
            diagnostics.attribute_error(
                AttributePath::root("sso_user").attribute("email"),
                "Invalid SSO user email",
                error.to_string(),
            );
        }
    }
    for field in ["first_name", "last_name"] {
        if sso_user
            .get(field)
            .as_str()
            .is_some_and(|v| v.trim().is_empty())
        {
            diagnostics.attribute_error(
                AttributePath::root("sso_user").attribute(field),
                "Empty SSO user name",
                format!("sso_user.{field} is empty; Account Factory requires a first and a last name even when the SSO user already exists."),
            );
        }
    }
    diagnostics
}

/// Runs the live checks of a plan: credentials, region, OU, registration, product and
/// claim. Returns the resolved OU when all pass.
async fn check_live(
    connection: &Connection,
    config: &Value,
    zone: &LandingZone,
    creating: bool,
    replaced: &HashSet<String>,
    diagnostics: &mut Diagnostics,
) -> Option<OuNode> {
    let name = config.get("name").as_str().unwrap_or_default();

    if let Some(master) = config.get("master_account_id").as_str() {
        match sts::caller_identity(&connection.clients.sts).await {
            Ok(identity) if identity.account_id != master => diagnostics.attribute_error(
                AttributePath::root("master_account_id"),
                "Credentials belong to another account",
                format!("master_account_id is {master}, but the provider's credentials ({}) belong to account {}. Run Terraform with credentials of the management account, for example through the provider's assume_role block.", identity.arn, identity.account_id),
            ),
            Ok(_) => {}
            Err(error) => diagnostics.error(
                "Cannot verify the provider's credentials",
                format!("{error}. Check the AWS credentials that Terraform uses."),
            ),
        }
        if zone.organization.master_account_id != master {
            diagnostics.attribute_error(
                AttributePath::root("master_account_id"),
                "Not the organization's management account",
                format!("master_account_id is {master}, but the management account of organization {} is {}; set master_account_id = \"{}\" if that is the organization you mean.", zone.organization.id, zone.organization.master_account_id, zone.organization.master_account_id),
            );
        }
    }

    if let Some(region) = config.get("control_tower_region").as_str() {
        if region != connection.region {
            diagnostics.attribute_error(
                AttributePath::root("control_tower_region"),
                "Region mismatch",
                format!("control_tower_region is {region}, but the provider is configured for {}. Account Factory lives in the Control Tower home region: set the provider's region to {region}, or correct control_tower_region.", connection.region),
            );
        }
    }

    let reference = config.get("organizational_unit").as_str()?;
    let unit = resolve_unit(
        zone,
        reference,
        AttributePath::root("organizational_unit"),
        diagnostics,
    )?;

    let claimed_by = zone
        .unit_tags
        .get(&unit.id)
        .and_then(|tags| tags.get(TAG_INSTALLATION));
    // A claim held by an installation this run replaces is released before the replacement
    // is created, because Terraform destroys first.
    if let Some(owner) = claimed_by.filter(|owner| !replaced.contains(*owner)) {
        if owner != name {
            diagnostics.attribute_error(
                AttributePath::root("organizational_unit"),
                "Organizational unit already claimed",
                format!("The OU {} ({}) is already claimed by installation {owner:?}. Each installation needs its own registered OU; choose another, or remove installation {owner:?} first.", unit.path, unit.id),
            );
            return None;
        }
    }
    if let Some(existing) = zone.installation(name).filter(|_| !replaced.contains(name)) {
        if creating && existing.unit_id == unit.id {
            diagnostics.attribute_error(
                AttributePath::root("name"),
                "Installation already exists",
                format!("Installation {name:?} already claims the OU {} ({}), possibly from another Terraform state. Import it with `terraform import <address> {name}` instead of creating it again, or choose another name.", unit.path, unit.id),
            );
            return None;
        }
        if existing.unit_id != unit.id {
            diagnostics.attribute_error(
                AttributePath::root("name"),
                "Installation name already in use",
                format!("An installation named {name:?} already claims the OU {} ({}), possibly from another Terraform state. Choose another name, or import that installation with `terraform import <address> {name}`.", zone.parent_path(&existing.unit_id), existing.unit_id),
            );
            return None;
        }
    }
    Some(unit)
}

/// The computed attributes, all fixed while the name and the OU stay the same.
const COMPUTED: [&str; 6] = [
    "id",
    "organizational_unit_id",
    "organizational_unit_path",
    "account_factory_product_id",
    "provisioning_artifact_id",
    "launch_path_id",
];

/// Fills the computed attributes that come from the landing zone.
fn fill_computed(state: &mut Value, zone: &LandingZone, unit: &OuNode) {
    state.set("id", state.get("name").clone());
    state.set("organizational_unit_id", unit.id.clone().into());
    state.set("organizational_unit_path", unit.path.clone().into());
    state.set(
        "account_factory_product_id",
        zone.product.product_id.clone().into(),
    );
    state.set(
        "provisioning_artifact_id",
        zone.product.provisioning_artifact_id.clone().into(),
    );
    state.set("launch_path_id", zone.product.launch_path_id.clone().into());
}

fn claim_tags(state: &Value) -> BTreeMap<String, String> {
    let sso_user = state.get("sso_user");
    let mut tags = BTreeMap::new();
    let mut put = |key: &str, value: &Value| {
        tags.insert(
            key.to_string(),
            value.as_str().unwrap_or_default().to_string(),
        );
    };
    put(TAG_INSTALLATION, state.get("name"));
    put(TAG_SSO_EMAIL, sso_user.get("email"));
    put(TAG_SSO_FIRST_NAME, sso_user.get("first_name"));
    put(TAG_SSO_LAST_NAME, sso_user.get("last_name"));
    tags
}

#[async_trait]
impl Resource for AwsOrganization {
    fn type_name(&self) -> &'static str {
        "kore_aws_organization"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        validate_static(config)
    }

    async fn plan(&self, _ctx: &Context, request: PlanRequest) -> PlanResponse {
        let mut response = PlanResponse {
            planned_private: request.prior_private.clone(),
            ..Default::default()
        };
        if request.proposed_new_state.is_null() {
            return response;
        }
        let config = &request.config;
        let mut planned = request.proposed_new_state.clone();
        response.diagnostics = validate_static(config);
        if response.diagnostics.has_errors() {
            return response;
        }
        let prior = &request.prior_state;
        for attribute in ["name", "master_account_id", "control_tower_region"] {
            if !prior.is_null() && prior.get(attribute) != planned.get(attribute) {
                response
                    .requires_replace
                    .push(AttributePath::root(attribute));
            }
        }

        if !config.is_wholly_known() {
            if !prior.is_null() && config.get("organizational_unit").is_unknown() {
                response.diagnostics.attribute_error(
                    AttributePath::root("organizational_unit"),
                    "Organizational unit unknown until apply",
                    "organizational_unit of an existing installation must be known at plan time, because a different OU replaces the installation and the plan has to say so. Use a value known at plan time, for example a literal or a variable.",
                );
                return response;
            }
            let same_claim = !prior.is_null()
                && ["name", "organizational_unit"]
                    .iter()
                    .all(|a| config.get(a).as_str().is_some() && prior.get(a) == config.get(a));
            if same_claim {
                // Only the SSO user can change in place; the claim and its IDs stay.
                for attribute in COMPUTED {
                    planned.set(attribute, prior.get(attribute).clone());
                }
            } else {
                mark_computed_unknown(&schema().block, config, &mut planned);
                // The ID is the installation name, known whenever the name is.
                if let Some(name) = config.get("name").as_str() {
                    planned.set("id", name.into());
                }
            }
            if let Some(name) = config.get("name").as_str() {
                self.data.planned_organizations.lock().await.insert(
                    name.to_string(),
                    PlannedOrganization {
                        sso_email: config
                            .get("sso_user")
                            .get("email")
                            .as_str()
                            .map(str::to_string),
                        organizational_unit_id: planned
                            .get("organizational_unit_id")
                            .as_str()
                            .map(str::to_string),
                    },
                );
            }
            response.planned_state = planned;
            return response;
        }

        let (connection, zone) = match connect(&self.data).await {
            Ok(found) => found,
            Err(errors) => {
                response.diagnostics.extend(errors);
                return response;
            }
        };
        // Resolve the OU first: a move to another OU is a replacement, which the checks of
        // the replacement's create must allow.
        if !prior.is_null() {
            let mut ignored = Diagnostics::default();
            if let Some(reference) = config.get("organizational_unit").as_str() {
                let resolved = resolve_unit(
                    &zone,
                    reference,
                    AttributePath::root("organizational_unit"),
                    &mut ignored,
                );
                if resolved.is_some_and(|u| {
                    prior.get("organizational_unit_id").as_str() != Some(u.id.as_str())
                }) {
                    response
                        .requires_replace
                        .push(AttributePath::root("organizational_unit"));
                }
            }
            if !response.requires_replace.is_empty() {
                let prior_name = prior.get("name").as_str().unwrap_or_default();
                let managed = zone.managed_accounts(prior_name);
                if !managed.is_empty() {
                    response.diagnostics.error(
                        format!("Installation {prior_name:?} cannot be replaced while it manages accounts"),
                        format!("This change replaces the installation (a new name, OU, management account or region), and an installation is not deleted while Account Factory manages its accounts: {}. To move accounts to another OU, set organizational_unit on the kore_cloud_account resources instead; to replace the installation, destroy its accounts first.", managed.join(", ")),
                    );
                    return response;
                }
                if !prior_name.is_empty() {
                    self.data
                        .replaced_organizations
                        .lock()
                        .await
                        .insert(prior_name.to_string());
                }
            }
        }
        let replaced = self.data.replaced_organizations.lock().await.clone();
        let Some(unit) = check_live(
            &connection,
            config,
            &zone,
            prior.is_null(),
            &replaced,
            &mut response.diagnostics,
        )
        .await
        else {
            return response;
        };
        if response.diagnostics.has_errors() {
            return response;
        }
        fill_computed(&mut planned, &zone, &unit);
        self.data.planned_organizations.lock().await.insert(
            config.get("name").as_str().unwrap_or_default().to_string(),
            PlannedOrganization {
                sso_email: config
                    .get("sso_user")
                    .get("email")
                    .as_str()
                    .map(str::to_string),
                organizational_unit_id: Some(unit.id.clone()),
            },
        );
        response.planned_state = planned;
        response
    }

    async fn apply(&self, _ctx: &Context, request: ApplyRequest) -> ApplyResponse {
        let mut response = ApplyResponse::default();
        let connection = match self.data.connection().await {
            Ok(connection) => connection,
            Err(errors) => {
                response.diagnostics = errors;
                response.new_state = request.prior_state;
                return response;
            }
        };
        connection.inventory.invalidate().await;
        let zone = match connection.inventory.landing_zone().await {
            Ok(zone) => zone,
            Err(error) => {
                response
                    .diagnostics
                    .extend(diagnostic_from_inventory(&error));
                response.new_state = request.prior_state;
                return response;
            }
        };

        if request.planned_state.is_null() {
            return self.delete(&connection, &zone, request.prior_state).await;
        }

        let mut state = request.planned_state.clone();
        let Some(unit) = check_live(
            &connection,
            &request.config,
            &zone,
            request.prior_state.is_null(),
            &HashSet::new(),
            &mut response.diagnostics,
        )
        .await
        else {
            response.new_state = request.prior_state;
            return response;
        };
        if response.diagnostics.has_errors() {
            response.new_state = request.prior_state;
            return response;
        }
        fill_computed(&mut state, &zone, &unit);
        let tags = claim_tags(&state);
        if let Err(error) =
            organizations::tag_resource(&connection.clients.organizations, &unit.id, &tags).await
        {
            response.diagnostics.error(
                format!("Claiming organizational unit {} failed", unit.id),
                error.to_string(),
            );
            response.new_state = request.prior_state;
            return response;
        }
        tracing::info!(installation = %state.get("name").as_str().unwrap_or_default(), organizational_unit_id = %unit.id, "claimed the organizational unit");
        connection.inventory.invalidate().await;
        response.new_state = state;
        response
    }

    async fn read(&self, _ctx: &Context, request: ReadRequest) -> ReadResponse {
        let mut response = ReadResponse {
            new_state: request.current_state.clone(),
            private: request.private,
            ..Default::default()
        };
        let (_, zone) = match connect(&self.data).await {
            Ok(found) => found,
            Err(errors) => {
                response.diagnostics.extend(errors);
                return response;
            }
        };
        let state = &request.current_state;
        let name = state.get("name").as_str().unwrap_or_default();
        let unit_id = state
            .get("organizational_unit_id")
            .as_str()
            .unwrap_or_default();

        let Some(unit) = zone.unit(unit_id) else {
            response.diagnostics.warning(
                format!("Organizational unit of installation {name:?} no longer exists"),
                format!("The OU {unit_id} was deleted outside Terraform, so the installation is removed from the state. The next plan claims the configured OU again."),
            );
            response.new_state = Value::Null;
            return response;
        };
        let tags = zone.unit_tags.get(unit_id).cloned().unwrap_or_default();
        match tags.get(TAG_INSTALLATION) {
            Some(owner) if owner == name => {}
            Some(owner) => {
                response.diagnostics.warning(
                    format!("Claim of installation {name:?} was taken"),
                    format!("The OU {} ({unit_id}) is now claimed by installation {owner:?}, so {name:?} is removed from the state. Planning it again fails until the claim is resolved.", unit.path),
                );
                response.new_state = Value::Null;
                return response;
            }
            None => {
                response.diagnostics.warning(
                    format!("Claim of installation {name:?} was removed"),
                    format!("The claim tags on OU {} ({unit_id}) were removed outside Terraform, so the installation is removed from the state; the next apply claims the OU again.", unit.path),
                );
                response.new_state = Value::Null;
                return response;
            }
        }

        let mut new_state = state.clone();
        let mut sso_user = state.get("sso_user").clone();
        for (field, key) in [
            ("email", TAG_SSO_EMAIL),
            ("first_name", TAG_SSO_FIRST_NAME),
            ("last_name", TAG_SSO_LAST_NAME),
        ] {
            if let Some(value) = tags.get(key) {
                sso_user.set(field, value.clone().into());
            }
        }
        new_state.set("sso_user", sso_user);
        fill_computed(&mut new_state, &zone, unit);
        response.new_state = new_state;
        response
    }

    async fn import(&self, _ctx: &Context, id: &str) -> ImportResponse {
        let mut response = ImportResponse::default();
        let (connection, zone) = match connect(&self.data).await {
            Ok(found) => found,
            Err(errors) => {
                response.diagnostics.extend(errors);
                return response;
            }
        };
        let Some(installation) = zone.installation(id) else {
            let known: Vec<String> = zone.installations().into_iter().map(|i| i.name).collect();
            response.diagnostics.error(
                format!("Installation {id:?} not found"),
                format!("No OU carries the claim tag {TAG_INSTALLATION}={id}. Import by installation name; installations found: {}.", if known.is_empty() { "none".to_string() } else { known.join(", ") }),
            );
            return response;
        };
        let Some(unit) = zone.unit(&installation.unit_id) else {
            response.diagnostics.error(
                "Claimed OU not found",
                format!(
                    "Installation {id:?} claims OU {}, which does not exist.",
                    installation.unit_id
                ),
            );
            return response;
        };
        let mut state = Value::Null;
        state.set("name", id.into());
        state.set(
            "master_account_id",
            zone.organization.master_account_id.clone().into(),
        );
        state.set("control_tower_region", connection.region.clone().into());
        state.set("organizational_unit", unit.path.clone().into());
        let mut sso_user = Value::Null;
        sso_user.set("email", installation.sso_email.clone().into());
        sso_user.set("first_name", installation.sso_first_name.clone().into());
        sso_user.set("last_name", installation.sso_last_name.clone().into());
        state.set("sso_user", sso_user);
        fill_computed(&mut state, &zone, unit);
        response.state = state;
        response
    }
}

impl AwsOrganization {
    /// Releases the claim, refusing while accounts of this installation are still managed.
    async fn delete(
        &self,
        connection: &Connection,
        zone: &LandingZone,
        prior: Value,
    ) -> ApplyResponse {
        let mut response = ApplyResponse::default();
        let name = prior.get("name").as_str().unwrap_or_default().to_string();
        let unit_id = prior
            .get("organizational_unit_id")
            .as_str()
            .unwrap_or_default()
            .to_string();

        let remaining = zone.managed_accounts(&name);
        if !remaining.is_empty() {
            response.diagnostics.error(
                format!("Installation {name:?} still manages accounts"),
                format!("Deleting kore_aws_organization {name:?} is refused while Account Factory still manages its accounts: {}. Destroy those kore_cloud_account resources first (terraform destroy removes them before the organization when they reference it).", remaining.join(", ")),
            );
            response.new_state = prior;
            return response;
        }

        if zone.unit(&unit_id).is_some() {
            let keys: Vec<String> = claim_tags(&prior).into_keys().collect();
            if let Err(error) =
                organizations::untag_resource(&connection.clients.organizations, &unit_id, &keys)
                    .await
            {
                response.diagnostics.error(
                    format!("Releasing the claim on {unit_id} failed"),
                    error.to_string(),
                );
                response.new_state = prior;
                return response;
            }
        }
        tracing::info!(installation = %name, organizational_unit_id = %unit_id, "released the organizational unit");
        connection.inventory.invalidate().await;
        response
    }
}
