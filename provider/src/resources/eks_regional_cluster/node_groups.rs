//! Managed node groups, by key. Scaling, labels and taints update in place;
//! a change of the launch template's content rolls the nodes in place (a new
//! template version, then UpdateNodegroupVersion); a change EKS cannot make
//! to a live group is a replacement created and ACTIVE before the old group
//! is deleted, so the cluster never has fewer nodes. Each group follows the
//! control plane's Kubernetes version.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use aws_sdk_eks::types::Nodegroup;
use futures::future::join_all;

use super::launch_templates;
use super::model::{ClusterModel, NodeGroupModel, TemplateUse};
use super::run::{Clients, Run, fail, wait_fail};
use crate::aws::AwsError;
use crate::aws::eks::{TemplateRef, UpdateTarget, nodegroup_spec, start_update_when_free};
use tfplugin::diagnostics::Diagnostics;

/// EKS's name of the group with `key`: the key until it was replaced.
fn eks_name(state: &ClusterModel, key: &str) -> String {
    state
        .node_group_names
        .as_ref()
        .and_then(|names| names.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// The EKS name of a replacement: the key and a hash of what forced it, so
/// it never collides with the group it replaces.
pub fn replacement_name(key: &str, group: &NodeGroupModel, replaced: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let spec = group.spec(key);
    (
        spec.instance_types,
        spec.capacity_type,
        spec.disk_size,
        spec.ami_type,
        replaced,
    )
        .hash(&mut hasher);
    let name = format!("{key}-{:08x}", hasher.finish() as u32);
    if name == replaced {
        format!("{key}-{:08x}", (hasher.finish() >> 32) as u32)
    } else {
        name
    }
}

/// What refresh found of the node groups in state.
pub struct ObservedGroups {
    pub groups: BTreeMap<String, NodeGroupModel>,
    pub versions: BTreeMap<String, String>,
}

/// The node groups in state, as they are now; one deleted out of band drops
/// out (the plan recreates it). `None` when state tracks none.
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<Option<ObservedGroups>, AwsError> {
    let Some(groups) = &prior.node_groups else {
        return Ok(None);
    };
    let names: Vec<String> = groups.keys().map(|key| eks_name(prior, key)).collect();
    let found = join_all(names.iter().map(|name| clients.eks.find_nodegroup(&prior.name, name))).await;
    let mut observed = ObservedGroups {
        groups: BTreeMap::new(),
        versions: BTreeMap::new(),
    };
    for ((key, config), found) in groups.iter().zip(found) {
        // One being deleted (out of band) is as good as gone.
        if let Some(actual) = found?.filter(|g| status(g) != "DELETING") {
            observed
                .groups
                .insert(key.clone(), config.refreshed(&nodegroup_spec(&actual)));
            if let Some(version) = actual.version() {
                observed.versions.insert(key.clone(), version.to_string());
            }
        }
    }
    Ok(Some(observed))
}

/// The node groups are as configured, each on the control plane's version,
/// and no replaced group is left.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let cluster = run.name();
    let before = state.node_groups.clone().unwrap_or_default();
    let after = run.desired.node_groups.clone().unwrap_or_default();
    let version = state.kubernetes_version.clone().unwrap_or_default();

    // Groups gone from the configuration.
    let removed: Vec<String> = before.keys().filter(|k| !after.contains_key(*k)).cloned().collect();
    let deletes = removed.iter().map(|key| {
        let name = eks_name(state, key);
        async move {
            eks.delete_nodegroup(cluster, &name, run.budgets.of("node_group_delete"), run.stop)
                .await
        }
    });
    for result in join_all(deletes).await {
        result.map_err(wait_fail("Could not delete a node group"))?;
    }
    for key in &removed {
        if let Some(groups) = state.node_groups.as_mut() {
            groups.remove(key);
        }
        if let Some(names) = state.node_group_names.as_mut() {
            names.remove(key);
        }
        launch_templates::delete(run, state, key).await?;
    }

    // What each configured group needs.
    let mut to_create: Vec<(String, String)> = Vec::new();
    for (key, wanted) in &after {
        let current_name = eks_name(state, key);
        let Some(current) = before.get(key) else {
            to_create.push((key.clone(), current_name));
            continue;
        };
        if current.needs_new_nodegroup(wanted) {
            to_create.push((key.clone(), replacement_name(key, wanted, &current_name)));
            continue;
        }
        if run.repairing {
            match eks
                .find_nodegroup(cluster, &current_name)
                .await
                .map_err(fail("Could not read a node group"))?
            {
                None => {
                    to_create.push((key.clone(), current_name));
                    continue;
                }
                // EKS keeps a group it could not create: delete, then make it again.
                Some(g) if status(&g) == "CREATE_FAILED" => {
                    eks.delete_nodegroup(cluster, &current_name, run.budgets.of("node_group_delete"), run.stop)
                        .await
                        .map_err(wait_fail("Could not delete a node group that failed to create"))?;
                    to_create.push((key.clone(), current_name));
                    continue;
                }
                Some(g) if status(&g) != "ACTIVE" => {
                    wait_active(run, &current_name).await?;
                }
                Some(_) => {}
            }
        }
        let group_version = state.node_group_versions.as_ref().and_then(|v| v.get(key)).cloned();
        let on_cluster_version = group_version.as_ref() == Some(&version);
        let new_release = wanted
            .ami_release_version
            .as_ref()
            .filter(|release| current.ami_release_version.as_ref() != Some(*release) && on_cluster_version);
        let template = match wanted.template_use() {
            TemplateUse::Managed if current.template_changed(wanted) => {
                launch_templates::ensure(run, state, key, Some(current), wanted).await?
            }
            TemplateUse::User(_) if current.launch_template != wanted.launch_template => {
                launch_templates::ensure(run, state, key, Some(current), wanted).await?
            }
            _ => None,
        };
        if new_release.is_some() || template.is_some() {
            // A template roll keeps the group's Kubernetes version and AMI
            // release (unset, EKS would move both to the newest).
            let release = new_release.or(current.ami_release_version.as_ref());
            let on = group_version.unwrap_or_else(|| version.clone());
            roll_nodes(
                run,
                key,
                &current_name,
                &on,
                release.map(String::as_str),
                template.as_ref(),
                None,
            )
            .await?;
            // What the nodes now run, recorded before anything else can
            // fail, so the next apply does not roll them again.
            if let Some(recorded) = state.node_groups.as_mut().and_then(|g| g.get_mut(key)) {
                recorded.disk.clone_from(&wanted.disk);
                recorded.disk_size = wanted.disk_size;
                recorded.imds_hop_limit = wanted.imds_hop_limit;
                recorded.user_data.clone_from(&wanted.user_data);
                recorded.launch_template.clone_from(&wanted.launch_template);
                if wanted.instance_type_in_template() {
                    recorded.instance_types.clone_from(&wanted.instance_types);
                }
                if let Some(release) = new_release {
                    recorded.ami_release_version = Some(release.clone());
                }
            }
        }
        if current != wanted {
            update_config(run, &current_name, current, wanted).await?;
            state
                .node_groups
                .get_or_insert_default()
                .insert(key.clone(), wanted.clone());
        }
    }

    create_all(run, state, &to_create).await?;
    upgrade_lagging(run, state, &version).await?;
    delete_retired(run, state).await?;
    launch_templates::delete_unused(run, state).await?;
    if run.desired.node_groups.is_none() && state.node_groups.as_ref().is_some_and(BTreeMap::is_empty) {
        state.node_groups = None;
    }
    Ok(())
}

/// Each private subnet with its zone. The network the stack makes has one
/// subnet per zone, in the zones' order; a user's subnets are read, since
/// several may share a zone.
async fn private_subnet_zones(
    run: &Run<'_>,
    state: &ClusterModel,
    subnets: &[String],
) -> Result<Vec<(String, String)>, Diagnostics> {
    if !run.desired.existing_network() {
        let zones = state.availability_zones.clone().unwrap_or_default();
        return Ok(subnets.iter().cloned().zip(zones).collect());
    }
    let found = run
        .clients
        .ec2
        .find_subnets(subnets)
        .await
        .map_err(fail("Could not read the private subnets"))?;
    Ok(subnets
        .iter()
        .map(|id| {
            let zone = found
                .iter()
                .find(|s| s.subnet_id() == Some(id.as_str()))
                .and_then(|s| s.availability_zone())
                .unwrap_or_default();
            (id.clone(), zone.to_string())
        })
        .collect())
}

fn status(group: &Nodegroup) -> &str {
    group.status().map_or("", |s| s.as_str())
}

/// Creates groups concurrently (each accepted one recorded before waiting,
/// so a failed wait still leaves it in state), then waits for all. A group
/// replacing another records the old one as retired, deleted once the new
/// one is ACTIVE.
async fn create_all(run: &Run<'_>, state: &mut ClusterModel, groups: &[(String, String)]) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let node_role = state.node_role_arn.clone().unwrap_or_default();
    let subnets = state.private_subnet_ids.clone().unwrap_or_default();
    let tags = run.eks_tags();
    let wanted = run.desired.node_groups.clone().unwrap_or_default();
    // A group of that name still being deleted (out of band) must be gone first.
    for (_, name) in groups {
        if let Some(group) = eks
            .find_nodegroup(run.name(), name)
            .await
            .map_err(fail("Could not read a node group"))?
            && status(&group) == "DELETING"
        {
            eks.delete_nodegroup(run.name(), name, run.budgets.of("node_group_delete"), run.stop)
                .await
                .map_err(wait_fail("A node group being deleted did not go"))?;
        }
    }
    // Each group's launch template first (one at a time: each records its id).
    let mut templates = BTreeMap::new();
    for (key, _) in groups {
        let current = state.node_groups.as_ref().and_then(|g| g.get(key)).cloned();
        let template = launch_templates::ensure(run, state, key, current.as_ref(), &wanted[key]).await?;
        // The user's template may name the instance type, which EKS then
        // refuses on the node group.
        let mut typed_in_template = false;
        if let (Some(t), TemplateUse::User(_)) = (&template, wanted[key].template_use()) {
            typed_in_template = run
                .clients
                .ec2
                .find_launch_template_version(&t.id, Some(&t.version))
                .await
                .map_err(fail("Could not read a node group's launch template"))?
                .is_some_and(|v| v.has_instance_type);
        }
        templates.insert(key.clone(), (template, typed_in_template));
    }
    let subnet_zones = private_subnet_zones(run, state, &subnets).await?;
    let creates = groups.iter().map(|(key, name)| {
        let mut spec = wanted[key].spec(name);
        let (template, typed_in_template) = templates[key].clone();
        if typed_in_template {
            spec.instance_types.clear();
        }
        spec.launch_template = template;
        let subnets = wanted[key].subnets(&subnet_zones);
        let (node_role, tags) = (&node_role, &tags);
        async move {
            eks.create_nodegroup(run.name(), &spec, node_role, &subnets, tags, run.stop)
                .await
        }
    });
    let results = join_all(creates).await;
    let mut first_error = None;
    let mut created = Vec::new();
    for ((key, name), result) in groups.iter().zip(results) {
        match result {
            Ok(()) => {
                let old = eks_name(state, key);
                let replacing = state.node_groups.as_ref().is_some_and(|g| g.contains_key(key)) && old != *name;
                if replacing {
                    state.retired_node_group_names.get_or_insert_default().push(old);
                }
                state
                    .node_group_names
                    .get_or_insert_default()
                    .insert(key.clone(), name.clone());
                state
                    .node_groups
                    .get_or_insert_default()
                    .insert(key.clone(), wanted[key].clone());
                created.push((key.clone(), name.clone()));
            }
            Err(e) => first_error = first_error.or(Some(fail("Could not create a node group")(e))),
        }
    }
    let waits = created.iter().map(|(_, name)| wait_active(run, name));
    for ((key, _), result) in created.iter().zip(join_all(waits).await) {
        match result {
            Ok(group) => {
                record_release(state, key, &group);
                record_template_version(state, key, &group);
                if let Some(version) = group.version() {
                    state
                        .node_group_versions
                        .get_or_insert_default()
                        .insert(key.clone(), version.to_string());
                }
            }
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    first_error.map_or(Ok(()), Err)
}

async fn wait_active(run: &Run<'_>, name: &str) -> Result<Nodegroup, Diagnostics> {
    run.clients
        .eks
        .wait_for_nodegroup(run.name(), name, run.budgets.of("node_group_create"), run.stop)
        .await
        .map_err(wait_fail("Node group did not become active"))
}

/// Scaling, labels and taints in place. The desired size is sent only when
/// the configuration changed it; otherwise what an autoscaler set is kept
/// (clamped into the new bounds).
async fn update_config(
    run: &Run<'_>,
    name: &str,
    current: &NodeGroupModel,
    wanted: &NodeGroupModel,
) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let mut before = current.spec(name);
    let mut after = wanted.spec(name);
    // The AMI release moves through UpdateNodegroupVersion (`roll_nodes`).
    after.release_version = before.release_version.clone();
    let live = eks
        .find_nodegroup(run.name(), name)
        .await
        .map_err(fail("Could not read a node group"))?
        .map(|g| nodegroup_spec(&g).desired_size)
        .unwrap_or(before.desired_size);
    before.desired_size = live;
    if current.desired_size == wanted.desired_size && wanted.enforce_desired_size != Some(true) {
        after.desired_size = live.clamp(after.min_size, after.max_size);
    }
    if before == after {
        return Ok(());
    }
    let summary = "Could not update a node group";
    let budget = run.budgets.of("node_group_update");
    let update = start_update_when_free(&format!("node group {name}"), budget, run.stop, || {
        eks.update_nodegroup_config(run.name(), &before, &after)
    })
    .await
    .map_err(fail(summary))?;
    eks.wait_for_update(
        run.name(),
        &update,
        UpdateTarget::Nodegroup(name),
        run.budgets.of("node_group_update"),
        run.stop,
    )
    .await
    .map_err(wait_fail(summary))
}

/// Every configured group not on `version` is upgraded to it, one at a
/// time (a failure leaves the rest for the next apply, whose plan shows them).
pub async fn upgrade_lagging(run: &Run<'_>, state: &mut ClusterModel, version: &str) -> Result<(), Diagnostics> {
    if version.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = state.node_groups.iter().flat_map(|g| g.keys().cloned()).collect();
    for key in keys {
        let name = eks_name(state, &key);
        let current = state.node_group_versions.as_ref().and_then(|v| v.get(&key)).cloned();
        if current.as_deref() == Some(version) {
            continue;
        }
        let Some(group) = run
            .clients
            .eks
            .find_nodegroup(run.name(), &name)
            .await
            .map_err(fail("Could not read a node group"))?
        else {
            continue;
        };
        if group.version() != Some(version) {
            // A pinned release for the new version goes with the upgrade; unset, EKS takes the newest.
            let release = run
                .desired
                .node_groups
                .as_ref()
                .and_then(|g| g.get(&key))
                .and_then(|g| g.ami_release_version.clone())
                .filter(|r| r.starts_with(&format!("{version}.")));
            let from = group.version().unwrap_or("?").to_string();
            roll_nodes(run, &key, &name, version, release.as_deref(), None, Some(&from)).await?;
            if let Some(group) = run
                .clients
                .eks
                .find_nodegroup(run.name(), &name)
                .await
                .map_err(fail("Could not read a node group"))?
            {
                record_release(state, &key, &group);
            }
        }
        state
            .node_group_versions
            .get_or_insert_default()
            .insert(key.clone(), version.to_string());
    }
    Ok(())
}

/// Moves a node group to `version`, the AMI `release` (the newest for the
/// version when `None`) and, given, a launch template version through
/// UpdateNodegroupVersion, waited for by its update id: EKS replaces the
/// nodes a few at a time, never below the desired size. `from` names the
/// version a failed upgrade leaves it on.
async fn roll_nodes(
    run: &Run<'_>,
    key: &str,
    name: &str,
    version: &str,
    release: Option<&str>,
    template: Option<&TemplateRef>,
    from: Option<&str>,
) -> Result<(), Diagnostics> {
    let summary = if from.is_some() {
        "Could not upgrade a node group"
    } else if template.is_some() {
        "Could not move a node group to its new launch template version"
    } else {
        "Could not move a node group to its AMI release"
    };
    let budget = run.budgets.of("node_group_update");
    let force = run.desired.force_update_version.unwrap_or(false);
    let update = start_update_when_free(&format!("node group {name}"), budget, run.stop, || {
        run.clients
            .eks
            .update_nodegroup_version(run.name(), name, version, release, template, force)
    })
    .await
    .map_err(fail(summary))?;
    run.clients
        .eks
        .wait_for_update(run.name(), &update, UpdateTarget::Nodegroup(name), budget, run.stop)
        .await
        .map_err(|e| {
            let stays = match (from, template) {
                (Some(from), _) => format!("stays on {from}"),
                (None, Some(t)) => format!("stays on its launch template's previous version (not {})", t.version),
                (None, None) => "keeps its AMI release".to_string(),
            };
            fail(summary)(crate::aws::AwsError {
                operation: "UpdateNodegroupVersion",
                region: run.region().to_string(),
                code: "UpdateFailed".into(),
                message: format!("node group {key} ({name}) {stays}: {e}"),
            })
        })
}

/// Records the launch template version EKS runs a group on.
fn record_template_version(state: &mut ClusterModel, key: &str, group: &Nodegroup) {
    let Some(version) = group.launch_template().and_then(|t| t.version()) else {
        return;
    };
    if let Some(template) = state
        .node_groups
        .as_mut()
        .and_then(|g| g.get_mut(key))
        .and_then(|g| g.launch_template.as_mut())
    {
        template.version = Some(version.to_string());
    }
}

/// Records the AMI release EKS runs a group on.
fn record_release(state: &mut ClusterModel, key: &str, group: &Nodegroup) {
    if let Some(recorded) = state.node_groups.as_mut().and_then(|g| g.get_mut(key)) {
        recorded.ami_release_version = group.release_version().map(str::to_string);
    }
}

/// Deletes groups replaced by ACTIVE new ones.
async fn delete_retired(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let retired = state.retired_node_group_names.clone().unwrap_or_default();
    for name in retired {
        run.clients
            .eks
            .delete_nodegroup(run.name(), &name, run.budgets.of("node_group_delete"), run.stop)
            .await
            .map_err(wait_fail("Could not delete a replaced node group"))?;
        if let Some(list) = state.retired_node_group_names.as_mut() {
            list.retain(|n| *n != name);
        }
    }
    if state.retired_node_group_names.as_ref().is_some_and(Vec::is_empty) {
        state.retired_node_group_names = None;
    }
    Ok(())
}

/// Every group of the stack, retired ones included, deleted at once.
pub async fn delete_all(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let names: Vec<String> = state
        .node_groups
        .iter()
        .flat_map(|g| g.keys())
        .map(|key| eks_name(state, key))
        .chain(state.retired_node_group_names.iter().flatten().cloned())
        .collect();
    let deletes = names.iter().map(|name| {
        run.clients
            .eks
            .delete_nodegroup(run.name(), name, run.budgets.of("node_group_delete"), run.stop)
    });
    for result in join_all(deletes).await {
        result.map_err(wait_fail("Could not delete a node group"))?;
    }
    // Only once the groups are gone: their nodes launch from the templates
    // until then.
    launch_templates::delete_all(run, state).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn managed(types: &[&str], size: f64) -> NodeGroupModel {
        NodeGroupModel {
            instance_types: Some(types.iter().map(|t| t.to_string()).collect()),
            disk: Some(crate::resources::eks_regional_cluster::model::DiskModel {
                size: Some(size),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn what_the_managed_template_holds_rolls_in_place_and_the_rest_replaces() {
        let group = managed(&["m6i.large"], 20.0);
        // The disk and a single instance type are in the template: a new version.
        for changed in [managed(&["m6i.large"], 50.0), managed(&["m6i.xlarge"], 20.0)] {
            assert!(!group.needs_new_nodegroup(&changed), "{changed:?}");
            assert!(group.template_changed(&changed), "{changed:?}");
        }
        // Several types stay on the node group, which EKS cannot change.
        assert!(group.needs_new_nodegroup(&managed(&["m6i.large", "m5.large"], 20.0)));
        // A group made without a template cannot move onto one in place.
        let legacy = NodeGroupModel {
            disk_size: Some(20.0),
            ..Default::default()
        };
        assert!(legacy.needs_new_nodegroup(&group));
        // Nor onto another template.
        let own = NodeGroupModel {
            launch_template: Some(crate::resources::eks_regional_cluster::model::LaunchTemplateModel {
                id: Some("lt-1".into()),
                version: Some("1".into()),
            }),
            ..Default::default()
        };
        assert!(group.needs_new_nodegroup(&own));
    }

    #[test]
    fn a_replacement_is_named_apart_from_the_group_it_replaces() {
        let group = NodeGroupModel {
            instance_types: Some(vec!["m6i.xlarge".into()]),
            ..Default::default()
        };
        let first = replacement_name("general", &group, "general");
        assert!(
            first.starts_with("general-") && first.len() == "general-".len() + 8,
            "{first}"
        );
        assert_ne!(replacement_name("general", &group, &first), first);
        assert_eq!(
            replacement_name("general", &group, "general"),
            first,
            "stable for the same change"
        );
    }
}
