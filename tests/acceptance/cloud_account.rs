//! `kore_aws_organization` and `kore_cloud_account` through their whole lifecycle, with real
//! Terraform against the landing-zone emulator.

use crate::harness::{terraform, Terraform, Workdir};
use crate::landing::{assert_plan_empty, planned_actions, Landing};

fn versions() -> Vec<&'static Terraform> {
    ["1.0.3", "1.15.5"]
        .iter()
        .map(|v| {
            terraform(v)
                .unwrap_or_else(|| panic!("Terraform {v} is not installed; run `make tools`"))
        })
        .collect()
}

const TWO_ACCOUNTS: &str = r#"
resource "kore_cloud_account" "alpha" {
  for_each        = toset(["notprod", "prod"])
  organization_id = kore_aws_organization.main.id
  team            = "alpha"
  name            = "kore-alpha-${each.key}"
  tags            = { env = each.key }
}
"#;

#[test]
fn lifecycle_create_rename_destroy() {
    for tf in versions() {
        let landing = Landing::start(0.5);
        let workdir = Workdir::new();
        workdir.write_config(&landing.config(TWO_ACCOUNTS));
        workdir.apply(tf).assert_success();

        let state = landing.state();
        let created: Vec<_> = state
            .accounts
            .iter()
            .filter(|a| a.name.starts_with("kore-alpha-"))
            .collect();
        assert_eq!(created.len(), 2, "{}: {created:?}", tf.version);
        let prod = created
            .iter()
            .find(|a| a.name == "kore-alpha-prod")
            .expect("prod account");
        assert_eq!(prod.email, "cloud-team+kore-alpha-prod@example.com");
        assert_eq!(
            prod.tags.get("kore:installation").map(String::as_str),
            Some("acme")
        );
        assert_eq!(
            prod.tags.get("kore:team").map(String::as_str),
            Some("alpha")
        );
        assert_eq!(prod.tags.get("env").map(String::as_str), Some("prod"));
        let managed_ou = state
            .organizational_units
            .iter()
            .find(|u| u.name == "kore-managed")
            .expect("OU");
        assert_eq!(prod.parent_id, managed_ou.id);
        assert_plan_empty(&workdir, tf);

        // A rename is an in-place update of both the account and the product.
        workdir.write_config(&landing.config(&TWO_ACCOUNTS.replace(
            r#"name            = "kore-alpha-${each.key}""#,
            r#"name            = each.key == "notprod" ? "kore-alpha-dev" : "kore-alpha-${each.key}""#,
        )));
        let plan = workdir.plan_json(tf);
        let actions = planned_actions(&plan);
        assert!(
            actions.contains(&r#"kore_cloud_account.alpha["notprod"]: update"#.to_string()),
            "{}: {actions:?}",
            tf.version
        );
        workdir.apply(tf).assert_success();
        let renamed_id = landing.account_id("kore-alpha-dev");
        let state = landing.state();
        let product = state
            .provisioned_products
            .iter()
            .find(|p| p.physical_id.as_deref() == Some(renamed_id.as_str()))
            .expect("product of the renamed account");
        assert_eq!(
            product.parameters.account_name, "kore-alpha-dev",
            "{product:?}"
        );
        assert_plan_empty(&workdir, tf);

        // Destroy unmanages both accounts and leaves them open in the root.
        workdir.destroy(tf).assert_success();
        let state = landing.state();
        assert!(
            state.provisioned_products.is_empty(),
            "{:?}",
            state.provisioned_products
        );
        let root = state.organization.root_id.clone();
        for name in ["kore-alpha-dev", "kore-alpha-prod"] {
            let account = state
                .accounts
                .iter()
                .find(|a| a.name == name)
                .expect("account stays");
            assert_eq!(account.parent_id, root, "{name}");
            assert_eq!(format!("{:?}", account.state), "Active", "{name}");
        }
        let claimed = state
            .organizational_units
            .iter()
            .find(|u| u.name == "kore-managed")
            .expect("OU");
        assert!(
            !claimed.tags.contains_key("kore:installation"),
            "the claim is released: {:?}",
            claimed.tags
        );
    }
}
