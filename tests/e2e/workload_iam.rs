//! Workload and add-on IAM on `fleet_eks_regional_cluster` end to end: the
//! IRSA OIDC provider, EKS Pod Identity associations (and the agent they
//! imply), add-on roles made with EKS's recommended policies, per-add-on
//! tags and `version = "latest"`, read back from the stand-in through the SDK.

use anyhow::{Context, Result};
use eksfleet_tests::*;

const EBS_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";
const EBS_ROLE: &str = "hub-us-east-1-aws-ebs-csi-driver";

fn config(body: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region = \"us-east-1\"\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_cidr = \"10.0.0.0/16\"\n  \
         kubernetes_version = \"1.33\"\n  node_groups = {{ system = {{}} }}\n{body}\n}}\n\
         output \"hub\" {{\n  value = fleet_eks_regional_cluster.hub\n}}\n"
    )
}

/// A role workloads assume through EKS Pod Identity, made outside Terraform.
async fn workload_role(iam: &aws_sdk_iam::Client, name: &str) -> Result<String> {
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                       "Action": ["sts:AssumeRole", "sts:TagSession"]}]
    });
    let out = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await?;
    Ok(out.role().context("CreateRole returned no role")?.arn().to_string())
}

/// (namespace/service account, role ARN, owner ARN) of every association of the cluster.
async fn associations(eks: &aws_sdk_eks::Client) -> Result<Vec<(String, String, Option<String>)>> {
    let listed = eks.list_pod_identity_associations().cluster_name("hub").send().await?;
    let mut found = Vec::new();
    for summary in listed.associations() {
        let described = eks
            .describe_pod_identity_association()
            .cluster_name("hub")
            .association_id(summary.association_id().unwrap_or_default())
            .send()
            .await?;
        let a = described.association().context("no association")?;
        found.push((
            format!(
                "{}/{}",
                a.namespace().unwrap_or_default(),
                a.service_account().unwrap_or_default()
            ),
            a.role_arn().unwrap_or_default().to_string(),
            a.owner_arn().map(str::to_string),
        ));
    }
    found.sort();
    Ok(found)
}

async fn addon(eks: &aws_sdk_eks::Client, name: &str) -> Result<Option<aws_sdk_eks::types::Addon>> {
    match eks.describe_addon().cluster_name("hub").addon_name(name).send().await {
        Ok(out) => Ok(out.addon().cloned()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

async fn oidc_providers(iam: &aws_sdk_iam::Client) -> Result<Vec<String>> {
    let out = iam.list_open_id_connect_providers().send().await?;
    Ok(out
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn().map(str::to_string))
        .collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn addon_create_role_pod_identity_and_irsa_provider_are_made_changed_in_place_and_destroyed() -> Result<()> {
    let moto = Moto::start()?;
    let iam = moto.iam().await;
    let eks = moto.eks("us-east-1").await;
    let web = workload_role(&iam, "web-pods").await?;
    let ws = Workspace::new(
        &moto,
        &config(&format!(
            r#"  addons = {{
    coredns            = {{}}
    aws-ebs-csi-driver = {{ create_role = true, version = "latest", tags = {{ team = "storage" }} }}
  }}
  pod_identity_associations = {{ "apps/web" = "{web}" }}"#
        )),
    )?;
    ws.apply()?;

    // The add-on's role: trusted by EKS Pod Identity, with the policy
    // DescribeAddonConfiguration recommends, associated with its service account.
    let role = iam.get_role().role_name(EBS_ROLE).send().await?;
    let role = role.role().context("no add-on role")?;
    // IAM returns policy documents URL-encoded.
    let trust = urlencoding::decode(role.assume_role_policy_document().unwrap_or_default())?.into_owned();
    assert!(trust.contains("pods.eks.amazonaws.com"), "{trust}");
    assert!(trust.contains("sts:TagSession"), "{trust}");
    let attached = iam.list_attached_role_policies().role_name(EBS_ROLE).send().await?;
    let policies: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(policies, [EBS_POLICY]);
    let ebs = addon(&eks, "aws-ebs-csi-driver")
        .await?
        .context("EBS CSI add-on missing")?;
    let owned = associations(&eks).await?;
    assert_eq!(
        owned,
        [
            ("apps/web".to_string(), web.clone(), None),
            (
                "kube-system/ebs-csi-controller-sa".to_string(),
                role.arn().to_string(),
                ebs.addon_arn().map(str::to_string)
            ),
        ]
    );
    assert_eq!(
        ebs.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("storage")
    );
    // `latest` is the newest version EKS offers for 1.33, and stays `latest` in state.
    let versions = eks
        .describe_addon_versions()
        .addon_name("aws-ebs-csi-driver")
        .kubernetes_version("1.33")
        .send()
        .await?;
    let mut offered: Vec<String> = versions
        .addons()
        .iter()
        .flat_map(|a| a.addon_versions())
        .filter_map(|v| v.addon_version().map(str::to_string))
        .collect();
    offered.sort_by_key(|v| {
        v.trim_start_matches('v')
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|p| p.parse::<u64>().ok())
            .collect::<Vec<_>>()
    });
    assert_eq!(ebs.addon_version(), offered.last().map(String::as_str));
    let hub = ws.output("hub")?;
    assert_eq!(hub["addons"]["aws-ebs-csi-driver"]["version"], "latest");
    assert_eq!(hub["addons"]["aws-ebs-csi-driver"]["created_role_arn"], role.arn());
    // Pod identity needs its agent: installed, though the configuration does not list it.
    assert_eq!(hub["implied_addons"], serde_json::json!(["eks-pod-identity-agent"]));
    assert!(addon(&eks, "eks-pod-identity-agent").await?.is_some());
    // The IRSA provider for the cluster's issuer.
    let providers = oidc_providers(&iam).await?;
    assert_eq!(providers.len(), 1, "{providers:?}");
    assert_eq!(hub["oidc_provider_arn"], providers[0].as_str());
    let issuer = hub["oidc_issuer_url"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("https://");
    assert!(providers[0].ends_with(issuer), "{} for {issuer}", providers[0]);
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    // In place: the add-on moves to IRSA (its role and association go), the
    // workload association to another role, and the OIDC provider is turned off.
    let irsa = workload_role(&iam, "ebs-irsa").await?;
    let batch = workload_role(&iam, "batch-pods").await?;
    ws.write(
        "main.tf",
        &config(&format!(
            r#"  oidc_provider = false
  addons = {{
    coredns            = {{}}
    aws-ebs-csi-driver = {{ service_account_role_arn = "{irsa}", version = "latest" }}
  }}
  pod_identity_associations = {{ "apps/web" = "{batch}" }}"#
        )),
    )?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert!(
        !role_exists(&iam, EBS_ROLE).await?,
        "the role create_role made is deleted with it"
    );
    assert_eq!(
        associations(&eks).await?,
        [("apps/web".to_string(), batch.clone(), None)]
    );
    let ebs = addon(&eks, "aws-ebs-csi-driver")
        .await?
        .context("EBS CSI add-on missing")?;
    assert_eq!(ebs.service_account_role_arn(), Some(irsa.as_str()));
    assert!(
        ebs.tags().is_none_or(|t| !t.contains_key("team")),
        "the add-on's own tag is removed"
    );
    assert!(oidc_providers(&iam).await?.is_empty());
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after update:\n{}", plan.output());

    // No pod identity left: the implied agent goes too.
    ws.write(
        "main.tf",
        &config(&format!(
            r#"  addons = {{
    coredns            = {{}}
    aws-ebs-csi-driver = {{ service_account_role_arn = "{irsa}", version = "latest" }}
  }}"#
        )),
    )?;
    ws.apply()?;
    assert!(addon(&eks, "eks-pod-identity-agent").await?.is_none());
    assert!(associations(&eks).await?.is_empty());
    assert_eq!(oidc_providers(&iam).await?.len(), 1, "oidc_provider is on by default");
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after removing pod identity:\n{}", plan.output());

    ws.destroy()?;
    assert!(
        oidc_providers(&iam).await?.is_empty(),
        "the OIDC provider goes with the cluster"
    );
    assert!(eks.list_clusters().send().await?.clusters().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pod_identity_association_deleted_out_of_band_is_recreated() -> Result<()> {
    let moto = Moto::start()?;
    let iam = moto.iam().await;
    let eks = moto.eks("us-east-1").await;
    let web = workload_role(&iam, "web-pods").await?;
    let ws = Workspace::new(
        &moto,
        &config(&format!(r#"  pod_identity_associations = {{ "apps/web" = "{web}" }}"#)),
    )?;
    ws.apply()?;
    let listed = eks.list_pod_identity_associations().cluster_name("hub").send().await?;
    let id = listed.associations()[0]
        .association_id()
        .unwrap_or_default()
        .to_string();
    eks.delete_pod_identity_association()
        .cluster_name("hub")
        .association_id(&id)
        .send()
        .await?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2, "refresh finds the association gone:\n{}", plan.output());
    ws.apply()?;
    assert_eq!(associations(&eks).await?, [("apps/web".to_string(), web, None)]);
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}
