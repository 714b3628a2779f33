//! What a command did, as a value: the commands return a [`Report`] and
//! `output` renders it (text or JSON), so that what eksgen says can be
//! tested without running it and read by programs with `--output json`.

use std::path::PathBuf;

use ipnet::Ipv4Net;
use serde::Serialize;

use crate::check::Problem;
use crate::manifest::Layout;
use crate::tree::{Action, Change};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum Report {
    /// --dry-run: what a writing command would change; nothing was written.
    DryRun(DryRun),
    /// A writing command changed the tree, or found it up to date.
    Wrote(Wrote),
    /// `list`: the clusters of the manifest.
    List(List),
    /// `check`: drift from the manifest's rendering and static-check problems.
    Check(Check),
}

impl Report {
    /// 0, or 1 when `check` fails; errors (exit 2) are not reports.
    pub fn exit_code(&self) -> i32 {
        match self {
            Report::Check(check) if !check.passed() => 1,
            _ => 0,
        }
    }
}

/// One file a command changes, with its unified diff (paths as `a/…` and `b/…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// Relative to the tree's root.
    pub path: PathBuf,
    pub action: Action,
    pub diff: String,
}

impl FileDiff {
    pub fn of(change: &Change) -> FileDiff {
        FileDiff {
            path: change.path.clone(),
            action: change.action,
            diff: crate::tree::ChangeSet::diff([change]),
        }
    }
}

/// One file a command wrote or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFile {
    /// Relative to the tree's root.
    pub path: PathBuf,
    pub action: Action,
}

impl ChangedFile {
    pub fn of(change: &Change) -> ChangedFile {
        ChangedFile {
            path: change.path.clone(),
            action: change.action,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DryRun {
    /// In the order they would be written: the manifest first.
    pub changes: Vec<FileDiff>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wrote {
    /// Empty when the tree already matched the manifest.
    pub changes: Vec<ChangedFile>,
    /// What the command did besides writing the rendered files.
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// `new-region`: the region and the VPC CIDR it got.
    RegionAdded {
        region: String,
        env: String,
        vpc_cidr: Ipv4Net,
    },
    /// `remove-region`, stack layout: the region's units `terragrunt stack
    /// generate` wrote, deleted since Terragrunt never does.
    GeneratedUnitsDeleted {
        /// Relative to the tree's root.
        folder: PathBuf,
    },
    /// `remove-region`: the region's folder still holds files eksgen did not write.
    UserFilesKept { folder: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct List {
    pub clusters: Vec<ClusterRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterRow {
    pub env: String,
    pub region: String,
    /// "hub" or "edge".
    pub role: String,
    pub cidr: Ipv4Net,
    /// None: the account of the credentials Terragrunt runs with.
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The tree's layout, which says where hand edits belong instead.
    pub layout: Layout,
    /// Files that differ from what the manifest renders.
    pub drift: Vec<FileDiff>,
    pub problems: Vec<Problem>,
    /// How many units the static checks read.
    pub units: usize,
}

impl Check {
    pub fn passed(&self) -> bool {
        self.drift.is_empty() && self.problems.is_empty()
    }
}
