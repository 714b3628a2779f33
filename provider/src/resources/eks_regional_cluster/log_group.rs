//! The control plane's log group, `/aws/eks/NAME/cluster`, when
//! `log_retention_days` is set. EKS creates that group itself, with no
//! expiry, when a log type is enabled and the group is missing
//! (https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html),
//! so it is made here before the cluster, and EKS writes into ours.
//!
//! The state's `log_retention_days` is the record: set (0 while the group has
//! no retention policy) once the group exists and is this resource's, so
//! destroy deletes it; unset, the group is not the resource's to touch.

use super::model::ClusterModel;
use super::run::{Clients, Run, fail};
use crate::aws::AwsError;
use crate::aws::logs::{FoundLogGroup, cluster_log_group_name};
use crate::aws::tags::STACK_TAG;
use crate::resources::error;
use tfplugin::diagnostics::Diagnostics;

/// What the state records for a group: its retention, 0 for none.
fn recorded(group: &FoundLogGroup) -> f64 {
    f64::from(group.retention_days.unwrap_or(0))
}

/// The group exists, this stack's, with the configured retention. Unset, the
/// group is left as it is (and no longer deleted on destroy).
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let Some(days) = run.desired.log_retention_days else {
        state.log_retention_days = None;
        return Ok(());
    };
    // Refresh read the group (see `observe`): what the state says is so.
    if state.log_retention_days == Some(days) && !run.repairing {
        return Ok(());
    }
    let logs = &run.clients.logs;
    let name = cluster_log_group_name(run.name());
    let read_err = fail("Could not read the cluster's log group");
    let mut group = logs.find_log_group(&name).await.map_err(&read_err)?;
    if group.is_none() {
        let tags = run.object_tags(name.clone(), &[]);
        let created = logs
            .create_log_group(&name, &tags)
            .await
            .map_err(fail("Could not create the cluster's log group"))?;
        group = logs.find_log_group(&name).await.map_err(&read_err)?;
        if created && group.is_none() {
            // Created but not listed yet: CloudWatch Logs catching up.
            group = Some(FoundLogGroup {
                arn: String::new(),
                retention_days: None,
                tags,
            });
        }
    }
    let Some(group) = group else {
        // It existed a moment ago and is gone: the next apply makes it.
        return Err(error(
            "Could not create the cluster's log group",
            format!(
                "log group {name} in {} was deleted while it was being created: apply again",
                run.region()
            ),
        ));
    };
    adopt(run, state, &name, &group).await?;
    state.log_retention_days = Some(recorded(&group));
    if group.retention_days.map(f64::from) != Some(days) {
        logs.put_retention_policy(&name, days as i32)
            .await
            .map_err(fail("Could not set the retention of the cluster's log group"))?;
    }
    state.log_retention_days = Some(days);
    Ok(())
}

/// Whether the group is this resource's: it carries this stack's tag (made
/// here, perhaps by an attempt whose answer was lost), the state records it,
/// or this resource's cluster exists already, so the group named after it
/// is where EKS writes that cluster's logs. A group found before this
/// resource has a cluster of that name is another's (another state's
/// cluster of that name, or one deleted since, whose logs EKS kept):
/// refused, since destroy would delete it.
fn is_ours(run: &Run<'_>, state: &ClusterModel, group: &FoundLogGroup) -> bool {
    group.tags.get(STACK_TAG) == Some(&run.stack_id) || state.log_retention_days.is_some() || state.arn.is_some()
}

/// Refuses a group that is not this resource's; tags one it takes over.
async fn adopt(run: &Run<'_>, state: &ClusterModel, name: &str, group: &FoundLogGroup) -> Result<(), Diagnostics> {
    if !is_ours(run, state, group) {
        return Err(error(
            "Could not create the cluster's log group",
            format!(
                "CloudWatch log group {name} already exists in {} and this resource did not create it (EKS keeps \
                 it after a cluster of that name is deleted): delete it (its logs with it) for this resource to \
                 create and manage it, or leave log_retention_days unset",
                run.region()
            ),
        ));
    }
    let wanted = run.object_tags(name.to_string(), &[]);
    if group.tags.get(STACK_TAG) != Some(&run.stack_id) && !group.arn.is_empty() {
        // Taken over (EKS made it): only this stack's tags are added.
        run.clients
            .logs
            .sync_tags(&group.arn, &Default::default(), &wanted)
            .await
            .map_err(fail("Could not tag the cluster's log group"))?;
    }
    Ok(())
}

/// The group's retention as it is (0: none), `None` when the group is gone;
/// only read when the state records the group.
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<Option<Option<f64>>, AwsError> {
    if prior.log_retention_days.is_none() {
        return Ok(None);
    }
    let group = clients
        .logs
        .find_log_group(&cluster_log_group_name(&prior.name))
        .await?;
    Ok(Some(group.as_ref().map(recorded)))
}

/// The group's tags follow the resource's (`tags::ensure`).
pub async fn sync_tags(run: &Run<'_>, state: &ClusterModel) -> Result<(), AwsError> {
    if state.log_retention_days.is_none() {
        return Ok(());
    }
    let name = cluster_log_group_name(run.name());
    let Some(group) = run.clients.logs.find_log_group(&name).await? else {
        return Ok(());
    };
    let current = state.tags_all.clone().unwrap_or_default();
    let wanted = run.desired.tags_all.clone().unwrap_or_default();
    run.clients.logs.sync_tags(&group.arn, &current, &wanted).await
}

/// After the cluster (so EKS writes no more into it): the group this
/// resource manages, with its logs.
pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    if state.log_retention_days.is_none() {
        return Ok(());
    }
    run.clients
        .logs
        .delete_log_group(&cluster_log_group_name(run.name()))
        .await
        .map_err(fail("Could not delete the cluster's log group"))
}

/// For import: the retention of the cluster's group when it has one (a
/// group without retention is EKS's default, which import leaves unmanaged).
pub async fn imported_retention(clients: &Clients, name: &str) -> Result<Option<f64>, AwsError> {
    let group = clients.logs.find_log_group(&cluster_log_group_name(name)).await?;
    Ok(group.and_then(|g| g.retention_days).map(f64::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_without_retention_is_recorded_as_zero() {
        let group = |retention_days| FoundLogGroup {
            arn: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/eks/hub/cluster".into(),
            retention_days,
            tags: Default::default(),
        };
        assert_eq!(recorded(&group(None)), 0.0);
        assert_eq!(recorded(&group(Some(30))), 30.0);
    }
}
