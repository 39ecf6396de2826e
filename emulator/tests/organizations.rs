//! Organizations and STS through the unchanged aws-sdk-organizations and aws-sdk-sts clients:
//! closure and its quota, paging, tags, moves and assumed roles.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use account_factory_emulator::faults::FaultUpdate;
use aws_sdk_organizations::error::ProvideErrorMetadata;
use aws_sdk_organizations::operation::close_account::CloseAccountError;
use aws_sdk_organizations::types::{AccountState, ChildType, ConstraintViolationExceptionReason};
use common::start;

#[tokio::test]
async fn close_quota_and_already_closed() {
    let emulator = start().await;
    emulator
        .control
        .set_faults(&FaultUpdate {
            close_quota_remaining: Some(Some(1)),
            ..FaultUpdate::default()
        })
        .await
        .expect("set quota");

    emulator
        .organizations
        .close_account()
        .account_id("222222222222")
        .send()
        .await
        .expect("first close within quota");
    let error = emulator
        .organizations
        .close_account()
        .account_id("333333333333")
        .send()
        .await
        .expect_err("quota exhausted");
    match error.into_service_error() {
        CloseAccountError::ConstraintViolationException(exception) => {
            assert_eq!(
                exception.reason(),
                Some(&ConstraintViolationExceptionReason::CloseAccountQuotaExceeded)
            );
            assert!(exception
                .message()
                .is_some_and(|message| message.contains("close account quota")));
        }
        other => panic!("expected ConstraintViolationException, got {other:?}"),
    }

    let error = emulator
        .organizations
        .close_account()
        .account_id("222222222222")
        .send()
        .await
        .expect_err("already closed");
    assert_eq!(error.code(), Some("AccountAlreadyClosedException"));

    let error = emulator
        .organizations
        .close_account()
        .account_id("111111111111")
        .send()
        .await
        .expect_err("management account");
    match error.into_service_error() {
        CloseAccountError::ConstraintViolationException(exception) => assert_eq!(
            exception.reason(),
            Some(&ConstraintViolationExceptionReason::CannotCloseManagementAccount)
        ),
        other => panic!("expected ConstraintViolationException, got {other:?}"),
    }

    // Once the quota frees, the second account can close.
    emulator
        .control
        .set_faults(&FaultUpdate {
            close_quota_remaining: Some(None),
            ..FaultUpdate::default()
        })
        .await
        .expect("lift quota");
    emulator
        .organizations
        .close_account()
        .account_id("333333333333")
        .send()
        .await
        .expect("close after the quota freed");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let account = emulator
        .organizations
        .describe_account()
        .account_id("333333333333")
        .send()
        .await
        .expect("describe");
    let account = account.account().expect("account");
    assert_eq!(account.state(), Some(&AccountState::Suspended));
    emulator.stop().await;
}

#[tokio::test]
async fn list_accounts_paging() {
    let emulator = start().await;
    for index in 0..4 {
        emulator
            .control
            .create_account(&account_factory_emulator::control::CreateAccountRequest {
                name: format!("extra-{index}"),
                email: format!("extra-{index}@example.com"),
                parent_id: None,
                id: None,
            })
            .await
            .expect("create account");
    }
    let pages: Vec<_> = emulator
        .organizations
        .list_accounts()
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("all pages");
    assert_eq!(pages.len(), 4);
    let mut ids: Vec<String> = pages
        .iter()
        .flat_map(|page| {
            page.accounts()
                .iter()
                .filter_map(|a| a.id().map(str::to_string))
        })
        .collect();
    assert_eq!(ids.len(), 7);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7);

    let error = emulator
        .organizations
        .list_accounts()
        .max_results(21)
        .send()
        .await
        .expect_err("page size above 20");
    assert_eq!(error.code(), Some("InvalidInputException"));
    let error = emulator
        .organizations
        .list_accounts()
        .next_token("not-a-token")
        .send()
        .await
        .expect_err("foreign token");
    assert_eq!(error.code(), Some("InvalidInputException"));
    emulator.stop().await;
}

#[tokio::test]
async fn tree_reads_and_moves() {
    let emulator = start().await;
    let organization = emulator
        .organizations
        .describe_organization()
        .send()
        .await
        .expect("describe organization");
    let organization = organization.organization().expect("organization");
    assert_eq!(organization.master_account_id(), Some("111111111111"));

    let roots = emulator
        .organizations
        .list_roots()
        .send()
        .await
        .expect("roots");
    assert_eq!(roots.roots()[0].id(), Some("r-xxxx"));
    let top = emulator
        .organizations
        .list_organizational_units_for_parent()
        .parent_id("r-xxxx")
        .send()
        .await
        .expect("top-level OUs");
    let names: Vec<&str> = top
        .organizational_units()
        .iter()
        .filter_map(|ou| ou.name())
        .collect();
    assert_eq!(
        names,
        [
            "Security",
            "kore-managed",
            "Production",
            "Workloads",
            "sandbox"
        ]
    );

    let security = emulator.ou_id("Security").await;
    let children = emulator
        .organizations
        .list_children()
        .parent_id(&security)
        .child_type(ChildType::Account)
        .send()
        .await
        .expect("children");
    assert_eq!(children.children().len(), 2);
    let accounts = emulator
        .organizations
        .list_accounts_for_parent()
        .parent_id(&security)
        .send()
        .await
        .expect("accounts for parent");
    assert_eq!(accounts.accounts().len(), 2);

    let sandbox = emulator.ou_id("sandbox").await;
    emulator
        .organizations
        .move_account()
        .account_id("333333333333")
        .source_parent_id(&security)
        .destination_parent_id(&sandbox)
        .send()
        .await
        .expect("move account");
    let error = emulator
        .organizations
        .move_account()
        .account_id("333333333333")
        .source_parent_id(&security)
        .destination_parent_id(&sandbox)
        .send()
        .await
        .expect_err("source is stale");
    assert_eq!(error.code(), Some("AccountNotFoundException"));
    let error = emulator
        .organizations
        .move_account()
        .account_id("333333333333")
        .source_parent_id(&sandbox)
        .destination_parent_id(&sandbox)
        .send()
        .await
        .expect_err("already there");
    assert_eq!(error.code(), Some("DuplicateAccountException"));
    let error = emulator
        .organizations
        .describe_organizational_unit()
        .organizational_unit_id("ou-xxxx-00000000")
        .send()
        .await
        .expect_err("unknown OU");
    assert_eq!(error.code(), Some("OrganizationalUnitNotFoundException"));
    emulator.stop().await;
}

#[tokio::test]
async fn tags_on_accounts_and_ous() {
    let emulator = start().await;
    emulator
        .organizations
        .tag_resource()
        .resource_id("222222222222")
        .tags(
            aws_sdk_organizations::types::Tag::builder()
                .key("team")
                .value("platform")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("tag account");
    let tags = emulator
        .organizations
        .list_tags_for_resource()
        .resource_id("222222222222")
        .send()
        .await
        .expect("list tags");
    assert_eq!(tags.tags()[0].key(), "team");
    assert_eq!(tags.tags()[0].value(), "platform");
    emulator
        .organizations
        .untag_resource()
        .resource_id("222222222222")
        .tag_keys("team")
        .send()
        .await
        .expect("untag");
    let tags = emulator
        .organizations
        .list_tags_for_resource()
        .resource_id("222222222222")
        .send()
        .await
        .expect("list tags after untag");
    assert!(tags.tags().is_empty());

    emulator
        .control
        .tag_account(
            "333333333333",
            BTreeMap::from([("owner".to_string(), "console".to_string())]),
        )
        .await
        .expect("console tag");
    let tags = emulator
        .organizations
        .list_tags_for_resource()
        .resource_id("333333333333")
        .send()
        .await
        .expect("list console tags");
    assert_eq!(tags.tags()[0].key(), "owner");

    let error = emulator
        .organizations
        .list_tags_for_resource()
        .resource_id("999999999999")
        .send()
        .await
        .expect_err("unknown target");
    assert_eq!(error.code(), Some("TargetNotFoundException"));
    emulator.stop().await;
}

#[tokio::test]
async fn assumed_role_identity() {
    let emulator = start().await;
    let identity = emulator
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("caller identity");
    assert_eq!(identity.account(), Some("111111111111"));

    let assumed = emulator
        .sts
        .assume_role()
        .role_arn("arn:aws:iam::222222222222:role/AWSControlTowerExecution")
        .role_session_name("kore")
        .send()
        .await
        .expect("assume role");
    let credentials = assumed.credentials().expect("credentials");
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert_eq!(
        assumed.assumed_role_user().map(|user| user.arn()),
        Some("arn:aws:sts::222222222222:assumed-role/AWSControlTowerExecution/kore")
    );

    let session = aws_sdk_sts::config::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        None,
        "emulator-test",
    );
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(emulator.server.url())
        .region(aws_config::Region::new(common::REGION))
        .credentials_provider(session)
        .load()
        .await;
    let member_sts = aws_sdk_sts::Client::new(&config);
    let identity = member_sts
        .get_caller_identity()
        .send()
        .await
        .expect("assumed identity");
    assert_eq!(identity.account(), Some("222222222222"));

    // A member account may not read the organization.
    let member_organizations = aws_sdk_organizations::Client::new(&config);
    let error = member_organizations
        .list_accounts()
        .send()
        .await
        .expect_err("member account");
    assert_eq!(error.code(), Some("AccessDeniedException"));

    let error = emulator
        .sts
        .assume_role()
        .role_arn("arn:aws:iam::999999999999:role/Outsider")
        .role_session_name("kore")
        .send()
        .await
        .expect_err("account outside the organization");
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&error),
        Some("AccessDenied")
    );
    emulator.stop().await;
}
