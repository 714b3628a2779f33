//! The stand-in AWS: a moto server of each test's own (with the project's
//! extension, `tools/moto_fleet.py`) on a free loopback port, its control
//! API, the keys it knows, and the environment that points a child process
//! at it. SDK clients on it: `aws.rs`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::paths::{project_root, venv_bin};
use crate::process::{free_port, is_ok, loopback_http};

pub const ACCESS_KEY: &str = "AKIAEKSFLEETTEST0001";
pub const SECRET_KEY: &str = "eksfleet-test-secret-key-do-not-leak";
/// The key the tests' own checks sign with: the stand-in applies its
/// eventual-consistency lags to the provider, not to the observer.
pub const OBSERVER_KEY: &str = "AKIAEKSFLEETOBSERVER1";
/// Every end-to-end test meets what a real account meets
/// (`tools/realism.py`); a test that needs a behaviour off says why.
pub const REALISM: &str = "all";
/// Real AWS durations x this: a 10-minute cluster creation takes 3 s.
pub const TIME_SCALE: &str = "0.005";
/// moto's default account.
pub const ACCOUNT_ID: &str = "123456789012";

/// A moto server of this test's own; killed when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
    /// Keys the test's own SDK clients use (see `use_keys`).
    keys: (String, String),
    /// The HTTPS listener, when started with `start_with_tls`.
    pub tls: Option<Tls>,
}

/// moto's HTTPS listener: the same backends, a self-signed certificate.
pub struct Tls {
    pub url: String,
    /// The certificate to trust (PEM), e.g. as `AWS_CA_BUNDLE`.
    pub ca_bundle: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Result<Self> {
        Self::start_with_env(&[])
    }

    /// moto with extra environment, e.g. `INITIAL_NO_AUTH_ACTION_COUNT` to
    /// enforce IAM policies after the first N requests.
    pub fn start_with_env(env: &[(&str, &str)]) -> Result<Self> {
        Self::spawn(env, None)
    }

    /// moto also on HTTPS, which S3 state needs: Terragrunt's bucket
    /// bootstrap denies requests without TLS in the bucket policy.
    pub fn start_with_tls() -> Result<Self> {
        Self::start_with_tls_env(&[])
    }

    /// `start_with_tls` with extra environment (a slower clock, say).
    pub fn start_with_tls_env(env: &[(&str, &str)]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let tls = Tls {
            url: format!("https://127.0.0.1:{}", free_port()?),
            ca_bundle: dir.path().join("moto.pem"),
            _dir: dir,
        };
        Self::spawn(env, Some(tls))
    }

    fn spawn(env: &[(&str, &str)], tls: Option<Tls>) -> Result<Self> {
        let port = free_port()?;
        let tls_args: Vec<String> = match &tls {
            Some(tls) => vec![
                "--tls-port".into(),
                tls.url.rsplit(':').next().unwrap_or_default().into(),
                "--tls-cert-out".into(),
                tls.ca_bundle.display().to_string(),
            ],
            None => Vec::new(),
        };
        // moto plus the project's extension for the EKS operations moto lacks.
        let launcher = project_root().join("tools").join("moto_fleet.py");
        let child = Command::new(venv_bin("python"))
            .arg(&launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .args(&tls_args)
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_FLEET_REALISM", REALISM)
            .env("MOTO_FLEET_TIME_SCALE", TIME_SCALE)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {} (run `make venv` first)", launcher.display()))?;
        let moto = Self {
            child,
            port,
            keys: (OBSERVER_KEY.to_string(), SECRET_KEY.to_string()),
            tls,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let tls_ready = moto.tls.as_ref().is_none_or(|tls| tls.ca_bundle.exists());
            if tls_ready && moto.get("/moto-api/").is_ok() {
                return Ok(moto);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("moto did not answer on port {port} within 60 s")
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A bare HTTP GET (moto's control API), returning the body.
    fn get(&self, path: &str) -> Result<String> {
        Ok(loopback_http(self.port, "GET", path, "")?.1)
    }

    /// A call to the stand-in's control API (`/moto-fleet/...`), JSON in and out.
    pub fn control(&self, method: &str, path: &str, body: &serde_json::Value) -> Result<serde_json::Value> {
        let (status, payload) = loopback_http(self.port, method, path, &body.to_string())?;
        if !is_ok(&status) {
            bail!(
                "{method} {path}: {status}
{payload}"
            );
        }
        serde_json::from_str(&payload).with_context(|| format!("{method} {path}: {payload}"))
    }

    /// The signed requests since the last `reset_requests`: (region, service, access key).
    pub fn requests(&self) -> Result<Vec<(String, String, String)>> {
        let log = self.control("GET", "/moto-fleet/requests", &serde_json::Value::Null)?;
        let field = |request: &serde_json::Value, name: &str| request[name].as_str().unwrap_or_default().to_string();
        Ok(log["requests"]
            .as_array()
            .map(|requests| {
                requests
                    .iter()
                    .map(|r| (field(r, "region"), field(r, "service"), field(r, "key")))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn reset_requests(&self) -> Result<()> {
        self.control("POST", "/moto-fleet/requests/reset", &serde_json::Value::Null)
            .map(|_| ())
    }

    /// What the stand-in injected so far, per behaviour.
    pub fn injected(&self) -> Result<serde_json::Value> {
        Ok(self.control("GET", "/moto-fleet/realism", &serde_json::Value::Null)?["injected"].clone())
    }

    /// Objects Kubernetes would leave in a cluster's VPC (`cni-eni`,
    /// `elb-sg`, `guardduty`, `lb-eni`); returns their ids by kind.
    pub fn leftovers(&self, region: &str, cluster: &str, kinds: &[&str]) -> Result<serde_json::Value> {
        let body = serde_json::json!({"region": region, "cluster_name": cluster, "kinds": kinds});
        Ok(self.control("POST", "/moto-fleet/leftovers", &body)?["created"].clone())
    }

    /// The next matching operation ends the way AWS fails it (see moto_fleet.py).
    pub fn fail_next(&self, failure: serde_json::Value) -> Result<()> {
        self.control("POST", "/moto-fleet/fail-next", &failure).map(|_| ())
    }

    /// The test's own clients sign with these keys from now on (once moto
    /// enforces IAM, the default keys belong to nobody).
    pub fn use_keys(&mut self, key: &str, secret: &str) {
        self.keys = (key.to_string(), secret.to_string());
    }

    /// From now on moto checks every request's signature and IAM policy
    /// (`POST /moto-api/reset-auth` with 0 unauthenticated requests left).
    pub fn enforce_iam(&self) -> Result<()> {
        let (_, payload) = loopback_http(self.port, "POST", "/moto-api/reset-auth", "0")?;
        if !payload.contains("\"status\": \"ok\"") && !payload.contains("\"status\":\"ok\"") {
            bail!("moto refused reset-auth: {payload}");
        }
        Ok(())
    }

    /// The keys the test's own clients sign with: (access key, secret).
    pub(crate) fn keys(&self) -> (&str, &str) {
        (&self.keys.0, &self.keys.1)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The AWS settings every engine (and Terragrunt) the tests start gets:
/// the endpoint, the provider's keys, a default region, no profile.
pub(crate) fn point_at(command: &mut Command, endpoint: &str) {
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
}
