//! The order in which one region's EKS stack is ensured, observed and
//! deleted. Each part (roles, network, NAT gateways, log group, control
//! plane, access entries, add-ons, node groups) ensures itself idempotently from what the
//! state records and what exists, so create, update, resume after a failed
//! create, and drift repair are one path: `ensure`.
//!
//! Every part records an object in the state the moment it exists, so a
//! failure at any point returns an exact inventory that destroy removes
//! completely, and only what the state records (never a same-name object of
//! someone else's) is read or deleted.

use super::model::ClusterModel;
use super::run::{ACTIVE, CREATING, Clients, DELETED, NETWORK_DRIFT, Run, fail};
use super::{
    access, addons, control_plane, existing_vpc, gitops, karpenter, log_group, nat, network, node_groups, oidc,
    pod_identity, roles, tags,
};
use tfplugin::diagnostics::Diagnostics;

/// Whether `ensure` must look at what exists instead of trusting the state:
/// a create, a resumed create, or part of the network found gone.
pub fn needs_repair(state: &ClusterModel) -> bool {
    state.status.as_deref() != Some(ACTIVE)
}

/// Brings the stack to the configuration, from whatever the state records:
/// nothing (create), a partial stack (resume), a complete one (update) or
/// one with parts gone (repair). The order is the dependency order.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    state.timeouts = run.desired.timeouts.clone();
    state.tags = run.desired.tags.clone();
    roles::ensure(run, state).await?;
    if run.desired.existing_network() {
        existing_vpc::ensure(run, state).await?;
    } else {
        network::ensure_vpc(run, state).await?;
        network::ensure_subnets(run, state).await?;
        network::ensure_public_routing(run, state).await?;
        let nats_changed = nat::ensure(run, state).await?;
        network::ensure_private_routing(run, state, nats_changed).await?;
    }
    network::ensure_api_security_group(run, state).await?;
    let version_before = state.arn.as_ref().and(state.kubernetes_version.clone());
    // Before the cluster, so EKS writes into this group rather than making its own.
    log_group::ensure(run, state).await?;
    control_plane::ensure(run, state).await?;
    let upgraded = version_before.is_some() && version_before != state.kubernetes_version;
    // The control plane's version is settled; node groups follow it.
    oidc::ensure(run, state).await?;
    access::ensure(run, state).await?;
    pod_identity::ensure(run, state).await?;
    karpenter::ensure(run, state).await?;
    gitops::ensure(run, state).await?;
    // Add-ons are started before node groups and waited for after them:
    // some (coredns) only become ACTIVE once nodes can run them.
    let started = addons::ensure_started(run, state, upgraded).await?;
    node_groups::ensure(run, state).await?;
    addons::wait_started(run, state, &started).await?;
    tags::ensure(run, state).await?;
    if run.repairing {
        network::sweep_duplicates(run, state).await?;
    }
    state.status = Some(ACTIVE.into());
    Ok(())
}

/// Refreshes every managed object (ReadResource).
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<ClusterModel, Diagnostics> {
    let mut state = prior.clone();
    // Only our cluster (its ARN is in state) is read; a create that never
    // got that far has none, and is resumed by the next apply as it stands.
    if prior.arn.is_none() {
        return Ok(state);
    }
    let (cluster, network) = tokio::join!(control_plane::observe(clients, prior), network::observe(clients, prior));
    let Some(cluster) = cluster? else {
        state.status = Some(DELETED.into());
        return Ok(state);
    };
    control_plane::apply_observed(&mut state, &cluster, &clients.region);
    let network = network.map_err(fail("Could not read the cluster's network"))?;
    // Rules widened (or narrowed) out of band show as drift.
    if let Some(cidrs) = network.api_cidrs
        && (prior.api_allowed_cidrs.is_some() || !cidrs.is_empty())
    {
        state.api_allowed_cidrs = Some(cidrs);
    }
    if let Some((private, public)) = network.route_tables {
        state.private_route_table_ids = Some(private);
        state.public_route_table_ids = Some(public);
    }
    match network.health {
        network::NetworkHealth::VpcGone => {
            state.status = Some(DELETED.into());
            return Ok(state);
        }
        network::NetworkHealth::PartsGone => state.status = Some(NETWORK_DRIFT.into()),
        // A create that stopped after the cluster existed stays CREATING, so
        // the next plan resumes it.
        network::NetworkHealth::Intact if prior.status.as_deref() == Some(CREATING) => {
            state.status = Some(CREATING.into());
        }
        network::NetworkHealth::Intact => {}
    }
    let nats = nat::observe(clients, prior);
    let entries = access::observe(clients, prior);
    let addons = addons::observe(clients, prior);
    let groups = node_groups::observe(clients, prior);
    let workload = async {
        tokio::join!(
            oidc::observe(clients, prior),
            pod_identity::observe(clients, prior),
            addons::observe_implied(clients, prior)
        )
    };
    let log_group = log_group::observe(clients, prior);
    let karpenter = karpenter::observe(clients, prior);
    let gitops = gitops::observe(clients, prior);
    let (nats, entries, addons, groups, (oidc, associations, implied), log_group, karpenter, gitops) =
        tokio::join!(nats, entries, addons, groups, workload, log_group, karpenter, gitops);
    let read_err = fail("Could not read the EKS cluster");
    if let Some(nats) = nats.map_err(fail("Could not read a NAT gateway"))? {
        state.nat_gateway_ids = Some(nats);
    }
    if let Some(entries) = entries.map_err(&read_err)? {
        state.access_entries = Some(entries);
    }
    if let Some(addons) = addons.map_err(&read_err)? {
        state.addons = Some(addons);
    }
    if let Some(implied) = implied.map_err(&read_err)? {
        state.implied_addons = Some(implied).filter(|i| !i.is_empty());
    }
    state.oidc_provider_arn = oidc.map_err(fail("Could not read the IAM OIDC identity provider"))?;
    let associations = associations.map_err(&read_err)?;
    if associations.ids.is_some() {
        state.pod_identity_associations = associations.roles;
        state.pod_identity_association_ids = associations.ids;
    }
    if let Some(observed) = groups.map_err(&read_err)? {
        state.node_groups = Some(observed.groups);
        state.node_group_versions = Some(observed.versions);
    }
    // Deleted out of band: unset, so the plan shows the group made again.
    if let Some(retention) = log_group.map_err(fail("Could not read the cluster's log group"))? {
        state.log_retention_days = retention;
    }
    // An object gone out of band drops out of the record: the plan makes it again.
    if let Some(observed) = karpenter.map_err(fail("Could not read Karpenter's prerequisites"))? {
        state.karpenter = Some(observed);
    }
    gitops
        .map_err(fail("Could not read the GitOps roles and access entries"))?
        .apply(&mut state);
    Ok(state)
}

/// Deletes in reverse dependency order, each kind within its own budget and
/// tolerant of objects already gone.
pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    // Refused before anything goes, so a protected cluster keeps its nodes and network.
    control_plane::refuse_if_protected(run, state).await?;
    node_groups::delete_all(run, state).await?;
    // Add-ons, access entries and pod identity associations go with the
    // cluster (DeleteCluster removes them); the add-ons' roles with the others.
    control_plane::delete(run, state).await?;
    oidc::delete(run, state).await?;
    log_group::delete(run, state).await?;
    // After the cluster, which takes Karpenter's association and access entry with it.
    karpenter::delete(run, state).await?;
    gitops::delete(run, state).await?;
    // NAT gateways first: their interfaces must be gone before what is left
    // in the VPC is judged.
    nat::delete(run, state).await?;
    network::delete_leftovers(run, state).await?;
    network::delete_api_security_group(run, state).await?;
    network::delete(run, state).await?;
    roles::delete(run, state).await
}
