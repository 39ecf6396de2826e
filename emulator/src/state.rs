//! The landing zone model: the organization with its OU tree and accounts, the Account Factory
//! catalog, provisioned products and their records, and STS role sessions.
//!
//! This module contains data and read-only queries. The service modules and the provisioning engine
//! change it. Its JSON form is the `--state-file` format and the body of `GET /_emulator/state`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

/// Organizations tags: key to value.
pub type Tags = BTreeMap<String, String>;

/// The whole emulated landing zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LandingZone {
    pub organization: Organization,
    pub caller: CallerIdentity,
    pub account_factory: AccountFactory,
    pub organizational_units: Vec<OrganizationalUnit>,
    /// Accounts in the organization, management account included, in creation order.
    pub accounts: Vec<Account>,
    /// Accounts that left the organization. Their emails stay taken.
    #[serde(default)]
    pub departed_accounts: Vec<Account>,
    /// Emails held by AWS accounts outside the organization.
    #[serde(default)]
    pub reserved_emails: Vec<String>,
    /// Provisioned products that are not terminated. A terminated product is removed.
    #[serde(default)]
    pub provisioned_products: Vec<ProvisionedProduct>,
    /// Every record ever created, terminated products' records included.
    #[serde(default)]
    pub records: Vec<Record>,
    #[serde(default)]
    pub role_sessions: Vec<RoleSession>,
    /// Closures CloseAccount still allows. `None` means no limit.
    #[serde(default)]
    pub close_quota_remaining: Option<u32>,
    #[serde(default)]
    pub root_tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub root_id: String,
    pub root_name: String,
    pub management_account_id: String,
    /// The Control Tower home region, used in Service Catalog ARNs.
    pub home_region: String,
    /// `ALL` or `CONSOLIDATED_BILLING`.
    pub feature_set: String,
    pub sso_portal_url: String,
}

/// The identity that signs requests with any credentials other than an STS session's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
    /// Whether the caller is associated with the Account Factory portfolio.
    pub portfolio_access: bool,
}

/// The Account Factory product, its portfolio, its one provisioning artifact and launch path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountFactory {
    pub product_id: String,
    pub product_name: String,
    pub product_owner: String,
    pub product_description: String,
    pub product_created_time: Timestamp,
    pub portfolio_id: String,
    /// Also the launch path's name.
    pub portfolio_name: String,
    pub portfolio_provider_name: String,
    pub artifact_id: String,
    pub artifact_name: String,
    pub artifact_description: String,
    pub artifact_created_time: Timestamp,
    pub launch_path_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationalUnit {
    pub id: String,
    pub name: String,
    /// The root id or another OU's id.
    pub parent_id: String,
    /// Whether the OU is registered with Control Tower, so Account Factory accepts it.
    pub registered: bool,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    pub parent_id: String,
    pub state: AccountState,
    pub joined_method: JoinedMethod,
    pub joined_timestamp: Timestamp,
    #[serde(default)]
    pub tags: Tags,
}

/// The Organizations `State` of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountState {
    PendingActivation,
    Active,
    PendingClosure,
    Suspended,
    Closed,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Active => "ACTIVE",
            Self::PendingClosure => "PENDING_CLOSURE",
            Self::Suspended => "SUSPENDED",
            Self::Closed => "CLOSED",
        }
    }

    /// Returns the older `Status` value, whose enum has only `ACTIVE`, `SUSPENDED` and `PENDING_CLOSURE`.
    pub fn legacy_status(self) -> &'static str {
        match self {
            Self::PendingActivation | Self::Active => "ACTIVE",
            Self::PendingClosure => "PENDING_CLOSURE",
            Self::Suspended | Self::Closed => "SUSPENDED",
        }
    }

    /// Returns `true` if a closure was requested or has finished.
    pub fn is_closed_or_closing(self) -> bool {
        matches!(self, Self::PendingClosure | Self::Suspended | Self::Closed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JoinedMethod {
    Invited,
    Created,
}

impl JoinedMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "INVITED",
            Self::Created => "CREATED",
        }
    }
}

/// The Service Catalog `ProvisionedProductStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProvisionedProductStatus {
    Available,
    UnderChange,
    Tainted,
    Error,
    PlanInProgress,
}

impl ProvisionedProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::UnderChange => "UNDER_CHANGE",
            Self::Tainted => "TAINTED",
            Self::Error => "ERROR",
            Self::PlanInProgress => "PLAN_IN_PROGRESS",
        }
    }
}

/// The six parameters of the Account Factory product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountFactoryParameters {
    pub account_name: String,
    pub account_email: String,
    pub sso_user_email: String,
    pub sso_user_first_name: String,
    pub sso_user_last_name: String,
    /// The value as the caller sent it, for example `Production (ou-xxxx-12345678)`.
    pub managed_organizational_unit: String,
}

/// A Service Catalog tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogTag {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProvisionedProduct {
    pub id: String,
    pub name: String,
    pub status: ProvisionedProductStatus,
    pub status_message: Option<String>,
    pub created_time: Timestamp,
    pub idempotency_token: String,
    pub last_record_id: String,
    pub last_provisioning_record_id: String,
    pub last_successful_provisioning_record_id: Option<String>,
    /// The account id once the account exists.
    pub physical_id: Option<String>,
    pub parameters: AccountFactoryParameters,
    #[serde(default)]
    pub tags: Vec<CatalogTag>,
    pub user_arn: String,
    pub path_id: String,
}

impl ProvisionedProduct {
    pub fn arn(&self, organization: &Organization) -> String {
        format!(
            "arn:aws:servicecatalog:{}:{}:stack/{}/{}",
            organization.home_region, organization.management_account_id, self.name, self.id
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordType {
    ProvisionProduct,
    UpdateProvisionedProduct,
    TerminateProvisionedProduct,
}

impl RecordType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProvisionProduct => "PROVISION_PRODUCT",
            Self::UpdateProvisionedProduct => "UPDATE_PROVISIONED_PRODUCT",
            Self::TerminateProvisionedProduct => "TERMINATE_PROVISIONED_PRODUCT",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordStatus {
    Created,
    InProgress,
    InProgressInError,
    Succeeded,
    Failed,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::InProgress => "IN_PROGRESS",
            Self::InProgressInError => "IN_PROGRESS_IN_ERROR",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordError {
    pub code: String,
    pub description: String,
}

impl RecordError {
    /// Builds an error whose description is the exception name, two spaces and the sentence, the
    /// form Control Tower's record errors show in public reports.
    pub fn new(code: &str, sentence: &str) -> Self {
        Self {
            code: code.to_string(),
            description: format!("{code}  {sentence}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordOutput {
    pub key: String,
    pub value: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub record_type: RecordType,
    pub status: RecordStatus,
    pub created_time: Timestamp,
    pub updated_time: Timestamp,
    pub provisioned_product_id: String,
    pub provisioned_product_name: String,
    pub product_id: String,
    pub provisioning_artifact_id: String,
    pub path_id: String,
    #[serde(default)]
    pub errors: Vec<RecordError>,
    #[serde(default)]
    pub outputs: Vec<RecordOutput>,
    #[serde(default)]
    pub tags: Vec<CatalogTag>,
    /// Whether this record counts against the concurrent-operation limit while it runs. A
    /// record rejected for the limit does not.
    #[serde(default)]
    pub holds_operation_slot: bool,
    /// The change still to apply, or `None` once the record has finished.
    #[serde(default)]
    pub pending: Option<PendingWork>,
}

impl Record {
    pub fn is_running(&self) -> bool {
        !self.status.is_finished()
    }
}

/// The work a running record still has to do, decided when the request arrived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingWork {
    pub change: PendingChange,
    /// Fails the record when it starts, for example because too many operations were running.
    #[serde(default)]
    pub rejection: Option<RecordError>,
    /// A failure injected through the fault endpoint, applied when the record finishes.
    #[serde(default)]
    pub injected_failure: Option<RecordError>,
    /// The product's status before this operation, restored when a termination fails.
    pub previous_status: ProvisionedProductStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingChange {
    Provision {
        parameters: AccountFactoryParameters,
    },
    Update {
        parameters: AccountFactoryParameters,
    },
    Terminate {
        ignore_errors: bool,
    },
}

/// Credentials issued by AssumeRole, so GetCallerIdentity can report the assumed role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleSession {
    pub access_key_id: String,
    pub account_id: String,
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
    pub expiration: Timestamp,
}

/// The holder of an email address.
#[derive(Clone, Debug, PartialEq)]
pub enum EmailHolder {
    Account { id: String, name: String },
    DepartedAccount { id: String, name: String },
    OutsideOrganization,
}

impl EmailHolder {
    pub fn describe(&self) -> String {
        match self {
            Self::Account { id, name } => format!("account {id} ({name})"),
            Self::DepartedAccount { id, name } => {
                format!("account {id} ({name}), which left the organization")
            }
            Self::OutsideOrganization => "an AWS account outside the organization".to_string(),
        }
    }
}

impl LandingZone {
    pub fn root_arn(&self) -> String {
        format!(
            "arn:aws:organizations::{}:root/{}/{}",
            self.organization.management_account_id,
            self.organization.id,
            self.organization.root_id
        )
    }

    pub fn organization_arn(&self) -> String {
        format!(
            "arn:aws:organizations::{}:organization/{}",
            self.organization.management_account_id, self.organization.id
        )
    }

    pub fn account_arn(&self, account_id: &str) -> String {
        format!(
            "arn:aws:organizations::{}:account/{}/{}",
            self.organization.management_account_id, self.organization.id, account_id
        )
    }

    pub fn organizational_unit_arn(&self, ou_id: &str) -> String {
        format!(
            "arn:aws:organizations::{}:ou/{}/{}",
            self.organization.management_account_id, self.organization.id, ou_id
        )
    }

    pub fn account(&self, account_id: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|account| account.id == account_id)
    }

    pub fn account_mut(&mut self, account_id: &str) -> Option<&mut Account> {
        self.accounts
            .iter_mut()
            .find(|account| account.id == account_id)
    }

    pub fn organizational_unit(&self, ou_id: &str) -> Option<&OrganizationalUnit> {
        self.organizational_units.iter().find(|ou| ou.id == ou_id)
    }

    pub fn organizational_unit_mut(&mut self, ou_id: &str) -> Option<&mut OrganizationalUnit> {
        self.organizational_units
            .iter_mut()
            .find(|ou| ou.id == ou_id)
    }

    /// Returns `true` if the id names the root or an OU.
    pub fn is_parent(&self, parent_id: &str) -> bool {
        parent_id == self.organization.root_id || self.organizational_unit(parent_id).is_some()
    }

    /// Lists the OUs from the top level down to `parent_id`, the root excluded.
    fn ou_chain(&self, parent_id: &str) -> Vec<&OrganizationalUnit> {
        let mut chain = Vec::new();
        let mut current = parent_id;
        while let Some(ou) = self.organizational_unit(current) {
            chain.push(ou);
            current = &ou.parent_id;
            // A cycle can only come from a hand-edited state file, so stop instead of looping.
            if chain.len() > self.organizational_units.len() {
                break;
            }
        }
        chain.reverse();
        chain
    }

    /// Joins the OU names from the top level down with `/`, for example `Workloads/Production`.
    pub fn organizational_unit_name_path(&self, ou_id: &str) -> String {
        self.ou_chain(ou_id)
            .iter()
            .map(|ou| ou.name.as_str())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Builds the Organizations `Path` of a parent: `o-.../r-.../ou-.../`.
    pub fn entity_path(&self, parent_id: &str) -> String {
        let mut path = format!("{}/{}/", self.organization.id, self.organization.root_id);
        for ou in self.ou_chain(parent_id) {
            path.push_str(&ou.id);
            path.push('/');
        }
        path
    }

    /// Finds the holder of an email, ignoring case, across the organization, accounts that left it
    /// and emails reserved outside it. Closed accounts keep their email.
    pub fn email_holder(&self, email: &str) -> Option<EmailHolder> {
        let matches = |candidate: &str| candidate.eq_ignore_ascii_case(email);
        if let Some(account) = self.accounts.iter().find(|a| matches(&a.email)) {
            return Some(EmailHolder::Account {
                id: account.id.clone(),
                name: account.name.clone(),
            });
        }
        if let Some(account) = self.departed_accounts.iter().find(|a| matches(&a.email)) {
            return Some(EmailHolder::DepartedAccount {
                id: account.id.clone(),
                name: account.name.clone(),
            });
        }
        if self
            .reserved_emails
            .iter()
            .any(|reserved| matches(reserved))
        {
            return Some(EmailHolder::OutsideOrganization);
        }
        None
    }

    /// Returns `true` if an account id is used inside or outside the organization.
    pub fn account_id_taken(&self, account_id: &str) -> bool {
        self.account(account_id).is_some()
            || self.departed_accounts.iter().any(|a| a.id == account_id)
    }

    /// Registered OUs in tree order (each parent before its children, siblings in creation
    /// order), the order of the `ManagedOrganizationalUnit` allowed values.
    pub fn registered_organizational_units(&self) -> Vec<&OrganizationalUnit> {
        let mut ordered = Vec::new();
        self.collect_tree_order(&self.organization.root_id, &mut ordered);
        ordered.retain(|ou| ou.registered);
        ordered
    }

    fn collect_tree_order<'a>(
        &'a self,
        parent_id: &str,
        ordered: &mut Vec<&'a OrganizationalUnit>,
    ) {
        for ou in self
            .organizational_units
            .iter()
            .filter(|ou| ou.parent_id == parent_id)
        {
            ordered.push(ou);
            if ordered.len() <= self.organizational_units.len() {
                self.collect_tree_order(&ou.id, ordered);
            }
        }
    }

    /// Resolves a `ManagedOrganizationalUnit` value as Account Factory does.
    ///
    /// `Name (ou-id)` names one registered OU whose name and id both match. A plain name is
    /// accepted when exactly one registered OU has it, as older landing zones did. Paths, bare
    /// ids, unknown, ambiguous and unregistered OUs return `None`.
    pub fn resolve_managed_organizational_unit(&self, value: &str) -> Option<&OrganizationalUnit> {
        if let Some((name, id)) = split_name_and_id(value) {
            return self
                .organizational_unit(id)
                .filter(|ou| ou.registered && ou.name == name);
        }
        let mut candidates = self
            .organizational_units
            .iter()
            .filter(|ou| ou.registered && ou.name == value);
        let first = candidates.next()?;
        match candidates.next() {
            Some(_) => None,
            None => Some(first),
        }
    }

    pub fn provisioned_product(&self, id: &str) -> Option<&ProvisionedProduct> {
        self.provisioned_products.iter().find(|p| p.id == id)
    }

    pub fn provisioned_product_mut(&mut self, id: &str) -> Option<&mut ProvisionedProduct> {
        self.provisioned_products.iter_mut().find(|p| p.id == id)
    }

    pub fn provisioned_product_by_name(&self, name: &str) -> Option<&ProvisionedProduct> {
        self.provisioned_products.iter().find(|p| p.name == name)
    }

    pub fn record(&self, id: &str) -> Option<&Record> {
        self.records.iter().find(|record| record.id == id)
    }

    pub fn record_mut(&mut self, id: &str) -> Option<&mut Record> {
        self.records.iter_mut().find(|record| record.id == id)
    }

    /// Account Factory operations that hold a slot of the concurrency limit now.
    pub fn operations_in_flight(&self) -> usize {
        self.records
            .iter()
            .filter(|record| record.holds_operation_slot && record.is_running())
            .count()
    }
}

/// Formats an OU as `Name (id)`, the form `ManagedOrganizationalUnit` takes.
pub fn managed_organizational_unit_value(ou: &OrganizationalUnit) -> String {
    format!("{} ({})", ou.name, ou.id)
}

/// Splits `Name (ou-id)` into its name and id.
fn split_name_and_id(value: &str) -> Option<(&str, &str)> {
    let inner = value.strip_suffix(')')?;
    let (name, id) = inner.rsplit_once(" (")?;
    id.starts_with("ou-").then_some((name, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    fn zone() -> LandingZone {
        Seed::default_landing_zone()
            .into_landing_zone(Timestamp::from_epoch_seconds(1_700_000_000.0))
            .expect("the default seed is valid")
    }

    fn ou_id(zone: &LandingZone, path: &str) -> String {
        zone.organizational_units
            .iter()
            .find(|ou| zone.organizational_unit_name_path(&ou.id) == path)
            .map(|ou| ou.id.clone())
            .expect("OU in the default seed")
    }

    #[test]
    fn resolves_name_and_id_form() {
        let zone = zone();
        let id = ou_id(&zone, "Workloads/Production");
        let resolved = zone.resolve_managed_organizational_unit(&format!("Production ({id})"));
        assert_eq!(resolved.map(|ou| ou.id.as_str()), Some(id.as_str()));
    }

    #[test]
    fn rejects_path_bare_id_and_mismatched_name() {
        let zone = zone();
        let id = ou_id(&zone, "Workloads/Production");
        assert!(zone
            .resolve_managed_organizational_unit("Workloads/Production")
            .is_none());
        assert!(zone.resolve_managed_organizational_unit(&id).is_none());
        assert!(zone
            .resolve_managed_organizational_unit(&format!("Staging ({id})"))
            .is_none());
    }

    #[test]
    fn plain_name_only_when_unique_and_registered() {
        let zone = zone();
        assert!(zone
            .resolve_managed_organizational_unit("kore-managed")
            .is_some());
        // Two registered OUs are called Production.
        assert!(zone
            .resolve_managed_organizational_unit("Production")
            .is_none());
        // The sandbox OU was made outside Control Tower.
        assert!(zone
            .resolve_managed_organizational_unit("sandbox")
            .is_none());
        let sandbox = ou_id(&zone, "sandbox");
        assert!(zone
            .resolve_managed_organizational_unit(&format!("sandbox ({sandbox})"))
            .is_none());
    }

    #[test]
    fn email_holder_ignores_case() {
        let zone = zone();
        let holder = zone.email_holder("AWS-Audit@Example.COM");
        assert!(matches!(holder, Some(EmailHolder::Account { .. })));
        assert_eq!(zone.email_holder("nobody@example.com"), None);
    }

    #[test]
    fn registered_ous_in_tree_order() {
        let zone = zone();
        let paths: Vec<String> = zone
            .registered_organizational_units()
            .iter()
            .map(|ou| zone.organizational_unit_name_path(&ou.id))
            .collect();
        let workloads = paths.iter().position(|p| p == "Workloads");
        let nested = paths.iter().position(|p| p == "Workloads/Production");
        assert!(workloads < nested);
        assert!(!paths.contains(&"sandbox".to_string()));
    }

    #[test]
    fn entity_path_lists_the_ou_chain() {
        let zone = zone();
        let workloads = ou_id(&zone, "Workloads");
        let production = ou_id(&zone, "Workloads/Production");
        assert_eq!(
            zone.entity_path(&production),
            format!("o-xxxxxxxxxx/r-xxxx/{workloads}/{production}/")
        );
    }

    #[test]
    fn legacy_status_maps_closed_to_suspended() {
        assert_eq!(AccountState::Closed.legacy_status(), "SUSPENDED");
        assert_eq!(
            AccountState::PendingClosure.legacy_status(),
            "PENDING_CLOSURE"
        );
    }
}
