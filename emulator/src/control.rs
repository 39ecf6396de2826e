//! Control endpoints under `/_emulator/` for tests and benchmarks: reset to a seed, inject
//! faults, change the landing zone as someone in the AWS console would, and read counters, the
//! event log and the full state. Requests and responses are plain JSON, and the types here are shared
//! with [`crate::client::ControlClient`].

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use thiserror::Error;
use tracing::info;

use crate::faults::{FaultUpdate, Faults};
use crate::ids;
use crate::organizations::accounts;
use crate::runtime::{Emulator, Runtime};
use crate::seed::{is_organizational_unit_id, Seed};
use crate::state::{Account, CallerIdentity, LandingZone, OrganizationalUnit, Record, Tags};
use crate::telemetry::{Counters, Event, EventDetail};
use crate::timestamp::Timestamp;

/// The path prefix of every control endpoint.
pub const PREFIX: &str = "/_emulator";

/// A control request that cannot be carried out.
#[derive(Debug, Error)]
pub enum ControlError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// The response of `GET` and `POST /_emulator/faults`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultStatus {
    pub faults: Faults,
    pub provision_seconds: f64,
    pub close_seconds: f64,
    pub max_concurrent_operations: usize,
    pub close_quota_remaining: Option<u32>,
}

/// The response of `POST /_emulator/reset`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResetSummary {
    pub organizational_units: usize,
    pub accounts: usize,
    pub provisioned_products: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MoveAccountRequest {
    pub account_id: String,
    pub destination_parent_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CloseAccountRequest {
    pub account_id: String,
    /// Skip `PENDING_CLOSURE` and suspend the account at once.
    #[serde(default)]
    pub immediate: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenameAccountRequest {
    pub account_id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagAccountRequest {
    pub account_id: String,
    pub tags: Tags,
}

/// Names a provisioned product by id or by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TerminateProductRequest {
    #[serde(default)]
    pub provisioned_product_id: Option<String>,
    #[serde(default)]
    pub provisioned_product_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemoveAccountRequest {
    pub account_id: String,
}

/// An account created outside Account Factory, as with Organizations CreateAccount.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateAccountRequest {
    pub name: String,
    pub email: String,
    /// Defaults to the root.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Defaults to a random id.
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateOrganizationalUnitRequest {
    pub name: String,
    /// Defaults to the root.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Registered with Control Tower.
    pub registered: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortfolioAccessRequest {
    pub enabled: bool,
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    #[serde(default)]
    after: u64,
}

/// Builds the router for everything under [`PREFIX`].
pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/health", get(health))
        .route("/reset", post(reset))
        .route("/faults", get(get_faults).post(set_faults))
        .route("/counters", get(counters))
        .route("/log", get(event_log))
        .route("/state", get(state))
        .route("/console/move-account", post(move_account))
        .route("/console/close-account", post(close_account))
        .route("/console/rename-account", post(rename_account))
        .route("/console/tag-account", post(tag_account))
        .route("/console/terminate-product", post(terminate_product))
        .route("/console/remove-account", post(remove_account))
        .route("/console/create-account", post(create_account))
        .route(
            "/console/create-organizational-unit",
            post(create_organizational_unit),
        )
        .route("/console/portfolio-access", post(portfolio_access))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body)
        .map_err(|error| ControlError::BadRequest(format!("invalid request body: {error}")))
}

async fn reset(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<ResetSummary>, ControlError> {
    let seed = if body.iter().all(u8::is_ascii_whitespace) {
        Seed::default_landing_zone()
    } else {
        parse_json::<Seed>(&body)?
    };
    let zone = seed
        .into_landing_zone(Timestamp::now())
        .map_err(|error| ControlError::BadRequest(error.to_string()))?;
    let summary = ResetSummary {
        organizational_units: zone.organizational_units.len(),
        accounts: zone.accounts.len(),
        provisioned_products: zone.provisioned_products.len(),
    };
    let settings = emulator.initial_settings().clone();
    emulator.with(|runtime| {
        runtime.reset(zone, settings);
        runtime.log(EventDetail::Control {
            action: "reset".to_string(),
            detail: json!(summary),
        });
    });
    info!(accounts = summary.accounts, "landing zone reset");
    Ok(Json(summary))
}

fn fault_status(runtime: &Runtime) -> FaultStatus {
    FaultStatus {
        faults: runtime.faults.clone(),
        provision_seconds: runtime.settings.provision_seconds,
        close_seconds: runtime.settings.close_seconds,
        max_concurrent_operations: runtime.settings.max_concurrent_operations,
        close_quota_remaining: runtime.zone.close_quota_remaining,
    }
}

async fn get_faults(State(emulator): State<Emulator>) -> Json<FaultStatus> {
    Json(emulator.with(|runtime| fault_status(runtime)))
}

async fn set_faults(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<FaultStatus>, ControlError> {
    let update: FaultUpdate = parse_json(&body)?;
    update.validate().map_err(ControlError::BadRequest)?;
    let status = emulator.with(|runtime| {
        update.apply_to(&mut runtime.faults);
        if update.clear {
            runtime.settings = emulator.initial_settings().clone();
        }
        if let Some(seconds) = update.provision_seconds {
            runtime.settings.provision_seconds = seconds;
        }
        if let Some(seconds) = update.close_seconds {
            runtime.settings.close_seconds = seconds;
        }
        if let Some(limit) = update.max_concurrent_operations {
            runtime.settings.max_concurrent_operations = limit;
        }
        if let Some(quota) = update.close_quota_remaining {
            runtime.zone.close_quota_remaining = quota;
            runtime.mark_changed();
        }
        runtime.log(EventDetail::Control {
            action: "faults".to_string(),
            detail: json!(update),
        });
        fault_status(runtime)
    });
    info!(faults = ?status, "faults changed");
    Ok(Json(status))
}

async fn counters(State(emulator): State<Emulator>) -> Json<Counters> {
    Json(emulator.with(|runtime| {
        runtime.telemetry.counters(
            runtime.zone.operations_in_flight(),
            runtime.settings.max_concurrent_operations,
        )
    }))
}

async fn event_log(
    State(emulator): State<Emulator>,
    Query(query): Query<LogQuery>,
) -> Json<Vec<Event>> {
    Json(emulator.with(|runtime| runtime.telemetry.events_after(query.after)))
}

async fn state(State(emulator): State<Emulator>) -> Json<LandingZone> {
    Json(emulator.with(|runtime| runtime.zone.clone()))
}

fn existing_account(runtime: &Runtime, account_id: &str) -> Result<(), ControlError> {
    if runtime.zone.account(account_id).is_some() {
        return Ok(());
    }
    Err(ControlError::NotFound(format!(
        "account {account_id} is not in the organization"
    )))
}

fn account_snapshot(runtime: &Runtime, account_id: &str) -> Result<Json<Account>, ControlError> {
    runtime
        .zone
        .account(account_id)
        .cloned()
        .map(Json)
        .ok_or_else(|| {
            ControlError::NotFound(format!("account {account_id} is not in the organization"))
        })
}

fn log_console(runtime: &mut Runtime, action: &str, detail: serde_json::Value) {
    info!(action, detail = %detail, "console change");
    runtime.log(EventDetail::Control {
        action: format!("console/{action}"),
        detail,
    });
}

async fn move_account(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Account>, ControlError> {
    let request: MoveAccountRequest = parse_json(&body)?;
    emulator.with(|runtime| {
        existing_account(runtime, &request.account_id)?;
        if !runtime.zone.is_parent(&request.destination_parent_id) {
            return Err(ControlError::NotFound(format!(
                "parent {} is neither the root nor an OU",
                request.destination_parent_id
            )));
        }
        log_console(runtime, "move-account", json!(request));
        accounts::move_account(runtime, &request.account_id, &request.destination_parent_id);
        account_snapshot(runtime, &request.account_id)
    })
}

async fn close_account(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Account>, ControlError> {
    let request: CloseAccountRequest = parse_json(&body)?;
    emulator.with(|runtime| {
        existing_account(runtime, &request.account_id)?;
        if request.account_id == runtime.zone.organization.management_account_id {
            return Err(ControlError::Conflict(
                "the management account cannot be closed".to_string(),
            ));
        }
        // Console closures bypass the close quota, so tests can stage closed accounts freely.
        log_console(runtime, "close-account", json!(request));
        accounts::request_closure(runtime, &request.account_id, request.immediate);
        account_snapshot(runtime, &request.account_id)
    })
}

async fn rename_account(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Account>, ControlError> {
    let request: RenameAccountRequest = parse_json(&body)?;
    emulator.with(|runtime| {
        existing_account(runtime, &request.account_id)?;
        log_console(runtime, "rename-account", json!(request));
        accounts::rename_account(runtime, &request.account_id, &request.name);
        account_snapshot(runtime, &request.account_id)
    })
}

async fn tag_account(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Account>, ControlError> {
    let request: TagAccountRequest = parse_json(&body)?;
    emulator.with(|runtime| {
        existing_account(runtime, &request.account_id)?;
        log_console(runtime, "tag-account", json!(request));
        if let Some(account) = runtime.zone.account_mut(&request.account_id) {
            account.tags.extend(request.tags.clone());
        }
        accounts::log_account(runtime, &request.account_id, "tagged", None);
        account_snapshot(runtime, &request.account_id)
    })
}

async fn terminate_product(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Record>, ControlError> {
    let request: TerminateProductRequest = parse_json(&body)?;
    emulator.with(|runtime| {
        let zone = &runtime.zone;
        let product = match (
            &request.provisioned_product_id,
            &request.provisioned_product_name,
        ) {
            (Some(id), _) => zone.provisioned_product(id),
            (None, Some(name)) => zone.provisioned_product_by_name(name),
            (None, None) => {
                return Err(ControlError::BadRequest(
                    "give provisioned_product_id or provisioned_product_name".to_string(),
                ))
            }
        };
        let product_id = product.map(|product| product.id.clone()).ok_or_else(|| {
            ControlError::NotFound(format!("no provisioned product matches {request:?}"))
        })?;
        log_console(runtime, "terminate-product", json!(request));
        let record_id = crate::provisioning::terminate_at_once(runtime, &product_id)
            .map_err(ControlError::Conflict)?;
        runtime
            .zone
            .record(&record_id)
            .cloned()
            .map(Json)
            .ok_or_else(|| ControlError::NotFound(format!("record {record_id} vanished")))
    })
}

async fn remove_account(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Account>, ControlError> {
    let request: RemoveAccountRequest = parse_json(&body)?;
    emulator.with(|runtime| {
        existing_account(runtime, &request.account_id)?;
        if request.account_id == runtime.zone.organization.management_account_id {
            return Err(ControlError::Conflict(
                "the management account cannot leave the organization".to_string(),
            ));
        }
        log_console(runtime, "remove-account", json!(request));
        let index = runtime
            .zone
            .accounts
            .iter()
            .position(|account| account.id == request.account_id)
            .ok_or_else(|| {
                ControlError::NotFound(format!("account {} vanished", request.account_id))
            })?;
        let account = runtime.zone.accounts.remove(index);
        runtime.zone.departed_accounts.push(account.clone());
        accounts::log_account(runtime, &request.account_id, "removed", None);
        Ok(Json(account))
    })
}

async fn create_account(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<Account>, ControlError> {
    let request: CreateAccountRequest = parse_json(&body)?;
    emulator.with(|runtime| {
        let zone = &runtime.zone;
        let parent_id = request
            .parent_id
            .clone()
            .unwrap_or_else(|| zone.organization.root_id.clone());
        if !zone.is_parent(&parent_id) {
            return Err(ControlError::NotFound(format!(
                "parent {parent_id} is neither the root nor an OU"
            )));
        }
        if let Some(holder) = zone.email_holder(&request.email) {
            return Err(ControlError::Conflict(format!(
                "email {} is already used by {}",
                request.email,
                holder.describe()
            )));
        }
        if let Some(id) = &request.id {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ControlError::BadRequest(format!(
                    "account id {id:?} is not 12 digits"
                )));
            }
            if zone.account_id_taken(id) {
                return Err(ControlError::Conflict(format!("account id {id} is taken")));
            }
        }
        log_console(runtime, "create-account", json!(request));
        let account_id = accounts::create_account(
            runtime,
            &request.name,
            &request.email,
            &parent_id,
            request.id.as_deref(),
        );
        account_snapshot(runtime, &account_id)
    })
}

async fn create_organizational_unit(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<OrganizationalUnit>, ControlError> {
    let request: CreateOrganizationalUnitRequest = parse_json(&body)?;
    emulator.with(|runtime| {
        let zone = &runtime.zone;
        let parent_id = request
            .parent_id
            .clone()
            .unwrap_or_else(|| zone.organization.root_id.clone());
        if !zone.is_parent(&parent_id) {
            return Err(ControlError::NotFound(format!(
                "parent {parent_id} is neither the root nor an OU"
            )));
        }
        let duplicate = zone
            .organizational_units
            .iter()
            .any(|ou| ou.parent_id == parent_id && ou.name == request.name);
        if duplicate {
            return Err(ControlError::Conflict(format!(
                "an OU named {} already exists under {parent_id}",
                request.name
            )));
        }
        let root_id = zone.organization.root_id.clone();
        let id = loop {
            let candidate = ids::organizational_unit_id(&root_id);
            if runtime.zone.organizational_unit(&candidate).is_none() {
                break candidate;
            }
        };
        debug_assert!(is_organizational_unit_id(&id, &root_id));
        let ou = OrganizationalUnit {
            id,
            name: request.name.clone(),
            parent_id,
            registered: request.registered,
            tags: BTreeMap::new(),
        };
        log_console(runtime, "create-organizational-unit", json!(ou));
        runtime.zone.organizational_units.push(ou.clone());
        runtime.mark_changed();
        Ok(Json(ou))
    })
}

async fn portfolio_access(
    State(emulator): State<Emulator>,
    body: Bytes,
) -> Result<Json<CallerIdentity>, ControlError> {
    let request: PortfolioAccessRequest = parse_json(&body)?;
    Ok(emulator.with(|runtime| {
        log_console(runtime, "portfolio-access", json!(request));
        runtime.zone.caller.portfolio_access = request.enabled;
        runtime.mark_changed();
        Json(runtime.zone.caller.clone())
    }))
}
