//! A tag change reaches everything the stack made: the cluster, every EC2
//! object, the node groups, add-ons and access entries, the IAM roles it
//! created, the OIDC identity provider and the log group it manages. Objects
//! made by the same run already carry the new tags.

use super::model::ClusterModel;
use super::network::own_ids;
use super::run::{Run, fail};
use tfplugin::diagnostics::Diagnostics;

pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    if run.desired.tags_all == state.tags_all {
        return Ok(());
    }
    let current = state.tags_all.clone().unwrap_or_default();
    let wanted = run.desired.tags_all.clone().unwrap_or_default();
    let clients = run.clients;
    if let Some(arn) = &state.arn {
        clients
            .eks
            .sync_tags(arn, &current, &wanted)
            .await
            .map_err(fail("Could not update the cluster's tags"))?;
    }
    let ec2_ids: Vec<String> = own_ids(state).into_iter().collect();
    clients
        .ec2
        .sync_tags(&ec2_ids, &current, &wanted)
        .await
        .map_err(fail("Could not update the network's tags"))?;
    fn keys<V>(map: &Option<std::collections::BTreeMap<String, V>>) -> Vec<String> {
        map.iter().flat_map(|m| m.keys().cloned()).collect()
    }
    let groups: Vec<String> = state
        .node_groups
        .iter()
        .flat_map(|g| g.keys())
        .map(|key| {
            state
                .node_group_names
                .as_ref()
                .and_then(|n| n.get(key))
                .cloned()
                .unwrap_or_else(|| key.clone())
        })
        .collect();
    let arns = clients
        .eks
        .child_arns(&state.name, &groups, &keys(&state.addons), &keys(&state.access_entries))
        .await
        .map_err(fail(
            "Could not read the node groups, add-ons and access entries to tag",
        ))?;
    futures::future::try_join_all(arns.iter().map(|arn| clients.eks.sync_tags(arn, &current, &wanted)))
        .await
        .map_err(fail(
            "Could not update the tags of a node group, add-on or access entry",
        ))?;
    let roles = state.created_iam_role_names.iter().flatten();
    futures::future::try_join_all(roles.map(|role| clients.iam.sync_role_tags(role, &current, &wanted)))
        .await
        .map_err(fail("Could not update the tags of an IAM role"))?;
    if let Some(arn) = &state.oidc_provider_arn {
        clients
            .iam
            .sync_oidc_provider_tags(arn, &current, &wanted)
            .await
            .map_err(fail("Could not update the tags of the IAM OIDC identity provider"))?;
    }
    super::log_group::sync_tags(run, state)
        .await
        .map_err(fail("Could not update the tags of the cluster's log group"))?;
    super::karpenter::sync_tags(run, state)
        .await
        .map_err(fail("Could not update the tags of Karpenter's prerequisites"))?;
    // The GitOps roles this cluster made: the hub's Argo CD role, an edge's deploy role.
    let hub_role = state.gitops_hub_role_arn.as_deref().filter(|_| state.is_gitops_hub());
    let gitops_roles = [hub_role, state.gitops_role_arn.as_deref()];
    futures::future::try_join_all(gitops_roles.into_iter().flatten().map(|arn| {
        clients
            .iam
            .sync_role_tags(crate::aws::iam::role_name(arn), &current, &wanted)
    }))
    .await
    .map_err(fail("Could not update the tags of a GitOps role"))?;
    state.tags_all = run.desired.tags_all.clone();
    Ok(())
}
