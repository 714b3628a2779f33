//! ImportResourceState: state for an existing object named by an import id.
//! Terraform refreshes it (ReadResource) right after.

use super::{ProviderService, encode, pb};
use crate::diagnostics::Diagnostics;
use crate::provider::Provider;
use crate::value::Value;

pub(super) async fn respond<P: Provider>(
    service: &ProviderService<P>,
    request: pb::import_resource_state::Request,
) -> pb::import_resource_state::Response {
    // Import may change what it adopts (tags): it runs between the apply hooks.
    service.provider.before_apply();
    let imported = imported(service, &request).await;
    service.provider.after_apply();
    match imported {
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
    }
}

async fn imported<P: Provider>(
    service: &ProviderService<P>,
    request: &pb::import_resource_state::Request,
) -> Result<Value, Diagnostics> {
    let (resource, _) = service.resource(&request.type_name)?;
    resource.import(&request.id).await
}
