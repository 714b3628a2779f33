//! `tools/fault_proxy.py` in front of a moto: the provider talks to the
//! proxy (`Workspace::use_endpoint`), the test's own checks talk to moto.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::moto::Moto;
use crate::paths::{project_root, venv_bin};
use crate::process::free_port;

/// The proxy process, on a free loopback port; killed when dropped.
pub struct FaultProxy {
    child: Child,
    pub port: u16,
}

impl FaultProxy {
    pub fn start(moto: &Moto) -> Result<Self> {
        let port = free_port()?;
        let script = project_root().join("tools").join("fault_proxy.py");
        let child = Command::new(venv_bin("python"))
            .arg(&script)
            .args(["--target", &moto.url(), "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", script.display()))?;
        let proxy = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if proxy.stats().is_ok() {
                return Ok(proxy);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the fault proxy did not answer on port {port} within 30 s")
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn request(&self, method: &str, path: &str, body: &str) -> Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let (head, body) = response.split_once("\r\n\r\n").context("not an HTTP response")?;
        if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
            bail!("fault proxy answered {head}");
        }
        Ok(body.to_string())
    }

    /// Replaces the schedule (and clears the counters): `{"seed": N, "rules": [...]}`.
    pub fn schedule(&self, schedule: serde_json::Value) -> Result<()> {
        self.request("POST", "/fault-proxy/schedule", &schedule.to_string())
            .map(|_| ())
    }

    /// No more faults; counters cleared.
    pub fn clear(&self) -> Result<()> {
        self.request("POST", "/fault-proxy/clear", "{}").map(|_| ())
    }

    /// `{"forwarded", "injected": {kind: n}, "injected_total", "injected_actions", "actions": {"svc:Action": n}}`.
    pub fn stats(&self) -> Result<serde_json::Value> {
        Ok(serde_json::from_str(&self.request("GET", "/fault-proxy/stats", "")?)?)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
