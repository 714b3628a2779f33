//! `fleet_eks_regional_cluster`: one region's whole EKS stack as one resource,
//! with `region` as an argument so `for_each` over regions needs one provider.

mod kubeconfig;
mod lifecycle;
pub mod model;
pub mod network;
pub mod schema;
mod validators;

use std::sync::Arc;

use async_trait::async_trait;

use super::timeouts::Timeouts;
use super::{Applied, Resource, configured, default_region, error, finish, import_target, plan_tags_all, state_value};
use crate::aws::AwsHandle;
use crate::protocol::diagnostics::{AttributePath, Diagnostics};
use crate::protocol::schema::Schema;
use crate::protocol::types::Type;
use crate::protocol::value::Value;
use lifecycle::Clients;
use model::ClusterModel;
use schema::TIMEOUTS;

pub const TYPE_NAME: &str = "fleet_eks_regional_cluster";

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

    async fn clients(&self, model: &ClusterModel) -> Result<Clients, Diagnostics> {
        let aws = configured(&self.aws)?;
        Ok(Clients::new(&aws, region_of(model)?).await)
    }

    async fn refresh_clients(&self, model: &ClusterModel) -> Result<Clients, Diagnostics> {
        let aws = configured(&self.aws)?;
        Ok(Clients::for_refresh(&aws, region_of(model)?).await)
    }
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
        prior
            .attr("status")
            .as_str()
            .is_some_and(|s| s == lifecycle::DELETED || s == lifecycle::NETWORK_DRIFT)
    }
}

/// `major.minor` as numbers.
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

fn minor_version(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[async_trait]
impl Resource for EksRegionalCluster {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
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
                && let Err(e) = network::plan_subnets(net, count)
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
    }

    async fn modify_plan(&self, prior: &Value, config: &Value, planned: &mut Value, diags: &mut Diagnostics) {
        if planned.is_null() {
            return;
        }
        let aws = match configured(&self.aws) {
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
        // The zone count follows an explicit zone list, else defaults to 3;
        // an existing (or imported) cluster keeps the count it has.
        if planned.attr("availability_zone_count").is_unknown() {
            let count = match config.attr("availability_zones") {
                Value::List(zones) => Value::Number(zones.len() as f64),
                Value::Unknown => Value::Unknown,
                _ => Value::Number(3.0),
            };
            planned.set_attr("availability_zone_count", count);
        }
        // Any change may pass through UPDATING; a lost cluster or network
        // (marked by refresh) is replaced, see forces_replacement.
        if !prior.is_null() && (prior != &*planned || self.lost(prior)) {
            planned.set_attr("status", Value::Unknown);
        }
        // NAT gateways lost out of band are repaired in place.
        if let Ok(prior_model) = prior.to_model::<ClusterModel>()
            && !prior.is_null()
            && prior_model.nat_gateway_ids.as_ref().map_or(0, Vec::len) < lifecycle::nat_count(&prior_model)
        {
            planned.set_attr("nat_gateway_ids", Value::Unknown);
            planned.set_attr("eip_allocation_ids", Value::Unknown);
        }
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
    }

    fn forces_replacement(&self, prior: &Value) -> Vec<AttributePath> {
        if self.lost(prior) {
            vec![AttributePath::attr("status")]
        } else {
            Vec::new()
        }
    }

    async fn create(&self, planned: &Value) -> Applied {
        let model: ClusterModel = match planned.to_model() {
            Ok(m) => m,
            Err(e) => {
                return Applied {
                    state: None,
                    diags: error("Invalid planned state", e),
                };
            }
        };
        let clients = match self.clients(&model).await {
            Ok(c) => c,
            Err(diags) => return Applied { state: None, diags },
        };
        let mut state = ClusterModel::default();
        let timeout = Timeouts::create(&model.timeouts, TIMEOUTS);
        let result = lifecycle::create(&clients, &model, &mut state, timeout, &self.aws.stop).await;
        let state = if state.id.is_some() { Some(state) } else { None };
        finish(&self.value_type, state, result)
    }

    async fn read(&self, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let prior: ClusterModel = state.to_model().map_err(|e| error("Invalid stored state", e))?;
        let clients = self.refresh_clients(&prior).await?;
        let refreshed = lifecycle::read(&clients, &prior).await?;
        Ok(Some(state_value(&refreshed, &self.value_type)?))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> Applied {
        let (prior, planned): (ClusterModel, ClusterModel) = match (prior.to_model(), planned.to_model()) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                return Applied {
                    state: None,
                    diags: error("Invalid state", e),
                };
            }
        };
        let clients = match self.clients(&planned).await {
            Ok(c) => c,
            Err(diags) => return Applied { state: None, diags },
        };
        let mut state = prior.clone();
        let timeout = Timeouts::update(&planned.timeouts, TIMEOUTS);
        let result = lifecycle::update(&clients, &prior, &planned, &mut state, timeout, &self.aws.stop).await;
        finish(&self.value_type, Some(state), result)
    }

    async fn delete(&self, prior: &Value) -> Diagnostics {
        let result = async {
            let model: ClusterModel = prior.to_model().map_err(|e| error("Invalid stored state", e))?;
            let clients = self.clients(&model).await?;
            lifecycle::delete(
                &clients,
                &model,
                Timeouts::delete(&model.timeouts, TIMEOUTS),
                &self.aws.stop,
            )
            .await
        }
        .await;
        result.err().unwrap_or_default()
    }

    async fn import(&self, id: &str) -> Result<Value, Diagnostics> {
        let aws = configured(&self.aws)?;
        let (region, name) = import_target(&aws, id, "REGION/NAME").await?;
        let clients = Clients::new(&aws, &region).await;
        // Terraform refreshes (ReadResource) right after import: no read here.
        let model = lifecycle::import(&clients, &name, &aws.settings().default_tags).await?;
        state_value(&model, &self.value_type)
    }
}
