//! The Terraform modules under `modules/`: each is fmt-clean and validates,
//! and chained as eksgen's tree chains them (hub, edge, requester, accepter)
//! they build a peered fleet that re-plans clean and destroys clean.

use anyhow::Result;
use eksfleet_tests::*;

const MODULES: [&str; 4] = [
    "edge-cluster",
    "gitops-cluster",
    "vpc-peering-requester",
    "vpc-peering-accepter",
];

#[tokio::test(flavor = "multi_thread")]
async fn every_module_is_fmt_clean_and_validates() -> Result<()> {
    let moto = Moto::start()?;
    for module in MODULES {
        let dir = project_root().join("modules").join(module);
        let ws = Workspace::new(&moto, "")?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            ws.write(
                path.file_name().unwrap().to_str().unwrap(),
                &std::fs::read_to_string(&path)?,
            )?;
        }
        let fmt = ws.terraform(&["fmt", "-check", "-diff", "-no-color"])?;
        assert_eq!(fmt.code, 0, "{module} is not fmt clean:\n{}", fmt.output());
        let validate = ws.terraform(&["validate", "-no-color"])?;
        assert_eq!(validate.code, 0, "{module} does not validate:\n{}", validate.output());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_edge_requester_and_accepter_modules_build_a_peered_fleet() -> Result<()> {
    let moto = Moto::start()?;
    let modules = project_root().join("modules");
    let m = |name: &str| modules.join(name).display().to_string();
    let config = format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}
provider "fleet" {{
  default_tags = {{ ManagedBy = "eksfleet-tests" }}
}}
module "hub" {{
  source            = "{hub}"
  name              = "hub"
  region            = "us-east-1"
  vpc_cidr          = "10.0.0.0/16"
  api_allowed_cidrs = ["10.1.0.0/16"]
}}
module "edge" {{
  source            = "{edge}"
  name              = "edge"
  region            = "us-west-2"
  vpc_cidr          = "10.1.0.0/16"
  api_allowed_cidrs = [module.hub.vpc_cidr]
}}
module "requester" {{
  source          = "{requester}"
  region          = module.edge.region
  vpc_id          = module.edge.vpc_id
  route_table_ids = module.edge.private_route_table_ids
  peer_region     = module.hub.region
  peer_vpc_id     = module.hub.vpc_id
}}
module "accepter" {{
  source          = "{accepter}"
  peering_id      = module.requester.peering_id
  region          = module.hub.region
  route_table_ids = module.hub.private_route_table_ids
}}
output "peering_id" {{
  value = module.accepter.peering_id
}}
"#,
        hub = m("gitops-cluster"),
        edge = m("edge-cluster"),
        requester = m("vpc-peering-requester"),
        accepter = m("vpc-peering-accepter"),
    );
    let ws = Workspace::new(&moto, &config)?;
    ws.terraform(&["init", "-no-color"])?.ok()?;
    ws.apply()?;
    let id = ws.output("peering_id")?.as_str().unwrap().to_string();
    let (hub, edge) = (moto.ec2("us-east-1").await, moto.ec2("us-west-2").await);
    let p = find_peering(&hub, &id).await?.expect("peering");
    assert_eq!(peering_status(&p), "active");
    let hub_vpc = p.accepter_vpc_info().and_then(|i| i.vpc_id()).unwrap().to_string();
    let edge_vpc = p.requester_vpc_info().and_then(|i| i.vpc_id()).unwrap().to_string();
    assert_eq!(
        tables_routing(&hub, &hub_vpc, "10.1.0.0/16", &id).await?.len(),
        3,
        "hub routes to the edge"
    );
    assert_eq!(
        tables_routing(&edge, &edge_vpc, "10.0.0.0/16", &id).await?.len(),
        3,
        "edge routes to the hub"
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "one apply converges:\n{}", plan.output());
    ws.destroy()?;
    for ec2 in [&hub, &edge] {
        assert!(live_peerings(ec2).await?.is_empty());
        let vpcs = ec2.describe_vpcs().send().await?;
        assert!(
            vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
            "only default VPCs left"
        );
    }
    Ok(())
}
