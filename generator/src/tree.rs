//! The tree on disk against the tree the manifest renders: which files a
//! command creates, rewrites or deletes, which of those were edited by hand
//! (and so are refused without --force), and writing the result.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use similar::TextDiff;

use crate::check::hcl_files;
use crate::error::{Error, IoContext, Result};
use crate::render::header::{self, Origin};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    /// The word a summary line starts with.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Change {
    /// Relative to the tree's root.
    pub path: PathBuf,
    pub action: Action,
    pub old: String,
    pub new: String,
    /// The file on disk was changed by hand (or is not eksgen's at all).
    pub hand_edited: bool,
}

#[derive(Debug, Default)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
}

impl ChangeSet {
    /// The changes that turn the tree at `root` into `desired`; generated files
    /// the manifest no longer renders are deleted. Files eksgen never wrote
    /// (such as a unit's extra.hcl) are left alone.
    pub fn between(root: &Path, desired: &BTreeMap<PathBuf, String>) -> Result<ChangeSet> {
        let mut changes = Vec::new();
        for (path, new) in desired {
            let full = root.join(path);
            if !full.exists() {
                changes.push(Change {
                    path: path.clone(),
                    action: Action::Create,
                    old: String::new(),
                    new: new.clone(),
                    hand_edited: false,
                });
                continue;
            }
            let old = std::fs::read_to_string(&full).at(&full)?;
            if old != *new {
                let hand_edited = header::origin(&old) != Origin::Pristine;
                changes.push(Change {
                    path: path.clone(),
                    action: Action::Update,
                    old,
                    new: new.clone(),
                    hand_edited,
                });
            }
        }
        // Generated files that are not HCL: Terragrunt's excludes file of the
        // stack layout, the CI pipelines and their script.
        let others = std::iter::once(crate::render::EXCLUDES_FILE)
            .chain(crate::render::ci::FILES)
            .map(|name| root.join(name))
            .filter(|p| p.is_file());
        for full in hcl_files(root).into_iter().chain(others) {
            let path = full
                .strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| full.clone());
            if desired.contains_key(&path) {
                continue;
            }
            let old = std::fs::read_to_string(&full).at(&full)?;
            match header::origin(&old) {
                Origin::User => {}
                origin => changes.push(Change {
                    path,
                    action: Action::Delete,
                    old,
                    new: String::new(),
                    hand_edited: origin == Origin::HandEdited,
                }),
            }
        }
        Ok(ChangeSet { changes })
    }

    /// A change to a file users own (the manifest), never refused.
    pub fn push_user_file(&mut self, path: &Path, old: Option<String>, new: String) {
        let action = if old.is_some() { Action::Update } else { Action::Create };
        let old = old.unwrap_or_default();
        if old != new {
            self.changes.insert(
                0,
                Change {
                    path: path.to_path_buf(),
                    action,
                    old,
                    new,
                    hand_edited: false,
                },
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn hand_edited(&self) -> Vec<&Change> {
        self.changes.iter().filter(|c| c.hand_edited).collect()
    }

    /// Unified diffs of `changes`, paths as `a/…` and `b/…` like git.
    pub fn diff<'a>(changes: impl IntoIterator<Item = &'a Change>) -> String {
        let mut out = String::new();
        for change in changes {
            let path = change.path.display();
            let (a, b) = match change.action {
                Action::Create => ("/dev/null".to_string(), format!("b/{path}")),
                Action::Update => (format!("a/{path}"), format!("b/{path}")),
                Action::Delete => (format!("a/{path}"), "/dev/null".to_string()),
            };
            let diff = TextDiff::from_lines(&change.old, &change.new);
            let _ = write!(out, "{}", diff.unified_diff().context_radius(3).header(&a, &b));
        }
        out
    }

    /// Refuses when a hand-edited file would be overwritten or deleted; the
    /// error carries the diff that shows the hand edits.
    pub fn refuse_hand_edits(&self) -> Result<()> {
        let edited = self.hand_edited();
        if edited.is_empty() {
            return Ok(());
        }
        Err(Error::HandEdited {
            count: edited.len(),
            paths: edited
                .iter()
                .map(|c| c.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            diff: ChangeSet::diff(edited),
        })
    }

    /// Writes every change (each file replaced atomically) and removes folders
    /// that deleting left empty.
    pub fn write(&self, root: &Path) -> Result<()> {
        for change in &self.changes {
            let full = root.join(&change.path);
            match change.action {
                Action::Create | Action::Update => {
                    let dir = full.parent().unwrap_or(root);
                    std::fs::create_dir_all(dir).at(dir)?;
                    let temporary = dir.join(format!(
                        ".{}.eksgen-tmp",
                        full.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ));
                    std::fs::write(&temporary, &change.new).at(&temporary)?;
                    std::fs::rename(&temporary, &full).at(&full)?;
                }
                Action::Delete => {
                    std::fs::remove_file(&full).at(&full)?;
                    let mut dir = full.parent();
                    while let Some(current) = dir {
                        if current == root || std::fs::remove_dir(current).is_err() {
                            break;
                        }
                        dir = current.parent();
                    }
                }
            }
        }
        Ok(())
    }
}
