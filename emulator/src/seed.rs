//! The seed format, a hand-written description of a landing zone, and the built-in default.
//!
//! A seed nests accounts inside OUs and may leave ids out. [`Seed::into_landing_zone`] checks it
//! and expands it into the full [`LandingZone`] model. `emulator/README.md` documents the format.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids;
use crate::state::{
    Account, AccountFactory, AccountFactoryParameters, AccountState, CallerIdentity, CatalogTag,
    JoinedMethod, LandingZone, Organization, OrganizationalUnit, ProvisionedProduct,
    ProvisionedProductStatus, Record, RecordOutput, RecordStatus, RecordType, Tags,
};
use crate::timestamp::Timestamp;

/// A seed that cannot become a landing zone.
#[derive(Debug, Error, PartialEq)]
pub enum SeedError {
    #[error("invalid seed: account id {0:?} is used twice")]
    DuplicateAccountId(String),
    #[error(
        "invalid seed: email {0:?} is used by two accounts (emails are compared ignoring case)"
    )]
    DuplicateEmail(String),
    #[error("invalid seed: OU id {0:?} is used twice")]
    DuplicateOrganizationalUnitId(String),
    #[error("invalid seed: account id {0:?} is not 12 digits")]
    InvalidAccountId(String),
    #[error("invalid seed: OU id {0:?} does not have the form ou-<root suffix>-<8 to 32 lowercase letters or digits>")]
    InvalidOrganizationalUnitId(String),
    #[error("invalid seed: provisioned product name {0:?} is used twice")]
    DuplicateProvisionedProductName(String),
    #[error("invalid seed: account {account} has a provisioned product but sits in {location}; managed accounts must sit in a registered OU")]
    ManagedAccountOutsideRegisteredOu { account: String, location: String },
    #[error("invalid seed: the management account {0} must not have a provisioned product")]
    ManagedManagementAccount(String),
}

/// A landing zone as a person writes it. Every field has a default, so `{}` is a valid seed that
/// gives an organization with only the management account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    pub management_account: SeedManagementAccount,
    pub home_region: Option<String>,
    pub organization_id: Option<String>,
    pub root_id: Option<String>,
    pub sso_portal_url: Option<String>,
    pub caller: SeedCaller,
    /// Top-level OUs with their children and accounts.
    pub organizational_units: Vec<SeedOrganizationalUnit>,
    /// Member accounts directly under the root.
    pub accounts: Vec<SeedAccount>,
    /// Emails held by AWS accounts outside the organization.
    pub reserved_emails: Vec<String>,
    /// Closures CloseAccount allows. Absent means no limit.
    pub close_quota: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedManagementAccount {
    pub id: String,
    pub name: String,
    pub email: String,
}

impl Default for SeedManagementAccount {
    fn default() -> Self {
        Self {
            id: "111111111111".to_string(),
            name: "Management".to_string(),
            email: "aws-management@example.com".to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedCaller {
    /// Defaults to a role in the management account.
    pub arn: Option<String>,
    pub user_id: Option<String>,
    pub portfolio_access: bool,
}

impl Default for SeedCaller {
    fn default() -> Self {
        Self {
            arn: None,
            user_id: None,
            portfolio_access: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganizationalUnit {
    pub name: String,
    #[serde(default)]
    pub id: Option<String>,
    /// Registered with Control Tower. Defaults to true.
    #[serde(default = "default_true")]
    pub registered: bool,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub organizational_units: Vec<SeedOrganizationalUnit>,
    #[serde(default)]
    pub accounts: Vec<SeedAccount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccount {
    pub name: String,
    pub email: String,
    /// Defaults to an id derived from the email.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default = "default_active")]
    pub state: AccountState,
    #[serde(default = "default_created")]
    pub joined_method: JoinedMethod,
    #[serde(default)]
    pub tags: Tags,
    /// Present when Account Factory manages the account.
    #[serde(default)]
    pub provisioned_product: Option<SeedProvisionedProduct>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProvisionedProduct {
    /// Defaults to the account name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    pub sso_user_email: String,
    #[serde(default = "default_first_name")]
    pub sso_user_first_name: String,
    #[serde(default = "default_last_name")]
    pub sso_user_last_name: String,
    #[serde(default = "default_available")]
    pub status: ProvisionedProductStatus,
    #[serde(default)]
    pub status_message: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

fn default_true() -> bool {
    true
}

fn default_active() -> AccountState {
    AccountState::Active
}

fn default_created() -> JoinedMethod {
    JoinedMethod::Created
}

fn default_available() -> ProvisionedProductStatus {
    ProvisionedProductStatus::Available
}

fn default_first_name() -> String {
    "Cloud".to_string()
}

fn default_last_name() -> String {
    "Team".to_string()
}

const DEFAULT_REGION: &str = "eu-west-2";
const DEFAULT_ORGANIZATION_ID: &str = "o-xxxxxxxxxx";
const DEFAULT_ROOT_ID: &str = "r-xxxx";
const DEFAULT_PORTAL: &str = "https://d-xxxxxxxxxx.awsapps.com/start";

impl Seed {
    /// Builds the built-in landing zone: a Security OU with the log-archive and audit accounts, the
    /// registered OUs `kore-managed`, `Production` and `Workloads` (with `Production` and
    /// `Staging` inside), and `sandbox`, an OU made outside Control Tower.
    pub fn default_landing_zone() -> Self {
        let ou = |name: &str, registered: bool| SeedOrganizationalUnit {
            name: name.to_string(),
            id: None,
            registered,
            tags: Tags::new(),
            organizational_units: Vec::new(),
            accounts: Vec::new(),
        };
        let shared_account = |name: &str, id: &str, email: &str| SeedAccount {
            name: name.to_string(),
            email: email.to_string(),
            id: Some(id.to_string()),
            state: AccountState::Active,
            joined_method: JoinedMethod::Created,
            tags: Tags::new(),
            provisioned_product: None,
        };

        let mut security = ou("Security", true);
        security.accounts = vec![
            shared_account("Log Archive", "222222222222", "aws-log-archive@example.com"),
            shared_account("Audit", "333333333333", "aws-audit@example.com"),
        ];
        let mut workloads = ou("Workloads", true);
        workloads.organizational_units = vec![ou("Production", true), ou("Staging", true)];

        Self {
            organizational_units: vec![
                security,
                ou("kore-managed", true),
                // Same name as the nested Workloads/Production, for ambiguity checks.
                ou("Production", true),
                workloads,
                ou("sandbox", false),
            ],
            ..Self::default()
        }
    }

    /// Checks the seed and expands it into a landing zone. `now` stamps creation times.
    pub fn into_landing_zone(self, now: Timestamp) -> Result<LandingZone, SeedError> {
        let organization = Organization {
            id: self
                .organization_id
                .unwrap_or_else(|| DEFAULT_ORGANIZATION_ID.to_string()),
            root_id: self.root_id.unwrap_or_else(|| DEFAULT_ROOT_ID.to_string()),
            root_name: "Root".to_string(),
            management_account_id: self.management_account.id.clone(),
            home_region: self
                .home_region
                .unwrap_or_else(|| DEFAULT_REGION.to_string()),
            feature_set: "ALL".to_string(),
            sso_portal_url: self
                .sso_portal_url
                .unwrap_or_else(|| DEFAULT_PORTAL.to_string()),
        };
        let caller = CallerIdentity {
            account_id: self.management_account.id.clone(),
            arn: self.caller.arn.unwrap_or_else(|| {
                format!(
                    "arn:aws:iam::{}:role/AWSControlTowerAdmin",
                    self.management_account.id
                )
            }),
            user_id: self
                .caller
                .user_id
                .unwrap_or_else(|| "AROAEMULATORCALLER01".to_string()),
            portfolio_access: self.caller.portfolio_access,
        };

        let mut zone = LandingZone {
            account_factory: default_account_factory(now),
            organization,
            caller,
            organizational_units: Vec::new(),
            accounts: Vec::new(),
            departed_accounts: Vec::new(),
            reserved_emails: self.reserved_emails,
            provisioned_products: Vec::new(),
            records: Vec::new(),
            role_sessions: Vec::new(),
            close_quota_remaining: self.close_quota,
            root_tags: Tags::new(),
        };

        let management = SeedAccount {
            name: self.management_account.name,
            email: self.management_account.email,
            id: Some(self.management_account.id),
            state: AccountState::Active,
            joined_method: JoinedMethod::Created,
            tags: Tags::new(),
            provisioned_product: None,
        };
        let root_id = zone.organization.root_id.clone();
        let mut builder = Builder {
            zone: &mut zone,
            now,
        };
        builder.add_account(management, &root_id, None)?;
        for account in self.accounts {
            builder.add_account(account, &root_id, None)?;
        }
        for ou in self.organizational_units {
            builder.add_organizational_unit(ou, &root_id, "")?;
        }
        Ok(zone)
    }
}

fn default_account_factory(now: Timestamp) -> AccountFactory {
    AccountFactory {
        product_id: "prod-kq3xw5tc7u2ay".to_string(),
        product_name: "AWS Control Tower Account Factory".to_string(),
        product_owner: "AWS Control Tower".to_string(),
        product_description: "AWS Control Tower Account Factory Template (DO NOT DELETE)"
            .to_string(),
        product_created_time: now,
        portfolio_id: "port-h4v6zr2m8pe3d".to_string(),
        portfolio_name: "AWS Control Tower Account Factory Portfolio".to_string(),
        portfolio_provider_name: "AWS Control Tower".to_string(),
        artifact_id: "pa-r7m2c9xq4hw6b".to_string(),
        artifact_name: "AWS Control Tower Account Factory".to_string(),
        artifact_description: "AWS Control Tower Account Factory Template".to_string(),
        artifact_created_time: now,
        launch_path_id: "lpv2-w3n8b5kd6ty2q".to_string(),
    }
}

/// Expands nested seed entries into the flat landing zone, checking ids and emails as it goes.
struct Builder<'a> {
    zone: &'a mut LandingZone,
    now: Timestamp,
}

impl Builder<'_> {
    fn add_organizational_unit(
        &mut self,
        seed: SeedOrganizationalUnit,
        parent_id: &str,
        parent_path: &str,
    ) -> Result<(), SeedError> {
        let path = if parent_path.is_empty() {
            seed.name.clone()
        } else {
            format!("{parent_path}/{}", seed.name)
        };
        let root_id = self.zone.organization.root_id.clone();
        let id = match seed.id {
            Some(id) => {
                if !is_organizational_unit_id(&id, &root_id) {
                    return Err(SeedError::InvalidOrganizationalUnitId(id));
                }
                id
            }
            None => ids::seeded_organizational_unit_id(&root_id, &path),
        };
        if self.zone.organizational_unit(&id).is_some() {
            return Err(SeedError::DuplicateOrganizationalUnitId(id));
        }
        self.zone.organizational_units.push(OrganizationalUnit {
            id: id.clone(),
            name: seed.name,
            parent_id: parent_id.to_string(),
            registered: seed.registered,
            tags: seed.tags,
        });
        let registered_path = seed.registered.then_some(path.as_str());
        for account in seed.accounts {
            self.add_account(account, &id, registered_path)?;
        }
        for child in seed.organizational_units {
            self.add_organizational_unit(child, &id, &path)?;
        }
        Ok(())
    }

    /// Adds an account under `parent_id`. `registered_ou_path` is the parent's path when the
    /// parent is a registered OU, the only place a managed account may sit.
    fn add_account(
        &mut self,
        seed: SeedAccount,
        parent_id: &str,
        registered_ou_path: Option<&str>,
    ) -> Result<(), SeedError> {
        let id = seed
            .id
            .unwrap_or_else(|| ids::seeded_account_id(&seed.email));
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SeedError::InvalidAccountId(id));
        }
        if self.zone.account(&id).is_some() {
            return Err(SeedError::DuplicateAccountId(id));
        }
        if self.zone.email_holder(&seed.email).is_some() {
            return Err(SeedError::DuplicateEmail(seed.email));
        }
        self.zone.accounts.push(Account {
            id: id.clone(),
            name: seed.name.clone(),
            email: seed.email.clone(),
            parent_id: parent_id.to_string(),
            state: seed.state,
            joined_method: seed.joined_method,
            joined_timestamp: self.now,
            tags: seed.tags,
        });

        let Some(product) = seed.provisioned_product else {
            return Ok(());
        };
        if id == self.zone.organization.management_account_id {
            return Err(SeedError::ManagedManagementAccount(id));
        }
        let Some(ou_path) = registered_ou_path else {
            return Err(SeedError::ManagedAccountOutsideRegisteredOu {
                account: id,
                location: if parent_id == self.zone.organization.root_id {
                    "the root".to_string()
                } else {
                    format!("the unregistered OU {parent_id}")
                },
            });
        };
        let ou_name = ou_path.rsplit('/').next().unwrap_or(ou_path);
        let parameters = AccountFactoryParameters {
            account_name: seed.name,
            account_email: seed.email,
            sso_user_email: product.sso_user_email.clone(),
            sso_user_first_name: product.sso_user_first_name.clone(),
            sso_user_last_name: product.sso_user_last_name.clone(),
            managed_organizational_unit: format!("{ou_name} ({parent_id})"),
        };
        self.add_provisioned_product(&id, parameters, product)
    }

    /// Adds the provisioned product of a seeded managed account, with the successful
    /// provisioning record that created it.
    fn add_provisioned_product(
        &mut self,
        account_id: &str,
        parameters: AccountFactoryParameters,
        seed: SeedProvisionedProduct,
    ) -> Result<(), SeedError> {
        let name = seed.name.unwrap_or_else(|| parameters.account_name.clone());
        if self.zone.provisioned_product_by_name(&name).is_some() {
            return Err(SeedError::DuplicateProvisionedProductName(name));
        }
        let factory = &self.zone.account_factory;
        let product_id = seed.id.unwrap_or_else(|| ids::service_catalog_id("pp"));
        let record_id = ids::service_catalog_id("rec");
        let tags = catalog_tags(&seed.tags);
        let outputs = account_outputs(
            account_id,
            &parameters,
            &self.zone.organization.sso_portal_url,
        );
        self.zone.records.push(Record {
            id: record_id.clone(),
            record_type: RecordType::ProvisionProduct,
            status: RecordStatus::Succeeded,
            created_time: self.now,
            updated_time: self.now,
            provisioned_product_id: product_id.clone(),
            provisioned_product_name: name.clone(),
            product_id: factory.product_id.clone(),
            provisioning_artifact_id: factory.artifact_id.clone(),
            path_id: factory.launch_path_id.clone(),
            errors: Vec::new(),
            outputs,
            tags: tags.clone(),
            holds_operation_slot: false,
            pending: None,
        });
        self.zone.provisioned_products.push(ProvisionedProduct {
            id: product_id,
            name,
            status: seed.status,
            status_message: seed.status_message,
            created_time: self.now,
            idempotency_token: ids::request_id(),
            last_record_id: record_id.clone(),
            last_provisioning_record_id: record_id.clone(),
            last_successful_provisioning_record_id: Some(record_id),
            physical_id: Some(account_id.to_string()),
            parameters,
            tags,
            user_arn: self.zone.caller.arn.clone(),
            path_id: self.zone.account_factory.launch_path_id.clone(),
        });
        Ok(())
    }
}

/// Builds the four outputs of a successful Account Factory record.
pub fn account_outputs(
    account_id: &str,
    parameters: &AccountFactoryParameters,
    sso_portal_url: &str,
) -> Vec<RecordOutput> {
    let output = |key: &str, value: &str, description: &str| RecordOutput {
        key: key.to_string(),
        value: value.to_string(),
        description: description.to_string(),
    };
    vec![
        output("AccountId", account_id, "The ID of the managed account"),
        output(
            "AccountEmail",
            &parameters.account_email,
            "The email address associated with the account",
        ),
        output(
            "SSOUserEmail",
            &parameters.sso_user_email,
            "The SSO user email associated with the account",
        ),
        output(
            "SSOUserPortal",
            sso_portal_url,
            "The portal to federate into the account",
        ),
    ]
}

/// Checks the Organizations OU id pattern `ou-<root suffix>-<8 to 32 [a-z0-9]>`.
pub fn is_organizational_unit_id(id: &str, root_id: &str) -> bool {
    let root_suffix = root_id.strip_prefix("r-").unwrap_or(root_id);
    let Some(rest) = id.strip_prefix("ou-") else {
        return false;
    };
    let Some((middle, suffix)) = rest.split_once('-') else {
        return false;
    };
    let lower_alphanumeric = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    middle == root_suffix && (8..=32).contains(&suffix.len()) && lower_alphanumeric(suffix)
}

/// Tags given as a map, converted for Service Catalog's list form.
pub fn catalog_tags(tags: &BTreeMap<String, String>) -> Vec<CatalogTag> {
    tags.iter()
        .map(|(key, value)| CatalogTag {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_epoch_seconds(1_700_000_000.0)
    }

    #[test]
    fn default_seed_has_the_documented_shape() {
        let zone = Seed::default_landing_zone()
            .into_landing_zone(now())
            .expect("valid default seed");
        assert_eq!(zone.organization.management_account_id, "111111111111");
        assert_eq!(zone.organization.home_region, "eu-west-2");
        assert_eq!(zone.accounts.len(), 3);
        let names: Vec<&str> = zone
            .organizational_units
            .iter()
            .map(|ou| ou.name.as_str())
            .collect();
        for expected in [
            "Security",
            "kore-managed",
            "Workloads",
            "Production",
            "Staging",
            "sandbox",
        ] {
            assert!(names.contains(&expected), "missing OU {expected}");
        }
        assert!(zone.caller.portfolio_access);
    }

    #[test]
    fn empty_seed_is_valid() {
        let seed: Seed = serde_json::from_str("{}").expect("parses");
        let zone = seed.into_landing_zone(now()).expect("valid");
        assert_eq!(zone.accounts.len(), 1);
        assert!(zone.organizational_units.is_empty());
    }

    #[test]
    fn duplicate_email_is_rejected_ignoring_case() {
        let seed: Seed = serde_json::from_value(serde_json::json!({
            "accounts": [
                {"name": "a", "email": "Team@Example.com"},
                {"name": "b", "email": "team@example.com", "id": "999999999999"}
            ]
        }))
        .expect("parses");
        assert_eq!(
            seed.into_landing_zone(now()),
            Err(SeedError::DuplicateEmail("team@example.com".to_string()))
        );
    }

    #[test]
    fn managed_account_gets_product_and_record() {
        let seed: Seed = serde_json::from_value(serde_json::json!({
            "organizational_units": [{
                "name": "kore-managed",
                "accounts": [{
                    "name": "kore-alpha-notprod",
                    "email": "cloud-team+kore-alpha-notprod@example.com",
                    "provisioned_product": {"sso_user_email": "cloud-team@example.com"}
                }]
            }]
        }))
        .expect("parses");
        let zone = seed.into_landing_zone(now()).expect("valid");
        let product = &zone.provisioned_products[0];
        assert_eq!(product.name, "kore-alpha-notprod");
        assert_eq!(product.status, ProvisionedProductStatus::Available);
        let account_id = product.physical_id.clone().expect("account id");
        assert!(zone.account(&account_id).is_some());
        let record = zone.record(&product.last_record_id).expect("record");
        assert_eq!(record.outputs[0].value, account_id);
        let ou = zone.organizational_unit(&zone.account(&account_id).expect("account").parent_id);
        assert_eq!(
            product.parameters.managed_organizational_unit,
            format!("kore-managed ({})", ou.expect("ou").id)
        );
    }

    #[test]
    fn managed_account_in_unregistered_ou_is_rejected() {
        let seed: Seed = serde_json::from_value(serde_json::json!({
            "organizational_units": [{
                "name": "sandbox",
                "registered": false,
                "accounts": [{
                    "name": "x",
                    "email": "x@example.com",
                    "provisioned_product": {"sso_user_email": "cloud-team@example.com"}
                }]
            }]
        }))
        .expect("parses");
        assert!(matches!(
            seed.into_landing_zone(now()),
            Err(SeedError::ManagedAccountOutsideRegisteredOu { .. })
        ));
    }

    #[test]
    fn ou_id_pattern() {
        assert!(is_organizational_unit_id("ou-xxxx-abcd1234", "r-xxxx"));
        assert!(!is_organizational_unit_id("ou-yyyy-abcd1234", "r-xxxx"));
        assert!(!is_organizational_unit_id("ou-xxxx-ABCD1234", "r-xxxx"));
        assert!(!is_organizational_unit_id("ou-xxxx-abc", "r-xxxx"));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let parsed: Result<Seed, _> = serde_json::from_str(r#"{"organisational_units": []}"#);
        assert!(parsed.is_err());
    }
}
