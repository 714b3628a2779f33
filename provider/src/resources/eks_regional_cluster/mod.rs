//! `fleet_eks_regional_cluster`: one region's whole EKS stack as one resource,
//! with `region` as an argument so `for_each` over regions needs one provider.

mod access;
mod addons;
mod control_plane;
mod existing_vpc;
mod gitops;
mod import;
mod karpenter;
mod kubeconfig;
mod launch_templates;
mod log_group;
pub mod model;
mod nat;
mod network;
mod node_groups;
mod oidc;
mod pod_identity;
mod reconcile;
mod roles;
mod run;
pub mod schema;
pub mod subnet_plan;
mod tags;
mod validators;
mod versions;
mod zones;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{configured, default_region, error, import_target, plan_tags_all};
use crate::aws::eks::{Eks, minor_version};
use crate::aws::{Aws, AwsHandle};
use model::ClusterModel;
use run::{Budgets, Clients, Operation, Run};
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::schema::Schema;
use tfplugin::typed::{Outcome, TypedResource};
use tfplugin::types::Type;
use tfplugin::value::Value;

pub const TYPE_NAME: &str = "fleet_eks_regional_cluster";

/// Computed attributes a resumed create or a repair may set anew.
const REPAIRABLE: &[&str] = &[
    "arn",
    "endpoint",
    "certificate_authority_data",
    "oidc_issuer_url",
    "platform_version",
    "vpc_id",
    "private_subnet_ids",
    "public_subnet_ids",
    "private_route_table_ids",
    "public_route_table_ids",
    "cluster_security_group_id",
    "kubeconfig",
    "internet_gateway_id",
    "nat_gateway_ids",
    "eip_allocation_ids",
    "api_security_group_id",
    "created_iam_role_names",
    "node_group_names",
    "node_group_versions",
    "retired_node_group_names",
    "node_group_launch_template_ids",
    "node_group_launch_template_versions",
    "oidc_provider_arn",
    "pod_identity_association_ids",
    "implied_addons",
];

pub struct EksRegionalCluster {
    aws: Arc<AwsHandle>,
    value_type: Type,
}

impl EksRegionalCluster {
    pub fn new(aws: Arc<AwsHandle>) -> Self {
        Self {
            aws,
            value_type: schema::schema().value_type(),
        }
    }
}

/// The clients of the cluster's region.
async fn clients(aws: &Aws, model: &ClusterModel) -> Result<Clients, Diagnostics> {
    Ok(Clients::new(aws, region_of(model)?, model.role()).await)
}

/// For ReadResource: the clients, sharing reads across the refresh.
async fn refresh_clients(aws: &Aws, model: &ClusterModel) -> Result<Clients, Diagnostics> {
    Ok(Clients::for_refresh(aws, region_of(model)?, model.role()).await)
}

fn region_of(model: &ClusterModel) -> Result<&str, Diagnostics> {
    model
        .region
        .as_deref()
        .ok_or_else(|| error("Missing region", "region is not set and could not be defaulted."))
}

impl EksRegionalCluster {
    /// Whether refresh found the cluster or its network gone.
    fn lost(&self, prior: &Value) -> bool {
        prior.attr("status").as_str().is_some_and(|s| s == run::DELETED)
    }
}

/// A KMS key ARN, in the cluster's region when that is known: EKS refuses a
/// key from another region, which would fail the create after the network.
fn check_kms_key(key: &str, region: Option<&str>, diags: &mut Diagnostics) {
    let path = AttributePath::attr("secrets_kms_key_arn");
    let key_region = key
        .split(':')
        .nth(3)
        .filter(|r| key.starts_with("arn:") && !r.is_empty());
    let Some(key_region) = key_region else {
        diags.attribute_error(
            &path,
            "Malformed KMS key ARN",
            format!("secrets_kms_key_arn: {key:?} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."),
        );
        return;
    };
    if let Some(region) = region.filter(|r| *r != key_region) {
        diags.attribute_error(
            &path,
            "KMS key in another region",
            format!(
                "secrets_kms_key_arn: the key is in {key_region} but the cluster is in {region}: use a key \
                 (or a multi-Region replica) in {region}."
            ),
        );
    }
}

#[async_trait]
impl TypedResource for EksRegionalCluster {
    type Model = ClusterModel;
    type Client = Arc<Aws>;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn value_type(&self) -> Type {
        self.value_type.clone()
    }

    fn client(&self) -> Result<Arc<Aws>, Diagnostics> {
        configured(&self.aws)
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // Exactly one of vpc_cidr and vpc_id, and what goes with each.
        existing_vpc::validate(config, diags);
        // Subnets must fit the VPC CIDR.
        if let (Some(cidr), zones) = (config.attr("vpc_cidr").as_str(), config.attr("availability_zones")) {
            let count = match zones {
                Value::List(z) => Some(z.len()),
                Value::Null => match config.attr("availability_zone_count") {
                    Value::Number(n) => Some(*n as usize),
                    Value::Null => Some(3),
                    _ => None,
                },
                _ => None,
            };
            if let (Ok(net), Some(count)) = (cidr.parse(), count)
                && let Err(e) = subnet_plan::plan_subnets(net, count)
            {
                diags.attribute_error(
                    &AttributePath::attr("vpc_cidr"),
                    "VPC CIDR does not fit the zones",
                    format!("vpc_cidr: {e}."),
                );
            }
        }
        if let (Value::List(zones), Value::Number(count)) = (
            config.attr("availability_zones"),
            config.attr("availability_zone_count"),
        ) && zones.len() as f64 != *count
        {
            diags.attribute_error(
                &AttributePath::attr("availability_zone_count"),
                "Zone count disagrees with the zone list",
                format!(
                    "availability_zone_count: {count} but availability_zones lists {}: set only one of them.",
                    zones.len()
                ),
            );
        }
        if let Value::List(zones) = config.attr("availability_zones") {
            let names: Vec<&str> = zones.iter().filter_map(Value::as_str).collect();
            let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
            if unique.len() != names.len() {
                diags.attribute_error(
                    &AttributePath::attr("availability_zones"),
                    "Duplicate availability zones",
                    "availability_zones: list each zone once.",
                );
            }
        }
        // Node group sizes: min <= desired <= max.
        if let Value::Map(groups) = config.attr("node_groups") {
            for (group, ng) in groups {
                let size = |name: &str| match ng.attr(name) {
                    Value::Number(n) => Some(*n),
                    Value::Null => Some(match name {
                        "min_size" => 1.0,
                        "max_size" => 3.0,
                        _ => 2.0,
                    }),
                    _ => None,
                };
                let path = AttributePath::attr("node_groups").key(group);
                if let (Some(min), Some(max), Some(desired)) =
                    (size("min_size"), size("max_size"), size("desired_size"))
                {
                    if min > max {
                        diags.attribute_error(
                            &path.then("min_size"),
                            "Node group min_size above max_size",
                            format!("node_groups[\"{group}\"].min_size: {min} is above max_size {max}: lower min_size or raise max_size."),
                        );
                    } else if desired < min || desired > max {
                        diags.attribute_error(
                            &path.then("desired_size"),
                            "Node group desired_size out of range",
                            format!(
                                "node_groups[\"{group}\"].desired_size: {desired} is outside min_size {min} .. max_size {max}: pick a size in that range."
                            ),
                        );
                    }
                }
                let update_config = ng.attr("update_config");
                if !update_config.is_null() && !update_config.is_unknown() {
                    let set = ["max_unavailable", "max_unavailable_percentage"]
                        .iter()
                        .filter(|a| !update_config.attr(a).is_null())
                        .count();
                    if set != 1 {
                        diags.attribute_error(
                            &path.then("update_config"),
                            "Node group update_config needs exactly one limit",
                            format!(
                                "node_groups[\"{group}\"].update_config: set exactly one of max_unavailable (a node \
                                 count) and max_unavailable_percentage (a percentage), e.g. {{ max_unavailable = 2 }}."
                            ),
                        );
                    }
                }
                for instance_type in ng.attr("instance_types").elements().iter().filter_map(Value::as_str) {
                    let shape_ok = instance_type.split_once('.').is_some_and(|(family, size)| {
                        !family.is_empty()
                            && !size.is_empty()
                            && family.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                            && size.chars().all(|c| c.is_ascii_alphanumeric())
                    });
                    if !shape_ok {
                        diags.attribute_error(
                            &path.then("instance_types"),
                            "Malformed instance type",
                            format!("node_groups[\"{group}\"].instance_types: {instance_type:?} is not an EC2 instance type such as \"m6i.large\"."),
                        );
                    }
                }
            }
        }
        if let Some(key) = config.attr("secrets_kms_key_arn").as_str() {
            check_kms_key(key, config.attr("region").as_str(), diags);
        }
        validators::validate_access_entries(config, diags);
        validators::validate_addon_iam(config, diags);
        validators::validate_auto_mode(config, diags);
        validators::validate_gitops(config, diags);
        launch_templates::validate(config, diags);
        // Nodes in private subnets with no way out cannot pull images or
        // join: EKS ends such node groups CREATE_FAILED after ~20 minutes
        // (https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html).
        if config.attr("nat_gateway_mode").as_str() == Some("none")
            && matches!(config.attr("node_groups"), Value::Map(groups) if !groups.is_empty())
        {
            diags.attribute_error(
                &AttributePath::attr("nat_gateway_mode"),
                "Node groups need a way out of the private subnets",
                "nat_gateway_mode: \"none\" leaves the nodes no route to ECR, S3, EC2 and STS, so they cannot \
                 pull images or join the cluster (EKS fails the node group after ~20 minutes). Set \
                 nat_gateway_mode = \"single\" (or \"one_per_az\"), or remove node_groups.",
            );
        }
    }

    async fn modify_plan(&self, prior: &Value, config: &Value, planned: &mut Value, diags: &mut Diagnostics) {
        if planned.is_null() {
            return;
        }
        let aws = match self.client() {
            Ok(aws) => aws,
            Err(d) => return diags.extend(d),
        };
        if config.attr("region").is_null()
            && let Some(region) = default_region(&aws, &AttributePath::attr("region"), diags).await
        {
            // The key's region could only be checked against an explicit
            // `region` in ValidateResourceConfig; now the default is known.
            if let Some(key) = config.attr("secrets_kms_key_arn").as_str() {
                check_kms_key(key, Some(&region), diags);
            }
            planned.set_attr("region", Value::string(region));
        }
        plan_tags_all(&aws, planned);
        self.plan_version(&aws, prior, config, planned, diags).await;
        oidc::plan(prior, planned);
        control_plane::plan_auto_mode(prior, planned);
        pod_identity::plan(prior, planned);
        karpenter::plan(prior, planned);
        gitops::plan(prior, config, planned);
        addons::plan(prior, config, planned);
        launch_templates::plan(config, planned);
        if let Some(region) = planned.attr("region").as_str().map(str::to_string) {
            let ec2 = crate::aws::ec2::Ec2::new(aws.ec2(&region, planned_role(planned)).await, &region);
            let eks = Eks {
                client: aws.eks(&region, planned_role(planned)).await,
                region,
            };
            addons::check_pod_identity_support(&eks, prior, planned, diags).await;
            launch_templates::check_user_templates(&ec2, prior, planned, diags).await;
        }
        // In an existing VPC the zones are the subnets'; else the zone count
        // follows an explicit zone list, else defaults to 3; an existing (or
        // imported) cluster keeps the count it has.
        let in_existing_vpc = !config.attr("vpc_id").is_null();
        if in_existing_vpc {
            existing_vpc::plan(&aws, prior, config, planned, diags).await;
        } else if planned.attr("availability_zone_count").is_unknown() {
            let count = match config.attr("availability_zones") {
                Value::List(zones) => Value::Number(zones.len() as f64),
                Value::Unknown => Value::Unknown,
                _ => Value::Number(3.0),
            };
            planned.set_attr("availability_zone_count", count);
        }
        // Any change may pass through UPDATING; a stack left part-way
        // (CREATING) or with network parts gone (NETWORK_DRIFT) is completed
        // or repaired in place; a lost cluster or VPC is replaced, see
        // forces_replacement.
        let prior_status = prior.attr("status").as_str().map(str::to_string);
        let incomplete = prior_status.as_deref().is_some_and(|s| s != run::ACTIVE);
        if !prior.is_null() && (prior != &*planned || self.lost(prior) || incomplete) {
            planned.set_attr("status", Value::Unknown);
        }
        // Resuming or repairing may make any computed part anew.
        if !prior.is_null() && incomplete {
            for name in REPAIRABLE {
                // One the configuration sets (vpc_id, subnets) is planned as set.
                if config.attr(name).is_null() {
                    planned.set_attr(name, Value::Unknown);
                }
            }
            // Optional and computed, left to AWS when unset: known once the part exists.
            for name in ["cluster_role_arn", "node_role_arn", "service_ipv4_cidr"] {
                if config.attr(name).is_null() && prior.attr(name).is_null() {
                    planned.set_attr(name, Value::Unknown);
                }
            }
        }
        if let Ok(prior_model) = prior.to_model::<ClusterModel>()
            && !prior.is_null()
        {
            // NAT gateways lost out of band are repaired in place.
            if prior_model.nat_gateway_ids.as_ref().map_or(0, Vec::len) < nat::wanted_count(&prior_model) {
                planned.set_attr("nat_gateway_ids", Value::Unknown);
                planned.set_attr("eip_allocation_ids", Value::Unknown);
            }
            self.plan_node_groups(&prior_model, planned);
            plan_release_versions(&prior_model, config, planned);
        }
        if prior.is_null() && !in_existing_vpc && !config.attr("availability_zones").is_unknown() {
            self.plan_zones(&aws, config, planned, diags).await;
        }
        check_node_group_zones(planned, diags);
        if let (Some(region), Some(name)) = (planned.attr("region").as_str(), planned.attr("name").as_str()) {
            let (id, command) = (
                format!("{region}/{name}"),
                kubeconfig::update_kubeconfig_command(name, region),
            );
            planned.set_attr("id", Value::string(id));
            planned.set_attr("update_kubeconfig_command", Value::string(command));
        }
        // Upgrades go one minor version at a time, never down.
        if let (Some(before), Some(after)) = (
            prior.attr("kubernetes_version").as_str(),
            planned.attr("kubernetes_version").as_str(),
        ) && before != after
        {
            match (minor_version(before), minor_version(after)) {
                    (Some((bm, bn)), Some((am, an))) if am == bm && an == bn + 1 => {
                        planned.set_attr("platform_version", Value::Unknown);
                    }
                    _ => diags.attribute_error(
                        &AttributePath::attr("kubernetes_version"),
                        "Unsupported version change",
                        format!("kubernetes_version: EKS upgrades one minor version at a time and never downgrades: from {before} the next version is the only choice (e.g. {before} → {}).",
                            minor_version(before).map(|(m, n)| format!("{m}.{}", n + 1)).unwrap_or_default()),
                    ),
                }
        }
        // The cluster lives in its role's account: a role in another account
        // would manage (or create) another account's cluster.
        let account = |v: &Value| {
            v.attr("assume_role_arn")
                .as_str()
                .and_then(|arn| arn.split(':').nth(4))
                .map(str::to_string)
        };
        if let (Some(before), Some(after)) = (account(prior), account(planned))
            && before != after
        {
            diags.attribute_error(
                &AttributePath::attr("assume_role_arn"),
                "The cluster is in another account",
                format!(
                    "assume_role_arn: the cluster was made in account {before}, and this role is in account {after}. \
                     Use a role in {before}, or replace the cluster to move it (terraform apply -replace=ADDRESS)."
                ),
            );
        }
    }

    fn forces_replacement(&self, prior: &ClusterModel) -> Vec<AttributePath> {
        if prior.status.as_deref() == Some(run::DELETED) {
            vec![AttributePath::attr("status")]
        } else {
            Vec::new()
        }
    }

    async fn create(&self, aws: &Arc<Aws>, desired: ClusterModel) -> Outcome<ClusterModel> {
        let clients = match clients(aws, &desired).await {
            Ok(c) => c,
            Err(diags) => return Outcome::failed(diags),
        };
        let region = clients.region.clone();
        // Nothing exists yet: the record starts empty and each part fills it.
        let mut state = ClusterModel {
            id: Some(format!("{region}/{}", desired.name)),
            region: Some(region),
            status: Some(run::CREATING.into()),
            created_iam_role_names: Some(Vec::new()),
            cluster_role_arn: None,
            node_role_arn: None,
            api_allowed_cidrs: None,
            node_groups: desired.node_groups.as_ref().map(|_| Default::default()),
            addons: desired.addons.as_ref().map(|_| Default::default()),
            access_entries: desired.access_entries.as_ref().map(|_| Default::default()),
            // Recorded by the log group part once the group exists.
            log_retention_days: None,
            // Recorded by the Karpenter part as its objects come to exist.
            karpenter: None,
            // Recorded by the GitOps part as its objects come to exist.
            gitops_hub: None,
            gitops_hub_role_arn: None,
            gitops_capability_role_arn: None,
            gitops_access_policy: None,
            ..desired.clone()
        };
        let run = self.run(&clients, &desired, Operation::Create, true);
        state.stack_id = Some(run.stack_id.clone());
        let result = reconcile::ensure(&run, &mut state).await;
        self.applied(state, result.map_err(with_resume_hint), run)
    }

    async fn read(&self, aws: &Arc<Aws>, prior: ClusterModel) -> Result<Option<ClusterModel>, Diagnostics> {
        let clients = refresh_clients(aws, &prior).await?;
        reconcile::observe(&clients, &prior).await.map(Some)
    }

    async fn update(&self, aws: &Arc<Aws>, prior: ClusterModel, desired: ClusterModel) -> Outcome<ClusterModel> {
        let clients = match clients(aws, &desired).await {
            Ok(c) => c,
            Err(diags) => return Outcome::failed(diags),
        };
        let mut state = prior.clone();
        let run = self.run(&clients, &desired, Operation::Update, reconcile::needs_repair(&prior));
        let result = reconcile::ensure(&run, &mut state).await;
        self.applied(state, result, run)
    }

    async fn delete(&self, aws: &Arc<Aws>, prior: ClusterModel) -> Result<(), Diagnostics> {
        let clients = clients(aws, &prior).await?;
        let run = self.run(&clients, &prior, Operation::Delete, false);
        reconcile::delete(&run, &prior).await
    }

    async fn import(&self, aws: &Arc<Aws>, id: &str) -> Result<ClusterModel, Diagnostics> {
        let (region, name) = import_target(aws, id, "REGION/NAME").await?;
        let clients = Clients::new(aws, &region, None).await;
        // Terraform refreshes (ReadResource) right after import: no read here.
        import::import(&clients, &name, &aws.settings().default_tags, &self.aws.stop).await
    }
}

/// A node group's zones are some of the cluster's (known once the cluster's are planned).
fn check_node_group_zones(planned: &Value, diags: &mut Diagnostics) {
    let Value::List(cluster_zones) = planned.attr("availability_zones") else {
        return;
    };
    let cluster_zones: Vec<&str> = cluster_zones.iter().filter_map(Value::as_str).collect();
    let Value::Map(groups) = planned.attr("node_groups") else {
        return;
    };
    for (key, group) in groups {
        let Value::List(zones) = group.attr("availability_zones") else {
            continue;
        };
        let path = AttributePath::attr("node_groups").key(key).then("availability_zones");
        let outside: Vec<&str> = zones
            .iter()
            .filter_map(Value::as_str)
            .filter(|z| !cluster_zones.contains(z))
            .collect();
        if zones.is_empty() || !outside.is_empty() {
            diags.attribute_error(
                &path,
                "Node group zones outside the cluster's",
                format!(
                    "node_groups[\"{key}\"].availability_zones: {} the cluster's zones are {}: list some of \
                     those, or leave availability_zones unset for all of them.",
                    if zones.is_empty() {
                        "an empty list has no subnet to place nodes in;".to_string()
                    } else {
                        format!(
                            "{} {} not among",
                            outside.join(", "),
                            if outside.len() == 1 { "is" } else { "are" }
                        )
                    },
                    cluster_zones.join(", ")
                ),
            );
        }
    }
}

/// A node group whose `ami_release_version` is left to EKS gets a new one
/// when it moves to another Kubernetes version or is replaced by a new group.
fn plan_release_versions(prior: &ClusterModel, config: &Value, planned: &mut Value) {
    let version = planned.attr("kubernetes_version").as_str().map(str::to_string);
    let Some(Value::Map(groups)) = planned.attr_mut("node_groups") else {
        return;
    };
    for (key, group) in groups.iter_mut() {
        if !config
            .attr("node_groups")
            .entry(key)
            .attr("ami_release_version")
            .is_null()
        {
            continue;
        }
        let Some(before) = prior.node_groups.as_ref().and_then(|g| g.get(key)) else {
            continue;
        };
        let on_version = prior.node_group_versions.as_ref().and_then(|v| v.get(key)) == version.as_ref();
        let replaced = match group.unknowns_as_null().to_model::<model::NodeGroupModel>() {
            Ok(after) => before.needs_new_nodegroup(&after),
            Err(_) => true,
        };
        if !on_version || replaced || version.is_none() {
            group.set_attr("ami_release_version", Value::Unknown);
        }
    }
}

/// The planned `assume_role_arn`, for the calls a plan makes in the cluster's account.
fn planned_role(planned: &Value) -> Option<crate::aws::Role<'_>> {
    planned.attr("assume_role_arn").as_str().map(|arn| crate::aws::Role {
        arn,
        external_id: planned.attr("external_id").as_str(),
    })
}

/// A fresh `stack_id`: random, 16 hex digits.
fn new_stack_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// A failed create returns what exists, which Terraform marks tainted and
/// would rebuild from nothing. Untainted, the next apply continues instead.
fn with_resume_hint(mut diags: Diagnostics) -> Diagnostics {
    diags.warning(
        "The stack was created part-way",
        "Everything made so far is recorded in state, so destroy removes it. Terraform marks the resource tainted, \
         which would delete it all and start again; to continue from what exists instead, run \
         `terraform untaint ADDRESS` (the address is in the error above) and apply again.",
    );
    diags
}

impl EksRegionalCluster {
    fn run<'a>(
        &'a self,
        clients: &'a Clients,
        desired: &'a ClusterModel,
        operation: Operation,
        repairing: bool,
    ) -> Run<'a> {
        Run {
            clients,
            desired,
            budgets: Budgets::new(&desired.timeouts, operation),
            stop: &self.aws.stop,
            repairing,
            stack_id: desired.stack_id.clone().unwrap_or_else(new_stack_id),
            warnings: Default::default(),
        }
    }

    /// What exists, with the error that stopped the run and the warnings it gathered.
    fn applied(&self, state: ClusterModel, result: Result<(), Diagnostics>, run: Run<'_>) -> Outcome<ClusterModel> {
        let mut outcome = Outcome::new(Some(state), result);
        if let Ok(warnings) = run.warnings.into_inner() {
            outcome.diags.extend(warnings);
        }
        outcome
    }

    /// Zones are chosen at plan time, so one EKS refuses (or too many asked
    /// for) is an error before anything exists.
    async fn plan_zones(&self, aws: &Aws, config: &Value, planned: &mut Value, diags: &mut Diagnostics) {
        let Some(region) = planned.attr("region").as_str().map(str::to_string) else {
            return;
        };
        let count = match planned.attr("availability_zone_count") {
            Value::Number(n) => *n as usize,
            _ => return,
        };
        let given: Option<Vec<String>> = match config.attr("availability_zones") {
            Value::List(zones) => zones.iter().map(|z| z.as_str().map(str::to_string)).collect(),
            Value::Null => None,
            _ => return,
        };
        let ec2 = crate::aws::ec2::Ec2::new(aws.ec2(&region, planned_role(planned)).await, &region);
        let zones = match ec2.find_availability_zones().await {
            Ok(zones) => zones,
            Err(e) => {
                return diags.attribute_error(
                    &AttributePath::attr("availability_zones"),
                    "Could not list availability zones",
                    e.to_string(),
                );
            }
        };
        match zones::pick(&zones, given.as_deref(), count, &region) {
            Ok(picked) => planned.set_attr(
                "availability_zones",
                Value::List(picked.into_iter().map(Value::string).collect()),
            ),
            Err(message) => {
                let attr = if given.is_some() {
                    "availability_zones"
                } else {
                    "availability_zone_count"
                };
                diags.attribute_error(&AttributePath::attr(attr), "Availability zones EKS cannot use", message);
            }
        }
    }

    /// The version is checked against (or, unset at create, chosen from)
    /// the versions EKS offers in the region, and warned about when it is
    /// near or past the end of standard support. An existing cluster's
    /// version is never changed here: Terraform's proposal keeps it.
    async fn plan_version(
        &self,
        aws: &Aws,
        prior: &Value,
        config: &Value,
        planned: &mut Value,
        diags: &mut Diagnostics,
    ) {
        let path = AttributePath::attr("kubernetes_version");
        let Some(region) = planned.attr("region").as_str().map(str::to_string) else {
            return;
        };
        if config.attr("kubernetes_version").is_unknown() {
            return;
        }
        let eks = Eks {
            client: aws.eks(&region, planned_role(planned)).await,
            region: region.clone(),
        };
        let offered = match eks.find_cluster_versions().await {
            Ok(offered) => offered,
            Err(e) => {
                return diags.attribute_error(
                    &path,
                    "Could not list the Kubernetes versions EKS offers",
                    format!("kubernetes_version: {e} (the provider needs eks:DescribeClusterVersions)."),
                );
            }
        };
        let names = offered
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let newest = versions::newest_standard(&offered).map(|v| v.version.clone());
        let version = match planned.attr("kubernetes_version").as_str() {
            Some(version) => version.to_string(),
            None if prior.is_null() => match &newest {
                Some(newest) => {
                    planned.set_attr("kubernetes_version", Value::string(newest.clone()));
                    newest.clone()
                }
                None => {
                    return diags.attribute_error(
                        &path,
                        "No Kubernetes version in standard support",
                        format!(
                            "kubernetes_version: EKS in {region} offers no version in standard support (only {names}): \
                             set kubernetes_version to one of those."
                        ),
                    );
                }
            },
            None => return,
        };
        let changing = prior.attr("kubernetes_version").as_str() != Some(version.as_str());
        let Some(info) = offered.iter().find(|v| v.version == version) else {
            // A running cluster on a version EKS stopped offering is EKS's to
            // upgrade; only a new cluster or a version change is refused.
            if changing {
                let unset = newest.map_or_else(String::new, |n| {
                    format!(", or leave kubernetes_version unset for the newest version in standard support ({n})")
                });
                diags.attribute_error(
                    &path,
                    "Kubernetes version EKS does not offer",
                    format!(
                        "kubernetes_version: EKS in {region} does not offer {version:?} (it offers {names}): use one \
                         of those{unset}."
                    ),
                );
            }
            return;
        };
        let support_type = planned.attr("support_type").as_str().unwrap_or("STANDARD");
        if let Some(warning) = versions::support_warning(info, support_type, versions::now()) {
            diags.attribute_warning(&path, "Kubernetes version leaving standard support", warning);
        }
    }

    /// A node group whose change EKS can't make in place gets a new EKS
    /// name (created before the old is deleted); groups behind the control
    /// plane's version, or replaced groups not yet deleted, show as changes.
    fn plan_node_groups(&self, prior: &ClusterModel, planned: &mut Value) {
        let unknown = |planned: &mut Value, names: &[&str]| {
            for name in names {
                planned.set_attr(name, Value::Unknown);
            }
        };
        const ALL: [&str; 5] = [
            "node_group_names",
            "retired_node_group_names",
            "node_group_versions",
            "node_group_launch_template_ids",
            "node_group_launch_template_versions",
        ];
        let groups = planned.attr("node_groups").clone();
        let after: BTreeMap<String, model::NodeGroupModel> = match &groups {
            Value::Null => BTreeMap::new(),
            value if value.is_wholly_known() => match value.to_model() {
                Ok(groups) => groups,
                Err(_) => return unknown(planned, &ALL),
            },
            _ => return unknown(planned, &ALL),
        };
        let before = prior.node_groups.clone().unwrap_or_default();
        let replaced = after.iter().any(|(key, wanted)| {
            before
                .get(key)
                .is_some_and(|current| current.needs_new_nodegroup(wanted))
        });
        let added_or_removed = !before.keys().eq(after.keys());
        if replaced || added_or_removed || prior.retired_node_group_names.is_some() {
            unknown(planned, &ALL[..2]);
        }
        let version = planned.attr("kubernetes_version").as_str().map(str::to_string);
        let lagging = prior
            .node_group_versions
            .iter()
            .flatten()
            .any(|(key, v)| after.contains_key(key) && Some(v) != version.as_ref());
        if lagging || added_or_removed || replaced || version.is_none() {
            unknown(planned, &ALL[2..3]);
        }
        // A managed template made, changed (a new version) or given up.
        let template_change = after.iter().any(|(key, wanted)| {
            before.get(key).is_none_or(|current| {
                current.template_use() != wanted.template_use() || current.template_changed(wanted)
            })
        });
        if added_or_removed || replaced {
            unknown(planned, &ALL[3..]);
        } else if template_change {
            unknown(planned, &ALL[4..]);
        }
    }
}
