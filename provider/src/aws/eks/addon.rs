//! EKS add-ons: find, create, update (tracked by its update id), waits
//! that report health, delete; the versions EKS offers for a Kubernetes
//! version and the pod identity configuration of each.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_eks::types::{Addon, AddonPodIdentityAssociations, ResolveConflicts};

use super::{Eks, issue_text};
use crate::aws::AwsError;
use crate::aws::error::{AwsResultExt, aws_err};
use crate::aws::waiters::{Backoff, Poll, StopSignal, WaitError, wait_until};

/// An add-on as EKS has it installed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstalledAddon {
    pub arn: String,
    pub version: String,
    /// The add-on's configuration (JSON), `None` when it has none.
    pub configuration_values: Option<String>,
    /// The role for IAM roles for service accounts (IRSA).
    pub service_account_role_arn: Option<String>,
    /// ARNs of the pod identity associations the add-on made.
    pub pod_identity_association_arns: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// What CreateAddon and UpdateAddon are asked for.
#[derive(Debug, Clone, Default)]
pub struct AddonRequest<'a> {
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub configuration: Option<&'a str>,
    /// `NONE`, `OVERWRITE` or `PRESERVE`.
    pub resolve_conflicts: &'a str,
    pub service_account_role_arn: Option<&'a str>,
    /// (service account, role) pairs EKS makes pod identity associations for.
    pub pod_identity: Vec<(String, String)>,
}

impl AddonRequest<'_> {
    fn associations(&self) -> Vec<AddonPodIdentityAssociations> {
        self.pod_identity
            .iter()
            .filter_map(|(account, role)| {
                AddonPodIdentityAssociations::builder()
                    .service_account(account)
                    .role_arn(role)
                    .build()
                    .ok()
            })
            .collect()
    }
}

/// A service account an add-on runs as, and the AWS managed policies EKS
/// recommends for it (DescribeAddonConfiguration `podIdentityConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIdentityConfig {
    pub service_account: String,
    pub recommended_managed_policies: Vec<String>,
}

impl Eks {
    /// What is installed of an add-on, if it is.
    pub async fn find_addon(&self, cluster: &str, addon: &str) -> Result<Option<InstalledAddon>, AwsError> {
        Ok(self.describe_addon(cluster, addon).await?.map(|a| InstalledAddon {
            arn: a.addon_arn().unwrap_or_default().to_string(),
            version: a.addon_version().unwrap_or_default().to_string(),
            configuration_values: a.configuration_values().filter(|c| !c.is_empty()).map(str::to_string),
            service_account_role_arn: a.service_account_role_arn().map(str::to_string),
            pod_identity_association_arns: a.pod_identity_associations().to_vec(),
            tags: a.tags().cloned().unwrap_or_default().into_iter().collect(),
        }))
    }

    pub(super) async fn describe_addon(&self, cluster: &str, addon: &str) -> Result<Option<Addon>, AwsError> {
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
        request: &AddonRequest<'_>,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let result = self
            .client
            .create_addon()
            .cluster_name(cluster)
            .addon_name(request.name)
            .set_addon_version(request.version.map(str::to_string))
            .set_configuration_values(request.configuration.map(str::to_string))
            .resolve_conflicts(ResolveConflicts::from(request.resolve_conflicts))
            .set_service_account_role_arn(request.service_account_role_arn.map(str::to_string))
            .set_pod_identity_associations(Some(request.associations()).filter(|a| !a.is_empty()))
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await;
        result.map_err(aws_err("CreateAddon", &self.region)).adopt_existing()
    }

    /// Deletes an add-on and waits until it is gone. With `preserve`, EKS
    /// stops managing it but leaves its software running in the cluster.
    pub async fn delete_addon(
        &self,
        cluster: &str,
        addon: &str,
        preserve: bool,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        self.client
            .delete_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .preserve(preserve)
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

    /// Listings, for adopting an existing cluster on import.
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

    /// The service accounts of an add-on version that take a pod identity
    /// role, with EKS's recommended policies (empty: no pod identity support).
    pub async fn find_addon_pod_identity_configuration(
        &self,
        addon: &str,
        version: &str,
    ) -> Result<Vec<PodIdentityConfig>, AwsError> {
        let out = self
            .client
            .describe_addon_configuration()
            .addon_name(addon)
            .addon_version(version)
            .send()
            .await
            .map_err(aws_err("DescribeAddonConfiguration", &self.region))?;
        Ok(out
            .pod_identity_configuration()
            .iter()
            .map(|c| PodIdentityConfig {
                service_account: c.service_account().unwrap_or_default().to_string(),
                recommended_managed_policies: c.recommended_managed_policies().to_vec(),
            })
            .collect())
    }

    /// The versions of an add-on that run on Kubernetes `kubernetes_version`,
    /// as (version, EKS's default for it), newest first. Empty when EKS has
    /// no such add-on for that version.
    pub async fn find_addon_versions(
        &self,
        addon: &str,
        kubernetes_version: &str,
    ) -> Result<Vec<(String, bool)>, AwsError> {
        let mut versions = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_addon_versions()
                .addon_name(addon)
                .kubernetes_version(kubernetes_version)
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_err("DescribeAddonVersions", &self.region))?;
            for info in out.addons().iter().flat_map(|a| a.addon_versions()) {
                let default = info
                    .compatibilities()
                    .iter()
                    .any(|c| c.cluster_version() == Some(kubernetes_version) && c.default_version());
                versions.push((info.addon_version().unwrap_or_default().to_string(), default));
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        versions.sort_by_key(|(v, _)| std::cmp::Reverse(addon_version_order(v)));
        Ok(versions)
    }
}

/// `vMAJOR.MINOR.PATCH-eksbuild.N` as numbers, so versions sort by value.
fn addon_version_order(version: &str) -> Vec<u64> {
    version
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// An add-on's status and health as DescribeAddon reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonHealth {
    pub status: String,
    /// `code: message (resource ids)` of each health issue.
    pub issues: Vec<String>,
}

impl AddonHealth {
    fn describe(&self) -> String {
        if self.issues.is_empty() {
            self.status.clone()
        } else {
            format!("{} ({})", self.status, self.issues.join("; "))
        }
    }
}

/// How an add-on wait ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddonSettled {
    Active,
    /// DEGRADED, accepted because nothing can run it yet (no nodes).
    Degraded,
}

impl Eks {
    /// UpdateAddon, returning the update id to wait for with `wait_for_update`
    /// (`DescribeUpdate --addon-name`), which reports why an update failed.
    /// The add-on's IAM is sent as wanted: no IRSA role clears it, and an
    /// empty association list removes the add-on's associations.
    pub async fn start_addon_update(&self, cluster: &str, request: &AddonRequest<'_>) -> Result<String, AwsError> {
        let out = self
            .client
            .update_addon()
            .cluster_name(cluster)
            .addon_name(request.name)
            .set_addon_version(request.version.map(str::to_string))
            .configuration_values(request.configuration.unwrap_or_default())
            .resolve_conflicts(ResolveConflicts::from(request.resolve_conflicts))
            .service_account_role_arn(request.service_account_role_arn.unwrap_or_default())
            .set_pod_identity_associations(Some(request.associations()))
            .send()
            .await
            .map_err(aws_err("UpdateAddon", &self.region))?;
        Ok(out.update().and_then(|u| u.id()).unwrap_or_default().to_string())
    }

    /// Status and health of an add-on, if installed.
    pub async fn find_addon_health(&self, cluster: &str, addon: &str) -> Result<Option<AddonHealth>, AwsError> {
        let out = self
            .client
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .send()
            .await
            .map_err(aws_err("DescribeAddon", &self.region))
            .found()?;
        Ok(out.and_then(|o| o.addon().cloned()).map(|a| AddonHealth {
            status: a.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            issues: a
                .health()
                .map(|h| {
                    h.issues()
                        .iter()
                        .map(|i| issue_text(i.code().map(|c| c.as_str()), i.message(), i.resource_ids()))
                        .filter(|text| !text.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }))
    }

    /// Waits for an add-on to be ACTIVE; with `degraded_ok` (the cluster has
    /// no node that could run it), DEGRADED counts as settled too. Failure
    /// states end the wait with the add-on's health issues.
    pub async fn wait_for_addon_settled(
        &self,
        cluster: &str,
        addon: &str,
        degraded_ok: bool,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<AddonSettled, WaitError> {
        let what = format!("add-on {addon} of {cluster} in {} to be ACTIVE", self.region);
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            let Some(health) = self.find_addon_health(cluster, addon).await? else {
                return Ok(Poll::Pending("not yet visible".into()));
            };
            Ok(match health.status.as_str() {
                "ACTIVE" => Poll::Ready(AddonSettled::Active),
                "DEGRADED" if degraded_ok => Poll::Ready(AddonSettled::Degraded),
                "CREATE_FAILED" | "UPDATE_FAILED" => Poll::Failed(health.describe()),
                _ => Poll::Pending(health.describe()),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addon_versions_order_by_value_not_text() {
        let mut versions = [
            "v1.9.0-eksbuild.1",
            "v1.19.0-eksbuild.1",
            "v1.19.0-eksbuild.10",
            "v1.19.0-eksbuild.2",
        ];
        versions.sort_by_key(|v| std::cmp::Reverse(addon_version_order(v)));
        assert_eq!(
            versions,
            [
                "v1.19.0-eksbuild.10",
                "v1.19.0-eksbuild.2",
                "v1.19.0-eksbuild.1",
                "v1.9.0-eksbuild.1"
            ]
        );
    }
}
