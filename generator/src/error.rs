//! Errors users can act on: each names what is wrong and how to fix it, in one line.

use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("no eksgen.toml in {dir} or any parent folder; run `eksgen init` first, or pass -C DIR")]
    ManifestNotFound { dir: PathBuf },

    #[error("{path} already exists; this tree is initialised, add environments with `eksgen new-env`")]
    AlreadyInitialised { path: PathBuf },

    #[error("{path}:{line}:{column}: {message}; fix the manifest and run the command again")]
    ManifestSyntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{path}: {key}: {message}")]
    ManifestValue {
        path: PathBuf,
        key: String,
        message: String,
    },

    #[error("{message}")]
    UnknownRegion { message: String },

    #[error(
        "environment {env:?} not found; the manifest has {known}, or create it with `eksgen new-env {env} --hub-region REGION`"
    )]
    EnvNotFound { env: String, known: String },

    #[error("environment {env:?} already exists; pick another name")]
    EnvExists { env: String },

    #[error("the manifest has several environments ({known}); choose one with --env")]
    EnvAmbiguous { known: String },

    #[error("region {region} is already in environment {env:?}; edit its entry in eksgen.toml instead")]
    RegionExists { env: String, region: String },

    #[error(
        "region {region} is the hub of environment {env:?}; an edge cluster there would peer the hub VPC with its own region, pick another region"
    )]
    RegionIsHub { env: String, region: String },

    #[error(
        "region {region} of environment {env:?} still has resources in its state ({units}); destroy them first with `terragrunt run --all --working-dir {folder} destroy`, then run `eksgen remove-region {region}` again"
    )]
    RegionNotDestroyed {
        env: String,
        region: String,
        units: String,
        folder: String,
    },

    #[error(
        "the GitOps registration of region {region} in environment {env:?} still has resources in its state; destroy it first (before the region's units) with `terragrunt destroy --working-dir {folder}`, then run `eksgen remove-region {region}` again"
    )]
    RegistrationNotDestroyed {
        env: String,
        region: String,
        folder: String,
    },

    #[error("region {region} is not in environment {env:?}; `eksgen list` shows the regions")]
    RegionNotFound { env: String, region: String },

    #[error("{what} {cidr}: {reason}")]
    BadCidr {
        what: &'static str,
        cidr: String,
        reason: String,
    },

    #[error("VPC CIDR {cidr} is outside the pool {pool}; pick one inside it or widen cidr_pool in eksgen.toml")]
    CidrOutsidePool { cidr: String, pool: String },

    #[error(
        "VPC CIDR {cidr} overlaps {other} ({owner}); pick a CIDR that overlaps no VPC in the manifest, or omit --cidr to allocate one"
    )]
    CidrOverlap { cidr: String, other: String, owner: String },

    #[error("CIDR pool {pool} has no free /{prefix} left; widen cidr_pool in eksgen.toml or lower vpc_prefix_length")]
    PoolExhausted { pool: String, prefix: u8 },

    #[error(
        "{count} generated file(s) were edited by hand: {paths}; move the change into eksgen.toml or the unit's extra.hcl, or pass --force to overwrite"
    )]
    HandEdited {
        count: usize,
        paths: String,
        /// What the hand edits changed, shown before the error line.
        diff: String,
    },

    #[error("template {name}: {message}")]
    Template { name: String, message: String },

    #[error("--templates {dir}: {message}")]
    TemplateDir { dir: PathBuf, message: String },

    #[error("cannot write the report: {source}")]
    Output {
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.into(),
            source,
        })
    }
}
