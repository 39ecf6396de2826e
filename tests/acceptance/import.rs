//! `terraform import` of both resources: an account by its ID, an account made outside this
//! provider by `organization_id/team/account_id`, and an organization by installation name.
//! Each import fills every attribute, so the first plan with a matching configuration is empty.

use account_factory_emulator::control::CreateAccountRequest;
use account_factory_emulator::seed::{Seed, SeedAccount};

use crate::harness::{terraform, Terraform, Workdir};
use crate::landing::{account_hcl, assert_plan_empty, errors, resource_values, Landing};

fn tf() -> &'static Terraform {
    terraform("1.15.5").expect("Terraform 1.15.5 is not installed; run `make tools`")
}

fn state_rm(workdir: &Workdir, address: &str) {
    workdir
        .terraform(tf(), &["state", "rm", address])
        .assert_success();
}

/// Two accounts, one in the organization's OU with tags and one in another OU, are dropped
/// from the state and imported by ID. The imported values must equal the ones apply recorded.
#[test]
fn import_account_by_id() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let body = format!(
        "{}{}",
        account_hcl(
            "tagged",
            "alpha",
            "kore-alpha-notprod",
            r#"  tags = { env = "notprod" }"#
        ),
        account_hcl(
            "staging",
            "beta",
            "kore-beta-staging",
            r#"  organizational_unit = "Workloads/Staging""#
        ),
    );
    workdir.write_config(&landing.config(&body));
    workdir.apply(tf()).assert_success();

    for (label, name) in [
        ("tagged", "kore-alpha-notprod"),
        ("staging", "kore-beta-staging"),
    ] {
        let address = format!("kore_cloud_account.{label}");
        let applied = resource_values(&workdir, tf(), &address);
        state_rm(&workdir, &address);
        let account_id = landing.account_id(name);

        workdir.import(tf(), &address, &account_id).assert_success();

        let imported = resource_values(&workdir, tf(), &address);
        assert_eq!(imported, applied, "{address}");
    }
    assert_plan_empty(&workdir, tf());
}

/// An Account Factory account without the provider's tags, imported with the organization and
/// team given in the ID.
#[test]
fn import_account_by_organization_team_id() {
    let landing = Landing::start(0.5);
    let mut seed = Seed::default_landing_zone();
    let legacy: SeedAccount = serde_json::from_value(serde_json::json!({
        "name": "legacy-payments",
        "email": "legacy-payments@example.com",
        "id": "444455556666",
        "provisioned_product": {"sso_user_email": "cloud-team@example.com"}
    }))
    .expect("seed account");
    seed.organizational_units
        .iter_mut()
        .find(|u| u.name == "kore-managed")
        .expect("kore-managed in the default seed")
        .accounts
        .push(legacy);
    landing
        .block_on(landing.control.reset_to(&seed))
        .expect("reset to the seed");
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl(
        "legacy",
        "payments",
        "legacy-payments",
        r#"  email = "legacy-payments@example.com""#,
    )));
    workdir
        .terraform(
            tf(),
            &[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-target=kore_aws_organization.main",
            ],
        )
        .assert_success();

    let by_id = workdir.import(tf(), "kore_cloud_account.legacy", "444455556666");
    by_id.assert_failure();
    let rejected = errors(&by_id);
    assert_eq!(rejected.len(), 1, "{by_id}");
    assert!(
        rejected[0].text.contains("acme/payments/444455556666")
            || rejected[0].text.contains("organization_id/team/account_id"),
        "the error should show the other import form: {}",
        rejected[0].text
    );

    workdir
        .import(
            tf(),
            "kore_cloud_account.legacy",
            "acme/payments/444455556666",
        )
        .assert_success();

    let values = resource_values(&workdir, tf(), "kore_cloud_account.legacy");
    assert_eq!(values["organization_id"], "acme");
    assert_eq!(values["team"], "payments");
    assert_eq!(values["account_id"], "444455556666");
    let product = landing.state().provisioned_products[0].id.clone();
    assert_eq!(values["provisioned_product_id"], product);
    assert_plan_empty(&workdir, tf());
    assert_eq!(
        landing.write_calls(),
        1,
        "only the organization's claim was written"
    );
}

#[test]
fn import_organization_by_name() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(""));
    workdir.apply(tf()).assert_success();
    let applied = resource_values(&workdir, tf(), "kore_aws_organization.main");
    state_rm(&workdir, "kore_aws_organization.main");

    workdir
        .import(tf(), "kore_aws_organization.main", "acme")
        .assert_success();

    let imported = resource_values(&workdir, tf(), "kore_aws_organization.main");
    assert_eq!(imported, applied);
    assert_plan_empty(&workdir, tf());
}

/// IDs that name nothing importable fail with an error that gives the reason, and leave the
/// state untouched.
#[test]
fn import_rejects_bad_ids() {
    let landing = Landing::start(0.5);
    let unmanaged = landing
        .block_on(landing.control.create_account(&CreateAccountRequest {
            name: "console-made".to_string(),
            email: "console-made@example.com".to_string(),
            parent_id: None,
            id: None,
        }))
        .expect("create an account outside Account Factory");
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "console-made", "")));
    let cases = [
        (
            "kore_cloud_account.x",
            unmanaged.id.clone(),
            "not managed by Account Factory",
        ),
        ("kore_cloud_account.x", "12345".to_string(), "12345"),
        (
            "kore_cloud_account.x",
            "acme/alpha".to_string(),
            "Invalid import ID",
        ),
        (
            "kore_aws_organization.main",
            "nobody".to_string(),
            "Installation \"nobody\" not found",
        ),
    ];

    for (address, id, expected) in cases {
        let run = workdir.import(tf(), address, &id);

        run.assert_failure();
        let found = errors(&run);
        assert!(
            found.iter().any(|e| e.text.contains(expected)),
            "importing {address} as {id:?} should fail mentioning {expected:?}: {found:#?}"
        );
    }
    let state = workdir.terraform(tf(), &["state", "list"]);
    assert!(state.stdout.trim().is_empty(), "{state}");
    assert_eq!(landing.write_calls(), 0);
}

/// The oldest supported Terraform imports an account by ID with the same result: every
/// attribute filled and an empty plan.
#[test]
fn import_account_on_oldest_terraform() {
    let old = terraform("1.0.3").expect("Terraform 1.0.3 is not installed; run `make tools`");
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));
    workdir.apply(old).assert_success();
    let address = "kore_cloud_account.x";
    let applied = resource_values(&workdir, old, address);
    workdir
        .terraform(old, &["state", "rm", address])
        .assert_success();

    let account_id = landing.account_id("kore-alpha-notprod");
    workdir.import(old, address, &account_id).assert_success();

    assert_eq!(resource_values(&workdir, old, address), applied);
    assert_plan_empty(&workdir, old);
}
