//! `fleet_vpc_cross_region_peering` and `fleet_vpc_peering_accepter`, end to
//! end: real Terraform drives the provider over gRPC against moto; every
//! assertion about AWS is made by reading moto through the AWS SDK.

use anyhow::Result;
use eksfleet_tests::*;

/// For tests whose own setup calls EC2 as an assumed role (not the
/// observer key the stand-in spares): that setup does not wait out EC2's
/// new-id lag, and it is not what these tests are about (the provider's
/// handling of it is proven by the rest of this file and by
/// tests/e2e/reliability.rs).
const SETUP_BY_HAND: (&str, &str) = ("MOTO_FLEET_REALISM", "all,-ec2-lag");

const HUB: &str = "us-east-1";
const EDGE: &str = "us-west-2";

/// Two VPCs in two regions with route tables, made directly through the API.
struct Fixture {
    moto: Moto,
    hub: TestVpc,
    edge: TestVpc,
}

async fn fixture() -> Result<Fixture> {
    let moto = Moto::start()?;
    let hub = create_vpc(&moto.ec2(HUB).await, HUB, "10.0.0.0/16", 2).await?;
    let edge = create_vpc(&moto.ec2(EDGE).await, EDGE, "10.1.0.0/16", 2).await?;
    Ok(Fixture { moto, hub, edge })
}

fn quoted(ids: &[String]) -> String {
    ids.iter().map(|id| format!("\"{id}\"")).collect::<Vec<_>>().join(", ")
}

/// A peering from the edge VPC (requester) to the hub (accepter).
fn peering_config(f: &Fixture, edge_tables: &[String], hub_tables: &[String]) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}

provider "fleet" {{
  region       = "{HUB}"
  default_tags = {{ ManagedBy = "eksfleet-tests" }}
}}

resource "fleet_vpc_cross_region_peering" "edge_to_hub" {{
  requester = {{
    region                          = "{EDGE}"
    vpc_id                          = "{edge_vpc}"
    route_table_ids                 = [{edge_tables}]
    allow_remote_vpc_dns_resolution = true
  }}
  accepter = {{
    vpc_id                          = "{hub_vpc}"
    route_table_ids                 = [{hub_tables}]
    allow_remote_vpc_dns_resolution = true
  }}
  tags = {{ Name = "edge-to-hub" }}
}}

output "peering" {{
  value = fleet_vpc_cross_region_peering.edge_to_hub
}}
"#,
        edge_vpc = f.edge.vpc_id,
        hub_vpc = f.hub.vpc_id,
        edge_tables = quoted(edge_tables),
        hub_tables = quoted(hub_tables),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_peers_two_regions_with_dns_and_routes_then_replans_clean_and_destroys_everything() -> Result<()> {
    let f = fixture().await?;
    let ws = Workspace::new(
        &f.moto,
        &peering_config(&f, &f.edge.route_table_ids, &f.hub.route_table_ids),
    )?;
    ws.apply()?;

    let out = ws.output("peering")?;
    let id = out["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("pcx-"), "{out}");
    assert_eq!(out["status"], "active");
    assert_eq!(out["requester_cidr_block"], "10.1.0.0/16");
    assert_eq!(out["accepter_cidr_block"], "10.0.0.0/16");
    assert_eq!(out["requester"]["region"], EDGE);
    assert_eq!(
        out["accepter"]["region"], HUB,
        "accepter region defaults to the provider's"
    );
    assert_eq!(out["tags_all"]["ManagedBy"], "eksfleet-tests");

    // The peering is active as seen from both regions, with DNS on both sides.
    let (edge_ec2, hub_ec2) = (f.moto.ec2(EDGE).await, f.moto.ec2(HUB).await);
    for ec2 in [&edge_ec2, &hub_ec2] {
        let p = find_peering(ec2, &id).await?.expect("peering visible");
        assert_eq!(peering_status(&p), "active");
        let requester = p.requester_vpc_info().unwrap();
        let accepter = p.accepter_vpc_info().unwrap();
        assert_eq!(requester.vpc_id(), Some(f.edge.vpc_id.as_str()));
        assert_eq!(accepter.vpc_id(), Some(f.hub.vpc_id.as_str()));
    }
    let from_edge = find_peering(&edge_ec2, &id).await?.unwrap();
    let requester_dns = from_edge
        .requester_vpc_info()
        .and_then(|i| i.peering_options())
        .and_then(|o| o.allow_dns_resolution_from_remote_vpc());
    assert_eq!(requester_dns, Some(true), "requester DNS option set");
    let from_hub = find_peering(&hub_ec2, &id).await?.unwrap();
    let accepter_dns = from_hub
        .accepter_vpc_info()
        .and_then(|i| i.peering_options())
        .and_then(|o| o.allow_dns_resolution_from_remote_vpc());
    assert_eq!(accepter_dns, Some(true), "accepter DNS option set");
    let tags = from_edge
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect::<Vec<_>>();
    assert!(
        tags.contains(&("Name", "edge-to-hub")) && tags.contains(&("ManagedBy", "eksfleet-tests")),
        "{tags:?}"
    );

    // Routes to the other side's CIDR in every listed table, both sides.
    let mut edge_tables = f.edge.route_table_ids.clone();
    edge_tables.sort();
    let mut hub_tables = f.hub.route_table_ids.clone();
    hub_tables.sort();
    assert_eq!(
        tables_routing(&edge_ec2, &f.edge.vpc_id, &f.hub.cidr, &id).await?,
        edge_tables
    );
    assert_eq!(
        tables_routing(&hub_ec2, &f.hub.vpc_id, &f.edge.cidr, &id).await?,
        hub_tables
    );

    // Re-plan: nothing to do.
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "plan after apply must be clean:\n{}", plan.output());

    ws.destroy()?;
    for ec2 in [&edge_ec2, &hub_ec2] {
        assert!(live_peerings(ec2).await?.is_empty(), "no peering left");
        assert!(peering_routes_in_region(ec2).await?.is_empty(), "no peering route left");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn route_tables_change_in_place() -> Result<()> {
    let f = fixture().await?;
    let (edge_a, edge_b) = (f.edge.route_table_ids[0].clone(), f.edge.route_table_ids[1].clone());
    let hub_a = f.hub.route_table_ids[0].clone();
    let ws = Workspace::new(&f.moto, &peering_config(&f, std::slice::from_ref(&edge_a), &[]))?;
    ws.apply()?;
    let id = ws.output("peering")?["id"].as_str().unwrap().to_string();
    let (edge_ec2, hub_ec2) = (f.moto.ec2(EDGE).await, f.moto.ec2(HUB).await);
    assert_eq!(
        tables_routing(&edge_ec2, &f.edge.vpc_id, &f.hub.cidr, &id).await?,
        vec![edge_a.clone()]
    );

    // Swap the requester table and add one on the accepter side.
    ws.write(
        "main.tf",
        &peering_config(&f, std::slice::from_ref(&edge_b), std::slice::from_ref(&hub_a)),
    )?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("1 to change, 0 to destroy"),
        "in-place update expected:\n{}",
        plan.stdout
    );
    ws.apply()?;
    assert_eq!(ws.output("peering")?["id"], id.as_str(), "same peering");
    assert_eq!(
        tables_routing(&edge_ec2, &f.edge.vpc_id, &f.hub.cidr, &id).await?,
        vec![edge_b]
    );
    assert_eq!(
        tables_routing(&hub_ec2, &f.hub.vpc_id, &f.edge.cidr, &id).await?,
        vec![hub_a]
    );
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    assert!(peering_routes_in_region(&edge_ec2).await?.is_empty());
    assert!(peering_routes_in_region(&hub_ec2).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn route_deleted_out_of_band_is_repaired_in_place() -> Result<()> {
    let f = fixture().await?;
    let ws = Workspace::new(
        &f.moto,
        &peering_config(&f, &f.edge.route_table_ids, &f.hub.route_table_ids),
    )?;
    ws.apply()?;
    let id = ws.output("peering")?["id"].as_str().unwrap().to_string();
    let hub_ec2 = f.moto.ec2(HUB).await;
    hub_ec2
        .delete_route()
        .route_table_id(&f.hub.route_table_ids[0])
        .destination_cidr_block(&f.edge.cidr)
        .send()
        .await?;

    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2, "drift must show:\n{}", plan.output());
    assert!(plan.stdout.contains("1 to change, 0 to destroy"), "{}", plan.stdout);
    ws.apply()?;
    let mut expected = f.hub.route_table_ids.clone();
    expected.sort();
    assert_eq!(
        tables_routing(&hub_ec2, &f.hub.vpc_id, &f.edge.cidr, &id).await?,
        expected
    );
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn peering_deleted_out_of_band_is_recreated() -> Result<()> {
    let f = fixture().await?;
    let ws = Workspace::new(&f.moto, &peering_config(&f, &f.edge.route_table_ids, &[]))?;
    ws.apply()?;
    let old_id = ws.output("peering")?["id"].as_str().unwrap().to_string();
    let edge_ec2 = f.moto.ec2(EDGE).await;
    edge_ec2
        .delete_vpc_peering_connection()
        .vpc_peering_connection_id(&old_id)
        .send()
        .await?;

    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 0 to destroy"),
        "re-create expected:\n{}",
        plan.stdout
    );
    ws.apply()?;
    let new_id = ws.output("peering")?["id"].as_str().unwrap().to_string();
    assert_ne!(new_id, old_id);
    let p = find_peering(&edge_ec2, &new_id).await?.unwrap();
    assert_eq!(peering_status(&p), "active");
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    assert!(live_peerings(&edge_ec2).await?.is_empty());
    Ok(())
}

/// A peering made outside Terraform, with routes, for import.
async fn existing_peering(f: &Fixture) -> Result<String> {
    let (edge_ec2, hub_ec2) = (f.moto.ec2(EDGE).await, f.moto.ec2(HUB).await);
    let pcx = edge_ec2
        .create_vpc_peering_connection()
        .vpc_id(&f.edge.vpc_id)
        .peer_vpc_id(&f.hub.vpc_id)
        .peer_region(HUB)
        .send()
        .await?;
    let id = pcx
        .vpc_peering_connection()
        .unwrap()
        .vpc_peering_connection_id()
        .unwrap()
        .to_string();
    // As a user would: accept once the peering reaches pending-acceptance.
    for _ in 0..400 {
        if let Some(p) = find_peering(&hub_ec2, &id).await?
            && peering_status(&p) == "pending-acceptance"
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    hub_ec2
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(&id)
        .send()
        .await?;
    // Options can be set only once it is active (provisioning takes a while).
    for _ in 0..400 {
        if let Some(p) = find_peering(&edge_ec2, &id).await?
            && peering_status(&p) == "active"
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    for table in &f.edge.route_table_ids {
        edge_ec2
            .create_route()
            .route_table_id(table)
            .destination_cidr_block(&f.hub.cidr)
            .vpc_peering_connection_id(&id)
            .send()
            .await?;
    }
    for table in &f.hub.route_table_ids {
        hub_ec2
            .create_route()
            .route_table_id(table)
            .destination_cidr_block(&f.edge.cidr)
            .vpc_peering_connection_id(&id)
            .send()
            .await?;
    }
    let requester = aws_sdk_ec2::types::PeeringConnectionOptionsRequest::builder()
        .allow_dns_resolution_from_remote_vpc(true)
        .build();
    edge_ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&id)
        .requester_peering_connection_options(requester)
        .send()
        .await?;
    let accepter = aws_sdk_ec2::types::PeeringConnectionOptionsRequest::builder()
        .allow_dns_resolution_from_remote_vpc(true)
        .build();
    hub_ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&id)
        .accepter_peering_connection_options(accepter)
        .send()
        .await?;
    edge_ec2
        .create_tags()
        .resources(&id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Name")
                .value("edge-to-hub")
                .build(),
        )
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("ManagedBy")
                .value("eksfleet-tests")
                .build(),
        )
        .send()
        .await?;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread")]
async fn import_block_adopts_an_existing_peering_and_plans_clean() -> Result<()> {
    let f = fixture().await?;
    let id = existing_peering(&f).await?;
    let config = peering_config(&f, &f.edge.route_table_ids, &f.hub.route_table_ids)
        + &format!("\nimport {{\n  to = fleet_vpc_cross_region_peering.edge_to_hub\n  id = \"{EDGE}/{id}\"\n}}\n");
    let ws = Workspace::new(&f.moto, &config)?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert_eq!(ws.output("peering")?["id"], id.as_str());
    assert_eq!(
        ws.plan_exit_code()?.code,
        0,
        "imported peering matches the configuration"
    );
    ws.destroy()?;
    let edge_ec2 = f.moto.ec2(EDGE).await;
    assert!(live_peerings(&edge_ec2).await?.is_empty());
    assert!(peering_routes_in_region(&edge_ec2).await?.is_empty());
    assert!(peering_routes_in_region(&f.moto.ec2(HUB).await).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn terraform_import_command_takes_a_bare_peering_id() -> Result<()> {
    let f = fixture().await?;
    let id = existing_peering(&f).await?;
    let ws = Workspace::new(
        &f.moto,
        &peering_config(&f, &f.edge.route_table_ids, &f.hub.route_table_ids),
    )?;
    // A bare id is looked up in the provider's region (the hub, the accepter side here).
    ws.terraform(&["import", "-no-color", "fleet_vpc_cross_region_peering.edge_to_hub", &id])?
        .ok()?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "{}", plan.output());
    let bad = ws.terraform(&[
        "import",
        "-no-color",
        "fleet_vpc_cross_region_peering.edge_to_hub",
        "pcx-nothex",
    ])?;
    assert_ne!(bad.code, 0);
    Ok(())
}

/// Plans a configuration that must fail validation; returns Terraform's output.
async fn plan_error(f: &Fixture, resource_body: &str) -> Result<Run> {
    let config = format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region = \"{HUB}\"\n}}\n\
         resource \"fleet_vpc_cross_region_peering\" \"p\" {{\n{resource_body}\n}}\n"
    );
    let ws = Workspace::new(&f.moto, &config)?;
    let run = ws.terraform(&["plan", "-no-color"])?;
    assert_eq!(run.code, 1, "plan must fail:\n{}", run.output());
    Ok(run)
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_fails_at_plan_naming_the_attribute_and_creates_nothing() -> Result<()> {
    let f = fixture().await?;
    // A third VPC overlapping the hub.
    let clash = create_vpc(&f.moto.ec2(EDGE).await, EDGE, "10.0.128.0/20", 0).await?;
    let (edge, hub) = (&f.edge.vpc_id, &f.hub.vpc_id);
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!(
                "requester = {{ region = \"us-wset-2\", vpc_id = \"{edge}\" }}\naccepter = {{ vpc_id = \"{hub}\" }}"
            ),
            vec!["Unknown AWS region", "requester.region", "Did you mean \"us-west-2\"?"],
        ),
        (
            format!(
                "requester = {{ region = \"{EDGE}\", vpc_id = \"{edge}\" }}\naccepter = {{ region = \"mars-1\", vpc_id = \"{hub}\" }}"
            ),
            vec![
                "Unknown AWS region",
                "accepter.region",
                "\"mars-1\" is not an AWS region",
            ],
        ),
        (
            format!("requester = {{ vpc_id = \"{hub}\" }}\naccepter = {{ vpc_id = \"{hub}\" }}"),
            vec!["Requester and accepter are the same VPC", "accepter.vpc_id"],
        ),
        (
            format!(
                "requester = {{ region = \"{EDGE}\", vpc_id = \"{}\" }}\naccepter = {{ vpc_id = \"{hub}\" }}",
                clash.vpc_id
            ),
            vec![
                "Overlapping VPC CIDR blocks",
                "accepter.vpc_id",
                "10.0.128.0/20",
                "10.0.0.0/16",
            ],
        ),
        (
            format!("requester = {{ vpc_id = \"vpc-123\" }}\naccepter = {{ vpc_id = \"{hub}\" }}"),
            vec!["Malformed VPC id", "requester.vpc_id", "\"vpc-123\""],
        ),
        (
            format!(
                "requester = {{ region = \"{EDGE}\", vpc_id = \"{edge}\", route_table_ids = [\"rt-1\"] }}\naccepter = {{ vpc_id = \"{hub}\" }}"
            ),
            vec!["Malformed route table id", "requester.route_table_ids", "\"rt-1\""],
        ),
        (
            format!(
                "requester = {{ region = \"{EDGE}\", vpc_id = \"{edge}\" }}\naccepter = {{ vpc_id = \"{hub}\", account_id = \"12345\", assume_role_arn = \"arn:aws:iam::1:role/x\" }}"
            ),
            vec![
                "Malformed AWS account id",
                "accepter.account_id",
                "Malformed IAM role ARN",
                "accepter.assume_role_arn",
            ],
        ),
        (
            format!(
                "auto_accept = false\nrequester = {{ region = \"{EDGE}\", vpc_id = \"{edge}\" }}\naccepter = {{ vpc_id = \"{hub}\", allow_remote_vpc_dns_resolution = true }}"
            ),
            vec!["Accepter DNS option needs auto_accept", "fleet_vpc_peering_accepter"],
        ),
        (
            format!(
                "requester = {{ region = \"{EDGE}\", vpc_id = \"{edge}\" }}\naccepter = {{ vpc_id = \"{hub}\" }}\ntimeouts {{\n create = \"ten minutes\"\n}}"
            ),
            vec!["Malformed duration", "timeouts.create"],
        ),
        (
            format!(
                "requester = {{ region = \"{EDGE}\", vpc_id = \"{edge}\", route_table_ids = [\"{}\"] }}\naccepter = {{ vpc_id = \"vpc-0123456789abcdef0\", account_id = \"111111111111\" }}",
                f.edge.route_table_ids[0]
            ),
            vec![
                "Accepter CIDR unknown",
                "requester.route_table_ids",
                "accepter.assume_role_arn",
            ],
        ),
    ];
    for (body, expected) in cases {
        let run = plan_error(&f, &body).await?;
        for needle in expected {
            assert!(
                run.says(needle),
                "expected {needle:?} for:\n{body}\n--- output ---\n{}",
                run.output()
            );
        }
    }
    for region in [EDGE, HUB] {
        assert!(
            live_peerings(&f.moto.ec2(region).await).await?.is_empty(),
            "validation created nothing"
        );
    }
    Ok(())
}

/// A fresh Terragrunt tree plans its peerings with mocked VPC ids of
/// clusters not applied yet: the plan warns, and the apply refuses before
/// requesting anything.
#[tokio::test(flavor = "multi_thread")]
async fn a_vpc_that_does_not_exist_warns_at_plan_and_apply_requests_nothing() -> Result<()> {
    let f = fixture().await?;
    let hub = &f.hub.vpc_id;
    let config = format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region = \"{HUB}\"\n}}\n\
         resource \"fleet_vpc_cross_region_peering\" \"p\" {{\n\
         requester = {{ region = \"{EDGE}\", vpc_id = \"vpc-00000000000000001\" }}\n\
         accepter = {{ vpc_id = \"{hub}\" }}\n}}\n"
    );
    let ws = Workspace::new(&f.moto, &config)?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    for needle in [
        "Warning: VPC not found",
        "requester.vpc_id",
        "vpc-00000000000000001 does not exist in us-west-2",
        "plan again once it is applied",
        "1 to add",
    ] {
        assert!(plan.says(needle), "{needle:?} in:\n{}", plan.output());
    }
    let apply = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
    assert_eq!(apply.code, 1, "{}", apply.output());
    assert!(apply.says("Error: VPC not found"), "{}", apply.output());
    assert!(apply.says("requester.vpc_id"), "{}", apply.output());
    for region in [HUB, EDGE] {
        let peerings = f
            .moto
            .ec2(region)
            .await
            .describe_vpc_peering_connections()
            .send()
            .await?;
        assert!(
            peerings.vpc_peering_connections().is_empty(),
            "{region}: nothing requested: {:?}",
            peerings.vpc_peering_connections()
        );
    }
    assert!(ws.state_json()?["values"].is_null(), "nothing in state");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn request_only_peering_is_accepted_by_the_accepter_resource() -> Result<()> {
    let f = fixture().await?;
    let config = format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}
provider "fleet" {{
  region = "{HUB}"
}}
resource "fleet_vpc_cross_region_peering" "request" {{
  auto_accept = false
  requester = {{
    region          = "{EDGE}"
    vpc_id          = "{edge_vpc}"
    route_table_ids = ["{edge_rt}"]
  }}
  accepter = {{
    vpc_id = "{hub_vpc}"
  }}
}}
resource "fleet_vpc_peering_accepter" "hub" {{
  peering_id                      = fleet_vpc_cross_region_peering.request.id
  route_table_ids                 = ["{hub_rt}"]
  allow_remote_vpc_dns_resolution = true
}}
output "accepter" {{
  value = fleet_vpc_peering_accepter.hub
}}
"#,
        edge_vpc = f.edge.vpc_id,
        hub_vpc = f.hub.vpc_id,
        edge_rt = f.edge.route_table_ids[0],
        hub_rt = f.hub.route_table_ids[0],
    );
    let ws = Workspace::new(&f.moto, &config)?;
    ws.apply()?;
    let out = ws.output("accepter")?;
    let id = out["id"].as_str().unwrap().to_string();
    assert_eq!(out["status"], "active");
    assert_eq!(out["peer_vpc_id"], f.edge.vpc_id.as_str());
    assert_eq!(out["peer_region"], EDGE);
    assert_eq!(out["peer_cidr_block"], "10.1.0.0/16");
    let hub_ec2 = f.moto.ec2(HUB).await;
    let p = find_peering(&hub_ec2, &id).await?.unwrap();
    assert_eq!(peering_status(&p), "active");
    let dns = p
        .accepter_vpc_info()
        .and_then(|i| i.peering_options())
        .and_then(|o| o.allow_dns_resolution_from_remote_vpc());
    assert_eq!(dns, Some(true));
    assert_eq!(
        tables_routing(&hub_ec2, &f.hub.vpc_id, &f.edge.cidr, &id).await?,
        vec![f.hub.route_table_ids[0].clone()]
    );
    let edge_ec2 = f.moto.ec2(EDGE).await;
    assert_eq!(
        tables_routing(&edge_ec2, &f.edge.vpc_id, &f.hub.cidr, &id).await?,
        vec![f.edge.route_table_ids[0].clone()]
    );

    // The requester now sees an active peering (refresh updates status in place, no diff).
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "{}", plan.output());
    ws.destroy()?;
    assert!(live_peerings(&hub_ec2).await?.is_empty());
    assert!(peering_routes_in_region(&hub_ec2).await?.is_empty());
    assert!(peering_routes_in_region(&edge_ec2).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_schema_lists_both_resources_with_described_attributes() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(
        &moto,
        "terraform {\n  required_providers {\n    fleet = { source = \"eksfleet/fleet\" }\n  }\n}\n",
    )?;
    let run = ws.terraform(&["providers", "schema", "-json"])?.ok()?;
    let schema: serde_json::Value = serde_json::from_str(&run.stdout)?;
    let address = format!("{}/eksfleet/fleet", ws.engine().registry_host());
    let provider = &schema["provider_schemas"][&address];
    for name in [
        "region",
        "profile",
        "assume_role",
        "endpoints",
        "default_tags",
        "max_retries",
    ] {
        assert!(
            provider["provider"]["block"]["attributes"][name].is_object(),
            "provider attribute {name}"
        );
    }
    let peering = &provider["resource_schemas"]["fleet_vpc_cross_region_peering"]["block"];
    for name in [
        "id",
        "requester",
        "accepter",
        "auto_accept",
        "tags",
        "status",
        "requester_cidr_block",
        "accepter_cidr_block",
    ] {
        let attr = &peering["attributes"][name];
        assert!(attr.is_object(), "peering attribute {name}");
        assert!(
            !attr["description"].as_str().unwrap_or_default().is_empty(),
            "{name} has a description"
        );
    }
    let requester = &peering["attributes"]["requester"]["nested_type"]["attributes"];
    for name in ["region", "vpc_id", "route_table_ids", "allow_remote_vpc_dns_resolution"] {
        assert!(requester[name].is_object(), "requester.{name}");
    }
    assert_eq!(
        peering["attributes"]["requester"]["nested_type"]["attributes"]["route_table_ids"]["type"],
        serde_json::json!(["set", "string"])
    );
    assert!(peering["block_types"]["timeouts"].is_object());
    let accepter = &provider["resource_schemas"]["fleet_vpc_peering_accepter"]["block"]["attributes"];
    for name in [
        "peering_id",
        "region",
        "route_table_ids",
        "allow_remote_vpc_dns_resolution",
        "assume_role_arn",
    ] {
        assert!(accepter[name].is_object(), "accepter attribute {name}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_account_peering_is_accepted_through_an_assumed_role() -> Result<()> {
    const PEER_ACCOUNT: &str = "111111111111";
    let role = format!("arn:aws:iam::{PEER_ACCOUNT}:role/peering-accepter");
    let moto = Moto::start_with_env(&[SETUP_BY_HAND])?;
    let edge = create_vpc(&moto.ec2(EDGE).await, EDGE, "10.1.0.0/16", 1).await?;
    let peer_hub_ec2 = moto.ec2_as(HUB, &role).await?;
    let hub = create_vpc(&peer_hub_ec2, HUB, "10.0.0.0/16", 1).await?;
    let config = format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}
provider "fleet" {{
  region = "{EDGE}"
}}
resource "fleet_vpc_cross_region_peering" "p" {{
  requester = {{
    vpc_id                          = "{edge_vpc}"
    route_table_ids                 = ["{edge_rt}"]
    allow_remote_vpc_dns_resolution = true
  }}
  accepter = {{
    region                          = "{HUB}"
    vpc_id                          = "{hub_vpc}"
    account_id                      = "{PEER_ACCOUNT}"
    assume_role_arn                 = "{role}"
    route_table_ids                 = ["{hub_rt}"]
    allow_remote_vpc_dns_resolution = true
  }}
}}
output "peering" {{
  value = fleet_vpc_cross_region_peering.p
}}
"#,
        edge_vpc = edge.vpc_id,
        edge_rt = edge.route_table_ids[0],
        hub_vpc = hub.vpc_id,
        hub_rt = hub.route_table_ids[0],
    );
    let ws = Workspace::new(&moto, &config)?;
    ws.apply()?;
    let id = ws.output("peering")?["id"].as_str().unwrap().to_string();

    // The accepter account sees the peering active, its DNS option and its route.
    let p = find_peering(&peer_hub_ec2, &id)
        .await?
        .expect("visible to the accepter account");
    assert_eq!(peering_status(&p), "active");
    assert_eq!(p.accepter_vpc_info().and_then(|i| i.owner_id()), Some(PEER_ACCOUNT));
    assert_eq!(p.requester_vpc_info().and_then(|i| i.owner_id()), Some(ACCOUNT_ID));
    let dns = p
        .accepter_vpc_info()
        .and_then(|i| i.peering_options())
        .and_then(|o| o.allow_dns_resolution_from_remote_vpc());
    assert_eq!(dns, Some(true));
    assert_eq!(
        tables_routing(&peer_hub_ec2, &hub.vpc_id, &edge.cidr, &id).await?,
        vec![hub.route_table_ids[0].clone()]
    );
    let edge_ec2 = moto.ec2(EDGE).await;
    assert_eq!(
        tables_routing(&edge_ec2, &edge.vpc_id, &hub.cidr, &id).await?,
        vec![edge.route_table_ids[0].clone()]
    );
    assert_eq!(ws.plan_exit_code()?.code, 0);

    ws.destroy()?;
    assert!(live_peerings(&edge_ec2).await?.is_empty());
    assert!(live_peerings(&peer_hub_ec2).await?.is_empty());
    assert!(peering_routes_in_region(&edge_ec2).await?.is_empty());
    assert!(peering_routes_in_region(&peer_hub_ec2).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_endpoints_and_assume_role_work_without_aws_endpoint_url() -> Result<()> {
    const DEPLOY_ACCOUNT: &str = "222222222222";
    let role = format!("arn:aws:iam::{DEPLOY_ACCOUNT}:role/deployer");
    let moto = Moto::start_with_env(&[SETUP_BY_HAND])?;
    let edge_ec2 = moto.ec2_as(EDGE, &role).await?;
    let hub_ec2 = moto.ec2_as(HUB, &role).await?;
    let edge = create_vpc(&edge_ec2, EDGE, "10.1.0.0/16", 1).await?;
    let hub = create_vpc(&hub_ec2, HUB, "10.0.0.0/16", 1).await?;
    let config = format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}
provider "fleet" {{
  region      = "{HUB}"
  max_retries = 3
  endpoints = {{
    ec2 = "{url}"
    sts = "{url}"
  }}
  assume_role = {{
    role_arn     = "{role}"
    session_name = "eksfleet-tests"
  }}
}}
resource "fleet_vpc_cross_region_peering" "p" {{
  requester = {{
    region          = "{EDGE}"
    vpc_id          = "{edge_vpc}"
    route_table_ids = ["{edge_rt}"]
  }}
  accepter = {{
    vpc_id          = "{hub_vpc}"
    route_table_ids = ["{hub_rt}"]
  }}
}}
"#,
        url = moto.url(),
        edge_vpc = edge.vpc_id,
        edge_rt = edge.route_table_ids[0],
        hub_vpc = hub.vpc_id,
        hub_rt = hub.route_table_ids[0],
    );
    let mut ws = Workspace::new(&moto, &config)?;
    ws.unset_env("AWS_ENDPOINT_URL");
    ws.apply()?;

    // Everything happened in the assumed role's account, nothing in the caller's.
    let peerings = live_peerings(&edge_ec2).await?;
    assert_eq!(peerings.len(), 1);
    assert_eq!(
        peerings[0].requester_vpc_info().and_then(|i| i.owner_id()),
        Some(DEPLOY_ACCOUNT)
    );
    assert!(
        live_peerings(&moto.ec2(EDGE).await).await?.is_empty(),
        "nothing in the default account"
    );
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    assert!(live_peerings(&edge_ec2).await?.is_empty());
    assert!(peering_routes_in_region(&hub_ec2).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_provider_configuration_names_the_attribute() -> Result<()> {
    let moto = Moto::start()?;
    let config = r#"
terraform {
  required_providers {
    fleet = { source = "eksfleet/fleet" }
  }
}
provider "fleet" {
  region      = "eu-wset-1"
  max_retries = -1
  endpoints   = { ec2 = "localhost:4566" }
  assume_role = { role_arn = "arn:aws:iam::123456789012:user/bob" }
}
resource "fleet_vpc_peering_accepter" "a" {
  peering_id = "pcx-0a1b2c3d"
}
"#;
    let ws = Workspace::new(&moto, config)?;
    let run = ws.terraform(&["plan", "-no-color"])?;
    assert_eq!(run.code, 1);
    for needle in [
        "Did you mean \"eu-west-1\"?",
        "max_retries: -1 is not allowed: use a whole number from 0 to 100",
        "endpoints.ec2: \"localhost:4566\" is not an endpoint URL",
        "assume_role.role_arn",
        "Malformed IAM role ARN",
    ] {
        assert!(run.says(needle), "expected {needle:?} in:\n{}", run.output());
    }
    Ok(())
}
