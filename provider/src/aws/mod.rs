//! AWS access: provider-level settings, one SDK client per (service, region,
//! role) built on first use and reused, errors with context, finders and
//! waiters.

pub mod ec2;
pub mod ec2_launch_template;
pub mod ec2_leftovers;
pub mod ec2_network;
pub mod ec2_reconcile;
pub mod eks;
pub mod error;
pub mod events;
pub mod iam;
pub mod logs;
pub mod shared_reads;
pub mod sqs;
pub mod tags;
pub mod waiters;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::retry::{RetryPartition, TokenBucket};
use tokio::sync::{Mutex, OnceCell};

pub use error::AwsError;

/// The provider block's settings, resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub assume_role: Option<AssumeRole>,
    pub endpoints: Endpoints,
    pub default_tags: BTreeMap<String, String>,
    /// Retries per API call (attempts = retries + 1).
    pub max_retries: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

/// Per-service endpoint overrides (`AWS_ENDPOINT_URL*` apply when unset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Endpoints {
    pub ec2: Option<String>,
    pub eks: Option<String>,
    pub iam: Option<String>,
    pub sts: Option<String>,
    pub kms: Option<String>,
    pub logs: Option<String>,
    pub sqs: Option<String>,
    pub events: Option<String>,
}

pub const DEFAULT_MAX_RETRIES: u32 = 25;
const SESSION_NAME: &str = "terraform-provider-fleet";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    region: String,
    role: Option<(String, Option<String>)>,
}

/// A role a resource acts through (an accepter or a cluster in another
/// account), on top of the provider's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role<'a> {
    pub arn: &'a str,
    /// The external id the role's trust policy requires, if any.
    pub external_id: Option<&'a str>,
}

impl<'a> Role<'a> {
    pub fn arn(arn: &'a str) -> Self {
        Self { arn, external_id: None }
    }
}

/// Configured AWS access shared by all resources of one provider instance.
pub struct Aws {
    settings: AwsSettings,
    base: OnceCell<SdkConfig>,
    ec2_clients: Mutex<HashMap<ClientKey, aws_sdk_ec2::Client>>,
    eks_clients: Mutex<HashMap<ClientKey, aws_sdk_eks::Client>>,
    iam_clients: Mutex<HashMap<ClientKey, aws_sdk_iam::Client>>,
    logs_clients: Mutex<HashMap<ClientKey, aws_sdk_cloudwatchlogs::Client>>,
    sqs_clients: Mutex<HashMap<ClientKey, aws_sdk_sqs::Client>>,
    events_clients: Mutex<HashMap<ClientKey, aws_sdk_eventbridge::Client>>,
    sts_clients: Mutex<HashMap<ClientKey, aws_sdk_sts::Client>>,
    role_configs: Mutex<HashMap<(String, Option<String>), SdkConfig>>,
    /// Route tables read by this plan's refreshes (see `shared_reads`).
    pub shared_reads: Arc<shared_reads::SharedReads>,
}

impl Aws {
    pub fn new(settings: AwsSettings) -> Self {
        Self {
            settings,
            base: OnceCell::new(),
            ec2_clients: Mutex::new(HashMap::new()),
            eks_clients: Mutex::new(HashMap::new()),
            iam_clients: Mutex::new(HashMap::new()),
            logs_clients: Mutex::new(HashMap::new()),
            sqs_clients: Mutex::new(HashMap::new()),
            events_clients: Mutex::new(HashMap::new()),
            sts_clients: Mutex::new(HashMap::new()),
            role_configs: Mutex::new(HashMap::new()),
            shared_reads: Arc::default(),
        }
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// The region a resource uses when it names none.
    pub async fn default_region(&self) -> Option<String> {
        if let Some(region) = &self.settings.region {
            return Some(region.clone());
        }
        self.base_config().await.region().map(|r| r.to_string())
    }

    /// The standard credential chain (env, profile, SSO, IMDS, …), with the
    /// provider's profile, retry settings and optional assumed role.
    async fn base_config(&self) -> &SdkConfig {
        self.base
            .get_or_init(|| async {
                // Standard mode: throttling and transient errors (5xx, resets,
                // timeouts) are retried with exponential backoff and jitter,
                // `max_retries` times (25 by default, as in hashicorp/aws).
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .retry_config(RetryConfig::standard().with_max_attempts(self.settings.max_retries + 1));
                if let Some(profile) = &self.settings.profile {
                    loader = loader.profile_name(profile);
                }
                if let Some(region) = &self.settings.region {
                    loader = loader.region(Region::new(region.clone()));
                }
                let config = loader.load().await;
                match &self.settings.assume_role {
                    Some(role) => self.assume(&config, role).await,
                    None => config,
                }
            })
            .await
    }

    /// `config` with credentials of `role`, obtained through STS.
    async fn assume(&self, config: &SdkConfig, role: &AssumeRole) -> SdkConfig {
        let mut sts_config = config.to_builder();
        if let Some(url) = &self.settings.endpoints.sts {
            sts_config.set_endpoint_url(Some(url.clone()));
        }
        let mut provider = AssumeRoleProvider::builder(role.role_arn.clone())
            .session_name(role.session_name.clone().unwrap_or_else(|| SESSION_NAME.to_string()))
            .configure(&sts_config.build());
        if let Some(external_id) = &role.external_id {
            provider = provider.external_id(external_id.clone());
        }
        let provider = provider.build().await;
        config
            .to_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
            .build()
    }

    /// Base configuration, or the one for an extra role (a peering accepter
    /// or a cluster in another account), built once per role.
    async fn config_for(&self, role: Option<Role<'_>>) -> SdkConfig {
        let base = self.base_config().await;
        let Some(role) = role else {
            return base.clone();
        };
        let key = (role.arn.to_string(), role.external_id.map(str::to_string));
        let mut roles = self.role_configs.lock().await;
        if let Some(config) = roles.get(&key) {
            return config.clone();
        }
        let assume = AssumeRole {
            role_arn: role.arn.to_string(),
            session_name: None,
            external_id: role.external_id.map(str::to_string),
        };
        let config = self.assume(base, &assume).await;
        roles.insert(key, config.clone());
        config
    }

    /// The EC2 client for `region` (and `role`, when acting in another account).
    pub async fn ec2(&self, region: &str, role: Option<Role<'_>>) -> aws_sdk_ec2::Client {
        let endpoint = self.settings.endpoints.ec2.clone();
        self.client(&self.ec2_clients, region, role, |config| {
            let mut builder = aws_sdk_ec2::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .retry_partition(retry_partition("ec2", region));
            // Only an explicit override replaces AWS_ENDPOINT_URL* from the shared config.
            if endpoint.is_some() {
                builder.set_endpoint_url(endpoint);
            }
            aws_sdk_ec2::Client::from_conf(builder.build())
        })
        .await
    }

    pub async fn eks(&self, region: &str, role: Option<Role<'_>>) -> aws_sdk_eks::Client {
        let endpoint = self.settings.endpoints.eks.clone();
        self.client(&self.eks_clients, region, role, |config| {
            let mut builder = aws_sdk_eks::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .retry_partition(retry_partition("eks", region));
            // Only an explicit override replaces AWS_ENDPOINT_URL* from the shared config.
            if endpoint.is_some() {
                builder.set_endpoint_url(endpoint);
            }
            aws_sdk_eks::Client::from_conf(builder.build())
        })
        .await
    }

    /// CloudWatch Logs (the control plane's log group).
    pub async fn logs(&self, region: &str, role: Option<Role<'_>>) -> aws_sdk_cloudwatchlogs::Client {
        let endpoint = self.settings.endpoints.logs.clone();
        self.client(&self.logs_clients, region, role, |config| {
            let mut builder = aws_sdk_cloudwatchlogs::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .retry_partition(retry_partition("logs", region));
            // Only an explicit override replaces AWS_ENDPOINT_URL* from the shared config.
            if endpoint.is_some() {
                builder.set_endpoint_url(endpoint);
            }
            aws_sdk_cloudwatchlogs::Client::from_conf(builder.build())
        })
        .await
    }

    /// SQS (Karpenter's interruption queue).
    pub async fn sqs(&self, region: &str, role: Option<Role<'_>>) -> aws_sdk_sqs::Client {
        let endpoint = self.settings.endpoints.sqs.clone();
        self.client(&self.sqs_clients, region, role, |config| {
            let mut builder = aws_sdk_sqs::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .retry_partition(retry_partition("sqs", region));
            if endpoint.is_some() {
                builder.set_endpoint_url(endpoint);
            }
            aws_sdk_sqs::Client::from_conf(builder.build())
        })
        .await
    }

    /// EventBridge (the rules that feed Karpenter's interruption queue).
    pub async fn events(&self, region: &str, role: Option<Role<'_>>) -> aws_sdk_eventbridge::Client {
        let endpoint = self.settings.endpoints.events.clone();
        self.client(&self.events_clients, region, role, |config| {
            let mut builder = aws_sdk_eventbridge::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .retry_partition(retry_partition("events", region));
            if endpoint.is_some() {
                builder.set_endpoint_url(endpoint);
            }
            aws_sdk_eventbridge::Client::from_conf(builder.build())
        })
        .await
    }

    /// STS in `region` (who the provider is, for error messages that name it).
    pub async fn sts(&self, region: &str) -> aws_sdk_sts::Client {
        let endpoint = self.settings.endpoints.sts.clone();
        self.client(&self.sts_clients, region, None, |config| {
            let mut builder = aws_sdk_sts::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .retry_partition(retry_partition("sts", region));
            if endpoint.is_some() {
                builder.set_endpoint_url(endpoint);
            }
            aws_sdk_sts::Client::from_conf(builder.build())
        })
        .await
    }

    /// The provider's own credentials (after its `assume_role`), e.g. to sign
    /// an EKS token.
    pub async fn credentials(&self) -> Result<aws_credential_types::Credentials, String> {
        use aws_credential_types::provider::ProvideCredentials;
        let provider = self.base_config().await.credentials_provider().ok_or_else(|| {
            "no AWS credentials: set them as for any AWS tool (environment, profile, SSO or role)".to_string()
        })?;
        provider
            .provide_credentials()
            .await
            .map_err(|e| format!("could not load AWS credentials: {e}"))
    }

    /// IAM is global; `region` only picks the partition's signing region.
    pub async fn iam(&self, region: &str, role: Option<Role<'_>>) -> aws_sdk_iam::Client {
        let endpoint = self.settings.endpoints.iam.clone();
        let signing_region = iam_region(region);
        self.client(&self.iam_clients, signing_region, role, |config| {
            let mut builder = aws_sdk_iam::config::Builder::from(config)
                .region(Region::new(signing_region))
                .retry_partition(retry_partition("iam", signing_region));
            // Only an explicit override replaces AWS_ENDPOINT_URL* from the shared config.
            if endpoint.is_some() {
                builder.set_endpoint_url(endpoint);
            }
            aws_sdk_iam::Client::from_conf(builder.build())
        })
        .await
    }

    /// One client per (region, role) in `cache`, built by `build` on first use.
    async fn client<C: Clone>(
        &self,
        cache: &Mutex<HashMap<ClientKey, C>>,
        region: &str,
        role: Option<Role<'_>>,
        build: impl FnOnce(&SdkConfig) -> C,
    ) -> C {
        let key = ClientKey {
            region: region.to_string(),
            role: role.map(|r| (r.arn.to_string(), r.external_id.map(str::to_string))),
        };
        if let Some(client) = cache.lock().await.get(&key) {
            return client.clone();
        }
        let config = self.config_for(role).await;
        let client = build(&config);
        cache.lock().await.entry(key).or_insert(client).clone()
    }
}

/// A retry partition without the SDK's retry quota. The standard strategy
/// otherwise stops retrying once a shared token bucket (500 tokens, 5 per
/// throttled retry) runs dry, which a fleet apply hits under sustained
/// throttling: one call then fails half-way through a create although its own
/// attempts (`max_retries`) are not used up. hashicorp/aws turns the quota off
/// for the same reason. Attempts stay bounded by `max_retries`, and the
/// backoff (exponential with jitter, up to 20 s) still spaces them out.
fn retry_partition(service: &str, region: &str) -> RetryPartition {
    RetryPartition::custom(format!("fleet-{service}-{region}"))
        .token_bucket(TokenBucket::unlimited())
        .build()
}

/// IAM's signing region for the partition a region belongs to.
fn iam_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "cn-north-1"
    } else if region.starts_with("us-gov-") {
        "us-gov-west-1"
    } else {
        "us-east-1"
    }
}

/// Shared handle: set once by ConfigureProvider, read by every resource.
#[derive(Default)]
pub struct AwsHandle {
    aws: std::sync::OnceLock<Arc<Aws>>,
    pub stop: waiters::StopSignal,
}

impl AwsHandle {
    pub fn configure(&self, aws: Aws) {
        // Terraform configures a provider instance once; a second call keeps the first.
        let _ = self.aws.set(Arc::new(aws));
    }

    pub fn get(&self) -> Option<Arc<Aws>> {
        self.aws.get().cloned()
    }

    /// Before anything changes AWS objects: no refresh may be answered from
    /// reads made before the change.
    pub fn forget_shared_reads(&self) {
        if let Some(aws) = self.aws.get() {
            aws.shared_reads.forget();
        }
    }
}
