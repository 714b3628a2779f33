//! `fleet_vpc_cross_region_peering`: a VPC peering across regions (and
//! accounts) with acceptance, DNS options and routes on both sides, in one
//! resource. `region` is an argument of each side, so `for_each` over regions
//! needs no provider per region.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::peering_routes::{SideRoutes, non_empty};
use super::timeouts::{self, TimeoutDefaults, Timeouts};
use super::validators::{AccountId, AwsRegion, Each, PEERING_ID, ROUTE_TABLE_ID, RoleArn, Tags, VPC_ID};
use super::{configured, default_region, error, import_target, plan_tags_all};
use crate::aws::ec2::{Ec2, Peering, Side, first_overlap, vpc_cidrs};
use crate::aws::waiters::{Deadline, StopSignal};
use crate::aws::{Aws, AwsHandle, Role};
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::typed::{Outcome, TypedResource};
use tfplugin::types::Type;
use tfplugin::value::Value;

pub const TYPE_NAME: &str = "fleet_vpc_cross_region_peering";

const TIMEOUTS: TimeoutDefaults = TimeoutDefaults {
    create: Duration::from_secs(10 * 60),
    update: Duration::from_secs(10 * 60),
    delete: Duration::from_secs(10 * 60),
};

/// The resource's schema, apart from the instance so `new` can derive its
/// value type from it.
fn peering_schema() -> Schema {
    let mut accepter = side_attributes("accepter");
    accepter.push(
        Attribute::string(
            "account_id",
            "AWS account that owns the accepter VPC, when it is not the requester's account.",
        )
        .optional()
        .requires_replace()
        .validate(AccountId),
    );
    accepter.push(
        Attribute::string(
            "assume_role_arn",
            "Role to assume for calls on the accepter side (accepting, its DNS option and routes), for an \
             accepter VPC in another account.",
        )
        .optional()
        .validate(RoleArn),
    );
    Schema::new(
        "A VPC peering between two VPCs in any two regions (and accounts): the request, its acceptance, the \
         DNS resolution options and the routes on both sides, as one resource.",
        vec![
            Attribute::string("id", "Id of the VPC peering connection (`pcx-…`).").computed(),
            Attribute::single_nested(
                "requester",
                side_attributes("requester"),
                "The side that requests the peering.",
            )
            .required(),
            Attribute::single_nested("accepter", accepter, "The side that accepts the peering.").required(),
            Attribute::bool(
                "auto_accept",
                "Accept the peering in the accepter's region during the same apply. Set to `false` to only \
                 request it and manage the accepter side with `fleet_vpc_peering_accepter` (another state or \
                 account); the accepter's `route_table_ids` and DNS option must then stay unset here.",
            )
            .default(Value::Bool(true)),
            Attribute::typed("tags", Type::map(Type::String), "Tags for the peering connection.")
                .optional()
                .validate(Tags),
            Attribute::typed(
                "tags_all",
                Type::map(Type::String),
                "All tags of the peering connection: the provider's `default_tags` merged with `tags`.",
            )
            .computed(),
            Attribute::string(
                "status",
                "Status of the peering: `active`, or `pending-acceptance` until the accepter accepts.",
            )
            .computed(),
            Attribute::string("requester_cidr_block", "Primary CIDR block of the requester VPC.").computed(),
            Attribute::string("accepter_cidr_block", "Primary CIDR block of the accepter VPC.").computed(),
        ],
    )
    .with_block("timeouts", timeouts::block(TIMEOUTS))
}

fn side_attributes(side: &str) -> Vec<Attribute> {
    let other = if side == "requester" { "accepter" } else { "requester" };
    vec![
        Attribute::string(
            "region",
            &format!("Region of the {side} VPC. Defaults to the provider's `region`."),
        )
        .optional()
        .computed()
        .requires_replace()
        .validate(AwsRegion),
        Attribute::string("vpc_id", &format!("Id of the {side} VPC."))
            .required()
            .requires_replace()
            .validate(VPC_ID),
        Attribute::typed(
            "route_table_ids",
            Type::set(Type::String),
            &format!(
                "Route tables of the {side} VPC that get a route to the {other} VPC's CIDR block through the \
                 peering. Tables can be added and removed in place; only routes this resource added are removed."
            ),
        )
        .optional()
        .validate(Each(ROUTE_TABLE_ID)),
        Attribute::bool(
            "allow_remote_vpc_dns_resolution",
            &format!(
                "Whether the {side} VPC resolves public DNS hostnames of instances in the {other} VPC to private \
                 IP addresses. Applied once the peering is active."
            ),
        )
        .default(Value::Bool(false)),
    ]
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequesterModel {
    pub region: Option<String>,
    pub vpc_id: String,
    pub route_table_ids: Option<BTreeSet<String>>,
    pub allow_remote_vpc_dns_resolution: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccepterModel {
    pub region: Option<String>,
    pub vpc_id: String,
    pub route_table_ids: Option<BTreeSet<String>>,
    pub allow_remote_vpc_dns_resolution: Option<bool>,
    pub account_id: Option<String>,
    pub assume_role_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeeringModel {
    pub id: Option<String>,
    pub requester: RequesterModel,
    pub accepter: AccepterModel,
    pub auto_accept: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
    pub tags_all: Option<BTreeMap<String, String>>,
    pub status: Option<String>,
    pub requester_cidr_block: Option<String>,
    pub accepter_cidr_block: Option<String>,
    pub timeouts: Option<Timeouts>,
}

impl PeeringModel {
    fn auto_accept(&self) -> bool {
        self.auto_accept.unwrap_or(true)
    }
}

pub struct VpcCrossRegionPeering {
    aws: Arc<AwsHandle>,
    value_type: Type,
}

impl VpcCrossRegionPeering {
    pub fn new(aws: Arc<AwsHandle>) -> Self {
        Self {
            aws,
            value_type: peering_schema().value_type(),
        }
    }
}

#[async_trait]
impl TypedResource for VpcCrossRegionPeering {
    type Model = PeeringModel;
    type Client = Arc<Aws>;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        peering_schema()
    }

    fn value_type(&self) -> Type {
        self.value_type.clone()
    }

    fn client(&self) -> Result<Arc<Aws>, Diagnostics> {
        configured(&self.aws)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let requester_vpc = config.at(&["requester", "vpc_id"]);
        let accepter_vpc = config.at(&["accepter", "vpc_id"]);
        if let (Some(a), Some(b)) = (requester_vpc.as_str(), accepter_vpc.as_str())
            && a == b
        {
            diags.attribute_error(
                    &AttributePath::attr("accepter").then("vpc_id"),
                    "Requester and accepter are the same VPC",
                    format!("accepter.vpc_id: {b} is also requester.vpc_id. A VPC cannot peer with itself: name two different VPCs."),
                );
        }
        if config.attr("auto_accept").as_bool() == Some(false) {
            let routes = config.at(&["accepter", "route_table_ids"]);
            if !routes.is_null() && (routes.is_unknown() || !routes.elements().is_empty()) {
                diags.attribute_error(
                    &AttributePath::attr("accepter").then("route_table_ids"),
                    "Accepter routes need auto_accept",
                    "accepter.route_table_ids: with auto_accept = false this resource does not act on the accepter \
                     side. Set route_table_ids on the fleet_vpc_peering_accepter resource instead, or set auto_accept = true.",
                );
            }
            if config.at(&["accepter", "allow_remote_vpc_dns_resolution"]).as_bool() == Some(true) {
                diags.attribute_error(
                    &AttributePath::attr("accepter").then("allow_remote_vpc_dns_resolution"),
                    "Accepter DNS option needs auto_accept",
                    "accepter.allow_remote_vpc_dns_resolution: with auto_accept = false this resource does not act \
                     on the accepter side. Set it on the fleet_vpc_peering_accepter resource instead, or set auto_accept = true.",
                );
            }
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
        // Regions left unset follow the provider's region, on every plan.
        for side in ["requester", "accepter"] {
            if config.at(&[side, "region"]).is_null()
                && let Some(region) = default_region(&aws, &AttributePath::attr(side).then("region"), diags).await
                && let Some(side_value) = planned.attr_mut(side)
            {
                side_value.set_attr("region", Value::string(region));
            }
        }
        plan_tags_all(&aws, planned);

        // A pending peering accepted by this update changes status.
        if prior.attr("status").as_str() == Some("pending-acceptance")
            && planned.attr("auto_accept").as_bool() == Some(true)
        {
            planned.set_attr("status", Value::Unknown);
        }

        // With both VPCs known, check them now, before anything is created.
        let vpcs_changed = prior.is_null()
            || prior.at(&["requester", "vpc_id"]) != planned.at(&["requester", "vpc_id"])
            || prior.at(&["accepter", "vpc_id"]) != planned.at(&["accepter", "vpc_id"]);
        if vpcs_changed && planned.attr("requester").is_wholly_known() && planned.attr("accepter").is_wholly_known() {
            let Ok(model) = planned_sides(planned) else {
                return;
            };
            if let Some((requester_cidr, accepter_cidr)) = self.check_vpcs(&aws, &model, MissingVpc::Warn, diags).await
            {
                if let Some(cidr) = requester_cidr {
                    planned.set_attr("requester_cidr_block", Value::string(cidr));
                }
                if let Some(cidr) = accepter_cidr {
                    planned.set_attr("accepter_cidr_block", Value::string(cidr));
                }
            }
        } else if vpcs_changed {
            for computed in ["id", "status", "requester_cidr_block", "accepter_cidr_block"] {
                planned.set_attr(computed, Value::Unknown);
            }
        }
    }

    async fn create(&self, aws: &Arc<Aws>, planned: PeeringModel) -> Outcome<PeeringModel> {
        let mut state = None;
        let result = self.request_peering(aws, &planned, &mut state).await;
        Outcome::new(state, result)
    }

    async fn read(&self, aws: &Arc<Aws>, prior: PeeringModel) -> Result<Option<PeeringModel>, Diagnostics> {
        self.observe(aws, prior).await
    }

    async fn update(&self, aws: &Arc<Aws>, prior: PeeringModel, planned: PeeringModel) -> Outcome<PeeringModel> {
        let mut state = prior.clone();
        let result = self.update_sides(aws, &prior, &planned, &mut state).await;
        Outcome::new(Some(state), result)
    }

    async fn delete(&self, aws: &Arc<Aws>, prior: PeeringModel) -> Result<(), Diagnostics> {
        self.delete_peering_and_routes(aws, &prior).await
    }

    async fn import(&self, aws: &Arc<Aws>, id: &str) -> Result<PeeringModel, Diagnostics> {
        let (region, peering_id) = import_target(aws, id, "REGION/pcx-…").await?;
        let peering_id = peering_id.as_str();
        if !PEERING_ID.matches(peering_id) {
            return Err(error(
                "Malformed import id",
                format!(
                    "{id:?}: expected a VPC peering id (pcx-…), optionally prefixed by the region to look in: \"us-east-1/pcx-…\"."
                ),
            ));
        }
        let lookup = Ec2::new(aws.ec2(&region, None).await, &region);
        let peering = match lookup.find_peering(peering_id).await {
            Ok(Some(p)) if !p.is_gone() => p,
            Ok(_) => {
                return Err(error(
                    "VPC peering not found",
                    format!(
                        "{peering_id} does not exist in {region} (or is deleted). Import it as \"REGION/{peering_id}\" with the requester's or accepter's region."
                    ),
                ));
            }
            Err(e) => return Err(error("Could not read the VPC peering", e)),
        };
        imported_model(aws, &region, peering)
            .await
            .map_err(|e| error("Could not read the VPC peering", e))
    }
}

impl VpcCrossRegionPeering {
    /// Both VPCs exist and their CIDRs don't overlap. Returns the primary
    /// CIDR of each VPC it could see. `missing` says what a VPC that does not
    /// exist is: at plan, a warning (the id may be a Terragrunt mock of a
    /// dependency not applied yet); before a create, an error.
    async fn check_vpcs(
        &self,
        aws: &Aws,
        model: &PeeringModel,
        missing: MissingVpc,
        diags: &mut Diagnostics,
    ) -> Option<(Option<String>, Option<String>)> {
        let sides = Sides::new(aws, model).await.map_err(|d| diags.extend(d)).ok()?;
        let requester_vpc = match sides.requester.find_vpc(&model.requester.vpc_id).await {
            Ok(Some(vpc)) => vpc,
            Ok(None) => {
                missing.report(
                    diags,
                    &AttributePath::attr("requester").then("vpc_id"),
                    format!(
                        "requester.vpc_id: VPC {} does not exist in {}. Check the id and requester.region.",
                        model.requester.vpc_id, sides.requester.region
                    ),
                );
                return None;
            }
            Err(err) => {
                diags.error("Could not read the requester VPC", err.to_string());
                return None;
            }
        };
        let accepter_vpc = match sides.accepter.find_vpc(&model.accepter.vpc_id).await {
            Ok(Some(vpc)) => Some(vpc),
            // Another account's VPC is invisible without its role: AWS checks at
            // request time. Requester routes, though, need its CIDR.
            Ok(None) if model.accepter.account_id.is_some() && model.accepter.assume_role_arn.is_none() => {
                if model.requester.route_table_ids.as_ref().is_some_and(|t| !t.is_empty()) {
                    diags.attribute_error(
                        &AttributePath::attr("requester").then("route_table_ids"),
                        "Accepter CIDR unknown",
                        "requester.route_table_ids: routes go to the accepter VPC's CIDR, which another account's VPC \
                         doesn't reveal without its role. Set accepter.assume_role_arn, or add these routes once the \
                         peering is accepted.",
                    );
                }
                None
            }
            Ok(None) => {
                missing.report(
                    diags,
                    &AttributePath::attr("accepter").then("vpc_id"),
                    format!(
                        "accepter.vpc_id: VPC {} does not exist in {}. Check the id, accepter.region and, for \
                         another account, accepter.assume_role_arn.",
                        model.accepter.vpc_id, sides.accepter.region
                    ),
                );
                return None;
            }
            Err(err) => {
                diags.error("Could not read the accepter VPC", err.to_string());
                return None;
            }
        };
        let requester_cidrs = vpc_cidrs(&requester_vpc);
        if let Some(accepter_vpc) = &accepter_vpc
            && let Some((a, b)) = first_overlap(&requester_cidrs, &vpc_cidrs(accepter_vpc))
        {
            diags.attribute_error(
                &AttributePath::attr("accepter").then("vpc_id"),
                "Overlapping VPC CIDR blocks",
                format!(
                    "accepter.vpc_id: VPC {} ({b}) overlaps requester VPC {} ({a}). AWS cannot peer VPCs whose \
                         CIDR blocks overlap: peer VPCs with disjoint CIDR blocks.",
                    model.accepter.vpc_id, model.requester.vpc_id
                ),
            );
            return None;
        }
        Some((
            requester_vpc.cidr_block().map(str::to_string),
            accepter_vpc.and_then(|v| v.cidr_block().map(str::to_string)),
        ))
    }

    /// Create: checks both VPCs, requests the peering, accepts it (with
    /// `auto_accept`), then sets DNS options and routes, recording each step in `state`.
    async fn request_peering(
        &self,
        aws: &Aws,
        model: &PeeringModel,
        state: &mut Option<PeeringModel>,
    ) -> Result<(), Diagnostics> {
        let stop = &self.aws.stop;
        // The plan only warned about a VPC it could not find: nothing is
        // requested until both exist.
        let mut checks = Diagnostics::new();
        self.check_vpcs(aws, model, MissingVpc::Refuse, &mut checks).await;
        if checks.has_errors() {
            return Err(checks);
        }
        let sides = Sides::new(aws, model).await?;
        let deadline = Deadline::after(Timeouts::create(&model.timeouts, TIMEOUTS));
        let fail = |summary: &str, err: &dyn std::fmt::Display| error(summary.to_string(), err);

        let id = sides
            .requester
            .create_peering(
                &model.requester.vpc_id,
                &model.accepter.vpc_id,
                &sides.accepter.region,
                model.accepter.account_id.as_deref(),
                &model.tags_all.clone().unwrap_or_default(),
            )
            .await
            .map_err(|e| fail("Could not request the VPC peering", &e))?;
        // From here on the peering exists: every exit records it in state.
        let created = state.insert(PeeringModel {
            id: Some(id.clone()),
            status: Some("initiating-request".into()),
            requester: RequesterModel {
                route_table_ids: model.requester.route_table_ids.as_ref().map(|_| BTreeSet::new()),
                allow_remote_vpc_dns_resolution: Some(false),
                ..model.requester.clone()
            },
            accepter: AccepterModel {
                route_table_ids: model.accepter.route_table_ids.as_ref().map(|_| BTreeSet::new()),
                allow_remote_vpc_dns_resolution: Some(false),
                ..model.accepter.clone()
            },
            ..model.clone()
        });

        let mut peering = sides
            .requester
            .wait_for_peering(&id, &["pending-acceptance", "active"], deadline.left(), stop)
            .await
            .map_err(|e| fail("VPC peering request did not reach pending-acceptance", &e))?;
        created.status = Some(peering.status.clone());

        if model.auto_accept() && peering.status != "active" {
            // The request reaches the accepter's region asynchronously.
            sides
                .accepter
                .wait_for_peering(&id, &["pending-acceptance", "active"], deadline.left(), stop)
                .await
                .map_err(|e| fail("VPC peering request did not reach the accepter region", &e))?;
            sides
                .accepter
                .accept_peering(&id)
                .await
                .map_err(|e| fail("Could not accept the VPC peering", &e))?;
            peering = sides
                .requester
                .wait_for_peering(&id, &["active"], deadline.left(), stop)
                .await
                .map_err(|e| fail("VPC peering did not become active", &e))?;
            created.status = Some(peering.status.clone());
        }
        created.requester_cidr_block = peering
            .requester
            .cidr_block
            .clone()
            .or(model.requester_cidr_block.clone());
        created.accepter_cidr_block = peering
            .accepter
            .cidr_block
            .clone()
            .or(model.accepter_cidr_block.clone());

        let active = peering.status == "active";
        apply_dns(&sides, &id, active, model, created, deadline.left(), stop).await?;
        if !active {
            // Applied by the first apply after the accepter accepts (see Read).
            created.requester.allow_remote_vpc_dns_resolution = model.requester.allow_remote_vpc_dns_resolution;
        }
        add_routes(&sides, &id, model, created).await?;
        Ok(())
    }

    /// Read: the peering and the routes it recorded, as they are now.
    async fn observe(&self, aws: &Aws, prior: PeeringModel) -> Result<Option<PeeringModel>, Diagnostics> {
        let sides = Sides::for_refresh(aws, &prior).await?;
        let Some(id) = prior.id.clone() else {
            return Ok(None);
        };
        let read_err = |e: crate::aws::AwsError| error("Could not read the VPC peering", e);
        let Some(peering) = sides.requester.find_peering(&id).await.map_err(read_err)? else {
            return Ok(None);
        };
        if peering.is_gone() {
            return Ok(None);
        }
        let mut state = prior.clone();
        state.status = Some(peering.status.clone());
        state.requester_cidr_block = peering
            .requester
            .cidr_block
            .clone()
            .or(prior.requester_cidr_block.clone());
        state.accepter_cidr_block = peering
            .accepter
            .cidr_block
            .clone()
            .or(prior.accepter_cidr_block.clone());
        state.tags_all = Some(peering.tags.clone());
        let active = peering.status == "active";
        if active {
            // Options only exist on an active peering; before that we keep
            // what was configured so the plan stays quiet until acceptance.
            state.requester.allow_remote_vpc_dns_resolution =
                Some(peering.requester.allow_remote_vpc_dns_resolution.unwrap_or(false));
        }
        // The accepter's view and both sides' routes are independent reads:
        // made at once, judged in the order they used to be made.
        let accepter_view = async {
            if prior.auto_accept() && active {
                sides.accepter.find_peering(&id).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (accepter_view, requester_routes, accepter_routes) = tokio::join!(
            accepter_view,
            still_routed(
                &sides.requester,
                &id,
                prior.requester.route_table_ids.as_ref(),
                state.accepter_cidr_block.as_deref()
            ),
            still_routed(
                &sides.accepter,
                &id,
                prior.accepter.route_table_ids.as_ref(),
                state.requester_cidr_block.as_deref()
            )
        );
        if let Some(accepter_view) = accepter_view.map_err(read_err)? {
            // Each side's options as seen from that side's region and account.
            let allow = accepter_view
                .map(|p| p.accepter.allow_remote_vpc_dns_resolution)
                .unwrap_or(peering.accepter.allow_remote_vpc_dns_resolution);
            state.accepter.allow_remote_vpc_dns_resolution = Some(allow.unwrap_or(false));
        }
        if let Some(tables) = requester_routes.map_err(read_err)? {
            state.requester.route_table_ids = Some(tables);
        }
        if let Some(tables) = accepter_routes.map_err(read_err)? {
            state.accepter.route_table_ids = Some(tables);
        }
        Ok(Some(state))
    }

    /// Update: acceptance, DNS options and routes moved from `prior` to `planned`, recorded in `state`.
    async fn update_sides(
        &self,
        aws: &Aws,
        prior: &PeeringModel,
        planned: &PeeringModel,
        state: &mut PeeringModel,
    ) -> Result<(), Diagnostics> {
        let sides = Sides::new(aws, planned).await?;
        let id = prior.id.clone().unwrap_or_default();
        let deadline = Deadline::after(Timeouts::update(&planned.timeouts, TIMEOUTS));
        let fail = |summary: &str, err: &dyn std::fmt::Display| error(summary.to_string(), err);

        // Keep timeouts, credentials and flags as planned; AWS-backed parts
        // move from prior to planned as each step succeeds.
        state.timeouts = planned.timeouts.clone();
        state.auto_accept = planned.auto_accept;
        state.tags = planned.tags.clone();
        state.accepter.assume_role_arn = planned.accepter.assume_role_arn.clone();

        if planned.auto_accept() && prior.status.as_deref() == Some("pending-acceptance") {
            sides
                .accepter
                .accept_peering(&id)
                .await
                .map_err(|e| fail("Could not accept the VPC peering", &e))?;
            let peering = sides
                .requester
                .wait_for_peering(&id, &["active"], deadline.left(), &self.aws.stop)
                .await
                .map_err(|e| fail("VPC peering did not become active", &e))?;
            state.status = Some(peering.status);
        }
        let active = state.status.as_deref() == Some("active");
        apply_dns(&sides, &id, active, planned, state, deadline.left(), &self.aws.stop).await?;
        if !active {
            state.requester.allow_remote_vpc_dns_resolution = planned.requester.allow_remote_vpc_dns_resolution;
        }

        if planned.tags_all != prior.tags_all {
            let (current, wanted) = (
                prior.tags_all.clone().unwrap_or_default(),
                planned.tags_all.clone().unwrap_or_default(),
            );
            sides
                .requester
                .sync_tags(std::slice::from_ref(&id), &current, &wanted)
                .await
                .map_err(|e| fail("Could not update tags", &e))?;
            state.tags_all = planned.tags_all.clone();
        }

        // Routes: remove from tables no longer listed, then add to new ones.
        for (side, ec2, remote_cidr) in [
            (Side::Requester, &sides.requester, prior.accepter_cidr_block.clone()),
            (Side::Accepter, &sides.accepter, prior.requester_cidr_block.clone()),
        ] {
            let Some(remote_cidr) = remote_cidr else {
                continue;
            };
            let (before, after, current) = match side {
                Side::Requester => (
                    &prior.requester.route_table_ids,
                    &planned.requester.route_table_ids,
                    &mut state.requester.route_table_ids,
                ),
                Side::Accepter => (
                    &prior.accepter.route_table_ids,
                    &planned.accepter.route_table_ids,
                    &mut state.accepter.route_table_ids,
                ),
            };
            let routes = SideRoutes {
                ec2,
                peering_id: &id,
                remote_cidr: &remote_cidr,
            };
            let (recorded, result) = routes.sync(before, after).await;
            *current = recorded;
            result.map_err(|e| fail("Could not update peering routes", &e))?;
        }
        Ok(())
    }

    /// Delete: the routes it added on both sides, then the peering, waited for until deleted.
    async fn delete_peering_and_routes(&self, aws: &Aws, model: &PeeringModel) -> Result<(), Diagnostics> {
        let sides = Sides::new(aws, model).await?;
        let Some(id) = model.id.clone() else {
            return Ok(());
        };
        let deadline = Deadline::after(Timeouts::delete(&model.timeouts, TIMEOUTS));
        let route_err = |e: crate::aws::AwsError| error("Could not remove a route through the VPC peering", e);
        for (ec2, tables, cidr) in [
            (
                &sides.requester,
                &model.requester.route_table_ids,
                &model.accepter_cidr_block,
            ),
            (
                &sides.accepter,
                &model.accepter.route_table_ids,
                &model.requester_cidr_block,
            ),
        ] {
            if let Some(cidr) = cidr {
                let routes = SideRoutes {
                    ec2,
                    peering_id: &id,
                    remote_cidr: cidr,
                };
                routes.sync(tables, &None).await.1.map_err(route_err)?;
            }
        }
        sides
            .requester
            .delete_peering(&id)
            .await
            .map_err(|e| error("Could not delete the VPC peering", e))?;
        sides
            .requester
            .wait_for_peering_deleted(&id, deadline.left(), &self.aws.stop)
            .await
            .map_err(|e| error("VPC peering was not deleted", e))
    }
}

/// EC2 clients for the two sides, each in its own region and account.
struct Sides {
    requester: Ec2,
    accepter: Ec2,
}

impl Sides {
    async fn new(aws: &Aws, model: &PeeringModel) -> Result<Self, Diagnostics> {
        let requester_region = required_region(&model.requester.region, "requester")?;
        let accepter_region = required_region(&model.accepter.region, "accepter")?;
        Ok(Self {
            requester: Ec2::new(aws.ec2(requester_region, None).await, requester_region),
            accepter: Ec2::new(
                aws.ec2(
                    accepter_region,
                    model.accepter.assume_role_arn.as_deref().map(Role::arn),
                )
                .await,
                accepter_region,
            ),
        })
    }

    /// For ReadResource: route tables are read through the plan's shared reads.
    async fn for_refresh(aws: &Aws, model: &PeeringModel) -> Result<Self, Diagnostics> {
        let sides = Self::new(aws, model).await?;
        Ok(Self {
            requester: sides.requester.sharing_reads(aws.shared_reads.clone(), None),
            accepter: sides
                .accepter
                .sharing_reads(aws.shared_reads.clone(), model.accepter.assume_role_arn.as_deref()),
        })
    }
}

fn required_region<'a>(region: &'a Option<String>, side: &str) -> Result<&'a str, Diagnostics> {
    region.as_deref().ok_or_else(|| {
        error(
            "Missing region",
            format!("{side}.region is not set and could not be defaulted."),
        )
    })
}

/// What a VPC that does not exist means to `check_vpcs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MissingVpc {
    /// At plan: perhaps not made yet (a Terragrunt mock of a dependency not
    /// applied), so a warning; the create refuses it.
    Warn,
    /// Before a create: an error, and nothing is requested.
    Refuse,
}

impl MissingVpc {
    fn report(self, diags: &mut Diagnostics, path: &AttributePath, detail: String) {
        match self {
            Self::Warn => diags.attribute_warning(
                path,
                "VPC not found",
                format!(
                    "{detail} If the id is a mock of a dependency not applied yet (Terragrunt), plan again once it \
                     is applied; apply refuses a VPC that does not exist before requesting anything."
                ),
            ),
            Self::Refuse => diags.attribute_error(path, "VPC not found", detail),
        }
    }
}

/// Of one side's `tables`, those that still route `remote_cidr` through the
/// peering (one call); `None` when the side has no tables or the CIDR is unknown.
async fn still_routed(
    ec2: &Ec2,
    peering_id: &str,
    tables: Option<&BTreeSet<String>>,
    remote_cidr: Option<&str>,
) -> Result<Option<BTreeSet<String>>, crate::aws::AwsError> {
    let (Some(tables), Some(remote_cidr)) = (tables, remote_cidr) else {
        return Ok(None);
    };
    let routes = SideRoutes {
        ec2,
        peering_id,
        remote_cidr,
    };
    routes.still_routed(tables).await.map(Some)
}

/// Sets each side's DNS option where it differs from `state`, on an active
/// peering only (AWS refuses options before acceptance), and reads each back
/// until it shows (EC2 propagation), so a stale read can't show drift.
async fn apply_dns(
    sides: &Sides,
    id: &str,
    active: bool,
    wanted: &PeeringModel,
    state: &mut PeeringModel,
    timeout: Duration,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    if !active {
        return Ok(());
    }
    let want_requester = wanted.requester.allow_remote_vpc_dns_resolution.unwrap_or(false);
    if state.requester.allow_remote_vpc_dns_resolution != Some(want_requester) {
        sides
            .requester
            .set_remote_dns_resolution_and_wait(id, Side::Requester, want_requester, timeout, stop)
            .await
            .map_err(|e| error("Could not set the requester's DNS resolution option", e))?;
        state.requester.allow_remote_vpc_dns_resolution = Some(want_requester);
    }
    if wanted.auto_accept() {
        let want_accepter = wanted.accepter.allow_remote_vpc_dns_resolution.unwrap_or(false);
        if state.accepter.allow_remote_vpc_dns_resolution != Some(want_accepter) {
            sides
                .accepter
                .set_remote_dns_resolution_and_wait(id, Side::Accepter, want_accepter, timeout, stop)
                .await
                .map_err(|e| error("Could not set the accepter's DNS resolution option", e))?;
            state.accepter.allow_remote_vpc_dns_resolution = Some(want_accepter);
        }
    }
    Ok(())
}

/// Adds the configured routes on both sides, recording each in `state`.
async fn add_routes(
    sides: &Sides,
    id: &str,
    wanted: &PeeringModel,
    state: &mut PeeringModel,
) -> Result<(), Diagnostics> {
    let route_err = |e: crate::aws::AwsError| error("Could not add a route through the VPC peering", e);
    for (tables, cidr, side) in [
        (
            &wanted.requester.route_table_ids,
            &state.accepter_cidr_block,
            "requester",
        ),
        (
            &wanted.accepter.route_table_ids,
            &state.requester_cidr_block,
            "accepter",
        ),
    ] {
        if tables.as_ref().is_some_and(|t| !t.is_empty()) && cidr.is_none() {
            return Err(error(
                "Peer CIDR unknown",
                format!(
                    "{side}.route_table_ids: AWS did not report the other VPC's CIDR block, so no route can be added yet."
                ),
            ));
        }
    }
    if let Some(cidr) = state.accepter_cidr_block.clone() {
        let routes = SideRoutes {
            ec2: &sides.requester,
            peering_id: id,
            remote_cidr: &cidr,
        };
        let (recorded, result) = routes.sync(&None, &wanted.requester.route_table_ids).await;
        state.requester.route_table_ids = recorded;
        result.map_err(route_err)?;
    }
    if let Some(cidr) = state.requester_cidr_block.clone() {
        let routes = SideRoutes {
            ec2: &sides.accepter,
            peering_id: id,
            remote_cidr: &cidr,
        };
        let (recorded, result) = routes.sync(&None, &wanted.accepter.route_table_ids).await;
        state.accepter.route_table_ids = recorded;
        result.map_err(route_err)?;
    }
    Ok(())
}

/// State for an imported peering: both sides as AWS reports them, with the
/// route tables that already route through it.
async fn imported_model(
    aws: &Aws,
    lookup_region: &str,
    peering: Peering,
) -> Result<PeeringModel, crate::aws::AwsError> {
    let requester_region = peering
        .requester
        .region
        .clone()
        .unwrap_or_else(|| lookup_region.to_string());
    let accepter_region = peering
        .accepter
        .region
        .clone()
        .unwrap_or_else(|| lookup_region.to_string());
    let same_account = peering.accepter.owner_id == peering.requester.owner_id;
    let requester = Ec2::new(aws.ec2(&requester_region, None).await, &requester_region);
    let mut model = PeeringModel {
        id: Some(peering.id.clone()),
        auto_accept: Some(true),
        status: Some(peering.status.clone()),
        requester_cidr_block: peering.requester.cidr_block.clone(),
        accepter_cidr_block: peering.accepter.cidr_block.clone(),
        tags_all: Some(peering.tags.clone()),
        tags: non_empty_map(without_defaults(&peering.tags, &aws.settings().default_tags)),
        requester: RequesterModel {
            region: Some(requester_region),
            vpc_id: peering.requester.vpc_id.clone(),
            route_table_ids: None,
            allow_remote_vpc_dns_resolution: Some(peering.requester.allow_remote_vpc_dns_resolution.unwrap_or(false)),
        },
        accepter: AccepterModel {
            region: Some(accepter_region.clone()),
            vpc_id: peering.accepter.vpc_id.clone(),
            route_table_ids: None,
            allow_remote_vpc_dns_resolution: Some(peering.accepter.allow_remote_vpc_dns_resolution.unwrap_or(false)),
            account_id: (!same_account).then(|| peering.accepter.owner_id.clone()).flatten(),
            assume_role_arn: None,
        },
        timeouts: None,
    };
    if let Some(cidr) = &peering.accepter.cidr_block {
        let routes = SideRoutes {
            ec2: &requester,
            peering_id: &peering.id,
            remote_cidr: cidr,
        };
        model.requester.route_table_ids = non_empty(routes.discover(&peering.requester.vpc_id).await?);
    }
    if let (true, Some(cidr)) = (same_account, &peering.requester.cidr_block) {
        let accepter = Ec2::new(aws.ec2(&accepter_region, None).await, &accepter_region);
        let routes = SideRoutes {
            ec2: &accepter,
            peering_id: &peering.id,
            remote_cidr: cidr,
        };
        model.accepter.route_table_ids = non_empty(routes.discover(&peering.accepter.vpc_id).await?);
    }
    Ok(model)
}

/// Tags minus those the provider's `default_tags` set to the same value.
fn without_defaults(tags: &BTreeMap<String, String>, defaults: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, v)| defaults.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn non_empty_map(map: BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    (!map.is_empty()).then_some(map)
}

/// The sides of a planned value whose sides are wholly known.
fn planned_sides(planned: &Value) -> Result<PeeringModel, tfplugin::value::ValueError> {
    Ok(PeeringModel {
        requester: planned.attr("requester").to_model()?,
        accepter: planned.attr("accepter").to_model()?,
        ..PeeringModel::default()
    })
}
