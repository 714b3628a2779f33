//! The cluster role, the node role and (with `auto_mode`) Auto Mode's node
//! role: given by the configuration, or made here with exactly the managed
//! policies EKS documents, and deleted with the stack.

use super::model::ClusterModel;
use super::run::{Run, fail};
use crate::aws::AwsError;
use crate::aws::iam::{AUTO_MODE_CLUSTER_ROLE, AUTO_MODE_NODE_ROLE, CLUSTER_ROLE, NODE_ROLE, RoleSpec, role_name};
use tfplugin::diagnostics::Diagnostics;

/// The names this resource gives the roles it creates.
pub fn own_role_names(name: &str, region: &str) -> (String, String) {
    (format!("{name}-{region}-cluster"), format!("{name}-{region}-node"))
}

/// The name of the Auto Mode node role this resource creates.
pub fn auto_mode_node_role_name(name: &str, region: &str) -> String {
    format!("{name}-{region}-auto-node")
}

/// `name` when it fits `limit`, else cut with a hash of the whole, so two
/// long names stay apart and the same name always gives the same result.
pub fn bounded(name: String, limit: usize) -> String {
    if name.len() <= limit {
        return name;
    }
    // FNV-1a: stable across builds, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}-{:08x}", &name[..limit - 9], hash as u32)
}

/// Role `name` exists; returns its ARN. One the state records is this
/// resource's whatever its stack tag (an imported state has a new stack id)
/// as long as it carries the owner tag; any other is made, or adopted by
/// CreateRole when it carries this stack's tag.
pub async fn ensure_owned_role(
    run: &Run<'_>,
    name: &str,
    spec: &'static RoleSpec,
    recorded: bool,
) -> Result<String, AwsError> {
    let iam = &run.clients.iam;
    if recorded && let Some(arn) = iam.find_owned_role(name, &run.owner()).await? {
        return Ok(arn);
    }
    iam.create_role(name, &run.owner(), spec, &run.object_tags(name.to_string(), &[]))
        .await
}

/// Both roles exist with their policies. A role is recorded the moment
/// CreateRole succeeds, before its policies are attached, so a failure
/// leaves it in state for destroy. When resuming, the policies of the roles
/// made here are attached again (AttachRolePolicy is idempotent).
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let (cluster_role, node_role) = own_role_names(run.name(), run.region());
    let auto_mode = run.desired.auto_mode_enabled();
    let cluster_spec = if auto_mode {
        &AUTO_MODE_CLUSTER_ROLE
    } else {
        &CLUSTER_ROLE
    };
    let (cluster_arn, node_arn) = tokio::join!(
        ensure_role(
            run,
            state,
            &run.desired.cluster_role_arn,
            &state.cluster_role_arn,
            cluster_role.clone(),
            cluster_spec
        ),
        ensure_role(
            run,
            state,
            &run.desired.node_role_arn,
            &state.node_role_arn,
            node_role,
            &NODE_ROLE
        ),
    );
    let mut first_error = None;
    for (outcome, slot) in [
        (cluster_arn, &mut state.cluster_role_arn),
        (node_arn, &mut state.node_role_arn),
    ] {
        if let Some(arn) = outcome.arn {
            if outcome.created {
                record_created(&mut state.created_iam_role_names, role_name(&arn));
            }
            *slot = Some(arn);
        }
        first_error = first_error.or(outcome.error);
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if auto_mode {
        ensure_auto_mode_roles(run, state, &cluster_role).await?;
    }
    Ok(())
}

/// Auto Mode on: its node role exists (kept once made: EKS refuses another
/// node role later), and a cluster role made here by an earlier apply, before
/// Auto Mode, gets the Auto Mode trust and policies.
async fn ensure_auto_mode_roles(
    run: &Run<'_>,
    state: &mut ClusterModel,
    cluster_role: &str,
) -> Result<(), Diagnostics> {
    let iam = &run.clients.iam;
    let ours = |name: &str| state.created_iam_role_names.iter().flatten().any(|n| n == name);
    let enabling = state.arn.is_some() && (!state.auto_mode_enabled() || run.repairing);
    // (`cluster_role_arn` is computed, so the configuration's value can't
    // tell a given role from ours: the record of what was made can.)
    if enabling && ours(cluster_role) {
        let arn = state.cluster_role_arn.clone().unwrap_or_default();
        iam.update_trust(cluster_role, &AUTO_MODE_CLUSTER_ROLE)
            .await
            .map_err(fail("Could not give the cluster role EKS Auto Mode's trust policy"))?;
        iam.attach_policies(cluster_role, &arn, &AUTO_MODE_CLUSTER_ROLE)
            .await
            .map_err(fail("Could not attach EKS Auto Mode's policies to the cluster role"))?;
    }
    let name = auto_mode_node_role_name(run.name(), run.region());
    let outcome = ensure_role(
        run,
        state,
        &None,
        &state.auto_mode_node_role_arn,
        name.clone(),
        &AUTO_MODE_NODE_ROLE,
    )
    .await;
    if let Some(arn) = outcome.arn {
        record_created(&mut state.created_iam_role_names, &name);
        state.auto_mode_node_role_arn = Some(arn);
    }
    match outcome.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Adds `name` to the roles this resource made (and deletes on destroy), once.
pub fn record_created(names: &mut Option<Vec<String>>, name: &str) {
    let names = names.get_or_insert_default();
    if !names.iter().any(|n| n == name) {
        names.push(name.to_string());
    }
}

struct RoleOutcome {
    arn: Option<String>,
    /// Made (or adopted as made) by this resource.
    created: bool,
    error: Option<Diagnostics>,
}

async fn ensure_role(
    run: &Run<'_>,
    state: &ClusterModel,
    given: &Option<String>,
    recorded: &Option<String>,
    name: String,
    spec: &'static RoleSpec,
) -> RoleOutcome {
    if let Some(arn) = given {
        return RoleOutcome {
            arn: Some(arn.clone()),
            created: false,
            error: None,
        };
    }
    let iam = &run.clients.iam;
    let arn = match recorded {
        Some(arn) if !run.repairing => {
            return RoleOutcome {
                arn: Some(arn.clone()),
                created: false,
                error: None,
            };
        }
        Some(arn) => arn.clone(),
        // CreateRole adopts a role of this name that carries this stack's
        // owner tag: one an interrupted attempt made.
        None => match iam
            .create_role(&name, &run.owner(), spec, &run.object_tags(name.clone(), &[]))
            .await
        {
            Ok(arn) => arn,
            Err(e) => {
                return RoleOutcome {
                    arn: None,
                    created: false,
                    error: Some(fail("Could not create an IAM role")(e)),
                };
            }
        },
    };
    let error = iam
        .attach_policies(&name, &arn, spec)
        .await
        .err()
        .map(fail("Could not attach the IAM role's policies"));
    let created = recorded.is_none() || state.created_iam_role_names.iter().flatten().any(|n| *n == name);
    RoleOutcome {
        arn: Some(arn),
        created,
        error,
    }
}

pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    for role in state.created_iam_role_names.iter().flatten() {
        run.clients
            .iam
            .delete_role_and_dependents(role, run.stop)
            .await
            .map_err(fail("Could not delete an IAM role"))?;
    }
    Ok(())
}
