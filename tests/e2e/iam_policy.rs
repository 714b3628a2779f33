//! `docs/iam-policy.json` is exactly what the provider needs: the full
//! lifecycle of a cluster and a peering (create, read, import, every kind of
//! in-place update, drift repair, destroy) runs as an IAM user holding only
//! that policy, with moto enforcing IAM. A missing action fails the run
//! (access denied); an action the provider never called fails it too (the
//! fault proxy, without faults, records every call).

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use eksfleet_tests::*;

/// Permissions that are checked without an API call of their own: passing
/// the cluster and node roles to EKS in CreateCluster / CreateNodegroup, the
/// service-linked roles EKS creates on the first cluster and node group of an
/// account, and the KMS grant EKS makes for `secrets_kms_key_arn`.
const NOT_CALLS: [&str; 4] = [
    "iam:PassRole",
    "iam:CreateServiceLinkedRole",
    "kms:CreateGrant",
    "kms:DescribeKey",
];

/// Calls made only when there is something to remove that this lifecycle
/// doesn't leave: Kubernetes leftovers in the VPC on destroy, instance
/// profiles or inline policies on a role, and a subnet found associated with
/// another route table during a repair.
const ONLY_WHEN_NEEDED: [&str; 6] = [
    "ec2:ReplaceRouteTableAssociation",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteVpcEndpoints",
    "ec2:RevokeSecurityGroupEgress",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:DeleteRolePolicy",
];

const ADMIN: &str = "arn:aws:iam::123456789012:role/platform-admins";
const DEV: &str = "arn:aws:iam::123456789012:role/developers";
/// Roles workloads get through EKS Pod Identity (made by the test).
const WEB: &str = "arn:aws:iam::123456789012:role/web-pods";
const BATCH: &str = "arn:aws:iam::123456789012:role/batch-pods";
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const VIEW_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

fn policy_actions() -> Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(project_root().join("docs/iam-policy.json"))?;
    let doc: serde_json::Value = serde_json::from_str(&text)?;
    let mut actions = BTreeSet::new();
    for statement in doc["Statement"].as_array().context("Statement list")? {
        match &statement["Action"] {
            serde_json::Value::String(a) => {
                actions.insert(a.clone());
            }
            serde_json::Value::Array(list) => actions.extend(list.iter().filter_map(|a| a.as_str()).map(String::from)),
            other => anyhow::bail!("unexpected Action {other}"),
        }
    }
    Ok(actions)
}

/// Stage 1 creates; stage 2 changes everything that updates in place;
/// stage 3 removes entries and node groups. `template` is a launch template
/// of the user's, which a stage-2 group runs on.
fn lifecycle(stage: u32, template: &str) -> String {
    let (version, tags, logs, cidrs, public) = match stage {
        1 => (
            "1.33",
            "{ Team = \"a\", Old = \"x\" }",
            "[\"api\"]",
            "[\"10.50.0.0/16\"]",
            false,
        ),
        _ => ("1.34", "{ Team = \"b\" }", "[\"audit\"]", "[\"10.60.0.0/16\"]", true),
    };
    let retention = if stage == 1 { 7 } else { 30 };
    let groups = match stage {
        1 => "{ system = { desired_size = 2 } }".to_string(),
        // The disk change makes a new version of system's managed launch template.
        2 => format!(
            "{{ system = {{ desired_size = 3, disk_size = 30, labels = {{ role = \"system\" }} }}, batch = {{ min_size = 0, desired_size = 0 }}, own = {{ launch_template = {{ id = \"{template}\" }} }} }}"
        ),
        _ => "{ system = { desired_size = 3, disk_size = 30, labels = { role = \"system\" } } }".to_string(),
    };
    // Stage 1 makes an add-on role and two pod identity associations, stage
    // 2 moves one to another role and drops the add-on (and its role), stage 3
    // drops the other.
    let addons = match stage {
        1 => "{ vpc-cni = {}, coredns = {}, aws-ebs-csi-driver = { create_role = true, version = \"latest\" } }",
        _ => "{ coredns = { configuration_values = jsonencode({ replicaCount = 3 }) } }",
    };
    let associations = match stage {
        1 => format!("{{ \"apps/web\" = \"{WEB}\", \"apps/batch\" = \"{WEB}\" }}"),
        2 => format!("{{ \"apps/web\" = \"{BATCH}\" }}"),
        _ => "{}".to_string(),
    };
    let entries = match stage {
        1 => format!(
            "{{ \"{ADMIN}\" = {{ kubernetes_groups = [\"platform\"], policies = {{ \"{ADMIN_POLICY}\" = {{}}, \"{VIEW_POLICY}\" = {{}} }} }} }}"
        ),
        2 => format!(
            "{{ \"{ADMIN}\" = {{ kubernetes_groups = [\"ops\"], policies = {{ \"{ADMIN_POLICY}\" = {{}} }} }}, \"{DEV}\" = {{}} }}"
        ),
        _ => "{}".to_string(),
    };
    // Auto Mode turned on for the existing edge cluster at stage 2.
    let edge_auto_mode = if stage == 1 { "false" } else { "true" };
    // Karpenter's prerequisites from stage 1; stage 2 moves the controller
    // to another namespace (a new association); destroy deletes them.
    let karpenter = match stage {
        1 => "{ enabled = true }",
        _ => "{ enabled = true, namespace = \"karpenter\" }",
    };
    let edge_tables = match stage {
        1 => "fleet_eks_regional_cluster.edge.private_route_table_ids",
        _ => "slice(fleet_eks_regional_cluster.edge.private_route_table_ids, 0, 1)",
    };
    format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}

provider "fleet" {{
  region       = "us-east-1"
  default_tags = {{ ManagedBy = "eksfleet-iam" }}
}}

resource "fleet_eks_regional_cluster" "hub" {{
  name                    = "hub"
  vpc_cidr                = "10.0.0.0/16"
  availability_zone_count = 2
  nat_gateway_mode        = "single"
  kubernetes_version      = "{version}"
  endpoint_public_access  = {public}
  api_allowed_cidrs       = {cidrs}
  enabled_log_types       = {logs}
  log_retention_days      = {retention}
  tags                    = {tags}
  node_groups             = {groups}
  addons                  = {addons}
  access_entries          = {entries}
  pod_identity_associations = {associations}
  karpenter               = {karpenter}
}}

resource "fleet_eks_regional_cluster" "edge" {{
  name                    = "edge"
  region                  = "us-west-2"
  vpc_cidr                = "10.1.0.0/16"
  availability_zone_count = 2
  nat_gateway_mode        = "none"
  auto_mode               = {{ enabled = {edge_auto_mode} }}
}}

resource "fleet_vpc_cross_region_peering" "edge_to_hub" {{
  requester = {{
    region                          = "us-west-2"
    vpc_id                          = fleet_eks_regional_cluster.edge.vpc_id
    route_table_ids                 = {edge_tables}
    allow_remote_vpc_dns_resolution = true
  }}
  accepter = {{
    vpc_id                          = fleet_eks_regional_cluster.hub.vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.hub.private_route_table_ids
    allow_remote_vpc_dns_resolution = {public}
  }}
  tags = {tags}
}}

output "hub_nat" {{
  value = fleet_eks_regional_cluster.hub.nat_gateway_ids
}}
"#
    )
}

/// Creates a user with `policy` (a JSON document) and returns its keys.
async fn user_with_policy(iam: &aws_sdk_iam::Client, name: &str, policy: &str) -> Result<(String, String)> {
    iam.create_user().user_name(name).send().await?;
    iam.put_user_policy()
        .user_name(name)
        .policy_name(format!("{name}-policy"))
        .policy_document(policy)
        .send()
        .await?;
    let key = iam.create_access_key().user_name(name).send().await?;
    let key = key.access_key().context("access key")?;
    Ok((key.access_key_id().to_string(), key.secret_access_key().to_string()))
}

#[tokio::test(flavor = "multi_thread")]
async fn full_lifecycle_runs_with_exactly_the_documented_iam_policy() -> Result<()> {
    let mut moto = Moto::start()?;
    let policy = std::fs::read_to_string(project_root().join("docs/iam-policy.json"))?;
    let iam = moto.iam().await;
    let (provider_key, provider_secret) = user_with_policy(&iam, "fleet-provider", &policy).await?;
    let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let (inspector_key, inspector_secret) = user_with_policy(&iam, "inspector", everything).await?;
    for role in [WEB, BATCH] {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
        iam.create_role()
            .role_name(role.rsplit('/').next().unwrap_or_default())
            .assume_role_policy_document(trust)
            .send()
            .await?;
    }
    // From here moto checks every request's signature and policy.
    moto.enforce_iam()?;
    moto.use_keys(&inspector_key, &inspector_secret);
    let regions = ["us-east-1", "us-west-2"];
    // The user's own launch template (made before the snapshot: it stays).
    let template = moto
        .ec2("us-east-1")
        .await
        .create_launch_template()
        .launch_template_name("own-nodes")
        .launch_template_data(aws_sdk_ec2::types::RequestLaunchTemplateData::builder().build())
        .send()
        .await?
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .context("launch template id")?
        .to_string();
    let before = inventory(&moto, &regions).await?;

    let proxy = FaultProxy::start(&moto)?;
    let mut ws = Workspace::new(&moto, &lifecycle(1, &template))?;
    ws.use_endpoint(&proxy.url());
    ws.set_env("AWS_ACCESS_KEY_ID", &provider_key);
    ws.set_env("AWS_SECRET_ACCESS_KEY", &provider_secret);

    ws.apply()?;
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after create");
    ws.write("main.tf", &lifecycle(2, &template))?;
    ws.apply()?;

    // Drift: a NAT gateway deleted out of band is repaired in place.
    let nat = ws.output("hub_nat")?[0].as_str().unwrap_or_default().to_string();
    moto.ec2("us-east-1")
        .await
        .delete_nat_gateway()
        .nat_gateway_id(&nat)
        .send()
        .await?;
    ws.apply()?;
    ws.write("main.tf", &lifecycle(3, &template))?;
    ws.apply()?;
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after updates");

    // Import, in a second state (the edge has no node group, so its node
    // role is found by name and owner tag).
    let mut importer = Workspace::new(&moto, &lifecycle(3, &template))?;
    importer.use_endpoint(&proxy.url());
    importer.set_env("AWS_ACCESS_KEY_ID", &provider_key);
    importer.set_env("AWS_SECRET_ACCESS_KEY", &provider_secret);
    for (address, id) in [
        ("fleet_eks_regional_cluster.hub", "us-east-1/hub"),
        ("fleet_eks_regional_cluster.edge", "us-west-2/edge"),
    ] {
        importer.terraform(&["import", "-no-color", address, id])?.ok()?;
    }

    ws.destroy()?;
    let left = orphans(&before, &inventory(&moto, &regions).await?);
    assert!(left.is_empty(), "orphans: {left:#?}");

    let seen: BTreeSet<String> = proxy.stats()?["actions"]
        .as_object()
        .context("actions")?
        .keys()
        .cloned()
        .collect();
    let documented = policy_actions()?;
    let missing: Vec<_> = seen.difference(&documented).collect();
    let unused: Vec<_> = documented
        .iter()
        .filter(|a| !seen.contains(*a) && !NOT_CALLS.contains(&a.as_str()) && !ONLY_WHEN_NEEDED.contains(&a.as_str()))
        .collect();
    eprintln!("FAULT-FIGURES iam-actions={}", documented.len());
    assert!(
        missing.is_empty(),
        "called but not in docs/iam-policy.json: {missing:?}"
    );
    assert!(
        unused.is_empty(),
        "in docs/iam-policy.json but never called: {unused:?}"
    );
    Ok(())
}
