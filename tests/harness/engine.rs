//! The engine that runs the configurations (Terraform, or OpenTofu with
//! `FLEET_ENGINE=tofu`) and how it installs the built provider.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::paths::{built_provider, project_root, venv_bin};

/// What runs the configurations: `FLEET_ENGINE=tofu` selects OpenTofu
/// (`.venv/bin/tofu`, built by `make go-tools`), anything else Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Terraform,
    OpenTofu,
}

impl Engine {
    pub fn from_env() -> Self {
        match std::env::var("FLEET_ENGINE").as_deref() {
            Ok("tofu") | Ok("opentofu") => Self::OpenTofu,
            _ => Self::Terraform,
        }
    }

    pub fn binary(self) -> PathBuf {
        match self {
            Self::Terraform => std::env::var("TERRAFORM")
                .map(PathBuf::from)
                .unwrap_or_else(|_| venv_bin("terraform")),
            Self::OpenTofu => venv_bin("tofu"),
        }
    }

    /// The registry host `source = "eksfleet/fleet"` means to this engine.
    pub fn registry_host(self) -> &'static str {
        match self {
            Self::Terraform => "registry.terraform.io",
            Self::OpenTofu => "registry.opentofu.org",
        }
    }
}

/// The binary of the engine this test run uses.
pub fn terraform_bin() -> PathBuf {
    Engine::from_env().binary()
}

/// The provider's version, as the modules' `~> 0.1` constraint sees it.
pub fn provider_version() -> Result<String> {
    let manifest = std::fs::read_to_string(project_root().join("Cargo.toml"))?;
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_string)
        .context("no version in Cargo.toml")
}

/// A filesystem mirror under `dir` holding the built provider for the
/// engine's registry host, and a CLI configuration (returned) that installs
/// `eksfleet/fleet` from it and everything else directly, as `make install`
/// users get. Terraform's `dev_overrides` alone is not enough under
/// Terragrunt: its `init` in a unit applied before fails on the registry.
pub fn provider_mirror(dir: &Path, engine: Engine) -> Result<PathBuf> {
    let version = provider_version()?;
    let host = engine.registry_host();
    let platform = dir.join(format!("mirror/{host}/eksfleet/fleet/{version}/linux_amd64"));
    std::fs::create_dir_all(&platform)?;
    std::os::unix::fs::symlink(
        built_provider()?,
        platform.join(format!("terraform-provider-fleet_v{version}")),
    )?;
    let config = dir.join("terraformrc");
    std::fs::write(
        &config,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{mirror}\"\n    include = \
             [\"{host}/eksfleet/fleet\"]\n  }}\n  direct {{\n    exclude = [\"{host}/eksfleet/fleet\"]\n  }}\n}}\n",
            mirror = dir.join("mirror").display()
        ),
    )?;
    Ok(config)
}
