//! A landing-zone emulator per test, served in-process on a free loopback port, and the
//! Terraform configuration that points the provider at it.

use std::time::Duration;

use account_factory_emulator::client::ControlClient;
use account_factory_emulator::state::LandingZone;
use account_factory_emulator::{Config, ServerHandle};

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

    /// The `provider "kore"` block with every endpoint at this emulator.
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

    pub fn state(&self) -> LandingZone {
        self.block_on(self.control.state()).expect("read the emulator state")
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
        let counters = self.block_on(self.control.counters()).expect("read counters");
        WRITE_OPERATIONS
            .iter()
            .map(|op| counters.calls.get(*op).copied().unwrap_or(0))
            .sum()
    }

    /// Waits until no Account Factory operation is running.
    pub fn wait_idle(&self, limit: Duration) {
        let started = std::time::Instant::now();
        loop {
            let counters = self.block_on(self.control.counters()).expect("read counters");
            if counters.operations_in_flight == 0 {
                return;
            }
            assert!(started.elapsed() < limit, "operations still running after {limit:?}");
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
