//! The `tfplugin6.Provider` gRPC service for any [`Provider`]: it decodes
//! Terraform's requests with the schemas, runs the generic schema logic, and
//! calls the provider and its resources. Each RPC is one file; this one maps
//! the service onto them.

mod apply_resource_change;
mod configure_provider;
mod data_sources;
mod get_metadata;
mod get_provider_schema;
mod get_resource_identity_schemas;
mod import_resource_state;
mod plan_resource_change;
mod read_resource;
mod stop_provider;
mod upgrade_resource_identity;
mod upgrade_resource_state;
mod validate_provider_config;
mod validate_resource_config;

use std::collections::HashMap;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::diagnostics::Diagnostics;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;
use crate::resource::Resource;
use crate::schema::Schema;
use crate::value::{Value, ValueError};

type RpcResult<T> = Result<Response<T>, Status>;

/// The service: the provider, with every schema built once.
pub struct ProviderService<P> {
    provider: Arc<P>,
    provider_schema: Schema,
    resource_schemas: HashMap<&'static str, Schema>,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: Arc<P>) -> Self {
        let resource_schemas = provider
            .resources()
            .iter()
            .map(|r| (r.type_name(), r.schema()))
            .collect();
        Self {
            provider_schema: provider.schema(),
            provider,
            resource_schemas,
        }
    }

    /// The resource of a request's type name, with its schema.
    fn resource(&self, type_name: &str) -> Result<(&Arc<dyn Resource>, &Schema), Diagnostics> {
        let resource = self.provider.resources().iter().find(|r| r.type_name() == type_name);
        match (resource, self.resource_schemas.get(type_name)) {
            (Some(resource), Some(schema)) => Ok((resource, schema)),
            _ => Err(error(
                "Unknown resource type",
                format!(
                    "The {} provider has no resource type {type_name:?}.",
                    self.provider.name()
                ),
            )),
        }
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            get_provider_schema_optional: true,
            // PlanResourceChange doesn't see destroys; Terraform plans them itself.
            plan_destroy: false,
            move_resource_state: false,
            generate_resource_config: false,
        }
    }
}

/// Decodes an optional DynamicValue; an absent or empty one is null.
fn decode(value: Option<&pb::DynamicValue>, schema: &Schema) -> Result<Value, Diagnostics> {
    match value {
        Some(dv) if !dv.msgpack.is_empty() => Value::from_msgpack(&dv.msgpack, &schema.value_type()),
        Some(dv) if !dv.json.is_empty() => serde_json::from_slice(&dv.json)
            .map_err(|e| ValueError::Msgpack(e.to_string()))
            .and_then(|json| Value::from_json(&json, &schema.value_type())),
        _ => Ok(Value::Null),
    }
    .map_err(|e| error("Malformed value from Terraform", e))
}

fn encode(value: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: value.to_msgpack(),
        json: Vec::new(),
    })
}

/// Diagnostics holding one error.
fn error(summary: &str, detail: impl std::fmt::Display) -> Diagnostics {
    let mut diags = Diagnostics::new();
    diags.error(summary, detail.to_string());
    diags
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(&self, request: Request<pb::get_metadata::Request>) -> RpcResult<pb::get_metadata::Response> {
        Ok(Response::new(get_metadata::respond(self, request.into_inner())))
    }

    async fn get_provider_schema(
        &self,
        request: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(get_provider_schema::respond(self, request.into_inner())))
    }

    async fn get_resource_identity_schemas(
        &self,
        request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(get_resource_identity_schemas::respond(
            request.into_inner(),
        )))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        Ok(Response::new(validate_provider_config::respond(
            self,
            request.into_inner(),
        )))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        Ok(Response::new(validate_resource_config::respond(
            self,
            request.into_inner(),
        )))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        Ok(Response::new(data_sources::validate(self, request.into_inner())))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        Ok(Response::new(upgrade_resource_state::respond(
            self,
            request.into_inner(),
        )))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> RpcResult<pb::upgrade_resource_identity::Response> {
        upgrade_resource_identity::respond(self, request.into_inner()).map(Response::new)
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        Ok(Response::new(configure_provider::respond(self, request.into_inner())))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        Ok(Response::new(read_resource::respond(self, request.into_inner()).await))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        Ok(Response::new(
            plan_resource_change::respond(self, request.into_inner()).await,
        ))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        Ok(Response::new(
            apply_resource_change::respond(self, request.into_inner()).await,
        ))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        Ok(Response::new(
            import_resource_state::respond(self, request.into_inner()).await,
        ))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        Ok(Response::new(data_sources::read(self, request.into_inner())))
    }

    async fn stop_provider(
        &self,
        request: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        Ok(Response::new(stop_provider::respond(self, request.into_inner())))
    }
}
