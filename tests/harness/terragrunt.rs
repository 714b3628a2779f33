//! A tree `eksgen` wrote, run by the real Terragrunt (v1.1.3, built from its
//! Go module by `make go-tools`) with the test run's engine (Terraform
//! through the project's launcher, or OpenTofu) against the test's moto.
//! The provider is installed from a filesystem mirror, as `make install`
//! users get it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::eksgen::eksgen;
use crate::engine::{Engine, provider_mirror};
use crate::moto::{Moto, point_at};
use crate::paths::project_root;
use crate::process::Run;

pub fn terragrunt_bin() -> PathBuf {
    project_root().join(".venv/bin/terragrunt")
}

pub struct TerragruntTree {
    dir: tempfile::TempDir,
    engine: Engine,
    cli_config: PathBuf,
    moto_url: String,
    /// S3 over moto's HTTPS listener: (endpoint, certificate to trust).
    s3_tls: Option<(String, PathBuf)>,
    /// Set for every Terragrunt run after the stand-in's settings (other keys, say).
    extra_env: Vec<(String, String)>,
}

impl TerragruntTree {
    /// `eksgen init --env dev --hub-region us-east-1` (plus `init_args`,
    /// modules from this checkout), then `new-region` for each edge.
    pub fn init(moto: &Moto, init_args: &[&str], edges: &[&str]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let modules = project_root().join("modules").display().to_string();
        let mut args = vec![
            "init",
            "--env",
            "dev",
            "--hub-region",
            "us-east-1",
            "--modules-source",
            &modules,
        ];
        args.extend(init_args);
        let tree_dir = dir.path().join("tree");
        std::fs::create_dir(&tree_dir)?;
        let init = eksgen(&tree_dir, &args)?;
        if init.code != 0 {
            bail!("eksgen init:\n{}", init.output());
        }
        let engine = Engine::from_env();
        let providers = dir.path().join("providers");
        std::fs::create_dir(&providers)?;
        let cli_config = provider_mirror(&providers, engine)?;
        let tree = Self {
            dir,
            engine,
            cli_config,
            moto_url: moto.url(),
            s3_tls: moto.tls.as_ref().map(|tls| (tls.url.clone(), tls.ca_bundle.clone())),
            extra_env: Vec::new(),
        };
        for edge in edges {
            tree.eksgen(&["new-region", edge])?.ok()?;
        }
        Ok(tree)
    }

    /// `KEY=VALUE` in every later Terragrunt run's environment.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.to_string(), value.to_string()));
    }

    /// The tree's root (where `eksgen.toml` is).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("tree")
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// `eksgen ARGS` at the tree's root.
    pub fn eksgen(&self, args: &[&str]) -> Result<Run> {
        eksgen(&self.root(), args)
    }

    /// `terragrunt run --all COMMAND [-- ENGINE_ARGS]` at the tree's root.
    pub fn run_all(&self, command: &str, engine_args: &[&str]) -> Result<Run> {
        self.run_all_in(".", command, engine_args)
    }

    /// `terragrunt run --all COMMAND` in a folder of the tree (a region's,
    /// say): its units only, never the units outside it they depend on.
    pub fn run_all_in(&self, folder: &str, command: &str, engine_args: &[&str]) -> Result<Run> {
        let mut args = vec!["run", "--all", "--working-dir", folder, command];
        if !engine_args.is_empty() {
            args.push("--");
            args.extend(engine_args);
        }
        self.terragrunt(&args)
    }

    /// `terragrunt run --working-dir UNIT COMMAND [-- ENGINE_ARGS]`: one unit.
    pub fn run_unit(&self, unit: &str, command: &str, engine_args: &[&str]) -> Result<Run> {
        let mut args = vec!["run", "--working-dir", unit, command];
        if !engine_args.is_empty() {
            args.push("--");
            args.extend(engine_args);
        }
        self.terragrunt(&args)
    }

    /// A unit's outputs (`terragrunt output -json`), values only.
    pub fn outputs(&self, unit: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
        let run = self.run_unit(unit, "output", &["-json"])?.ok()?;
        let all: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&run.stdout).with_context(|| format!("{unit}: output -json:\n{}", run.stdout))?;
        Ok(all
            .into_iter()
            .map(|(name, output)| (name, output["value"].clone()))
            .collect())
    }

    /// Where the local backend `root.hcl` configures keeps a unit's state.
    pub fn state_file(&self, unit: &str) -> PathBuf {
        self.root()
            .join(".terraform-state")
            .join(unit)
            .join("terraform.tfstate")
    }

    /// Every unit folder of the tree (relative, sorted): the folders holding
    /// a `terragrunt.hcl`.
    pub fn units(&self) -> Result<Vec<String>> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if path.is_dir() && !name.starts_with('.') {
                    walk(root, &path, out)?;
                } else if name == "terragrunt.hcl" {
                    let unit = dir.strip_prefix(root)?.display().to_string();
                    out.push(unit);
                }
            }
            Ok(())
        }
        let mut units = Vec::new();
        walk(&self.root(), &self.root(), &mut units)?;
        units.sort();
        Ok(units)
    }

    /// `program` at the tree's root with the environment every Terragrunt
    /// run of this tree gets (moto's endpoints and keys, the engine, the
    /// provider's mirror): for Terragrunt itself, and for CI engines whose
    /// jobs run it.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        point_at(&mut command, &self.moto_url);
        if let Some((url, ca_bundle)) = &self.s3_tls {
            command.env("AWS_ENDPOINT_URL_S3", url).env("AWS_CA_BUNDLE", ca_bundle);
        }
        command.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        command
            .current_dir(self.root())
            .env("TG_TF_PATH", self.engine.binary())
            // Under OpenTofu, Terragrunt points TF_PLUGIN_CACHE_DIR at a cache
            // shared by all units (its auto provider cache). With a provider
            // from an unpacked filesystem mirror, as here and after `make
            // install`, OpenTofu 1.12.6 removes and re-links the shared
            // cache entry on every `init` (getproviders.PackageLocalDir.
            // InstallProviderPackage: os.RemoveAll, then symlink) and hashes
            // it afterwards outside its cache lock, so parallel units fail
            // with "failed to compute a checksum ... lstat ...: no such file
            // or directory". Each unit then installs into its own
            // .terraform/providers instead, as under Terraform.
            .env("TG_NO_AUTO_PROVIDER_CACHE_DIR", "true")
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::null());
        command
    }

    /// `terragrunt ARGS` at the tree's root, non-interactive, pointed at moto.
    pub fn terragrunt(&self, args: &[&str]) -> Result<Run> {
        if !terragrunt_bin().exists() {
            bail!(
                "{} is missing: `make go-tools` builds it (make test does)",
                terragrunt_bin().display()
            );
        }
        let mut command = self.command(terragrunt_bin());
        let output = command
            // Terragrunt's own flags first: whatever follows `--` goes to the engine.
            .args(["--non-interactive", "--no-color"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {}", terragrunt_bin().display()))?;
        Ok(Run::from_output(output))
    }
}
