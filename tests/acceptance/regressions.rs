//! Faults found in review, each kept as a test: plans and applies that once replaced
//! accounts, lost a finished create, or could not be planned.

use account_factory_emulator::faults::{FailOperation, FaultUpdate};

use crate::harness::{terraform, Terraform, Workdir};
use crate::landing::{
    account_hcl, assert_plan_empty, errors, planned_changes, Landing, ORGANIZATION,
};

fn tf() -> &'static Terraform {
    terraform("1.15.5").expect("Terraform 1.15.5 is not installed; run `make tools`")
}

/// Returns the organization with its SSO email taken from a value unknown until apply.
fn organization_with_unknown_email() -> String {
    format!(
        r#"
variable "mail" {{
  type    = string
  default = "cloud-team@example.com"
}}

resource "terraform_data" "mail" {{
  input = var.mail
}}
{}"#,
        ORGANIZATION.replace(
            r#"email      = "cloud-team@example.com""#,
            "email      = terraform_data.mail.output"
        )
    )
}

/// An SSO email unknown at plan time changes the organization in place: existing accounts
/// are updated in place or not at all, never replaced, and a new account planned in the same
/// run gets its alias from the new email.
#[test]
fn unknown_sso_email_keeps_accounts() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let body = account_hcl("old", "alpha", "kore-alpha-notprod", "");
    workdir.write_config(&format!(
        "{}{}{body}",
        landing.provider_block(""),
        organization_with_unknown_email()
    ));
    workdir.apply(tf()).assert_success();
    let old_id = landing.account_id("kore-alpha-notprod");

    let body = format!(
        "{body}{}",
        account_hcl("new", "beta", "kore-beta-notprod", "")
    );
    workdir.write_config(&format!(
        "{}{}{body}",
        landing.provider_block(""),
        organization_with_unknown_email()
    ));
    let plan = workdir.terraform(
        tf(),
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=tfplan",
            "-var=mail=platform-team@example.com",
        ],
    );
    plan.assert_success();
    let plan = workdir.json(tf(), &["show", "-json", "tfplan"]);
    let changes = planned_changes(&plan);
    assert!(
        !changes.iter().any(|c| c.contains("delete")),
        "nothing is replaced: {changes:?}"
    );
    workdir
        .terraform(tf(), &["apply", "-input=false", "-no-color", "tfplan"])
        .assert_success();

    assert_eq!(landing.account_id("kore-alpha-notprod"), old_id);
    assert_eq!(
        landing.account("kore-beta-notprod").email,
        "platform-team+kore-beta-notprod@example.com"
    );
    assert_eq!(landing.calls("TerminateProvisionedProduct"), 0);
}

/// A create that fails after the account exists but before it is tagged is resumed by the
/// next apply, which adopts the same account.
#[test]
fn create_failing_late_resumes() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));
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
    landing.set_faults(FaultUpdate {
        fail_operation: Some(FailOperation {
            operation: "ListParents".to_string(),
            count: 1,
            code: "AccessDeniedException".to_string(),
            message: "injected failure".to_string(),
            status: 400,
            reason: None,
        }),
        ..Default::default()
    });

    let first = workdir.apply(tf());
    first.assert_failure();
    assert!(first.output().contains("injected failure"), "{first}");

    workdir.apply(tf()).assert_success();
    assert_eq!(landing.calls("ProvisionProduct"), 1);
    assert_plan_empty(&workdir, tf());
}

/// Moving an organization to another OU replaces it; the plan of the replacement accepts
/// the claim that the replaced installation still holds.
#[test]
fn organization_move_replaces() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(""));
    workdir.apply(tf()).assert_success();

    workdir.write_config(&landing.config("").replace(
        r#"organizational_unit  = "kore-managed""#,
        r#"organizational_unit  = "Workloads/Staging""#,
    ));
    let plan = workdir.plan_json(tf());
    assert_eq!(
        planned_changes(&plan),
        ["kore_aws_organization.main: delete,create"]
    );
    workdir.apply(tf()).assert_success();
    let staging = landing.unit_id("Workloads/Staging");
    let state = landing.state();
    let claimed: Vec<_> = state
        .organizational_units
        .iter()
        .filter(|u| u.tags.get("kore:installation").map(String::as_str) == Some("acme"))
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(claimed, [staging]);
    assert_plan_empty(&workdir, tf());
}

/// An OU move planned together with a value unknown until apply applies without an
/// inconsistent result.
#[test]
fn move_with_unknown_value_applies() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));
    workdir.apply(tf()).assert_success();

    let body = format!(
        r#"
resource "terraform_data" "env" {{
  input = "staging"
}}
{}"#,
        account_hcl(
            "x",
            "alpha",
            "kore-alpha-notprod",
            "  organizational_unit = \"Workloads/Staging\"\n  tags = { env = terraform_data.env.output }"
        )
    );
    workdir.write_config(&landing.config(&body));
    workdir.apply(tf()).assert_success();
    let account = landing.account("kore-alpha-notprod");
    assert_eq!(account.parent_id, landing.unit_id("Workloads/Staging"));
    assert_eq!(account.tags.get("env").map(String::as_str), Some("staging"));
    assert_plan_empty(&workdir, tf());
}

/// `terraform plan -replace` of an account explains that the replacement needs a new email,
/// instead of reporting a clash with itself.
#[test]
fn forced_replace_needs_new_email() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));
    workdir.apply(tf()).assert_success();

    let run = workdir.terraform(
        tf(),
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-replace=kore_cloud_account.x",
        ],
    );

    run.assert_failure();
    let summaries: Vec<String> = errors(&run).into_iter().map(|e| e.summary).collect();
    assert_eq!(summaries, ["Replacement needs a new email"], "{run}");
}

/// A timeout too large to add to the clock is a validation error, not a crash.
#[test]
fn huge_timeout_rejected() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl(
        "x",
        "alpha",
        "kore-alpha-notprod",
        r#"  timeouts { create = "99999999999999999999h" }"#,
    )));

    let run = workdir.validate(tf());

    run.assert_failure();
    assert!(run.output().contains("Invalid timeout"), "{run}");
    assert!(!run.output().contains("crashed"), "{run}");
}

/// An account whose product was terminated outside Terraform still takes tag changes and
/// `close_on_deletion`, without any Account Factory call, so destroy can close it.
#[test]
fn unmanaged_account_takes_tags_and_closes() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    workdir.write_config(&landing.config(&account_hcl("x", "alpha", "kore-alpha-notprod", "")));
    workdir.apply(tf()).assert_success();
    let product = landing.state().provisioned_products[0].id.clone();
    landing
        .block_on(landing.control.terminate_product(&product))
        .expect("terminate in the console");

    workdir.write_config(&landing.config(&account_hcl(
        "x",
        "alpha",
        "kore-alpha-notprod",
        "  close_on_deletion = true\n  tags = { owner = \"platform\" }",
    )));
    workdir.apply(tf()).assert_success();
    assert_eq!(landing.calls("UpdateProvisionedProduct"), 0);
    let account = landing.account("kore-alpha-notprod");
    assert_eq!(
        account.tags.get("owner").map(String::as_str),
        Some("platform")
    );
    assert_plan_empty(&workdir, tf());

    workdir.destroy(tf()).assert_success();
    let account = landing.account("kore-alpha-notprod");
    assert_ne!(
        account.state,
        account_factory_emulator::state::AccountState::Active,
        "destroy closes the unmanaged account"
    );
}

/// An existing installation whose OU is unknown until apply is rejected at plan time, so no
/// account is replaced and no apply changes its plan.
#[test]
fn unknown_organization_ou_rejected() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account = account_hcl("x", "alpha", "kore-alpha-notprod", "");
    let with_ou = |ou: &str| {
        format!(
            "{}\nresource \"terraform_data\" \"ou\" {{\n  input = \"{ou}\"\n}}\n{}{account}",
            landing.provider_block(""),
            ORGANIZATION.replace(
                r#"organizational_unit  = "kore-managed""#,
                "organizational_unit  = terraform_data.ou.output"
            )
        )
    };
    workdir.write_config(&with_ou("kore-managed"));
    workdir.apply(tf()).assert_success();
    let writes = landing.write_calls();

    workdir.write_config(&with_ou("/kore-managed"));
    let run = workdir.plan(tf());

    run.assert_failure();
    let summaries: Vec<String> = errors(&run).into_iter().map(|e| e.summary).collect();
    assert_eq!(
        summaries,
        ["Organizational unit unknown until apply"],
        "{run}"
    );
    assert_eq!(landing.write_calls(), writes);
}

/// Moving an installation that manages accounts to another OU would replace it, which its
/// accounts forbid. The plan fails and points at the accounts' own OU setting.
#[test]
fn organization_move_with_accounts_refused() {
    let landing = Landing::start(0.5);
    let workdir = Workdir::new();
    let account = account_hcl("x", "alpha", "kore-alpha-notprod", "");
    workdir.write_config(&landing.config(&account));
    workdir.apply(tf()).assert_success();
    let account_id = landing.account_id("kore-alpha-notprod");

    workdir.write_config(&landing.config(&account).replace(
        r#"organizational_unit  = "kore-managed""#,
        r#"organizational_unit  = "Workloads/Staging""#,
    ));
    let run = workdir.plan(tf());

    run.assert_failure();
    let found = errors(&run);
    assert_eq!(found.len(), 1, "{run}");
    assert!(
        found[0]
            .summary
            .contains("cannot be replaced while it manages accounts"),
        "{run}"
    );
    assert!(found[0].text.contains(&account_id), "{}", found[0].text);
    assert!(
        found[0]
            .text
            .contains("organizational_unit on the kore_cloud_account"),
        "{}",
        found[0].text
    );
}
