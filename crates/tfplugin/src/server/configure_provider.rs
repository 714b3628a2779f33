//! ConfigureProvider: the decoded provider block handed to the provider.

use super::{ProviderService, decode, pb};
use crate::provider::Provider;

pub(super) fn respond<P: Provider>(
    service: &ProviderService<P>,
    request: pb::configure_provider::Request,
) -> pb::configure_provider::Response {
    let diags = match decode(request.config.as_ref(), &service.provider_schema) {
        Ok(config) => service.provider.configure(&config),
        Err(diags) => diags,
    };
    pb::configure_provider::Response {
        diagnostics: diags.to_proto(),
    }
}
