//! NAT gateways per `nat_gateway_mode`, each in a public subnet with its own
//! Elastic IP: created, waited for, recreated in place when lost, and on
//! destroy deleted before their addresses are released.

use std::collections::BTreeSet;

use futures::future::join_all;

use super::model::ClusterModel;
use super::run::{Clients, Run, fail, wait_fail};
use crate::aws::AwsError;
use tfplugin::diagnostics::Diagnostics;

/// How many NAT gateways the configuration calls for.
pub fn wanted_count(model: &ClusterModel) -> usize {
    match model.nat_mode() {
        "none" => 0,
        "one_per_az" => model.private_subnet_ids.as_ref().map_or(0, Vec::len),
        _ => 1,
    }
}

/// Of the NAT gateways in state, those still alive; `None` when state tracks none.
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<Option<Vec<String>>, AwsError> {
    let Some(ids) = &prior.nat_gateway_ids else {
        return Ok(None);
    };
    let live = clients.ec2.live_nat_gateways(ids).await?;
    Ok(Some(ids.iter().filter(|nat| live.contains(*nat)).cloned().collect()))
}

/// Each public subnet that needs a NAT gateway has a live one. Returns
/// whether the set of gateways changed (the private routes must follow).
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<bool, Diagnostics> {
    let wanted = wanted_count(state);
    let recorded = state.nat_gateway_ids.clone().unwrap_or_default();
    if recorded.len() == wanted && !run.repairing {
        return Ok(false);
    }
    let ec2 = &run.clients.ec2;
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    let public = state.public_subnet_ids.clone().unwrap_or_default();
    let zones = state.availability_zones.clone().unwrap_or_default();
    let live = ec2
        .nat_gateways_of_vpc(&vpc_id)
        .await
        .map_err(fail("Could not read the NAT gateways"))?;
    state.nat_gateway_ids.get_or_insert_default();
    state.eip_allocation_ids.get_or_insert_default();
    let mut nats = Vec::new();
    let mut in_use = BTreeSet::new();
    let mut started = Vec::new();
    for (i, subnet) in public.iter().enumerate().take(wanted) {
        if let Some(nat) = live.iter().find(|nat| &nat.subnet_id == subnet) {
            nats.push(nat.id.clone());
            in_use.extend(nat.allocation_id.clone());
            continue;
        }
        let zone = zones.get(i).map_or("", String::as_str);
        let tag_name = format!("{}-nat-{zone}", run.name());
        let tags = run.object_tags(tag_name.clone(), &[]);
        // An address allocated for this zone by an earlier attempt (its NAT
        // never made, or lost) is used again rather than allocating another.
        let spare = ec2
            .find_owned_addresses(&run.stack_id, &tag_name)
            .await
            .map_err(fail("Could not look for the NAT gateway's Elastic IP"))?
            .into_iter()
            .find(|a| !a.associated && !in_use.contains(&a.allocation_id));
        let eip = match spare {
            Some(address) => address.allocation_id,
            None => ec2
                .allocate_eip(&tags)
                .await
                .map_err(fail("Could not allocate an Elastic IP"))?,
        };
        if !state.eip_allocation_ids.iter().flatten().any(|e| *e == eip) {
            state.eip_allocation_ids.get_or_insert_default().push(eip.clone());
        }
        in_use.insert(eip.clone());
        let nat = ec2
            .with_new_ids(run.stop)
            .create_nat_gateway(subnet, &eip, &tags)
            .await
            .map_err(fail("Could not create a NAT gateway"))?;
        state.nat_gateway_ids.get_or_insert_default().push(nat.clone());
        started.push(nat.clone());
        nats.push(nat);
    }
    let budget = run.budgets.of("nat_gateway_create");
    let waits = started
        .iter()
        .map(|nat| ec2.wait_for_nat_gateway(nat, "available", budget, run.stop));
    for result in join_all(waits).await {
        result.map_err(wait_fail("NAT gateway did not become available"))?;
    }
    // Addresses of lost gateways are released; one still busy stays
    // recorded (released on destroy).
    let mut kept: Vec<String> = in_use.iter().cloned().collect();
    for eip in state.eip_allocation_ids.clone().unwrap_or_default() {
        if !in_use.contains(&eip) && ec2.release_eip(&eip).await.is_err() {
            kept.push(eip);
        }
    }
    let changed = nats != recorded;
    state.nat_gateway_ids = Some(nats);
    state.eip_allocation_ids = Some(kept);
    Ok(changed)
}

/// Deletes the NAT gateways, waits for them to go, then releases their
/// addresses (which AWS refuses for a while after the gateway is gone).
pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    for nat in state.nat_gateway_ids.iter().flatten() {
        ec2.delete_nat_gateway(nat)
            .await
            .map_err(fail("Could not delete a NAT gateway"))?;
    }
    let budget = run.budgets.of("nat_gateway_delete");
    let waits = state
        .nat_gateway_ids
        .iter()
        .flatten()
        .map(|nat| ec2.wait_for_nat_gateway(nat, "deleted", budget, run.stop));
    for result in join_all(waits).await {
        result.map_err(wait_fail("NAT gateway was not deleted"))?;
    }
    for eip in state.eip_allocation_ids.iter().flatten() {
        ec2.release_eip_after_nat(eip, budget, run.stop)
            .await
            .map_err(fail("Could not release an Elastic IP"))?;
    }
    Ok(())
}
