//! GetMetadata: the resource types served, without their schemas.

use super::{ProviderService, pb};
use crate::provider::Provider;

pub(super) fn respond<P: Provider>(
    service: &ProviderService<P>,
    _: pb::get_metadata::Request,
) -> pb::get_metadata::Response {
    pb::get_metadata::Response {
        server_capabilities: Some(ProviderService::<P>::capabilities()),
        resources: service
            .provider
            .resources()
            .iter()
            .map(|r| pb::get_metadata::ResourceMetadata {
                type_name: r.type_name().to_string(),
            })
            .collect(),
        ..Default::default()
    }
}
