//! What a plan costs in AWS calls. Terraform refreshes every resource of a
//! plan; objects that several resources look at (a region's route tables, read
//! by its cluster and by every peering routing through them) are described
//! once per plan, not once per resource. Calls are counted at
//! tools/fault_proxy.py, with no faults scheduled.

use anyhow::Result;
use eksfleet_tests::*;
use serde_json::json;

const EDGES: [(&str, &str); 3] = [
    ("us-west-2", "10.1.0.0/16"),
    ("eu-west-1", "10.2.0.0/16"),
    ("ap-southeast-1", "10.3.0.0/16"),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_reads_each_object_once_though_every_peering_routes_through_the_hub_tables() -> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let regions = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"];
    let before = inventory(&moto, &regions).await?;
    let mut ws = Workspace::new(&moto, &hub_and_edges_config(&EDGES, ""))?;
    ws.use_endpoint(&proxy.url());
    ws.apply()?;

    proxy.clear()?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "the applied fleet plans clean:\n{}", plan.output());
    let regions_n = regions.len() as u64;
    // Per region: its cluster reads the VPC, subnets, route tables, internet
    // gateway, NAT gateway, API security group (its rules are drift-checked),
    // cluster and node group, one call each. The hub's
    // route tables are also checked by three peerings and each edge's by its
    // peering: those checks are answered by the clusters' reads. Each peering
    // is described in both of its regions (each side's DNS option is only
    // visible from its own region).
    let expected = json!({
        "ec2:DescribeVpcs": regions_n,
        "ec2:DescribeSubnets": regions_n,
        "ec2:DescribeRouteTables": regions_n,
        "ec2:DescribeInternetGateways": regions_n,
        "ec2:DescribeNatGateways": regions_n,
        "ec2:DescribeSecurityGroups": regions_n,
        "eks:DescribeCluster": regions_n,
        "eks:DescribeNodegroup": regions_n,
        // Plan checks each cluster's version against the versions EKS offers.
        "eks:DescribeClusterVersions": regions_n,
        // Each cluster's IRSA OIDC provider (on by default) is checked as well.
        "iam:GetOpenIDConnectProvider": regions_n,
        "ec2:DescribeVpcPeeringConnections": 2 * EDGES.len() as u64,
    });
    assert_eq!(proxy.stats()?["actions"], expected, "AWS calls made by one plan");

    // Shared reads never hide drift: a hub route removed out of band is seen
    // by the next plan, put back by apply, and the plan after is clean.
    let hub = moto.ec2("us-east-1").await;
    let (table, cidr) = first_peering_route(&hub).await?;
    hub.delete_route()
        .route_table_id(&table)
        .destination_cidr_block(&cidr)
        .send()
        .await?;
    let drift = ws.plan_exit_code()?;
    assert_eq!(drift.code, 2, "the removed route is planned back:\n{}", drift.output());
    assert!(drift.says("1 to change"), "{}", drift.output());
    ws.apply()?;
    assert_eq!(
        first_peering_route(&hub).await?.0,
        table,
        "the route is back in {table}"
    );
    let clean = ws.plan_exit_code()?;
    assert_eq!(clean.code, 0, "{}", clean.output());

    ws.destroy()?;
    let left = orphans(&before, &inventory(&moto, &regions).await?);
    assert!(left.is_empty(), "orphans left in moto: {left:#?}");
    Ok(())
}

/// The first route through a peering in `ec2`'s region: (route table, destination).
async fn first_peering_route(ec2: &aws_sdk_ec2::Client) -> Result<(String, String)> {
    let tables = ec2.describe_route_tables().send().await?;
    let mut routes: Vec<(String, String)> = tables
        .route_tables()
        .iter()
        .flat_map(|t| {
            t.routes()
                .iter()
                .filter(|r| r.vpc_peering_connection_id().is_some())
                .map(|r| {
                    (
                        t.route_table_id().unwrap_or_default().to_string(),
                        r.destination_cidr_block().unwrap_or_default().to_string(),
                    )
                })
        })
        .collect();
    routes.sort();
    routes
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no route through a peering"))
}
