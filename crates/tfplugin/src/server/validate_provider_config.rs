//! ValidateProviderConfig: the provider block checked against its schema.

use super::{ProviderService, decode, pb};
use crate::diagnostics::Diagnostics;
use crate::provider::Provider;

pub(super) fn respond<P: Provider>(
    service: &ProviderService<P>,
    request: pb::validate_provider_config::Request,
) -> pb::validate_provider_config::Response {
    let diags = match decode(request.config.as_ref(), &service.provider_schema) {
        Ok(config) => {
            let mut diags = Diagnostics::new();
            service.provider_schema.validate(&config, &mut diags);
            diags
        }
        Err(diags) => diags,
    };
    pb::validate_provider_config::Response {
        diagnostics: diags.to_proto(),
    }
}
