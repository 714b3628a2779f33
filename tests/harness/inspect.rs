//! What moto holds, read through the SDK: live peerings and their routes,
//! node groups going away, and the inventory that finds orphans.

use std::collections::BTreeSet;

use anyhow::Result;
use aws_sdk_ec2::types::Filter;

use crate::moto::Moto;

/// Peerings visible in a region whose status is not deleted/rejected/failed.
pub async fn live_peerings(ec2: &aws_sdk_ec2::Client) -> Result<Vec<aws_sdk_ec2::types::VpcPeeringConnection>> {
    let out = ec2.describe_vpc_peering_connections().send().await?;
    Ok(out
        .vpc_peering_connections()
        .iter()
        .filter(|p| {
            let code = p
                .status()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string())
                .unwrap_or_default();
            !matches!(code.as_str(), "deleted" | "rejected" | "failed" | "expired")
        })
        .cloned()
        .collect())
}

pub async fn find_peering(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::VpcPeeringConnection>> {
    let out = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(id)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.vpc_peering_connections().first().cloned()),
        Err(err) if format!("{err:?}").contains("NotFound") => Ok(None),
        Err(err) => Err(err.into()),
    }
}

pub fn peering_status(p: &aws_sdk_ec2::types::VpcPeeringConnection) -> String {
    p.status()
        .and_then(|s| s.code())
        .map(|c| c.as_str().to_string())
        .unwrap_or_default()
}

/// Route tables of a VPC that route `cidr` through `peering_id`.
pub async fn tables_routing(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    cidr: &str,
    peering_id: &str,
) -> Result<Vec<String>> {
    let out = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .send()
        .await?;
    let mut ids: Vec<String> = out
        .route_tables()
        .iter()
        .filter(|t| {
            t.routes()
                .iter()
                .any(|r| r.destination_cidr_block() == Some(cidr) && r.vpc_peering_connection_id() == Some(peering_id))
        })
        .filter_map(|t| t.route_table_id().map(str::to_string))
        .collect();
    ids.sort();
    Ok(ids)
}

/// Every route anywhere in a region that targets a peering connection.
pub async fn peering_routes_in_region(ec2: &aws_sdk_ec2::Client) -> Result<Vec<(String, String)>> {
    let out = ec2.describe_route_tables().send().await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| {
            t.routes().iter().filter_map(move |r| {
                Some((
                    t.route_table_id()?.to_string(),
                    r.vpc_peering_connection_id()?.to_string(),
                ))
            })
        })
        .collect())
}

/// Polls until a node group deleted out of band is gone.
pub async fn wait_nodegroup_gone(eks: &aws_sdk_eks::Client, cluster: &str, group: &str) -> Result<()> {
    for _ in 0..600 {
        let found = eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(group)
            .send()
            .await;
        if found.is_err() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("node group {group} of {cluster} was not deleted")
}

/// Everything moto holds that a fleet could leave behind, in `regions` (and
/// IAM), as "kind id" strings: compare a snapshot before and after to find
/// orphans. Default VPCs and what belongs to them are left out.
pub async fn inventory(moto: &Moto, regions: &[&str]) -> Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    for region in regions {
        let ec2 = moto.ec2(region).await;
        let vpcs = ec2.describe_vpcs().send().await?;
        let default_vpcs: Vec<String> = vpcs
            .vpcs()
            .iter()
            .filter(|v| v.is_default() == Some(true))
            .filter_map(|v| v.vpc_id().map(str::to_string))
            .collect();
        let ours = |vpc: Option<&str>| vpc.is_some_and(|v| !default_vpcs.iter().any(|d| d == v));
        for v in vpcs.vpcs() {
            if ours(v.vpc_id()) {
                found.insert(format!("{region} vpc {}", v.vpc_id().unwrap_or_default()));
            }
        }
        for s in ec2.describe_subnets().send().await?.subnets() {
            if ours(s.vpc_id()) {
                found.insert(format!("{region} subnet {}", s.subnet_id().unwrap_or_default()));
            }
        }
        for t in ec2.describe_route_tables().send().await?.route_tables() {
            if ours(t.vpc_id()) {
                found.insert(format!(
                    "{region} route-table {}",
                    t.route_table_id().unwrap_or_default()
                ));
            }
        }
        for g in ec2.describe_security_groups().send().await?.security_groups() {
            if ours(g.vpc_id()) && g.group_name() != Some("default") {
                found.insert(format!("{region} security-group {}", g.group_id().unwrap_or_default()));
            }
        }
        for g in ec2.describe_internet_gateways().send().await?.internet_gateways() {
            let attached_to_default = g.attachments().iter().any(|a| !ours(a.vpc_id()));
            if !attached_to_default {
                found.insert(format!(
                    "{region} internet-gateway {}",
                    g.internet_gateway_id().unwrap_or_default()
                ));
            }
        }
        for n in ec2.describe_nat_gateways().send().await?.nat_gateways() {
            if !matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting")) {
                found.insert(format!(
                    "{region} nat-gateway {}",
                    n.nat_gateway_id().unwrap_or_default()
                ));
            }
        }
        for a in ec2.describe_addresses().send().await?.addresses() {
            found.insert(format!("{region} eip {}", a.allocation_id().unwrap_or_default()));
        }
        for t in ec2.describe_launch_templates().send().await?.launch_templates() {
            found.insert(format!(
                "{region} launch-template {} {}",
                t.launch_template_id().unwrap_or_default(),
                t.launch_template_name().unwrap_or_default()
            ));
        }
        for p in live_peerings(&ec2).await? {
            found.insert(format!("peering {}", p.vpc_peering_connection_id().unwrap_or_default()));
        }
        let eks = moto.eks(region).await;
        for c in eks.list_clusters().send().await?.clusters() {
            found.insert(format!("{region} eks-cluster {c}"));
            for g in eks.list_nodegroups().cluster_name(c).send().await?.nodegroups() {
                found.insert(format!("{region} eks-nodegroup {c}/{g}"));
            }
        }
        for q in moto.sqs(region).await.list_queues().send().await?.queue_urls() {
            found.insert(format!("{region} sqs-queue {q}"));
        }
        for r in moto.events(region).await.list_rules().send().await?.rules() {
            found.insert(format!("{region} event-rule {}", r.name().unwrap_or_default()));
        }
    }
    let iam = moto.iam().await;
    for p in iam
        .list_open_id_connect_providers()
        .send()
        .await?
        .open_id_connect_provider_list()
    {
        found.insert(format!("iam oidc-provider {}", p.arn().unwrap_or_default()));
    }
    for p in iam.list_instance_profiles().send().await?.instance_profiles() {
        found.insert(format!("iam instance-profile {}", p.instance_profile_name()));
    }
    for r in iam.list_roles().send().await?.roles() {
        // moto's own service-linked roles are not ours.
        if !r.path().starts_with("/aws-service-role/") {
            found.insert(format!("iam role {}", r.role_name()));
        }
    }
    Ok(found)
}

/// What `after` holds that `before` didn't.
pub fn orphans(before: &BTreeSet<String>, after: &BTreeSet<String>) -> Vec<String> {
    after.difference(before).cloned().collect()
}

/// Whether IAM role `name` exists.
pub async fn role_exists(iam: &aws_sdk_iam::Client, name: &str) -> Result<bool> {
    match iam.get_role().role_name(name).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
