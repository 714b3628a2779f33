//! IAM roles the cluster resource creates when the user brings none: the
//! cluster role and the node role, each with exactly the AWS managed
//! policies EKS documents for it; roles for add-ons (EKS Pod Identity) with
//! the policies EKS recommends for each; and the cluster's OIDC identity
//! provider (IAM roles for service accounts).

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;

use super::AwsError;
use super::error::AwsResultExt;
use super::error::aws_err;
use super::tags::{OWNER_TAG, STACK_TAG};
use super::waiters::{IAM_PROPAGATION, StopSignal, retry_while};

/// Who may assume a role, and which AWS managed policies it gets.
pub struct RoleSpec {
    pub service_principal: &'static str,
    /// What the trust policy lets the service do.
    pub trust_actions: &'static [&'static str],
    pub managed_policies: &'static [&'static str],
}

pub const CLUSTER_ROLE: RoleSpec = RoleSpec {
    service_principal: "eks.amazonaws.com",
    trust_actions: &["sts:AssumeRole"],
    managed_policies: &["AmazonEKSClusterPolicy"],
};

/// A role for EKS Pod Identity: the Pod Identity agent assumes it and tags
/// the session with the cluster, namespace and service account
/// (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html). Its
/// policies come from DescribeAddonConfiguration, see `attach_policy_arns`.
pub const POD_IDENTITY_ROLE: RoleSpec = RoleSpec {
    service_principal: "pods.eks.amazonaws.com",
    trust_actions: &["sts:AssumeRole", "sts:TagSession"],
    managed_policies: &[],
};

/// The audience EKS tokens for IAM roles for service accounts carry.
pub const IRSA_AUDIENCE: &str = "sts.amazonaws.com";

/// The cluster role of an EKS Auto Mode cluster: EKS tags its sessions, and
/// manages instances, volumes, load balancers and network interfaces
/// (https://docs.aws.amazon.com/eks/latest/userguide/auto-cluster-iam-role.html).
pub const AUTO_MODE_CLUSTER_ROLE: RoleSpec = RoleSpec {
    service_principal: "eks.amazonaws.com",
    trust_actions: &["sts:AssumeRole", "sts:TagSession"],
    managed_policies: &[
        "AmazonEKSClusterPolicy",
        "AmazonEKSComputePolicy",
        "AmazonEKSBlockStoragePolicy",
        "AmazonEKSLoadBalancingPolicy",
        "AmazonEKSNetworkingPolicy",
    ],
};

/// The role of EKS Auto Mode's nodes
/// (https://docs.aws.amazon.com/eks/latest/userguide/auto-learn-iam.html).
pub const AUTO_MODE_NODE_ROLE: RoleSpec = RoleSpec {
    service_principal: "ec2.amazonaws.com",
    trust_actions: &["sts:AssumeRole"],
    managed_policies: &["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"],
};

pub const NODE_ROLE: RoleSpec = RoleSpec {
    service_principal: "ec2.amazonaws.com",
    trust_actions: &["sts:AssumeRole"],
    managed_policies: &[
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    ],
};

/// Karpenter's node role: what managed node groups' nodes get, plus SSM
/// (Karpenter's getting-started CloudFormation template,
/// https://karpenter.sh/docs/getting-started/getting-started-with-karpenter/).
pub const KARPENTER_NODE_ROLE: RoleSpec = RoleSpec {
    service_principal: "ec2.amazonaws.com",
    trust_actions: &["sts:AssumeRole"],
    managed_policies: &[
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonSSMManagedInstanceCore",
    ],
};

/// IAM's tag list for `tags` (a pair IAM would refuse is left to its own error).
fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

pub struct Iam {
    pub client: Client,
    /// For errors only: IAM is global.
    pub region: String,
}

fn trust_policy(spec: &RoleSpec) -> String {
    let actions = match spec.trust_actions {
        [one] => serde_json::json!(one),
        many => serde_json::json!(many),
    };
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": spec.service_principal },
            "Action": actions
        }]
    })
    .to_string()
}

/// A trust policy letting role `principal` (another account's or this one's)
/// assume the role and tag its session, as a hub's Argo CD role does when it
/// deploys to an edge (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_aws-accounts.html).
pub fn role_trust_policy(principal: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": principal },
            "Action": ["sts:AssumeRole", "sts:TagSession"]
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
    /// of that name that carries the owner tag `owner` is ours (a resumed
    /// create, or a CreateRole whose response was lost and retried) and is
    /// adopted; any other is refused: nothing tells whose it is (another
    /// state may manage a cluster of the same name), and destroy would delete it.
    pub async fn create_role(
        &self,
        name: &str,
        owner: &str,
        spec: &RoleSpec,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        self.create_role_trusting(name, owner, &trust_policy(spec), tags).await
    }

    /// `create_role` with the trust policy document `trust`.
    pub async fn create_role_trusting(
        &self,
        name: &str,
        owner: &str,
        trust: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        let description = format!("Created by terraform-provider-fleet for {owner}");
        let created = self
            .client
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust)
            .description(description)
            .set_tags(Some(iam_tags(tags)))
            .send()
            .await
            .map_err(aws_err("CreateRole", &self.region));
        match created {
            Ok(out) => Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default()),
            Err(err) if err.code == "EntityAlreadyExists" => {
                match self.find_role_tagged(name, STACK_TAG, &stack_of(tags)).await? {
                    Some(arn) => Ok(arn),
                    None => Err(AwsError {
                        message: format!(
                            "IAM role {name} already exists and this resource did not create it (another state, or an \
                     interrupted apply whose state was lost): pass its ARN as cluster_role_arn / node_role_arn to \
                     use it, or delete it"
                        ),
                        ..err
                    }),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Replaces role `name`'s trust policy with `spec`'s.
    pub async fn update_trust(&self, name: &str, spec: &RoleSpec) -> Result<(), AwsError> {
        self.update_trust_document(name, &trust_policy(spec)).await
    }

    /// Replaces role `name`'s trust policy with the document `trust`.
    pub async fn update_trust_document(&self, name: &str, trust: &str) -> Result<(), AwsError> {
        self.client
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust)
            .send()
            .await
            .map_err(aws_err("UpdateAssumeRolePolicy", &self.region))?;
        Ok(())
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
            let tags = iam_tags(&diff.changed);
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

    /// Moves an OIDC identity provider's tags from `current` to `wanted`.
    pub async fn sync_oidc_provider_tags(
        &self,
        arn: &str,
        current: &BTreeMap<String, String>,
        wanted: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let diff = super::tags::diff(current, wanted);
        if !diff.removed.is_empty() {
            self.client
                .untag_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .set_tag_keys(Some(diff.removed))
                .send()
                .await
                .map_err(aws_err("UntagOpenIDConnectProvider", &self.region))?;
        }
        if !diff.changed.is_empty() {
            let tags = iam_tags(&diff.changed);
            self.client
                .tag_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(aws_err("TagOpenIDConnectProvider", &self.region))?;
        }
        Ok(())
    }

    /// The AWS principals (ARNs, or the unique ids IAM shows for deleted
    /// roles) role `name`'s trust policy allows; `None` when there is no role.
    pub async fn find_trusted_principals(&self, name: &str) -> Result<Option<Vec<String>>, AwsError> {
        let found = self
            .client
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(aws_err("GetRole", &self.region))
            .found()?;
        let Some(role) = found.and_then(|out| out.role().cloned()) else {
            return Ok(None);
        };
        // IAM returns policy documents URL-encoded.
        let document = role.assume_role_policy_document().unwrap_or_default();
        let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
        let policy: serde_json::Value = serde_json::from_str(&decoded).unwrap_or_default();
        let statements = match &policy["Statement"] {
            serde_json::Value::Array(list) => list.clone(),
            other => vec![other.clone()],
        };
        let mut principals = Vec::new();
        for statement in statements {
            match &statement["Principal"]["AWS"] {
                serde_json::Value::String(one) => principals.push(one.clone()),
                serde_json::Value::Array(many) => {
                    principals.extend(many.iter().filter_map(|p| p.as_str()).map(str::to_string))
                }
                _ => {}
            }
        }
        Ok(Some(principals))
    }

    /// The ARN of role `name` if it exists and carries the owner tag
    /// `owner`, i.e. this provider made it for that cluster.
    pub async fn find_owned_role(&self, name: &str, owner: &str) -> Result<Option<String>, AwsError> {
        self.find_role_tagged(name, OWNER_TAG, owner).await
    }

    /// The ARN of role `name` if it exists and carries tag `key` = `value`.
    pub async fn find_role_tagged(&self, name: &str, key: &str, value: &str) -> Result<Option<String>, AwsError> {
        if value.is_empty() {
            return Ok(None);
        }
        let found = self
            .client
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(aws_err("GetRole", &self.region))
            .found()?;
        Ok(found.and_then(|out| out.role().cloned()).and_then(|role| {
            let owned = role.tags().iter().any(|t| t.key() == key && t.value() == value);
            owned.then(|| role.arn().to_string())
        }))
    }

    /// Attaches the AWS managed policies of `spec` to the role `arn`.
    pub async fn attach_policies(&self, name: &str, arn: &str, spec: &RoleSpec) -> Result<(), AwsError> {
        let partition = partition_of(arn).to_string();
        let arns: Vec<String> = spec
            .managed_policies
            .iter()
            .map(|policy| policy_arn(&partition, policy))
            .collect();
        self.attach_policy_arns(name, &arns).await
    }

    /// Attaches managed policies by ARN (AttachRolePolicy is idempotent).
    pub async fn attach_policy_arns(&self, name: &str, arns: &[String]) -> Result<(), AwsError> {
        for arn in arns {
            self.client
                .attach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(aws_err("AttachRolePolicy", &self.region))?;
        }
        Ok(())
    }

    /// Creates the IAM OIDC identity provider for a cluster's issuer, with
    /// the audience `sts.amazonaws.com` and no thumbprint (IAM secures
    /// communication with EKS issuers through its own trusted root CAs:
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc_verify-thumbprint.html).
    /// One for this issuer that carries this stack's tag is ours (a resumed
    /// create) and is adopted; any other is refused.
    pub async fn create_oidc_provider(
        &self,
        issuer_url: &str,
        account: &str,
        partition: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        let created = self
            .client
            .create_open_id_connect_provider()
            .url(issuer_url)
            .client_id_list(IRSA_AUDIENCE)
            .set_tags(Some(iam_tags(tags)))
            .send()
            .await
            .map_err(aws_err("CreateOpenIDConnectProvider", &self.region));
        match created {
            Ok(out) => Ok(out.open_id_connect_provider_arn().unwrap_or_default().to_string()),
            Err(err) if err.code == "EntityAlreadyExists" => {
                let arn = oidc_provider_arn(partition, account, issuer_url);
                match self.find_oidc_provider_tags(&arn).await? {
                    Some(found) if found.get(STACK_TAG) == tags.get(STACK_TAG) => Ok(arn),
                    _ => Err(AwsError {
                        message: format!(
                            "the IAM OIDC provider for {issuer_url} already exists and this resource did not create \
                             it: set oidc_provider = false to use it as it is, or delete it"
                        ),
                        ..err
                    }),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// The tags of an OIDC identity provider, `None` when it does not exist.
    pub async fn find_oidc_provider_tags(&self, arn: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
        let found = self
            .client
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(aws_err("GetOpenIDConnectProvider", &self.region))
            .found()?;
        Ok(found.map(|out| {
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        }))
    }

    /// Deletes an OIDC identity provider; one already gone is fine.
    pub async fn delete_oidc_provider(&self, arn: &str) -> Result<(), AwsError> {
        self.client
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(aws_err("DeleteOpenIDConnectProvider", &self.region))
            .gone_ok()
    }

    /// `delete_role_and_dependents` without a way to stop it early.
    pub async fn delete_role(&self, name: &str) -> Result<(), AwsError> {
        self.delete_role_and_dependents(name, &StopSignal::default()).await
    }

    /// Deletes the role and what IAM refuses to delete it with: removes it
    /// from every instance profile, deletes its inline policies, detaches its
    /// managed policies, then deletes it, retried on `DeleteConflict` for up
    /// to `IAM_PROPAGATION` (provider-aws internal/service/iam/role.go).
    /// A role already gone is fine.
    pub async fn delete_role_and_dependents(&self, name: &str, stop: &StopSignal) -> Result<(), AwsError> {
        let Some(profiles) = self.instance_profiles_of_role(name).await? else {
            return Ok(());
        };
        for profile in profiles {
            self.client
                .remove_role_from_instance_profile()
                .instance_profile_name(&profile)
                .role_name(name)
                .send()
                .await
                .map_err(aws_err("RemoveRoleFromInstanceProfile", &self.region))
                .gone_ok()?;
        }
        for policy in self.inline_policies_of_role(name).await? {
            self.client
                .delete_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await
                .map_err(aws_err("DeleteRolePolicy", &self.region))
                .gone_ok()?;
        }
        for arn in self.attached_policies_of_role(name).await? {
            self.client
                .detach_role_policy()
                .role_name(name)
                .policy_arn(&arn)
                .send()
                .await
                .map_err(aws_err("DetachRolePolicy", &self.region))
                .gone_ok()?;
        }
        retry_while(
            "waiting for IAM to see the role's dependents removed",
            IAM_PROPAGATION,
            stop,
            |err| err.code == "DeleteConflict",
            || async {
                self.client
                    .delete_role()
                    .role_name(name)
                    .send()
                    .await
                    .map_err(aws_err("DeleteRole", &self.region))
                    .gone_ok()
            },
        )
        .await
    }

    /// Names of the instance profiles holding role `name` (`None`: no such role).
    async fn instance_profiles_of_role(&self, name: &str) -> Result<Option<Vec<String>>, AwsError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let Some(out) = self
                .client
                .list_instance_profiles_for_role()
                .role_name(name)
                .set_marker(marker)
                .send()
                .await
                .map_err(aws_err("ListInstanceProfilesForRole", &self.region))
                .found()?
            else {
                return Ok(None);
            };
            names.extend(
                out.instance_profiles()
                    .iter()
                    .map(|p| p.instance_profile_name().to_string()),
            );
            marker = out.marker().filter(|_| out.is_truncated()).map(str::to_string);
            if marker.is_none() {
                return Ok(Some(names));
            }
        }
    }

    /// Names of role `name`'s inline policies.
    async fn inline_policies_of_role(&self, name: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let Some(out) = self
                .client
                .list_role_policies()
                .role_name(name)
                .set_marker(marker)
                .send()
                .await
                .map_err(aws_err("ListRolePolicies", &self.region))
                .found()?
            else {
                return Ok(names);
            };
            names.extend(out.policy_names().iter().cloned());
            marker = out.marker().filter(|_| out.is_truncated()).map(str::to_string);
            if marker.is_none() {
                return Ok(names);
            }
        }
    }

    /// ARNs of the managed policies attached to role `name`.
    async fn attached_policies_of_role(&self, name: &str) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut marker = None;
        loop {
            let Some(out) = self
                .client
                .list_attached_role_policies()
                .role_name(name)
                .set_marker(marker)
                .send()
                .await
                .map_err(aws_err("ListAttachedRolePolicies", &self.region))
                .found()?
            else {
                return Ok(arns);
            };
            arns.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
            marker = out.marker().filter(|_| out.is_truncated()).map(str::to_string);
            if marker.is_none() {
                return Ok(arns);
            }
        }
    }
}

impl Iam {
    /// Sets inline policy `policy` of role `role` (PutRolePolicy replaces it).
    pub async fn put_role_policy(&self, role: &str, policy: &str, document: &str) -> Result<(), AwsError> {
        self.client
            .put_role_policy()
            .role_name(role)
            .policy_name(policy)
            .policy_document(document)
            .send()
            .await
            .map_err(aws_err("PutRolePolicy", &self.region))?;
        Ok(())
    }

    /// Creates instance profile `name` with `tags`, or adopts one of that
    /// name that carries the same stack tag (an attempt whose answer was
    /// lost); any other is refused. Returns its ARN.
    pub async fn create_instance_profile(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        let created = self
            .client
            .create_instance_profile()
            .instance_profile_name(name)
            .set_tags(Some(iam_tags(tags)))
            .send()
            .await
            .map_err(aws_err("CreateInstanceProfile", &self.region));
        match created {
            Ok(out) => Ok(out.instance_profile().map(|p| p.arn().to_string()).unwrap_or_default()),
            Err(err) if err.code == "EntityAlreadyExists" => match self.find_instance_profile(name).await? {
                Some(found) if found.tags.get(STACK_TAG).is_some_and(|s| *s == stack_of(tags)) => Ok(found.arn),
                _ => Err(AwsError {
                    message: format!(
                        "IAM instance profile {name} already exists and this resource did not create it: delete it, \
                         or leave karpenter disabled"
                    ),
                    ..err
                }),
            },
            Err(err) => Err(err),
        }
    }

    /// Instance profile `name` with its roles and tags; `None` when there is none.
    pub async fn find_instance_profile(&self, name: &str) -> Result<Option<FoundInstanceProfile>, AwsError> {
        let found = self
            .client
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(aws_err("GetInstanceProfile", &self.region))
            .found()?;
        Ok(found
            .and_then(|out| out.instance_profile().cloned())
            .map(|p| FoundInstanceProfile {
                arn: p.arn().to_string(),
                roles: p.roles().iter().map(|r| r.role_name().to_string()).collect(),
                tags: p
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            }))
    }

    /// Makes `role` the profile's one role (a profile holds at most one).
    pub async fn set_instance_profile_role(&self, profile: &str, role: &str) -> Result<(), AwsError> {
        let Some(found) = self.find_instance_profile(profile).await? else {
            return Err(AwsError {
                operation: "GetInstanceProfile",
                region: self.region.clone(),
                code: "NoSuchEntity".into(),
                message: format!("instance profile {profile} was deleted while it was being set up: apply again"),
            });
        };
        if found.roles.iter().any(|r| r == role) {
            return Ok(());
        }
        for other in &found.roles {
            self.client
                .remove_role_from_instance_profile()
                .instance_profile_name(profile)
                .role_name(other)
                .send()
                .await
                .map_err(aws_err("RemoveRoleFromInstanceProfile", &self.region))
                .gone_ok()?;
        }
        self.client
            .add_role_to_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .map_err(aws_err("AddRoleToInstanceProfile", &self.region))?;
        Ok(())
    }

    /// Deletes instance profile `name`, its roles removed first (IAM refuses
    /// otherwise); one already gone is fine.
    pub async fn delete_instance_profile(&self, name: &str) -> Result<(), AwsError> {
        let Some(found) = self.find_instance_profile(name).await? else {
            return Ok(());
        };
        for role in &found.roles {
            self.client
                .remove_role_from_instance_profile()
                .instance_profile_name(name)
                .role_name(role)
                .send()
                .await
                .map_err(aws_err("RemoveRoleFromInstanceProfile", &self.region))
                .gone_ok()?;
        }
        self.client
            .delete_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(aws_err("DeleteInstanceProfile", &self.region))
            .gone_ok()
    }

    /// Moves an instance profile's tags from `current` to `wanted`.
    pub async fn sync_instance_profile_tags(
        &self,
        name: &str,
        current: &BTreeMap<String, String>,
        wanted: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let diff = super::tags::diff(current, wanted);
        if !diff.removed.is_empty() {
            self.client
                .untag_instance_profile()
                .instance_profile_name(name)
                .set_tag_keys(Some(diff.removed))
                .send()
                .await
                .map_err(aws_err("UntagInstanceProfile", &self.region))?;
        }
        if !diff.changed.is_empty() {
            let tags = iam_tags(&diff.changed);
            self.client
                .tag_instance_profile()
                .instance_profile_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(aws_err("TagInstanceProfile", &self.region))?;
        }
        Ok(())
    }
}

/// An instance profile as GetInstanceProfile reports it.
pub struct FoundInstanceProfile {
    pub arn: String,
    pub roles: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// The stack id among a role's tags (empty when it has none).
fn stack_of(tags: &BTreeMap<String, String>) -> String {
    tags.get(STACK_TAG).cloned().unwrap_or_default()
}

/// The ARN IAM gives the OIDC provider of `issuer_url`: the URL without its scheme.
pub fn oidc_provider_arn(partition: &str, account: &str, issuer_url: &str) -> String {
    let host_and_path = issuer_url.trim_start_matches("https://");
    format!("arn:{partition}:iam::{account}:oidc-provider/{host_and_path}")
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
        let doc: serde_json::Value = serde_json::from_str(&trust_policy(&CLUSTER_ROLE)).unwrap();
        assert_eq!(doc["Statement"][0]["Principal"]["Service"], "eks.amazonaws.com");
        assert_eq!(doc["Statement"][0]["Action"], "sts:AssumeRole");
    }

    #[test]
    fn pod_identity_roles_let_the_agent_assume_and_tag_the_session() {
        let doc: serde_json::Value = serde_json::from_str(&trust_policy(&POD_IDENTITY_ROLE)).unwrap();
        assert_eq!(doc["Statement"][0]["Principal"]["Service"], "pods.eks.amazonaws.com");
        assert_eq!(
            doc["Statement"][0]["Action"],
            serde_json::json!(["sts:AssumeRole", "sts:TagSession"])
        );
    }

    #[test]
    fn oidc_provider_arns_drop_the_scheme() {
        assert_eq!(
            oidc_provider_arn("aws", "123456789012", "https://oidc.eks.us-west-2.amazonaws.com/id/ABC"),
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
        );
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
