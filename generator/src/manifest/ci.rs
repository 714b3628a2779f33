//! `[ci]`: the CI system whose pipelines eksgen writes next to the tree, and
//! what those pipelines need that the tree does not say (the role each
//! account's jobs assume, the tool versions, the provider's mirror).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Cluster, check_role_arn};

/// Terragrunt and OpenTofu releases the pipelines install when `[ci]` pins none:
/// the versions this eksgen is tested with.
pub const DEFAULT_TERRAGRUNT_VERSION: &str = "1.1.3";
pub const DEFAULT_OPENTOFU_VERSION: &str = "1.12.6";
pub const DEFAULT_MAX_PARALLEL: u32 = 4;
/// GitHub runs at most 256 jobs of one matrix; GitLab at most 200 of one
/// `parallel:matrix`, and its `rules:changes` needs jobs written out one by one.
pub const GITHUB_MATRIX_LIMIT: usize = 256;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ci {
    pub system: CiSystem,
    /// Jobs of one pipeline stage running at once.
    #[serde(default = "default_max_parallel")]
    pub max_parallel: u32,
    /// The role jobs assume (OIDC web identity) in accounts that `roles`
    /// does not name, and for clusters without `account_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The role jobs assume per account id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, String>,
    #[serde(default = "default_terragrunt_version")]
    pub terragrunt_version: String,
    #[serde(default = "default_opentofu_version")]
    pub opentofu_version: String,
    /// A provider network mirror (`make release` writes one) the jobs install
    /// eksfleet/fleet from; unset: the public registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_mirror: Option<String>,
    /// The branch applies run from (GitHub names it in the workflow; GitLab
    /// pipelines use the project's default branch).
    #[serde(default = "default_branch")]
    pub default_branch: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CiSystem {
    /// `.gitlab-ci.yml`: merge-request plans, applies on the default branch.
    Gitlab,
    /// `.github/workflows/eksfleet-plan.yml` and `eksfleet-apply.yml`.
    Github,
}

impl CiSystem {
    pub fn name(self) -> &'static str {
        match self {
            CiSystem::Gitlab => "gitlab",
            CiSystem::Github => "github",
        }
    }
}

fn default_max_parallel() -> u32 {
    DEFAULT_MAX_PARALLEL
}

fn default_branch() -> String {
    "main".to_string()
}

fn default_terragrunt_version() -> String {
    DEFAULT_TERRAGRUNT_VERSION.to_string()
}

fn default_opentofu_version() -> String {
    DEFAULT_OPENTOFU_VERSION.to_string()
}

impl Ci {
    /// The role a cluster's jobs assume: its account's, or the default one.
    pub fn role_for(&self, cluster: &Cluster) -> Option<&str> {
        cluster
            .account_id
            .as_ref()
            .and_then(|account| self.roles.get(account))
            .or(self.role_arn.as_ref())
            .map(String::as_str)
    }

    /// Checks `[ci]` against the clusters; errors are (key under `ci`, message).
    pub fn check(&self, clusters: &[Cluster]) -> std::result::Result<(), (String, String)> {
        if !(1..=64).contains(&self.max_parallel) {
            return Err((
                ".max_parallel".into(),
                format!("{} must be 1 to 64 jobs at once", self.max_parallel),
            ));
        }
        for (key, version) in [
            (".terragrunt_version", &self.terragrunt_version),
            (".opentofu_version", &self.opentofu_version),
        ] {
            let valid = version.split('.').count() == 3
                && version
                    .split('.')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
            if !valid {
                return Err((
                    key.into(),
                    format!("{version:?} is not a release version; pin one like \"1.1.3\" (no leading v)"),
                ));
            }
        }
        if let Some(arn) = &self.role_arn {
            check_role_arn(arn).map_err(|e| (".role_arn".to_string(), e))?;
        }
        for (account, arn) in &self.roles {
            let key = format!(".roles.{account}");
            if !(account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())) {
                return Err((key, format!("{account:?} is not an AWS account id (12 digits)")));
            }
            check_role_arn(arn).map_err(|e| (key.clone(), e))?;
            if !arn.contains(&format!(":iam::{account}:")) {
                return Err((
                    key,
                    format!("{arn} is a role of another account; name a role in account {account}"),
                ));
            }
        }
        let branch_ok = !self.default_branch.is_empty()
            && self
                .default_branch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        if !branch_ok {
            return Err((
                ".default_branch".into(),
                format!(
                    "{:?} is not a branch name eksgen writes into a workflow (letters, digits, - _ . /)",
                    self.default_branch
                ),
            ));
        }
        if let Some(mirror) = &self.provider_mirror
            && !(mirror.starts_with("https://") && mirror.ends_with('/'))
        {
            return Err((
                ".provider_mirror".into(),
                format!("{mirror:?} must be an https:// URL ending in '/' (Terraform's network mirror protocol)"),
            ));
        }
        for cluster in clusters {
            if self.role_for(cluster).is_none() {
                let account = cluster.account_id.as_deref().unwrap_or("the default account");
                return Err((
                    ".role_arn".into(),
                    format!(
                        "no role for the jobs of {} {} of {} ({account}): set ci.role_arn, or ci.roles.\"<account>\" \
                         to a role trusting your CI's OIDC provider",
                        cluster.role_name(),
                        cluster.region,
                        cluster.env
                    ),
                ));
            }
        }
        Ok(())
    }
}
