//! `fleet_eks_regional_cluster` end to end: real Terraform, moto (with the
//! project's EKS extension), assertions made by reading moto through the SDK.

use anyhow::{Context, Result};
use aws_sdk_ec2::types::Filter;
use eksfleet_tests::*;

const REGIONS: [(&str, &str); 2] = [("us-east-1", "10.10.0.0/16"), ("eu-west-1", "10.20.0.0/16")];

fn fleet_config(nat_mode: &str, desired: u32, extra_group: bool) -> String {
    let regions = REGIONS
        .iter()
        .map(|(r, c)| format!("    \"{r}\" = \"{c}\""))
        .collect::<Vec<_>>()
        .join("\n");
    let extra = if extra_group {
        "\n    batch = {\n      capacity_type = \"SPOT\"\n      instance_types = [\"m6i.xlarge\"]\n      min_size = 0\n      max_size = 2\n      desired_size = 0\n    }"
    } else {
        ""
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
  default_tags = {{ ManagedBy = "eksfleet-tests" }}
}}

locals {{
  regions = {{
{regions}
  }}
}}

resource "fleet_eks_regional_cluster" "edge" {{
  for_each = local.regions

  name             = "edge"
  region           = each.key
  vpc_cidr         = each.value
  nat_gateway_mode = "{nat_mode}"

  node_groups = {{
    system = {{
      min_size     = 1
      max_size     = 4
      desired_size = {desired}
      labels       = {{ role = "system" }}
    }}{extra}
  }}
}}

output "clusters" {{
  value = fleet_eks_regional_cluster.edge
}}
"#
    )
}

async fn tagged_count(ec2: &aws_sdk_ec2::Client, kind: &str) -> Result<usize> {
    let filter = Filter::builder().name("tag:ManagedBy").values("eksfleet-tests").build();
    Ok(match kind {
        "vpc" => ec2.describe_vpcs().filters(filter).send().await?.vpcs().len(),
        "subnet" => ec2.describe_subnets().filters(filter).send().await?.subnets().len(),
        "nat" => ec2
            .describe_nat_gateways()
            .filter(filter)
            .send()
            .await?
            .nat_gateways()
            .iter()
            .filter(|n| n.state().map(|s| s.as_str()) != Some("deleted"))
            .count(),
        "igw" => ec2
            .describe_internet_gateways()
            .filters(filter)
            .send()
            .await?
            .internet_gateways()
            .len(),
        "eip" => ec2.describe_addresses().filters(filter).send().await?.addresses().len(),
        "rtb" => ec2
            .describe_route_tables()
            .filters(filter)
            .send()
            .await?
            .route_tables()
            .len(),
        other => anyhow::bail!("unknown kind {other}"),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn two_regions_apply_replan_clean_scale_in_place_and_destroy_without_leaks() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &fleet_config("one_per_az", 2, false))?;
    ws.apply()?;
    let out = ws.output("clusters")?;

    for (region, cidr) in REGIONS {
        let c = &out[region];
        assert_eq!(c["status"], "ACTIVE", "{c}");
        assert_eq!(c["id"], format!("{region}/edge"));
        assert_eq!(c["vpc_cidr"], cidr);
        let ec2 = moto.ec2(region).await;
        let eks = moto.eks(region).await;

        // VPC with DNS on, 3 + 3 subnets with the Kubernetes tags.
        let vpc_id = c["vpc_id"].as_str().unwrap();
        let vpc = ec2.describe_vpcs().vpc_ids(vpc_id).send().await?;
        assert_eq!(vpc.vpcs()[0].cidr_block(), Some(cidr));
        for attribute in [
            aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
            aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
        ] {
            let a = ec2
                .describe_vpc_attribute()
                .vpc_id(vpc_id)
                .attribute(attribute.clone())
                .send()
                .await?;
            let on = a
                .enable_dns_support()
                .or(a.enable_dns_hostnames())
                .and_then(|v| v.value());
            assert_eq!(on, Some(true), "{attribute:?}");
        }
        let subnets = ec2
            .describe_subnets()
            .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
            .send()
            .await?;
        let tag = |s: &aws_sdk_ec2::types::Subnet, key: &str| {
            s.tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        let private: Vec<_> = subnets
            .subnets()
            .iter()
            .filter(|s| tag(s, "kubernetes.io/role/internal-elb").as_deref() == Some("1"))
            .collect();
        let public: Vec<_> = subnets
            .subnets()
            .iter()
            .filter(|s| tag(s, "kubernetes.io/role/elb").as_deref() == Some("1"))
            .collect();
        assert_eq!((private.len(), public.len()), (3, 3));
        for s in private.iter().chain(&public) {
            assert_eq!(tag(s, "kubernetes.io/cluster/edge").as_deref(), Some("shared"));
        }
        let zones: std::collections::BTreeSet<_> = private.iter().filter_map(|s| s.availability_zone()).collect();
        assert_eq!(zones.len(), 3, "one private subnet per zone");

        // IGW, one NAT per zone, and private default routes through them.
        assert_eq!(tagged_count(&ec2, "igw").await?, 1);
        assert_eq!(tagged_count(&ec2, "nat").await?, 3);
        assert_eq!(tagged_count(&ec2, "eip").await?, 3);
        for table in c["private_route_table_ids"].as_array().unwrap() {
            let t = ec2
                .describe_route_tables()
                .route_table_ids(table.as_str().unwrap())
                .send()
                .await?;
            let default = t.route_tables()[0]
                .routes()
                .iter()
                .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                .cloned();
            assert!(
                default.and_then(|r| r.nat_gateway_id().map(str::to_string)).is_some(),
                "private default route via NAT"
            );
        }

        // The cluster: private endpoint only, API authentication, our role.
        let cluster = eks
            .describe_cluster()
            .name("edge")
            .send()
            .await?
            .cluster()
            .cloned()
            .unwrap();
        assert_eq!(cluster.status().map(|s| s.as_str()), Some("ACTIVE"));
        let vpc_config = cluster.resources_vpc_config().unwrap();
        assert!(vpc_config.endpoint_private_access() && !vpc_config.endpoint_public_access());
        assert_eq!(
            cluster
                .access_config()
                .and_then(|a| a.authentication_mode())
                .map(|m| m.as_str()),
            Some("API")
        );
        assert_eq!(cluster.role_arn(), c["cluster_role_arn"].as_str());
        let ng = eks
            .describe_nodegroup()
            .cluster_name("edge")
            .nodegroup_name("system")
            .send()
            .await?
            .nodegroup()
            .cloned()
            .unwrap();
        let scaling = ng.scaling_config().unwrap();
        assert_eq!(
            (scaling.min_size(), scaling.max_size(), scaling.desired_size()),
            (Some(1), Some(4), Some(2))
        );
        assert_eq!(
            ng.labels().and_then(|l| l.get("role")).map(String::as_str),
            Some("system")
        );
        assert!(c["kubeconfig"].as_str().unwrap().contains("get-token"));
    }
    // Roles are global: one cluster and one node role per region.
    let roles = moto.iam().await.list_roles().send().await?;
    let ours: Vec<_> = roles
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .filter(|n| n.starts_with("edge-"))
        .collect();
    assert_eq!(ours.len(), 4, "{ours:?}");

    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "plan after apply must be clean:\n{}", plan.output());

    // Scaling and a new node group update in place.
    ws.write("main.tf", &fleet_config("one_per_az", 3, true))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 2 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    for (region, _) in REGIONS {
        let eks = moto.eks(region).await;
        let ng = eks
            .describe_nodegroup()
            .cluster_name("edge")
            .nodegroup_name("system")
            .send()
            .await?
            .nodegroup()
            .cloned()
            .unwrap();
        assert_eq!(ng.scaling_config().and_then(|s| s.desired_size()), Some(3));
        let batch = eks
            .describe_nodegroup()
            .cluster_name("edge")
            .nodegroup_name("batch")
            .send()
            .await?
            .nodegroup()
            .cloned()
            .unwrap();
        assert_eq!(batch.capacity_type().map(|c| c.as_str()), Some("SPOT"));
    }
    assert_eq!(ws.plan_exit_code()?.code, 0);

    ws.destroy()?;
    for (region, _) in REGIONS {
        let ec2 = moto.ec2(region).await;
        for kind in ["vpc", "subnet", "nat", "igw", "eip", "rtb"] {
            assert_eq!(tagged_count(&ec2, kind).await?, 0, "{kind} left in {region}");
        }
        let clusters = moto.eks(region).await.list_clusters().send().await?;
        assert!(clusters.clusters().is_empty(), "cluster left in {region}");
    }
    let roles = moto.iam().await.list_roles().send().await?;
    assert!(
        roles.roles().iter().all(|r| !r.role_name().starts_with("edge-")),
        "roles left"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn node_group_deleted_out_of_band_is_recreated_in_place() -> Result<()> {
    let moto = Moto::start()?;
    let config = fleet_config("single", 2, false).replace("    \"eu-west-1\" = \"10.20.0.0/16\"\n", "");
    let ws = Workspace::new(&moto, &config)?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    eks.delete_nodegroup()
        .cluster_name("edge")
        .nodegroup_name("system")
        .send()
        .await?;
    // Deleting takes minutes on AWS (and here): plan once it is gone.
    wait_nodegroup_gone(&eks, "edge", "system").await?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert!(
        eks.describe_nodegroup()
            .cluster_name("edge")
            .nodegroup_name("system")
            .send()
            .await
            .is_ok()
    );
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_cluster_input_fails_at_plan_naming_the_attribute() -> Result<()> {
    let moto = Moto::start()?;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/24""#,
            vec!["vpc_cidr", "too small", "/22"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.1/16""#,
            vec!["vpc_cidr", "host bits", "10.0.0.0/16"],
        ),
        (
            r#"name = "edge"
region = "eu-wset-1"
vpc_cidr = "10.0.0.0/16""#,
            vec!["region", "Did you mean \"eu-west-1\"?"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
kubernetes_version = "1.12""#,
            vec!["kubernetes_version", "EKS no longer offers 1.12"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
kubernetes_version = "1.40""#,
            vec!["kubernetes_version", "does not offer \"1.40\"", "1.36, 1.35"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
node_groups = { a = { min_size = 3, max_size = 2 } }"#,
            vec!["node_groups[\"a\"].min_size", "above max_size"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
node_groups = { a = { desired_size = 9 } }"#,
            vec!["node_groups[\"a\"].desired_size", "outside min_size"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
node_groups = { a = { instance_types = ["large"] } }"#,
            vec!["instance_types", "not an EC2 instance type"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
node_groups = { a = { taints = [{ key = "k", value = "v", effect = "NoSchedule" }] } }"#,
            vec!["effect", "not a taint effect"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
nat_gateway_mode = "double""#,
            vec!["nat_gateway_mode", "one of \"single\", \"one_per_az\", \"none\""],
        ),
        (
            r#"name = "edge"
region = "us-east-1"
vpc_cidr = "10.0.0.0/16"
secrets_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/abc""#,
            vec!["secrets_kms_key_arn", "in eu-west-1 but the cluster is in us-east-1"],
        ),
        (
            r#"name = "edge cluster!"
vpc_cidr = "10.0.0.0/16""#,
            vec!["name", "not a valid cluster name"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
availability_zones = ["us-east-1a", "us-east-1a"]"#,
            vec!["availability_zones", "list each zone once"],
        ),
        (
            r#"name = "edge"
vpc_cidr = "10.0.0.0/16"
availability_zone_count = 2
availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]"#,
            vec!["availability_zone_count", "set only one of them"],
        ),
    ];
    for (body, expected) in cases {
        let config = format!(
            "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\nprovider \"fleet\" {{\n  region = \"us-east-1\"\n}}\nresource \"fleet_eks_regional_cluster\" \"c\" {{\n{body}\n}}\n"
        );
        let ws = Workspace::new(&moto, &config)?;
        let run = ws.terraform(&["plan", "-no-color"])?;
        assert_eq!(run.code, 1, "plan must fail for:\n{body}\n{}", run.output());
        for needle in expected {
            assert!(
                run.says(needle),
                "expected {needle:?} for:\n{body}\n--- output ---\n{}",
                run.output()
            );
        }
    }
    let vpcs = moto.ec2("us-east-1").await.describe_vpcs().send().await?;
    assert!(
        vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
        "validation created nothing"
    );
    Ok(())
}

fn single_cluster(body: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region       = \"us-east-1\"\n  default_tags = {{ ManagedBy = \"eksfleet-tests\" }}\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_cidr = \"10.0.0.0/16\"\n{body}\n}}\n\
         output \"hub\" {{\n  value = fleet_eks_regional_cluster.hub\n}}\n"
    )
}

const ADMIN: &str = "arn:aws:iam::123456789012:role/platform-admins";
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const VIEW_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

fn addons_config(version: &str, view_scope: &str, with_kube_proxy: bool) -> String {
    let kube_proxy = if with_kube_proxy { "\n    kube-proxy = {}" } else { "" };
    single_cluster(&format!(
        r#"  kubernetes_version = "{version}"
  node_groups = {{ system = {{}} }}
  addons = {{
    vpc-cni = {{}}
    coredns = {{ configuration_values = jsonencode({{ replicaCount = 3 }}) }}{kube_proxy}
  }}
  access_entries = {{
    "{ADMIN}" = {{
      kubernetes_groups = ["platform"]
      policies = {{
        "{ADMIN_POLICY}" = {{}}
        "{VIEW_POLICY}" = {view_scope}
      }}
    }}
  }}"#
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn addons_access_entries_and_a_version_upgrade_update_in_place() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &addons_config("1.33", "{}", false))?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    let coredns = eks
        .describe_addon()
        .cluster_name("hub")
        .addon_name("coredns")
        .send()
        .await?;
    let values = coredns
        .addon()
        .and_then(|a| a.configuration_values())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&values)?,
        serde_json::json!({"replicaCount": 3})
    );
    assert!(
        eks.describe_addon()
            .cluster_name("hub")
            .addon_name("vpc-cni")
            .send()
            .await
            .is_ok()
    );
    let entry = eks
        .describe_access_entry()
        .cluster_name("hub")
        .principal_arn(ADMIN)
        .send()
        .await?;
    assert_eq!(entry.access_entry().unwrap().kubernetes_groups(), ["platform"]);
    let policies = eks
        .list_associated_access_policies()
        .cluster_name("hub")
        .principal_arn(ADMIN)
        .send()
        .await?;
    assert_eq!(policies.associated_access_policies().len(), 2);
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after apply");

    // Skipping or going back a version is refused at plan time.
    ws.write("main.tf", &addons_config("1.32", "{}", false))?;
    let refused = ws.terraform(&["plan", "-no-color"])?;
    assert_eq!(refused.code, 1);
    assert!(refused.says("one minor version at a time"), "{}", refused.output());

    // One minor up, a new add-on and a namespace-scoped policy: all in place.
    ws.write(
        "main.tf",
        &addons_config("1.34", r#"{ scope = "namespace", namespaces = ["apps"] }"#, true),
    )?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    let cluster = eks
        .describe_cluster()
        .name("hub")
        .send()
        .await?
        .cluster()
        .cloned()
        .unwrap();
    assert_eq!(cluster.version(), Some("1.34"));
    let ng = eks
        .describe_nodegroup()
        .cluster_name("hub")
        .nodegroup_name("system")
        .send()
        .await?
        .nodegroup()
        .cloned()
        .unwrap();
    assert_eq!(ng.version(), Some("1.34"), "node groups follow the control plane");
    assert!(
        eks.describe_addon()
            .cluster_name("hub")
            .addon_name("kube-proxy")
            .send()
            .await
            .is_ok()
    );
    let policies = eks
        .list_associated_access_policies()
        .cluster_name("hub")
        .principal_arn(ADMIN)
        .send()
        .await?;
    let view = policies
        .associated_access_policies()
        .iter()
        .find(|p| p.policy_arn() == Some(VIEW_POLICY))
        .unwrap();
    assert_eq!(
        view.access_scope().and_then(|s| s.r#type()).map(|t| t.as_str()),
        Some("namespace")
    );
    assert_eq!(view.access_scope().unwrap().namespaces(), ["apps"]);
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after update:\n{}", plan.output());

    ws.destroy()?;
    assert!(eks.list_clusters().send().await?.clusters().is_empty());
    Ok(())
}

const SELF_MANAGED_NODES: &str = "arn:aws:iam::123456789012:role/self-managed-nodes";

fn access_entries_config(user_name: &str, team: &str, node_type: &str) -> String {
    single_cluster(&format!(
        r#"  node_groups = {{ system = {{}} }}
  access_entries = {{
    "{ADMIN}" = {{
      user_name = "{user_name}"
      tags      = {{ team = "{team}" }}
      policies  = {{ "{ADMIN_POLICY}" = {{}} }}
    }}
    "{SELF_MANAGED_NODES}" = {{ type = "{node_type}" }}
  }}"#
    ))
}

async fn access_entry(eks: &aws_sdk_eks::Client, principal: &str) -> Result<aws_sdk_eks::types::AccessEntry> {
    let found = eks
        .describe_access_entry()
        .cluster_name("hub")
        .principal_arn(principal)
        .send()
        .await?;
    found.access_entry().cloned().context("no access entry")
}

#[tokio::test(flavor = "multi_thread")]
async fn access_entry_types_user_names_and_tags_change_in_place_beside_the_node_roles_entry() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &access_entries_config("platform-admin", "platform", "EC2_LINUX"))?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    let admin = access_entry(&eks, ADMIN).await?;
    assert_eq!(admin.username(), Some("platform-admin"));
    let tags = admin.tags().cloned().unwrap_or_default();
    assert_eq!(tags.get("team").map(String::as_str), Some("platform"));
    assert_eq!(
        tags.get("ManagedBy").map(String::as_str),
        Some("eksfleet-tests"),
        "the stack's tags too"
    );
    assert_eq!(
        access_entry(&eks, SELF_MANAGED_NODES).await?.r#type(),
        Some("EC2_LINUX")
    );
    // EKS made the managed node group role's entry itself; the resource leaves it be.
    let node_role = ws.output("hub")?["node_role_arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(access_entry(&eks, &node_role).await?.r#type(), Some("EC2_LINUX"));
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    // A new user name and tag update the entry; a new type makes it again.
    ws.write("main.tf", &access_entries_config("admins", "core", "EC2_WINDOWS"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    let admin = access_entry(&eks, ADMIN).await?;
    assert_eq!(admin.username(), Some("admins"));
    assert_eq!(
        admin.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("core")
    );
    assert_eq!(
        access_entry(&eks, SELF_MANAGED_NODES).await?.r#type(),
        Some("EC2_WINDOWS")
    );
    assert!(
        access_entry(&eks, &node_role).await.is_ok(),
        "the node role's entry is untouched"
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after update:\n{}", plan.output());

    // Changed behind Terraform's back, the user name shows as drift and is put back.
    eks.update_access_entry()
        .cluster_name("hub")
        .principal_arn(ADMIN)
        .username("someone-else")
        .send()
        .await?;
    assert_eq!(ws.plan_exit_code()?.code, 2, "drift in user_name shows");
    ws.apply()?;
    assert_eq!(access_entry(&eks, ADMIN).await?.username(), Some("admins"));

    ws.destroy()?;
    assert!(eks.list_clusters().send().await?.clusters().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_no_entry_administers_warns_at_plan() -> Result<()> {
    let moto = Moto::start()?;
    let warning = "No access entry grants cluster admin";
    let ws = Workspace::new(&moto, &single_cluster(""))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(plan.says(warning), "{}", plan.output());
    let viewer_only = format!("  access_entries = {{ \"{ADMIN}\" = {{ policies = {{ \"{VIEW_POLICY}\" = {{}} }} }} }}");
    ws.write("main.tf", &single_cluster(&viewer_only))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(plan.says(warning), "a view policy is not admin: {}", plan.output());
    let admin = format!("  access_entries = {{ \"{ADMIN}\" = {{ policies = {{ \"{ADMIN_POLICY}\" = {{}} }} }} }}");
    ws.write("main.tf", &single_cluster(&admin))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(!plan.says(warning), "{}", plan.output());
    Ok(())
}

const EDGE_ACCOUNT: &str = "210987654321";

/// A hub in the provider's account and an edge in another, through
/// `assume_role_arn`, peered: one provider block.
fn cross_account_config(edge_role: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}
provider "fleet" {{
  region = "us-east-1"
}}
resource "fleet_eks_regional_cluster" "hub" {{
  name     = "hub"
  vpc_cidr = "10.0.0.0/16"
}}
resource "fleet_eks_regional_cluster" "edge" {{
  name            = "edge"
  region          = "us-west-2"
  vpc_cidr        = "10.1.0.0/16"
  assume_role_arn = "{edge_role}"
}}
resource "fleet_vpc_cross_region_peering" "hub_edge" {{
  requester = {{
    vpc_id          = fleet_eks_regional_cluster.hub.vpc_id
    route_table_ids = fleet_eks_regional_cluster.hub.private_route_table_ids
  }}
  accepter = {{
    region          = "us-west-2"
    vpc_id          = fleet_eks_regional_cluster.edge.vpc_id
    account_id      = "{EDGE_ACCOUNT}"
    assume_role_arn = "{edge_role}"
    route_table_ids = fleet_eks_regional_cluster.edge.private_route_table_ids
  }}
}}
output "edge_node_role" {{
  value = fleet_eks_regional_cluster.edge.node_role_arn
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_in_another_account_through_assume_role_arn_peers_with_the_hub() -> Result<()> {
    let moto = Moto::start()?;
    let role = format!("arn:aws:iam::{EDGE_ACCOUNT}:role/fleet-deployer");
    let ws = Workspace::new(&moto, &cross_account_config(&role))?;
    ws.apply()?;
    let edge_eks = moto.eks_as("us-west-2", &role).await?;
    let edge = edge_eks.describe_cluster().name("edge").send().await?;
    let edge_arn = edge.cluster().and_then(|c| c.arn()).unwrap_or_default().to_string();
    assert!(edge_arn.contains(&format!(":{EDGE_ACCOUNT}:")), "{edge_arn}");
    let own_eks = moto.eks("us-west-2").await;
    assert!(
        own_eks.list_clusters().send().await?.clusters().is_empty(),
        "nothing in the provider's account"
    );
    let node_role = ws.output("edge_node_role")?.as_str().unwrap_or_default().to_string();
    assert!(node_role.contains(&format!("::{EDGE_ACCOUNT}:role/")), "{node_role}");
    let edge_ec2 = moto.ec2_as("us-west-2", &role).await?;
    let peerings = live_peerings(&edge_ec2).await?;
    assert_eq!(peerings.len(), 1);
    assert_eq!(peering_status(&peerings[0]), "active");
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    // A role in a third account would manage another account's cluster.
    ws.write(
        "main.tf",
        &cross_account_config("arn:aws:iam::333333333333:role/fleet-deployer"),
    )?;
    let refused = ws.terraform(&["plan", "-no-color"])?;
    assert_eq!(refused.code, 1);
    assert!(
        refused.says("assume_role_arn: the cluster was made in account"),
        "{}",
        refused.output()
    );
    ws.write("main.tf", &cross_account_config(&role))?;

    ws.destroy()?;
    assert!(edge_eks.list_clusters().send().await?.clusters().is_empty());
    assert!(live_peerings(&edge_ec2).await?.is_empty());
    let vpcs = edge_ec2.describe_vpcs().send().await?;
    assert!(
        vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
        "the edge account's VPC is gone"
    );
    Ok(())
}

fn safety_config(protected: bool) -> String {
    single_cluster(&format!(
        r#"  deletion_protection  = {protected}
  zonal_shift          = {protected}
  force_update_version = true
  service_ipv4_cidr    = "172.21.0.0/16""#
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_protection_blocks_destroy_until_turned_off_and_nothing_is_deleted_meanwhile() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &safety_config(true))?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    let describe = || async {
        let out = eks.describe_cluster().name("hub").send().await?;
        out.cluster().cloned().context("no cluster")
    };
    let cluster = describe().await?;
    assert_eq!(cluster.deletion_protection(), Some(true));
    assert_eq!(cluster.zonal_shift_config().and_then(|z| z.enabled()), Some(true));
    assert_eq!(
        cluster.kubernetes_network_config().and_then(|k| k.service_ipv4_cidr()),
        Some("172.21.0.0/16")
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    let refused = ws.terraform(&["destroy", "-auto-approve", "-no-color"])?;
    assert_eq!(refused.code, 1, "{}", refused.output());
    assert!(refused.says("deletion_protection is on"), "{}", refused.output());
    assert!(describe().await.is_ok(), "the cluster is still there");
    let ec2 = moto.ec2("us-east-1").await;
    let vpcs = ec2.describe_vpcs().send().await?;
    assert!(
        vpcs.vpcs().iter().any(|v| v.cidr_block() == Some("10.0.0.0/16")),
        "the network is untouched"
    );

    // Turned off (and zonal shift with it) in place; then destroy goes through.
    ws.write("main.tf", &safety_config(false))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    let cluster = describe().await?;
    assert_eq!(cluster.deletion_protection(), Some(false));
    assert_eq!(cluster.zonal_shift_config().and_then(|z| z.enabled()), Some(false));
    ws.destroy()?;
    assert!(eks.list_clusters().send().await?.clusters().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_vpc_cidr_plans_a_replacement() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &single_cluster("  nat_gateway_mode = \"none\""))?;
    ws.apply()?;
    ws.write(
        "main.tf",
        &single_cluster("  nat_gateway_mode = \"none\"").replace("10.0.0.0/16", "10.9.0.0/16"),
    )?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 1 to destroy"),
        "{}",
        plan.stdout
    );
    assert!(plan.says("# forces replacement"), "{}", plan.stdout);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn failure_half_way_leaves_a_tainted_resource_that_destroy_removes_completely() -> Result<()> {
    let moto = Moto::start()?;
    // The second zone's private subnet is refused: roles, VPC and the first
    // zone's subnets are made before CreateSubnet fails.
    let proxy = FaultProxy::start(&moto)?;
    proxy.schedule(
        serde_json::json!({"rules": [{"service": "ec2", "action": "CreateSubnet", "nth": 3, "kind": "deny"}]}),
    )?;
    let mut ws = Workspace::new(
        &moto,
        &single_cluster("  availability_zones = [\"us-east-1a\", \"us-east-1c\"]"),
    )?;
    ws.use_endpoint(&proxy.url());
    let failed = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
    assert_eq!(failed.code, 1, "{}", failed.output());
    assert!(failed.says("Could not create a private subnet"), "{}", failed.output());

    let ec2 = moto.ec2("us-east-1").await;
    assert_eq!(tagged_count(&ec2, "vpc").await?, 1, "the VPC exists");
    assert_eq!(tagged_count(&ec2, "subnet").await?, 2, "the first zone's subnets exist");
    let state = ws.state_json()?;
    let values = &state["values"]["root_module"]["resources"][0]["values"];
    assert!(
        values["vpc_id"].as_str().is_some_and(|v| v.starts_with("vpc-")),
        "state records the VPC: {values}"
    );
    assert_eq!(
        values["private_subnet_ids"].as_array().map(Vec::len),
        Some(1),
        "{values}"
    );
    assert_eq!(
        values["created_iam_role_names"].as_array().map(Vec::len),
        Some(2),
        "{values}"
    );
    let plan = ws.terraform(&["plan", "-no-color"])?;
    // Terraform: "is tainted, so must be replaced"; OpenTofu: "…, so it must be replaced".
    assert!(
        plan.says("is tainted, so must be replaced") || plan.says("is tainted, so it must be replaced"),
        "{}",
        plan.output()
    );

    ws.destroy()?;
    for kind in ["vpc", "subnet", "igw", "nat", "eip", "rtb"] {
        assert_eq!(tagged_count(&ec2, kind).await?, 0, "{kind} left after destroy");
    }
    let roles = moto.iam().await.list_roles().send().await?;
    assert!(
        roles.roles().iter().all(|r| !r.role_name().starts_with("hub-")),
        "roles left"
    );
    Ok(())
}

/// `examples/terraform/fleet` as shipped: hub + two edges, each peered with
/// the hub and registered with its Argo CD, one provider block, for_each
/// over regions: the first apply in a fresh account, with every AWS
/// behaviour of the stand-in on, as an IAM user of that account (the EKS
/// token that writes the Secrets is checked against its keys).
#[tokio::test(flavor = "multi_thread")]
async fn example_fleet_applies_replans_clean_and_destroys_clean() -> Result<()> {
    let moto = Moto::start()?;
    let example = project_root().join("examples/terraform/fleet");
    let mut ws = Workspace::new(&moto, &std::fs::read_to_string(example.join("main.tf"))?)?;
    for file in ["variables.tf", "outputs.tf"] {
        ws.write(file, &std::fs::read_to_string(example.join(file))?)?;
    }
    let iam = moto.iam().await;
    let user = iam.create_user().user_name("terraform").send().await?;
    let user_arn = user.user().map(|u| u.arn().to_string()).unwrap_or_default();
    let key = iam.create_access_key().user_name("terraform").send().await?;
    let key = key.access_key().context("access key")?;
    ws.set_env("AWS_ACCESS_KEY_ID", key.access_key_id());
    ws.set_env("AWS_SECRET_ACCESS_KEY", key.secret_access_key());
    ws.set_env("TF_VAR_terraform_principal_arn", &user_arn);
    let stand = KubeStand::start(&moto, "us-east-1", "demo-hub", &["argocd"])?;
    ws.apply()?;
    let registered = stand.secret_names("argocd")?;
    assert_eq!(
        registered,
        [
            format!("demo-edge-eu-west-1-{ACCOUNT_ID}"),
            format!("demo-edge-us-west-2-{ACCOUNT_ID}")
        ],
        "each edge registered with the hub's Argo CD"
    );
    let edges = ws.output("edges")?;
    let hub_ec2 = moto.ec2("us-east-1").await;
    for (region, cidr) in [("us-west-2", "10.1.0.0/16"), ("eu-west-1", "10.2.0.0/16")] {
        let edge = &edges[region];
        assert_eq!(edge["peering_status"], "active", "{edge}");
        let id = edge["peering_id"].as_str().unwrap();
        // Every hub private route table routes to the edge, and back.
        let hub_vpc = moto
            .eks("us-east-1")
            .await
            .describe_cluster()
            .name("demo-hub")
            .send()
            .await?;
        let hub_vpc_id = hub_vpc
            .cluster()
            .and_then(|c| c.resources_vpc_config())
            .and_then(|v| v.vpc_id())
            .map(str::to_string);
        let hub_vpc_id = hub_vpc_id.unwrap_or_default();
        assert_eq!(
            tables_routing(&hub_ec2, &hub_vpc_id, cidr, id).await?.len(),
            3,
            "hub → {region}"
        );
        let edge_ec2 = moto.ec2(region).await;
        assert_eq!(
            tables_routing(&edge_ec2, edge["vpc_id"].as_str().unwrap(), "10.0.0.0/16", id)
                .await?
                .len(),
            3,
            "{region} → hub"
        );
    }
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "fleet re-plans clean:\n{}", plan.output());
    ws.destroy()?;
    assert!(stand.secret_names("argocd")?.is_empty(), "the Secrets go with destroy");
    iam.delete_access_key()
        .user_name("terraform")
        .access_key_id(key.access_key_id())
        .send()
        .await?;
    iam.delete_user().user_name("terraform").send().await?;
    // What a real account does was really done, not skipped.
    let injected = moto.injected()?;
    for behaviour in ["iam-lag", "ec2-lag", "durations", "zones", "dependencies"] {
        assert!(
            injected[behaviour].as_u64().unwrap_or(0) > 0,
            "the stand-in injected {behaviour}: {injected}"
        );
    }
    for region in ["us-east-1", "us-west-2", "eu-west-1"] {
        let ec2 = moto.ec2(region).await;
        let vpcs = ec2.describe_vpcs().send().await?;
        assert!(
            vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
            "only default VPCs left in {region}"
        );
        assert!(live_peerings(&ec2).await?.is_empty());
        assert!(
            moto.eks(region)
                .await
                .list_clusters()
                .send()
                .await?
                .clusters()
                .is_empty()
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn import_by_region_and_name_adopts_the_cluster_and_its_vpc() -> Result<()> {
    let moto = Moto::start()?;
    let body = r#"  nat_gateway_mode  = "one_per_az"
  api_allowed_cidrs = ["10.50.0.0/16"]
  node_groups       = { system = { desired_size = 3, max_size = 5, labels = { role = "system" } } }
  addons            = { vpc-cni = {} }
  tags              = { Team = "platform" }"#;
    let config = single_cluster(body);
    // Made by one state...
    let original = Workspace::new(&moto, &config)?;
    original.apply()?;
    // ...adopted by another, with an import block.
    let adopter = Workspace::new(
        &moto,
        &(config + "\nimport {\n  to = fleet_eks_regional_cluster.hub\n  id = \"us-east-1/hub\"\n}\n"),
    )?;
    let plan = adopter.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    adopter.apply()?;
    assert_eq!(adopter.plan_exit_code()?.code, 0);
    let imported = adopter.output("hub")?;
    assert_eq!(imported["vpc_id"], original.output("hub")?["vpc_id"]);
    assert_eq!(imported["nat_gateway_ids"].as_array().map(Vec::len), Some(3));

    // A third state with the same name takes nothing over: its apply fails on
    // the existing role, and its destroy removes only what it made.
    let intruder = Workspace::new(&moto, &single_cluster("  nat_gateway_mode = \"none\""))?;
    let refused = intruder.terraform(&["apply", "-auto-approve", "-no-color"])?;
    assert_eq!(refused.code, 1);
    assert!(
        refused.says("IAM role hub-us-east-1-cluster already exists and this resource did not create it"),
        "{}",
        refused.output()
    );
    intruder.destroy()?;
    let eks = moto.eks("us-east-1").await;
    let survivor = eks.describe_cluster().name("hub").send().await?;
    assert_eq!(
        survivor.cluster().and_then(|c| c.status()).map(|s| s.as_str()),
        Some("ACTIVE")
    );
    assert!(
        moto.iam()
            .await
            .get_role()
            .role_name("hub-us-east-1-cluster")
            .send()
            .await
            .is_ok(),
        "role kept"
    );
    assert_eq!(adopter.plan_exit_code()?.code, 0, "the adopter's cluster is intact");

    // The adopter owns it now: its destroy removes everything.
    adopter.destroy()?;
    let ec2 = moto.ec2("us-east-1").await;
    for kind in ["vpc", "subnet", "nat", "igw", "eip", "rtb"] {
        assert_eq!(tagged_count(&ec2, kind).await?, 0, "{kind} left");
    }
    let bad = adopter.terraform(&[
        "import",
        "-no-color",
        "fleet_eks_regional_cluster.hub",
        "us-east-1/nope",
    ])?;
    assert!(
        bad.says("There is no EKS cluster \"nope\" in us-east-1"),
        "{}",
        bad.output()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn nat_gateway_deleted_out_of_band_is_repaired_in_place() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(&moto, &single_cluster("  nat_gateway_mode = \"single\""))?;
    ws.apply()?;
    let old_nat = ws.output("hub")?["nat_gateway_ids"][0].as_str().unwrap().to_string();
    let ec2 = moto.ec2("us-east-1").await;
    ec2.delete_nat_gateway().nat_gateway_id(&old_nat).send().await?;

    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "repaired in place:\n{}",
        plan.stdout
    );
    ws.apply()?;
    let hub = ws.output("hub")?;
    let new_nat = hub["nat_gateway_ids"][0].as_str().unwrap().to_string();
    assert_ne!(new_nat, old_nat);
    for table in hub["private_route_table_ids"].as_array().unwrap() {
        let t = ec2
            .describe_route_tables()
            .route_table_ids(table.as_str().unwrap())
            .send()
            .await?;
        let default = t.route_tables()[0]
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .cloned();
        assert_eq!(
            default.and_then(|r| r.nat_gateway_id().map(str::to_string)),
            Some(new_nat.clone())
        );
    }
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    for kind in ["vpc", "subnet", "nat", "eip"] {
        assert_eq!(tagged_count(&ec2, kind).await?, 0, "{kind} left");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_deleted_out_of_band_plans_a_replacement_that_leaks_nothing() -> Result<()> {
    let moto = Moto::start()?;
    let ws = Workspace::new(
        &moto,
        &single_cluster("  nat_gateway_mode = \"single\"\n  node_groups = { system = {} }"),
    )?;
    ws.apply()?;
    let old_vpc = ws.output("hub")?["vpc_id"].as_str().unwrap().to_string();
    let eks = moto.eks("us-east-1").await;
    eks.delete_nodegroup()
        .cluster_name("hub")
        .nodegroup_name("system")
        .send()
        .await?;
    // EKS refuses to delete a cluster while a node group is still deleting.
    wait_nodegroup_gone(&eks, "hub", "system").await?;
    eks.delete_cluster().name("hub").send().await?;

    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 1 to destroy"),
        "{}",
        plan.stdout
    );
    assert!(plan.says("# forces replacement"), "{}", plan.stdout);
    ws.apply()?;
    let new_vpc = ws.output("hub")?["vpc_id"].as_str().unwrap().to_string();
    assert_ne!(new_vpc, old_vpc);
    let ec2 = moto.ec2("us-east-1").await;
    assert_eq!(
        tagged_count(&ec2, "vpc").await?,
        1,
        "the old VPC was removed, not leaked"
    );
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    assert_eq!(tagged_count(&ec2, "vpc").await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn tag_changes_reach_the_cluster_its_network_node_groups_addons_access_entries_and_roles_in_place() -> Result<()>
{
    let moto = Moto::start()?;
    let config = |tags: &str| {
        single_cluster(&format!(
            "  nat_gateway_mode = \"single\"\n  node_groups = {{ system = {{}} }}\n  addons = {{ coredns = {{}} }}\n  \
             access_entries = {{ \"{ADMIN}\" = {{ policies = {{ \"{VIEW_POLICY}\" = {{}} }} }} }}\n  tags = {tags}"
        ))
    };
    let ws = Workspace::new(&moto, &config("{ Team = \"platform\", Old = \"x\" }"))?;
    ws.apply()?;
    ws.write("main.tf", &config("{ Team = \"sre\", CostCenter = \"42\" }"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    let ec2 = moto.ec2("us-east-1").await;
    let sre = Filter::builder().name("tag:Team").values("sre").build();
    let subnets = ec2.describe_subnets().filters(sre.clone()).send().await?;
    assert_eq!(subnets.subnets().len(), 6);
    assert!(
        subnets
            .subnets()
            .iter()
            .all(|s| s.tags().iter().any(|t| t.key() == Some("Name"))),
        "Name tags kept"
    );
    assert_eq!(ec2.describe_vpcs().filters(sre.clone()).send().await?.vpcs().len(), 1);
    assert_eq!(
        ec2.describe_nat_gateways()
            .filter(sre)
            .send()
            .await?
            .nat_gateways()
            .len(),
        1
    );
    let cluster = moto
        .eks("us-east-1")
        .await
        .describe_cluster()
        .name("hub")
        .send()
        .await?;
    let tags = cluster.cluster().and_then(|c| c.tags()).cloned().unwrap_or_default();
    assert_eq!(tags.get("CostCenter").map(String::as_str), Some("42"));

    // What lives inside the cluster, and the roles made for it, follow.
    let eks = moto.eks("us-east-1").await;
    let wanted = |tags: &std::collections::HashMap<String, String>, what: &str| {
        assert_eq!(tags.get("Team").map(String::as_str), Some("sre"), "{what}: {tags:?}");
        assert_eq!(
            tags.get("CostCenter").map(String::as_str),
            Some("42"),
            "{what}: {tags:?}"
        );
        assert!(!tags.contains_key("Old"), "{what}: a removed tag is gone: {tags:?}");
    };
    let group = eks
        .describe_nodegroup()
        .cluster_name("hub")
        .nodegroup_name("system")
        .send()
        .await?;
    let addon = eks
        .describe_addon()
        .cluster_name("hub")
        .addon_name("coredns")
        .send()
        .await?;
    let entry = eks
        .describe_access_entry()
        .cluster_name("hub")
        .principal_arn(ADMIN)
        .send()
        .await?;
    let children = [
        ("node group", group.nodegroup().and_then(|g| g.nodegroup_arn())),
        ("add-on", addon.addon().and_then(|a| a.addon_arn())),
        ("access entry", entry.access_entry().and_then(|e| e.access_entry_arn())),
    ];
    for (what, arn) in children {
        let listed = eks
            .list_tags_for_resource()
            .resource_arn(arn.unwrap_or_default())
            .send()
            .await?;
        wanted(listed.tags().unwrap_or(&Default::default()), what);
    }
    let roles = ws.output("hub")?["created_iam_role_names"].clone();
    let roles: Vec<String> = serde_json::from_value(roles)?;
    assert_eq!(roles.len(), 2, "cluster and node roles were created: {roles:?}");
    let iam = moto.iam().await;
    for role in &roles {
        let listed = iam.list_role_tags().role_name(role).send().await?;
        let tags = listed
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        wanted(&tags, role);
        assert!(
            tags.contains_key("eksfleet:owner"),
            "{role} keeps its owner tag: {tags:?}"
        );
    }
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_never_reach_state_plans_logs_or_outputs() -> Result<()> {
    let moto = Moto::start()?;
    let mut ws = Workspace::new(
        &moto,
        &single_cluster("  nat_gateway_mode = \"single\"\n  node_groups = { system = {} }"),
    )?;
    let log = ws.path().join("terraform-trace.log");
    ws.set_env("TF_LOG", "trace");
    ws.set_env("TF_LOG_PATH", log.to_str().unwrap());
    let apply = ws.apply()?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    let state = std::fs::read_to_string(ws.path().join("terraform.tfstate"))?;
    let outputs = ws.terraform(&["output", "-json"])?.ok()?;
    let trace = std::fs::read_to_string(&log)?;
    assert!(
        trace.contains("PlanResourceChange"),
        "the trace log really holds the provider conversation"
    );
    for (what, text) in [
        ("apply output", apply.output()),
        ("plan output", plan.output()),
        ("state", state),
        ("outputs", outputs.stdout.clone()),
        ("TF_LOG=trace log", trace),
    ] {
        assert!(!text.contains(SECRET_KEY), "the secret key leaked into the {what}");
    }
    let kubeconfig = ws.output("hub")?["kubeconfig"].as_str().unwrap_or_default().to_string();
    assert!(
        kubeconfig.contains("get-token") && !kubeconfig.contains("token:"),
        "exec-based kubeconfig, no token"
    );
    ws.destroy()?;
    Ok(())
}

const DAY: f64 = 86400.0;

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A row of the stand-in's version table whose standard support ends
/// `days_left` days from now (negative: already ended).
fn version_row(version: &str, days_left: f64) -> serde_json::Value {
    let now = now_secs();
    serde_json::json!({
        "clusterVersion": version,
        "releaseDate": now + (days_left - 426.0) * DAY,
        "endOfStandardSupportDate": now + days_left * DAY,
        "endOfExtendedSupportDate": now + (days_left + 365.0) * DAY,
    })
}

/// `UTC YYYY-MM-DD` of `days` from now, as the provider prints it.
fn date_in(days: f64) -> Result<String> {
    let secs = (now_secs() + days * DAY) as i64;
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%F"])
        .output()?;
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unset_version_is_the_newest_in_standard_support_and_is_kept_when_eks_moves_on() -> Result<()> {
    let moto = Moto::start()?;
    moto.control(
        "POST",
        "/moto-fleet/cluster-versions",
        &serde_json::json!({"versions": [
            version_row("1.34", -10.0),
            version_row("1.35", 200.0),
            version_row("1.36", 400.0),
        ]}),
    )?;
    let ws = Workspace::new(&moto, &single_cluster("  node_groups = { system = {} }"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("kubernetes_version") && plan.stdout.contains("= \"1.36\""),
        "the plan shows the version chosen:\n{}",
        plan.stdout
    );
    assert!(
        !plan.says("standard support"),
        "1.36 is far from the end of standard support:\n{}",
        plan.output()
    );
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    let cluster = eks
        .describe_cluster()
        .name("hub")
        .send()
        .await?
        .cluster()
        .cloned()
        .unwrap();
    assert_eq!(cluster.version(), Some("1.36"));
    assert_eq!(
        cluster
            .upgrade_policy()
            .and_then(|p| p.support_type())
            .map(|t| t.as_str()),
        Some("STANDARD"),
        "support_type defaults to STANDARD"
    );
    assert_eq!(ws.output("hub")?["kubernetes_version"], "1.36");

    // EKS offers a newer version: the cluster keeps its own, no plan change.
    moto.control(
        "POST",
        "/moto-fleet/cluster-versions",
        &serde_json::json!({"add": [version_row("1.37", 500.0)]}),
    )?;
    let replan = ws.plan_exit_code()?;
    assert_eq!(replan.code, 0, "no implicit upgrade:\n{}", replan.output());
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn support_type_is_applied_read_back_and_changed_in_place() -> Result<()> {
    let moto = Moto::start()?;
    let config = |support: &str| {
        single_cluster(&format!(
            "  kubernetes_version = \"1.35\"\n  support_type = \"{support}\""
        ))
    };
    let ws = Workspace::new(&moto, &config("EXTENDED"))?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    let support = || async {
        let cluster = eks
            .describe_cluster()
            .name("hub")
            .send()
            .await?
            .cluster()
            .cloned()
            .unwrap();
        let support = cluster
            .upgrade_policy()
            .and_then(|p| p.support_type())
            .map(|t| t.as_str().to_string());
        anyhow::Ok((support, cluster.status().map(|s| s.as_str().to_string())))
    };
    assert_eq!(support().await?.0.as_deref(), Some("EXTENDED"));
    assert_eq!(ws.output("hub")?["support_type"], "EXTENDED");
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after apply");

    // Changed out of band: refresh reads it back, the plan shows it, apply puts it back.
    eks.update_cluster_config()
        .name("hub")
        .upgrade_policy(
            aws_sdk_eks::types::UpgradePolicyRequest::builder()
                .support_type(aws_sdk_eks::types::SupportType::Standard)
                .build(),
        )
        .send()
        .await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while support().await? != (Some("STANDARD".into()), Some("ACTIVE".into())) {
        assert!(
            std::time::Instant::now() < deadline,
            "the out-of-band update did not finish"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let drift = ws.terraform(&["plan", "-no-color", "-detailed-exitcode"])?;
    assert_eq!(drift.code, 2, "{}", drift.output());
    assert!(
        drift.stdout.contains("support_type") && drift.stdout.contains("\"STANDARD\" -> \"EXTENDED\""),
        "{}",
        drift.stdout
    );
    ws.apply()?;
    assert_eq!(support().await?.0.as_deref(), Some("EXTENDED"));

    // A configuration change is made in place.
    ws.write("main.tf", &config("STANDARD"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert_eq!(support().await?.0.as_deref(), Some("STANDARD"));
    assert_eq!(ws.output("hub")?["support_type"], "STANDARD");
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after the change");
    ws.destroy()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_warn_when_the_version_nears_or_has_passed_the_end_of_standard_support() -> Result<()> {
    let moto = Moto::start()?;
    moto.control(
        "POST",
        "/moto-fleet/cluster-versions",
        &serde_json::json!({"versions": [
            version_row("1.34", -3.0),
            version_row("1.35", 30.2),
            version_row("1.36", 120.0),
        ]}),
    )?;
    let plan_of = |body: &str| -> Result<Run> {
        let ws = Workspace::new(&moto, &single_cluster(body))?;
        ws.terraform(&["plan", "-no-color"])?.ok()
    };
    let near = plan_of("  kubernetes_version = \"1.35\"\n  support_type = \"EXTENDED\"")?;
    let text = near.output().split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "kubernetes_version",
        &format!("1.35 leaves EKS standard support on {} (in 31 days)", date_in(30.2)?),
        "extended support is billed at $0.60 per cluster hour instead of $0.10",
        "Upgrade one minor version (kubernetes_version = \"1.36\")",
        "set support_type = \"STANDARD\" to be auto-upgraded at the end of standard support",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    let past = plan_of("  kubernetes_version = \"1.34\"\n  support_type = \"EXTENDED\"")?;
    let text = past.output().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(&format!("1.34 left EKS standard support on {}", date_in(-3.0)?))
            && text.contains("$0.60 per cluster hour instead of $0.10"),
        "{text}"
    );
    // 120 days out: no warning.
    let far = plan_of("  kubernetes_version = \"1.36\"")?;
    assert!(!far.says("standard support"), "{}", far.output());

    // Offline, `terraform validate` accepts a version newer than the
    // provider's built-in list; plan is where EKS's list decides.
    let ws = Workspace::new(&moto, &single_cluster("  kubernetes_version = \"1.37\""))?;
    let validate = ws.terraform(&["validate", "-no-color"])?;
    assert_eq!(validate.code, 0, "{}", validate.output());
    let refused = ws.terraform(&["plan", "-no-color"])?;
    assert_eq!(refused.code, 1);
    let text = refused.output().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("kubernetes_version: EKS in us-east-1 does not offer \"1.37\" (it offers 1.36, 1.35, 1.34)"),
        "{text}"
    );
    Ok(())
}

fn node_options_config(update_config: &str, node_repair: bool, release: &str) -> String {
    single_cluster(&format!(
        r#"  kubernetes_version = "1.33"
  availability_zones = ["us-east-1a", "us-east-1c"]
  node_groups = {{
    system = {{ update_config = {update_config}, node_repair = {node_repair}, ami_release_version = "{release}" }}
    zonal  = {{ availability_zones = ["us-east-1c"], desired_size = 1 }}
    spot   = {{ capacity_type = "SPOT", instance_types = ["m6i.large", "m5.large", "m6a.large"], desired_size = 1 }}
  }}"#
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn node_group_update_config_node_repair_and_ami_release_change_in_place_beside_spot_and_zonal_groups()
-> Result<()> {
    // The stand-in's two AMI releases of 1.33, older first.
    const OLDER: &str = "1.33.0-20250101";
    const NEWER: &str = "1.33.0-20250601";
    let moto = Moto::start()?;
    let ws = Workspace::new(
        &moto,
        &node_options_config("{ max_unavailable_percentage = 25 }", true, OLDER),
    )?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    let group = |name: &'static str| {
        let eks = eks.clone();
        async move {
            let out = eks
                .describe_nodegroup()
                .cluster_name("hub")
                .nodegroup_name(name)
                .send()
                .await?;
            out.nodegroup().cloned().context("no node group")
        }
    };
    let system = group("system").await?;
    let update = system.update_config().context("no update config")?;
    assert_eq!(
        (update.max_unavailable(), update.max_unavailable_percentage()),
        (None, Some(25))
    );
    assert_eq!(system.node_repair_config().and_then(|r| r.enabled()), Some(true));
    assert_eq!(system.release_version(), Some(OLDER), "pinned");
    let spot = group("spot").await?;
    assert_eq!(spot.release_version(), Some(NEWER), "unset: the newest at create");
    assert_eq!(ws.output("hub")?["node_groups"]["spot"]["ami_release_version"], NEWER);
    // A group in some of the cluster's zones runs in their private subnets only.
    let zonal = group("zonal").await?;
    let private = ws.output("hub")?["private_subnet_ids"].clone();
    assert_eq!(
        zonal.subnets(),
        [private[1].as_str().unwrap_or_default()],
        "the us-east-1c private subnet"
    );
    assert_eq!(spot.subnets().len(), 2, "unset: every zone of the cluster");
    assert_eq!(spot.capacity_type().map(|c| c.as_str()), Some("SPOT"));
    assert_eq!(spot.instance_types(), ["m6i.large", "m5.large", "m6a.large"]);
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    ws.write("main.tf", &node_options_config("{ max_unavailable = 2 }", false, NEWER))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    let system_after = group("system").await?;
    assert_eq!(
        system_after.nodegroup_arn(),
        system.nodegroup_arn(),
        "same node group, changed in place"
    );
    let update = system_after.update_config().context("no update config")?;
    assert_eq!(
        (update.max_unavailable(), update.max_unavailable_percentage()),
        (Some(2), None)
    );
    assert_eq!(system_after.node_repair_config().and_then(|r| r.enabled()), Some(false));
    assert_eq!(
        system_after.release_version(),
        Some(NEWER),
        "rolled to the new release in place"
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after update:\n{}", plan.output());
    ws.destroy()?;
    Ok(())
}

/// The control plane's log group of cluster `name` as CloudWatch Logs has it:
/// retention (`None`: never expires), tags, creation time (ms).
async fn log_group(
    logs: &aws_sdk_cloudwatchlogs::Client,
    name: &str,
) -> Result<Option<(Option<i32>, std::collections::BTreeMap<String, String>, i64)>> {
    let group_name = format!("/aws/eks/{name}/cluster");
    let out = logs
        .describe_log_groups()
        .log_group_name_prefix(&group_name)
        .send()
        .await?;
    let Some(group) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group_name.as_str()))
    else {
        return Ok(None);
    };
    let arn = group.log_group_arn().context("logGroupArn")?;
    let tags = logs.list_tags_for_resource().resource_arn(arn).send().await?;
    let tags = tags.tags().cloned().unwrap_or_default().into_iter().collect();
    Ok(Some((
        group.retention_in_days(),
        tags,
        group.creation_time().unwrap_or_default(),
    )))
}

fn logged_cluster(retention: Option<u32>, team: &str) -> String {
    let retention = retention.map_or(String::new(), |days| format!("\n  log_retention_days = {days}"));
    single_cluster(&format!(
        "  enabled_log_types = [\"api\", \"audit\"]\n  tags = {{ Team = \"{team}\" }}{retention}"
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn log_retention_days_makes_the_log_group_before_the_cluster_changes_it_in_place_and_destroy_deletes_it()
-> Result<()> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto)?;
    let mut ws = Workspace::new(&moto, &logged_cluster(Some(7), "a"))?;
    ws.use_endpoint(&proxy.url());
    ws.apply()?;
    let (logs, eks) = (moto.logs("us-east-1").await, moto.eks("us-east-1").await);
    let hub = ws.output("hub")?;
    let (retention, tags, created) = log_group(&logs, "hub").await?.context("no log group")?;
    // Made by the resource (EKS's own has no retention and no tags)...
    assert_eq!(retention, Some(7));
    assert_eq!(tags.get("eksfleet:stack").map(String::as_str), hub["stack_id"].as_str());
    assert_eq!(tags.get("eksfleet:owner").map(String::as_str), Some("us-east-1/hub"));
    assert_eq!(tags.get("Team").map(String::as_str), Some("a"));
    assert_eq!(tags.get("ManagedBy").map(String::as_str), Some("eksfleet-tests"));
    // ...before the cluster: the stand-in, as EKS, makes the group at
    // CreateCluster when it is missing, so the resource's CreateLogGroup came
    // first (and EKS reports its creation time in whole seconds).
    assert_eq!(
        proxy.stats()?["actions"]["logs:CreateLogGroup"],
        1,
        "{}",
        proxy.stats()?
    );
    let cluster = eks.describe_cluster().name("hub").send().await?;
    let cluster_created = cluster.cluster().and_then(|c| c.created_at()).context("createdAt")?;
    assert!(
        created <= cluster_created.to_millis()? + 1000,
        "log group made at {created}, cluster at {cluster_created}"
    );
    assert_eq!(hub["log_retention_days"], 7);
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after apply");

    // A new retention (and new tags) change in place.
    ws.write("main.tf", &logged_cluster(Some(30), "b"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("log_retention_days") && plan.stdout.contains("7 -> 30"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    let (retention, tags, _) = log_group(&logs, "hub").await?.context("no log group")?;
    assert_eq!(retention, Some(30));
    assert_eq!(tags.get("Team").map(String::as_str), Some("b"));
    assert_eq!(ws.output("hub")?["arn"], hub["arn"], "the same cluster");
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after the change");

    // Changed out of band: refresh reads it back and apply puts it back.
    logs.put_retention_policy()
        .log_group_name("/aws/eks/hub/cluster")
        .retention_in_days(14)
        .send()
        .await?;
    let drift = ws.terraform(&["plan", "-no-color", "-detailed-exitcode"])?;
    assert_eq!(drift.code, 2, "{}", drift.output());
    assert!(drift.stdout.contains("14 -> 30"), "{}", drift.stdout);
    ws.apply()?;
    assert_eq!(log_group(&logs, "hub").await?.context("no log group")?.0, Some(30));

    // Deleted out of band: the plan shows it made again, in place.
    logs.delete_log_group()
        .log_group_name("/aws/eks/hub/cluster")
        .send()
        .await?;
    let drift = ws.terraform(&["plan", "-no-color", "-detailed-exitcode"])?;
    assert_eq!(drift.code, 2, "{}", drift.output());
    assert!(
        drift.stdout.contains("+ log_retention_days") && drift.stdout.contains("0 to add, 1 to change"),
        "{}",
        drift.stdout
    );
    ws.apply()?;
    let (retention, tags, _) = log_group(&logs, "hub").await?.context("no log group")?;
    assert_eq!(retention, Some(30));
    assert_eq!(tags.get("eksfleet:stack").map(String::as_str), hub["stack_id"].as_str());
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after the repair");

    ws.destroy()?;
    assert!(eks.list_clusters().send().await?.clusters().is_empty());
    assert!(
        log_group(&logs, "hub").await?.is_none(),
        "destroy deletes the log group"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_strangers_log_group_is_refused_eks_own_is_taken_over_unsetting_keeps_it_and_import_fills_it() -> Result<()> {
    let moto = Moto::start()?;
    let logs = moto.logs("us-east-1").await;
    // Left by someone else (EKS keeps a deleted cluster's group): refused
    // before the cluster is made, since destroy would delete it.
    logs.create_log_group()
        .log_group_name("/aws/eks/hub/cluster")
        .send()
        .await?;
    let ws = Workspace::new(&moto, &logged_cluster(Some(90), "a"))?;
    let refused = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
    assert_eq!(refused.code, 1, "{}", refused.output());
    assert!(
        refused.says(
            "CloudWatch log group /aws/eks/hub/cluster already exists in us-east-1 and this resource did not create it"
        ),
        "{}",
        refused.output()
    );
    let eks = moto.eks("us-east-1").await;
    assert!(
        eks.list_clusters().send().await?.clusters().is_empty(),
        "no cluster made"
    );
    // Gone, and the stopped create resumes (untainted) from what it made.
    logs.delete_log_group()
        .log_group_name("/aws/eks/hub/cluster")
        .send()
        .await?;
    ws.terraform(&["untaint", "-no-color", "fleet_eks_regional_cluster.hub"])?
        .ok()?;
    ws.apply()?;
    assert_eq!(log_group(&logs, "hub").await?.context("no log group")?.0, Some(90));
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after the resumed create");

    // Import fills it.
    let importer = Workspace::new(
        &moto,
        &(logged_cluster(Some(90), "a")
            + "\nimport {\n  to = fleet_eks_regional_cluster.hub\n  id = \"us-east-1/hub\"\n}\n"),
    )?;
    let plan = importer.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );

    // Unset: the group and its retention stay, no longer managed.
    ws.write("main.tf", &logged_cluster(None, "a"))?;
    ws.apply()?;
    assert_eq!(log_group(&logs, "hub").await?.context("no log group")?.0, Some(90));
    assert_eq!(ws.plan_exit_code()?.code, 0);
    // EKS's own group (no retention, none of our tags) of this cluster is taken over.
    logs.delete_log_group()
        .log_group_name("/aws/eks/hub/cluster")
        .send()
        .await?;
    logs.create_log_group()
        .log_group_name("/aws/eks/hub/cluster")
        .send()
        .await?;
    ws.write("main.tf", &logged_cluster(Some(14), "a"))?;
    ws.apply()?;
    let (retention, tags, _) = log_group(&logs, "hub").await?.context("no log group")?;
    assert_eq!(retention, Some(14));
    assert_eq!(tags.get("eksfleet:owner").map(String::as_str), Some("us-east-1/hub"));
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    assert!(
        log_group(&logs, "hub").await?.is_none(),
        "destroy deletes the group it took over"
    );
    Ok(())
}

// ----- a cluster in an existing VPC -------------------------------------------------

fn quoted_list(ids: &[String]) -> String {
    let items: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    format!("[{}]", items.join(", "))
}

/// The hub cluster in the user's VPC `net`, plus `extra` resources.
fn existing_vpc_config(net: &UserNetwork, public: &[String], extra: &str) -> String {
    let public = if public.is_empty() {
        String::new()
    } else {
        format!("  public_subnet_ids  = {}\n", quoted_list(public))
    };
    format!(
        r#"terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}
provider "fleet" {{
  region       = "us-east-1"
  default_tags = {{ ManagedBy = "eksfleet-tests" }}
}}
resource "fleet_eks_regional_cluster" "hub" {{
  name               = "hub"
  vpc_id             = "{vpc}"
  private_subnet_ids = {private}
{public}  api_allowed_cidrs  = ["10.99.0.0/16"]
  node_groups        = {{ system = {{ min_size = 1, max_size = 2, desired_size = 1 }} }}
}}
output "hub" {{
  value = fleet_eks_regional_cluster.hub
}}
{extra}
"#,
        vpc = net.vpc_id,
        private = quoted_list(&net.private),
    )
}

/// The kinds of objects a created network is made of, in an inventory line.
const NETWORK_KINDS: [&str; 6] = [
    " vpc ",
    " subnet ",
    " route-table ",
    " internet-gateway ",
    " nat-gateway ",
    " eip ",
];

fn tag_of<'a>(
    tags: &'a std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    subnet: &str,
    key: &str,
) -> Option<&'a str> {
    tags.get(subnet).and_then(|t| t.get(key)).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_vpc_is_only_tagged_for_the_cluster_and_left_exactly_as_found() -> Result<()> {
    let moto = Moto::start()?;
    let ec2 = moto.ec2("us-east-1").await;
    let net = create_user_network(&ec2, "us-east-1", "10.40").await?;
    let subnets: Vec<String> = net.private.iter().chain(&net.public).cloned().collect();
    let tags_before = subnet_tags(&ec2, &subnets).await?;
    let before = inventory(&moto, &["us-east-1"]).await?;

    let ws = Workspace::new(&moto, &existing_vpc_config(&net, &net.public, ""))?;
    ws.apply()?;
    let out = ws.output("hub")?;
    assert_eq!(out["status"], "ACTIVE", "{out}");
    assert_eq!(out["vpc_id"], net.vpc_id.as_str());
    assert!(out["vpc_cidr"].is_null(), "{out}");
    assert_eq!(out["private_subnet_ids"], serde_json::json!(net.private));
    assert_eq!(out["public_subnet_ids"], serde_json::json!(net.public));
    assert_eq!(out["availability_zones"], serde_json::json!(net.zones));
    assert_eq!(out["availability_zone_count"], 2);
    // The first private subnet has a table of its own, the second uses the main one.
    assert_eq!(
        out["private_route_table_ids"],
        serde_json::json!([net.private_table, net.main_table])
    );
    assert_eq!(out["public_route_table_ids"], serde_json::json!([net.public_table]));
    assert!(
        out["nat_gateway_mode"].is_null() && out["internet_gateway_id"].is_null(),
        "{out}"
    );
    assert_eq!(out["nat_gateway_ids"], serde_json::json!([]));

    // No network was made: only the cluster, its node group, roles and security groups are new.
    let made = orphans(&before, &inventory(&moto, &["us-east-1"]).await?);
    let network: Vec<&String> = made
        .iter()
        .filter(|line| NETWORK_KINDS.iter().any(|kind| line.contains(kind)))
        .collect();
    assert!(network.is_empty(), "network objects made: {network:?}");
    assert!(made.iter().any(|l| l.contains("eks-cluster hub")), "{made:?}");

    // The cluster and its nodes are in the private subnets.
    let eks = moto.eks("us-east-1").await;
    let cluster = eks.describe_cluster().name("hub").send().await?;
    let vpc_config = cluster.cluster().and_then(|c| c.resources_vpc_config()).unwrap();
    assert_eq!(vpc_config.vpc_id(), Some(net.vpc_id.as_str()));
    assert_eq!(vpc_config.subnet_ids(), net.private.as_slice());
    let group = eks
        .describe_nodegroup()
        .cluster_name("hub")
        .nodegroup_name("system")
        .send()
        .await?;
    assert_eq!(group.nodegroup().map(|g| g.subnets()), Some(net.private.as_slice()));

    // Kubernetes tags on the subnets; a key already there kept its value.
    let tags = subnet_tags(&ec2, &subnets).await?;
    for subnet in &subnets {
        assert_eq!(
            tag_of(&tags, subnet, "kubernetes.io/cluster/hub"),
            Some("shared"),
            "{tags:?}"
        );
    }
    for subnet in &net.private {
        assert_eq!(
            tag_of(&tags, subnet, "kubernetes.io/role/internal-elb"),
            Some("1"),
            "{tags:?}"
        );
    }
    assert_eq!(
        tag_of(&tags, &net.public[0], "kubernetes.io/role/elb"),
        Some("1"),
        "{tags:?}"
    );
    assert_eq!(tag_of(&tags, &net.private[1], "Team"), Some("network"));
    assert_eq!(
        tag_of(&tags, &net.private[1], "ManagedBy"),
        None,
        "the resource's tags stay off the user's subnets"
    );

    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "plan after apply must be clean:\n{}", plan.output());

    // EKS cannot move a cluster to other subnets: a change replaces it.
    ws.write("main.tf", &existing_vpc_config(&net, &[], ""))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 1 to destroy"),
        "{}",
        plan.stdout
    );
    assert!(plan.says("# forces replacement"), "{}", plan.stdout);
    ws.write("main.tf", &existing_vpc_config(&net, &net.public, ""))?;

    ws.destroy()?;
    let after = inventory(&moto, &["us-east-1"]).await?;
    assert_eq!(orphans(&before, &after), Vec::<String>::new(), "left behind");
    assert_eq!(
        orphans(&after, &before),
        Vec::<String>::new(),
        "the user's network lost objects"
    );
    assert_eq!(
        subnet_tags(&ec2, &subnets).await?,
        tags_before,
        "subnet tags exactly as before"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_in_an_existing_vpc_imports_with_vpc_id_and_no_vpc_cidr() -> Result<()> {
    let moto = Moto::start()?;
    let ec2 = moto.ec2("us-east-1").await;
    let net = create_user_network(&ec2, "us-east-1", "10.40").await?;
    let subnets: Vec<String> = net.private.iter().chain(&net.public).cloned().collect();
    let tags_before = subnet_tags(&ec2, &subnets).await?;
    let before = inventory(&moto, &["us-east-1"]).await?;
    let config = existing_vpc_config(&net, &net.public, "");
    Workspace::new(&moto, &config)?.apply()?;

    let adopter = Workspace::new(
        &moto,
        &(config + "\nimport {\n  to = fleet_eks_regional_cluster.hub\n  id = \"us-east-1/hub\"\n}\n"),
    )?;
    let plan = adopter.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    adopter.apply()?;
    assert_eq!(adopter.plan_exit_code()?.code, 0);
    let imported = adopter.output("hub")?;
    assert_eq!(imported["vpc_id"], net.vpc_id.as_str());
    assert!(imported["vpc_cidr"].is_null(), "{imported}");
    assert_eq!(imported["private_subnet_ids"], serde_json::json!(net.private));
    assert_eq!(imported["public_subnet_ids"], serde_json::json!(net.public));

    // The adopter's destroy takes off what the first state added, and nothing of the VPC.
    adopter.destroy()?;
    let after = inventory(&moto, &["us-east-1"]).await?;
    assert_eq!(orphans(&before, &after), Vec::<String>::new(), "left behind");
    assert_eq!(
        orphans(&after, &before),
        Vec::<String>::new(),
        "the user's network lost objects"
    );
    assert_eq!(subnet_tags(&ec2, &subnets).await?, tags_before);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn peering_routes_of_a_cluster_in_an_existing_vpc_go_to_the_route_tables_its_subnets_use() -> Result<()> {
    let moto = Moto::start()?;
    let hub_ec2 = moto.ec2("us-east-1").await;
    let net = create_user_network(&hub_ec2, "us-east-1", "10.40").await?;
    let regions = ["us-east-1", "us-west-2"];
    let before = inventory(&moto, &regions).await?;
    let edge = r#"
resource "fleet_eks_regional_cluster" "edge" {
  name                    = "edge"
  region                  = "us-west-2"
  vpc_cidr                = "10.41.0.0/16"
  availability_zone_count = 2
  nat_gateway_mode        = "none"
}
resource "fleet_vpc_cross_region_peering" "edge_to_hub" {
  requester = {
    region          = "us-west-2"
    vpc_id          = fleet_eks_regional_cluster.edge.vpc_id
    route_table_ids = fleet_eks_regional_cluster.edge.private_route_table_ids
  }
  accepter = {
    vpc_id          = fleet_eks_regional_cluster.hub.vpc_id
    route_table_ids = fleet_eks_regional_cluster.hub.private_route_table_ids
  }
}
output "peering_id" {
  value = fleet_vpc_cross_region_peering.edge_to_hub.id
}
"#;
    let ws = Workspace::new(&moto, &existing_vpc_config(&net, &[], edge))?;
    ws.apply()?;
    let id = ws.output("peering_id")?.as_str().unwrap_or_default().to_string();
    let mut wanted = vec![net.private_table.clone(), net.main_table.clone()];
    wanted.sort();
    assert_eq!(
        tables_routing(&hub_ec2, &net.vpc_id, "10.41.0.0/16", &id).await?,
        wanted,
        "routes in the user's tables the private subnets use"
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "plan after apply must be clean:\n{}", plan.output());
    ws.destroy()?;
    assert!(
        peering_routes_in_region(&hub_ec2).await?.is_empty(),
        "no peering route left"
    );
    let after = inventory(&moto, &regions).await?;
    assert_eq!(orphans(&before, &after), Vec::<String>::new(), "left behind");
    assert_eq!(
        orphans(&after, &before),
        Vec::<String>::new(),
        "the user's network lost objects"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_group_in_some_zones_of_an_existing_vpc_runs_in_every_private_subnet_of_those_zones() -> Result<()> {
    let moto = Moto::start()?;
    let ec2 = moto.ec2("us-east-1").await;
    let mut net = create_user_network(&ec2, "us-east-1", "10.40").await?;
    // A second private subnet in the first zone: zones and subnets no longer pair one to one.
    let second_in_first_zone = create_subnet(&ec2, &net.vpc_id, "10.40.200.0/24", &net.zones[0], &[]).await?;
    net.private.push(second_in_first_zone.clone());
    let config = existing_vpc_config(&net, &[], "").replace(
        "node_groups        = { system = { min_size = 1, max_size = 2, desired_size = 1 } }",
        &format!(
            "node_groups = {{\n    system = {{ desired_size = 1 }}\n    zonal  = {{ desired_size = 1, availability_zones = [\"{}\"] }}\n  }}",
            net.zones[0]
        ),
    );
    assert!(config.contains("zonal"), "{config}");
    let ws = Workspace::new(&moto, &config)?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    let subnets_of = |name: &'static str| {
        let eks = eks.clone();
        async move {
            let out = eks
                .describe_nodegroup()
                .cluster_name("hub")
                .nodegroup_name(name)
                .send()
                .await?;
            anyhow::Ok(out.nodegroup().map(|g| g.subnets().to_vec()).unwrap_or_default())
        }
    };
    assert_eq!(
        subnets_of("zonal").await?,
        [net.private[0].clone(), second_in_first_zone],
        "both private subnets of {}",
        net.zones[0]
    );
    assert_eq!(subnets_of("system").await?, net.private, "unset: every private subnet");
    assert_eq!(ws.plan_exit_code()?.code, 0, "clean after apply");
    ws.destroy()?;
    Ok(())
}
