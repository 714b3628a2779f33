//! Access entries (authentication mode API): each principal's type,
//! Kubernetes groups, user name, tags and associated access policies.

use std::collections::BTreeMap;

use futures::future::join_all;

use super::model::{AccessEntryModel, ClusterModel, PolicyModel, STANDARD_ENTRY};
use super::run::{Clients, Run, fail};
use crate::aws::AwsError;
use crate::aws::eks::{AccessEntrySpec, FoundAccessEntry, PolicyScope};
use tfplugin::diagnostics::Diagnostics;

/// The entries are as configured: those gone from the configuration are
/// deleted, missing ones created (an existing one in our cluster is taken
/// over), one whose type changed made again (EKS can't change a type),
/// groups, user name, tags and policies brought to the configuration.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let name = run.name();
    let before = state.access_entries.clone().unwrap_or_default();
    let after = run.desired.access_entries.clone().unwrap_or_default();
    let retyped = after.iter().filter(|(p, wanted)| {
        before
            .get(*p)
            .is_some_and(|current| current.entry_type() != wanted.entry_type())
    });
    let removed = before.keys().filter(|p| !after.contains_key(*p));
    for principal in removed.chain(retyped.map(|(p, _)| p)) {
        eks.delete_access_entry(name, principal)
            .await
            .map_err(fail("Could not delete an access entry"))?;
        if let Some(entries) = state.access_entries.as_mut() {
            entries.remove(principal);
        }
    }
    for (principal, wanted) in &after {
        let current = match state.access_entries.as_ref().and_then(|e| e.get(principal)) {
            Some(current) => current.clone(),
            None => create(run, state, principal, wanted).await?,
        };
        let groups: Vec<String> = wanted.kubernetes_groups.iter().flatten().cloned().collect();
        let groups_changed = current.kubernetes_groups.clone().unwrap_or_default()
            != wanted.kubernetes_groups.clone().unwrap_or_default();
        let user_changed = wanted.user_name.is_some() && current.user_name != wanted.user_name;
        if wanted.entry_type() == STANDARD_ENTRY && (groups_changed || user_changed) {
            eks.update_access_entry(name, principal, &groups, wanted.user_name.as_deref())
                .await
                .map_err(fail("Could not update an access entry"))?;
        }
        if current.tags.clone().unwrap_or_default() != wanted.tags.clone().unwrap_or_default()
            && let Some(found) = eks
                .find_access_entry(name, principal)
                .await
                .map_err(fail("Could not read an access entry"))?
        {
            eks.sync_tags(&found.arn, &found.tags, &entry_tags(run, wanted))
                .await
                .map_err(fail("Could not update the tags of an access entry"))?;
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

/// Creates one entry and records it (policies follow in `ensure`).
async fn create(
    run: &Run<'_>,
    state: &mut ClusterModel,
    principal: &str,
    wanted: &AccessEntryModel,
) -> Result<AccessEntryModel, Diagnostics> {
    let groups: Vec<String> = wanted.kubernetes_groups.iter().flatten().cloned().collect();
    let tags = entry_tags(run, wanted);
    let spec = AccessEntrySpec {
        principal,
        entry_type: wanted.entry_type(),
        groups: &groups,
        user_name: wanted.user_name.as_deref(),
        tags: &tags,
    };
    run.clients
        .eks
        .create_access_entry(run.name(), &spec, run.stop)
        .await
        .map_err(fail("Could not create an access entry"))?;
    let created = AccessEntryModel {
        policies: wanted.policies.as_ref().map(|_| BTreeMap::new()),
        ..wanted.clone()
    };
    state
        .access_entries
        .get_or_insert_default()
        .insert(principal.to_string(), created.clone());
    Ok(created)
}

/// The stack's tags with the entry's own over them.
fn entry_tags(run: &Run<'_>, entry: &AccessEntryModel) -> BTreeMap<String, String> {
    let mut tags = run.eks_tags();
    tags.extend(entry.tags.clone().unwrap_or_default());
    tags
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
        let entry_found = found.entry;
        refreshed.insert(
            principal.clone(),
            AccessEntryModel {
                kubernetes_groups: if entry.kubernetes_groups.is_none() && entry_found.groups.is_empty() {
                    None
                } else {
                    Some(entry_found.groups.into_iter().collect())
                },
                policies: if entry.policies.is_none() && policies.is_empty() {
                    None
                } else {
                    Some(policies)
                },
                entry_type: Some(entry_found.entry_type),
                // EKS names every principal; only a configured name is compared.
                user_name: entry.user_name.as_ref().and(entry_found.user_name),
                // The entry's own tags, as EKS has them now (the stack's are in tags_all).
                tags: entry.tags.as_ref().map(|own| {
                    own.keys()
                        .filter_map(|k| entry_found.tags.get(k).map(|v| (k.clone(), v.clone())))
                        .collect()
                }),
            },
        );
    }
    Ok(Some(refreshed))
}

/// One access entry as EKS has it, with its policies.
struct FoundAccessEntryWithPolicies {
    entry: FoundAccessEntry,
    policies: BTreeMap<String, PolicyScope>,
}

async fn find_access_entry_with_policies(
    clients: &Clients,
    cluster: &str,
    principal: &str,
) -> Result<Option<FoundAccessEntryWithPolicies>, AwsError> {
    let Some(entry) = clients.eks.find_access_entry(cluster, principal).await? else {
        return Ok(None);
    };
    let policies = clients.eks.associated_policies(cluster, principal).await?;
    Ok(Some(FoundAccessEntryWithPolicies { entry, policies }))
}
