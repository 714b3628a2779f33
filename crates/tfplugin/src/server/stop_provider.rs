//! StopProvider: Terraform was interrupted; the provider ends in-flight waits.

use super::{ProviderService, pb};
use crate::provider::Provider;

pub(super) fn respond<P: Provider>(
    service: &ProviderService<P>,
    _: pb::stop_provider::Request,
) -> pb::stop_provider::Response {
    tracing::info!("StopProvider: ending in-flight work");
    service.provider.stop();
    pb::stop_provider::Response::default()
}
