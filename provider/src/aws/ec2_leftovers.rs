//! What Kubernetes and AWS services leave in a cluster's VPC after the
//! cluster is deleted, and that blocks deleting the subnets, the internet
//! gateway and the VPC for good: network interfaces leaked by the VPC CNI,
//! security groups of Kubernetes load balancers, GuardDuty Runtime
//! Monitoring's endpoint and group. Everything here is scoped to one VPC and
//! one cluster name.
//!
//! `classify_leftovers` (pure) tells what may be deleted, what EKS removes
//! itself (wait), and what blocks (named, for the user to remove: load
//! balancers above all, which the provider must not delete behind
//! Kubernetes' back). `Ec2::clean_kubernetes_leftovers` runs it in a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, IpPermission, UserIdGroupPair};

use super::AwsError;
use super::ec2::{Ec2, tag_map};
use super::error::AwsResultExt;
use super::error::aws_err;
use super::waiters::{Backoff, Deadline, Poll, StopSignal, WaitError, wait_until};

/// One network interface of the VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkInterfaceFacts {
    pub id: String,
    /// `available`, `in-use`, `attaching`, `detaching`, …
    pub status: String,
    pub description: String,
    /// `interface`, `network_load_balancer`, `nat_gateway`, `vpc_endpoint`, …
    pub interface_type: String,
    /// Who made it, for interfaces AWS services manage (`amazon-elb`, an account id, …).
    pub requester_id: Option<String>,
    pub subnet_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Security group ids.
    pub groups: Vec<String>,
    /// The instance it is attached to, if any.
    pub attached_instance_id: Option<String>,
}

/// One security group of the VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityGroupFacts {
    pub id: String,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    /// Other groups of the VPC with an ingress or egress rule naming this one.
    pub referenced_by: BTreeSet<String>,
}

/// One VPC endpoint of the VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VpcEndpointFacts {
    pub id: String,
    pub service_name: String,
    /// As EC2 reports it (`available`, `deleting`, `deleted`, …).
    pub state: String,
    pub group_ids: Vec<String>,
}

/// Something in the VPC that stops it from being deleted, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Blocker {
    pub id: String,
    /// A sentence for the user: what it is and how to remove it.
    pub what: String,
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// What `classify_leftovers` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Detached VPC CNI interfaces of this cluster.
    pub deletable_interfaces: Vec<String>,
    /// Kubernetes load balancer groups of this cluster, GuardDuty's group.
    pub deletable_groups: Vec<String>,
    /// GuardDuty's `guardduty-data` endpoints.
    pub deletable_endpoints: Vec<String>,
    /// EKS's own interfaces of this cluster ("Amazon EKS <cluster>"), which
    /// EKS removes itself some minutes after the cluster: waited for.
    pub eks_interfaces_pending: Vec<String>,
    /// Other objects that go away by themselves (EKS's cluster security
    /// group, interfaces detaching, endpoints being deleted): waited for.
    pub other_pending: Vec<Blocker>,
    /// Everything else the resource did not create: the user must remove it.
    pub blockers: Vec<Blocker>,
}

impl Leftovers {
    /// Nothing left to delete or wait for: only blockers (if any) remain.
    pub fn is_settled(&self) -> bool {
        self.deletable_interfaces.is_empty()
            && self.deletable_groups.is_empty()
            && self.deletable_endpoints.is_empty()
            && self.eks_interfaces_pending.is_empty()
            && self.other_pending.is_empty()
    }
}

/// What `clean_kubernetes_leftovers` deleted, and what blocks the VPC's deletion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftoverReport {
    pub deleted_interfaces: Vec<String>,
    pub deleted_groups: Vec<String>,
    pub deleted_endpoints: Vec<String>,
    pub blockers: Vec<Blocker>,
}

impl LeftoverReport {
    /// The blockers, one per line, for an error message.
    pub fn blockers_text(&self) -> String {
        self.blockers
            .iter()
            .map(|b| format!("- {b}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The VPC CNI's tag on the interfaces it creates.
const CNI_CLUSTER_TAG: &str = "cluster.k8s.amazonaws.com/name";
/// The AWS Load Balancer Controller's tag on its security groups.
const LB_CONTROLLER_CLUSTER_TAG: &str = "elbv2.k8s.aws/cluster";

/// An interface of the VPC CNI of `cluster`: tagged so, or (in a VPC of
/// its own, `!shared`) untagged with the CNI's description.
fn is_cni_interface(cluster: &str, eni: &NetworkInterfaceFacts, shared: bool) -> bool {
    match eni.tags.get(CNI_CLUSTER_TAG) {
        Some(owner) => owner == cluster,
        None => !shared && eni.description.starts_with("aws-K8S-"),
    }
}

fn is_load_balancer_interface(eni: &NetworkInterfaceFacts) -> bool {
    matches!(
        eni.interface_type.as_str(),
        "network_load_balancer" | "gateway_load_balancer" | "gateway_load_balancer_endpoint"
    ) || eni.description.starts_with("ELB ")
        || eni.requester_id.as_deref() == Some("amazon-elb")
}

fn is_guardduty_endpoint(endpoint: &VpcEndpointFacts) -> bool {
    endpoint.service_name.starts_with("com.amazonaws.") && endpoint.service_name.ends_with(".guardduty-data")
}

/// Does `text` name one of `ids`?
fn names_any<'a>(text: &str, mut ids: impl Iterator<Item = &'a String>) -> bool {
    ids.any(|id| text.contains(id.as_str()))
}

fn interface_summary(eni: &NetworkInterfaceFacts) -> String {
    let mut parts = vec![format!("type {}", eni.interface_type)];
    if !eni.description.is_empty() {
        parts.push(format!("description \"{}\"", eni.description));
    }
    if let Some(requester) = &eni.requester_id {
        parts.push(format!("requester {requester}"));
    }
    if let Some(instance) = &eni.attached_instance_id {
        parts.push(format!("attached to {instance}"));
    }
    parts.join(", ")
}

/// Sorts what is in `vpc_id` after `cluster`'s deletion into what may be
/// deleted, what is waited for and what blocks. `own_ids` are the ids the
/// resource itself created (subnets, gateways, its security group, …):
/// those, the VPC's default group and the interfaces of its own NAT
/// gateways are left to the caller.
pub fn classify_leftovers(
    vpc_id: &str,
    cluster: &str,
    own_ids: &BTreeSet<String>,
    interfaces: &[NetworkInterfaceFacts],
    groups: &[SecurityGroupFacts],
    endpoints: &[VpcEndpointFacts],
) -> Leftovers {
    classify_leftovers_in(vpc_id, cluster, own_ids, false, interfaces, groups, endpoints)
}

/// `classify_leftovers`, for a VPC the cluster may share with others
/// (`shared`: an existing VPC): only what is tagged for this cluster may be
/// deleted, never an untagged interface with the VPC CNI's description nor
/// GuardDuty's endpoint and group, which serve the whole VPC.
pub fn classify_leftovers_in(
    vpc_id: &str,
    cluster: &str,
    own_ids: &BTreeSet<String>,
    shared: bool,
    interfaces: &[NetworkInterfaceFacts],
    groups: &[SecurityGroupFacts],
    endpoints: &[VpcEndpointFacts],
) -> Leftovers {
    let mut left = Leftovers::default();
    let eks_description = format!("Amazon EKS {cluster}");

    // Interfaces.
    let mut blocking_interfaces = BTreeSet::new();
    for eni in interfaces {
        let id = &eni.id;
        if own_ids.contains(id) {
            continue;
        }
        let cni = is_cni_interface(cluster, eni, shared);
        if cni && eni.status == "available" {
            left.deletable_interfaces.push(id.clone());
            continue;
        }
        if eni.description == eks_description {
            left.eks_interfaces_pending.push(id.clone());
            continue;
        }
        // Interfaces of an endpoint go with it; the endpoint itself is classified below.
        if (eni.interface_type == "vpc_endpoint" || eni.description.starts_with("VPC Endpoint Interface"))
            && names_any(&eni.description, endpoints.iter().map(|e| &e.id))
        {
            continue;
        }
        // Interfaces of the resource's own NAT gateways go with them.
        if eni.interface_type == "nat_gateway" && names_any(&eni.description, own_ids.iter()) {
            continue;
        }
        if cni && matches!(eni.status.as_str(), "detaching" | "attaching") {
            left.other_pending.push(Blocker {
                id: id.clone(),
                what: format!(
                    "network interface {id} of the VPC CNI ({}) is {}",
                    eni.description, eni.status
                ),
            });
            continue;
        }
        let what = if is_load_balancer_interface(eni) {
            let name = if eni.description.is_empty() {
                eni.interface_type.clone()
            } else {
                eni.description.clone()
            };
            format!(
                "network interface {id} of a load balancer ({name}): delete the Kubernetes LoadBalancer Services \
                 and Ingresses first"
            )
        } else if cni {
            format!(
                "network interface {id} of the VPC CNI ({}) is {}: terminate the nodes this resource's node groups \
                 don't manage (Karpenter, self-managed) first",
                interface_summary(eni),
                eni.status
            )
        } else if eni.description.starts_with("Amazon EKS ") {
            format!(
                "network interface {id} belongs to another EKS cluster ({}): delete that cluster first",
                eni.description
            )
        } else {
            format!(
                "network interface {id} ({}) was not created by this resource: delete it first",
                interface_summary(eni)
            )
        };
        blocking_interfaces.insert(id.clone());
        left.blockers.push(Blocker { id: id.clone(), what });
    }

    // Security groups.
    let cluster_tag = format!("kubernetes.io/cluster/{cluster}");
    let eks_cluster_group = format!("eks-cluster-sg-{cluster}-");
    let guardduty_group = format!("GuardDutyManagedSecurityGroup-{vpc_id}");
    for group in groups {
        let id = &group.id;
        if own_ids.contains(id) || group.name == "default" {
            continue;
        }
        let tagged = |key: &str, value: &str| group.tags.get(key).is_some_and(|v| v == value);
        if group.name.starts_with(&eks_cluster_group)
            || tagged("aws:eks:cluster-name", cluster)
            || tagged("eks:cluster-name", cluster)
        {
            left.other_pending.push(Blocker {
                id: id.clone(),
                what: format!(
                    "security group {id} ({}) of EKS, which EKS deletes with the cluster",
                    group.name
                ),
            });
            continue;
        }
        let ours = tagged(&cluster_tag, "owned")
            || tagged(LB_CONTROLLER_CLUSTER_TAG, cluster)
            || (group.name == guardduty_group && !shared);
        let users: Vec<&String> = interfaces
            .iter()
            .filter(|eni| blocking_interfaces.contains(&eni.id) && eni.groups.contains(id))
            .map(|eni| &eni.id)
            .collect();
        if ours && users.is_empty() {
            left.deletable_groups.push(id.clone());
            continue;
        }
        let what = if ours {
            let users: Vec<&str> = users.iter().map(|u| u.as_str()).collect();
            format!(
                "security group {id} ({}) of cluster {cluster} is still used by {}",
                group.name,
                users.join(", ")
            )
        } else {
            format!(
                "security group {id} ({}) was not created by this resource: delete it first",
                group.name
            )
        };
        left.blockers.push(Blocker { id: id.clone(), what });
    }

    // Endpoints.
    for endpoint in endpoints {
        let id = &endpoint.id;
        let state = endpoint.state.to_ascii_lowercase();
        if own_ids.contains(id) || state == "deleted" {
            continue;
        }
        if state == "deleting" {
            left.other_pending.push(Blocker {
                id: id.clone(),
                what: format!("VPC endpoint {id} ({}) is being deleted", endpoint.service_name),
            });
        } else if is_guardduty_endpoint(endpoint) && !shared {
            left.deletable_endpoints.push(id.clone());
        } else {
            left.blockers.push(Blocker {
                id: id.clone(),
                what: format!(
                    "VPC endpoint {id} ({}) was not created by this resource: delete it first",
                    endpoint.service_name
                ),
            });
        }
    }
    left
}

/// Of `permissions`, the parts that name `group_id` as source or
/// destination: what to revoke so that the group can be deleted.
pub fn permissions_referencing(permissions: &[IpPermission], group_id: &str) -> Vec<IpPermission> {
    permissions
        .iter()
        .filter_map(|p| {
            let pairs: Vec<UserIdGroupPair> = p
                .user_id_group_pairs()
                .iter()
                .filter(|pair| pair.group_id() == Some(group_id))
                .map(|pair| {
                    UserIdGroupPair::builder()
                        .group_id(group_id)
                        .set_user_id(pair.user_id().map(str::to_string))
                        .build()
                })
                .collect();
            (!pairs.is_empty()).then(|| {
                IpPermission::builder()
                    .set_ip_protocol(p.ip_protocol().map(str::to_string))
                    .set_from_port(p.from_port())
                    .set_to_port(p.to_port())
                    .set_user_id_group_pairs(Some(pairs))
                    .build()
            })
        })
        .collect()
}

/// Delete errors after which the object is tried again in the next round
/// (something still uses it, or uses it again).
fn is_busy(err: &AwsError) -> bool {
    matches!(
        err.code.as_str(),
        "DependencyViolation" | "InvalidNetworkInterface.InUse" | "InvalidGroup.InUse"
    )
}

fn vpc_filter(vpc_id: &str) -> Filter {
    Filter::builder().name("vpc-id").values(vpc_id).build()
}

impl Ec2 {
    /// Every network interface in `vpc_id`.
    pub async fn find_network_interfaces_of_vpc(&self, vpc_id: &str) -> Result<Vec<NetworkInterfaceFacts>, AwsError> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_network_interfaces()
                .filters(vpc_filter(vpc_id))
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_err("DescribeNetworkInterfaces", &self.region))?;
            found.extend(out.network_interfaces().iter().map(|n| {
                NetworkInterfaceFacts {
                    id: n.network_interface_id().unwrap_or_default().to_string(),
                    status: n.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    description: n.description().unwrap_or_default().to_string(),
                    interface_type: n.interface_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    requester_id: n.requester_id().map(str::to_string),
                    subnet_id: n.subnet_id().map(str::to_string),
                    tags: tag_map(n.tag_set()),
                    groups: n
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_string))
                        .collect(),
                    attached_instance_id: n.attachment().and_then(|a| a.instance_id()).map(str::to_string),
                }
            }));
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(found);
            }
        }
    }

    /// Deletes a network interface; one already gone is fine.
    pub async fn delete_network_interface(&self, id: &str) -> Result<(), AwsError> {
        self.client
            .delete_network_interface()
            .network_interface_id(id)
            .send()
            .await
            .map_err(aws_err("DeleteNetworkInterface", &self.region))
            .gone_ok()
    }

    /// Every security group in `vpc_id`, each with the other groups whose
    /// rules reference it.
    pub async fn find_security_groups_of_vpc(&self, vpc_id: &str) -> Result<Vec<SecurityGroupFacts>, AwsError> {
        let mut raw = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_security_groups()
                .filters(vpc_filter(vpc_id))
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_err("DescribeSecurityGroups", &self.region))?;
            raw.extend(out.security_groups().iter().cloned());
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        let mut referenced_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for group in &raw {
            let Some(id) = group.group_id() else { continue };
            for pair in group
                .ip_permissions()
                .iter()
                .chain(group.ip_permissions_egress())
                .flat_map(|p| p.user_id_group_pairs())
            {
                if let Some(target) = pair.group_id()
                    && target != id
                {
                    referenced_by
                        .entry(target.to_string())
                        .or_default()
                        .insert(id.to_string());
                }
            }
        }
        Ok(raw
            .iter()
            .filter_map(|g| {
                let id = g.group_id()?.to_string();
                Some(SecurityGroupFacts {
                    name: g.group_name().unwrap_or_default().to_string(),
                    tags: tag_map(g.tags()),
                    referenced_by: referenced_by.remove(&id).unwrap_or_default(),
                    id,
                })
            })
            .collect())
    }

    /// Revokes every ingress and egress rule of `in_groups` that names
    /// `group_id`, so that `group_id` can be deleted. Groups or rules
    /// already gone are fine.
    pub async fn revoke_references_to(&self, group_id: &str, in_groups: &BTreeSet<String>) -> Result<(), AwsError> {
        if in_groups.is_empty() {
            return Ok(());
        }
        let out = self
            .client
            .describe_security_groups()
            .filters(
                Filter::builder()
                    .name("group-id")
                    .set_values(Some(in_groups.iter().cloned().collect()))
                    .build(),
            )
            .send()
            .await
            .map_err(aws_err("DescribeSecurityGroups", &self.region))?;
        for group in out.security_groups() {
            let Some(id) = group.group_id() else { continue };
            let ingress = permissions_referencing(group.ip_permissions(), group_id);
            if !ingress.is_empty() {
                self.client
                    .revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(ingress))
                    .send()
                    .await
                    .map_err(aws_err("RevokeSecurityGroupIngress", &self.region))
                    .gone_ok()?;
            }
            let egress = permissions_referencing(group.ip_permissions_egress(), group_id);
            if !egress.is_empty() {
                self.client
                    .revoke_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(Some(egress))
                    .send()
                    .await
                    .map_err(aws_err("RevokeSecurityGroupEgress", &self.region))
                    .gone_ok()?;
            }
        }
        Ok(())
    }

    /// Every VPC endpoint in `vpc_id`.
    pub async fn find_vpc_endpoints_of_vpc(&self, vpc_id: &str) -> Result<Vec<VpcEndpointFacts>, AwsError> {
        self.describe_vpc_endpoints(vpc_filter(vpc_id)).await
    }

    async fn describe_vpc_endpoints(&self, filter: Filter) -> Result<Vec<VpcEndpointFacts>, AwsError> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_vpc_endpoints()
                .filters(filter.clone())
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_err("DescribeVpcEndpoints", &self.region))?;
            found.extend(out.vpc_endpoints().iter().map(|e| {
                VpcEndpointFacts {
                    id: e.vpc_endpoint_id().unwrap_or_default().to_string(),
                    service_name: e.service_name().unwrap_or_default().to_string(),
                    state: e.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    group_ids: e
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_string))
                        .collect(),
                }
            }));
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(found);
            }
        }
    }

    /// Deletes VPC endpoints; ones already gone are fine. EC2 reports
    /// per-endpoint failures in the response: the first one is returned.
    pub async fn delete_vpc_endpoints(&self, ids: &[String]) -> Result<(), AwsError> {
        if ids.is_empty() {
            return Ok(());
        }
        let out = self
            .client
            .delete_vpc_endpoints()
            .set_vpc_endpoint_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(aws_err("DeleteVpcEndpoints", &self.region));
        let Some(out) = out.found()? else {
            return Ok(());
        };
        let failure = out.unsuccessful().iter().find_map(|item| {
            let error = item.error()?;
            let err = AwsError {
                operation: "DeleteVpcEndpoints",
                region: self.region.clone(),
                code: error.code().unwrap_or("Unknown").to_string(),
                message: format!(
                    "{}: {}",
                    item.resource_id().unwrap_or_default(),
                    error.message().unwrap_or_default()
                ),
            };
            (!err.is_not_found()).then_some(err)
        });
        failure.map_or(Ok(()), Err)
    }

    /// Waits until none of the endpoints `ids` is listed (other than `deleted`).
    pub async fn wait_for_vpc_endpoints_deleted(
        &self,
        ids: &[String],
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        if ids.is_empty() {
            return Ok(());
        }
        let what = format!("VPC endpoints {} in {} to be deleted", ids.join(", "), self.region);
        let filter = Filter::builder()
            .name("vpc-endpoint-id")
            .set_values(Some(ids.to_vec()))
            .build();
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            let left: Vec<String> = self
                .describe_vpc_endpoints(filter.clone())
                .await?
                .into_iter()
                .filter(|e| !e.state.eq_ignore_ascii_case("deleted"))
                .map(|e| format!("{} {}", e.id, e.state))
                .collect();
            Ok(if left.is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending(left.join(", "))
            })
        })
        .await
    }

    /// Removes what Kubernetes and AWS services left in `vpc_id` after
    /// `cluster`'s deletion, in rounds until only blockers remain: deletes
    /// detached VPC CNI interfaces, GuardDuty's endpoint (waiting until it
    /// is gone), the cluster's Kubernetes load balancer groups and
    /// GuardDuty's group (revoking rules of other groups that name them
    /// first), and waits while EKS's own interfaces remain. `own_ids` are the
    /// ids the resource created (left alone). Returns what was deleted and
    /// the blockers; once `timeout` passes, whatever is still there is
    /// reported as a blocker too.
    pub async fn clean_kubernetes_leftovers(
        &self,
        vpc_id: &str,
        cluster: &str,
        own_ids: &BTreeSet<String>,
        shared: bool,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<LeftoverReport, WaitError> {
        let what = format!("the leftovers of cluster {cluster} in VPC {vpc_id} to be removed");
        let deadline = Deadline::after(timeout);
        let backoff = Backoff {
            first: Duration::from_secs(2),
            max: Duration::from_secs(15),
        };
        let mut report = LeftoverReport::default();
        // The last refusal of a delete that is retried in the next round.
        let mut refusals: BTreeMap<String, String> = BTreeMap::new();
        let mut round = 0;
        loop {
            if stop.is_stopped() {
                return Err(WaitError::Stopped { what });
            }
            let (interfaces, groups, endpoints) = futures::try_join!(
                self.find_network_interfaces_of_vpc(vpc_id),
                self.find_security_groups_of_vpc(vpc_id),
                self.find_vpc_endpoints_of_vpc(vpc_id)
            )?;
            let left = classify_leftovers_in(vpc_id, cluster, own_ids, shared, &interfaces, &groups, &endpoints);
            if left.is_settled() || deadline.left().is_zero() {
                report.blockers = left.blockers.clone();
                report.blockers.extend(still_there(&left, &refusals, timeout));
                return Ok(report);
            }

            for id in &left.deletable_interfaces {
                match self.delete_network_interface(id).await {
                    Ok(()) => {
                        refusals.remove(id);
                        push_once(&mut report.deleted_interfaces, id);
                    }
                    Err(err) if is_busy(&err) => {
                        refusals.insert(id.clone(), err.to_string());
                    }
                    Err(err) => return Err(err.into()),
                }
            }
            if !left.deletable_endpoints.is_empty() {
                self.delete_vpc_endpoints(&left.deletable_endpoints).await?;
                for id in &left.deletable_endpoints {
                    push_once(&mut report.deleted_endpoints, id);
                }
                // Out of time: the next round reports what is left.
                match self
                    .wait_for_vpc_endpoints_deleted(&left.deletable_endpoints, deadline.left(), stop)
                    .await
                {
                    Ok(()) | Err(WaitError::Timeout { .. }) => {}
                    Err(err) => return Err(err),
                }
            }
            for id in &left.deletable_groups {
                let referenced_by = groups
                    .iter()
                    .find(|g| &g.id == id)
                    .map(|g| g.referenced_by.clone())
                    .unwrap_or_default();
                self.revoke_references_to(id, &referenced_by).await?;
                match self.delete_security_group(id).await {
                    Ok(()) => {
                        refusals.remove(id);
                        push_once(&mut report.deleted_groups, id);
                    }
                    Err(err) if is_busy(&err) => {
                        refusals.insert(id.clone(), err.to_string());
                    }
                    Err(err) => return Err(err.into()),
                }
            }

            let delay = backoff.delay(round).min(deadline.left());
            round += 1;
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.stopped() => return Err(WaitError::Stopped { what }),
            }
        }
    }
}

fn push_once(list: &mut Vec<String>, id: &str) {
    if !list.iter().any(|x| x == id) {
        list.push(id.to_string());
    }
}

/// At the timeout: what could not be deleted or did not go away, as blockers.
fn still_there(left: &Leftovers, refusals: &BTreeMap<String, String>, timeout: Duration) -> Vec<Blocker> {
    let refused = |id: &String, kind: &str| Blocker {
        id: id.clone(),
        what: match refusals.get(id) {
            Some(err) => format!("{kind} {id} could not be deleted within {timeout:?}: {err}"),
            None => format!("{kind} {id} could not be deleted within {timeout:?}"),
        },
    };
    let mut blockers: Vec<Blocker> = left
        .deletable_interfaces
        .iter()
        .map(|id| refused(id, "network interface"))
        .chain(left.deletable_endpoints.iter().map(|id| refused(id, "VPC endpoint")))
        .chain(left.deletable_groups.iter().map(|id| refused(id, "security group")))
        .collect();
    blockers.extend(left.eks_interfaces_pending.iter().map(|id| Blocker {
        id: id.clone(),
        what: format!("network interface {id} of EKS was still there after {timeout:?} (EKS removes it itself)"),
    }));
    blockers.extend(left.other_pending.iter().map(|b| Blocker {
        id: b.id.clone(),
        what: format!("{} (still there after {timeout:?})", b.what),
    }));
    blockers
}

#[cfg(test)]
mod tests {
    use super::*;

    const VPC: &str = "vpc-1";
    const CLUSTER: &str = "hub";

    fn eni(id: &str, status: &str, kind: &str, description: &str) -> NetworkInterfaceFacts {
        NetworkInterfaceFacts {
            id: id.into(),
            status: status.into(),
            description: description.into(),
            interface_type: kind.into(),
            ..Default::default()
        }
    }

    fn group(id: &str, name: &str, tags: &[(&str, &str)]) -> SecurityGroupFacts {
        SecurityGroupFacts {
            id: id.into(),
            name: name.into(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            referenced_by: BTreeSet::new(),
        }
    }

    fn endpoint(id: &str, service: &str, state: &str) -> VpcEndpointFacts {
        VpcEndpointFacts {
            id: id.into(),
            service_name: service.into(),
            state: state.into(),
            group_ids: Vec::new(),
        }
    }

    fn own(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn blocker_ids(left: &Leftovers) -> Vec<&str> {
        left.blockers.iter().map(|b| b.id.as_str()).collect()
    }

    #[test]
    fn in_a_shared_vpc_only_what_is_tagged_for_this_cluster_is_deleted() {
        let mut tagged = eni("eni-tagged", "available", "interface", "");
        tagged.tags.insert(CNI_CLUSTER_TAG.into(), CLUSTER.into());
        let described = eni("eni-described", "available", "interface", "aws-K8S-i-0123");
        let groups = [
            group("sg-lb", "k8s-elb-a", &[("kubernetes.io/cluster/hub", "owned")]),
            group("sg-gd", &format!("GuardDutyManagedSecurityGroup-{VPC}"), &[]),
        ];
        let endpoints = [endpoint(
            "vpce-gd",
            "com.amazonaws.us-east-1.guardduty-data",
            "available",
        )];
        let left = classify_leftovers_in(VPC, CLUSTER, &own(&[]), true, &[tagged, described], &groups, &endpoints);
        assert_eq!(left.deletable_interfaces, ["eni-tagged"]);
        assert_eq!(left.deletable_groups, ["sg-lb"]);
        assert!(left.deletable_endpoints.is_empty());
        assert_eq!(blocker_ids(&left), ["eni-described", "sg-gd", "vpce-gd"]);
    }

    #[test]
    fn detached_cni_interfaces_of_this_cluster_are_deleted() {
        let mut tagged = eni("eni-tagged", "available", "interface", "");
        tagged.tags.insert(CNI_CLUSTER_TAG.into(), CLUSTER.into());
        let described = eni("eni-described", "available", "interface", "aws-K8S-i-0123");
        let mut other_cluster = eni("eni-other", "available", "interface", "aws-K8S-i-0456");
        other_cluster.tags.insert(CNI_CLUSTER_TAG.into(), "edge".into());
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[tagged, described, other_cluster], &[], &[]);
        assert_eq!(left.deletable_interfaces, ["eni-tagged", "eni-described"]);
        assert_eq!(blocker_ids(&left), ["eni-other"]);
    }

    #[test]
    fn an_attached_cni_interface_blocks_and_names_its_instance() {
        let mut attached = eni("eni-1", "in-use", "interface", "aws-K8S-i-0123");
        attached.attached_instance_id = Some("i-karpenter".into());
        let detaching = eni("eni-2", "detaching", "interface", "aws-K8S-i-0456");
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[attached, detaching], &[], &[]);
        assert_eq!(blocker_ids(&left), ["eni-1"]);
        assert!(
            left.blockers[0].what.contains("i-karpenter"),
            "{}",
            left.blockers[0].what
        );
        assert_eq!(left.other_pending.len(), 1);
        assert!(left.deletable_interfaces.is_empty());
    }

    #[test]
    fn eks_interfaces_of_this_cluster_are_waited_for_and_of_others_block() {
        let ours = eni("eni-eks", "in-use", "interface", "Amazon EKS hub");
        let theirs = eni("eni-theirs", "in-use", "interface", "Amazon EKS edge");
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[ours, theirs], &[], &[]);
        assert_eq!(left.eks_interfaces_pending, ["eni-eks"]);
        assert_eq!(blocker_ids(&left), ["eni-theirs"]);
        assert!(!left.is_settled());
    }

    #[test]
    fn load_balancer_interfaces_block_with_advice() {
        let mut nlb = eni(
            "eni-nlb",
            "in-use",
            "network_load_balancer",
            "ELB net/k8s-default-web-0123/4567",
        );
        nlb.requester_id = Some("amazon-elb".into());
        let alb = eni("eni-alb", "in-use", "interface", "ELB app/k8s-shop-9876/5432");
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[nlb, alb], &[], &[]);
        assert_eq!(
            left.blockers[0].what,
            "network interface eni-nlb of a load balancer (ELB net/k8s-default-web-0123/4567): delete the \
             Kubernetes LoadBalancer Services and Ingresses first"
        );
        assert!(left.blockers[1].what.contains("ELB app/k8s-shop-9876/5432"));
        assert!(left.is_settled(), "only blockers remain");
    }

    #[test]
    fn the_resources_own_objects_and_nat_interfaces_are_left_alone() {
        let nat = eni("eni-nat", "in-use", "nat_gateway", "Interface for NAT Gateway nat-0abc");
        let foreign_nat = eni(
            "eni-nat2",
            "in-use",
            "nat_gateway",
            "Interface for NAT Gateway nat-0zzz",
        );
        let groups = [group("sg-api", "hub-api", &[]), group("sg-default", "default", &[])];
        let left = classify_leftovers(
            VPC,
            CLUSTER,
            &own(&["nat-0abc", "sg-api"]),
            &[nat, foreign_nat],
            &groups,
            &[],
        );
        assert_eq!(blocker_ids(&left), ["eni-nat2"]);
        assert!(left.deletable_groups.is_empty());
    }

    #[test]
    fn kubernetes_load_balancer_groups_are_deleted_but_never_the_eks_cluster_group() {
        let groups = [
            group("sg-elb", "k8s-elb-a1b2", &[("kubernetes.io/cluster/hub", "owned")]),
            group(
                "sg-traffic",
                "k8s-traffic-hub-1234",
                &[(LB_CONTROLLER_CLUSTER_TAG, "hub")],
            ),
            group(
                "sg-eks",
                "eks-cluster-sg-hub-123456",
                &[("kubernetes.io/cluster/hub", "owned"), ("aws:eks:cluster-name", "hub")],
            ),
            group("sg-edge", "k8s-elb-edge", &[("kubernetes.io/cluster/edge", "owned")]),
            group("sg-shared", "shared-team", &[("kubernetes.io/cluster/hub", "shared")]),
        ];
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[], &groups, &[]);
        assert_eq!(left.deletable_groups, ["sg-elb", "sg-traffic"]);
        assert_eq!(
            left.other_pending.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
            ["sg-eks"]
        );
        assert_eq!(blocker_ids(&left), ["sg-edge", "sg-shared"]);
    }

    #[test]
    fn a_group_still_used_by_a_load_balancer_blocks() {
        let mut nlb = eni("eni-nlb", "in-use", "network_load_balancer", "ELB net/k8s-x/1");
        nlb.groups = vec!["sg-elb".into()];
        let mut leaked = eni("eni-cni", "available", "interface", "aws-K8S-i-1");
        leaked.groups = vec!["sg-traffic".into()];
        let groups = [
            group("sg-elb", "k8s-elb-a1b2", &[("kubernetes.io/cluster/hub", "owned")]),
            group("sg-traffic", "k8s-traffic", &[(LB_CONTROLLER_CLUSTER_TAG, "hub")]),
        ];
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[nlb, leaked], &groups, &[]);
        assert_eq!(
            left.deletable_groups,
            ["sg-traffic"],
            "used only by an interface that is deleted first"
        );
        assert_eq!(blocker_ids(&left), ["eni-nlb", "sg-elb"]);
        assert!(left.blockers[1].what.contains("eni-nlb"));
    }

    #[test]
    fn guardduty_endpoint_and_group_are_deleted_and_other_endpoints_block() {
        let endpoints = [
            endpoint("vpce-gd", "com.amazonaws.us-east-1.guardduty-data", "available"),
            endpoint("vpce-s3", "com.amazonaws.us-east-1.s3", "available"),
            endpoint("vpce-old", "com.amazonaws.us-east-1.ecr.api", "deleted"),
            endpoint("vpce-going", "com.amazonaws.us-east-1.sts", "deleting"),
        ];
        let gd_eni = eni("eni-gd", "in-use", "vpc_endpoint", "VPC Endpoint Interface vpce-gd");
        let groups = [
            group("sg-gd", "GuardDutyManagedSecurityGroup-vpc-1", &[]),
            group("sg-gd-other", "GuardDutyManagedSecurityGroup-vpc-2", &[]),
        ];
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[gd_eni], &groups, &endpoints);
        assert_eq!(left.deletable_endpoints, ["vpce-gd"]);
        assert_eq!(left.deletable_groups, ["sg-gd"]);
        assert_eq!(blocker_ids(&left), ["sg-gd-other", "vpce-s3"]);
        assert_eq!(
            left.other_pending.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
            ["vpce-going"]
        );
        assert!(
            left.deletable_interfaces.is_empty(),
            "endpoint interfaces go with the endpoint"
        );
    }

    #[test]
    fn anything_else_blocks_with_a_description() {
        let mut lambda = eni("eni-l", "in-use", "lambda", "AWS Lambda VPC ENI-fn");
        lambda.requester_id = Some("123456789012".into());
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[lambda], &[], &[]);
        assert_eq!(
            left.blockers[0].what,
            "network interface eni-l (type lambda, description \"AWS Lambda VPC ENI-fn\", requester \
             123456789012) was not created by this resource: delete it first"
        );
    }

    #[test]
    fn an_empty_vpc_is_settled() {
        let left = classify_leftovers(VPC, CLUSTER, &own(&[]), &[], &[group("sg-d", "default", &[])], &[]);
        assert!(left.is_settled());
        assert!(left.blockers.is_empty());
    }

    #[test]
    fn only_rule_parts_naming_the_group_are_revoked() {
        let rule = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-elb").user_id("123").build())
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-keep").build())
            .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("10.0.0.0/8").build())
            .build();
        let other = IpPermission::builder()
            .ip_protocol("-1")
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-keep").build())
            .build();
        let revoke = permissions_referencing(&[rule, other], "sg-elb");
        assert_eq!(revoke.len(), 1);
        assert_eq!(revoke[0].from_port(), Some(443));
        assert_eq!(revoke[0].user_id_group_pairs().len(), 1);
        assert_eq!(revoke[0].user_id_group_pairs()[0].group_id(), Some("sg-elb"));
        assert!(revoke[0].ip_ranges().is_empty());
    }

    #[test]
    fn at_the_timeout_what_remains_is_named() {
        let left = Leftovers {
            deletable_groups: vec!["sg-elb".into()],
            eks_interfaces_pending: vec!["eni-eks".into()],
            ..Default::default()
        };
        let refusals = BTreeMap::from([("sg-elb".to_string(), "DependencyViolation: in use".to_string())]);
        let blockers = still_there(&left, &refusals, Duration::from_secs(600));
        assert_eq!(blockers.len(), 2);
        assert!(blockers[0].what.contains("DependencyViolation"), "{}", blockers[0].what);
        assert!(blockers[1].what.contains("eni-eks"));
    }
}
