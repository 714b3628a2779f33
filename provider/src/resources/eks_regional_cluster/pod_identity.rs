//! EKS Pod Identity associations of `pod_identity_associations`: created,
//! moved to another role in place, and deleted when their key goes. The
//! associations add-ons make for themselves are the add-ons' (addons.rs).

use std::collections::BTreeMap;

use futures::future::join_all;

use super::model::ClusterModel;
use super::run::{Clients, Run, fail};
use crate::aws::AwsError;
use crate::aws::eks::is_role_propagation;
use crate::aws::waiters::{IAM_PROPAGATION, retry_while};
use tfplugin::diagnostics::Diagnostics;

/// Splits a `NAMESPACE/SERVICE_ACCOUNT` key (validated at plan time).
fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or((key, ""))
}

/// Every configured association exists with its role; removed keys are gone.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let name = run.name();
    let wanted = run.desired.pod_identity_associations.clone().unwrap_or_default();
    let current = state.pod_identity_associations.clone().unwrap_or_default();
    let ids = state.pod_identity_association_ids.clone().unwrap_or_default();
    for (key, id) in ids.iter().filter(|(key, _)| !wanted.contains_key(*key)) {
        eks.delete_pod_identity_association(name, id)
            .await
            .map_err(fail("Could not delete a pod identity association"))?;
        forget(state, key);
    }
    for (key, role) in &wanted {
        match ids.get(key) {
            Some(_) if current.get(key) == Some(role) => {}
            Some(id) => {
                retry_while(
                    "waiting for IAM to show the pod identity role to EKS",
                    IAM_PROPAGATION,
                    run.stop,
                    is_role_propagation,
                    || eks.update_pod_identity_association(name, id, role),
                )
                .await
                .map_err(fail("Could not change the role of a pod identity association"))?;
            }
            None => {
                let (namespace, account) = split_key(key);
                let tags = run.eks_tags();
                let id = retry_while(
                    "waiting for IAM to show the pod identity role to EKS",
                    IAM_PROPAGATION,
                    run.stop,
                    is_role_propagation,
                    || eks.create_pod_identity_association(name, namespace, account, role, &tags),
                )
                .await
                .map_err(fail("Could not create a pod identity association"))?;
                state
                    .pod_identity_association_ids
                    .get_or_insert_default()
                    .insert(key.clone(), id);
            }
        }
        state
            .pod_identity_associations
            .get_or_insert_default()
            .insert(key.clone(), role.clone());
    }
    if run.desired.pod_identity_associations.is_none() {
        state.pod_identity_associations = None;
        state.pod_identity_association_ids = None;
    }
    Ok(())
}

fn forget(state: &mut ClusterModel, key: &str) {
    if let Some(map) = state.pod_identity_associations.as_mut() {
        map.remove(key);
    }
    if let Some(map) = state.pod_identity_association_ids.as_mut() {
        map.remove(key);
    }
}

/// The recorded associations as they are: one deleted out of band drops
/// out (the plan makes it again), one moved to another role shows the role.
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<ObservedAssociations, AwsError> {
    let Some(ids) = &prior.pod_identity_association_ids else {
        return Ok(ObservedAssociations::default());
    };
    let found = join_all(
        ids.values()
            .map(|id| clients.eks.find_pod_identity_association(&prior.name, id)),
    )
    .await;
    let mut observed = ObservedAssociations {
        roles: Some(BTreeMap::new()),
        ids: Some(BTreeMap::new()),
    };
    for ((key, id), found) in ids.iter().zip(found) {
        if let Some(association) = found? {
            observed
                .roles
                .get_or_insert_default()
                .insert(key.clone(), association.role_arn);
            observed.ids.get_or_insert_default().insert(key.clone(), id.clone());
        }
    }
    Ok(observed)
}

#[derive(Debug, Default)]
pub struct ObservedAssociations {
    pub roles: Option<BTreeMap<String, String>>,
    pub ids: Option<BTreeMap<String, String>>,
}

/// Plans `pod_identity_association_ids`: known while the keys stay, unknown
/// for a key to be created.
pub fn plan(prior: &tfplugin::value::Value, planned: &mut tfplugin::value::Value) {
    use tfplugin::value::Value;
    let ids = match planned.attr("pod_identity_associations") {
        Value::Null => Value::Null,
        Value::Map(wanted) => match prior.attr("pod_identity_association_ids") {
            Value::Map(ids) if wanted.keys().eq(ids.keys()) => Value::Map(ids.clone()),
            _ => Value::Unknown,
        },
        _ => Value::Unknown,
    };
    planned.set_attr("pod_identity_association_ids", ids);
}
