//! Terraform plugin protocol 6 for providers written in Rust: the go-plugin
//! handshake, AutoMTLS, values and types, schemas, diagnostics, and the gRPC
//! server, which serves any [`Provider`] and names none.
//!
//! A provider implements [`Provider`] and hands its resources out as
//! [`Resource`]s, most simply by writing a [`TypedResource`] on a serde model.

pub mod diagnostics;
pub mod handshake;
pub mod proto;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod server;
pub mod tls;
pub mod typed;
pub mod types;
pub mod value;

mod serve;

pub use provider::Provider;
pub use resource::{Applied, Resource};
pub use serve::{is_not_a_plugin, serve};
pub use typed::TypedResource;
