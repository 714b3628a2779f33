//! What the harness's child processes have in common: the result of a
//! finished command (`Run`) and a free loopback port for a server to take.

use std::net::TcpListener;

use anyhow::{Result, bail};

/// The result of one finished command (terraform, tofu, terragrunt, eksgen).
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// What a finished command printed and how it exited (-1: killed by a signal).
    pub(crate) fn from_output(output: std::process::Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn ok(self) -> Result<Self> {
        if self.code != 0 {
            bail!("terraform failed ({}):\n{}\n{}", self.code, self.stdout, self.stderr);
        }
        Ok(self)
    }

    /// stdout and stderr together, for matching messages wherever Terraform put them.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Whether Terraform's output says `text`, ignoring how it wrapped lines.
    pub fn says(&self, text: &str) -> bool {
        collapse_whitespace(&self.output()).contains(&collapse_whitespace(text))
    }
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A loopback port nothing listens on right now.
pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
