//! UpgradeResourceIdentity: never called, since no resource declares an identity schema.

use tonic::Status;

use super::{ProviderService, pb};
use crate::provider::Provider;

pub(super) fn respond<P: Provider>(
    service: &ProviderService<P>,
    _: pb::upgrade_resource_identity::Request,
) -> Result<pb::upgrade_resource_identity::Response, Status> {
    Err(Status::unimplemented(format!(
        "{} resources have no identity schema",
        service.provider.name()
    )))
}
