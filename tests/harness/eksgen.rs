//! The built `eksgen` CLI, run in a directory as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::paths::provider_dir;
use crate::process::Run;

/// The built `eksgen`, next to the provider.
pub fn eksgen_bin() -> PathBuf {
    provider_dir().join("eksgen")
}

/// Runs `eksgen ARGS` in `dir`.
pub fn eksgen(dir: &Path, args: &[&str]) -> Result<Run> {
    let output = Command::new(eksgen_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} (make build builds it)", eksgen_bin().display()))?;
    Ok(Run::from_output(output))
}
