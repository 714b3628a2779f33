//! The CI engines eksgen's pipelines are tested on: a tree as a git
//! project with an `origin` (what GitLab and GitHub clone), gitlab-ci-local
//! running `.gitlab-ci.yml` with its shell executor, and actionlint. Both
//! tools come from `make ci-engines`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::paths::project_root;
use crate::process::Run;
use crate::terragrunt::{TerragruntTree, terragrunt_bin};

pub fn actionlint_bin() -> PathBuf {
    project_root().join(".venv/bin/actionlint")
}

pub fn gitlab_ci_local_bin() -> PathBuf {
    std::env::var_os("GITLAB_CI_LOCAL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("tools/ci-engine/node_modules/.bin/gitlab-ci-local"))
}

fn missing(tool: &Path) -> Result<()> {
    if !tool.exists() {
        bail!(
            "{} is missing: `make ci-engines` installs it (make test does)",
            tool.display()
        );
    }
    Ok(())
}

/// `actionlint FILES` in `dir` (its exit code and findings).
pub fn actionlint(dir: &Path, files: &[&str]) -> Result<Run> {
    missing(&actionlint_bin())?;
    let output = Command::new(actionlint_bin())
        .args(["-no-color"])
        .args(files)
        .current_dir(dir)
        .output()
        .context("running actionlint")?;
    Ok(Run::from_output(output))
}

/// A git repository at `root` whose `origin` is a bare repository beside it,
/// with `origin/HEAD` naming main: the project a CI system checks out.
pub struct GitProject {
    root: PathBuf,
}

impl GitProject {
    /// The repository with one commit of `.gitignore` on main, pushed:
    /// the project before the tree is added.
    pub fn init(root: &Path, ignored: &[&str]) -> Result<Self> {
        let project = Self {
            root: root.to_path_buf(),
        };
        let remote = root.with_extension("origin.git");
        project.git(&["init", "-q", "-b", "main"])?;
        project.git(&["config", "user.email", "ci@eksfleet.test"])?;
        project.git(&["config", "user.name", "eksfleet tests"])?;
        std::fs::write(root.join(".gitignore"), ignored.join("\n") + "\n")?;
        project.git(&["add", ".gitignore"])?;
        project.git(&["commit", "-q", "-m", "project"])?;
        let status = Command::new("git")
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&remote)
            .status()?;
        anyhow::ensure!(status.success(), "git init --bare {}", remote.display());
        project.git(&["remote", "add", "origin", &remote.display().to_string()])?;
        project.push()?;
        project.git(&["symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"])?;
        Ok(project)
    }

    /// `git ARGS` in the repository; its stdout, trimmed.
    pub fn git(&self, args: &[&str]) -> Result<String> {
        let output = Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .output()
            .with_context(|| format!("git {}", args.join(" ")))?;
        if !output.status.success() {
            bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// Everything in the work tree, committed; the new commit.
    pub fn commit_all(&self, message: &str) -> Result<String> {
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "-m", message])?;
        self.rev("HEAD")
    }

    /// A second checkout at `root`, cloned from this one (so its
    /// `origin/main` is this one's main, committed or not pushed): where
    /// the next push's pipeline runs while this one's still does.
    pub fn clone_to(&self, root: &Path) -> Result<Self> {
        let status = Command::new("git")
            .args(["clone", "-q"])
            .arg(&self.root)
            .arg(root)
            .status()?;
        anyhow::ensure!(status.success(), "git clone into {}", root.display());
        let project = Self {
            root: root.to_path_buf(),
        };
        project.git(&["config", "user.email", "ci@eksfleet.test"])?;
        project.git(&["config", "user.name", "eksfleet tests"])?;
        Ok(project)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn rev(&self, name: &str) -> Result<String> {
        self.git(&["rev-parse", name])
    }

    pub fn push(&self) -> Result<()> {
        self.git(&["push", "-q", "origin", "main"])?;
        self.git(&["fetch", "-q", "origin"]).map(|_| ())
    }
}

/// One gitlab-ci-local run of the tree's `.gitlab-ci.yml` at its root with
/// the shell executor, jobs getting the tree's Terragrunt environment plus
/// `env`; `variables` are GitLab's (`CI_PIPELINE_SOURCE`, ...).
pub fn gitlab_pipeline(tree: &TerragruntTree, variables: &[(&str, &str)], env: &[(&str, &str)]) -> Result<Run> {
    gitlab_pipeline_in(tree, &tree.root(), variables, env)
}

/// `gitlab_pipeline` in another checkout of the tree's project (`checkout`),
/// with the tree's Terragrunt environment: a second runner's pipeline.
pub fn gitlab_pipeline_in(
    tree: &TerragruntTree,
    checkout: &Path,
    variables: &[(&str, &str)],
    env: &[(&str, &str)],
) -> Result<Run> {
    missing(&gitlab_ci_local_bin())?;
    missing(&terragrunt_bin())?;
    let mut command = tree.command(gitlab_ci_local_bin());
    command.current_dir(checkout);
    let predefined: Vec<&str> = variables.iter().map(|(k, _)| *k).collect();
    command
        .env("GCL_IGNORE_PREDEFINED_VARS", predefined.join(","))
        .env("TERRAGRUNT", terragrunt_bin())
        .env("EKSGEN", crate::eksgen::eksgen_bin())
        .env("FORCE_COLOR", "0")
        .envs(env.iter().copied())
        // Jobs run in the tree itself (shell executor): their artifacts are already there.
        .arg("--no-artifacts-to-source");
    for (key, value) in variables {
        command.arg("--variable").arg(format!("{key}={value}"));
    }
    let output = command.output().context("running gitlab-ci-local")?;
    Ok(Run::from_output(output))
}
