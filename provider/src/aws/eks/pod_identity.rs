//! EKS Pod Identity associations: a Kubernetes service account's IAM role
//! (https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html).
//! Find by id or by service account, create (adopting one for the same
//! service account), change the role, delete.

use std::collections::BTreeMap;

use aws_sdk_eks::types::PodIdentityAssociation;

use super::Eks;
use crate::aws::AwsError;
use crate::aws::error::{AwsResultExt, aws_err};

/// An association as EKS has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAssociation {
    pub id: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    /// The add-on that made it, when an add-on did (managed through the add-on).
    pub owner_arn: Option<String>,
}

impl From<&PodIdentityAssociation> for FoundAssociation {
    fn from(a: &PodIdentityAssociation) -> Self {
        Self {
            id: a.association_id().unwrap_or_default().to_string(),
            namespace: a.namespace().unwrap_or_default().to_string(),
            service_account: a.service_account().unwrap_or_default().to_string(),
            role_arn: a.role_arn().unwrap_or_default().to_string(),
            owner_arn: a.owner_arn().map(str::to_string),
        }
    }
}

impl Eks {
    pub async fn find_pod_identity_association(
        &self,
        cluster: &str,
        id: &str,
    ) -> Result<Option<FoundAssociation>, AwsError> {
        let found = self
            .client
            .describe_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .send()
            .await
            .map_err(aws_err("DescribePodIdentityAssociation", &self.region))
            .found()?;
        Ok(found.and_then(|out| out.association().map(FoundAssociation::from)))
    }

    /// The association of one service account (EKS allows one per service account).
    pub async fn find_pod_identity_association_by_service_account(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Option<FoundAssociation>, AwsError> {
        let out = self
            .client
            .list_pod_identity_associations()
            .cluster_name(cluster)
            .namespace(namespace)
            .service_account(service_account)
            .send()
            .await
            .map_err(aws_err("ListPodIdentityAssociations", &self.region))?;
        let Some(id) = out.associations().first().and_then(|a| a.association_id()) else {
            return Ok(None);
        };
        self.find_pod_identity_association(cluster, id).await
    }

    /// Every association of the cluster (for import), by id.
    pub async fn list_pod_identity_associations(&self, cluster: &str) -> Result<Vec<FoundAssociation>, AwsError> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .list_pod_identity_associations()
                .cluster_name(cluster)
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_err("ListPodIdentityAssociations", &self.region))?;
            for summary in out.associations() {
                if let Some(id) = summary.association_id()
                    && let Some(association) = self.find_pod_identity_association(cluster, id).await?
                {
                    found.push(association);
                }
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(found);
            }
        }
    }

    /// Creates the association and returns its id. One that already exists
    /// for the service account (an earlier attempt whose answer was lost,
    /// or one made by hand) is adopted and given `role_arn`.
    pub async fn create_pod_identity_association(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
        role_arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        let created = self
            .client
            .create_pod_identity_association()
            .cluster_name(cluster)
            .namespace(namespace)
            .service_account(service_account)
            .role_arn(role_arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(aws_err("CreatePodIdentityAssociation", &self.region));
        match created {
            Ok(out) => Ok(out
                .association()
                .and_then(|a| a.association_id())
                .unwrap_or_default()
                .to_string()),
            Err(err) if err.code == "ResourceInUseException" => {
                let Some(existing) = self
                    .find_pod_identity_association_by_service_account(cluster, namespace, service_account)
                    .await?
                else {
                    return Err(err);
                };
                if existing.owner_arn.is_some() {
                    return Err(AwsError {
                        message: format!(
                            "{namespace}/{service_account} already has a pod identity association, made by the \
                             add-on {}: give the role to that add-on (pod_identity_role_arn) instead",
                            existing.owner_arn.unwrap_or_default()
                        ),
                        ..err
                    });
                }
                if existing.role_arn != role_arn {
                    self.update_pod_identity_association(cluster, &existing.id, role_arn)
                        .await?;
                }
                Ok(existing.id)
            }
            Err(err) => Err(err),
        }
    }

    pub async fn update_pod_identity_association(
        &self,
        cluster: &str,
        id: &str,
        role_arn: &str,
    ) -> Result<(), AwsError> {
        self.client
            .update_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .role_arn(role_arn)
            .send()
            .await
            .map_err(aws_err("UpdatePodIdentityAssociation", &self.region))?;
        Ok(())
    }

    /// Deletes an association; one already gone is fine.
    pub async fn delete_pod_identity_association(&self, cluster: &str, id: &str) -> Result<(), AwsError> {
        self.client
            .delete_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .send()
            .await
            .map_err(aws_err("DeletePodIdentityAssociation", &self.region))
            .gone_ok()
    }
}
