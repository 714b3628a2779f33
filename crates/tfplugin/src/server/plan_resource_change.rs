//! PlanResourceChange: the schema's generic plan (computed values, defaults,
//! unknowns), the resource's own planning, and what forces replacement.

use super::{ProviderService, decode, encode, pb};
use crate::diagnostics::{AttributePath, Diagnostics};
use crate::provider::Provider;
use crate::value::Value;

struct Plan {
    planned: Value,
    requires_replace: Vec<AttributePath>,
    diags: Diagnostics,
}

pub(super) async fn respond<P: Provider>(
    service: &ProviderService<P>,
    request: pb::plan_resource_change::Request,
) -> pb::plan_resource_change::Response {
    service.provider.before_plan();
    let plan = plan(service, &request).await;
    service.provider.after_plan();
    match plan {
        Ok(plan) => pb::plan_resource_change::Response {
            planned_state: encode(&plan.planned),
            requires_replace: plan.requires_replace.iter().map(AttributePath::to_proto).collect(),
            planned_private: request.prior_private,
            diagnostics: plan.diags.to_proto(),
            ..Default::default()
        },
        Err(diags) => pb::plan_resource_change::Response {
            diagnostics: diags.to_proto(),
            ..Default::default()
        },
    }
}

async fn plan<P: Provider>(
    service: &ProviderService<P>,
    request: &pb::plan_resource_change::Request,
) -> Result<Plan, Diagnostics> {
    let (resource, schema) = service.resource(&request.type_name)?;
    let prior = decode(request.prior_state.as_ref(), schema)?;
    let proposed = decode(request.proposed_new_state.as_ref(), schema)?;
    let config = decode(request.config.as_ref(), schema)?;
    if proposed.is_null() {
        return Ok(Plan {
            planned: Value::Null,
            requires_replace: Vec::new(),
            diags: Diagnostics::new(),
        });
    }
    let mut planned = schema.plan(&prior, &proposed, &config);
    let mut diags = Diagnostics::new();
    resource.modify_plan(&prior, &config, &mut planned, &mut diags).await;
    let mut requires_replace = schema.replacement_paths(&prior, &planned, &config);
    if !prior.is_null() {
        requires_replace.extend(resource.forces_replacement(&prior));
    }
    Ok(Plan {
        planned,
        requires_replace,
        diags,
    })
}
