//! Command-line interface: parsing with clap, then one function per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::{self, Options};
use crate::error::Result;

/// Keep a per-region Terragrunt tree for an EKS fleet generated from one manifest (eksgen.toml).
#[derive(Debug, Parser)]
#[command(name = "eksgen", version, about, long_about = None)]
pub struct Cli {
    /// Run as if started in DIR (the tree is found from there upwards).
    #[arg(short = 'C', long = "dir", global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Use templates from DIR in place of the built-in ones of the same name.
    #[arg(long, global = true, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct WriteFlags {
    /// Print the diff of what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Overwrite generated files even when they were edited by hand.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a tree: write eksgen.toml, root.hcl, the shared unit configs and the first environment's hub.
    Init {
        /// Folder of the new tree (default: -C or the current folder).
        #[arg(value_name = "DIR")]
        path: Option<PathBuf>,
        /// Name of the first environment (e.g. development).
        #[arg(long)]
        env: String,
        /// Region of the environment's hub (GitOps) cluster.
        #[arg(long)]
        hub_region: String,
        /// Pool that every VPC CIDR is allocated from.
        #[arg(long, default_value = crate::manifest::DEFAULT_CIDR_POOL)]
        cidr_pool: String,
        /// Prefix length of each allocated VPC CIDR (16 to 22).
        #[arg(long, default_value_t = crate::manifest::DEFAULT_VPC_PREFIX_LENGTH)]
        vpc_prefix_length: u8,
        /// S3 bucket for remote state (default: local state files under .terraform-state/).
        #[arg(long, requires = "state_region")]
        state_bucket: Option<String>,
        /// Region of the state bucket.
        #[arg(long, requires = "state_bucket")]
        state_region: Option<String>,
        /// AWS account of the environment's clusters.
        #[arg(long)]
        account_id: Option<String>,
        /// Where units find the modules: a path relative to the tree, or a remote source.
        #[arg(long)]
        modules_source: Option<String>,
        /// Tree layout: a folder per unit, or one Terragrunt Stacks file
        /// (terragrunt.stack.hcl) per environment.
        #[arg(long, value_enum, default_value_t = crate::manifest::Layout::Units)]
        layout: crate::manifest::Layout,
        #[command(flatten)]
        write: WriteFlags,
    },
    /// Add an edge region to an environment, with a VPC CIDR from the pool.
    NewRegion {
        /// AWS region name, e.g. us-west-2.
        region: String,
        /// Environment (needed when the manifest has several).
        #[arg(long)]
        env: Option<String>,
        /// VPC CIDR to use instead of allocating one.
        #[arg(long)]
        cidr: Option<String>,
        #[command(flatten)]
        write: WriteFlags,
    },
    /// Add an environment with its hub.
    NewEnv {
        /// Environment name (lowercase letters, digits, '-').
        name: String,
        /// Region of the environment's hub cluster.
        #[arg(long)]
        hub_region: String,
        /// Hub VPC CIDR to use instead of allocating one.
        #[arg(long)]
        cidr: Option<String>,
        /// AWS account of the environment's clusters.
        #[arg(long)]
        account_id: Option<String>,
        #[command(flatten)]
        write: WriteFlags,
    },
    /// Remove an edge region from an environment and delete its generated files.
    RemoveRegion {
        region: String,
        #[arg(long)]
        env: Option<String>,
        #[command(flatten)]
        write: WriteFlags,
    },
    /// List the clusters of the manifest: environment, region, role, CIDR, account.
    List,
    /// Re-render the whole tree from eksgen.toml (byte-identical when nothing changed).
    Render {
        #[command(flatten)]
        write: WriteFlags,
    },
    /// Fail (exit 1) with a diff when the tree differs from what eksgen.toml renders, or a static check fails.
    Check,
}

/// Runs the command; the exit code is 0, or 1 when `check` finds problems.
pub fn run(cli: Cli) -> Result<i32> {
    let base = cli.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let options = |write: &WriteFlags| Options {
        base: base.clone(),
        templates: cli.templates.clone(),
        dry_run: write.dry_run,
        force: write.force,
    };
    match &cli.command {
        Command::Init {
            path,
            env,
            hub_region,
            cidr_pool,
            vpc_prefix_length,
            state_bucket,
            state_region,
            account_id,
            modules_source,
            layout,
            write,
        } => {
            let mut options = options(write);
            if let Some(path) = path {
                options.base = if path.is_absolute() {
                    path.clone()
                } else {
                    base.join(path)
                };
            }
            commands::init(
                &options,
                &commands::Init {
                    env,
                    hub_region,
                    cidr_pool,
                    vpc_prefix_length: *vpc_prefix_length,
                    state: state_bucket.as_deref().zip(state_region.as_deref()),
                    account_id: account_id.as_deref(),
                    modules_source: modules_source.as_deref(),
                    layout: *layout,
                },
            )
        }
        Command::NewRegion {
            region,
            env,
            cidr,
            write,
        } => commands::new_region(&options(write), region, env.as_deref(), cidr.as_deref()),
        Command::NewEnv {
            name,
            hub_region,
            cidr,
            account_id,
            write,
        } => commands::new_env(
            &options(write),
            name,
            hub_region,
            cidr.as_deref(),
            account_id.as_deref(),
        ),
        Command::RemoveRegion { region, env, write } => {
            commands::remove_region(&options(write), region, env.as_deref())
        }
        Command::List => commands::list(&base),
        Command::Render { write } => commands::render(&options(write)),
        Command::Check => commands::check(&base, cli.templates.as_deref()),
    }
}
