//! Startup benchmark of the provider binary, run with `cargo bench --bench handshake`.
//!
//! Prints the median time from process start to the handshake line on stdout, over
//! `KORE_BENCH_RUNS` starts (default 30) with AutoMTLS as Terraform starts the plugin,
//! and the resident memory (VmRSS from /proc) after one GetProviderSchema call over
//! mutual TLS. Targets: handshake under 20 ms, memory under 20 MB.

#[path = "../tests/acceptance/grpc_client.rs"]
mod grpc_client;

use std::path::Path;
use std::time::{Duration, Instant};

use grpc_client::{ClientIdentity, PluginProcess};
use terraform_provider_kore::plugin::proto::go_plugin;
use terraform_provider_kore::plugin::proto::go_plugin::grpc_controller_client::GrpcControllerClient;
use terraform_provider_kore::plugin::proto::tfplugin6;
use terraform_provider_kore::plugin::proto::tfplugin6::provider_client::ProviderClient;

const DEFAULT_RUNS: usize = 30;

fn main() {
    let binary = Path::new(env!("CARGO_BIN_EXE_terraform-provider-kore"));
    let runs = std::env::var("KORE_BENCH_RUNS")
        .ok()
        .and_then(|text| text.parse().ok())
        .filter(|runs: &usize| *runs > 0)
        .unwrap_or(DEFAULT_RUNS);
    let identity = ClientIdentity::generate();

    // One unmeasured start warms the page cache, as a second Terraform command would find it.
    drop(PluginProcess::start_with(binary, Some(identity.clone())));

    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let process = PluginProcess::start_with(binary, Some(identity.clone()));
            let elapsed = started.elapsed();
            drop(process);
            elapsed
        })
        .collect();
    samples.sort();

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let resident_kib = runtime.block_on(resident_memory_after_schema(binary, identity));

    println!("binary: {}", binary.display());
    println!(
        "handshake: median {:.2} ms, min {:.2} ms, max {:.2} ms over {runs} starts with AutoMTLS",
        milliseconds(samples[samples.len() / 2]),
        milliseconds(samples[0]),
        milliseconds(samples[samples.len() - 1]),
    );
    println!(
        "memory: VmRSS {:.1} MB ({resident_kib} KiB) after GetProviderSchema over mTLS",
        resident_kib as f64 / 1024.0
    );
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Starts the provider, calls GetProviderSchema over mutual TLS, reads VmRSS, then shuts
/// the provider down through GRPCController.Shutdown.
async fn resident_memory_after_schema(binary: &Path, identity: ClientIdentity) -> u64 {
    let mut process = PluginProcess::start_with(binary, Some(identity));
    let channel = process.connect().await;
    let schema = ProviderClient::new(channel.clone())
        .get_provider_schema(tfplugin6::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    assert!(schema.provider.is_some(), "no provider schema returned");

    let status = std::fs::read_to_string(format!("/proc/{}/status", process.pid()))
        .expect("read /proc/PID/status");
    let resident_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line in /proc/PID/status");

    GrpcControllerClient::new(channel)
        .shutdown(go_plugin::Empty {})
        .await
        .expect("Shutdown");
    process.wait_for_exit(Duration::from_secs(2));
    resident_kib
}
