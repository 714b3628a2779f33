//! Command-line interface: parsing with clap, then one function per command.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::args::{InitArgs, NewEnvArgs, NewRegionArgs, RemoveRegionArgs, RenderArgs};
use crate::commands::{self, Context};
use crate::error::{Error, Result};
use crate::output::{self, Format};
use crate::report::Report;

pub use crate::args::WriteFlags;

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a tree: write eksgen.toml, root.hcl, the shared unit configs and the first environment's hub.
    Init(InitArgs),
    /// Add an edge region to an environment, with a VPC CIDR from the pool.
    NewRegion(NewRegionArgs),
    /// Add an environment with its hub.
    NewEnv(NewEnvArgs),
    /// Remove an edge region from an environment and delete its generated files.
    RemoveRegion(RemoveRegionArgs),
    /// List the clusters of the manifest: environment, region, role, CIDR, account.
    List,
    /// Re-render the whole tree from eksgen.toml (byte-identical when nothing changed).
    Render(RenderArgs),
    /// Fail (exit 1) with a diff when the tree differs from what eksgen.toml renders, or a static check fails.
    Check,
}

impl Cli {
    /// The global flags every command runs with.
    fn context(&self) -> Context {
        Context {
            base: self.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            templates: self.templates.clone(),
        }
    }
}

/// Runs the command and writes its report to `stdout`, or the error to
/// `stderr`; returns the exit code: the report's (0, or 1 when `check`
/// fails), or 2 on an error.
pub fn run(cli: &Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let written = execute(cli).and_then(|report| {
        output::write_report(&report, Format::Text, stdout).map_err(|source| Error::Output { source })?;
        Ok(report.exit_code())
    });
    written.unwrap_or_else(|error| {
        // When stderr cannot be written either, the exit code is all that is left.
        let _ = output::write_error(&error, stderr);
        2
    })
}

/// Runs the command and returns what it did.
pub fn execute(cli: &Cli) -> Result<Report> {
    let context = cli.context();
    match &cli.command {
        Command::Init(args) => commands::init(&context, args),
        Command::NewRegion(args) => commands::new_region(&context, args),
        Command::NewEnv(args) => commands::new_env(&context, args),
        Command::RemoveRegion(args) => commands::remove_region(&context, args),
        Command::List => commands::list(&context),
        Command::Render(args) => commands::render(&context, args),
        Command::Check => commands::check(&context),
    }
}
