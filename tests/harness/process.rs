//! What the harness's child processes have in common: the result of a
//! finished command (`Run`), a free loopback port for a server to take, and
//! a bare HTTP/1.0 call to a server's control API on that port.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use anyhow::{Context, Result, bail};

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

/// One HTTP/1.0 request to a control API on loopback (moto's, the stand-in's,
/// the fault proxy's), returning the status line and the body. HTTP/1.0, so
/// the server closes the connection and the whole answer is read to its end.
pub(crate) fn loopback_http(port: u16, method: &str, path: &str, body: &str) -> Result<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, payload) = response
        .split_once("\r\n\r\n")
        .with_context(|| format!("{method} {path}: not an HTTP response"))?;
    let status = head.lines().next().unwrap_or_default().to_string();
    Ok((status, payload.to_string()))
}

/// Whether a status line is a 200, from an HTTP/1.0 or HTTP/1.1 server.
pub(crate) fn is_ok(status: &str) -> bool {
    status.starts_with("HTTP/1.0 200") || status.starts_with("HTTP/1.1 200")
}
