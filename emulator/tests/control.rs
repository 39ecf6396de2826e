//! The control client against a running emulator: every console change shows through the AWS
//! APIs as the provider would see it.

mod common;

use account_factory_emulator::control::{CreateAccountRequest, CreateOrganizationalUnitRequest};
use account_factory_emulator::faults::FaultUpdate;
use account_factory_emulator::seed::Seed;
use account_factory_emulator::telemetry::EventDetail;
use aws_sdk_organizations::error::ProvideErrorMetadata;
use aws_sdk_organizations::types::AccountState;
use aws_sdk_servicecatalog::types::RecordStatus;
use common::{output_value, start};

#[tokio::test]
async fn console_changes_visible_in_apis() {
    let emulator = start().await;
    let control = &emulator.control;
    control.health().await.expect("health");
    let ou = emulator.ou_value("kore-managed").await;
    let record = emulator
        .provision("kore-console", "cloud-team+kore-console@example.com", &ou)
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    let account_id = output_value(&finished, "AccountId").expect("account id");

    // Move and rename outside Account Factory: drift the provider must see.
    let staging = emulator.ou_id("Workloads/Staging").await;
    let moved = control
        .move_account(&account_id, &staging)
        .await
        .expect("move");
    assert_eq!(moved.parent_id, staging);
    control
        .rename_account(&account_id, "renamed-in-console")
        .await
        .expect("rename");
    let account = emulator
        .organizations
        .describe_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        account.account().and_then(|a| a.name()),
        Some("renamed-in-console")
    );
    let parents = emulator
        .organizations
        .list_parents()
        .child_id(&account_id)
        .send()
        .await
        .expect("parents");
    assert_eq!(parents.parents()[0].id(), Some(staging.as_str()));

    // Terminate in the console: the product goes at once and the account moves to the root.
    let terminate = control
        .terminate_product("kore-console")
        .await
        .expect("console terminate");
    assert_eq!(terminate.status.as_str(), "SUCCEEDED");
    let error = emulator
        .catalog
        .describe_provisioned_product()
        .name("kore-console")
        .send()
        .await
        .expect_err("product gone");
    assert_eq!(
        aws_sdk_servicecatalog::error::ProvideErrorMetadata::code(&error),
        Some("ResourceNotFoundException")
    );
    let record = emulator
        .catalog
        .describe_record()
        .id(&terminate.id)
        .send()
        .await
        .expect("console record is describable");
    assert_eq!(
        record.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );

    // Close in the console, immediately suspended.
    let closed = control
        .close_account(&account_id, true)
        .await
        .expect("close");
    assert_eq!(closed.state.as_str(), "SUSPENDED");
    let account = emulator
        .organizations
        .describe_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("describe closed");
    assert_eq!(
        account.account().and_then(|a| a.state()),
        Some(&AccountState::Suspended)
    );

    // Remove from the organization: the account is gone but its email stays taken.
    control.remove_account(&account_id).await.expect("remove");
    let error = emulator
        .organizations
        .describe_account()
        .account_id(&account_id)
        .send()
        .await
        .expect_err("left the organization");
    assert_eq!(error.code(), Some("AccountNotFoundException"));
    let record = emulator
        .provision("kore-console-2", "Cloud-Team+Kore-Console@example.com", &ou)
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Failed)
    );

    let events = control.log(0).await.expect("log");
    let console_actions: Vec<&str> = events
        .iter()
        .filter_map(|event| match &event.detail {
            EventDetail::Control { action, .. } => Some(action.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        console_actions,
        [
            "console/move-account",
            "console/rename-account",
            "console/terminate-product",
            "console/close-account",
            "console/remove-account"
        ]
    );
    emulator.stop().await;
}

#[tokio::test]
async fn console_creates_accounts_and_ous() {
    let emulator = start().await;
    let control = &emulator.control;
    let ou = control
        .create_organizational_unit(&CreateOrganizationalUnitRequest {
            name: "team-ou".to_string(),
            parent_id: None,
            registered: true,
        })
        .await
        .expect("create OU");
    let account = control
        .create_account(&CreateAccountRequest {
            name: "kore-alpha-notprod".to_string(),
            email: "cloud.team+kore-alpha-notprod@example.com".to_string(),
            parent_id: Some(ou.id.clone()),
            id: Some("444444444444".to_string()),
        })
        .await
        .expect("create account");
    assert_eq!(account.id, "444444444444");
    let children = emulator
        .organizations
        .list_accounts_for_parent()
        .parent_id(&ou.id)
        .send()
        .await
        .expect("accounts in new OU");
    assert_eq!(children.accounts()[0].id(), Some("444444444444"));

    let duplicate = control
        .create_account(&CreateAccountRequest {
            name: "again".to_string(),
            email: "Cloud.Team+Kore-Alpha-Notprod@Example.COM".to_string(),
            parent_id: None,
            id: None,
        })
        .await
        .expect_err("email taken");
    assert!(duplicate.to_string().contains("444444444444"));

    // The new registered OU is offered to Account Factory.
    let value = format!("team-ou ({})", ou.id);
    let record = emulator
        .provision("kore-team", "cloud-team+kore-team@example.com", &value)
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );
    emulator.stop().await;
}

#[tokio::test]
async fn reset_to_custom_seed() {
    let emulator = start().await;
    let seed: Seed = serde_json::from_value(serde_json::json!({
        "caller": {"portfolio_access": false},
        "organizational_units": [{
            "name": "kore-managed",
            "accounts": [{
                "name": "kore-existing",
                "email": "cloud-team+kore-existing@example.com",
                "provisioned_product": {"sso_user_email": "cloud-team@example.com"}
            }]
        }],
        "close_quota": 0
    }))
    .expect("seed parses");
    let summary = emulator
        .control
        .reset_to(&seed)
        .await
        .expect("reset to seed");
    assert_eq!(summary.accounts, 2);
    assert_eq!(summary.provisioned_products, 1);
    let products = emulator
        .catalog
        .search_products()
        .send()
        .await
        .expect("search");
    assert!(products.product_view_summaries().is_empty());
    let faults = emulator.control.faults().await.expect("faults");
    assert_eq!(faults.close_quota_remaining, Some(0));

    let status = emulator
        .control
        .set_faults(&FaultUpdate {
            provision_seconds: Some(7.5),
            ..FaultUpdate::default()
        })
        .await
        .expect("set");
    assert_eq!(status.provision_seconds, 7.5);
    let status = emulator.control.clear_faults().await.expect("clear");
    assert_eq!(status.provision_seconds, 0.3);

    let bad = emulator
        .control
        .set_faults(&FaultUpdate {
            throttle_rate: Some(2.0),
            ..FaultUpdate::default()
        })
        .await
        .expect_err("rate above 1");
    assert!(bad.to_string().contains("throttle_rate"));
    emulator.stop().await;
}

#[tokio::test]
async fn repeated_provision_token_idempotent() {
    let emulator = start().await;
    let (product_id, artifact_id, _) = emulator.launch_ids().await;
    let ou = emulator.ou_value("kore-managed").await;
    let request = || {
        emulator
            .catalog
            .provision_product()
            .product_id(&product_id)
            .provisioning_artifact_id(&artifact_id)
            .provisioned_product_name("kore-token")
            .provision_token("token-1")
            .set_provisioning_parameters(Some(common::parameters(
                "kore-token",
                "cloud-team+kore-token@example.com",
                &ou,
            )))
            .send()
    };
    let first = request().await.expect("first request");
    let second = request().await.expect("repeat with the same token");
    assert_eq!(
        first.record_detail().and_then(|d| d.record_id()),
        second.record_detail().and_then(|d| d.record_id())
    );
    emulator.stop().await;
}
