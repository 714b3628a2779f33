//! A real Kubernetes API for a stand-in cluster (`tools/kube_stand.py`: etcd
//! and kube-apiserver authenticating EKS tokens through moto_fleet's
//! webhooks), and the test's own calls to it with the stand's admin token.
//! The calls go through Python's urllib, not the provider's client, so a
//! test reads what the API server holds independently of the code it tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::moto::Moto;
use crate::paths::{project_root, venv_bin};

/// One API server, attached to REGION/CLUSTER (now, or when CreateCluster
/// makes it); stopped (SIGTERM, so etcd goes too) when dropped.
pub struct KubeStand {
    child: Child,
    pub endpoint: String,
    pub ca_file: PathBuf,
    pub certificate_authority_data: String,
    admin_token: String,
    _stderr: tempfile::NamedTempFile,
}

impl KubeStand {
    /// Starts the stand for `cluster` in `region` and creates `namespaces`.
    pub fn start(moto: &Moto, region: &str, cluster: &str, namespaces: &[&str]) -> Result<Self> {
        let stderr = tempfile::NamedTempFile::new()?;
        let mut command = Command::new(venv_bin("python"));
        command.arg(project_root().join("tools").join("kube_stand.py")).args([
            "--moto",
            &moto.url(),
            "--region",
            region,
            "--cluster",
            cluster,
        ]);
        for namespace in namespaces {
            command.args(["--namespace", namespace]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr.reopen()?)
            .spawn()
            .context("starting tools/kube_stand.py (run `make venv kube-tools` first)")?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("kube_stand.py stdout")?;
        BufReader::new(stdout).read_line(&mut line)?;
        let ready: serde_json::Value = match serde_json::from_str(&line) {
            Ok(ready) => ready,
            Err(_) => {
                let _ = child.wait();
                bail!(
                    "kube_stand.py did not start:\n{}",
                    std::fs::read_to_string(stderr.path()).unwrap_or_default()
                );
            }
        };
        let text = |key: &str| ready[key].as_str().map(str::to_string).context(key.to_string());
        Ok(Self {
            endpoint: text("endpoint")?,
            ca_file: PathBuf::from(text("ca_file")?),
            certificate_authority_data: text("certificate_authority_data")?,
            admin_token: text("admin_token")?,
            child,
            _stderr: stderr,
        })
    }

    /// `method path` as the cluster's admin: (HTTP status, JSON body).
    pub fn call(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Result<(u16, serde_json::Value)> {
        const CALL: &str = r#"
import json, ssl, sys, urllib.error, urllib.request
endpoint, ca, token, method, path, body = sys.argv[1:7]
request = urllib.request.Request(endpoint + path, method=method, data=body.encode() if body else None,
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/json", "Accept": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=60, context=ssl.create_default_context(cafile=ca)) as answer:
        status, text = answer.status, answer.read()
except urllib.error.HTTPError as err:
    status, text = err.code, err.read()
print(json.dumps({"status": status, "body": json.loads(text or b"{}")}))
"#;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let output = Command::new(venv_bin("python"))
            .args(["-c", CALL, &self.endpoint])
            .arg(&self.ca_file)
            .args([&self.admin_token, method, path, &body])
            .output()?;
        if !output.status.success() {
            bail!("{method} {path}: {}", String::from_utf8_lossy(&output.stderr));
        }
        let answer: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let status = answer["status"].as_u64().context("status")? as u16;
        Ok((status, answer["body"].clone()))
    }

    /// The Secret NAMESPACE/NAME with its `data` decoded, or `None` (404).
    pub fn secret(&self, namespace: &str, name: &str) -> Result<Option<serde_json::Value>> {
        let (status, mut body) = self.call("GET", &format!("/api/v1/namespaces/{namespace}/secrets/{name}"), None)?;
        match status {
            200 => {
                if let Some(data) = body.get_mut("data").and_then(|d| d.as_object_mut()) {
                    for value in data.values_mut() {
                        let decoded = decode_base64(value.as_str().unwrap_or_default())?;
                        *value = serde_json::Value::String(decoded);
                    }
                }
                Ok(Some(body))
            }
            404 => Ok(None),
            other => bail!("GET secret {namespace}/{name}: {other} {body}"),
        }
    }

    /// The names of the Secrets in NAMESPACE.
    pub fn secret_names(&self, namespace: &str) -> Result<Vec<String>> {
        let (status, body) = self.call("GET", &format!("/api/v1/namespaces/{namespace}/secrets"), None)?;
        if status != 200 {
            bail!("list secrets in {namespace}: {status} {body}");
        }
        let mut names: Vec<String> = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }
}

fn decode_base64(text: &str) -> Result<String> {
    use base64::Engine;
    Ok(String::from_utf8(
        base64::engine::general_purpose::STANDARD.decode(text)?,
    )?)
}

impl Drop for KubeStand {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
