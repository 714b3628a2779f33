//! EKS add-ons: installed, updated (waited for by update id, so a failed
//! update reports EKS's reason and state keeps what EKS really runs), and
//! removed.

use std::collections::BTreeMap;

use futures::future::join_all;

use super::model::{AddonModel, ClusterModel, same_json};
use super::run::{Clients, Run, fail, wait_fail};
use crate::aws::AwsError;
use crate::aws::eks::{AddonSettled, InstalledAddon, UpdateTarget};
use tfplugin::diagnostics::Diagnostics;

/// Add-ons this run created or updated, to wait for once node groups exist.
pub struct StartedAddons(Vec<String>);

/// Removes add-ons gone from the configuration, starts creating missing ones
/// and applies changed versions or configuration (waited for by update id).
pub async fn ensure_started(run: &Run<'_>, state: &mut ClusterModel) -> Result<StartedAddons, Diagnostics> {
    let eks = &run.clients.eks;
    let name = run.name();
    let before = state.addons.clone().unwrap_or_default();
    let after = run.desired.addons.clone().unwrap_or_default();
    for addon in before.keys().filter(|a| !after.contains_key(*a)) {
        eks.delete_addon(name, addon, run.budgets.of("addon_delete"), run.stop)
            .await
            .map_err(wait_fail("Could not delete an add-on"))?;
        if let Some(addons) = state.addons.as_mut() {
            addons.remove(addon);
        }
    }
    let mut started = Vec::new();
    for (addon, wanted) in &after {
        match before.get(addon) {
            None => {
                eks.create_addon(
                    name,
                    addon,
                    wanted.version.as_deref(),
                    wanted.configuration_values.as_deref(),
                    &run.eks_tags(),
                )
                .await
                .map_err(fail("Could not create an add-on"))?;
                state
                    .addons
                    .get_or_insert_default()
                    .insert(addon.clone(), wanted.clone());
                started.push(addon.clone());
            }
            Some(current) if differs(current, wanted) => {
                let summary = "Could not update an add-on";
                let update = eks
                    .start_addon_update(
                        name,
                        addon,
                        wanted.version.as_deref(),
                        wanted.configuration_values.as_deref(),
                    )
                    .await
                    .map_err(fail(summary))?;
                eks.wait_for_update(
                    name,
                    &update,
                    UpdateTarget::Addon(addon),
                    run.budgets.of("addon_update"),
                    run.stop,
                )
                .await
                .map_err(wait_fail(summary))?;
                state
                    .addons
                    .get_or_insert_default()
                    .insert(addon.clone(), wanted.clone());
                started.push(addon.clone());
            }
            Some(_) if run.repairing => started.push(addon.clone()),
            Some(_) => {}
        }
    }
    match (&run.desired.addons, &state.addons) {
        (None, Some(addons)) if addons.is_empty() => state.addons = None,
        (Some(_), None) => state.addons = Some(BTreeMap::new()),
        _ => {}
    }
    Ok(StartedAddons(started))
}

/// An unset version in the configuration means "EKS's default", which a
/// recorded version always satisfies.
fn differs(current: &AddonModel, wanted: &AddonModel) -> bool {
    let version = wanted.version.is_some() && wanted.version != current.version;
    let config = match (&current.configuration_values, &wanted.configuration_values) {
        (Some(a), Some(b)) => !same_json(a, b),
        (a, b) => a != b,
    };
    version || config
}

/// Waits for the add-ons started by this run and records the versions EKS
/// chose. With no node that could run it (no node group with nodes), an
/// add-on such as coredns stays DEGRADED: that is accepted, with a warning,
/// instead of waiting out the budget.
pub async fn wait_started(run: &Run<'_>, state: &mut ClusterModel, started: &StartedAddons) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let has_nodes = state
        .node_groups
        .iter()
        .flatten()
        .any(|(_, g)| g.desired_size.unwrap_or(2.0) > 0.0);
    let budget = run.budgets.of("addon_create");
    for addon in &started.0 {
        let settled = eks
            .wait_for_addon_settled(run.name(), addon, !has_nodes, budget, run.stop)
            .await
            .map_err(wait_fail("Add-on did not become active"))?;
        if settled == AddonSettled::Degraded {
            run.warn(
                format!("Add-on {addon} is DEGRADED"),
                format!(
                    "{addon} has no node to run on: the cluster has no node group with nodes. It becomes ACTIVE once \
                     nodes join (add a node group, or let Karpenter or Auto Mode add nodes)."
                ),
            );
        }
        if let Some(InstalledAddon { version, .. }) = eks
            .find_addon(run.name(), addon)
            .await
            .map_err(fail("Could not read an add-on"))?
            && let Some(recorded) = state.addons.get_or_insert_default().get_mut(addon)
        {
            recorded.version = Some(version);
        }
    }
    Ok(())
}

/// The add-ons in state, as they are now; one gone out of band drops out
/// (the plan reinstalls it). `None` when state tracks none.
pub async fn observe(
    clients: &Clients,
    prior: &ClusterModel,
) -> Result<Option<BTreeMap<String, AddonModel>>, AwsError> {
    let Some(addons) = &prior.addons else { return Ok(None) };
    let found = join_all(addons.keys().map(|addon| clients.eks.find_addon(&prior.name, addon))).await;
    let mut refreshed = BTreeMap::new();
    for ((addon, config), found) in addons.iter().zip(found) {
        if let Some(InstalledAddon {
            version,
            configuration_values: values,
        }) = found?
        {
            let configuration_values = match (&config.configuration_values, values) {
                (Some(mine), Some(actual)) if same_json(mine, &actual) => Some(mine.clone()),
                (_, actual) => actual,
            };
            refreshed.insert(
                addon.clone(),
                AddonModel {
                    version: Some(version),
                    configuration_values,
                },
            );
        }
    }
    Ok(Some(refreshed))
}
