//! Protocol checks against the real provider binary: started by real Terraform (every
//! installed version), started by hand, and started like Terraform does and driven by a
//! gRPC client.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use terraform_provider_kore::plugin::proto::go_plugin::grpc_controller_client::GrpcControllerClient;
use terraform_provider_kore::plugin::proto::go_plugin::grpc_stdio_client::GrpcStdioClient;
use terraform_provider_kore::plugin::proto::tfplugin6::provider_client::ProviderClient;
use terraform_provider_kore::plugin::proto::{go_plugin, tfplugin6};
use terraform_provider_kore::plugin::Provider;
use terraform_provider_kore::provider::KoreProvider;

use crate::grpc_client::{
    connect_plaintext, connect_tls, ClientIdentity, PluginProcess, MAGIC_COOKIE_KEY,
    MAGIC_COOKIE_VALUE,
};
use crate::harness::{
    at_least, provider_binary, provider_schema, terraform_versions, Workdir, PROVIDER_LOGGER,
};
use crate::landing::Landing;

const PROVIDER_BLOCK: &str = "provider \"kore\" {}\n";

#[test]
fn provider_loads_in_terraform() {
    for tf in terraform_versions() {
        let workdir = Workdir::new();
        workdir.write_config(PROVIDER_BLOCK);
        let run = workdir.validate(tf);
        run.assert_success();
        assert!(
            run.stdout.contains("The configuration is valid"),
            "{tf}: {run}"
        );
    }
}

#[test]
fn schema_shows_every_registered_type() {
    let provider = KoreProvider::new();
    let provider_attributes: Vec<String> = provider
        .schema()
        .block
        .attributes
        .iter()
        .map(|attribute| attribute.name.clone())
        .collect();
    let resources: Vec<&str> = provider.resources().iter().map(|r| r.type_name()).collect();
    let data_sources: Vec<&str> = provider
        .data_sources()
        .iter()
        .map(|d| d.type_name())
        .collect();
    let functions: Vec<&str> = provider.functions().iter().map(|f| f.name()).collect();

    for tf in terraform_versions() {
        let workdir = Workdir::new();
        workdir.write_config(PROVIDER_BLOCK);
        let schema_json = workdir.schema_json(tf);
        let schema = provider_schema(&schema_json);

        let block = &schema["provider"]["block"];
        assert!(block.is_object(), "{tf}: no provider block in {schema}");
        for name in &provider_attributes {
            assert!(
                block["attributes"][name].is_object(),
                "{tf}: provider attribute {name} missing from {block}"
            );
        }
        for name in &resources {
            assert!(
                schema["resource_schemas"][name].is_object(),
                "{tf}: resource {name} missing"
            );
        }
        for name in &data_sources {
            assert!(
                schema["data_source_schemas"][name].is_object(),
                "{tf}: data source {name} missing"
            );
        }
        // Provider functions arrived with protocol 6.5 in Terraform 1.8.
        if at_least(tf, "1.8.0") {
            for name in &functions {
                assert!(
                    schema["functions"][name].is_object(),
                    "{tf}: function {name} missing from {}",
                    schema["functions"]
                );
            }
        }
    }
}

#[test]
fn tf_log_debug_shows_provider_json_lines() {
    for tf in terraform_versions() {
        let mut workdir = Workdir::new();
        workdir.write_config(PROVIDER_BLOCK);

        workdir.set_env("TF_LOG", "DEBUG");
        let debug = workdir.validate(tf);
        debug.assert_success();
        // Terraform re-logs a parsed hclog JSON line at its level, with the JSON keys as
        // key=value pairs; an unparsed line would be logged verbatim at DEBUG.
        let started = debug
            .stderr
            .lines()
            .find(|line| line.contains(&format!("{PROVIDER_LOGGER}: plugin server started")))
            .unwrap_or_else(|| panic!("{tf}: no provider start line: {debug}"));
        assert!(started.contains("[INFO]"), "{tf}: {started}");
        assert!(started.contains("@module=kore"), "{tf}: {started}");
        assert!(started.contains("tls=true"), "{tf}: {started}");
        let served = debug
            .stderr
            .lines()
            .find(|line| line.contains(&format!("{PROVIDER_LOGGER}: served request")))
            .unwrap_or_else(|| panic!("{tf}: no provider debug line: {debug}"));
        assert!(served.contains("[DEBUG]"), "{tf}: {served}");
        assert!(served.contains("tf_rpc="), "{tf}: {served}");

        workdir.set_env("TF_LOG", "ERROR");
        let errors_only = workdir.validate(tf);
        errors_only.assert_success();
        assert!(
            !errors_only.stderr.contains(PROVIDER_LOGGER),
            "{tf}: provider lines at TF_LOG=ERROR: {errors_only}"
        );
    }
}

#[test]
fn binary_run_by_hand_explains_itself() {
    let output = Command::new(provider_binary())
        .env_remove(MAGIC_COOKIE_KEY)
        .stdin(Stdio::null())
        .output()
        .expect("run the provider binary");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("This binary is a plugin"), "{stderr}");
    assert!(stderr.contains("run by Terraform"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "printed a handshake without the cookie"
    );
}

#[test]
fn protocol_without_six_rejected() {
    let output = Command::new(provider_binary())
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .stdin(Stdio::null())
        .output()
        .expect("run the provider binary");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("only protocol 6"), "{stderr}");
    assert!(output.stdout.is_empty());
}

async fn schema_call(
    channel: tonic::transport::Channel,
) -> Result<tfplugin6::get_provider_schema::Response, tonic::Status> {
    ProviderClient::new(channel)
        .get_provider_schema(tfplugin6::get_provider_schema::Request {})
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn client_without_certificate_rejected() {
    let process = PluginProcess::start(&provider_binary(), true);
    let address = process.handshake.address;
    let server_cert = process
        .handshake
        .server_cert_der
        .clone()
        .expect("AutoMTLS handshake carries a certificate");

    // TLS 1.3 lets the client finish its handshake before the server checks the client
    // certificate, so the refusal may show at connect or at the first call.
    let without_cert = match connect_tls(address, &server_cert, None).await {
        Ok(channel) => schema_call(channel)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    assert!(
        without_cert.is_err(),
        "a client without a certificate was served"
    );

    let stranger = ClientIdentity::generate();
    let wrong_cert = match connect_tls(address, &server_cert, Some(&stranger)).await {
        Ok(channel) => schema_call(channel)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    assert!(
        wrong_cert.is_err(),
        "a client with another certificate was served"
    );

    let plaintext = match connect_plaintext(address).await {
        Ok(channel) => schema_call(channel)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    assert!(plaintext.is_err(), "a plaintext client was served");

    let schema = schema_call(process.connect().await)
        .await
        .expect("GetProviderSchema with the client certificate");
    assert!(schema.provider.is_some());
    let capabilities = schema.server_capabilities.expect("server capabilities");
    assert!(capabilities.plan_destroy);
    assert!(!capabilities.get_provider_schema_optional);
}

#[tokio::test]
async fn plaintext_when_tls_disabled() {
    let process = PluginProcess::start(&provider_binary(), false);
    assert!(process.handshake.server_cert_der.is_none());
    assert!(process.handshake.line.ends_with("|grpc|"));
    let schema = schema_call(process.connect().await)
        .await
        .expect("plaintext GetProviderSchema");
    assert!(schema.provider.is_some());
}

#[tokio::test]
async fn shutdown_ends_process_within_two_seconds() {
    let mut process = PluginProcess::start(&provider_binary(), true);
    let channel = process.connect().await;
    schema_call(channel.clone())
        .await
        .expect("schema before shutdown");

    let started = Instant::now();
    GrpcControllerClient::new(channel)
        .shutdown(go_plugin::Empty {})
        .await
        .expect("Shutdown call");
    let status = process
        .wait_for_exit(Duration::from_secs(2))
        .unwrap_or_else(|| panic!("still running {:?} after Shutdown", started.elapsed()));
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn health_and_stdio_services_answer() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let process = PluginProcess::start(&provider_binary(), true);
    let channel = process.connect().await;

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "plugin".to_string(),
        })
        .await
        .expect("health check")
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);

    let mut stdio = GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .expect("StreamStdio call")
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(5), stdio.message())
        .await
        .expect("stdio stream ends");
    assert!(matches!(first, Ok(None)), "{first:?}");

    // The provider still serves after both calls.
    schema_call(channel)
        .await
        .expect("schema after health and stdio");
}

#[tokio::test]
async fn sigint_leaves_provider_serving() {
    let mut process = PluginProcess::start(&provider_binary(), true);
    let channel = process.connect().await;
    send_signal(process.pid(), "INT");
    send_signal(process.pid(), "INT");
    assert!(
        process.wait_for_exit(Duration::from_millis(300)).is_none(),
        "the provider died on SIGINT"
    );
    schema_call(channel.clone())
        .await
        .expect("schema after SIGINT");
    let stop = ProviderClient::new(channel)
        .stop_provider(tfplugin6::stop_provider::Request {})
        .await
        .expect("StopProvider")
        .into_inner();
    assert_eq!(stop.error, "");
}

fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

#[test]
fn debug_mode_serves_reattached_terraform() {
    let mut child = Command::new(provider_binary())
        .arg("--debug")
        .env_remove(MAGIC_COOKIE_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the provider with --debug");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut reattach = None;
    let mut printed = String::new();
    for _ in 0..20 {
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("read stdout") == 0 {
            break;
        }
        printed.push_str(&line);
        if let Some(value) = line.trim().strip_prefix("export TF_REATTACH_PROVIDERS=") {
            reattach = Some(value.trim_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.unwrap_or_else(|| panic!("no export line in {printed:?}"));
    let parsed: serde_json::Value = serde_json::from_str(&reattach).expect("reattach JSON");
    let entry = &parsed["registry.terraform.io/appvia/kore"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], child.id());
    assert_eq!(entry["Test"], true);

    for tf in terraform_versions() {
        let mut workdir = Workdir::new();
        workdir.write_config(PROVIDER_BLOCK);
        workdir.set_env("TF_REATTACH_PROVIDERS", &reattach);
        workdir.validate(tf).assert_success();
        assert!(
            child.try_wait().expect("poll").is_none(),
            "{tf}: the debug server exited after a Terraform run"
        );
    }

    send_signal(child.id(), "INT");
    let deadline = Instant::now() + Duration::from_secs(3);
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the debug server ignored Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "debug server exit status {status}");
}

const SLOW_ACCOUNT: &str = r#"
resource "kore_cloud_account" "slow" {
  organization_id = kore_aws_organization.main.id
  team            = "alpha"
  name            = "kore-alpha-slow"
}
"#;

/// Ctrl-C in a terminal: SIGINT reaches Terraform and the provider it started. The
/// provider must survive it, and Terraform's StopProvider must end the create that waits
/// on a slow Account Factory record. Run with native binaries only, because the 1.15.5
/// build runs inside Python's own signal handling.
#[test]
fn interrupt_during_create_stops_provider_operation() {
    let native: Vec<_> = terraform_versions().iter().filter(|tf| tf.native).collect();
    assert!(
        !native.is_empty(),
        "no native Terraform binary to send SIGINT to; run `make tools` for Terraform 1.0.3"
    );
    for tf in native {
        // Provisioning takes far longer than the test waits, so only a stop ends the create.
        let landing = Landing::start(120.0);
        let mut workdir = Workdir::new();
        workdir.write_config(&landing.config(SLOW_ACCOUNT));
        workdir.set_env("TF_LOG", "DEBUG");

        let mut running = workdir
            .spawn_in_process_group(tf, &["apply", "-auto-approve", "-input=false", "-no-color"]);
        let started = Instant::now();
        while landing.calls("ProvisionProduct") == 0 {
            assert!(
                running.is_running(),
                "{tf}: Terraform exited before the create"
            );
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{tf}: the create never reached Account Factory"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Let the provider settle into its wait for the record.
        std::thread::sleep(Duration::from_millis(300));
        running.interrupt_group();
        let interrupted = Instant::now();
        let run = running.wait(Duration::from_secs(30));

        assert!(
            interrupted.elapsed() < Duration::from_secs(20),
            "{tf}: the stop took {:?}",
            interrupted.elapsed()
        );
        run.assert_failure();
        // Terraform wraps diagnostic text, so words are compared with single spaces.
        let output = run
            .output()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(output.contains("Interrupt received"), "{tf}: {run}");
        assert!(
            output.contains("Terraform asked the provider to stop"),
            "{tf}: the create did not report the stop: {run}"
        );
        // The provider logged the signal it ignored, and did not die of it.
        assert!(
            output.contains("ignoring SIGINT"),
            "{tf}: no log line for the ignored SIGINT: {run}"
        );
        assert!(!output.contains("signal: interrupt"), "{tf}: {run}");
        assert!(!output.contains("plugin did not respond"), "{tf}: {run}");
        assert!(!output.contains("Unavailable"), "{tf}: {run}");
    }
}
