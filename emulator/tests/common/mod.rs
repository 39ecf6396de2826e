//! Shared set-up for the integration tests: an in-process emulator on a free loopback port and
//! AWS SDK clients pointed at it with dummy credentials.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use account_factory_emulator::client::ControlClient;
use account_factory_emulator::{serve, Config, ServerHandle};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_servicecatalog::types::{ProvisioningParameter, RecordDetail, RecordStatus};

pub const REGION: &str = "eu-west-2";
pub const SSO_EMAIL: &str = "cloud-team@example.com";

pub struct TestEmulator {
    pub server: ServerHandle,
    pub control: ControlClient,
    pub catalog: aws_sdk_servicecatalog::Client,
    pub organizations: aws_sdk_organizations::Client,
    pub sts: aws_sdk_sts::Client,
    pub account: aws_sdk_account::Client,
}

/// Builds a configuration on port 0 with quick operations.
pub fn quick_config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("valid address"),
        provision_seconds: 0.3,
        close_seconds: 0.2,
        ..Config::default()
    }
}

pub async fn start() -> TestEmulator {
    start_with(quick_config()).await
}

pub async fn start_with(config: Config) -> TestEmulator {
    let server = serve(config).await.expect("emulator starts");
    let url = server.url();
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&url)
        .region(Region::new(REGION))
        .test_credentials()
        .load()
        .await;
    TestEmulator {
        control: ControlClient::new(&url),
        catalog: aws_sdk_servicecatalog::Client::new(&sdk_config),
        organizations: aws_sdk_organizations::Client::new(&sdk_config),
        sts: aws_sdk_sts::Client::new(&sdk_config),
        account: aws_sdk_account::Client::new(&sdk_config),
        server,
    }
}

pub fn state_file_in(directory: &tempfile::TempDir) -> PathBuf {
    directory.path().join("landing-zone.json")
}

/// Builds the six Account Factory parameters for an account in `ou`, a `Name (ou-id)` value.
pub fn parameters(name: &str, email: &str, ou: &str) -> Vec<ProvisioningParameter> {
    [
        ("AccountName", name),
        ("AccountEmail", email),
        ("SSOUserEmail", SSO_EMAIL),
        ("SSOUserFirstName", "Cloud"),
        ("SSOUserLastName", "Team"),
        ("ManagedOrganizationalUnit", ou),
    ]
    .into_iter()
    .map(|(key, value)| {
        ProvisioningParameter::builder()
            .key(key)
            .value(value)
            .build()
    })
    .collect()
}

impl TestEmulator {
    /// Finds the product id, artifact id and launch path id as a client would.
    pub async fn launch_ids(&self) -> (String, String, String) {
        let products = self
            .catalog
            .search_products()
            .filters(
                aws_sdk_servicecatalog::types::ProductViewFilterBy::FullTextSearch,
                vec!["AWS Control Tower Account Factory".to_string()],
            )
            .send()
            .await
            .expect("search products");
        let product_id = products.product_view_summaries()[0]
            .product_id()
            .expect("product id")
            .to_string();
        let artifacts = self
            .catalog
            .list_provisioning_artifacts()
            .product_id(&product_id)
            .send()
            .await
            .expect("list artifacts");
        let artifact_id = artifacts.provisioning_artifact_details()[0]
            .id()
            .expect("artifact id")
            .to_string();
        let paths = self
            .catalog
            .list_launch_paths()
            .product_id(&product_id)
            .send()
            .await
            .expect("list launch paths");
        let path_id = paths.launch_path_summaries()[0]
            .id()
            .expect("path id")
            .to_string();
        (product_id, artifact_id, path_id)
    }

    /// Returns the `Name (ou-id)` value of the OU at `path`, such as `Workloads/Production`.
    pub async fn ou_value(&self, path: &str) -> String {
        let state = self.control.state().await.expect("state");
        let ou = state
            .organizational_units
            .iter()
            .find(|ou| state.organizational_unit_name_path(&ou.id) == path)
            .unwrap_or_else(|| panic!("no OU at {path}"));
        format!("{} ({})", ou.name, ou.id)
    }

    pub async fn ou_id(&self, path: &str) -> String {
        let value = self.ou_value(path).await;
        value
            .rsplit_once(" (")
            .map(|(_, id)| id.trim_end_matches(')').to_string())
            .expect("name and id")
    }

    /// Starts provisioning an account and returns the first record detail.
    pub async fn provision(&self, name: &str, email: &str, ou: &str) -> RecordDetail {
        let (product_id, artifact_id, path_id) = self.launch_ids().await;
        self.catalog
            .provision_product()
            .product_id(product_id)
            .provisioning_artifact_id(artifact_id)
            .path_id(path_id)
            .provisioned_product_name(name)
            .set_provisioning_parameters(Some(parameters(name, email, ou)))
            .send()
            .await
            .expect("provision product")
            .record_detail()
            .expect("record detail")
            .clone()
    }

    /// Polls DescribeRecord until the record finishes, and panics after ten seconds.
    pub async fn wait_for_record(
        &self,
        record_id: &str,
    ) -> aws_sdk_servicecatalog::operation::describe_record::DescribeRecordOutput {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let output = self
                .catalog
                .describe_record()
                .id(record_id)
                .send()
                .await
                .expect("describe record");
            let status = output
                .record_detail()
                .and_then(|detail| detail.status())
                .cloned();
            if matches!(
                status,
                Some(RecordStatus::Succeeded) | Some(RecordStatus::Failed)
            ) {
                return output;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "record {record_id} did not finish; last status {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.server.shutdown().await.expect("clean shutdown");
    }
}

/// Returns the value of one output of a finished record.
pub fn output_value(
    output: &aws_sdk_servicecatalog::operation::describe_record::DescribeRecordOutput,
    key: &str,
) -> Option<String> {
    output
        .record_outputs()
        .iter()
        .find(|item| item.output_key() == Some(key))
        .and_then(|item| item.output_value())
        .map(str::to_string)
}
