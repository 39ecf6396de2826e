//! Account Factory behaviour through the unchanged aws-sdk-servicecatalog, aws-sdk-organizations
//! and aws-sdk-account clients: the account lifecycle and each faithful failure.

mod common;

use account_factory_emulator::faults::{FailProvisioning, FaultUpdate, TaintUpdate};
use aws_sdk_organizations::types::AccountState;
use aws_sdk_servicecatalog::error::ProvideErrorMetadata;
use aws_sdk_servicecatalog::types::{
    ProvisionedProductStatus, RecordStatus, UpdateProvisioningParameter,
};
use common::{output_value, quick_config, start, start_with};

fn update_parameter(key: &str, value: &str) -> UpdateProvisioningParameter {
    UpdateProvisioningParameter::builder()
        .key(key)
        .value(value)
        .build()
}

fn keep_parameter(key: &str) -> UpdateProvisioningParameter {
    UpdateProvisioningParameter::builder()
        .key(key)
        .use_previous_value(true)
        .build()
}

#[tokio::test]
async fn account_lifecycle() {
    let emulator = start().await;
    let kore_managed = emulator.ou_value("kore-managed").await;

    // Provision: the record starts CREATED and the product is UNDER_CHANGE.
    let record = emulator
        .provision(
            "kore-alpha-notprod",
            "cloud-team+kore-alpha-notprod@example.com",
            &kore_managed,
        )
        .await;
    assert_eq!(record.status(), Some(&RecordStatus::Created));
    assert_eq!(record.record_type(), Some("PROVISION_PRODUCT"));
    assert_eq!(
        record.provisioned_product_type(),
        Some("CONTROL_TOWER_ACCOUNT")
    );
    let product_id = record
        .provisioned_product_id()
        .expect("product id")
        .to_string();
    let product = emulator
        .catalog
        .describe_provisioned_product()
        .id(&product_id)
        .send()
        .await
        .expect("describe product");
    let detail = product.provisioned_product_detail().expect("detail");
    assert_eq!(
        detail.status(),
        Some(&ProvisionedProductStatus::UnderChange)
    );
    assert_eq!(detail.last_successful_provisioning_record_id(), None);

    let finished = emulator
        .wait_for_record(record.record_id().expect("record id"))
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );
    let account_id = output_value(&finished, "AccountId").expect("AccountId output");
    assert_eq!(
        output_value(&finished, "AccountEmail").as_deref(),
        Some("cloud-team+kore-alpha-notprod@example.com")
    );
    assert_eq!(
        output_value(&finished, "SSOUserEmail").as_deref(),
        Some("cloud-team@example.com")
    );
    assert_eq!(
        output_value(&finished, "SSOUserPortal").as_deref(),
        Some("https://d-xxxxxxxxxx.awsapps.com/start")
    );

    let product = emulator
        .catalog
        .describe_provisioned_product()
        .name("kore-alpha-notprod")
        .send()
        .await
        .expect("describe product by name");
    let detail = product.provisioned_product_detail().expect("detail");
    assert_eq!(detail.status(), Some(&ProvisionedProductStatus::Available));
    assert_eq!(
        detail.arn(),
        Some(format!("arn:aws:servicecatalog:eu-west-2:111111111111:stack/kore-alpha-notprod/{product_id}").as_str())
    );
    let found = emulator
        .catalog
        .search_provisioned_products()
        .filters(
            aws_sdk_servicecatalog::types::ProvisionedProductViewFilterBy::SearchQuery,
            vec![format!("physicalId:{account_id}")],
        )
        .send()
        .await
        .expect("search by physical id");
    assert_eq!(found.total_results_count(), 1);
    assert_eq!(
        found.provisioned_products()[0].physical_id(),
        Some(account_id.as_str())
    );

    let kore_managed_id = emulator.ou_id("kore-managed").await;
    let account = emulator
        .organizations
        .describe_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("describe account");
    let account = account.account().expect("account");
    assert_eq!(account.name(), Some("kore-alpha-notprod"));
    assert_eq!(account.state(), Some(&AccountState::Active));
    let parents = emulator
        .organizations
        .list_parents()
        .child_id(&account_id)
        .send()
        .await
        .expect("list parents");
    assert_eq!(parents.parents()[0].id(), Some(kore_managed_id.as_str()));

    // Update: rename and move to the nested Workloads/Production OU.
    let nested_production = emulator.ou_value("Workloads/Production").await;
    let update = emulator
        .catalog
        .update_provisioned_product()
        .provisioned_product_id(&product_id)
        .provisioning_parameters(update_parameter("AccountName", "kore-alpha-dev"))
        .provisioning_parameters(update_parameter(
            "ManagedOrganizationalUnit",
            &nested_production,
        ))
        .provisioning_parameters(keep_parameter("AccountEmail"))
        .provisioning_parameters(keep_parameter("SSOUserEmail"))
        .send()
        .await
        .expect("update product");
    let update_record = update.record_detail().expect("record");
    assert_eq!(
        update_record.record_type(),
        Some("UPDATE_PROVISIONED_PRODUCT")
    );
    let finished = emulator
        .wait_for_record(update_record.record_id().expect("record id"))
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );
    let account = emulator
        .organizations
        .describe_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("describe renamed account");
    assert_eq!(
        account.account().and_then(|a| a.name()),
        Some("kore-alpha-dev")
    );
    let nested_id = emulator.ou_id("Workloads/Production").await;
    let parents = emulator
        .organizations
        .list_parents()
        .child_id(&account_id)
        .send()
        .await
        .expect("list parents after move");
    assert_eq!(parents.parents()[0].id(), Some(nested_id.as_str()));

    // Terminate: the account moves to the root and stays active, and the product disappears.
    let terminate = emulator
        .catalog
        .terminate_provisioned_product()
        .provisioned_product_id(&product_id)
        .send()
        .await
        .expect("terminate product");
    let terminate_record_id = terminate
        .record_detail()
        .and_then(|d| d.record_id())
        .expect("record id")
        .to_string();
    let finished = emulator.wait_for_record(&terminate_record_id).await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.record_type()),
        Some("TERMINATE_PROVISIONED_PRODUCT")
    );
    let gone = emulator
        .catalog
        .describe_provisioned_product()
        .id(&product_id)
        .send()
        .await
        .expect_err("terminated product is gone");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    let again = emulator
        .catalog
        .terminate_provisioned_product()
        .provisioned_product_id(&product_id)
        .send()
        .await
        .expect_err("second terminate fails");
    assert_eq!(again.code(), Some("ResourceNotFoundException"));
    let parents = emulator
        .organizations
        .list_parents()
        .child_id(&account_id)
        .send()
        .await
        .expect("list parents after terminate");
    assert_eq!(parents.parents()[0].id(), Some("r-xxxx"));

    // Close: PENDING_CLOSURE, then SUSPENDED.
    emulator
        .organizations
        .close_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("close account");
    let closing = emulator
        .organizations
        .describe_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("describe closing account");
    assert_eq!(
        closing.account().and_then(|a| a.state()),
        Some(&AccountState::PendingClosure)
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let closed = emulator
        .organizations
        .describe_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("describe closed account");
    assert_eq!(
        closed.account().and_then(|a| a.state()),
        Some(&AccountState::Suspended)
    );

    // The terminate record stays describable.
    let record = emulator
        .catalog
        .describe_record()
        .id(&terminate_record_id)
        .send()
        .await
        .expect("old record");
    assert_eq!(
        record.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );
    emulator.stop().await;
}

#[tokio::test]
async fn concurrency_limit_fails_records() {
    let mut config = quick_config();
    config.max_concurrent_operations = 2;
    config.provision_seconds = 1.0;
    let emulator = start_with(config).await;
    let ou = emulator.ou_value("kore-managed").await;

    let mut records = Vec::new();
    for index in 0..3 {
        let name = format!("kore-team-{index}");
        let email = format!("cloud-team+kore-team-{index}@example.com");
        records.push(emulator.provision(&name, &email, &ou).await);
    }
    let mut statuses = Vec::new();
    for record in &records {
        let finished = emulator
            .wait_for_record(record.record_id().expect("id"))
            .await;
        statuses.push(finished);
    }
    let first_two_succeeded = statuses[..2].iter().all(|output| {
        output.record_detail().and_then(|d| d.status()) == Some(&RecordStatus::Succeeded)
    });
    assert!(first_two_succeeded);
    let third = statuses[2].record_detail().expect("detail");
    assert_eq!(third.status(), Some(&RecordStatus::Failed));
    let error = &third.record_errors()[0];
    assert_eq!(error.code(), Some("ResourceInUseException"));
    let description = error.description().expect("description");
    assert!(description.starts_with("ResourceInUseException  AWS Control Tower cannot"));
    assert!(description
        .contains("because another AWS Control Tower operation is in progress. Try again later."));

    let product = emulator
        .catalog
        .describe_provisioned_product()
        .name("kore-team-2")
        .send()
        .await
        .expect("describe rejected product");
    let detail = product.provisioned_product_detail().expect("detail");
    assert_eq!(detail.status(), Some(&ProvisionedProductStatus::Error));

    let counters = emulator.control.counters().await.expect("counters");
    assert_eq!(counters.max_operations_in_flight, 2);
    assert_eq!(counters.operations_rejected_for_concurrency, 1);
    assert_eq!(counters.operations_in_flight, 0);
    assert_eq!(counters.calls["ProvisionProduct"], 3);
    emulator.stop().await;
}

#[tokio::test]
async fn email_uniqueness_ignores_case() {
    let emulator = start().await;
    let ou = emulator.ou_value("kore-managed").await;

    // The audit account of the default seed uses aws-audit@example.com.
    let record = emulator
        .provision("kore-dup", "AWS-Audit@Example.COM", &ou)
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    let detail = finished.record_detail().expect("detail");
    assert_eq!(detail.status(), Some(&RecordStatus::Failed));
    let description = detail.record_errors()[0]
        .description()
        .expect("description");
    assert!(
        description.contains("333333333333"),
        "error names the holder: {description}"
    );
    let product = emulator
        .catalog
        .describe_provisioned_product()
        .name("kore-dup")
        .send()
        .await
        .expect("describe failed product");
    let product = product.provisioned_product_detail().expect("detail");
    assert_eq!(product.status(), Some(&ProvisionedProductStatus::Error));
    assert_eq!(product.status_message(), Some(description));

    // A closed account keeps its email.
    emulator
        .control
        .close_account("222222222222", true)
        .await
        .expect("console close");
    let record = emulator
        .provision("kore-reuse", "aws-log-archive@example.com", &ou)
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Failed)
    );
    emulator.stop().await;
}

#[tokio::test]
async fn ou_registration_and_forms() {
    let emulator = start().await;
    let nested_id = emulator.ou_id("Workloads/Production").await;
    let sandbox_value = emulator.ou_value("sandbox").await;

    let rejected = [
        ("kore-path", "Workloads/Production".to_string()),
        ("kore-bare-id", nested_id.clone()),
        ("kore-sandbox", sandbox_value),
        ("kore-typo", "kore-manged".to_string()),
        ("kore-ambiguous", "Production".to_string()),
    ];
    for (index, (name, ou)) in rejected.iter().enumerate() {
        let email = format!("cloud-team+ou{index}@example.com");
        let record = emulator.provision(name, &email, ou).await;
        let finished = emulator
            .wait_for_record(record.record_id().expect("id"))
            .await;
        let detail = finished.record_detail().expect("detail");
        assert_eq!(
            detail.status(),
            Some(&RecordStatus::Failed),
            "{name} with {ou}"
        );
        let description = detail.record_errors()[0]
            .description()
            .expect("description");
        assert!(
            description.ends_with("is not enrolled in AWS Control Tower."),
            "{name}: {description}"
        );
        assert!(description.contains(ou.as_str()), "{name}: {description}");
    }

    // The registered OU list excludes the sandbox OU.
    let (product_id, artifact_id, path_id) = emulator.launch_ids().await;
    let parameters = emulator
        .catalog
        .describe_provisioning_parameters()
        .product_id(product_id)
        .provisioning_artifact_id(artifact_id)
        .path_id(path_id)
        .send()
        .await
        .expect("describe provisioning parameters");
    let allowed = parameters
        .provisioning_artifact_parameters()
        .iter()
        .find(|parameter| parameter.parameter_key() == Some("ManagedOrganizationalUnit"))
        .and_then(|parameter| parameter.parameter_constraints())
        .map(|constraints| constraints.allowed_values().to_vec())
        .expect("allowed values");
    assert!(allowed.contains(&format!("Production ({nested_id})")));
    assert!(!allowed.iter().any(|value| value.starts_with("sandbox")));

    // The nested OU in `Name (id)` form works.
    let record = emulator
        .provision(
            "kore-nested",
            "cloud-team+nested@example.com",
            &format!("Production ({nested_id})"),
        )
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );
    let account_id = output_value(&finished, "AccountId").expect("account id");
    let parents = emulator
        .organizations
        .list_parents()
        .child_id(&account_id)
        .send()
        .await
        .expect("parents");
    assert_eq!(parents.parents()[0].id(), Some(nested_id.as_str()));
    emulator.stop().await;
}

#[tokio::test]
async fn failed_update_taints_product() {
    let emulator = start().await;
    let ou = emulator.ou_value("kore-managed").await;
    let record = emulator
        .provision("kore-taint", "cloud-team+kore-taint@example.com", &ou)
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    let account_id = output_value(&finished, "AccountId").expect("account id");
    let product_id = record
        .provisioned_product_id()
        .expect("product id")
        .to_string();

    emulator
        .control
        .set_faults(&FaultUpdate {
            taint_next_update: Some(TaintUpdate {
                message: "The OU move was rolled back.".to_string(),
                count: 1,
            }),
            ..FaultUpdate::default()
        })
        .await
        .expect("set fault");
    let staging = emulator.ou_value("Workloads/Staging").await;
    let update = emulator
        .catalog
        .update_provisioned_product()
        .provisioned_product_name("kore-taint")
        .provisioning_parameters(update_parameter("ManagedOrganizationalUnit", &staging))
        .send()
        .await
        .expect("update accepted");
    let finished = emulator
        .wait_for_record(
            update
                .record_detail()
                .and_then(|d| d.record_id())
                .expect("id"),
        )
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Failed)
    );

    let product = emulator
        .catalog
        .describe_provisioned_product()
        .id(&product_id)
        .send()
        .await
        .expect("describe");
    let detail = product.provisioned_product_detail().expect("detail");
    assert_eq!(detail.status(), Some(&ProvisionedProductStatus::Tainted));
    assert!(detail
        .status_message()
        .is_some_and(|message| message.contains("The OU move was rolled back.")));
    let kore_managed_id = emulator.ou_id("kore-managed").await;
    let parents = emulator
        .organizations
        .list_parents()
        .child_id(&account_id)
        .send()
        .await
        .expect("parents");
    assert_eq!(
        parents.parents()[0].id(),
        Some(kore_managed_id.as_str()),
        "account did not move"
    );

    // An update into an unregistered OU also taints the product.
    let sandbox = emulator.ou_value("sandbox").await;
    let update = emulator
        .catalog
        .update_provisioned_product()
        .provisioned_product_id(&product_id)
        .provisioning_parameters(update_parameter("ManagedOrganizationalUnit", &sandbox))
        .send()
        .await
        .expect("update accepted");
    emulator
        .wait_for_record(
            update
                .record_detail()
                .and_then(|d| d.record_id())
                .expect("id"),
        )
        .await;

    // Terminating a TAINTED product fails without IgnoreErrors and works with it.
    let terminate = emulator
        .catalog
        .terminate_provisioned_product()
        .provisioned_product_id(&product_id)
        .send()
        .await
        .expect("terminate accepted");
    let finished = emulator
        .wait_for_record(
            terminate
                .record_detail()
                .and_then(|d| d.record_id())
                .expect("id"),
        )
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Failed)
    );
    let product = emulator
        .catalog
        .describe_provisioned_product()
        .id(&product_id)
        .send()
        .await
        .expect("still there");
    assert_eq!(
        product
            .provisioned_product_detail()
            .and_then(|d| d.status()),
        Some(&ProvisionedProductStatus::Tainted)
    );
    let terminate = emulator
        .catalog
        .terminate_provisioned_product()
        .provisioned_product_id(&product_id)
        .ignore_errors(true)
        .send()
        .await
        .expect("terminate accepted");
    let finished = emulator
        .wait_for_record(
            terminate
                .record_detail()
                .and_then(|d| d.record_id())
                .expect("id"),
        )
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );
    emulator.stop().await;
}

#[tokio::test]
async fn failed_provisioning_retried_by_update() {
    let emulator = start().await;
    let ou = emulator.ou_value("kore-managed").await;
    emulator
        .control
        .set_faults(&FaultUpdate {
            fail_next_provisioning: Some(FailProvisioning {
                code: "InternalFailure".to_string(),
                message: "Injected provisioning failure.".to_string(),
                count: 1,
            }),
            ..FaultUpdate::default()
        })
        .await
        .expect("set fault");
    let record = emulator
        .provision("kore-retry", "cloud-team+kore-retry@example.com", &ou)
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    let detail = finished.record_detail().expect("detail");
    assert_eq!(detail.status(), Some(&RecordStatus::Failed));
    assert_eq!(
        detail.record_errors()[0].description(),
        Some("InternalFailure  Injected provisioning failure.")
    );

    // The same name is still taken by the errored product.
    let (product_id, artifact_id, _) = emulator.launch_ids().await;
    let duplicate = emulator
        .catalog
        .provision_product()
        .product_id(&product_id)
        .provisioning_artifact_id(&artifact_id)
        .provisioned_product_name("kore-retry")
        .set_provisioning_parameters(Some(common::parameters(
            "kore-retry",
            "cloud-team+kore-retry@example.com",
            &ou,
        )))
        .send()
        .await
        .expect_err("name is taken");
    assert_eq!(duplicate.code(), Some("InvalidParametersException"));
    assert_eq!(
        duplicate.message(),
        Some("A stack named kore-retry already exists.")
    );

    // Updating the errored product creates the account.
    let update = emulator
        .catalog
        .update_provisioned_product()
        .provisioned_product_name("kore-retry")
        .send()
        .await
        .expect("update accepted");
    let finished = emulator
        .wait_for_record(
            update
                .record_detail()
                .and_then(|d| d.record_id())
                .expect("id"),
        )
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );
    let account_id = output_value(&finished, "AccountId").expect("account created");
    let state = emulator.control.state().await.expect("state");
    let named = state
        .accounts
        .iter()
        .filter(|account| account.name == "kore-retry")
        .count();
    assert_eq!(named, 1);
    assert!(state.account(&account_id).is_some());
    emulator.stop().await;
}

#[tokio::test]
async fn no_portfolio_access_hides_product() {
    let emulator = start().await;
    let (product_id, artifact_id, _) = emulator.launch_ids().await;
    emulator
        .control
        .set_portfolio_access(false)
        .await
        .expect("remove access");

    let products = emulator
        .catalog
        .search_products()
        .send()
        .await
        .expect("search products");
    assert!(products.product_view_summaries().is_empty());
    let error = emulator
        .catalog
        .list_launch_paths()
        .product_id(&product_id)
        .send()
        .await
        .expect_err("no launch paths");
    assert_eq!(error.code(), Some("ResourceNotFoundException"));
    let error = emulator
        .catalog
        .provision_product()
        .product_id(&product_id)
        .provisioning_artifact_id(&artifact_id)
        .provisioned_product_name("kore-denied")
        .send()
        .await
        .expect_err("provisioning denied");
    assert_eq!(error.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        error.message(),
        Some(format!("No launch paths found for resource: {product_id}").as_str())
    );
    // The admin view still finds the product.
    let admin = emulator
        .catalog
        .describe_product_as_admin()
        .name("AWS Control Tower Account Factory")
        .send()
        .await
        .expect("admin describe");
    assert!(admin.product_view_detail().is_some());
    emulator.stop().await;
}

#[tokio::test]
async fn account_management_renames_in_place() {
    let emulator = start().await;
    emulator
        .account
        .put_account_name()
        .account_id("333333333333")
        .account_name("Audit Renamed")
        .send()
        .await
        .expect("put account name");
    let information = emulator
        .account
        .get_account_information()
        .account_id("333333333333")
        .send()
        .await
        .expect("get account information");
    assert_eq!(information.account_name(), Some("Audit Renamed"));
    assert!(information.account_created_date().is_some());
    let account = emulator
        .organizations
        .describe_account()
        .account_id("333333333333")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        account.account().and_then(|a| a.name()),
        Some("Audit Renamed")
    );

    let too_long = "x".repeat(51);
    let error = emulator
        .account
        .put_account_name()
        .account_id("333333333333")
        .account_name(too_long)
        .send()
        .await
        .expect_err("name too long");
    assert_eq!(
        aws_sdk_account::error::ProvideErrorMetadata::code(&error),
        Some("ValidationException")
    );
    emulator.stop().await;
}
