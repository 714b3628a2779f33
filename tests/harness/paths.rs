//! Where the harness finds things: this checkout, the project venv's tools
//! (`make venv`, `make go-tools`) and the built provider.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// The checkout the tests belong to (the workspace root).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A tool the project venv holds (`.venv/bin/NAME`).
pub(crate) fn venv_bin(name: &str) -> PathBuf {
    project_root().join(".venv").join("bin").join(name)
}

/// The directory holding the built `terraform-provider-fleet`.
pub fn provider_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("FLEET_PROVIDER_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| project_root().join("target"));
    target.join("debug")
}

/// The built `terraform-provider-fleet`; an error saying how to build it when it is missing.
pub(crate) fn built_provider() -> Result<PathBuf> {
    let built = provider_dir().join("terraform-provider-fleet");
    if !built.exists() {
        bail!("{} is missing: build it first (make test does)", built.display());
    }
    Ok(built)
}
