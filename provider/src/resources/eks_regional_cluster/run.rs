//! What every part of the stack works with: the clients of one region, the
//! operation and its time budgets, the `Run` they make up, the status
//! values, and the error conversions. Below the parts and `reconcile`, so
//! neither imports back up.

use std::collections::BTreeMap;
use std::time::Duration;

use super::model::{ClusterModel, ClusterTimeouts};
use super::schema::kind_timeout;
use crate::aws::ec2::Ec2;
use crate::aws::eks::Eks;
use crate::aws::events::Events;
use crate::aws::iam::Iam;
use crate::aws::logs::Logs;
use crate::aws::sqs::Sqs;
use crate::aws::tags::{OWNER_TAG, STACK_TAG};
use crate::aws::waiters::{Deadline, StopSignal, WaitError};
use crate::aws::{Aws, AwsError, Role};
use crate::resources::error;
use crate::resources::validators::GoDuration;
use tfplugin::diagnostics::Diagnostics;

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
    pub logs: Logs,
    pub sqs: Sqs,
    pub events: Events,
}

impl Clients {
    /// For ReadResource: route tables are read through the plan's shared reads.
    pub async fn for_refresh(aws: &Aws, region: &str, role: Option<Role<'_>>) -> Self {
        let mut clients = Self::new(aws, region, role).await;
        clients.ec2 = clients.ec2.sharing_reads(aws.shared_reads.clone(), role.map(|r| r.arn));
        clients
    }

    /// The clients of `region`, through `role` (`assume_role_arn`) when the
    /// cluster lives in another account.
    pub async fn new(aws: &Aws, region: &str, role: Option<Role<'_>>) -> Self {
        Self {
            region: region.to_string(),
            ec2: Ec2::new(aws.ec2(region, role).await, region),
            eks: Eks {
                client: aws.eks(region, role).await,
                region: region.to_string(),
            },
            iam: Iam {
                client: aws.iam(region, role).await,
                region: "global".to_string(),
            },
            logs: Logs {
                client: aws.logs(region, role).await,
                region: region.to_string(),
            },
            sqs: Sqs {
                client: aws.sqs(region, role).await,
                region: region.to_string(),
            },
            events: Events {
                client: aws.events(region, role).await,
                region: region.to_string(),
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
