//! The asynchronous record engine behind ProvisionProduct, UpdateProvisionedProduct and
//! TerminateProvisionedProduct.
//!
//! A request creates a record in `CREATED` and puts the product `UNDER_CHANGE`
//! ([`begin_operation`]). After a short delay the record starts ([`start`]): a request beyond the
//! concurrency limit, an OU that Control Tower does not know, a taken email or a termination of a
//! broken product without `IgnoreErrors` fail it there. Otherwise it goes `IN_PROGRESS`, and after
//! the configured operation time it finishes ([`finish`]): the account is created, moved, renamed
//! or unmanaged, or an injected failure fails it.

use std::time::Duration;

use tracing::info;

use crate::organizations::accounts;
use crate::runtime::{Emulator, Runtime};
use crate::seed::account_outputs;
use crate::state::{
    AccountFactoryParameters, CatalogTag, LandingZone, PendingChange, PendingWork,
    ProvisionedProductStatus, Record, RecordError, RecordStatus, RecordType,
};
use crate::telemetry::EventDetail;
use crate::timestamp::Timestamp;

/// Runs a record's two phases, unless a reset replaced the landing zone in between.
pub async fn drive_record(
    emulator: Emulator,
    generation: u64,
    record_id: String,
    start_after: Duration,
    finish_after: Duration,
) {
    tokio::time::sleep(start_after).await;
    let still_running =
        emulator.with(|runtime| runtime.generation() == generation && start(runtime, &record_id));
    if !still_running {
        return;
    }
    tokio::time::sleep(finish_after.saturating_sub(start_after)).await;
    emulator.with(|runtime| {
        if runtime.generation() == generation {
            finish(runtime, &record_id);
        }
    });
}

/// A new Account Factory operation.
pub struct OperationRequest {
    pub provisioned_product_id: String,
    pub record_type: RecordType,
    pub change: PendingChange,
    pub injected_failure: Option<RecordError>,
    /// Set when the request can already tell the operation will fail.
    pub known_failure: Option<RecordError>,
    pub tags: Vec<CatalogTag>,
}

/// Creates the record of a new operation, puts the product `UNDER_CHANGE` and schedules the
/// record's phases. Returns the record id. The product must exist.
pub fn begin_operation(runtime: &mut Runtime, request: OperationRequest) -> String {
    let now = Timestamp::now();
    let record_id = crate::ids::service_catalog_id("rec");
    let in_flight = runtime.zone.operations_in_flight();
    let admitted = in_flight < runtime.settings.max_concurrent_operations;
    let rejection = if admitted {
        runtime
            .telemetry
            .observe_operations_in_flight(in_flight + 1);
        request.known_failure
    } else {
        runtime.telemetry.count_rejection_for_concurrency();
        Some(concurrency_error(request.record_type))
    };

    let factory = &runtime.zone.account_factory;
    let Some(product) = runtime
        .zone
        .provisioned_products
        .iter_mut()
        .find(|product| product.id == request.provisioned_product_id)
    else {
        // Unreachable in practice, because every caller creates or looks up the product first.
        return record_id;
    };
    let previous_status = product.status;
    product.status = ProvisionedProductStatus::UnderChange;
    product.status_message = None;
    product.last_record_id = record_id.clone();
    product.last_provisioning_record_id = record_id.clone();

    let record = Record {
        id: record_id.clone(),
        record_type: request.record_type,
        status: RecordStatus::Created,
        created_time: now,
        updated_time: now,
        provisioned_product_id: product.id.clone(),
        provisioned_product_name: product.name.clone(),
        product_id: factory.product_id.clone(),
        provisioning_artifact_id: factory.artifact_id.clone(),
        path_id: product.path_id.clone(),
        errors: Vec::new(),
        outputs: Vec::new(),
        tags: request.tags,
        holds_operation_slot: admitted,
        pending: Some(PendingWork {
            change: request.change,
            rejection,
            injected_failure: request.injected_failure,
            previous_status,
        }),
    };
    let account_id = product.physical_id.clone();
    runtime.zone.records.push(record);
    log_record(runtime, &record_id, account_id);
    runtime.mark_changed();
    runtime.schedule_record(&record_id);
    record_id
}

/// Moves a `CREATED` record to `IN_PROGRESS`, or fails it. Returns whether it still runs.
pub fn start(runtime: &mut Runtime, record_id: &str) -> bool {
    let Some(record) = runtime.zone.record(record_id) else {
        return false;
    };
    let Some(pending) = record.pending.clone() else {
        return false;
    };
    if record.status != RecordStatus::Created {
        // A record reloaded from the state file in IN_PROGRESS skips the checks it passed.
        return record.is_running();
    }
    if let Some(rejection) = pending.rejection {
        fail(runtime, record_id, rejection);
        return false;
    }
    if let Err(error) = check_change(
        &runtime.zone,
        &record.provisioned_product_id,
        &pending.change,
    ) {
        fail(runtime, record_id, error);
        return false;
    }
    let now = Timestamp::now();
    if let Some(record) = runtime.zone.record_mut(record_id) {
        record.status = RecordStatus::InProgress;
        record.updated_time = now;
    }
    let account_id = product_account(&runtime.zone, record_id);
    log_record(runtime, record_id, account_id);
    runtime.mark_changed();
    true
}

/// Applies a running record's change and marks it `SUCCEEDED`, or fails it.
pub fn finish(runtime: &mut Runtime, record_id: &str) {
    let Some(record) = runtime.zone.record(record_id) else {
        return;
    };
    let (Some(pending), true) = (record.pending.clone(), record.is_running()) else {
        return;
    };
    let product_id = record.provisioned_product_id.clone();
    if let Some(failure) = pending.injected_failure {
        fail(runtime, record_id, failure);
        return;
    }
    // Checked again because the landing zone may have changed while the record ran, for example
    // a concurrent provisioning took the same email.
    if let Err(error) = check_change(&runtime.zone, &product_id, &pending.change) {
        fail(runtime, record_id, error);
        return;
    }
    match pending.change {
        PendingChange::Provision { parameters } | PendingChange::Update { parameters } => {
            apply_parameters(runtime, record_id, &product_id, parameters);
        }
        PendingChange::Terminate { .. } => unmanage(runtime, record_id, &product_id),
    }
}

/// Creates the account, or moves and renames it, to match `parameters`.
fn apply_parameters(
    runtime: &mut Runtime,
    record_id: &str,
    product_id: &str,
    parameters: AccountFactoryParameters,
) {
    let Some(ou_id) = runtime
        .zone
        .resolve_managed_organizational_unit(&parameters.managed_organizational_unit)
        .map(|ou| ou.id.clone())
    else {
        return;
    };
    let existing_account = runtime
        .zone
        .provisioned_product(product_id)
        .and_then(|product| product.physical_id.clone())
        .filter(|account_id| runtime.zone.account(account_id).is_some());

    let account_id = match existing_account {
        Some(account_id) => {
            accounts::move_account(runtime, &account_id, &ou_id);
            accounts::rename_account(runtime, &account_id, &parameters.account_name);
            account_id
        }
        None => accounts::create_account(
            runtime,
            &parameters.account_name,
            &parameters.account_email,
            &ou_id,
            None,
        ),
    };

    let outputs = account_outputs(
        &account_id,
        &parameters,
        &runtime.zone.organization.sso_portal_url,
    );
    if let Some(product) = runtime.zone.provisioned_product_mut(product_id) {
        product.status = ProvisionedProductStatus::Available;
        product.status_message = None;
        product.physical_id = Some(account_id.clone());
        product.parameters = parameters;
        product.last_successful_provisioning_record_id = Some(record_id.to_string());
    }
    succeed(runtime, record_id, outputs, Some(account_id));
}

/// Ends Account Factory management: the account moves to the root and stays open, and the
/// product disappears. Its records stay.
fn unmanage(runtime: &mut Runtime, record_id: &str, product_id: &str) {
    let account_id = runtime
        .zone
        .provisioned_product(product_id)
        .and_then(|product| product.physical_id.clone());
    if let Some(account_id) = &account_id {
        if runtime.zone.account(account_id).is_some() {
            let root_id = runtime.zone.organization.root_id.clone();
            accounts::move_account(runtime, account_id, &root_id);
        }
    }
    runtime
        .zone
        .provisioned_products
        .retain(|product| product.id != product_id);
    succeed(runtime, record_id, Vec::new(), account_id);
}

/// Terminates a product at once, as someone using the console would: a
/// `TERMINATE_PROVISIONED_PRODUCT` record that has already succeeded, the account moved to the
/// root, and no slot of the concurrency limit used. Returns the record id.
pub fn terminate_at_once(runtime: &mut Runtime, product_id: &str) -> Result<String, String> {
    let now = Timestamp::now();
    let record_id = crate::ids::service_catalog_id("rec");
    let factory = &runtime.zone.account_factory;
    let Some(product) = runtime
        .zone
        .provisioned_products
        .iter_mut()
        .find(|product| product.id == product_id)
    else {
        return Err(format!("provisioned product {product_id} does not exist"));
    };
    if product.status == ProvisionedProductStatus::UnderChange {
        return Err(format!(
            "provisioned product {product_id} is UNDER_CHANGE; wait for record {} to finish",
            product.last_record_id
        ));
    }
    product.last_record_id = record_id.clone();
    product.last_provisioning_record_id = record_id.clone();
    let record = Record {
        id: record_id.clone(),
        record_type: RecordType::TerminateProvisionedProduct,
        status: RecordStatus::InProgress,
        created_time: now,
        updated_time: now,
        provisioned_product_id: product.id.clone(),
        provisioned_product_name: product.name.clone(),
        product_id: factory.product_id.clone(),
        provisioning_artifact_id: factory.artifact_id.clone(),
        path_id: product.path_id.clone(),
        errors: Vec::new(),
        outputs: Vec::new(),
        tags: product.tags.clone(),
        holds_operation_slot: false,
        pending: None,
    };
    runtime.zone.records.push(record);
    unmanage(runtime, &record_id, product_id);
    Ok(record_id)
}

/// Runs the checks Account Factory makes before it changes anything.
fn check_change(
    zone: &LandingZone,
    product_id: &str,
    change: &PendingChange,
) -> Result<(), RecordError> {
    let product = zone.provisioned_product(product_id);
    let account_exists = product
        .and_then(|product| product.physical_id.as_deref())
        .is_some_and(|account_id| zone.account(account_id).is_some());
    match change {
        PendingChange::Provision { parameters } => {
            check_organizational_unit(zone, parameters)?;
            check_organizations_limits(parameters)?;
            check_email_free(zone, &parameters.account_email)
        }
        PendingChange::Update { parameters } => {
            check_organizational_unit(zone, parameters)?;
            check_organizations_limits(parameters)?;
            if account_exists {
                Ok(())
            } else {
                // Updating a product whose creation failed creates the account.
                check_email_free(zone, &parameters.account_email)
            }
        }
        PendingChange::Terminate { .. } => Ok(()),
    }
}

fn check_organizational_unit(
    zone: &LandingZone,
    parameters: &AccountFactoryParameters,
) -> Result<(), RecordError> {
    let value = &parameters.managed_organizational_unit;
    match zone.resolve_managed_organizational_unit(value) {
        Some(_) => Ok(()),
        None => Err(RecordError::new(
            "InvalidParametersException",
            &format!(
                "The parent organizational unit '{value}' is not enrolled in AWS Control Tower."
            ),
        )),
    }
}

/// Checks the limits Organizations puts on the values that reach it: account names of 1 to 128
/// characters and emails of 6 to 64.
fn check_organizations_limits(parameters: &AccountFactoryParameters) -> Result<(), RecordError> {
    let name_length = parameters.account_name.chars().count();
    if !(1..=128).contains(&name_length) {
        return Err(RecordError::new(
            "InvalidParametersException",
            &format!("The account name is {name_length} characters long; AWS Organizations accepts 1 to 128."),
        ));
    }
    let email_length = parameters.account_email.chars().count();
    if !(6..=64).contains(&email_length) {
        return Err(RecordError::new(
            "InvalidParametersException",
            &format!(
                "The account email {} is {email_length} characters long; AWS Organizations accepts 6 to 64.",
                parameters.account_email
            ),
        ));
    }
    Ok(())
}

fn check_email_free(zone: &LandingZone, email: &str) -> Result<(), RecordError> {
    match zone.email_holder(email) {
        None => Ok(()),
        Some(holder) => Err(RecordError::new(
            "InvalidParametersException",
            &format!(
                "The email address {email} is already used by {}. Each AWS account needs its own email address.",
                holder.describe()
            ),
        )),
    }
}

/// Builds the record error for an operation requested while the limit was reached.
pub fn concurrency_error(record_type: RecordType) -> RecordError {
    let action = match record_type {
        RecordType::ProvisionProduct => "create the account",
        RecordType::UpdateProvisionedProduct => "update the account",
        RecordType::TerminateProvisionedProduct => "unmanage the account",
    };
    RecordError::new(
        "ResourceInUseException",
        &format!("AWS Control Tower cannot {action} because another AWS Control Tower operation is in progress. Try again later."),
    )
}

/// Fails a record and sets the product's status as Service Catalog does: `ERROR` after a failed
/// creation, `TAINTED` after a failed update of an existing account, and the previous status after
/// a failed termination.
fn fail(runtime: &mut Runtime, record_id: &str, error: RecordError) {
    let now = Timestamp::now();
    let Some(record) = runtime.zone.record_mut(record_id) else {
        return;
    };
    let previous_status = record
        .pending
        .as_ref()
        .map_or(ProvisionedProductStatus::Error, |pending| {
            pending.previous_status
        });
    record.status = RecordStatus::Failed;
    record.updated_time = now;
    record.errors = vec![error.clone()];
    record.pending = None;
    let record_type = record.record_type;
    let product_id = record.provisioned_product_id.clone();

    if let Some(product) = runtime.zone.provisioned_product_mut(&product_id) {
        product.status = match record_type {
            RecordType::ProvisionProduct => ProvisionedProductStatus::Error,
            RecordType::UpdateProvisionedProduct if product.physical_id.is_some() => {
                ProvisionedProductStatus::Tainted
            }
            RecordType::UpdateProvisionedProduct => ProvisionedProductStatus::Error,
            RecordType::TerminateProvisionedProduct => previous_status,
        };
        product.status_message = Some(error.description.clone());
    }
    let account_id = product_account(&runtime.zone, record_id);
    log_record(runtime, record_id, account_id);
    runtime.mark_changed();
}

fn succeed(
    runtime: &mut Runtime,
    record_id: &str,
    outputs: Vec<crate::state::RecordOutput>,
    account_id: Option<String>,
) {
    let now = Timestamp::now();
    if let Some(record) = runtime.zone.record_mut(record_id) {
        record.status = RecordStatus::Succeeded;
        record.updated_time = now;
        record.outputs = outputs;
        record.pending = None;
    }
    log_record(runtime, record_id, account_id);
    runtime.mark_changed();
}

fn product_account(zone: &LandingZone, record_id: &str) -> Option<String> {
    let record = zone.record(record_id)?;
    zone.provisioned_product(&record.provisioned_product_id)?
        .physical_id
        .clone()
}

/// Logs a record's current status to tracing and to the event log.
fn log_record(runtime: &mut Runtime, record_id: &str, account_id: Option<String>) {
    let Some(record) = runtime.zone.record(record_id) else {
        return;
    };
    let error = record.errors.first().map(|error| error.description.clone());
    info!(
        record_id,
        record_type = record.record_type.as_str(),
        status = record.status.as_str(),
        provisioned_product_id = %record.provisioned_product_id,
        account_id = account_id.as_deref().unwrap_or(""),
        error = error.as_deref().unwrap_or(""),
        "record status changed"
    );
    let detail = EventDetail::Record {
        record_id: record.id.clone(),
        record_type: record.record_type,
        status: record.status,
        provisioned_product_id: record.provisioned_product_id.clone(),
        provisioned_product_name: record.provisioned_product_name.clone(),
        account_id,
        error,
    };
    runtime.log(detail);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Settings;
    use crate::seed::Seed;
    use crate::state::{managed_organizational_unit_value, ProvisionedProduct};

    fn runtime(max_concurrent_operations: usize) -> Runtime {
        let zone = Seed::default_landing_zone()
            .into_landing_zone(Timestamp::now())
            .expect("valid seed");
        let settings = Settings {
            provision_seconds: 1.0,
            close_seconds: 1.0,
            max_concurrent_operations,
        };
        Runtime::new(zone, settings)
    }

    fn parameters(runtime: &Runtime, name: &str, ou_name: &str) -> AccountFactoryParameters {
        let ou = runtime
            .zone
            .organizational_units
            .iter()
            .find(|ou| ou.name == ou_name)
            .expect("OU in the default seed");
        AccountFactoryParameters {
            account_name: name.to_string(),
            account_email: format!("team+{name}@example.com"),
            sso_user_email: "team@example.com".to_string(),
            sso_user_first_name: "Cloud".to_string(),
            sso_user_last_name: "Team".to_string(),
            managed_organizational_unit: managed_organizational_unit_value(ou),
        }
    }

    /// Adds a product, starts its provisioning and returns the record id.
    fn provision(runtime: &mut Runtime, name: &str, ou_name: &str) -> String {
        let parameters = parameters(runtime, name, ou_name);
        let product_id = format!("pp-{name}");
        runtime.zone.provisioned_products.push(ProvisionedProduct {
            id: product_id.clone(),
            name: name.to_string(),
            status: ProvisionedProductStatus::UnderChange,
            status_message: None,
            created_time: Timestamp::now(),
            idempotency_token: name.to_string(),
            last_record_id: String::new(),
            last_provisioning_record_id: String::new(),
            last_successful_provisioning_record_id: None,
            physical_id: None,
            parameters: parameters.clone(),
            tags: Vec::new(),
            user_arn: String::new(),
            path_id: String::new(),
        });
        begin_operation(
            runtime,
            OperationRequest {
                provisioned_product_id: product_id,
                record_type: RecordType::ProvisionProduct,
                change: PendingChange::Provision { parameters },
                injected_failure: None,
                known_failure: None,
                tags: Vec::new(),
            },
        )
    }

    fn status(runtime: &Runtime, record_id: &str) -> RecordStatus {
        runtime.zone.record(record_id).expect("record").status
    }

    #[test]
    fn record_moves_through_its_phases() {
        let mut runtime = runtime(5);
        let record_id = provision(&mut runtime, "kore-a", "kore-managed");
        assert_eq!(status(&runtime, &record_id), RecordStatus::Created);
        assert!(start(&mut runtime, &record_id));
        assert_eq!(status(&runtime, &record_id), RecordStatus::InProgress);
        finish(&mut runtime, &record_id);
        assert_eq!(status(&runtime, &record_id), RecordStatus::Succeeded);
        let product = runtime
            .zone
            .provisioned_product("pp-kore-a")
            .expect("product");
        assert_eq!(product.status, ProvisionedProductStatus::Available);
        let account_id = product.physical_id.clone().expect("account id");
        assert_eq!(
            runtime.zone.account(&account_id).map(|a| a.name.as_str()),
            Some("kore-a")
        );
    }

    #[test]
    fn request_beyond_limit_is_rejected_at_start() {
        let mut runtime = runtime(1);
        let first = provision(&mut runtime, "kore-a", "kore-managed");
        let second = provision(&mut runtime, "kore-b", "kore-managed");
        assert_eq!(runtime.zone.operations_in_flight(), 1);
        assert!(!start(&mut runtime, &second));
        assert_eq!(status(&runtime, &second), RecordStatus::Failed);
        let product = runtime
            .zone
            .provisioned_product("pp-kore-b")
            .expect("product");
        assert_eq!(product.status, ProvisionedProductStatus::Error);
        assert!(start(&mut runtime, &first));
    }

    #[test]
    fn unregistered_ou_fails_at_start() {
        let mut runtime = runtime(5);
        let record_id = provision(&mut runtime, "kore-a", "sandbox");
        assert!(!start(&mut runtime, &record_id));
        let record = runtime.zone.record(&record_id).expect("record");
        assert!(record.errors[0]
            .description
            .ends_with("is not enrolled in AWS Control Tower."));
        assert_eq!(runtime.zone.operations_in_flight(), 0);
    }

    #[test]
    fn email_taken_during_the_run_fails_at_finish() {
        let mut runtime = runtime(5);
        let record_id = provision(&mut runtime, "kore-a", "kore-managed");
        assert!(start(&mut runtime, &record_id));
        crate::organizations::accounts::create_account(
            &mut runtime,
            "console",
            "TEAM+kore-a@example.com",
            "r-xxxx",
            None,
        );
        finish(&mut runtime, &record_id);
        assert_eq!(status(&runtime, &record_id), RecordStatus::Failed);
    }

    #[test]
    fn failed_termination_restores_the_previous_status() {
        let mut runtime = runtime(5);
        let record_id = provision(&mut runtime, "kore-a", "kore-managed");
        start(&mut runtime, &record_id);
        finish(&mut runtime, &record_id);
        if let Some(product) = runtime.zone.provisioned_product_mut("pp-kore-a") {
            product.status = ProvisionedProductStatus::Tainted;
        }
        let terminate = begin_operation(
            &mut runtime,
            OperationRequest {
                provisioned_product_id: "pp-kore-a".to_string(),
                record_type: RecordType::TerminateProvisionedProduct,
                change: PendingChange::Terminate {
                    ignore_errors: false,
                },
                injected_failure: None,
                known_failure: Some(RecordError::new("InvalidStateException", "broken")),
                tags: Vec::new(),
            },
        );
        assert!(!start(&mut runtime, &terminate));
        let product = runtime
            .zone
            .provisioned_product("pp-kore-a")
            .expect("product");
        assert_eq!(product.status, ProvisionedProductStatus::Tainted);
        assert_eq!(
            product.status_message.as_deref(),
            Some("InvalidStateException  broken")
        );
    }
}
