//! The tfplugin6 service driven over gRPC, with a small test provider served in-process
//! through [`PluginServer`]: cancellation by StopProvider, destroy plans, value encoding,
//! private state, state upgrades, imports, functions and errors.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use terraform_provider_kore::plugin::proto::tfplugin6 as pb;
use terraform_provider_kore::plugin::proto::tfplugin6::provider_client::ProviderClient;
use terraform_provider_kore::plugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Context, DataSource, Diagnostics,
    Function, FunctionError, FunctionParameter, FunctionSignature, ImportResponse, Nesting,
    PlanRequest, PlanResponse, PluginServer, PrivateState, Provider, ReadRequest, ReadResponse,
    Resource, Schema, Transport, Type, Value,
};
use tonic::transport::Channel;

use crate::grpc_client::{connect_plaintext, connect_tls, ClientIdentity};
use crate::harness::{terraform_versions, Terraform, Workdir, PROVIDER_SOURCE};

/// How long the slow resource waits for cancellation before it gives up.
const SLOW_APPLY_LIMIT: Duration = Duration::from_secs(20);

struct TestProvider {
    applies_started: Arc<AtomicUsize>,
    resource_type: &'static str,
}

#[async_trait]
impl Provider for TestProvider {
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new().attribute(Attribute::string("region").optional()),
        )
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::default();
        if config.get("region").as_str() == Some("mars-1") {
            diagnostics.attribute_error(
                AttributePath::root("region"),
                "Invalid region",
                "mars-1 is not an AWS region.",
            );
        }
        diagnostics
    }

    async fn configure(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(SlowResource {
            applies_started: self.applies_started.clone(),
            type_name: self.resource_type,
        })]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(EchoDataSource)]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(Shout)]
    }
}

/// `test_slow`: apply waits until StopProvider cancels it. Plan marks `id` unknown and
/// requires replacement when `name` changes, and destroy plans add a warning.
struct SlowResource {
    applies_started: Arc<AtomicUsize>,
    type_name: &'static str,
}

fn slow_schema() -> Schema {
    let settings = Block::new().attribute(Attribute::string("mode").optional());
    Schema::new(
        2,
        Block::new()
            .attribute(Attribute::string("id").computed())
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::number("size").optional())
            .attribute(Attribute::new("tags", Type::map(Type::String)).optional())
            .attribute(Attribute::string("outcome").computed())
            .block("settings", Nesting::Single, settings.clone())
            .block("rules", Nesting::List, settings),
    )
}

#[async_trait]
impl Resource for SlowResource {
    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn schema(&self) -> Schema {
        slow_schema()
    }

    async fn upgrade_state(
        &self,
        _ctx: &Context,
        version: i64,
        raw: serde_json::Value,
    ) -> Result<Value, Diagnostics> {
        let mut state = Value::from_json(raw);
        if version < 2 {
            // Version 1 called the attribute `title`.
            let title = state.get("title").clone();
            state.set("name", title);
        }
        Ok(state)
    }

    async fn plan(&self, _ctx: &Context, request: PlanRequest) -> PlanResponse {
        let mut response = PlanResponse::default();
        if request.proposed_new_state.is_null() {
            response
                .diagnostics
                .warning("Destroying test_slow", "The object is only forgotten.");
            response.planned_state = request.prior_state;
            return response;
        }
        let mut planned = request.proposed_new_state.clone();
        if request.prior_state.is_null() {
            planned.set("id", Value::Unknown);
            planned.set("outcome", Value::Unknown);
        } else if request.prior_state.get("name") != request.proposed_new_state.get("name") {
            response.requires_replace.push(AttributePath::root("name"));
        }
        response.planned_state = planned;
        let mut private = request.prior_private;
        private.set("planned", serde_json::json!(true));
        response.planned_private = private;
        response
    }

    async fn apply(&self, ctx: &Context, request: ApplyRequest) -> ApplyResponse {
        let mut response = ApplyResponse::default();
        if request.planned_state.is_null() {
            return response;
        }
        self.applies_started.fetch_add(1, Ordering::SeqCst);
        let already_cancelled = ctx.cancel.is_cancelled();
        let mut state = request.planned_state;
        state.set("id", "slow-1".into());
        tokio::select! {
            () = ctx.cancel.cancelled() => {
                state.set("outcome", "cancelled".into());
                response.diagnostics.error(
                    "Creation interrupted",
                    format!("StopProvider cancelled the operation (cancelled at start: {already_cancelled})."),
                );
            }
            () = tokio::time::sleep(SLOW_APPLY_LIMIT) => {
                state.set("outcome", "finished".into());
            }
        }
        response.private = request.planned_private;
        // A partial object: `size`, `tags`, `settings` and `rules` may be missing and are
        // filled in by the server.
        response.new_state = state;
        response
    }

    async fn read(&self, _ctx: &Context, request: ReadRequest) -> ReadResponse {
        if request.current_state.get("name").as_str() == Some("panic") {
            panic!("read of a test_slow named panic");
        }
        let mut partial = Value::Null;
        partial.set("id", request.current_state.get("id").clone());
        partial.set("name", request.current_state.get("name").clone());
        if request.current_state.get("name").as_str() == Some("bogus") {
            partial.set("not_in_schema", "x".into());
        }
        ReadResponse {
            new_state: partial,
            private: request.private,
            diagnostics: Diagnostics::default(),
        }
    }

    async fn import(&self, _ctx: &Context, id: &str) -> ImportResponse {
        let mut state = Value::Null;
        state.set("id", id.into());
        state.set("name", format!("imported-{id}").into());
        let mut private = PrivateState::default();
        private.set("imported", serde_json::json!(id));
        ImportResponse {
            state,
            private,
            diagnostics: Diagnostics::default(),
        }
    }
}

/// `test_echo`: returns its `input` as `output`.
struct EchoDataSource;

#[async_trait]
impl DataSource for EchoDataSource {
    fn type_name(&self) -> &'static str {
        "test_echo"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .attribute(Attribute::string("input").required())
                .attribute(Attribute::string("output").computed()),
        )
    }

    async fn read(&self, _ctx: &Context, config: &Value) -> (Value, Diagnostics) {
        let mut state = config.clone();
        state.set("output", config.get("input").clone());
        (state, Diagnostics::default())
    }
}

/// `shout(text)`: upper-cases its argument and rejects an empty one.
struct Shout;

#[async_trait]
impl Function for Shout {
    fn name(&self) -> &'static str {
        "shout"
    }

    fn signature(&self) -> FunctionSignature {
        FunctionSignature {
            parameters: vec![FunctionParameter {
                name: "text".into(),
                ty: Type::String,
                description: "Text to shout.".into(),
                allow_null: false,
            }],
            return_type: Type::String,
            summary: "Upper-cases text".into(),
            description: "Returns `text` in upper case.".into(),
        }
    }

    async fn call(&self, arguments: Vec<Value>) -> Result<Value, FunctionError> {
        let text = arguments[0].as_str().unwrap_or_default();
        if text.is_empty() {
            return Err(FunctionError {
                text: "text must not be empty".into(),
                argument: Some(0),
            });
        }
        Ok(Value::string(text.to_uppercase()))
    }
}

/// An in-process server with the test provider, and a client connected to it.
struct Served {
    address: std::net::SocketAddr,
    client: ProviderClient<Channel>,
    applies_started: Arc<AtomicUsize>,
    shutdown: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start(tls: bool) -> Served {
        Served::start_with("test_slow", tls).await
    }

    async fn start_with(resource_type: &'static str, tls: bool) -> Served {
        let applies_started = Arc::new(AtomicUsize::new(0));
        let provider = Arc::new(TestProvider {
            applies_started: applies_started.clone(),
            resource_type,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");

        let identity = ClientIdentity::generate();
        let transport = if tls {
            Transport::MutualTls {
                client_cert_pem: identity.cert_pem.clone(),
            }
        } else {
            Transport::Plaintext
        };
        // Terraform calls Shutdown at the end of a run even on a reattached provider.
        let server = PluginServer::new(provider, listener, transport)
            .expect("server")
            .ignore_shutdown_rpc();
        let address = server.address();
        let server_cert = server.server_cert_der().map(<[u8]>::to_vec);
        let shutdown = server.shutdown_token();
        let task = tokio::spawn(async move {
            server.run().await.expect("server run");
        });

        let channel = match server_cert {
            Some(cert) => connect_tls(address, &cert, Some(&identity))
                .await
                .expect("mTLS connect"),
            None => connect_plaintext(address).await.expect("connect"),
        };
        Served {
            address,
            client: ProviderClient::new(channel),
            applies_started,
            shutdown,
            task,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(3), self.task)
            .await
            .expect("server stops after its shutdown token")
            .expect("server task");
    }
}

// --- msgpack helpers: the test speaks the wire format directly, as Terraform does ---

fn raw_string(text: &str) -> rmpv::Value {
    rmpv::Value::from(text)
}

fn raw_object(entries: &[(&str, rmpv::Value)]) -> rmpv::Value {
    rmpv::Value::Map(
        entries
            .iter()
            .map(|(key, value)| (raw_string(key), value.clone()))
            .collect(),
    )
}

fn msgpack(raw: &rmpv::Value) -> Option<pb::DynamicValue> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, raw).expect("encode msgpack");
    Some(pb::DynamicValue {
        msgpack: bytes,
        json: Vec::new(),
    })
}

/// Builds a full `test_slow` object as Terraform sends it, with every attribute present.
fn slow_object(name: &str, id: rmpv::Value) -> rmpv::Value {
    raw_object(&[
        ("id", id),
        ("name", raw_string(name)),
        ("size", rmpv::Value::Nil),
        ("tags", rmpv::Value::Nil),
        ("outcome", rmpv::Value::Nil),
        ("settings", rmpv::Value::Nil),
        ("rules", rmpv::Value::Array(Vec::new())),
    ])
}

fn decode(value: Option<&pb::DynamicValue>) -> BTreeMap<String, rmpv::Value> {
    let bytes = &value.expect("dynamic value").msgpack;
    match rmpv::decode::read_value(&mut bytes.as_slice()).expect("decode msgpack") {
        rmpv::Value::Map(pairs) => pairs
            .into_iter()
            .map(|(key, value)| (key.as_str().expect("string key").to_string(), value))
            .collect(),
        rmpv::Value::Nil => BTreeMap::new(),
        other => panic!("not an object: {other}"),
    }
}

fn is_null(value: Option<&pb::DynamicValue>) -> bool {
    let bytes = &value.expect("dynamic value").msgpack;
    rmpv::decode::read_value(&mut bytes.as_slice()).expect("decode msgpack") == rmpv::Value::Nil
}

fn summaries(diagnostics: &[pb::Diagnostic]) -> Vec<&str> {
    diagnostics.iter().map(|d| d.summary.as_str()).collect()
}

fn apply_request(name: &str) -> pb::apply_resource_change::Request {
    let planned = slow_object(name, rmpv::Value::Ext(0, vec![0]));
    pb::apply_resource_change::Request {
        type_name: "test_slow".into(),
        prior_state: msgpack(&rmpv::Value::Nil),
        planned_state: msgpack(&planned),
        config: msgpack(&slow_object(name, rmpv::Value::Nil)),
        planned_private: Vec::new(),
        provider_meta: None,
    }
}

#[tokio::test]
async fn stop_provider_cancels_in_flight_apply() {
    let served = Served::start(true).await;
    let mut apply_client = served.client.clone();
    let started = Instant::now();
    let in_flight =
        tokio::spawn(async move { apply_client.apply_resource_change(apply_request("a")).await });

    // Wait until the resource is really inside apply before stopping it.
    while served.applies_started.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "apply never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stop = served
        .client
        .clone()
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider")
        .into_inner();
    assert_eq!(stop.error, "");

    let applied = tokio::time::timeout(Duration::from_secs(2), in_flight)
        .await
        .expect("apply returns promptly after StopProvider")
        .expect("apply task")
        .expect("apply call")
        .into_inner();
    assert!(started.elapsed() < SLOW_APPLY_LIMIT);
    assert_eq!(summaries(&applied.diagnostics), ["Creation interrupted"]);
    let state = decode(applied.new_state.as_ref());
    assert_eq!(state["outcome"], raw_string("cancelled"));
    assert_eq!(state["id"], raw_string("slow-1"));

    // The server keeps serving, and a later call gets a fresh token.
    let mut later_client = served.client.clone();
    let later =
        tokio::spawn(async move { later_client.apply_resource_change(apply_request("b")).await });
    while served.applies_started.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !later.is_finished(),
        "a call after StopProvider was cancelled at once"
    );
    served
        .client
        .clone()
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("second StopProvider");
    let later = later.await.expect("task").expect("call").into_inner();
    assert!(
        later.diagnostics[0]
            .detail
            .contains("cancelled at start: false"),
        "{:?}",
        later.diagnostics
    );
    served.stop().await;
}

#[tokio::test]
async fn apply_output_is_conformed_to_schema() {
    let served = Served::start(false).await;
    // Stop in the background so the slow apply returns at once.
    let mut client = served.client.clone();
    let stopper = {
        let mut client = served.client.clone();
        let started = served.applies_started.clone();
        tokio::spawn(async move {
            while started.load(Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            client.stop_provider(pb::stop_provider::Request {}).await
        })
    };
    let applied = client
        .apply_resource_change(apply_request("conformed"))
        .await
        .expect("apply")
        .into_inner();
    stopper.await.expect("stopper").expect("stop");
    let state = decode(applied.new_state.as_ref());
    let keys: Vec<&str> = state.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["id", "name", "outcome", "rules", "settings", "size", "tags"]
    );
    assert_eq!(state["size"], rmpv::Value::Nil);
    assert_eq!(state["settings"], rmpv::Value::Nil);
    assert_eq!(state["rules"], rmpv::Value::Array(Vec::new()));
    served.stop().await;
}

#[tokio::test]
async fn plan_create_update_and_destroy() {
    let served = Served::start(false).await;
    let mut client = served.client.clone();

    let create = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "test_slow".into(),
            prior_state: msgpack(&rmpv::Value::Nil),
            proposed_new_state: msgpack(&slow_object("a", rmpv::Value::Nil)),
            config: msgpack(&slow_object("a", rmpv::Value::Nil)),
            prior_private: Vec::new(),
            provider_meta: None,
        })
        .await
        .expect("plan create")
        .into_inner();
    assert!(create.diagnostics.is_empty(), "{:?}", create.diagnostics);
    let planned = decode(create.planned_state.as_ref());
    assert!(
        matches!(planned["id"], rmpv::Value::Ext(0, _)),
        "{planned:?}"
    );
    let private = PrivateState::decode(&create.planned_private).expect("planned private");
    assert_eq!(private.get("planned"), Some(&serde_json::json!(true)));

    let prior = slow_object("a", raw_string("slow-1"));
    let update = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "test_slow".into(),
            prior_state: msgpack(&prior),
            proposed_new_state: msgpack(&slow_object("b", raw_string("slow-1"))),
            config: msgpack(&slow_object("b", rmpv::Value::Nil)),
            prior_private: create.planned_private.clone(),
            provider_meta: None,
        })
        .await
        .expect("plan update")
        .into_inner();
    assert_eq!(update.requires_replace.len(), 1);
    let step = update.requires_replace[0].steps[0].selector.clone();
    assert_eq!(
        step,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "name".into()
        ))
    );

    // Terraform 1.3+ plans destroys through the provider: a null proposed state.
    let destroy = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "test_slow".into(),
            prior_state: msgpack(&prior),
            proposed_new_state: msgpack(&rmpv::Value::Nil),
            config: msgpack(&rmpv::Value::Nil),
            prior_private: Vec::new(),
            provider_meta: None,
        })
        .await
        .expect("plan destroy")
        .into_inner();
    assert_eq!(summaries(&destroy.diagnostics), ["Destroying test_slow"]);
    assert_eq!(
        destroy.diagnostics[0].severity,
        pb::diagnostic::Severity::Warning as i32
    );
    assert!(is_null(destroy.planned_state.as_ref()));
    served.stop().await;
}

#[tokio::test]
async fn read_with_bad_private_state_reports_diagnostic() {
    let served = Served::start(false).await;
    let mut client = served.client.clone();
    let read = client
        .read_resource(pb::read_resource::Request {
            type_name: "test_slow".into(),
            current_state: msgpack(&slow_object("a", raw_string("slow-1"))),
            private: b"{not json".to_vec(),
            provider_meta: None,
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(summaries(&read.diagnostics), ["Invalid private state"]);
    assert!(read.new_state.is_none());

    let good = client
        .read_resource(pb::read_resource::Request {
            type_name: "test_slow".into(),
            current_state: msgpack(&slow_object("a", raw_string("slow-1"))),
            private: PrivateState::default().encode(),
            provider_meta: None,
        })
        .await
        .expect("read")
        .into_inner();
    assert!(good.diagnostics.is_empty(), "{:?}", good.diagnostics);
    let state = decode(good.new_state.as_ref());
    assert_eq!(state["name"], raw_string("a"));
    assert_eq!(state["outcome"], rmpv::Value::Nil);
    served.stop().await;
}

#[tokio::test]
async fn provider_mistakes_become_diagnostics() {
    let served = Served::start(false).await;
    let mut client = served.client.clone();

    let unknown_type = client
        .read_resource(pb::read_resource::Request {
            type_name: "test_missing".into(),
            current_state: msgpack(&rmpv::Value::Nil),
            private: Vec::new(),
            provider_meta: None,
        })
        .await
        .expect("read of an unknown type")
        .into_inner();
    assert_eq!(
        summaries(&unknown_type.diagnostics),
        ["Unknown resource type"]
    );

    let bogus = client
        .read_resource(pb::read_resource::Request {
            type_name: "test_slow".into(),
            current_state: msgpack(&slow_object("bogus", raw_string("slow-1"))),
            private: Vec::new(),
            provider_meta: None,
        })
        .await
        .expect("read returning an undeclared attribute")
        .into_inner();
    assert_eq!(
        summaries(&bogus.diagnostics),
        ["Provider produced an invalid new state"]
    );
    assert!(bogus.diagnostics[0].detail.contains("not_in_schema"));

    let panicked = client
        .read_resource(pb::read_resource::Request {
            type_name: "test_slow".into(),
            current_state: msgpack(&slow_object("panic", raw_string("slow-1"))),
            private: Vec::new(),
            provider_meta: None,
        })
        .await
        .expect("read that panics")
        .into_inner();
    assert_eq!(
        summaries(&panicked.diagnostics),
        ["The kore provider crashed"]
    );

    let garbage = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "test_slow".into(),
            config: Some(pb::DynamicValue {
                // A five-byte string marker followed by one byte.
                msgpack: vec![0xa5, b'a'],
                json: Vec::new(),
            }),
        })
        .await
        .expect("validate garbage")
        .into_inner();
    assert_eq!(
        summaries(&garbage.diagnostics),
        ["Invalid configuration from Terraform"]
    );

    let moved = client
        .move_resource_state(pb::move_resource_state::Request {
            source_provider_address: "registry.terraform.io/hashicorp/null".into(),
            source_type_name: "null_resource".into(),
            source_schema_version: 0,
            source_state: None,
            target_type_name: "test_slow".into(),
            source_private: Vec::new(),
        })
        .await
        .expect("move")
        .into_inner();
    assert_eq!(
        summaries(&moved.diagnostics),
        ["Moving resource state is not supported"]
    );

    // The server survived all of it.
    client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema after the errors");
    served.stop().await;
}

#[tokio::test]
async fn config_json_fallback_and_attribute_paths() {
    let served = Served::start(false).await;
    let mut client = served.client.clone();
    let invalid = client
        .validate_provider_config(pb::validate_provider_config::Request {
            config: Some(pb::DynamicValue {
                msgpack: Vec::new(),
                json: br#"{"region":"mars-1"}"#.to_vec(),
            }),
        })
        .await
        .expect("validate provider config")
        .into_inner();
    assert_eq!(summaries(&invalid.diagnostics), ["Invalid region"]);
    let path = invalid.diagnostics[0]
        .attribute
        .as_ref()
        .expect("attribute path");
    assert_eq!(
        path.steps[0].selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "region".into()
        ))
    );
    served.stop().await;
}

#[tokio::test]
async fn upgrade_state_from_raw_json() {
    let served = Served::start(false).await;
    let mut client = served.client.clone();
    let upgraded = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "test_slow".into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: br#"{"id":"slow-1","title":"old name","size":3,"removed_long_ago":true}"#
                    .to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("upgrade")
        .into_inner();
    assert!(
        upgraded.diagnostics.is_empty(),
        "{:?}",
        upgraded.diagnostics
    );
    let state = decode(upgraded.upgraded_state.as_ref());
    assert_eq!(state["name"], raw_string("old name"));
    assert_eq!(state["size"], rmpv::Value::from(3));
    assert!(!state.contains_key("title"));
    assert!(!state.contains_key("removed_long_ago"));

    let too_new = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "test_slow".into(),
            version: 9,
            raw_state: Some(pb::RawState {
                json: br#"{"id":"slow-1"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("upgrade from the future")
        .into_inner();
    assert_eq!(
        summaries(&too_new.diagnostics),
        ["Resource state is too new"]
    );
    served.stop().await;
}

#[tokio::test]
async fn import_data_source_and_function() {
    let served = Served::start(false).await;
    let mut client = served.client.clone();

    let imported = client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "test_slow".into(),
            id: "slow-7".into(),
        })
        .await
        .expect("import")
        .into_inner();
    assert_eq!(imported.imported_resources.len(), 1);
    let resource = &imported.imported_resources[0];
    assert_eq!(resource.type_name, "test_slow");
    let state = decode(resource.state.as_ref());
    assert_eq!(state["name"], raw_string("imported-slow-7"));
    let private = PrivateState::decode(&resource.private).expect("private");
    assert_eq!(private.get("imported"), Some(&serde_json::json!("slow-7")));

    let read = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "test_echo".into(),
            config: msgpack(&raw_object(&[
                ("input", raw_string("hi")),
                ("output", rmpv::Value::Nil),
            ])),
            provider_meta: None,
        })
        .await
        .expect("read data source")
        .into_inner();
    assert_eq!(decode(read.state.as_ref())["output"], raw_string("hi"));

    let shouted = client
        .call_function(pb::call_function::Request {
            name: "shout".into(),
            arguments: vec![msgpack(&raw_string("kore")).expect("argument")],
        })
        .await
        .expect("call")
        .into_inner();
    assert!(shouted.error.is_none(), "{:?}", shouted.error);
    let bytes = shouted.result.expect("result").msgpack;
    let result = rmpv::decode::read_value(&mut bytes.as_slice()).expect("decode");
    assert_eq!(result, raw_string("KORE"));

    let rejected = client
        .call_function(pb::call_function::Request {
            name: "shout".into(),
            arguments: vec![msgpack(&raw_string("")).expect("argument")],
        })
        .await
        .expect("call")
        .into_inner();
    let error = rejected.error.expect("function error");
    assert_eq!(error.text, "text must not be empty");
    assert_eq!(error.function_argument, Some(0));

    let functions = client
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("functions")
        .into_inner();
    assert!(functions.functions.contains_key("shout"));

    let metadata = client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("metadata")
        .into_inner();
    assert!(
        metadata
            .server_capabilities
            .expect("capabilities")
            .plan_destroy
    );
    assert_eq!(metadata.resources[0].type_name, "test_slow");
    assert_eq!(metadata.data_sources[0].type_name, "test_echo");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_interrupt_stops_slow_apply() {
    let native: Vec<&Terraform> = terraform_versions().iter().filter(|tf| tf.native).collect();
    assert!(
        !native.is_empty(),
        "no native Terraform binary to send SIGINT to; run `make tools` for Terraform 1.0.3"
    );
    for tf in native {
        // The provider runs in this process, reattached, so only Terraform and the
        // signal's path to StopProvider are under test here. The binary's own SIGINT
        // handling is checked by protocol::sigint_leaves_provider_serving.
        let served = Served::start_with("kore_slow", false).await;
        let reattach = serde_json::json!({
            PROVIDER_SOURCE: {
                "Protocol": "grpc",
                "ProtocolVersion": 6,
                "Pid": std::process::id(),
                "Test": true,
                "Addr": { "Network": "tcp", "String": served.address.to_string() },
            }
        });
        let mut workdir = Workdir::new();
        workdir.write_config("resource \"kore_slow\" \"x\" {\n  name = \"a\"\n}\n");
        workdir.set_env("TF_REATTACH_PROVIDERS", &reattach.to_string());

        let mut running = workdir
            .spawn_in_process_group(tf, &["apply", "-auto-approve", "-input=false", "-no-color"]);
        let started = Instant::now();
        while served.applies_started.load(Ordering::SeqCst) == 0 {
            assert!(
                running.is_running(),
                "{tf}: Terraform exited before the apply"
            );
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{tf}: apply never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        running.interrupt_group();
        let interrupted = Instant::now();
        let run = tokio::task::spawn_blocking(move || running.wait(Duration::from_secs(15)))
            .await
            .expect("wait for Terraform");

        assert!(interrupted.elapsed() < SLOW_APPLY_LIMIT, "{tf}: {run}");
        run.assert_failure();
        let output = run.output();
        assert!(output.contains("Interrupt received"), "{tf}: {run}");
        assert!(output.contains("Creation interrupted"), "{tf}: {run}");
        assert!(output.contains("cancelled at start: false"), "{tf}: {run}");

        // The provider keeps serving after the stop.
        served
            .client
            .clone()
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .expect("schema after the interrupted apply");
        served.stop().await;
    }
}
