//! EC2 finders (read one object, `None` when it doesn't exist), the few
//! mutations the peering resources make, and the peering waiter.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, PeeringConnectionOptionsRequest, ResourceType, RouteTable, Tag, TagSpecification, Vpc, VpcPeeringConnection,
};
use futures::FutureExt;
use ipnet::IpNet;

use super::AwsError;
use super::error::AwsResultExt;
use super::error::aws_err;
use super::shared_reads::{Scope, SharedReads};
use super::waiters::{Backoff, Poll, StopSignal, WaitError, wait_until};

/// A region-bound EC2 client: every call names the region in its errors.
#[derive(Clone)]
pub struct Ec2 {
    pub client: Client,
    pub region: String,
    /// Set for refreshes only: route tables are then read through the plan's shared reads.
    shared_reads: Option<(Arc<SharedReads>, Scope)>,
}

/// Peering states from which a peering never becomes usable again.
pub const PEERING_GONE_STATES: &[&str] = &["deleted", "deleting", "rejected", "failed", "expired"];

/// The VPC-side facts of a peering that resources keep in state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeeringSide {
    pub vpc_id: String,
    pub region: Option<String>,
    pub owner_id: Option<String>,
    pub cidr_block: Option<String>,
    pub allow_remote_vpc_dns_resolution: Option<bool>,
}

/// One peering connection as read from EC2.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Peering {
    pub id: String,
    pub status: String,
    /// EC2's reason for the status (`Status.Message`), e.g. why it failed.
    pub status_message: Option<String>,
    pub requester: PeeringSide,
    pub accepter: PeeringSide,
    pub tags: BTreeMap<String, String>,
}

impl Peering {
    pub fn is_gone(&self) -> bool {
        PEERING_GONE_STATES.contains(&self.status.as_str())
    }

    /// The status with EC2's reason: `failed: Overlapping CIDR range`.
    pub fn status_text(&self) -> String {
        match &self.status_message {
            Some(message) if message != &self.status => format!("{}: {message}", self.status),
            _ => self.status.clone(),
        }
    }

    /// This side's "allow DNS resolution from the remote VPC" as read.
    pub fn remote_dns_resolution(&self, side: Side) -> Option<bool> {
        match side {
            Side::Requester => self.requester.allow_remote_vpc_dns_resolution,
            Side::Accepter => self.accepter.allow_remote_vpc_dns_resolution,
        }
    }

    fn from_sdk(pcx: &VpcPeeringConnection) -> Self {
        let side = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
            info.map(|info| PeeringSide {
                vpc_id: info.vpc_id().unwrap_or_default().to_string(),
                region: info.region().map(str::to_string),
                owner_id: info.owner_id().map(str::to_string),
                cidr_block: info.cidr_block().map(str::to_string),
                allow_remote_vpc_dns_resolution: info
                    .peering_options()
                    .and_then(|o| o.allow_dns_resolution_from_remote_vpc()),
            })
            .unwrap_or_default()
        };
        Self {
            id: pcx.vpc_peering_connection_id().unwrap_or_default().to_string(),
            status: pcx
                .status()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            status_message: pcx
                .status()
                .and_then(|s| s.message())
                .filter(|m| !m.is_empty())
                .map(str::to_string),
            requester: side(pcx.requester_vpc_info()),
            accepter: side(pcx.accepter_vpc_info()),
            tags: tag_map(pcx.tags()),
        }
    }
}

/// Which side of a peering an option change is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Requester,
    Accepter,
}

/// A filter, unlike RouteTableIds, doesn't fail the whole call when one id is gone.
fn route_table_id_filter(ids: &BTreeSet<String>) -> Filter {
    Filter::builder()
        .name("route-table-id")
        .set_values(Some(ids.iter().cloned().collect()))
        .build()
}

pub fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
        .collect()
}

pub(super) fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

impl Ec2 {
    pub fn new(client: Client, region: &str) -> Self {
        Self {
            client,
            region: region.to_string(),
            shared_reads: None,
        }
    }

    /// For ReadResource only: route tables another refresh of this plan has
    /// read (or is reading) are not described again (see `shared_reads`).
    pub fn sharing_reads(mut self, reads: Arc<SharedReads>, role_arn: Option<&str>) -> Self {
        let scope = Scope {
            region: self.region.clone(),
            role_arn: role_arn.map(str::to_string),
        };
        self.shared_reads = Some((reads, scope));
        self
    }

    // ----- finders -----

    pub async fn find_vpc(&self, vpc_id: &str) -> Result<Option<Vpc>, AwsError> {
        Ok(self
            .client
            .describe_vpcs()
            .vpc_ids(vpc_id)
            .send()
            .await
            .map_err(aws_err("DescribeVpcs", &self.region))
            .found()?
            .and_then(|out| out.vpcs().first().cloned()))
    }

    pub async fn find_peering(&self, peering_id: &str) -> Result<Option<Peering>, AwsError> {
        let result = self
            .client
            .describe_vpc_peering_connections()
            .vpc_peering_connection_ids(peering_id)
            .send()
            .await;
        Ok(result
            .map_err(aws_err("DescribeVpcPeeringConnections", &self.region))
            .found()?
            .and_then(|out| out.vpc_peering_connections().first().map(Peering::from_sdk)))
    }

    /// Route tables by id (at most one call); ids that don't exist are simply absent.
    pub async fn find_route_tables(&self, ids: &BTreeSet<String>) -> Result<Vec<RouteTable>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        match &self.shared_reads {
            Some((reads, scope)) => {
                let ec2 = self.clone();
                let describe = move |missing: BTreeSet<String>| {
                    async move { ec2.describe_route_tables(route_table_id_filter(&missing)).await }.boxed()
                };
                reads.route_tables(scope, ids, describe).await
            }
            None => self.describe_route_tables(route_table_id_filter(ids)).await,
        }
    }

    /// Every route table of a VPC.
    pub async fn find_route_tables_of_vpc(&self, vpc_id: &str) -> Result<Vec<RouteTable>, AwsError> {
        self.describe_route_tables(Filter::builder().name("vpc-id").values(vpc_id).build())
            .await
    }

    async fn describe_route_tables(&self, filter: Filter) -> Result<Vec<RouteTable>, AwsError> {
        let mut tables = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_route_tables()
                .filters(filter.clone())
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_err("DescribeRouteTables", &self.region))?;
            tables.extend(out.route_tables().iter().cloned());
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(tables);
            }
        }
    }

    // ----- peering mutations -----

    pub async fn create_peering(
        &self,
        vpc_id: &str,
        peer_vpc_id: &str,
        peer_region: &str,
        peer_owner_id: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        let mut request = self
            .client
            .create_vpc_peering_connection()
            .vpc_id(vpc_id)
            .peer_vpc_id(peer_vpc_id)
            .peer_region(peer_region)
            .set_peer_owner_id(peer_owner_id.map(str::to_string));
        if !tags.is_empty() {
            request = request.tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::VpcPeeringConnection)
                    .set_tags(Some(sdk_tags(tags)))
                    .build(),
            );
        }
        let out = request
            .send()
            .await
            .map_err(aws_err("CreateVpcPeeringConnection", &self.region))?;
        out.vpc_peering_connection()
            .and_then(|p| p.vpc_peering_connection_id())
            .map(str::to_string)
            .ok_or_else(|| AwsError {
                operation: "CreateVpcPeeringConnection",
                region: self.region.clone(),
                code: "MissingId".into(),
                message: "the response carried no peering id".into(),
            })
    }

    pub async fn accept_peering(&self, peering_id: &str) -> Result<(), AwsError> {
        self.client
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(peering_id)
            .send()
            .await
            .map_err(aws_err("AcceptVpcPeeringConnection", &self.region))?;
        Ok(())
    }

    /// Deletes a peering; one that is already gone is fine, and so is one
    /// EC2 can't move to `deleting` (a `failed` or `rejected` peering, which
    /// EC2 removes itself).
    pub async fn delete_peering(&self, peering_id: &str) -> Result<(), AwsError> {
        let result = self
            .client
            .delete_vpc_peering_connection()
            .vpc_peering_connection_id(peering_id)
            .send()
            .await
            .map_err(aws_err("DeleteVpcPeeringConnection", &self.region));
        match result {
            Err(err) if is_undeletable_peering(&err) => Ok(()),
            other => other.gone_ok(),
        }
    }

    /// Sets "allow DNS resolution from the remote VPC" for one side. Must be
    /// called in that side's region and account, on an active peering.
    pub async fn set_remote_dns_resolution(&self, peering_id: &str, side: Side, allow: bool) -> Result<(), AwsError> {
        let options = PeeringConnectionOptionsRequest::builder()
            .allow_dns_resolution_from_remote_vpc(allow)
            .build();
        let request = self
            .client
            .modify_vpc_peering_connection_options()
            .vpc_peering_connection_id(peering_id);
        let request = match side {
            Side::Requester => request.requester_peering_connection_options(options),
            Side::Accepter => request.accepter_peering_connection_options(options),
        };
        request
            .send()
            .await
            .map_err(aws_err("ModifyVpcPeeringConnectionOptions", &self.region))?;
        Ok(())
    }

    /// `set_remote_dns_resolution`, then `wait_for_peering_dns_option` for
    /// up to `PEERING_OPTIONS_PROPAGATION` (or `timeout`, if shorter). A read
    /// that still lags then is only logged: the option is set, and a later
    /// refresh reads it again.
    pub async fn set_remote_dns_resolution_and_wait(
        &self,
        peering_id: &str,
        side: Side,
        allow: bool,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        self.set_remote_dns_resolution(peering_id, side, allow).await?;
        let timeout = timeout.min(PEERING_OPTIONS_PROPAGATION);
        match self
            .wait_for_peering_dns_option(peering_id, side, allow, timeout, stop)
            .await
        {
            Err(WaitError::Timeout {
                what,
                after,
                last_state,
            }) => {
                tracing::warn!("timed out after {after:?} waiting for {what} (last read: {last_state})");
                Ok(())
            }
            other => other,
        }
    }

    pub async fn wait_for_peering(
        &self,
        peering_id: &str,
        wanted: &[&str],
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<Peering, WaitError> {
        let what = format!(
            "VPC peering {peering_id} in {} to be {}",
            self.region,
            wanted.join(" or ")
        );
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            Ok(match self.find_peering(peering_id).await? {
                Some(p) if wanted.contains(&p.status.as_str()) => Poll::Ready(p),
                Some(p) if p.is_gone() => Poll::Failed(p.status_text()),
                Some(p) => Poll::Pending(p.status_text()),
                // Eventual consistency: a new peering may not be listed yet.
                None => Poll::Pending("not yet visible".into()),
            })
        })
        .await
    }

    /// After `set_remote_dns_resolution`: reads the peering (in this side's
    /// region) until the option shows `allow`, for up to `timeout` (one
    /// minute is EC2's usual propagation; provider-aws
    /// `VPCPeeringConnectionOptionsPropagationTimeout`), so that the next
    /// read can't show a stale value as drift.
    pub async fn wait_for_peering_dns_option(
        &self,
        peering_id: &str,
        side: Side,
        allow: bool,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        let what = format!(
            "the DNS resolution option of VPC peering {peering_id} in {} to read {allow}",
            self.region
        );
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            Ok(match self.find_peering(peering_id).await? {
                Some(p) if p.remote_dns_resolution(side).unwrap_or(false) == allow => Poll::Ready(()),
                Some(p) if p.is_gone() => Poll::Failed(p.status_text()),
                Some(p) => Poll::Pending(format!("{:?}", p.remote_dns_resolution(side))),
                None => Poll::Pending("not yet visible".into()),
            })
        })
        .await
    }

    /// Waits until a peering is deleted (or no longer listed).
    pub async fn wait_for_peering_deleted(
        &self,
        peering_id: &str,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        let what = format!("VPC peering {peering_id} in {} to be deleted", self.region);
        wait_until(&what, timeout, Backoff::default(), stop, || async {
            Ok(match self.find_peering(peering_id).await? {
                Some(p) if !p.is_gone() || p.status == "deleting" => Poll::Pending(p.status),
                _ => Poll::Ready(()),
            })
        })
        .await
    }

    // ----- routes and tags -----

    /// Adds `cidr → peering` to a route table. An identical route already
    /// there (a retried apply) counts as done; a leftover route to `cidr`
    /// through a peering that no longer exists (a blackhole) is taken over;
    /// a route to `cidr` through anything live is a conflict.
    pub async fn create_peering_route(
        &self,
        route_table_id: &str,
        cidr: &str,
        peering_id: &str,
    ) -> Result<(), AwsError> {
        let result = self
            .client
            .create_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(cidr)
            .vpc_peering_connection_id(peering_id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                let err = AwsError::from_sdk("CreateRoute", &self.region, err);
                if err.code != "RouteAlreadyExists" {
                    return Err(err);
                }
                self.take_over_route(route_table_id, cidr, peering_id, err).await
            }
        }
    }

    async fn take_over_route(
        &self,
        route_table_id: &str,
        cidr: &str,
        peering_id: &str,
        conflict: AwsError,
    ) -> Result<(), AwsError> {
        let tables = self
            .find_route_tables(&BTreeSet::from([route_table_id.to_string()]))
            .await?;
        let existing = tables
            .iter()
            .flat_map(|t| t.routes())
            .find(|r| r.destination_cidr_block() == Some(cidr))
            .cloned();
        let Some(existing) = existing else {
            return Err(conflict);
        };
        let dead_peering = match existing.vpc_peering_connection_id() {
            Some(id) if id == peering_id => return Ok(()),
            Some(other) => {
                existing.state().is_some_and(|s| s.as_str() == "blackhole")
                    || self.find_peering(other).await?.is_none_or(|p| p.is_gone())
            }
            None => false,
        };
        if !dead_peering {
            let target = existing
                .gateway_id()
                .or(existing.nat_gateway_id())
                .or(existing.vpc_peering_connection_id())
                .or(existing.transit_gateway_id())
                .unwrap_or("another target");
            return Err(AwsError {
                message: format!(
                    "route table {route_table_id} already routes {cidr} to {target}; remove that route or leave \
                     the table out of route_table_ids"
                ),
                ..conflict
            });
        }
        self.client
            .replace_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(cidr)
            .vpc_peering_connection_id(peering_id)
            .send()
            .await
            .map_err(aws_err("ReplaceRoute", &self.region))?;
        Ok(())
    }

    async fn has_peering_route(&self, route_table_id: &str, cidr: &str, peering_id: &str) -> Result<bool, AwsError> {
        let tables = self
            .find_route_tables(&BTreeSet::from([route_table_id.to_string()]))
            .await?;
        Ok(tables.iter().any(|t| routes_via(t, cidr, peering_id)))
    }

    /// Removes the route to `cidr` if it still points at `peering_id`;
    /// a route or table that is already gone is fine.
    pub async fn delete_peering_route(
        &self,
        route_table_id: &str,
        cidr: &str,
        peering_id: &str,
    ) -> Result<(), AwsError> {
        if !self.has_peering_route(route_table_id, cidr, peering_id).await? {
            return Ok(());
        }
        self.client
            .delete_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(cidr)
            .send()
            .await
            .map_err(aws_err("DeleteRoute", &self.region))
            .gone_ok()
    }

    /// Adds (or sets) `tags` on one resource.
    pub async fn add_tags(&self, resource_id: &str, tags: &BTreeMap<String, String>) -> Result<(), AwsError> {
        if tags.is_empty() {
            return Ok(());
        }
        self.client
            .create_tags()
            .resources(resource_id)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(aws_err("CreateTags", &self.region))?;
        Ok(())
    }

    /// Removes the tags with `keys` (whatever their values) from one
    /// resource; a resource that is gone is fine.
    pub async fn remove_tags(&self, resource_id: &str, keys: &[String]) -> Result<(), AwsError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.client
            .delete_tags()
            .resources(resource_id)
            .set_tags(Some(keys.iter().map(|k| Tag::builder().key(k).build()).collect()))
            .send()
            .await
            .map_err(aws_err("DeleteTags", &self.region))
            .gone_ok()
    }

    /// Removes tag `key` from `resource_ids` where its value is `value`
    /// (DeleteTags with a value leaves another value alone); resources
    /// that are gone are fine.
    pub async fn remove_tag_if(&self, resource_ids: &[String], key: &str, value: &str) -> Result<(), AwsError> {
        if resource_ids.is_empty() {
            return Ok(());
        }
        self.client
            .delete_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .tags(Tag::builder().key(key).value(value).build())
            .send()
            .await
            .map_err(aws_err("DeleteTags", &self.region))
            .gone_ok()
    }

    /// Makes the tags of `resource_id` exactly `wanted`, given the current ones.
    /// Moves the tags of `resource_ids` from `current` to `wanted`, leaving
    /// keys in neither (such as `Name`) alone. Two calls for any number of ids.
    pub async fn sync_tags(
        &self,
        resource_ids: &[String],
        current: &BTreeMap<String, String>,
        wanted: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        let diff = super::tags::diff(current, wanted);
        if !diff.removed.is_empty() {
            self.client
                .delete_tags()
                .set_resources(Some(resource_ids.to_vec()))
                .set_tags(Some(
                    diff.removed.iter().map(|k| Tag::builder().key(k).build()).collect(),
                ))
                .send()
                .await
                .map_err(aws_err("DeleteTags", &self.region))?;
        }
        if !diff.changed.is_empty() {
            self.client
                .create_tags()
                .set_resources(Some(resource_ids.to_vec()))
                .set_tags(Some(sdk_tags(&diff.changed)))
                .send()
                .await
                .map_err(aws_err("CreateTags", &self.region))?;
        }
        Ok(())
    }
}

/// How long a peering option change takes to show in reads.
pub const PEERING_OPTIONS_PROPAGATION: Duration = Duration::from_secs(60);

/// DeleteVpcPeeringConnection's answer for a peering in a state that can't
/// become `deleting` (`failed`, `rejected`): nothing left to delete.
pub fn is_undeletable_peering(err: &AwsError) -> bool {
    err.code == "InvalidStateTransition" && err.message.contains("to deleting")
}

/// Does the table route `cidr` through `peering_id`?
pub fn routes_via(table: &RouteTable, cidr: &str, peering_id: &str) -> bool {
    table.routes().iter().any(|route| {
        route.destination_cidr_block() == Some(cidr) && route.vpc_peering_connection_id() == Some(peering_id)
    })
}

/// Every IPv4 CIDR associated with a VPC (primary and secondary).
pub fn vpc_cidrs(vpc: &Vpc) -> Vec<IpNet> {
    let mut cidrs: Vec<IpNet> = vpc
        .cidr_block_association_set()
        .iter()
        .filter(|assoc| {
            assoc
                .cidr_block_state()
                .and_then(|s| s.state())
                .is_none_or(|state| matches!(state.as_str(), "associated" | "associating"))
        })
        .filter_map(|assoc| assoc.cidr_block()?.parse().ok())
        .collect();
    if let Some(primary) = vpc.cidr_block().and_then(|c| c.parse().ok())
        && !cidrs.contains(&primary)
    {
        cidrs.insert(0, primary);
    }
    cidrs
}

/// The first pair of overlapping networks, if any.
pub fn first_overlap(a: &[IpNet], b: &[IpNet]) -> Option<(IpNet, IpNet)> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| (*x, *y)))
        .find(|(x, y)| x.contains(&y.network()) || y.contains(&x.network()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn a_failed_peering_needs_no_delete() {
        let err = AwsError {
            operation: "DeleteVpcPeeringConnection",
            region: "us-east-1".into(),
            code: "InvalidStateTransition".into(),
            message: "Invalid state transition for pcx-0123, attempted to transition from failed to deleting".into(),
        };
        assert!(is_undeletable_peering(&err));
        let other = AwsError {
            message: "attempted to transition from active to pending-acceptance".into(),
            ..err
        };
        assert!(!is_undeletable_peering(&other));
    }

    #[test]
    fn peering_status_text_carries_the_reason() {
        let peering = Peering {
            status: "failed".into(),
            status_message: Some("Overlapping CIDR range".into()),
            ..Default::default()
        };
        assert_eq!(peering.status_text(), "failed: Overlapping CIDR range");
        let bare = Peering {
            status: "active".into(),
            status_message: Some("active".into()),
            ..Default::default()
        };
        assert_eq!(bare.status_text(), "active");
    }

    #[test]
    fn overlap_is_found_in_either_direction() {
        assert!(first_overlap(&nets(&["10.0.0.0/16"]), &nets(&["10.0.128.0/20"])).is_some());
        assert!(first_overlap(&nets(&["10.0.128.0/20"]), &nets(&["10.0.0.0/8"])).is_some());
        assert!(first_overlap(&nets(&["10.0.0.0/16"]), &nets(&["10.1.0.0/16", "172.16.0.0/12"])).is_none());
    }

    #[test]
    fn secondary_cidrs_count_for_overlap() {
        let vpc = Vpc::builder()
            .cidr_block("10.0.0.0/16")
            .cidr_block_association_set(
                aws_sdk_ec2::types::VpcCidrBlockAssociation::builder()
                    .cidr_block("100.64.0.0/16")
                    .build(),
            )
            .build();
        assert_eq!(vpc_cidrs(&vpc), nets(&["10.0.0.0/16", "100.64.0.0/16"]));
    }
}
