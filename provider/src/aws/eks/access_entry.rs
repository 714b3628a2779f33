//! EKS access entries and their access policy associations.

use aws_sdk_eks::types::AccessEntry;

use std::collections::BTreeMap;

use super::{Eks, is_principal_propagation};
use crate::aws::AwsError;
use crate::aws::error::{AwsResultExt, aws_err};
use crate::aws::waiters::{IAM_PROPAGATION, StopSignal, retry_while};

/// An access policy association: `cluster`-wide or for some namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyScope {
    pub scope: String,
    pub namespaces: Vec<String>,
}

/// An access entry as EKS has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAccessEntry {
    pub arn: String,
    pub entry_type: String,
    /// Sorted.
    pub groups: Vec<String>,
    pub user_name: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// What CreateAccessEntry is given.
pub struct AccessEntrySpec<'a> {
    pub principal: &'a str,
    pub entry_type: &'a str,
    pub groups: &'a [String],
    pub user_name: Option<&'a str>,
    pub tags: &'a BTreeMap<String, String>,
}

impl Eks {
    /// An access entry, if it exists.
    pub async fn find_access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> Result<Option<FoundAccessEntry>, AwsError> {
        Ok(self.describe_access_entry(cluster, principal).await?.map(|e| {
            let mut groups = e.kubernetes_groups().to_vec();
            groups.sort();
            FoundAccessEntry {
                arn: e.access_entry_arn().unwrap_or_default().to_string(),
                entry_type: e.r#type().unwrap_or("STANDARD").to_string(),
                groups,
                user_name: e.username().map(str::to_string),
                tags: e.tags().map(|t| t.clone().into_iter().collect()).unwrap_or_default(),
            }
        }))
    }

    pub(super) async fn describe_access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> Result<Option<AccessEntry>, AwsError> {
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
        spec: &AccessEntrySpec<'_>,
        stop: &StopSignal,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .create_access_entry()
            .cluster_name(cluster)
            .principal_arn(spec.principal)
            .r#type(spec.entry_type)
            .set_kubernetes_groups((!spec.groups.is_empty()).then(|| spec.groups.to_vec()))
            .set_username(spec.user_name.map(str::to_string))
            .set_tags(Some(spec.tags.clone().into_iter().collect()));
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

    /// UpdateAccessEntry: the groups and, when given, the user name (`STANDARD` entries only).
    pub async fn update_access_entry(
        &self,
        cluster: &str,
        principal: &str,
        groups: &[String],
        user_name: Option<&str>,
    ) -> Result<(), AwsError> {
        self.client
            .update_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .set_kubernetes_groups(Some(groups.to_vec()))
            .set_username(user_name.map(str::to_string))
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
}
