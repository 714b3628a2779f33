//! What tests set up: VPCs made directly through the API, and the
//! hub-and-edges fleet configuration several suites apply.

use anyhow::{Context, Result};

/// A VPC made directly through the API, with one extra route table.
#[derive(Debug, Clone)]
pub struct TestVpc {
    pub region: String,
    pub vpc_id: String,
    pub cidr: String,
    pub route_table_ids: Vec<String>,
}

pub async fn create_vpc(ec2: &aws_sdk_ec2::Client, region: &str, cidr: &str, route_tables: usize) -> Result<TestVpc> {
    let vpc = ec2.create_vpc().cidr_block(cidr).send().await?;
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).context("vpc id")?.to_string();
    let mut route_table_ids = Vec::new();
    for _ in 0..route_tables {
        let rt = ec2.create_route_table().vpc_id(&vpc_id).send().await?;
        route_table_ids.push(
            rt.route_table()
                .and_then(|r| r.route_table_id())
                .context("rtb id")?
                .to_string(),
        );
    }
    Ok(TestVpc {
        region: region.to_string(),
        vpc_id,
        cidr: cidr.to_string(),
        route_table_ids,
    })
}

/// The hub of `hub_and_edges_config`: its region and VPC CIDR.
pub const HUB_REGION_CIDR: (&str, &str) = ("us-east-1", "10.0.0.0/16");

/// A hub cluster and one edge cluster per `edges` region, each edge peered
/// with the hub, all from one provider block. Two zones and one NAT gateway
/// per region keep the call count (and the run time) down.
pub fn hub_and_edges_config(edges: &[(&str, &str)], hub_extra: &str) -> String {
    let edges = edges
        .iter()
        .map(|(region, cidr)| format!("    \"{region}\" = \"{cidr}\""))
        .collect::<Vec<_>>()
        .join("\n");
    let (hub_region, hub_cidr) = HUB_REGION_CIDR;
    format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}

provider "fleet" {{
  region       = "{hub_region}"
  default_tags = {{ ManagedBy = "eksfleet-e2e" }}
}}

locals {{
  edges = {{
{edges}
  }}
}}

resource "fleet_eks_regional_cluster" "hub" {{
  name                    = "hub"
  vpc_cidr                = "{hub_cidr}"
  availability_zone_count = 2
  nat_gateway_mode        = "single"
  node_groups             = {{ system = {{ min_size = 1, max_size = 2, desired_size = 1 }} }}
{hub_extra}
}}

resource "fleet_eks_regional_cluster" "edge" {{
  for_each = local.edges

  name                    = "edge"
  region                  = each.key
  vpc_cidr                = each.value
  availability_zone_count = 2
  nat_gateway_mode        = "single"
  node_groups             = {{ workloads = {{ min_size = 1, max_size = 2, desired_size = 1 }} }}
}}

resource "fleet_vpc_cross_region_peering" "edge_to_hub" {{
  for_each = local.edges

  requester = {{
    region                          = each.key
    vpc_id                          = fleet_eks_regional_cluster.edge[each.key].vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.edge[each.key].private_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }}
  accepter = {{
    vpc_id                          = fleet_eks_regional_cluster.hub.vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.hub.private_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }}
}}

output "hub" {{
  value = fleet_eks_regional_cluster.hub.status
}}

output "peerings" {{
  value = {{ for k, p in fleet_vpc_cross_region_peering.edge_to_hub : k => p.status }}
}}
"#
    )
}
