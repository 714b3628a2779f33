//! The `provider "fleet" { … }` block: its schema and ConfigureProvider.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::aws::{AssumeRole, Aws, AwsHandle, AwsSettings, DEFAULT_MAX_RETRIES, Endpoints};
use crate::resources::argocd_cluster::ArgocdCluster;
use crate::resources::eks_regional_cluster::EksRegionalCluster;
use crate::resources::validators::{AwsRegion, RoleArn, Tags, WholeNumber};
use crate::resources::vpc_cross_region_peering::VpcCrossRegionPeering;
use crate::resources::vpc_peering_accepter::VpcPeeringAccepter;
use tfplugin::Resource;
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::schema::{Attribute, Schema, Validator};
use tfplugin::types::Type;
use tfplugin::value::Value;

/// The provider: its configuration and the resources it serves, sharing one AWS handle.
pub struct FleetProvider {
    aws: Arc<AwsHandle>,
    resources: Vec<Arc<dyn Resource>>,
}

impl Default for FleetProvider {
    fn default() -> Self {
        let aws = Arc::new(AwsHandle::default());
        Self {
            resources: vec![
                Arc::new(EksRegionalCluster::new(aws.clone())),
                Arc::new(VpcCrossRegionPeering::new(aws.clone())),
                Arc::new(VpcPeeringAccepter::new(aws.clone())),
                Arc::new(ArgocdCluster::new(aws.clone())),
            ],
            aws,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ProviderModel {
    region: Option<String>,
    profile: Option<String>,
    assume_role: Option<AssumeRoleModel>,
    endpoints: Option<EndpointsModel>,
    default_tags: Option<BTreeMap<String, String>>,
    max_retries: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct AssumeRoleModel {
    role_arn: String,
    session_name: Option<String>,
    external_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EndpointsModel {
    ec2: Option<String>,
    eks: Option<String>,
    iam: Option<String>,
    sts: Option<String>,
    kms: Option<String>,
    logs: Option<String>,
    sqs: Option<String>,
    events: Option<String>,
}

/// An endpoint override URL.
struct EndpointUrl;

impl Validator for EndpointUrl {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(url) = value.as_str() else { return };
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            diags.attribute_error(
                path,
                "Invalid endpoint URL",
                format!("{path}: {url:?} is not an endpoint URL: use a full URL such as \"https://ec2.us-east-1.amazonaws.com\"."),
            );
        }
    }

    fn describe(&self) -> String {
        "be an `http://` or `https://` URL".into()
    }
}

impl tfplugin::Provider for FleetProvider {
    fn name(&self) -> &'static str {
        "fleet"
    }

    fn schema(&self) -> Schema {
        let endpoint = |name: &'static str, service: &str| {
            Attribute::string(
                name,
                &format!("URL to use for {service} instead of the default endpoint."),
            )
            .optional()
            .validate(EndpointUrl)
        };
        Schema::new(
            "The eksfleet provider manages multi-region EKS fleets: every resource takes `region` as an \
             argument, so one provider block serves all regions and `for_each` works over regions. \
             Credentials come from the standard AWS chain (environment, shared config and profile, SSO, \
             container and instance roles).",
            vec![
                Attribute::string(
                    "region",
                    "Region for resources that don't set their own. Defaults to `AWS_REGION` or the profile's region.",
                )
                .optional()
                .validate(AwsRegion),
                Attribute::string("profile", "Named profile of the shared AWS config and credentials files.").optional(),
                Attribute::single_nested(
                    "assume_role",
                    vec![
                        Attribute::string("role_arn", "ARN of the role to assume.").required().validate(RoleArn),
                        Attribute::string("session_name", "Session name for the assumed role.").optional(),
                        Attribute::string("external_id", "External id the role's trust policy requires.")
                            .optional()
                            .sensitive(),
                    ],
                    "Role to assume, with the chain's credentials, for every call of this provider.",
                )
                .optional(),
                Attribute::single_nested(
                    "endpoints",
                    vec![
                        endpoint("ec2", "EC2"),
                        endpoint("eks", "EKS"),
                        endpoint("iam", "IAM"),
                        endpoint("sts", "STS"),
                        endpoint("kms", "KMS"),
                        endpoint("logs", "CloudWatch Logs"),
                        endpoint("sqs", "SQS"),
                        endpoint("events", "EventBridge"),
                    ],
                    "Per-service endpoint overrides. `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` are honoured as well.",
                )
                .optional(),
                Attribute::typed(
                    "default_tags",
                    Type::map(Type::String),
                    "Tags applied to every taggable object the provider creates; a resource's `tags` override them key by key.",
                )
                .optional()
                .validate(Tags),
                Attribute::number(
                    "max_retries",
                    &format!("How many times an AWS call is retried on throttling and transient errors (default {DEFAULT_MAX_RETRIES})."),
                )
                .optional()
                .validate(WholeNumber { min: 0, max: 100 }),
            ],
        )
    }

    /// ConfigureProvider: resolve settings; clients are built on first use.
    fn configure(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if !config.is_wholly_known() {
            diags.error(
                "Provider configuration not known until apply",
                "The fleet provider's configuration depends on values only known after apply. Use values known \
                 at plan time (variables, locals, data sources) in the provider block.",
            );
            return diags;
        }
        let model: ProviderModel = match config.to_model() {
            Ok(model) => model,
            Err(e) => {
                diags.error("Invalid provider configuration", e.to_string());
                return diags;
            }
        };
        let endpoints = model.endpoints.map_or_else(Endpoints::default, |e| Endpoints {
            ec2: e.ec2,
            eks: e.eks,
            iam: e.iam,
            sts: e.sts,
            kms: e.kms,
            logs: e.logs,
            sqs: e.sqs,
            events: e.events,
        });
        self.aws.configure(Aws::new(AwsSettings {
            region: model.region,
            profile: model.profile,
            assume_role: model.assume_role.map(|r| AssumeRole {
                role_arn: r.role_arn,
                session_name: r.session_name,
                external_id: r.external_id,
            }),
            endpoints,
            default_tags: model.default_tags.unwrap_or_default(),
            max_retries: model.max_retries.map_or(DEFAULT_MAX_RETRIES, |n| n as u32),
        }));
        diags
    }

    fn resources(&self) -> &[Arc<dyn Resource>] {
        &self.resources
    }

    // Refreshes share route tables they read (aws::shared_reads); none read
    // before or during a change may answer a refresh after it.
    fn before_apply(&self) {
        self.aws.forget_shared_reads();
    }

    fn after_apply(&self) {
        self.aws.forget_shared_reads();
    }

    fn stop(&self) {
        self.aws.stop.stop();
    }
}
