//! EKS add-ons: find, create, update (tracked by its update id), waits
//! that report health, delete.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_eks::types::Addon;

use super::{Eks, issue_text};
use crate::aws::AwsError;
use crate::aws::error::{AwsResultExt, aws_err};
use crate::aws::waiters::{Backoff, Poll, StopSignal, WaitError, wait_until};

/// An add-on as EKS has it installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledAddon {
    pub version: String,
    /// The add-on's configuration (JSON), `None` when it has none.
    pub configuration_values: Option<String>,
}

impl Eks {
    /// Version and configuration of an add-on, if installed.
    pub async fn find_addon(&self, cluster: &str, addon: &str) -> Result<Option<InstalledAddon>, AwsError> {
        Ok(self.describe_addon(cluster, addon).await?.map(|a| InstalledAddon {
            version: a.addon_version().unwrap_or_default().to_string(),
            configuration_values: a.configuration_values().filter(|c| !c.is_empty()).map(str::to_string),
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
    pub async fn start_addon_update(
        &self,
        cluster: &str,
        addon: &str,
        version: Option<&str>,
        configuration: Option<&str>,
    ) -> Result<String, AwsError> {
        let out = self
            .client
            .update_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .set_addon_version(version.map(str::to_string))
            .configuration_values(configuration.unwrap_or_default())
            .resolve_conflicts(aws_sdk_eks::types::ResolveConflicts::Overwrite)
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
