//! Code generated from `proto/` at build time.

#[allow(clippy::all, clippy::pedantic)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's controller service (`plugin.GRPCController`).
#[allow(clippy::all, clippy::pedantic)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
