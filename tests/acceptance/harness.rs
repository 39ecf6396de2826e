//! Runs real Terraform against the provider binary that Cargo built for this test.
//!
//! Each [`Workdir`] is a temporary folder with a CLI configuration whose `dev_overrides`
//! point `registry.terraform.io/appvia/kore` at the binary, so no `terraform init` is
//! needed. Every run gets static dummy AWS credentials, no instance metadata and no
//! proxy for loopback, so nothing can reach AWS. Terraform binaries come from
//! `.tools/bin` (installed by `make tools`) and `/usr/local/bin/terraform` when present,
//! or from `KORE_TERRAFORM_BINARIES`, a colon-separated list of paths.

#![allow(dead_code)] // Helpers for the resource tests are not all used by every test.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;

/// Terraform versions every acceptance check must run on: the oldest supported release
/// and the newest tested one.
pub const REQUIRED_VERSIONS: [&str; 2] = ["1.0.3", "1.15.5"];

/// The provider's source address, as written in `required_providers`.
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/appvia/kore";

/// Binary name under which Terraform re-logs the provider's log lines.
pub const PROVIDER_LOGGER: &str = "provider.terraform-provider-kore";

/// Returns the provider binary Cargo built for this test run.
pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-kore"))
}

/// One installed Terraform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terraform {
    /// For example `1.15.5`.
    pub version: String,
    pub path: PathBuf,
    /// True for a native executable, false for a launcher script (the 1.15.5 build runs
    /// inside Python, whose signal handling differs from Terraform's own).
    pub native: bool,
}

impl fmt::Display for Terraform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Terraform {}", self.version)
    }
}

/// Returns every Terraform to test with, oldest first. Panics, failing the test, when 1.0.3 or
/// 1.15.5 is missing and `KORE_TERRAFORM_BINARIES` does not name the binaries.
pub fn terraform_versions() -> &'static [Terraform] {
    static VERSIONS: OnceLock<Vec<Terraform>> = OnceLock::new();
    VERSIONS.get_or_init(discover_terraform)
}

/// Returns the installed Terraform of `version`, if any.
pub fn terraform(version: &str) -> Option<&'static Terraform> {
    terraform_versions().iter().find(|tf| tf.version == version)
}

/// Returns the first native Terraform binary, for tests that send signals to Terraform.
pub fn native_terraform() -> Option<&'static Terraform> {
    terraform_versions().iter().find(|tf| tf.native)
}

fn discover_terraform() -> Vec<Terraform> {
    let explicit = std::env::var("KORE_TERRAFORM_BINARIES")
        .ok()
        .filter(|list| !list.trim().is_empty());
    let candidates: Vec<PathBuf> = match &explicit {
        Some(list) => list.split(':').map(PathBuf::from).collect(),
        None => {
            let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin");
            let mut paths: Vec<PathBuf> = REQUIRED_VERSIONS
                .iter()
                .map(|version| tools.join(format!("terraform-{version}")))
                .collect();
            paths.push(PathBuf::from("/usr/local/bin/terraform"));
            paths
        }
    };

    let mut found: Vec<Terraform> = Vec::new();
    for path in candidates {
        if !path.is_file() {
            assert!(
                explicit.is_none(),
                "KORE_TERRAFORM_BINARIES names {}, which does not exist",
                path.display()
            );
            continue;
        }
        let version = version_of(&path);
        if found.iter().any(|tf| tf.version == version) {
            continue;
        }
        let native = std::fs::read(&path)
            .map(|bytes| bytes.starts_with(b"\x7fELF"))
            .unwrap_or(false);
        found.push(Terraform {
            version,
            path,
            native,
        });
    }

    if explicit.is_none() {
        let missing: Vec<&str> = REQUIRED_VERSIONS
            .iter()
            .copied()
            .filter(|version| !found.iter().any(|tf| tf.version == *version))
            .collect();
        assert!(
            missing.is_empty(),
            "Terraform {} is not installed in .tools/bin. Run `make tools` (scripts/install-tools.sh), \
             or set KORE_TERRAFORM_BINARIES to a colon-separated list of terraform binaries.",
            missing.join(" and ")
        );
    }
    assert!(!found.is_empty(), "no Terraform binary found");
    found.sort_by_key(|tf| version_key(&tf.version));
    found
}

/// Reads the version from a `terraform-X.Y.Z` file name, or runs `terraform version -json`.
fn version_of(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if let Some(version) = name.strip_prefix("terraform-") {
        if version.split('.').count() == 3 && version.split('.').all(|p| p.parse::<u32>().is_ok()) {
            return version.to_string();
        }
    }
    let output = Command::new(path)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("running {} version failed: {error}", path.display()));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{} version -json printed no JSON ({error}): {}",
            path.display(),
            String::from_utf8_lossy(&output.stdout)
        )
    });
    json["terraform_version"]
        .as_str()
        .unwrap_or_else(|| panic!("{} version -json has no terraform_version", path.display()))
        .to_string()
}

fn version_key(version: &str) -> Vec<u32> {
    version
        .split('.')
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// True when `tf` is at least `version`, for checks of features added later.
pub fn at_least(tf: &Terraform, version: &str) -> bool {
    version_key(&tf.version) >= version_key(version)
}

/// The result of one Terraform command.
pub struct TerraformRun {
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl TerraformRun {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Panics with the command's output unless it succeeded.
    pub fn assert_success(&self) -> &TerraformRun {
        assert!(self.success(), "{self}");
        self
    }

    /// Panics with the command's output unless it failed.
    pub fn assert_failure(&self) -> &TerraformRun {
        assert!(!self.success(), "expected a failure: {self}");
        self
    }

    /// Stdout and stderr together, for searching messages wherever Terraform put them.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl fmt::Display for TerraformRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

/// Text of the `required_providers` file every working directory gets.
const PROVIDER_REQUIREMENTS: &str = r#"terraform {
  required_providers {
    kore = {
      source = "appvia/kore"
    }
  }
}
"#;

/// A temporary Terraform working directory wired to the provider under test.
pub struct Workdir {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Default for Workdir {
    fn default() -> Workdir {
        Workdir::new()
    }
}

impl Workdir {
    /// Creates the folder, its CLI configuration and `providers.tf`.
    pub fn new() -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix("kore-acceptance-")
            .tempdir()
            .expect("create a temporary working directory");
        let plugin_dir = provider_binary()
            .parent()
            .expect("binary folder")
            .to_path_buf();
        let cli_config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = {dir:?}\n  }}\n  direct {{}}\n}}\n",
            dir = plugin_dir.display().to_string()
        );
        std::fs::write(dir.path().join("cli.tfrc"), cli_config).expect("write cli.tfrc");
        std::fs::write(dir.path().join("providers.tf"), PROVIDER_REQUIREMENTS)
            .expect("write providers.tf");
        Workdir {
            dir,
            env: BTreeMap::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for every later Terraform run, for example an
    /// emulator endpoint or `TF_LOG`.
    pub fn set_env(&mut self, key: &str, value: &str) -> &mut Workdir {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    pub fn remove_env(&mut self, key: &str) -> &mut Workdir {
        self.env.remove(key);
        self
    }

    /// Writes `main.tf`, replacing the previous configuration. `providers.tf` already
    /// declares the provider's source.
    pub fn write_config(&self, hcl: &str) {
        self.write_file("main.tf", hcl);
    }

    pub fn write_file(&self, name: &str, contents: &str) {
        std::fs::write(self.path().join(name), contents)
            .unwrap_or_else(|error| panic!("write {name}: {error}"));
    }

    /// Builds a `terraform` command in this folder with the test environment, not yet started.
    pub fn command(&self, tf: &Terraform, args: &[&str]) -> Command {
        let mut command = Command::new(&tf.path);
        command
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null());
        for key in INHERITED_VARIABLES_TO_CLEAR {
            command.env_remove(key);
        }
        // Per-service endpoints (`AWS_ENDPOINT_URL_STS`, ...) and input variables.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("AWS_ENDPOINT_URL") || key.starts_with("TF_VAR_") {
                command.env_remove(key.as_ref());
            }
        }
        let no_file = self.path().join("no-such-aws-file");
        command
            .env("TF_CLI_CONFIG_FILE", self.path().join("cli.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", &no_file)
            .env("AWS_SHARED_CREDENTIALS_FILE", &no_file)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        command.envs(&self.env);
        command
    }

    /// Runs `terraform ARGS` to completion and captures its output.
    pub fn terraform(&self, tf: &Terraform, args: &[&str]) -> TerraformRun {
        let output = self
            .command(tf, args)
            .output()
            .unwrap_or_else(|error| panic!("starting {} failed: {error}", tf.path.display()));
        TerraformRun {
            command: format!("terraform-{} {}", tf.version, args.join(" ")),
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts `terraform ARGS` in a process group of its own, as a shell starts a
    /// foreground job, so [`RunningTerraform::interrupt_group`] can send SIGINT to
    /// Terraform and every plugin it started, as Ctrl-C in a terminal does.
    pub fn spawn_in_process_group(&self, tf: &Terraform, args: &[&str]) -> RunningTerraform {
        use std::os::unix::process::CommandExt;
        let mut child = self
            .command(tf, args)
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("starting {} failed: {error}", tf.path.display()));
        let stdout = read_in_background(child.stdout.take());
        let stderr = read_in_background(child.stderr.take());
        RunningTerraform {
            command: format!("terraform-{} {}", tf.version, args.join(" ")),
            child,
            stdout,
            stderr,
        }
    }

    pub fn validate(&self, tf: &Terraform) -> TerraformRun {
        self.terraform(tf, &["validate", "-no-color"])
    }

    pub fn plan(&self, tf: &Terraform) -> TerraformRun {
        self.terraform(tf, &["plan", "-input=false", "-no-color"])
    }

    pub fn apply(&self, tf: &Terraform) -> TerraformRun {
        self.terraform(tf, &["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn destroy(&self, tf: &Terraform) -> TerraformRun {
        self.terraform(
            tf,
            &["destroy", "-auto-approve", "-input=false", "-no-color"],
        )
    }

    pub fn import(&self, tf: &Terraform, address: &str, id: &str) -> TerraformRun {
        self.terraform(tf, &["import", "-input=false", "-no-color", address, id])
    }

    /// Plans into a file and returns `terraform show -json` of it. Panics if either
    /// command fails.
    pub fn plan_json(&self, tf: &Terraform) -> serde_json::Value {
        self.terraform(tf, &["plan", "-input=false", "-no-color", "-out=tfplan"])
            .assert_success();
        self.json(tf, &["show", "-json", "tfplan"])
    }

    /// Returns `terraform show -json` of the current state.
    pub fn state_json(&self, tf: &Terraform) -> serde_json::Value {
        self.json(tf, &["show", "-json"])
    }

    /// Returns `terraform providers schema -json`.
    pub fn schema_json(&self, tf: &Terraform) -> serde_json::Value {
        self.json(tf, &["providers", "schema", "-json"])
    }

    /// Runs a command that prints JSON on stdout and parses it.
    pub fn json(&self, tf: &Terraform, args: &[&str]) -> serde_json::Value {
        let run = self.terraform(tf, args);
        run.assert_success();
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {run}"))
    }
}

/// Variables of the developer's shell that would change what Terraform or the provider
/// does in a test.
const INHERITED_VARIABLES_TO_CLEAR: [&str; 16] = [
    "TF_LOG",
    "TF_LOG_PATH",
    "TF_LOG_PROVIDER",
    "TF_LOG_CORE",
    "TF_REATTACH_PROVIDERS",
    "TF_DISABLE_PLUGIN_TLS",
    "TF_PLUGIN_CACHE_DIR",
    "TF_DATA_DIR",
    "TF_WORKSPACE",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "KORE_LOG",
];

/// Finds the provider's entry in `terraform providers schema -json` output.
pub fn provider_schema(schema_json: &serde_json::Value) -> &serde_json::Value {
    let entry = &schema_json["provider_schemas"][PROVIDER_SOURCE];
    assert!(
        entry.is_object(),
        "no schema for {PROVIDER_SOURCE} in {schema_json}"
    );
    entry
}

/// A Terraform command started by [`Workdir::spawn_in_process_group`]. Its output is
/// read in background threads so a full pipe never blocks it.
pub struct RunningTerraform {
    command: String,
    child: std::process::Child,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

fn read_in_background(
    pipe: Option<impl std::io::Read + Send + 'static>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

impl RunningTerraform {
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("poll terraform").is_none()
    }

    /// Sends SIGINT to Terraform's whole process group.
    pub fn interrupt_group(&self) {
        let status = Command::new("kill")
            .args(["-INT", "--", &format!("-{}", self.child.id())])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -INT -{} failed", self.child.id());
    }

    /// Waits up to `limit` for Terraform to exit and returns its output. Kills the process
    /// group and panics if it is still running then.
    pub fn wait(mut self, limit: std::time::Duration) -> TerraformRun {
        let deadline = std::time::Instant::now() + limit;
        while self.is_running() {
            if std::time::Instant::now() > deadline {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", self.child.id())])
                    .status();
                let _ = self.child.wait();
                panic!("`{}` still running after {limit:?}", self.command);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let status = self.child.wait().expect("terraform exit status");
        TerraformRun {
            command: self.command,
            status,
            stdout: self.stdout.join().unwrap_or_default(),
            stderr: self.stderr.join().unwrap_or_default(),
        }
    }
}
