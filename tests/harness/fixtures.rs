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

/// A VPC of the user's, made directly through the API as a network team
/// would: an internet gateway, two private subnets in two zones EKS accepts
/// (the first with a route table of its own, the second on the VPC's main
/// table), one public subnet with its own table, every table routing
/// 0.0.0.0/0 to the gateway (so nodes can join), and tags of the user's on
/// the subnets, one of them a Kubernetes role tag already.
#[derive(Debug, Clone)]
pub struct UserNetwork {
    pub region: String,
    pub vpc_id: String,
    pub cidr: String,
    pub zones: Vec<String>,
    pub private: Vec<String>,
    pub public: Vec<String>,
    pub private_table: String,
    pub public_table: String,
    pub main_table: String,
    pub internet_gateway: String,
}

/// Zone ids EKS refuses cluster subnets in (as the provider and the stand-in know them).
const EKS_REFUSED_ZONE_IDS: [&str; 3] = ["use1-az3", "usw1-az2", "cac1-az3"];

/// Zones of `region` EKS accepts and one it refuses (if any), by name.
pub async fn eks_zones(ec2: &aws_sdk_ec2::Client) -> Result<(Vec<String>, Option<String>)> {
    let out = ec2
        .describe_availability_zones()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("zone-type")
                .values("availability-zone")
                .build(),
        )
        .send()
        .await?;
    let mut good = Vec::new();
    let mut refused = None;
    for zone in out.availability_zones() {
        let (Some(name), Some(id)) = (zone.zone_name(), zone.zone_id()) else {
            continue;
        };
        if EKS_REFUSED_ZONE_IDS.contains(&id) {
            refused = Some(name.to_string());
        } else {
            good.push(name.to_string());
        }
    }
    good.sort();
    Ok((good, refused))
}

/// Creates a subnet with `tags` and returns its id.
pub async fn create_subnet(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    cidr: &str,
    zone: &str,
    tags: &[(&str, &str)],
) -> Result<String> {
    let mut spec =
        aws_sdk_ec2::types::TagSpecification::builder().resource_type(aws_sdk_ec2::types::ResourceType::Subnet);
    for (k, v) in tags {
        spec = spec.tags(aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build());
    }
    let mut request = ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .availability_zone(zone);
    if !tags.is_empty() {
        request = request.tag_specifications(spec.build());
    }
    let out = request.send().await?;
    Ok(out
        .subnet()
        .and_then(|s| s.subnet_id())
        .context("subnet id")?
        .to_string())
}

/// A `UserNetwork` in `region` with the VPC CIDR `{prefix}.0.0/16` (`prefix` such as "10.40").
pub async fn create_user_network(ec2: &aws_sdk_ec2::Client, region: &str, prefix: &str) -> Result<UserNetwork> {
    let cidr = format!("{prefix}.0.0/16");
    let vpc = create_vpc(ec2, region, &cidr, 2).await?;
    let (private_table, public_table) = (vpc.route_table_ids[0].clone(), vpc.route_table_ids[1].clone());
    let tables = ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc.vpc_id)
                .build(),
        )
        .send()
        .await?;
    let main_table = tables
        .route_tables()
        .iter()
        .find(|t| t.associations().iter().any(|a| a.main() == Some(true)))
        .and_then(|t| t.route_table_id())
        .context("main route table")?
        .to_string();
    let igw = ec2.create_internet_gateway().send().await?;
    let internet_gateway = igw
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .context("igw id")?
        .to_string();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&internet_gateway)
        .vpc_id(&vpc.vpc_id)
        .send()
        .await?;
    for table in [&private_table, &public_table, &main_table] {
        ec2.create_route()
            .route_table_id(table)
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(&internet_gateway)
            .send()
            .await?;
    }
    let (good, _) = eks_zones(ec2).await?;
    let zones: Vec<String> = good.into_iter().take(2).collect();
    anyhow::ensure!(zones.len() == 2, "two zones EKS accepts in {region}");
    let private = vec![
        create_subnet(
            ec2,
            &vpc.vpc_id,
            &format!("{prefix}.0.0/20"),
            &zones[0],
            &[("Name", "app-a"), ("kubernetes.io/role/internal-elb", "1")],
        )
        .await?,
        create_subnet(
            ec2,
            &vpc.vpc_id,
            &format!("{prefix}.16.0/20"),
            &zones[1],
            &[("Name", "app-b"), ("Team", "network")],
        )
        .await?,
    ];
    let public = vec![
        create_subnet(
            ec2,
            &vpc.vpc_id,
            &format!("{prefix}.128.0/24"),
            &zones[0],
            &[("Name", "lb-a")],
        )
        .await?,
    ];
    for (table, subnet) in [(&private_table, &private[0]), (&public_table, &public[0])] {
        ec2.associate_route_table()
            .route_table_id(table)
            .subnet_id(subnet)
            .send()
            .await?;
    }
    Ok(UserNetwork {
        region: region.to_string(),
        vpc_id: vpc.vpc_id,
        cidr,
        zones,
        private,
        public,
        private_table,
        public_table,
        main_table,
        internet_gateway,
    })
}

/// Each subnet's tags, by subnet id.
pub async fn subnet_tags(
    ec2: &aws_sdk_ec2::Client,
    ids: &[String],
) -> Result<std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>> {
    let out = ec2.describe_subnets().set_subnet_ids(Some(ids.to_vec())).send().await?;
    Ok(out
        .subnets()
        .iter()
        .map(|s| {
            let tags = s
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            (s.subnet_id().unwrap_or_default().to_string(), tags)
        })
        .collect())
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
