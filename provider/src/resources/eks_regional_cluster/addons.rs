//! EKS add-ons: installed, updated (waited for by update id, so a failed
//! update reports EKS's reason and state keeps what EKS really runs), and
//! removed; each with its IAM (IRSA role, pod identity role, or a role made
//! here with the policies EKS recommends), its tags, and `version = "latest"`
//! resolved at create and on a Kubernetes upgrade. Add-ons the configuration
//! needs without listing them (the Pod Identity agent) are `implied_addons`.

use std::collections::BTreeMap;

use futures::future::join_all;

use super::model::{AddonModel, ClusterModel, LATEST, POD_IDENTITY_AGENT, same_json};
use super::run::{Clients, Run, fail, wait_fail};
use crate::aws::AwsError;
use crate::aws::eks::{AddonRequest, AddonSettled, InstalledAddon, UpdateTarget, is_role_propagation};
use crate::aws::iam::{POD_IDENTITY_ROLE, role_name};
use crate::aws::waiters::{IAM_PROPAGATION, retry_while};
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::value::Value;

/// Add-ons this run created or updated, to wait for once node groups exist.
pub struct StartedAddons(Vec<String>);

/// Removes add-ons gone from the configuration, starts creating missing ones
/// and applies changed versions, configuration or IAM (waited for by update
/// id). `upgraded` says the control plane moved to a new Kubernetes version
/// in this run, which moves `latest` add-ons too.
pub async fn ensure_started(
    run: &Run<'_>,
    state: &mut ClusterModel,
    upgraded: bool,
) -> Result<StartedAddons, Diagnostics> {
    let eks = &run.clients.eks;
    let name = run.name();
    let before = state.addons.clone().unwrap_or_default();
    let after = run.desired.addons.clone().unwrap_or_default();
    let implied = run.desired.wanted_implied_addons();
    for (addon, current) in before.iter().filter(|(a, _)| !after.contains_key(*a)) {
        // Still needed (pod identity): kept, and from now on implied.
        if !implied.contains(addon) {
            eks.delete_addon(
                name,
                addon,
                current.preserve_on_delete == Some(true),
                run.budgets.of("addon_delete"),
                run.stop,
            )
            .await
            .map_err(wait_fail("Could not delete an add-on"))?;
            delete_created_role(run, state, current).await?;
        } else {
            state.implied_addons.get_or_insert_default().push(addon.clone());
        }
        if let Some(addons) = state.addons.as_mut() {
            addons.remove(addon);
        }
    }
    let mut started = Vec::new();
    for (addon, wanted) in &after {
        let mut recorded = wanted.clone();
        recorded.created_role_arn = before.get(addon).and_then(|c| c.created_role_arn.clone());
        let current = before.get(addon);
        let version = wanted_version(run, state, addon, wanted, current, upgraded).await?;
        if wanted.create_role == Some(true) && recorded.created_role_arn.is_none() {
            let arn = create_role(run, state, addon, version.as_deref()).await?;
            recorded.created_role_arn = Some(arn);
        }
        let pod_identity = match recorded.pod_identity_role() {
            Some(role) => service_accounts(run, addon, version.as_deref())
                .await?
                .into_iter()
                .map(|account| (account, role.to_string()))
                .collect(),
            None => Vec::new(),
        };
        let request = AddonRequest {
            name: addon,
            version: version.as_deref(),
            configuration: wanted.configuration_values.as_deref(),
            resolve_conflicts: wanted.resolve_conflicts(),
            service_account_role_arn: wanted.service_account_role_arn.as_deref(),
            pod_identity,
        };
        match current {
            None => {
                let tags = addon_tags(run, wanted);
                retry_while(
                    "waiting for IAM to show the add-on's role to EKS",
                    IAM_PROPAGATION,
                    run.stop,
                    is_role_propagation,
                    || eks.create_addon(name, &request, &tags),
                )
                .await
                .map_err(fail("Could not create an add-on"))?;
                started.push(addon.clone());
            }
            Some(current) if differs(current, &recorded) || (upgraded && wanted.version.as_deref() == Some(LATEST)) => {
                let summary = "Could not update an add-on";
                let update = retry_while(
                    "waiting for IAM to show the add-on's role to EKS",
                    IAM_PROPAGATION,
                    run.stop,
                    is_role_propagation,
                    || eks.start_addon_update(name, &request),
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
                started.push(addon.clone());
            }
            Some(_) if run.repairing => started.push(addon.clone()),
            Some(_) => {}
        }
        if let Some(current) = current {
            if current.tags != wanted.tags {
                sync_addon_tags(run, addon, current, wanted).await?;
            }
            if current.created_role_arn.is_some() && wanted.create_role != Some(true) {
                delete_created_role(run, state, current).await?;
                recorded.created_role_arn = None;
            }
        }
        if wanted.create_role != Some(true) {
            recorded.created_role_arn = None;
        }
        state.addons.get_or_insert_default().insert(addon.clone(), recorded);
    }
    ensure_implied(run, state, &implied, &mut started).await?;
    match (&run.desired.addons, &state.addons) {
        (None, Some(addons)) if addons.is_empty() => state.addons = None,
        (Some(_), None) => state.addons = Some(BTreeMap::new()),
        _ => {}
    }
    Ok(StartedAddons(started))
}

/// Installs the implied add-ons not there yet (EKS's default version) and
/// removes those no longer needed. One the configuration now lists is the
/// configuration's: it stays.
async fn ensure_implied(
    run: &Run<'_>,
    state: &mut ClusterModel,
    implied: &[String],
    started: &mut Vec<String>,
) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let recorded = state.implied_addons.clone().unwrap_or_default();
    for addon in recorded.iter().filter(|a| !implied.contains(a)) {
        let listed = run.desired.addons.as_ref().is_some_and(|a| a.contains_key(addon));
        if !listed {
            eks.delete_addon(run.name(), addon, false, run.budgets.of("addon_delete"), run.stop)
                .await
                .map_err(wait_fail("Could not delete an add-on"))?;
        }
        if let Some(list) = state.implied_addons.as_mut() {
            list.retain(|a| a != addon);
        }
    }
    for addon in implied.iter().filter(|a| !recorded.contains(a) || run.repairing) {
        let request = AddonRequest {
            name: addon,
            resolve_conflicts: "OVERWRITE",
            ..Default::default()
        };
        eks.create_addon(run.name(), &request, &run.eks_tags())
            .await
            .map_err(fail("Could not create an add-on"))?;
        let list = state.implied_addons.get_or_insert_default();
        if !list.contains(addon) {
            list.push(addon.clone());
        }
        started.push(addon.clone());
    }
    if state.implied_addons.as_ref().is_some_and(Vec::is_empty) {
        state.implied_addons = None;
    }
    Ok(())
}

/// The version to ask EKS for: the configured one, the newest compatible
/// one for `latest` when installing or upgrading, or none (EKS's default,
/// or no change).
async fn wanted_version(
    run: &Run<'_>,
    state: &ClusterModel,
    addon: &str,
    wanted: &AddonModel,
    current: Option<&AddonModel>,
    upgraded: bool,
) -> Result<Option<String>, Diagnostics> {
    match wanted.version.as_deref() {
        Some(LATEST) => {
            let settled = current.is_some_and(|c| c.version.as_deref() == Some(LATEST)) && !upgraded;
            if settled {
                return Ok(None);
            }
            newest_version(run, state, addon).await.map(Some)
        }
        Some(version) => Ok(Some(version.to_string())),
        None => Ok(None),
    }
}

/// The newest version of the add-on for the cluster's Kubernetes version.
async fn newest_version(run: &Run<'_>, state: &ClusterModel, addon: &str) -> Result<String, Diagnostics> {
    let kubernetes = state.kubernetes_version.clone().unwrap_or_default();
    let versions = run
        .clients
        .eks
        .find_addon_versions(addon, &kubernetes)
        .await
        .map_err(fail("Could not list the add-on's versions"))?;
    versions.into_iter().next().map(|(v, _)| v).ok_or_else(|| {
        crate::resources::error(
            "No version of the add-on for this Kubernetes version",
            format!("addons[\"{addon}\"].version: EKS offers no version of {addon} for Kubernetes {kubernetes}."),
        )
    })
}

/// The service accounts EKS Pod Identity roles are for, from
/// DescribeAddonConfiguration (the version EKS would install when unset).
async fn service_accounts(run: &Run<'_>, addon: &str, version: Option<&str>) -> Result<Vec<String>, Diagnostics> {
    Ok(pod_identity_configuration(run, addon, version)
        .await?
        .into_iter()
        .map(|c| c.service_account)
        .collect())
}

async fn pod_identity_configuration(
    run: &Run<'_>,
    addon: &str,
    version: Option<&str>,
) -> Result<Vec<crate::aws::eks::PodIdentityConfig>, Diagnostics> {
    let eks = &run.clients.eks;
    let version = match version {
        Some(v) => v.to_string(),
        None => match eks
            .find_addon(run.name(), addon)
            .await
            .map_err(fail("Could not read an add-on"))?
        {
            Some(installed) => installed.version,
            None => {
                let kubernetes = run.desired.kubernetes_version.clone().unwrap_or_default();
                let versions = eks
                    .find_addon_versions(addon, &kubernetes)
                    .await
                    .map_err(fail("Could not list the add-on's versions"))?;
                let default = versions.iter().find(|(_, d)| *d).or(versions.first());
                default.map(|(v, _)| v.clone()).unwrap_or_default()
            }
        },
    };
    eks.find_addon_pod_identity_configuration(addon, &version)
        .await
        .map_err(fail("Could not read the add-on's pod identity configuration"))
}

/// The name of the role `create_role` makes: `NAME-REGION-ADDON`, shortened
/// with a stable hash when IAM's 64-character limit would cut it.
pub fn addon_role_name(cluster: &str, region: &str, addon: &str) -> String {
    let full = format!("{cluster}-{region}-{addon}");
    if full.len() <= 64 {
        return full;
    }
    // FNV-1a: stable across releases, so a resumed create finds the same name.
    let hash = full.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}-{:08x}", &full[..55], hash as u32)
}

/// Creates (or, resuming, adopts) the add-on's role with the managed
/// policies EKS recommends for it, recorded the moment it exists.
async fn create_role(
    run: &Run<'_>,
    state: &mut ClusterModel,
    addon: &str,
    version: Option<&str>,
) -> Result<String, Diagnostics> {
    let iam = &run.clients.iam;
    let role = addon_role_name(run.name(), run.region(), addon);
    let arn = iam
        .create_role(
            &role,
            &run.owner(),
            &POD_IDENTITY_ROLE,
            &run.object_tags(role.clone(), &[]),
        )
        .await
        .map_err(fail("Could not create the add-on's IAM role"))?;
    super::roles::record_created(&mut state.created_iam_role_names, &role);
    let policies: Vec<String> = pod_identity_configuration(run, addon, version)
        .await?
        .into_iter()
        .flat_map(|c| c.recommended_managed_policies)
        .collect();
    iam.attach_policy_arns(&role, &policies)
        .await
        .map_err(fail("Could not attach the add-on role's policies"))?;
    Ok(arn)
}

async fn delete_created_role(run: &Run<'_>, state: &mut ClusterModel, addon: &AddonModel) -> Result<(), Diagnostics> {
    let Some(arn) = &addon.created_role_arn else {
        return Ok(());
    };
    let role = role_name(arn).to_string();
    run.clients
        .iam
        .delete_role_and_dependents(&role, run.stop)
        .await
        .map_err(fail("Could not delete the add-on's IAM role"))?;
    if let Some(names) = state.created_iam_role_names.as_mut() {
        names.retain(|n| *n != role);
    }
    Ok(())
}

/// The stack's tags with the add-on's own over them.
fn addon_tags(run: &Run<'_>, addon: &AddonModel) -> BTreeMap<String, String> {
    let mut tags = run.eks_tags();
    tags.extend(addon.tags.clone().unwrap_or_default());
    tags
}

async fn sync_addon_tags(
    run: &Run<'_>,
    addon: &str,
    current: &AddonModel,
    wanted: &AddonModel,
) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let Some(found) = eks
        .find_addon(run.name(), addon)
        .await
        .map_err(fail("Could not read an add-on"))?
    else {
        return Ok(());
    };
    let mut was = run.eks_tags();
    was.extend(current.tags.clone().unwrap_or_default());
    eks.sync_tags(&found.arn, &was, &addon_tags(run, wanted))
        .await
        .map_err(fail("Could not update the tags of an add-on"))
}

/// An unset version in the configuration means "EKS's default", which a
/// recorded version always satisfies; `latest` moves only on an upgrade.
fn differs(current: &AddonModel, wanted: &AddonModel) -> bool {
    let version = wanted.version.is_some() && wanted.version != current.version;
    let config = match (&current.configuration_values, &wanted.configuration_values) {
        (Some(a), Some(b)) => !same_json(a, b),
        (a, b) => a != b,
    };
    let iam = current.service_account_role_arn != wanted.service_account_role_arn
        || current.pod_identity_role() != wanted.pod_identity_role()
        || current.create_role.unwrap_or(false) != wanted.create_role.unwrap_or(false);
    version || config || iam
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
            && let Some(recorded) = state.addons.as_mut().and_then(|a| a.get_mut(addon))
            && recorded.version.as_deref() != Some(LATEST)
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
    for ((addon, recorded), found) in addons.iter().zip(found) {
        let Some(installed) = found? else { continue };
        let configuration_values = match (&recorded.configuration_values, installed.configuration_values) {
            (Some(mine), Some(actual)) if same_json(mine, &actual) => Some(mine.clone()),
            (_, actual) => actual,
        };
        let version = match recorded.version.as_deref() {
            Some(LATEST) => Some(LATEST.to_string()),
            _ => Some(installed.version),
        };
        refreshed.insert(
            addon.clone(),
            AddonModel {
                version,
                configuration_values,
                service_account_role_arn: installed.service_account_role_arn.filter(|r| !r.is_empty()),
                ..recorded.clone()
            },
        );
    }
    Ok(Some(refreshed))
}

/// The implied add-ons still installed.
pub async fn observe_implied(clients: &Clients, prior: &ClusterModel) -> Result<Option<Vec<String>>, AwsError> {
    let Some(implied) = &prior.implied_addons else {
        return Ok(None);
    };
    let found = join_all(implied.iter().map(|addon| clients.eks.find_addon(&prior.name, addon))).await;
    let mut present = Vec::new();
    for (addon, found) in implied.iter().zip(found) {
        if found?.is_some() {
            present.push(addon.clone());
        }
    }
    Ok(Some(present))
}

/// Plans the computed parts of add-ons: `implied_addons` from the planned
/// configuration, and each add-on's `created_role_arn` (unknown when a role
/// is to be made, none without `create_role`).
pub fn plan(prior: &Value, config: &Value, planned: &mut Value) {
    // Known once whether pod identity is used is known: which add-ons are
    // listed, their IAM settings, and the association keys (not their roles).
    let empty = BTreeMap::new();
    let (addons, associations) = (config.attr("addons"), config.attr("pod_identity_associations"));
    let listed = match addons {
        Value::Map(listed) => listed,
        _ => &empty,
    };
    // Karpenter's controller gets its role through EKS Pod Identity.
    let karpenter = config.attr("karpenter").attr("enabled");
    let decided = !addons.is_unknown()
        && !associations.is_unknown()
        && !config.attr("karpenter").is_unknown()
        && !karpenter.is_unknown()
        && !config.attr("gitops_hub").is_unknown()
        && listed.values().all(|a| {
            !a.is_unknown() && !a.attr("pod_identity_role_arn").is_unknown() && !a.attr("create_role").is_unknown()
        });
    let uses_pod_identity = matches!(associations, Value::Map(m) if !m.is_empty())
        || karpenter.as_bool() == Some(true)
        // A GitOps hub's Argo CD gets its role through EKS Pod Identity too.
        || !config.attr("gitops_hub").is_null()
        || listed
            .values()
            .any(|a| !a.attr("pod_identity_role_arn").is_null() || a.attr("create_role").as_bool() == Some(true));
    let implied = if !decided {
        Value::Unknown
    } else if uses_pod_identity && !listed.contains_key(POD_IDENTITY_AGENT) {
        Value::List(vec![Value::string(POD_IDENTITY_AGENT)])
    } else {
        Value::Null
    };
    planned.set_attr("implied_addons", implied);
    let mut roles_change = false;
    if let Some(Value::Map(addons)) = planned.attr_mut("addons") {
        for (name, addon) in addons.iter_mut() {
            let recorded = prior.attr("addons").entry(name).attr("created_role_arn");
            let arn = match addon.attr("create_role") {
                Value::Bool(true) if recorded.is_null() => Value::Unknown,
                Value::Bool(true) => recorded.clone(),
                Value::Unknown => Value::Unknown,
                _ => Value::Null,
            };
            roles_change |= arn.is_unknown() || (arn.is_null() && !recorded.is_null());
            addon.set_attr("created_role_arn", arn);
        }
    }
    // A removed add-on's role goes with it.
    if let Value::Map(before) = prior.attr("addons") {
        roles_change |= before
            .iter()
            .any(|(name, a)| !a.attr("created_role_arn").is_null() && planned.attr("addons").entry(name).is_null());
    }
    if roles_change {
        planned.set_attr("created_iam_role_names", Value::Unknown);
    }
}

/// Add-ons newly given a pod identity role must support EKS Pod Identity:
/// DescribeAddonConfiguration lists the service accounts that take one.
/// Checked at plan time, so the error names the attribute before anything is made.
pub async fn check_pod_identity_support(
    eks: &crate::aws::eks::Eks,
    prior: &Value,
    planned: &Value,
    diags: &mut Diagnostics,
) {
    let Value::Map(addons) = planned.attr("addons") else {
        return;
    };
    let kubernetes = planned.attr("kubernetes_version").as_str();
    for (name, addon) in addons {
        let attr = if addon.attr("create_role").as_bool() == Some(true) {
            "create_role"
        } else if addon.attr("pod_identity_role_arn").as_str().is_some() {
            "pod_identity_role_arn"
        } else {
            continue;
        };
        let before = prior.attr("addons").entry(name);
        let unchanged = before.attr(attr) == addon.attr(attr) && before.attr("version") == addon.attr("version");
        if unchanged {
            continue;
        }
        let version = match addon.attr("version").as_str().filter(|v| *v != LATEST) {
            Some(version) => version.to_string(),
            None => {
                let Some(kubernetes) = kubernetes else { continue };
                match eks.find_addon_versions(name, kubernetes).await {
                    Ok(versions) => match versions.first() {
                        Some((newest, _)) => newest.clone(),
                        None => continue,
                    },
                    Err(_) => continue,
                }
            }
        };
        let path = AttributePath::attr("addons").key(name).then(attr);
        match eks.find_addon_pod_identity_configuration(name, &version).await {
            Ok(config) if config.is_empty() => diags.attribute_error(
                &path,
                "Add-on does not support EKS Pod Identity",
                format!(
                    "addons[\"{name}\"].{attr}: {name} {version} takes no pod identity role (EKS's \
                     DescribeAddonConfiguration lists no service account for it). Remove {attr}, or use \
                     service_account_role_arn (IRSA) if the add-on supports it."
                ),
            ),
            Ok(_) => {}
            Err(e) => diags.attribute_error(
                &path,
                "Could not read the add-on's pod identity configuration",
                format!("addons[\"{name}\"].{attr}: {e} (the provider needs eks:DescribeAddonConfiguration)."),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addon_role_name_fits_iam_and_is_stable() {
        assert_eq!(
            addon_role_name("edge", "us-west-2", "aws-ebs-csi-driver"),
            "edge-us-west-2-aws-ebs-csi-driver"
        );
        let long = addon_role_name(
            "a-cluster-name-that-is-long-enough",
            "ap-southeast-1",
            "amazon-cloudwatch-observability",
        );
        assert_eq!(long.len(), 64);
        assert_eq!(
            long,
            addon_role_name(
                "a-cluster-name-that-is-long-enough",
                "ap-southeast-1",
                "amazon-cloudwatch-observability"
            )
        );
        assert_ne!(
            long,
            addon_role_name(
                "a-cluster-name-that-is-long-enough",
                "ap-southeast-1",
                "amazon-cloudwatch-observabilitx"
            )
        );
    }
}
