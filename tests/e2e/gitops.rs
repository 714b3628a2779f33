//! GitOps registration, AWS side, end to end: a hub (`gitops_hub`) and an
//! edge (`gitops_hub_role_arn` = the hub's output) applied in one run; the
//! hub's Argo CD role and its pod identity associations, the edge's deploy
//! role trusted by the hub role and its access entry, read back from the
//! stand-in through the SDK; repaired after out-of-band deletes, the policy
//! and tags changed in place, and nothing left after destroy.

use anyhow::{Context, Result};
use eksfleet_tests::*;

const HUB_ROLE: &str = "hub-us-east-1-argocd-hub";
const EDGE_ROLE: &str = "edge-eu-west-1-gitops";
const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
const SERVICE_ACCOUNTS: [&str; 3] = [
    "argocd-application-controller",
    "argocd-applicationset-controller",
    "argocd-server",
];

fn config(edge_extra: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region = \"us-east-1\"\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_cidr = \"10.0.0.0/16\"\n  \
         kubernetes_version = \"1.33\"\n  gitops_hub = {{}}\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"edge\" {{\n  name = \"edge\"\n  region = \"eu-west-1\"\n  \
         vpc_cidr = \"10.1.0.0/16\"\n  kubernetes_version = \"1.33\"\n  \
         gitops_hub_role_arn = fleet_eks_regional_cluster.hub.gitops_hub_role_arn\n{edge_extra}\n}}\n\
         output \"hub\" {{\n  value = fleet_eks_regional_cluster.hub\n}}\n\
         output \"edge\" {{\n  value = fleet_eks_regional_cluster.edge\n}}\n"
    )
}

/// The role's trust policy, decoded.
async fn trust_of(iam: &aws_sdk_iam::Client, name: &str) -> Result<serde_json::Value> {
    let role = iam.get_role().role_name(name).send().await?;
    let document = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .context("no trust policy")?;
    let decoded = percent_decode(document);
    Ok(serde_json::from_str(&decoded)?)
}

/// IAM returns policy documents URL-encoded.
fn percent_decode(text: &str) -> String {
    urlencoding::decode(text).map_or_else(|_| text.to_string(), |d| d.into_owned())
}

/// The policies of the edge's entry for `principal`.
async fn entry_policies(eks: &aws_sdk_eks::Client, cluster: &str, principal: &str) -> Result<Vec<String>> {
    let listed = eks
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await?;
    Ok(listed
        .associated_access_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

/// Hub role and associations, edge role and entry, as the configuration says.
async fn assert_registered(moto: &Moto, hub: &serde_json::Value, edge: &serde_json::Value, policy: &str) -> Result<()> {
    let iam = moto.iam().await;
    let hub_arn = hub["gitops_hub_role_arn"].as_str().context("hub role output")?;
    assert!(hub_arn.ends_with(&format!(":role/{HUB_ROLE}")), "{hub_arn}");
    let trust = trust_of(&iam, HUB_ROLE).await?;
    assert_eq!(trust["Statement"][0]["Principal"]["Service"], "pods.eks.amazonaws.com");
    let inline = iam
        .get_role_policy()
        .role_name(HUB_ROLE)
        .policy_name("ArgoCDAssumeEdgeRoles")
        .send()
        .await?;
    let inline = percent_decode(inline.policy_document());
    assert!(
        inline.contains("sts:AssumeRole") && inline.contains("sts:TagSession"),
        "{inline}"
    );

    let eks = moto.eks("us-east-1").await;
    let listed = eks.list_pod_identity_associations().cluster_name("hub").send().await?;
    let mut accounts = Vec::new();
    for summary in listed.associations().iter().filter(|a| a.namespace() == Some("argocd")) {
        let described = eks
            .describe_pod_identity_association()
            .cluster_name("hub")
            .association_id(summary.association_id().unwrap_or_default())
            .send()
            .await?;
        assert_eq!(described.association().and_then(|a| a.role_arn()), Some(hub_arn));
        accounts.push(summary.service_account().unwrap_or_default().to_string());
    }
    accounts.sort();
    assert_eq!(accounts, SERVICE_ACCOUNTS);
    let ids = hub["gitops_hub"]["pod_identity_association_ids"]
        .as_object()
        .context("association ids")?;
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.contains_key("argocd/argocd-server"));

    let edge_arn = edge["gitops_role_arn"].as_str().context("edge role output")?;
    assert!(edge_arn.ends_with(&format!(":role/{EDGE_ROLE}")), "{edge_arn}");
    let trust = trust_of(&iam, EDGE_ROLE).await?;
    assert_eq!(trust["Statement"][0]["Principal"]["AWS"], hub_arn);
    let actions = trust["Statement"][0]["Action"].to_string();
    assert!(
        actions.contains("sts:AssumeRole") && actions.contains("sts:TagSession"),
        "{actions}"
    );
    let eks = moto.eks("eu-west-1").await;
    let entry = eks
        .describe_access_entry()
        .cluster_name("edge")
        .principal_arn(edge_arn)
        .send()
        .await?;
    assert_eq!(entry.access_entry().and_then(|e| e.r#type()), Some("STANDARD"));
    assert_eq!(entry_policies(&eks, "edge", edge_arn).await?, [policy]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_and_an_edge_register_in_one_apply_are_repaired_changed_in_place_and_leave_nothing() -> Result<()> {
    let moto = Moto::start()?;
    let regions = ["us-east-1", "eu-west-1"];
    let before = inventory(&moto, &regions).await?;
    let ws = Workspace::new(&moto, &config(""))?;
    ws.apply()?;
    assert_registered(&moto, &ws.output("hub")?, &ws.output("edge")?, ADMIN).await?;
    assert_eq!(
        ws.output("hub")?["implied_addons"],
        serde_json::json!(["eks-pod-identity-agent"]),
        "Argo CD's pod identities need their agent"
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    // The edge's entry and one hub association deleted out of band: made again.
    let edge_arn = ws.output("edge")?["gitops_role_arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    moto.eks("eu-west-1")
        .await
        .delete_access_entry()
        .cluster_name("edge")
        .principal_arn(&edge_arn)
        .send()
        .await?;
    let hub_eks = moto.eks("us-east-1").await;
    let id = ws.output("hub")?["gitops_hub"]["pod_identity_association_ids"]["argocd/argocd-server"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    hub_eks
        .delete_pod_identity_association()
        .cluster_name("hub")
        .association_id(&id)
        .send()
        .await?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2, "refresh finds them gone:\n{}", plan.output());
    ws.apply()?;
    assert_registered(&moto, &ws.output("hub")?, &ws.output("edge")?, ADMIN).await?;
    assert_eq!(ws.plan_exit_code()?.code, 0);

    // The hub's role deleted out of band: made again, the associations moved to it.
    let iam = moto.iam().await;
    iam.delete_role_policy()
        .role_name(HUB_ROLE)
        .policy_name("ArgoCDAssumeEdgeRoles")
        .send()
        .await?;
    iam.delete_role().role_name(HUB_ROLE).send().await?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2, "refresh finds the hub's role gone:\n{}", plan.output());
    ws.apply()?;
    assert_registered(&moto, &ws.output("hub")?, &ws.output("edge")?, ADMIN).await?;
    assert_eq!(ws.plan_exit_code()?.code, 0);

    // Another access policy and new tags: in place, the old policy
    // disassociated, the tags on both GitOps roles.
    let changed = config(&format!(
        "  gitops_access_policy = \"{EDIT}\"\n  tags = {{ Team = \"edge\" }}"
    ))
    .replace(
        "  gitops_hub = {}\n",
        "  gitops_hub = {}\n  tags = { Team = \"hub\" }\n",
    );
    ws.write("main.tf", &changed)?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 2 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert_registered(&moto, &ws.output("hub")?, &ws.output("edge")?, EDIT).await?;
    for (role, team) in [(HUB_ROLE, "hub"), (EDGE_ROLE, "edge")] {
        let tags = iam.list_role_tags().role_name(role).send().await?;
        let found = tags.tags().iter().find(|t| t.key() == "Team").map(|t| t.value());
        assert_eq!(found, Some(team), "{role}: {tags:?}");
    }
    assert_eq!(ws.plan_exit_code()?.code, 0);

    ws.destroy()?;
    let iam = moto.iam().await;
    assert!(!role_exists(&iam, HUB_ROLE).await?);
    assert!(!role_exists(&iam, EDGE_ROLE).await?);
    let left = orphans(&before, &inventory(&moto, &regions).await?);
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn gitops_removed_from_the_configuration_is_deleted_in_place_and_a_capability_role_gets_an_entry() -> Result<()> {
    let moto = Moto::start()?;
    let regions = ["us-east-1", "eu-west-1"];
    let before = inventory(&moto, &regions).await?;
    let iam = moto.iam().await;
    let capability = iam
        .create_role()
        .role_name("argocd-capability")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"capabilities.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
        )
        .send()
        .await?;
    let capability_arn = capability.role().map(|r| r.arn().to_string()).unwrap_or_default();
    let ws = Workspace::new(&moto, &config(""))?;
    ws.apply()?;

    // The edge leaves the hub and takes the managed capability's role instead.
    let edge_only = config("").replace(
        "  gitops_hub_role_arn = fleet_eks_regional_cluster.hub.gitops_hub_role_arn\n",
        &format!("  gitops_capability_role_arn = \"{capability_arn}\"\n"),
    );
    ws.write("main.tf", &edge_only)?;
    ws.apply()?;
    assert!(
        !role_exists(&iam, EDGE_ROLE).await?,
        "the deploy role goes with gitops_hub_role_arn"
    );
    let edge = ws.output("edge")?;
    assert!(
        edge["gitops_role_arn"].is_null() && edge["gitops_hub_role_arn"].is_null(),
        "{edge}"
    );
    let eks = moto.eks("eu-west-1").await;
    assert_eq!(entry_policies(&eks, "edge", &capability_arn).await?, [ADMIN]);
    assert_eq!(ws.plan_exit_code()?.code, 0);

    // The hub stops being one: its role and associations go in place.
    let plain = edge_only.replace("  gitops_hub = {}\n", "");
    ws.write("main.tf", &plain)?;
    ws.apply()?;
    assert!(!role_exists(&iam, HUB_ROLE).await?);
    let listed = moto
        .eks("us-east-1")
        .await
        .list_pod_identity_associations()
        .cluster_name("hub")
        .send()
        .await?;
    assert!(
        listed.associations().iter().all(|a| a.namespace() != Some("argocd")),
        "{listed:?}"
    );
    assert!(ws.output("hub")?["gitops_hub_role_arn"].is_null());
    assert_eq!(ws.plan_exit_code()?.code, 0);

    ws.destroy()?;
    iam.delete_role().role_name("argocd-capability").send().await?;
    let left = orphans(&before, &inventory(&moto, &regions).await?);
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}
