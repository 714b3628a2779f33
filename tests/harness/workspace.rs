//! A Terraform (or OpenTofu) working directory of a test's own, wired to the
//! built provider and to the test's moto (or a fault proxy in front of it).

use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::engine::{Engine, provider_mirror, terraform_bin};
use crate::moto::{Moto, point_at};
use crate::paths::{built_provider, provider_dir};
use crate::process::Run;

/// A Terraform working directory wired to the built provider and to moto.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    engine: Engine,
    /// OpenTofu installs the provider from a mirror, so the workspace is
    /// initialised before its first other command.
    needs_init: std::sync::atomic::AtomicBool,
    moto_url: String,
    extra_env: Vec<(String, String)>,
    removed_env: Vec<String>,
}

impl Workspace {
    pub fn new(moto: &Moto, main_tf: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("main.tf"), main_tf)?;
        let engine = Engine::from_env();
        match engine {
            Engine::Terraform => {
                built_provider()?;
                let cli_config = format!(
                    "provider_installation {{\n  dev_overrides {{\n    \"eksfleet/fleet\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                    provider_dir().display()
                );
                std::fs::write(dir.path().join("terraformrc"), cli_config)?;
            }
            Engine::OpenTofu => {
                let providers = dir.path().join(".providers");
                std::fs::create_dir(&providers)?;
                let config = provider_mirror(&providers, engine)?;
                std::fs::rename(config, dir.path().join("terraformrc"))?;
            }
        }
        Ok(Self {
            dir,
            engine,
            needs_init: std::sync::atomic::AtomicBool::new(engine == Engine::OpenTofu),
            moto_url: moto.url(),
            extra_env: Vec::new(),
            removed_env: Vec::new(),
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// `init` once, before the first command that needs the provider.
    fn ensure_initialised(&self, args: &[&str]) -> Result<()> {
        if !self.needs_init.load(std::sync::atomic::Ordering::SeqCst)
            || args.first().is_some_and(|a| *a == "init" || *a == "version")
        {
            return Ok(());
        }
        let run = self.run_engine(&["init", "-no-color", "-input=false"])?;
        if run.code != 0 {
            bail!("{} init failed:\n{}", self.engine.binary().display(), run.output());
        }
        self.needs_init.store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.to_string(), value.to_string()));
    }

    /// Points the provider at `url` (a fault proxy) instead of moto.
    pub fn use_endpoint(&mut self, url: &str) {
        self.moto_url = url.to_string();
    }

    /// Runs terraform without `key` in its environment.
    pub fn unset_env(&mut self, key: &str) {
        self.removed_env.push(key.to_string());
    }

    pub fn write(&self, name: &str, contents: &str) -> Result<()> {
        std::fs::write(self.path().join(name), contents)?;
        Ok(())
    }

    /// Runs `terraform ARGS` (or `tofu ARGS`) in the workspace (no -input).
    pub fn terraform(&self, args: &[&str]) -> Result<Run> {
        self.ensure_initialised(args)?;
        self.run_engine(args)
    }

    fn run_engine(&self, args: &[&str]) -> Result<Run> {
        let output = self
            .command(args)
            .output()
            .with_context(|| format!("running {}", terraform_bin().display()))?;
        Ok(Run::from_output(output))
    }

    /// Starts `terraform ARGS` in a process group of its own (Terraform and
    /// the provider it launches), with output captured to files, so a test
    /// can signal the group the way a terminal's Ctrl-C or a CI kill does.
    pub fn spawn(&self, args: &[&str]) -> Result<Child> {
        use std::os::unix::process::CommandExt;
        self.ensure_initialised(args)?;
        let stdout = std::fs::File::create(self.path().join("spawned.stdout"))?;
        let stderr = std::fs::File::create(self.path().join("spawned.stderr"))?;
        self.command(args)
            .process_group(0)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {}", terraform_bin().display()))
    }

    /// What a `spawn`ed terraform printed, once it has exited.
    pub fn spawned_run(&self, status: std::process::ExitStatus) -> Result<Run> {
        Ok(Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(self.path().join("spawned.stdout"))?,
            stderr: std::fs::read_to_string(self.path().join("spawned.stderr"))?,
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.engine.binary());
        command
            .args(args)
            .current_dir(self.path())
            .env("TF_CLI_CONFIG_FILE", self.path().join("terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::null());
        point_at(&mut command, &self.moto_url);
        // A test's own settings win over the defaults.
        command.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        for key in &self.removed_env {
            command.env_remove(key);
        }
        command
    }

    pub fn apply(&self) -> Result<Run> {
        self.terraform(&["apply", "-auto-approve", "-no-color"])?.ok()
    }

    pub fn destroy(&self) -> Result<Run> {
        self.terraform(&["destroy", "-auto-approve", "-no-color"])?.ok()
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
    pub fn plan_exit_code(&self) -> Result<Run> {
        self.terraform(&["plan", "-detailed-exitcode", "-no-color"])
    }

    /// `terraform output -json NAME` parsed.
    pub fn output(&self, name: &str) -> Result<serde_json::Value> {
        let run = self.terraform(&["output", "-json", name])?.ok()?;
        Ok(serde_json::from_str(&run.stdout)?)
    }

    pub fn state_json(&self) -> Result<serde_json::Value> {
        let run = self.terraform(&["show", "-json"])?.ok()?;
        Ok(serde_json::from_str(&run.stdout)?)
    }
}
