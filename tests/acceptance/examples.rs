//! Checks `examples/`. Every folder with `.tf` files passes `terraform validate` on every
//! installed Terraform. The folders that the registry docs embed exist for every resource, data
//! source and function of the schema. The quickstart plans the expected accounts against the
//! emulator, which the test runs in process.
//!
//! Each Terraform version validates a copy of the whole `examples/` tree, so relative module
//! sources such as `../modules/team-accounts` resolve. A folder that declares no
//! `required_providers` (the resource and data source snippets) gets the harness's
//! `providers.tf`, as the root module of a user's configuration would provide it. Folders that
//! call modules run `terraform get` first: it installs local modules on every version, whereas
//! `terraform init` on Terraform 1.0 also tries to download the overridden provider and fails
//! without network access. Provider-defined functions need Terraform 1.8, so older versions
//! skip `examples/functions`.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::harness::{
    at_least, provider_schema, terraform, terraform_versions, Terraform, Workdir,
};

/// The first Terraform release with provider-defined functions.
const FUNCTIONS_MIN_VERSION: &str = "1.8.0";

/// Summary of the warning that Terraform prints whenever `dev_overrides` are in effect.
const DEV_OVERRIDES_WARNING: &str = "Provider development overrides are in effect";

fn examples_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Lists the folders under `root` that contain `.tf` files, relative to `root`, sorted.
fn example_folders(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut has_tf = false;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && !name.to_string_lossy().starts_with('.') {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            found.push(dir.strip_prefix(root).unwrap_or(&dir).to_path_buf());
        }
    }
    found.sort();
    found
}

/// Concatenates the `.tf` files of `folder`.
fn configuration_text(folder: &Path) -> String {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(folder) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|ext| ext == "tf"))
        {
            text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            text.push('\n');
        }
    }
    text
}

/// Copies the directory tree `from` into `to`, skipping hidden entries such as `.terraform`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|error| panic!("create {}: {error}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|error| panic!("read {}: {error}", from.display()));
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        if source.is_dir() {
            copy_tree(&source, &target);
        } else {
            std::fs::copy(&source, &target).unwrap_or_else(|error| {
                panic!("copy {} to {}: {error}", source.display(), target.display())
            });
        }
    }
}

/// Validates every example folder with `tf` and returns one line per problem.
fn validate_examples(tf: &Terraform) -> Vec<String> {
    let workdir = Workdir::new();
    let copy = workdir.path().join("examples");
    copy_tree(&examples_root(), &copy);
    let requirements =
        std::fs::read_to_string(workdir.path().join("providers.tf")).expect("read providers.tf");

    let folders = example_folders(&copy);
    let mut problems = Vec::new();
    if folders.is_empty() {
        problems.push(format!(
            "no folder under {} contains .tf files",
            examples_root().display()
        ));
    }
    for folder in folders {
        let label = format!("examples/{} on {tf}", folder.display());
        if folder.starts_with("functions") && !at_least(tf, FUNCTIONS_MIN_VERSION) {
            eprintln!(
                "SKIPPED: {label}: provider-defined functions need Terraform {FUNCTIONS_MIN_VERSION}"
            );
            continue;
        }
        let absolute = copy.join(&folder);
        let text = configuration_text(&absolute);
        if !text.contains("required_providers") {
            std::fs::write(absolute.join("providers.tf"), &requirements)
                .expect("write providers.tf");
        }
        let chdir = format!("-chdir=examples/{}", folder.display());

        if text.contains("module \"") {
            let run = workdir.terraform(tf, &[&chdir, "get", "-no-color"]);
            if !run.success() {
                problems.push(format!("{label}: terraform get failed: {run}"));
                continue;
            }
        }

        let run = workdir.terraform(tf, &[&chdir, "validate", "-json", "-no-color"]);
        let report: Json = match serde_json::from_str(&run.stdout) {
            Ok(report) => report,
            Err(error) => {
                problems.push(format!(
                    "{label}: validate printed no JSON ({error}): {run}"
                ));
                continue;
            }
        };
        // Any diagnostic but the dev_overrides warning fails the example, warnings included.
        let diagnostics: Vec<String> = report["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|d| d["summary"] != DEV_OVERRIDES_WARNING)
            .map(|d| format!("{} {}: {}", d["severity"], d["summary"], d["detail"]))
            .collect();
        let valid = report["valid"] == Json::Bool(true);
        if !valid || !diagnostics.is_empty() {
            problems.push(format!(
                "{label}: terraform validate reported valid={valid}: {}",
                diagnostics.join("; ")
            ));
        }
    }
    problems
}

#[test]
fn examples_validate_on_every_terraform() {
    let versions = terraform_versions();
    let handles: Vec<_> = versions
        .iter()
        .map(|tf| std::thread::spawn(move || validate_examples(tf)))
        .collect();
    let problems: Vec<String> = handles
        .into_iter()
        .flat_map(|handle| handle.join().expect("validation thread panicked"))
        .collect();
    assert!(
        problems.is_empty(),
        "{} example problem(s):\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}

/// The examples the registry docs embed: the provider block, and one folder per resource
/// (with `import.sh`), data source and function of the schema.
#[test]
fn examples_cover_schema() {
    let tf = terraform("1.15.5").expect("Terraform 1.15.5 is not installed; run `make tools`");
    let schema = provider_schema(&Workdir::new().schema_json(tf)).clone();
    let root = examples_root();
    let mut expected = vec!["provider/provider.tf".to_string()];
    for type_name in schema["resource_schemas"]
        .as_object()
        .expect("resource schemas")
        .keys()
    {
        expected.push(format!("resources/{type_name}/resource.tf"));
        expected.push(format!("resources/{type_name}/import.sh"));
    }
    for type_name in schema["data_source_schemas"]
        .as_object()
        .expect("data source schemas")
        .keys()
    {
        expected.push(format!("data-sources/{type_name}/data-source.tf"));
    }
    for name in schema["functions"].as_object().expect("functions").keys() {
        expected.push(format!("functions/{name}/function.tf"));
    }
    let missing: Vec<&String> = expected
        .iter()
        .filter(|file| !root.join(file).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "missing example files under examples/: {missing:?}"
    );
}

/// Every `terraform import ADDRESS ID` line of an `import.sh` names a resource that the
/// `resource.tf` beside it declares, so the commands work on that example as written.
#[test]
fn import_scripts_name_example_resources() {
    let root = examples_root().join("resources");
    let entries =
        std::fs::read_dir(&root).unwrap_or_else(|error| panic!("read {}: {error}", root.display()));
    let mut checked = 0;
    for entry in entries.flatten() {
        let folder = entry.path();
        let Ok(script) = std::fs::read_to_string(folder.join("import.sh")) else {
            continue;
        };
        let configuration = configuration_text(&folder);
        let commands: Vec<&str> = script
            .lines()
            .filter(|line| line.starts_with("terraform import "))
            .collect();
        assert!(
            !commands.is_empty(),
            "{} has no `terraform import` command",
            folder.join("import.sh").display()
        );
        for command in commands {
            let words: Vec<&str> = command.split_whitespace().collect();
            assert_eq!(
                words.len(),
                4,
                "{}: expected `terraform import ADDRESS ID`: {command}",
                folder.display()
            );
            let (resource_type, resource_name) = words[2].split_once('.').unwrap_or_else(|| {
                panic!(
                    "{}: {} is not a resource address",
                    folder.display(),
                    words[2]
                )
            });
            let declaration = format!("resource \"{resource_type}\" \"{resource_name}\"");
            assert!(
                configuration.contains(&declaration),
                "{}: import.sh imports {}, which resource.tf does not declare",
                folder.display(),
                words[2]
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no import.sh under {}", root.display());
}

#[test]
fn example_folders_found_recursively() {
    let root = tempfile::tempdir().expect("temporary folder");
    for folder in ["a", "b/c", "b/.terraform/modules/x"] {
        std::fs::create_dir_all(root.path().join(folder)).expect("create folder");
        std::fs::write(root.path().join(folder).join("main.tf"), "").expect("write main.tf");
    }
    std::fs::write(root.path().join("b/readme.md"), "").expect("write readme");
    assert_eq!(
        example_folders(root.path()),
        [PathBuf::from("a"), PathBuf::from("b/c")]
    );
}

/// The quickstart, planned against the emulator's built-in landing zone, creates the
/// organization and four accounts named `<prefix>-<team>-<environment>` by the
/// `team-accounts` module, each with the email alias of the SSO user.
#[test]
fn quickstart_plan_names_accounts() {
    let tf = terraform("1.15.5").expect("Terraform 1.15.5 is not installed; run `make tools`");
    let runtime = tokio::runtime::Runtime::new().expect("start a tokio runtime");
    let config = account_factory_emulator::Config {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        ..Default::default()
    };
    let server = runtime
        .block_on(account_factory_emulator::serve(config))
        .expect("start the emulator");

    let workdir = Workdir::new();
    copy_tree(&examples_root(), &workdir.path().join("examples"));
    let chdir = "-chdir=examples/quickstart";
    let endpoint = format!("-var=emulator_endpoint={}", server.url());
    workdir
        .terraform(tf, &[chdir, "get", "-no-color"])
        .assert_success();
    workdir
        .terraform(
            tf,
            &[
                chdir,
                "plan",
                "-input=false",
                "-no-color",
                &endpoint,
                "-out=tfplan",
            ],
        )
        .assert_success();
    let plan = workdir.json(tf, &[chdir, "show", "-json", "tfplan"]);
    runtime
        .block_on(server.shutdown())
        .expect("stop the emulator");

    let changes = plan["resource_changes"]
        .as_array()
        .expect("resource_changes in the plan");
    let change = |address: &str| -> &Json {
        changes
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("the plan has no change for {address}"))
    };

    let organization = change("kore_aws_organization.acme");
    assert_eq!(
        organization["change"]["actions"],
        serde_json::json!(["create"])
    );
    assert_eq!(
        organization["change"]["after"]["organizational_unit_path"],
        "kore-managed"
    );

    let mut accounts = 0;
    for team in ["payments", "search"] {
        for environment in ["notprod", "prod"] {
            let address =
                format!("module.{team}.kore_cloud_account.environment[\"{environment}\"]");
            let after = &change(&address)["change"]["after"];
            let name = format!("kore-{team}-{environment}");
            assert_eq!(after["name"], name.as_str(), "{address}");
            assert_eq!(after["team"], team, "{address}");
            assert_eq!(
                after["email"],
                format!("cloud-team+{name}@example.com").as_str(),
                "{address}"
            );
            accounts += 1;
        }
    }
    let planned_accounts = changes
        .iter()
        .filter(|c| c["type"] == "kore_cloud_account")
        .count();
    assert_eq!(
        planned_accounts, accounts,
        "the quickstart plans exactly the four accounts"
    );
}

/// The quickstart applies against the emulator: four accounts come out of the
/// `kore_cloud_accounts` output, a second plan is empty, and destroy unmanages every
/// account, closing only the payments team's (its module sets `close_on_deletion`).
#[test]
fn quickstart_applies_and_destroys() {
    let tf = terraform("1.15.5").expect("Terraform 1.15.5 is not installed; run `make tools`");
    let landing = crate::landing::Landing::start(0.5);
    let workdir = Workdir::new();
    copy_tree(&examples_root(), &workdir.path().join("examples"));
    let chdir = "-chdir=examples/quickstart";
    let endpoint = format!("-var=emulator_endpoint={}", landing.url);
    workdir
        .terraform(tf, &[chdir, "get", "-no-color"])
        .assert_success();
    workdir
        .terraform(
            tf,
            &[
                chdir,
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                &endpoint,
            ],
        )
        .assert_success();

    let accounts = workdir.json(tf, &[chdir, "output", "-json", "accounts"]);
    let rows = accounts.as_array().expect("the accounts output is a list");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "kore-payments-notprod",
            "kore-payments-prod",
            "kore-search-notprod",
            "kore-search-prod"
        ]
    );
    for row in rows {
        assert_eq!(row["state"], "ACTIVE", "{row}");
        assert_eq!(row["organizational_unit_path"], "kore-managed", "{row}");
    }

    let plan = workdir.terraform(
        tf,
        &[
            chdir,
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            &endpoint,
        ],
    );
    assert_eq!(
        plan.status.code(),
        Some(0),
        "the second plan should be empty: {plan}"
    );

    workdir
        .terraform(
            tf,
            &[
                chdir,
                "destroy",
                "-auto-approve",
                "-input=false",
                "-no-color",
                &endpoint,
            ],
        )
        .assert_success();
    let state = landing.state();
    assert!(
        state.provisioned_products.is_empty(),
        "every product is terminated"
    );
    for row in rows {
        let name = row["name"].as_str().unwrap_or_default();
        let account = state
            .accounts
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} stays in the organization"));
        let closed = !matches!(
            account.state,
            account_factory_emulator::state::AccountState::Active
        );
        assert_eq!(
            closed,
            name.starts_with("kore-payments-"),
            "{name}: {:?}",
            account.state
        );
        assert_eq!(account.parent_id, state.organization.root_id, "{name}");
    }
}
