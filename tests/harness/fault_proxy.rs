//! `tools/fault_proxy.py` in front of a moto: the provider talks to the
//! proxy (`Workspace::use_endpoint`), the test's own checks talk to moto.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::moto::Moto;
use crate::paths::{project_root, venv_bin};
use crate::process::{free_port, is_ok, loopback_http};

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
        let (status, body) = loopback_http(self.port, method, path, body)?;
        if !is_ok(&status) {
            bail!("fault proxy answered {status}");
        }
        Ok(body)
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
