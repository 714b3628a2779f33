//! The arguments of each command, as clap parses them. A module of their own
//! so that both `cli` (which parses) and `commands` (which runs) use them
//! without importing each other.

use std::path::PathBuf;

use clap::Args;

use crate::manifest::{self, Layout};

#[derive(Debug, Args)]
pub struct WriteFlags {
    /// Print the diff of what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Overwrite generated files even when they were edited by hand.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder of the new tree (default: -C or the current folder).
    #[arg(value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Name of the first environment (e.g. development).
    #[arg(long)]
    pub env: String,
    /// Region of the environment's hub (GitOps) cluster.
    #[arg(long)]
    pub hub_region: String,
    /// Pool that every VPC CIDR is allocated from.
    #[arg(long, default_value = manifest::DEFAULT_CIDR_POOL)]
    pub cidr_pool: String,
    /// Prefix length of each allocated VPC CIDR (16 to 22).
    #[arg(long, default_value_t = manifest::DEFAULT_VPC_PREFIX_LENGTH)]
    pub vpc_prefix_length: u8,
    /// S3 bucket for remote state (default: local state files under .terraform-state/).
    #[arg(long, requires = "state_region")]
    pub state_bucket: Option<String>,
    /// Region of the state bucket.
    #[arg(long, requires = "state_bucket")]
    pub state_region: Option<String>,
    /// AWS account of the environment's clusters.
    #[arg(long)]
    pub account_id: Option<String>,
    /// Where units find the modules: a path relative to the tree, or a remote source.
    #[arg(long)]
    pub modules_source: Option<String>,
    /// Tree layout: a folder per unit, or one Terragrunt Stacks file
    /// (terragrunt.stack.hcl) per environment.
    #[arg(long, value_enum, default_value_t = Layout::Units)]
    pub layout: Layout,
    #[command(flatten)]
    pub write: WriteFlags,
}

impl InitArgs {
    /// The state bucket and its region; clap makes sure both or neither are given.
    pub fn state(&self) -> Option<(&str, &str)> {
        self.state_bucket.as_deref().zip(self.state_region.as_deref())
    }
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// The CI system whose pipelines to write: `gitlab` (.gitlab-ci.yml) or
    /// `github` (.github/workflows/eksfleet-plan.yml and eksfleet-apply.yml).
    #[arg(value_enum)]
    pub system: manifest::ci::CiSystem,
    /// The role the jobs assume through the CI's OIDC identity (ci.role_arn);
    /// per account roles go in ci.roles in eksgen.toml.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Jobs of one stage running at once, 1 to 64 (ci.max_parallel, default 4).
    #[arg(long, value_name = "N")]
    pub max_parallel: Option<u32>,
    #[command(flatten)]
    pub write: WriteFlags,
}

#[derive(Debug, Args)]
pub struct NewRegionArgs {
    /// AWS region name, e.g. us-west-2.
    pub region: String,
    /// Environment (needed when the manifest has several).
    #[arg(long)]
    pub env: Option<String>,
    /// VPC CIDR to use instead of allocating one.
    #[arg(long)]
    pub cidr: Option<String>,
    #[command(flatten)]
    pub write: WriteFlags,
}

#[derive(Debug, Args)]
pub struct NewEnvArgs {
    /// Environment name (lowercase letters, digits, '-').
    pub name: String,
    /// Region of the environment's hub cluster.
    #[arg(long)]
    pub hub_region: String,
    /// Hub VPC CIDR to use instead of allocating one.
    #[arg(long)]
    pub cidr: Option<String>,
    /// AWS account of the environment's clusters.
    #[arg(long)]
    pub account_id: Option<String>,
    #[command(flatten)]
    pub write: WriteFlags,
}

#[derive(Debug, Args)]
pub struct RemoveRegionArgs {
    pub region: String,
    #[arg(long)]
    pub env: Option<String>,
    #[command(flatten)]
    pub write: WriteFlags,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub write: WriteFlags,
}
