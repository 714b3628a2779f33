//! EC2 reads and idempotent writes that let a stack ensure itself from what
//! exists: zones by id, objects this provider tagged as its own (found again
//! after a lost response or an interrupted apply), and route table settings
//! applied whether or not they are there already.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;

use super::AwsError;
use super::ec2::Ec2;
use super::ec2_network::DefaultRoute;
use super::error::{AwsResultExt, aws_err};
use super::tags::STACK_TAG;

/// Zone ids in which EKS refuses cluster subnets
/// (`UnsupportedAvailabilityZoneException`): eksctl's avoid-list
/// (`pkg/az/az.go`), the ids AWS names in the EKS network requirements.
pub const EKS_UNSUPPORTED_ZONE_IDS: &[&str] = &["use1-az3", "usw1-az2", "cac1-az3"];

/// One zone of a region as DescribeAvailabilityZones reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityZone {
    pub name: String,
    pub id: String,
    /// `availability-zone`, `local-zone` or `wavelength-zone`.
    pub zone_type: String,
    pub state: String,
}

impl AvailabilityZone {
    /// Whether EKS accepts a cluster subnet in this zone.
    pub fn eks_accepts(&self) -> bool {
        self.zone_type == "availability-zone"
            && self.state == "available"
            && !EKS_UNSUPPORTED_ZONE_IDS.contains(&self.id.as_str())
    }
}

/// An object one resource instance tagged as its own (`stack` is its
/// `eksfleet:stack` tag), named `name`.
fn owner_filters(stack: &str, name: &str) -> [Filter; 2] {
    [
        Filter::builder().name(format!("tag:{STACK_TAG}")).values(stack).build(),
        Filter::builder().name("tag:Name").values(name).build(),
    ]
}

impl Ec2 {
    /// Every zone of the region the account can use, Local and Wavelength
    /// Zones included (DescribeAvailabilityZones lists opted-in ones unless
    /// filtered), sorted by name.
    pub async fn find_availability_zones(&self) -> Result<Vec<AvailabilityZone>, AwsError> {
        let out = self
            .client
            .describe_availability_zones()
            .send()
            .await
            .map_err(aws_err("DescribeAvailabilityZones", &self.region))?;
        let mut zones: Vec<AvailabilityZone> = out
            .availability_zones()
            .iter()
            .map(|z| AvailabilityZone {
                name: z.zone_name().unwrap_or_default().to_string(),
                id: z.zone_id().unwrap_or_default().to_string(),
                zone_type: z.zone_type().unwrap_or("availability-zone").to_string(),
                state: z.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
            })
            .collect();
        zones.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(zones)
    }

    /// The VPC this provider made for `owner` under `name`, if one exists
    /// (its id was lost with a response, or with an interrupted apply).
    pub async fn find_owned_vpc(&self, owner: &str, name: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .describe_vpcs()
            .set_filters(Some(owner_filters(owner, name).to_vec()))
            .send()
            .await
            .map_err(aws_err("DescribeVpcs", &self.region))?;
        Ok(out.vpcs().iter().find_map(|v| v.vpc_id().map(str::to_string)))
    }

    /// Every VPC this provider made for `owner` under `name`: more than one
    /// when a CreateVpc whose answer was lost was retried.
    pub async fn find_owned_vpcs(&self, owner: &str, name: &str) -> Result<Vec<String>, AwsError> {
        let out = self
            .client
            .describe_vpcs()
            .set_filters(Some(owner_filters(owner, name).to_vec()))
            .send()
            .await
            .map_err(aws_err("DescribeVpcs", &self.region))?;
        Ok(out
            .vpcs()
            .iter()
            .filter_map(|v| v.vpc_id().map(str::to_string))
            .collect())
    }

    /// Internet gateways this provider made for `owner` that are attached to
    /// no VPC (left by a retried create whose first answer was lost).
    pub async fn find_owned_detached_internet_gateways(
        &self,
        owner: &str,
        name: &str,
    ) -> Result<Vec<String>, AwsError> {
        let out = self
            .client
            .describe_internet_gateways()
            .set_filters(Some(owner_filters(owner, name).to_vec()))
            .send()
            .await
            .map_err(aws_err("DescribeInternetGateways", &self.region))?;
        Ok(out
            .internet_gateways()
            .iter()
            .filter(|g| g.attachments().is_empty())
            .filter_map(|g| g.internet_gateway_id().map(str::to_string))
            .collect())
    }

    /// Deletes an internet gateway attached to nothing; gone is fine.
    pub async fn delete_detached_internet_gateway(&self, id: &str) -> Result<(), AwsError> {
        self.client
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .map_err(aws_err("DeleteInternetGateway", &self.region))
            .gone_ok()
    }

    /// Elastic IPs this provider allocated for `owner`, whatever their name.
    pub async fn find_all_owned_addresses(&self, owner: &str) -> Result<Vec<OwnedAddress>, AwsError> {
        let out = self
            .client
            .describe_addresses()
            .filters(Filter::builder().name(format!("tag:{STACK_TAG}")).values(owner).build())
            .send()
            .await
            .map_err(aws_err("DescribeAddresses", &self.region))?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|a| {
                Some(OwnedAddress {
                    allocation_id: a.allocation_id()?.to_string(),
                    associated: a.association_id().is_some(),
                })
            })
            .collect())
    }

    /// The internet gateway this provider made for `owner`, attached or not.
    pub async fn find_owned_internet_gateway(&self, owner: &str, name: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .describe_internet_gateways()
            .set_filters(Some(owner_filters(owner, name).to_vec()))
            .send()
            .await
            .map_err(aws_err("DescribeInternetGateways", &self.region))?;
        Ok(out
            .internet_gateways()
            .iter()
            .find_map(|g| g.internet_gateway_id().map(str::to_string)))
    }

    /// Elastic IPs this provider allocated for `owner` under `name`, with
    /// whether each is associated.
    pub async fn find_owned_addresses(&self, owner: &str, name: &str) -> Result<Vec<OwnedAddress>, AwsError> {
        let out = self
            .client
            .describe_addresses()
            .set_filters(Some(owner_filters(owner, name).to_vec()))
            .send()
            .await
            .map_err(aws_err("DescribeAddresses", &self.region))?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|a| {
                Some(OwnedAddress {
                    allocation_id: a.allocation_id()?.to_string(),
                    associated: a.association_id().is_some(),
                })
            })
            .collect())
    }

    /// The subnet of `vpc_id` with exactly `cidr`, if it carries `owner`'s tag.
    pub async fn find_owned_subnet(&self, vpc_id: &str, cidr: &str, owner: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .describe_subnets()
            .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
            .filters(Filter::builder().name("cidr-block").values(cidr).build())
            .filters(Filter::builder().name(format!("tag:{STACK_TAG}")).values(owner).build())
            .send()
            .await
            .map_err(aws_err("DescribeSubnets", &self.region))?;
        Ok(out.subnets().iter().find_map(|s| s.subnet_id().map(str::to_string)))
    }

    /// The security group named `name` in `vpc_id`, if it carries `owner`'s tag.
    pub async fn find_owned_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        owner: &str,
    ) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .describe_security_groups()
            .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
            .filters(Filter::builder().name("group-name").values(name).build())
            .filters(Filter::builder().name(format!("tag:{STACK_TAG}")).values(owner).build())
            .send()
            .await
            .map_err(aws_err("DescribeSecurityGroups", &self.region))?;
        Ok(out
            .security_groups()
            .iter()
            .find_map(|g| g.group_id().map(str::to_string)))
    }

    /// Of `ids`, the route tables that exist, each with the subnets it is
    /// explicitly associated with.
    pub async fn route_table_associations(
        &self,
        ids: &std::collections::BTreeSet<String>,
    ) -> Result<BTreeMap<String, Vec<String>>, AwsError> {
        let tables = self.find_route_tables(ids).await?;
        Ok(tables
            .iter()
            .filter_map(|t| {
                let subnets = t
                    .associations()
                    .iter()
                    .filter_map(|a| a.subnet_id().map(str::to_string))
                    .collect();
                Some((t.route_table_id()?.to_string(), subnets))
            })
            .collect())
    }

    /// `0.0.0.0/0` of `table` goes to `route`, whether it was missing,
    /// blackholed or pointing elsewhere.
    pub async fn ensure_default_route(&self, table: &str, route: DefaultRoute<'_>) -> Result<(), AwsError> {
        let replace = self
            .client
            .replace_route()
            .route_table_id(table)
            .destination_cidr_block("0.0.0.0/0");
        let replace = match route {
            DefaultRoute::InternetGateway(gateway) => replace.gateway_id(gateway),
            DefaultRoute::NatGateway(nat) => replace.nat_gateway_id(nat),
        };
        let replaced = replace
            .send()
            .await
            .map_err(aws_err("ReplaceRoute", &self.region))
            .found()?;
        if replaced.is_some() {
            return Ok(());
        }
        let create = self
            .client
            .create_route()
            .route_table_id(table)
            .destination_cidr_block("0.0.0.0/0");
        let create = match route {
            DefaultRoute::InternetGateway(gateway) => create.gateway_id(gateway),
            DefaultRoute::NatGateway(nat) => create.nat_gateway_id(nat),
        };
        create.send().await.map_err(aws_err("CreateRoute", &self.region))?;
        Ok(())
    }

    /// `subnet` uses `table`: associated anew, or moved from another table.
    pub async fn ensure_subnet_association(&self, table: &str, subnet: &str) -> Result<(), AwsError> {
        let out = self
            .client
            .describe_route_tables()
            .filters(Filter::builder().name("association.subnet-id").values(subnet).build())
            .send()
            .await
            .map_err(aws_err("DescribeRouteTables", &self.region))?;
        let current = out.route_tables().iter().find_map(|t| {
            t.associations()
                .iter()
                .find(|a| a.subnet_id() == Some(subnet))
                .map(|a| {
                    (
                        t.route_table_id().unwrap_or_default().to_string(),
                        a.route_table_association_id(),
                    )
                })
        });
        match current {
            Some((id, _)) if id == table => Ok(()),
            Some((_, Some(association))) => {
                self.client
                    .replace_route_table_association()
                    .association_id(association)
                    .route_table_id(table)
                    .send()
                    .await
                    .map_err(aws_err("ReplaceRouteTableAssociation", &self.region))?;
                Ok(())
            }
            _ => {
                self.client
                    .associate_route_table()
                    .route_table_id(table)
                    .subnet_id(subnet)
                    .send()
                    .await
                    .map_err(aws_err("AssociateRouteTable", &self.region))?;
                Ok(())
            }
        }
    }
}

/// An Elastic IP found by its owner tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedAddress {
    pub allocation_id: String,
    pub associated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, id: &str, zone_type: &str) -> AvailabilityZone {
        AvailabilityZone {
            name: name.into(),
            id: id.into(),
            zone_type: zone_type.into(),
            state: "available".into(),
        }
    }

    #[test]
    fn eks_refuses_local_zones_and_listed_zone_ids() {
        assert!(zone("us-east-1a", "use1-az1", "availability-zone").eks_accepts());
        assert!(!zone("us-east-1c", "use1-az3", "availability-zone").eks_accepts());
        assert!(!zone("us-west-2-lax-1a", "usw2-lax1-az1", "local-zone").eks_accepts());
        assert!(!zone("us-east-1-wl1-bos-wlz-1", "use1-wl1-bos-wlz1", "wavelength-zone").eks_accepts());
    }
}
