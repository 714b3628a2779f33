//! EKS, one file per kind of object: finders (`None` when absent), waiters
//! and the mutations the cluster resource makes. This file holds what they
//! share: the client, update waits and the classification of EKS errors.

mod access_entry;
mod addon;
mod cluster;
mod nodegroup;
mod pod_identity;

use std::time::Duration;

use aws_sdk_eks::Client;

use super::AwsError;
use super::error::aws_err;
use super::waiters::{Backoff, Poll, StopSignal, WaitError, retry_while, wait_until};

pub use access_entry::{AccessEntrySpec, FoundAccessEntry, PolicyScope};
pub use addon::{AddonHealth, AddonRequest, AddonSettled, InstalledAddon, PodIdentityConfig};
pub use cluster::{AutoModeSpec, ClusterSpec, ClusterVersion, VersionSupport, minor_version};
pub use nodegroup::{MaxUnavailable, NodegroupSpec, TaintSpec, TemplateRef, nodegroup_spec};
pub use pod_identity::FoundAssociation;

#[derive(Clone)]
pub struct Eks {
    pub client: Client,
    pub region: String,
}

const GONE: &str = "gone";

/// What an EKS update changes: DescribeUpdate names a node group's or an
/// add-on's update by the object's name besides the cluster's.
#[derive(Debug, Clone, Copy)]
pub enum UpdateTarget<'a> {
    Cluster,
    Nodegroup(&'a str),
    Addon(&'a str),
}

impl Eks {
    /// Waits for an update of the cluster, a node group or an add-on to succeed.
    pub async fn wait_for_update(
        &self,
        cluster: &str,
        update_id: &str,
        target: UpdateTarget<'_>,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        let (nodegroup, addon, what) = match target {
            UpdateTarget::Cluster => (
                None,
                None,
                format!("EKS update {update_id} of {cluster} in {}", self.region),
            ),
            UpdateTarget::Nodegroup(name) => (
                Some(name),
                None,
                format!(
                    "EKS update {update_id} of node group {name} of {cluster} in {}",
                    self.region
                ),
            ),
            UpdateTarget::Addon(name) => (
                None,
                Some(name),
                format!(
                    "EKS update {update_id} of add-on {name} of {cluster} in {}",
                    self.region
                ),
            ),
        };
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            let out = self
                .client
                .describe_update()
                .name(cluster)
                .update_id(update_id)
                .set_nodegroup_name(nodegroup.map(str::to_string))
                .set_addon_name(addon.map(str::to_string))
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
