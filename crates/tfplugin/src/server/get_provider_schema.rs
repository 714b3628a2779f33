//! GetProviderSchema: the provider block's schema and every resource's.

use super::{ProviderService, pb};
use crate::provider::Provider;

pub(super) fn respond<P: Provider>(
    service: &ProviderService<P>,
    _: pb::get_provider_schema::Request,
) -> pb::get_provider_schema::Response {
    pb::get_provider_schema::Response {
        provider: Some(service.provider_schema.to_proto()),
        resource_schemas: service
            .resource_schemas
            .iter()
            .map(|(name, schema)| (name.to_string(), schema.to_proto()))
            .collect(),
        server_capabilities: Some(ProviderService::<P>::capabilities()),
        ..Default::default()
    }
}
