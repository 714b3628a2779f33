//! The IAM OIDC identity provider for the cluster's issuer, which IAM roles
//! for service accounts (IRSA) trust: made once the cluster has an issuer,
//! deleted with the cluster (or when `oidc_provider` is turned off).

use super::model::ClusterModel;
use super::run::{Clients, Run, fail};
use crate::aws::AwsError;
use crate::aws::iam::partition_of;
use tfplugin::diagnostics::Diagnostics;

/// The provider exists when wanted and is gone when not.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let iam = &run.clients.iam;
    match (run.desired.wants_oidc_provider(), state.oidc_provider_arn.clone()) {
        (true, None) => {
            let (Some(issuer), Some(cluster_arn)) = (&state.oidc_issuer_url, &state.arn) else {
                return Ok(());
            };
            let account = cluster_arn.split(':').nth(4).unwrap_or_default();
            let tags = run.object_tags(run.name().to_string(), &[]);
            let arn = iam
                .create_oidc_provider(issuer, account, partition_of(cluster_arn), &tags)
                .await
                .map_err(fail("Could not create the IAM OIDC identity provider"))?;
            state.oidc_provider_arn = Some(arn);
        }
        (false, Some(arn)) => {
            iam.delete_oidc_provider(&arn)
                .await
                .map_err(fail("Could not delete the IAM OIDC identity provider"))?;
            state.oidc_provider_arn = None;
        }
        _ => {}
    }
    state.oidc_provider = run.desired.oidc_provider;
    Ok(())
}

/// The recorded provider, `None` once it is gone (the plan makes it again).
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<Option<String>, AwsError> {
    let Some(arn) = &prior.oidc_provider_arn else {
        return Ok(None);
    };
    Ok(clients.iam.find_oidc_provider_tags(arn).await?.map(|_| arn.clone()))
}

pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let Some(arn) = &state.oidc_provider_arn else {
        return Ok(());
    };
    run.clients
        .iam
        .delete_oidc_provider(arn)
        .await
        .map_err(fail("Could not delete the IAM OIDC identity provider"))
}

/// Plans `oidc_provider_arn`: none when turned off, to be made when on and
/// not there (a create, turned on, or deleted out of band).
pub fn plan(prior: &tfplugin::value::Value, planned: &mut tfplugin::value::Value) {
    use tfplugin::value::Value;
    match planned.attr("oidc_provider") {
        Value::Bool(false) => planned.set_attr("oidc_provider_arn", Value::Null),
        Value::Bool(true) if prior.attr("oidc_provider_arn").is_null() => {
            planned.set_attr("oidc_provider_arn", Value::Unknown)
        }
        Value::Unknown => planned.set_attr("oidc_provider_arn", Value::Unknown),
        _ => {}
    }
}
