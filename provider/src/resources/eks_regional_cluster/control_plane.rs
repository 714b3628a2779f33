//! The EKS cluster itself: created (or taken back, or recreated when EKS
//! left it FAILED) and waited for, then kept at the configured version,
//! endpoint access and logging.

use std::collections::BTreeSet;

use aws_sdk_eks::types::Cluster;

use super::kubeconfig::{kubeconfig, update_kubeconfig_command};
use super::model::{AutoModeModel, ClusterModel};
use super::node_groups;
use super::run::{Clients, Run, fail, wait_fail};
use crate::aws::AwsError;
use crate::aws::eks::{AutoModeSpec, ClusterSpec, UpdateTarget, start_update_when_free};
use crate::aws::waiters::{IAM_PROPAGATION, retry_while};
use crate::resources::error;
use tfplugin::diagnostics::Diagnostics;

/// The cluster exists, ACTIVE, as configured.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let name = run.name();
    let found = eks
        .find_cluster(name)
        .await
        .map_err(fail("Could not read the EKS cluster"))?;
    let found = match (found, &state.arn) {
        // Ours: the ARN in state, or (its answer lost) the cluster in our VPC.
        (Some(c), Some(arn)) if c.arn() == Some(arn.as_str()) => Some(c),
        (Some(c), None) if in_vpc(&c, state.vpc_id.as_deref()) && !foreign(&c, state) => Some(c),
        (Some(_), _) => {
            return Err(error(
                "Could not create the EKS cluster",
                format!(
                    "an EKS cluster named {name} already exists in {} and this resource did not create it: import \
                     it with `terraform import` as {}/{name}, or choose another name",
                    run.region(),
                    run.region()
                ),
            ));
        }
        (None, _) => None,
    };
    let cluster = match found {
        // EKS leaves a cluster it could not create FAILED: it is deleted and
        // made again, in the same network.
        Some(c) if status(&c) == "FAILED" => {
            eks.delete_cluster(name, run.budgets.of("cluster_delete"), run.stop)
                .await
                .map_err(wait_fail("Could not delete the FAILED EKS cluster"))?;
            state.arn = None;
            create(run, state).await?
        }
        Some(c) if status(&c) == "ACTIVE" => c,
        Some(c) => {
            state.arn = c.arn().map(str::to_string);
            wait_active(run).await?
        }
        None => {
            state.arn = None;
            create(run, state).await?
        }
    };
    state.arn = cluster.arn().map(str::to_string);
    // The stack's status stays what it is (CREATING, …) until every part is
    // ensured: a failure after this point must still resume.
    let stack_status = state.status.clone();
    apply_cluster_facts(state, &cluster, run.region());
    state.status = stack_status;
    ensure_support_type(run, state).await?;
    ensure_zonal_shift(run, state).await?;
    ensure_auto_mode(run, state).await?;
    ensure_deletion_protection(run, state).await?;
    ensure_version(run, state).await?;
    ensure_endpoint_access(run, state).await?;
    ensure_logging(run, state).await
}

fn status(cluster: &Cluster) -> &str {
    cluster.status().map_or("", |s| s.as_str())
}

/// In an existing VPC, which other clusters may share, a cluster is only
/// taken for ours (an answer lost) when it runs with our cluster role.
fn foreign(cluster: &Cluster, state: &ClusterModel) -> bool {
    state.existing_network()
        && (state.cluster_role_arn.is_none() || cluster.role_arn() != state.cluster_role_arn.as_deref())
}

fn in_vpc(cluster: &Cluster, vpc_id: Option<&str>) -> bool {
    vpc_id.is_some() && cluster.resources_vpc_config().and_then(|v| v.vpc_id()) == vpc_id
}

async fn create(run: &Run<'_>, state: &mut ClusterModel) -> Result<Cluster, Diagnostics> {
    let desired = run.desired;
    let tags = run.eks_tags();
    // Plan sets the version (the newest in standard support when unset).
    let Some(version) = desired.kubernetes_version.as_deref() else {
        return Err(error(
            "Could not create the EKS cluster",
            "kubernetes_version is not known: plan again, or set kubernetes_version.",
        ));
    };
    let spec = ClusterSpec {
        name: run.name(),
        version,
        role_arn: state.cluster_role_arn.as_deref().unwrap_or_default(),
        subnet_ids: state.private_subnet_ids.clone().unwrap_or_default(),
        security_group_ids: state.api_security_group_id.iter().cloned().collect(),
        endpoint_private_access: desired.endpoint_private_access.unwrap_or(true),
        endpoint_public_access: desired.endpoint_public_access.unwrap_or(false),
        public_access_cidrs: desired.public_access_cidrs.iter().flatten().cloned().collect(),
        secrets_kms_key_arn: desired.secrets_kms_key_arn.as_deref(),
        enabled_log_types: desired.enabled_log_types.iter().flatten().cloned().collect(),
        tags: &tags,
        support_type: desired.support_type(),
        bootstrap_self_managed_addons: bootstrap_self_managed_addons(desired),
        deletion_protection: desired.deletion_protection.unwrap_or(false),
        zonal_shift: desired.zonal_shift.unwrap_or(false),
        service_ipv4_cidr: desired.service_ipv4_cidr.as_deref(),
        auto_mode: auto_mode_spec(desired, state).filter(|a| a.enabled),
    };
    // EKS keeps a deleted cluster's name for a while after DescribeCluster
    // stops showing it (a replacement, a FAILED cluster made again):
    // CreateCluster is retried while the name is taken by no visible cluster.
    let eks = &run.clients.eks;
    let arn = retry_while(
        "the cluster's name to be free",
        IAM_PROPAGATION,
        run.stop,
        |e| e.code == "ResourceInUseException",
        || async {
            match eks.create_cluster(&spec, run.stop).await {
                Err(e) if e.code == "ResourceInUseException" => match eks.find_cluster(run.name()).await {
                    Ok(None) => Err(e),
                    _ => Err(crate::aws::AwsError {
                        code: "ClusterExists".into(),
                        ..e
                    }),
                },
                other => other,
            }
        },
    )
    .await
    .map_err(fail("Could not create the EKS cluster"))?;
    // From here the cluster is ours: recorded before waiting for it.
    state.arn = Some(arn);
    state.kubernetes_version = Some(spec.version.to_string());
    state.support_type = Some(spec.support_type.to_string());
    state.deletion_protection = Some(spec.deletion_protection);
    state.zonal_shift = Some(spec.zonal_shift);
    state.endpoint_private_access = Some(spec.endpoint_private_access);
    state.endpoint_public_access = Some(spec.endpoint_public_access);
    state.public_access_cidrs = desired.public_access_cidrs.clone();
    state.enabled_log_types = desired.enabled_log_types.clone();
    if spec.auto_mode.is_some() {
        state.auto_mode = desired.auto_mode.clone();
    }
    wait_active(run).await
}

/// Plan: Auto Mode's node role is made the first time Auto Mode is on.
pub fn plan_auto_mode(prior: &tfplugin::value::Value, planned: &mut tfplugin::value::Value) {
    use tfplugin::value::Value;
    if !prior.attr("auto_mode_node_role_arn").is_null() {
        return;
    }
    let next = match planned.attr("auto_mode").attr("enabled") {
        Value::Bool(true) | Value::Unknown => Value::Unknown,
        _ => Value::Null,
    };
    if next.is_unknown() {
        // The role joins what this resource made.
        planned.set_attr("created_iam_role_names", Value::Unknown);
    }
    planned.set_attr("auto_mode_node_role_arn", next);
}

/// What EKS is asked for Auto Mode: the configured switch and node pools,
/// with the node role `roles` made.
fn auto_mode_spec(desired: &ClusterModel, state: &ClusterModel) -> Option<AutoModeSpec> {
    let auto_mode = desired.auto_mode.as_ref()?;
    Some(AutoModeSpec {
        enabled: auto_mode.enabled.unwrap_or(false),
        node_pools: auto_mode.node_pools.clone().unwrap_or_default(),
        node_role_arn: state.auto_mode_node_role_arn.clone(),
    })
}

/// EKS Auto Mode switched on or off (or its node pools changed) in place,
/// one UpdateClusterConfig for its three parts. Unconfigured, a cluster
/// with Auto Mode off is left alone; `state` holds what refresh read, so
/// Auto Mode turned on out of band is turned off again.
async fn ensure_auto_mode(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let wanted = auto_mode_spec(run.desired, state).unwrap_or(AutoModeSpec {
        enabled: false,
        node_pools: Vec::new(),
        node_role_arn: None,
    });
    let current = state.auto_mode.clone().unwrap_or_default();
    let same = current.enabled.unwrap_or(false) == wanted.enabled
        && (!wanted.enabled || current.node_pools.clone().unwrap_or_default() == wanted.node_pools);
    if !same {
        let summary = "Could not change the cluster's auto_mode";
        update_and_wait(run, summary, || {
            run.clients.eks.update_cluster_auto_mode(run.name(), &wanted)
        })
        .await?;
    }
    state.auto_mode = run.desired.auto_mode.clone();
    Ok(())
}

/// The add-ons EKS installs itself, self-managed, unless told not to.
const SELF_MANAGED_ADDONS: [&str; 3] = ["vpc-cni", "kube-proxy", "coredns"];

/// When the configuration manages all of vpc-cni, kube-proxy and coredns as
/// EKS add-ons, EKS is told not to install its self-managed copies first:
/// the add-ons would only take them over.
fn bootstrap_self_managed_addons(desired: &ClusterModel) -> bool {
    // Auto Mode runs networking, DNS and storage itself
    // (https://docs.aws.amazon.com/eks/latest/userguide/automode.html).
    if desired.auto_mode_enabled() {
        return false;
    }
    let listed = |name: &str| desired.addons.as_ref().is_some_and(|a| a.contains_key(name));
    !SELF_MANAGED_ADDONS.iter().all(|name| listed(name))
}

async fn wait_active(run: &Run<'_>) -> Result<Cluster, Diagnostics> {
    run.clients
        .eks
        .wait_for_cluster(run.name(), run.budgets.of("cluster_create"), run.stop)
        .await
        .map_err(wait_fail("EKS cluster did not become active"))
}

/// One minor version up: node groups still on an older version are brought
/// to the control plane's first (EKS refuses the upgrade otherwise), then
/// the control plane, then the node groups follow it.
async fn ensure_version(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let Some(wanted) = run.desired.kubernetes_version.clone() else {
        return Ok(());
    };
    if state.kubernetes_version.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let current = state.kubernetes_version.clone().unwrap_or_default();
    node_groups::upgrade_lagging(run, state, &current).await?;
    let summary = "Could not upgrade the cluster";
    let update = run
        .clients
        .eks
        .update_cluster_version(run.name(), &wanted)
        .await
        .map_err(fail(summary))?;
    await_update(run, &update, summary).await?;
    state.kubernetes_version = Some(wanted);
    refresh_facts(run, state).await
}

/// The upgrade policy (`support_type`), changed in place. `state` holds what
/// refresh read, so a change made out of band is put back.
async fn ensure_support_type(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let wanted = run.desired.support_type();
    if state.support_type.as_deref() != Some(wanted) {
        let summary = "Could not change the cluster's support_type";
        update_and_wait(run, summary, || {
            run.clients.eks.update_cluster_support_type(run.name(), wanted)
        })
        .await?;
        refresh_facts(run, state).await?;
    }
    state.support_type = Some(wanted.to_string());
    Ok(())
}

/// Deletion protection, changed in place (EKS takes it on an ACTIVE cluster).
async fn ensure_deletion_protection(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let wanted = run.desired.deletion_protection.unwrap_or(false);
    if state.deletion_protection.unwrap_or(false) != wanted {
        let summary = "Could not change the cluster's deletion_protection";
        update_and_wait(run, summary, || {
            run.clients.eks.update_cluster_deletion_protection(run.name(), wanted)
        })
        .await?;
    }
    state.deletion_protection = Some(wanted);
    Ok(())
}

/// ARC zonal shift, changed in place.
async fn ensure_zonal_shift(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let wanted = run.desired.zonal_shift.unwrap_or(false);
    if state.zonal_shift.unwrap_or(false) != wanted {
        let summary = "Could not change the cluster's zonal_shift";
        update_and_wait(run, summary, || {
            run.clients.eks.update_cluster_zonal_shift(run.name(), wanted)
        })
        .await?;
    }
    state.zonal_shift = Some(wanted);
    Ok(())
}

/// Endpoint access compared as EKS sees it: public CIDRs only matter with a
/// public endpoint. `state` holds what refresh read, so access widened out
/// of band is put back.
async fn ensure_endpoint_access(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    fn access(m: &ClusterModel) -> (bool, bool, BTreeSet<String>) {
        let public = m.endpoint_public_access.unwrap_or(false);
        let cidrs = if public {
            m.public_access_cidrs.clone().unwrap_or_default()
        } else {
            BTreeSet::new()
        };
        (m.endpoint_private_access.unwrap_or(true), public, cidrs)
    }
    let wanted = access(run.desired);
    if wanted != access(state) {
        let (private, public, cidrs) = wanted;
        let cidrs: Vec<String> = cidrs.into_iter().collect();
        let summary = "Could not update the cluster endpoint";
        update_and_wait(run, summary, || {
            run.clients
                .eks
                .update_cluster_endpoint(run.name(), private, public, &cidrs)
        })
        .await?;
        refresh_facts(run, state).await?;
    }
    state.endpoint_private_access = run.desired.endpoint_private_access;
    state.endpoint_public_access = run.desired.endpoint_public_access;
    state.public_access_cidrs = run.desired.public_access_cidrs.clone();
    Ok(())
}

async fn ensure_logging(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let wanted = run.desired.enabled_log_types.clone().unwrap_or_default();
    if wanted != state.enabled_log_types.clone().unwrap_or_default() {
        let enabled: Vec<String> = wanted.into_iter().collect();
        let summary = "Could not update cluster logging";
        update_and_wait(run, summary, || {
            run.clients.eks.update_cluster_logging(run.name(), &enabled)
        })
        .await?;
        refresh_facts(run, state).await?;
    }
    state.enabled_log_types = run.desired.enabled_log_types.clone();
    Ok(())
}

/// Starts a cluster update once no other runs, then waits for it by its id.
async fn update_and_wait<F, Fut>(run: &Run<'_>, summary: &str, start: F) -> Result<(), Diagnostics>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, AwsError>>,
{
    let update = start_update_when_free("the cluster", run.budgets.of("cluster_update"), run.stop, start)
        .await
        .map_err(fail(summary))?;
    await_update(run, &update, summary).await
}

/// Waits for a cluster update by its id, so the next one doesn't race it.
async fn await_update(run: &Run<'_>, update_id: &str, summary: &str) -> Result<(), Diagnostics> {
    run.clients
        .eks
        .wait_for_update(
            run.name(),
            update_id,
            UpdateTarget::Cluster,
            run.budgets.of("cluster_update"),
            run.stop,
        )
        .await
        .map_err(wait_fail(summary))
}

/// Re-reads the cluster's computed facts after an update.
async fn refresh_facts(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let (version, stack_status) = (state.kubernetes_version.clone(), state.status.clone());
    if let Some(cluster) = run
        .clients
        .eks
        .find_cluster(run.name())
        .await
        .map_err(fail("Could not read the EKS cluster"))?
    {
        apply_cluster_facts(state, &cluster, run.region());
    }
    state.kubernetes_version = version;
    state.status = stack_status;
    Ok(())
}

/// Our cluster (the ARN in state), if it exists.
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<Option<Cluster>, Diagnostics> {
    let cluster = clients
        .eks
        .find_cluster(&prior.name)
        .await
        .map_err(fail("Could not read the EKS cluster"))?;
    // A cluster being deleted (out of band) is as good as gone.
    Ok(cluster.filter(|c| c.arn() == prior.arn.as_deref() && status(c) != "DELETING"))
}

/// What refresh takes from the cluster: its facts, tags, endpoint access
/// (public CIDRs included) and logging.
pub fn apply_observed(state: &mut ClusterModel, cluster: &Cluster, region: &str) {
    let prior_cidrs = state.public_access_cidrs.clone();
    apply_cluster_facts(state, cluster, region);
    state.tags_all = Some(
        cluster
            .tags()
            .map(|t| t.clone().into_iter().collect())
            .unwrap_or_default(),
    );
    if let Some(vpc) = cluster.resources_vpc_config() {
        state.endpoint_private_access = Some(vpc.endpoint_private_access());
        state.endpoint_public_access = Some(vpc.endpoint_public_access());
        let cidrs: BTreeSet<String> = vpc.public_access_cidrs().iter().cloned().collect();
        // EKS reports 0.0.0.0/0 for a public endpoint given no CIDRs.
        let default_only = cidrs.len() == 1 && cidrs.contains("0.0.0.0/0");
        state.public_access_cidrs = if !vpc.endpoint_public_access() || (prior_cidrs.is_none() && default_only) {
            prior_cidrs
        } else {
            Some(cidrs)
        };
    }
    let enabled: BTreeSet<String> = cluster
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|setup| setup.enabled() == Some(true))
        .flat_map(|setup| setup.types().iter().map(|t| t.as_str().to_string()))
        .collect();
    if state.enabled_log_types.is_some() || !enabled.is_empty() {
        state.enabled_log_types = Some(enabled);
    }
}

/// Fills the computed attributes that come from the cluster itself.
pub fn apply_cluster_facts(state: &mut ClusterModel, cluster: &Cluster, region: &str) {
    state.arn = cluster.arn().map(str::to_string);
    state.endpoint = cluster.endpoint().map(str::to_string);
    state.certificate_authority_data = cluster
        .certificate_authority()
        .and_then(|c| c.data())
        .map(str::to_string);
    state.oidc_issuer_url = cluster
        .identity()
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .map(str::to_string);
    state.platform_version = cluster.platform_version().map(str::to_string);
    state.status = cluster.status().map(|s| s.as_str().to_string());
    state.kubernetes_version = cluster
        .version()
        .map(str::to_string)
        .or(state.kubernetes_version.clone());
    state.deletion_protection = cluster.deletion_protection().or(state.deletion_protection);
    state.zonal_shift = cluster
        .zonal_shift_config()
        .and_then(|z| z.enabled())
        .or(state.zonal_shift);
    state.service_ipv4_cidr = cluster
        .kubernetes_network_config()
        .and_then(|k| k.service_ipv4_cidr())
        .map(str::to_string)
        .or(state.service_ipv4_cidr.clone());
    state.support_type = cluster
        .upgrade_policy()
        .and_then(|p| p.support_type())
        .map(|t| t.as_str().to_string())
        .or(state.support_type.clone());
    if let Some(compute) = cluster.compute_config() {
        let enabled = compute.enabled().unwrap_or(false);
        // Off, EKS's node pools say nothing: the configured ones are kept.
        let node_pools = if enabled {
            Some(compute.node_pools().to_vec())
        } else {
            state.auto_mode.as_ref().and_then(|a| a.node_pools.clone())
        };
        // Never configured and off: nothing to show.
        if enabled || state.auto_mode.is_some() {
            state.auto_mode = Some(AutoModeModel {
                enabled: Some(enabled),
                node_pools,
            });
        }
    }
    state.cluster_security_group_id = cluster
        .resources_vpc_config()
        .and_then(|v| v.cluster_security_group_id())
        .map(str::to_string);
    state.kubeconfig = Some(kubeconfig(
        &state.name,
        region,
        state.arn.as_deref().unwrap_or_default(),
        state.endpoint.as_deref().unwrap_or_default(),
        state.certificate_authority_data.as_deref().unwrap_or_default(),
    ));
    state.update_kubeconfig_command = Some(update_kubeconfig_command(&state.name, region));
}

/// Deletes our cluster (its ARN is in state), never another state's cluster
/// of the same name. Add-ons and access entries go with it.
/// EKS refuses to delete an ACTIVE cluster with deletion protection
/// (https://docs.aws.amazon.com/eks/latest/userguide/deletion-protection.html);
/// so does destroy, before it deletes the node groups or the network.
pub async fn refuse_if_protected(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    if state.arn.is_none() {
        return Ok(());
    }
    let cluster = run
        .clients
        .eks
        .find_cluster(run.name())
        .await
        .map_err(fail("Could not read the EKS cluster"))?;
    let protected = cluster
        .filter(|c| c.arn() == state.arn.as_deref() && status(c) == "ACTIVE")
        .is_some_and(|c| c.deletion_protection() == Some(true));
    if protected {
        return Err(error(
            "The cluster has deletion protection",
            format!(
                "deletion_protection is on for EKS cluster {} in {}, so nothing was deleted. To delete it, set \
                 deletion_protection = false and apply, then destroy again.",
                run.name(),
                run.region()
            ),
        ));
    }
    Ok(())
}

pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    if state.arn.is_none() {
        return Ok(());
    }
    run.clients
        .eks
        .delete_cluster(run.name(), run.budgets.of("cluster_delete"), run.stop)
        .await
        .map_err(wait_fail("Could not delete the EKS cluster"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::eks_regional_cluster::model::AddonModel;

    #[test]
    fn eks_skips_its_self_managed_addons_when_all_three_are_configured() {
        let with = |names: &[&str]| ClusterModel {
            addons: Some(names.iter().map(|n| (n.to_string(), AddonModel::default())).collect()),
            ..Default::default()
        };
        assert!(!bootstrap_self_managed_addons(&with(&[
            "vpc-cni",
            "kube-proxy",
            "coredns"
        ])));
        assert!(!bootstrap_self_managed_addons(&with(&[
            "coredns",
            "vpc-cni",
            "kube-proxy",
            "aws-ebs-csi-driver"
        ])));
        assert!(bootstrap_self_managed_addons(&with(&["vpc-cni", "coredns"])));
        assert!(bootstrap_self_managed_addons(&with(&[])));
        assert!(bootstrap_self_managed_addons(&ClusterModel::default()));
    }

    #[test]
    fn eks_skips_its_self_managed_addons_with_auto_mode_on() {
        let with = |enabled: bool| ClusterModel {
            auto_mode: Some(AutoModeModel {
                enabled: Some(enabled),
                node_pools: None,
            }),
            ..Default::default()
        };
        assert!(!bootstrap_self_managed_addons(&with(true)));
        assert!(bootstrap_self_managed_addons(&with(false)));
    }
}
