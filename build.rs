//! Generates the gRPC code for the Terraform plugin protocol from `proto/`.
//!
//! protox parses the `.proto` files in Rust, so building needs no `protoc` on the machine.

use std::error::Error;

const PROTOS: [&str; 2] = ["proto/tfplugin6.proto", "proto/go_plugin.proto"];

fn main() -> Result<(), Box<dyn Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    // The client stubs serve the acceptance tests and the benchmark, which talk to the
    // server the way Terraform does.
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
