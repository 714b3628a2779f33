//! Trees `eksgen` writes, run by the real Terragrunt with the run's engine
//! (Terraform, or OpenTofu with `FLEET_ENGINE=tofu`) against the strict
//! stand-in: what users do with them, from a fresh tree to a removed region.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use eksfleet_tests::terragrunt::TerragruntTree;
use eksfleet_tests::*;

const HUB: &str = "environments/dev/shared/gitops-cluster";

fn unit(region: &str, kind: &str) -> String {
    format!("environments/dev/regions/{region}/{kind}")
}

/// Where Terragrunt generates a unit of the stack layout's environment dev.
fn stack_unit(region: &str, kind: &str) -> String {
    format!("environments/dev/.terragrunt-stack/{region}/{kind}")
}

/// Where a tree's units are: the units layout's folders, or the stack layout's generated ones.
#[derive(Clone, Copy)]
enum Layout {
    Units,
    Stack,
}

impl Layout {
    fn unit(self, region: &str, kind: &str) -> String {
        match self {
            Layout::Units => unit(region, kind),
            Layout::Stack => stack_unit(region, kind),
        }
    }

    fn hub(self) -> String {
        match self {
            Layout::Units => HUB.to_string(),
            Layout::Stack => stack_unit("us-east-1", "gitops-cluster"),
        }
    }
}

pub(crate) fn edit_manifest(tree: &TerragruntTree, from: &str, to: &str) -> Result<()> {
    let path = tree.root().join("eksgen.toml");
    let text = std::fs::read_to_string(&path)?;
    assert!(text.contains(from), "{from:?} not in the manifest:\n{text}");
    std::fs::write(&path, text.replacen(from, to, 1))?;
    Ok(())
}

/// The peering of `region`'s edge with the hub is active, and each side's
/// three private route tables route the other's CIDR through it.
pub(crate) async fn assert_peered(moto: &Moto, tree: &TerragruntTree, region: &str, cidr: &str) -> Result<()> {
    assert_peered_in(Layout::Units, moto, tree, region, cidr).await
}

async fn assert_peered_in(layout: Layout, moto: &Moto, tree: &TerragruntTree, region: &str, cidr: &str) -> Result<()> {
    let peering_id = tree.outputs(&layout.unit(region, "vpc-peering-accepter"))?["peering_id"]
        .as_str()
        .context("peering_id output")?
        .to_string();
    let hub = moto.ec2("us-east-1").await;
    let peering = find_peering(&hub, &peering_id)
        .await?
        .context("the peering exists in the hub region")?;
    assert_eq!(peering_status(&peering), "active", "{region}");
    let hub_vpc = tree.outputs(&layout.hub())?["vpc_id"]
        .as_str()
        .context("hub vpc_id")?
        .to_string();
    assert_eq!(
        peering.accepter_vpc_info().and_then(|i| i.vpc_id()),
        Some(hub_vpc.as_str())
    );
    assert_eq!(
        tables_routing(&hub, &hub_vpc, cidr, &peering_id).await?.len(),
        3,
        "hub routes to {region}"
    );
    let edge_vpc = peering
        .requester_vpc_info()
        .and_then(|i| i.vpc_id())
        .context("requester VPC")?
        .to_string();
    assert_eq!(
        tables_routing(&moto.ec2(region).await, &edge_vpc, "10.0.0.0/16", &peering_id)
            .await?
            .len(),
        3,
        "{region} routes to the hub"
    );
    Ok(())
}

/// No VPC but the default ones, no cluster, no peering, no role of the
/// regions' clusters.
pub(crate) async fn assert_nothing_left(moto: &Moto, regions: &[&str]) -> Result<()> {
    let cluster_of = |region: &str| match region {
        "us-east-1" => "dev-hub".to_string(),
        edge => format!("dev-{edge}"),
    };
    for region in regions {
        let ec2 = moto.ec2(region).await;
        assert!(live_peerings(&ec2).await?.is_empty(), "{region}: peerings left");
        let vpcs = ec2.describe_vpcs().send().await?;
        assert!(
            vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
            "{region}: VPCs left: {:?}",
            vpcs.vpcs()
        );
        let clusters = moto.eks(region).await.list_clusters().send().await?;
        assert!(clusters.clusters().is_empty(), "{region}: clusters left");
    }
    let roles = moto.iam().await.list_roles().send().await?;
    assert!(
        roles.roles().iter().all(|r| !regions
            .iter()
            .any(|region| r.role_name().starts_with(&cluster_of(region)))),
        "roles left: {:?}",
        roles.roles()
    );
    Ok(())
}

/// What each unit's state holds (resources and outputs), to tell which
/// units an apply changed. Terraform may rewrite a state whose content is the
/// same (its check results come in any order), so the serial does not tell.
fn states(tree: &TerragruntTree, units: &[String]) -> Result<BTreeMap<String, serde_json::Value>> {
    units
        .iter()
        .map(|u| {
            let text = std::fs::read_to_string(tree.state_file(u)).with_context(|| u.clone())?;
            let state: serde_json::Value = serde_json::from_str(&text)?;
            Ok((u.clone(), serde_json::json!([state["resources"], state["outputs"]])))
        })
        .collect()
}

/// The units whose state differs between two snapshots.
fn changed(before: &BTreeMap<String, serde_json::Value>, after: &BTreeMap<String, serde_json::Value>) -> Vec<String> {
    before
        .iter()
        .filter(|(unit, state)| after.get(*unit) != Some(state))
        .map(|(unit, _)| unit.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_tree_plans_applies_with_parallel_accepters_replans_clean_and_destroys() -> Result<()> {
    let moto = Moto::start()?;
    let tree = TerragruntTree::init(&moto, &[], &["us-west-2", "eu-west-1"])?;
    // What the manifest says reaches AWS exactly, whatever AWS allows in it.
    let team = "Plattform: a+b=c/d@e_f.g-h ü";
    edit_manifest(
        &tree,
        "[environments.dev.regions.us-west-2]\n",
        &format!("[environments.dev.regions.us-west-2]\ntags = {{ Team = {team:?} }}\n"),
    )?;
    tree.eksgen(&["render"])?.ok()?;
    // A user input of one unit reaches its module: eu-west-1 runs an older Kubernetes.
    std::fs::write(
        tree.root().join(unit("eu-west-1", "edge-cluster")).join("extra.hcl"),
        "inputs = {\n  kubernetes_version = \"1.33\"\n}\n",
    )?;
    let check = tree.eksgen(&["check"])?.ok()?;
    assert!(check.says("7 units pass every check"), "{}", check.output());

    // Nothing exists: the peerings plan on mocked VPC ids, with a warning.
    let plan = tree.run_all("plan", &[])?;
    assert_eq!(plan.code, 0, "a fresh tree plans:\n{}", plan.output());
    assert!(plan.says("VPC not found"), "{}", plan.output());
    assert!(plan.says("Succeeded    7"), "{}", plan.output());

    // Both accepters write the hub's route tables at once.
    let apply = tree.run_all("apply", &[])?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;
    assert_peered(&moto, &tree, "eu-west-1", "10.2.0.0/16").await?;
    let version_in = |region: &'static str| {
        let eks = &moto;
        async move {
            let cluster = eks
                .eks(region)
                .await
                .describe_cluster()
                .name(format!("dev-{region}"))
                .send()
                .await?;
            anyhow::Ok(cluster.cluster().cloned().context("cluster")?)
        }
    };
    assert_eq!(
        version_in("eu-west-1").await?.version(),
        Some("1.33"),
        "extra.hcl applied"
    );
    // The manifest sets no version: the newest EKS offers in standard support.
    let offered = moto.control("GET", "/moto-fleet/cluster-versions", &serde_json::Value::Null)?;
    let newest = offered["clusterVersions"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["versionStatus"] == "STANDARD_SUPPORT"))
        .and_then(|r| r["clusterVersion"].as_str())
        .context("a version in standard support")?
        .to_string();
    let west = version_in("us-west-2").await?;
    assert_eq!(west.version(), Some(newest.as_str()));
    assert_eq!(west.tags().and_then(|t| t.get("Team")).map(String::as_str), Some(team));

    let replan = tree.run_all("plan", &["-detailed-exitcode"])?;
    assert_eq!(replan.code, 0, "every unit re-plans clean:\n{}", replan.output());

    let destroy = tree.run_all("destroy", &[])?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    assert_nothing_left(&moto, &["us-east-1", "us-west-2", "eu-west-1"]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_region_applies_only_its_own_units_and_a_removed_region_is_destroyed_alone() -> Result<()> {
    let moto = Moto::start()?;
    let tree = TerragruntTree::init(&moto, &[], &["us-west-2"])?;
    tree.run_all("apply", &[])?.ok()?;
    let first = tree.units()?;
    let before = states(&tree, &first)?;

    tree.eksgen(&["new-region", "eu-west-1"])?.ok()?;
    let apply = tree.run_all("apply", &[])?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    let after = states(&tree, &first)?;
    assert!(
        changed(&before, &after).is_empty(),
        "changed: {:?}",
        changed(&before, &after)
    );
    assert_peered(&moto, &tree, "eu-west-1", "10.2.0.0/16").await?;
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;

    // Removing a region whose units still hold resources would strand them.
    let manifest = std::fs::read_to_string(tree.root().join("eksgen.toml"))?;
    let refused = tree.eksgen(&["remove-region", "eu-west-1"])?;
    assert_eq!(refused.code, 2, "{}", refused.output());
    assert!(
        refused.says("terragrunt run --all --working-dir environments/dev/regions/eu-west-1 destroy"),
        "{}",
        refused.output()
    );
    assert_eq!(std::fs::read_to_string(tree.root().join("eksgen.toml"))?, manifest);

    // The region's folder holds all its units, the accepter of the hub side
    // too; the hub, a dependency outside the folder, is not destroyed.
    let destroy = tree.run_all_in("environments/dev/regions/eu-west-1", "destroy", &[])?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    tree.eksgen(&["remove-region", "eu-west-1"])?.ok()?;
    assert_eq!(tree.units()?, first);
    let after = states(&tree, &first)?;
    assert!(
        changed(&before, &after).is_empty(),
        "the other units are untouched: {:?}",
        changed(&before, &after)
    );
    assert_nothing_left(&moto, &["eu-west-1"]).await?;
    let hub = moto.ec2("us-east-1").await;
    let hub_vpc = tree.outputs(HUB)?["vpc_id"].as_str().context("hub vpc_id")?.to_string();
    let tables = hub
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&hub_vpc)
                .build(),
        )
        .send()
        .await?;
    let routes_to_removed: Vec<_> = tables
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .filter(|r| r.destination_cidr_block() == Some("10.2.0.0/16"))
        .collect();
    assert!(
        routes_to_removed.is_empty(),
        "hub routes to the removed region: {routes_to_removed:?}"
    );
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;
    let replan = tree.run_all("plan", &["-detailed-exitcode"])?;
    assert_eq!(replan.code, 0, "{}", replan.output());

    tree.run_all("destroy", &[])?.ok()?;
    assert_nothing_left(&moto, &["us-east-1", "us-west-2"]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_apply_that_fails_in_one_region_is_destroyed_completely() -> Result<()> {
    let moto = Moto::start()?;
    let tree = TerragruntTree::init(&moto, &[], &["us-west-2", "eu-west-1"])?;
    moto.fail_next(serde_json::json!({
        "kind": "cluster-create",
        "name": "dev-eu-west-1",
        "message": "denied for the test"
    }))?;
    let apply = tree.run_all("apply", &[])?;
    assert_ne!(apply.code, 0, "{}", apply.output());
    assert!(apply.says("denied for the test"), "{}", apply.output());
    // The failed edge's peering was never requested; the others were made.
    assert!(!tree.state_file(&unit("eu-west-1", "vpc-peering-requester")).exists());
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;

    // The never-applied units destroy on their mocks, so nothing is skipped.
    let destroy = tree.run_all("destroy", &[])?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    assert_nothing_left(&moto, &["us-east-1", "us-west-2", "eu-west-1"]).await
}

/// What `eksgen check`'s reader makes of the tree equals what Terragrunt
/// makes of it: the unit graph (`find --json --dependencies`) and, for each
/// unit, its inputs and provider block (`render --json`). Returns the graph,
/// unit to sorted dependencies, relative to the tree's root.
fn assert_check_reads_what_terragrunt_reads(
    tree: &TerragruntTree,
    read: &eksgen::check::Tree,
) -> Result<BTreeMap<String, Vec<String>>> {
    let found = tree.terragrunt(&["find", "--json", "--dependencies"])?.ok()?;
    let found: Vec<serde_json::Value> = serde_json::from_str(&found.stdout)?;
    let terragrunt_graph: BTreeMap<String, Vec<String>> = found
        .iter()
        .filter(|c| c["type"] == "unit")
        .map(|unit| {
            let mut dependencies: Vec<String> = unit["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect();
            dependencies.sort();
            (unit["path"].as_str().unwrap_or_default().to_string(), dependencies)
        })
        .collect();
    let relative = |path: &std::path::Path| path.strip_prefix(&read.root).unwrap_or(path).display().to_string();
    let eksgen_graph: BTreeMap<String, Vec<String>> = read
        .units
        .iter()
        .map(|(dir, unit)| {
            let mut dependencies: Vec<String> = unit.dependencies.iter().map(|d| relative(&d.config_path)).collect();
            dependencies.sort();
            (relative(dir), dependencies)
        })
        .collect();
    assert_eq!(eksgen_graph, terragrunt_graph);

    for (dir, unit) in &read.units {
        let rendered = tree
            .terragrunt(&["render", "--json", "--working-dir", &relative(dir)])?
            .ok()?;
        let rendered: serde_json::Value = serde_json::from_str(&rendered.stdout)
            .with_context(|| format!("{}: render --json:\n{}", relative(dir), rendered.stdout))?;
        let inputs = serde_json::to_value(unit.inputs_with_mocks()?)?;
        assert_eq!(inputs, rendered["inputs"], "{}: inputs", relative(dir));
        let provider = unit
            .generate
            .iter()
            .find(|g| g.name == "provider")
            .context("provider")?;
        assert_eq!(
            provider.contents,
            rendered["generate"]["provider"]["contents"],
            "{}: provider",
            relative(dir)
        );
    }
    Ok(eksgen_graph)
}

/// `eksgen check` reads the tree without Terragrunt; what it reads must be
/// what Terragrunt reads: the units, their dependencies, and their inputs
/// (with the mocks a fresh tree plans on, and `extra.hcl`).
#[test]
fn what_eksgen_check_reads_is_what_terragrunt_reads() -> Result<()> {
    let moto = Moto::start()?;
    let tree = TerragruntTree::init(&moto, &[], &["us-west-2", "eu-west-1"])?;
    std::fs::write(
        tree.root().join(unit("eu-west-1", "edge-cluster")).join("extra.hcl"),
        "inputs = {\n  kubernetes_version = \"1.33\"\n  tags = { Extra = \"yes\" }\n}\n",
    )?;
    let root = tree.root();
    let (read, problems) = eksgen::check::Tree::load(&root);
    assert!(problems.is_empty(), "{problems:#?}");

    let graph = assert_check_reads_what_terragrunt_reads(&tree, &read)?;
    assert_eq!(graph.len(), 7);
    // Terragrunt runs the hub and the edges first, then the requesters, then the accepters.
    for region in ["us-west-2", "eu-west-1"] {
        assert_eq!(graph[&unit(region, "edge-cluster")], Vec::<String>::new());
        assert_eq!(
            graph[&unit(region, "vpc-peering-requester")],
            [unit(region, "edge-cluster"), HUB.into()]
        );
        assert_eq!(
            graph[&unit(region, "vpc-peering-accepter")],
            [unit(region, "vpc-peering-requester"), HUB.into()]
        );
    }
    assert_eq!(graph[HUB], Vec::<String>::new());
    Ok(())
}

/// The stack layout under the real Terragrunt: `stack generate` writes the
/// units the stack file lists, `run --all` at the tree's root runs them (and
/// not their sources under units/), a unit's own inputs in
/// `extra/<region>/<kind>.hcl` reach its module, and the tree re-plans
/// clean and destroys completely.
#[tokio::test(flavor = "multi_thread")]
async fn a_stack_layout_generates_applies_replans_clean_and_destroys() -> Result<()> {
    let moto = Moto::start()?;
    let tree = TerragruntTree::init(&moto, &["--layout", "stack"], &["us-west-2"])?;
    let extra = tree.root().join("environments/dev/extra/us-west-2/edge-cluster.hcl");
    std::fs::create_dir_all(extra.parent().context("extra's folder")?)?;
    std::fs::write(&extra, "inputs = {\n  kubernetes_version = \"1.33\"\n}\n")?;
    tree.eksgen(&["check"])?.ok()?;

    let generate = tree.terragrunt(&["stack", "generate"])?;
    assert_eq!(generate.code, 0, "{}", generate.output());
    for (region, kind) in [
        ("us-east-1", "gitops-cluster"),
        ("us-west-2", "edge-cluster"),
        ("us-west-2", "vpc-peering-requester"),
        ("us-west-2", "vpc-peering-accepter"),
    ] {
        let dir = tree.root().join(stack_unit(region, kind));
        assert!(dir.join("terragrunt.hcl").is_file(), "{region}/{kind} generated");
        let values = std::fs::read_to_string(dir.join("terragrunt.values.hcl"))?;
        assert!(values.contains(&format!("\"{region}\"")), "{values}");
    }

    let apply = tree.run_all("apply", &[])?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    assert!(
        apply.says("Succeeded    4"),
        "the 4 generated units, not units/: {}",
        apply.output()
    );
    assert_peered_in(Layout::Stack, &moto, &tree, "us-west-2", "10.1.0.0/16").await?;
    assert!(tree.state_file(&stack_unit("us-west-2", "edge-cluster")).is_file());
    let west = moto
        .eks("us-west-2")
        .await
        .describe_cluster()
        .name("dev-us-west-2")
        .send()
        .await?;
    assert_eq!(
        west.cluster().and_then(|c| c.version()),
        Some("1.33"),
        "extra/us-west-2/edge-cluster.hcl applied"
    );

    let replan = tree.run_all("plan", &["-detailed-exitcode"])?;
    assert_eq!(replan.code, 0, "every unit re-plans clean:\n{}", replan.output());

    let destroy = tree.run_all("destroy", &[])?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    assert_nothing_left(&moto, &["us-east-1", "us-west-2"]).await
}

/// A region added to a stack file is generated and applied with the next
/// `run --all apply`; removing it is refused while its generated units hold
/// state, its generated folder destroys it alone, and once eksgen has
/// removed it (and the units Terragrunt generated for it) nothing brings it back.
#[tokio::test(flavor = "multi_thread")]
async fn a_region_of_a_stack_is_added_then_destroyed_alone_and_removed() -> Result<()> {
    let moto = Moto::start()?;
    let tree = TerragruntTree::init(&moto, &["--layout", "stack"], &["us-west-2"])?;
    tree.run_all("apply", &[])?.ok()?;
    tree.eksgen(&["new-region", "eu-west-1"])?.ok()?;
    let apply = tree.run_all("apply", &[])?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    assert_peered_in(Layout::Stack, &moto, &tree, "eu-west-1", "10.2.0.0/16").await?;

    let refused = tree.eksgen(&["remove-region", "eu-west-1"])?;
    assert_eq!(refused.code, 2, "{}", refused.output());
    let folder = "environments/dev/.terragrunt-stack/eu-west-1";
    assert!(
        refused.says(&format!("terragrunt run --all --working-dir {folder} destroy")),
        "{}",
        refused.output()
    );
    let destroy = tree.run_all_in(folder, "destroy", &[])?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    let removed = tree.eksgen(&["remove-region", "eu-west-1"])?.ok()?;
    assert!(
        removed.stdout.contains(&format!("deleted {folder}")),
        "{}",
        removed.stdout
    );
    assert!(!tree.root().join(folder).exists());
    assert_nothing_left(&moto, &["eu-west-1"]).await?;
    assert_peered_in(Layout::Stack, &moto, &tree, "us-west-2", "10.1.0.0/16").await?;

    // run --all generates the stack again: eu-west-1 stays gone, the rest is clean.
    let replan = tree.run_all("plan", &["-detailed-exitcode"])?;
    assert_eq!(replan.code, 0, "{}", replan.output());
    assert!(!tree.root().join(folder).exists());

    tree.run_all("destroy", &[])?.ok()?;
    assert_nothing_left(&moto, &["us-east-1", "us-west-2"]).await
}

/// What `eksgen check` reads from a stack file is what Terragrunt generates
/// from it: the same units, dependencies and inputs (mocks, extra files).
#[test]
fn what_eksgen_check_reads_of_a_stack_is_what_terragrunt_generates() -> Result<()> {
    let moto = Moto::start()?;
    let tree = TerragruntTree::init(&moto, &["--layout", "stack"], &["us-west-2", "eu-west-1"])?;
    let extra = tree.root().join("environments/dev/extra/eu-west-1/edge-cluster.hcl");
    std::fs::create_dir_all(extra.parent().context("extra's folder")?)?;
    std::fs::write(
        &extra,
        "inputs = {\n  kubernetes_version = \"1.33\"\n  tags = { Extra = \"yes\" }\n}\n",
    )?;
    let root = tree.root();
    let (read, problems) = eksgen::check::Tree::load(&root);
    assert!(problems.is_empty(), "{problems:#?}");
    tree.terragrunt(&["stack", "generate"])?.ok()?;

    // units/ is excluded: only the generated units are found.
    let graph = assert_check_reads_what_terragrunt_reads(&tree, &read)?;
    assert_eq!(graph.len(), 7);
    Ok(())
}

/// `new-region`, `new-env` and `remove-region` edit the stack files and
/// nothing else eksgen did not write; a hand-edited stack file is refused;
/// removing a region deletes the units Terragrunt generated for it (its
/// `stack generate` never would) unless their state still holds resources.
#[test]
fn new_region_and_remove_region_edit_the_stack_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    let modules = project_root().join("modules").display().to_string();
    let run = |args: &[&str]| -> Result<Run> {
        let run = eksgen(root, args)?;
        anyhow::ensure!(run.code == 0, "eksgen {args:?}:\n{}", run.output());
        Ok(run)
    };
    run(&[
        "init",
        "--env",
        "dev",
        "--hub-region",
        "us-east-1",
        "--modules-source",
        &modules,
        "--layout",
        "stack",
    ])?;
    let stack_file = root.join("environments/dev/terragrunt.stack.hcl");
    let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
    let unit_blocks = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix("unit \"")?.split('"').next().map(str::to_string))
            .collect()
    };
    assert_eq!(unit_blocks(&read(&stack_file)), ["us-east-1-gitops-cluster"]);
    assert!(read(&root.join("eksgen.toml")).contains("\nlayout = \"stack\"\n"));
    assert!(!root.join("environments/dev/regions").exists() && !root.join("environments/_env").exists());

    let added = run(&["new-region", "us-west-2"])?;
    assert_eq!(
        added.stdout,
        "update eksgen.toml\nupdate environments/dev/terragrunt.stack.hcl\nus-west-2: VPC 10.1.0.0/16 in environment dev\n"
    );
    let text = read(&stack_file);
    assert_eq!(
        unit_blocks(&text),
        [
            "us-east-1-gitops-cluster",
            "us-west-2-edge-cluster",
            "us-west-2-vpc-peering-requester",
            "us-west-2-vpc-peering-accepter"
        ]
    );
    for expected in [
        "  source = \"../../units/vpc-peering-requester\"\n  path   = \"us-west-2/vpc-peering-requester\"\n",
        "    vpc_cidr             = \"10.1.0.0/16\"\n",
        "    edge_cluster_path    = \"../edge-cluster\"\n",
        "    gitops_cluster_path  = \"../../us-east-1/gitops-cluster\"\n",
        "    extra                = \"environments/dev/extra/us-west-2/edge-cluster.hcl\"\n",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    run(&["new-region", "eu-west-1"])?;
    run(&["new-env", "prod", "--hub-region", "eu-central-1"])?;
    assert_eq!(
        unit_blocks(&read(&root.join("environments/prod/terragrunt.stack.hcl"))),
        ["eu-central-1-gitops-cluster"]
    );
    assert!(read(&stack_file).contains("    vpc_cidr             = \"10.2.0.0/16\"\n"));
    run(&["check"])?;

    // A hand edit of the stack file is caught by check and never overwritten.
    let pristine = read(&stack_file);
    std::fs::write(
        &stack_file,
        pristine.replace("kubernetes_version   = null", "kubernetes_version   = \"1.32\""),
    )?;
    let check = eksgen(root, &["check"])?;
    assert_eq!(check.code, 1, "{}", check.output());
    assert!(
        check.says("(hand edits belong in eksgen.toml or environments/<env>/extra/<region>/<kind>.hcl)"),
        "{}",
        check.output()
    );
    let refused = eksgen(root, &["new-region", "ap-south-1", "--env", "dev"])?;
    assert_eq!(refused.code, 2, "{}", refused.output());
    assert!(refused.stderr.contains("terragrunt.stack.hcl"), "{}", refused.stderr);
    std::fs::write(&stack_file, &pristine)?;

    // Terragrunt's units of eu-west-1, its state, and a user file of the region.
    let generated = root.join("environments/dev/.terragrunt-stack/eu-west-1/edge-cluster");
    std::fs::create_dir_all(&generated)?;
    std::fs::write(generated.join("terragrunt.hcl"), "# generated by terragrunt\n")?;
    let state = root.join(".terraform-state/environments/dev/.terragrunt-stack/eu-west-1/edge-cluster");
    std::fs::create_dir_all(&state)?;
    std::fs::write(
        state.join("terraform.tfstate"),
        r#"{"version": 4, "resources": [{"type": "fleet_vpc"}]}"#,
    )?;
    let extra = root.join("environments/dev/extra/eu-west-1/edge-cluster.hcl");
    std::fs::create_dir_all(extra.parent().context("extra's folder")?)?;
    std::fs::write(&extra, "inputs = {}\n")?;

    let manifest = read(&root.join("eksgen.toml"));
    let refused = eksgen(root, &["remove-region", "eu-west-1", "--env", "dev"])?;
    assert_eq!(refused.code, 2, "{}", refused.output());
    assert!(
        refused.says("terragrunt run --all --working-dir environments/dev/.terragrunt-stack/eu-west-1 destroy"),
        "{}",
        refused.output()
    );
    assert_eq!(read(&root.join("eksgen.toml")), manifest);
    assert!(generated.exists());

    std::fs::write(state.join("terraform.tfstate"), r#"{"version": 4, "resources": []}"#)?;
    let removed = run(&["remove-region", "eu-west-1", "--env", "dev"])?;
    assert!(
        removed
            .stdout
            .contains("deleted environments/dev/.terragrunt-stack/eu-west-1"),
        "{}",
        removed.stdout
    );
    assert!(!generated.exists() && root.join("environments/dev/.terragrunt-stack/").exists());
    assert_eq!(read(&extra), "inputs = {}\n", "user files are kept");
    let text = read(&stack_file);
    assert!(!text.contains("eu-west-1") && !text.contains("10.2.0.0/16"), "{text}");
    assert_eq!(unit_blocks(&text).len(), 4);
    run(&["check"])?;
    Ok(())
}

/// The keys in a bucket, listed over moto's HTTPS listener (the bucket's
/// policy denies requests without TLS).
pub(crate) fn bucket_keys(moto: &Moto, bucket: &str) -> Result<Vec<String>> {
    let tls = moto.tls.as_ref().context("moto was started without TLS")?;
    let script = r#"
import boto3, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], verify=sys.argv[2], region_name="us-east-1",
                  aws_access_key_id="AKIAEKSFLEETOBSERVER1", aws_secret_access_key="x")
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[3]):
    for item in page.get("Contents", []):
        print(item["Key"])
"#;
    let output = std::process::Command::new(project_root().join(".venv/bin/python"))
        .args(["-c", script, &tls.url, &tls.ca_bundle.display().to_string(), bucket])
        .output()?;
    anyhow::ensure!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tree_with_s3_state_bootstraps_its_bucket_applies_with_lock_files_and_destroys() -> Result<()> {
    let moto = Moto::start_with_tls()?;
    let tree = TerragruntTree::init(
        &moto,
        &["--state-bucket", "fleet-state", "--state-region", "us-east-1"],
        &["us-west-2"],
    )?;
    // moto has no per-bucket host names on loopback.
    edit_manifest(
        &tree,
        "region = \"us-east-1\"\n\n",
        "region = \"us-east-1\"\nuse_path_style = true\n\n",
    )?;
    tree.eksgen(&["render"])?.ok()?;
    let root_hcl = std::fs::read_to_string(tree.root().join("root.hcl"))?;
    assert!(
        root_hcl.contains("use_lockfile = true") && root_hcl.contains("use_path_style = true"),
        "{root_hcl}"
    );

    // Terragrunt 1.x creates no bucket unless asked.
    let unbootstrapped = tree.run_all("plan", &[])?;
    assert_ne!(unbootstrapped.code, 0, "{}", unbootstrapped.output());
    let plan = tree.terragrunt(&["run", "--all", "--backend-bootstrap", "plan"])?;
    assert_eq!(plan.code, 0, "{}", plan.output());

    let apply = tree.run_all("apply", &[])?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;
    let mut expected: Vec<String> = tree.units()?.iter().map(|u| format!("{u}/terraform.tfstate")).collect();
    expected.sort();
    let mut keys = bucket_keys(&moto, "fleet-state")?;
    keys.sort();
    assert_eq!(keys, expected, "one state per unit, no lock file left behind");
    assert!(!tree.root().join(".terraform-state").exists(), "no local state");
    let replan = tree.run_all("plan", &["-detailed-exitcode"])?;
    assert_eq!(replan.code, 0, "{}", replan.output());

    let destroy = tree.run_all("destroy", &[])?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    assert_nothing_left(&moto, &["us-east-1", "us-west-2"]).await
}

/// An environment with `gitops`: the hub runs Argo CD (`gitops_hub`), each
/// edge gets a deploy role trusted by the hub's, and a `gitops-registration`
/// unit per edge writes its Argo CD cluster Secret into the hub's real
/// Kubernetes API, all in one `run --all apply`; the tree re-plans clean and
/// destroys to nothing, Secrets included. Terragrunt runs as an IAM user
/// whose EKS token the API server checks, with cluster admin on the hub
/// through the hub unit's `extra.hcl`.
#[tokio::test(flavor = "multi_thread")]
async fn a_tree_with_gitops_registers_every_edge_with_the_hub_in_one_apply_and_destroys_clean() -> Result<()> {
    let moto = Moto::start()?;
    let iam = moto.iam().await;
    let user = iam.create_user().user_name("terragrunt").send().await?;
    let user_arn = user.user().map(|u| u.arn().to_string()).unwrap_or_default();
    let key = iam.create_access_key().user_name("terragrunt").send().await?;
    let key = key.access_key().context("access key")?;
    let edges = ["us-west-2", "eu-west-1"];
    let mut tree = TerragruntTree::init(&moto, &[], &edges)?;
    tree.set_env("AWS_ACCESS_KEY_ID", key.access_key_id());
    tree.set_env("AWS_SECRET_ACCESS_KEY", key.secret_access_key());
    let manifest = tree.root().join("eksgen.toml");
    let mut text = std::fs::read_to_string(&manifest)?;
    text.push_str("\n[environments.dev.gitops]\nmode = \"self-managed\"\nnamespace = \"argocd\"\n");
    std::fs::write(&manifest, text)?;
    tree.eksgen(&["render"])?.ok()?;
    std::fs::write(
        tree.root().join(HUB).join("extra.hcl"),
        format!(
            "inputs = {{\n  access_entries = {{\n    \"{user_arn}\" = {{\n      policies = {{ \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\" = {{}} }}\n    }}\n  }}\n}}\n"
        ),
    )?;
    let units = tree.units()?;
    for edge in edges {
        let registration = format!("environments/dev/shared/gitops-registration-{edge}");
        assert!(units.contains(&registration), "{registration} not in {units:?}");
    }
    let check = tree.eksgen(&["check"])?.ok()?;
    assert!(check.says("9 units pass every check"), "{}", check.output());

    let stand = KubeStand::start(&moto, "us-east-1", "dev-hub", &["argocd"])?;
    let plan = tree.run_all("plan", &[])?;
    assert_eq!(plan.code, 0, "a fresh tree with gitops plans:\n{}", plan.output());
    let apply = tree.run_all("apply", &[])?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    let mut expected = Vec::new();
    for edge in edges {
        let name = format!("dev-{edge}-{edge}-{ACCOUNT_ID}");
        let secret = stand
            .secret("argocd", &name)?
            .with_context(|| format!("no Secret {name}"))?;
        assert_eq!(
            secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"],
            "cluster"
        );
        assert_eq!(secret["metadata"]["labels"]["environment"], "dev");
        assert_eq!(secret["metadata"]["labels"]["region"], edge);
        let edge_outputs = tree.outputs(&unit(edge, "edge-cluster"))?;
        let config: serde_json::Value = serde_json::from_str(secret["data"]["config"].as_str().context("config")?)?;
        assert_eq!(config["awsAuthConfig"]["roleARN"], edge_outputs["gitops_role_arn"]);
        assert_eq!(config["awsAuthConfig"]["clusterName"], format!("dev-{edge}"));
        expected.push(name);
    }
    expected.sort();
    assert_eq!(stand.secret_names("argocd")?, expected);

    let replan = tree.run_all("plan", &["-detailed-exitcode"])?;
    assert_eq!(replan.code, 0, "every unit re-plans clean:\n{}", replan.output());
    let destroy = tree.run_all("destroy", &[])?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    assert!(stand.secret_names("argocd")?.is_empty(), "the Secrets go with destroy");
    iam.delete_access_key()
        .user_name("terragrunt")
        .access_key_id(key.access_key_id())
        .send()
        .await?;
    iam.delete_user().user_name("terragrunt").send().await?;
    assert_nothing_left(&moto, &["us-east-1", "us-west-2", "eu-west-1"]).await
}
