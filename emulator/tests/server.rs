//! Server behaviour: persistence across restarts, authentication, injected request faults,
//! the event log and the loopback rule.

mod common;

use std::time::Duration;

use account_factory_emulator::faults::{FailOperation, FaultUpdate};
use account_factory_emulator::telemetry::EventDetail;
use account_factory_emulator::{serve, Config, StartError};
use aws_sdk_servicecatalog::error::ProvideErrorMetadata;
use aws_sdk_servicecatalog::types::RecordStatus;
use common::{output_value, quick_config, start, start_with};

#[tokio::test]
async fn state_file_survives_restart() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let mut config = quick_config();
    config.state_file = Some(common::state_file_in(&directory));

    let emulator = start_with(config.clone()).await;
    let ou = emulator.ou_value("kore-managed").await;
    let record = emulator
        .provision("kore-persist", "cloud-team+kore-persist@example.com", &ou)
        .await;
    let finished = emulator
        .wait_for_record(record.record_id().expect("id"))
        .await;
    let account_id = output_value(&finished, "AccountId").expect("account id");
    // A second provisioning is still running when the server stops.
    let running = emulator
        .provision(
            "kore-in-flight",
            "cloud-team+kore-in-flight@example.com",
            &ou,
        )
        .await;
    let before = emulator.control.state().await.expect("state before");
    emulator.stop().await;

    let emulator = start_with(config).await;
    let after = emulator.control.state().await.expect("state after");
    assert_eq!(after.accounts, before.accounts);
    assert_eq!(after.organizational_units, before.organizational_units);
    let account = emulator
        .organizations
        .describe_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("account survives the restart");
    assert_eq!(
        account.account().and_then(|a| a.name()),
        Some("kore-persist")
    );
    let product = emulator
        .catalog
        .describe_provisioned_product()
        .name("kore-persist")
        .send()
        .await
        .expect("product survives the restart");
    assert!(product.provisioned_product_detail().is_some());

    // The interrupted record resumes and finishes after the restart.
    let finished = emulator
        .wait_for_record(running.record_id().expect("id"))
        .await;
    assert_eq!(
        finished.record_detail().and_then(|d| d.status()),
        Some(&RecordStatus::Succeeded)
    );
    emulator.stop().await;
}

#[tokio::test]
async fn missing_authorization_rejected() {
    let emulator = start().await;
    let http = reqwest::Client::new();
    let response = http
        .post(emulator.server.url())
        .header("X-Amz-Target", "AWSOrganizationsV20161128.ListRoots")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 403);
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let body: serde_json::Value = response.json().await.expect("json body");
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");

    let response = http
        .post(emulator.server.url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("Action=GetCallerIdentity&Version=2011-06-15")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 403);
    let body = response.text().await.expect("xml body");
    assert!(body.contains("<Code>MissingAuthenticationToken</Code>"));
    assert!(body.contains("<RequestId>"));
    emulator.stop().await;
}

#[tokio::test]
async fn scripted_throttling_retried_by_sdk() {
    let emulator = start().await;
    emulator
        .control
        .set_faults(&FaultUpdate {
            fail_operation: Some(FailOperation {
                operation: "SearchProducts".to_string(),
                count: 2,
                code: "ThrottlingException".to_string(),
                message: "Rate exceeded".to_string(),
                status: 400,
                reason: None,
            }),
            ..FaultUpdate::default()
        })
        .await
        .expect("set fault");
    let products = emulator
        .catalog
        .search_products()
        .send()
        .await
        .expect("third attempt succeeds");
    assert_eq!(products.product_view_summaries().len(), 1);
    let counters = emulator.control.counters().await.expect("counters");
    assert_eq!(counters.calls["SearchProducts"], 3);
    assert_eq!(counters.errors["SearchProducts"], 2);

    // A non-retryable scripted error reaches the caller.
    emulator
        .control
        .set_faults(&FaultUpdate {
            fail_operation: Some(FailOperation {
                operation: "DescribeRecord".to_string(),
                count: 1,
                code: "ResourceNotFoundException".to_string(),
                message: "Injected.".to_string(),
                status: 400,
                reason: None,
            }),
            ..FaultUpdate::default()
        })
        .await
        .expect("set fault");
    let error = emulator
        .catalog
        .describe_record()
        .id("rec-anything")
        .send()
        .await
        .expect_err("scripted error");
    assert_eq!(error.code(), Some("ResourceNotFoundException"));
    assert_eq!(error.message(), Some("Injected."));
    emulator.stop().await;
}

#[tokio::test]
async fn server_errors_retried() {
    let emulator = start().await;
    emulator
        .control
        .set_faults(&FaultUpdate {
            fail_operation: Some(FailOperation {
                operation: "DescribeOrganization".to_string(),
                count: 1,
                code: "ServiceUnavailable".to_string(),
                message: "Try later.".to_string(),
                status: 503,
                reason: None,
            }),
            ..FaultUpdate::default()
        })
        .await
        .expect("set fault");
    emulator
        .organizations
        .describe_organization()
        .send()
        .await
        .expect("retried after 503");
    let counters = emulator.control.counters().await.expect("counters");
    assert_eq!(counters.calls["DescribeOrganization"], 2);
    emulator.stop().await;
}

#[tokio::test]
async fn event_log_order() {
    let emulator = start().await;
    let ou = emulator.ou_value("kore-managed").await;
    let record = emulator
        .provision("kore-log", "cloud-team+kore-log@example.com", &ou)
        .await;
    let record_id = record.record_id().expect("id").to_string();
    emulator.wait_for_record(&record_id).await;

    let events = emulator.control.log(0).await.expect("log");
    let sequences: Vec<u64> = events.iter().map(|event| event.sequence).collect();
    let mut sorted = sequences.clone();
    sorted.sort_unstable();
    assert_eq!(sequences, sorted);

    let position = |wanted: &str| {
        events.iter().position(|event| match &event.detail {
            EventDetail::Record {
                record_id: id,
                status,
                ..
            } => *id == record_id && status.as_str() == wanted,
            _ => false,
        })
    };
    let created = position("CREATED").expect("created event");
    let in_progress = position("IN_PROGRESS").expect("in-progress event");
    let succeeded = position("SUCCEEDED").expect("succeeded event");
    assert!(created < in_progress);
    assert!(in_progress < succeeded);
    let EventDetail::Record { account_id, .. } = &events[succeeded].detail else {
        unreachable!("position matched a record event");
    };
    assert!(account_id.is_some());
    let provision_request = events.iter().any(|event| {
        matches!(&event.detail, EventDetail::Request { operation, ids, .. }
            if operation == "ProvisionProduct" && ids.get("RecordId") == Some(&record_id))
    });
    assert!(provision_request);

    let later = emulator
        .control
        .log(sequences[sequences.len() - 2])
        .await
        .expect("tail");
    assert_eq!(later.len(), 1);
    emulator.stop().await;
}

#[tokio::test]
async fn reset_discards_running_work() {
    let emulator = start().await;
    let ou = emulator.ou_value("kore-managed").await;
    emulator
        .provision("kore-reset", "cloud-team+kore-reset@example.com", &ou)
        .await;
    let summary = emulator.control.reset().await.expect("reset");
    assert_eq!(summary.accounts, 3);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let state = emulator.control.state().await.expect("state");
    assert_eq!(
        state.accounts.len(),
        3,
        "the record started before the reset created nothing"
    );
    assert!(state.provisioned_products.is_empty());
    let counters = emulator.control.counters().await.expect("counters");
    assert!(counters.calls.is_empty());
    emulator.stop().await;
}

#[tokio::test]
async fn non_loopback_address_rejected() {
    let config = Config {
        listen: "0.0.0.0:0".parse().expect("address"),
        ..Config::default()
    };
    let error = serve(config).await.expect_err("refused");
    assert!(matches!(error, StartError::NonLoopback(_)));
    assert!(error.to_string().contains("--allow-non-loopback"));
}

#[tokio::test]
async fn unknown_operation_json_error() {
    let emulator = start().await;
    let http = reqwest::Client::new();
    let response = http
        .post(emulator.server.url())
        .header("X-Amz-Target", "AWS242ServiceCatalogService.CreatePortfolio")
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-2/servicecatalog/aws4_request, SignedHeaders=host, Signature=0")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "UnknownOperationException"
    );
    emulator.stop().await;
}
