//! Fault tolerance end to end: real Terraform and the provider against moto
//! through `tools/fault_proxy.py`, which throttles, fails, resets, slows and
//! denies calls by seeded schedule, and plays real EC2/EKS timing (peerings
//! that take a while to become active, clusters that stay CREATING). Every
//! test ends by listing what moto holds in each region it touched: nothing
//! may be left behind that wasn't there before.
//!
//! Lines starting `FAULT-FIGURES` on stderr are the figures the README's
//! Reliability section quotes (`cargo test --workspace --test e2e --
//! faults:: --nocapture`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use eksfleet_tests::*;
use serde_json::json;

/// One cluster, for the tests that interrupt an apply.
fn single_hub(extra: &str) -> String {
    let (region, cidr) = HUB_REGION_CIDR;
    format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}

provider "fleet" {{
  region       = "{region}"
  default_tags = {{ ManagedBy = "eksfleet-faults" }}
}}

resource "fleet_eks_regional_cluster" "hub" {{
  name                    = "hub"
  vpc_cidr                = "{cidr}"
  availability_zone_count = 2
  nat_gateway_mode        = "single"
  node_groups             = {{ system = {{}} }}
{extra}
}}
"#
    )
}

/// The transient faults of a flaky API: every one retried by the SDK.
const TRANSIENT: [&str; 5] = ["throttle", "http429", "http503", "http500", "reset"];

/// Real EC2/EKS timing moto lacks: a peering pending for a few polls (and
/// refusing DNS options until active), a cluster CREATING for a few polls.
fn real_timing(polls: u32) -> Vec<serde_json::Value> {
    vec![
        json!({"kind": "peering_pending", "polls": polls}),
        json!({"kind": "cluster_creating", "polls": polls}),
    ]
}

fn provider_via(moto: &Moto, proxy: &FaultProxy, config: &str) -> Result<Workspace> {
    let mut ws = Workspace::new(moto, config)?;
    ws.use_endpoint(&proxy.url());
    Ok(ws)
}

async fn assert_no_orphans(moto: &Moto, regions: &[&str], before: &std::collections::BTreeSet<String>) -> Result<()> {
    let after = inventory(moto, regions).await?;
    let left = orphans(before, &after);
    eprintln!("FAULT-FIGURES orphans={} regions={}", left.len(), regions.len());
    assert!(left.is_empty(), "orphans left in moto: {left:#?}");
    Ok(())
}

fn figures(label: &str, proxy: &FaultProxy) -> Result<serde_json::Value> {
    let stats = proxy.stats()?;
    eprintln!(
        "FAULT-FIGURES {label} injected={} forwarded={} by_kind={}",
        stats["injected_total"], stats["forwarded"], stats["injected"]
    );
    Ok(stats)
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_and_three_regions_apply_through_20_percent_transient_faults_replan_clean_and_destroy_without_orphans()
-> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let edges = [
        ("us-west-2", "10.1.0.0/16"),
        ("eu-west-1", "10.2.0.0/16"),
        ("ap-southeast-1", "10.3.0.0/16"),
    ];
    let regions = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"];
    let before = inventory(&moto, &regions).await?;
    let mut rules = real_timing(3);
    rules.push(json!({"kind": TRANSIENT, "probability": 0.2}));
    rules.push(json!({"kind": "slow", "probability": 0.05, "delay": 0.3}));
    proxy.schedule(json!({"seed": 20250501, "rules": rules}))?;

    let ws = provider_via(
        &moto,
        &proxy,
        &hub_and_edges_config(&edges, "  addons = { vpc-cni = {}, coredns = {} }"),
    )?;
    let apply = ws.apply()?;
    let applied = figures("fleet-apply", &proxy)?;
    assert!(
        applied["injected_total"].as_u64().unwrap_or(0) > 50,
        "the schedule really failed calls: {applied}"
    );
    assert!(apply.says("Apply complete! Resources: 7 added"), "{}", apply.stdout);
    assert_eq!(ws.output("hub")?, "ACTIVE");
    for (region, _) in edges {
        assert_eq!(ws.output("peerings")?[region], "active", "{region}");
    }

    // Still flaky: the refresh and plan see through it too.
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "re-plan is clean under faults:\n{}", plan.output());
    ws.destroy()?;
    let total = figures("fleet-total", &proxy)?;
    assert!(
        total["injected"]["peering_pending"].as_u64().unwrap_or(0) > 0,
        "{total}"
    );
    assert!(
        total["injected"]["cluster_creating"].as_u64().unwrap_or(0) > 0,
        "{total}"
    );
    assert_no_orphans(&moto, &regions, &before).await
}

/// A permanent failure (access denied) at one create step.
struct FailurePoint {
    step: &'static str,
    rule: serde_json::Value,
    /// The resource left tainted (it made something before failing), or
    /// None when the failing resource made nothing at all.
    tainted: Option<&'static str>,
}

fn failure_points() -> Vec<FailurePoint> {
    let deny = |service: &str, action: &str| json!({"service": service, "action": action, "kind": "deny"});
    let hub = Some("fleet_eks_regional_cluster.hub");
    let peering = Some("fleet_vpc_cross_region_peering.edge_to_hub[\"us-west-2\"]");
    vec![
        FailurePoint {
            step: "VPC",
            rule: deny("ec2", "CreateVpc"),
            tainted: hub,
        },
        FailurePoint {
            step: "role",
            rule: deny("iam", "CreateRole"),
            tainted: hub,
        },
        FailurePoint {
            step: "role policy",
            rule: deny("iam", "AttachRolePolicy"),
            tainted: hub,
        },
        FailurePoint {
            step: "subnet",
            rule: deny("ec2", "CreateSubnet"),
            tainted: hub,
        },
        FailurePoint {
            step: "internet gateway",
            rule: deny("ec2", "CreateInternetGateway"),
            tainted: hub,
        },
        FailurePoint {
            step: "Elastic IP",
            rule: deny("ec2", "AllocateAddress"),
            tainted: hub,
        },
        FailurePoint {
            step: "NAT gateway",
            rule: deny("ec2", "CreateNatGateway"),
            tainted: hub,
        },
        FailurePoint {
            step: "route table",
            rule: deny("ec2", "CreateRouteTable"),
            tainted: hub,
        },
        FailurePoint {
            step: "security group",
            rule: deny("ec2", "CreateSecurityGroup"),
            tainted: hub,
        },
        FailurePoint {
            step: "cluster",
            rule: deny("eks", "CreateCluster"),
            tainted: hub,
        },
        FailurePoint {
            step: "node group",
            rule: deny("eks", "CreateNodegroup"),
            tainted: hub,
        },
        FailurePoint {
            step: "peering",
            rule: deny("ec2", "CreateVpcPeeringConnection"),
            tainted: None,
        },
        FailurePoint {
            step: "accept",
            rule: deny("ec2", "AcceptVpcPeeringConnection"),
            tainted: peering,
        },
        FailurePoint {
            step: "DNS options",
            rule: deny("ec2", "ModifyVpcPeeringConnectionOptions"),
            tainted: peering,
        },
        FailurePoint {
            step: "peering route",
            rule: json!({"service": "ec2", "action": "CreateRoute", "body": "VpcPeeringConnectionId", "kind": "deny"}),
            tainted: peering,
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_failure_at_each_create_step_leaves_a_tainted_resource_whose_destroy_leaves_no_orphans()
-> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let regions = ["us-east-1", "us-west-2"];
    let before = inventory(&moto, &regions).await?;
    let config = hub_and_edges_config(&[("us-west-2", "10.1.0.0/16")], "");
    let points = failure_points();
    for point in &points {
        proxy.schedule(json!({"seed": 1, "rules": [point.rule]}))?;
        let ws = provider_via(&moto, &proxy, &config)?;
        let failed = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
        let step = point.step;
        assert_eq!(failed.code, 1, "{step}: apply must fail:\n{}", failed.output());
        let action = point.rule["action"].as_str().unwrap_or_default();
        assert!(
            failed.says(action) && (failed.says("UnauthorizedOperation") || failed.says("AccessDenied")),
            "{step}: the error names the call and the cause:\n{}",
            failed.output()
        );
        assert!(
            proxy.stats()?["injected_total"].as_u64().unwrap_or(0) >= 1,
            "{step}: the fault fired"
        );
        proxy.clear()?;
        let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
        if let Some(resource) = point.tainted {
            assert!(
                plan.says(&format!("# {resource} is tainted, so must be replaced")),
                "{step}: {resource} is tainted:\n{}",
                plan.stdout
            );
        }
        ws.destroy()?;
        let left = orphans(&before, &inventory(&moto, &regions).await?);
        assert!(left.is_empty(), "{step}: destroy left orphans: {left:#?}");
    }
    eprintln!("FAULT-FIGURES failure-points={}", points.len());
    assert_no_orphans(&moto, &regions, &before).await
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_succeeds_when_objects_are_already_gone_or_half_deleted() -> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let regions = ["us-east-1", "us-west-2"];
    let before = inventory(&moto, &regions).await?;
    let ws = provider_via(
        &moto,
        &proxy,
        &hub_and_edges_config(&[("us-west-2", "10.1.0.0/16")], ""),
    )?;
    ws.apply()?;

    // Already gone: the peering, and the hub's node group and cluster.
    let hub_ec2 = moto.ec2("us-east-1").await;
    for p in live_peerings(&hub_ec2).await? {
        hub_ec2
            .delete_vpc_peering_connection()
            .vpc_peering_connection_id(p.vpc_peering_connection_id().unwrap_or_default())
            .send()
            .await?;
    }
    let eks = moto.eks("us-east-1").await;
    eks.delete_nodegroup()
        .cluster_name("hub")
        .nodegroup_name("system")
        .send()
        .await?;
    // EKS refuses to delete a cluster while a node group is still deleting.
    wait_nodegroup_gone(&eks, "hub", "system").await?;
    eks.delete_cluster().name("hub").send().await?;

    // Half-deleted: the edge's destroy fails at its very last EC2 step.
    proxy.schedule(
        json!({"rules": [{"service": "ec2", "action": "DeleteVpc", "region": "us-west-2", "kind": "deny"}]}),
    )?;
    let failed = ws.terraform(&["destroy", "-auto-approve", "-no-color"])?;
    assert_eq!(failed.code, 1, "{}", failed.output());
    assert!(failed.says("DeleteVpc"), "{}", failed.output());
    let edge_ec2 = moto.ec2("us-west-2").await;
    let subnets = edge_ec2.describe_subnets().send().await?;
    assert!(
        subnets.subnets().iter().all(|s| s.default_for_az() == Some(true)),
        "the edge was half-deleted: subnets gone, VPC left"
    );

    proxy.clear()?;
    ws.destroy()?;
    assert_no_orphans(&moto, &regions, &before).await
}

/// Starts `terraform apply` with the cluster kept CREATING, waits until the
/// provider is polling it, and signals Terraform's process group.
async fn interrupt_while_waiting_for_the_cluster(
    ws: &Workspace,
    proxy: &FaultProxy,
    signal: &str,
) -> Result<(Run, Duration)> {
    proxy.schedule(json!({"rules": [{"kind": "cluster_creating", "polls": 100000}]}))?;
    let mut child = ws.spawn(&["apply", "-auto-approve", "-no-color"])?;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let stats = proxy.stats()?;
        if stats["actions"]["eks:DescribeCluster"].as_u64().unwrap_or(0) >= 2 {
            break;
        }
        if let Some(status) = child.try_wait()? {
            bail!("apply ended before the cluster wait: {:?}", ws.spawned_run(status)?);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("the provider never waited for the cluster");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let signalled = Instant::now();
    let group = format!("-{}", child.id());
    let sent = std::process::Command::new("kill")
        .args([signal, "--", &group])
        .status()?;
    assert!(sent.success(), "kill {signal} {group}");
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            bail!("terraform did not end within 120 s of {signal}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    Ok((ws.spawned_run(status)?, signalled.elapsed()))
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupted_apply_records_what_exists_and_apply_again_converges_without_duplicates() -> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let regions = ["us-east-1"];
    let before = inventory(&moto, &regions).await?;
    let ws = provider_via(&moto, &proxy, &single_hub(""))?;

    // Ctrl-C: SIGINT to the whole process group, as a terminal sends it.
    let (run, took) = interrupt_while_waiting_for_the_cluster(&ws, &proxy, "-INT").await?;
    assert_ne!(run.code, 0, "{}", run.output());
    assert!(run.says("Interrupt received"), "{}", run.output());
    assert!(
        run.says("stopped by Terraform while waiting for"),
        "the provider's wait ended on StopProvider:\n{}",
        run.output()
    );
    assert!(
        took < Duration::from_secs(30),
        "StopProvider ends the wait promptly: {took:?}"
    );
    eprintln!("FAULT-FIGURES sigint-to-exit-ms={}", took.as_millis());
    let state = ws.state_json()?;
    let hub = &state["values"]["root_module"]["resources"][0]["values"];
    assert!(
        hub["arn"].as_str().is_some_and(|a| a.contains(":cluster/hub")),
        "state records the cluster being waited for: {hub}"
    );

    proxy.clear()?;
    ws.apply()?;
    let now = inventory(&moto, &regions).await?;
    let count = |kind: &str| now.iter().filter(|o| o.contains(&format!(" {kind} "))).count();
    assert_eq!(count("eks-cluster"), 1, "{now:#?}");
    assert_eq!(count("vpc"), 1, "no second VPC: {now:#?}");
    assert_eq!(count("nat-gateway"), 1, "{now:#?}");
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    assert_no_orphans(&moto, &regions, &before).await
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_apply_leaves_tagged_objects_that_import_adopts_and_destroy_removes() -> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let regions = ["us-east-1"];
    let before = inventory(&moto, &regions).await?;
    let ws = provider_via(&moto, &proxy, &single_hub(""))?;

    // SIGKILL: Terraform and the provider die at once; nothing is saved.
    let (run, _) = interrupt_while_waiting_for_the_cluster(&ws, &proxy, "-KILL").await?;
    assert_ne!(run.code, 0);
    proxy.clear()?;
    let left = orphans(&before, &inventory(&moto, &regions).await?);
    assert!(!left.is_empty(), "the kill left objects behind");

    // Found by tag: every EC2 object carries eksfleet:owner = REGION/NAME.
    let ec2 = moto.ec2("us-east-1").await;
    let owned = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:eksfleet:owner")
                .values("us-east-1/hub")
                .build(),
        )
        .send()
        .await?;
    assert_eq!(owned.vpcs().len(), 1, "the VPC is found by its owner tag");

    // Adopted: import by REGION/NAME takes the cluster, its network and the
    // roles made for it; the next apply finishes the create.
    let state_file = ws.path().join("terraform.tfstate");
    if state_file.exists() {
        let state = std::fs::read_to_string(&state_file)?;
        assert!(
            !state.contains("fleet_eks_regional_cluster"),
            "nothing was saved: {state}"
        );
    }
    ws.terraform(&["import", "-no-color", "fleet_eks_regional_cluster.hub", "us-east-1/hub"])?
        .ok()
        .context("import after SIGKILL")?;
    ws.apply()?;
    assert_eq!(ws.plan_exit_code()?.code, 0, "converged");
    let now = inventory(&moto, &regions).await?;
    assert_eq!(
        now.iter().filter(|o| o.contains(" vpc ")).count(),
        1,
        "no duplicate VPC: {now:#?}"
    );
    ws.destroy()?;
    assert_no_orphans(&moto, &regions, &before).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_wait_is_bounded_by_the_resource_timeouts() -> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let regions = ["us-east-1"];
    let before = inventory(&moto, &regions).await?;
    proxy.schedule(json!({"rules": [{"kind": "cluster_creating", "polls": 100000}]}))?;
    let ws = provider_via(&moto, &proxy, &single_hub("  timeouts { create = \"15s\" }"))?;
    let started = Instant::now();
    let failed = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
    let took = started.elapsed();
    assert_eq!(failed.code, 1, "{}", failed.output());
    assert!(failed.says("EKS cluster did not become active"), "{}", failed.output());
    // The cluster wait gets what is left of the 15 s after the network.
    assert!(failed.says("timed out after"), "{}", failed.output());
    assert!(took < Duration::from_secs(90), "bounded by the 15 s timeout: {took:?}");
    proxy.clear()?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(plan.says("is tainted, so must be replaced"), "{}", plan.stdout);
    ws.destroy()?;
    assert_no_orphans(&moto, &regions, &before).await
}

/// Ten regions at once, throttled hard: 30 % of calls answered with the
/// service's throttling error. Long: `make test-faults`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "long fault run: make test-faults"]
async fn ten_regions_in_parallel_under_throttling_complete_and_destroy_without_orphans() -> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let edges = [
        ("us-east-2", "10.1.0.0/16"),
        // Not us-west-1: the stand-in's default account has two zones there,
        // one of them usw1-az2, which EKS refuses (as some real accounts do).
        ("eu-north-1", "10.2.0.0/16"),
        ("us-west-2", "10.3.0.0/16"),
        ("eu-west-1", "10.4.0.0/16"),
        ("eu-west-2", "10.5.0.0/16"),
        ("eu-central-1", "10.6.0.0/16"),
        ("ap-southeast-1", "10.7.0.0/16"),
        ("ap-southeast-2", "10.8.0.0/16"),
        ("ap-northeast-1", "10.9.0.0/16"),
    ];
    let mut regions = vec![HUB_REGION_CIDR.0];
    regions.extend(edges.iter().map(|(r, _)| *r));
    let before = inventory(&moto, &regions).await?;
    let mut rules = real_timing(2);
    rules.push(json!({"kind": ["throttle", "http429"], "probability": 0.3}));
    proxy.schedule(json!({"seed": 10, "rules": rules}))?;
    let ws = provider_via(&moto, &proxy, &hub_and_edges_config(&edges, ""))?;
    let started = Instant::now();
    let apply = ws
        .terraform(&["apply", "-auto-approve", "-no-color", "-parallelism=10"])?
        .ok()?;
    eprintln!("FAULT-FIGURES ten-regions-apply-s={}", started.elapsed().as_secs());
    assert!(apply.says("Apply complete! Resources: 19 added"), "{}", apply.stdout);
    let plan = ws.terraform(&["plan", "-detailed-exitcode", "-no-color", "-parallelism=10"])?;
    assert_eq!(plan.code, 0, "{}", plan.output());
    ws.terraform(&["destroy", "-auto-approve", "-no-color", "-parallelism=10"])?
        .ok()?;
    figures("ten-regions", &proxy)?;
    assert_no_orphans(&moto, &regions, &before).await
}
