//! The `provider "kore"` block: region, credentials, endpoints and the operation limit.
//! It validates the block, builds the AWS clients and shares them, with the limiter and the
//! landing-zone inventory, with every resource and data source.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_smithy_types::retry::RetryConfig;
use tokio::sync::{Mutex, RwLock};

use crate::aws::limiter::{Limiter, DEFAULT_MAX_CONCURRENT_OPERATIONS};
use crate::aws::AwsClients;
use crate::inventory::Inventory;
use crate::plugin::{
    Attribute, AttributePath, Block, Context, DataSource, Diagnostics, Function, Nesting, Provider,
    Resource, Schema, Type, Value,
};
use crate::rules::duration::parse_duration;

/// Highest `max_concurrent_operations`: Control Tower's adjustable quota tops out at 10.
pub const MAX_CONCURRENT_OPERATIONS_LIMIT: i64 = 10;
/// Attempts per AWS call for throttling and 5xx errors; Control Tower's quotas are low.
const RETRY_MAX_ATTEMPTS: u32 = 10;
/// Maximum back-off between two attempts of one AWS call.
const RETRY_MAX_BACKOFF: Duration = Duration::from_secs(20);

const ENDPOINT_NAMES: [&str; 5] = [
    "servicecatalog",
    "organizations",
    "sts",
    "account",
    "controltower",
];

/// Everything the provider block configures, shared by resources and data sources.
pub struct Connection {
    pub clients: AwsClients,
    pub limiter: Limiter,
    pub region: String,
    pub inventory: Inventory,
}

/// An organization planned in this process, kept so that accounts planned in the same run
/// can be validated before the organization exists in AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedOrganization {
    /// The SSO user's email; `None` while the configuration leaves it unknown until apply.
    pub sso_email: Option<String>,
    pub organizational_unit_id: Option<String>,
}

/// State shared between the provider and the types it registers.
#[derive(Default)]
pub struct ProviderData {
    connection: RwLock<Option<Arc<Connection>>>,
    /// Organizations planned in this process, by installation name.
    pub planned_organizations: Mutex<HashMap<String, PlannedOrganization>>,
    /// Accounts planned in this process: lower-cased email to (team, name), used to find two
    /// resources that would get the same email.
    pub planned_accounts: Mutex<Vec<crate::resources::cloud_account::PlannedAccount>>,
    /// Installations this run replaces: their claim may be taken over by the replacement.
    pub replaced_organizations: Mutex<HashSet<String>>,
    /// Existing accounts planned in this run, by lower-cased email: when Terraform plans a
    /// replacement's create, the email holder is the account being replaced.
    pub planned_existing_accounts: Mutex<HashMap<String, String>>,
}

impl ProviderData {
    /// Returns the configured connection, or an error diagnostic when the provider block has
    /// not been configured (Terraform configures it before any resource call).
    pub async fn connection(&self) -> Result<Arc<Connection>, Diagnostics> {
        self.connection.read().await.clone().ok_or_else(|| {
            Diagnostics::single_error(
                "Provider not configured",
                "The kore provider was used before Terraform configured it. This is a bug in the provider or an unknown value in the provider block; set every provider argument to a value known at plan time.",
            )
        })
    }
}

pub struct KoreProvider {
    data: Arc<ProviderData>,
}

impl Default for KoreProvider {
    fn default() -> KoreProvider {
        KoreProvider::new()
    }
}

impl KoreProvider {
    pub fn new() -> KoreProvider {
        KoreProvider {
            data: Arc::new(ProviderData::default()),
        }
    }

    /// Returns the state shared with resources and data sources; tests read the connection from it.
    pub fn data(&self) -> &Arc<ProviderData> {
        &self.data
    }
}

fn endpoints_block() -> Block {
    let mut block = Block::new().description(
        "Custom endpoint URLs, for example the local Account Factory emulator. Each value is an http or https URL. Unset services use the AWS endpoint, or `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` when set.",
    );
    for name in ENDPOINT_NAMES {
        block = block.attribute(
            Attribute::string(name)
                .optional()
                .description(&format!("Endpoint URL for {name}.")),
        );
    }
    block
}

fn assume_role_block() -> Block {
    Block::new()
        .description("An IAM role to assume with the base credentials before calling AWS, for example the automation role in the management account.")
        .attribute(Attribute::string("role_arn").required().description("ARN of the IAM role to assume, `arn:aws:iam::<account>:role/<name>`."))
        .attribute(Attribute::string("session_name").optional().description("Session name, 2 to 64 characters of letters, digits and `+=,.@-`. Default: `terraform-provider-kore`."))
        .attribute(Attribute::string("external_id").optional().sensitive().description("External ID that the role's trust policy requires."))
        .attribute(Attribute::string("duration").optional().description("Session duration such as `1h`, from `15m` to `12h`. Default: `1h`."))
}

/// Checks the provider block without touching AWS, naming the attribute at fault.
fn validate_provider_config(config: &Value) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();

    if let Some(limit) = config.get("max_concurrent_operations").as_i64() {
        if !(1..=MAX_CONCURRENT_OPERATIONS_LIMIT).contains(&limit) {
            diagnostics.attribute_error(
                AttributePath::root("max_concurrent_operations"),
                "Invalid max_concurrent_operations",
                format!("max_concurrent_operations is {limit}, but it must be between 1 and {MAX_CONCURRENT_OPERATIONS_LIMIT} (Control Tower runs at most 5 account operations at once by default, 10 with a quota increase)."),
            );
        }
    }

    let endpoints = config.get("endpoints");
    for name in ENDPOINT_NAMES {
        if let Some(url) = endpoints.get(name).as_str() {
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.split("://").nth(1).is_none_or(str::is_empty)
            {
                diagnostics.attribute_error(
                    AttributePath::root("endpoints").attribute(name),
                    "Invalid endpoint URL",
                    format!("endpoints.{name} is {url:?}, which is not an http or https URL; add the scheme, for example \"http://{}\".", url.trim_start_matches("//")),
                );
            }
        }
    }

    let assume_role = config.get("assume_role");
    if !assume_role.is_null() {
        let path = AttributePath::root("assume_role");
        if let Some(arn) = assume_role.get("role_arn").as_str() {
            let valid = regex::Regex::new(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
                .map(|re| re.is_match(arn))
                .unwrap_or(false);
            if !valid {
                diagnostics.attribute_error(
                    path.clone().attribute("role_arn"),
                    "Invalid role ARN",
                    format!("assume_role.role_arn is {arn:?}, which is not an IAM role ARN; write it as \"arn:aws:iam::123456789012:role/KoreAccountFactory\"."),
                );
            }
        }
        if let Some(name) = assume_role.get("session_name").as_str() {
            let valid = (2..=64).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
            if !valid {
                diagnostics.attribute_error(
                    path.clone().attribute("session_name"),
                    "Invalid session name",
                    format!("assume_role.session_name is {name:?}; it must be 2 to 64 characters of letters, digits and +=,.@_-."),
                );
            }
        }
        if let Some(text) = assume_role.get("duration").as_str() {
            match parse_duration(text) {
                Ok(duration) if duration < Duration::from_secs(15 * 60) => diagnostics.attribute_error(
                    path.clone().attribute("duration"),
                    "Session duration too short",
                    format!("assume_role.duration is {text:?}, but STS requires at least 15 minutes; write \"15m\" or more."),
                ),
                Ok(duration) if duration > Duration::from_secs(12 * 3600) => diagnostics.attribute_error(
                    path.clone().attribute("duration"),
                    "Session duration too long",
                    format!("assume_role.duration is {text:?}, but STS allows at most 12 hours; write \"12h\" or less."),
                ),
                Ok(_) => {}
                Err(error) => diagnostics.attribute_error(
                    path.clone().attribute("duration"),
                    "Invalid session duration",
                    format!("assume_role.{error}"),
                ),
            }
        }
    }
    diagnostics
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_list()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Builds the shared AWS configuration from the provider block. Credentials are resolved
/// lazily by the SDK on the first call, so this needs none.
async fn build_connection(config: &Value) -> Result<Connection, Diagnostics> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        RetryConfig::standard()
            .with_max_attempts(RETRY_MAX_ATTEMPTS)
            .with_max_backoff(RETRY_MAX_BACKOFF),
    );
    if let Some(region) = config.get("region").as_str() {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(profile) = config.get("profile").as_str() {
        loader = loader.profile_name(profile);
    }
    let config_files = string_list(config.get("shared_config_files"));
    let credentials_files = string_list(config.get("shared_credentials_files"));
    if !config_files.is_empty() || !credentials_files.is_empty() {
        let mut files = EnvConfigFiles::builder();
        if !config_files.is_empty() {
            files = files.include_default_config_file(false);
        }
        if !credentials_files.is_empty() {
            files = files.include_default_credentials_file(false);
        }
        for path in &config_files {
            files = files.with_file(EnvConfigFileKind::Config, path);
        }
        for path in &credentials_files {
            files = files.with_file(EnvConfigFileKind::Credentials, path);
        }
        loader = loader.profile_files(files.build());
    }
    let mut sdk_config = loader.load().await;

    let Some(region) = sdk_config.region().map(|r| r.to_string()) else {
        return Err({
            let mut diagnostics = Diagnostics::default();
            diagnostics.attribute_error(
                AttributePath::root("region"),
                "Missing region",
                "No AWS region is set. Set region in the provider block to the Control Tower home region, or set AWS_REGION.",
            );
            diagnostics
        });
    };

    let endpoints = config.get("endpoints");
    let endpoint = |name: &str| endpoints.get(name).as_str().map(str::to_string);

    let assume_role = config.get("assume_role");
    if let Some(role_arn) = assume_role.get("role_arn").as_str() {
        let mut sts_base = sdk_config.clone();
        if let Some(url) = endpoint("sts") {
            sts_base = sts_base.into_builder().endpoint_url(url).build();
        }
        let session_name = assume_role
            .get("session_name")
            .as_str()
            .unwrap_or("terraform-provider-kore");
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name(session_name)
            .configure(&sts_base);
        if let Some(external_id) = assume_role.get("external_id").as_str() {
            builder = builder.external_id(external_id);
        }
        let duration = assume_role
            .get("duration")
            .as_str()
            .and_then(|d| parse_duration(d).ok())
            .unwrap_or(Duration::from_secs(3600));
        builder = builder.session_length(duration);
        let provider = builder.build().await;
        sdk_config = sdk_config
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        tracing::info!(
            role_arn,
            session_name,
            "credentials come from an assumed role"
        );
    }

    let service_catalog = {
        let mut builder = aws_sdk_servicecatalog::config::Builder::from(&sdk_config);
        if let Some(url) = endpoint("servicecatalog") {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_servicecatalog::Client::from_conf(builder.build())
    };
    let organizations = {
        let mut builder = aws_sdk_organizations::config::Builder::from(&sdk_config);
        if let Some(url) = endpoint("organizations") {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_organizations::Client::from_conf(builder.build())
    };
    let sts = {
        let mut builder = aws_sdk_sts::config::Builder::from(&sdk_config);
        if let Some(url) = endpoint("sts") {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(builder.build())
    };
    let account = {
        let mut builder = aws_sdk_account::config::Builder::from(&sdk_config);
        if let Some(url) = endpoint("account") {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_account::Client::from_conf(builder.build())
    };

    let limit = config
        .get("max_concurrent_operations")
        .as_i64()
        .map(|n| n.clamp(1, MAX_CONCURRENT_OPERATIONS_LIMIT) as usize)
        .unwrap_or(DEFAULT_MAX_CONCURRENT_OPERATIONS);
    let clients = AwsClients {
        service_catalog,
        organizations,
        sts,
        account,
    };
    tracing::info!(region = %region, max_concurrent_operations = limit, "provider configured");
    Ok(Connection {
        inventory: Inventory::new(clients.clone()),
        clients,
        limiter: Limiter::new(limit),
        region,
    })
}

#[async_trait]
impl Provider for KoreProvider {
    fn schema(&self) -> Schema {
        let block = Block::new()
            .description("Vends AWS accounts through AWS Control Tower Account Factory.")
            .attribute(Attribute::string("region").optional().description("The Control Tower home region. Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's region."))
            .attribute(Attribute::string("profile").optional().description("Named profile of the shared AWS configuration files."))
            .attribute(Attribute::new("shared_config_files", Type::list(Type::String)).optional().description("Paths of shared config files to read in place of `~/.aws/config`."))
            .attribute(Attribute::new("shared_credentials_files", Type::list(Type::String)).optional().description("Paths of shared credentials files to read in place of `~/.aws/credentials`."))
            .attribute(Attribute::number("max_concurrent_operations").optional().description("Account Factory operations (create, update, delete) in flight at once from this Terraform run, 1 to 10. Control Tower allows 5 by default and fails the rest. Default: `5`."))
            .block("assume_role", Nesting::Single, assume_role_block())
            .block("endpoints", Nesting::Single, endpoints_block());
        Schema::new(0, block)
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        validate_provider_config(config)
    }

    async fn configure(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diagnostics = validate_provider_config(config);
        if diagnostics.has_errors() {
            return diagnostics;
        }
        match build_connection(config).await {
            Ok(connection) => {
                *self.data.connection.write().await = Some(Arc::new(connection));
            }
            Err(errors) => diagnostics.extend(errors),
        }
        diagnostics
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        crate::resources::all(&self.data)
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        crate::data_sources::all(&self.data)
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        crate::functions::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(path: &[&str], value: Value) -> Value {
        let mut config = Value::Null;
        match path {
            [name] => config.set(name, value),
            [block, name] => {
                let mut nested = Value::Null;
                nested.set(name, value);
                config.set(block, nested);
            }
            _ => unreachable!("paths have one or two steps"),
        }
        config
    }

    #[test]
    fn provider_config_errors_name_attribute() {
        let cases: Vec<(Vec<&str>, Value, &str)> = vec![
            (
                vec!["max_concurrent_operations"],
                Value::from(0),
                "max_concurrent_operations",
            ),
            (
                vec!["max_concurrent_operations"],
                Value::from(11),
                "max_concurrent_operations",
            ),
            (
                vec!["endpoints", "sts"],
                Value::from("127.0.0.1:4566"),
                "endpoints.sts",
            ),
            (
                vec!["endpoints", "servicecatalog"],
                Value::from("ftp://x"),
                "endpoints.servicecatalog",
            ),
            (
                vec!["assume_role", "role_arn"],
                Value::from("arn:aws:iam::123:user/x"),
                "assume_role.role_arn",
            ),
            (
                vec!["assume_role", "duration"],
                Value::from("10m"),
                "assume_role.duration",
            ),
            (
                vec!["assume_role", "duration"],
                Value::from("soon"),
                "assume_role.duration",
            ),
            (
                vec!["assume_role", "session_name"],
                Value::from("a b"),
                "assume_role.session_name",
            ),
        ];
        for (path, value, expected) in cases {
            let diagnostics = validate_provider_config(&config_with(&path, value.clone()));
            assert_eq!(diagnostics.0.len(), 1, "{path:?} = {value:?}");
            let attribute = diagnostics.0[0].attribute.as_ref().map(ToString::to_string);
            assert_eq!(attribute.as_deref(), Some(expected), "{path:?}");
        }
    }

    #[test]
    fn provider_config_accepts_valid() {
        let cases: Vec<(Vec<&str>, Value)> = vec![
            (vec!["max_concurrent_operations"], Value::from(5)),
            (
                vec!["endpoints", "sts"],
                Value::from("http://127.0.0.1:4566"),
            ),
            (
                vec!["assume_role", "role_arn"],
                Value::from("arn:aws:iam::123456789012:role/Kore"),
            ),
            (vec!["assume_role", "duration"], Value::from("1h")),
        ];
        for (path, value) in cases {
            let diagnostics = validate_provider_config(&config_with(&path, value.clone()));
            assert!(
                diagnostics.is_empty(),
                "{path:?} = {value:?}: {diagnostics:?}"
            );
        }
    }
}
