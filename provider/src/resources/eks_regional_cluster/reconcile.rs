//! The order in which one region's EKS stack is ensured, observed and
//! deleted. Each part (roles, network, NAT gateways, control plane, access
//! entries, add-ons, node groups) ensures itself idempotently from what the
//! state records and what exists, so create, update, resume after a failed
//! create, and drift repair are one path: `ensure`.
//!
//! Every part records an object in the state the moment it exists, so a
//! failure at any point returns an exact inventory that destroy removes
//! completely, and only what the state records (never a same-name object of
//! someone else's) is read or deleted.

use std::collections::BTreeMap;
use std::time::Duration;

use super::model::{ClusterModel, ClusterTimeouts};
use super::schema::kind_timeout;
use super::{access, addons, control_plane, nat, network, node_groups, roles, tags};
use crate::aws::ec2::Ec2;
use crate::aws::eks::Eks;
use crate::aws::iam::Iam;
use crate::aws::tags::{OWNER_TAG, STACK_TAG};
use crate::aws::waiters::{Deadline, StopSignal, WaitError};
use crate::aws::{Aws, AwsError};
use crate::protocol::diagnostics::Diagnostics;
use crate::resources::error;
use crate::resources::validators::GoDuration;

/// Status of a stack that is complete.
pub const ACTIVE: &str = "ACTIVE";
/// Status of a stack whose create stopped part-way (resumed by `ensure`).
pub const CREATING: &str = "CREATING";
/// Status set by refresh when the cluster or its VPC is gone (plans a replacement).
pub const DELETED: &str = "DELETED";
/// Status set by refresh when a subnet, route table or gateway is gone
/// (repaired in place by `ensure`).
pub const NETWORK_DRIFT: &str = "NETWORK_DRIFT";

/// The clients of one region.
pub struct Clients {
    pub region: String,
    pub ec2: Ec2,
    pub eks: Eks,
    pub iam: Iam,
}

impl Clients {
    /// For ReadResource: route tables are read through the plan's shared reads.
    pub async fn for_refresh(aws: &Aws, region: &str) -> Self {
        let mut clients = Self::new(aws, region).await;
        clients.ec2 = clients.ec2.sharing_reads(aws.shared_reads.clone(), None);
        clients
    }

    pub async fn new(aws: &Aws, region: &str) -> Self {
        Self {
            region: region.to_string(),
            ec2: Ec2::new(aws.ec2(region, None).await, region),
            eks: Eks {
                client: aws.eks(region).await,
                region: region.to_string(),
            },
            iam: Iam {
                client: aws.iam(region).await,
                region: "global".to_string(),
            },
        }
    }
}

/// Which operation a budget is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

/// The wait budgets of one operation: one per object kind, each capped by
/// the operation's overall limit when the configuration sets one.
pub struct Budgets {
    timeouts: ClusterTimeouts,
    overall: Option<Deadline>,
}

impl Budgets {
    pub fn new(timeouts: &Option<ClusterTimeouts>, operation: Operation) -> Self {
        let timeouts = timeouts.clone().unwrap_or_default();
        let overall = match operation {
            Operation::Create => &timeouts.create,
            Operation::Update => &timeouts.update,
            Operation::Delete => &timeouts.delete,
        }
        .as_deref()
        .and_then(GoDuration::parse)
        .map(Deadline::after);
        Self { timeouts, overall }
    }

    /// The budget of one kind (`cluster_create`, `nat_gateway_delete`, …).
    pub fn of(&self, kind: &str) -> Duration {
        let t = &self.timeouts;
        let configured = match kind {
            "cluster_create" => &t.cluster_create,
            "cluster_update" => &t.cluster_update,
            "cluster_delete" => &t.cluster_delete,
            "node_group_create" => &t.node_group_create,
            "node_group_update" => &t.node_group_update,
            "node_group_delete" => &t.node_group_delete,
            "addon_create" => &t.addon_create,
            "addon_update" => &t.addon_update,
            "addon_delete" => &t.addon_delete,
            "nat_gateway_create" => &t.nat_gateway_create,
            "nat_gateway_delete" => &t.nat_gateway_delete,
            _ => &t.network_delete,
        };
        let budget = configured
            .as_deref()
            .and_then(GoDuration::parse)
            .unwrap_or_else(|| kind_timeout(kind));
        match &self.overall {
            Some(deadline) => budget.min(deadline.left()),
            None => budget,
        }
    }
}

/// What every part needs to ensure itself: the clients, the configuration
/// as planned, the budgets and Terraform's stop signal.
pub struct Run<'a> {
    pub clients: &'a Clients,
    pub desired: &'a ClusterModel,
    pub budgets: Budgets,
    pub stop: &'a StopSignal,
    /// Look at what exists instead of trusting the state: after a failed
    /// create, or when refresh found part of the network gone.
    pub repairing: bool,
    /// The `eksfleet:stack` tag of this instance.
    pub stack_id: String,
    /// Warnings for Terraform to show with the result.
    pub warnings: std::sync::Mutex<Diagnostics>,
}

impl Run<'_> {
    pub fn warn(&self, summary: String, detail: String) {
        if let Ok(mut warnings) = self.warnings.lock() {
            warnings.warning(summary, detail);
        }
    }

    pub fn region(&self) -> &str {
        &self.clients.region
    }

    pub fn name(&self) -> &str {
        &self.desired.name
    }

    /// `REGION/NAME`: the value of the owner tag on everything this stack made.
    pub fn owner(&self) -> String {
        format!("{}/{}", self.region(), self.name())
    }

    /// Tags for one object: the resource's tags, a Name, the owner tag, and extras.
    pub fn object_tags(&self, name: String, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut tags = self.desired.tags_all.clone().unwrap_or_default();
        tags.insert("Name".into(), name);
        tags.insert(OWNER_TAG.into(), self.owner());
        tags.insert(STACK_TAG.into(), self.stack_id.clone());
        for (k, v) in extra {
            tags.insert(k.to_string(), v.to_string());
        }
        tags
    }

    /// Tags of EKS objects (the cluster, node groups, add-ons, access entries).
    pub fn eks_tags(&self) -> BTreeMap<String, String> {
        self.desired.tags_all.clone().unwrap_or_default()
    }
}

pub fn fail(summary: &str) -> impl Fn(AwsError) -> Diagnostics + '_ {
    move |e| error(summary.to_string(), e)
}

pub fn wait_fail(summary: &str) -> impl Fn(WaitError) -> Diagnostics + '_ {
    move |e| error(summary.to_string(), e)
}

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
    network::ensure_vpc(run, state).await?;
    network::ensure_subnets(run, state).await?;
    network::ensure_public_routing(run, state).await?;
    let nats_changed = nat::ensure(run, state).await?;
    network::ensure_private_routing(run, state, nats_changed).await?;
    network::ensure_api_security_group(run, state).await?;
    control_plane::ensure(run, state).await?;
    // The control plane's version is settled; node groups follow it.
    access::ensure(run, state).await?;
    // Add-ons are started before node groups and waited for after them:
    // some (coredns) only become ACTIVE once nodes can run them.
    let started = addons::ensure_started(run, state).await?;
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
    let (nats, entries, addons, groups) = tokio::join!(nats, entries, addons, groups);
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
    if let Some(observed) = groups.map_err(&read_err)? {
        state.node_groups = Some(observed.groups);
        state.node_group_versions = Some(observed.versions);
    }
    Ok(state)
}

/// Deletes in reverse dependency order, each kind within its own budget and
/// tolerant of objects already gone.
pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    node_groups::delete_all(run, state).await?;
    // Add-ons and access entries go with the cluster (DeleteCluster removes them).
    control_plane::delete(run, state).await?;
    // NAT gateways first: their interfaces must be gone before what is left
    // in the VPC is judged.
    nat::delete(run, state).await?;
    network::delete_leftovers(run, state).await?;
    network::delete_api_security_group(run, state).await?;
    network::delete(run, state).await?;
    roles::delete(run, state).await
}
