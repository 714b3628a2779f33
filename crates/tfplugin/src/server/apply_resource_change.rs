//! ApplyResourceChange: create, update or delete one object, always returning
//! the state of whatever exists, so nothing made is lost from state.

use super::{ProviderService, decode, encode, pb};
use crate::diagnostics::Diagnostics;
use crate::provider::Provider;
use crate::value::Value;

pub(super) async fn respond<P: Provider>(
    service: &ProviderService<P>,
    request: pb::apply_resource_change::Request,
) -> pb::apply_resource_change::Response {
    service.provider.before_apply();
    let outcome = apply(service, &request).await;
    service.provider.after_apply();
    // If the request itself can't be read, nothing was done: hand the
    // prior state back unchanged so no object drops out of state.
    let (new_state, diags) = match outcome {
        Ok((state, diags)) => (encode(&state), diags),
        Err(diags) => (request.prior_state.clone(), diags),
    };
    pb::apply_resource_change::Response {
        new_state,
        private: request.planned_private,
        diagnostics: diags.to_proto(),
        ..Default::default()
    }
}

/// The new state and the change's diagnostics; `Err` only when the request could not be decoded.
async fn apply<P: Provider>(
    service: &ProviderService<P>,
    request: &pb::apply_resource_change::Request,
) -> Result<(Value, Diagnostics), Diagnostics> {
    let (resource, schema) = service.resource(&request.type_name)?;
    let prior = decode(request.prior_state.as_ref(), schema)?;
    // Unknowns in a plan are the computed values apply fills in.
    let planned = decode(request.planned_state.as_ref(), schema)?.unknowns_as_null();
    Ok(if planned.is_null() {
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
