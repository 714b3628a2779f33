//! GitOps registration, AWS side: a hub's Argo CD management role (EKS Pod
//! Identity for Argo CD's service accounts), an edge's deploy role trusted by
//! that hub role with an access entry, or an access entry for the managed
//! Argo CD capability's role. The pattern is EKS Blueprints' multi-cluster
//! Argo CD one (https://aws-ia.github.io/terraform-aws-eks-blueprints/patterns/gitops/gitops-multi-cluster-hub-spoke-argocd/).
//!
//! The record in state: `gitops_hub_role_arn` and
//! `gitops_hub.pod_identity_association_ids` on a hub, `gitops_role_arn` on
//! an edge, `gitops_capability_role_arn` once its entry exists, each set the
//! moment its object exists; `gitops_access_policy` is written last, so a
//! failed apply leaves a diff that makes the next apply continue.

use std::collections::BTreeMap;

use super::model::{ClusterModel, GITOPS_SERVICE_ACCOUNTS, GitopsHubModel};
use super::roles::{bounded, ensure_owned_role};
use super::run::{Clients, Run, fail};
use crate::aws::AwsError;
use crate::aws::eks::{AccessEntrySpec, PolicyScope, is_role_propagation};
use crate::aws::iam::{POD_IDENTITY_ROLE, role_name, role_trust_policy};
use crate::aws::waiters::{IAM_PROPAGATION, retry_while};
use tfplugin::diagnostics::Diagnostics;
use tfplugin::value::Value;

/// The hub role's inline policy: assume (and tag sessions of) the edges'
/// deploy roles, which is all Argo CD does with AWS.
pub const HUB_POLICY: &str = "ArgoCDAssumeEdgeRoles";
const ROLE_NAME_LIMIT: usize = 64;

pub fn hub_role_name(name: &str, region: &str) -> String {
    bounded(format!("{name}-{region}-argocd-hub"), ROLE_NAME_LIMIT)
}

pub fn edge_role_name(name: &str, region: &str) -> String {
    bounded(format!("{name}-{region}-gitops"), ROLE_NAME_LIMIT)
}

fn hub_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": "*"
        }]
    })
    .to_string()
}

/// `"NAMESPACE/SERVICE_ACCOUNT"` of each association the hub wants.
fn wanted_associations(hub: &GitopsHubModel) -> Vec<String> {
    hub.service_accounts()
        .iter()
        .map(|sa| format!("{}/{sa}", hub.namespace()))
        .collect()
}

/// Hub, edge and capability parts, each brought to the configuration.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    ensure_hub(run, state).await?;
    ensure_edge(run, state).await?;
    ensure_capability(run, state).await?;
    state.gitops_access_policy = run.desired.gitops_access_policy.clone();
    Ok(())
}

async fn ensure_hub(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let iam = &run.clients.iam;
    let role = hub_role_name(run.name(), run.region());
    let Some(wanted) = run.desired.gitops_hub.clone() else {
        if let Some(hub) = state.gitops_hub.clone() {
            for id in hub.pod_identity_association_ids.iter().flat_map(|ids| ids.values()) {
                eks.delete_pod_identity_association(run.name(), id)
                    .await
                    .map_err(fail("Could not delete a pod identity association of the GitOps hub"))?;
            }
            if let Some(hub) = state.gitops_hub.as_mut() {
                hub.pod_identity_association_ids = None;
            }
            iam.delete_role_and_dependents(&role, run.stop)
                .await
                .map_err(fail("Could not delete the GitOps hub's IAM role"))?;
            state.gitops_hub = None;
            state.gitops_hub_role_arn = None;
        }
        return Ok(());
    };
    let record = state.gitops_hub.get_or_insert_with(|| GitopsHubModel {
        namespace: wanted.namespace.clone(),
        service_accounts: wanted.service_accounts.clone(),
        pod_identity_association_ids: Some(BTreeMap::new()),
    });
    let mut ids = record.pod_identity_association_ids.clone().unwrap_or_default();
    let recorded = state
        .gitops_hub_role_arn
        .as_deref()
        .is_some_and(|arn| role_name(arn) == role);
    let arn = ensure_owned_role(run, &role, &POD_IDENTITY_ROLE, recorded)
        .await
        .map_err(fail("Could not create the GitOps hub's IAM role"))?;
    state.gitops_hub_role_arn = Some(arn.clone());
    iam.put_role_policy(&role, HUB_POLICY, &hub_policy())
        .await
        .map_err(fail("Could not set the policy of the GitOps hub's IAM role"))?;

    let wanted_keys = wanted_associations(&wanted);
    for (key, id) in ids.clone() {
        let keep = wanted_keys.contains(&key)
            && eks
                .find_pod_identity_association(run.name(), &id)
                .await
                .map_err(fail("Could not read a pod identity association of the GitOps hub"))?
                .is_some_and(|a| a.role_arn == arn);
        if !keep {
            eks.delete_pod_identity_association(run.name(), &id)
                .await
                .map_err(fail("Could not delete a pod identity association of the GitOps hub"))?;
            ids.remove(&key);
            set_association_ids(state, &ids);
        }
    }
    let tags = run.eks_tags();
    let missing: Vec<String> = wanted_keys.iter().filter(|k| !ids.contains_key(*k)).cloned().collect();
    for key in &missing {
        let (namespace, service_account) = key.split_once('/').unwrap_or_default();
        // One still holding the service account (its role made again) is
        // adopted and pointed at this role by create_pod_identity_association.
        let id = retry_while(
            "waiting for IAM to show the GitOps hub's role to EKS",
            IAM_PROPAGATION,
            run.stop,
            is_role_propagation,
            || eks.create_pod_identity_association(run.name(), namespace, service_account, &arn, &tags),
        )
        .await
        .map_err(fail("Could not create a pod identity association of the GitOps hub"))?;
        ids.insert(key.clone(), id);
        set_association_ids(state, &ids);
    }
    if let Some(hub) = state.gitops_hub.as_mut() {
        hub.namespace = wanted.namespace.clone();
        hub.service_accounts = wanted.service_accounts.clone();
    }
    Ok(())
}

fn set_association_ids(state: &mut ClusterModel, ids: &BTreeMap<String, String>) {
    if let Some(hub) = state.gitops_hub.as_mut() {
        hub.pod_identity_association_ids = Some(ids.clone());
    }
}

/// IAM refuses a trust policy naming a role it does not (yet) show:
/// "Invalid principal in policy" (a hub role made seconds ago).
fn is_principal_not_yet_visible(err: &AwsError) -> bool {
    err.code == "MalformedPolicyDocument" && err.message.contains("Invalid principal")
}

async fn ensure_edge(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let iam = &run.clients.iam;
    let role = edge_role_name(run.name(), run.region());
    let Some(hub_role) = run.desired.gitops_edge_of().map(str::to_string) else {
        if let Some(arn) = state.gitops_role_arn.clone() {
            run.clients
                .eks
                .delete_access_entry(run.name(), &arn)
                .await
                .map_err(fail("Could not delete the access entry of the GitOps deploy role"))?;
            iam.delete_role_and_dependents(role_name(&arn), run.stop)
                .await
                .map_err(fail("Could not delete the GitOps deploy role"))?;
            state.gitops_role_arn = None;
        }
        if !state.is_gitops_hub() {
            state.gitops_hub_role_arn = None;
        }
        return Ok(());
    };
    let trust = role_trust_policy(&hub_role);
    let owned = match &state.gitops_role_arn {
        Some(_) => iam
            .find_owned_role(&role, &run.owner())
            .await
            .map_err(fail("Could not read the GitOps deploy role"))?,
        None => None,
    };
    let arn = match owned {
        Some(arn) => {
            if state.gitops_hub_role_arn.as_deref() != Some(hub_role.as_str()) || run.repairing {
                retry_while(
                    "waiting for IAM to show the hub's role as a principal",
                    IAM_PROPAGATION,
                    run.stop,
                    is_principal_not_yet_visible,
                    || iam.update_trust_document(&role, &trust),
                )
                .await
                .map_err(fail("Could not trust the hub's role from the GitOps deploy role"))?;
            }
            arn
        }
        None => {
            let tags = run.object_tags(role.clone(), &[]);
            let owner = run.owner();
            retry_while(
                "waiting for IAM to show the hub's role as a principal",
                IAM_PROPAGATION,
                run.stop,
                is_principal_not_yet_visible,
                || iam.create_role_trusting(&role, &owner, &trust, &tags),
            )
            .await
            .map_err(fail("Could not create the GitOps deploy role"))?
        }
    };
    state.gitops_role_arn = Some(arn.clone());
    ensure_entry(run, state, &arn).await?;
    state.gitops_hub_role_arn = Some(hub_role);
    Ok(())
}

async fn ensure_capability(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let wanted = run.desired.gitops_capability_role_arn.clone();
    if let Some(current) = state.gitops_capability_role_arn.clone()
        && wanted.as_ref() != Some(&current)
    {
        run.clients
            .eks
            .delete_access_entry(run.name(), &current)
            .await
            .map_err(fail(
                "Could not delete the access entry of the Argo CD capability's role",
            ))?;
        state.gitops_capability_role_arn = None;
    }
    if let Some(arn) = wanted {
        // The entry is recorded before its policy: refresh sees a missing
        // policy and the next apply associates it.
        state.gitops_capability_role_arn = Some(arn.clone());
        ensure_entry(run, state, &arn).await?;
    }
    Ok(())
}

/// A `STANDARD` access entry for `principal` holding exactly the GitOps
/// access policy, cluster-wide.
async fn ensure_entry(run: &Run<'_>, state: &ClusterModel, principal: &str) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let tags = run.eks_tags();
    let wanted = run.desired.gitops_access_policy();
    let settled = state.gitops_access_policy() == wanted && !run.repairing;
    if settled
        && eks
            .find_access_entry(run.name(), principal)
            .await
            .map_err(fail("Could not read a GitOps access entry"))?
            .is_some()
        && eks
            .associated_policies(run.name(), principal)
            .await
            .map_err(fail("Could not read a GitOps access entry's policies"))?
            .contains_key(wanted)
    {
        return Ok(());
    }
    eks.create_access_entry(
        run.name(),
        &AccessEntrySpec {
            principal,
            entry_type: "STANDARD",
            groups: &[],
            user_name: None,
            tags: &tags,
        },
        run.stop,
    )
    .await
    .map_err(fail("Could not create a GitOps access entry"))?;
    let associated = eks
        .associated_policies(run.name(), principal)
        .await
        .map_err(fail("Could not read a GitOps access entry's policies"))?;
    for policy in associated.keys().filter(|p| p.as_str() != wanted) {
        eks.disassociate_policy(run.name(), principal, policy)
            .await
            .map_err(fail("Could not remove an access policy from a GitOps access entry"))?;
    }
    if !associated.contains_key(wanted) {
        let cluster_wide = PolicyScope {
            scope: "cluster".into(),
            namespaces: Vec::new(),
        };
        eks.associate_policy(run.name(), principal, wanted, &cluster_wide)
            .await
            .map_err(fail("Could not associate the GitOps access policy"))?;
    }
    Ok(())
}

/// After the cluster (which takes the associations and entries with it): the roles.
pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let iam = &run.clients.iam;
    if state.gitops_hub.is_some() && state.gitops_hub_role_arn.is_some() {
        iam.delete_role_and_dependents(&hub_role_name(run.name(), run.region()), run.stop)
            .await
            .map_err(fail("Could not delete the GitOps hub's IAM role"))?;
    }
    if let Some(arn) = &state.gitops_role_arn {
        iam.delete_role_and_dependents(role_name(arn), run.stop)
            .await
            .map_err(fail("Could not delete the GitOps deploy role"))?;
    }
    Ok(())
}

/// What refresh found of the record.
pub struct Observed {
    pub hub_role_arn: Option<String>,
    pub association_ids: Option<BTreeMap<String, String>>,
    pub role_arn: Option<String>,
    pub capability_role_arn: Option<String>,
}

/// The record as things are: a role, association, entry or policy gone out
/// of band drops out, so the plan shows it made again.
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<Observed, AwsError> {
    let owner = format!("{}/{}", clients.region, prior.name);
    let policy = prior.gitops_access_policy();
    let mut observed = Observed {
        hub_role_arn: prior.gitops_hub_role_arn.clone(),
        association_ids: prior
            .gitops_hub
            .as_ref()
            .and_then(|h| h.pod_identity_association_ids.clone()),
        role_arn: prior.gitops_role_arn.clone(),
        capability_role_arn: prior.gitops_capability_role_arn.clone(),
    };
    if prior.gitops_hub.is_some() && prior.gitops_hub_role_arn.is_some() {
        let role = hub_role_name(&prior.name, &clients.region);
        observed.hub_role_arn = clients.iam.find_owned_role(&role, &owner).await?;
        if let Some(ids) = observed.association_ids.as_mut() {
            let mut kept = BTreeMap::new();
            for (key, id) in ids.iter() {
                let found = clients.eks.find_pod_identity_association(&prior.name, id).await?;
                if found.is_some_and(|a| Some(&a.role_arn) == observed.hub_role_arn.as_ref()) {
                    kept.insert(key.clone(), id.clone());
                }
            }
            *ids = kept;
        }
    }
    if let Some(arn) = &prior.gitops_role_arn {
        let role = clients.iam.find_owned_role(role_name(arn), &owner).await?;
        if role.is_none() || !entry_holds(clients, &prior.name, arn, policy).await? {
            observed.role_arn = None;
        }
        // The hub role the deploy role trusts, as IAM shows it: a hub role
        // deleted (and maybe made again under its name) shows as its old
        // unique id, which trusts nobody, so the plan writes the trust again.
        if role.is_some()
            && let Some(hub) = &prior.gitops_hub_role_arn
            && let Some(principals) = clients.iam.find_trusted_principals(role_name(arn)).await?
            && !principals.contains(hub)
        {
            observed.hub_role_arn = Some(principals.into_iter().next().unwrap_or_default());
        }
    }
    if let Some(arn) = &prior.gitops_capability_role_arn
        && !entry_holds(clients, &prior.name, arn, policy).await?
    {
        observed.capability_role_arn = None;
    }
    Ok(observed)
}

async fn entry_holds(clients: &Clients, cluster: &str, principal: &str, policy: &str) -> Result<bool, AwsError> {
    if clients.eks.find_access_entry(cluster, principal).await?.is_none() {
        return Ok(false);
    }
    Ok(clients
        .eks
        .associated_policies(cluster, principal)
        .await?
        .contains_key(policy))
}

impl Observed {
    pub fn apply(self, state: &mut ClusterModel) {
        state.gitops_hub_role_arn = self.hub_role_arn.or_else(|| {
            // An edge's is an argument, not a record.
            state.gitops_hub_role_arn.clone().filter(|_| state.gitops_hub.is_none())
        });
        if let Some(hub) = state.gitops_hub.as_mut() {
            hub.pod_identity_association_ids = self.association_ids;
        }
        state.gitops_role_arn = self.role_arn;
        state.gitops_capability_role_arn = self.capability_role_arn;
    }
}

/// The association keys a planned `gitops_hub` wants, once known.
fn planned_keys(hub: &Value) -> Option<Vec<String>> {
    let namespace = hub.attr("namespace").as_str()?.to_string();
    let accounts: Vec<String> = match hub.attr("service_accounts") {
        Value::Null => GITOPS_SERVICE_ACCOUNTS.iter().map(|s| s.to_string()).collect(),
        list if list.is_wholly_known() => list
            .elements()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => return None,
    };
    Some(accounts.iter().map(|sa| format!("{namespace}/{sa}")).collect())
}

/// Plans the computed parts: on a hub, its role and association ids (kept
/// while recorded and the service accounts unchanged); on an edge, the
/// deploy role; elsewhere null.
pub fn plan(prior: &Value, config: &Value, planned: &mut Value) {
    let hub_config = config.attr("gitops_hub").clone();
    if hub_config.is_null() {
        planned.set_attr("gitops_hub_role_arn", config.attr("gitops_hub_role_arn").clone());
    } else {
        let recorded = prior.attr("gitops_hub_role_arn").clone();
        let was_hub = !prior.attr("gitops_hub").is_null();
        let role_kept = was_hub && !recorded.is_null();
        planned.set_attr("gitops_hub_role_arn", if role_kept { recorded } else { Value::Unknown });
        let before = prior.attr("gitops_hub").clone();
        if let Some(hub) = planned.attr_mut("gitops_hub") {
            let same = ["namespace", "service_accounts"]
                .iter()
                .all(|a| before.attr(a) == hub.attr(a));
            let ids = before.attr("pod_identity_association_ids").clone();
            // Refresh drops an association deleted out of band: the plan makes it again.
            let complete = planned_keys(hub).is_some_and(|wanted| match &ids {
                Value::Map(ids) => wanted.iter().all(|k| ids.contains_key(k)) && ids.len() == wanted.len(),
                _ => false,
            });
            hub.set_attr(
                "pod_identity_association_ids",
                if same && complete && role_kept {
                    ids
                } else {
                    Value::Unknown
                },
            );
        }
    }
    let edge = hub_config.is_null() && !config.attr("gitops_hub_role_arn").is_null();
    let role = prior.attr("gitops_role_arn").clone();
    planned.set_attr(
        "gitops_role_arn",
        match (edge, role.is_null()) {
            (false, _) => Value::Null,
            (true, false) => role,
            (true, true) => Value::Unknown,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn role_names_carry_the_region_and_fit_iam() {
        assert_eq!(hub_role_name("hub", "us-east-1"), "hub-us-east-1-argocd-hub");
        assert_eq!(edge_role_name("edge", "eu-west-1"), "edge-eu-west-1-gitops");
        assert!(hub_role_name(&"a".repeat(60), "ap-southeast-5").len() <= ROLE_NAME_LIMIT);
    }

    #[test]
    fn a_hub_plans_its_role_unknown_until_recorded_and_an_edge_its_deploy_role() {
        let hub = object([
            ("namespace", Value::string("argocd")),
            ("service_accounts", Value::Null),
        ]);
        let config = object([("gitops_hub", hub.clone()), ("gitops_hub_role_arn", Value::Null)]);
        let mut planned = config.clone();
        plan(&Value::Null, &config, &mut planned);
        assert!(planned.attr("gitops_hub_role_arn").is_unknown());
        assert!(
            planned
                .attr("gitops_hub")
                .attr("pod_identity_association_ids")
                .is_unknown()
        );
        assert!(planned.attr("gitops_role_arn").is_null());

        let edge = object([
            ("gitops_hub", Value::Null),
            ("gitops_hub_role_arn", Value::string("arn:aws:iam::1:role/h")),
        ]);
        let mut planned = edge.clone();
        plan(&Value::Null, &edge, &mut planned);
        assert!(planned.attr("gitops_role_arn").is_unknown());
        assert_eq!(
            planned.attr("gitops_hub_role_arn").as_str(),
            Some("arn:aws:iam::1:role/h")
        );
        let prior = object([("gitops_role_arn", Value::string("arn:aws:iam::1:role/e"))]);
        let mut planned = edge.clone();
        plan(&prior, &edge, &mut planned);
        assert_eq!(planned.attr("gitops_role_arn").as_str(), Some("arn:aws:iam::1:role/e"));
    }
}
