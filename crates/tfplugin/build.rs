//! Compiles the plugin protocol definitions with a vendored protoc, so the
//! build needs nothing installed beyond the Rust toolchain.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC.
    unsafe { std::env::set_var("PROTOC", protoc) };
    tonic_prost_build::configure()
        .build_client(false)
        .compile_protos(&["proto/tfplugin6.proto", "proto/grpc_controller.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
