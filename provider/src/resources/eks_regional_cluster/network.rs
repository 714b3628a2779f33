//! The VPC, its subnets, the internet gateway, the route tables and the API
//! security group. Each ensure creates what the state lacks; when repairing
//! (a resumed create, or refresh found a part gone) it first looks at what
//! exists and recreates only what is missing, in place.

use std::collections::BTreeSet;

use super::existing_vpc;
use super::model::ClusterModel;
use super::run::{Clients, Run, fail, wait_fail};
use super::subnet_plan::plan_subnets;
use super::zones;
use crate::aws::AwsError;
use crate::aws::ec2_network::DefaultRoute;
use crate::aws::waiters::{retry_new_id_not_found, retry_while_dependents_remain};
use crate::resources::error;
use tfplugin::diagnostics::Diagnostics;

/// What refresh found of the network recorded in state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkHealth {
    Intact,
    /// A subnet, route table or the internet gateway is gone: repaired in place.
    PartsGone,
    /// The VPC itself is gone: nothing to repair in.
    VpcGone,
}

pub struct ObservedNetwork {
    pub health: NetworkHealth,
    /// CIDRs the API security group admits on 443, as they are now.
    pub api_cidrs: Option<BTreeSet<String>>,
    /// In an existing VPC: the route tables the private and the public
    /// subnets use now (they are the VPC's, and may change).
    pub route_tables: Option<(Vec<String>, Vec<String>)>,
}

fn listed(ids: &[&Option<Vec<String>>]) -> Vec<String> {
    ids.iter()
        .copied()
        .flatten()
        .flatten()
        .filter(|id| !id.is_empty())
        .cloned()
        .collect()
}

/// Whether the VPC, subnets, route tables and internet gateway recorded in
/// state all still exist (one call per kind, all at once), and the API
/// security group's rules.
pub async fn observe(clients: &Clients, state: &ClusterModel) -> Result<ObservedNetwork, AwsError> {
    let ec2 = &clients.ec2;
    let Some(vpc_id) = &state.vpc_id else {
        return Ok(ObservedNetwork {
            health: NetworkHealth::Intact,
            api_cidrs: None,
            route_tables: None,
        });
    };
    if state.existing_network() {
        return existing_vpc::observe(clients, state).await;
    }
    let subnets = listed(&[&state.private_subnet_ids, &state.public_subnet_ids]);
    let tables: BTreeSet<String> = listed(&[&state.private_route_table_ids, &state.public_route_table_ids])
        .into_iter()
        .collect();
    let igw = async {
        match state.internet_gateway_id {
            Some(_) => ec2.internet_gateway_of_vpc(vpc_id).await.map(Some),
            None => Ok(None),
        }
    };
    let api = async {
        match &state.api_security_group_id {
            Some(sg) => ec2.https_cidrs(sg).await.map(Some),
            None => Ok(None),
        }
    };
    let (vpc, found_subnets, found_tables, igw, api) = tokio::join!(
        ec2.find_vpc(vpc_id),
        ec2.find_subnets(&subnets),
        ec2.find_route_tables(&tables),
        igw,
        api
    );
    if vpc?.is_none() {
        return Ok(ObservedNetwork {
            health: NetworkHealth::VpcGone,
            api_cidrs: None,
            route_tables: None,
        });
    }
    let parts_gone = found_subnets?.len() != subnets.len()
        || found_tables?.len() != tables.len()
        || igw?.is_some_and(|attached| attached != state.internet_gateway_id);
    Ok(ObservedNetwork {
        health: if parts_gone {
            NetworkHealth::PartsGone
        } else {
            NetworkHealth::Intact
        },
        api_cidrs: api.ok().flatten().map(|cidrs| cidrs.into_iter().collect()),
        route_tables: None,
    })
}

/// The VPC, with DNS support and hostnames on (the private endpoint resolves
/// through VPC DNS; nodes register by their DNS names).
pub async fn ensure_vpc(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    if state.vpc_id.is_some() && !run.repairing {
        return Ok(());
    }
    if state.vpc_id.is_none() {
        // A VPC an interrupted attempt made (its id lost) is taken back.
        let found = ec2
            .find_owned_vpc(&run.stack_id, run.name())
            .await
            .map_err(fail("Could not look for the cluster's VPC"))?;
        let id = match found {
            Some(id) => id,
            None => ec2
                .create_vpc(
                    run.desired.vpc_cidr.as_deref().unwrap_or_default(),
                    &run.object_tags(run.name().to_string(), &[]),
                )
                .await
                .map_err(fail("Could not create the VPC"))?,
        };
        state.vpc_id = Some(id);
    }
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    ec2.with_new_ids(run.stop)
        .enable_vpc_dns(&vpc_id)
        .await
        .map_err(fail("Could not enable DNS in the VPC"))
}

/// One private and one public subnet per zone, in zone order.
pub async fn ensure_subnets(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    let zones = match &state.availability_zones {
        Some(zones) if !zones.is_empty() => zones.clone(),
        _ => zones::choose(ec2, run.desired)
            .await
            .map_err(|message| error("Cannot choose availability zones", message))?,
    };
    state.availability_zones = Some(zones.clone());
    let complete = |ids: &Option<Vec<String>>| ids.as_ref().is_some_and(|l| l.len() == zones.len());
    if complete(&state.private_subnet_ids) && complete(&state.public_subnet_ids) && !run.repairing {
        return Ok(());
    }
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    let vpc_net = run
        .desired
        .vpc_cidr
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|e| error("Invalid vpc_cidr", e))?;
    let plan = plan_subnets(vpc_net, zones.len()).map_err(|e| error("vpc_cidr too small", e))?;
    let recorded = listed(&[&state.private_subnet_ids, &state.public_subnet_ids]);
    let existing: BTreeSet<String> = ec2
        .find_subnets(&recorded)
        .await
        .map_err(fail("Could not read the subnets"))?
        .iter()
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    let cluster_tag = format!("kubernetes.io/cluster/{}", run.name());
    for (i, zone) in zones.iter().enumerate() {
        for (public, cidr) in [(false, plan.private[i]), (true, plan.public[i])] {
            let (kind, role_tag) = if public {
                ("public", "kubernetes.io/role/elb")
            } else {
                ("private", "kubernetes.io/role/internal-elb")
            };
            let slot = if public {
                &mut state.public_subnet_ids
            } else {
                &mut state.private_subnet_ids
            };
            let ids = slot.get_or_insert_default();
            if ids.get(i).is_some_and(|id| existing.contains(id)) {
                continue;
            }
            let tags = run.object_tags(
                format!("{}-{kind}-{zone}", run.name()),
                &[(&cluster_tag, "shared"), (role_tag, "1")],
            );
            let cidr = cidr.to_string();
            let id = match ec2
                .with_new_ids(run.stop)
                .create_subnet(&vpc_id, &cidr, zone, &tags)
                .await
            {
                Ok(id) => id,
                // The subnet exists: made by an attempt whose answer was lost.
                Err(e) if e.code == "InvalidSubnet.Conflict" => ec2
                    .find_owned_subnet(&vpc_id, &cidr, &run.stack_id)
                    .await
                    .map_err(fail("Could not look for a subnet"))?
                    .ok_or_else(|| error(format!("Could not create a {kind} subnet"), e))?,
                Err(e) => return Err(error(format!("Could not create a {kind} subnet"), e)),
            };
            if i < ids.len() {
                ids[i] = id;
            } else {
                ids.push(id);
            }
        }
    }
    Ok(())
}

/// The internet gateway, attached, and the public route table through it.
pub async fn ensure_public_routing(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    let resuming = run.repairing;
    if state.internet_gateway_id.is_some() && state.public_route_table_ids.is_some() && !resuming {
        return Ok(());
    }
    let attached = ec2
        .internet_gateway_of_vpc(&vpc_id)
        .await
        .map_err(fail("Could not read the internet gateway"))?;
    let igw = match attached {
        Some(igw) => igw,
        None => {
            let found = match &state.internet_gateway_id {
                Some(id) => Some(id.clone()),
                None => ec2
                    .find_owned_internet_gateway(&run.stack_id, run.name())
                    .await
                    .map_err(fail("Could not look for the internet gateway"))?,
            };
            let reattached = match &found {
                Some(id) => match ec2.with_new_ids(run.stop).attach_internet_gateway(id, &vpc_id).await {
                    Ok(()) => true,
                    Err(e) if e.is_not_found() => false,
                    Err(e) => return Err(fail("Could not attach the internet gateway")(e)),
                },
                None => false,
            };
            match (reattached, found) {
                (true, Some(id)) => id,
                _ => {
                    let id = ec2
                        .create_internet_gateway(&run.object_tags(run.name().to_string(), &[]))
                        .await
                        .map_err(fail("Could not create the internet gateway"))?;
                    state.internet_gateway_id = Some(id.clone());
                    ec2.with_new_ids(run.stop)
                        .attach_internet_gateway(&id, &vpc_id)
                        .await
                        .map_err(fail("Could not attach the internet gateway"))?;
                    id
                }
            }
        }
    };
    state.internet_gateway_id = Some(igw.clone());
    let public_subnets = state.public_subnet_ids.clone().unwrap_or_default();
    let table = ensure_route_table(
        run,
        state.public_route_table_ids.as_ref().and_then(|t| t.first()).cloned(),
        format!("{}-public", run.name()),
        &vpc_id,
    )
    .await?;
    state.public_route_table_ids = Some(vec![table.id.clone()]);
    route_table_settings(run, &table, Some(DefaultRoute::InternetGateway(&igw)), &public_subnets).await
}

/// A route table: the recorded one if it exists, else a new one.
struct Table {
    id: String,
    fresh: bool,
}

async fn ensure_route_table(
    run: &Run<'_>,
    recorded: Option<String>,
    name: String,
    vpc_id: &str,
) -> Result<Table, Diagnostics> {
    let ec2 = &run.clients.ec2;
    if let Some(id) = recorded.filter(|id| !id.is_empty()) {
        let found = ec2
            .find_route_tables(&BTreeSet::from([id.clone()]))
            .await
            .map_err(fail("Could not read a route table"))?;
        if !found.is_empty() {
            return Ok(Table { id, fresh: false });
        }
    }
    let id = ec2
        .with_new_ids(run.stop)
        .create_route_table(vpc_id, &run.object_tags(name, &[]))
        .await
        .map_err(fail("Could not create a route table"))?;
    Ok(Table { id, fresh: true })
}

/// A table's default route and subnet associations: set outright on a new
/// table, made sure of (replaced or moved) on an existing one.
async fn route_table_settings(
    run: &Run<'_>,
    table: &Table,
    default_route: Option<DefaultRoute<'_>>,
    subnets: &[String],
) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    if table.fresh {
        return ec2
            .with_new_ids(run.stop)
            .configure_route_table(&table.id, default_route, subnets)
            .await
            .map_err(fail("Could not configure a route table"));
    }
    if let Some(route) = default_route {
        retry_new_id_not_found(run.stop, || ec2.ensure_default_route(&table.id, route))
            .await
            .map_err(fail("Could not repair a default route"))?;
    }
    for subnet in subnets {
        ec2.ensure_subnet_association(&table.id, subnet)
            .await
            .map_err(fail("Could not repair a route table association"))?;
    }
    Ok(())
}

/// One private route table per zone, through that zone's NAT gateway (or
/// the only one; none with `nat_gateway_mode = "none"`).
pub async fn ensure_private_routing(
    run: &Run<'_>,
    state: &mut ClusterModel,
    nats_changed: bool,
) -> Result<(), Diagnostics> {
    let zones = state.availability_zones.clone().unwrap_or_default();
    let recorded = state.private_route_table_ids.clone().unwrap_or_default();
    let nats = state.nat_gateway_ids.clone().unwrap_or_default();
    if recorded.len() == zones.len() && !run.repairing && !nats_changed {
        return Ok(());
    }
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    let private_subnets = state.private_subnet_ids.clone().unwrap_or_default();
    let mut tables = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        let table = ensure_route_table(
            run,
            recorded.get(i).cloned(),
            format!("{}-private-{zone}", run.name()),
            &vpc_id,
        )
        .await?;
        tables.push(table.id.clone());
        let mut ids = tables.clone();
        ids.extend(recorded.iter().skip(tables.len()).cloned());
        state.private_route_table_ids = Some(ids);
        let default_route = nats.get(i).or(nats.first()).map(|nat| DefaultRoute::NatGateway(nat));
        route_table_settings(run, &table, default_route, std::slice::from_ref(&private_subnets[i])).await?;
    }
    state.private_route_table_ids = Some(tables);
    Ok(())
}

/// The security group admitting `api_allowed_cidrs` to the API on 443.
pub async fn ensure_api_security_group(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    let name = format!("{}-api", run.name());
    // Rules as they are now: none on a new group, else as refresh read them.
    let mut current: BTreeSet<String> = state.api_allowed_cidrs.clone().unwrap_or_default();
    if state.api_security_group_id.is_none() {
        let found = ec2
            .find_owned_security_group(&vpc_id, &name, &run.stack_id)
            .await
            .map_err(fail("Could not look for the API security group"))?;
        let id = match found {
            Some(id) => {
                current = ec2
                    .https_cidrs(&id)
                    .await
                    .map_err(fail("Could not read the API security group"))?
                    .into_iter()
                    .collect();
                id
            }
            None => {
                current.clear();
                let created = ec2
                    .with_new_ids(run.stop)
                    .create_api_security_group(&vpc_id, &name, &run.object_tags(run.name().to_string(), &[]))
                    .await;
                match created {
                    Ok(id) => id,
                    // Made by a retried call whose first answer was lost.
                    Err(e) if e.code == "InvalidGroup.Duplicate" => ec2
                        .find_owned_security_group(&vpc_id, &name, &run.stack_id)
                        .await
                        .map_err(fail("Could not look for the API security group"))?
                        .ok_or_else(|| fail("Could not create the API security group")(e))?,
                    Err(e) => return Err(fail("Could not create the API security group")(e)),
                }
            }
        };
        state.api_security_group_id = Some(id);
    }
    let sg = state.api_security_group_id.clone().unwrap_or_default();
    let wanted: BTreeSet<String> = run.desired.api_allowed_cidrs.clone().unwrap_or_default();
    let added: Vec<String> = wanted.difference(&current).cloned().collect();
    let removed: Vec<String> = current.difference(&wanted).cloned().collect();
    ec2.with_new_ids(run.stop)
        .authorize_api_cidrs(&sg, &added)
        .await
        .map_err(fail("Could not allow API access"))?;
    ec2.revoke_api_cidrs(&sg, &removed)
        .await
        .map_err(fail("Could not revoke API access"))?;
    state.api_allowed_cidrs = run.desired.api_allowed_cidrs.clone();
    Ok(())
}

/// What Kubernetes left in the VPC after the cluster was deleted (VPC CNI
/// interfaces, load-balancer security groups, GuardDuty's endpoint): removed
/// when tagged for this cluster; anything else that blocks is named. In an
/// existing VPC, which is not deleted, only what is this cluster's is
/// removed (no GuardDuty endpoint, which serves the whole VPC, and no
/// interface merely described like the VPC CNI's), and the rest is the
/// VPC owner's: no blocker.
pub async fn delete_leftovers(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let Some(vpc_id) = &state.vpc_id else { return Ok(()) };
    let own_ids: BTreeSet<String> = own_ids(state);
    let shared = state.existing_network();
    let report = run
        .clients
        .ec2
        .clean_kubernetes_leftovers(
            vpc_id,
            run.name(),
            &own_ids,
            shared,
            run.budgets.of("network_delete"),
            run.stop,
        )
        .await
        .map_err(wait_fail("Could not remove what Kubernetes left in the VPC"))?;
    if report.blockers.is_empty() || shared {
        return Ok(());
    }
    let named: Vec<String> = report
        .blockers
        .iter()
        .map(|b| format!("- {}: {}", b.id, b.what))
        .collect();
    Err(error(
        "Objects this resource did not create block the VPC's deletion",
        format!(
            "The VPC {vpc_id} still holds:\n{}\nRemove them (or what made them), then run destroy again.",
            named.join("\n")
        ),
    ))
}

/// Objects a create made twice because the SDK retried a call whose answer
/// was lost (CreateVpc, CreateInternetGateway and AllocateAddress take no
/// client token): found by this stack's owner tag, not in state, and unused
/// (a VPC with no subnet, a detached gateway, an unassociated address), so
/// deleted. Run once a create or resume has completed; never on destroy,
/// where a same-name stack of another state could be mid-create.
pub async fn sweep_duplicates(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    let owner = run.stack_id.clone();
    let recorded = own_ids(state);
    let sweep = fail("Could not remove an object a retried create made twice");
    for vpc in ec2.find_owned_vpcs(&owner, run.name()).await.map_err(&sweep)? {
        if !recorded.contains(&vpc) && ec2.subnets_of_vpc(&vpc).await.map_err(&sweep)?.is_empty() {
            ec2.delete_vpc(&vpc).await.map_err(&sweep)?;
        }
    }
    for igw in ec2
        .find_owned_detached_internet_gateways(&owner, run.name())
        .await
        .map_err(&sweep)?
    {
        if !recorded.contains(&igw) {
            ec2.delete_detached_internet_gateway(&igw).await.map_err(&sweep)?;
        }
    }
    for address in ec2.find_all_owned_addresses(&owner).await.map_err(&sweep)? {
        if !address.associated && !recorded.contains(&address.allocation_id) {
            ec2.release_eip(&address.allocation_id).await.map_err(&sweep)?;
        }
    }
    Ok(())
}

/// Every EC2 id the state records that this resource created (in an
/// existing VPC, not the VPC, its subnets or its route tables).
pub fn own_ids(state: &ClusterModel) -> BTreeSet<String> {
    if state.existing_network() {
        return [&state.internet_gateway_id, &state.api_security_group_id]
            .into_iter()
            .flatten()
            .cloned()
            .chain(listed(&[&state.nat_gateway_ids, &state.eip_allocation_ids]))
            .collect();
    }
    [&state.vpc_id, &state.internet_gateway_id, &state.api_security_group_id]
        .into_iter()
        .flatten()
        .cloned()
        .chain(listed(&[
            &state.private_subnet_ids,
            &state.public_subnet_ids,
            &state.private_route_table_ids,
            &state.public_route_table_ids,
            &state.nat_gateway_ids,
            &state.eip_allocation_ids,
        ]))
        .collect()
}

pub async fn delete_api_security_group(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    if let Some(sg) = &state.api_security_group_id {
        retry_while_dependents_remain(
            "the API security group to be deleted",
            run.budgets.of("network_delete"),
            run.stop,
            || ec2.delete_security_group(sg),
        )
        .await
        .map_err(wait_fail("Could not delete the API security group"))?;
    }
    Ok(())
}

/// Route tables, subnets, the internet gateway and the VPC, each retried
/// while dependents that are going away remain, within its budget. An
/// existing VPC stays as it was found: only the subnets' tags added for
/// the cluster go.
pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    if state.existing_network() {
        return existing_vpc::untag(run, state).await;
    }
    let ec2 = &run.clients.ec2;
    let budget = || run.budgets.of("network_delete");
    for table in listed(&[&state.private_route_table_ids, &state.public_route_table_ids]) {
        ec2.delete_route_table(&table)
            .await
            .map_err(fail("Could not delete a route table"))?;
    }
    for subnet in listed(&[&state.private_subnet_ids, &state.public_subnet_ids]) {
        retry_while_dependents_remain("a subnet to be deleted", budget(), run.stop, || {
            ec2.delete_subnet(&subnet)
        })
        .await
        .map_err(wait_fail("Could not delete a subnet"))?;
    }
    if let (Some(igw), Some(vpc)) = (&state.internet_gateway_id, &state.vpc_id) {
        retry_while_dependents_remain("the internet gateway to be deleted", budget(), run.stop, || {
            ec2.delete_internet_gateway(igw, vpc)
        })
        .await
        .map_err(wait_fail("Could not delete the internet gateway"))?;
    }
    if let Some(vpc) = &state.vpc_id {
        retry_while_dependents_remain("the VPC to be deleted", budget(), run.stop, || ec2.delete_vpc(vpc))
            .await
            .map_err(wait_fail("Could not delete the VPC"))?;
    }
    Ok(())
}
