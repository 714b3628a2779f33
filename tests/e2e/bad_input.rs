//! Hostile and bad input: a catalogue of configurations across the provider
//! block and every resource (bad CIDRs, regions, ARNs, ids, sizes; unicode,
//! shell and template injection in names and tags). Each is run through a
//! real `terraform apply`: it must fail with an error naming the attribute
//! and saying how to fix it, and moto must hold nothing new afterwards.
//!
//! A line `FAULT-FIGURES bad-inputs=N` on stderr is the README's figure.

use anyhow::Result;
use eksfleet_tests::*;

const PROVIDER_OK: &str = "region = \"us-east-1\"";

/// A peering between two well-formed ids: only the provider block is bad.
const SOME_PEERING: &str = r#"resource "fleet_vpc_cross_region_peering" "p" {
  requester = { region = "us-west-2", vpc_id = "vpc-0a1b2c3d" }
  accepter  = { vpc_id = "vpc-0d3c2b1a" }
}"#;

fn config(provider: &str, resources: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n{provider}\n}}\n{resources}\n"
    )
}

fn cluster(body: &str) -> String {
    let mut lines = vec![("name", "\"edge\""), ("vpc_cidr", "\"10.0.0.0/16\"")];
    // A case that sets name or vpc_cidr replaces the default.
    lines.retain(|(key, _)| !body.lines().any(|l| l.trim_start().starts_with(&format!("{key} "))));
    let defaults: String = lines.iter().map(|(k, v)| format!("  {k} = {v}\n")).collect();
    format!("resource \"fleet_eks_regional_cluster\" \"c\" {{\n{defaults}{body}\n}}")
}

/// A cluster in an existing VPC: `body` sets the network attributes.
fn cluster_in(body: &str) -> String {
    format!("resource \"fleet_eks_regional_cluster\" \"c\" {{\n  name = \"edge\"\n{body}\n}}")
}

fn peering(requester: &str, accepter: &str, extra: &str) -> String {
    format!(
        "resource \"fleet_vpc_cross_region_peering\" \"p\" {{\n  requester = {{ {requester} }}\n  accepter  = {{ {accepter} }}\n{extra}\n}}"
    )
}

fn accepter(body: &str) -> String {
    format!("resource \"fleet_vpc_peering_accepter\" \"a\" {{\n{body}\n}}")
}

/// A registration of an edge with a hub; `body` replaces the defaults it sets.
fn argocd(body: &str) -> String {
    let mut lines = vec![
        ("hub", "{ region = \"us-east-1\", cluster_name = \"hub\" }"),
        ("cluster_arn", "\"arn:aws:eks:us-west-2:123456789012:cluster/edge\""),
        ("role_arn", "\"arn:aws:iam::123456789012:role/edge-us-west-2-gitops\""),
    ];
    lines.retain(|(key, _)| !body.lines().any(|l| l.trim_start().starts_with(&format!("{key} "))));
    let defaults: String = lines.iter().map(|(k, v)| format!("  {k} = {v}\n")).collect();
    format!("resource \"fleet_argocd_cluster\" \"r\" {{\n{defaults}{body}\n}}")
}

struct Case {
    what: &'static str,
    provider: String,
    resources: String,
    /// The attribute the error must name, then the phrase saying what to do.
    attribute: &'static str,
    fix: &'static str,
}

fn provider_case(what: &'static str, provider: &str, attribute: &'static str, fix: &'static str) -> Case {
    Case {
        what,
        provider: provider.to_string(),
        resources: SOME_PEERING.to_string(),
        attribute,
        fix,
    }
}

fn resource_case(what: &'static str, resources: String, attribute: &'static str, fix: &'static str) -> Case {
    Case {
        what,
        provider: PROVIDER_OK.to_string(),
        resources,
        attribute,
        fix,
    }
}

/// Subnets the plan-time checks of an existing VPC are tried on (made before
/// the inventory is taken, so they are no orphans).
struct ExistingVpc {
    net: UserNetwork,
    /// A subnet of another VPC.
    foreign: String,
    /// A second subnet in the zone of `net.private[0]`.
    same_zone: String,
    /// A subnet in a zone EKS refuses, if the region has one.
    refused_zone: Option<String>,
}

async fn existing_vpc(moto: &Moto) -> Result<ExistingVpc> {
    let ec2 = moto.ec2("us-east-1").await;
    let net = create_user_network(&ec2, "us-east-1", "10.40").await?;
    let other = create_vpc(&ec2, "us-east-1", "10.50.0.0/16", 0).await?;
    let (_, refused) = eks_zones(&ec2).await?;
    let foreign = create_subnet(&ec2, &other.vpc_id, "10.50.0.0/24", &net.zones[1], &[]).await?;
    let same_zone = create_subnet(&ec2, &net.vpc_id, "10.40.32.0/20", &net.zones[0], &[]).await?;
    let refused_zone = match refused {
        Some(zone) => Some(create_subnet(&ec2, &net.vpc_id, "10.40.48.0/20", &zone, &[]).await?),
        None => None,
    };
    Ok(ExistingVpc {
        net,
        foreign,
        same_zone,
        refused_zone,
    })
}

/// What DescribeSubnets tells at plan time: a subnet not found, in another
/// VPC, in a zone EKS refuses, or all in one zone.
fn existing_vpc_cases(f: &ExistingVpc) -> Vec<Case> {
    let body = |private: &[&str], public: &[&str]| {
        let list = |ids: &[&str]| ids.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ");
        let public = if public.is_empty() {
            String::new()
        } else {
            format!("\n  public_subnet_ids = [{}]", list(public))
        };
        cluster_in(&format!(
            "  vpc_id = \"{}\"\n  private_subnet_ids = [{}]{public}",
            f.net.vpc_id,
            list(private)
        ))
    };
    let first = f.net.private[0].as_str();
    let mut cases = vec![
        resource_case(
            "a private subnet that does not exist",
            body(&[first, "subnet-0a1b2c3d4e5f67890"], &[]),
            "private_subnet_ids[1]",
            "there is no subnet subnet-0a1b2c3d4e5f67890 in us-east-1",
        ),
        resource_case(
            "a public subnet that does not exist",
            body(
                &f.net.private.iter().map(String::as_str).collect::<Vec<_>>(),
                &["subnet-0a1b2c3d"],
            ),
            "public_subnet_ids[0]",
            "there is no subnet subnet-0a1b2c3d in us-east-1",
        ),
        resource_case(
            "a subnet of another VPC",
            body(&[first, f.foreign.as_str()], &[]),
            "private_subnet_ids[1]",
            "use subnets of",
        ),
        resource_case(
            "private subnets in one zone",
            body(&[first, f.same_zone.as_str()], &[]),
            "private_subnet_ids",
            "EKS requires subnets in at least two availability zones",
        ),
    ];
    if let Some(refused) = &f.refused_zone {
        cases.push(resource_case(
            "a subnet in a zone EKS refuses",
            body(&[first, refused.as_str()], &[]),
            "private_subnet_ids[1]",
            "where EKS refuses cluster subnets",
        ));
    }
    cases
}

fn catalogue() -> Vec<Case> {
    let long = "x".repeat(300);
    let long_key = "k".repeat(129);
    let rq = |vpc: &str| format!("region = \"us-west-2\", vpc_id = \"{vpc}\"");
    let ac = "vpc_id = \"vpc-0d3c2b1a\"";
    let c = resource_case;
    let mut cases = vec![
        resource_case(
            "registration of a cluster_arn that is not an EKS cluster ARN",
            argocd("  cluster_arn = \"arn:aws:iam::123456789012:role/edge\""),
            "cluster_arn",
            "is not an EKS cluster ARN",
        ),
        resource_case(
            "registration into a namespace that is not a DNS label",
            argocd("  hub = { region = \"us-east-1\", cluster_name = \"hub\", namespace = \"Argo_CD\" }"),
            "hub.namespace",
            "use a DNS label",
        ),
        resource_case(
            "registration with role_arn in capability mode",
            argocd("  mode = \"capability\""),
            "role_arn",
            "Remove role_arn",
        ),
        resource_case(
            "self-managed registration without role_arn",
            argocd("  role_arn = null"),
            "role_arn",
            "Set it to the edge's gitops_role_arn",
        ),
        resource_case(
            "registration into a hub that does not exist",
            argocd("  hub = { region = \"us-east-1\", cluster_name = \"nohub\" }"),
            "hub",
            "Set hub.cluster_name and hub.region",
        ),
        resource_case(
            "registration setting the Argo CD secret-type label itself",
            argocd("  labels = { \"argocd.argoproj.io/secret-type\" = \"cluster\" }"),
            "labels",
            "is set by fleet_argocd_cluster itself",
        ),
        resource_case(
            "registration label value Kubernetes refuses",
            argocd("  labels = { team = \"platform team\" }"),
            "labels",
            "is not a Kubernetes label value",
        ),
        // ----- the provider block -----
        provider_case(
            "unknown region",
            "region = \"us-east-9\"",
            "region",
            "is not an AWS region",
        ),
        provider_case(
            "region in capitals",
            "region = \"US-EAST-1\"",
            "region",
            "Did you mean \"us-east-1\"?",
        ),
        provider_case(
            "negative retries",
            "region = \"us-east-1\"\nmax_retries = -1",
            "max_retries",
            "use a whole number from 0 to 100",
        ),
        provider_case(
            "huge retries",
            "region = \"us-east-1\"\nmax_retries = 1e9",
            "max_retries",
            "use a whole number from 0 to 100",
        ),
        provider_case(
            "fractional retries",
            "region = \"us-east-1\"\nmax_retries = 2.5",
            "max_retries",
            "use a whole number from 0 to 100",
        ),
        provider_case(
            "assume_role with a user ARN",
            "region = \"us-east-1\"\nassume_role = { role_arn = \"arn:aws:iam::123456789012:user/bob\" }",
            "assume_role.role_arn",
            "expected \"arn:aws:iam::ACCOUNT_ID:role/NAME\"",
        ),
        provider_case(
            "assume_role with a short account",
            "region = \"us-east-1\"\nassume_role = { role_arn = \"arn:aws:iam::1234:role/x\" }",
            "assume_role.role_arn",
            "expected \"arn:aws:iam::ACCOUNT_ID:role/NAME\"",
        ),
        provider_case(
            "endpoint that isn't a URL",
            "region = \"us-east-1\"\nendpoints = { ec2 = \"localhost; rm -rf /\" }",
            "endpoints.ec2",
            "use a full URL",
        ),
        provider_case(
            "default tag key AWS reserves",
            "region = \"us-east-1\"\ndefault_tags = { \"aws:createdBy\" = \"me\" }",
            "default_tags",
            "tag keys starting with \"aws:\" are reserved",
        ),
        provider_case(
            "shell injection in a default tag",
            "region = \"us-east-1\"\ndefault_tags = { Team = \"ops\\\"; rm -rf / #\" }",
            "default_tags",
            "may hold only letters, digits, spaces",
        ),
        // ----- fleet_eks_regional_cluster -----
        c(
            "CIDR prefix over 32",
            cluster("  vpc_cidr = \"10.0.0.0/33\""),
            "vpc_cidr",
            "is not an IPv4 CIDR block",
        ),
        c(
            "CIDR octet over 255",
            cluster("  vpc_cidr = \"300.0.0.0/16\""),
            "vpc_cidr",
            "is not an IPv4 CIDR block",
        ),
        c(
            "IPv6 CIDR",
            cluster("  vpc_cidr = \"fd00::/8\""),
            "vpc_cidr",
            "is not an IPv4 CIDR block",
        ),
        c(
            "CIDR too small",
            cluster("  vpc_cidr = \"10.0.0.0/26\""),
            "vpc_cidr",
            "too small",
        ),
        c(
            "CIDR with host bits",
            cluster("  vpc_cidr = \"10.0.0.1/16\""),
            "vpc_cidr",
            "did you mean \"10.0.0.0/16\"",
        ),
        c(
            "empty name",
            cluster("  name = \"\""),
            "name",
            "use 1 to 38 ASCII letters",
        ),
        c(
            "shell injection in the name",
            cluster("  name = \"edge;rm -rf /\""),
            "name",
            "use 1 to 38 ASCII letters",
        ),
        c(
            "unicode name",
            cluster("  name = \"ëdge-κλ\""),
            "name",
            "use 1 to 38 ASCII letters",
        ),
        c(
            "template injection in the name",
            cluster("  name = \"$${jndi:ldap://evil/x}\""),
            "name",
            "use 1 to 38 ASCII letters",
        ),
        c(
            "name too long for the role names",
            cluster("  name = \"a-very-long-cluster-name-for-iam-roles-x\""),
            "name",
            "use 1 to 38 ASCII letters",
        ),
        c(
            "unknown region",
            cluster("  region = \"mars-north-1\""),
            "region",
            "is not an AWS region",
        ),
        c(
            "a zone as the region",
            cluster("  region = \"us-east-1a\""),
            "region",
            "is not an AWS region",
        ),
        c(
            // Well formed, not offered by EKS: refused at plan by DescribeClusterVersions.
            "Kubernetes version EKS does not offer",
            cluster("  kubernetes_version = \"1.99\""),
            "kubernetes_version",
            "does not offer \"1.99\"",
        ),
        c(
            // Past the end of extended support: EKS lists it as unsupported.
            "Kubernetes version EKS stopped offering",
            cluster("  kubernetes_version = \"1.31\""),
            "kubernetes_version",
            "or leave kubernetes_version unset for the newest version in standard support",
        ),
        c(
            "Kubernetes version older than any EKS offers",
            cluster("  kubernetes_version = \"1.21\""),
            "kubernetes_version",
            "EKS no longer offers 1.21: use 1.30 or newer",
        ),
        c(
            "malformed Kubernetes version",
            cluster("  kubernetes_version = \"v1.34\""),
            "kubernetes_version",
            "write MAJOR.MINOR",
        ),
        c(
            "unknown support_type",
            cluster("  support_type = \"LTS\""),
            "support_type",
            "use one of \"STANDARD\", \"EXTENDED\"",
        ),
        c(
            "zero zones",
            cluster("  availability_zone_count = 0"),
            "availability_zone_count",
            "use a whole number from 2 to 6",
        ),
        c(
            // EKS needs subnets in two zones.
            "one zone",
            cluster("  availability_zone_count = 1"),
            "availability_zone_count",
            "use a whole number from 2 to 6",
        ),
        c(
            "too many zones",
            cluster("  availability_zone_count = 7"),
            "availability_zone_count",
            "use a whole number from 2 to 6",
        ),
        c(
            "more zones than EKS accepts in the region",
            cluster("  availability_zone_count = 6"),
            "availability_zone_count",
            "Lower availability_zone_count",
        ),
        c(
            "an opted-in Local Zone",
            cluster("  availability_zones = [\"us-east-1-bos-1a\", \"us-east-1a\"]"),
            "availability_zones",
            "local-zone",
        ),
        c(
            "node groups with no way out of the private subnets",
            cluster("  nat_gateway_mode = \"none\"\n  node_groups = { a = {} }"),
            "nat_gateway_mode",
            "Set nat_gateway_mode = \"single\"",
        ),
        c(
            "NAT mode",
            cluster("  nat_gateway_mode = \"NAT\""),
            "nat_gateway_mode",
            "use one of \"single\", \"one_per_az\", \"none\"",
        ),
        c(
            "negative min_size",
            cluster("  node_groups = { a = { min_size = -1 } }"),
            "node_groups[\"a\"].min_size",
            "use a whole number from 0 to 1000",
        ),
        c(
            "huge max_size",
            cluster("  node_groups = { a = { max_size = 1000000 } }"),
            "node_groups[\"a\"].max_size",
            "use a whole number from 1 to 1000",
        ),
        c(
            "fractional desired_size",
            cluster("  node_groups = { a = { desired_size = 1.5 } }"),
            "node_groups[\"a\"].desired_size",
            "use a whole number from 0 to 1000",
        ),
        c(
            "zero disk",
            cluster("  node_groups = { a = { disk_size = 0 } }"),
            "node_groups[\"a\"].disk_size",
            "use a whole number from 1 to 16384",
        ),
        c(
            "disk and its disk_size shorthand both set",
            cluster("  node_groups = { a = { disk_size = 30, disk = { size = 40 } } }"),
            "node_groups.a: disk and disk_size are both set",
            "remove disk_size and set disk.size instead",
        ),
        c(
            "a launch template that does not exist",
            cluster("  node_groups = { a = { launch_template = { id = \"lt-0123456789abcdef0\" } } }"),
            "node_groups.a.launch_template.id",
            "use the id (lt-…) of one in the cluster's region",
        ),
        c(
            "capacity type",
            cluster("  node_groups = { a = { capacity_type = \"CHEAP\" } }"),
            "node_groups[\"a\"].capacity_type",
            "use one of \"ON_DEMAND\", \"SPOT\"",
        ),
        c(
            "node group name with spaces and punctuation",
            cluster("  node_groups = { \"bad name!\" = {} }"),
            "node_groups",
            "use 1 to 63 letters, digits",
        ),
        c(
            "injection in an instance type",
            cluster("  node_groups = { a = { instance_types = [\"m5.large;reboot\"] } }"),
            "instance_types",
            "not an EC2 instance type",
        ),
        c(
            "taint effect in Kubernetes spelling",
            cluster("  node_groups = { a = { taints = [{ key = \"k\", value = \"v\", effect = \"NoSchedule\" }] } }"),
            "effect",
            "use NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE",
        ),
        c(
            "bad API CIDR",
            cluster("  api_allowed_cidrs = [\"0.0.0.0/99\"]"),
            "api_allowed_cidrs",
            "is not an IPv4 CIDR block",
        ),
        c(
            "bare address as a public access CIDR",
            cluster("  public_access_cidrs = [\"203.0.113.7\"]"),
            "public_access_cidrs",
            "is not an IPv4 CIDR block",
        ),
        c(
            "log type",
            cluster("  enabled_log_types = [\"everything\"]"),
            "enabled_log_types",
            "use one of",
        ),
        c(
            "policy ARN as the cluster role",
            cluster("  cluster_role_arn = \"arn:aws:iam::123456789012:policy/x\""),
            "cluster_role_arn",
            "expected \"arn:aws:iam::ACCOUNT_ID:role/NAME\"",
        ),
        c(
            "role name as the node role",
            cluster("  node_role_arn = \"eks-node\""),
            "node_role_arn",
            "expected \"arn:aws:iam::ACCOUNT_ID:role/NAME\"",
        ),
        c(
            "KMS key in another region",
            cluster("  secrets_kms_key_arn = \"arn:aws:kms:eu-west-1:123456789012:key/abc\""),
            "secrets_kms_key_arn",
            "in eu-west-1 but the cluster is in us-east-1",
        ),
        c(
            "malformed KMS key",
            cluster("  secrets_kms_key_arn = \"alias/my-key\""),
            "secrets_kms_key_arn",
            "is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)",
        ),
        c(
            "path traversal as an add-on name",
            cluster("  addons = { \"../../clusters\" = {} }"),
            "addons",
            "use lowercase letters, digits, '-' or '_'",
        ),
        c(
            "add-on configuration that isn't JSON",
            cluster("  addons = { coredns = { configuration_values = \"{replicaCount: 3\" } }"),
            "configuration_values",
            "use jsonencode",
        ),
        c(
            "two IAM modes on one add-on",
            cluster(
                "  addons = { aws-ebs-csi-driver = { create_role = true, service_account_role_arn = \"arn:aws:iam::123456789012:role/ebs\" } }",
            ),
            "addons[\"aws-ebs-csi-driver\"]",
            "keep one of service_account_role_arn (IRSA), pod_identity_role_arn (EKS Pod Identity) or create_role = true",
        ),
        c(
            "pod identity association key without a service account",
            cluster("  pod_identity_associations = { \"kube-system\" = \"arn:aws:iam::123456789012:role/app\" }"),
            "pod_identity_associations",
            "is not \"NAMESPACE/SERVICE_ACCOUNT\"",
        ),
        c(
            "Karpenter in a namespace that is not a DNS label",
            cluster("  karpenter = { enabled = true, namespace = \"Karpenter_System\" }"),
            "karpenter.namespace",
            "use a DNS label of 1 to 63 lowercase letters, digits and '-'",
        ),
        c(
            "pod identity association to something not a role",
            cluster("  pod_identity_associations = { \"apps/web\" = \"arn:aws:iam::123456789012:user/web\" }"),
            "pod_identity_associations",
            "is not an IAM role ARN",
        ),
        c(
            "a role for an add-on without pod identity support",
            cluster("  kubernetes_version = \"1.33\"\n  addons = { coredns = { create_role = true } }"),
            "addons[\"coredns\"].create_role",
            "takes no pod identity role",
        ),
        c(
            "an add-on resolve_conflicts EKS does not know",
            cluster("  addons = { coredns = { resolve_conflicts = \"MERGE\" } }"),
            "resolve_conflicts",
            "NONE",
        ),
        c(
            "both update_config limits on a node group",
            cluster(
                "  node_groups = { system = { update_config = { max_unavailable = 1, max_unavailable_percentage = 10 } } }",
            ),
            "node_groups[\"system\"].update_config",
            "set exactly one of max_unavailable (a node count) and max_unavailable_percentage",
        ),
        c(
            "a node group in a zone the cluster does not use",
            cluster(
                "  availability_zones = [\"us-east-1a\", \"us-east-1c\"]\n  node_groups = { system = { availability_zones = [\"us-east-1d\"] } }",
            ),
            "node_groups[\"system\"].availability_zones",
            "list some of those, or leave availability_zones unset",
        ),
        c(
            "account root as an access entry",
            cluster("  access_entries = { \"arn:aws:iam::123456789012:root\" = {} }"),
            "access_entries",
            "is not an IAM role or user ARN",
        ),
        c(
            "namespace scope without namespaces",
            cluster(
                "  access_entries = { \"arn:aws:iam::123456789012:role/dev\" = { policies = { \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy\" = { scope = \"namespace\" } } } }",
            ),
            "namespaces",
            "needs at least one namespace",
        ),
        c(
            "an access entry type EKS doesn't have",
            cluster("  access_entries = { \"arn:aws:iam::123456789012:role/dev\" = { type = \"EC2_MAC\" } }"),
            "type",
            "use one of",
        ),
        c(
            "Kubernetes groups on a node access entry",
            cluster(
                "  access_entries = { \"arn:aws:iam::123456789012:role/nodes\" = { type = \"EC2_LINUX\", kubernetes_groups = [\"admins\"] } }",
            ),
            "kubernetes_groups",
            "Remove kubernetes_groups",
        ),
        c(
            "a user as a node access entry",
            cluster("  access_entries = { \"arn:aws:iam::123456789012:user/bob\" = { type = \"FARGATE_LINUX\" } }"),
            "type",
            "for IAM roles only",
        ),
        c(
            "the node role as a STANDARD access entry",
            cluster(
                "  node_role_arn = \"arn:aws:iam::123456789012:role/nodes\"\n  access_entries = { \"arn:aws:iam::123456789012:role/nodes\" = {} }",
            ),
            "access_entries",
            "whose entry EKS creates itself",
        ),
        c(
            "a service CIDR wider than /12",
            cluster("  service_ipv4_cidr = \"10.0.0.0/8\""),
            "service_ipv4_cidr",
            "/12 to /24",
        ),
        c(
            "a log retention CloudWatch Logs does not offer",
            cluster("  log_retention_days = 8"),
            "log_retention_days",
            "use one of 1, 3, 5, 7, 14, 30, 60, 90",
        ),
        c(
            "Auto Mode with a Kubernetes version it does not run on",
            cluster("  kubernetes_version = \"1.28\"\n  auto_mode = { enabled = true }"),
            "auto_mode.enabled",
            "EKS Auto Mode runs on Kubernetes 1.29 or later",
        ),
        c(
            "a GitOps hub that is also an edge",
            cluster("  gitops_hub = {}\n  gitops_hub_role_arn = \"arn:aws:iam::123456789012:role/hub\""),
            "gitops_hub_role_arn",
            "on the hub itself (gitops_hub set) it is computed",
        ),
        c(
            "a GitOps access policy that is not an EKS access policy",
            cluster(
                "  gitops_hub_role_arn = \"arn:aws:iam::123456789012:role/hub\"\n  \
                 gitops_access_policy = \"arn:aws:iam::aws:policy/AdministratorAccess\"",
            ),
            "gitops_access_policy",
            "is not an EKS access policy ARN",
        ),
        c(
            "a GitOps access policy with no role to hold it",
            cluster("  gitops_access_policy = \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy\""),
            "gitops_access_policy",
            "set one of them, or remove gitops_access_policy",
        ),
        c(
            "a GitOps hub service account listed twice",
            cluster("  gitops_hub = { service_accounts = [\"argocd-server\", \"argocd-server\"] }"),
            "gitops_hub.service_accounts",
            "is listed twice",
        ),
        c(
            "a GitOps hub service account also in pod_identity_associations",
            cluster(
                "  gitops_hub = {}\n  pod_identity_associations = { \"argocd/argocd-server\" = \
                 \"arn:aws:iam::123456789012:role/app\" }",
            ),
            "gitops_hub.service_accounts",
            "EKS allows one association per service account",
        ),
        c(
            "the Argo CD capability's role also in access_entries",
            cluster(
                "  gitops_capability_role_arn = \"arn:aws:iam::123456789012:role/capability\"\n  \
                 access_entries = { \"arn:aws:iam::123456789012:role/capability\" = {} }",
            ),
            "gitops_capability_role_arn",
            "EKS holds one entry per principal",
        ),
        c(
            "a GitOps hub role that is not a role ARN",
            cluster("  gitops_hub_role_arn = \"arn:aws:iam::123456789012:user/hub\""),
            "gitops_hub_role_arn",
            "expected \"arn:aws:iam::ACCOUNT_ID:role/NAME\"",
        ),
        c(
            "an Auto Mode node pool EKS does not have",
            cluster("  auto_mode = { enabled = true, node_pools = [\"gpu\"] }"),
            "auto_mode.node_pools",
            "is not a built-in node pool of EKS Auto Mode",
        ),
        c(
            "markup in a tag key",
            cluster("  tags = { \"<script>alert(1)</script>\" = \"x\" }"),
            "tags",
            "may hold only letters, digits, spaces",
        ),
        c(
            "emoji tag key",
            cluster("  tags = { \"🔥\" = \"hot\" }"),
            "tags",
            "may hold only letters, digits, spaces",
        ),
        c(
            "newline in a tag value",
            cluster("  tags = { Team = \"ops\\nInjected: yes\" }"),
            "tags",
            "may hold only letters, digits, spaces",
        ),
        c(
            "tag key the provider reserves",
            cluster("  tags = { \"eksfleet:owner\" = \"someone-else\" }"),
            "tags",
            "tag keys starting with \"eksfleet:\" are reserved",
        ),
        c(
            "duration without a unit",
            cluster("  timeouts { create = \"30\" }"),
            "timeouts.create",
            "use a number with a unit",
        ),
        c(
            "negative duration",
            cluster("  timeouts { delete = \"-5m\" }"),
            "timeouts.delete",
            "use a number with a unit",
        ),
        // ----- fleet_vpc_cross_region_peering -----
        c(
            "short VPC id",
            peering(&rq("vpc-123"), ac, ""),
            "requester.vpc_id",
            "followed by 8 or 17 lowercase hex digits",
        ),
        c(
            "SQL in a VPC id",
            peering(&rq("vpc-0a1b2c3d' OR '1'='1"), ac, ""),
            "requester.vpc_id",
            "followed by 8 or 17 lowercase hex digits",
        ),
        c(
            "subnet id as the accepter VPC",
            peering(&rq("vpc-0a1b2c3d"), "vpc_id = \"subnet-0a1b2c3d\"", ""),
            "accepter.vpc_id",
            "followed by 8 or 17 lowercase hex digits",
        ),
        c(
            "route table id in capitals",
            peering(
                "region = \"us-west-2\", vpc_id = \"vpc-0a1b2c3d\", route_table_ids = [\"rtb-0A1B2C3D\"]",
                ac,
                "",
            ),
            "requester.route_table_ids",
            "followed by 8 or 17 lowercase hex digits",
        ),
        c(
            "typo in a region",
            peering("region = \"eu-wset-1\", vpc_id = \"vpc-0a1b2c3d\"", ac, ""),
            "requester.region",
            "Did you mean \"eu-west-1\"?",
        ),
        c(
            "account id with letters",
            peering(
                &rq("vpc-0a1b2c3d"),
                "vpc_id = \"vpc-0d3c2b1a\", account_id = \"12345678901x\"",
                "",
            ),
            "accepter.account_id",
            "expected exactly 12 digits",
        ),
        c(
            "accepter role without a name",
            peering(
                &rq("vpc-0a1b2c3d"),
                "vpc_id = \"vpc-0d3c2b1a\", assume_role_arn = \"arn:aws:iam::123456789012:role\"",
                "",
            ),
            "accepter.assume_role_arn",
            "expected \"arn:aws:iam::ACCOUNT_ID:role/NAME\"",
        ),
        c(
            "the same VPC on both sides",
            peering(
                "region = \"us-east-1\", vpc_id = \"vpc-0a1b2c3d\"",
                "vpc_id = \"vpc-0a1b2c3d\"",
                "",
            ),
            "accepter.vpc_id",
            "Requester and accepter are the same VPC",
        ),
        c(
            "oversized tag value on a peering",
            peering(&rq("vpc-0a1b2c3d"), ac, &format!("  tags = {{ Note = \"{long}\" }}")),
            "tags",
            "must be at most 256 characters",
        ),
        c(
            "oversized tag key on a peering",
            peering(
                &rq("vpc-0a1b2c3d"),
                ac,
                &format!("  tags = {{ \"{long_key}\" = \"x\" }}"),
            ),
            "tags",
            "must be 1 to 128 characters",
        ),
        c(
            "peering timeout in words",
            peering(&rq("vpc-0a1b2c3d"), ac, "  timeouts { create = \"ten minutes\" }"),
            "timeouts.create",
            "use a number with a unit",
        ),
        // ----- fleet_eks_regional_cluster in an existing VPC (config alone) -----
        c(
            "both vpc_cidr and vpc_id",
            cluster("  vpc_id = \"vpc-0a1b2c3d\"\n  private_subnet_ids = [\"subnet-0a1b2c3d\", \"subnet-0d3c2b1a\"]"),
            "vpc_id",
            "set either vpc_cidr (a new VPC for the cluster) or vpc_id (an existing VPC), not both",
        ),
        c(
            "neither vpc_cidr nor vpc_id",
            cluster_in(""),
            "vpc_cidr",
            "or vpc_id with private_subnet_ids to use an existing VPC",
        ),
        c(
            "vpc_id without private_subnet_ids",
            cluster_in("  vpc_id = \"vpc-0a1b2c3d\""),
            "private_subnet_ids",
            "set private_subnet_ids to subnets of the VPC in at least two availability zones",
        ),
        c(
            "one private subnet",
            cluster_in("  vpc_id = \"vpc-0a1b2c3d\"\n  private_subnet_ids = [\"subnet-0a1b2c3d\"]"),
            "private_subnet_ids",
            "EKS requires subnets in at least two availability zones",
        ),
        c(
            "subnets with vpc_cidr",
            cluster("  private_subnet_ids = [\"subnet-0a1b2c3d\", \"subnet-0d3c2b1a\"]"),
            "private_subnet_ids",
            "Remove private_subnet_ids, or set vpc_id instead of vpc_cidr",
        ),
        c(
            "NAT gateways in an existing VPC",
            cluster_in(
                "  vpc_id = \"vpc-0a1b2c3d\"\n  private_subnet_ids = [\"subnet-0a1b2c3d\", \"subnet-0d3c2b1a\"]\n  nat_gateway_mode = \"single\"",
            ),
            "nat_gateway_mode",
            "only with vpc_cidr; with vpc_id the resource creates no NAT gateways",
        ),
        c(
            "zone count in an existing VPC",
            cluster_in(
                "  vpc_id = \"vpc-0a1b2c3d\"\n  private_subnet_ids = [\"subnet-0a1b2c3d\", \"subnet-0d3c2b1a\"]\n  availability_zone_count = 2",
            ),
            "availability_zone_count",
            "with vpc_id the zones are those of private_subnet_ids",
        ),
        c(
            "a subnet both private and public",
            cluster_in(
                "  vpc_id = \"vpc-0a1b2c3d\"\n  private_subnet_ids = [\"subnet-0a1b2c3d\", \"subnet-0d3c2b1a\"]\n  public_subnet_ids = [\"subnet-0a1b2c3d\"]",
            ),
            "public_subnet_ids",
            "is also in private_subnet_ids",
        ),
        c(
            "malformed vpc_id",
            cluster_in("  vpc_id = \"vpc_0a1b\"\n  private_subnet_ids = [\"subnet-0a1b2c3d\", \"subnet-0d3c2b1a\"]"),
            "vpc_id",
            "expected \"vpc-\" followed by 8 or 17 lowercase hex digits",
        ),
        c(
            "malformed subnet id",
            cluster_in("  vpc_id = \"vpc-0a1b2c3d\"\n  private_subnet_ids = [\"subnet-0a1b2c3d\", \"sn-1\"]"),
            "private_subnet_ids[1]",
            "expected \"subnet-\" followed by 8 or 17 lowercase hex digits",
        ),
        // ----- fleet_vpc_peering_accepter -----
        c(
            "peering id with the wrong prefix",
            accepter("  peering_id = \"vpc-0a1b2c3d\""),
            "peering_id",
            "expected \"pcx-\" followed by 8 or 17 lowercase hex digits",
        ),
        c(
            "command substitution in a peering id",
            accepter("  peering_id = \"pcx-$(reboot)\""),
            "peering_id",
            "expected \"pcx-\" followed by 8 or 17 lowercase hex digits",
        ),
        c(
            "accepter in no region",
            accepter("  peering_id = \"pcx-0a1b2c3d\"\n  region = \"global\""),
            "region",
            "is not an AWS region",
        ),
        c(
            "accepter route table id too long",
            accepter("  peering_id = \"pcx-0a1b2c3d\"\n  route_table_ids = [\"rtb-0a1b2c3d4e5f6a7b8c9\"]"),
            "route_table_ids",
            "followed by 8 or 17 lowercase hex digits",
        ),
        c(
            "accepter role from another partition's service",
            accepter(
                "  peering_id = \"pcx-0a1b2c3d\"\n  assume_role_arn = \"arn:aws:sts::123456789012:assumed-role/x/y\"",
            ),
            "assume_role_arn",
            "expected \"arn:aws:iam::ACCOUNT_ID:role/NAME\"",
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    cases.retain(|case| seen.insert(case.what));
    cases
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_input_fails_naming_its_attribute_and_creates_nothing() -> Result<()> {
    let moto = Moto::start()?;
    let regions = ["us-east-1", "us-west-2", "eu-west-1"];
    let vpc = existing_vpc(&moto).await?;
    let subnets: Vec<String> = vpc.net.private.iter().chain(&vpc.net.public).cloned().collect();
    let tags_before = subnet_tags(&moto.ec2("us-east-1").await, &subnets).await?;
    let before = inventory(&moto, &regions).await?;
    let mut cases = catalogue();
    cases.extend(existing_vpc_cases(&vpc));
    assert!(cases.len() >= 40, "the catalogue covers at least 40 bad inputs");
    let mut failures = Vec::new();
    for case in &cases {
        let ws = Workspace::new(&moto, &config(&case.provider, &case.resources))?;
        // apply, not plan: a check that is missing would create objects here.
        let run = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
        let problems: Vec<&str> = [
            (run.code != 1).then_some("exit code is not 1"),
            (!run.says(case.attribute)).then_some("the attribute is not named"),
            (!run.says(case.fix)).then_some("the fix is not said"),
            (run.output().contains("panicked") || run.says("plugin crashed")).then_some("the provider crashed"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {} (want {:?} and {:?})\n{}",
                case.what,
                problems.join(", "),
                case.attribute,
                case.fix,
                run.output()
            ));
        }
    }
    eprintln!("FAULT-FIGURES bad-inputs={}", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n---\n")
    );
    let left = orphans(&before, &inventory(&moto, &regions).await?);
    assert!(left.is_empty(), "bad input created objects: {left:#?}");
    assert_eq!(
        subnet_tags(&moto.ec2("us-east-1").await, &subnets).await?,
        tags_before,
        "bad input tagged a subnet"
    );
    Ok(())
}
