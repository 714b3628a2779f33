//! Access entries (authentication mode API): each principal's Kubernetes
//! groups and associated access policies.

use std::collections::BTreeMap;

use futures::future::join_all;

use super::model::{AccessEntryModel, ClusterModel, PolicyModel};
use super::run::{Clients, Run, fail};
use crate::aws::AwsError;
use crate::aws::eks::PolicyScope;
use tfplugin::diagnostics::Diagnostics;

/// The entries are as configured: those gone from the configuration are
/// deleted, missing ones created (an existing one in our cluster is taken
/// over), groups and policies brought to the configuration.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let name = run.name();
    let before = state.access_entries.clone().unwrap_or_default();
    let after = run.desired.access_entries.clone().unwrap_or_default();
    for principal in before.keys().filter(|p| !after.contains_key(*p)) {
        eks.delete_access_entry(name, principal)
            .await
            .map_err(fail("Could not delete an access entry"))?;
        if let Some(entries) = state.access_entries.as_mut() {
            entries.remove(principal);
        }
    }
    for (principal, wanted) in &after {
        let current = match before.get(principal) {
            Some(current) => current.clone(),
            None => {
                let groups: Vec<String> = wanted.kubernetes_groups.iter().flatten().cloned().collect();
                eks.create_access_entry(name, principal, &groups, &run.eks_tags(), run.stop)
                    .await
                    .map_err(fail("Could not create an access entry"))?;
                let created = AccessEntryModel {
                    kubernetes_groups: wanted.kubernetes_groups.clone(),
                    policies: wanted.policies.as_ref().map(|_| BTreeMap::new()),
                };
                state
                    .access_entries
                    .get_or_insert_default()
                    .insert(principal.clone(), created.clone());
                created
            }
        };
        if current.kubernetes_groups.clone().unwrap_or_default() != wanted.kubernetes_groups.clone().unwrap_or_default()
        {
            let groups: Vec<String> = wanted.kubernetes_groups.iter().flatten().cloned().collect();
            eks.update_access_entry(name, principal, &groups)
                .await
                .map_err(fail("Could not update an access entry"))?;
        }
        let (old, new) = (
            current.policies.clone().unwrap_or_default(),
            wanted.policies.clone().unwrap_or_default(),
        );
        for policy in old.keys().filter(|p| !new.contains_key(*p)) {
            eks.disassociate_policy(name, principal, policy)
                .await
                .map_err(fail("Could not disassociate an access policy"))?;
        }
        let recorded = state
            .access_entries
            .get_or_insert_default()
            .entry(principal.clone())
            .or_default();
        recorded.kubernetes_groups = wanted.kubernetes_groups.clone();
        for (policy, scope) in new.iter().filter(|(p, s)| old.get(*p) != Some(s)) {
            eks.associate_policy(name, principal, policy, &scope.scope())
                .await
                .map_err(fail("Could not associate an access policy"))?;
            recorded
                .policies
                .get_or_insert_default()
                .insert(policy.clone(), scope.clone());
        }
        *recorded = wanted.clone();
    }
    match (&run.desired.access_entries, &state.access_entries) {
        (None, Some(entries)) if entries.is_empty() => state.access_entries = None,
        (Some(_), None) => state.access_entries = Some(BTreeMap::new()),
        _ => {}
    }
    Ok(())
}

/// The access entries in state with their policies; one gone out of band
/// drops out. `None` when state tracks none.
pub async fn observe(
    clients: &Clients,
    prior: &ClusterModel,
) -> Result<Option<BTreeMap<String, AccessEntryModel>>, AwsError> {
    let Some(entries) = &prior.access_entries else {
        return Ok(None);
    };
    let found = join_all(
        entries
            .keys()
            .map(|principal| find_access_entry_with_policies(clients, &prior.name, principal)),
    )
    .await;
    let mut refreshed = BTreeMap::new();
    for ((principal, entry), found) in entries.iter().zip(found) {
        let Some(found) = found? else { continue };
        let policies: BTreeMap<String, PolicyModel> = found
            .policies
            .into_iter()
            .map(|(arn, scope)| {
                let namespaces = (!scope.namespaces.is_empty()).then(|| scope.namespaces.into_iter().collect());
                (
                    arn,
                    PolicyModel {
                        scope: Some(scope.scope),
                        namespaces,
                    },
                )
            })
            .collect();
        refreshed.insert(
            principal.clone(),
            AccessEntryModel {
                kubernetes_groups: if entry.kubernetes_groups.is_none() && found.groups.is_empty() {
                    None
                } else {
                    Some(found.groups.into_iter().collect())
                },
                policies: if entry.policies.is_none() && policies.is_empty() {
                    None
                } else {
                    Some(policies)
                },
            },
        );
    }
    Ok(Some(refreshed))
}

/// One access entry as EKS has it.
struct FoundAccessEntry {
    groups: Vec<String>,
    policies: BTreeMap<String, PolicyScope>,
}

async fn find_access_entry_with_policies(
    clients: &Clients,
    cluster: &str,
    principal: &str,
) -> Result<Option<FoundAccessEntry>, AwsError> {
    let Some(groups) = clients.eks.find_access_entry(cluster, principal).await? else {
        return Ok(None);
    };
    let policies = clients.eks.associated_policies(cluster, principal).await?;
    Ok(Some(FoundAccessEntry { groups, policies }))
}
