//! `fleet_vpc_peering_accepter`: the accepter side of a peering requested
//! elsewhere (another state or account, `auto_accept = false`): accept it,
//! set the accepter's DNS option and add the accepter-side routes.
//!
//! Destroying it removes the routes it added and leaves the peering itself to
//! the requester, which owns it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::peering_routes::{SideRoutes, non_empty};
use super::timeouts::{self, TimeoutDefaults, Timeouts};
use super::validators::{AwsRegion, Each, PEERING_ID, ROUTE_TABLE_ID, RoleArn};
use super::{configured, default_region, error, import_target};
use crate::aws::ec2::{Ec2, Peering, Side};
use crate::aws::waiters::{Deadline, StopSignal};
use crate::aws::{Aws, AwsError, AwsHandle, Role};
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::typed::{Outcome, TypedResource};
use tfplugin::types::Type;
use tfplugin::value::Value;

pub const TYPE_NAME: &str = "fleet_vpc_peering_accepter";

const TIMEOUTS: TimeoutDefaults = TimeoutDefaults {
    create: Duration::from_secs(10 * 60),
    update: Duration::from_secs(10 * 60),
    delete: Duration::from_secs(10 * 60),
};

/// The resource's schema, apart from the instance so `new` can derive its
/// value type from it.
fn accepter_schema() -> Schema {
    Schema::new(
        "The accepter side of a VPC peering requested elsewhere (for example by `fleet_vpc_cross_region_peering` \
         with `auto_accept = false` in another state or account): accepts it, sets the accepter's DNS option \
         and adds accepter-side routes. Destroying it removes those routes and leaves the peering to its requester.",
        vec![
            Attribute::string("id", "Id of the VPC peering connection (same as `peering_id`).").computed(),
            Attribute::string("peering_id", "Id of the VPC peering connection to accept (`pcx-…`).")
                .required()
                .requires_replace()
                .validate(PEERING_ID),
            Attribute::string("region", "Region of the accepter VPC. Defaults to the provider's `region`.")
                .optional()
                .computed()
                .requires_replace()
                .validate(AwsRegion),
            Attribute::typed(
                "route_table_ids",
                Type::set(Type::String),
                "Route tables of the accepter VPC that get a route to the requester VPC's CIDR block through the peering.",
            )
            .optional()
            .validate(Each(ROUTE_TABLE_ID)),
            Attribute::bool(
                "allow_remote_vpc_dns_resolution",
                "Whether the accepter VPC resolves public DNS hostnames of instances in the requester VPC to private IP addresses.",
            )
            .default(Value::Bool(false)),
            Attribute::string(
                "assume_role_arn",
                "Role to assume for every call of this resource, for an accepter VPC in another account than the provider's credentials.",
            )
            .optional()
            .validate(RoleArn),
            Attribute::string("status", "Status of the peering (`active` once accepted).").computed(),
            Attribute::string("vpc_id", "Id of the accepter VPC.").computed(),
            Attribute::string("cidr_block", "Primary CIDR block of the accepter VPC.").computed(),
            Attribute::string("peer_vpc_id", "Id of the requester VPC.").computed(),
            Attribute::string("peer_region", "Region of the requester VPC.").computed(),
            Attribute::string("peer_owner_id", "AWS account that owns the requester VPC.").computed(),
            Attribute::string("peer_cidr_block", "Primary CIDR block of the requester VPC.").computed(),
        ],
    )
    .with_block("timeouts", timeouts::block(TIMEOUTS))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccepterModel {
    pub id: Option<String>,
    pub peering_id: String,
    pub region: Option<String>,
    pub route_table_ids: Option<BTreeSet<String>>,
    pub allow_remote_vpc_dns_resolution: Option<bool>,
    pub assume_role_arn: Option<String>,
    pub status: Option<String>,
    pub vpc_id: Option<String>,
    pub cidr_block: Option<String>,
    pub peer_vpc_id: Option<String>,
    pub peer_region: Option<String>,
    pub peer_owner_id: Option<String>,
    pub peer_cidr_block: Option<String>,
    pub timeouts: Option<Timeouts>,
}

pub struct VpcPeeringAccepter {
    aws: Arc<AwsHandle>,
    value_type: Type,
}

impl VpcPeeringAccepter {
    pub fn new(aws: Arc<AwsHandle>) -> Self {
        Self {
            aws,
            value_type: accepter_schema().value_type(),
        }
    }
}

#[async_trait]
impl TypedResource for VpcPeeringAccepter {
    type Model = AccepterModel;
    type Client = Arc<Aws>;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        accepter_schema()
    }

    fn value_type(&self) -> Type {
        self.value_type.clone()
    }

    fn client(&self) -> Result<Arc<Aws>, Diagnostics> {
        configured(&self.aws)
    }

    async fn modify_plan(&self, _prior: &Value, config: &Value, planned: &mut Value, diags: &mut Diagnostics) {
        if planned.is_null() || !config.attr("region").is_null() {
            return;
        }
        match self.client() {
            Ok(aws) => {
                if let Some(region) = default_region(&aws, &AttributePath::attr("region"), diags).await {
                    planned.set_attr("region", Value::string(region));
                }
            }
            Err(d) => diags.extend(d),
        }
    }

    async fn create(&self, aws: &Arc<Aws>, planned: AccepterModel) -> Outcome<AccepterModel> {
        let mut state = None;
        let result = self.accept(aws, &planned, &mut state).await;
        Outcome::new(state, result)
    }

    async fn read(&self, aws: &Arc<Aws>, prior: AccepterModel) -> Result<Option<AccepterModel>, Diagnostics> {
        let ec2 = refresh_ec2(aws, &prior).await?;
        let read_err = |e: AwsError| error("Could not read the VPC peering", e);
        let Some(peering) = ec2.find_peering(&prior.peering_id).await.map_err(read_err)? else {
            return Ok(None);
        };
        if peering.is_gone() {
            return Ok(None);
        }
        let mut model = prior.clone();
        model.status = Some(peering.status.clone());
        if peering.status == "active" {
            model.allow_remote_vpc_dns_resolution =
                Some(peering.accepter.allow_remote_vpc_dns_resolution.unwrap_or(false));
        }
        if let (Some(tables), Some(cidr)) = (&prior.route_table_ids, &prior.peer_cidr_block) {
            let routes = SideRoutes {
                ec2: &ec2,
                peering_id: &prior.peering_id,
                remote_cidr: cidr,
            };
            model.route_table_ids = Some(routes.still_routed(tables).await.map_err(read_err)?);
        }
        Ok(Some(model))
    }

    async fn update(&self, aws: &Arc<Aws>, prior: AccepterModel, planned: AccepterModel) -> Outcome<AccepterModel> {
        let mut state = AccepterModel {
            timeouts: planned.timeouts.clone(),
            assume_role_arn: planned.assume_role_arn.clone(),
            ..prior.clone()
        };
        let result = self.update_options(aws, &prior, &planned, &mut state).await;
        Outcome::new(Some(state), result)
    }

    async fn delete(&self, aws: &Arc<Aws>, prior: AccepterModel) -> Result<(), Diagnostics> {
        let ec2 = ec2(aws, &prior).await?;
        if let (Some(tables), Some(cidr)) = (&prior.route_table_ids, &prior.peer_cidr_block) {
            let routes = SideRoutes {
                ec2: &ec2,
                peering_id: &prior.peering_id,
                remote_cidr: cidr,
            };
            routes
                .sync(&Some(tables.clone()), &None)
                .await
                .1
                .map_err(|e| error("Could not remove a route through the VPC peering", e))?;
        }
        Ok(())
    }

    async fn import(&self, aws: &Arc<Aws>, id: &str) -> Result<AccepterModel, Diagnostics> {
        let (region, peering_id) = import_target(aws, id, "REGION/pcx-…").await?;
        if !PEERING_ID.matches(&peering_id) {
            return Err(error(
                "Malformed import id",
                format!(
                    "{id:?}: expected a VPC peering id (pcx-…), optionally prefixed by the accepter's region: \"eu-west-1/pcx-…\"."
                ),
            ));
        }
        let base = AccepterModel {
            peering_id: peering_id.clone(),
            region: Some(region),
            ..Default::default()
        };
        let ec2 = ec2(aws, &base).await?;
        let peering = match ec2.find_peering(&peering_id).await {
            Ok(Some(p)) if !p.is_gone() => p,
            Ok(_) => {
                return Err(error(
                    "VPC peering not found",
                    format!("{peering_id} does not exist in {}.", ec2.region),
                ));
            }
            Err(e) => return Err(error("Could not read the VPC peering", e)),
        };
        let mut model = flatten_accepted(&peering, base);
        if let Some(cidr) = &peering.requester.cidr_block {
            let routes = SideRoutes {
                ec2: &ec2,
                peering_id: &peering.id,
                remote_cidr: cidr,
            };
            model.route_table_ids = non_empty(
                routes
                    .discover(&peering.accepter.vpc_id)
                    .await
                    .map_err(|e| error("Could not read routes", e))?,
            );
        }
        Ok(model)
    }
}

impl VpcPeeringAccepter {
    /// Create: waits for the peering to await acceptance, accepts it, then
    /// sets the DNS option and the routes. `state` is set once accepted.
    async fn accept(
        &self,
        aws: &Aws,
        planned: &AccepterModel,
        state: &mut Option<AccepterModel>,
    ) -> Result<(), Diagnostics> {
        let ec2 = ec2(aws, planned).await?;
        let id = planned.peering_id.clone();
        let deadline = Deadline::after(Timeouts::create(&planned.timeouts, TIMEOUTS));
        let left = || deadline.left();
        let stop = &self.aws.stop;
        let peering = ec2
            .wait_for_peering(&id, &["pending-acceptance", "active"], left(), stop)
            .await
            .map_err(|e| error("VPC peering is not awaiting acceptance", e))?;
        if peering.status != "active" {
            ec2.accept_peering(&id)
                .await
                .map_err(|e| error("Could not accept the VPC peering", e))?;
        }
        let peering = ec2
            .wait_for_peering(&id, &["active"], left(), stop)
            .await
            .map_err(|e| error("VPC peering did not become active", e))?;
        // Accepted: from here on the state records what this resource did.
        let accepted = state.insert(AccepterModel {
            route_table_ids: planned.route_table_ids.as_ref().map(|_| BTreeSet::new()),
            ..flatten_accepted(&peering, planned.clone())
        });
        sync_dns(&ec2, planned, accepted, left(), stop).await?;
        if let Some(cidr) = accepted.peer_cidr_block.clone() {
            let routes = SideRoutes {
                ec2: &ec2,
                peering_id: &id,
                remote_cidr: &cidr,
            };
            let (recorded, result) = routes.sync(&None, &planned.route_table_ids).await;
            accepted.route_table_ids = recorded;
            result.map_err(|e| error("Could not add a route through the VPC peering", e))?;
        }
        Ok(())
    }

    /// Update: the DNS option and the routes, recorded in `state` as they change.
    async fn update_options(
        &self,
        aws: &Aws,
        prior: &AccepterModel,
        planned: &AccepterModel,
        state: &mut AccepterModel,
    ) -> Result<(), Diagnostics> {
        let ec2 = ec2(aws, planned).await?;
        let timeout = Timeouts::update(&planned.timeouts, TIMEOUTS);
        sync_dns(&ec2, planned, state, timeout, &self.aws.stop).await?;
        let Some(cidr) = prior.peer_cidr_block.clone() else {
            return Ok(());
        };
        let routes = SideRoutes {
            ec2: &ec2,
            peering_id: &prior.peering_id,
            remote_cidr: &cidr,
        };
        let (recorded, result) = routes.sync(&prior.route_table_ids, &planned.route_table_ids).await;
        state.route_table_ids = recorded;
        result.map_err(|e| error("Could not update peering routes", e))
    }
}

/// EC2 in the accepter's region, through `assume_role_arn` when set.
async fn ec2(aws: &Aws, model: &AccepterModel) -> Result<Ec2, Diagnostics> {
    let region = model
        .region
        .clone()
        .ok_or_else(|| error("Missing region", "region is not set and could not be defaulted."))?;
    Ok(Ec2::new(
        aws.ec2(&region, model.assume_role_arn.as_deref().map(Role::arn)).await,
        &region,
    ))
}

/// For ReadResource: route tables are read through the plan's shared reads.
async fn refresh_ec2(aws: &Aws, model: &AccepterModel) -> Result<Ec2, Diagnostics> {
    let ec2 = ec2(aws, model).await?;
    Ok(ec2.sharing_reads(aws.shared_reads.clone(), model.assume_role_arn.as_deref()))
}

/// Sets the accepter's DNS option where it differs from `state`, and reads
/// it back until it shows (EC2 propagation), so a stale read can't show drift.
async fn sync_dns(
    ec2: &Ec2,
    wanted: &AccepterModel,
    state: &mut AccepterModel,
    timeout: Duration,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    let want = wanted.allow_remote_vpc_dns_resolution.unwrap_or(false);
    if state.allow_remote_vpc_dns_resolution != Some(want) {
        ec2.set_remote_dns_resolution_and_wait(&wanted.peering_id, Side::Accepter, want, timeout, stop)
            .await
            .map_err(|e| error("Could not set the accepter's DNS resolution option", e))?;
        state.allow_remote_vpc_dns_resolution = Some(want);
    }
    Ok(())
}

/// The accepted peering's sides over `base` (the plan, or an import's id and region).
fn flatten_accepted(peering: &Peering, base: AccepterModel) -> AccepterModel {
    AccepterModel {
        id: Some(peering.id.clone()),
        status: Some(peering.status.clone()),
        vpc_id: Some(peering.accepter.vpc_id.clone()),
        cidr_block: peering.accepter.cidr_block.clone(),
        peer_vpc_id: Some(peering.requester.vpc_id.clone()),
        peer_region: peering.requester.region.clone(),
        peer_owner_id: peering.requester.owner_id.clone(),
        peer_cidr_block: peering.requester.cidr_block.clone(),
        allow_remote_vpc_dns_resolution: Some(peering.accepter.allow_remote_vpc_dns_resolution.unwrap_or(false)),
        ..base
    }
}
