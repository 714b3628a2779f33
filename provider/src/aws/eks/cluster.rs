//! EKS clusters: find, create, wait, update and delete.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_eks::operation::update_cluster_config::builders::UpdateClusterConfigFluentBuilder;
use aws_sdk_eks::types::{
    AuthenticationMode, BlockStorage, Cluster, ClusterVersionInformation, ClusterVersionStatus, ComputeConfigRequest,
    CreateAccessConfigRequest, ElasticLoadBalancing, EncryptionConfig, KubernetesNetworkConfigRequest, LogSetup,
    LogType, Logging, Provider, StorageConfigRequest, SupportType, UpgradePolicyRequest, VersionStatus,
    VpcConfigRequest, ZonalShiftConfigRequest,
};

use super::{
    DELETED_CONFIRMATIONS, Eks, GONE, is_in_progress, is_no_cluster_found, is_role_propagation,
    unsupported_zone_message, update_id, valid_zones, with_issues,
};
use crate::aws::AwsError;
use crate::aws::error::{AwsResultExt, aws_err};
use crate::aws::waiters::{Backoff, Deadline, IAM_PROPAGATION, Poll, StopSignal, WaitError, retry_while, wait_until};

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
    /// `STANDARD` or `EXTENDED`: what EKS does at the end of standard support.
    pub support_type: &'a str,
    /// Whether EKS installs its self-managed vpc-cni, kube-proxy and coredns.
    pub bootstrap_self_managed_addons: bool,
    pub deletion_protection: bool,
    pub zonal_shift: bool,
    /// The Kubernetes service CIDR; unset, EKS picks 10.100.0.0/16 or 172.20.0.0/16.
    pub service_ipv4_cidr: Option<&'a str>,
    /// EKS Auto Mode, when configured (on or off).
    pub auto_mode: Option<AutoModeSpec>,
}

/// EKS Auto Mode: compute, block storage and load balancing, which EKS
/// turns on and off only together.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoModeSpec {
    pub enabled: bool,
    /// `general-purpose` and/or `system`.
    pub node_pools: Vec<String>,
    /// The role of Auto Mode's nodes; EKS refuses a change once compute is on.
    pub node_role_arn: Option<String>,
}

impl AutoModeSpec {
    fn compute(&self) -> ComputeConfigRequest {
        let builder = ComputeConfigRequest::builder().enabled(self.enabled);
        if self.enabled {
            builder
                .set_node_pools(Some(self.node_pools.clone()))
                .set_node_role_arn(self.node_role_arn.clone())
                .build()
        } else {
            builder.build()
        }
    }

    fn storage(&self) -> StorageConfigRequest {
        StorageConfigRequest::builder()
            .block_storage(BlockStorage::builder().enabled(self.enabled).build())
            .build()
    }

    fn load_balancing(&self) -> ElasticLoadBalancing {
        ElasticLoadBalancing::builder().enabled(self.enabled).build()
    }
}

/// Where a Kubernetes version is in EKS's support calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSupport {
    Standard,
    Extended,
    Unsupported,
}

/// One Kubernetes version as DescribeClusterVersions reports it; dates are
/// Unix seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterVersion {
    pub version: String,
    pub status: VersionSupport,
    pub end_of_standard_support: Option<i64>,
    pub end_of_extended_support: Option<i64>,
    /// EKS's default for a CreateCluster without a version.
    pub default: bool,
}

impl ClusterVersion {
    fn from_sdk(info: &ClusterVersionInformation) -> Option<Self> {
        // `status` is the deprecated twin of `versionStatus`; either may come.
        let status = match (info.version_status(), info.status()) {
            (Some(VersionStatus::StandardSupport), _) | (None, Some(ClusterVersionStatus::StandardSupport)) => {
                VersionSupport::Standard
            }
            (Some(VersionStatus::ExtendedSupport), _) | (None, Some(ClusterVersionStatus::ExtendedSupport)) => {
                VersionSupport::Extended
            }
            _ => VersionSupport::Unsupported,
        };
        Some(Self {
            version: info.cluster_version()?.to_string(),
            status,
            end_of_standard_support: info.end_of_standard_support_date().map(|d| d.secs()),
            end_of_extended_support: info.end_of_extended_support_date().map(|d| d.secs()),
            default: info.default_version(),
        })
    }
}

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
            .logging(logging(&spec.enabled_log_types))
            .upgrade_policy(upgrade_policy(spec.support_type))
            .bootstrap_self_managed_addons(spec.bootstrap_self_managed_addons)
            .deletion_protection(spec.deletion_protection)
            .zonal_shift_config(ZonalShiftConfigRequest::builder().enabled(spec.zonal_shift).build());
        if spec.service_ipv4_cidr.is_some() || spec.auto_mode.is_some() {
            request = request.kubernetes_network_config(
                KubernetesNetworkConfigRequest::builder()
                    .set_service_ipv4_cidr(spec.service_ipv4_cidr.map(str::to_string))
                    .set_elastic_load_balancing(spec.auto_mode.as_ref().map(AutoModeSpec::load_balancing))
                    .build(),
            );
        }
        if let Some(auto_mode) = &spec.auto_mode {
            request = request
                .compute_config(auto_mode.compute())
                .storage_config(auto_mode.storage());
        }
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

    /// The Kubernetes versions EKS offers for new clusters (standard and
    /// extended support), newest first.
    pub async fn find_cluster_versions(&self) -> Result<Vec<ClusterVersion>, AwsError> {
        let mut versions = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_cluster_versions()
                .cluster_type("eks")
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(aws_err("DescribeClusterVersions", &self.region))?;
            versions.extend(out.cluster_versions().iter().filter_map(ClusterVersion::from_sdk));
            token = out.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        versions.retain(|v| v.status != VersionSupport::Unsupported);
        versions.sort_by_key(|v| std::cmp::Reverse(minor_version(&v.version)));
        Ok(versions)
    }

    /// UpdateClusterConfig of deletion protection (EKS takes it on an ACTIVE cluster only).
    pub async fn update_cluster_deletion_protection(&self, name: &str, enabled: bool) -> Result<String, AwsError> {
        self.update_cluster_config(name, |request| request.deletion_protection(enabled))
            .await
    }

    /// UpdateClusterConfig of ARC zonal shift.
    pub async fn update_cluster_zonal_shift(&self, name: &str, enabled: bool) -> Result<String, AwsError> {
        self.update_cluster_config(name, |request| {
            request.zonal_shift_config(ZonalShiftConfigRequest::builder().enabled(enabled).build())
        })
        .await
    }

    /// Turns EKS Auto Mode on or off: its three parts in one update.
    pub async fn update_cluster_auto_mode(&self, name: &str, auto_mode: &AutoModeSpec) -> Result<String, AwsError> {
        self.update_cluster_config(name, |request| {
            request
                .compute_config(auto_mode.compute())
                .storage_config(auto_mode.storage())
                .kubernetes_network_config(
                    KubernetesNetworkConfigRequest::builder()
                        .elastic_load_balancing(auto_mode.load_balancing())
                        .build(),
                )
        })
        .await
    }

    pub async fn update_cluster_support_type(&self, name: &str, support_type: &str) -> Result<String, AwsError> {
        self.update_cluster_config(name, |request| request.upgrade_policy(upgrade_policy(support_type)))
            .await
    }

    pub async fn update_cluster_logging(&self, name: &str, enabled: &[String]) -> Result<String, AwsError> {
        self.update_cluster_config(name, |request| request.logging(logging(enabled)))
            .await
    }

    /// One UpdateClusterConfig, `set` choosing its one kind of change; the update id to wait for.
    async fn update_cluster_config(
        &self,
        name: &str,
        set: impl FnOnce(UpdateClusterConfigFluentBuilder) -> UpdateClusterConfigFluentBuilder,
    ) -> Result<String, AwsError> {
        let out = set(self.client.update_cluster_config().name(name))
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
        self.update_cluster_config(name, |request| request.resources_vpc_config(vpc))
            .await
    }

    /// Makes the tags of an EKS object (cluster, access entry, add-on) exactly `wanted`.
    pub async fn sync_tags(
        &self,
        arn: &str,
        current: &BTreeMap<String, String>,
        wanted: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let diff = crate::aws::tags::diff(current, wanted);
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
}

fn upgrade_policy(support_type: &str) -> UpgradePolicyRequest {
    UpgradePolicyRequest::builder()
        .support_type(SupportType::from(support_type))
        .build()
}

/// `MAJOR.MINOR` as numbers, for ordering versions (1.9 before 1.10).
pub fn minor_version(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
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
