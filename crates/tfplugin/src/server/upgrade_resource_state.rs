//! UpgradeResourceState: stored JSON state read into the current schema's type.

use super::{ProviderService, encode, error, pb};
use crate::diagnostics::Diagnostics;
use crate::provider::Provider;
use crate::value::Value;

pub(super) fn respond<P: Provider>(
    service: &ProviderService<P>,
    request: pb::upgrade_resource_state::Request,
) -> pb::upgrade_resource_state::Response {
    match upgraded(service, request) {
        Ok(state) => pb::upgrade_resource_state::Response {
            upgraded_state: encode(&state),
            diagnostics: vec![],
        },
        Err(diags) => pb::upgrade_resource_state::Response {
            upgraded_state: None,
            diagnostics: diags.to_proto(),
        },
    }
}

fn upgraded<P: Provider>(
    service: &ProviderService<P>,
    request: pb::upgrade_resource_state::Request,
) -> Result<Value, Diagnostics> {
    let (_, schema) = service.resource(&request.type_name)?;
    let raw = request.raw_state.unwrap_or_default();
    if raw.json.is_empty() {
        return Err(error(
            "Unsupported state format",
            "Only JSON state (Terraform 0.12 and later) can be read.",
        ));
    }
    if request.version > schema.version {
        return Err(error(
            "State from a newer provider",
            format!(
                "The stored state has schema version {} but this provider knows version {}: upgrade the provider.",
                request.version, schema.version
            ),
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&raw.json).map_err(|e| error("Malformed stored state", e))?;
    // Version 0 is the only version so far: JSON → current type drops
    // removed attributes and nulls new ones.
    Value::from_json(&json, &schema.value_type()).map_err(|e| error("Stored state does not match the schema", e))
}
