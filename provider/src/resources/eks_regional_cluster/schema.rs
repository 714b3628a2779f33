//! Schema of `fleet_eks_regional_cluster`.

use std::time::Duration;

use super::model::{
    ACCESS_ENTRY_TYPES, AUTO_MODE_NODE_POOLS, DEFAULT_AMI_TYPE, DEFAULT_IMDS_HOP_LIMIT, DEFAULT_INSTANCE_TYPE,
    DEFAULT_VOLUME_TYPE, GITOPS_NAMESPACE, KARPENTER_NAMESPACE, KARPENTER_SERVICE_ACCOUNT, STANDARD_ENTRY,
};
use super::validators::{
    AccessPolicyArns, AddonName, AutoModeNodePools, ClusterName, JsonDocument, KubernetesVersion, LogRetentionDays,
    NamespaceName, NodeGroupName, PodIdentityAssociations, PrincipalArns, ServiceAccountName, ServiceCidr,
    TaintEffects,
};
use crate::resources::timeouts;
use crate::resources::validators::{AwsRegion, Each, GoDuration, RoleArn, Tags};
use crate::resources::validators::{Cidr, OneOf, SUBNET_ID, VPC_ID, WholeNumber};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::types::Type;
use tfplugin::value::Value;

const MINUTE: Duration = Duration::from_secs(60);

/// Each object kind's wait budget, with terraform-provider-aws's defaults
/// (`aws_eks_cluster` 30/60/15 m, `aws_eks_node_group` 60/60/60 m,
/// `aws_eks_addon` 20/20/40 m, `aws_nat_gateway` 10/30 m, subnet and VPC
/// deletion 20 m). The whole stack has no single budget unless `create`,
/// `update` or `delete` sets one.
pub const KIND_TIMEOUTS: &[(&str, Duration, &str)] = &[
    (
        "cluster_create",
        Duration::from_secs(30 * 60),
        "the EKS cluster to become ACTIVE",
    ),
    (
        "cluster_update",
        Duration::from_secs(60 * 60),
        "each update of the control plane",
    ),
    (
        "cluster_delete",
        Duration::from_secs(15 * 60),
        "the EKS cluster to be deleted",
    ),
    (
        "node_group_create",
        Duration::from_secs(60 * 60),
        "a node group to become ACTIVE",
    ),
    (
        "node_group_update",
        Duration::from_secs(60 * 60),
        "each update of a node group",
    ),
    (
        "node_group_delete",
        Duration::from_secs(60 * 60),
        "a node group to be deleted",
    ),
    (
        "addon_create",
        Duration::from_secs(20 * 60),
        "an add-on to become ACTIVE",
    ),
    ("addon_update", Duration::from_secs(20 * 60), "each update of an add-on"),
    ("addon_delete", Duration::from_secs(40 * 60), "an add-on to be deleted"),
    (
        "nat_gateway_create",
        Duration::from_secs(10 * 60),
        "a NAT gateway to become available",
    ),
    (
        "nat_gateway_delete",
        Duration::from_secs(30 * 60),
        "a NAT gateway to be deleted and its address released",
    ),
    (
        "network_delete",
        Duration::from_secs(20 * 60),
        "each subnet, security group, gateway and the VPC to be deleted once their dependents are gone",
    ),
];

pub fn kind_timeout(name: &str) -> Duration {
    KIND_TIMEOUTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or(30 * MINUTE, |(_, d, _)| *d)
}

fn timeouts_block() -> Block {
    let mut attributes: Vec<Attribute> = ["create", "update", "delete"]
        .into_iter()
        .map(|op| {
            Attribute::string(
                op,
                &format!("An overall limit for the whole {op} (default: none; each wait has its own budget below)."),
            )
            .optional()
            .validate(GoDuration)
        })
        .collect();
    attributes.extend(KIND_TIMEOUTS.iter().map(|(name, default, what)| {
        Attribute::string(
            name,
            &format!("How long to wait for {what} (default `{}`).", timeouts::human(*default)),
        )
        .optional()
        .validate(GoDuration)
    }));
    Block {
        description: "Time limits, as durations such as `30s`, `10m` or `1h`: one per object kind, and optionally one \
                      for the whole operation."
            .into(),
        attributes,
        blocks: vec![],
    }
}

pub const LOG_TYPES: &[&str] = &["api", "audit", "authenticator", "controllerManager", "scheduler"];

fn strings(values: &[&str]) -> Value {
    Value::List(values.iter().map(|v| Value::string(*v)).collect())
}

fn node_group_attributes() -> Vec<Attribute> {
    vec![
        Attribute::typed(
            "instance_types",
            Type::list(Type::String),
            "EC2 instance types of the nodes. One type goes into the node group's managed launch template, and \
             changing it rolls the nodes in place (a new template version); several (e.g. for `SPOT`) stay on the \
             node group, and changing them replaces it: the new one is created and ACTIVE before the old one is \
             deleted. With your own `launch_template` they go on the node group unless the template names one.",
        )
        .default(strings(&[DEFAULT_INSTANCE_TYPE])),
        Attribute::string(
            "capacity_type",
            "`ON_DEMAND` or `SPOT`; changing it replaces the node group (new before old).",
        )
        .default(Value::string("ON_DEMAND"))
        .validate(OneOf(&["ON_DEMAND", "SPOT"])),
        Attribute::number("min_size", "Minimum number of nodes (updates in place).")
            .default(Value::Number(1.0))
            .validate(WholeNumber { min: 0, max: 1000 }),
        Attribute::number("max_size", "Maximum number of nodes (updates in place).")
            .default(Value::Number(3.0))
            .validate(WholeNumber { min: 1, max: 1000 }),
        Attribute::number(
            "desired_size",
            "Desired number of nodes at creation. A change here is applied; a change made outside Terraform (Cluster \
             Autoscaler, Karpenter) is kept and not reported as drift unless `enforce_desired_size` is set.",
        )
        .default(Value::Number(2.0))
        .validate(WholeNumber { min: 0, max: 1000 }),
        Attribute::number(
            "disk_size",
            "Root volume size in GiB, shorthand for `disk.size` (set one of the two). Defaults to `20`. Changing it \
             rolls the nodes in place (a new launch template version).",
        )
        .optional()
        .computed()
        .validate(WholeNumber { min: 1, max: 16384 }),
        Attribute::single_nested(
            "disk",
            vec![
                Attribute::number("size", "Size in GiB (default `20`, or `disk_size`).")
                    .optional()
                    .computed()
                    .validate(WholeNumber { min: 1, max: 16384 }),
                Attribute::string("type", "EBS volume type.")
                    .default(Value::string(DEFAULT_VOLUME_TYPE))
                    .validate(OneOf(&["gp3", "gp2", "io1", "io2", "st1", "sc1"])),
                Attribute::number("iops", "Provisioned IOPS (gp3, io1, io2).")
                    .optional()
                    .validate(WholeNumber { min: 100, max: 256000 }),
                Attribute::number("throughput", "Throughput in MiB/s (gp3).")
                    .optional()
                    .validate(WholeNumber { min: 125, max: 2000 }),
                Attribute::bool("encrypted", "Encrypt the volume.").default(Value::Bool(true)),
                Attribute::string(
                    "kms_key_arn",
                    "KMS key of the encryption; unset, the account's default EBS key.",
                )
                .optional(),
            ],
            "The nodes' root volume, in the node group's managed launch template (an encrypted `gp3` volume of \
             `disk_size` GiB by default). Any change rolls the nodes in place: a new launch template version, then \
             UpdateNodegroupVersion. Not with `launch_template`.",
        )
        .optional()
        .computed(),
        Attribute::number(
            "imds_hop_limit",
            "Hop limit of the instance metadata service (IMDSv2, tokens required): 1 keeps pods off the node's \
             credentials; 2 lets pods without host networking reach it. Rolls the nodes in place. Not with \
             `launch_template`.",
        )
        .default(Value::Number(DEFAULT_IMDS_HOP_LIMIT))
        .validate(WholeNumber { min: 1, max: 64 }),
        Attribute::string(
            "user_data",
            "User data of the nodes, as written (nodeadm YAML for AL2023, TOML for Bottlerocket): the provider \
             base64-encodes it as EC2 requires. Rolls the nodes in place. Not with `launch_template`.",
        )
        .optional(),
        Attribute::single_nested(
            "launch_template",
            vec![
                Attribute::string("id", "Launch template id (`lt-…`).").required(),
                Attribute::string(
                    "version",
                    "Version of the template; unset, its default version at create. A change rolls the nodes in \
                     place.",
                )
                .optional()
                .computed(),
            ],
            "Your own launch template instead of the one the resource manages: `disk`, `disk_size`, \
             `imds_hop_limit` and `user_data` are then the template's business. Changing the template id replaces \
             the node group (new before old).",
        )
        .optional(),
        Attribute::string(
            "ami_type",
            "EKS AMI type; changing it replaces the node group (new before old).",
        )
        .default(Value::string(DEFAULT_AMI_TYPE)),
        Attribute::bool(
            "enforce_desired_size",
            "Restore `desired_size` when it was changed outside Terraform (default: keep what an autoscaler set).",
        )
        .default(Value::Bool(false)),
        Attribute::single_nested(
            "update_config",
            vec![
                Attribute::number("max_unavailable", "Nodes an update may take down at once (1–100).")
                    .optional()
                    .validate(WholeNumber { min: 1, max: 100 }),
                Attribute::number(
                    "max_unavailable_percentage",
                    "Share of the nodes, in percent, an update may take down at once (1–100).",
                )
                .optional()
                .validate(WholeNumber { min: 1, max: 100 }),
            ],
            "How many nodes a version or launch template update replaces at once: exactly one of \
             `max_unavailable` and `max_unavailable_percentage`. Unset, EKS's default (one node). Updates in place.",
        )
        .optional(),
        Attribute::string(
            "ami_release_version",
            "AMI release of the nodes, such as `1.33.0-20250704` (`aws eks describe-nodegroup` \
             `releaseVersion`). Unset, the newest release for the group's Kubernetes version at create, kept \
             after that (a Kubernetes upgrade moves it to the newest for the new version). Changing it rolls the \
             nodes in place (UpdateNodegroupVersion).",
        )
        .optional()
        .computed(),
        Attribute::typed(
            "availability_zones",
            Type::list(Type::String),
            "Zones of the group's nodes, a subset of the cluster's `availability_zones` (its private subnets \
             there). Unset, every zone of the cluster. Changing it replaces the node group (new before old).",
        )
        .optional(),
        Attribute::bool(
            "node_repair",
            "EKS node auto repair: nodes that report unhealthy are replaced by EKS. Updates in place.",
        )
        .default(Value::Bool(false)),
        Attribute::typed(
            "labels",
            Type::map(Type::String),
            "Kubernetes labels of the nodes (updates in place).",
        )
        .optional(),
        Attribute::typed(
            "taints",
            Type::list(Type::Object(
                [("key", Type::String), ("value", Type::String), ("effect", Type::String)]
                    .into_iter()
                    .map(|(k, t)| (k.to_string(), t))
                    .collect(),
            )),
            "Kubernetes taints of the nodes, `{ key, value, effect }` with effect `NO_SCHEDULE`, `NO_EXECUTE` or \
             `PREFER_NO_SCHEDULE` (updates in place).",
        )
        .optional()
        .validate(TaintEffects),
    ]
}

fn addon_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string(
            "version",
            "Add-on version, such as `v1.19.0-eksbuild.1`, or `latest`: the newest version compatible with the \
             cluster's Kubernetes version, chosen at create and again when `kubernetes_version` changes (never \
             between). Unset, EKS's default for the cluster's Kubernetes version.",
        )
        .optional()
        .computed(),
        Attribute::string(
            "configuration_values",
            "Add-on configuration as a JSON document (see `aws eks describe-addon-configuration`).",
        )
        .optional()
        .validate(JsonDocument),
        Attribute::string(
            "service_account_role_arn",
            "IAM role of the add-on's service account through IAM roles for service accounts (IRSA; needs \
             `oidc_provider`). At most one of this, `pod_identity_role_arn` and `create_role`.",
        )
        .optional()
        .validate(RoleArn),
        Attribute::string(
            "pod_identity_role_arn",
            "IAM role EKS Pod Identity gives each of the add-on's service accounts (those \
             DescribeAddonConfiguration lists); installs `eks-pod-identity-agent` when `addons` does not list it.",
        )
        .optional()
        .validate(RoleArn),
        Attribute::bool(
            "create_role",
            "Create an IAM role for the add-on with the AWS managed policies EKS recommends for it \
             (DescribeAddonConfiguration `podIdentityConfiguration`), trusted by EKS Pod Identity and associated \
             with the add-on's service accounts. Deleted with the add-on or when turned off.",
        )
        .default(Value::Bool(false)),
        Attribute::string(
            "resolve_conflicts",
            "What EKS does with fields of the add-on changed in the cluster outside EKS: `OVERWRITE` (default) \
             puts EKS's values back, `PRESERVE` keeps them on update, `NONE` fails on a conflict.",
        )
        .default(Value::string("OVERWRITE"))
        .validate(OneOf(&["NONE", "OVERWRITE", "PRESERVE"])),
        Attribute::bool(
            "preserve_on_delete",
            "When the add-on is removed (or the cluster destroyed), leave its software running in the cluster and \
             only stop EKS managing it.",
        )
        .default(Value::Bool(false)),
        Attribute::typed(
            "tags",
            Type::map(Type::String),
            "Tags of the add-on, over the cluster's tags.",
        )
        .optional()
        .validate(Tags),
        Attribute::string("created_role_arn", "ARN of the role `create_role` made.").computed(),
    ]
}

fn access_entry_attributes() -> Vec<Attribute> {
    vec![
        Attribute::typed("kubernetes_groups", Type::set(Type::String), "Kubernetes groups the principal belongs to (for RBAC bindings).")
            .optional(),
        Attribute::map_nested(
            "policies",
            vec![
                Attribute::string("scope", "`cluster` or `namespace`.").default(Value::string("cluster")).validate(OneOf(&["cluster", "namespace"])),
                Attribute::typed("namespaces", Type::set(Type::String), "Namespaces the policy applies to, with scope `namespace`.").optional(),
            ],
            "EKS access policies by ARN (e.g. `arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`) and their scope.",
        )
        .optional()
        .validate(AccessPolicyArns),
        Attribute::string(
            "type",
            "`STANDARD` for people and workloads; `EC2_LINUX`, `EC2_WINDOWS`, `FARGATE_LINUX` or `HYBRID_LINUX` for \
             the role of self-managed, Fargate or hybrid nodes, which EKS gives node permissions (such entries take \
             no `kubernetes_groups`, `user_name` or `policies`). Changing it re-creates the entry.",
        )
        .default(Value::string(STANDARD_ENTRY))
        .validate(OneOf(ACCESS_ENTRY_TYPES)),
        Attribute::string(
            "user_name",
            "Kubernetes user name of the principal (`STANDARD` entries). Unset, EKS picks one from the principal's ARN.",
        )
        .optional(),
        Attribute::typed("tags", Type::map(Type::String), "Tags of the access entry, over the cluster's tags.")
            .optional()
            .validate(Tags),
    ]
}

fn gitops_hub_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("namespace", "Namespace Argo CD runs in.")
            .default(Value::string(GITOPS_NAMESPACE))
            .validate(NamespaceName),
        Attribute::typed(
            "service_accounts",
            Type::list(Type::String),
            "Argo CD's service accounts that reach edge clusters. Unset: `argocd-application-controller`, \
             `argocd-applicationset-controller`, `argocd-server`.",
        )
        .optional()
        .validate(Each(ServiceAccountName)),
        Attribute::typed(
            "pod_identity_association_ids",
            Type::map(Type::String),
            "`\"NAMESPACE/SERVICE_ACCOUNT\"` to its EKS Pod Identity association.",
        )
        .computed(),
    ]
}

fn karpenter_attributes() -> Vec<Attribute> {
    vec![
        Attribute::bool(
            "enabled",
            "Create Karpenter's prerequisites. `false` (or removing `karpenter`) deletes them in place.",
        )
        .required(),
        Attribute::string(
            "namespace",
            "Namespace Karpenter's controller runs in (its Helm release's).",
        )
        .default(Value::string(KARPENTER_NAMESPACE))
        .validate(NamespaceName),
        Attribute::string("service_account", "Service account of Karpenter's controller.")
            .default(Value::string(KARPENTER_SERVICE_ACCOUNT))
            .validate(ServiceAccountName),
        Attribute::string(
            "queue_name",
            "The interruption queue (Helm `settings.interruptionQueue`).",
        )
        .computed(),
        Attribute::string("node_role_name", "Karpenter's node role (EC2NodeClass `spec.role`).").computed(),
        Attribute::string("controller_role_arn", "The controller's IAM role.").computed(),
        Attribute::string(
            "instance_profile_name",
            "Instance profile of the node role (EC2NodeClass `spec.instanceProfile`, if used instead of `role`).",
        )
        .computed(),
        Attribute::string(
            "pod_identity_association_id",
            "EKS Pod Identity association of the controller's service account.",
        )
        .computed(),
        Attribute::typed(
            "event_rule_names",
            Type::list(Type::String),
            "EventBridge rules sending interruption events to the queue.",
        )
        .computed(),
    ]
}

pub fn schema() -> Schema {
    let computed = |name: &'static str, description: &str| Attribute::string(name, description).computed();
    let computed_list = |name: &'static str, description: &str| {
        Attribute::typed(name, Type::list(Type::String), description).computed()
    };
    Schema::new(
        "One region's whole EKS stack: VPC with private and public subnets in each availability zone, internet and \
         NAT gateways, route tables (or, with `vpc_id`, the subnets of an existing VPC, left as found), \
         least-privilege IAM roles (unless given), the EKS cluster (private endpoint by default, API \
         authentication mode) and its managed node groups. `region` is an argument, so one provider block and \
         `for_each` over regions build a fleet.",
        vec![
            Attribute::string("name", "Cluster name (also used to name the VPC, subnets and roles).")
                .required()
                .requires_replace()
                .validate(ClusterName),
            Attribute::string("region", "Region of the cluster. Defaults to the provider's `region`.")
                .optional()
                .computed()
                .requires_replace()
                .validate(AwsRegion),
            Attribute::string(
                "kubernetes_version",
                "Kubernetes version (`major.minor`), one of those EKS offers in the region (checked at plan time \
                 with DescribeClusterVersions, so new EKS versions need no provider release). Unset, the newest \
                 version in standard support is chosen at create and then kept: never upgraded implicitly. \
                 Raising it by one minor version upgrades the control plane then the node groups in place. Plans \
                 warn when the version leaves standard support within 90 days or has left it.",
            )
            .optional()
            .computed()
            .validate(KubernetesVersion),
            Attribute::string(
                "support_type",
                "The cluster's upgrade policy at the end of standard support: `STANDARD` (EKS upgrades the \
                 cluster to the next version then; no extended support charges) or `EXTENDED` (the cluster stays \
                 and enters extended support, billed at $0.60 instead of $0.10 per cluster hour). Updates in \
                 place; EKS accepts `STANDARD` only while the cluster's version is in standard support.",
            )
            .default(Value::string("STANDARD"))
            .validate(OneOf(&["STANDARD", "EXTENDED"])),
            Attribute::string(
                "vpc_cidr",
                "IPv4 CIDR of a new VPC for the cluster. Subnets are derived from it: private subnets take most of \
                 it, public ones a small slice (a /16 over 3 zones gives /19 private and /22 public subnets). Set \
                 either `vpc_cidr` or `vpc_id`.",
            )
            .optional()
            .requires_replace()
            .validate(Cidr),
            Attribute::string(
                "vpc_id",
                "An existing VPC to put the cluster in, instead of `vpc_cidr`: with `private_subnet_ids` (and \
                 optionally `public_subnet_ids`) nothing of the network is created (no VPC, subnets, gateways or \
                 route tables); the subnets get the cluster's Kubernetes tags, removed again on destroy, which \
                 leaves the VPC as it was. The VPC needs DNS support and DNS hostnames on for the private \
                 endpoint. With `vpc_cidr`, the id of the VPC created.",
            )
            .optional()
            .computed()
            .requires_replace_unless_recomputed()
            .validate(VPC_ID),
            Attribute::typed(
                "private_subnet_ids",
                Type::list(Type::String),
                "With `vpc_id`: the existing subnets for the cluster and its node groups, in at least two \
                 availability zones, all in `vpc_id` (checked at plan time with DescribeSubnets). Tagged \
                 `kubernetes.io/cluster/NAME = shared` and `kubernetes.io/role/internal-elb = 1` unless they \
                 already carry those keys. With `vpc_cidr`: the private subnets created, one per availability \
                 zone, in zone order.",
            )
            .optional()
            .computed()
            .requires_replace_unless_recomputed()
            .validate(Each(SUBNET_ID)),
            Attribute::typed(
                "public_subnet_ids",
                Type::list(Type::String),
                "With `vpc_id`: existing public subnets for internet-facing load balancers, tagged \
                 `kubernetes.io/cluster/NAME = shared` and `kubernetes.io/role/elb = 1` (optional; none by \
                 default). With `vpc_cidr`: the public subnets created, one per availability zone, in zone order.",
            )
            .optional()
            .computed()
            .requires_replace_unless_recomputed()
            .validate(Each(SUBNET_ID)),
            Attribute::number(
                "availability_zone_count",
                "How many availability zones to spread over (2–6; EKS needs two). Defaults to the length of \
                 `availability_zones` when that is given, else 3. Zones are chosen by zone id among the region's \
                 availability zones (never Local or Wavelength Zones, never zone ids EKS refuses), at plan time. \
                 Only with `vpc_cidr`; with `vpc_id`, the number of zones of `private_subnet_ids`.",
            )
            .optional()
            .computed()
            .requires_replace()
                .validate(WholeNumber { min: 2, max: 6 }),
            Attribute::typed(
                "availability_zones",
                Type::list(Type::String),
                "Availability zones to use, in order. Defaults to the first `availability_zone_count` zones, by name, among \
                 the region's availability zones EKS accepts; a Local Zone or a zone EKS refuses is a plan-time error. \
                 Only with `vpc_cidr`; with `vpc_id`, the zones of `private_subnet_ids`, in their order.",
            )
            .optional()
            .computed()
            .requires_replace(),
            Attribute::string(
                "nat_gateway_mode",
                "`single` (one NAT gateway for the VPC), `one_per_az` (one per zone, survives a zone outage) or \
                 `none` (private subnets without internet egress). Only with `vpc_cidr`: an existing VPC's routing \
                 is its own (null with `vpc_id`).",
            )
            .default(Value::string("single"))
            .requires_replace()
            .validate(OneOf(&["single", "one_per_az", "none"])),
            Attribute::bool("endpoint_private_access", "Whether the Kubernetes API is reachable from inside the VPC.")
                .default(Value::Bool(true)),
            Attribute::bool("endpoint_public_access", "Whether the Kubernetes API is reachable from the internet.")
                .default(Value::Bool(false)),
            Attribute::typed(
                "public_access_cidrs",
                Type::set(Type::String),
                "CIDRs allowed to reach the public endpoint (only with `endpoint_public_access`).",
            )
            .optional()
            .validate(Each(Cidr)),
            Attribute::typed(
                "api_allowed_cidrs",
                Type::set(Type::String),
                "Extra CIDRs allowed to reach the private endpoint on 443, such as a peered hub VPC.",
            )
            .optional()
            .validate(Each(Cidr)),
            Attribute::map_nested(
                "node_groups",
                node_group_attributes(),
                "Managed node groups by name, each launched from a launch template the resource manages (IMDSv2 \
                 only, an encrypted gp3 root volume) unless `launch_template` names your own. Scaling, labels, \
                 taints and the launch template's content update in place; other changes replace the node group, \
                 never the cluster.",
            )
            .optional()
            .validate(NodeGroupName),
            Attribute::map_nested(
                "addons",
                addon_attributes(),
                "EKS add-ons by name (`vpc-cni`, `coredns`, `kube-proxy`, `aws-ebs-csi-driver`, …); version and configuration update in place.",
            )
            .optional()
            .validate(AddonName),
            Attribute::map_nested(
                "access_entries",
                access_entry_attributes(),
                "Cluster access by IAM principal ARN (authentication mode API): Kubernetes groups and EKS access policies.",
            )
            .optional()
            .validate(PrincipalArns),
            Attribute::string("secrets_kms_key_arn", "KMS key (in the cluster's region) for envelope encryption of Kubernetes secrets.")
                .optional()
                .requires_replace(),
            Attribute::typed("enabled_log_types", Type::set(Type::String), "Control plane log types sent to CloudWatch: `api`, `audit`, `authenticator`, `controllerManager`, `scheduler`.")
                .optional()
                .validate(Each(OneOf(LOG_TYPES))),
            Attribute::number(
                "log_retention_days",
                "Days CloudWatch Logs keeps the control plane's logs (`enabled_log_types`). Set, the resource \
                 creates the log group EKS writes them to, `/aws/eks/NAME/cluster`, before the cluster (tagged like \
                 its other objects; EKS would otherwise make it with no expiry), changes the retention in place, \
                 and deletes the group with its logs on destroy, after the cluster. A group EKS already made for \
                 this resource's cluster is taken over. Unset (the default), the group is left to EKS as before: \
                 no plan of an existing cluster changes; unsetting it later leaves the group and its retention as \
                 they are. Refresh reads the retention back (0: the group has no retention policy).",
            )
            .optional()
            .validate(LogRetentionDays),
            Attribute::string(
                "cluster_role_arn",
                "IAM role of the cluster. When not given, the resource creates one with `AmazonEKSClusterPolicy` and deletes it on destroy.",
            )
            .optional()
            .computed()
            .requires_replace()
            .validate(RoleArn),
            Attribute::string(
                "node_role_arn",
                "IAM role of the nodes. When not given, the resource creates one with `AmazonEKSWorkerNodePolicy`, \
                 `AmazonEKS_CNI_Policy` and `AmazonEC2ContainerRegistryReadOnly`, and deletes it on destroy.",
            )
            .optional()
            .computed()
            .requires_replace()
            .validate(RoleArn),
            Attribute::bool(
                "deletion_protection",
                "EKS refuses to delete the cluster while this is on, and so does `terraform destroy` (before \
                 touching anything): turn it off and apply first. Changes in place.",
            )
            .default(Value::Bool(false)),
            Attribute::bool(
                "zonal_shift",
                "Let Amazon Application Recovery Controller shift traffic away from an impaired zone (ARC zonal \
                 shift and zonal autoshift). Changes in place.",
            )
            .default(Value::Bool(false)),
            Attribute::single_nested(
                "auto_mode",
                vec![
                    Attribute::bool(
                        "enabled",
                        "EKS Auto Mode on or off (changes in place; off keeps Auto Mode's node role until destroy).",
                    )
                    .required(),
                    Attribute::typed(
                        "node_pools",
                        Type::list(Type::String),
                        "Built-in node pools: `general-purpose` and/or `system`; `[]` for only your own NodePools.",
                    )
                    .default(Value::List(
                        AUTO_MODE_NODE_POOLS.iter().map(|p| Value::string(*p)).collect(),
                    ))
                    .validate(AutoModeNodePools),
                ],
                "EKS Auto Mode: EKS runs the nodes (compute), EBS volumes (block storage) and load balancers \
                 together, as EKS requires. The resource makes Auto Mode's node role (`auto_mode_node_role_arn`; \
                 EKS gives it an access entry) and, when it made the cluster role, gives that role the policies \
                 Auto Mode needs. Enabled at create, EKS installs no self-managed add-ons. Kubernetes 1.29 or later; \
                 node groups may run beside it.",
            )
            .optional(),
            Attribute::bool(
                "force_update_version",
                "Node group version upgrades proceed even when pod disruption budgets keep pods from draining.",
            )
            .default(Value::Bool(false)),
            Attribute::string(
                "service_ipv4_cidr",
                "CIDR Kubernetes assigns service IPs from: within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, \
                 /12 to /24, not overlapping the VPC. Unset, EKS picks 10.100.0.0/16 or 172.20.0.0/16. \
                 Changing it replaces the cluster.",
            )
            .optional()
            .computed()
            .requires_replace()
            .validate(ServiceCidr),
            Attribute::string(
                "assume_role_arn",
                "Role to assume, with the provider's credentials, for every call for this cluster: the cluster, its \
                 network and its IAM roles then live in that role's account, so one provider block serves a fleet \
                 across accounts. A role in another account than before is refused; replace the resource to move it.",
            )
            .optional()
            .validate(RoleArn),
            // Not marked sensitive: an external id is not a secret (IAM: it guards against the
            // confused deputy problem), and a sensitive attribute would make every output of the
            // whole resource need `sensitive = true`.
            Attribute::string(
                "external_id",
                "External id the trust policy of `assume_role_arn` requires.",
            )
            .optional(),
            Attribute::bool(
                "oidc_provider",
                "Create the IAM OIDC identity provider for the cluster's issuer, so IAM roles for service \
                 accounts (IRSA) can trust it; deleted with the cluster.",
            )
            .default(Value::Bool(true)),
            Attribute::typed(
                "pod_identity_associations",
                Type::map(Type::String),
                "EKS Pod Identity: `\"NAMESPACE/SERVICE_ACCOUNT\"` to the IAM role ARN its pods get (the role must \
                 trust `pods.eks.amazonaws.com`). Installs the `eks-pod-identity-agent` add-on when `addons` does \
                 not list it. A role change updates the association in place.",
            )
            .optional()
            .validate(PodIdentityAssociations),
            Attribute::single_nested(
                "karpenter",
                karpenter_attributes(),
                "What Karpenter (v1) needs from AWS before its Helm chart is installed, as Karpenter's \
                 getting-started CloudFormation template makes it: the controller's IAM role (inline \
                 `KarpenterControllerPolicy`, trusted by `pods.eks.amazonaws.com`) and its EKS Pod Identity \
                 association with `namespace`/`service_account` (installs `eks-pod-identity-agent` when `addons` \
                 does not list it); the node role (`AmazonEKSWorkerNodePolicy`, `AmazonEKS_CNI_Policy`, \
                 `AmazonEC2ContainerRegistryPullOnly`, `AmazonSSMManagedInstanceCore`) with an `EC2_LINUX` access \
                 entry and an instance profile; the interruption queue (SQS, named after the cluster, SSE on) and \
                 EventBridge rules sending it spot interruption warnings, rebalance recommendations, instance state \
                 changes and AWS Health events; and `karpenter.sh/discovery = NAME` tags on the private subnets \
                 and the cluster security group. Computed: `queue_name`, `node_role_name`, \
                 `controller_role_arn` (and what else was made). Disabling or removing it deletes them in place; \
                 destroy deletes them with the cluster.",
            )
            .optional(),
            Attribute::single_nested(
                "gitops_hub",
                gitops_hub_attributes(),
                "This cluster is a GitOps hub running Argo CD: the resource makes Argo CD's management role \
                 `NAME-REGION-argocd-hub` (trusted by `pods.eks.amazonaws.com`, inline policy allowing \
                 `sts:AssumeRole` and `sts:TagSession`, so Argo CD can assume the edges' deploy roles) and an EKS \
                 Pod Identity association for each of `service_accounts` in `namespace` (installs \
                 `eks-pod-identity-agent` when `addons` does not list it). Output: `gitops_hub_role_arn`. Removing it \
                 deletes them in place.",
            )
            .optional(),
            Attribute::string(
                "gitops_hub_role_arn",
                "On a hub (`gitops_hub` set): its Argo CD management role, computed. On an edge: set it to the hub's \
                 `gitops_hub_role_arn`; the resource makes the deploy role `NAME-REGION-gitops`, trusted by that role \
                 (`sts:AssumeRole`, `sts:TagSession`), with an access entry holding `gitops_access_policy`. Output: \
                 `gitops_role_arn`, the role Argo CD's cluster Secret names.",
            )
            .optional()
            .computed()
            .validate(RoleArn),
            Attribute::string(
                "gitops_access_policy",
                "EKS access policy of the GitOps deploy role (or `gitops_capability_role_arn`), cluster-wide. \
                 Default: `arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`.",
            )
            .optional(),
            Attribute::string(
                "gitops_capability_role_arn",
                "The IAM role of a managed Argo CD (EKS Capability) on the hub: the resource gives it an access entry \
                 here with `gitops_access_policy`, instead of a deploy role.",
            )
            .optional()
            .validate(RoleArn),
            Attribute::typed("tags", Type::map(Type::String), "Tags for every object the resource creates.")
                .optional()
                .validate(Tags),
            Attribute::typed("tags_all", Type::map(Type::String), "The provider's `default_tags` merged with `tags`.").computed(),
            computed("id", "`REGION/NAME`, also the import id."),
            computed("arn", "ARN of the cluster."),
            computed("endpoint", "URL of the Kubernetes API."),
            computed("certificate_authority_data", "Base64 certificate of the cluster's certificate authority."),
            computed("oidc_issuer_url", "OIDC issuer URL of the cluster (for IAM roles for service accounts)."),
            computed("platform_version", "EKS platform version."),
            computed(
                "status",
                "Status of the stack: `ACTIVE`; `CREATING` after a create that failed part-way (the next apply, once \
                 the resource is untainted, continues from what exists); `NETWORK_DRIFT` when refresh found a subnet, \
                 route table, gateway or NAT gateway gone (repaired in place); `DELETED` when the cluster or its VPC \
                 is gone (plans a replacement).",
            )
            ,
            computed_list(
                "private_route_table_ids",
                "Route tables of the private subnets (for peering routes). In an existing VPC, the table each \
                 subnet is associated with, else the VPC's main route table, each once.",
            ),
            computed_list("public_route_table_ids", "Route table(s) of the public subnets."),
            computed("cluster_security_group_id", "Security group EKS made for the cluster."),
            computed("kubeconfig", "A kubeconfig for the cluster using `aws eks get-token` (exec-based, holds no secret)."),
            computed("oidc_provider_arn", "ARN of the IAM OIDC identity provider (with `oidc_provider`)."),
            computed(
                "gitops_role_arn",
                "The edge's GitOps deploy role (with `gitops_hub_role_arn` on an edge): `role_arn` of \
                 `fleet_argocd_cluster`.",
            ),
            computed(
                "auto_mode_node_role_arn",
                "IAM role of EKS Auto Mode's nodes, made by the resource once `auto_mode` is enabled.",
            ),
            Attribute::typed(
                "pod_identity_association_ids",
                Type::map(Type::String),
                "EKS's association id of each `pod_identity_associations` entry.",
            )
            .computed(),
            computed_list(
                "implied_addons",
                "Add-ons installed because the configuration needs them without listing them \
                 (`eks-pod-identity-agent` for pod identity); removed when no longer needed.",
            ),
            computed("update_kubeconfig_command", "The `aws eks update-kubeconfig` command for this cluster."),
            computed("internet_gateway_id", "Internet gateway the resource created (null in an existing VPC)."),
            computed_list("nat_gateway_ids", "NAT gateways the resource created."),
            computed_list("eip_allocation_ids", "Elastic IPs of the NAT gateways."),
            computed("api_security_group_id", "Security group admitting `api_allowed_cidrs` to the API on 443."),
            computed_list("created_iam_role_names", "IAM roles this resource created (and deletes on destroy)."),
            Attribute::typed(
                "node_group_names",
                Type::map(Type::String),
                "EKS's name of each node group, by key: the key, or `KEY-XXXXXXXX` once the group was replaced.",
            )
            .computed(),
            Attribute::typed(
                "node_group_versions",
                Type::map(Type::String),
                "Kubernetes version of each node group as EKS reports it; one behind `kubernetes_version` is upgraded.",
            )
            .computed(),
            computed(
                "stack_id",
                "Identifies what this resource made (the `eksfleet:stack` tag), so an interrupted create takes back \
                 exactly its own objects, never a same-name stack's of another state.",
            ),
            computed_list(
                "retired_node_group_names",
                "Node groups replaced by new ones and not yet deleted (deleted by the next apply or destroy).",
            ),
            Attribute::typed(
                "node_group_launch_template_ids",
                Type::map(Type::String),
                "The launch template the resource made for each node group, by key (deleted with the group).",
            )
            .computed(),
            Attribute::typed(
                "node_group_launch_template_versions",
                Type::map(Type::String),
                "The version of its launch template each node group runs, by key.",
            )
            .computed(),
        ],
    )
    .with_block("timeouts", timeouts_block())
}
