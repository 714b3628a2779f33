//! EKS managed node groups: find, create, wait, update and delete.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_eks::types::{
    CapacityTypes, LaunchTemplateSpecification, NodeRepairConfig, Nodegroup, NodegroupScalingConfig,
    NodegroupUpdateConfig, Taint, TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload,
};

use super::{Eks, GONE, is_in_progress, is_role_propagation, update_id, with_issues};
use crate::aws::AwsError;
use crate::aws::error::{AwsResultExt, aws_err};
use crate::aws::waiters::{Backoff, Deadline, IAM_PROPAGATION, Poll, StopSignal, WaitError, retry_while, wait_until};

/// What the resource asks of a managed node group.
#[derive(Debug, Clone, PartialEq)]
pub struct NodegroupSpec {
    pub name: String,
    /// Empty when the launch template names the instance type.
    pub instance_types: Vec<String>,
    pub capacity_type: String,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_size: i32,
    /// `None` with a launch template: the disk is the template's.
    pub disk_size: Option<i32>,
    pub ami_type: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<TaintSpec>,
    /// How many nodes an update takes down at once; `None`: EKS's default (one node).
    pub max_unavailable: Option<MaxUnavailable>,
    /// EKS node auto repair.
    pub node_repair: bool,
    /// The AMI release; `None` asks EKS for the newest for the group's version.
    pub release_version: Option<String>,
    /// The launch template the nodes are launched from.
    pub launch_template: Option<TemplateRef>,
}

/// A launch template and the version a node group uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateRef {
    pub id: String,
    pub version: String,
}

impl TemplateRef {
    fn to_sdk(&self) -> LaunchTemplateSpecification {
        LaunchTemplateSpecification::builder()
            .id(&self.id)
            .version(&self.version)
            .build()
    }
}

/// A node group's `updateConfig`: a count or a percentage of nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxUnavailable {
    Nodes(i32),
    Percentage(i32),
}

impl MaxUnavailable {
    fn to_sdk(self) -> NodegroupUpdateConfig {
        match self {
            Self::Nodes(n) => NodegroupUpdateConfig::builder().max_unavailable(n).build(),
            Self::Percentage(p) => NodegroupUpdateConfig::builder().max_unavailable_percentage(p).build(),
        }
    }
}

fn node_repair(enabled: bool) -> NodeRepairConfig {
    NodeRepairConfig::builder().enabled(enabled).build()
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TaintSpec {
    pub key: String,
    pub value: Option<String>,
    pub effect: String,
}

impl TaintSpec {
    fn to_sdk(&self) -> Taint {
        Taint::builder()
            .key(&self.key)
            .set_value(self.value.clone())
            .effect(TaintEffect::from(self.effect.as_str()))
            .build()
    }
}

impl Eks {
    pub async fn find_nodegroup(&self, cluster: &str, name: &str) -> Result<Option<Nodegroup>, AwsError> {
        Ok(self
            .client
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
            .map_err(aws_err("DescribeNodegroup", &self.region))
            .found()?
            .and_then(|out| out.nodegroup().cloned()))
    }

    pub async fn list_nodegroups(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        let out = self
            .client
            .list_nodegroups()
            .cluster_name(cluster)
            .send()
            .await
            .map_err(aws_err("ListNodegroups", &self.region))?;
        Ok(out.nodegroups().to_vec())
    }

    /// Creates a node group (one already there is adopted). Retried for up
    /// to `IAM_PROPAGATION` while EKS can't see the (new) node role yet.
    pub async fn create_nodegroup(
        &self,
        cluster: &str,
        spec: &NodegroupSpec,
        node_role_arn: &str,
        subnet_ids: &[String],
        tags: &BTreeMap<String, String>,
        stop: &StopSignal,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .create_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(&spec.name)
            .node_role(node_role_arn)
            .set_subnets(Some(subnet_ids.to_vec()))
            // With a launch template, EKS refuses diskSize (the template has
            // the disk) and instance types given in both places
            // (https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html).
            .set_instance_types((!spec.instance_types.is_empty()).then(|| spec.instance_types.clone()))
            .capacity_type(CapacityTypes::from(spec.capacity_type.as_str()))
            .set_disk_size(spec.disk_size)
            .set_launch_template(spec.launch_template.as_ref().map(TemplateRef::to_sdk))
            .set_ami_type(spec.ami_type.as_deref().map(aws_sdk_eks::types::AmiTypes::from))
            .scaling_config(scaling(spec))
            .set_labels((!spec.labels.is_empty()).then(|| spec.labels.clone().into_iter().collect()))
            .set_taints((!spec.taints.is_empty()).then(|| spec.taints.iter().map(TaintSpec::to_sdk).collect()))
            .set_update_config(spec.max_unavailable.map(MaxUnavailable::to_sdk))
            .node_repair_config(node_repair(spec.node_repair))
            .set_release_version(spec.release_version.clone())
            .set_tags(Some(tags.clone().into_iter().collect()));
        retry_while(
            "waiting for IAM to show the node role to EKS",
            IAM_PROPAGATION,
            stop,
            is_role_propagation,
            || {
                let request = request.clone();
                async move {
                    request
                        .send()
                        .await
                        .map_err(aws_err("CreateNodegroup", &self.region))
                        .adopt_existing()
                }
            },
        )
        .await
    }

    pub async fn wait_for_nodegroup(
        &self,
        cluster: &str,
        name: &str,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<Nodegroup, WaitError> {
        let what = format!("node group {name} of {cluster} in {} to be ACTIVE", self.region);
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            Ok(match self.find_nodegroup(cluster, name).await? {
                Some(n) if n.status().map(|s| s.as_str()) == Some("ACTIVE") => Poll::Ready(n),
                Some(n) if matches!(n.status().map(|s| s.as_str()), Some("CREATE_FAILED" | "DEGRADED")) => {
                    let status = n.status().map(|s| s.as_str()).unwrap_or_default();
                    let issues = n
                        .health()
                        .map(|h| h.issues())
                        .unwrap_or_default()
                        .iter()
                        .map(|i| (i.code().map(|c| c.as_str()), i.message(), i.resource_ids()));
                    Poll::Failed(with_issues(status, issues))
                }
                Some(n) => Poll::Pending(n.status().map(|s| s.as_str().to_string()).unwrap_or_default()),
                None => Poll::Pending("not yet visible".into()),
            })
        })
        .await
    }

    /// Scaling, labels and taints in place: the changes from `before` to `after`.
    pub async fn update_nodegroup_config(
        &self,
        cluster: &str,
        before: &NodegroupSpec,
        after: &NodegroupSpec,
    ) -> Result<String, AwsError> {
        let mut request = self
            .client
            .update_nodegroup_config()
            .cluster_name(cluster)
            .nodegroup_name(&after.name);
        if (before.min_size, before.max_size, before.desired_size)
            != (after.min_size, after.max_size, after.desired_size)
        {
            request = request.scaling_config(scaling(after));
        }
        if before.labels != after.labels {
            let removed: Vec<String> = before
                .labels
                .keys()
                .filter(|k| !after.labels.contains_key(*k))
                .cloned()
                .collect();
            request = request.labels(
                UpdateLabelsPayload::builder()
                    .set_add_or_update_labels(Some(after.labels.clone().into_iter().collect()))
                    .set_remove_labels((!removed.is_empty()).then_some(removed))
                    .build(),
            );
        }
        if before.taints != after.taints {
            // A taint is identified by key and effect: one whose value changes is
            // updated, not removed.
            let kept = |t: &TaintSpec| after.taints.iter().any(|a| a.key == t.key && a.effect == t.effect);
            let removed: Vec<Taint> = before
                .taints
                .iter()
                .filter(|t| !kept(t))
                .map(TaintSpec::to_sdk)
                .collect();
            request = request.taints(
                UpdateTaintsPayload::builder()
                    .set_add_or_update_taints(Some(after.taints.iter().map(TaintSpec::to_sdk).collect()))
                    .set_remove_taints((!removed.is_empty()).then_some(removed))
                    .build(),
            );
        }
        if before.max_unavailable != after.max_unavailable
            && let Some(max) = after.max_unavailable
        {
            request = request.update_config(max.to_sdk());
        }
        if before.node_repair != after.node_repair {
            request = request.node_repair_config(node_repair(after.node_repair));
        }
        let out = request
            .send()
            .await
            .map_err(aws_err("UpdateNodegroupConfig", &self.region))?;
        Ok(update_id(out.update()))
    }

    pub async fn delete_nodegroup(
        &self,
        cluster: &str,
        name: &str,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        let deadline = Deadline::after(timeout);
        retry_while(
            "waiting for an update of the node group to end before deleting it",
            deadline.left(),
            stop,
            is_in_progress,
            || async {
                self.client
                    .delete_nodegroup()
                    .cluster_name(cluster)
                    .nodegroup_name(name)
                    .send()
                    .await
                    .map_err(aws_err("DeleteNodegroup", &self.region))
                    .gone_ok()
            },
        )
        .await?;
        let what = format!("node group {name} of {cluster} in {} to be deleted", self.region);
        wait_until(&what, deadline.left(), Backoff::default(), stop, || async {
            Ok(match self.find_nodegroup(cluster, name).await? {
                None => Poll::Ready(()),
                Some(n) => Poll::Pending(n.status().map(|s| s.as_str().to_string()).unwrap_or(GONE.into())),
            })
        })
        .await
    }

    /// Brings a node group to the cluster's Kubernetes version, an AMI
    /// release and/or a new version of its launch template (the nodes roll).
    pub async fn update_nodegroup_version(
        &self,
        cluster: &str,
        nodegroup: &str,
        version: &str,
        release_version: Option<&str>,
        launch_template: Option<&TemplateRef>,
        force: bool,
    ) -> Result<String, AwsError> {
        let out = self
            .client
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(nodegroup)
            .version(version)
            .set_release_version(release_version.map(str::to_string))
            .set_launch_template(launch_template.map(TemplateRef::to_sdk))
            // Past pod disruption budgets that keep pods from draining (`force_update_version`).
            .force(force)
            .send()
            .await
            .map_err(aws_err("UpdateNodegroupVersion", &self.region))?;
        Ok(update_id(out.update()))
    }
}

fn scaling(spec: &NodegroupSpec) -> NodegroupScalingConfig {
    NodegroupScalingConfig::builder()
        .min_size(spec.min_size)
        .max_size(spec.max_size)
        .desired_size(spec.desired_size)
        .build()
}

/// The spec a node group has in AWS, for drift detection.
pub fn nodegroup_spec(n: &Nodegroup) -> NodegroupSpec {
    let scaling = n.scaling_config();
    let mut taints: Vec<TaintSpec> = n
        .taints()
        .iter()
        .map(|t| TaintSpec {
            key: t.key().unwrap_or_default().to_string(),
            value: t.value().map(str::to_string),
            effect: t.effect().map(|e| e.as_str().to_string()).unwrap_or_default(),
        })
        .collect();
    taints.sort();
    NodegroupSpec {
        name: n.nodegroup_name().unwrap_or_default().to_string(),
        instance_types: n.instance_types().to_vec(),
        capacity_type: n
            .capacity_type()
            .map(|c| c.as_str().to_string())
            .unwrap_or_else(|| "ON_DEMAND".into()),
        min_size: scaling.and_then(|s| s.min_size()).unwrap_or_default(),
        max_size: scaling.and_then(|s| s.max_size()).unwrap_or_default(),
        desired_size: scaling.and_then(|s| s.desired_size()).unwrap_or_default(),
        disk_size: n.disk_size(),
        ami_type: n.ami_type().map(|a| a.as_str().to_string()),
        labels: n.labels().map(|l| l.clone().into_iter().collect()).unwrap_or_default(),
        taints,
        max_unavailable: n.update_config().and_then(|u| {
            u.max_unavailable()
                .map(MaxUnavailable::Nodes)
                .or(u.max_unavailable_percentage().map(MaxUnavailable::Percentage))
        }),
        node_repair: n.node_repair_config().and_then(|r| r.enabled()).unwrap_or(false),
        release_version: n.release_version().map(str::to_string),
        launch_template: n.launch_template().and_then(|t| {
            Some(TemplateRef {
                id: t.id()?.to_string(),
                version: t.version().unwrap_or_default().to_string(),
            })
        }),
    }
}
