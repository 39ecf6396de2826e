//! The traits a provider implements, and the request and response types the server passes to
//! them. The server decodes wire values into [`Value`] and conforms outgoing values to the
//! schema (missing attributes become null), so implementations deal only in [`Value`].

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::{AttributePath, Diagnostics, PrivateState, Schema, Type, Value};

/// Per-call context handed to every provider method.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Cancelled when Terraform sends StopProvider. Long waits must select on it.
    pub cancel: CancellationToken,
}

/// The provider itself: its configuration block and the types it registers.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Schema of the `provider` block.
    fn schema(&self) -> Schema;

    /// Validates the provider block without credentials or network access.
    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Applies the provider block. Values may be unknown during validate-only runs.
    async fn configure(&self, ctx: &Context, config: &Value) -> Diagnostics;

    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
}

/// Input of [`Resource::plan`]. `prior_state` is null on create and `proposed_new_state`
/// is null on destroy (Terraform 1.3 and later plan destroys through the provider).
#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub prior_state: Value,
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: PrivateState,
}

#[derive(Clone, Debug, Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: PrivateState,
    pub diagnostics: Diagnostics,
}

/// Input of [`Resource::apply`]. `planned_state` is null on destroy, `prior_state` on create.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub prior_state: Value,
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: PrivateState,
}

/// Output of [`Resource::apply`]. A null `new_state` after create means that nothing was
/// created, so Terraform records nothing and taints nothing.
#[derive(Clone, Debug, Default)]
pub struct ApplyResponse {
    pub new_state: Value,
    pub private: PrivateState,
    pub diagnostics: Diagnostics,
}

#[derive(Clone, Debug)]
pub struct ReadRequest {
    pub current_state: Value,
    pub private: PrivateState,
}

/// Output of [`Resource::read`]. A null `new_state` removes the resource from state.
#[derive(Clone, Debug, Default)]
pub struct ReadResponse {
    pub new_state: Value,
    pub private: PrivateState,
    pub diagnostics: Diagnostics,
}

/// Output of [`Resource::import`]: the full state of the imported object.
#[derive(Clone, Debug, Default)]
pub struct ImportResponse {
    pub state: Value,
    pub private: PrivateState,
    pub diagnostics: Diagnostics,
}

#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// Full type name, for example `kore_cloud_account`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Static validation of one configuration; values may be unknown.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Upgrades state written by an older schema version. `raw` is the JSON state as stored.
    /// The default accepts state of the current version unchanged.
    async fn upgrade_state(
        &self,
        _ctx: &Context,
        _version: i64,
        raw: serde_json::Value,
    ) -> Result<Value, Diagnostics> {
        Ok(Value::from_json(raw))
    }

    async fn plan(&self, ctx: &Context, request: PlanRequest) -> PlanResponse;

    async fn apply(&self, ctx: &Context, request: ApplyRequest) -> ApplyResponse;

    async fn read(&self, ctx: &Context, request: ReadRequest) -> ReadResponse;

    async fn import(&self, ctx: &Context, id: &str) -> ImportResponse;
}

#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Reads the data source. Returns the full object, computed attributes filled.
    async fn read(&self, ctx: &Context, config: &Value) -> (Value, Diagnostics);
}

/// One parameter of a provider-defined function.
#[derive(Clone, Debug)]
pub struct FunctionParameter {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub allow_null: bool,
}

/// Signature and documentation of a provider-defined function.
#[derive(Clone, Debug)]
pub struct FunctionSignature {
    pub parameters: Vec<FunctionParameter>,
    pub return_type: Type,
    pub summary: String,
    pub description: String,
}

/// Error of a function call; `argument` is the zero-based index of the argument at fault.
#[derive(Clone, Debug)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<i64>,
}

#[async_trait]
pub trait Function: Send + Sync + 'static {
    /// Name without the `provider::kore::` prefix.
    fn name(&self) -> &'static str;

    fn signature(&self) -> FunctionSignature;

    async fn call(&self, arguments: Vec<Value>) -> Result<Value, FunctionError>;
}
