//! ReadResource (refresh): the object as it is now, or null when it is gone.

use super::{ProviderService, decode, encode, pb};
use crate::diagnostics::Diagnostics;
use crate::provider::Provider;
use crate::value::Value;

pub(super) async fn respond<P: Provider>(
    service: &ProviderService<P>,
    request: pb::read_resource::Request,
) -> pb::read_resource::Response {
    match refreshed(service, &request).await {
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
    }
}

async fn refreshed<P: Provider>(
    service: &ProviderService<P>,
    request: &pb::read_resource::Request,
) -> Result<Value, Diagnostics> {
    let (resource, schema) = service.resource(&request.type_name)?;
    let state = decode(request.current_state.as_ref(), schema)?;
    if state.is_null() {
        return Ok(Value::Null);
    }
    Ok(resource.read(&state).await?.unwrap_or(Value::Null))
}
