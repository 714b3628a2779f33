//! CloudWatch Logs: the log group EKS sends a cluster's control-plane logs
//! to, `/aws/eks/NAME/cluster`. EKS creates it itself, with no expiry, when
//! a log type is enabled and it is missing
//! (https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html),
//! so the cluster resource creates it first, tagged, with a retention.

use std::collections::BTreeMap;

use aws_sdk_cloudwatchlogs::Client;

use super::AwsError;
use super::error::{AwsResultExt, aws_err};

/// The retentions (days) PutRetentionPolicy accepts
/// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
pub const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// The log group EKS writes cluster `name`'s control-plane logs to.
pub fn cluster_log_group_name(cluster: &str) -> String {
    format!("/aws/eks/{cluster}/cluster")
}

#[derive(Clone)]
pub struct Logs {
    pub client: Client,
    pub region: String,
}

/// A log group as DescribeLogGroups and ListTagsForResource report it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundLogGroup {
    /// The group's ARN without the `:*` DescribeLogGroups' `arn` ends in:
    /// the form the tagging calls take.
    pub arn: String,
    /// `None`: no retention policy, events never expire.
    pub retention_days: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

impl Logs {
    /// The log group named exactly `name`, with its tags; `None` when there is none.
    pub async fn find_log_group(&self, name: &str) -> Result<Option<FoundLogGroup>, AwsError> {
        let mut token = None;
        let group = loop {
            let out = self
                .client
                .describe_log_groups()
                .log_group_name_prefix(name)
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_err("DescribeLogGroups", &self.region))?;
            // A prefix also matches longer names (`…/cluster-2`).
            if let Some(group) = out.log_groups().iter().find(|g| g.log_group_name() == Some(name)) {
                break group.clone();
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => return Ok(None),
            }
        };
        let arn = group
            .log_group_arn()
            .map(str::to_string)
            .or_else(|| group.arn().map(|a| a.trim_end_matches(":*").to_string()))
            .unwrap_or_default();
        // Deleted between the two calls: as good as never found.
        let Some(tags) = self
            .client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(aws_err("ListTagsForResource", &self.region))
            .found()?
        else {
            return Ok(None);
        };
        Ok(Some(FoundLogGroup {
            arn,
            retention_days: group.retention_in_days(),
            tags: tags
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        }))
    }

    /// Creates log group `name` with `tags` (no retention: events never
    /// expire until `put_retention_policy`). `Ok(false)` when a group of that
    /// name already exists: whose it is is the caller's to judge.
    pub async fn create_log_group(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<bool, AwsError> {
        let created = self
            .client
            .create_log_group()
            .log_group_name(name)
            .set_tags(Some(super::tags::to_hash_map(tags)))
            .send()
            .await
            .map_err(aws_err("CreateLogGroup", &self.region));
        match created {
            Ok(_) => Ok(true),
            Err(e) if e.code == "ResourceAlreadyExistsException" => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Log events of group `name` expire after `days` (one of `RETENTION_DAYS`).
    pub async fn put_retention_policy(&self, name: &str, days: i32) -> Result<(), AwsError> {
        self.client
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days)
            .send()
            .await
            .map_err(aws_err("PutRetentionPolicy", &self.region))?;
        Ok(())
    }

    /// Deletes log group `name` with its events; one already gone is fine.
    pub async fn delete_log_group(&self, name: &str) -> Result<(), AwsError> {
        self.client
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(aws_err("DeleteLogGroup", &self.region))
            .gone_ok()
    }

    /// Moves the group's tags from `current` to `wanted`; keys in neither stay.
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
                .set_tags(Some(super::tags::to_hash_map(&diff.changed)))
                .send()
                .await
                .map_err(aws_err("TagResource", &self.region))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_is_the_one_eks_names_for_the_cluster() {
        assert_eq!(cluster_log_group_name("hub"), "/aws/eks/hub/cluster");
    }

    #[test]
    fn retentions_are_cloudwatchs_list_in_order() {
        assert_eq!(RETENTION_DAYS.len(), 22);
        assert!(RETENTION_DAYS.windows(2).all(|w| w[0] < w[1]));
        assert!(!RETENTION_DAYS.contains(&0) && !RETENTION_DAYS.contains(&8));
    }
}
