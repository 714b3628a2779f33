//! EKS: finders (`None` when absent), waiters and the mutations the cluster
//! resource makes on clusters and managed node groups.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_eks::Client;
use aws_sdk_eks::types::{
    AccessEntry, Addon, AuthenticationMode, CapacityTypes, Cluster, CreateAccessConfigRequest, EncryptionConfig,
    LogSetup, LogType, Logging, Nodegroup, NodegroupScalingConfig, Provider, Taint, TaintEffect, UpdateLabelsPayload,
    UpdateTaintsPayload, VpcConfigRequest,
};

use super::AwsError;
use super::error::AwsResultExt;
use super::error::aws_err;
use super::waiters::{Backoff, Deadline, IAM_PROPAGATION, Poll, StopSignal, WaitError, retry_while, wait_until};

#[derive(Clone)]
pub struct Eks {
    pub client: Client,
    pub region: String,
}

/// What the resource asks of a cluster.
pub struct ClusterSpec<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub role_arn: &'a str,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub endpoint_private_access: bool,
    pub endpoint_public_access: bool,
    pub public_access_cidrs: Vec<String>,
    pub secrets_kms_key_arn: Option<&'a str>,
    pub enabled_log_types: Vec<String>,
    pub tags: &'a BTreeMap<String, String>,
}

/// What the resource asks of a managed node group.
#[derive(Debug, Clone, PartialEq)]
pub struct NodegroupSpec {
    pub name: String,
    pub instance_types: Vec<String>,
    pub capacity_type: String,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_size: i32,
    pub disk_size: i32,
    pub ami_type: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<TaintSpec>,
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

const GONE: &str = "gone";

impl Eks {
    pub async fn find_cluster(&self, name: &str) -> Result<Option<Cluster>, AwsError> {
        let described = self
            .client
            .describe_cluster()
            .name(name)
            .send()
            .await
            .map_err(aws_err("DescribeCluster", &self.region));
        // EKS sometimes answers a missing cluster with a ClientException.
        let described = match described {
            Err(err) if is_no_cluster_found(&err) => return Ok(None),
            other => other,
        };
        Ok(described.found()?.and_then(|out| out.cluster().cloned()))
    }

    /// Creates the cluster; returns its ARN. Retried for up to
    /// `IAM_PROPAGATION` while EKS can't see the (new) cluster role yet.
    pub async fn create_cluster(&self, spec: &ClusterSpec<'_>, stop: &StopSignal) -> Result<String, AwsError> {
        let vpc = VpcConfigRequest::builder()
            .set_subnet_ids(Some(spec.subnet_ids.clone()))
            .set_security_group_ids(Some(spec.security_group_ids.clone()))
            .endpoint_private_access(spec.endpoint_private_access)
            .endpoint_public_access(spec.endpoint_public_access)
            .set_public_access_cidrs(
                (spec.endpoint_public_access && !spec.public_access_cidrs.is_empty())
                    .then(|| spec.public_access_cidrs.clone()),
            )
            .build();
        let mut request = self
            .client
            .create_cluster()
            .name(spec.name)
            .version(spec.version)
            .role_arn(spec.role_arn)
            .resources_vpc_config(vpc)
            // Access is exactly what `access_entries` grants: no implicit admin
            // entry for whoever runs Terraform.
            .access_config(
                CreateAccessConfigRequest::builder()
                    .authentication_mode(AuthenticationMode::Api)
                    .bootstrap_cluster_creator_admin_permissions(false)
                    .build(),
            )
            .set_tags(Some(spec.tags.clone().into_iter().collect()))
            .logging(logging(&spec.enabled_log_types));
        if let Some(key) = spec.secrets_kms_key_arn {
            // `resources` is deprecated in the SDK model (EKS now encrypts all
            // API data by default), but a customer key for envelope encryption
            // is still given for "secrets", the one value the API has accepted.
            #[allow(deprecated)]
            let encryption = EncryptionConfig::builder().resources("secrets");
            request = request.encryption_config(encryption.provider(Provider::builder().key_arn(key).build()).build());
        }
        let send = || {
            let request = request.clone();
            async move {
                request.send().await.map_err(|err| {
                    let valid_zones = valid_zones(&err);
                    let err = AwsError::from_sdk("CreateCluster", &self.region, err);
                    match valid_zones {
                        Some(zones) => AwsError {
                            message: unsupported_zone_message(&err.message, &zones),
                            ..err
                        },
                        None => err,
                    }
                })
            }
        };
        let created = retry_while(
            "waiting for IAM to show the cluster role to EKS",
            IAM_PROPAGATION,
            stop,
            is_role_propagation,
            send,
        )
        .await;
        // A cluster of that name is never adopted: it isn't ours (ours would
        // be in state). Plan checks first; this is the race with another writer.
        match created {
            Err(err) if err.code == "ResourceInUseException" => Err(AwsError {
                message: format!(
                    "an EKS cluster named {} already exists in {}: import it with `terraform import` as {}/{}, or choose another name",
                    spec.name, self.region, self.region, spec.name
                ),
                ..err
            }),
            other => other.map(|out| out.cluster().and_then(|c| c.arn()).unwrap_or_default().to_string()),
        }
    }

    pub async fn wait_for_cluster(
        &self,
        name: &str,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<Cluster, WaitError> {
        let what = format!("EKS cluster {name} in {} to be ACTIVE", self.region);
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            Ok(match self.find_cluster(name).await? {
                Some(c) if c.status().map(|s| s.as_str()) == Some("ACTIVE") => Poll::Ready(c),
                Some(c) if c.status().map(|s| s.as_str()) == Some("FAILED") => {
                    let issues = c
                        .health()
                        .map(|h| h.issues())
                        .unwrap_or_default()
                        .iter()
                        .map(|i| (i.code().map(|c| c.as_str()), i.message(), i.resource_ids()));
                    Poll::Failed(with_issues("FAILED", issues))
                }
                Some(c) => Poll::Pending(c.status().map(|s| s.as_str().to_string()).unwrap_or_default()),
                None => Poll::Pending("not yet visible".into()),
            })
        })
        .await
    }

    /// Deletes the cluster (retrying while an update is in progress) and
    /// waits until it is gone: `DELETED_CONFIRMATIONS` NotFound reads in a
    /// row, so that the name is free again for a create of the same name.
    pub async fn delete_cluster(&self, name: &str, timeout: Duration, stop: &StopSignal) -> Result<(), WaitError> {
        let deadline = Deadline::after(timeout);
        retry_while(
            "waiting for an update of the cluster to end before deleting it",
            deadline.left(),
            stop,
            is_in_progress,
            || async {
                self.client
                    .delete_cluster()
                    .name(name)
                    .send()
                    .await
                    .map_err(aws_err("DeleteCluster", &self.region))
                    .gone_ok()
            },
        )
        .await?;
        let what = format!("EKS cluster {name} in {} to be deleted", self.region);
        let not_found_in_a_row = std::sync::atomic::AtomicU32::new(0);
        let not_found_in_a_row = &not_found_in_a_row;
        wait_until(&what, deadline.left(), Backoff::default(), stop, || async move {
            use std::sync::atomic::Ordering;
            Ok(match self.find_cluster(name).await? {
                None => {
                    let seen = not_found_in_a_row.fetch_add(1, Ordering::SeqCst) + 1;
                    if seen >= DELETED_CONFIRMATIONS {
                        Poll::Ready(())
                    } else {
                        Poll::Pending(format!("not found ({seen} of {DELETED_CONFIRMATIONS} reads)"))
                    }
                }
                Some(c) => {
                    not_found_in_a_row.store(0, Ordering::SeqCst);
                    Poll::Pending(c.status().map(|s| s.as_str().to_string()).unwrap_or(GONE.into()))
                }
            })
        })
        .await
    }

    pub async fn update_cluster_logging(&self, name: &str, enabled: &[String]) -> Result<String, AwsError> {
        let out = self
            .client
            .update_cluster_config()
            .name(name)
            .logging(logging(enabled))
            .send()
            .await
            .map_err(aws_err("UpdateClusterConfig", &self.region))?;
        Ok(update_id(out.update()))
    }

    pub async fn update_cluster_endpoint(
        &self,
        name: &str,
        private_access: bool,
        public_access: bool,
        public_access_cidrs: &[String],
    ) -> Result<String, AwsError> {
        let vpc = VpcConfigRequest::builder()
            .endpoint_private_access(private_access)
            .endpoint_public_access(public_access)
            .set_public_access_cidrs(
                (public_access && !public_access_cidrs.is_empty()).then(|| public_access_cidrs.to_vec()),
            )
            .build();
        let out = self
            .client
            .update_cluster_config()
            .name(name)
            .resources_vpc_config(vpc)
            .send()
            .await
            .map_err(aws_err("UpdateClusterConfig", &self.region))?;
        Ok(update_id(out.update()))
    }

    /// Makes the cluster's tags exactly `wanted`.
    pub async fn sync_tags(
        &self,
        arn: &str,
        current: &BTreeMap<String, String>,
        wanted: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let diff = super::tags::diff(current, wanted);
        if !diff.removed.is_empty() {
            self.client
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(diff.removed))
                .send()
                .await
                .map_err(aws_err("UntagResource", &self.region))?;
        }
        if !diff.changed.is_empty() {
            self.client
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(diff.changed.into_iter().collect()))
                .send()
                .await
                .map_err(aws_err("TagResource", &self.region))?;
        }
        Ok(())
    }

    pub async fn update_cluster_version(&self, name: &str, version: &str) -> Result<String, AwsError> {
        let out = self
            .client
            .update_cluster_version()
            .name(name)
            .version(version)
            .send()
            .await
            .map_err(aws_err("UpdateClusterVersion", &self.region))?;
        Ok(update_id(out.update()))
    }

    // ----- node groups -----

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

    /// The ARNs of those of `nodegroups`, `addons` and `access_entries`
    /// (principals) that exist in `cluster`, described concurrently: what a
    /// tag change on the cluster must reach too.
    pub async fn child_arns(
        &self,
        cluster: &str,
        nodegroups: &[String],
        addons: &[String],
        access_entries: &[String],
    ) -> Result<Vec<String>, AwsError> {
        let nodegroups = nodegroups.iter().map(|name| async move {
            let found = self.find_nodegroup(cluster, name).await?;
            Ok::<_, AwsError>(found.and_then(|g| g.nodegroup_arn().map(str::to_string)))
        });
        let addons = addons.iter().map(|name| async move {
            let found = self.describe_addon(cluster, name).await?;
            Ok(found.and_then(|a| a.addon_arn().map(str::to_string)))
        });
        let entries = access_entries.iter().map(|principal| async move {
            let found = self.describe_access_entry(cluster, principal).await?;
            Ok(found.and_then(|e| e.access_entry_arn().map(str::to_string)))
        });
        let (nodegroups, addons, entries) = futures::try_join!(
            futures::future::try_join_all(nodegroups),
            futures::future::try_join_all(addons),
            futures::future::try_join_all(entries)
        )?;
        Ok(nodegroups.into_iter().chain(addons).chain(entries).flatten().collect())
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
            .set_instance_types(Some(spec.instance_types.clone()))
            .capacity_type(CapacityTypes::from(spec.capacity_type.as_str()))
            .disk_size(spec.disk_size)
            .set_ami_type(spec.ami_type.as_deref().map(aws_sdk_eks::types::AmiTypes::from))
            .scaling_config(scaling(spec))
            .set_labels((!spec.labels.is_empty()).then(|| spec.labels.clone().into_iter().collect()))
            .set_taints((!spec.taints.is_empty()).then(|| spec.taints.iter().map(TaintSpec::to_sdk).collect()))
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
}

fn scaling(spec: &NodegroupSpec) -> NodegroupScalingConfig {
    NodegroupScalingConfig::builder()
        .min_size(spec.min_size)
        .max_size(spec.max_size)
        .desired_size(spec.desired_size)
        .build()
}

/// Every log type, each switched on or off: types dropped from the
/// configuration must be turned off explicitly.
fn logging(enabled: &[String]) -> Logging {
    let (on, off): (Vec<LogType>, Vec<LogType>) = LogType::values()
        .iter()
        .map(|t| LogType::from(*t))
        .partition(|t| enabled.iter().any(|e| e == t.as_str()));
    let mut builder = Logging::builder();
    for (types, state) in [(on, true), (off, false)] {
        if !types.is_empty() {
            builder = builder.cluster_logging(LogSetup::builder().set_types(Some(types)).enabled(state).build());
        }
    }
    builder.build()
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
        disk_size: n.disk_size().unwrap_or_default(),
        ami_type: n.ami_type().map(|a| a.as_str().to_string()),
        labels: n.labels().map(|l| l.clone().into_iter().collect()).unwrap_or_default(),
        taints,
    }
}

impl Eks {
    /// Waits for an update (of the cluster, or of `nodegroup`) to succeed.
    pub async fn wait_for_update(
        &self,
        cluster: &str,
        update_id: &str,
        nodegroup: Option<&str>,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        let what = format!("EKS update {update_id} of {cluster} in {}", self.region);
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            let out = self
                .client
                .describe_update()
                .name(cluster)
                .update_id(update_id)
                .set_nodegroup_name(nodegroup.map(str::to_string))
                .send()
                .await
                .map_err(aws_err("DescribeUpdate", &self.region))?;
            let status = out
                .update()
                .and_then(|u| u.status())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            Ok(match status.as_str() {
                "Successful" => Poll::Ready(()),
                "Failed" | "Cancelled" => {
                    let errors: Vec<String> = out
                        .update()
                        .map(|u| {
                            u.errors()
                                .iter()
                                .map(|e| {
                                    issue_text(e.error_code().map(|c| c.as_str()), e.error_message(), e.resource_ids())
                                })
                                .filter(|text| !text.is_empty())
                                .collect()
                        })
                        .unwrap_or_default();
                    Poll::Failed(format!("{status}: {}", errors.join("; ")))
                }
                _ => Poll::Pending(status),
            })
        })
        .await
    }
}

/// The id of an EKS update, for DescribeUpdate.
fn update_id(update: Option<&aws_sdk_eks::types::Update>) -> String {
    update.and_then(|u| u.id()).unwrap_or_default().to_string()
}

/// An access policy association: `cluster`-wide or for some namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyScope {
    pub scope: String,
    pub namespaces: Vec<String>,
}

impl Eks {
    // ----- add-ons -----

    /// Version and configuration of an add-on, if installed.
    pub async fn find_addon(&self, cluster: &str, addon: &str) -> Result<Option<(String, Option<String>)>, AwsError> {
        Ok(self.describe_addon(cluster, addon).await?.map(|a| {
            (
                a.addon_version().unwrap_or_default().to_string(),
                a.configuration_values().filter(|c| !c.is_empty()).map(str::to_string),
            )
        }))
    }

    async fn describe_addon(&self, cluster: &str, addon: &str) -> Result<Option<Addon>, AwsError> {
        Ok(self
            .client
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .send()
            .await
            .map_err(aws_err("DescribeAddon", &self.region))
            .found()?
            .and_then(|out| out.addon().cloned()))
    }

    pub async fn create_addon(
        &self,
        cluster: &str,
        addon: &str,
        version: Option<&str>,
        configuration: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let result = self
            .client
            .create_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .set_addon_version(version.map(str::to_string))
            .set_configuration_values(configuration.map(str::to_string))
            .resolve_conflicts(aws_sdk_eks::types::ResolveConflicts::Overwrite)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await;
        result.map_err(aws_err("CreateAddon", &self.region)).adopt_existing()
    }

    pub async fn update_addon(
        &self,
        cluster: &str,
        addon: &str,
        version: Option<&str>,
        configuration: Option<&str>,
    ) -> Result<(), AwsError> {
        self.client
            .update_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .set_addon_version(version.map(str::to_string))
            .configuration_values(configuration.unwrap_or_default())
            .resolve_conflicts(aws_sdk_eks::types::ResolveConflicts::Overwrite)
            .send()
            .await
            .map_err(aws_err("UpdateAddon", &self.region))?;
        Ok(())
    }

    pub async fn wait_for_addon(
        &self,
        cluster: &str,
        addon: &str,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        let what = format!("add-on {addon} of {cluster} in {} to be ACTIVE", self.region);
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            let out = self
                .client
                .describe_addon()
                .cluster_name(cluster)
                .addon_name(addon)
                .send()
                .await;
            let Some(addon) = out
                .map_err(aws_err("DescribeAddon", &self.region))
                .found()?
                .and_then(|out| out.addon().cloned())
            else {
                return Ok(Poll::Pending("not yet visible".into()));
            };
            let status = addon.status().map(|s| s.as_str()).unwrap_or_default();
            let issues = addon
                .health()
                .map(|h| h.issues())
                .unwrap_or_default()
                .iter()
                .map(|i| (i.code().map(|c| c.as_str()), i.message(), i.resource_ids()));
            Ok(match status {
                "ACTIVE" => Poll::Ready(()),
                "CREATE_FAILED" | "UPDATE_FAILED" => Poll::Failed(with_issues(status, issues)),
                // DEGRADED can still turn ACTIVE (coredns once nodes exist):
                // pending, with the reason, which a timeout then reports.
                _ => Poll::Pending(with_issues(status, issues)),
            })
        })
        .await
    }

    pub async fn delete_addon(
        &self,
        cluster: &str,
        addon: &str,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        self.client
            .delete_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .send()
            .await
            .map_err(aws_err("DeleteAddon", &self.region))
            .gone_ok()?;
        let what = format!("add-on {addon} of {cluster} in {} to be deleted", self.region);
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            Ok(match self.find_addon(cluster, addon).await? {
                None => Poll::Ready(()),
                Some(_) => Poll::Pending("DELETING".into()),
            })
        })
        .await
    }

    // ----- access entries -----

    /// Kubernetes groups of an access entry, if it exists.
    pub async fn find_access_entry(&self, cluster: &str, principal: &str) -> Result<Option<Vec<String>>, AwsError> {
        Ok(self.describe_access_entry(cluster, principal).await?.map(|e| {
            let mut groups = e.kubernetes_groups().to_vec();
            groups.sort();
            groups
        }))
    }

    async fn describe_access_entry(&self, cluster: &str, principal: &str) -> Result<Option<AccessEntry>, AwsError> {
        Ok(self
            .client
            .describe_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .send()
            .await
            .map_err(aws_err("DescribeAccessEntry", &self.region))
            .found()?
            .and_then(|out| out.access_entry().cloned()))
    }

    /// Creates an access entry (one already there is adopted). Retried for
    /// up to `IAM_PROPAGATION` while EKS can't see the (new) principal yet.
    pub async fn create_access_entry(
        &self,
        cluster: &str,
        principal: &str,
        groups: &[String],
        tags: &BTreeMap<String, String>,
        stop: &StopSignal,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .create_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .set_kubernetes_groups((!groups.is_empty()).then(|| groups.to_vec()))
            .set_tags(Some(tags.clone().into_iter().collect()));
        retry_while(
            "waiting for IAM to show the principal to EKS",
            IAM_PROPAGATION,
            stop,
            is_principal_propagation,
            || {
                let request = request.clone();
                async move {
                    request
                        .send()
                        .await
                        .map_err(aws_err("CreateAccessEntry", &self.region))
                        .adopt_existing()
                }
            },
        )
        .await
    }

    pub async fn update_access_entry(&self, cluster: &str, principal: &str, groups: &[String]) -> Result<(), AwsError> {
        self.client
            .update_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .set_kubernetes_groups(Some(groups.to_vec()))
            .send()
            .await
            .map_err(aws_err("UpdateAccessEntry", &self.region))?;
        Ok(())
    }

    pub async fn delete_access_entry(&self, cluster: &str, principal: &str) -> Result<(), AwsError> {
        self.client
            .delete_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .send()
            .await
            .map_err(aws_err("DeleteAccessEntry", &self.region))
            .gone_ok()
    }

    /// Access policies associated with a principal, by policy ARN.
    pub async fn associated_policies(
        &self,
        cluster: &str,
        principal: &str,
    ) -> Result<BTreeMap<String, PolicyScope>, AwsError> {
        let out = self
            .client
            .list_associated_access_policies()
            .cluster_name(cluster)
            .principal_arn(principal)
            .send()
            .await
            .map_err(aws_err("ListAssociatedAccessPolicies", &self.region))?;
        Ok(out
            .associated_access_policies()
            .iter()
            .filter_map(|p| {
                let scope = p.access_scope();
                let mut namespaces = scope.map(|s| s.namespaces().to_vec()).unwrap_or_default();
                namespaces.sort();
                Some((
                    p.policy_arn()?.to_string(),
                    PolicyScope {
                        scope: scope
                            .and_then(|s| s.r#type())
                            .map(|t| t.as_str().to_string())
                            .unwrap_or_else(|| "cluster".into()),
                        namespaces,
                    },
                ))
            })
            .collect())
    }

    pub async fn associate_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy: &str,
        scope: &PolicyScope,
    ) -> Result<(), AwsError> {
        let access_scope = aws_sdk_eks::types::AccessScope::builder()
            .r#type(aws_sdk_eks::types::AccessScopeType::from(scope.scope.as_str()))
            .set_namespaces((!scope.namespaces.is_empty()).then(|| scope.namespaces.clone()))
            .build();
        self.client
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(policy)
            .access_scope(access_scope)
            .send()
            .await
            .map_err(aws_err("AssociateAccessPolicy", &self.region))?;
        Ok(())
    }

    pub async fn disassociate_policy(&self, cluster: &str, principal: &str, policy: &str) -> Result<(), AwsError> {
        self.client
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(policy)
            .send()
            .await
            .map_err(aws_err("DisassociateAccessPolicy", &self.region))
            .gone_ok()
    }

    /// Brings a node group to the cluster's Kubernetes version.
    pub async fn update_nodegroup_version(
        &self,
        cluster: &str,
        nodegroup: &str,
        version: &str,
    ) -> Result<String, AwsError> {
        let out = self
            .client
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(nodegroup)
            .version(version)
            .send()
            .await
            .map_err(aws_err("UpdateNodegroupVersion", &self.region))?;
        Ok(update_id(out.update()))
    }
}

/// Listings, for adopting an existing cluster on import.
impl Eks {
    pub async fn list_addons(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        let out = self
            .client
            .list_addons()
            .cluster_name(cluster)
            .send()
            .await
            .map_err(aws_err("ListAddons", &self.region))?;
        Ok(out.addons().to_vec())
    }
}

/// NotFound reads in a row after which a deleted cluster counts as gone
/// (provider-aws `ContinuousTargetOccurence: 3`): EKS keeps the name
/// reserved a little after the first one.
pub const DELETED_CONFIRMATIONS: u32 = 3;

/// Messages of EKS `InvalidParameterException` that mean IAM has not yet
/// shown a new role (or its policy attachments) to EKS; provider-aws
/// retries CreateCluster on the same ones for `propagationTimeout`.
const ROLE_PROPAGATION_MESSAGES: &[&str] = &[
    "does not exist",
    "Error in role params",
    "could not be assumed because it does not exist or the trusted entity is not correct",
    "doesn't have the Amazon EKS Managed Policies associated with it",
    "IAM role's policy must include",
    // CreateNodegroup, while the node role's trust policy is not yet visible.
    "were not found in the trust relationships of nodeRole",
];

/// The message of CreateAccessEntry for a principal IAM has not yet shown to EKS.
const PRINCIPAL_PROPAGATION_MESSAGE: &str = "The specified principalArn is invalid: invalid principal";

/// Does this error from CreateCluster / CreateNodegroup mean that the role
/// is not visible to EKS yet (IAM propagation), so a retry can succeed?
pub fn is_role_propagation(err: &AwsError) -> bool {
    err.code == "InvalidParameterException" && ROLE_PROPAGATION_MESSAGES.iter().any(|m| err.message.contains(m))
}

/// Does this error from CreateAccessEntry mean that the principal is not
/// visible to EKS yet (IAM propagation)?
pub fn is_principal_propagation(err: &AwsError) -> bool {
    is_role_propagation(err)
        || (err.code == "InvalidParameterException" && err.message.contains(PRINCIPAL_PROPAGATION_MESSAGE))
}

/// EKS refusing a delete while an update of the object is in progress.
/// (`ResourceInUseException` also means "has node groups attached", which
/// is not retried.)
pub fn is_in_progress(err: &AwsError) -> bool {
    err.code == "ResourceInUseException" && err.message.to_ascii_lowercase().contains("in progress")
}

/// Starts an EKS update once no other update of the same object is in
/// progress: EKS refuses a second one (`ResourceInUseException`), and the
/// first may be anyone's (an autoscaler, the console, another apply). It
/// waits at most the update's budget.
pub async fn start_update_when_free<F, Fut>(
    what: &str,
    budget: Duration,
    stop: &StopSignal,
    start: F,
) -> Result<String, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, AwsError>>,
{
    let waiting = format!("waiting for an update in progress on {what} to end");
    retry_while(&waiting, budget, stop, is_in_progress, start).await
}

/// DescribeCluster's other way of saying NotFound.
pub fn is_no_cluster_found(err: &AwsError) -> bool {
    err.code == "ClientException" && err.message.contains("No cluster found for name")
}

/// The zones EKS offers in an `UnsupportedAvailabilityZoneException`.
fn valid_zones<R>(
    err: &aws_sdk_eks::error::SdkError<aws_sdk_eks::operation::create_cluster::CreateClusterError, R>,
) -> Option<Vec<String>> {
    use aws_sdk_eks::operation::create_cluster::CreateClusterError;
    match err.as_service_error()? {
        CreateClusterError::UnsupportedAvailabilityZoneException(e) => Some(e.valid_zones().to_vec()),
        _ => None,
    }
}

/// AWS's message for an unsupported zone, plus the zones EKS would take.
pub fn unsupported_zone_message(message: &str, valid_zones: &[String]) -> String {
    let message = message.trim_end_matches(['.', ' ']);
    if valid_zones.is_empty() {
        return format!("{message}. Choose other availability zones with availability_zones.");
    }
    format!(
        "{message}. EKS accepts cluster subnets in these zones: {}; set availability_zones to two or more of them.",
        valid_zones.join(", ")
    )
}

/// One health issue (or update error) as `code: message (resource ids)`.
pub fn issue_text(code: Option<&str>, message: Option<&str>, resource_ids: &[String]) -> String {
    let mut text = [code, message]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    if !resource_ids.is_empty() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("({})", resource_ids.join(", ")));
    }
    text
}

/// A state followed by its health issues: `CREATE_FAILED: NodeCreationFailure: … (i-1); …`.
pub fn with_issues<'a>(
    state: &str,
    issues: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>, &'a [String])>,
) -> String {
    let issues: Vec<String> = issues
        .into_iter()
        .map(|(code, message, ids)| issue_text(code, message, ids))
        .filter(|text| !text.is_empty())
        .collect();
    if issues.is_empty() {
        state.to_string()
    } else {
        format!("{state}: {}", issues.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws_error(code: &str, message: &str) -> AwsError {
        AwsError {
            operation: "CreateCluster",
            region: "us-east-1".into(),
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn iam_propagation_messages_are_retried_on_create() {
        for message in [
            "Role with arn: arn:aws:iam::123456789012:role/hub-cluster, could not be assumed because it does not \
             exist or the trusted entity is not correct",
            "The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please ensure the \
             following policy is attached: arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            "Error in role params",
            "Role arn:aws:iam::123456789012:role/x does not exist",
            "The IAM role's policy must include the `ec2:DescribeSubnets` action",
            "Following required service principals [ec2.amazonaws.com] were not found in the trust relationships of \
             nodeRole arn:aws:iam::123456789012:role/hub-us-east-1-node",
        ] {
            assert!(
                is_role_propagation(&aws_error("InvalidParameterException", message)),
                "{message}"
            );
        }
    }

    #[test]
    fn other_invalid_parameters_and_codes_are_not_retried() {
        assert!(!is_role_propagation(&aws_error(
            "InvalidParameterException",
            "unsupported Kubernetes version 1.99"
        )));
        assert!(!is_role_propagation(&aws_error(
            "AccessDeniedException",
            "role does not exist"
        )));
        assert!(!is_role_propagation(&aws_error(
            "InvalidParameterException",
            "The specified principalArn is invalid: invalid principal"
        )));
    }

    #[test]
    fn access_entries_also_retry_an_invalid_principal() {
        let err = aws_error(
            "InvalidParameterException",
            "The specified principalArn is invalid: invalid principal",
        );
        assert!(is_principal_propagation(&err));
        assert!(!is_principal_propagation(&aws_error(
            "InvalidParameterException",
            "The specified principalArn is invalid: it must be an IAM role or user"
        )));
    }

    #[test]
    fn deletes_wait_out_updates_in_progress_but_not_attached_node_groups() {
        assert!(is_in_progress(&aws_error(
            "ResourceInUseException",
            "Cannot delete because cluster hub currently has an update in progress"
        )));
        assert!(!is_in_progress(&aws_error(
            "ResourceInUseException",
            "Cluster has nodegroups attached"
        )));
        assert!(!is_in_progress(&aws_error(
            "InvalidRequestException",
            "update in progress"
        )));
    }

    #[test]
    fn no_cluster_found_client_exception_means_not_found() {
        assert!(is_no_cluster_found(&aws_error(
            "ClientException",
            "No cluster found for name: hub."
        )));
        assert!(!is_no_cluster_found(&aws_error("ClientException", "something else")));
    }

    #[test]
    fn unsupported_zone_message_names_the_valid_zones() {
        let text = unsupported_zone_message(
            "Cannot create cluster 'hub' because us-east-1e, the targeted availability zone, does not currently \
             have sufficient capacity to support the cluster.",
            &["us-east-1a".into(), "us-east-1b".into(), "us-east-1c".into()],
        );
        assert!(
            text.starts_with("Cannot create cluster 'hub' because us-east-1e"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "EKS accepts cluster subnets in these zones: us-east-1a, us-east-1b, us-east-1c; set \
                 availability_zones to two or more of them."
            ),
            "{text}"
        );
        assert!(!text.contains("cluster.."), "{text}");
    }

    #[test]
    fn failed_states_carry_their_health_issues() {
        let ids = vec!["i-0123".to_string(), "i-0456".to_string()];
        let text = with_issues(
            "CREATE_FAILED",
            [
                (
                    Some("NodeCreationFailure"),
                    Some("Instances failed to join the kubernetes cluster"),
                    ids.as_slice(),
                ),
                (Some("AsgInstanceLaunchFailures"), None, &[][..]),
            ],
        );
        assert_eq!(
            text,
            "CREATE_FAILED: NodeCreationFailure: Instances failed to join the kubernetes cluster (i-0123, i-0456); \
             AsgInstanceLaunchFailures"
        );
        assert_eq!(with_issues("FAILED", []), "FAILED");
        assert_eq!(issue_text(None, None, &[]), "");
    }
}
