//! IAM roles the cluster resource creates when the user brings none: the
//! cluster role and the node role, each with exactly the AWS managed
//! policies EKS documents for it.

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;

use super::AwsError;
use super::error::AwsResultExt;
use super::error::aws_err;
use super::tags::OWNER_TAG;

/// Who may assume a role, and which AWS managed policies it gets.
pub struct RoleSpec {
    pub service_principal: &'static str,
    pub managed_policies: &'static [&'static str],
}

pub const CLUSTER_ROLE: RoleSpec = RoleSpec {
    service_principal: "eks.amazonaws.com",
    managed_policies: &["AmazonEKSClusterPolicy"],
};

pub const NODE_ROLE: RoleSpec = RoleSpec {
    service_principal: "ec2.amazonaws.com",
    managed_policies: &[
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    ],
};

pub struct Iam {
    pub client: Client,
    /// For errors only: IAM is global.
    pub region: String,
}

fn trust_policy(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": service },
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

fn policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{name}")
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}

impl Iam {
    /// Creates the role with its trust policy (the managed policies follow
    /// with `attach_policies`, once the caller has recorded the role). A role
    /// of that name is never adopted: nothing tells whose it is (another state
    /// may manage a cluster of the same name), and destroy would delete it.
    pub async fn create_role(
        &self,
        name: &str,
        owner: &str,
        spec: &RoleSpec,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        let description = format!("Created by terraform-provider-fleet for {owner}");
        let created = self
            .client
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust_policy(spec.service_principal))
            .description(description)
            .set_tags(Some(
                tags.iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                    .collect(),
            ))
            .send()
            .await
            .map_err(aws_err("CreateRole", &self.region));
        match created {
            Ok(out) => Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default()),
            Err(err) if err.code == "EntityAlreadyExists" => Err(AwsError {
                message: format!(
                    "IAM role {name} already exists and this resource did not create it (another state, or an \
                     interrupted apply whose state was lost): pass its ARN as cluster_role_arn / node_role_arn to \
                     use it, or delete it"
                ),
                ..err
            }),
            Err(err) => Err(err),
        }
    }

    /// Moves role `name`'s tags from `current` to `wanted`; keys in neither
    /// (its Name and owner tag) stay.
    pub async fn sync_role_tags(
        &self,
        name: &str,
        current: &BTreeMap<String, String>,
        wanted: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let diff = super::tags::diff(current, wanted);
        if !diff.removed.is_empty() {
            self.client
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(diff.removed))
                .send()
                .await
                .map_err(aws_err("UntagRole", &self.region))?;
        }
        if !diff.changed.is_empty() {
            let tags = diff
                .changed
                .iter()
                .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                .collect();
            self.client
                .tag_role()
                .role_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(aws_err("TagRole", &self.region))?;
        }
        Ok(())
    }

    /// The ARN of role `name` if it exists and carries the owner tag
    /// `owner`, i.e. this provider made it for that cluster.
    pub async fn find_owned_role(&self, name: &str, owner: &str) -> Result<Option<String>, AwsError> {
        let found = self
            .client
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(aws_err("GetRole", &self.region))
            .found()?;
        Ok(found.and_then(|out| out.role().cloned()).and_then(|role| {
            let owned = role.tags().iter().any(|t| t.key() == OWNER_TAG && t.value() == owner);
            owned.then(|| role.arn().to_string())
        }))
    }

    /// Attaches the AWS managed policies of `spec` to the role `arn`.
    pub async fn attach_policies(&self, name: &str, arn: &str, spec: &RoleSpec) -> Result<(), AwsError> {
        let partition = partition_of(arn).to_string();
        for policy in spec.managed_policies {
            self.client
                .attach_role_policy()
                .role_name(name)
                .policy_arn(policy_arn(&partition, policy))
                .send()
                .await
                .map_err(aws_err("AttachRolePolicy", &self.region))?;
        }
        Ok(())
    }

    /// Detaches every managed policy and deletes the role; gone is fine.
    pub async fn delete_role(&self, name: &str) -> Result<(), AwsError> {
        let listed = self.client.list_attached_role_policies().role_name(name).send().await;
        let Some(listed) = listed
            .map_err(aws_err("ListAttachedRolePolicies", &self.region))
            .found()?
        else {
            return Ok(());
        };
        let attached = listed.attached_policies().to_vec();
        for policy in attached {
            if let Some(arn) = policy.policy_arn() {
                let result = self
                    .client
                    .detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await;
                result.map_err(aws_err("DetachRolePolicy", &self.region)).gone_ok()?;
            }
        }
        self.client
            .delete_role()
            .role_name(name)
            .send()
            .await
            .map_err(aws_err("DeleteRole", &self.region))
            .gone_ok()
    }
}

/// The role name part of a role ARN.
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policy_names_the_service() {
        let doc: serde_json::Value = serde_json::from_str(&trust_policy("eks.amazonaws.com")).unwrap();
        assert_eq!(doc["Statement"][0]["Principal"]["Service"], "eks.amazonaws.com");
        assert_eq!(doc["Statement"][0]["Action"], "sts:AssumeRole");
    }

    #[test]
    fn managed_policy_arns_follow_the_partition() {
        assert_eq!(
            policy_arn(
                partition_of("arn:aws-cn:iam::123456789012:role/x"),
                "AmazonEKSClusterPolicy"
            ),
            "arn:aws-cn:iam::aws:policy/AmazonEKSClusterPolicy"
        );
        assert_eq!(role_name("arn:aws:iam::123456789012:role/path/hub-node"), "hub-node");
    }
}
