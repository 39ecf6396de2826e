//! Changes made to a managed account outside Terraform, each with its defined outcome. A
//! rename, an OU move and edited tags show in the next plan as an update back to the
//! configuration. A closed account, or one whose product was terminated, stays in the state
//! with a warning. An account that left the organization leaves the state with a warning.

use std::collections::BTreeMap;

use account_factory_emulator::state::AccountState;

use crate::harness::{terraform, Terraform, Workdir};
use crate::landing::{
    account_hcl, assert_plan_empty, diagnostics, planned_after, planned_changes, resource_values,
    state_list, Landing,
};

fn tf() -> &'static Terraform {
    terraform("1.15.5").expect("Terraform 1.15.5 is not installed; run `make tools`")
}

/// Applies one account `kore_cloud_account.x` named `kore-alpha-notprod` and returns its ID.
fn managed_account(landing: &Landing, workdir: &Workdir, extra: &str) -> String {
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", extra)));
    workdir.apply(tf()).assert_success();
    landing.account_id("kore-alpha-notprod")
}

fn warning_summaries(output: &str) -> Vec<String> {
    diagnostics(output)
        .into_iter()
        .filter(|d| d.severity == "Warning")
        .map(|d| d.summary)
        .collect()
}

#[test]
fn renamed_in_console_renamed_back() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account_id = managed_account(&landing, &workdir, "");
    landing
        .block_on(
            landing
                .control
                .rename_account(&account_id, "renamed-by-hand"),
        )
        .expect("rename in the console");

    let plan = workdir.plan_json(tf());

    assert_eq!(planned_changes(&plan), ["kore_cloud_account.x: update"]);
    assert_eq!(
        plan["resource_changes"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["address"] == "kore_cloud_account.x"))
            .expect("change")["change"]["before"]["name"],
        "renamed-by-hand"
    );
    assert_eq!(
        planned_after(&plan, "kore_cloud_account.x")["name"],
        "kore-alpha-notprod"
    );

    workdir.apply(tf()).assert_success();

    let state = landing.state();
    let account = state.account(&account_id).expect("account");
    assert_eq!(account.name, "kore-alpha-notprod");
    let product = state
        .provisioned_products
        .iter()
        .find(|p| p.physical_id.as_deref() == Some(account_id.as_str()))
        .expect("product");
    assert_eq!(product.parameters.account_name, "kore-alpha-notprod");
    assert_plan_empty(&workdir, tf());
}

#[test]
fn moved_in_console_moved_back() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account_id = managed_account(&landing, &workdir, "");
    let managed = landing.unit_id("kore-managed");
    let staging = landing.unit_id("Workloads/Staging");
    landing
        .block_on(landing.control.move_account(&account_id, &staging))
        .expect("move in the console");

    let plan = workdir.plan_json(tf());

    assert_eq!(planned_changes(&plan), ["kore_cloud_account.x: update"]);
    assert_eq!(
        planned_after(&plan, "kore_cloud_account.x")["organizational_unit_id"],
        managed
    );

    workdir.apply(tf()).assert_success();

    assert_eq!(landing.account("kore-alpha-notprod").parent_id, managed);
    assert!(landing.calls("UpdateProvisionedProduct") >= 1);
    let values = resource_values(&workdir, tf(), "kore_cloud_account.x");
    assert_eq!(values["organizational_unit_id"], managed);
    assert_plan_empty(&workdir, tf());
}

/// Edited and added user tags, and a changed `kore:team` tag, are all put back.
#[test]
fn tags_edited_restored() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account_id = managed_account(&landing, &workdir, r#"  tags = { env = "dev" }"#);
    let edits = BTreeMap::from([
        ("env".to_string(), "changed".to_string()),
        ("added-by-hand".to_string(), "x".to_string()),
        ("kore:team".to_string(), "beta".to_string()),
    ]);
    landing
        .block_on(landing.control.tag_account(&account_id, edits))
        .expect("tag in the console");

    let plan = workdir.plan_json(tf());

    assert_eq!(planned_changes(&plan), ["kore_cloud_account.x: update"]);
    let after = planned_after(&plan, "kore_cloud_account.x");
    assert_eq!(after["tags"], serde_json::json!({"env": "dev"}));
    assert_eq!(after["team"], "alpha");

    workdir.apply(tf()).assert_success();

    let tags = landing.account("kore-alpha-notprod").tags;
    let expected = BTreeMap::from([
        ("env".to_string(), "dev".to_string()),
        ("kore:installation".to_string(), "acme".to_string()),
        ("kore:team".to_string(), "alpha".to_string()),
    ]);
    assert_eq!(tags, expected);
    assert_plan_empty(&workdir, tf());
}

/// A closed account stays in the state with its new state and a warning. The plan changes
/// nothing, and a destroy only unmanages it.
#[test]
fn closed_outside_terraform_reported() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account_id = managed_account(&landing, &workdir, "");
    landing
        .block_on(landing.control.close_account(&account_id, true))
        .expect("close in the console");
    let writes = landing.write_calls();

    let plan = workdir.terraform(
        tf(),
        &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
    );

    assert_eq!(
        plan.status.code(),
        Some(0),
        "the plan should be empty: {plan}"
    );
    assert!(
        warning_summaries(&plan.output()).contains(&format!("Account {account_id} is closed")),
        "{plan}"
    );
    assert_eq!(landing.write_calls(), writes);

    workdir
        .terraform(
            tf(),
            &[
                "apply",
                "-refresh-only",
                "-auto-approve",
                "-input=false",
                "-no-color",
            ],
        )
        .assert_success();
    let values = resource_values(&workdir, tf(), "kore_cloud_account.x");
    assert_eq!(values["state"], "SUSPENDED");

    workdir.destroy(tf()).assert_success();
    assert_eq!(landing.calls("CloseAccount"), 0);
    assert!(landing.state().provisioned_products.is_empty());
    assert_eq!(
        landing.account("kore-alpha-notprod").state,
        AccountState::Suspended
    );
}

/// The account is open but no longer managed by Account Factory. It stays in the state with
/// a warning and the plan changes nothing. The destroy skips the termination and leaves the
/// account open.
#[test]
fn product_terminated_outside_terraform() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account_id = managed_account(&landing, &workdir, "");
    let product = landing.state().provisioned_products[0].id.clone();
    landing
        .block_on(landing.control.terminate_product(&product))
        .expect("terminate in the console");
    let writes = landing.write_calls();

    let plan = workdir.terraform(
        tf(),
        &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
    );

    assert_eq!(
        plan.status.code(),
        Some(0),
        "the plan should be empty: {plan}"
    );
    assert!(
        warning_summaries(&plan.output()).contains(&format!(
            "Account {account_id} is no longer managed by Account Factory"
        )),
        "{plan}"
    );
    assert_eq!(landing.write_calls(), writes);

    // Account Factory can no longer rename the account, so the plan fails.
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-renamed", "")));
    let rename = workdir.plan(tf());
    rename.assert_failure();
    assert!(
        rename
            .output()
            .contains("Account no longer managed by Account Factory"),
        "{rename}"
    );
    assert_eq!(landing.write_calls(), writes);
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));

    workdir.destroy(tf()).assert_success();

    assert!(state_list(&workdir, tf()).is_empty());
    assert_eq!(landing.calls("TerminateProvisionedProduct"), 0);
    let account = landing.account("kore-alpha-notprod");
    assert_eq!(account.state, AccountState::Active);
}

/// An account that left the organization leaves the state with a warning, and the next plan
/// proposes a new account in its place.
#[test]
fn removed_from_organization() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account_id = managed_account(&landing, &workdir, "");
    landing
        .block_on(landing.control.remove_account(&account_id))
        .expect("remove from the organization");

    let plan = workdir.plan(tf());

    plan.assert_success();
    assert!(
        warning_summaries(&plan.output())
            .contains(&format!("Account {account_id} left the organization")),
        "{plan}"
    );
    assert!(
        plan.stdout.contains("kore_cloud_account.x will be created"),
        "{plan}"
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
}
