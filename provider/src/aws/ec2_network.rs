//! EC2 networking for a regional cluster: VPC, subnets, internet and NAT
//! gateways, route tables and a security group. Creates return the new id
//! before anything else is done to the object (so the caller records it
//! first); deletes accept "already gone".

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, IpPermission, IpRange, ResourceType, Subnet, Tag, TagSpecification,
};

use super::AwsError;
use super::ec2::Ec2;
use super::error::AwsResultExt;
use super::error::aws_err;
use super::waiters::{
    Backoff, EC2_PROPAGATION, Poll, StopSignal, WaitError, retry_new_id_not_found, retry_while, wait_until,
};

fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

/// Runs a delete, treating "not found" (and "already detached") as done.
fn gone_ok<T, E, R>(
    operation: &'static str,
    region: &str,
    result: Result<T, aws_sdk_ec2::error::SdkError<E, R>>,
) -> Result<(), AwsError>
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result.map_err(aws_err(operation, region)) {
        Err(err) if err.code == "Gateway.NotAttached" => Ok(()),
        other => other.gone_ok(),
    }
}

/// Sends `op` once, or, with `new_ids` (ids in it were created a moment
/// ago), again while EC2 does not know them yet (`retry_new_id_not_found`).
async fn send_naming<T, F, Fut>(new_ids: Option<&StopSignal>, op: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    match new_ids {
        Some(stop) => retry_new_id_not_found(stop, op).await,
        None => {
            let mut op = op;
            op().await
        }
    }
}

/// A live NAT gateway of a VPC: its subnet and its Elastic IP allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcNatGateway {
    pub id: String,
    pub subnet_id: String,
    pub allocation_id: Option<String>,
}

/// The calls the create path makes on ids EC2 returned a moment ago, each
/// retried while EC2 still answers `Invalid*ID.NotFound` for them, for up
/// to `EC2_PROPAGATION` (EC2 eventual consistency; provider-aws
/// `RetryWhenNewResourceNotFound`). Every method here retries; the
/// same-named `Ec2` methods send once (for ids that may have been deleted,
/// where NotFound means gone).
pub struct NewIds<'a> {
    ec2: &'a Ec2,
    stop: &'a StopSignal,
}

impl Ec2 {
    /// The calls on ids just created, retried while EC2 doesn't know them yet.
    pub fn with_new_ids<'a>(&'a self, stop: &'a StopSignal) -> NewIds<'a> {
        NewIds { ec2: self, stop }
    }
}

impl NewIds<'_> {
    /// `Ec2::enable_vpc_dns` on a new VPC.
    pub async fn enable_vpc_dns(&self, vpc_id: &str) -> Result<(), AwsError> {
        self.ec2.enable_vpc_dns_naming(vpc_id, Some(self.stop)).await
    }

    /// `Ec2::attach_internet_gateway` of a new gateway and/or to a new VPC.
    pub async fn attach_internet_gateway(&self, id: &str, vpc_id: &str) -> Result<(), AwsError> {
        self.ec2
            .attach_internet_gateway_naming(id, vpc_id, Some(self.stop))
            .await
    }

    /// `Ec2::create_subnet` in a new VPC.
    pub async fn create_subnet(
        &self,
        vpc_id: &str,
        cidr: &str,
        zone: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        self.ec2
            .create_subnet_naming(vpc_id, cidr, zone, tags, Some(self.stop))
            .await
    }

    /// `Ec2::create_route_table` in a new VPC.
    pub async fn create_route_table(&self, vpc_id: &str, tags: &BTreeMap<String, String>) -> Result<String, AwsError> {
        self.ec2.create_route_table_naming(vpc_id, tags, Some(self.stop)).await
    }

    /// `Ec2::configure_route_table` for a new table, gateway or subnets
    /// (each step retried on its own, so a route made is not made twice).
    pub async fn configure_route_table(
        &self,
        id: &str,
        default_route: Option<DefaultRoute<'_>>,
        subnet_ids: &[String],
    ) -> Result<(), AwsError> {
        self.ec2
            .configure_route_table_naming(id, default_route, subnet_ids, Some(self.stop))
            .await
    }

    /// `Ec2::create_nat_gateway` in a new subnet and/or with a new Elastic IP.
    pub async fn create_nat_gateway(
        &self,
        subnet_id: &str,
        allocation_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        self.ec2
            .create_nat_gateway_naming(subnet_id, allocation_id, tags, Some(self.stop))
            .await
    }

    /// `Ec2::create_api_security_group` in a new VPC.
    pub async fn create_api_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        self.ec2
            .create_api_security_group_naming(vpc_id, name, tags, Some(self.stop))
            .await
    }

    /// `Ec2::https_cidrs` of a group EKS or a listing reported a moment
    /// ago (an import right after the create that made it).
    pub async fn https_cidrs(&self, group_id: &str) -> Result<Vec<String>, AwsError> {
        self.ec2.https_cidrs_naming(group_id, Some(self.stop)).await
    }

    /// `Ec2::authorize_api_cidrs` on a new security group.
    pub async fn authorize_api_cidrs(&self, group_id: &str, cidrs: &[String]) -> Result<(), AwsError> {
        self.ec2
            .authorize_api_cidrs_naming(group_id, cidrs, Some(self.stop))
            .await
    }
}

impl Ec2 {
    pub async fn create_vpc(&self, cidr: &str, tags: &BTreeMap<String, String>) -> Result<String, AwsError> {
        let out = self
            .client
            .create_vpc()
            .cidr_block(cidr)
            .tag_specifications(tag_spec(ResourceType::Vpc, tags))
            .send()
            .await
            .map_err(aws_err("CreateVpc", &self.region))?;
        let id = out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string();
        Ok(id)
    }

    /// DNS support and hostnames on: the private endpoint resolves through
    /// VPC DNS, and nodes register by their DNS hostnames.
    pub async fn enable_vpc_dns(&self, vpc_id: &str) -> Result<(), AwsError> {
        self.enable_vpc_dns_naming(vpc_id, None).await
    }

    async fn enable_vpc_dns_naming(&self, vpc_id: &str, new_ids: Option<&StopSignal>) -> Result<(), AwsError> {
        let on = || AttributeBooleanValue::builder().value(true).build();
        let modify = || self.client.modify_vpc_attribute().vpc_id(vpc_id);
        send_naming(new_ids, || async {
            modify()
                .enable_dns_support(on())
                .send()
                .await
                .map_err(aws_err("ModifyVpcAttribute", &self.region))
        })
        .await?;
        send_naming(new_ids, || async {
            modify()
                .enable_dns_hostnames(on())
                .send()
                .await
                .map_err(aws_err("ModifyVpcAttribute", &self.region))
        })
        .await?;
        Ok(())
    }

    pub async fn delete_vpc(&self, vpc_id: &str) -> Result<(), AwsError> {
        gone_ok(
            "DeleteVpc",
            &self.region,
            self.client.delete_vpc().vpc_id(vpc_id).send().await,
        )
    }

    /// Names of the region's available zones, sorted.
    pub async fn availability_zones(&self) -> Result<Vec<String>, AwsError> {
        let out = self
            .client
            .describe_availability_zones()
            .filters(Filter::builder().name("state").values("available").build())
            .send()
            .await
            .map_err(aws_err("DescribeAvailabilityZones", &self.region))?;
        let mut zones: Vec<String> = out
            .availability_zones()
            .iter()
            .filter_map(|z| z.zone_name().map(str::to_string))
            .collect();
        zones.sort();
        Ok(zones)
    }

    pub async fn create_subnet(
        &self,
        vpc_id: &str,
        cidr: &str,
        zone: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        self.create_subnet_naming(vpc_id, cidr, zone, tags, None).await
    }

    async fn create_subnet_naming(
        &self,
        vpc_id: &str,
        cidr: &str,
        zone: &str,
        tags: &BTreeMap<String, String>,
        new_ids: Option<&StopSignal>,
    ) -> Result<String, AwsError> {
        let out = send_naming(new_ids, || async {
            self.client
                .create_subnet()
                .vpc_id(vpc_id)
                .cidr_block(cidr)
                .availability_zone(zone)
                .tag_specifications(tag_spec(ResourceType::Subnet, tags))
                .send()
                .await
                .map_err(aws_err("CreateSubnet", &self.region))
        })
        .await?;
        Ok(out.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string())
    }

    pub async fn find_subnets(&self, ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let filter = Filter::builder()
            .name("subnet-id")
            .set_values(Some(ids.to_vec()))
            .build();
        let out = self
            .client
            .describe_subnets()
            .filters(filter)
            .send()
            .await
            .map_err(aws_err("DescribeSubnets", &self.region))?;
        Ok(out.subnets().to_vec())
    }

    pub async fn delete_subnet(&self, id: &str) -> Result<(), AwsError> {
        gone_ok(
            "DeleteSubnet",
            &self.region,
            self.client.delete_subnet().subnet_id(id).send().await,
        )
    }

    pub async fn create_internet_gateway(&self, tags: &BTreeMap<String, String>) -> Result<String, AwsError> {
        let out = self
            .client
            .create_internet_gateway()
            .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
            .send()
            .await
            .map_err(aws_err("CreateInternetGateway", &self.region))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .unwrap_or_default()
            .to_string();
        Ok(id)
    }

    pub async fn attach_internet_gateway(&self, id: &str, vpc_id: &str) -> Result<(), AwsError> {
        self.attach_internet_gateway_naming(id, vpc_id, None).await
    }

    async fn attach_internet_gateway_naming(
        &self,
        id: &str,
        vpc_id: &str,
        new_ids: Option<&StopSignal>,
    ) -> Result<(), AwsError> {
        send_naming(new_ids, || async {
            self.client
                .attach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc_id)
                .send()
                .await
                .map_err(aws_err("AttachInternetGateway", &self.region))
        })
        .await?;
        Ok(())
    }

    pub async fn delete_internet_gateway(&self, id: &str, vpc_id: &str) -> Result<(), AwsError> {
        let detach = self
            .client
            .detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc_id)
            .send()
            .await;
        gone_ok("DetachInternetGateway", &self.region, detach)?;
        let delete = self
            .client
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await;
        gone_ok("DeleteInternetGateway", &self.region, delete)
    }

    /// A route table with a default route (to an internet or NAT gateway),
    /// associated with `subnet_ids`.
    pub async fn create_route_table(&self, vpc_id: &str, tags: &BTreeMap<String, String>) -> Result<String, AwsError> {
        self.create_route_table_naming(vpc_id, tags, None).await
    }

    async fn create_route_table_naming(
        &self,
        vpc_id: &str,
        tags: &BTreeMap<String, String>,
        new_ids: Option<&StopSignal>,
    ) -> Result<String, AwsError> {
        // The SDK gives CreateRouteTable one client token per call, so a
        // retried send here can't make a second table.
        let out = send_naming(new_ids, || async {
            self.client
                .create_route_table()
                .vpc_id(vpc_id)
                .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
                .send()
                .await
                .map_err(aws_err("CreateRouteTable", &self.region))
        })
        .await?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .unwrap_or_default()
            .to_string();
        Ok(id)
    }

    /// Gives a route table its default route (to an internet or NAT
    /// gateway) and associates it with `subnet_ids`.
    pub async fn configure_route_table(
        &self,
        id: &str,
        default_route: Option<DefaultRoute<'_>>,
        subnet_ids: &[String],
    ) -> Result<(), AwsError> {
        self.configure_route_table_naming(id, default_route, subnet_ids, None)
            .await
    }

    async fn configure_route_table_naming(
        &self,
        id: &str,
        default_route: Option<DefaultRoute<'_>>,
        subnet_ids: &[String],
        new_ids: Option<&StopSignal>,
    ) -> Result<(), AwsError> {
        if let Some(route) = default_route {
            let request = self
                .client
                .create_route()
                .route_table_id(id)
                .destination_cidr_block("0.0.0.0/0");
            let request = match route {
                DefaultRoute::InternetGateway(gateway) => request.gateway_id(gateway),
                DefaultRoute::NatGateway(nat) => request.nat_gateway_id(nat),
            };
            send_naming(new_ids, || {
                let request = request.clone();
                async move { request.send().await.map_err(aws_err("CreateRoute", &self.region)) }
            })
            .await?;
        }
        for subnet in subnet_ids {
            send_naming(new_ids, || async {
                self.client
                    .associate_route_table()
                    .route_table_id(id)
                    .subnet_id(subnet)
                    .send()
                    .await
                    .map_err(aws_err("AssociateRouteTable", &self.region))
            })
            .await?;
        }
        Ok(())
    }

    /// Removes a route table's subnet associations, then the table.
    pub async fn delete_route_table(&self, id: &str) -> Result<(), AwsError> {
        let tables = self
            .find_route_tables(&std::collections::BTreeSet::from([id.to_string()]))
            .await?;
        for association in tables.iter().flat_map(|t| t.associations()) {
            if association.main() == Some(true) {
                continue;
            }
            if let Some(association_id) = association.route_table_association_id() {
                let result = self
                    .client
                    .disassociate_route_table()
                    .association_id(association_id)
                    .send()
                    .await;
                gone_ok("DisassociateRouteTable", &self.region, result)?;
            }
        }
        gone_ok(
            "DeleteRouteTable",
            &self.region,
            self.client.delete_route_table().route_table_id(id).send().await,
        )
    }

    pub async fn allocate_eip(&self, tags: &BTreeMap<String, String>) -> Result<String, AwsError> {
        let out = self
            .client
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
            .send()
            .await
            .map_err(aws_err("AllocateAddress", &self.region))?;
        Ok(out.allocation_id().unwrap_or_default().to_string())
    }

    /// Releases an Elastic IP; only `InvalidAllocationID.NotFound` counts
    /// as already released (any other NotFound, such as
    /// `InvalidNetworkInterfaceID.NotFound` right after its NAT gateway was
    /// deleted, means it is still held).
    pub async fn release_eip(&self, allocation_id: &str) -> Result<(), AwsError> {
        let result = self
            .client
            .release_address()
            .allocation_id(allocation_id)
            .send()
            .await
            .map_err(aws_err("ReleaseAddress", &self.region));
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_eip_released(&err) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// `release_eip` for the address of a NAT gateway just deleted: retried
    /// for up to `timeout` while EC2 still ties it to the gateway's network
    /// interface (`AuthFailure`, `InvalidIPAddress.InUse`,
    /// `InvalidNetworkInterfaceID.NotFound`; provider-aws #49299,
    /// terraform-aws-vpc #64). Five minutes is enough in practice.
    pub async fn release_eip_after_nat(
        &self,
        allocation_id: &str,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), AwsError> {
        retry_while(
            "waiting for the NAT gateway to let go of its Elastic IP",
            timeout,
            stop,
            is_eip_still_held_by_nat,
            || self.release_eip(allocation_id),
        )
        .await
    }

    pub async fn create_nat_gateway(
        &self,
        subnet_id: &str,
        allocation_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        self.create_nat_gateway_naming(subnet_id, allocation_id, tags, None)
            .await
    }

    async fn create_nat_gateway_naming(
        &self,
        subnet_id: &str,
        allocation_id: &str,
        tags: &BTreeMap<String, String>,
        new_ids: Option<&StopSignal>,
    ) -> Result<String, AwsError> {
        // One client token per send (the SDK fills it): a retried send after
        // NotFound can't make a second gateway.
        let out = send_naming(new_ids, || async {
            self.client
                .create_nat_gateway()
                .subnet_id(subnet_id)
                .allocation_id(allocation_id)
                .tag_specifications(tag_spec(ResourceType::Natgateway, tags))
                .send()
                .await
                .map_err(aws_err("CreateNatGateway", &self.region))
        })
        .await?;
        Ok(out
            .nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .unwrap_or_default()
            .to_string())
    }

    /// The NAT gateway's state (`pending`, `available`, `deleting`, `deleted`, `failed`), if it exists.
    pub async fn nat_gateway_state(&self, id: &str) -> Result<Option<String>, AwsError> {
        Ok(self.find_nat_gateway(id).await?.map(|n| n.state))
    }

    /// A NAT gateway's state and, when it failed, why.
    pub async fn find_nat_gateway(&self, id: &str) -> Result<Option<NatGatewayFacts>, AwsError> {
        Ok(self
            .client
            .describe_nat_gateways()
            .nat_gateway_ids(id)
            .send()
            .await
            .map_err(aws_err("DescribeNatGateways", &self.region))
            .found()?
            .and_then(|out| {
                out.nat_gateways().first().map(|n| NatGatewayFacts {
                    state: n.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    failure_code: n.failure_code().map(str::to_string),
                    failure_message: n.failure_message().map(str::to_string),
                })
            }))
    }

    /// Of `ids`, the NAT gateways that are `available` or `pending` (one
    /// call). A filter, unlike NatGatewayIds, doesn't fail the whole call when
    /// one of them is gone.
    pub async fn live_nat_gateways(&self, ids: &[String]) -> Result<BTreeSet<String>, AwsError> {
        if ids.is_empty() {
            return Ok(BTreeSet::new());
        }
        let out = self
            .client
            .describe_nat_gateways()
            .filter(
                Filter::builder()
                    .name("nat-gateway-id")
                    .set_values(Some(ids.to_vec()))
                    .build(),
            )
            .send()
            .await
            .map_err(aws_err("DescribeNatGateways", &self.region))?;
        Ok(out
            .nat_gateways()
            .iter()
            .filter(|n| matches!(n.state().map(|s| s.as_str()), Some("available" | "pending")))
            .filter_map(|n| n.nat_gateway_id().map(str::to_string))
            .collect())
    }

    pub async fn wait_for_nat_gateway(
        &self,
        id: &str,
        wanted: &'static str,
        timeout: Duration,
        stop: &StopSignal,
    ) -> Result<(), WaitError> {
        let what = format!("NAT gateway {id} in {} to be {wanted}", self.region);
        let started = std::time::Instant::now();
        wait_until(&what, timeout, Backoff::default(), stop, || async move {
            Ok(match self.find_nat_gateway(id).await? {
                Some(nat) if nat.state == wanted => Poll::Ready(()),
                None if wanted == "deleted" => Poll::Ready(()),
                // A failed gateway holds nothing and is purged by EC2 itself.
                Some(nat) if nat.state == "failed" && wanted == "deleted" => Poll::Ready(()),
                Some(nat) if nat.state == "failed" => Poll::Failed(nat.failure_text()),
                Some(nat) => Poll::Pending(nat.state),
                // Right after CreateNatGateway, EC2 may not list the new id
                // yet (eventual consistency): pending, for EC2_PROPAGATION.
                None if started.elapsed() < EC2_PROPAGATION => Poll::Pending("not yet visible".into()),
                None => Poll::Failed(format!("not found {EC2_PROPAGATION:?} after it was created")),
            })
        })
        .await
    }

    /// Points a route table's `0.0.0.0/0` at a NAT gateway (replacing a
    /// blackhole route left by a deleted one, or adding it).
    pub async fn set_default_route_to_nat(&self, route_table_id: &str, nat_id: &str) -> Result<(), AwsError> {
        let replaced = self
            .client
            .replace_route()
            .route_table_id(route_table_id)
            .destination_cidr_block("0.0.0.0/0")
            .nat_gateway_id(nat_id)
            .send()
            .await;
        // No default route to replace (it was removed): add one.
        if replaced
            .map_err(aws_err("ReplaceRoute", &self.region))
            .found()?
            .is_none()
        {
            self.client
                .create_route()
                .route_table_id(route_table_id)
                .destination_cidr_block("0.0.0.0/0")
                .nat_gateway_id(nat_id)
                .send()
                .await
                .map_err(aws_err("CreateRoute", &self.region))?;
        }
        Ok(())
    }

    pub async fn delete_nat_gateway(&self, id: &str) -> Result<(), AwsError> {
        let result = self.client.delete_nat_gateway().nat_gateway_id(id).send().await;
        gone_ok("DeleteNatGateway", &self.region, result)
    }

    /// The security group that admits `api_allowed_cidrs` to the API (rules
    /// are added with `authorize_api_cidrs`).
    pub async fn create_api_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        self.create_api_security_group_naming(vpc_id, name, tags, None).await
    }

    async fn create_api_security_group_naming(
        &self,
        vpc_id: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
        new_ids: Option<&StopSignal>,
    ) -> Result<String, AwsError> {
        let out = send_naming(new_ids, || async {
            self.client
                .create_security_group()
                .vpc_id(vpc_id)
                .group_name(name)
                .description("Kubernetes API access for peered networks (terraform-provider-fleet)")
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, tags))
                .send()
                .await
                .map_err(aws_err("CreateSecurityGroup", &self.region))
        })
        .await?;
        let id = out.group_id().unwrap_or_default().to_string();
        Ok(id)
    }

    pub async fn authorize_api_cidrs(&self, group_id: &str, cidrs: &[String]) -> Result<(), AwsError> {
        self.authorize_api_cidrs_naming(group_id, cidrs, None).await
    }

    async fn authorize_api_cidrs_naming(
        &self,
        group_id: &str,
        cidrs: &[String],
        new_ids: Option<&StopSignal>,
    ) -> Result<(), AwsError> {
        if cidrs.is_empty() {
            return Ok(());
        }
        send_naming(new_ids, || async {
            self.client
                .authorize_security_group_ingress()
                .group_id(group_id)
                .ip_permissions(https_from(cidrs))
                .send()
                .await
                .map_err(aws_err("AuthorizeSecurityGroupIngress", &self.region))
        })
        .await?;
        Ok(())
    }

    pub async fn revoke_api_cidrs(&self, group_id: &str, cidrs: &[String]) -> Result<(), AwsError> {
        if cidrs.is_empty() {
            return Ok(());
        }
        let permission = https_from(cidrs);
        let result = self
            .client
            .revoke_security_group_ingress()
            .group_id(group_id)
            .ip_permissions(permission)
            .send()
            .await;
        gone_ok("RevokeSecurityGroupIngress", &self.region, result)
    }

    pub async fn delete_security_group(&self, id: &str) -> Result<(), AwsError> {
        let result = self.client.delete_security_group().group_id(id).send().await;
        gone_ok("DeleteSecurityGroup", &self.region, result)
    }
}

/// A NAT gateway as the waits need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatGatewayFacts {
    pub state: String,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
}

impl NatGatewayFacts {
    /// `failed: Gateway.NotAttached: Network vpc-… has no Internet gateway attached`.
    pub fn failure_text(&self) -> String {
        let reason: Vec<&str> = [self.failure_code.as_deref(), self.failure_message.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        if reason.is_empty() {
            self.state.clone()
        } else {
            format!("{}: {}", self.state, reason.join(": "))
        }
    }
}

/// ReleaseAddress's answer for an address that no longer exists.
pub fn is_eip_released(err: &AwsError) -> bool {
    err.code == "InvalidAllocationID.NotFound"
}

/// ReleaseAddress's answers while a NAT gateway being deleted (or just
/// deleted) still holds the address.
pub fn is_eip_still_held_by_nat(err: &AwsError) -> bool {
    matches!(
        err.code.as_str(),
        "AuthFailure" | "InvalidIPAddress.InUse" | "InvalidNetworkInterfaceID.NotFound"
    )
}

/// TCP 443 (the Kubernetes API) from `cidrs`.
fn https_from(cidrs: &[String]) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .set_ip_ranges(Some(
            cidrs.iter().map(|c| IpRange::builder().cidr_ip(c).build()).collect(),
        ))
        .build()
}

/// Where a route table's `0.0.0.0/0` goes.
#[derive(Debug, Clone, Copy)]
pub enum DefaultRoute<'a> {
    InternetGateway(&'a str),
    NatGateway(&'a str),
}

/// Finders by VPC, for adopting an existing cluster's network on import.
impl Ec2 {
    fn vpc_filter(name: &str, vpc_id: &str) -> Filter {
        Filter::builder().name(name).values(vpc_id).build()
    }

    pub async fn subnets_of_vpc(&self, vpc_id: &str) -> Result<Vec<Subnet>, AwsError> {
        let out = self
            .client
            .describe_subnets()
            .filters(Self::vpc_filter("vpc-id", vpc_id))
            .send()
            .await
            .map_err(aws_err("DescribeSubnets", &self.region))?;
        Ok(out.subnets().to_vec())
    }

    pub async fn internet_gateway_of_vpc(&self, vpc_id: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .describe_internet_gateways()
            .filters(Self::vpc_filter("attachment.vpc-id", vpc_id))
            .send()
            .await
            .map_err(aws_err("DescribeInternetGateways", &self.region))?;
        Ok(out
            .internet_gateways()
            .first()
            .and_then(|g| g.internet_gateway_id())
            .map(str::to_string))
    }

    /// Live (available or pending) NAT gateways of a VPC.
    pub async fn nat_gateways_of_vpc(&self, vpc_id: &str) -> Result<Vec<VpcNatGateway>, AwsError> {
        let out = self
            .client
            .describe_nat_gateways()
            .filter(Self::vpc_filter("vpc-id", vpc_id))
            .send()
            .await
            .map_err(aws_err("DescribeNatGateways", &self.region))?;
        Ok(out
            .nat_gateways()
            .iter()
            .filter(|n| matches!(n.state().map(|s| s.as_str()), Some("available" | "pending")))
            .filter_map(|n| {
                Some(VpcNatGateway {
                    id: n.nat_gateway_id()?.to_string(),
                    subnet_id: n.subnet_id().unwrap_or_default().to_string(),
                    allocation_id: n
                        .nat_gateway_addresses()
                        .first()
                        .and_then(|a| a.allocation_id())
                        .map(str::to_string),
                })
            })
            .collect())
    }

    /// CIDRs a security group admits on 443.
    pub async fn https_cidrs(&self, group_id: &str) -> Result<Vec<String>, AwsError> {
        self.https_cidrs_naming(group_id, None).await
    }

    async fn https_cidrs_naming(&self, group_id: &str, new_ids: Option<&StopSignal>) -> Result<Vec<String>, AwsError> {
        let out = send_naming(new_ids, || async {
            self.client
                .describe_security_groups()
                .group_ids(group_id)
                .send()
                .await
                .map_err(aws_err("DescribeSecurityGroups", &self.region))
        })
        .await?;
        Ok(out
            .security_groups()
            .iter()
            .flat_map(|g| g.ip_permissions())
            .filter(|p| p.from_port() == Some(443))
            .flat_map(|p| p.ip_ranges().iter().filter_map(|r| r.cidr_ip().map(str::to_string)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws_error(code: &str) -> AwsError {
        AwsError {
            operation: "ReleaseAddress",
            region: "us-east-1".into(),
            code: code.into(),
            message: String::new(),
        }
    }

    #[tokio::test]
    async fn only_calls_on_new_ids_are_retried_on_not_found() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let stop = StopSignal::default();
        let calls = AtomicU32::new(0);
        let once = || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(aws_error("InvalidVpcID.NotFound")),
                _ => Ok(()),
            }
        };
        assert!(
            send_naming(None, once).await.is_err(),
            "an old id that is gone stays gone"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        calls.store(0, Ordering::SeqCst);
        assert!(send_naming(Some(&stop), once).await.is_ok(), "a new id becomes visible");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn only_a_missing_allocation_counts_as_released() {
        assert!(is_eip_released(&aws_error("InvalidAllocationID.NotFound")));
        for code in [
            "InvalidNetworkInterfaceID.NotFound",
            "AuthFailure",
            "InvalidIPAddress.InUse",
        ] {
            assert!(!is_eip_released(&aws_error(code)), "{code}");
        }
    }

    #[test]
    fn a_nat_gateway_letting_go_of_its_address_is_waited_for() {
        for code in [
            "AuthFailure",
            "InvalidIPAddress.InUse",
            "InvalidNetworkInterfaceID.NotFound",
        ] {
            assert!(is_eip_still_held_by_nat(&aws_error(code)), "{code}");
        }
        for code in [
            "InvalidAllocationID.NotFound",
            "UnauthorizedOperation",
            "InvalidParameterValue",
        ] {
            assert!(!is_eip_still_held_by_nat(&aws_error(code)), "{code}");
        }
    }

    #[test]
    fn a_failed_nat_gateway_says_why() {
        let nat = NatGatewayFacts {
            state: "failed".into(),
            failure_code: Some("Gateway.NotAttached".into()),
            failure_message: Some("Network vpc-1 has no Internet gateway attached".into()),
        };
        assert_eq!(
            nat.failure_text(),
            "failed: Gateway.NotAttached: Network vpc-1 has no Internet gateway attached"
        );
        let bare = NatGatewayFacts {
            state: "failed".into(),
            ..Default::default()
        };
        assert_eq!(bare.failure_text(), "failed");
    }
}
