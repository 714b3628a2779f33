//! The resource's state as Rust data (attribute names are the field names).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::aws::ec2_launch_template::{LaunchTemplateSpec, VolumeSpec};
use crate::aws::eks::{MaxUnavailable, NodegroupSpec, TaintSpec};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterModel {
    // ----- arguments -----
    pub name: String,
    pub region: Option<String>,
    pub kubernetes_version: Option<String>,
    pub support_type: Option<String>,
    /// Unset when the cluster goes into an existing VPC (`vpc_id`): the
    /// network is then the user's, and nothing of it is created or deleted.
    pub vpc_cidr: Option<String>,
    pub availability_zone_count: Option<f64>,
    pub availability_zones: Option<Vec<String>>,
    pub nat_gateway_mode: Option<String>,
    pub endpoint_private_access: Option<bool>,
    pub endpoint_public_access: Option<bool>,
    pub public_access_cidrs: Option<BTreeSet<String>>,
    pub api_allowed_cidrs: Option<BTreeSet<String>>,
    pub node_groups: Option<BTreeMap<String, NodeGroupModel>>,
    pub addons: Option<BTreeMap<String, AddonModel>>,
    pub access_entries: Option<BTreeMap<String, AccessEntryModel>>,
    pub secrets_kms_key_arn: Option<String>,
    pub enabled_log_types: Option<BTreeSet<String>>,
    /// Set: the resource manages the control plane's log group (0 in state:
    /// the group has no retention policy).
    pub log_retention_days: Option<f64>,
    pub cluster_role_arn: Option<String>,
    pub node_role_arn: Option<String>,
    pub assume_role_arn: Option<String>,
    pub external_id: Option<String>,
    pub deletion_protection: Option<bool>,
    pub zonal_shift: Option<bool>,
    pub force_update_version: Option<bool>,
    pub service_ipv4_cidr: Option<String>,
    pub oidc_provider: Option<bool>,
    /// `"NAMESPACE/SERVICE_ACCOUNT"` → IAM role ARN (EKS Pod Identity).
    pub pod_identity_associations: Option<BTreeMap<String, String>>,
    pub auto_mode: Option<AutoModeModel>,
    /// Karpenter's prerequisites (its arguments and, computed, what was made).
    pub karpenter: Option<KarpenterModel>,
    /// This cluster is a GitOps hub: Argo CD's management role and its
    /// service accounts' associations.
    pub gitops_hub: Option<GitopsHubModel>,
    /// On a hub: its management role (computed). On an edge: the hub's,
    /// which the edge's deploy role trusts.
    pub gitops_hub_role_arn: Option<String>,
    /// The access policy of the edge's deploy role (or capability role).
    pub gitops_access_policy: Option<String>,
    /// The managed Argo CD capability's role, given an access entry here.
    /// In state: the role whose entry exists.
    pub gitops_capability_role_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub timeouts: Option<ClusterTimeouts>,

    // ----- computed -----
    pub id: Option<String>,
    pub tags_all: Option<BTreeMap<String, String>>,
    pub arn: Option<String>,
    pub endpoint: Option<String>,
    pub certificate_authority_data: Option<String>,
    pub oidc_issuer_url: Option<String>,
    pub platform_version: Option<String>,
    pub status: Option<String>,
    /// The edge's deploy role, trusted by `gitops_hub_role_arn` (computed).
    pub gitops_role_arn: Option<String>,
    pub vpc_id: Option<String>,
    pub private_subnet_ids: Option<Vec<String>>,
    pub public_subnet_ids: Option<Vec<String>>,
    pub private_route_table_ids: Option<Vec<String>>,
    pub public_route_table_ids: Option<Vec<String>>,
    pub cluster_security_group_id: Option<String>,
    pub kubeconfig: Option<String>,
    pub update_kubeconfig_command: Option<String>,
    pub oidc_provider_arn: Option<String>,
    /// The role of EKS Auto Mode's nodes (made here), once Auto Mode was on.
    pub auto_mode_node_role_arn: Option<String>,
    /// Association id of each `pod_identity_associations` key.
    pub pod_identity_association_ids: Option<BTreeMap<String, String>>,
    /// Add-ons installed because the configuration needs them without listing them.
    pub implied_addons: Option<Vec<String>>,
    // What this resource created and must delete, beyond the ids above; kept
    // so a failed create leaves an exact record (nothing is lost from state).
    pub internet_gateway_id: Option<String>,
    pub nat_gateway_ids: Option<Vec<String>>,
    pub eip_allocation_ids: Option<Vec<String>>,
    pub api_security_group_id: Option<String>,
    pub created_iam_role_names: Option<Vec<String>>,
    /// EKS's name of each node group, by key: the key itself at first, a
    /// derived name once the group has been replaced (create before destroy).
    pub node_group_names: Option<BTreeMap<String, String>>,
    /// Kubernetes version of each node group, by key, as EKS reports it.
    pub node_group_versions: Option<BTreeMap<String, String>>,
    /// Node groups replaced but not yet deleted (EKS names).
    pub retired_node_group_names: Option<Vec<String>>,
    /// The launch template this resource made for each node group, by key.
    pub node_group_launch_template_ids: Option<BTreeMap<String, String>>,
    /// The version of it the node group was last moved to, by key.
    pub node_group_launch_template_versions: Option<BTreeMap<String, String>>,
    /// The value of the `eksfleet:stack` tag on everything this instance made.
    pub stack_id: Option<String>,
}

/// `auto_mode`: EKS Auto Mode's compute, block storage and load balancing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AutoModeModel {
    pub enabled: Option<bool>,
    pub node_pools: Option<Vec<String>>,
}

/// The Auto Mode node pools EKS offers.
pub const AUTO_MODE_NODE_POOLS: [&str; 2] = ["general-purpose", "system"];

/// The oldest Kubernetes version EKS Auto Mode runs on
/// (https://docs.aws.amazon.com/eks/latest/userguide/automode.html).
pub const AUTO_MODE_OLDEST_VERSION: (u32, u32) = (1, 29);

impl ClusterModel {
    /// Whether the configuration (or state) has EKS Auto Mode on.
    pub fn auto_mode_enabled(&self) -> bool {
        self.auto_mode.as_ref().and_then(|a| a.enabled).unwrap_or(false)
    }
}

/// `karpenter`: what Karpenter needs from AWS before its Helm chart goes in.
/// The computed fields are also the record of what exists, each set the
/// moment its object does, so a failed apply leaves an exact inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KarpenterModel {
    pub enabled: Option<bool>,
    pub namespace: Option<String>,
    pub service_account: Option<String>,
    // ----- computed -----
    pub queue_name: Option<String>,
    pub node_role_name: Option<String>,
    pub controller_role_arn: Option<String>,
    pub instance_profile_name: Option<String>,
    pub pod_identity_association_id: Option<String>,
    pub event_rule_names: Option<Vec<String>>,
}

pub const KARPENTER_NAMESPACE: &str = "kube-system";
pub const KARPENTER_SERVICE_ACCOUNT: &str = "karpenter";

impl KarpenterModel {
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(KARPENTER_NAMESPACE)
    }

    pub fn service_account(&self) -> &str {
        self.service_account.as_deref().unwrap_or(KARPENTER_SERVICE_ACCOUNT)
    }

    /// Only the arguments, the computed record cleared.
    pub fn arguments(&self) -> Self {
        Self {
            enabled: self.enabled,
            namespace: self.namespace.clone(),
            service_account: self.service_account.clone(),
            ..Self::default()
        }
    }

    /// Whether anything is recorded as made.
    pub fn records_anything(&self) -> bool {
        self.queue_name.is_some()
            || self.node_role_name.is_some()
            || self.controller_role_arn.is_some()
            || self.instance_profile_name.is_some()
            || self.pod_identity_association_id.is_some()
            || self.event_rule_names.as_ref().is_some_and(|r| !r.is_empty())
    }
}

/// `gitops_hub`: Argo CD runs here and deploys to edge clusters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GitopsHubModel {
    pub namespace: Option<String>,
    pub service_accounts: Option<Vec<String>>,
    // ----- computed -----
    /// Service account → its EKS Pod Identity association.
    pub pod_identity_association_ids: Option<BTreeMap<String, String>>,
}

pub const GITOPS_NAMESPACE: &str = "argocd";
/// The Argo CD components that call cluster APIs.
pub const GITOPS_SERVICE_ACCOUNTS: [&str; 3] = [
    "argocd-application-controller",
    "argocd-applicationset-controller",
    "argocd-server",
];
/// The policy that makes a principal cluster admin.
pub const CLUSTER_ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

impl GitopsHubModel {
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(GITOPS_NAMESPACE)
    }

    pub fn service_accounts(&self) -> Vec<String> {
        match &self.service_accounts {
            Some(accounts) => accounts.clone(),
            None => GITOPS_SERVICE_ACCOUNTS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl ClusterModel {
    /// Whether this cluster is a GitOps hub.
    pub fn is_gitops_hub(&self) -> bool {
        self.gitops_hub.is_some()
    }

    /// The hub role an edge's deploy role trusts: `gitops_hub_role_arn`
    /// given on a cluster that is not itself a hub.
    pub fn gitops_edge_of(&self) -> Option<&str> {
        self.gitops_hub_role_arn.as_deref().filter(|_| !self.is_gitops_hub())
    }

    pub fn gitops_access_policy(&self) -> &str {
        self.gitops_access_policy.as_deref().unwrap_or(CLUSTER_ADMIN_POLICY)
    }

    /// Whether the configuration wants Karpenter's prerequisites.
    pub fn wants_karpenter(&self) -> bool {
        self.karpenter.as_ref().is_some_and(|k| k.enabled == Some(true))
    }
}

/// The `timeouts` block: an overall cap per operation (none by default) and
/// a budget per object kind, with terraform-provider-aws's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterTimeouts {
    pub create: Option<String>,
    pub update: Option<String>,
    pub delete: Option<String>,
    pub cluster_create: Option<String>,
    pub cluster_update: Option<String>,
    pub cluster_delete: Option<String>,
    pub node_group_create: Option<String>,
    pub node_group_update: Option<String>,
    pub node_group_delete: Option<String>,
    pub addon_create: Option<String>,
    pub addon_update: Option<String>,
    pub addon_delete: Option<String>,
    pub nat_gateway_create: Option<String>,
    pub nat_gateway_delete: Option<String>,
    pub network_delete: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeGroupModel {
    pub instance_types: Option<Vec<String>>,
    pub capacity_type: Option<String>,
    pub min_size: Option<f64>,
    pub max_size: Option<f64>,
    pub desired_size: Option<f64>,
    pub disk_size: Option<f64>,
    pub ami_type: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub taints: Option<Vec<TaintModel>>,
    pub enforce_desired_size: Option<bool>,
    pub update_config: Option<UpdateConfigModel>,
    pub node_repair: Option<bool>,
    pub ami_release_version: Option<String>,
    /// A subset of the cluster's zones; unset, all of them.
    pub availability_zones: Option<Vec<String>>,
    /// The root volume in the managed launch template (always set in a plan
    /// of a group on one; unset in state for a group made before templates).
    pub disk: Option<DiskModel>,
    pub imds_hop_limit: Option<f64>,
    pub user_data: Option<String>,
    /// The user's own launch template: none is made then.
    pub launch_template: Option<LaunchTemplateModel>,
}

/// `disk`: the nodes' root volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskModel {
    pub size: Option<f64>,
    #[serde(rename = "type")]
    pub volume_type: Option<String>,
    pub iops: Option<f64>,
    pub throughput: Option<f64>,
    pub encrypted: Option<bool>,
    pub kms_key_arn: Option<String>,
}

/// `launch_template`: the user's template and version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateModel {
    pub id: Option<String>,
    pub version: Option<String>,
}

/// Where a node group's nodes are launched from.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateUse {
    /// No launch template (groups made before the provider managed them).
    None,
    /// One this resource makes and manages.
    Managed,
    /// The user's, by id.
    User(String),
}

/// `update_config`: one of a node count or a percentage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateConfigModel {
    pub max_unavailable: Option<f64>,
    pub max_unavailable_percentage: Option<f64>,
}

impl UpdateConfigModel {
    fn spec(&self) -> Option<MaxUnavailable> {
        match (self.max_unavailable, self.max_unavailable_percentage) {
            (Some(n), _) => Some(MaxUnavailable::Nodes(n as i32)),
            (None, Some(p)) => Some(MaxUnavailable::Percentage(p as i32)),
            (None, None) => None,
        }
    }

    fn from_spec(max: MaxUnavailable) -> Self {
        match max {
            MaxUnavailable::Nodes(n) => Self {
                max_unavailable: Some(n as f64),
                max_unavailable_percentage: None,
            },
            MaxUnavailable::Percentage(p) => Self {
                max_unavailable: None,
                max_unavailable_percentage: Some(p as f64),
            },
        }
    }
}

/// EKS's `updateConfig` when none is given: one node at a time.
pub const EKS_DEFAULT_MAX_UNAVAILABLE: MaxUnavailable = MaxUnavailable::Nodes(1);

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaintModel {
    pub key: String,
    pub value: Option<String>,
    pub effect: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddonModel {
    pub version: Option<String>,
    pub configuration_values: Option<String>,
    pub service_account_role_arn: Option<String>,
    pub pod_identity_role_arn: Option<String>,
    pub create_role: Option<bool>,
    pub resolve_conflicts: Option<String>,
    pub preserve_on_delete: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
    // ----- computed -----
    pub created_role_arn: Option<String>,
}

/// The `version` that follows EKS's newest compatible version.
pub const LATEST: &str = "latest";

/// The add-on EKS Pod Identity needs on the cluster.
pub const POD_IDENTITY_AGENT: &str = "eks-pod-identity-agent";

impl AddonModel {
    /// The role pod identity associates with the add-on's service accounts:
    /// the user's, or the one this resource created for it.
    pub fn pod_identity_role(&self) -> Option<&str> {
        self.pod_identity_role_arn
            .as_deref()
            .or(if self.create_role == Some(true) {
                self.created_role_arn.as_deref()
            } else {
                None
            })
    }

    /// Whether the add-on's service accounts get their role through EKS Pod Identity.
    pub fn uses_pod_identity(&self) -> bool {
        self.pod_identity_role_arn.is_some() || self.create_role == Some(true)
    }

    pub fn resolve_conflicts(&self) -> &str {
        self.resolve_conflicts.as_deref().unwrap_or("OVERWRITE")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessEntryModel {
    pub kubernetes_groups: Option<BTreeSet<String>>,
    pub policies: Option<BTreeMap<String, PolicyModel>>,
    /// `STANDARD`, or one of the node types EKS grants node permissions to.
    #[serde(rename = "type")]
    pub entry_type: Option<String>,
    pub user_name: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl ClusterModel {
    /// The role every call for this cluster goes through, if it is in another account.
    pub fn role(&self) -> Option<crate::aws::Role<'_>> {
        self.assume_role_arn.as_deref().map(|arn| crate::aws::Role {
            arn,
            external_id: self.external_id.as_deref(),
        })
    }
}

impl AccessEntryModel {
    pub fn entry_type(&self) -> &str {
        self.entry_type.as_deref().unwrap_or(STANDARD_ENTRY)
    }
}

/// The access entry type for people and workloads; the others are for nodes.
pub const STANDARD_ENTRY: &str = "STANDARD";

/// Every access entry type EKS takes (CreateAccessEntry `type`; `EC2` is Auto Mode's, made by EKS).
pub const ACCESS_ENTRY_TYPES: &[&str] = &["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyModel {
    pub scope: Option<String>,
    pub namespaces: Option<BTreeSet<String>>,
}

impl PolicyModel {
    pub fn scope(&self) -> crate::aws::eks::PolicyScope {
        crate::aws::eks::PolicyScope {
            scope: self.scope.clone().unwrap_or_else(|| "cluster".into()),
            namespaces: self.namespaces.iter().flatten().cloned().collect(),
        }
    }
}

/// Two JSON documents with the same meaning (add-on configuration values).
pub fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

pub const DEFAULT_INSTANCE_TYPE: &str = "m6i.large";
pub const DEFAULT_AMI_TYPE: &str = "AL2023_x86_64_STANDARD";
pub const DEFAULT_DISK_SIZE: f64 = 20.0;
pub const DEFAULT_VOLUME_TYPE: &str = "gp3";
pub const DEFAULT_IMDS_HOP_LIMIT: f64 = 1.0;

impl NodeGroupModel {
    /// The private subnets of the group's zones (all of the cluster's when
    /// unset); `zones[i]` is the zone of `subnets[i]`.
    pub fn subnets(&self, subnet_zones: &[(String, String)]) -> Vec<String> {
        subnet_zones
            .iter()
            .filter(|(_, zone)| {
                self.availability_zones
                    .as_ref()
                    .is_none_or(|wanted| wanted.contains(zone))
            })
            .map(|(subnet, _)| subnet.clone())
            .collect()
    }

    pub fn template_use(&self) -> TemplateUse {
        match (&self.launch_template, &self.disk) {
            (Some(lt), _) => TemplateUse::User(lt.id.clone().unwrap_or_default()),
            (None, Some(_)) => TemplateUse::Managed,
            (None, None) => TemplateUse::None,
        }
    }

    /// The managed template holds the instance type when there is exactly
    /// one (a template holds one); several stay on the node group.
    pub fn instance_type_in_template(&self) -> bool {
        self.template_use() == TemplateUse::Managed && self.instance_types.as_ref().is_none_or(|t| t.len() == 1)
    }

    fn instance_types(&self) -> Vec<String> {
        self.instance_types
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_INSTANCE_TYPE.into()])
    }

    /// The managed launch template's content (`None` without one).
    pub fn launch_template_spec(&self, resource_tags: &BTreeMap<String, String>) -> Option<LaunchTemplateSpec> {
        let disk = self
            .disk
            .as_ref()
            .filter(|_| self.template_use() == TemplateUse::Managed)?;
        let ami = self.ami_type.as_deref().unwrap_or(DEFAULT_AMI_TYPE);
        // The volume the nodes' containers and images go on: Bottlerocket's
        // data volume is its second; Windows AMIs boot from /dev/sda1.
        let device_name = if ami.starts_with("BOTTLEROCKET") {
            "/dev/xvdb"
        } else if ami.starts_with("WINDOWS") {
            "/dev/sda1"
        } else {
            "/dev/xvda"
        };
        Some(LaunchTemplateSpec {
            instance_type: self
                .instance_type_in_template()
                .then(|| self.instance_types().into_iter().next())
                .flatten(),
            volume: VolumeSpec {
                device_name: device_name.to_string(),
                size: disk.size.unwrap_or(DEFAULT_DISK_SIZE) as i32,
                volume_type: disk.volume_type.clone().unwrap_or_else(|| DEFAULT_VOLUME_TYPE.into()),
                iops: disk.iops.map(|n| n as i32),
                throughput: disk.throughput.map(|n| n as i32),
                encrypted: disk.encrypted != Some(false),
                kms_key_arn: disk.kms_key_arn.clone(),
            },
            imds_hop_limit: self.imds_hop_limit.unwrap_or(DEFAULT_IMDS_HOP_LIMIT) as i32,
            user_data: self.user_data.clone(),
            resource_tags: resource_tags.clone(),
        })
    }

    /// Whether the managed template needs a new version to go from `self` to `other`.
    pub fn template_changed(&self, other: &Self) -> bool {
        let tags = BTreeMap::new();
        self.launch_template_spec(&tags) != other.launch_template_spec(&tags)
    }

    /// The node group as EKS is asked for it (defaults already planned);
    /// the caller adds the launch template reference.
    pub fn spec(&self, name: &str) -> NodegroupSpec {
        let mut taints: Vec<TaintSpec> = self
            .taints
            .iter()
            .flatten()
            .map(|t| TaintSpec {
                key: t.key.clone(),
                value: t.value.clone(),
                effect: t.effect.clone(),
            })
            .collect();
        taints.sort();
        NodegroupSpec {
            name: name.to_string(),
            instance_types: if self.instance_type_in_template() {
                Vec::new()
            } else {
                self.instance_types()
            },
            capacity_type: self.capacity_type.clone().unwrap_or_else(|| "ON_DEMAND".into()),
            min_size: self.min_size.unwrap_or(1.0) as i32,
            max_size: self.max_size.unwrap_or(3.0) as i32,
            desired_size: self.desired_size.unwrap_or(2.0) as i32,
            disk_size: (self.template_use() == TemplateUse::None)
                .then(|| self.disk_size.unwrap_or(DEFAULT_DISK_SIZE) as i32),
            ami_type: self.ami_type.clone(),
            labels: self.labels.clone().unwrap_or_default(),
            taints,
            max_unavailable: self.update_config.as_ref().and_then(UpdateConfigModel::spec),
            node_repair: self.node_repair == Some(true),
            release_version: self.ami_release_version.clone(),
            launch_template: None,
        }
    }

    /// What AWS reports, in the shape of the configuration: values the
    /// configuration left unset stay unset (AWS defaults aren't drift).
    pub fn refreshed(&self, actual: &NodegroupSpec) -> Self {
        Self {
            min_size: Some(actual.min_size as f64),
            max_size: Some(actual.max_size as f64),
            // An autoscaler owns the desired size once the group runs: what
            // it set is not drift unless the configuration enforces its own.
            desired_size: if self.enforce_desired_size == Some(true) || self.desired_size.is_none() {
                Some(actual.desired_size as f64)
            } else {
                self.desired_size
            },
            // Unconfigured, the update config is EKS's to choose (one node by default).
            update_config: self
                .update_config
                .as_ref()
                .and(actual.max_unavailable.map(UpdateConfigModel::from_spec)),
            node_repair: Some(actual.node_repair),
            // The user's template moved to another version out of band is drift.
            launch_template: match (&self.launch_template, &actual.launch_template) {
                (Some(mine), Some(live)) if !live.version.is_empty() => Some(LaunchTemplateModel {
                    id: mine.id.clone(),
                    version: Some(live.version.clone()),
                }),
                _ => self.launch_template.clone(),
            },
            ami_release_version: actual
                .release_version
                .clone()
                .or_else(|| self.ami_release_version.clone()),
            labels: if self.labels.is_none() && actual.labels.is_empty() {
                None
            } else {
                Some(actual.labels.clone())
            },
            taints: if self.taints.is_none() && actual.taints.is_empty() {
                None
            } else if self.spec("").taints == actual.taints {
                // Same taints: keep the order the configuration wrote them in.
                self.taints.clone()
            } else {
                Some(
                    actual
                        .taints
                        .iter()
                        .map(|t| TaintModel {
                            key: t.key.clone(),
                            value: t.value.clone(),
                            effect: t.effect.clone(),
                        })
                        .collect(),
                )
            },
            ..self.clone()
        }
    }

    /// A node group as AWS reports it, every attribute set (for import).
    pub fn from_spec(spec: &NodegroupSpec) -> Self {
        Self {
            instance_types: Some(spec.instance_types.clone()),
            capacity_type: Some(spec.capacity_type.clone()),
            disk_size: spec.disk_size.map(f64::from),
            // A group found with a template uses one this resource did not make.
            launch_template: spec.launch_template.as_ref().map(|t| LaunchTemplateModel {
                id: Some(t.id.clone()),
                version: Some(t.version.clone()),
            }),
            ami_type: spec.ami_type.clone().or_else(|| Some(DEFAULT_AMI_TYPE.to_string())),
            enforce_desired_size: Some(false),
            // EKS's default is what an unset update_config means.
            update_config: spec
                .max_unavailable
                .filter(|max| *max != EKS_DEFAULT_MAX_UNAVAILABLE)
                .map(UpdateConfigModel::from_spec),
            ..Self::default().refreshed(spec)
        }
    }

    /// Changes EKS can't make to a live node group (a new group replaces it,
    /// created and ACTIVE before the old one is deleted).
    /// A managed template's content (disk, instance type when it holds it,
    /// user data, IMDS) and the user's template version roll the nodes instead.
    pub fn needs_new_nodegroup(&self, other: &Self) -> bool {
        let (before, after) = (self.template_use(), other.template_use());
        let types_roll = self.instance_type_in_template() && other.instance_type_in_template();
        // EKS keeps the launch template a group was made with; it can move
        // only to another version of it.
        before != after
            || (self.instance_types != other.instance_types && !types_roll)
            || (before == TemplateUse::None && self.disk_size != other.disk_size)
            || self.capacity_type != other.capacity_type
            || self.ami_type != other.ami_type
            // EKS cannot move a node group to other subnets.
            || self.availability_zones != other.availability_zones
    }
}

impl ClusterModel {
    /// Whether the configuration uses EKS Pod Identity anywhere, which needs its agent.
    pub fn uses_pod_identity(&self) -> bool {
        self.pod_identity_associations.as_ref().is_some_and(|a| !a.is_empty())
            || self.wants_karpenter()
            || self.is_gitops_hub()
            || self.addons.iter().flatten().any(|(_, a)| a.uses_pod_identity())
    }

    /// The add-ons to install though the configuration does not list them.
    pub fn wanted_implied_addons(&self) -> Vec<String> {
        let listed = self.addons.as_ref().is_some_and(|a| a.contains_key(POD_IDENTITY_AGENT));
        if self.uses_pod_identity() && !listed {
            vec![POD_IDENTITY_AGENT.to_string()]
        } else {
            Vec::new()
        }
    }

    /// IRSA's OIDC provider is on unless turned off.
    pub fn wants_oidc_provider(&self) -> bool {
        self.oidc_provider != Some(false)
    }

    /// `STANDARD` unless `EXTENDED` is configured.
    pub fn support_type(&self) -> &str {
        self.support_type.as_deref().unwrap_or("STANDARD")
    }

    pub fn nat_mode(&self) -> &str {
        if self.existing_network() {
            return "none";
        }
        self.nat_gateway_mode.as_deref().unwrap_or("single")
    }

    /// Whether the cluster runs in a VPC it did not create (`vpc_id` given,
    /// no `vpc_cidr`): its VPC, subnets and route tables are then the
    /// user's, only tagged for the cluster, never created or deleted.
    pub fn existing_network(&self) -> bool {
        self.vpc_cidr.is_none()
    }

    pub fn zone_count(&self) -> usize {
        match &self.availability_zones {
            Some(zones) if !zones.is_empty() => zones.len(),
            _ => self.availability_zone_count.unwrap_or(3.0) as usize,
        }
    }
}
