//! Validators specific to EKS clusters.

use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::schema::Validator;
use tfplugin::value::Value;

pub use super::model::CLUSTER_ADMIN_POLICY;
use super::model::{AUTO_MODE_NODE_POOLS, AUTO_MODE_OLDEST_VERSION};
use super::model::{GITOPS_NAMESPACE, GITOPS_SERVICE_ACCOUNTS};
use super::versions::oldest_built_in;
use crate::aws::eks::minor_version;
use crate::aws::logs::RETENTION_DAYS;
use crate::resources::validators::RoleArn;
pub use crate::resources::validators::{NamespaceName, is_dns_label, is_dns_subdomain};

/// EKS cluster names: 1–100 characters, letters, digits, `-` and `_`,
/// starting with a letter or digit. We also name IAM roles
/// `NAME-REGION-cluster`, whose 64-character limit caps names at 38.
pub struct ClusterName;

pub const MAX_NAME_LEN: usize = 38;

impl Validator for ClusterName {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(name) = value.as_str() else { return };
        let valid_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let starts_well = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if name.is_empty() || name.len() > MAX_NAME_LEN || !valid_chars || !starts_well {
            diags.attribute_error(
                path,
                "Invalid cluster name",
                format!(
                    "{path}: {name:?} is not a valid cluster name: use 1 to {MAX_NAME_LEN} ASCII letters, digits, \
                     '-' or '_', starting with a letter or digit."
                ),
            );
        }
    }

    fn describe(&self) -> String {
        format!("be 1 to {MAX_NAME_LEN} letters, digits, `-` or `_`")
    }
}

/// A Kubernetes version shaped `MAJOR.MINOR`. Whether EKS offers it is
/// checked at plan time against DescribeClusterVersions, so a version newer
/// than this provider passes here; only versions older than every built-in
/// one are refused without asking EKS (it never offers them again).
pub struct KubernetesVersion;

impl Validator for KubernetesVersion {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(version) = value.as_str() else { return };
        let shaped = version.split_once('.').is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        });
        let (Some(parsed), true) = (minor_version(version), shaped) else {
            return diags.attribute_error(
                path,
                "Malformed Kubernetes version",
                format!("{path}: {version:?} is not a Kubernetes version: write MAJOR.MINOR, such as \"1.35\"."),
            );
        };
        let oldest = oldest_built_in();
        if minor_version(oldest).is_some_and(|o| parsed < o) {
            diags.attribute_error(
                path,
                "Kubernetes version EKS no longer offers",
                format!(
                    "{path}: EKS no longer offers {version}: use {oldest} or newer (plan lists the versions EKS \
                     offers), or leave kubernetes_version unset for the newest version in standard support."
                ),
            );
        }
    }

    fn describe(&self) -> String {
        "be a Kubernetes version `MAJOR.MINOR` that EKS offers (checked at plan time)".into()
    }
}

/// Node group names (the map keys): 1–63 letters, digits, `-`, `_`.
pub struct NodeGroupName;

impl Validator for NodeGroupName {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Map(groups) = value else { return };
        for name in groups.keys() {
            let ok = !name.is_empty()
                && name.len() <= 63
                && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                diags.attribute_error(
                    &path.key(name),
                    "Invalid node group name",
                    format!(
                        "{path}: {name:?} is not a valid node group name: use 1 to 63 letters, digits, '-' or '_'."
                    ),
                );
            }
        }
    }

    fn describe(&self) -> String {
        "have keys of 1 to 63 letters, digits, `-` or `_`".into()
    }
}

/// Add-on names (the map keys), which become part of EKS request paths:
/// lowercase letters, digits, `-` and `_` (marketplace add-ons such as
/// `kubecost_kubecost`), 1 to 100 characters.
pub struct AddonName;

impl Validator for AddonName {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Map(addons) = value else { return };
        for name in addons.keys() {
            let ok = !name.is_empty()
                && name.len() <= 100
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !ok {
                diags.attribute_error(
                    &path.key(name),
                    "Invalid add-on name",
                    format!(
                        "{path}: {name:?} is not an EKS add-on name: use lowercase letters, digits, '-' or '_', \
                         such as \"vpc-cni\"."
                    ),
                );
            }
        }
    }

    fn describe(&self) -> String {
        "have keys that are EKS add-on names (lowercase letters, digits, `-`, `_`)".into()
    }
}

/// `pod_identity_associations`: keys `NAMESPACE/SERVICE_ACCOUNT` (a
/// namespace is a DNS-1123 label, a service account name a DNS-1123
/// subdomain), values IAM role ARNs.
pub struct PodIdentityAssociations;

impl Validator for PodIdentityAssociations {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Map(associations) = value else { return };
        for (key, role) in associations {
            let well_formed = key
                .split_once('/')
                .is_some_and(|(namespace, account)| is_dns_label(namespace) && is_dns_subdomain(account));
            if !well_formed {
                diags.attribute_error(
                    &path.key(key),
                    "Malformed pod identity association key",
                    format!(
                        "{path}: {key:?} is not \"NAMESPACE/SERVICE_ACCOUNT\": write the Kubernetes namespace (a DNS \
                         label such as \"kube-system\") and the service account name, such as \
                         \"monitoring/prometheus\"."
                    ),
                );
            }
            RoleArn.validate(role, &path.key(key), diags);
        }
    }

    fn describe(&self) -> String {
        "have keys `NAMESPACE/SERVICE_ACCOUNT` and IAM role ARNs as values".into()
    }
}

/// Each add-on takes its IAM one way: IRSA, a pod identity role, or a role made for it.
pub fn validate_addon_iam(config: &Value, diags: &mut Diagnostics) {
    let Value::Map(addons) = config.attr("addons") else {
        return;
    };
    for (name, addon) in addons {
        let modes: Vec<&str> = [
            (
                "service_account_role_arn",
                !addon.attr("service_account_role_arn").is_null(),
            ),
            ("pod_identity_role_arn", !addon.attr("pod_identity_role_arn").is_null()),
            ("create_role", addon.attr("create_role").as_bool() == Some(true)),
        ]
        .into_iter()
        .filter_map(|(attr, set)| set.then_some(attr))
        .collect();
        if modes.len() > 1 {
            diags.attribute_error(
                &AttributePath::attr("addons").key(name).then(modes[1]),
                "Two IAM modes on one add-on",
                format!(
                    "addons[\"{name}\"]: {} are both set: an add-on takes its role one way, so keep one of \
                     service_account_role_arn (IRSA), pod_identity_role_arn (EKS Pod Identity) or create_role = true.",
                    modes.join(" and ")
                ),
            );
        }
    }
}

pub const TAINT_EFFECTS: &[&str] = &["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"];

/// A Kubernetes service account name: a DNS-1123 subdomain.
pub struct ServiceAccountName;

impl Validator for ServiceAccountName {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(name) = value.as_str() else { return };
        if !is_dns_subdomain(name) {
            diags.attribute_error(
                path,
                "Invalid Kubernetes service account name",
                format!(
                    "{path}: {name:?} is not a Kubernetes service account name: use lowercase letters, digits, \
                     '-' and '.', at most 253 characters, such as \"karpenter\"."
                ),
            );
        }
    }

    fn describe(&self) -> String {
        "be a DNS subdomain (lowercase letters, digits, `-` and `.`)".into()
    }
}

/// Every taint's effect is one EKS knows.
pub struct TaintEffects;

impl Validator for TaintEffects {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        for (i, taint) in value.elements().iter().enumerate() {
            let Some(effect) = taint.attr("effect").as_str() else {
                continue;
            };
            if !TAINT_EFFECTS.contains(&effect) {
                diags.attribute_error(
                    &path.index(i).then("effect"),
                    "Invalid taint effect",
                    format!(
                        "{path}[{i}].effect: {effect:?} is not a taint effect: use NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE."
                    ),
                );
            }
        }
    }

    fn describe(&self) -> String {
        "have taint effects `NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`".into()
    }
}

/// EKS Auto Mode's built-in node pools, each once.
pub struct AutoModeNodePools;

impl Validator for AutoModeNodePools {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let mut seen = Vec::new();
        for (i, pool) in value.elements().iter().enumerate() {
            let Some(pool) = pool.as_str() else { continue };
            if !AUTO_MODE_NODE_POOLS.contains(&pool) || seen.contains(&pool) {
                diags.attribute_error(
                    &path.index(i),
                    "Invalid Auto Mode node pool",
                    format!(
                        "{path}[{i}]: {pool:?} is not a built-in node pool of EKS Auto Mode (or is listed twice): \
                         use \"general-purpose\" and/or \"system\", each once."
                    ),
                );
            }
            seen.push(pool);
        }
    }

    fn describe(&self) -> String {
        "list `general-purpose` and/or `system`".into()
    }
}

/// A JSON document (add-on configuration values).
pub struct JsonDocument;

impl Validator for JsonDocument {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
            diags.attribute_error(
                path,
                "Invalid JSON",
                format!("{path}: not a JSON document ({e}): use jsonencode({{ … }})."),
            );
        }
    }

    fn describe(&self) -> String {
        "be a JSON document (use `jsonencode`)".into()
    }
}

/// Access entry keys are IAM principal ARNs (roles or users).
pub struct PrincipalArns;

impl Validator for PrincipalArns {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Map(entries) = value else { return };
        for arn in entries.keys() {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[2] == "iam"
                && parts[4].len() == 12
                && (parts[5].starts_with("role/") || parts[5].starts_with("user/"));
            if !ok {
                diags.attribute_error(
                    &path.key(arn),
                    "Invalid access entry principal",
                    format!("{path}: {arn:?} is not an IAM role or user ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)."),
                );
            }
        }
    }

    fn describe(&self) -> String {
        "have IAM role or user ARNs as keys".into()
    }
}

/// Access policy keys are EKS access policy ARNs; namespace scope needs namespaces.
pub struct AccessPolicyArns;

impl Validator for AccessPolicyArns {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Map(policies) = value else { return };
        for (arn, policy) in policies {
            if !(arn.starts_with("arn:aws") && arn.contains(":eks::aws:cluster-access-policy/")) {
                diags.attribute_error(
                    &path.key(arn),
                    "Invalid access policy",
                    format!(
                        "{path}: {arn:?} is not an EKS access policy ARN (arn:aws:eks::aws:cluster-access-policy/NAME)."
                    ),
                );
            }
            let namespaced = policy.attr("scope").as_str() == Some("namespace");
            if namespaced
                && policy.attr("namespaces").elements().is_empty()
                && policy.attr("namespaces").is_wholly_known()
            {
                diags.attribute_error(
                    &path.key(arn).then("namespaces"),
                    "Namespace scope without namespaces",
                    format!("{path}[{arn:?}].namespaces: scope \"namespace\" needs at least one namespace."),
                );
            }
        }
    }

    fn describe(&self) -> String {
        "have EKS access policy ARNs as keys".into()
    }
}

/// GitOps roles: a cluster is a hub or an edge; the policy needs a role to
/// hold it; the hub's service accounts and the capability's role must not be
/// claimed twice (EKS refuses a second association or entry).
pub fn validate_gitops(config: &Value, diags: &mut Diagnostics) {
    let hub = config.attr("gitops_hub");
    let hub_role = config.attr("gitops_hub_role_arn");
    if !hub.is_null() && !hub_role.is_null() {
        diags.attribute_error(
            &AttributePath::attr("gitops_hub_role_arn"),
            "A hub is not an edge",
            "gitops_hub_role_arn: set it on an edge, to the hub's gitops_hub_role_arn output; on the hub itself \
             (gitops_hub set) it is computed. Remove gitops_hub_role_arn here, or gitops_hub.",
        );
    }
    let policy = config.attr("gitops_access_policy");
    if let Some(arn) = policy.as_str()
        && !(arn.starts_with("arn:aws") && arn.contains(":eks::aws:cluster-access-policy/"))
    {
        diags.attribute_error(
            &AttributePath::attr("gitops_access_policy"),
            "Invalid access policy",
            format!(
                "gitops_access_policy: {arn:?} is not an EKS access policy ARN \
                 (arn:aws:eks::aws:cluster-access-policy/NAME, such as AmazonEKSClusterAdminPolicy)."
            ),
        );
    }
    let capability = config.attr("gitops_capability_role_arn");
    if !policy.is_null() && hub_role.is_null() && capability.is_null() && hub.is_null() {
        diags.attribute_error(
            &AttributePath::attr("gitops_access_policy"),
            "Nothing holds the GitOps access policy",
            "gitops_access_policy: applies to the deploy role of an edge (gitops_hub_role_arn) or to \
             gitops_capability_role_arn; set one of them, or remove gitops_access_policy.",
        );
    }
    if let Some(arn) = capability.as_str()
        && !config.attr("access_entries").entry(arn).is_null()
    {
        diags.attribute_error(
            &AttributePath::attr("gitops_capability_role_arn"),
            "Access entry given twice",
            format!(
                "gitops_capability_role_arn: {arn} also has an entry in access_entries; EKS holds one entry per \
                 principal. Remove it from access_entries (gitops_capability_role_arn makes it)."
            ),
        );
    }
    if let Value::Object(_) = hub {
        let namespace = hub.attr("namespace").as_str().unwrap_or(GITOPS_NAMESPACE).to_string();
        let accounts: Vec<String> = match hub.attr("service_accounts") {
            Value::Null => GITOPS_SERVICE_ACCOUNTS.iter().map(|s| s.to_string()).collect(),
            list => list
                .elements()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        };
        let path = AttributePath::attr("gitops_hub").then("service_accounts");
        if hub.attr("service_accounts").is_wholly_known()
            && !hub.attr("service_accounts").is_null()
            && accounts.is_empty()
        {
            diags.attribute_error(
                &path,
                "No service accounts",
                "gitops_hub.service_accounts: give at least one of Argo CD's service accounts, or leave it unset \
                 for argocd-application-controller, argocd-applicationset-controller and argocd-server.",
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for account in &accounts {
            let key = format!("{namespace}/{account}");
            if !seen.insert(account.clone()) {
                diags.attribute_error(
                    &path,
                    "Service account given twice",
                    format!("gitops_hub.service_accounts: {account:?} is listed twice; list each once."),
                );
            }
            if !config.attr("pod_identity_associations").entry(&key).is_null() {
                diags.attribute_error(
                    &path,
                    "Service account associated twice",
                    format!(
                        "gitops_hub.service_accounts: {key} is also a key of pod_identity_associations; EKS allows \
                         one association per service account. Remove it from one of them."
                    ),
                );
            }
        }
    }
}

/// Checks across each access entry's attributes, and a warning when no entry
/// grants cluster admin: the cluster is made without the creator's implicit
/// admin, so without one nobody can use the Kubernetes API.
pub fn validate_access_entries(config: &Value, diags: &mut Diagnostics) {
    let entries = match config.attr("access_entries") {
        Value::Map(entries) => entries,
        Value::Null => &Default::default(),
        _ => return,
    };
    let node_role = config.attr("node_role_arn").as_str();
    let mut admin_possible = false;
    for (principal, entry) in entries {
        let path = AttributePath::attr("access_entries").key(principal);
        let entry_type = entry.attr("type").as_str().unwrap_or(super::model::STANDARD_ENTRY);
        if entry.is_wholly_known() {
            admin_possible |= grants_cluster_admin(entry);
        } else {
            admin_possible = true;
        }
        if entry.attr("type").is_unknown() {
            continue;
        }
        if entry_type != super::model::STANDARD_ENTRY {
            for (attr, set) in [
                (
                    "kubernetes_groups",
                    !entry.attr("kubernetes_groups").elements().is_empty(),
                ),
                ("user_name", !entry.attr("user_name").is_null()),
                (
                    "policies",
                    matches!(entry.attr("policies"), Value::Map(p) if !p.is_empty()),
                ),
            ] {
                if set {
                    diags.attribute_error(
                        &path.then(attr),
                        "Not allowed on a node access entry",
                        format!(
                            "access_entries[\"{principal}\"].{attr}: entries of type {entry_type} take no {attr}; EKS \
                             gives the role node permissions. Remove {attr}, or use type = \"STANDARD\"."
                        ),
                    );
                }
            }
            if !principal.contains(":role/") {
                diags.attribute_error(
                    &path.then("type"),
                    "Node access entries need a role",
                    format!(
                        "access_entries[\"{principal}\"].type: entries of type {entry_type} are for IAM roles only: \
                         use a role ARN, or type = \"STANDARD\"."
                    ),
                );
            }
        } else if node_role == Some(principal.as_str()) {
            // EKS makes the node role's entry itself (EC2_LINUX) for managed node
            // groups; a STANDARD one would be fought over on every apply.
            diags.attribute_error(
                &path.then("type"),
                "The node role's access entry is made by EKS",
                format!(
                    "access_entries[\"{principal}\"]: this is node_role_arn, whose entry EKS creates itself (type \
                     EC2_LINUX) for the managed node groups. Remove it from access_entries, or set type = \"EC2_LINUX\"."
                ),
            );
        }
    }
    if !admin_possible && config.attr("access_entries").is_wholly_known() {
        diags.attribute_warning(
            &AttributePath::attr("access_entries"),
            "No access entry grants cluster admin",
            format!(
                "The cluster is created without the creator's implicit admin access, and no access entry \
                 associates {CLUSTER_ADMIN_POLICY} (scope cluster): no one will be able to administer it through \
                 the Kubernetes API. Add an entry for your admin role with that policy."
            ),
        );
    }
}

fn grants_cluster_admin(entry: &Value) -> bool {
    match entry.attr("policies") {
        Value::Map(policies) => policies
            .get(CLUSTER_ADMIN_POLICY)
            .is_some_and(|scope| matches!(scope.attr("scope").as_str(), None | Some("cluster"))),
        _ => false,
    }
}

/// A log retention CloudWatch Logs accepts (`RETENTION_DAYS`), checked at
/// plan time so PutRetentionPolicy never refuses it half-way through a create.
pub struct LogRetentionDays;

fn retention_list() -> String {
    RETENTION_DAYS.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
}

impl Validator for LogRetentionDays {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Number(days) = value else { return };
        if !RETENTION_DAYS.iter().any(|d| f64::from(*d) == *days) {
            diags.attribute_error(
                path,
                "Log retention CloudWatch Logs does not offer",
                format!(
                    "{path}: {days} days is not a retention CloudWatch Logs offers: use one of {}.",
                    retention_list()
                ),
            );
        }
    }

    fn describe(&self) -> String {
        format!("be one of {}", retention_list())
    }
}

/// A Kubernetes service CIDR EKS accepts: inside 10.0.0.0/8, 172.16.0.0/12
/// or 192.168.0.0/16, with a prefix from /12 to /24
/// (https://docs.aws.amazon.com/eks/latest/APIReference/API_KubernetesNetworkConfigRequest.html).
pub struct ServiceCidr;

impl Validator for ServiceCidr {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        let private: [ipnet::Ipv4Net; 3] =
            ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(|n| n.parse().expect("literal"));
        let ok = text.parse::<ipnet::Ipv4Net>().is_ok_and(|net| {
            net.network() == net.addr()
                && (12..=24).contains(&net.prefix_len())
                && private.iter().any(|p| p.contains(&net))
        });
        if !ok {
            diags.attribute_error(
                path,
                "Invalid service CIDR",
                format!(
                    "{path}: {text:?} is not a service CIDR EKS accepts: use a network address with a /12 to /24 \
                     prefix inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, e.g. \"172.20.0.0/16\"."
                ),
            );
        }
    }

    fn describe(&self) -> String {
        "be a /12 to /24 network inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16".into()
    }
}

/// EKS Auto Mode runs on Kubernetes 1.29 and later: an older
/// `kubernetes_version` with `auto_mode` on is refused before any call.
pub fn validate_auto_mode(config: &Value, diags: &mut Diagnostics) {
    let auto_mode = config.attr("auto_mode");
    if auto_mode.attr("enabled") != &Value::Bool(true) {
        return;
    }
    let Some(version) = config.attr("kubernetes_version").as_str() else {
        return;
    };
    let (major, minor) = AUTO_MODE_OLDEST_VERSION;
    if minor_version(version).is_some_and(|v| v < AUTO_MODE_OLDEST_VERSION) {
        diags.attribute_error(
            &AttributePath::attr("auto_mode").then("enabled"),
            "EKS Auto Mode needs a newer Kubernetes version",
            format!(
                "auto_mode.enabled: EKS Auto Mode runs on Kubernetes {major}.{minor} or later, and kubernetes_version \
                 is {version}: set kubernetes_version = \"{major}.{minor}\" or later, or turn auto_mode off."
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_versions_are_checked_for_shape_not_for_a_built_in_list() {
        let check = |version: &str| {
            let mut diags = Diagnostics::new();
            KubernetesVersion.validate(
                &Value::string(version),
                &AttributePath::attr("kubernetes_version"),
                &mut diags,
            );
            diags.iter().count()
        };
        // Newer than the built-in list: EKS may offer them, plan checks.
        for good in ["1.30", "1.35", "1.36", "1.40", "2.0"] {
            assert_eq!(check(good), 0, "{good}");
        }
        for bad in ["", "1", "v1.34", "1.34.2", "1.x", "1.", ".34", "1.-3", "1.29", "1.9"] {
            assert_eq!(check(bad), 1, "{bad}");
        }
    }

    #[test]
    fn log_retention_is_one_of_cloudwatchs_values() {
        let check = |days: f64| {
            let mut diags = Diagnostics::new();
            LogRetentionDays.validate(
                &Value::Number(days),
                &AttributePath::attr("log_retention_days"),
                &mut diags,
            );
            diags.iter().map(|d| d.detail.clone()).collect::<Vec<_>>()
        };
        for good in [1.0, 7.0, 30.0, 90.0, 365.0, 3653.0] {
            assert!(check(good).is_empty(), "{good}");
        }
        for bad in [0.0, 2.0, 8.0, 7.5, -7.0, 3654.0] {
            let e = check(bad);
            assert_eq!(e.len(), 1, "{bad}");
            assert!(e[0].starts_with("log_retention_days: "), "{e:?}");
            assert!(e[0].contains("1, 3, 5, 7, 14, 30, 60, 90, 120"), "{e:?}");
        }
        assert!(check(8.0)[0].contains("8 days"));
    }

    #[test]
    fn addon_names_are_refused_unless_they_look_like_eks_addons() {
        let check = |name: &str| {
            let mut diags = Diagnostics::new();
            let addons = Value::Map([(name.to_string(), Value::Null)].into_iter().collect());
            AddonName.validate(&addons, &AttributePath::attr("addons"), &mut diags);
            diags.iter().count()
        };
        for good in ["vpc-cni", "coredns", "aws-ebs-csi-driver", "kubecost_kubecost"] {
            assert_eq!(check(good), 0, "{good}");
        }
        for bad in ["", "../../clusters", "VPC-CNI", "-cni", "a b", "x%2Fy"] {
            assert_eq!(check(bad), 1, "{bad}");
        }
    }
}
