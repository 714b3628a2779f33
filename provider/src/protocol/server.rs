//! The `tfplugin6.Provider` gRPC service: decodes Terraform's requests with
//! the schemas, runs the generic schema logic, and calls the provider and
//! its resources.

use std::collections::HashMap;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::diagnostics::Diagnostics;
use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server::Provider;
use super::schema::Schema;
use super::value::Value;
use crate::provider::FleetProvider;
use crate::resources::Resource;

type RpcResult<T> = Result<Response<T>, Status>;

pub struct ProviderService {
    provider: Arc<FleetProvider>,
    provider_schema: Schema,
    resource_schemas: HashMap<&'static str, Schema>,
}

impl ProviderService {
    pub fn new(provider: Arc<FleetProvider>) -> Self {
        let resource_schemas = provider.resources.iter().map(|r| (r.type_name(), r.schema())).collect();
        Self {
            provider_schema: provider.schema(),
            provider,
            resource_schemas,
        }
    }

    fn resource(&self, type_name: &str) -> Result<(&Arc<dyn Resource>, &Schema), Diagnostics> {
        match (self.provider.resource(type_name), self.resource_schemas.get(type_name)) {
            (Some(resource), Some(schema)) => Ok((resource, schema)),
            _ => {
                let mut diags = Diagnostics::new();
                diags.error(
                    "Unknown resource type",
                    format!("The fleet provider has no resource type {type_name:?}."),
                );
                Err(diags)
            }
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
            .map_err(|e| super::value::ValueError::Msgpack(e.to_string()))
            .and_then(|json| Value::from_json(&json, &schema.value_type())),
        _ => Ok(Value::Null),
    }
    .map_err(|e| {
        let mut diags = Diagnostics::new();
        diags.error("Malformed value from Terraform", e.to_string());
        diags
    })
}

fn encode(value: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: value.to_msgpack(),
        json: Vec::new(),
    })
}

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_metadata(&self, _: Request<pb::get_metadata::Request>) -> RpcResult<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::capabilities()),
            resources: self
                .provider
                .resources
                .iter()
                .map(|r| pb::get_metadata::ResourceMetadata {
                    type_name: r.type_name().to_string(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self
                .resource_schemas
                .iter()
                .map(|(name, schema)| (name.to_string(), schema.to_proto()))
                .collect(),
            server_capabilities: Some(Self::capabilities()),
            ..Default::default()
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response::default()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let request = request.into_inner();
        let diags = match decode(request.config.as_ref(), &self.provider_schema) {
            Ok(config) => {
                let mut diags = Diagnostics::new();
                self.provider_schema.validate(&config, &mut diags);
                diags
            }
            Err(diags) => diags,
        };
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let request = request.into_inner();
        let diags = (|| {
            let (resource, schema) = self.resource(&request.type_name)?;
            let config = decode(request.config.as_ref(), schema)?;
            let mut diags = Diagnostics::new();
            schema.validate(&config, &mut diags);
            resource.validate(&config, &mut diags);
            Ok::<_, Diagnostics>(diags)
        })()
        .unwrap_or_else(|diags| diags);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let mut diags = Diagnostics::new();
        diags.error(
            "Unknown data source",
            format!(
                "The fleet provider has no data source {:?}.",
                request.into_inner().type_name
            ),
        );
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let request = request.into_inner();
        let result = (|| {
            let (_, schema) = self.resource(&request.type_name)?;
            let raw = request.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                let mut diags = Diagnostics::new();
                diags.error(
                    "Unsupported state format",
                    "Only JSON state (Terraform 0.12 and later) can be read.",
                );
                return Err(diags);
            }
            if request.version > schema.version {
                let mut diags = Diagnostics::new();
                diags.error(
                    "State from a newer provider",
                    format!(
                        "The stored state has schema version {} but this provider knows version {}: upgrade the provider.",
                        request.version, schema.version
                    ),
                );
                return Err(diags);
            }
            let json: serde_json::Value = serde_json::from_slice(&raw.json).map_err(|e| {
                let mut diags = Diagnostics::new();
                diags.error("Malformed stored state", e.to_string());
                diags
            })?;
            // Version 0 is the only version so far: JSON → current type drops
            // removed attributes and nulls new ones.
            Value::from_json(&json, &schema.value_type()).map_err(|e| {
                let mut diags = Diagnostics::new();
                diags.error("Stored state does not match the schema", e.to_string());
                diags
            })
        })();
        Ok(Response::new(match result {
            Ok(state) => pb::upgrade_resource_state::Response {
                upgraded_state: encode(&state),
                diagnostics: vec![],
            },
            Err(diags) => pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: diags.to_proto(),
            },
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        _: Request<pb::upgrade_resource_identity::Request>,
    ) -> RpcResult<pb::upgrade_resource_identity::Response> {
        Err(Status::unimplemented("fleet resources have no identity schema"))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let request = request.into_inner();
        let diags = match decode(request.config.as_ref(), &self.provider_schema) {
            Ok(config) => self.provider.configure(&config),
            Err(diags) => diags,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let request = request.into_inner();
        let result = async {
            let (resource, schema) = self.resource(&request.type_name)?;
            let state = decode(request.current_state.as_ref(), schema)?;
            if state.is_null() {
                return Ok::<_, Diagnostics>(Value::Null);
            }
            Ok::<_, Diagnostics>(resource.read(&state).await?.unwrap_or(Value::Null))
        }
        .await;
        Ok(Response::new(match result {
            Ok(state) => pb::read_resource::Response {
                new_state: encode(&state),
                private: request.private,
                ..Default::default()
            },
            // On error Terraform keeps the prior state; echo it to be safe.
            Err(diags) => pb::read_resource::Response {
                new_state: request.current_state,
                diagnostics: diags.to_proto(),
                private: request.private,
                ..Default::default()
            },
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let request = request.into_inner();
        let result = async {
            let (resource, schema) = self.resource(&request.type_name)?;
            let prior = decode(request.prior_state.as_ref(), schema)?;
            let proposed = decode(request.proposed_new_state.as_ref(), schema)?;
            let config = decode(request.config.as_ref(), schema)?;
            if proposed.is_null() {
                return Ok::<_, Diagnostics>((Value::Null, vec![], Diagnostics::new()));
            }
            let mut planned = schema.plan(&prior, &proposed, &config);
            let mut diags = Diagnostics::new();
            resource.modify_plan(&prior, &config, &mut planned, &mut diags).await;
            let mut replace = schema.replacement_paths(&prior, &planned);
            if !prior.is_null() {
                replace.extend(resource.forces_replacement(&prior));
            }
            Ok::<_, Diagnostics>((planned, replace, diags))
        }
        .await;
        Ok(Response::new(match result {
            Ok((planned, replace, diags)) => pb::plan_resource_change::Response {
                planned_state: encode(&planned),
                requires_replace: replace.iter().map(|p| p.to_proto()).collect(),
                planned_private: request.prior_private,
                diagnostics: diags.to_proto(),
                ..Default::default()
            },
            Err(diags) => pb::plan_resource_change::Response {
                diagnostics: diags.to_proto(),
                ..Default::default()
            },
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let request = request.into_inner();
        // Refreshes share route tables they read (aws::shared_reads); none read
        // before or during this change may answer a refresh after it.
        self.provider.aws.forget_shared_reads();
        let outcome = async {
            let (resource, schema) = self.resource(&request.type_name)?;
            let prior = decode(request.prior_state.as_ref(), schema)?;
            // Unknowns in a plan are the computed values apply fills in.
            let planned = decode(request.planned_state.as_ref(), schema)?.unknowns_as_null();
            Ok::<_, Diagnostics>(if planned.is_null() {
                let diags = resource.delete(&prior).await;
                // A failed delete keeps the object in state so it can be retried.
                (if diags.has_errors() { prior } else { Value::Null }, diags)
            } else if prior.is_null() {
                let applied = resource.create(&planned).await;
                (applied.state.unwrap_or(Value::Null), applied.diags)
            } else {
                let applied = resource.update(&prior, &planned).await;
                (applied.state.unwrap_or(prior), applied.diags)
            })
        }
        .await;
        self.provider.aws.forget_shared_reads();
        // If the request itself can't be read, nothing was done: hand the
        // prior state back unchanged so no object drops out of state.
        let (new_state, diags) = match outcome {
            Ok((state, diags)) => (encode(&state), diags),
            Err(diags) => (request.prior_state.clone(), diags),
        };
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: request.planned_private,
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let request = request.into_inner();
        // Import may tag what it adopts: as for apply, forget shared reads around it.
        self.provider.aws.forget_shared_reads();
        let result = async {
            let (resource, _) = self.resource(&request.type_name)?;
            resource.import(&request.id).await
        }
        .await;
        self.provider.aws.forget_shared_reads();
        Ok(Response::new(match result {
            Ok(state) => pb::import_resource_state::Response {
                imported_resources: vec![pb::import_resource_state::ImportedResource {
                    type_name: request.type_name,
                    state: encode(&state),
                    ..Default::default()
                }],
                ..Default::default()
            },
            Err(diags) => pb::import_resource_state::Response {
                diagnostics: diags.to_proto(),
                ..Default::default()
            },
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let mut diags = Diagnostics::new();
        diags.error(
            "Unknown data source",
            format!(
                "The fleet provider has no data source {:?}.",
                request.into_inner().type_name
            ),
        );
        Ok(Response::new(pb::read_data_source::Response {
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn stop_provider(&self, _: Request<pb::stop_provider::Request>) -> RpcResult<pb::stop_provider::Response> {
        tracing::info!("StopProvider: ending in-flight waits");
        self.provider.aws.stop.stop();
        Ok(Response::new(pb::stop_provider::Response::default()))
    }
}
