//! ValidateResourceConfig: each attribute's validators, then the resource's
//! checks across attributes, on configuration that may hold unknowns.

use super::{ProviderService, decode, pb};
use crate::diagnostics::Diagnostics;
use crate::provider::Provider;

pub(super) fn respond<P: Provider>(
    service: &ProviderService<P>,
    request: pb::validate_resource_config::Request,
) -> pb::validate_resource_config::Response {
    let diags = validate(service, &request).unwrap_or_else(|diags| diags);
    pb::validate_resource_config::Response {
        diagnostics: diags.to_proto(),
    }
}

fn validate<P: Provider>(
    service: &ProviderService<P>,
    request: &pb::validate_resource_config::Request,
) -> Result<Diagnostics, Diagnostics> {
    let (resource, schema) = service.resource(&request.type_name)?;
    let config = decode(request.config.as_ref(), schema)?;
    let mut diags = Diagnostics::new();
    schema.validate(&config, &mut diags);
    resource.validate(&config, &mut diags);
    Ok(diags)
}
