//! The `tfplugin6.Provider` gRPC service: decodes each request, calls the [`Provider`],
//! [`Resource`], [`DataSource`] or [`Function`] it names, and encodes the response.
//!
//! Problems are reported to Terraform as diagnostics, never as gRPC errors, so the user
//! sees them in Terraform's output. Outgoing objects are conformed to the schema before
//! they are encoded, and a panic inside a provider method becomes an error diagnostic.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::{debug, error, info, trace, Instrument};

use super::codec::{self, CodecError, Shape, UndeclaredAttributes};
use super::convert;
use super::proto::tfplugin6 as pb;
use super::{
    ApplyRequest, Context, DataSource, Diagnostics, Function, FunctionError, PlanRequest,
    PrivateState, Provider, ReadRequest, Resource, Schema, Value,
};

/// Shared StopProvider state. Every call takes a child of the current token. StopProvider
/// cancels that token and installs a fresh one, so calls that start after a stop run
/// normally.
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    current: Mutex<CancellationToken>,
}

impl StopSignal {
    /// Returns the context for a new call.
    pub(crate) fn context(&self) -> Context {
        Context {
            cancel: self.lock().child_token(),
        }
    }

    /// Cancels every call in flight.
    pub(crate) fn stop_all(&self) {
        let previous = std::mem::take(&mut *self.lock());
        previous.cancel();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CancellationToken> {
        // A poisoned lock only means that a panic happened while it was locked, and the
        // token inside is still valid.
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct RegisteredResource {
    resource: Arc<dyn Resource>,
    schema: Schema,
    shape: Shape,
}

struct RegisteredDataSource {
    data_source: Arc<dyn DataSource>,
    schema: Schema,
    shape: Shape,
}

struct RegisteredFunction {
    function: Arc<dyn Function>,
    definition: pb::Function,
    parameters: Vec<Shape>,
    result: Shape,
}

/// The tfplugin6 service over one provider. Schemas are read once, when it is built.
pub(crate) struct ProviderService {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    provider_shape: Shape,
    resources: BTreeMap<String, RegisteredResource>,
    data_sources: BTreeMap<String, RegisteredDataSource>,
    functions: BTreeMap<String, RegisteredFunction>,
    stop: Arc<StopSignal>,
}

impl ProviderService {
    pub(crate) fn new(provider: Arc<dyn Provider>, stop: Arc<StopSignal>) -> ProviderService {
        let provider_schema = provider.schema();
        let provider_shape = provider_schema.block.shape();

        let mut resources = BTreeMap::new();
        for resource in provider.resources() {
            let schema = resource.schema();
            let shape = schema.block.shape();
            let name = resource.type_name().to_string();
            if resources.contains_key(&name) {
                error!(type_name = %name, "resource type registered twice; keeping the first");
                continue;
            }
            resources.insert(
                name,
                RegisteredResource {
                    resource,
                    schema,
                    shape,
                },
            );
        }

        let mut data_sources = BTreeMap::new();
        for data_source in provider.data_sources() {
            let schema = data_source.schema();
            let shape = schema.block.shape();
            let name = data_source.type_name().to_string();
            if data_sources.contains_key(&name) {
                error!(type_name = %name, "data source registered twice; keeping the first");
                continue;
            }
            data_sources.insert(
                name,
                RegisteredDataSource {
                    data_source,
                    schema,
                    shape,
                },
            );
        }

        let mut functions = BTreeMap::new();
        for function in provider.functions() {
            let signature = function.signature();
            let name = function.name().to_string();
            if functions.contains_key(&name) {
                error!(function = %name, "function registered twice; keeping the first");
                continue;
            }
            functions.insert(
                name,
                RegisteredFunction {
                    definition: convert::function(&signature),
                    parameters: signature
                        .parameters
                        .iter()
                        .map(|parameter| Shape::from(&parameter.ty))
                        .collect(),
                    result: Shape::from(&signature.return_type),
                    function,
                },
            );
        }

        ProviderService {
            provider,
            provider_schema,
            provider_shape,
            resources,
            data_sources,
            functions,
            stop,
        }
    }

    fn resource(&self, type_name: &str) -> Result<&RegisteredResource, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            Diagnostics::single_error(
                "Unknown resource type",
                format!("The kore provider has no resource type {type_name:?}."),
            )
        })
    }

    fn data_source(&self, type_name: &str) -> Result<&RegisteredDataSource, Diagnostics> {
        self.data_sources.get(type_name).ok_or_else(|| {
            Diagnostics::single_error(
                "Unknown data source",
                format!("The kore provider has no data source {type_name:?}."),
            )
        })
    }
}

fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}

/// Runs one RPC inside a span that names it, logging its start and its duration.
async fn traced<T>(rpc: &'static str, type_name: &str, work: impl Future<Output = T>) -> T {
    let span = tracing::debug_span!(
        "rpc",
        tf_rpc = rpc,
        tf_type_name = tracing::field::Empty,
        tf_req_id = %uuid::Uuid::new_v4()
    );
    if !type_name.is_empty() {
        span.record("tf_type_name", type_name);
    }
    async move {
        trace!("received request");
        let started = Instant::now();
        let output = work.await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        debug!(duration_ms, "served request");
        output
    }
    .instrument(span)
    .await
}

/// Runs provider code, turning a panic into an error diagnostic so the server survives.
async fn guarded<T>(work: impl Future<Output = T>) -> Result<T, Diagnostics> {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(output) => Ok(output),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_string());
            error!(panic = %message, "provider code panicked");
            Err(Diagnostics::single_error(
                "The kore provider crashed",
                format!(
                    "The provider panicked while handling this request: {message}. \
                     This is a bug in the provider; please report it with the log from TF_LOG=DEBUG."
                ),
            ))
        }
    }
}

/// Decodes a request value, preferring msgpack and falling back to JSON. A missing
/// value decodes as null.
fn decode(
    value: Option<&pb::DynamicValue>,
    shape: &Shape,
    what: &str,
) -> Result<Value, Diagnostics> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        codec::decode_msgpack(&value.msgpack, shape)
    } else if !value.json.is_empty() {
        codec::decode_json(&value.json, shape)
    } else {
        Ok(Value::Null)
    };
    decoded.map_err(|error| {
        let mut diagnostics = Diagnostics::default();
        diagnostics.error(
            format!("Invalid {what} from Terraform"),
            format!("The kore provider could not decode the {what}: {error}."),
        );
        diagnostics
    })
}

fn decode_private(bytes: &[u8], what: &str) -> Result<PrivateState, Diagnostics> {
    PrivateState::decode(bytes).map_err(|error| {
        Diagnostics::single_error(
            format!("Invalid {what}"),
            format!(
                "The kore provider could not read the {what} stored with this resource: {error}."
            ),
        )
    })
}

/// Conforms an outgoing object to `schema` and encodes it as msgpack.
fn encode_object(
    schema: &Schema,
    shape: &Shape,
    value: Value,
    what: &str,
    undeclared: UndeclaredAttributes,
) -> Result<pb::DynamicValue, Diagnostics> {
    let encoded = codec::conform_block(&schema.block, value, undeclared)
        .and_then(|conformed| codec::encode_msgpack(&conformed, shape));
    encoded
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|error| invalid_output(what, &error))
}

fn invalid_output(what: &str, error: &CodecError) -> Diagnostics {
    error!(%error, what, "provider produced a value that does not match its schema");
    let mut diagnostics = Diagnostics::default();
    let detail = format!(
        "The {what} does not match the schema: {error}. This is a bug in the kore provider; please report it."
    );
    if error.path.0.is_empty() {
        diagnostics.error(format!("Provider produced an invalid {what}"), detail);
    } else {
        diagnostics.attribute_error(
            error.path.clone(),
            format!("Provider produced an invalid {what}"),
            detail,
        );
    }
    diagnostics
}

/// Unwraps a step result, or returns `$empty` with the diagnostics added.
macro_rules! attempt {
    ($result:expr, $diagnostics:ident) => {
        match $result {
            Ok(value) => value,
            Err(problems) => {
                $diagnostics.extend(problems);
                return convert::diagnostics(&$diagnostics);
            }
        }
    };
}

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        traced("GetMetadata", "", async {
            Ok(Response::new(pb::get_metadata::Response {
                server_capabilities: Some(server_capabilities()),
                diagnostics: Vec::new(),
                data_sources: self
                    .data_sources
                    .keys()
                    .map(|name| pb::get_metadata::DataSourceMetadata {
                        type_name: name.clone(),
                    })
                    .collect(),
                resources: self
                    .resources
                    .keys()
                    .map(|name| pb::get_metadata::ResourceMetadata {
                        type_name: name.clone(),
                    })
                    .collect(),
                functions: self
                    .functions
                    .keys()
                    .map(|name| pb::get_metadata::FunctionMetadata { name: name.clone() })
                    .collect(),
            }))
        })
        .await
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        traced("GetProviderSchema", "", async {
            Ok(Response::new(pb::get_provider_schema::Response {
                provider: Some(convert::schema(&self.provider_schema)),
                resource_schemas: self
                    .resources
                    .iter()
                    .map(|(name, registered)| (name.clone(), convert::schema(&registered.schema)))
                    .collect(),
                data_source_schemas: self
                    .data_sources
                    .iter()
                    .map(|(name, registered)| (name.clone(), convert::schema(&registered.schema)))
                    .collect(),
                diagnostics: Vec::new(),
                provider_meta: None,
                server_capabilities: Some(server_capabilities()),
                functions: self.function_definitions(),
            }))
        })
        .await
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = traced("ValidateProviderConfig", "", async {
            let mut diagnostics = Diagnostics::default();
            let config = attempt!(
                decode(
                    request.config.as_ref(),
                    &self.provider_shape,
                    "provider configuration"
                ),
                diagnostics
            );
            let ctx = self.stop.context();
            let found = attempt!(
                guarded(self.provider.validate_config(&ctx, &config)).await,
                diagnostics
            );
            diagnostics.extend(found);
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = traced("ValidateResourceConfig", &request.type_name, async {
            let mut diagnostics = Diagnostics::default();
            let registered = attempt!(self.resource(&request.type_name), diagnostics);
            let config = attempt!(
                decode(request.config.as_ref(), &registered.shape, "configuration"),
                diagnostics
            );
            let ctx = self.stop.context();
            let found = attempt!(
                guarded(registered.resource.validate(&ctx, &config)).await,
                diagnostics
            );
            diagnostics.extend(found);
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = traced("ValidateDataResourceConfig", &request.type_name, async {
            let mut diagnostics = Diagnostics::default();
            let registered = attempt!(self.data_source(&request.type_name), diagnostics);
            let config = attempt!(
                decode(request.config.as_ref(), &registered.shape, "configuration"),
                diagnostics
            );
            let ctx = self.stop.context();
            let found = attempt!(
                guarded(registered.data_source.validate(&ctx, &config)).await,
                diagnostics
            );
            diagnostics.extend(found);
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics,
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        let mut upgraded_state = None;
        let diagnostics = traced("UpgradeResourceState", &request.type_name, async {
            let mut diagnostics = Diagnostics::default();
            let registered = attempt!(self.resource(&request.type_name), diagnostics);
            attempt!(
                check_state_version(request.version, &registered.schema),
                diagnostics
            );
            let raw = attempt!(raw_state_json(request.raw_state.as_ref()), diagnostics);
            let ctx = self.stop.context();
            let upgraded = attempt!(
                guarded(
                    registered
                        .resource
                        .upgrade_state(&ctx, request.version, raw)
                )
                .await,
                diagnostics
            );
            let upgraded = attempt!(upgraded, diagnostics);
            // State written by an older schema may still hold attributes that were removed
            // since; dropping them is the upgrade.
            upgraded_state = Some(attempt!(
                encode_object(
                    &registered.schema,
                    &registered.shape,
                    upgraded,
                    "upgraded state",
                    UndeclaredAttributes::Drop,
                ),
                diagnostics
            ));
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = traced("ConfigureProvider", "", async {
            info!(terraform_version = %request.terraform_version, "configuring the provider");
            let mut diagnostics = Diagnostics::default();
            let config = attempt!(
                decode(
                    request.config.as_ref(),
                    &self.provider_shape,
                    "provider configuration"
                ),
                diagnostics
            );
            let ctx = self.stop.context();
            let found = attempt!(
                guarded(self.provider.configure(&ctx, &config)).await,
                diagnostics
            );
            diagnostics.extend(found);
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics,
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let request = request.into_inner();
        let mut new_state = None;
        let mut private = Vec::new();
        let diagnostics = traced("ReadResource", &request.type_name, async {
            let mut diagnostics = Diagnostics::default();
            let registered = attempt!(self.resource(&request.type_name), diagnostics);
            let current_state = attempt!(
                decode(
                    request.current_state.as_ref(),
                    &registered.shape,
                    "current state"
                ),
                diagnostics
            );
            let current_private = attempt!(
                decode_private(&request.private, "private state"),
                diagnostics
            );
            let ctx = self.stop.context();
            let read = ReadRequest {
                current_state,
                private: current_private,
            };
            let response = attempt!(
                guarded(registered.resource.read(&ctx, read)).await,
                diagnostics
            );
            diagnostics.extend(response.diagnostics);
            private = response.private.encode();
            new_state = Some(attempt!(
                encode_object(
                    &registered.schema,
                    &registered.shape,
                    response.new_state,
                    "new state",
                    UndeclaredAttributes::Reject,
                ),
                diagnostics
            ));
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics,
            private,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let request = request.into_inner();
        let mut planned_state = None;
        let mut requires_replace = Vec::new();
        let mut planned_private = Vec::new();
        let diagnostics = traced("PlanResourceChange", &request.type_name, async {
            let mut diagnostics = Diagnostics::default();
            let registered = attempt!(self.resource(&request.type_name), diagnostics);
            let shape = &registered.shape;
            let prior_state = attempt!(
                decode(request.prior_state.as_ref(), shape, "prior state"),
                diagnostics
            );
            let proposed_new_state = attempt!(
                decode(
                    request.proposed_new_state.as_ref(),
                    shape,
                    "proposed new state"
                ),
                diagnostics
            );
            let config = attempt!(
                decode(request.config.as_ref(), shape, "configuration"),
                diagnostics
            );
            let prior_private = attempt!(
                decode_private(&request.prior_private, "private state"),
                diagnostics
            );
            let destroy = proposed_new_state.is_null();
            let ctx = self.stop.context();
            let plan = PlanRequest {
                prior_state,
                proposed_new_state,
                config,
                prior_private,
            };
            let response = attempt!(
                guarded(registered.resource.plan(&ctx, plan)).await,
                diagnostics
            );
            diagnostics.extend(response.diagnostics);
            requires_replace = response
                .requires_replace
                .iter()
                .map(convert::attribute_path)
                .collect();
            planned_private = response.planned_private.encode();
            // A destroy plans a null object whatever the resource returned: the resource's
            // part in a destroy plan is its diagnostics.
            let planned = if destroy {
                Value::Null
            } else {
                response.planned_state
            };
            planned_state = Some(attempt!(
                encode_object(
                    &registered.schema,
                    shape,
                    planned,
                    "planned state",
                    UndeclaredAttributes::Reject,
                ),
                diagnostics
            ));
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace,
            planned_private,
            diagnostics,
            legacy_type_system: false,
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let request = request.into_inner();
        let mut new_state = None;
        let mut private = Vec::new();
        let diagnostics = traced("ApplyResourceChange", &request.type_name, async {
            let mut diagnostics = Diagnostics::default();
            let registered = attempt!(self.resource(&request.type_name), diagnostics);
            let shape = &registered.shape;
            let prior_state = attempt!(
                decode(request.prior_state.as_ref(), shape, "prior state"),
                diagnostics
            );
            let planned_state = attempt!(
                decode(request.planned_state.as_ref(), shape, "planned state"),
                diagnostics
            );
            let config = attempt!(
                decode(request.config.as_ref(), shape, "configuration"),
                diagnostics
            );
            let planned_private = attempt!(
                decode_private(&request.planned_private, "private state"),
                diagnostics
            );
            let ctx = self.stop.context();
            let apply = ApplyRequest {
                prior_state,
                planned_state,
                config,
                planned_private,
            };
            let response = attempt!(
                guarded(registered.resource.apply(&ctx, apply)).await,
                diagnostics
            );
            diagnostics.extend(response.diagnostics);
            private = response.private.encode();
            new_state = Some(attempt!(
                encode_object(
                    &registered.schema,
                    shape,
                    response.new_state,
                    "new state",
                    UndeclaredAttributes::Reject,
                ),
                diagnostics
            ));
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private,
            diagnostics,
            legacy_type_system: false,
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let request = request.into_inner();
        let mut imported_resources = Vec::new();
        let diagnostics = traced("ImportResourceState", &request.type_name, async {
            let mut diagnostics = Diagnostics::default();
            let registered = attempt!(self.resource(&request.type_name), diagnostics);
            let ctx = self.stop.context();
            let response = attempt!(
                guarded(registered.resource.import(&ctx, &request.id)).await,
                diagnostics
            );
            diagnostics.extend(response.diagnostics);
            if response.state.is_null() {
                // Terraform reports an import that yields nothing as a missing object.
                return convert::diagnostics(&diagnostics);
            }
            let state = attempt!(
                encode_object(
                    &registered.schema,
                    &registered.shape,
                    response.state,
                    "imported state",
                    UndeclaredAttributes::Reject,
                ),
                diagnostics
            );
            imported_resources.push(pb::import_resource_state::ImportedResource {
                type_name: request.type_name.clone(),
                state: Some(state),
                private: response.private.encode(),
            });
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics,
        }))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = traced("MoveResourceState", &request.target_type_name, async {
            convert::diagnostics(&Diagnostics::single_error(
                "Moving resource state is not supported",
                format!(
                    "The kore provider cannot move state from {} ({}) to {}. \
                     Remove the moved block, then import the object as {} instead.",
                    request.source_type_name,
                    request.source_provider_address,
                    request.target_type_name,
                    request.target_type_name,
                ),
            ))
        })
        .await;
        Ok(Response::new(pb::move_resource_state::Response {
            target_state: None,
            diagnostics,
            target_private: Vec::new(),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let request = request.into_inner();
        let mut state = None;
        let diagnostics = traced("ReadDataSource", &request.type_name, async {
            let mut diagnostics = Diagnostics::default();
            let registered = attempt!(self.data_source(&request.type_name), diagnostics);
            let config = attempt!(
                decode(request.config.as_ref(), &registered.shape, "configuration"),
                diagnostics
            );
            let ctx = self.stop.context();
            let (value, found) = attempt!(
                guarded(registered.data_source.read(&ctx, &config)).await,
                diagnostics
            );
            diagnostics.extend(found);
            state = Some(attempt!(
                encode_object(
                    &registered.schema,
                    &registered.shape,
                    value,
                    "data source result",
                    UndeclaredAttributes::Reject,
                ),
                diagnostics
            ));
            convert::diagnostics(&diagnostics)
        })
        .await;
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics,
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        traced("GetFunctions", "", async {
            Ok(Response::new(pb::get_functions::Response {
                functions: self.function_definitions(),
                diagnostics: Vec::new(),
            }))
        })
        .await
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let request = request.into_inner();
        let outcome = traced("CallFunction", &request.name, self.call(&request)).await;
        let response = match outcome {
            Ok(result) => pb::call_function::Response {
                result: Some(result),
                error: None,
            },
            Err(error) => pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: error.text,
                    function_argument: error.argument,
                }),
            },
        };
        Ok(Response::new(response))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        traced("StopProvider", "", async {
            info!("Terraform asked to stop; cancelling every operation in flight");
            self.stop.stop_all();
            Ok(Response::new(pb::stop_provider::Response {
                error: String::new(),
            }))
        })
        .await
    }
}

impl ProviderService {
    fn function_definitions(&self) -> std::collections::HashMap<String, pb::Function> {
        self.functions
            .iter()
            .map(|(name, registered)| (name.clone(), registered.definition.clone()))
            .collect()
    }

    async fn call(
        &self,
        request: &pb::call_function::Request,
    ) -> Result<pb::DynamicValue, FunctionError> {
        let Some(registered) = self.functions.get(&request.name) else {
            return Err(FunctionError {
                text: format!("The kore provider has no function {:?}.", request.name),
                argument: None,
            });
        };
        if request.arguments.len() != registered.parameters.len() {
            return Err(FunctionError {
                text: format!(
                    "Function {:?} takes {} arguments, but {} were given.",
                    request.name,
                    registered.parameters.len(),
                    request.arguments.len()
                ),
                argument: None,
            });
        }
        let mut arguments = Vec::with_capacity(request.arguments.len());
        for (index, (argument, shape)) in request
            .arguments
            .iter()
            .zip(&registered.parameters)
            .enumerate()
        {
            let value = decode(Some(argument), shape, "function argument").map_err(|problems| {
                FunctionError {
                    text: problems
                        .0
                        .first()
                        .map(|d| d.detail.clone())
                        .unwrap_or_default(),
                    argument: i64::try_from(index).ok(),
                }
            })?;
            arguments.push(value);
        }
        let result = guarded(registered.function.call(arguments))
            .await
            .map_err(|problems| FunctionError {
                text: problems
                    .0
                    .first()
                    .map(|d| d.detail.clone())
                    .unwrap_or_default(),
                argument: None,
            })??;
        codec::encode_msgpack(&result, &registered.result)
            .map(|msgpack| pb::DynamicValue {
                msgpack,
                json: Vec::new(),
            })
            .map_err(|error| {
                error!(%error, function = %request.name, "function returned a value of the wrong type");
                FunctionError {
                    text: format!(
                        "Function {:?} returned an invalid result: {error}. This is a bug in the kore provider; please report it.",
                        request.name
                    ),
                    argument: None,
                }
            })
    }
}

/// Rejects state written by a newer provider, whose schema this release cannot know.
fn check_state_version(version: i64, schema: &Schema) -> Result<(), Diagnostics> {
    if version > schema.version {
        return Err(Diagnostics::single_error(
            "Resource state is too new",
            format!(
                "The state was written with schema version {version}, but this release of the kore \
                 provider knows versions up to {}. Upgrade the provider.",
                schema.version
            ),
        ));
    }
    Ok(())
}

fn raw_state_json(raw_state: Option<&pb::RawState>) -> Result<serde_json::Value, Diagnostics> {
    let Some(raw_state) = raw_state else {
        return Ok(serde_json::Value::Null);
    };
    if raw_state.json.is_empty() {
        if raw_state.flatmap.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        return Err(Diagnostics::single_error(
            "Unsupported state format",
            "The stored state uses the legacy flatmap format of Terraform 0.11, which the kore \
             provider never wrote. Remove the resource from state and import it again.",
        ));
    }
    serde_json::from_slice(&raw_state.json).map_err(|error| {
        Diagnostics::single_error(
            "Invalid stored state",
            format!("The stored state is not valid JSON: {error}."),
        )
    })
}
