//! SQS: Karpenter's interruption queue, which EventBridge rules fill with
//! spot interruption, rebalance, instance state and AWS Health events
//! (https://karpenter.sh/docs/concepts/disruption/#interruption).

use std::collections::BTreeMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;

use super::AwsError;
use super::error::{AwsResultExt, aws_err};

#[derive(Clone)]
pub struct Sqs {
    pub client: Client,
    pub region: String,
}

/// A queue as GetQueueUrl, GetQueueAttributes and ListQueueTags report it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundQueue {
    pub url: String,
    pub arn: String,
    /// The access policy document, `None` when the queue has none.
    pub policy: Option<String>,
    /// SSE with SQS-owned keys (`SqsManagedSseEnabled`).
    pub managed_sse: bool,
    pub tags: BTreeMap<String, String>,
}

/// How long SQS keeps a deleted queue's name from CreateQueue (60 s,
/// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html),
/// with a margin.
pub const DELETED_NAME_RESERVED: std::time::Duration = std::time::Duration::from_secs(70);

/// Whether CreateQueue was refused because a queue of that name was deleted
/// within the last 60 seconds (JSON and query protocol codes).
pub fn is_deleted_recently(err: &AwsError) -> bool {
    err.code == "QueueDeletedRecently" || err.code == "AWS.SimpleQueueService.QueueDeletedRecently"
}

/// Whether an SQS error says the queue does not exist (the JSON and the
/// query protocol name it differently).
fn is_no_queue(err: &AwsError) -> bool {
    err.is_not_found()
}

impl Sqs {
    /// The queue named `name`, `None` when there is none.
    pub async fn find_queue(&self, name: &str) -> Result<Option<FoundQueue>, AwsError> {
        let url = match self
            .client
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(aws_err("GetQueueUrl", &self.region))
        {
            Ok(out) => out.queue_url().unwrap_or_default().to_string(),
            Err(e) if is_no_queue(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let attributes = match self
            .client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(aws_err("GetQueueAttributes", &self.region))
        {
            Ok(out) => out.attributes().cloned().unwrap_or_default(),
            // Deleted between the two calls: as good as never found.
            Err(e) if is_no_queue(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let tags = match self
            .client
            .list_queue_tags()
            .queue_url(&url)
            .send()
            .await
            .map_err(aws_err("ListQueueTags", &self.region))
        {
            Ok(out) => out
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            Err(e) if is_no_queue(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let get = |name: QueueAttributeName| attributes.get(&name).cloned();
        Ok(Some(FoundQueue {
            url,
            arn: get(QueueAttributeName::QueueArn).unwrap_or_default(),
            policy: get(QueueAttributeName::Policy).filter(|p| !p.is_empty()),
            managed_sse: get(QueueAttributeName::SqsManagedSseEnabled).as_deref() == Some("true"),
            tags,
        }))
    }

    /// Creates queue `name` with SSE (SQS-owned keys), the five-minute
    /// retention Karpenter's CloudFormation template gives it (its events are
    /// worthless later), and `tags`. Returns the queue URL. The policy follows
    /// with `set_policy`, once the queue's ARN is known.
    pub async fn create_queue(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<String, AwsError> {
        let out = self
            .client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
            .attributes(QueueAttributeName::MessageRetentionPeriod, "300")
            .set_tags(Some(super::tags::to_hash_map(tags)))
            .send()
            .await
            .map_err(aws_err("CreateQueue", &self.region))?;
        Ok(out.queue_url().unwrap_or_default().to_string())
    }

    /// Sets the queue's access policy and turns SSE on (both idempotent).
    pub async fn set_policy(&self, url: &str, policy: &str) -> Result<(), AwsError> {
        self.client
            .set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::Policy, policy)
            .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
            .send()
            .await
            .map_err(aws_err("SetQueueAttributes", &self.region))?;
        Ok(())
    }

    /// Deletes queue `name`; one already gone is fine.
    pub async fn delete_queue(&self, name: &str) -> Result<(), AwsError> {
        let Some(queue) = self.find_queue(name).await? else {
            return Ok(());
        };
        match self
            .client
            .delete_queue()
            .queue_url(&queue.url)
            .send()
            .await
            .map_err(aws_err("DeleteQueue", &self.region))
        {
            Err(e) if is_no_queue(&e) => Ok(()),
            other => other.map(|_| ()).gone_ok(),
        }
    }

    /// Moves the queue's tags from `current` to `wanted`; keys in neither stay.
    pub async fn sync_tags(
        &self,
        url: &str,
        current: &BTreeMap<String, String>,
        wanted: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let diff = super::tags::diff(current, wanted);
        if !diff.removed.is_empty() {
            self.client
                .untag_queue()
                .queue_url(url)
                .set_tag_keys(Some(diff.removed))
                .send()
                .await
                .map_err(aws_err("UntagQueue", &self.region))?;
        }
        if !diff.changed.is_empty() {
            self.client
                .tag_queue()
                .queue_url(url)
                .set_tags(Some(super::tags::to_hash_map(&diff.changed)))
                .send()
                .await
                .map_err(aws_err("TagQueue", &self.region))?;
        }
        Ok(())
    }
}

/// The queue's access policy, as Karpenter's CloudFormation template has it:
/// EventBridge (and SQS itself) may send to it, and nothing may use it
/// without TLS.
pub fn queue_policy(queue_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "EC2InterruptionPolicy",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": { "Service": ["events.amazonaws.com", "sqs.amazonaws.com"] },
                "Action": "sqs:SendMessage",
                "Resource": queue_arn
            },
            {
                "Sid": "DenyHTTP",
                "Effect": "Deny",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": { "Bool": { "aws:SecureTransport": false } },
                "Principal": "*"
            }
        ]
    })
    .to_string()
}

/// Whether two policy documents mean the same (SQS may reformat them).
pub fn same_policy(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recently_deleted_name_is_recognised_in_both_protocols() {
        let err = |code: &str| AwsError {
            operation: "CreateQueue",
            region: "us-east-1".into(),
            code: code.into(),
            message: String::new(),
        };
        assert!(is_deleted_recently(&err("QueueDeletedRecently")));
        assert!(is_deleted_recently(&err("AWS.SimpleQueueService.QueueDeletedRecently")));
        assert!(!is_deleted_recently(&err("QueueAlreadyExists")));
        assert!(err("AWS.SimpleQueueService.NonExistentQueue").is_not_found());
    }

    #[test]
    fn the_queue_policy_lets_eventbridge_and_sqs_send_and_refuses_plain_http() {
        let arn = "arn:aws:sqs:us-east-1:123456789012:hub";
        let doc: serde_json::Value = serde_json::from_str(&queue_policy(arn)).unwrap();
        let allow = &doc["Statement"][0];
        assert_eq!(allow["Action"], "sqs:SendMessage");
        assert_eq!(
            allow["Principal"]["Service"],
            serde_json::json!(["events.amazonaws.com", "sqs.amazonaws.com"])
        );
        assert_eq!(allow["Resource"], arn);
        assert_eq!(doc["Statement"][1]["Effect"], "Deny");
        assert!(same_policy(&queue_policy(arn), &doc.to_string()));
    }
}
