//! Failures that users of account-vending tools have reported, each replayed with Terraform
//! 1.15.5 against the landing-zone emulator. They cover concurrency limits, timeouts, failed
//! and tainted operations, OU and email mistakes caught at plan time, closing accounts, and
//! removing an organization that still has accounts. The import of an earlier Account Factory
//! account is tested in `import`, and an account moved in the console in `drift`.

use std::time::Duration;

use account_factory_emulator::control::CreateAccountRequest;
use account_factory_emulator::faults::{FailProvisioning, FaultUpdate, TaintUpdate};
use account_factory_emulator::state::{AccountState, RecordStatus, RecordType};
use account_factory_emulator::telemetry::EventDetail;

use crate::harness::{terraform, Terraform, Workdir};
use crate::landing::{
    account_hcl, assert_attribute_error, assert_plan_empty, diagnostics, errors, errors_on,
    planned_after, planned_changes, resource_values, state_list, Landing,
};

fn tf() -> &'static Terraform {
    terraform("1.15.5").expect("Terraform 1.15.5 is not installed; run `make tools`")
}

/// `count` accounts of team `load` named `kore-load-00`, `kore-load-01`, ...
fn many_accounts(count: usize) -> String {
    format!(
        r#"
resource "kore_cloud_account" "load" {{
  for_each        = toset([for i in range({count}) : format("%02d", i)])
  organization_id = kore_aws_organization.main.id
  team            = "load"
  name            = "kore-load-${{each.key}}"
}}
"#
    )
}

fn load_accounts(landing: &Landing) -> Vec<String> {
    landing
        .state()
        .accounts
        .into_iter()
        .filter(|a| a.name.starts_with("kore-load-"))
        .map(|a| a.name)
        .collect()
}

/// Ten accounts in one apply with the default limit of 5: the provider's limiter keeps
/// Account Factory below its quota, so nothing is rejected and the user sees no error.
#[test]
fn ten_accounts_respect_limit() {
    let landing = Landing::start(1.0);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&many_accounts(10)));

    workdir.apply(tf()).assert_success();

    let counters = landing.counters();
    assert!(
        counters.max_operations_in_flight <= 5,
        "{} operations ran at once",
        counters.max_operations_in_flight
    );
    assert!(
        counters.max_operations_in_flight >= 2,
        "the creates did not overlap: {counters:?}"
    );
    assert_eq!(counters.operations_rejected_for_concurrency, 0);
    assert_eq!(counters.calls.get("ProvisionProduct"), Some(&10));
    assert_eq!(load_accounts(&landing).len(), 10);
}

#[test]
fn provider_limit_caps_operations() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config_with("max_concurrent_operations = 2", &many_accounts(4)));

    workdir.apply(tf()).assert_success();

    let counters = landing.counters();
    assert!(
        counters.max_operations_in_flight <= 2,
        "{} operations ran at once with max_concurrent_operations = 2",
        counters.max_operations_in_flight
    );
    assert_eq!(counters.operations_rejected_for_concurrency, 0);
    assert_eq!(load_accounts(&landing).len(), 4);
}

/// Control Tower allows fewer operations than the provider's limit, so some records fail
/// with "another AWS Control Tower operation is in progress", and the provider retries them.
#[test]
fn busy_control_tower_retried() {
    let landing = Landing::start(0.5);
    landing.set_faults(FaultUpdate {
        max_concurrent_operations: Some(2),
        ..FaultUpdate::default()
    });
    let workdir = Workdir::new();
    workdir.write_config(&landing.config_with("max_concurrent_operations = 5", &many_accounts(5)));

    let run = workdir.apply(tf());

    run.assert_success();
    assert!(
        !run.output().contains("operation is in progress"),
        "the busy error reached the user: {run}"
    );
    // Products that failed as busy are terminated before the retry, so none may still run.
    landing.wait_idle(Duration::from_secs(5));
    let counters = landing.counters();
    assert!(
        counters.operations_rejected_for_concurrency > 0,
        "the emulator never rejected an operation, so the retry was not exercised: {counters:?}"
    );
    assert_eq!(load_accounts(&landing).len(), 5);
    let products = landing.state().provisioned_products;
    assert_eq!(products.len(), 5, "{products:#?}");
}

/// A create that times out leaves nothing in the state, so nothing is tainted, and the next
/// apply with the same configuration waits for the same provisioning instead of starting
/// another. Provisioning takes 10 s and the create timeout is 6 s, so the second apply starts
/// while the first provisioning still runs. Its own 6 s cover the rest, with a margin of about
/// 3 s for the plan in between.
#[test]
fn create_timeout_resumes() {
    let landing = Landing::start(10.0);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl(
        "slow",
        "alpha",
        "kore-alpha-slow",
        r#"  timeouts { create = "6s" }"#,
    )));

    let first = workdir.apply(tf());

    first.assert_failure();
    let state = landing.state();
    assert_eq!(state.provisioned_products.len(), 1);
    let product = &state.provisioned_products[0];
    let errors = errors_on(&first, "kore_cloud_account.slow");
    assert_eq!(errors.len(), 1, "{first}");
    assert!(errors[0].text.contains("timed out"), "{}", errors[0].text);
    assert!(
        errors[0].text.contains(&product.name),
        "the error does not name the provisioned product {}: {}",
        product.name,
        errors[0].text
    );
    assert_eq!(state_list(&workdir, tf()), ["kore_aws_organization.main"]);
    assert_eq!(
        landing.counters().operations_in_flight,
        1,
        "the provisioning should still run"
    );
    let record_id = product.last_record_id.clone();
    let mark = landing.events().last().map(|e| e.sequence).unwrap_or(0);

    let plan = workdir.plan(tf());
    assert!(
        plan.stdout
            .contains("kore_cloud_account.slow will be created"),
        "the account should be created, not replaced: {plan}"
    );
    workdir.apply(tf()).assert_success();

    assert_eq!(landing.calls("ProvisionProduct"), 1);
    let named: Vec<_> = landing
        .state()
        .accounts
        .into_iter()
        .filter(|a| a.name == "kore-alpha-slow")
        .collect();
    assert_eq!(named.len(), 1, "{named:#?}");
    let resumed = landing.events().into_iter().any(|event| {
        event.sequence > mark
            && matches!(&event.detail, EventDetail::Request { operation, ids, .. }
                if operation == "DescribeRecord" && ids.get("Id") == Some(&record_id))
    });
    assert!(resumed, "the second apply did not poll record {record_id}");
    let values = resource_values(&workdir, tf(), "kore_cloud_account.slow");
    assert_eq!(values["account_id"], named[0].id);
}

#[test]
fn wrong_ou_fails_plan() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let typo = account_hcl(
        "x",
        "alpha",
        "kore-alpha-notprod",
        r#"  organizational_unit = "kore-manged""#,
    );
    workdir.write_config(&landing.config(&typo));

    let run = workdir.plan(tf());

    assert_attribute_error(
        &run,
        "kore_cloud_account.x",
        "organizational_unit",
        &[
            "kore-manged",
            "Did you mean kore-managed",
            "Workloads/Production",
            "Security",
            "sandbox",
        ],
    );
    assert_eq!(landing.write_calls(), 0);

    workdir.write_config(&landing.config(&typo.replace("kore-manged", "kore-managed")));
    workdir.apply(tf()).assert_success();
    assert_eq!(landing.calls("ProvisionProduct"), 1);
    let account = landing.account("kore-alpha-notprod");
    assert_eq!(account.parent_id, landing.unit_id("kore-managed"));
}

#[test]
fn failed_provisioning_then_retry() {
    let landing = Landing::start(0.5);
    let message =
        "AWS Control Tower failed to create the account: the SSO user quota is exhausted.";
    landing.set_faults(FaultUpdate {
        fail_next_provisioning: Some(FailProvisioning {
            code: "InternalFailure".to_string(),
            message: message.to_string(),
            count: 1,
        }),
        ..FaultUpdate::default()
    });
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));

    let first = workdir.apply(tf());

    first.assert_failure();
    let failed_product = landing.state().provisioned_products[0].id.clone();
    assert!(failed_product.starts_with("pp-"), "{failed_product}");
    let errors = errors_on(&first, "kore_cloud_account.x");
    assert_eq!(errors.len(), 1, "{first}");
    assert!(errors[0].text.contains(message), "{}", errors[0].text);
    assert!(
        errors[0].text.contains(&failed_product),
        "the error does not name the provisioned product {failed_product}: {}",
        errors[0].text
    );
    assert_eq!(state_list(&workdir, tf()), ["kore_aws_organization.main"]);

    landing
        .block_on(landing.control.clear_faults())
        .expect("clear faults");
    workdir.apply(tf()).assert_success();

    let state = landing.state();
    let named = state
        .accounts
        .iter()
        .filter(|a| a.name == "kore-alpha-notprod")
        .count();
    assert_eq!(named, 1);
    assert_eq!(
        state.provisioned_products.len(),
        1,
        "the failed product remains"
    );
    assert_ne!(state.provisioned_products[0].id, failed_product);
    assert_eq!(landing.calls("TerminateProvisionedProduct"), 1);
    assert_plan_empty(&workdir, tf());
}

#[test]
fn tainted_update_keeps_old_ou() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account = account_hcl("x", "alpha", "kore-alpha-notprod", "");
    workdir.write_config(&landing.config(&account));
    workdir.apply(tf()).assert_success();
    let managed = landing.unit_id("kore-managed");
    let staging = landing.unit_id("Workloads/Staging");
    let taint = "AWS Control Tower could not baseline the account: the StackSet is out of date.";
    landing.set_faults(FaultUpdate {
        taint_next_update: Some(TaintUpdate {
            message: taint.to_string(),
            count: 1,
        }),
        ..FaultUpdate::default()
    });
    let moved = account_hcl(
        "x",
        "alpha",
        "kore-alpha-notprod",
        r#"  organizational_unit = "Workloads/Staging""#,
    );
    workdir.write_config(&landing.config(&moved));

    let run = workdir.apply(tf());

    run.assert_failure();
    let errors = errors_on(&run, "kore_cloud_account.x");
    assert_eq!(errors.len(), 1, "{run}");
    assert!(errors[0].text.contains(taint), "{}", errors[0].text);
    assert!(errors[0].text.contains("TAINTED"), "{}", errors[0].text);
    let values = resource_values(&workdir, tf(), "kore_cloud_account.x");
    assert_eq!(values["organizational_unit_id"], managed);
    assert_eq!(landing.account("kore-alpha-notprod").parent_id, managed);

    let plan = workdir.plan_json(tf());
    assert_eq!(planned_changes(&plan), ["kore_cloud_account.x: update"]);
    let after = planned_after(&plan, "kore_cloud_account.x");
    assert_eq!(
        after["organizational_unit_id"], staging,
        "the plan should propose the move again"
    );

    workdir.destroy(tf()).assert_success();
    assert!(landing.state().provisioned_products.is_empty());
}

#[test]
fn ambiguous_ou_fails_plan() {
    let landing = Landing::start(0.5);
    let top = landing.unit_id("Production");
    let nested = landing.unit_id("Workloads/Production");
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl(
        "x",
        "alpha",
        "kore-alpha-prod",
        r#"  organizational_unit = "Production""#,
    )));

    let run = workdir.plan(tf());

    assert_attribute_error(
        &run,
        "kore_cloud_account.x",
        "organizational_unit",
        &[
            &format!("Production ({top})"),
            &format!("Workloads/Production ({nested})"),
        ],
    );
    assert_eq!(landing.write_calls(), 0);
}

/// The path, the ID and `Name (ou-id)` all place the account in the nested OU, and the
/// state keeps the written form, so the next plan is empty.
#[test]
fn nested_ou_forms_land_account() {
    let landing = Landing::start(0.5);
    let nested = landing.unit_id("Workloads/Production");
    let forms = [
        ("path", "Workloads/Production".to_string()),
        ("id", nested.clone()),
        ("labelled", format!("Production ({nested})")),
    ];
    let body: String = forms
        .iter()
        .map(|(label, form)| {
            account_hcl(
                label,
                "alpha",
                &format!("kore-alpha-{label}"),
                &format!("  organizational_unit = \"{form}\""),
            )
        })
        .collect();
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&body));

    workdir.apply(tf()).assert_success();

    for (label, form) in &forms {
        let account = landing.account(&format!("kore-alpha-{label}"));
        assert_eq!(account.parent_id, nested, "{form}");
        let values = resource_values(&workdir, tf(), &format!("kore_cloud_account.{label}"));
        assert_eq!(values["organizational_unit_id"], nested, "{form}");
    }
    assert_plan_empty(&workdir, tf());
}

/// AWS compares emails without regard to case, so the alias of `Cloud.Team@Example.COM`
/// collides with an account whose email is the lowercase address.
#[test]
fn email_taken_ignoring_case() {
    let landing = Landing::start(0.5);
    let holder = landing
        .block_on(landing.control.create_account(&CreateAccountRequest {
            name: "legacy-alpha".to_string(),
            email: "cloud.team+kore-alpha-notprod@example.com".to_string(),
            parent_id: None,
            id: None,
        }))
        .expect("create the existing account");
    let organization =
        crate::landing::ORGANIZATION.replace("cloud-team@example.com", "Cloud.Team@Example.COM");
    let workdir = Workdir::new();
    workdir.write_config(&format!(
        "{}{organization}{}",
        landing.provider_block(""),
        account_hcl("x", "alpha", "kore-alpha-notprod", "")
    ));
    let writes = landing.write_calls();

    let run = workdir.plan(tf());

    assert_attribute_error(
        &run,
        "kore_cloud_account.x",
        "name",
        &[
            "Cloud.Team+kore-alpha-notprod@Example.COM",
            "legacy-alpha",
            &holder.id,
        ],
    );
    assert_eq!(landing.write_calls(), writes);
}

#[test]
fn rename_updates_in_place() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));
    workdir.apply(tf()).assert_success();
    let account_id = landing.account_id("kore-alpha-notprod");

    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-dev", "")));
    let plan = workdir.plan_json(tf());
    assert_eq!(planned_changes(&plan), ["kore_cloud_account.x: update"]);
    workdir.apply(tf()).assert_success();

    let state = landing.state();
    let account = state
        .accounts
        .iter()
        .find(|a| a.id == account_id)
        .expect("the account");
    assert_eq!(account.name, "kore-alpha-dev");
    let product = state
        .provisioned_products
        .iter()
        .find(|p| p.physical_id.as_deref() == Some(account_id.as_str()))
        .expect("the product");
    assert_eq!(product.parameters.account_name, "kore-alpha-dev");
    assert_eq!(
        account.email, "cloud-team+kore-alpha-notprod@example.com",
        "a rename keeps the email"
    );
    assert_plan_empty(&workdir, tf());
}

/// The account was unmanaged (its product terminated) and closed in the console. It stays in
/// the state with a warning, and the destroy skips the termination and treats the account as
/// closed.
#[test]
fn closed_after_unmanaged_destroy_succeeds() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl(
        "x",
        "alpha",
        "kore-alpha-notprod",
        "  close_on_deletion = true",
    )));
    workdir.apply(tf()).assert_success();
    let account = landing.account("kore-alpha-notprod");
    let product = landing.state().provisioned_products[0].id.clone();
    landing
        .block_on(landing.control.terminate_product(&product))
        .expect("terminate in the console");
    landing
        .block_on(landing.control.close_account(&account.id, true))
        .expect("close in the console");
    let plan = workdir.plan(tf());
    plan.assert_success();
    let unmanaged = format!(
        "Account {} is no longer managed by Account Factory",
        account.id
    );
    let warned = diagnostics(&plan.output())
        .iter()
        .any(|d| d.severity == "Warning" && d.summary == unmanaged);
    assert!(warned, "{plan}");

    workdir.destroy(tf()).assert_success();

    assert!(state_list(&workdir, tf()).is_empty());
    assert_eq!(landing.calls("TerminateProvisionedProduct"), 0);
    assert_eq!(
        landing.account("kore-alpha-notprod").state,
        AccountState::Suspended
    );
}

#[test]
fn closed_while_managed_destroy_succeeds() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl(
        "x",
        "alpha",
        "kore-alpha-notprod",
        "  close_on_deletion = true",
    )));
    workdir.apply(tf()).assert_success();
    let account = landing.account("kore-alpha-notprod");
    landing
        .block_on(landing.control.close_account(&account.id, false))
        .expect("close in the console");
    let plan = workdir.plan(tf());
    plan.assert_success();
    let warnings: Vec<_> = diagnostics(&plan.output())
        .into_iter()
        .filter(|d| {
            d.severity == "Warning" && d.summary == format!("Account {} is closed", account.id)
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{plan}");

    workdir.destroy(tf()).assert_success();

    assert!(state_list(&workdir, tf()).is_empty());
    let state = landing.state();
    assert!(state.provisioned_products.is_empty());
    let account = state.account(&account.id).expect("the account stays");
    assert!(account.state.is_closed_or_closing(), "{:?}", account.state);
}

/// With the close quota spent, the destroy terminates the product, fails on the quota at the
/// delete timeout and keeps the resource. Once the quota frees, the next destroy only closes.
#[test]
fn close_quota_exhausted_resumes() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl(
        "x",
        "alpha",
        "kore-alpha-notprod",
        "  close_on_deletion = true\n  timeouts { delete = \"5s\" }",
    )));
    workdir.apply(tf()).assert_success();
    let account_id = landing.account_id("kore-alpha-notprod");
    landing.set_faults(FaultUpdate {
        close_quota_remaining: Some(Some(0)),
        ..FaultUpdate::default()
    });

    let first = workdir.destroy(tf());

    first.assert_failure();
    let errors = errors(&first);
    assert_eq!(errors.len(), 1, "{first}");
    assert!(
        errors[0].summary.contains(&account_id),
        "{}",
        errors[0].summary
    );
    assert!(
        errors[0].text.contains("CLOSE_ACCOUNT_QUOTA_EXCEEDED"),
        "{}",
        errors[0].text
    );
    assert!(state_list(&workdir, tf()).contains(&"kore_cloud_account.x".to_string()));
    assert_eq!(landing.calls("TerminateProvisionedProduct"), 1);
    let events = landing.events();
    let terminated = events
        .iter()
        .position(|e| {
            matches!(&e.detail, EventDetail::Record { record_type: RecordType::TerminateProvisionedProduct, status: RecordStatus::Succeeded, account_id: Some(id), .. } if *id == account_id)
        })
        .expect("the termination succeeded");
    let first_close = events
        .iter()
        .position(|e| matches!(&e.detail, EventDetail::Request { operation, .. } if operation == "CloseAccount"))
        .expect("CloseAccount was called");
    assert!(
        terminated < first_close,
        "CloseAccount came before the termination succeeded"
    );
    assert_eq!(
        landing.state().account(&account_id).expect("account").state,
        AccountState::Active
    );

    landing.set_faults(FaultUpdate {
        close_quota_remaining: Some(None),
        ..FaultUpdate::default()
    });
    workdir.destroy(tf()).assert_success();

    assert_eq!(landing.calls("TerminateProvisionedProduct"), 1);
    assert!(state_list(&workdir, tf()).is_empty());
    let account = landing
        .state()
        .account(&account_id)
        .cloned()
        .expect("account");
    assert!(account.state.is_closed_or_closing(), "{:?}", account.state);
}

#[test]
fn no_portfolio_access_fails_plan() {
    let landing = Landing::start(0.5);
    landing
        .block_on(landing.control.set_portfolio_access(false))
        .expect("remove portfolio access");
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(""));

    let run = workdir.plan(tf());

    run.assert_failure();
    let errors = errors_on(&run, "kore_aws_organization.main");
    assert_eq!(errors.len(), 1, "{run}");
    let text = &errors[0].text;
    assert!(
        text.contains("\"AWS Control Tower Account Factory Portfolio\" portfolio"),
        "{text}"
    );
    assert!(text.contains("grant access"), "{text}");
    assert_eq!(landing.write_calls(), 0);
}

#[test]
fn long_alias_fails_plan() {
    let landing = Landing::start(0.5);
    let name = "kore-a-very-long-team-name-for-the-platform-engineering-group-notprod";
    let alias = format!("cloud-team+{name}@example.com");
    let over = alias.len() - 64;
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", name, "")));

    let run = workdir.plan(tf());

    assert_attribute_error(
        &run,
        "kore_cloud_account.x",
        "name",
        &[
            &alias,
            &format!("{over} over the 64-character limit"),
            "shorter account name",
            "shorter SSO email",
        ],
    );
    assert_eq!(landing.write_calls(), 0);
}

#[test]
fn duplicate_names_fail_plan() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let body = format!(
        "{}{}",
        account_hcl("a", "alpha", "kore-shared", ""),
        account_hcl("b", "beta", "kore-shared", "")
    );
    workdir.write_config(&landing.config(&body));

    let run = workdir.plan(tf());

    assert_attribute_error(&run, "kore_cloud_account.a", "name", &[r#"team "beta""#]);
    assert_attribute_error(&run, "kore_cloud_account.b", "name", &[r#"team "alpha""#]);
    assert_eq!(landing.write_calls(), 0);
}

/// The accounts live in another state that names the organization literally, so a targeted
/// destroy of the organization cannot take them with it.
#[test]
fn organization_delete_refused_with_accounts() {
    let landing = Landing::start(0.5);
    let organization = Workdir::new();
    organization.write_config(&landing.config(""));
    organization.apply(tf()).assert_success();
    let accounts = Workdir::new();
    let body = ["notprod", "prod"]
        .iter()
        .map(|env| {
            account_hcl(env, "alpha", &format!("kore-alpha-{env}"), "")
                .replace("kore_aws_organization.main.id", "\"acme\"")
        })
        .collect::<String>();
    accounts.write_config(&format!("{}{body}", landing.provider_block("")));
    accounts.apply(tf()).assert_success();
    let notprod = landing.account_id("kore-alpha-notprod");
    let prod = landing.account_id("kore-alpha-prod");

    let run = organization.terraform(
        tf(),
        &[
            "destroy",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-target=kore_aws_organization.main",
        ],
    );

    run.assert_failure();
    let errors = errors(&run);
    assert_eq!(errors.len(), 1, "{run}");
    assert!(
        errors[0].summary.contains("still manages accounts"),
        "{}",
        errors[0].summary
    );
    for listed in [
        format!("kore-alpha-notprod ({notprod})"),
        format!("kore-alpha-prod ({prod})"),
    ] {
        assert!(
            errors[0].text.contains(&listed),
            "{listed} missing: {}",
            errors[0].text
        );
    }
    assert_eq!(
        state_list(&organization, tf()),
        ["kore_aws_organization.main"]
    );
    let claim = landing
        .state()
        .organizational_units
        .into_iter()
        .find(|u| u.name == "kore-managed");
    assert_eq!(
        claim
            .expect("OU")
            .tags
            .get("kore:installation")
            .map(String::as_str),
        Some("acme"),
        "the claim must stay"
    );

    accounts.destroy(tf()).assert_success();
    organization.destroy(tf()).assert_success();
    let claim = landing
        .state()
        .organizational_units
        .into_iter()
        .find(|u| u.name == "kore-managed");
    assert!(!claim.expect("OU").tags.contains_key("kore:installation"));
}

#[test]
fn unregistered_ou_fails_plan() {
    let landing = Landing::start(0.5);
    let sandbox = landing.unit_id("sandbox");
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl(
        "x",
        "alpha",
        "kore-alpha-sandbox",
        r#"  organizational_unit = "sandbox""#,
    )));

    let run = workdir.plan(tf());

    assert_attribute_error(
        &run,
        "kore_cloud_account.x",
        "organizational_unit",
        &[
            &sandbox,
            "not registered with AWS Control Tower",
            "Register OU",
        ],
    );
    assert_eq!(landing.write_calls(), 0);
}

#[test]
fn email_change_rejected_at_plan() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));
    workdir.apply(tf()).assert_success();
    workdir.write_config(&landing.config(&account_hcl(
        "x",
        "alpha",
        "kore-alpha-notprod",
        r#"  email = "someone-else@example.com""#,
    )));
    let writes = landing.write_calls();

    let run = workdir.plan(tf());

    assert_attribute_error(
        &run,
        "kore_cloud_account.x",
        "email",
        &["cloud-team+kore-alpha-notprod@example.com", "cannot change"],
    );
    assert_eq!(landing.write_calls(), writes);
}

/// With `close_on_deletion = true` the account is closed only after the termination of its
/// product succeeded. Without it the account stays open.
#[test]
fn destroy_closes_after_termination() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let body = format!(
        "{}{}{}",
        account_hcl(
            "one",
            "alpha",
            "kore-alpha-one",
            "  close_on_deletion = true"
        ),
        account_hcl(
            "two",
            "alpha",
            "kore-alpha-two",
            "  close_on_deletion = true"
        ),
        account_hcl("kept", "alpha", "kore-alpha-kept", ""),
    );
    workdir.write_config(&landing.config(&body));
    workdir.apply(tf()).assert_success();
    let closed: Vec<String> = ["kore-alpha-one", "kore-alpha-two"]
        .iter()
        .map(|name| landing.account_id(name))
        .collect();
    let left_open = landing.account_id("kore-alpha-kept");

    let run = workdir.destroy(tf());

    run.assert_success();
    let warnings: Vec<String> = diagnostics(&run.output())
        .into_iter()
        .filter(|d| d.severity == "Warning")
        .map(|d| d.summary)
        .collect();
    let closing = format!("Account kore-alpha-one ({}) will be closed", closed[0]);
    assert!(warnings.contains(&closing), "{warnings:#?}");
    let staying = format!("Account kore-alpha-kept ({left_open}) will stay open");
    assert!(warnings.contains(&staying), "{warnings:#?}");

    let events = landing.events();
    for account_id in &closed {
        let terminated = events.iter().position(|e| {
            matches!(&e.detail, EventDetail::Record { record_type: RecordType::TerminateProvisionedProduct, status: RecordStatus::Succeeded, account_id: Some(id), .. } if id == account_id)
        });
        // The first CloseAccount call for this account, whether AWS accepted it or not.
        let close = events.iter().position(|e| {
            matches!(&e.detail, EventDetail::Request { operation, ids, .. }
                if operation == "CloseAccount" && ids.get("AccountId") == Some(account_id))
        });
        let (Some(terminated), Some(close)) = (terminated, close) else {
            panic!("account {account_id}: termination {terminated:?}, close {close:?}");
        };
        assert!(
            terminated < close,
            "account {account_id} was closed before its product was terminated"
        );
    }
    let close_of_left_open = events.iter().any(|e| {
        matches!(&e.detail, EventDetail::Request { operation, ids, .. } if operation == "CloseAccount" && ids.get("AccountId") == Some(&left_open))
    });
    assert!(
        !close_of_left_open,
        "the account without close_on_deletion was closed"
    );

    let state = landing.state();
    for account_id in &closed {
        let account = state.account(account_id).expect("account");
        assert!(
            account.state.is_closed_or_closing(),
            "{account_id}: {:?}",
            account.state
        );
    }
    let open_account = state.account(&left_open).expect("account");
    assert_eq!(open_account.state, AccountState::Active);
    assert_eq!(open_account.parent_id, state.organization.root_id);
}

/// Throttling and 5xx responses on reads and writes are retried by the SDK's retry policy, so
/// an apply and the plan after it succeed while the emulator fails a share of the calls.
#[test]
fn throttling_and_server_errors_retried() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&many_accounts(2)));
    landing.set_faults(FaultUpdate {
        throttle_rate: Some(0.1),
        service_unavailable_rate: Some(0.05),
        ..Default::default()
    });

    workdir.apply(tf()).assert_success();
    assert_plan_empty(&workdir, tf());

    let counters = landing.counters();
    let failed: u64 = counters.errors.values().sum();
    assert!(failed > 0, "the faults never fired: {counters:?}");
    assert_eq!(load_accounts(&landing).len(), 2);
    assert_eq!(
        counters.calls.get("ProvisionProduct").copied().unwrap_or(0)
            - counters
                .errors
                .get("ProvisionProduct")
                .copied()
                .unwrap_or(0),
        2,
        "one successful ProvisionProduct per account"
    );
}

/// Account blocks for a second Terraform state that refers to the installation by name.
fn foreign_account(label: &str, team: &str, name: &str, extra: &str) -> String {
    account_hcl(label, team, name, extra).replace("kore_aws_organization.main.id", "\"acme\"")
}

/// An account that another Terraform state manages is never adopted: a second state that
/// requests the same account, by name or by email, fails at plan time, naming the installation
/// and the import command, and writes nothing.
#[test]
fn managed_account_not_taken_over() {
    let landing = Landing::start(0.5);
    let owner = Workdir::new();
    owner.write_config(&landing.config(&account_hcl("ops", "ops", "kore-ops-dev", "")));
    owner.apply(tf()).assert_success();
    let account_id = landing.account_id("kore-ops-dev");
    let writes = landing.write_calls();

    let same_name = Workdir::new();
    same_name.write_config(&format!(
        "{}{}",
        landing.provider_block(""),
        foreign_account("copy", "ml", "kore-ops-dev", "")
    ));
    let run = same_name.plan(tf());
    assert_attribute_error(
        &run,
        "kore_cloud_account.copy",
        "name",
        &[
            "Email already in use",
            "already manages",
            "terraform import",
            &account_id,
        ],
    );

    let same_email = Workdir::new();
    same_email.write_config(&format!(
        "{}{}",
        landing.provider_block(""),
        foreign_account(
            "copy",
            "platform",
            "kore-platform-dev",
            r#"  email = "cloud-team+kore-ops-dev@example.com""#
        )
    ));
    let run = same_email.plan(tf());
    assert_attribute_error(
        &run,
        "kore_cloud_account.copy",
        "email",
        &["already manages", &account_id],
    );
    assert_eq!(
        landing.write_calls(),
        writes,
        "a failed plan writes nothing"
    );
    assert_eq!(
        landing
            .account("kore-ops-dev")
            .tags
            .get("kore:team")
            .map(String::as_str),
        Some("ops"),
        "the owner's tags are untouched"
    );
    assert_plan_empty(&owner, tf());
}

/// A second state cannot create an installation that already claims its OU. The error
/// names the import command instead.
#[test]
fn existing_installation_not_taken_over() {
    let landing = Landing::start(0.5);
    let owner = Workdir::new();
    owner.write_config(&landing.config(""));
    owner.apply(tf()).assert_success();
    let writes = landing.write_calls();

    let other = Workdir::new();
    other.write_config(
        &landing
            .config("")
            .replace("cloud-team@example.com", "someone-else@example.com"),
    );
    let run = other.plan(tf());
    assert_attribute_error(
        &run,
        "kore_aws_organization.main",
        "name",
        &["already claims", "terraform import", "acme"],
    );
    assert_eq!(landing.write_calls(), writes);
    assert_plan_empty(&owner, tf());
}

/// A new SSO email and a new account in the same apply: the account's email alias comes from
/// the new SSO email, in the plan and in AWS.
#[test]
fn sso_change_with_new_account() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(""));
    workdir.apply(tf()).assert_success();

    let changed = landing
        .config(&account_hcl("new", "ml", "kore-ml-prod", ""))
        .replace("cloud-team@example.com", "platform-team@example.com");
    workdir.write_config(&changed);
    let plan = workdir.plan_json(tf());
    assert_eq!(
        planned_after(&plan, "kore_cloud_account.new")["email"],
        "platform-team+kore-ml-prod@example.com"
    );
    workdir.apply(tf()).assert_success();
    assert_eq!(
        landing.account("kore-ml-prod").email,
        "platform-team+kore-ml-prod@example.com"
    );
    assert_plan_empty(&workdir, tf());
}
