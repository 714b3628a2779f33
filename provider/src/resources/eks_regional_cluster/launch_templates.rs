//! Node groups' launch templates: the one the resource makes per group
//! (IMDSv2 only, an encrypted gp3 root volume, the stack's tags on instances
//! and volumes), or the user's own (`launch_template`), checked at plan time.
//! EKS rules: https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html

use std::collections::BTreeMap;

use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::value::Value;

use super::model::{ClusterModel, DEFAULT_DISK_SIZE, DEFAULT_VOLUME_TYPE, NodeGroupModel, TemplateUse};
use super::run::{Run, fail};
use crate::aws::ec2::Ec2;
use crate::aws::eks::TemplateRef;
use crate::aws::tags::STACK_TAG;

/// What the managed template takes that the user's template has instead.
const MANAGED_ONLY: [&str; 4] = ["disk", "disk_size", "imds_hop_limit", "user_data"];

/// Configuration checks (ValidateResourceConfig): `disk` and its shorthand
/// `disk_size` not both; nothing of the managed template beside the user's.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let Value::Map(groups) = config.attr("node_groups") else {
        return;
    };
    for (key, group) in groups {
        let path = AttributePath::attr("node_groups").key(key);
        if !group.attr("disk").is_null() && !group.attr("disk_size").is_null() {
            diags.attribute_error(
                &path.then("disk_size"),
                "Both disk and disk_size are set",
                format!(
                    "node_groups.{key}: disk and disk_size are both set; disk_size is a shorthand for disk.size: \
                     remove disk_size and set disk.size instead."
                ),
            );
        }
        if !group.attr("launch_template").is_null() {
            for name in MANAGED_ONLY.iter().filter(|name| !group.attr(name).is_null()) {
                diags.attribute_error(
                    &path.then(name),
                    "Set in the launch template instead",
                    format!(
                        "node_groups.{key}.{name}: the group uses its own launch_template, which has this \
                         setting: put it in that template, or remove launch_template to have the provider manage \
                         one."
                    ),
                );
            }
        }
        let disk = group.attr("disk");
        if let (Some(kind), false) = (disk.attr("type").as_str(), disk.attr("throughput").is_null())
            && kind != "gp3"
        {
            diags.attribute_error(
                &path.then("disk").then("throughput"),
                "Throughput is only for gp3",
                format!(
                    "node_groups.{key}.disk.throughput: only gp3 volumes take a throughput, not {kind}: remove it."
                ),
            );
        }
    }
}

/// Plans each group's disk from `disk`, the `disk_size` shorthand or the
/// defaults, so `disk.size` and `disk_size` always agree; with the user's
/// template neither is the resource's, and both are null.
pub fn plan(config: &Value, planned: &mut Value) {
    let Some(Value::Map(groups)) = planned.attr_mut("node_groups") else {
        return;
    };
    for (key, group) in groups.iter_mut() {
        let configured = config.attr("node_groups").entry(key);
        if !matches!(group, Value::Object(_)) {
            continue;
        }
        if !configured.attr("launch_template").is_null() {
            for name in ["disk", "disk_size", "imds_hop_limit"] {
                group.set_attr(name, Value::Null);
            }
            continue;
        }
        let disk = configured.attr("disk");
        let or = |value: &Value, default: Value| if value.is_null() { default } else { value.clone() };
        let size = or(
            disk.attr("size"),
            or(configured.attr("disk_size"), Value::Number(DEFAULT_DISK_SIZE)),
        );
        let planned_disk: BTreeMap<String, Value> = [
            ("size", size.clone()),
            ("type", or(disk.attr("type"), Value::string(DEFAULT_VOLUME_TYPE))),
            ("iops", disk.attr("iops").clone()),
            ("throughput", disk.attr("throughput").clone()),
            ("encrypted", or(disk.attr("encrypted"), Value::Bool(true))),
            ("kms_key_arn", disk.attr("kms_key_arn").clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        group.set_attr("disk", Value::Object(planned_disk));
        group.set_attr("disk_size", size);
    }
}

/// The user's launch templates exist (an error names
/// `node_groups.<key>.launch_template.id` otherwise), and an unset version
/// is planned as the template's default version.
pub async fn check_user_templates(ec2: &Ec2, prior: &Value, planned: &mut Value, diags: &mut Diagnostics) {
    let Some(Value::Map(groups)) = planned.attr_mut("node_groups") else {
        return;
    };
    for (key, group) in groups.iter_mut() {
        let template = group.attr("launch_template");
        let Some(id) = template.attr("id").as_str().map(str::to_string) else {
            continue;
        };
        let version = template.attr("version").as_str().map(str::to_string);
        // Checked when new or changed, not on every plan of a running group.
        let before = prior.attr("node_groups").entry(key).attr("launch_template");
        if before.attr("id").as_str() == Some(id.as_str())
            && version.is_some()
            && before.attr("version").as_str() == version.as_deref()
        {
            continue;
        }
        let path = AttributePath::attr("node_groups").key(key).then("launch_template");
        let found = match ec2.find_launch_template(&id).await {
            Ok(found) => found,
            Err(e) => {
                diags.attribute_error(
                    &path.then("id"),
                    "Could not read the launch template",
                    format!(
                        "node_groups.{key}.launch_template.id: {e} (the provider needs ec2:DescribeLaunchTemplates)."
                    ),
                );
                continue;
            }
        };
        if found.is_none() {
            diags.attribute_error(
                &path.then("id"),
                "Launch template not found",
                format!(
                    "node_groups.{key}.launch_template.id: there is no launch template {id:?} in {}: use the id \
                     (lt-…) of one in the cluster's region and account, or remove launch_template to have the \
                     provider manage one.",
                    ec2.region
                ),
            );
            continue;
        }
        if template.attr("version").is_unknown()
            && !before.attr("version").is_null()
            && before.attr("id").as_str() == Some(id.as_str())
        {
            // Unset and running: the version it runs stays.
            set_version(group, before.attr("version").clone());
            continue;
        }
        match ec2.find_launch_template_version(&id, version.as_deref()).await {
            Ok(Some(found)) => {
                if version.is_none() {
                    set_version(group, Value::string(found.version.to_string()));
                }
            }
            Ok(None) => diags.attribute_error(
                &path.then("version"),
                "Launch template version not found",
                format!(
                    "node_groups.{key}.launch_template.version: template {id} has no version {:?}: use one of its \
                     versions, or leave version unset for its default.",
                    version.unwrap_or_default()
                ),
            ),
            Err(e) => diags.attribute_error(
                &path.then("version"),
                "Could not read the launch template",
                format!(
                    "node_groups.{key}.launch_template.version: {e} (the provider needs \
                     ec2:DescribeLaunchTemplateVersions)."
                ),
            ),
        }
    }
}

fn set_version(group: &mut Value, version: Value) {
    if let Some(template) = group.attr_mut("launch_template") {
        template.set_attr("version", version);
    }
}

/// The name of a group's managed template: the stack id keeps it apart
/// from a same-name cluster's in the region.
fn template_name(run: &Run<'_>, key: &str) -> String {
    format!("eksfleet-{}-{key}", run.stack_id)
}

/// The template `wanted` (the group of `key`) is to be launched from. The
/// managed one is made when the state has none (its id recorded at once),
/// and gets a new version when its content differs from `current`'s (or
/// there is no `current`); the version is recorded as the one to run.
pub async fn ensure(
    run: &Run<'_>,
    state: &mut ClusterModel,
    key: &str,
    current: Option<&NodeGroupModel>,
    wanted: &NodeGroupModel,
) -> Result<Option<TemplateRef>, tfplugin::diagnostics::Diagnostics> {
    match wanted.template_use() {
        TemplateUse::None => Ok(None),
        TemplateUse::User(id) => Ok(Some(TemplateRef {
            id,
            version: wanted
                .launch_template
                .as_ref()
                .and_then(|t| t.version.clone())
                .unwrap_or_else(|| "$Default".into()),
        })),
        TemplateUse::Managed => {
            let name = template_name(run, key);
            let tags = run.object_tags(format!("{}-{key}", run.name()), &[]);
            let Some(spec) = wanted.launch_template_spec(&tags) else {
                return Ok(None);
            };
            let ec2 = &run.clients.ec2;
            let recorded = state
                .node_group_launch_template_ids
                .as_ref()
                .and_then(|ids| ids.get(key))
                .cloned();
            let versions = state.node_group_launch_template_versions.get_or_insert_default();
            let (id, version) = match recorded {
                None => {
                    let stack = run.stack_id.clone();
                    let id = ec2
                        .create_launch_template(&name, &spec, &tags, (STACK_TAG, &stack))
                        .await
                        .map_err(fail("Could not create a node group's launch template"))?;
                    // Recorded before anything else, so it is never lost.
                    state
                        .node_group_launch_template_ids
                        .get_or_insert_default()
                        .insert(key.to_string(), id.clone());
                    versions.insert(key.to_string(), "1".into());
                    (id, "1".to_string())
                }
                Some(id) => {
                    let same = current
                        .is_some_and(|c| c.template_use() == TemplateUse::Managed && !c.template_changed(wanted));
                    match versions.get(key).filter(|_| same) {
                        Some(version) => (id, version.clone()),
                        None => {
                            let version = ec2
                                .create_launch_template_version(&id, &spec)
                                .await
                                .map_err(fail("Could not create a launch template version"))?
                                .to_string();
                            versions.insert(key.to_string(), version.clone());
                            (id, version)
                        }
                    }
                }
            };
            Ok(Some(TemplateRef { id, version }))
        }
    }
}

/// Deletes the managed templates of groups that no longer use one (gone,
/// or on the user's template), once no replaced group may still run on them.
pub async fn delete_unused(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    if state.retired_node_group_names.as_ref().is_some_and(|r| !r.is_empty()) {
        return Ok(());
    }
    let wanted = run.desired.node_groups.clone().unwrap_or_default();
    let unused: Vec<String> = state
        .node_group_launch_template_ids
        .iter()
        .flatten()
        .filter(|(key, _)| {
            wanted
                .get(*key)
                .is_none_or(|g| g.template_use() != TemplateUse::Managed)
        })
        .map(|(key, _)| key.clone())
        .collect();
    for key in unused {
        delete(run, state, &key).await?;
    }
    Ok(())
}

/// Deletes the managed template of `key` (its group already gone) and forgets it.
pub async fn delete(run: &Run<'_>, state: &mut ClusterModel, key: &str) -> Result<(), Diagnostics> {
    let Some(id) = state
        .node_group_launch_template_ids
        .as_ref()
        .and_then(|ids| ids.get(key))
        .cloned()
    else {
        return Ok(());
    };
    run.clients
        .ec2
        .delete_launch_template(&id)
        .await
        .map_err(fail("Could not delete a node group's launch template"))?;
    for map in [
        &mut state.node_group_launch_template_ids,
        &mut state.node_group_launch_template_versions,
    ] {
        if let Some(m) = map.as_mut() {
            m.remove(key);
        }
        if map.as_ref().is_some_and(BTreeMap::is_empty) {
            *map = None;
        }
    }
    Ok(())
}

/// Every managed template of the stack (on destroy, after the groups).
pub async fn delete_all(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    for id in state.node_group_launch_template_ids.iter().flat_map(|ids| ids.values()) {
        run.clients
            .ec2
            .delete_launch_template(id)
            .await
            .map_err(fail("Could not delete a node group's launch template"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(group: &[(&str, Value)]) -> Value {
        let group = Value::Object(group.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
        Value::Object([("node_groups".to_string(), Value::Map([("a".to_string(), group)].into()))].into())
    }

    #[test]
    fn disk_and_disk_size_together_are_refused_naming_both() {
        let disk = Value::Object([("size".to_string(), Value::Number(50.0))].into());
        let mut diags = Diagnostics::new();
        validate(
            &config(&[("disk", disk), ("disk_size", Value::Number(40.0))]),
            &mut diags,
        );
        let text = format!("{diags:?}");
        assert!(diags.has_errors() && text.contains("disk and disk_size"), "{text}");
    }

    #[test]
    fn disk_size_alone_plans_the_disk_with_secure_defaults() {
        let conf = config(&[("disk_size", Value::Number(40.0))]);
        let mut planned = conf.clone();
        plan(&conf, &mut planned);
        let group = planned.attr("node_groups").entry("a");
        assert_eq!(group.at(&["disk", "size"]), &Value::Number(40.0));
        assert_eq!(group.at(&["disk", "type"]), &Value::string("gp3"));
        assert_eq!(group.at(&["disk", "encrypted"]), &Value::Bool(true));
        assert_eq!(group.attr("disk_size"), &Value::Number(40.0));
    }
}
