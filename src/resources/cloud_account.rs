//! `kore_cloud_account`: one AWS account for a team, provisioned through Account Factory.
//!
//! The file reads as the account's lifecycle: schema, validation, plan, create, update,
//! delete, read and import. AWS calls go through `crate::aws`; the landing-zone snapshot
//! comes from `crate::inventory`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rand::Rng;
use tracing::Instrument;

use crate::aws::account_factory::{
    self, AccountParameters, ProductStatus, ProvisionedProduct, RecordStatus,
};
use crate::aws::limiter::LimiterError;
use crate::aws::organizations::{self, CloseOutcome};
use crate::aws::waiter::{wait_for_record, WaitError};
use crate::aws::AwsError;
use crate::inventory::{LandingZone, RESERVED_TAG_PREFIX, TAG_INSTALLATION, TAG_TEAM};
use crate::plugin::plan::mark_computed_unknown;
use crate::plugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Context, Diagnostics,
    ImportResponse, Nesting, PlanRequest, PlanResponse, PrivateState, ReadRequest, ReadResponse,
    Resource, Schema, Type, Value,
};
use crate::provider::{Connection, ProviderData};
use crate::resources::support::{check_string, connect, diagnostic_from_inventory, resolve_unit};
use crate::rules::duration::parse_duration;
use crate::rules::{
    email_alias, emails_equal, provision_token, provisioned_product_name, validate_account_id,
    validate_account_name, validate_email, validate_team, EmailError, OuNode,
};

/// Default of each `timeouts` entry; real Account Factory takes up to about 30 minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How long a plan waits for sibling accounts to register before comparing emails and names.
const PLAN_SETTLE: Duration = Duration::from_millis(300);
/// First back-off after Control Tower reported it was busy; doubles up to the maximum.
const BUSY_BACKOFF_INITIAL: Duration = Duration::from_secs(2);
const BUSY_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Private-state key set once termination succeeded, so a retried destroy only closes.
const PRIVATE_TERMINATED: &str = "terminated";
/// Role that Control Tower creates in every enrolled account.
const EXECUTION_ROLE: &str = "AWSControlTowerExecution";

/// One account planned in this process, to catch two resources that would collide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedAccount {
    pub organization_id: String,
    pub team: String,
    pub name: String,
    pub email: String,
    pub planned_at: Instant,
}

pub struct CloudAccount {
    data: Arc<ProviderData>,
}

impl CloudAccount {
    pub fn new(data: Arc<ProviderData>) -> CloudAccount {
        CloudAccount { data }
    }
}

// ---------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------

fn schema() -> Schema {
    let timeouts = Block::new()
        .description("How long each operation may take, as durations such as `30m` or `1h30m`. A create that times out leaves nothing in the state; the next apply resumes waiting for the same provisioning.")
        .attribute(Attribute::string("create").optional().description("Default: `60m`."))
        .attribute(Attribute::string("update").optional().description("Default: `60m`."))
        .attribute(Attribute::string("delete").optional().description("Default: `60m`."));
    let block = Block::new()
        .description("One AWS account for a team, provisioned through AWS Control Tower Account Factory in the OU of a `kore_aws_organization`.")
        .attribute(Attribute::string("id").computed().description("The account ID."))
        .attribute(Attribute::string("account_id").computed().description("12-digit ID of the account."))
        .attribute(Attribute::string("organization_id").required().description("`id` of the `kore_aws_organization` (installation) that owns the account. Changing it replaces the account."))
        .attribute(Attribute::string("team").required().description("Team that owns the account: a lowercase DNS label. Recorded as the `kore:team` tag; changes apply in place."))
        .attribute(Attribute::string("name").required().description("Account name, 1 to 128 characters of letters, digits, `.`, `_` and `-`, starting with a letter or digit; for example `kore-project-a-notprod`. A rename applies in place."))
        .attribute(Attribute::string("organizational_unit").optional().description("OU for the account, in any form that `kore_aws_organization` accepts. Default: the organization's OU. A change moves the account in place."))
        .attribute(Attribute::string("organizational_unit_id").computed().description("ID of the OU the account is in."))
        .attribute(Attribute::string("email").optional().computed().description("Root email of the account. Default: the alias `<local>+<name>@<domain>` of the organization's SSO user email, at most 64 characters. It cannot change after creation."))
        .attribute(Attribute::bool("close_on_deletion").optional().computed().description("Close the account after it is unmanaged on destroy. Default: `false`, which leaves it open in the organization root."))
        .attribute(Attribute::new("tags", Type::map(Type::String)).optional().description("Tags on the account. Keys starting with `kore:` are reserved for the provider."))
        .attribute(Attribute::string("provisioned_product_id").computed().description("ID of the Account Factory provisioned product."))
        .attribute(Attribute::string("provisioned_product_name").computed().description("Name of the Account Factory provisioned product, derived from the installation, the name at creation and the email."))
        .attribute(Attribute::string("state").computed().description("State of the account in Organizations: `ACTIVE`, `PENDING_CLOSURE`, `SUSPENDED` or `CLOSED`."))
        .attribute(Attribute::string("sso_user_portal_url").computed().description("AWS access portal URL of the SSO user."))
        .attribute(Attribute::string("admin_role_arn").computed().description("ARN of the Control Tower execution role in the account, for an aliased `aws` provider's `assume_role`."))
        .block("timeouts", Nesting::Single, timeouts);
    Schema::new(0, block)
}

fn timeout(value: &Value, operation: &str) -> Duration {
    value
        .get("timeouts")
        .get(operation)
        .as_str()
        .and_then(|text| parse_duration(text).ok())
        .unwrap_or(DEFAULT_TIMEOUT)
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// Checks the arguments that need no AWS call.
fn validate_static(config: &Value) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    check_string(
        config,
        "name",
        "Invalid account name",
        validate_account_name,
        &mut diagnostics,
    );
    check_string(
        config,
        "team",
        "Invalid team",
        validate_team,
        &mut diagnostics,
    );
    check_string(
        config,
        "email",
        "Invalid email",
        validate_email,
        &mut diagnostics,
    );
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key.starts_with(RESERVED_TAG_PREFIX) {
                diagnostics.attribute_error(
                    AttributePath::root("tags").key(key),
                    "Reserved tag key",
                    format!("The tag key {key:?} starts with {RESERVED_TAG_PREFIX:?}, which the provider reserves for its own bookkeeping; rename the tag."),
                );
            }
        }
    }
    for operation in ["create", "update", "delete"] {
        if let Some(text) = config.get("timeouts").get(operation).as_str() {
            if let Err(error) = parse_duration(text) {
                diagnostics.attribute_error(
                    AttributePath::root("timeouts").attribute(operation),
                    "Invalid timeout",
                    error.to_string(),
                );
            }
        }
    }
    diagnostics
}

/// The organization facts an account needs, from AWS or from a plan in this process.
struct Owner {
    /// `None` while the organization's SSO email is unknown until apply.
    sso_email: Option<String>,
    unit_id: Option<String>,
}

async fn find_owner(
    data: &ProviderData,
    zone: &LandingZone,
    organization_id: &str,
) -> Option<Owner> {
    // An organization planned in this run wins over the tags in AWS: its SSO user or OU may
    // be about to change, and Terraform applies it before the accounts that refer to it.
    if let Some(planned) = data.planned_organizations.lock().await.get(organization_id) {
        return Some(Owner {
            sso_email: planned.sso_email.clone(),
            unit_id: planned.organizational_unit_id.clone(),
        });
    }
    zone.installation(organization_id)
        .map(|installation| Owner {
            sso_email: Some(installation.sso_email),
            unit_id: Some(installation.unit_id),
        })
}

/// Works out the account email: the configured one, or the alias of the SSO email.
fn account_email(config: &Value, sso_email: &str, diagnostics: &mut Diagnostics) -> Option<String> {
    if let Some(email) = config.get("email").as_str() {
        return Some(email.to_string());
    }
    let name = config.get("name").as_str()?;
    match email_alias(sso_email, name) {
        Ok(alias) => Some(alias),
        Err(error @ EmailError::TooLong { .. }) => {
            diagnostics.attribute_error(
                AttributePath::root("name"),
                "Generated email too long",
                error.to_string(),
            );
            None
        }
        Err(error) => {
            diagnostics.attribute_error(
                AttributePath::root("name"),
                "Invalid generated email",
                error.to_string(),
            );
            None
        }
    }
}

/// The account a create plans, as the email check needs it.
struct PlannedEmail<'a> {
    organization_id: &'a str,
    email: &'a str,
    /// The deterministic provisioned product name of the create.
    product_name: &'a str,
    /// The account a replacement would destroy, whose email the new account cannot reuse.
    replaced_account_id: Option<&'a str>,
}

/// Fails when another account in the organization has the planned root email (ignoring
/// case) and is not this resource's own unfinished create, which apply resumes.
async fn check_email_free(
    connection: &Connection,
    zone: &LandingZone,
    planned: PlannedEmail<'_>,
    path: AttributePath,
    diagnostics: &mut Diagnostics,
) {
    let PlannedEmail {
        organization_id,
        email,
        product_name,
        replaced_account_id,
    } = planned;
    let Some(holder) = zone.account_by_email(email) else {
        return;
    };
    if Some(holder.id.as_str()) == replaced_account_id {
        diagnostics.attribute_error(
            path,
            "Replacement needs a new email",
            format!(
                "This plan replaces account {} ({}), but the new account would get the same email {email}, which stays with the old account even after it is closed. Set email to a new address for the new account, or avoid the replacement (a change of organization_id, -replace or taint).",
                holder.name, holder.id
            ),
        );
        return;
    }
    let tags = organizations::list_tags(&connection.clients.organizations, &holder.id)
        .await
        .unwrap_or_default();
    // The product may not show its account ID until provisioning ends, so the product of
    // this resource's deterministic name counts too.
    let ours = |product: &ProvisionedProduct| {
        product.tags.get(TAG_INSTALLATION).map(String::as_str) == Some(organization_id)
    };
    let unfinished_create = !tags.contains_key(TAG_INSTALLATION)
        && (zone.product_for_account(&holder.id).is_some_and(ours)
            || zone.product_by_name(product_name).is_some_and(ours));
    if unfinished_create {
        // An earlier create of this installation timed out; apply resumes it.
        return;
    }
    let managed = zone.product_for_account(&holder.id).is_some();
    let detail = match (tags.get(TAG_INSTALLATION), tags.get(TAG_TEAM)) {
        (Some(installation), _) if !managed => format!(
            "The email {email} belongs to account {} ({}, email {}, state {}), which installation {installation:?} created but Account Factory no longer manages (its product was terminated), so it cannot be imported. Choose another account name or email.",
            holder.name, holder.id, holder.email, holder.state
        ),
        (Some(installation), team) => format!(
            "The email {email} belongs to account {} ({}, state {}), which installation {installation:?}{} already manages, possibly from another Terraform state. To manage that account here, import it with `terraform import <address> {}`; to create a new account, choose another account name or set email to an unused address.",
            holder.name,
            holder.id,
            holder.state,
            team.map(|t| format!(" (team {t:?})")).unwrap_or_default(),
            holder.id
        ),
        (None, _) => format!(
            "The email {email} is already the root email of account {} ({}, state {}); AWS compares emails without regard to case and keeps the email of closed accounts. Choose another account name, or set email to an unused address.",
            holder.name, holder.id, holder.state
        ),
    };
    diagnostics.attribute_error(path, "Email already in use", detail);
}

/// Registers this plan and fails when a sibling resource in the same run would get the
/// same email or the same name in the same organization. Terraform starts a new provider
/// process for each plan and apply walk and plans each resource once per walk, so every
/// entry is a different resource instance.
async fn check_siblings(
    data: &ProviderData,
    planned: PlannedAccount,
    email_path: AttributePath,
    diagnostics: &mut Diagnostics,
) {
    data.planned_accounts.lock().await.push(planned.clone());
    // Sibling resources are planned concurrently, so wait briefly until each has registered.
    tokio::time::sleep(PLAN_SETTLE).await;
    let accounts = data.planned_accounts.lock().await;
    for other in accounts.iter().filter(|a| **a != planned) {
        if emails_equal(&other.email, &planned.email) {
            diagnostics.attribute_error(
                email_path.clone(),
                "Two accounts with the same email",
                format!("Another kore_cloud_account in this plan (team {:?}, name {:?}) would also get the email {}; every account needs its own email. Give one of them another name or email.", other.team, other.name, planned.email),
            );
        } else if other.organization_id == planned.organization_id && other.name == planned.name {
            diagnostics.attribute_error(
                AttributePath::root("name"),
                "Two accounts with the same name",
                format!("Another kore_cloud_account in this plan (team {:?}) also uses the name {:?} in organization {:?}; give one of them another name.", other.team, other.name, other.organization_id),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Resource
// ---------------------------------------------------------------------------------------

#[async_trait]
impl Resource for CloudAccount {
    fn type_name(&self) -> &'static str {
        "kore_cloud_account"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        validate_static(config)
    }

    async fn plan(&self, _ctx: &Context, request: PlanRequest) -> PlanResponse {
        if request.proposed_new_state.is_null() {
            let mut response = plan_destroy(&request.prior_state, &request.prior_private);
            response.planned_private = request.prior_private.clone();
            return response;
        }
        let mut response = PlanResponse {
            planned_private: request.prior_private.clone(),
            ..Default::default()
        };
        let config = &request.config;
        let prior = &request.prior_state;
        let mut planned = request.proposed_new_state.clone();
        response.diagnostics = validate_static(config);
        if planned.get("close_on_deletion").is_null() {
            planned.set("close_on_deletion", false.into());
        }
        if response.diagnostics.has_errors() {
            return response;
        }

        let creating =
            prior.is_null() || prior.get("organization_id") != config.get("organization_id");
        if !prior.is_null() && prior.get("organization_id") != config.get("organization_id") {
            response
                .requires_replace
                .push(AttributePath::root("organization_id"));
        }

        if !creating {
            // Values fixed at creation keep their prior values.
            for name in [
                "id",
                "account_id",
                "provisioned_product_id",
                "provisioned_product_name",
                "sso_user_portal_url",
                "admin_role_arn",
                "state",
            ] {
                planned.set(name, prior.get(name).clone());
            }
            if let Some(email) = config.get("email").as_str() {
                let prior_email = prior.get("email").as_str().unwrap_or_default();
                if !emails_equal(email, prior_email) {
                    response.diagnostics.attribute_error(
                        AttributePath::root("email"),
                        "Email cannot change",
                        format!("The account was created with the email {prior_email}; Account Factory cannot change the root email of an existing account, and this provider never replaces an account to change it. Set email back to {prior_email:?} or remove it. To move the account to another email, change it in the AWS console, then run terraform apply -refresh-only."),
                    );
                    return response;
                }
            }
            planned.set("email", prior.get("email").clone());
        }

        if !config.is_wholly_known() {
            if creating {
                mark_computed_unknown(&schema().block, config, &mut planned);
            } else if request.prior_private.get(PRIVATE_TERMINATED).is_none() {
                // The target OU is resolved at apply, when every value is known.
                planned.set("organizational_unit_id", Value::Unknown);
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
        let organization_id = config.get("organization_id").as_str().unwrap_or_default();
        let Some(owner) = find_owner(&self.data, &zone, organization_id).await else {
            let known: Vec<String> = zone.installations().into_iter().map(|i| i.name).collect();
            response.diagnostics.attribute_error(
                AttributePath::root("organization_id"),
                "Organization not found",
                format!("No kore_aws_organization named {organization_id:?} exists or is planned. Set organization_id to kore_aws_organization.<name>.id; installations found: {}.", if known.is_empty() { "none".to_string() } else { known.join(", ") }),
            );
            return response;
        };

        // The target OU.
        let unit = match config.get("organizational_unit").as_str() {
            Some(reference) => resolve_unit(
                &zone,
                reference,
                AttributePath::root("organizational_unit"),
                &mut response.diagnostics,
            ),
            None => owner
                .unit_id
                .as_deref()
                .and_then(|id| zone.unit(id).cloned()),
        };
        match &unit {
            Some(unit) => planned.set("organizational_unit_id", unit.id.clone().into()),
            None if response.diagnostics.has_errors() => return response,
            None => planned.set("organizational_unit_id", Value::Unknown),
        }

        let unmanaged = request.prior_private.get(PRIVATE_TERMINATED).is_some();
        let needs_product = prior.get("name") != planned.get("name")
            || prior.get("organizational_unit_id") != planned.get("organizational_unit_id");
        if !creating && unmanaged && needs_product {
            response.diagnostics.error(
                "Account no longer managed by Account Factory",
                format!(
                    "Account {} has no Account Factory product any more (it was terminated outside Terraform), so it cannot be renamed or moved through Account Factory. Enroll it in Control Tower again and import it, or keep name and organizational_unit as they are.",
                    prior.get("account_id").as_str().unwrap_or_default()
                ),
            );
            return response;
        }

        let email_path = if config.get("email").is_null() {
            AttributePath::root("name")
        } else {
            AttributePath::root("email")
        };
        if creating {
            for name in [
                "id",
                "account_id",
                "provisioned_product_id",
                "state",
                "sso_user_portal_url",
                "admin_role_arn",
            ] {
                planned.set(name, Value::Unknown);
            }
            let sso_email = match (&owner.sso_email, config.get("email").is_null()) {
                (Some(sso_email), _) => sso_email.clone(),
                (None, false) => String::new(),
                (None, true) => {
                    // The organization's SSO email is unknown until apply, and so is the
                    // alias; apply checks it before any provisioning call.
                    planned.set("email", Value::Unknown);
                    planned.set("provisioned_product_name", Value::Unknown);
                    response.planned_state = planned;
                    return response;
                }
            };
            let Some(email) = account_email(config, &sso_email, &mut response.diagnostics) else {
                return response;
            };
            if let Err(error) = validate_email(&email) {
                response.diagnostics.attribute_error(
                    email_path,
                    "Invalid generated email",
                    error.to_string(),
                );
                return response;
            }
            // When Terraform plans a replacement's create, the prior state is null, but the
            // account being replaced was planned earlier in this run.
            let replaced = match prior.get("account_id").as_str() {
                Some(id) => Some(id.to_string()),
                None => self
                    .data
                    .planned_existing_accounts
                    .lock()
                    .await
                    .get(&email.to_lowercase())
                    .cloned(),
            };
            let product_name = provisioned_product_name(
                organization_id,
                config.get("name").as_str().unwrap_or_default(),
                &email,
            );
            let planned_email = PlannedEmail {
                organization_id,
                email: &email,
                product_name: &product_name,
                replaced_account_id: replaced.as_deref(),
            };
            check_email_free(
                &connection,
                &zone,
                planned_email,
                email_path.clone(),
                &mut response.diagnostics,
            )
            .await;
            planned.set("email", email.clone().into());
            planned.set("provisioned_product_name", product_name.into());
        } else if let (Some(email), Some(account_id)) = (
            prior.get("email").as_str(),
            prior.get("account_id").as_str(),
        ) {
            self.data
                .planned_existing_accounts
                .lock()
                .await
                .insert(email.to_lowercase(), account_id.to_string());
        }

        if !response.requires_replace.is_empty() {
            // Terraform plans the replacement's create next, which registers the account.
            response.planned_state = planned;
            return response;
        }
        if creating || prior.get("name") != planned.get("name") {
            let sibling = PlannedAccount {
                organization_id: organization_id.to_string(),
                team: config.get("team").as_str().unwrap_or_default().to_string(),
                name: config.get("name").as_str().unwrap_or_default().to_string(),
                email: planned
                    .get("email")
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
                planned_at: Instant::now(),
            };
            check_siblings(&self.data, sibling, email_path, &mut response.diagnostics).await;
        }

        response.planned_state = planned;
        response
    }

    async fn apply(&self, ctx: &Context, request: ApplyRequest) -> ApplyResponse {
        let connection = match self.data.connection().await {
            Ok(connection) => connection,
            Err(errors) => {
                return ApplyResponse {
                    new_state: request.prior_state,
                    private: request.planned_private,
                    diagnostics: errors,
                }
            }
        };
        // The snapshot the plan of this apply read is at most SNAPSHOT_TTL old and is dropped
        // after every write, so it is reused here; AWS itself rejects an email taken since.
        // Every log line of this operation carries the account's name and ID.
        let known = if request.prior_state.is_null() {
            &request.config
        } else {
            &request.prior_state
        };
        let span = tracing::info_span!(
            "account",
            account_name = known.get("name").as_str().unwrap_or_default(),
            account_id = known.get("account_id").as_str().unwrap_or_default(),
            provisioned_product_id = known
                .get("provisioned_product_id")
                .as_str()
                .unwrap_or_default(),
        );
        let mut response = if request.planned_state.is_null() {
            self.delete(ctx, &connection, &request)
                .instrument(span)
                .await
        } else if request.prior_state.is_null() {
            self.create(ctx, &connection, &request)
                .instrument(span)
                .await
        } else {
            self.update(ctx, &connection, &request)
                .instrument(span)
                .await
        };
        connection.inventory.invalidate().await;
        if response.new_state.is_null() {
            response.private = PrivateState::default();
        }
        response
    }

    async fn read(&self, _ctx: &Context, request: ReadRequest) -> ReadResponse {
        let mut response = ReadResponse {
            new_state: request.current_state.clone(),
            private: request.private.clone(),
            ..Default::default()
        };
        let (connection, zone) = match connect(&self.data).await {
            Ok(found) => found,
            Err(errors) => {
                response.diagnostics.extend(errors);
                return response;
            }
        };
        let state = &request.current_state;
        let account_id = state
            .get("account_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let terminated = request.private.get(PRIVATE_TERMINATED).is_some();

        let Some(account) = zone.account(&account_id).cloned() else {
            response.diagnostics.warning(
                format!("Account {account_id} left the organization"),
                format!("Account {account_id} ({}) is no longer a member of organization {}, so it is removed from the state. Remove the resource from the configuration; a new account needs another name or email, because the departed account keeps its email.", state.get("name").as_str().unwrap_or_default(), zone.organization.id),
            );
            response.new_state = Value::Null;
            return response;
        };
        let product = zone.product_for_account(&account_id).cloned();
        if product.is_some() && terminated {
            // The product exists (again), so the account is managed and destroy must
            // terminate it before any close.
            response.private.remove(PRIVATE_TERMINATED);
        }
        if product.is_none() && !terminated {
            // The account stays in the state so that destroy can still close it; with
            // private `terminated` set, destroy skips the termination.
            response.diagnostics.warning(
                format!("Account {account_id} is no longer managed by Account Factory"),
                format!(
                    "The provisioned product of account {account_id} ({}) was terminated outside Terraform, so Control Tower no longer manages the account (state {}). It stays in the Terraform state: terraform destroy skips the termination and, with close_on_deletion = true, closes the account. Renames and OU moves fail until the account is enrolled in Control Tower again and imported.",
                    account.name, account.state
                ),
            );
            response
                .private
                .set(PRIVATE_TERMINATED, serde_json::Value::Bool(true));
        }

        // NOTE: Organizations has no bulk tag listing, so each read makes one
        // ListTagsForResource call; everything else comes from the shared snapshot.
        let tags =
            match organizations::list_tags(&connection.clients.organizations, &account_id).await {
                Ok(tags) => tags,
                Err(error) => {
                    response.diagnostics.error(
                        format!("Reading the tags of account {account_id} failed"),
                        error.to_string(),
                    );
                    return response;
                }
            };
        let mut new_state = state.clone();
        new_state.set("name", account.name.clone().into());
        new_state.set("email", account.email.clone().into());
        new_state.set("state", account.state.clone().into());
        // Unmanaging moves an account to the root. That move is the result of the
        // termination, not drift to correct, because Account Factory can no longer move it.
        let unmanaged = response.private.get(PRIVATE_TERMINATED).is_some();
        if let Some(parent) = zone.parents.get(&account_id).filter(|_| !unmanaged) {
            new_state.set("organizational_unit_id", parent.clone().into());
        }
        if let Some(team) = tags.get(TAG_TEAM) {
            new_state.set("team", team.clone().into());
        }
        new_state.set("tags", user_tags_value(&tags, state.get("tags")));
        if let Some(product) = &product {
            new_state.set("provisioned_product_id", product.id.clone().into());
        }
        if account.is_closed() && !terminated {
            response.diagnostics.warning(
                format!("Account {account_id} is closed"),
                format!("Account {account_id} ({}) is {} in Organizations: it was closed outside Terraform. terraform destroy unmanages it and treats it as closed.", account.name, account.state),
            );
        }
        response.new_state = new_state;
        response
    }

    async fn import(&self, _ctx: &Context, id: &str) -> ImportResponse {
        let mut response = ImportResponse::default();
        let connection = match self.data.connection().await {
            Ok(connection) => connection,
            Err(errors) => {
                response.diagnostics = errors;
                return response;
            }
        };
        let parts: Vec<&str> = id.split('/').collect();
        let (given_organization, given_team, account_id) = match parts.as_slice() {
            [account_id] => (None, None, *account_id),
            [organization, team, account_id] => (Some(*organization), Some(*team), *account_id),
            _ => {
                response.diagnostics.error(
                    "Invalid import ID",
                    format!("The import ID {id:?} is neither an account ID (123456789012) nor organization_id/team/account_id (acme/payments/123456789012)."),
                );
                return response;
            }
        };
        if let Err(error) = validate_account_id(account_id) {
            response
                .diagnostics
                .error("Invalid import ID", error.to_string());
            return response;
        }
        connection.inventory.invalidate().await;
        let zone = match connection.inventory.landing_zone().await {
            Ok(zone) => zone,
            Err(error) => {
                response
                    .diagnostics
                    .extend(diagnostic_from_inventory(&error));
                return response;
            }
        };
        if zone.account(account_id).is_none() {
            response.diagnostics.error(
                format!("Account {account_id} not found"),
                format!(
                    "No account {account_id} is a member of organization {}; check the account ID.",
                    zone.organization.id
                ),
            );
            return response;
        }
        let product = match account_factory::find_by_account(
            &connection.clients.service_catalog,
            account_id,
        )
        .await
        {
            Ok(Some(product)) => product,
            Ok(None) => {
                response.diagnostics.error(
                    format!("Account {account_id} is not managed by Account Factory"),
                    format!("No Account Factory provisioned product has the physical ID {account_id}. Only accounts provisioned or enrolled through Control Tower Account Factory can be imported."),
                );
                return response;
            }
            Err(error) => {
                response.diagnostics.error(
                    format!("Looking up the product of account {account_id} failed"),
                    error.to_string(),
                );
                return response;
            }
        };
        let Some(account) = zone.account(account_id).cloned() else {
            response.diagnostics.error(
                format!("Account {account_id} not found"),
                format!(
                    "Account {account_id} is not a member of organization {}.",
                    zone.organization.id
                ),
            );
            return response;
        };
        let tags =
            match organizations::list_tags(&connection.clients.organizations, account_id).await {
                Ok(tags) => tags,
                Err(error) => {
                    response.diagnostics.error(
                        format!("Reading the tags of account {account_id} failed"),
                        error.to_string(),
                    );
                    return response;
                }
            };
        let organization_id = given_organization
            .map(str::to_string)
            .or_else(|| tags.get(TAG_INSTALLATION).cloned());
        let team = given_team
            .map(str::to_string)
            .or_else(|| tags.get(TAG_TEAM).cloned());
        let (Some(organization_id), Some(team)) = (organization_id, team) else {
            response.diagnostics.error(
                format!("Account {account_id} was not created by this provider"),
                format!("Account {account_id} ({}) carries no {TAG_INSTALLATION} and {TAG_TEAM} tags. Import it as organization_id/team/account_id, for example acme/payments/{account_id}.", account.name),
            );
            return response;
        };
        let parent = zone.parents.get(account_id).cloned().unwrap_or_default();
        let installation_unit = zone.installation(&organization_id).map(|i| i.unit_id);
        let outputs =
            account_factory::product_outputs(&connection.clients.service_catalog, &product.id)
                .await
                .unwrap_or_default();

        let mut state = Value::Null;
        state.set("organization_id", organization_id.into());
        state.set("team", team.into());
        if installation_unit.as_deref() != Some(parent.as_str()) {
            state.set("organizational_unit", zone.parent_path(&parent).into());
        }
        state.set("close_on_deletion", false.into());
        state.set("tags", user_tags_value(&tags, &Value::Null));
        fill_account_state(&mut state, &account, &product, &parent, &outputs);
        response.state = state;
        response
    }
}

/// Returns the user's tags: the account's tags without the reserved ones. An empty set stays null
/// when the prior value was null, so a configuration without tags shows no diff.
fn user_tags_value(tags: &BTreeMap<String, String>, prior: &Value) -> Value {
    let user: BTreeMap<String, Value> = tags
        .iter()
        .filter(|(key, _)| !key.starts_with(RESERVED_TAG_PREFIX))
        .map(|(key, value)| (key.clone(), value.clone().into()))
        .collect();
    if user.is_empty() && prior.is_null() {
        Value::Null
    } else {
        Value::Map(user)
    }
}

fn config_tags(config: &Value) -> BTreeMap<String, String> {
    config
        .get("tags")
        .as_map()
        .map(|tags| {
            tags.iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Fills the attributes that come from the live account and its product.
fn fill_account_state(
    state: &mut Value,
    account: &organizations::Account,
    product: &ProvisionedProduct,
    parent_id: &str,
    outputs: &BTreeMap<String, String>,
) {
    state.set("id", account.id.clone().into());
    state.set("account_id", account.id.clone().into());
    state.set("name", account.name.clone().into());
    state.set("email", account.email.clone().into());
    state.set("state", account.state.clone().into());
    state.set("organizational_unit_id", parent_id.to_string().into());
    state.set("provisioned_product_id", product.id.clone().into());
    state.set("provisioned_product_name", product.name.clone().into());
    state.set(
        "sso_user_portal_url",
        outputs.get("SSOUserPortal").cloned().into(),
    );
    state.set(
        "admin_role_arn",
        format!("arn:aws:iam::{}:role/{EXECUTION_ROLE}", account.id).into(),
    );
}

/// Warns, in a destroy plan, what will happen to the account.
fn plan_destroy(prior: &Value, private: &PrivateState) -> PlanResponse {
    let mut response = PlanResponse::default();
    let account_id = prior.get("account_id").as_str().unwrap_or_default();
    let name = prior.get("name").as_str().unwrap_or_default();
    let closes = prior.get("close_on_deletion").as_bool() == Some(true);
    let terminated = private.get(PRIVATE_TERMINATED).is_some();
    let (summary, detail) = match (terminated, closes) {
        (false, true) => (
            format!("Account {name} ({account_id}) will be closed"),
            "Destroying this kore_cloud_account terminates its Account Factory product (the account leaves Control Tower and moves to the organization root), then closes the account. AWS keeps a closed account SUSPENDED for 90 days, during which AWS Support can reopen it; its email cannot be used again.",
        ),
        (false, false) => (
            format!("Account {name} ({account_id}) will stay open"),
            "Destroying this kore_cloud_account terminates its Account Factory product: the account leaves Control Tower and moves to the organization root, but it stays open and keeps its resources. To close it too, set close_on_deletion = true and run terraform apply before destroying; the value in the state decides.",
        ),
        (true, true) => (
            format!("Account {name} ({account_id}) will be closed"),
            "The Account Factory product of this account is already terminated, so destroying this kore_cloud_account only closes the account. AWS keeps a closed account SUSPENDED for 90 days, during which AWS Support can reopen it.",
        ),
        (true, false) => (
            format!("Account {name} ({account_id}) will stay open"),
            "The Account Factory product of this account is already terminated, so destroying this kore_cloud_account only removes it from the state; the account stays open. To close it, set close_on_deletion = true and run terraform apply before destroying.",
        ),
    };
    response.diagnostics.warning(summary, detail);
    response
}

// ---------------------------------------------------------------------------------------
// Create, update and delete
// ---------------------------------------------------------------------------------------

fn limiter_error(error: LimiterError, what: &str) -> Diagnostics {
    Diagnostics::single_error(format!("{what} did not start"), error.to_string())
}

fn busy_backoff(attempt: u32) -> Duration {
    let base = BUSY_BACKOFF_INITIAL
        .saturating_mul(1 << attempt.min(5))
        .min(BUSY_BACKOFF_MAX);
    let jitter = rand::rng().random_range(0.5..1.0);
    base.mul_f64(jitter)
}

/// Sleeps for `duration` unless cancelled or past the deadline; returns false if it stopped.
async fn sleep_within(duration: Duration, ctx: &Context, deadline: Instant) -> bool {
    let now = Instant::now();
    if now + duration >= deadline {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => true,
        _ = ctx.cancel.cancelled() => false,
    }
}

fn wait_diagnostics(error: WaitError, what: &str, product: &str) -> Diagnostics {
    Diagnostics::single_error(
        format!("{what} for provisioned product {product} did not finish"),
        error.to_string(),
    )
}

/// Terminates (unmanages) a provisioned product with `IgnoreErrors` and waits for its record,
/// retrying with back-off while Control Tower is busy. A product already gone counts as
/// terminated. Returns the error text otherwise.
async fn terminate_product(
    ctx: &Context,
    connection: &Connection,
    product_id: &str,
    deadline: Instant,
) -> Result<(), String> {
    let client = &connection.clients.service_catalog;
    let mut attempt = 0u32;
    loop {
        let token = provision_token(product_id, &format!("terminate-{attempt}"));
        let Some(record) = account_factory::terminate(client, product_id, &token, true)
            .await
            .map_err(|e| e.to_string())?
        else {
            tracing::info!(
                provisioned_product_id = product_id,
                "the provisioned product was already terminated"
            );
            return Ok(());
        };
        let record = wait_for_record(client, &record.id, &ctx.cancel, deadline)
            .await
            .map_err(|e| e.to_string())?;
        if record.status == RecordStatus::Succeeded {
            tracing::info!(record_id = %record.id, provisioned_product_id = product_id, "provisioned product terminated; the account is unmanaged");
            return Ok(());
        }
        if record.failed_because_busy() {
            let pause = busy_backoff(attempt);
            attempt += 1;
            tracing::warn!(record_id = %record.id, provisioned_product_id = product_id, retry_in_ms = pause.as_millis() as u64, "Control Tower was busy; retrying the termination");
            if sleep_within(pause, ctx, deadline).await {
                continue;
            }
        }
        return Err(format!(
            "Account Factory record {} ended in {}: {}",
            record.id,
            record.status.as_str(),
            record.error_text()
        ));
    }
}

/// Everything create needs that comes from the organization.
struct CreatePlan {
    product_name: String,
    parameters: AccountParameters,
    /// Account tags: the user's plus the installation and team.
    tags: BTreeMap<String, String>,
    /// Product tags, fixed at provisioning: the installation and the team at creation.
    product_tags: BTreeMap<String, String>,
}

impl CloudAccount {
    fn prepare_create(
        &self,
        zone: &LandingZone,
        config: &Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<CreatePlan> {
        let organization_id = config
            .get("organization_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some(installation) = zone.installation(&organization_id) else {
            diagnostics.attribute_error(
                AttributePath::root("organization_id"),
                "Organization not found",
                format!("No installation named {organization_id:?} has claimed an OU. Apply the kore_aws_organization first."),
            );
            return None;
        };
        let email = account_email(config, &installation.sso_email, diagnostics)?;
        if let Err(error) = validate_email(&email) {
            let attribute = if config.get("email").is_null() {
                "name"
            } else {
                "email"
            };
            diagnostics.attribute_error(
                AttributePath::root(attribute),
                "Invalid email",
                error.to_string(),
            );
            return None;
        }
        let unit: OuNode = match config.get("organizational_unit").as_str() {
            Some(reference) => resolve_unit(
                zone,
                reference,
                AttributePath::root("organizational_unit"),
                diagnostics,
            )?,
            None => zone.unit(&installation.unit_id)?.clone(),
        };
        let name = config.get("name").as_str().unwrap_or_default().to_string();
        let team = config.get("team").as_str().unwrap_or_default().to_string();
        let mut tags = config_tags(config);
        tags.insert(TAG_INSTALLATION.to_string(), organization_id.clone());
        tags.insert(TAG_TEAM.to_string(), team.clone());
        let product_tags = BTreeMap::from([
            (TAG_INSTALLATION.to_string(), organization_id.clone()),
            (TAG_TEAM.to_string(), team),
        ]);
        Some(CreatePlan {
            product_tags,
            product_name: provisioned_product_name(&organization_id, &name, &email),
            parameters: AccountParameters {
                account_name: name,
                account_email: email,
                sso_user_email: installation.sso_email.clone(),
                sso_user_first_name: installation.sso_first_name.clone(),
                sso_user_last_name: installation.sso_last_name.clone(),
                managed_organizational_unit: format!("{} ({})", unit.name, unit.id),
            },
            tags,
        })
    }

    async fn create(
        &self,
        ctx: &Context,
        connection: &Connection,
        request: &ApplyRequest,
    ) -> ApplyResponse {
        let mut response = ApplyResponse::default();
        let config = &request.config;
        let deadline = Instant::now() + timeout(config, "create");
        let zone = match connection.inventory.landing_zone().await {
            Ok(zone) => zone,
            Err(error) => {
                response.diagnostics = diagnostic_from_inventory(&error);
                return response;
            }
        };
        let Some(plan) = self.prepare_create(&zone, config, &mut response.diagnostics) else {
            return response;
        };

        let permit = match connection.limiter.acquire(&ctx.cancel, deadline).await {
            Ok(permit) => permit,
            Err(error) => {
                response.diagnostics = limiter_error(
                    error,
                    &format!("Creating account {}", plan.parameters.account_name),
                );
                return response;
            }
        };

        let product = match self
            .provision_until_done(ctx, connection, &zone, &plan, deadline)
            .await
        {
            Ok(product) => product,
            Err(diagnostics) => {
                response.diagnostics = diagnostics;
                return response;
            }
        };
        drop(permit);

        let Some(account_id) = product.physical_id.clone() else {
            response.diagnostics.error(
                format!("Provisioned product {} has no account ID", product.id),
                "Account Factory reported success but the product carries no physical ID. Check the product in the Service Catalog console.",
            );
            return response;
        };
        match self
            .finish_create(connection, &plan, &product, &account_id, config)
            .await
        {
            Ok(state) => response.new_state = state,
            Err(diagnostics) => response.diagnostics = diagnostics,
        }
        response
    }

    /// Provisions, or resumes or adopts earlier work, until the product is AVAILABLE.
    async fn provision_until_done(
        &self,
        ctx: &Context,
        connection: &Connection,
        zone: &LandingZone,
        plan: &CreatePlan,
        deadline: Instant,
    ) -> Result<ProvisionedProduct, Diagnostics> {
        let client = &connection.clients.service_catalog;
        let product = zone.product.clone();
        let mut attempt = 0u32;
        let mut name_conflicts = 0u32;
        // The last product this create terminated, which keys the next provision token so
        // that a new provisioning never reuses the token of a failed one.
        let mut terminated: Option<String> = None;
        loop {
            if Instant::now() >= deadline || ctx.cancel.is_cancelled() {
                return Err(Diagnostics::single_error(
                    format!("Provisioning account {} did not finish", plan.parameters.account_name),
                    format!("The create timeout ran out or Terraform asked the provider to stop while provisioned product {} was being prepared; apply again to resume.", plan.product_name),
                ));
            }
            let existing = account_factory::find_by_name(client, &plan.product_name)
                .await
                .map_err(|e| {
                    Diagnostics::single_error(
                        "Looking up the provisioned product failed",
                        e.to_string(),
                    )
                })?;
            // A product of this name whose account already carries the installation tag was
            // finished by some Terraform state: it is not an interrupted create to resume.
            if let Some(account_id) = existing.as_ref().and_then(|p| p.physical_id.as_deref()) {
                let tags = match organizations::list_tags(
                    &connection.clients.organizations,
                    account_id,
                )
                .await
                {
                    Ok(tags) => tags,
                    Err(error)
                        if error.has_code("TargetNotFoundException")
                            || error.has_code("AccountNotFoundException") =>
                    {
                        return Err(Diagnostics::single_error(
                            format!("Account {account_id} left the organization"),
                            format!(
                                "Account Factory product {} still refers to account {account_id}, which is no longer a member of the organization and keeps its email {}. Terminate that product in the Service Catalog console, and give this resource another name or email to provision a new account.",
                                plan.product_name, plan.parameters.account_email
                            ),
                        ));
                    }
                    Err(error) => {
                        return Err(Diagnostics::single_error(
                            format!("Reading the tags of account {account_id} failed"),
                            error.to_string(),
                        ));
                    }
                };
                if let Some(installation) = tags.get(TAG_INSTALLATION) {
                    return Err(Diagnostics::single_error(
                        format!("Account {account_id} is already managed"),
                        format!(
                            "Account Factory product {} holds account {account_id} with the email {}, and installation {installation:?} already manages it, possibly from another Terraform state. Import it with `terraform import <address> {account_id}` instead of creating it, or choose another account name or email.",
                            plan.product_name, plan.parameters.account_email
                        ),
                    ));
                }
            }
            let record_id = match existing {
                Some(found) if found.status == ProductStatus::Available => {
                    tracing::info!(provisioned_product_id = %found.id, "adopting the provisioned product of an earlier attempt");
                    return Ok(found);
                }
                Some(found)
                    if matches!(
                        found.status,
                        ProductStatus::UnderChange | ProductStatus::PlanInProgress
                    ) =>
                {
                    let record_id = found
                        .last_record_id
                        .clone()
                        .or(found.last_provisioning_record_id.clone())
                        .unwrap_or_default();
                    tracing::info!(provisioned_product_id = %found.id, record_id = %record_id, "resuming the wait for an earlier provisioning");
                    record_id
                }
                Some(found) => {
                    tracing::warn!(provisioned_product_id = %found.id, status = found.status.as_str(), "terminating the failed product of an earlier attempt before provisioning again");
                    self.terminate_failed(ctx, connection, &found, deadline)
                        .await?;
                    terminated = Some(found.id.clone());
                    continue;
                }
                None => {
                    if let Some(holder) = zone.account_by_email(&plan.parameters.account_email) {
                        return Err(Diagnostics::single_error(
                            "Email already in use",
                            format!("The email {} is already the root email of account {} ({}). Choose another account name or email, or import that account with `terraform import <address> {}`.", plan.parameters.account_email, holder.name, holder.id, holder.id),
                        ));
                    }
                    let token = provision_token(
                        &plan.product_name,
                        &format!("{}-{attempt}", terminated.as_deref().unwrap_or("first")),
                    );
                    match account_factory::provision(
                        client,
                        &product,
                        &plan.product_name,
                        &token,
                        &plan.parameters,
                        &plan.product_tags,
                    )
                    .await
                    {
                        Ok(record) => {
                            tracing::info!(record_id = %record.id, provisioned_product_id = %record.provisioned_product_id, "provisioning started");
                            record.id
                        }
                        Err(error)
                            if error.has_code("InvalidParametersException")
                                && error.message.contains("already exists") =>
                        {
                            name_conflicts += 1;
                            if name_conflicts > 5 {
                                return Err(Diagnostics::single_error(
                                    format!("Provisioning account {} failed", plan.parameters.account_name),
                                    format!("{error}. Service Catalog reports that a product named {} exists, but SearchProvisionedProducts does not return it as an Account Factory product; check the provisioned products in the Service Catalog console.", plan.product_name),
                                ));
                            }
                            tracing::info!(
                                "a product with this name appeared meanwhile; looking it up again"
                            );
                            sleep_within(busy_backoff(name_conflicts), ctx, deadline).await;
                            continue;
                        }
                        Err(error) => {
                            return Err(Diagnostics::single_error(
                                format!(
                                    "Provisioning account {} failed",
                                    plan.parameters.account_name
                                ),
                                error.to_string(),
                            ))
                        }
                    }
                }
            };

            let record = wait_for_record(client, &record_id, &ctx.cancel, deadline)
                .await
                .map_err(|e| wait_diagnostics(e, "Provisioning", &plan.product_name))?;
            if record.record_type == "TERMINATE_PROVISIONED_PRODUCT" {
                // An earlier attempt was terminating its failed product; look again.
                terminated = Some(record.provisioned_product_id.clone());
                continue;
            }
            match record.status {
                RecordStatus::Succeeded => {
                    let found = account_factory::find_by_name(client, &plan.product_name)
                        .await
                        .map_err(|e| {
                            Diagnostics::single_error(
                                "Looking up the provisioned product failed",
                                e.to_string(),
                            )
                        })?;
                    if let Some(found) = found {
                        return Ok(found);
                    }
                    return Err(Diagnostics::single_error(
                        format!("Provisioned product {} vanished", plan.product_name),
                        format!(
                            "Record {} succeeded, but no product named {} exists.",
                            record.id, plan.product_name
                        ),
                    ));
                }
                _ if record.failed_because_busy() => {
                    let pause = busy_backoff(attempt);
                    attempt += 1;
                    tracing::warn!(record_id = %record.id, provisioned_product_id = %record.provisioned_product_id, retry_in_ms = pause.as_millis() as u64, "Control Tower was busy; retrying");
                    if !sleep_within(pause, ctx, deadline).await {
                        return Err(Diagnostics::single_error(
                            format!("Provisioning account {} did not finish", plan.parameters.account_name),
                            format!("Control Tower stayed busy with other operations until the create timeout or a stop: {}", record.error_text()),
                        ));
                    }
                }
                _ => {
                    return Err(Diagnostics::single_error(
                        format!("Provisioning account {} failed", plan.parameters.account_name),
                        format!(
                            "Account Factory record {} of provisioned product {} ended in {}: {}. Fix the cause and apply again; the next apply terminates the failed product and provisions anew.",
                            record.id,
                            record.provisioned_product_id,
                            record.status.as_str(),
                            record.error_text()
                        ),
                    ));
                }
            }
        }
    }

    /// Terminates a failed or tainted product with IgnoreErrors and waits for it.
    async fn terminate_failed(
        &self,
        ctx: &Context,
        connection: &Connection,
        found: &ProvisionedProduct,
        deadline: Instant,
    ) -> Result<(), Diagnostics> {
        terminate_product(ctx, connection, &found.id, deadline)
            .await
            .map_err(|detail| {
                Diagnostics::single_error(
                    format!("Terminating failed product {} failed", found.id),
                    detail,
                )
            })
    }

    /// Tags the new account and builds the state from the live account.
    async fn finish_create(
        &self,
        connection: &Connection,
        plan: &CreatePlan,
        product: &ProvisionedProduct,
        account_id: &str,
        config: &Value,
    ) -> Result<Value, Diagnostics> {
        let organizations_client = &connection.clients.organizations;
        let fail =
            |what: String, error: AwsError| Diagnostics::single_error(what, error.to_string());
        let account = organizations::describe_account(organizations_client, account_id)
            .await
            .map_err(|e| fail(format!("Reading account {account_id} failed"), e))?
            .ok_or_else(|| {
                Diagnostics::single_error(
                    format!("Account {account_id} not found"),
                    "Account Factory reported the account, but Organizations does not know it.",
                )
            })?;
        let parent = organizations::parent_of(organizations_client, account_id)
            .await
            .map_err(|e| {
                fail(
                    format!("Reading the parent of account {account_id} failed"),
                    e,
                )
            })?;
        let outputs =
            account_factory::product_outputs(&connection.clients.service_catalog, &product.id)
                .await
                .unwrap_or_default();
        // Tagging comes last: the installation tag marks the create as finished, and until it
        // is set, a retried create resumes this account instead of refusing it.
        organizations::tag_resource(organizations_client, account_id, &plan.tags)
            .await
            .map_err(|e| fail(format!("Tagging account {account_id} failed"), e))?;
        tracing::info!(account_id, provisioned_product_id = %product.id, "account created");

        let mut state = config.clone();
        state.set(
            "close_on_deletion",
            config
                .get("close_on_deletion")
                .as_bool()
                .unwrap_or(false)
                .into(),
        );
        fill_account_state(&mut state, &account, product, &parent, &outputs);
        Ok(state)
    }

    async fn update(
        &self,
        ctx: &Context,
        connection: &Connection,
        request: &ApplyRequest,
    ) -> ApplyResponse {
        let prior = &request.prior_state;
        let planned = &request.planned_state;
        let config = &request.config;
        let mut response = ApplyResponse {
            new_state: prior.clone(),
            private: request.planned_private.clone(),
            diagnostics: Diagnostics::default(),
        };
        let deadline = Instant::now() + timeout(config, "update");
        let account_id = prior
            .get("account_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let product_id = prior
            .get("provisioned_product_id")
            .as_str()
            .unwrap_or_default()
            .to_string();

        let zone = match connection.inventory.landing_zone().await {
            Ok(zone) => zone,
            Err(error) => {
                response.diagnostics = diagnostic_from_inventory(&error);
                return response;
            }
        };
        let organization_id = config.get("organization_id").as_str().unwrap_or_default();
        let Some(installation) = zone.installation(organization_id) else {
            response.diagnostics.attribute_error(
                AttributePath::root("organization_id"),
                "Organization not found",
                format!("No installation named {organization_id:?} has claimed an OU."),
            );
            return response;
        };
        let target_unit = match config.get("organizational_unit").as_str() {
            Some(reference) => resolve_unit(
                &zone,
                reference,
                AttributePath::root("organizational_unit"),
                &mut response.diagnostics,
            ),
            None => zone.unit(&installation.unit_id).cloned(),
        };
        let Some(target_unit) = target_unit else {
            if !response.diagnostics.has_errors() {
                response.diagnostics.error(
                    "Organizational unit not found",
                    format!(
                        "The OU {} of installation {organization_id:?} no longer exists.",
                        installation.unit_id
                    ),
                );
            }
            return response;
        };
        let new_name = planned.get("name").as_str().unwrap_or_default().to_string();
        let current_name = zone
            .account(&account_id)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let current_parent = zone.parents.get(&account_id).cloned().unwrap_or_default();
        // An account unmanaged outside Terraform has no product to update; the plan already
        // rejected renames and moves of such accounts.
        let unmanaged = request.planned_private.get(PRIVATE_TERMINATED).is_some();
        let needs_product_update = !unmanaged
            && (new_name != current_name
                || target_unit.id != current_parent
                || prior.get("name") != planned.get("name"));

        if needs_product_update {
            let permit = match connection.limiter.acquire(&ctx.cancel, deadline).await {
                Ok(permit) => permit,
                Err(error) => {
                    response.diagnostics =
                        limiter_error(error, &format!("Updating account {account_id}"));
                    return response;
                }
            };
            let parameters = AccountParameters {
                account_name: new_name.clone(),
                account_email: prior.get("email").as_str().unwrap_or_default().to_string(),
                sso_user_email: installation.sso_email.clone(),
                sso_user_first_name: installation.sso_first_name.clone(),
                sso_user_last_name: installation.sso_last_name.clone(),
                managed_organizational_unit: format!("{} ({})", target_unit.name, target_unit.id),
            };
            if let Err(diagnostics) = self
                .update_product(ctx, connection, &zone, &product_id, &parameters, deadline)
                .await
            {
                response.diagnostics = diagnostics;
                return response;
            }
            drop(permit);
            let organizations_client = &connection.clients.organizations;
            // Account Factory may leave the Organizations name or parent behind; finish both.
            match organizations::describe_account(organizations_client, &account_id).await {
                Ok(Some(account)) if account.name != new_name => {
                    if let Err(error) = crate::aws::account::put_account_name(
                        &connection.clients.account,
                        &account_id,
                        &new_name,
                    )
                    .await
                    {
                        response.diagnostics.error(
                            format!("Renaming account {account_id} failed"),
                            error.to_string(),
                        );
                        return response;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    response.diagnostics.error(
                        format!("Reading account {account_id} failed"),
                        error.to_string(),
                    );
                    return response;
                }
            }
            match organizations::parent_of(organizations_client, &account_id).await {
                Ok(parent) if parent != target_unit.id => {
                    if let Err(error) = organizations::move_account(
                        organizations_client,
                        &account_id,
                        &parent,
                        &target_unit.id,
                    )
                    .await
                    {
                        response.diagnostics.error(
                            format!("Moving account {account_id} failed"),
                            error.to_string(),
                        );
                        return response;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    response.diagnostics.error(
                        format!("Reading the parent of account {account_id} failed"),
                        error.to_string(),
                    );
                    return response;
                }
            }
        }

        // Tags and team.
        let organizations_client = &connection.clients.organizations;
        let current = match organizations::list_tags(organizations_client, &account_id).await {
            Ok(tags) => tags,
            Err(error) => {
                response.diagnostics.error(
                    format!("Reading the tags of account {account_id} failed"),
                    error.to_string(),
                );
                return response;
            }
        };
        let mut wanted = config_tags(config);
        wanted.insert(TAG_INSTALLATION.to_string(), organization_id.to_string());
        wanted.insert(
            TAG_TEAM.to_string(),
            config.get("team").as_str().unwrap_or_default().to_string(),
        );
        let stale: Vec<String> = current
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .cloned()
            .collect();
        let changed: BTreeMap<String, String> = wanted
            .iter()
            .filter(|(k, v)| current.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Err(error) =
            organizations::untag_resource(organizations_client, &account_id, &stale).await
        {
            response.diagnostics.error(
                format!("Removing tags of account {account_id} failed"),
                error.to_string(),
            );
            return response;
        }
        if let Err(error) =
            organizations::tag_resource(organizations_client, &account_id, &changed).await
        {
            response.diagnostics.error(
                format!("Tagging account {account_id} failed"),
                error.to_string(),
            );
            return response;
        }

        let account = match organizations::describe_account(organizations_client, &account_id).await
        {
            Ok(Some(account)) => account,
            Ok(None) => {
                response.diagnostics.error(
                    format!("Account {account_id} not found"),
                    "The account left the organization during the update.",
                );
                return response;
            }
            Err(error) => {
                response.diagnostics.error(
                    format!("Reading account {account_id} failed"),
                    error.to_string(),
                );
                return response;
            }
        };
        // Known planned values are returned as planned, because Terraform rejects any other;
        // the next refresh reads the live name and state.
        let mut state = planned.clone();
        if state.get("organizational_unit_id").is_unknown() {
            let unit_id = if unmanaged {
                prior.get("organizational_unit_id").clone()
            } else {
                target_unit.id.clone().into()
            };
            state.set("organizational_unit_id", unit_id);
        }
        tracing::debug!(account_id = %account_id, live_name = %account.name, live_state = %account.state, "account after the update");
        tracing::info!(account_id = %account_id, "account updated");
        response.new_state = state;
        response
    }

    /// Runs UpdateProvisionedProduct and waits; a failed record leaves the product TAINTED
    /// and returns its status message.
    async fn update_product(
        &self,
        ctx: &Context,
        connection: &Connection,
        zone: &LandingZone,
        product_id: &str,
        parameters: &AccountParameters,
        deadline: Instant,
    ) -> Result<(), Diagnostics> {
        let client = &connection.clients.service_catalog;
        let mut attempt = 0u32;
        loop {
            let token = provision_token(
                product_id,
                &format!(
                    "update-{}-{attempt}-{}",
                    parameters.account_name,
                    rand::rng().random::<u32>()
                ),
            );
            let record =
                account_factory::update(client, &zone.product, product_id, &token, parameters)
                    .await
                    .map_err(|e| {
                        Diagnostics::single_error(
                            format!("Updating provisioned product {product_id} failed"),
                            e.to_string(),
                        )
                    })?;
            tracing::info!(record_id = %record.id, provisioned_product_id = product_id, "update started");
            let record = wait_for_record(client, &record.id, &ctx.cancel, deadline)
                .await
                .map_err(|e| wait_diagnostics(e, "Updating", product_id))?;
            if record.status == RecordStatus::Succeeded {
                return Ok(());
            }
            if record.failed_because_busy() {
                let pause = busy_backoff(attempt);
                attempt += 1;
                tracing::warn!(record_id = %record.id, provisioned_product_id = product_id, retry_in_ms = pause.as_millis() as u64, "Control Tower was busy; retrying the update");
                if sleep_within(pause, ctx, deadline).await {
                    continue;
                }
            }
            let status = account_factory::search(client, &format!("id:{product_id}"))
                .await
                .ok()
                .and_then(|found| found.into_iter().find(|p| p.id == product_id));
            let status_text = status
                .map(|p| {
                    format!(
                        "The product is now {}{}.",
                        p.status.as_str(),
                        p.status_message
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            return Err(Diagnostics::single_error(
                format!("Updating provisioned product {product_id} failed"),
                format!("Account Factory record {} ended in {}: {}. {status_text} The state keeps the old values, so the next plan proposes the change again.", record.id, record.status.as_str(), record.error_text()),
            ));
        }
    }

    async fn delete(
        &self,
        ctx: &Context,
        connection: &Connection,
        request: &ApplyRequest,
    ) -> ApplyResponse {
        let prior = &request.prior_state;
        let mut private = request.planned_private.clone();
        let mut response = ApplyResponse {
            new_state: prior.clone(),
            private: private.clone(),
            diagnostics: Diagnostics::default(),
        };
        let deadline = Instant::now() + timeout(prior, "delete");
        let account_id = prior
            .get("account_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let product_id = prior
            .get("provisioned_product_id")
            .as_str()
            .unwrap_or_default()
            .to_string();

        if private.get(PRIVATE_TERMINATED).is_none() {
            let permit = match connection.limiter.acquire(&ctx.cancel, deadline).await {
                Ok(permit) => permit,
                Err(error) => {
                    response.diagnostics =
                        limiter_error(error, &format!("Deleting account {account_id}"));
                    return response;
                }
            };
            if let Err(detail) = terminate_product(ctx, connection, &product_id, deadline).await {
                response.diagnostics.error(
                    format!("Terminating provisioned product {product_id} failed"),
                    format!("{detail}. The account was not closed; destroy again once the cause is fixed."),
                );
                return response;
            }
            drop(permit);
            private.set(PRIVATE_TERMINATED, serde_json::Value::Bool(true));
            response.private = private.clone();
        }

        if prior.get("close_on_deletion").as_bool() != Some(true) {
            response.new_state = Value::Null;
            return response;
        }

        match self
            .close_account(ctx, connection, &account_id, deadline)
            .await
        {
            Ok(()) => response.new_state = Value::Null,
            Err(diagnostics) => response.diagnostics = diagnostics,
        }
        response
    }

    /// Closes the account after termination, retrying the close quota with back-off.
    async fn close_account(
        &self,
        ctx: &Context,
        connection: &Connection,
        account_id: &str,
        deadline: Instant,
    ) -> Result<(), Diagnostics> {
        let client = &connection.clients.organizations;
        let mut attempt = 0u32;
        loop {
            match organizations::close_account(client, account_id).await {
                Ok(CloseOutcome::AlreadyClosed) => {
                    tracing::info!(account_id, "the account was already closed");
                    return Ok(());
                }
                Ok(CloseOutcome::Closing) => break,
                Err(error) if error.has_code("ConstraintViolationException") && error.reason.as_deref() == Some("CLOSE_ACCOUNT_QUOTA_EXCEEDED") || error.has_code("ConcurrentModificationException") => {
                    let pause = busy_backoff(attempt + 2);
                    attempt += 1;
                    tracing::warn!(account_id, retry_in_ms = pause.as_millis() as u64, error = %error, "closing the account was rejected for now; retrying");
                    if !sleep_within(pause, ctx, deadline).await {
                        return Err(Diagnostics::single_error(
                            format!("Closing account {account_id} did not finish"),
                            format!("{error}. AWS limits closures per organization within a rolling 30-day window (CLOSE_ACCOUNT_QUOTA_EXCEEDED). The provisioned product is already terminated; the account stays in the state, and the next terraform destroy only closes it."),
                        ));
                    }
                }
                Err(error) => {
                    return Err(Diagnostics::single_error(
                        format!("Closing account {account_id} failed"),
                        format!("{error}. The provisioned product is already terminated; the next terraform destroy retries the close."),
                    ))
                }
            }
        }
        // Wait until the closure is visible.
        let mut interval = Duration::from_millis(500);
        loop {
            match organizations::describe_account(client, account_id).await {
                Ok(Some(account)) if account.is_closed() => {
                    tracing::info!(account_id, state = %account.state, "account closed");
                    return Ok(());
                }
                Ok(None) => return Ok(()),
                Ok(Some(_)) => {}
                Err(error) => {
                    tracing::warn!(account_id, error = %error, "reading the account while closing it failed")
                }
            }
            if !sleep_within(interval, ctx, deadline).await {
                return Err(Diagnostics::single_error(
                    format!("Closing account {account_id} did not finish"),
                    "The close request was accepted, but the account did not reach PENDING_CLOSURE before the delete timeout. Destroy again to resume.",
                ));
            }
            interval = (interval * 2).min(Duration::from_secs(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_tag_rejected() {
        let mut config = Value::Null;
        let mut tags = BTreeMap::new();
        tags.insert("kore:team".to_string(), Value::from("x"));
        tags.insert("cost-centre".to_string(), Value::from("42"));
        config.set("tags", Value::Map(tags));
        let diagnostics = validate_static(&config);
        assert_eq!(diagnostics.0.len(), 1);
        assert_eq!(
            diagnostics.0[0]
                .attribute
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("tags[\"kore:team\"]")
        );
    }

    #[test]
    fn timeouts_parse_or_default() {
        let mut config = Value::Null;
        let mut timeouts = Value::Null;
        timeouts.set("create", "20s".into());
        config.set("timeouts", timeouts);
        assert_eq!(timeout(&config, "create"), Duration::from_secs(20));
        assert_eq!(timeout(&config, "delete"), DEFAULT_TIMEOUT);
    }

    #[test]
    fn user_tags_hide_reserved() {
        let mut tags = BTreeMap::new();
        tags.insert("kore:installation".to_string(), "acme".to_string());
        assert_eq!(user_tags_value(&tags, &Value::Null), Value::Null);
        tags.insert("env".to_string(), "prod".to_string());
        let value = user_tags_value(&tags, &Value::Null);
        assert_eq!(value.get("env").as_str(), Some("prod"));
        assert!(value.get("kore:installation").is_null());
    }

    #[test]
    fn busy_backoff_stays_bounded() {
        for attempt in 0..10 {
            let pause = busy_backoff(attempt);
            assert!(pause <= BUSY_BACKOFF_MAX, "attempt {attempt}: {pause:?}");
            assert!(
                pause >= BUSY_BACKOFF_INITIAL / 2,
                "attempt {attempt}: {pause:?}"
            );
        }
    }
}
