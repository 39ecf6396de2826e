//! A landing-zone emulator per test, served in-process on a free loopback port, and the
//! Terraform configuration that points the provider at it.

use std::time::Duration;

use account_factory_emulator::client::ControlClient;
use account_factory_emulator::faults::FaultUpdate;
use account_factory_emulator::state::{Account, LandingZone};
use account_factory_emulator::telemetry::{Counters, Event};
use account_factory_emulator::{Config, ServerHandle};

use crate::harness::{Terraform, TerraformRun, Workdir};

/// Account Factory operations that change something; a plan-time error must cause none.
pub const WRITE_OPERATIONS: [&str; 8] = [
    "ProvisionProduct",
    "UpdateProvisionedProduct",
    "TerminateProvisionedProduct",
    "TagResource",
    "UntagResource",
    "MoveAccount",
    "CloseAccount",
    "PutAccountName",
];

/// The organization block most tests share, in the emulator's `kore-managed` OU.
pub const ORGANIZATION: &str = r#"
resource "kore_aws_organization" "main" {
  name                 = "acme"
  master_account_id    = "111111111111"
  control_tower_region = "eu-west-2"
  organizational_unit  = "kore-managed"
  sso_user {
    email      = "cloud-team@example.com"
    first_name = "Cloud"
    last_name  = "Team"
  }
}
"#;

pub struct Landing {
    runtime: tokio::runtime::Runtime,
    server: Option<ServerHandle>,
    pub url: String,
    pub control: ControlClient,
}

impl Landing {
    /// Starts an emulator with the built-in landing zone, where each Account Factory
    /// operation takes `provision_seconds`.
    pub fn start(provision_seconds: f64) -> Landing {
        Landing::start_with(Config {
            provision_seconds,
            close_seconds: 0.5,
            ..Default::default()
        })
    }

    /// Starts an emulator with `config`; the listen address is replaced by a free port.
    pub fn start_with(mut config: Config) -> Landing {
        config.listen = "127.0.0.1:0".parse().expect("loopback address");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("start a tokio runtime");
        let server = runtime
            .block_on(account_factory_emulator::serve(config))
            .expect("start the emulator");
        let url = server.url();
        Landing {
            runtime,
            server: Some(server),
            control: ControlClient::new(url.clone()),
            url,
        }
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Returns the `provider "kore"` block with every endpoint at this emulator.
    pub fn provider_block(&self, extra: &str) -> String {
        format!(
            r#"
provider "kore" {{
  region = "eu-west-2"
  {extra}
  endpoints {{
    servicecatalog = "{url}"
    organizations  = "{url}"
    sts            = "{url}"
    account        = "{url}"
  }}
}}
"#,
            url = self.url
        )
    }

    /// Provider block, the shared organization, then `body`.
    pub fn config(&self, body: &str) -> String {
        format!("{}{ORGANIZATION}{body}", self.provider_block(""))
    }

    /// Builds the configuration of [`Landing::config`] with `provider_extra` inside the provider
    /// block.
    pub fn config_with(&self, provider_extra: &str, body: &str) -> String {
        format!(
            "{}{ORGANIZATION}{body}",
            self.provider_block(provider_extra)
        )
    }

    pub fn counters(&self) -> Counters {
        self.block_on(self.control.counters())
            .expect("read counters")
    }

    /// Counts the calls of `operation` (such as `ProvisionProduct`) since start or reset.
    pub fn calls(&self, operation: &str) -> u64 {
        self.counters().calls.get(operation).copied().unwrap_or(0)
    }

    /// Returns the whole event log, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.block_on(self.control.log(0))
            .expect("read the event log")
    }

    pub fn set_faults(&self, update: FaultUpdate) {
        self.block_on(self.control.set_faults(&update))
            .expect("set faults");
    }

    /// Returns the account named `name`.
    pub fn account(&self, name: &str) -> Account {
        self.state()
            .accounts
            .into_iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no account named {name}"))
    }

    /// Returns the ID of the OU at slash path `path` from the root, such as
    /// `Workloads/Production`.
    pub fn unit_id(&self, path: &str) -> String {
        let state = self.state();
        let mut parent = state.organization.root_id.clone();
        for name in path.split('/') {
            parent = state
                .organizational_units
                .iter()
                .find(|u| u.parent_id == parent && u.name == name)
                .unwrap_or_else(|| panic!("no OU at {path}"))
                .id
                .clone();
        }
        parent
    }

    pub fn state(&self) -> LandingZone {
        self.block_on(self.control.state())
            .expect("read the emulator state")
    }

    /// Returns the ID of the account named `name`.
    pub fn account_id(&self, name: &str) -> String {
        self.state()
            .accounts
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no account named {name}"))
            .id
            .clone()
    }

    /// Counts the write calls the emulator has served since it started or was reset.
    pub fn write_calls(&self) -> u64 {
        let counters = self
            .block_on(self.control.counters())
            .expect("read counters");
        WRITE_OPERATIONS
            .iter()
            .map(|op| counters.calls.get(*op).copied().unwrap_or(0))
            .sum()
    }

    /// Waits until no Account Factory operation is running.
    pub fn wait_idle(&self, limit: Duration) {
        let started = std::time::Instant::now();
        loop {
            let counters = self
                .block_on(self.control.counters())
                .expect("read counters");
            if counters.operations_in_flight == 0 {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "operations still running after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Landing {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.runtime.block_on(server.shutdown());
        }
    }
}

/// Builds a `kore_cloud_account` block in the shared organization. `extra` contains more
/// argument lines, indented by two spaces.
pub fn account_hcl(label: &str, team: &str, name: &str, extra: &str) -> String {
    format!(
        r#"
resource "kore_cloud_account" "{label}" {{
  organization_id = kore_aws_organization.main.id
  team            = "{team}"
  name            = "{name}"
{extra}
}}
"#
    )
}

/// Returns the planned `after` values of the resource at `address` in a JSON plan.
pub fn planned_after(plan: &serde_json::Value, address: &str) -> serde_json::Value {
    plan["resource_changes"]
        .as_array()
        .and_then(|changes| changes.iter().find(|c| c["address"] == address))
        .unwrap_or_else(|| panic!("{address} is not in the plan: {plan}"))["change"]["after"]
        .clone()
}

/// Returns `terraform state list` as addresses.
pub fn state_list(workdir: &Workdir, tf: &Terraform) -> Vec<String> {
    let run = workdir.terraform(tf, &["state", "list"]);
    run.assert_success();
    run.stdout.lines().map(str::to_string).collect()
}

/// Returns the planned actions of every resource change, as `address: action,action`.
pub fn planned_actions(plan: &serde_json::Value) -> Vec<String> {
    let Some(changes) = plan["resource_changes"].as_array() else {
        return Vec::new();
    };
    changes
        .iter()
        .map(|change| {
            let actions: Vec<&str> = change["change"]["actions"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            format!(
                "{}: {}",
                change["address"].as_str().unwrap_or_default(),
                actions.join(",")
            )
        })
        .collect()
}

/// Returns the planned actions that change something, leaving out `no-op` and `read`.
pub fn planned_changes(plan: &serde_json::Value) -> Vec<String> {
    planned_actions(plan)
        .into_iter()
        .filter(|a| !a.ends_with(": no-op") && !a.ends_with(": read"))
        .collect()
}

/// Runs `terraform plan -detailed-exitcode` and panics unless it shows no changes.
pub fn assert_plan_empty(workdir: &Workdir, tf: &Terraform) {
    let run = workdir.terraform(
        tf,
        &["plan", "-input=false", "-no-color", "-detailed-exitcode"],
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "the plan should be empty: {run}"
    );
}

/// Returns the values of the resource at `address` from `terraform show -json` of the state.
pub fn resource_values(workdir: &Workdir, tf: &Terraform, address: &str) -> serde_json::Value {
    let state = workdir.state_json(tf);
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    resources
        .into_iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("{address} is not in the state: {state}"))["values"]
        .clone()
}

/// One diagnostic from Terraform's plain (`-no-color`) output, its text joined into one line.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// `Error` or `Warning`.
    pub severity: String,
    pub summary: String,
    /// The resource from `with ADDRESS,`, if any.
    pub address: Option<String>,
    /// The configuration attribute on the quoted source line, such as `name`.
    pub attribute: Option<String>,
    /// Summary, source lines and detail, whitespace collapsed, because Terraform wraps the
    /// detail at 78 columns.
    pub text: String,
}

/// Splits Terraform's plain output into diagnostics.
pub fn diagnostics(output: &str) -> Vec<Diagnostic> {
    let mut found: Vec<Diagnostic> = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    let flush = |lines: &mut Vec<&str>, found: &mut Vec<Diagnostic>| {
        if let Some(diagnostic) = parse_diagnostic(lines) {
            found.push(diagnostic);
        }
        lines.clear();
    };
    for line in output.lines() {
        let line = line.trim_start_matches(['│', '╷', '╵']).trim_end();
        let starts_block = line.starts_with("Error: ") || line.starts_with("Warning: ");
        if starts_block {
            flush(&mut lines, &mut found);
        }
        if starts_block || !lines.is_empty() {
            lines.push(line);
        }
    }
    flush(&mut lines, &mut found);
    found
}

fn parse_diagnostic(lines: &[&str]) -> Option<Diagnostic> {
    let first = lines.first()?;
    let (severity, summary) = first.split_once(": ")?;
    let mut address = None;
    let mut attribute = None;
    let mut end = lines.len();
    for (index, line) in lines.iter().enumerate().skip(1) {
        let trimmed = line.trim();
        // A warning printed before the plan summary ends where the plan output resumes.
        if trimmed.starts_with("Plan: ") || trimmed.starts_with("Terraform will perform") {
            end = index;
            break;
        }
        if let Some(rest) = trimmed.strip_prefix("with ") {
            address = Some(rest.trim_end_matches(',').to_string());
        }
        if attribute.is_none() {
            attribute = quoted_attribute(trimmed);
        }
    }
    let text = lines[..end].join(" ");
    Some(Diagnostic {
        severity: severity.to_string(),
        summary: summary.to_string(),
        address,
        attribute,
        text: collapse_whitespace(&text),
    })
}

/// Reads the attribute name from a quoted source line such as `28:   name   = "x"`.
fn quoted_attribute(line: &str) -> Option<String> {
    let (number, rest) = line.split_once(':')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (name, _) = rest.split_once('=')?;
    let name = name.trim();
    let simple = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    simple.then(|| name.to_string())
}

pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Returns every error of `run`. Errors of a destroy carry no resource address.
pub fn errors(run: &TerraformRun) -> Vec<Diagnostic> {
    diagnostics(&run.output())
        .into_iter()
        .filter(|d| d.severity == "Error")
        .collect()
}

/// Returns the errors of `run` on the resource at `address`.
pub fn errors_on(run: &TerraformRun, address: &str) -> Vec<Diagnostic> {
    diagnostics(&run.output())
        .into_iter()
        .filter(|d| d.severity == "Error" && d.address.as_deref() == Some(address))
        .collect()
}

/// Checks that `run` failed with an error on `attribute` of the resource at `address` whose
/// text contains every fragment, and returns that error.
pub fn assert_attribute_error(
    run: &TerraformRun,
    address: &str,
    attribute: &str,
    fragments: &[&str],
) -> Diagnostic {
    run.assert_failure();
    let errors = errors_on(run, address);
    let error = errors
        .iter()
        .find(|d| d.attribute.as_deref() == Some(attribute))
        .unwrap_or_else(|| {
            panic!("no error on {address} attribute {attribute}; errors: {errors:#?}\n{run}")
        });
    for fragment in fragments {
        assert!(
            error.text.contains(fragment),
            "the error on {address}.{attribute} does not mention {fragment:?}: {}",
            error.text
        );
    }
    error.clone()
}
