//! EKS Auto Mode on `fleet_eks_regional_cluster` end to end: on at create
//! (its three parts together, the node role made and given its access
//! entry by EKS, the cluster role given Auto Mode's policies), then off and
//! on again in place, beside a node group, and nothing left after destroy.

use anyhow::{Context, Result};
use eksfleet_tests::*;

const AUTO_NODE_ROLE: &str = "hub-us-east-1-auto-node";

fn config(auto_mode: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region = \"us-east-1\"\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_cidr = \"10.0.0.0/16\"\n  \
         kubernetes_version = \"1.33\"\n  node_groups = {{ system = {{ desired_size = 1 }} }}\n  {auto_mode}\n}}\n\
         output \"hub\" {{\n  value = fleet_eks_regional_cluster.hub\n}}\n"
    )
}

/// (compute, block storage, load balancing) switches and the node pools, as DescribeCluster reports them.
async fn auto_mode_of(eks: &aws_sdk_eks::Client) -> Result<(Option<bool>, Option<bool>, Option<bool>, Vec<String>)> {
    let out = eks.describe_cluster().name("hub").send().await?;
    let cluster = out.cluster().context("no cluster")?;
    let compute = cluster.compute_config();
    Ok((
        compute.and_then(|c| c.enabled()),
        cluster
            .storage_config()
            .and_then(|s| s.block_storage())
            .and_then(|b| b.enabled()),
        cluster
            .kubernetes_network_config()
            .and_then(|k| k.elastic_load_balancing())
            .and_then(|e| e.enabled()),
        compute.map(|c| c.node_pools().to_vec()).unwrap_or_default(),
    ))
}

async fn attached_policies(iam: &aws_sdk_iam::Client, role: &str) -> Result<Vec<String>> {
    let out = iam.list_attached_role_policies().role_name(role).send().await?;
    let mut names: Vec<String> = out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_on_at_create_then_off_and_on_again_in_place_beside_a_node_group() -> Result<()> {
    let moto = Moto::start()?;
    let before = inventory(&moto, &["us-east-1"]).await?;
    let on = "auto_mode = { enabled = true }";
    let ws = Workspace::new(&moto, &config(on))?;
    ws.apply()?;
    let (eks, iam) = (moto.eks("us-east-1").await, moto.iam().await);
    let all = vec!["general-purpose".to_string(), "system".to_string()];
    assert_eq!(
        auto_mode_of(&eks).await?,
        (Some(true), Some(true), Some(true), all.clone()),
        "compute, block storage and load balancing together, the default node pools"
    );
    let hub = ws.output("hub")?;
    let node_role = hub["auto_mode_node_role_arn"]
        .as_str()
        .context("auto_mode_node_role_arn")?;
    assert!(node_role.ends_with(&format!(":role/{AUTO_NODE_ROLE}")), "{node_role}");
    assert_eq!(
        attached_policies(&iam, AUTO_NODE_ROLE).await?,
        ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodeMinimalPolicy"]
    );
    let cluster_role = hub["cluster_role_arn"].as_str().context("cluster_role_arn")?;
    let cluster_role = cluster_role.rsplit('/').next().unwrap_or_default();
    assert_eq!(
        attached_policies(&iam, cluster_role).await?,
        [
            "AmazonEKSBlockStoragePolicy",
            "AmazonEKSClusterPolicy",
            "AmazonEKSComputePolicy",
            "AmazonEKSLoadBalancingPolicy",
            "AmazonEKSNetworkingPolicy"
        ]
    );
    let trust = iam.get_role().role_name(cluster_role).send().await?;
    let trust = trust
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .unwrap_or_default();
    let trust = urlencoding::decode(trust)?.into_owned();
    assert!(trust.contains("sts:TagSession"), "{trust}");
    // EKS's own access entry for Auto Mode's nodes, not fought by the resource.
    let entry = eks
        .describe_access_entry()
        .cluster_name("hub")
        .principal_arn(node_role)
        .send()
        .await?;
    assert_eq!(entry.access_entry().and_then(|e| e.r#type()), Some("EC2"));
    // The node group runs beside Auto Mode.
    let groups = eks.list_nodegroups().cluster_name("hub").send().await?;
    assert_eq!(groups.nodegroups(), ["system"]);
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    // Off, in place: the same cluster, the node role kept for a later on.
    ws.write("main.tf", &config("auto_mode = { enabled = false }"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert_eq!(auto_mode_of(&eks).await?.0, Some(false));
    assert_eq!(auto_mode_of(&eks).await?.1, Some(false));
    assert_eq!(auto_mode_of(&eks).await?.2, Some(false));
    assert_eq!(ws.output("hub")?["arn"], hub["arn"], "the same cluster");
    assert_eq!(ws.output("hub")?["auto_mode_node_role_arn"], node_role);
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after turning it off:\n{}", plan.output());

    // On again, with the system pool only.
    ws.write(
        "main.tf",
        &config("auto_mode = { enabled = true, node_pools = [\"system\"] }"),
    )?;
    ws.apply()?;
    assert_eq!(
        auto_mode_of(&eks).await?,
        (Some(true), Some(true), Some(true), vec!["system".to_string()])
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after turning it on again:\n{}", plan.output());

    ws.destroy()?;
    let after = inventory(&moto, &["us-east-1"]).await?;
    assert_eq!(orphans(&before, &after), Vec::<String>::new(), "left behind");
    assert!(
        iam.get_role().role_name(AUTO_NODE_ROLE).send().await.is_err(),
        "Auto Mode's node role is deleted with the cluster"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_mode_turned_on_for_an_existing_cluster_gives_its_cluster_role_the_auto_mode_policies() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &config(""))?;
    ws.apply()?;
    let iam = moto.iam().await;
    assert_eq!(
        attached_policies(&iam, "hub-us-east-1-cluster").await?,
        ["AmazonEKSClusterPolicy"]
    );
    assert!(ws.output("hub")?["auto_mode_node_role_arn"].is_null());
    ws.write("main.tf", &config("auto_mode = { enabled = true }"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    assert_eq!(auto_mode_of(&eks).await?.0, Some(true));
    assert_eq!(
        attached_policies(&iam, "hub-us-east-1-cluster").await?.len(),
        5,
        "Auto Mode's four policies beside AmazonEKSClusterPolicy"
    );
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after the change");
    ws.destroy()?;
    Ok(())
}
