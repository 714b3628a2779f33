//! EventBridge: the rules on the default event bus that send the events
//! Karpenter handles to its interruption queue.

use std::collections::BTreeMap;

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::{Tag, Target};

use super::AwsError;
use super::error::{AwsResultExt, aws_err};

#[derive(Clone)]
pub struct Events {
    pub client: Client,
    pub region: String,
}

/// A rule as DescribeRule, ListTargetsByRule and ListTagsForResource report it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRule {
    pub arn: String,
    pub event_pattern: Option<String>,
    /// Target id to target ARN.
    pub targets: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

impl Events {
    /// Rule `name` on the default bus, `None` when there is none.
    pub async fn find_rule(&self, name: &str) -> Result<Option<FoundRule>, AwsError> {
        let Some(rule) = self
            .client
            .describe_rule()
            .name(name)
            .send()
            .await
            .map_err(aws_err("DescribeRule", &self.region))
            .found()?
        else {
            return Ok(None);
        };
        let arn = rule.arn().unwrap_or_default().to_string();
        let Some(targets) = self.targets(name).await? else {
            return Ok(None);
        };
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
        Ok(Some(FoundRule {
            arn,
            event_pattern: rule.event_pattern().map(str::to_string),
            targets,
            tags: tags
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        }))
    }

    /// The rule's targets, id to ARN; `None` when the rule is gone.
    async fn targets(&self, rule: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
        let mut targets = BTreeMap::new();
        let mut token = None;
        loop {
            let Some(out) = self
                .client
                .list_targets_by_rule()
                .rule(rule)
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_err("ListTargetsByRule", &self.region))
                .found()?
            else {
                return Ok(None);
            };
            targets.extend(out.targets().iter().map(|t| (t.id().to_string(), t.arn().to_string())));
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => return Ok(Some(targets)),
            }
        }
    }

    /// Creates or updates rule `name` (PutRule is an upsert; the tags only
    /// reach a rule it creates). Returns the rule's ARN.
    pub async fn put_rule(
        &self,
        name: &str,
        event_pattern: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        let out = self
            .client
            .put_rule()
            .name(name)
            .event_pattern(event_pattern)
            .description(description)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(aws_err("PutRule", &self.region))?;
        Ok(out.rule_arn().unwrap_or_default().to_string())
    }

    /// Sends the rule's events to `arn` under target `id` (PutTargets replaces
    /// a target of the same id).
    pub async fn put_target(&self, rule: &str, id: &str, arn: &str) -> Result<(), AwsError> {
        let target = Target::builder().id(id).arn(arn).build().map_err(|e| AwsError {
            operation: "PutTargets",
            region: self.region.clone(),
            code: "ConstructionFailure".into(),
            message: e.to_string(),
        })?;
        let out = self
            .client
            .put_targets()
            .rule(rule)
            .targets(target)
            .send()
            .await
            .map_err(aws_err("PutTargets", &self.region))?;
        // PutTargets reports refused targets in its answer, not as an error.
        if let Some(failed) = out.failed_entries().first() {
            return Err(AwsError {
                operation: "PutTargets",
                region: self.region.clone(),
                code: failed.error_code().unwrap_or("FailedEntry").to_string(),
                message: failed.error_message().unwrap_or_default().to_string(),
            });
        }
        Ok(())
    }

    /// Deletes rule `name`, its targets first (EventBridge refuses to delete
    /// a rule that has targets:
    /// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DeleteRule.html).
    /// A rule already gone is fine.
    pub async fn delete_rule(&self, name: &str) -> Result<(), AwsError> {
        let Some(targets) = self.targets(name).await? else {
            return Ok(());
        };
        if !targets.is_empty() {
            self.client
                .remove_targets()
                .rule(name)
                .set_ids(Some(targets.into_keys().collect()))
                .send()
                .await
                .map_err(aws_err("RemoveTargets", &self.region))
                .gone_ok()?;
        }
        self.client
            .delete_rule()
            .name(name)
            .send()
            .await
            .map_err(aws_err("DeleteRule", &self.region))
            .gone_ok()
    }

    /// Moves the rule's tags from `current` to `wanted`; keys in neither stay.
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
                .set_tags(Some(sdk_tags(&diff.changed)))
                .send()
                .await
                .map_err(aws_err("TagResource", &self.region))?;
        }
        Ok(())
    }
}
