//! `fleet_eks_regional_cluster` against a stand-in as strict as AWS
//! (`tools/realism.py`, every behaviour on): a failed create resumes, parts
//! lost out of band are repaired in place, node groups are replaced without
//! downtime, an autoscaler's desired size is kept, node group versions are
//! tracked, and destroy removes what Kubernetes left in the VPC.

use anyhow::{Context, Result};
use aws_sdk_ec2::types::Filter;
use eksfleet_tests::*;
use serde_json::json;

fn cluster(body: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region       = \"us-east-1\"\n  default_tags = {{ ManagedBy = \"eksfleet-tests\" }}\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_cidr = \"10.0.0.0/16\"\n  \
         availability_zone_count = 2\n{body}\n}}\n\
         output \"hub\" {{\n  value = fleet_eks_regional_cluster.hub\n}}\n"
    )
}

const ADDRESS: &str = "fleet_eks_regional_cluster.hub";
const ADMIN: &str = "arn:aws:iam::123456789012:role/platform-admins";

fn full_stack() -> String {
    cluster(&format!(
        r#"  node_groups    = {{ system = {{ min_size = 1, max_size = 3, desired_size = 1 }} }}
  addons         = {{ vpc-cni = {{}}, coredns = {{}} }}
  access_entries = {{ "{ADMIN}" = {{ kubernetes_groups = ["platform"] }} }}"#
    ))
}

/// The `hub` resource's attributes in state.
fn hub_state(ws: &Workspace) -> Result<serde_json::Value> {
    let state = ws.state_json()?;
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(resources
        .into_iter()
        .find(|r| r["address"] == ADDRESS)
        .map(|r| r["values"].clone())
        .unwrap_or_default())
}

async fn tagged(ec2: &aws_sdk_ec2::Client) -> Result<Vec<String>> {
    let filter = || Filter::builder().name("tag:ManagedBy").values("eksfleet-tests").build();
    let mut ids = Vec::new();
    for v in ec2.describe_vpcs().filters(filter()).send().await?.vpcs() {
        ids.extend(v.vpc_id().map(str::to_string));
    }
    for s in ec2.describe_subnets().filters(filter()).send().await?.subnets() {
        ids.extend(s.subnet_id().map(str::to_string));
    }
    for g in ec2
        .describe_internet_gateways()
        .filters(filter())
        .send()
        .await?
        .internet_gateways()
    {
        ids.extend(g.internet_gateway_id().map(str::to_string));
    }
    for a in ec2.describe_addresses().filters(filter()).send().await?.addresses() {
        ids.extend(a.allocation_id().map(str::to_string));
    }
    for n in ec2
        .describe_nat_gateways()
        .filter(filter())
        .send()
        .await?
        .nat_gateways()
    {
        if n.state().map(|s| s.as_str()) != Some("deleted") {
            ids.extend(n.nat_gateway_id().map(str::to_string));
        }
    }
    for g in ec2
        .describe_security_groups()
        .filters(filter())
        .send()
        .await?
        .security_groups()
    {
        ids.extend(g.group_id().map(str::to_string));
    }
    Ok(ids)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_create_resumes_after_untaint_at_every_step_in_the_same_vpc() -> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let ec2 = moto.ec2("us-east-1").await;
    let iam = moto.iam().await;
    let deny = |service: &str, action: &str| json!({"service": service, "action": action, "kind": "deny"});
    let steps = [
        ("role", deny("iam", "CreateRole")),
        ("role policy", deny("iam", "AttachRolePolicy")),
        ("VPC DNS", deny("ec2", "ModifyVpcAttribute")),
        ("subnet", deny("ec2", "CreateSubnet")),
        ("internet gateway", deny("ec2", "AttachInternetGateway")),
        ("Elastic IP", deny("ec2", "AllocateAddress")),
        ("NAT gateway", deny("ec2", "CreateNatGateway")),
        ("route table", deny("ec2", "CreateRouteTable")),
        ("security group", deny("ec2", "CreateSecurityGroup")),
        ("cluster", deny("eks", "CreateCluster")),
        ("access entry", deny("eks", "CreateAccessEntry")),
        ("add-on", deny("eks", "CreateAddon")),
        ("node group", deny("eks", "CreateNodegroup")),
    ];
    for (step, rule) in steps {
        proxy.schedule(json!({"seed": 1, "rules": [rule]}))?;
        let mut ws = Workspace::new(&moto, &full_stack())?;
        ws.use_endpoint(&proxy.url());
        let failed = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
        assert_eq!(failed.code, 1, "{step}: the apply fails:\n{}", failed.output());
        assert!(
            failed.says("terraform untaint"),
            "{step}: the error says how to resume:\n{}",
            failed.output()
        );
        proxy.clear()?;
        let partial = hub_state(&ws)?;
        assert_eq!(partial["status"], "CREATING", "{step}: {partial}");
        ws.terraform(&["untaint", ADDRESS])?.ok()?;
        let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
        assert!(
            plan.says("1 to change, 0 to destroy"),
            "{step}: an in-place update continues the create:\n{}",
            plan.stdout
        );
        ws.apply()?;
        let done = hub_state(&ws)?;
        assert_eq!(done["status"], "ACTIVE", "{step}");
        if !partial["vpc_id"].is_null() {
            assert_eq!(done["vpc_id"], partial["vpc_id"], "{step}: the same VPC, not a new one");
        }
        let eks = moto.eks("us-east-1").await;
        let ng = eks
            .describe_nodegroup()
            .cluster_name("hub")
            .nodegroup_name("system")
            .send()
            .await?;
        assert_eq!(
            ng.nodegroup().and_then(|n| n.status()).map(|s| s.as_str()),
            Some("ACTIVE"),
            "{step}"
        );
        assert!(
            eks.describe_access_entry()
                .cluster_name("hub")
                .principal_arn(ADMIN)
                .send()
                .await
                .is_ok(),
            "{step}: the access entry exists"
        );
        let vpcs = ec2
            .describe_vpcs()
            .filters(Filter::builder().name("tag:ManagedBy").values("eksfleet-tests").build())
            .send()
            .await?;
        assert_eq!(vpcs.vpcs().len(), 1, "{step}: one VPC, nothing duplicated");
        let replan = ws.plan_exit_code()?;
        assert_eq!(replan.code, 0, "{step}: clean after the resume:\n{}", replan.output());
        ws.destroy()?;
        assert!(
            tagged(&ec2).await?.is_empty(),
            "{step}: destroy left {:?}",
            tagged(&ec2).await?
        );
        let roles = iam.list_roles().send().await?;
        assert!(
            roles.roles().iter().all(|r| !r.role_name().starts_with("hub-")),
            "{step}: roles left"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_network_part_is_repaired_in_place_not_by_replacing_the_cluster() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &cluster("  node_groups = { system = {} }"))?;
    ws.apply()?;
    let before = hub_state(&ws)?;
    let ec2 = moto.ec2("us-east-1").await;
    let table = before["private_route_table_ids"][1].as_str().unwrap().to_string();
    let tables = ec2.describe_route_tables().route_table_ids(&table).send().await?;
    for association in tables.route_tables().iter().flat_map(|t| t.associations()) {
        if let Some(id) = association.route_table_association_id() {
            ec2.disassociate_route_table().association_id(id).send().await?;
        }
    }
    ec2.delete_route_table().route_table_id(&table).send().await?;

    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.says("1 to change, 0 to destroy"),
        "repair in place:\n{}",
        plan.stdout
    );
    assert!(!plan.says("forces replacement"), "{}", plan.stdout);
    ws.apply()?;
    let after = hub_state(&ws)?;
    assert_eq!(after["arn"], before["arn"], "the same cluster");
    let new_table = after["private_route_table_ids"][1].as_str().unwrap();
    assert_ne!(new_table, table);
    let routed = ec2.describe_route_tables().route_table_ids(new_table).send().await?;
    let t = &routed.route_tables()[0];
    assert!(
        t.routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0") && r.nat_gateway_id().is_some()),
        "the new table routes through the NAT gateway"
    );
    assert_eq!(
        t.associations()
            .iter()
            .filter_map(|a| a.subnet_id())
            .collect::<Vec<_>>(),
        [after["private_subnet_ids"][1].as_str().unwrap()]
    );
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn api_access_widened_out_of_band_shows_as_drift_and_is_put_back() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(
        &moto,
        &cluster(
            "  endpoint_public_access = true\n  public_access_cidrs = [\"203.0.113.0/24\"]\n  api_allowed_cidrs = [\"10.9.0.0/16\"]",
        ),
    )?;
    ws.apply()?;
    let state = hub_state(&ws)?;
    let sg = state["api_security_group_id"].as_str().unwrap().to_string();
    let ec2 = moto.ec2("us-east-1").await;
    ec2.authorize_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await?;
    let eks = moto.eks("us-east-1").await;
    let update = eks
        .update_cluster_config()
        .name("hub")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .endpoint_public_access(true)
                .public_access_cidrs("0.0.0.0/0")
                .build(),
        )
        .send()
        .await?;
    let id = update.update().and_then(|u| u.id()).unwrap().to_string();
    for _ in 0..100 {
        let out = eks.describe_update().name("hub").update_id(&id).send().await?;
        if out.update().and_then(|u| u.status()).map(|s| s.as_str()) == Some("Successful") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(plan.says("0.0.0.0/0"), "both widenings show:\n{}", plan.stdout);
    assert!(
        plan.says("public_access_cidrs") && plan.says("api_allowed_cidrs"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    let cidrs = ec2.describe_security_groups().group_ids(&sg).send().await?;
    let open: Vec<&str> = cidrs.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.ip_ranges())
        .filter_map(|r| r.cidr_ip())
        .collect();
    assert_eq!(open, ["10.9.0.0/16"]);
    let cluster = eks.describe_cluster().name("hub").send().await?;
    let vpc = cluster.cluster().and_then(|c| c.resources_vpc_config()).unwrap();
    assert_eq!(vpc.public_access_cidrs(), ["203.0.113.0/24"]);
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn replacing_a_node_group_creates_the_new_one_before_deleting_the_old() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(
        &moto,
        &cluster("  node_groups = { system = { instance_types = [\"m6i.large\"] } }"),
    )?;
    ws.apply()?;
    ws.write(
        "main.tf",
        &cluster("  node_groups = { system = { instance_types = [\"m6i.large\"], capacity_type = \"SPOT\" } }"),
    )?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(plan.says("1 to change, 0 to destroy"), "{}", plan.stdout);
    let apply = ws.spawn(&["apply", "-auto-approve", "-no-color"])?;
    // Watch the groups while the apply runs: never fewer than one ACTIVE.
    let eks = moto.eks("us-east-1").await;
    let mut apply = apply;
    let mut saw_two = false;
    let status = loop {
        if let Some(status) = apply.try_wait()? {
            break status;
        }
        let names = eks
            .list_nodegroups()
            .cluster_name("hub")
            .send()
            .await?
            .nodegroups()
            .to_vec();
        let mut active = 0;
        for name in &names {
            if let Ok(ng) = eks
                .describe_nodegroup()
                .cluster_name("hub")
                .nodegroup_name(name)
                .send()
                .await
                && ng.nodegroup().and_then(|n| n.status()).map(|s| s.as_str()) == Some("ACTIVE")
            {
                active += 1;
            }
        }
        saw_two |= names.len() == 2;
        assert!(active >= 1, "no ACTIVE node group during the replacement: {names:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let run = ws.spawned_run(status)?;
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(saw_two, "old and new groups coexisted");
    let names = eks
        .list_nodegroups()
        .cluster_name("hub")
        .send()
        .await?
        .nodegroups()
        .to_vec();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("system-"), "{names:?}");
    let ng = eks
        .describe_nodegroup()
        .cluster_name("hub")
        .nodegroup_name(&names[0])
        .send()
        .await?;
    // An instance type change rolls the nodes in place now (the managed
    // launch template holds it); EKS cannot change the capacity type.
    assert_eq!(
        ng.nodegroup().and_then(|n| n.capacity_type()).map(|c| c.as_str()),
        Some("SPOT")
    );
    assert_eq!(hub_state(&ws)?["node_group_names"]["system"], names[0].as_str());
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

/// What an autoscaler does to the hub's "system" group (1 to 5 nodes): an
/// EKS update of the desired size, made outside Terraform.
async fn scale_out_of_band(eks: &aws_sdk_eks::Client, desired: i32) -> Result<()> {
    eks.update_nodegroup_config()
        .cluster_name("hub")
        .nodegroup_name("system")
        .scaling_config(
            aws_sdk_eks::types::NodegroupScalingConfig::builder()
                .min_size(1)
                .max_size(5)
                .desired_size(desired)
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

/// The hub's "system" node group as EKS describes it now.
async fn system_group(eks: &aws_sdk_eks::Client) -> Result<aws_sdk_eks::types::Nodegroup> {
    let found = eks
        .describe_nodegroup()
        .cluster_name("hub")
        .nodegroup_name("system")
        .send()
        .await?;
    found
        .nodegroup()
        .cloned()
        .context("DescribeNodegroup returned no node group")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_that_meets_another_update_in_progress_waits_for_it_to_end() -> Result<()> {
    let moto = Moto::start()?;
    let config = |labels: &str| {
        cluster(&format!(
            "  node_groups = {{ system = {{ min_size = 1, max_size = 5, desired_size = 2, labels = {{ {labels} }} }} }}"
        ))
    };
    let ws = Workspace::new(&moto, &config("tier = \"a\""))?;
    ws.apply()?;
    // Someone else's EKS update (an autoscaler's) is still in progress when
    // the next apply updates the same node group; EKS refuses the second.
    let eks = moto.eks("us-east-1").await;
    scale_out_of_band(&eks, 3).await?;
    ws.write("main.tf", &config("tier = \"b\""))?;
    let apply = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    let labels = system_group(&eks).await?.labels().cloned().unwrap_or_default();
    assert_eq!(labels.get("tier").map(String::as_str), Some("b"), "{labels:?}");
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_desired_size_set_by_an_autoscaler_is_kept_unless_enforced() -> Result<()> {
    let moto = Moto::start()?;
    let config = |extra: &str| {
        cluster(&format!(
            "  node_groups = {{ system = {{ min_size = 1, max_size = 5, desired_size = 2{extra} }} }}"
        ))
    };
    let ws = Workspace::new(&moto, &config(""))?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    scale_out_of_band(&eks, 4).await?;
    let desired = || async {
        anyhow::Ok(
            system_group(&eks)
                .await?
                .scaling_config()
                .and_then(|s| s.desired_size()),
        )
    };
    // The out-of-band change is an EKS update of its own: wait until it has
    // ended (the group ACTIVE again), as the next apply's update must.
    let active = || async {
        anyhow::Ok(system_group(&eks).await?.status() == Some(&aws_sdk_eks::types::NodegroupStatus::Active))
    };
    for _ in 0..300 {
        if desired().await? == Some(4) && active().await? {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ws.plan_exit_code()?.code, 0, "the autoscaler's size is not drift");
    // A change of the bounds keeps the autoscaler's size.
    ws.write("main.tf", &config(", max_size = 6").replace("max_size = 5, ", ""))?;
    ws.apply()?;
    assert_eq!(desired().await?, Some(4));
    // Opting in restores the configured size.
    ws.write(
        "main.tf",
        &config(", max_size = 6, enforce_desired_size = true").replace("max_size = 5, ", ""),
    )?;
    ws.apply()?;
    assert_eq!(desired().await?, Some(2));
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_group_left_on_an_older_version_shows_and_is_upgraded() -> Result<()> {
    let moto = Moto::start()?;
    let config = |version: &str| {
        cluster(&format!(
            "  kubernetes_version = \"{version}\"\n  node_groups = {{ system = {{}} }}"
        ))
    };
    let ws = Workspace::new(&moto, &config("1.33"))?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    // The control plane moved on without its node group (an upgrade cut short).
    let update = eks.update_cluster_version().name("hub").version("1.34").send().await?;
    let id = update.update().and_then(|u| u.id()).unwrap().to_string();
    for _ in 0..200 {
        let out = eks.describe_update().name("hub").update_id(&id).send().await?;
        if out.update().and_then(|u| u.status()).map(|s| s.as_str()) == Some("Successful") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ws.write("main.tf", &config("1.34"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.says("node_group_versions"),
        "the lagging group shows:\n{}",
        plan.stdout
    );
    ws.apply()?;
    let ng = eks
        .describe_nodegroup()
        .cluster_name("hub")
        .nodegroup_name("system")
        .send()
        .await?;
    assert_eq!(ng.nodegroup().and_then(|n| n.version()), Some("1.34"));
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_removes_what_kubernetes_left_in_the_vpc() -> Result<()> {
    let moto = Moto::start()?;
    // A short budget: a leftover the destroy cannot remove fails it, named, in seconds.
    let ws = Workspace::new(
        &moto,
        &cluster(
            "  node_groups = { system = {} }
  timeouts { network_delete = \"30s\" }",
        ),
    )?;
    ws.apply()?;
    let left = moto.leftovers("us-east-1", "hub", &["cni-eni", "elb-sg", "guardduty"])?;
    assert!(!left["cni-eni"].as_array().is_none_or(Vec::is_empty), "{left}");
    ws.destroy()?;
    let ec2 = moto.ec2("us-east-1").await;
    assert!(tagged(&ec2).await?.is_empty(), "left: {:?}", tagged(&ec2).await?);
    let vpcs = ec2.describe_vpcs().send().await?;
    assert!(
        vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
        "the VPC is gone"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_names_a_load_balancer_it_must_not_delete() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &cluster("  node_groups = { system = {} }"))?;
    ws.apply()?;
    let left = moto.leftovers("us-east-1", "hub", &["lb-eni"])?;
    let eni = left["lb-eni"][0].as_str().unwrap_or_default().to_string();
    let failed = ws.terraform(&["destroy", "-auto-approve", "-no-color"])?;
    assert_eq!(failed.code, 1, "{}", failed.output());
    assert!(failed.says(&eni), "the blocker is named:\n{}", failed.output());
    assert!(failed.says("LoadBalancer"), "{}", failed.output());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_create_answers_never_duplicate_or_orphan_an_object() -> Result<()> {
    let moto = Moto::start()?;
    // Each of these creates acts in AWS once, and its answer is lost: the SDK
    // sends it again (a reset connection is retried).
    let creates = [
        ("iam", "CreateRole"),
        ("ec2", "CreateVpc"),
        ("ec2", "CreateSubnet"),
        ("ec2", "CreateInternetGateway"),
        ("ec2", "AllocateAddress"),
        ("ec2", "CreateNatGateway"),
        ("ec2", "CreateRouteTable"),
        ("ec2", "CreateSecurityGroup"),
        ("eks", "CreateCluster"),
        ("eks", "CreateAccessEntry"),
        ("eks", "CreateAddon"),
        ("eks", "CreateNodegroup"),
    ];
    for (service, action) in creates {
        moto.control(
            "POST",
            "/moto-fleet/lose-responses",
            &json!({"service": service, "action": action, "count": 1}),
        )?;
    }
    let ws = Workspace::new(&moto, &full_stack())?;
    ws.apply()?;
    let armed = moto.control(
        "POST",
        "/moto-fleet/lose-responses",
        &json!({"service": "ec2", "action": "CreateVpc", "count": 0}),
    )?;
    assert_eq!(armed["armed"], json!({}), "every armed answer was lost: {armed}");

    // Every tagged EC2 object is one the state records: nothing made twice.
    let state = hub_state(&ws)?;
    let mut recorded: Vec<String> = Vec::new();
    for key in ["vpc_id", "internet_gateway_id", "api_security_group_id"] {
        recorded.extend(state[key].as_str().map(str::to_string));
    }
    for key in [
        "private_subnet_ids",
        "public_subnet_ids",
        "eip_allocation_ids",
        "nat_gateway_ids",
    ] {
        for id in state[key].as_array().into_iter().flatten() {
            recorded.extend(id.as_str().map(str::to_string));
        }
    }
    let ec2 = moto.ec2("us-east-1").await;
    let mut found = tagged(&ec2).await?;
    found.sort();
    recorded.sort();
    assert_eq!(found, recorded, "tagged in AWS vs recorded in state");
    let mut roles: Vec<String> = moto
        .iam()
        .await
        .list_roles()
        .send()
        .await?
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .filter(|n| n.starts_with("hub-"))
        .collect();
    roles.sort();
    let mut created: Vec<String> = serde_json::from_value(state["created_iam_role_names"].clone())?;
    created.sort();
    assert_eq!(roles, created, "one of each role");
    let eks = moto.eks("us-east-1").await;
    let groups = eks.list_nodegroups().cluster_name("hub").send().await?;
    assert_eq!(groups.nodegroups().len(), 1, "{:?}", groups.nodegroups());
    assert_eq!(eks.list_clusters().send().await?.clusters(), ["hub"]);

    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after the lost answers");
    ws.destroy()?;
    assert!(tagged(&ec2).await?.is_empty(), "left: {:?}", tagged(&ec2).await?);
    Ok(())
}
