//! The landing-zone snapshot: the OU tree with registration and claims, the accounts
//! with their parents, and the Account Factory products, fetched with paged listings.
//!
//! Terraform reads and plans many accounts at once. They share one snapshot, fetched by the
//! first caller while the others wait for it, kept for [`SNAPSHOT_TTL`] and dropped after
//! every write this process makes, so N accounts do not cost N sets of listings.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::aws::account_factory::{self, FactoryError, FactoryProduct, ProvisionedProduct};
use crate::aws::organizations::{self, Account, OrganizationInfo};
use crate::aws::{AwsClients, AwsError};
use crate::rules::{emails_equal, parse_allowed_value, OuNode};

/// How long a snapshot serves reads before it is fetched again.
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(30);

/// Tag on a claimed OU and on every account: the installation (organization resource) name.
pub const TAG_INSTALLATION: &str = "kore:installation";
/// Tag on every account: the team that owns it.
pub const TAG_TEAM: &str = "kore:team";
/// Tags on a claimed OU that record the SSO user of the installation.
pub const TAG_SSO_EMAIL: &str = "kore:sso-email";
pub const TAG_SSO_FIRST_NAME: &str = "kore:sso-first-name";
pub const TAG_SSO_LAST_NAME: &str = "kore:sso-last-name";
/// Prefix of every tag the provider keeps for itself; users cannot set such tags.
pub const RESERVED_TAG_PREFIX: &str = "kore:";

/// One installation, as recorded in the tags of the OU it claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installation {
    pub name: String,
    pub unit_id: String,
    pub sso_email: String,
    pub sso_first_name: String,
    pub sso_last_name: String,
}

/// A snapshot of the landing zone.
#[derive(Clone, Debug)]
pub struct LandingZone {
    pub organization: OrganizationInfo,
    pub root_id: String,
    pub product: FactoryProduct,
    /// Every OU, with its path and whether Control Tower registered it.
    pub units: Vec<OuNode>,
    pub unit_tags: HashMap<String, BTreeMap<String, String>>,
    pub accounts: Vec<Account>,
    /// Parent (OU or root ID) of each account.
    pub parents: HashMap<String, String>,
    /// Every Account Factory provisioned product.
    pub products: Vec<ProvisionedProduct>,
}

impl LandingZone {
    pub fn unit(&self, id: &str) -> Option<&OuNode> {
        self.units.iter().find(|u| u.id == id)
    }

    /// Returns the `Name (ou-id)` value Account Factory expects for an OU.
    pub fn allowed_value(&self, unit_id: &str) -> Option<String> {
        self.unit(unit_id).map(|u| format!("{} ({})", u.name, u.id))
    }

    pub fn installations(&self) -> Vec<Installation> {
        let mut found: Vec<Installation> = self
            .unit_tags
            .iter()
            .filter_map(|(unit_id, tags)| {
                Some(Installation {
                    name: tags.get(TAG_INSTALLATION)?.clone(),
                    unit_id: unit_id.clone(),
                    sso_email: tags.get(TAG_SSO_EMAIL).cloned().unwrap_or_default(),
                    sso_first_name: tags.get(TAG_SSO_FIRST_NAME).cloned().unwrap_or_default(),
                    sso_last_name: tags.get(TAG_SSO_LAST_NAME).cloned().unwrap_or_default(),
                })
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    }

    pub fn installation(&self, name: &str) -> Option<Installation> {
        self.installations().into_iter().find(|i| i.name == name)
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// Finds the account holding `email`, ignoring case.
    pub fn account_by_email(&self, email: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| emails_equal(&a.email, email))
    }

    pub fn product_for_account(&self, account_id: &str) -> Option<&ProvisionedProduct> {
        self.products
            .iter()
            .find(|p| p.physical_id.as_deref() == Some(account_id))
    }

    /// Lists the accounts that Account Factory still manages for `installation`, as
    /// `name (id)`, from the installation tag set on each product when it was provisioned.
    pub fn managed_accounts(&self, installation: &str) -> Vec<String> {
        self.products
            .iter()
            .filter(|p| p.tags.get(TAG_INSTALLATION).map(String::as_str) == Some(installation))
            .filter_map(|p| p.physical_id.as_deref())
            .map(|id| {
                let name = self
                    .account(id)
                    .map(|a| a.name.as_str())
                    .unwrap_or_default();
                format!("{name} ({id})")
            })
            .collect()
    }

    pub fn product_by_name(&self, name: &str) -> Option<&ProvisionedProduct> {
        self.products.iter().find(|p| p.name == name)
    }

    /// Returns the slash path of a parent ID: an OU's path, or `Root` for the root.
    pub fn parent_path(&self, parent_id: &str) -> String {
        if parent_id == self.root_id {
            return "Root".to_string();
        }
        self.unit(parent_id)
            .map(|u| u.path.clone())
            .unwrap_or_else(|| parent_id.to_string())
    }

    /// Lists the registered OUs as `path (id)`, for error messages.
    pub fn registered_list(&self) -> Vec<String> {
        self.units
            .iter()
            .filter(|u| u.registered)
            .map(|u| format!("{} ({})", u.path, u.id))
            .collect()
    }
}

/// Failure to fetch the snapshot.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Factory(#[from] FactoryError),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// The cached landing zone, shared by every resource and data source of one provider process.
pub struct Inventory {
    clients: AwsClients,
    product: Mutex<Option<FactoryProduct>>,
    snapshot: Mutex<Option<(Instant, Arc<LandingZone>)>>,
}

impl Inventory {
    pub fn new(clients: AwsClients) -> Inventory {
        Inventory {
            clients,
            product: Mutex::new(None),
            snapshot: Mutex::new(None),
        }
    }

    /// Returns the Account Factory product, looked up once per process.
    pub async fn product(&self) -> Result<FactoryProduct, FactoryError> {
        let mut cached = self.product.lock().await;
        if let Some(product) = cached.as_ref() {
            return Ok(product.clone());
        }
        let product = account_factory::find_product(&self.clients.service_catalog).await?;
        tracing::debug!(product_id = %product.product_id, launch_path_id = %product.launch_path_id, "found the Account Factory product");
        *cached = Some(product.clone());
        Ok(product)
    }

    /// Returns a snapshot no older than [`SNAPSHOT_TTL`]. Concurrent callers share one fetch.
    pub async fn landing_zone(&self) -> Result<Arc<LandingZone>, InventoryError> {
        let mut cached = self.snapshot.lock().await;
        if let Some((taken, snapshot)) = cached.as_ref() {
            if taken.elapsed() < SNAPSHOT_TTL {
                return Ok(snapshot.clone());
            }
        }
        let snapshot = Arc::new(self.fetch().await?);
        *cached = Some((Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }

    /// Drops the snapshot, so the next read includes this process's own writes.
    pub async fn invalidate(&self) {
        *self.snapshot.lock().await = None;
    }

    async fn fetch(&self) -> Result<LandingZone, InventoryError> {
        let started = Instant::now();
        let product = self.product().await?;
        let clients = &self.clients;
        let organization = organizations::describe_organization(&clients.organizations).await?;
        let root_id = organizations::root_id(&clients.organizations).await?;
        let registered: Vec<String> =
            account_factory::registered_unit_values(&clients.service_catalog, &product)
                .await?
                .iter()
                .filter_map(|value| {
                    parse_allowed_value(value).map(|(_, id)| id.as_str().to_string())
                })
                .collect();
        let tree = organizations::unit_tree(&clients.organizations, &root_id).await?;

        let mut units = Vec::with_capacity(tree.len());
        let mut unit_tags = HashMap::new();
        let mut accounts = Vec::new();
        let mut parents = HashMap::new();
        for account in organizations::accounts_for_parent(&clients.organizations, &root_id).await? {
            parents.insert(account.id.clone(), root_id.clone());
            accounts.push(account);
        }
        for unit in tree {
            let tags = organizations::list_tags(&clients.organizations, &unit.id).await?;
            if !tags.is_empty() {
                unit_tags.insert(unit.id.clone(), tags);
            }
            for account in
                organizations::accounts_for_parent(&clients.organizations, &unit.id).await?
            {
                parents.insert(account.id.clone(), unit.id.clone());
                accounts.push(account);
            }
            units.push(OuNode {
                registered: registered.contains(&unit.id),
                id: unit.id,
                name: unit.name,
                parent_id: unit.parent_id,
                path: unit.path,
            });
        }
        let products = account_factory::list_account_products(&clients.service_catalog).await?;
        tracing::debug!(
            units = units.len(),
            accounts = accounts.len(),
            products = products.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "fetched the landing zone"
        );
        Ok(LandingZone {
            organization,
            root_id,
            product,
            units,
            unit_tags,
            accounts,
            parents,
            products,
        })
    }
}
