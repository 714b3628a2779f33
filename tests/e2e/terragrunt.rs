//! A tree eksgen writes, run by the real Terragrunt (v1.1.3, built from its
//! Go module by `make go-tools`) with real Terraform, against the strict
//! stand-in: a fresh tree plans, applies, re-plans clean and destroys.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use eksfleet_tests::*;

fn terragrunt_bin() -> PathBuf {
    project_root().join(".venv/bin/terragrunt")
}

/// The provider's version, as the modules' `~> 0.1` constraint sees it.
fn provider_version() -> Result<String> {
    let manifest = std::fs::read_to_string(project_root().join("Cargo.toml"))?;
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_string)
        .context("no version in Cargo.toml")
}

/// A filesystem mirror holding the built provider, and a CLI configuration
/// that installs `eksfleet/fleet` from it (as `make install` will). Terraform's
/// `dev_overrides` alone fails the `init` Terragrunt runs in a unit applied
/// before ("could not connect to registry.terraform.io").
fn provider_mirror(dir: &Path) -> Result<PathBuf> {
    let version = provider_version()?;
    let platform = dir.join(format!(
        "mirror/registry.terraform.io/eksfleet/fleet/{version}/linux_amd64"
    ));
    std::fs::create_dir_all(&platform)?;
    let built = provider_dir().join("terraform-provider-fleet");
    if !built.exists() {
        bail!("{} is missing: build it first (make test does)", built.display());
    }
    std::os::unix::fs::symlink(&built, platform.join(format!("terraform-provider-fleet_v{version}")))?;
    let config = dir.join("terraformrc");
    std::fs::write(
        &config,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = \
             [\"registry.terraform.io/eksfleet/fleet\"]\n  }}\n  direct {{\n    exclude = \
             [\"registry.terraform.io/eksfleet/fleet\"]\n  }}\n}}\n",
            dir.join("mirror").display()
        ),
    )?;
    Ok(config)
}

struct Tree {
    dir: tempfile::TempDir,
    cli_config: PathBuf,
    moto_url: String,
}

impl Tree {
    /// `eksgen init` (hub in us-east-1) and `new-region` for each edge.
    fn new(moto: &Moto, edges: &[&str]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let modules = project_root().join("modules").display().to_string();
        let init = eksgen(
            dir.path(),
            &[
                "init",
                "--env",
                "dev",
                "--hub-region",
                "us-east-1",
                "--modules-source",
                &modules,
            ],
        )?;
        if init.code != 0 {
            bail!("eksgen init:\n{}", init.output());
        }
        for edge in edges {
            let run = eksgen(dir.path(), &["new-region", edge])?;
            if run.code != 0 {
                bail!("eksgen new-region {edge}:\n{}", run.output());
            }
        }
        let cli_config = provider_mirror(dir.path())?;
        Ok(Self {
            dir,
            cli_config,
            moto_url: moto.url(),
        })
    }

    /// `terragrunt run --all COMMAND [-- TERRAFORM_ARGS]` at the tree's root.
    fn run_all(&self, command: &str, terraform_args: &[&str]) -> Result<Run> {
        if !terragrunt_bin().exists() {
            bail!(
                "{} is missing: `make go-tools` builds it (make test does)",
                terragrunt_bin().display()
            );
        }
        let mut args = vec!["run", "--all", command, "--non-interactive", "--no-color"];
        if !terraform_args.is_empty() {
            args.push("--");
            args.extend(terraform_args);
        }
        let output = Command::new(terragrunt_bin())
            .args(&args)
            .current_dir(self.dir.path())
            .env("TG_TF_PATH", terraform_bin())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_ENDPOINT_URL", &self.moto_url)
            .env("AWS_ACCESS_KEY_ID", "AKIAEKSFLEETTESTS")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {}", terragrunt_bin().display()))?;
        Ok(Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_tree_plans_applies_replans_clean_and_destroys_under_real_terragrunt() -> Result<()> {
    let moto = Moto::start()?;
    let tree = Tree::new(&moto, &["us-west-2"])?;
    let units = 4; // the hub, the edge, its peering's requester and accepter

    // Nothing exists: the peerings plan on mocked VPC ids, with a warning.
    let plan = tree.run_all("plan", &[])?;
    assert_eq!(plan.code, 0, "a fresh tree plans:\n{}", plan.output());
    assert!(plan.says("VPC not found"), "{}", plan.output());
    assert!(plan.says(&format!("Succeeded    {units}")), "{}", plan.output());

    let apply = tree.run_all("apply", &[])?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    let ec2 = moto.ec2("us-west-2").await;
    let peerings = live_peerings(&ec2).await?;
    assert_eq!(peerings.len(), 1, "{peerings:?}");
    assert_eq!(peering_status(&peerings[0]), "active");

    let replan = tree.run_all("plan", &["-detailed-exitcode"])?;
    assert_eq!(replan.code, 0, "every unit re-plans clean:\n{}", replan.output());

    let destroy = tree.run_all("destroy", &[])?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    for region in ["us-east-1", "us-west-2"] {
        let vpcs = moto.ec2(region).await.describe_vpcs().send().await?;
        assert!(
            vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
            "{region}: a VPC is left: {:?}",
            vpcs.vpcs()
        );
        let clusters = moto.eks(region).await.list_clusters().send().await?;
        assert!(clusters.clusters().is_empty(), "{region}: {:?}", clusters.clusters());
    }
    assert!(live_peerings(&ec2).await?.is_empty(), "the peering is gone");
    Ok(())
}
