//! The data sources `kore_cloud_accounts`, `kore_organizational_units` and
//! `kore_account_management_policy`, and the function `provider::kore::email_alias`, read
//! through Terraform 1.15.5 outputs.

use crate::harness::{terraform, Terraform, Workdir};
use crate::landing::{account_hcl, assert_attribute_error, errors, Landing};

fn tf() -> &'static Terraform {
    terraform("1.15.5").expect("Terraform 1.15.5 is not installed; run `make tools`")
}

/// Applies the configuration and returns `terraform output -json` as `name -> value`.
fn apply_outputs(workdir: &Workdir) -> serde_json::Value {
    workdir.apply(tf()).assert_success();
    let outputs = workdir.json(tf(), &["output", "-json"]);
    let mut values = serde_json::Map::new();
    for (name, output) in outputs.as_object().expect("outputs object") {
        values.insert(name.clone(), output["value"].clone());
    }
    serde_json::Value::Object(values)
}

fn names(rows: &serde_json::Value) -> Vec<String> {
    rows.as_array()
        .expect("a list of accounts")
        .iter()
        .map(|row| row["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

const ACCOUNT_QUERIES: &str = r#"
data "kore_cloud_accounts" "all" {
  organization_id = "acme"
}

data "kore_cloud_accounts" "alpha" {
  organization_id = "acme"
  team            = "alpha"
}

data "kore_cloud_accounts" "suspended" {
  organization_id = "acme"
  state           = "SUSPENDED"
}

data "kore_cloud_accounts" "nobody" {
  organization_id = "acme"
  team            = "nobody"
}

output "all" {
  value = data.kore_cloud_accounts.all.accounts
}

output "alpha" {
  value = data.kore_cloud_accounts.alpha.accounts
}

output "suspended" {
  value = data.kore_cloud_accounts.suspended.accounts
}

output "nobody" {
  value = data.kore_cloud_accounts.nobody.accounts
}
"#;

#[test]
fn cloud_accounts_filter_team_and_state() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let accounts = format!(
        "{}{}{}",
        account_hcl("alpha_notprod", "alpha", "kore-alpha-notprod", ""),
        account_hcl("alpha_prod", "alpha", "kore-alpha-prod", ""),
        account_hcl("beta_dev", "beta", "kore-beta-dev", ""),
    );
    workdir.write_config(&landing.config(&accounts));
    workdir.apply(tf()).assert_success();
    let beta = landing.account_id("kore-beta-dev");
    landing
        .block_on(landing.control.close_account(&beta, true))
        .expect("close in the console");
    workdir.write_config(&landing.config(&format!("{accounts}{ACCOUNT_QUERIES}")));

    let outputs = apply_outputs(&workdir);

    assert_eq!(
        names(&outputs["all"]),
        ["kore-alpha-notprod", "kore-alpha-prod", "kore-beta-dev"]
    );
    assert_eq!(
        names(&outputs["alpha"]),
        ["kore-alpha-notprod", "kore-alpha-prod"]
    );
    assert_eq!(names(&outputs["suspended"]), ["kore-beta-dev"]);
    assert_eq!(names(&outputs["nobody"]), Vec::<String>::new());

    let row = &outputs["suspended"][0];
    assert_eq!(row["account_id"], beta);
    assert_eq!(row["team"], "beta");
    assert_eq!(row["state"], "SUSPENDED");
    assert_eq!(row["email"], "cloud-team+kore-beta-dev@example.com");
    assert_eq!(
        row["organizational_unit_id"],
        landing.unit_id("kore-managed")
    );
    assert_eq!(row["organizational_unit_path"], "kore-managed");
    assert_eq!(row["provisioned_product_status"], "AVAILABLE");
    let product = landing
        .state()
        .provisioned_products
        .into_iter()
        .find(|p| p.physical_id.as_deref() == Some(beta.as_str()))
        .expect("product");
    assert_eq!(row["provisioned_product_id"], product.id);
    assert!(
        row["created_time"]
            .as_str()
            .is_some_and(|t| t.contains('T')),
        "created_time should be RFC 3339: {row}"
    );
}

#[test]
fn cloud_accounts_invalid_state_fails() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&format!(
        "{}{}",
        landing.provider_block(""),
        r#"
data "kore_cloud_accounts" "x" {
  organization_id = "acme"
  state           = "closed"
}
"#
    ));

    let run = workdir.plan(tf());

    assert_attribute_error(
        &run,
        "data.kore_cloud_accounts.x",
        "state",
        &["\"closed\"", "SUSPENDED"],
    );
}

#[test]
fn organizational_units_registration_and_claims() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(""));
    workdir.apply(tf()).assert_success();
    workdir.write_config(&landing.config(
        r#"
data "kore_organizational_units" "all" {}

data "kore_organizational_units" "registered" {
  registered_only = true
}

output "all" {
  value = data.kore_organizational_units.all.organizational_units
}

output "registered" {
  value = [for u in data.kore_organizational_units.registered.organizational_units : u.path]
}

output "organization" {
  value = data.kore_organizational_units.all.id
}
"#,
    ));

    let outputs = apply_outputs(&workdir);

    let all = outputs["all"].as_array().expect("list");
    let paths: Vec<&str> = all.iter().filter_map(|u| u["path"].as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "the OUs should be sorted by path");
    for path in [
        "kore-managed",
        "Production",
        "Workloads/Production",
        "sandbox",
    ] {
        assert!(paths.contains(&path), "{path} missing from {paths:?}");
    }
    let unit = |path: &str| {
        all.iter()
            .find(|u| u["path"] == path)
            .unwrap_or_else(|| panic!("no OU {path}"))
            .clone()
    };
    let managed = unit("kore-managed");
    assert_eq!(managed["claimed_by"], "acme");
    assert_eq!(managed["registered"], true);
    assert_eq!(managed["id"], landing.unit_id("kore-managed"));
    let nested = unit("Workloads/Production");
    assert_eq!(nested["name"], "Production");
    assert_eq!(nested["parent_id"], landing.unit_id("Workloads"));
    assert!(nested["claimed_by"].is_null(), "{nested}");
    assert_eq!(unit("sandbox")["registered"], false);

    let registered: Vec<&str> = outputs["registered"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(!registered.contains(&"sandbox"), "{registered:?}");
    assert_eq!(registered.len(), paths.len() - 1, "{registered:?}");
    assert_eq!(outputs["organization"], landing.state().organization.id);
}

/// Returns every action of every statement in an IAM policy document.
fn policy_actions(policy: &serde_json::Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .expect("Statement list")
        .iter()
        .flat_map(|statement| statement["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|action| action.as_str().map(str::to_string))
        .collect()
}

#[test]
fn management_policy_close_only_when_allowed() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&format!(
        "{}{}",
        landing.provider_block(""),
        r#"
data "kore_account_management_policy" "closing" {
  allow_account_closure  = true
  trusted_principal_arns = ["123456789012"]
  external_id            = "kore-external"
}

data "kore_account_management_policy" "default" {}

output "closing" {
  value = data.kore_account_management_policy.closing.policy_json
}

output "closing_trust" {
  value = data.kore_account_management_policy.closing.assume_role_policy_json
}

output "default" {
  value = data.kore_account_management_policy.default.policy_json
}

output "default_trust" {
  value = data.kore_account_management_policy.default.assume_role_policy_json
}
"#
    ));

    let outputs = apply_outputs(&workdir);

    let parse = |name: &str| -> serde_json::Value {
        let text = outputs[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} is not a string"));
        serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{name} is not valid JSON ({e}): {text}"))
    };
    let closing = parse("closing");
    let default = parse("default");
    assert_eq!(closing["Version"], "2012-10-17");
    assert_eq!(default["Version"], "2012-10-17");
    let close = "organizations:CloseAccount".to_string();
    assert!(policy_actions(&closing).contains(&close));
    assert!(!policy_actions(&default).contains(&close));
    assert!(policy_actions(&default).contains(&"servicecatalog:ProvisionProduct".to_string()));

    let trust = parse("closing_trust");
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRole");
    assert_eq!(
        statement["Principal"]["AWS"],
        serde_json::json!(["arn:aws:iam::123456789012:root"])
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"],
        "kore-external"
    );
    assert!(outputs["default_trust"].is_null());
}

#[test]
fn management_policy_invalid_principal_fails() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&format!(
        "{}{}",
        landing.provider_block(""),
        r#"
data "kore_account_management_policy" "x" {
  trusted_principal_arns = ["arn:aws:s3:::bucket"]
}
"#
    ));

    let run = workdir.plan(tf());

    assert_attribute_error(
        &run,
        "data.kore_account_management_policy.x",
        "trusted_principal_arns",
        &["arn:aws:s3:::bucket", "the service must be iam"],
    );
}

#[test]
fn email_alias_function() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let outputs = r#"
output "plain" {
  value = provider::kore::email_alias("cloud-team@example.com", "kore-project-a-notprod")
}

output "mixed_case" {
  value = provider::kore::email_alias("Cloud.Team@Example.COM", "kore-alpha-notprod")
}
"#;
    workdir.write_config(&format!("{}{outputs}", landing.provider_block("")));

    let values = apply_outputs(&workdir);

    assert_eq!(
        values["plain"],
        "cloud-team+kore-project-a-notprod@example.com"
    );
    assert_eq!(
        values["mixed_case"],
        "Cloud.Team+kore-alpha-notprod@Example.COM"
    );

    let name = "kore-a-very-long-team-name-for-the-platform-engineering-group-notprod";
    let over = format!("cloud-team+{name}@example.com").len() - 64;
    workdir.write_config(&format!(
        "{}{}",
        landing.provider_block(""),
        format_args!(
            r#"
output "too_long" {{
  value = provider::kore::email_alias("cloud-team@example.com", "{name}")
}}
"#
        )
    ));
    let run = workdir.plan(tf());
    run.assert_failure();
    let found = errors(&run);
    assert_eq!(found.len(), 1, "{run}");
    assert!(
        found[0].text.contains("provider::kore::email_alias"),
        "{}",
        found[0].text
    );
    assert!(
        found[0]
            .text
            .contains(&format!("{over} over the 64-character limit")),
        "{}",
        found[0].text
    );
}
