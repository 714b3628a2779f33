//! The manifest, `eksgen.toml`: the one file users edit. Environments hold
//! defaults, the hub and each edge region may override them, and everything
//! the tree needs is resolved from it (env → hub/region inheritance).

pub mod ci;
pub mod cidr;
pub mod edit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

pub const FILE_NAME: &str = "eksgen.toml";
pub const DEFAULT_CIDR_POOL: &str = "10.0.0.0/8";
pub const DEFAULT_VPC_PREFIX_LENGTH: u8 = 16;
/// A cluster's VPC is split into 3 private and 3 public subnets; below /22 the
/// public ones would be smaller than AWS's minimum /28.
pub const SMALLEST_VPC_PREFIX_LENGTH: u8 = 22;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u32,
    /// How the tree is laid out for Terragrunt: a folder per unit (the
    /// default), or one `terragrunt.stack.hcl` per environment.
    #[serde(default, skip_serializing_if = "Layout::is_units")]
    pub layout: Layout,
    /// Where the units' modules come from: a local path (relative to the
    /// manifest's folder) or a remote source such as `git::https://…//modules?ref=v0.1.0`.
    pub modules_source: String,
    pub cidr_pool: String,
    #[serde(default = "default_prefix_length")]
    pub vpc_prefix_length: u8,
    #[serde(default)]
    pub state: Option<StateBackend>,
    /// The CI pipelines eksgen keeps next to the tree (`eksgen ci`); unset: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<ci::Ci>,
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
}

/// The Terragrunt tree eksgen writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// A folder per unit: `environments/<env>/regions/<region>/<kind>/terragrunt.hcl`
    /// reading the region's `region.hcl`.
    #[default]
    Units,
    /// Terragrunt Stacks: `environments/<env>/terragrunt.stack.hcl` with a
    /// `unit` block per region and kind, its `values` the region's settings;
    /// the units' sources are `units/<kind>/terragrunt.hcl`.
    Stack,
}

impl Layout {
    pub fn is_units(&self) -> bool {
        *self == Layout::Units
    }

    pub fn name(self) -> &'static str {
        match self {
            Layout::Units => "units",
            Layout::Stack => "stack",
        }
    }
}

fn default_prefix_length() -> u8 {
    DEFAULT_VPC_PREFIX_LENGTH
}

/// Remote state in S3 (with S3-native locking); without it, state files stay
/// under the tree's `.terraform-state/`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateBackend {
    pub bucket: String,
    pub region: String,
    /// Path-style bucket addressing, for S3-compatible stores (MinIO,
    /// LocalStack, a local moto) whose endpoint (`AWS_ENDPOINT_URL_S3`) has
    /// no per-bucket host names. AWS itself needs none.
    #[serde(default)]
    pub use_path_style: bool,
}

/// The settings a region inherits from its environment. Serde's `flatten`
/// cannot be combined with `deny_unknown_fields` (which catches typos), so the
/// three tables that carry them list the fields themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub kubernetes_version: Option<String>,
    pub account_id: Option<String>,
    pub node_groups: Option<BTreeMap<String, NodeGroup>>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub hub: Hub,
    /// Role the units assume in each account (`arn:aws:iam::<account_id>:role/<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_role_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_groups: Option<BTreeMap<String, NodeGroup>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Argo CD on the hub managing the edges; unset: no GitOps units or inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitops: Option<Gitops>,
    #[serde(default)]
    pub regions: BTreeMap<String, Region>,
}

pub const DEFAULT_GITOPS_NAMESPACE: &str = "argocd";

/// `[environments.<env>.gitops]`: the hub runs Argo CD (or a managed one runs
/// for it) and every edge is registered with it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Gitops {
    #[serde(default)]
    pub mode: GitopsMode,
    /// Namespace Argo CD runs in on the hub (its cluster Secrets go there).
    #[serde(default = "default_gitops_namespace")]
    pub namespace: String,
    /// The managed Argo CD's IAM role (mode = "capability" only): each edge
    /// gives it an access entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability_role_arn: Option<String>,
}

fn default_gitops_namespace() -> String {
    DEFAULT_GITOPS_NAMESPACE.to_string()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GitopsMode {
    /// Argo CD installed on the hub: the hub gets Argo CD's management role,
    /// each edge a deploy role that role may assume.
    #[default]
    SelfManaged,
    /// The managed Argo CD (EKS Capability): each edge gives its role an access entry.
    Capability,
}

impl GitopsMode {
    /// As the manifest, the modules and `fleet_argocd_cluster` spell it.
    pub fn name(self) -> &'static str {
        match self {
            GitopsMode::SelfManaged => "self-managed",
            GitopsMode::Capability => "capability",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Hub {
    pub region: String,
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_groups: Option<BTreeMap<String, NodeGroup>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_groups: Option<BTreeMap<String, NodeGroup>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A managed node group, as the cluster modules' `node_groups` variable takes
/// it; unset fields take the module's defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

macro_rules! settings_of {
    ($table:expr) => {
        Settings {
            kubernetes_version: $table.kubernetes_version.clone(),
            account_id: $table.account_id.clone(),
            node_groups: $table.node_groups.clone(),
            tags: $table.tags.clone(),
        }
    };
}

impl Environment {
    pub fn defaults(&self) -> Settings {
        settings_of!(self)
    }
}

impl Hub {
    pub fn overrides(&self) -> Settings {
        settings_of!(self)
    }
}

impl Region {
    pub fn new(cidr: Ipv4Net) -> Self {
        Region {
            cidr: cidr.to_string(),
            kubernetes_version: None,
            account_id: None,
            node_groups: None,
            tags: None,
        }
    }

    pub fn overrides(&self) -> Settings {
        settings_of!(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Hub,
    Edge,
}

/// One cluster with every setting resolved: what a `region.hcl` says.
#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub env: String,
    pub region: String,
    pub role: Role,
    pub name: String,
    pub cidr: Ipv4Net,
    /// None: the cluster gets the newest version EKS offers in standard
    /// support when it is created, and keeps it (no version is pinned that
    /// would age out of standard support).
    pub kubernetes_version: Option<String>,
    pub account_id: Option<String>,
    /// Role the unit's provider assumes, from the env's `deploy_role_name`.
    pub deploy_role_arn: Option<String>,
    pub node_groups: BTreeMap<String, NodeGroup>,
    pub tags: BTreeMap<String, String>,
}

impl Manifest {
    /// Reads and validates the manifest; errors carry line numbers or key paths.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).at(path)?;
        Manifest::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Manifest> {
        let manifest: Manifest = toml::from_str(text).map_err(|err| {
            let (line, column) = err.span().map(|span| line_column(text, span.start)).unwrap_or((1, 1));
            Error::ManifestSyntax {
                path: path.to_path_buf(),
                line,
                column,
                message: err.message().trim().replace('\n', " "),
            }
        })?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    /// Whether any environment has `gitops`: the templates every environment
    /// shares then carry its inputs (null where an environment has none).
    pub fn has_gitops(&self) -> bool {
        self.environments.values().any(|env| env.gitops.is_some())
    }

    pub fn pool(&self) -> Ipv4Net {
        // validate() has parsed it already.
        self.cidr_pool.parse().unwrap_or_else(|_| Ipv4Net::default())
    }

    pub fn env(&self, name: &str) -> Result<&Environment> {
        self.environments.get(name).ok_or_else(|| Error::EnvNotFound {
            env: name.to_string(),
            known: self.env_names(),
        })
    }

    /// The environment a command means: the one named, or the only one.
    pub fn pick_env(&self, name: Option<&str>) -> Result<String> {
        match name {
            Some(name) => self.env(name).map(|_| name.to_string()),
            None if self.environments.len() == 1 => Ok(self.environments.keys().next().cloned().unwrap_or_default()),
            None if self.environments.is_empty() => Err(Error::EnvNotFound {
                env: "(none)".into(),
                known: "no environments".into(),
            }),
            None => Err(Error::EnvAmbiguous {
                known: self.env_names(),
            }),
        }
    }

    fn env_names(&self) -> String {
        let names: Vec<&str> = self.environments.keys().map(String::as_str).collect();
        if names.is_empty() {
            "no environments".into()
        } else {
            names.join(", ")
        }
    }

    /// Every VPC in the manifest with a label saying whose it is.
    pub fn vpcs(&self) -> Vec<(Ipv4Net, String)> {
        self.clusters()
            .into_iter()
            .map(|c| (c.cidr, format!("{} {} of {}", c.role_name(), c.region, c.env)))
            .collect()
    }

    /// All clusters, resolved, sorted by env, then hub before edges, then region.
    pub fn clusters(&self) -> Vec<Cluster> {
        let mut clusters = Vec::new();
        for (env_name, env) in &self.environments {
            clusters.push(self.resolve(
                env_name,
                env,
                &env.hub.region,
                Role::Hub,
                &env.hub.cidr,
                env.hub.overrides(),
            ));
            for (region, entry) in &env.regions {
                clusters.push(self.resolve(env_name, env, region, Role::Edge, &entry.cidr, entry.overrides()));
            }
        }
        clusters
    }

    fn resolve(
        &self,
        env_name: &str,
        env: &Environment,
        region: &str,
        role: Role,
        cidr: &str,
        overrides: Settings,
    ) -> Cluster {
        let defaults = env.defaults();
        let account_id = overrides.account_id.or(defaults.account_id);
        // Tags merge key by key (a region adds or changes a few); node groups
        // are replaced as a whole, since merging two groups' fields would
        // make a group neither side wrote.
        let mut tags = BTreeMap::from([("Environment".to_string(), env_name.to_string())]);
        tags.extend(defaults.tags.unwrap_or_default());
        tags.extend(overrides.tags.unwrap_or_default());
        let deploy_role_arn = match (&env.deploy_role_name, &account_id) {
            (Some(role), Some(account)) => Some(format!("arn:aws:iam::{account}:role/{role}")),
            _ => None,
        };
        Cluster {
            env: env_name.to_string(),
            region: region.to_string(),
            role,
            name: match role {
                Role::Hub => format!("{env_name}-hub"),
                Role::Edge => format!("{env_name}-{region}"),
            },
            cidr: cidr.parse().unwrap_or_default(),
            kubernetes_version: overrides.kubernetes_version.or(defaults.kubernetes_version),
            account_id,
            deploy_role_arn,
            node_groups: overrides
                .node_groups
                .or(defaults.node_groups)
                .unwrap_or_else(|| BTreeMap::from([("system".to_string(), NodeGroup::default())])),
            tags,
        }
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let fail = |key: String, message: String| Error::ManifestValue {
            path: path.to_path_buf(),
            key,
            message,
        };
        if self.version != 1 {
            return Err(fail(
                "version".into(),
                format!(
                    "version {} is not known to this eksgen (it writes version 1); use the eksgen that wrote it",
                    self.version
                ),
            ));
        }
        let pool: Ipv4Net = parse_cidr(&self.cidr_pool).map_err(|reason| fail("cidr_pool".into(), reason))?;
        if !(pool.prefix_len()..=SMALLEST_VPC_PREFIX_LENGTH).contains(&self.vpc_prefix_length) {
            return Err(fail(
                "vpc_prefix_length".into(),
                format!(
                    "{} does not fit: it must be between the pool's /{} and /{SMALLEST_VPC_PREFIX_LENGTH}",
                    self.vpc_prefix_length,
                    pool.prefix_len()
                ),
            ));
        }
        if self.modules_source.trim().is_empty() {
            return Err(fail(
                "modules_source".into(),
                "is empty; give a local path or a git:: URL".into(),
            ));
        }
        if let Some(state) = &self.state {
            if state.bucket.trim().is_empty() {
                return Err(fail(
                    "state.bucket".into(),
                    "is empty; name the S3 bucket for state".into(),
                ));
            }
            check_region(&state.region).map_err(|e| fail("state.region".into(), e))?;
        }
        let mut seen: Vec<(Ipv4Net, String)> = Vec::new();
        for (env_name, env) in &self.environments {
            let key = |rest: &str| format!("environments.{env_name}{rest}");
            check_env_name(env_name).map_err(|e| fail(key(""), e))?;
            if let Some(role) = &env.deploy_role_name {
                check_role_name(role).map_err(|e| fail(key(".deploy_role_name"), e))?;
                if env.account_id.is_none() {
                    return Err(fail(
                        key(".deploy_role_name"),
                        "needs account_id (the account whose role the units assume); set account_id in this environment"
                            .into(),
                    ));
                }
            }
            check_settings(&env.defaults()).map_err(|(k, e)| fail(key(&k), e))?;
            if let Some(gitops) = &env.gitops {
                check_gitops(gitops).map_err(|(k, e)| fail(key(&format!(".gitops{k}")), e))?;
            }
            check_region(&env.hub.region).map_err(|e| fail(key(".hub.region"), e))?;
            check_settings(&env.hub.overrides()).map_err(|(k, e)| fail(key(&format!(".hub{k}")), e))?;
            let mut vpcs = vec![(key(".hub.cidr"), &env.hub.cidr)];
            for (region, entry) in &env.regions {
                let region_key = format!(".regions.{region}");
                check_region(region).map_err(|e| fail(key(&region_key), e))?;
                if *region == env.hub.region {
                    return Err(fail(
                        key(&region_key),
                        format!("{region} is this environment's hub region; remove the entry or pick another region"),
                    ));
                }
                check_settings(&entry.overrides()).map_err(|(k, e)| fail(key(&format!("{region_key}{k}")), e))?;
                vpcs.push((key(&format!("{region_key}.cidr")), &entry.cidr));
            }
            for (cidr_key, cidr) in vpcs {
                let net = parse_cidr(cidr).map_err(|reason| fail(cidr_key.clone(), reason))?;
                check_vpc_size(net).map_err(|reason| fail(cidr_key.clone(), reason))?;
                cidr::check_fits(net, pool, &seen).map_err(|e| fail(cidr_key.clone(), e.to_string()))?;
                seen.push((net, cidr_key));
            }
        }
        // An edge in another account than its hub peers across accounts: the
        // accepter must assume a role in the hub's account, so both accounts
        // must be known and the environment must name the role.
        let clusters = self.clusters();
        for edge in clusters.iter().filter(|c| c.role == Role::Edge) {
            let Some(hub) = clusters.iter().find(|c| c.env == edge.env && c.role == Role::Hub) else {
                continue;
            };
            let env = &self.environments[&edge.env];
            if edge.is_same_account(hub) {
                continue;
            }
            let key = format!("environments.{}.regions.{}.account_id", edge.env, edge.region);
            if hub.account_id.is_none() || edge.account_id.is_none() {
                return Err(fail(
                    key,
                    "differs from the hub's, which is unknown; set account_id on the environment or its hub as well"
                        .into(),
                ));
            }
            if env.deploy_role_name.is_none() {
                return Err(fail(
                    key,
                    format!(
                        "differs from the hub's ({}): cross-account peering needs deploy_role_name in environments.{}, \
                         the role the accepter assumes in the hub's account",
                        hub.account_id.as_deref().unwrap_or_default(),
                        edge.env
                    ),
                ));
            }
        }
        if let Some(ci) = &self.ci {
            self.check_ci(ci).map_err(|(k, e)| fail(format!("ci{k}"), e))?;
        }
        Ok(())
    }

    /// Jobs on different machines share state only through a backend, and
    /// find changed units only where each unit has a folder of its own.
    fn check_ci(&self, ci: &ci::Ci) -> std::result::Result<(), (String, String)> {
        if self.state.is_none() {
            return Err((
                String::new(),
                "needs remote state: jobs on different runners cannot share the local state under .terraform-state/; \
                 add [state] (bucket, region), as `eksgen init --state-bucket B --state-region R` writes it"
                    .into(),
            ));
        }
        if self.layout == Layout::Stack {
            return Err((
                String::new(),
                "is for layout = \"units\" only: a stack file holds every region of its environment, so a change \
                 to one region would plan them all"
                    .into(),
            ));
        }
        ci.check(&self.clusters())
    }
}

impl Cluster {
    pub fn role_name(&self) -> &'static str {
        match self.role {
            Role::Hub => "hub",
            Role::Edge => "edge",
        }
    }

    /// Whether both clusters are in one account (both unset counts as one: the caller's).
    pub fn is_same_account(&self, other: &Cluster) -> bool {
        self.account_id == other.account_id
    }
}

pub fn parse_cidr(text: &str) -> std::result::Result<Ipv4Net, String> {
    let net: Ipv4Net = text
        .parse()
        .map_err(|_| format!("{text:?} is not an IPv4 CIDR block; write it like 10.1.0.0/16"))?;
    if net.trunc() != net {
        return Err(format!("{text} has host bits set; the network is {}", net.trunc()));
    }
    Ok(net)
}

/// AWS allows /16 to /28 VPCs; 3 zones of private and public subnets need /22 or larger.
pub fn check_vpc_size(net: Ipv4Net) -> std::result::Result<(), String> {
    if (16..=SMALLEST_VPC_PREFIX_LENGTH).contains(&net.prefix_len()) {
        Ok(())
    } else {
        Err(format!(
            "a cluster VPC must be /16 to /{SMALLEST_VPC_PREFIX_LENGTH} (AWS allows /16 at most; 3 zones of subnets need /{SMALLEST_VPC_PREFIX_LENGTH} at least), {net} is /{}",
            net.prefix_len()
        ))
    }
}

pub fn check_region(region: &str) -> std::result::Result<(), String> {
    if aws_regions::is_known(region) {
        return Ok(());
    }
    Err(match aws_regions::suggest(region) {
        Some(near) => format!("unknown AWS region {region:?}; did you mean {near}?"),
        None => format!("unknown AWS region {region:?}; use a region name such as us-west-2"),
    })
}

/// Environment names become folder names, cluster names (`<env>-<region>`,
/// at most 38 characters) and tag values.
pub fn check_env_name(name: &str) -> std::result::Result<(), String> {
    let valid = name.len() <= 20
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "environment name {name:?} must be 1 to 20 lowercase letters, digits or '-', starting with a letter \
             (it names folders and clusters)"
        ))
    }
}

fn check_role_name(name: &str) -> std::result::Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an IAM role name (1 to 64 of letters, digits and +=,.@_-)"
        ))
    }
}

fn check_gitops(gitops: &Gitops) -> std::result::Result<(), (String, String)> {
    let namespace = &gitops.namespace;
    let valid_namespace = !namespace.is_empty()
        && namespace.len() <= 63
        && namespace.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && namespace.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && namespace
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_namespace {
        return Err((
            ".namespace".into(),
            format!(
                "{namespace:?} is not a Kubernetes namespace name: 1 to 63 lowercase letters, digits or '-', \
                 beginning and ending alphanumeric (Argo CD's is usually \"{DEFAULT_GITOPS_NAMESPACE}\")"
            ),
        ));
    }
    match (gitops.mode, &gitops.capability_role_arn) {
        (GitopsMode::Capability, None) => Err((
            ".capability_role_arn".into(),
            "is required with mode = \"capability\": give the managed Argo CD's IAM role, \
             like \"arn:aws:iam::123456789012:role/argocd-capability\""
                .into(),
        )),
        (GitopsMode::SelfManaged, Some(_)) => Err((
            ".capability_role_arn".into(),
            "is for mode = \"capability\" only (a self-managed Argo CD gets its role from the hub); \
             remove it, or set mode = \"capability\""
                .into(),
        )),
        (GitopsMode::Capability, Some(arn)) => check_role_arn(arn).map_err(|e| (".capability_role_arn".into(), e)),
        (GitopsMode::SelfManaged, None) => Ok(()),
    }
}

/// `arn:<partition>:iam::<account>:role/<path/><name>`, as IAM writes them.
pub(crate) fn check_role_arn(arn: &str) -> std::result::Result<(), String> {
    let valid = arn
        .split_once(":iam::")
        .and_then(|(prefix, rest)| {
            let partition = prefix.strip_prefix("arn:")?;
            let (account, role) = rest.split_once(":role/")?;
            let name = role.rsplit('/').next()?;
            Some(
                matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
                    && account.len() == 12
                    && account.chars().all(|c| c.is_ascii_digit())
                    && check_role_name(name).is_ok()
                    && role.len() <= 512
                    && role
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c)),
            )
        })
        .unwrap_or(false);
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{arn:?} is not an IAM role ARN; write it like \"arn:aws:iam::123456789012:role/argocd-capability\""
        ))
    }
}

fn check_settings(settings: &Settings) -> std::result::Result<(), (String, String)> {
    if let Some(version) = &settings.kubernetes_version {
        let valid = version.split_once('.').is_some_and(|(major, minor)| {
            major == "1" && !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit())
        });
        if !valid {
            return Err((
                ".kubernetes_version".into(),
                format!("{version:?} is not a Kubernetes minor version; write it like \"1.34\""),
            ));
        }
    }
    if let Some(account) = &settings.account_id
        && !(account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()))
    {
        return Err((
            ".account_id".into(),
            format!("{account:?} is not an AWS account id (12 digits)"),
        ));
    }
    if let Some(tags) = &settings.tags {
        for (key, value) in tags {
            if key.is_empty() || key.chars().count() > 128 || key.to_ascii_lowercase().starts_with("aws:") {
                return Err((
                    format!(".tags.{key}"),
                    "tag keys must be 1 to 128 characters and not start with \"aws:\"".into(),
                ));
            }
            if value.chars().count() > 256 {
                return Err((
                    format!(".tags.{key}"),
                    "tag values must be at most 256 characters".into(),
                ));
            }
            if let Some(bad) = key.chars().chain(value.chars()).find(|c| !is_tag_char(*c)) {
                return Err((
                    format!(".tags.{key}"),
                    format!("{bad:?} is not allowed in an AWS tag: use letters, digits, spaces and _ . : / = + - @"),
                ));
            }
        }
    }
    if let Some(groups) = &settings.node_groups {
        if groups.is_empty() {
            return Err((
                ".node_groups".into(),
                "is empty; give at least one node group, e.g. [..node_groups.system]".into(),
            ));
        }
        for (name, group) in groups {
            let key = format!(".node_groups.{name}");
            let valid_name = name.len() <= 63
                && name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid_name {
                return Err((key, "node group names are 1 to 63 letters, digits, '-' or '_'".into()));
            }
            if let Some(capacity) = &group.capacity_type
                && capacity != "ON_DEMAND"
                && capacity != "SPOT"
            {
                return Err((
                    format!("{key}.capacity_type"),
                    format!("{capacity:?} must be ON_DEMAND or SPOT"),
                ));
            }
            if group.instance_types.as_ref().is_some_and(Vec::is_empty) {
                return Err((
                    format!("{key}.instance_types"),
                    "is empty; name at least one instance type".into(),
                ));
            }
            let (min, desired, max) = (group.min_size, group.desired_size, group.max_size);
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                return Err((key, format!("min_size {min} is larger than max_size {max}")));
            }
            if let Some(desired) = desired
                && (min.is_some_and(|min| desired < min) || max.is_some_and(|max| desired > max))
            {
                return Err((
                    key,
                    format!("desired_size {desired} must lie between min_size and max_size"),
                ));
            }
            if max == Some(0) {
                return Err((format!("{key}.max_size"), "must be at least 1".into()));
            }
            for instance_type in group.instance_types.iter().flatten() {
                let valid = instance_type.split_once('.').is_some_and(|(family, size)| {
                    let part = |p: &str| {
                        !p.is_empty()
                            && p.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    };
                    part(family) && part(size)
                });
                if !valid {
                    return Err((
                        format!("{key}.instance_types"),
                        format!("{instance_type:?} is not an EC2 instance type; write it like \"m7i.large\""),
                    ));
                }
            }
            for (label, value) in group.labels.iter().flatten() {
                if let Err(why) = check_label(label, value) {
                    return Err((format!("{key}.labels.{label}"), why));
                }
            }
        }
    }
    Ok(())
}

/// What AWS allows in tag keys and values: "letters, numbers, and spaces
/// representable in UTF-8, and the following characters: + - = . _ : / @"
/// (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
/// Nothing else reaches a unit, so no value can carry `"`, `\`, `${` or
/// `%{` into the `TF_VAR_*` Terragrunt passes (it escapes `${` there, not `%{`).
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c)
}

/// A Kubernetes label: an optional DNS-subdomain prefix and `/`, a name of at
/// most 63 characters, and a value of at most 63; names and values are
/// alphanumerics with `-`, `_`, `.` inside
/// (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set).
fn check_label(key: &str, value: &str) -> std::result::Result<(), String> {
    fn segment(text: &str, may_be_empty: bool) -> bool {
        if text.is_empty() {
            return may_be_empty;
        }
        text.len() <= 63
            && text.starts_with(|c: char| c.is_ascii_alphanumeric())
            && text.ends_with(|c: char| c.is_ascii_alphanumeric())
            && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    }
    let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
    let prefix_valid = prefix.is_empty()
        || (prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            }));
    if !prefix_valid || !segment(name, false) {
        return Err("is not a Kubernetes label key: an optional DNS prefix and '/', then 1 to 63 letters, digits, '-', '_' or '.', beginning and ending alphanumeric".into());
    }
    if !segment(value, true) {
        return Err(format!(
            "{value:?} is not a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', beginning and ending alphanumeric"
        ));
    }
    Ok(())
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The manifest of the tree around `start`: `start` itself or the nearest parent holding one.
pub fn find(start: &Path) -> Result<PathBuf> {
    // Absolute, so that paths found walking up from a unit never stop at "".
    let start = std::path::absolute(start).at(start)?;
    let mut dir = Some(start.as_path());
    while let Some(current) = dir {
        if current.join(FILE_NAME).is_file() {
            return Ok(current.to_path_buf());
        }
        dir = current.parent();
    }
    Err(Error::ManifestNotFound { dir: start })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
version = 1
modules_source = "../modules"
cidr_pool = "10.0.0.0/8"

[environments.dev]
kubernetes_version = "1.33"
tags = { Team = "platform" }

[environments.dev.hub]
region = "us-east-1"
cidr = "10.0.0.0/16"

[environments.dev.regions.us-west-2]
cidr = "10.1.0.0/16"
tags = { Team = "edge", Cost = "42" }

[environments.dev.regions.eu-west-1]
cidr = "10.2.0.0/16"
kubernetes_version = "1.32"
"#;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(Path::new("eksgen.toml"), text)
    }

    #[test]
    fn an_unset_version_stays_unset_so_no_cluster_pins_an_aging_version() {
        let manifest = parse(&MINIMAL.replacen("kubernetes_version = \"1.33\"\n", "", 1)).unwrap();
        let clusters = manifest.clusters();
        let version = |r: &str| {
            clusters
                .iter()
                .find(|c| c.region == r)
                .unwrap()
                .kubernetes_version
                .clone()
        };
        assert_eq!(version("us-east-1"), None, "no default version is pinned");
        assert_eq!(version("us-west-2"), None);
        assert_eq!(
            version("eu-west-1").as_deref(),
            Some("1.32"),
            "a region's own version stays"
        );
    }

    #[test]
    fn regions_inherit_env_defaults_and_override_them() {
        let manifest = parse(MINIMAL).unwrap();
        let clusters = manifest.clusters();
        let by_region = |r: &str| clusters.iter().find(|c| c.region == r).unwrap();
        assert_eq!(by_region("us-east-1").role, Role::Hub);
        assert_eq!(by_region("us-east-1").kubernetes_version.as_deref(), Some("1.33"));
        assert_eq!(by_region("eu-west-1").kubernetes_version.as_deref(), Some("1.32"));
        let west = by_region("us-west-2");
        assert_eq!(west.name, "dev-us-west-2");
        assert_eq!(west.tags["Team"], "edge", "region tag overrides the env's");
        assert_eq!(west.tags["Cost"], "42");
        assert_eq!(west.tags["Environment"], "dev");
        assert_eq!(west.node_groups.keys().collect::<Vec<_>>(), ["system"]);
    }

    #[test]
    fn the_layout_is_units_unless_the_manifest_says_stack() {
        assert_eq!(parse(MINIMAL).unwrap().layout, Layout::Units);
        let stack = MINIMAL.replace("version = 1\n", "version = 1\nlayout = \"stack\"\n");
        assert_eq!(parse(&stack).unwrap().layout, Layout::Stack);
        let err = parse(&MINIMAL.replace("version = 1\n", "version = 1\nlayout = \"stacks\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("eksgen.toml:3:") && err.contains("stacks"), "{err}");
    }

    #[test]
    fn syntax_errors_carry_the_line_number() {
        let err = parse("version = 1\nmodules_source = \"m\"\ncidr_pool = \n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("eksgen.toml:3:"), "{err}");
        let err = parse(&MINIMAL.replace("kubernetes_version = \"1.33\"", "kubernetes_versio = \"1.33\""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("eksgen.toml:7:") && err.contains("kubernetes_versio"),
            "{err}"
        );
    }

    #[test]
    fn overlapping_vpcs_are_refused_with_both_owners() {
        let err = parse(&MINIMAL.replace("10.2.0.0/16", "10.1.128.0/17"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("environments.dev.regions.us-west-2.cidr"), "{err}");
        assert!(err.contains("overlaps"), "{err}");
    }

    #[test]
    fn bad_settings_name_the_key() {
        for (from, to, key) in [
            ("\"1.33\"", "\"133\"", "environments.dev.kubernetes_version"),
            ("us-east-1", "us-east-7", "environments.dev.hub.region"),
            (
                "cidr = \"10.1.0.0/16\"",
                "cidr = \"10.1.0.1/16\"",
                "environments.dev.regions.us-west-2.cidr",
            ),
            (
                "cidr = \"10.1.0.0/16\"",
                "cidr = \"11.1.0.0/16\"",
                "environments.dev.regions.us-west-2.cidr",
            ),
        ] {
            let err = parse(&MINIMAL.replace(from, to)).unwrap_err().to_string();
            assert!(err.contains(key), "{from} → {to}: {err}");
        }
    }

    /// MINIMAL with `[environments.dev.gitops]` holding `body`.
    fn with_gitops(body: &str) -> String {
        MINIMAL.replace(
            "[environments.dev.hub]",
            &format!("[environments.dev.gitops]\n{body}\n[environments.dev.hub]"),
        )
    }

    #[test]
    fn gitops_is_unset_unless_written_and_defaults_to_a_self_managed_argocd_in_argocd() {
        assert_eq!(parse(MINIMAL).unwrap().environments["dev"].gitops, None);
        let gitops = parse(&with_gitops("")).unwrap().environments["dev"]
            .gitops
            .clone()
            .unwrap();
        assert_eq!(gitops.mode, GitopsMode::SelfManaged);
        assert_eq!(gitops.namespace, "argocd");
        assert_eq!(gitops.capability_role_arn, None);
        let text = with_gitops(
            "mode = \"capability\"\nnamespace = \"gitops\"\ncapability_role_arn = \"arn:aws:iam::123456789012:role/path/argocd-cap\"",
        );
        let gitops = parse(&text).unwrap().environments["dev"].gitops.clone().unwrap();
        assert_eq!(gitops.mode, GitopsMode::Capability);
        assert_eq!(gitops.namespace, "gitops");
        assert_eq!(
            gitops.capability_role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/path/argocd-cap")
        );
    }

    #[test]
    fn bad_gitops_values_are_refused_naming_the_key_and_the_fix() {
        let arn = "arn:aws:iam::123456789012:role/argocd-capability";
        for (body, key, says) in [
            (
                "namespace = \"Argo_CD\"".to_string(),
                "environments.dev.gitops.namespace",
                "not a Kubernetes namespace",
            ),
            (
                "namespace = \"\"".to_string(),
                "environments.dev.gitops.namespace",
                "not a Kubernetes namespace",
            ),
            (
                format!("namespace = \"{}\"", "a".repeat(64)),
                "environments.dev.gitops.namespace",
                "1 to 63",
            ),
            (
                "mode = \"capability\"".to_string(),
                "environments.dev.gitops.capability_role_arn",
                "is required with mode = \"capability\"",
            ),
            (
                format!("capability_role_arn = \"{arn}\""),
                "environments.dev.gitops.capability_role_arn",
                "remove it, or set mode = \"capability\"",
            ),
            (
                format!("mode = \"self-managed\"\ncapability_role_arn = \"{arn}\""),
                "environments.dev.gitops.capability_role_arn",
                "for mode = \"capability\" only",
            ),
            (
                "mode = \"capability\"\ncapability_role_arn = \"argocd-capability\"".to_string(),
                "environments.dev.gitops.capability_role_arn",
                "is not an IAM role ARN",
            ),
            (
                "mode = \"capability\"\ncapability_role_arn = \"arn:aws:iam::1234:role/x\"".to_string(),
                "environments.dev.gitops.capability_role_arn",
                "is not an IAM role ARN",
            ),
            (
                "mode = \"capability\"\ncapability_role_arn = \"arn:aws:iam::123456789012:user/x\"".to_string(),
                "environments.dev.gitops.capability_role_arn",
                "is not an IAM role ARN",
            ),
            (
                "mode = \"capability\"\ncapability_role_arn = \"arn:aws:iam::123456789012:role/\"".to_string(),
                "environments.dev.gitops.capability_role_arn",
                "is not an IAM role ARN",
            ),
        ] {
            let err = parse(&with_gitops(&body)).unwrap_err().to_string();
            assert!(err.contains(key) && err.contains(says), "{body}: {err}");
        }
        // Unknown modes and keys are syntax errors on their line, like `layout`.
        for (body, says) in [("mode = \"managed\"", "managed"), ("namespce = \"argocd\"", "namespce")] {
            let err = parse(&with_gitops(body)).unwrap_err().to_string();
            assert!(
                err.starts_with("eksgen.toml:11:") && err.contains(says),
                "{body}: {err}"
            );
        }
    }

    #[test]
    fn values_aws_or_kubernetes_would_refuse_are_refused_naming_the_key() {
        let group = "[environments.dev.node_groups.system]\ninstance_types = [\"m7i.large\"]\n";
        for (tags_or_group, key) in [
            (r#"tags = { Team = "a ${var.x}" }"#, "environments.dev.tags.Team"),
            (
                r#"tags = { Team = "%{ if true }y%{ endif }" }"#,
                "environments.dev.tags.Team",
            ),
            (r#"tags = { Team = "say \"hi\"" }"#, "environments.dev.tags.Team"),
            (r#"tags = { Team = "back\\slash" }"#, "environments.dev.tags.Team"),
            (
                &group.replace("m7i.large", "m7i large"),
                "environments.dev.node_groups.system.instance_types",
            ),
            (
                &format!("{group}labels = {{ tier = \"${{x}}\" }}\n"),
                "environments.dev.node_groups.system.labels.tier",
            ),
            (
                &format!("{group}labels = {{ \"-bad\" = \"x\" }}\n"),
                "environments.dev.node_groups.system.labels.-bad",
            ),
        ] {
            let text = MINIMAL.replace("tags = { Team = \"platform\" }", tags_or_group);
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(key), "{tags_or_group}: {err}");
        }
        let text = MINIMAL.replace(
            "tags = { Team = \"platform\" }",
            "tags = { Team = \"Plattform: a+b=c/d@e_f.g-h ü\" }\n[environments.dev.node_groups.system]\n\
             instance_types = [\"m7i.large\", \"u-6tb1.metal\"]\nlabels = { \"eksfleet.io/tier\" = \"sys_1.a-b\", empty = \"\" }\n",
        );
        parse(&text).expect("what AWS and Kubernetes accept is kept");
    }
}
