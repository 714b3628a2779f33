//! `fleet_argocd_cluster` end to end against a real kube-apiserver (the hub's
//! API: `tools/kube_stand.py`, EKS tokens checked by the stand-in's webhooks):
//! a hub and two edges applied and registered in one run, each Secret read
//! back from the API server field by field; a Secret deleted or edited out
//! of band written again; a registration switched to the EKS Capability in
//! place; imported by its id; a principal without an access entry refused with its name in the
//! error; a hub that does not exist named; nothing left after destroy.

use anyhow::{Context, Result};
use eksfleet_tests::*;

const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const EDGES: [&str; 2] = ["eu-west-1", "us-west-2"];

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}")
}

fn provider(role: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region = \"us-east-1\"\n  assume_role = {{ role_arn = \"{}\" }}\n}}\n",
        role_arn(role)
    )
}

/// Hub, two edges, one registration per edge; `capability_region` registers
/// that edge for the EKS Capability instead.
fn config(capability_region: &str) -> String {
    format!(
        "{provider}\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_cidr = \"10.0.0.0/16\"\n  \
         kubernetes_version = \"1.33\"\n  gitops_hub = {{}}\n  \
         access_entries = {{ \"{deployer}\" = {{ policies = {{ \"{ADMIN}\" = {{}} }} }} }}\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"edge\" {{\n  \
         for_each = {{ \"eu-west-1\" = \"10.1.0.0/16\", \"us-west-2\" = \"10.2.0.0/16\" }}\n  \
         name = \"edge\"\n  region = each.key\n  vpc_cidr = each.value\n  kubernetes_version = \"1.33\"\n  \
         gitops_hub_role_arn = fleet_eks_regional_cluster.hub.gitops_hub_role_arn\n  \
         access_entries = {{ \"{deployer}\" = {{ policies = {{ \"{ADMIN}\" = {{}} }} }} }}\n}}\n\
         resource \"fleet_argocd_cluster\" \"edge\" {{\n  for_each = fleet_eks_regional_cluster.edge\n  \
         hub = {{ region = \"us-east-1\", cluster_name = \"hub\", namespace = \"argocd\" }}\n  \
         cluster_arn = each.value.arn\n  \
         mode = each.key == \"{capability_region}\" ? \"capability\" : \"self-managed\"\n  \
         role_arn = each.key == \"{capability_region}\" ? null : each.value.gitops_role_arn\n  \
         labels = {{ environment = \"prod\", region = each.key }}\n  \
         annotations = {{ \"example.com/owner\" = \"platform\" }}\n  project = \"default\"\n}}\n\
         output \"edges\" {{\n  value = fleet_eks_regional_cluster.edge\n}}\n\
         output \"registrations\" {{\n  value = fleet_argocd_cluster.edge\n}}\n",
        provider = provider("fleet-deployer"),
        deployer = role_arn("fleet-deployer"),
    )
}

async fn create_role(moto: &Moto, name: &str) -> Result<()> {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    moto.iam()
        .await
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await?;
    Ok(())
}

fn secret_name(region: &str) -> String {
    format!("edge-{region}-{ACCOUNT_ID}")
}

/// The Secret of the edge in `region`, field by field, as Argo CD reads it.
async fn assert_secret(moto: &Moto, stand: &KubeStand, ws: &Workspace, region: &str, capability: bool) -> Result<()> {
    let secret = stand
        .secret("argocd", &secret_name(region))?
        .with_context(|| format!("no Secret for {region}"))?;
    let labels = &secret["metadata"]["labels"];
    assert_eq!(labels["argocd.argoproj.io/secret-type"], "cluster", "{secret}");
    assert_eq!(labels["environment"], "prod");
    assert_eq!(labels["region"], region);
    assert_eq!(secret["metadata"]["annotations"]["example.com/owner"], "platform");
    let data = &secret["data"];
    assert_eq!(data["name"], "edge");
    assert_eq!(data["project"], "default");
    let described = moto.eks(region).await.describe_cluster().name("edge").send().await?;
    let cluster = described.cluster().context("edge")?;
    let edge = &ws.output("edges")?[region];
    if capability {
        assert_eq!(data["server"], cluster.arn().unwrap_or_default());
        assert!(data.get("config").is_none(), "the capability uses its own role: {data}");
    } else {
        assert_eq!(data["server"], cluster.endpoint().unwrap_or_default());
        let config: serde_json::Value = serde_json::from_str(data["config"].as_str().context("config")?)?;
        assert_eq!(
            config,
            serde_json::json!({
                "awsAuthConfig": {"clusterName": "edge", "roleARN": edge["gitops_role_arn"]},
                "tlsClientConfig": {
                    "insecure": false,
                    "caData": cluster.certificate_authority().and_then(|c| c.data()).unwrap_or_default()
                }
            })
        );
    }
    let keys: Vec<&String> = data.as_object().context("data")?.keys().collect();
    let expected: &[&str] = if capability {
        &["name", "project", "server"]
    } else {
        &["config", "name", "project", "server"]
    };
    assert_eq!(keys, expected, "no credential, nothing else");
    let registration = &ws.output("registrations")?[region];
    assert_eq!(
        registration["id"],
        format!("us-east-1/hub/argocd/{}", secret_name(region)),
        "{registration}"
    );
    assert_eq!(registration["server"], data["server"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_and_two_edges_register_in_one_apply_are_repaired_and_leave_nothing() -> Result<()> {
    let moto = Moto::start()?;
    let regions = ["us-east-1", EDGES[0], EDGES[1]];
    let before = inventory(&moto, &regions).await?;
    create_role(&moto, "fleet-deployer").await?;
    create_role(&moto, "outsider").await?;
    // The hub's API server waits for the hub: CreateCluster attaches it.
    let stand = KubeStand::start(&moto, "us-east-1", "hub", &["argocd"])?;
    let ws = Workspace::new(&moto, &config("none"))?;
    ws.apply()?;
    for region in EDGES {
        assert_secret(&moto, &stand, &ws, region, false).await?;
    }
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    // Deleted out of band: refresh sees it gone, apply writes it again.
    let (status, _) = stand.call(
        "DELETE",
        &format!("/api/v1/namespaces/argocd/secrets/{}", secret_name(EDGES[0])),
        None,
    )?;
    assert_eq!(status, 200);
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2, "refresh finds the Secret gone:\n{}", plan.output());
    ws.apply()?;
    assert_secret(&moto, &stand, &ws, EDGES[0], false).await?;

    // Edited out of band (another role, a label): written back as configured.
    let path = format!("/api/v1/namespaces/argocd/secrets/{}", secret_name(EDGES[1]));
    let (_, mut object) = stand.call("GET", &path, None)?;
    object["metadata"]["labels"]["environment"] = "dev".into();
    let tampered = r#"{"awsAuthConfig":{"clusterName":"edge","roleARN":"arn:aws:iam::123456789012:role/other"},"tlsClientConfig":{"insecure":false,"caData":"eA=="}}"#;
    object["data"]["config"] = base64_of(tampered).into();
    let (status, answer) = stand.call("PUT", &path, Some(&object))?;
    assert_eq!(status, 200, "{answer}");
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2, "refresh sees the edit:\n{}", plan.output());
    ws.apply()?;
    assert_secret(&moto, &stand, &ws, EDGES[1], false).await?;
    assert_eq!(ws.plan_exit_code()?.code, 0);

    // One edge moves to the EKS Capability for Argo CD: in place.
    ws.write("main.tf", &config(EDGES[0]))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert_secret(&moto, &stand, &ws, EDGES[0], true).await?;
    assert_eq!(ws.plan_exit_code()?.code, 0);

    // Imported into a state that lost it: the same Secret, no change planned.
    let address = format!("fleet_argocd_cluster.edge[\"{}\"]", EDGES[1]);
    ws.terraform(&["state", "rm", &address])?.ok()?;
    let id = format!("us-east-1/hub/argocd/{}", secret_name(EDGES[1]));
    ws.terraform(&["import", "-no-color", &address, &id])?.ok()?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "import plans no change:\n{}", plan.output());

    // A principal without an access entry on the hub, and a hub that does not exist.
    let edge_arn = ws.output("edges")?[EDGES[1]]["arn"]
        .as_str()
        .context("arn")?
        .to_string();
    let refused = Workspace::new(
        &moto,
        &format!(
            "{}resource \"fleet_argocd_cluster\" \"refused\" {{\n  \
             hub = {{ region = \"us-east-1\", cluster_name = \"hub\" }}\n  cluster_arn = \"{edge_arn}\"\n  \
             role_arn = \"{role}\"\n  secret_name = \"refused\"\n}}\n\
             resource \"fleet_argocd_cluster\" \"nohub\" {{\n  \
             hub = {{ region = \"us-east-1\", cluster_name = \"nohub\" }}\n  cluster_arn = \"{edge_arn}\"\n  \
             role_arn = \"{role}\"\n  secret_name = \"nohub\"\n}}\n",
            provider("outsider"),
            role = role_arn("edge-us-west-2-gitops"),
        ),
    )?;
    let run = refused.terraform(&["apply", "-auto-approve", "-no-color"])?;
    let output = run.output();
    assert_ne!(run.code, 0, "{output}");
    assert!(run.says("401 Unauthorized"), "{output}");
    assert!(
        run.says(&format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/outsider/")),
        "the refused principal is named:\n{output}"
    );
    assert!(run.says("Hub cluster not found") && run.says("\"nohub\""), "{output}");
    assert!(stand.secret("argocd", "refused")?.is_none());

    ws.destroy()?;
    assert_eq!(
        stand.secret_names("argocd")?,
        Vec::<String>::new(),
        "the Secrets go with destroy"
    );
    let iam = moto.iam().await;
    for region in EDGES {
        assert!(!role_exists(&iam, &format!("edge-{region}-gitops")).await?);
    }
    assert!(!role_exists(&iam, "hub-us-east-1-argocd-hub").await?);
    for role in ["fleet-deployer", "outsider"] {
        iam.delete_role().role_name(role).send().await?;
    }
    let left = orphans(&before, &inventory(&moto, &regions).await?);
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
