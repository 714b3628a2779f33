//! `fleet_argocd_cluster`: one edge cluster's Argo CD cluster Secret, written
//! into the hub's Kubernetes API with the provider's own AWS credentials (an
//! EKS token), trusting the hub's CA from DescribeCluster. No Kubernetes
//! provider is involved, so the hub, its edges and their registration apply
//! in one run.
//!
//! The Secret follows Argo CD's declarative cluster format
//! (<https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#clusters>):
//! label `argocd.argoproj.io/secret-type: cluster`, `name`, `server`,
//! `project`, and for a self-managed Argo CD `config` with `awsAuthConfig`
//! and `tlsClientConfig.caData`. The EKS Capability for Argo CD takes the
//! cluster's ARN as `server` and no `config`
//! (<https://docs.aws.amazon.com/eks/latest/userguide/argocd-register-clusters.html>).
//! It never holds a credential: Argo CD assumes `role_arn` itself.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::timeouts::{self, TimeoutDefaults, Timeouts};
use super::validators::{AwsRegion, NamespaceName, OneOf, RoleArn, is_dns_label, is_dns_subdomain};
use super::{configured, error};
use crate::aws::eks::Eks;
use crate::aws::waiters::Deadline;
use crate::aws::{Aws, AwsError, AwsHandle};
use crate::kube::eks_token::eks_token;
use crate::kube::{KubeApi, KubeError, ObjectMeta, Secret};
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::schema::{Attribute, Schema, Validator};
use tfplugin::typed::{Outcome, TypedResource};
use tfplugin::types::Type;
use tfplugin::value::Value;

pub const TYPE_NAME: &str = "fleet_argocd_cluster";

pub const SELF_MANAGED: &str = "self-managed";
pub const CAPABILITY: &str = "capability";
const DEFAULT_NAMESPACE: &str = "argocd";
/// The label Argo CD finds cluster Secrets by.
const SECRET_TYPE_LABEL: &str = "argocd.argoproj.io/secret-type";
/// Marks a Secret as written by this resource, so a create that finds one of
/// its own (an earlier attempt whose answer was lost) adopts it, and one
/// written by anyone else is refused.
const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
const MANAGED_BY: &str = "terraform-provider-fleet";
/// The edge's ARN, which the Secret does not otherwise hold in self-managed
/// mode: import reads it back from here.
const CLUSTER_ARN_ANNOTATION: &str = "fleet.eksfleet.io/cluster-arn";
const RESERVED_LABELS: &[&str] = &[SECRET_TYPE_LABEL, MANAGED_BY_LABEL];
const RESERVED_ANNOTATIONS: &[&str] = &[CLUSTER_ARN_ANNOTATION];

const TIMEOUTS: TimeoutDefaults = TimeoutDefaults {
    create: Duration::from_secs(20 * 60),
    update: Duration::from_secs(10 * 60),
    delete: Duration::from_secs(10 * 60),
};

fn argocd_cluster_schema() -> Schema {
    Schema::new(
        "One edge cluster's Argo CD cluster Secret in the hub cluster, written through the hub's Kubernetes API with \
         the provider's AWS credentials (an EKS token) and the hub's CA from DescribeCluster, so no Kubernetes provider \
         and no staged apply are needed. The provider's principal needs an access entry on the hub that allows Secrets \
         in `hub.namespace`. The Secret holds no credential: a self-managed Argo CD assumes `role_arn` (the edge's \
         `gitops_role_arn`); the EKS Capability for Argo CD (`mode = \"capability\"`) uses its own capability role.",
        vec![
            Attribute::string("id", "`HUB_REGION/HUB_NAME/NAMESPACE/SECRET_NAME`, also the import id.").computed(),
            Attribute::single_nested(
                "hub",
                vec![
                    Attribute::string("region", "Region of the hub cluster.")
                        .required()
                        .validate(AwsRegion),
                    Attribute::string("cluster_name", "Name of the hub EKS cluster, where Argo CD runs.")
                        .required()
                        .validate(ClusterName),
                    Attribute::string("namespace", "Argo CD's namespace on the hub (default `argocd`).")
                        .default(Value::string(DEFAULT_NAMESPACE))
                        .validate(NamespaceName),
                ],
                "The hub cluster and Argo CD's namespace on it. Changing it moves the Secret (replacement).",
            )
            .required()
            .requires_replace(),
            Attribute::string(
                "cluster_arn",
                "ARN of the edge EKS cluster to register (`fleet_eks_regional_cluster`'s `arn`).",
            )
            .required()
            .requires_replace()
            .validate(EksClusterArn),
            Attribute::string(
                "role_arn",
                "The role Argo CD assumes to deploy to the edge (the edge's `gitops_role_arn`). Required with \
                 `mode = \"self-managed\"`; not allowed with `mode = \"capability\"`.",
            )
            .optional()
            .validate(RoleArn),
            Attribute::string(
                "mode",
                "`self-managed` (Argo CD installed on the hub: `server` is the edge's endpoint, `config` names \
                 `role_arn` and the edge's CA) or `capability` (the EKS Capability for Argo CD: `server` is the \
                 cluster's ARN).",
            )
            .default(Value::string(SELF_MANAGED))
            .validate(OneOf(&[SELF_MANAGED, CAPABILITY])),
            Attribute::string("name", "Argo CD's name for the cluster. Defaults to the edge cluster's name.")
                .optional()
                .computed()
                .validate(NonEmpty),
            Attribute::string(
                "secret_name",
                "Name of the Secret. Defaults to `EDGE_NAME-EDGE_REGION-ACCOUNT` (lowercase, `_` as `-`).",
            )
            .optional()
            .computed()
            .requires_replace()
            .validate(SecretName),
            Attribute::typed(
                "labels",
                Type::map(Type::String),
                "Labels of the Secret, for ApplicationSet cluster generators (`selector.matchLabels`).",
            )
            .optional()
            .validate(Metadata { labels: true }),
            Attribute::typed("annotations", Type::map(Type::String), "Annotations of the Secret.")
                .optional()
                .validate(Metadata { labels: false }),
            Attribute::string("project", "Argo CD project the cluster is scoped to (`project` in the Secret).")
                .optional()
                .validate(NonEmpty),
            Attribute::string(
                "server",
                "The Secret's `server`: the edge's API endpoint, or its ARN in capability mode.",
            )
            .computed(),
            Attribute::string(
                "ca_data",
                "The edge's CA as the Secret's `tlsClientConfig.caData` holds it (self-managed mode).",
            )
            .computed(),
        ],
    )
    .with_block("timeouts", timeouts::block(TIMEOUTS))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HubModel {
    pub region: String,
    pub cluster_name: String,
    pub namespace: Option<String>,
}

impl HubModel {
    fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArgocdClusterModel {
    pub id: Option<String>,
    pub hub: HubModel,
    pub cluster_arn: String,
    pub role_arn: Option<String>,
    pub mode: Option<String>,
    pub name: Option<String>,
    pub secret_name: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub project: Option<String>,
    pub server: Option<String>,
    pub ca_data: Option<String>,
    pub timeouts: Option<Timeouts>,
}

impl ArgocdClusterModel {
    fn capability(&self) -> bool {
        self.mode.as_deref() == Some(CAPABILITY)
    }
}

pub struct ArgocdCluster {
    aws: Arc<AwsHandle>,
    value_type: Type,
}

impl ArgocdCluster {
    pub fn new(aws: Arc<AwsHandle>) -> Self {
        Self {
            aws,
            value_type: argocd_cluster_schema().value_type(),
        }
    }
}

#[async_trait]
impl TypedResource for ArgocdCluster {
    type Model = ArgocdClusterModel;
    type Client = Arc<Aws>;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        argocd_cluster_schema()
    }

    fn value_type(&self) -> Type {
        self.value_type.clone()
    }

    fn client(&self) -> Result<Arc<Aws>, Diagnostics> {
        configured(&self.aws)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_mode_and_role(config, diags);
    }

    async fn modify_plan(&self, _prior: &Value, config: &Value, planned: &mut Value, diags: &mut Diagnostics) {
        if planned.is_null() {
            return;
        }
        let arn = planned.attr("cluster_arn").as_str().and_then(ClusterArn::parse);
        if config.attr("name").is_null() {
            planned.set_attr("name", arn.as_ref().map_or(Value::Unknown, |a| Value::string(&a.name)));
        }
        if config.attr("secret_name").is_null() {
            planned.set_attr(
                "secret_name",
                arn.as_ref()
                    .map_or(Value::Unknown, |a| Value::string(a.default_secret_name())),
            );
        }
        let hub = planned.attr("hub");
        let id = match (
            hub.attr("region").as_str(),
            hub.attr("cluster_name").as_str(),
            hub.attr("namespace").as_str(),
            planned.attr("secret_name").as_str(),
        ) {
            (Some(region), Some(hub_name), Some(namespace), Some(secret)) => {
                Value::string(format!("{region}/{hub_name}/{namespace}/{secret}"))
            }
            _ => Value::Unknown,
        };
        planned.set_attr("id", id);
        // What the Secret will say about the edge: its ARN, or its endpoint
        // and CA as EKS reports them now (so a rotated CA or a Secret edited
        // out of band plans an update). An edge made in this same run is not
        // there yet: known after apply.
        let (server, ca_data) = match (planned.attr("mode").as_str(), &arn) {
            (_, None) => (Value::Unknown, Value::Unknown),
            (Some(CAPABILITY), Some(arn)) => (Value::string(&arn.arn), Value::Null),
            (Some(_), Some(arn)) => match self.client() {
                Ok(aws) => match edge_connection(&aws, arn).await {
                    Ok(Some((endpoint, ca))) => (Value::string(endpoint), Value::string(ca)),
                    Ok(None) => (Value::Unknown, Value::Unknown),
                    Err(e) => {
                        diags.attribute_error(
                            &AttributePath::attr("cluster_arn"),
                            "Could not read the edge cluster",
                            e.to_string(),
                        );
                        return;
                    }
                },
                Err(d) => {
                    diags.extend(d);
                    return;
                }
            },
            (None, Some(_)) => (Value::Unknown, Value::Unknown),
        };
        planned.set_attr("server", server);
        planned.set_attr("ca_data", ca_data);
    }

    async fn create(&self, aws: &Arc<Aws>, planned: ArgocdClusterModel) -> Outcome<ArgocdClusterModel> {
        let timeout = Timeouts::create(&planned.timeouts, TIMEOUTS);
        match self.ensure_secret(aws, &planned, timeout).await {
            Ok(state) => Outcome::new(Some(state), Ok(())),
            Err(diags) => Outcome::failed(diags),
        }
    }

    async fn read(&self, aws: &Arc<Aws>, prior: ArgocdClusterModel) -> Result<Option<ArgocdClusterModel>, Diagnostics> {
        let Some(hub) = HubApi::connect(aws, &prior.hub)
            .await
            .map_err(|e| error("Could not reach the hub cluster", e))?
        else {
            // The hub is gone, and its Secrets with it.
            return Ok(None);
        };
        let secret_name = prior.secret_name.clone().unwrap_or_default();
        match hub.api.find_secret(prior.hub.namespace(), &secret_name).await {
            Ok(found) => Ok(found.map(|secret| flatten(&secret, prior))),
            Err(e) => Err(hub.error("read", &secret_name, e).await),
        }
    }

    async fn update(
        &self,
        aws: &Arc<Aws>,
        prior: ArgocdClusterModel,
        planned: ArgocdClusterModel,
    ) -> Outcome<ArgocdClusterModel> {
        let timeout = Timeouts::update(&planned.timeouts, TIMEOUTS);
        match self.ensure_secret(aws, &planned, timeout).await {
            Ok(state) => Outcome::new(Some(state), Ok(())),
            // Nothing was changed: the prior Secret stands.
            Err(diags) => Outcome::new(Some(prior), Err(diags)),
        }
    }

    async fn delete(&self, aws: &Arc<Aws>, prior: ArgocdClusterModel) -> Result<(), Diagnostics> {
        let Some(hub) = HubApi::connect(aws, &prior.hub)
            .await
            .map_err(|e| error("Could not reach the hub cluster", e))?
        else {
            return Ok(());
        };
        let secret_name = prior.secret_name.clone().unwrap_or_default();
        match hub.api.delete_secret(prior.hub.namespace(), &secret_name).await {
            Ok(()) => Ok(()),
            Err(e) => Err(hub.error("delete", &secret_name, e).await),
        }
    }

    async fn import(&self, aws: &Arc<Aws>, id: &str) -> Result<ArgocdClusterModel, Diagnostics> {
        let form = "HUB_REGION/HUB_NAME/NAMESPACE/SECRET_NAME";
        let parts: Vec<&str> = id.split('/').collect();
        let [region, hub_name, namespace, secret_name] = parts[..] else {
            return Err(error("Malformed import id", format!("{id:?}: import as {form}.")));
        };
        if !aws_regions::is_known(region) || !is_dns_label(namespace) || !is_dns_subdomain(secret_name) {
            return Err(error(
                "Malformed import id",
                format!("{id:?}: import as {form}, e.g. \"us-east-1/hub/argocd/edge-us-west-2-123456789012\"."),
            ));
        }
        let hub_model = HubModel {
            region: region.to_string(),
            cluster_name: hub_name.to_string(),
            namespace: Some(namespace.to_string()),
        };
        let hub = HubApi::connect(aws, &hub_model)
            .await
            .map_err(|e| error("Could not reach the hub cluster", e))?
            .ok_or_else(|| {
                error(
                    "Hub cluster not found",
                    format!("No EKS cluster {hub_name} in {region}."),
                )
            })?;
        let found = match hub.api.find_secret(namespace, secret_name).await {
            Ok(found) => found,
            Err(e) => return Err(hub.error("read", secret_name, e).await),
        };
        let secret = found.ok_or_else(|| {
            error(
                "Secret not found",
                format!("No Secret {namespace}/{secret_name} on the hub {hub_name} in {region}."),
            )
        })?;
        let cluster_arn = secret
            .metadata
            .annotations
            .get(CLUSTER_ARN_ANNOTATION)
            .cloned()
            .or_else(|| secret.data.get("server").filter(|s| s.starts_with("arn:")).cloned())
            .ok_or_else(|| {
                error(
                    "Cannot import this Secret",
                    format!(
                        "{namespace}/{secret_name} does not say which EKS cluster it registers (no \
                         {CLUSTER_ARN_ANNOTATION} annotation, and its server is not a cluster ARN). Add the \
                         annotation with the edge's ARN, or delete the Secret and let this resource create it."
                    ),
                )
            })?;
        let base = ArgocdClusterModel {
            hub: hub_model,
            cluster_arn,
            secret_name: Some(secret_name.to_string()),
            id: Some(id.to_string()),
            ..Default::default()
        };
        Ok(flatten(&secret, base))
    }
}

impl ArgocdCluster {
    /// Create and update are one path: write the Secret as planned, whether
    /// it is missing, ours from an earlier attempt, or drifted.
    async fn ensure_secret(
        &self,
        aws: &Aws,
        planned: &ArgocdClusterModel,
        timeout: Duration,
    ) -> Result<ArgocdClusterModel, Diagnostics> {
        let deadline = Deadline::after(timeout);
        let arn = ClusterArn::parse(&planned.cluster_arn).ok_or_else(|| {
            error(
                "Malformed cluster ARN",
                format!("cluster_arn: {:?}", planned.cluster_arn),
            )
        })?;
        // The hub first: a registration into a hub that does not exist is the
        // likelier mistake, and says so before anything waits on the edge.
        let hub = HubApi::connect_ready(aws, &planned.hub, deadline.left(), &self.aws.stop).await?;
        let (server, ca_data) = if planned.capability() {
            (arn.arn.clone(), None)
        } else {
            let eks = Eks {
                client: aws.eks(&arn.region, None).await,
                region: arn.region.clone(),
            };
            match eks.find_cluster(&arn.name).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    let mut diags = Diagnostics::new();
                    diags.attribute_error(
                        &AttributePath::attr("cluster_arn"),
                        "Edge cluster not found",
                        format!(
                            "cluster_arn: there is no EKS cluster {:?} in {}. Set it to the edge's \
                             fleet_eks_regional_cluster arn.",
                            arn.name, arn.region
                        ),
                    );
                    return Err(diags);
                }
                Err(e) => return Err(error("Could not read the edge cluster", e)),
            }
            let edge = eks
                .wait_for_cluster(&arn.name, deadline.left(), &self.aws.stop)
                .await
                .map_err(|e| error("The edge cluster is not ready", format!("cluster_arn: {e}")))?;
            let (endpoint, ca) = connection_of(&edge).ok_or_else(|| {
                error(
                    "The edge cluster has no endpoint",
                    format!("cluster_arn: EKS reports no endpoint or CA for {} yet.", arn.arn),
                )
            })?;
            (endpoint, Some(ca))
        };
        let namespace = planned.hub.namespace().to_string();
        let secret_name = planned.secret_name.clone().unwrap_or_else(|| arn.default_secret_name());
        let mut wanted = expand(planned, &arn, &namespace, &secret_name, &server, ca_data.as_deref());
        let written = match hub.api.find_secret(&namespace, &secret_name).await {
            Ok(None) => match hub.api.create_secret(&wanted).await {
                Ok(secret) => secret,
                Err(e) => return Err(hub.error("create", &secret_name, e).await),
            },
            Ok(Some(existing)) if is_ours(&existing) => {
                wanted.metadata.resource_version = existing.metadata.resource_version.clone();
                match hub.api.replace_secret(&wanted).await {
                    Ok(secret) => secret,
                    Err(e) => return Err(hub.error("update", &secret_name, e).await),
                }
            }
            Ok(Some(_)) => {
                return Err(error(
                    "The Secret already exists",
                    format!(
                        "The hub {} in {} already has a Secret {namespace}/{secret_name} that this provider did not \
                         write. Import it (terraform import ... {}/{}/{namespace}/{secret_name}) or set secret_name \
                         to another name.",
                        planned.hub.cluster_name, planned.hub.region, planned.hub.region, planned.hub.cluster_name
                    ),
                ));
            }
            Err(e) => return Err(hub.error("read", &secret_name, e).await),
        };
        let base = ArgocdClusterModel {
            id: Some(format!(
                "{}/{}/{namespace}/{secret_name}",
                planned.hub.region, planned.hub.cluster_name
            )),
            secret_name: Some(secret_name),
            ..planned.clone()
        };
        Ok(flatten(&written, base))
    }
}

/// The hub's Kubernetes API, authenticated as the provider's principal.
struct HubApi<'a> {
    aws: &'a Aws,
    hub: &'a HubModel,
    api: KubeApi,
}

impl<'a> HubApi<'a> {
    /// `None` when the hub cluster does not exist.
    async fn connect(aws: &'a Aws, hub: &'a HubModel) -> Result<Option<HubApi<'a>>, String> {
        let eks = Eks {
            client: aws.eks(&hub.region, None).await,
            region: hub.region.clone(),
        };
        let Some(cluster) = eks.find_cluster(&hub.cluster_name).await.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let Some((endpoint, ca)) = connection_of(&cluster) else {
            return Err(format!(
                "EKS reports no endpoint or CA for the hub {} in {} (status {}).",
                hub.cluster_name,
                hub.region,
                cluster.status().map(|s| s.as_str()).unwrap_or("unknown")
            ));
        };
        Self::with(aws, hub, &endpoint, &ca).await.map(Some)
    }

    /// As `connect`, waiting for a hub made in this same run to be ACTIVE; a
    /// hub that does not exist is an error naming `hub`.
    async fn connect_ready(
        aws: &'a Aws,
        hub: &'a HubModel,
        timeout: Duration,
        stop: &crate::aws::waiters::StopSignal,
    ) -> Result<HubApi<'a>, Diagnostics> {
        let eks = Eks {
            client: aws.eks(&hub.region, None).await,
            region: hub.region.clone(),
        };
        let missing = || {
            let mut diags = Diagnostics::new();
            diags.attribute_error(
                &AttributePath::attr("hub"),
                "Hub cluster not found",
                format!(
                    "hub: there is no EKS cluster {:?} in {}. Set hub.cluster_name and hub.region to the cluster \
                     where Argo CD runs (the fleet_eks_regional_cluster with gitops_hub).",
                    hub.cluster_name, hub.region
                ),
            );
            diags
        };
        match eks.find_cluster(&hub.cluster_name).await {
            Ok(None) => return Err(missing()),
            Ok(Some(_)) => {}
            Err(e) => return Err(error("Could not read the hub cluster", e)),
        }
        let cluster = eks
            .wait_for_cluster(&hub.cluster_name, timeout, stop)
            .await
            .map_err(|e| error("The hub cluster is not ready", e))?;
        let (endpoint, ca) = connection_of(&cluster).ok_or_else(|| {
            error(
                "The hub cluster has no endpoint",
                format!(
                    "EKS reports no endpoint or CA for {} in {}.",
                    hub.cluster_name, hub.region
                ),
            )
        })?;
        Self::with(aws, hub, &endpoint, &ca)
            .await
            .map_err(|e| error("Could not reach the hub cluster", e))
    }

    async fn with(aws: &'a Aws, hub: &'a HubModel, endpoint: &str, ca: &str) -> Result<HubApi<'a>, String> {
        let credentials = aws.credentials().await?;
        let token =
            eks_token(&credentials, &hub.region, &hub.cluster_name, SystemTime::now()).map_err(|e| e.to_string())?;
        let api = KubeApi::new(endpoint, ca, token).map_err(|e| format!("the hub's API at {endpoint}: {e}"))?;
        Ok(HubApi { aws, hub, api })
    }

    /// A Kubernetes error as the user can act on it: who was refused, where,
    /// and what to change.
    async fn error(&self, action: &str, secret_name: &str, e: KubeError) -> Diagnostics {
        let (hub, region, namespace) = (&self.hub.cluster_name, &self.hub.region, self.hub.namespace());
        let place = format!("Secret {namespace}/{secret_name} on the hub {hub} in {region}");
        let code = e.code().map(|c| c.as_u16());
        let reason = match &e {
            KubeError::Api { status, .. } => status.reason.as_str(),
            _ => "",
        };
        let (summary, detail) = match (code, reason) {
            (Some(401), _) => (
                "The hub refused the provider's EKS token",
                format!(
                    "Could not {action} the {place}: 401 Unauthorized. The token was made from the provider's AWS \
                     credentials ({{principal}}); EKS accepts it only for a principal with an access entry on the \
                     hub. Add one for it to the hub's access_entries, with a policy that allows Secrets in \
                     namespace {namespace:?} (AmazonEKSClusterAdminPolicy, or AmazonEKSAdminPolicy scoped to it)."
                ),
            ),
            (Some(403), _) => (
                "The hub forbids this",
                format!(
                    "Could not {action} the {place}: {e}. The provider's principal ({{principal}}) has an access \
                     entry on the hub, but no access policy that allows Secrets in namespace {namespace:?}: associate \
                     AmazonEKSClusterAdminPolicy, or AmazonEKSAdminPolicy scoped to that namespace."
                ),
            ),
            (Some(404), _) => (
                "Namespace not found on the hub",
                format!(
                    "Could not {action} the {place}: {e}. hub.namespace must be the namespace Argo CD is installed \
                     in; install Argo CD first, or set hub.namespace."
                ),
            ),
            (Some(409), "AlreadyExists") => (
                "The Secret already exists",
                format!(
                    "Could not {action} the {place}: {e}. It was created by someone else meanwhile: import it \
                     ({region}/{hub}/{namespace}/{secret_name}) or set secret_name."
                ),
            ),
            (Some(409), _) => (
                "The Secret changed meanwhile",
                format!(
                    "Could not {action} the {place}: {e}. It was changed by someone else after it was read; run \
                     apply again to write it from the latest version."
                ),
            ),
            _ => (
                "Hub Kubernetes API error",
                format!("Could not {action} the {place}: {e}."),
            ),
        };
        let detail = if detail.contains("{principal}") {
            detail.replace("{principal}", &self.principal().await)
        } else {
            detail
        };
        let mut diags = Diagnostics::new();
        diags.error(summary, detail);
        diags
    }
}

impl HubApi<'_> {
    /// The provider's principal, for 401/403 messages (GetCallerIdentity).
    async fn principal(&self) -> String {
        match self.aws.sts(&self.hub.region).await.get_caller_identity().send().await {
            Ok(out) => out.arn().unwrap_or("unknown principal").to_string(),
            Err(e) => format!(
                "unknown: GetCallerIdentity failed: {}",
                AwsError::from_sdk("GetCallerIdentity", &self.hub.region, e)
            ),
        }
    }
}

/// The endpoint and CA (base64 PEM) EKS reports for a cluster.
fn connection_of(cluster: &aws_sdk_eks::types::Cluster) -> Option<(String, String)> {
    let endpoint = cluster.endpoint().filter(|e| !e.is_empty())?;
    let ca = cluster
        .certificate_authority()
        .and_then(|c| c.data())
        .filter(|d| !d.is_empty())?;
    Some((endpoint.to_string(), ca.to_string()))
}

/// The edge's endpoint and CA now, or `None` while the cluster does not exist
/// or has none yet (it is made later in the same apply).
async fn edge_connection(aws: &Aws, arn: &ClusterArn) -> Result<Option<(String, String)>, AwsError> {
    let eks = Eks {
        client: aws.eks(&arn.region, None).await,
        region: arn.region.clone(),
    };
    Ok(eks.find_cluster(&arn.name).await?.as_ref().and_then(connection_of))
}

/// `awsAuthConfig` and `tlsClientConfig` as Argo CD reads them from `config`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterConfig {
    aws_auth_config: AwsAuthConfig,
    tls_client_config: TlsClientConfig,
}

#[derive(Debug, Serialize, Deserialize)]
struct AwsAuthConfig {
    #[serde(rename = "clusterName")]
    cluster_name: String,
    #[serde(rename = "roleARN", default, skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlsClientConfig {
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    ca_data: String,
}

fn is_ours(secret: &Secret) -> bool {
    secret.metadata.labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
}

/// The Secret this resource wants.
fn expand(
    planned: &ArgocdClusterModel,
    arn: &ClusterArn,
    namespace: &str,
    secret_name: &str,
    server: &str,
    ca_data: Option<&str>,
) -> Secret {
    let mut labels = planned.labels.clone().unwrap_or_default();
    labels.insert(SECRET_TYPE_LABEL.into(), "cluster".into());
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    let mut annotations = planned.annotations.clone().unwrap_or_default();
    annotations.insert(CLUSTER_ARN_ANNOTATION.into(), arn.arn.clone());
    let mut data = BTreeMap::from([
        (
            "name".to_string(),
            planned.name.clone().unwrap_or_else(|| arn.name.clone()),
        ),
        ("server".to_string(), server.to_string()),
    ]);
    if let Some(project) = &planned.project {
        data.insert("project".into(), project.clone());
    }
    if let Some(ca_data) = ca_data {
        let config = ClusterConfig {
            aws_auth_config: AwsAuthConfig {
                cluster_name: arn.name.clone(),
                role_arn: planned.role_arn.clone(),
            },
            tls_client_config: TlsClientConfig {
                insecure: false,
                ca_data: ca_data.to_string(),
            },
        };
        data.insert("config".into(), serde_json::to_string(&config).unwrap_or_default());
    }
    Secret {
        metadata: ObjectMeta {
            name: secret_name.to_string(),
            namespace: namespace.to_string(),
            labels,
            annotations,
            resource_version: String::new(),
        },
        type_: "Opaque".into(),
        data,
    }
}

/// The state a Secret gives, over `base` (the plan, prior state or import id):
/// every field a user or Argo CD could change out of band is read back.
fn flatten(secret: &Secret, base: ArgocdClusterModel) -> ArgocdClusterModel {
    let server = secret.data.get("server").cloned();
    let capability = server.as_deref().is_some_and(|s| s.starts_with("arn:"));
    let config = secret
        .data
        .get("config")
        .and_then(|c| serde_json::from_str::<ClusterConfig>(c).ok());
    let expected_cluster = ClusterArn::parse(&base.cluster_arn).map(|a| a.name);
    // A config naming another cluster is drift: the CA is read as missing, so
    // the plan (which knows the edge's CA) writes the Secret again.
    let (role_arn, ca_data) = match &config {
        Some(c) if Some(&c.aws_auth_config.cluster_name) == expected_cluster.as_ref() => (
            c.aws_auth_config.role_arn.clone(),
            Some(c.tls_client_config.ca_data.clone()).filter(|d| !d.is_empty() && !c.tls_client_config.insecure),
        ),
        Some(c) => (c.aws_auth_config.role_arn.clone(), None),
        None => (None, None),
    };
    let without = |map: &BTreeMap<String, String>, reserved: &[&str]| {
        map.iter()
            .filter(|(k, _)| !reserved.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    // An empty map reads back as the configuration wrote it ({} or unset).
    let keep_shape = |found: BTreeMap<String, String>, prior: &Option<BTreeMap<String, String>>| {
        if found.is_empty() && prior.as_ref().is_none_or(|p| p.is_empty()) {
            prior.clone().filter(BTreeMap::is_empty)
        } else {
            Some(found)
        }
    };
    ArgocdClusterModel {
        name: secret.data.get("name").cloned(),
        server,
        project: secret.data.get("project").cloned(),
        mode: Some(if capability { CAPABILITY } else { SELF_MANAGED }.to_string()),
        role_arn,
        ca_data,
        labels: keep_shape(without(&secret.metadata.labels, RESERVED_LABELS), &base.labels),
        annotations: keep_shape(
            without(&secret.metadata.annotations, RESERVED_ANNOTATIONS),
            &base.annotations,
        ),
        secret_name: Some(secret.metadata.name.clone()),
        ..base
    }
}

/// An EKS cluster ARN, `arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`.
#[derive(Debug, Clone, PartialEq)]
struct ClusterArn {
    arn: String,
    region: String,
    account: String,
    name: String,
}

impl ClusterArn {
    fn parse(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return None;
        };
        let name = resource.strip_prefix("cluster/")?;
        let valid = prefix == "arn"
            && partition.starts_with("aws")
            && service == "eks"
            && aws_regions::is_known(region)
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && is_cluster_name(name);
        valid.then(|| Self {
            arn: arn.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        })
    }

    fn default_secret_name(&self) -> String {
        format!("{}-{}-{}", self.name, self.region, self.account)
            .to_ascii_lowercase()
            .replace('_', "-")
    }
}

/// EKS cluster names: 1–100 letters, digits, `-` and `_`, starting alphanumeric.
fn is_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `mode` and `role_arn` together: a self-managed Argo CD needs the role it
/// assumes; the capability uses its own and a role here would be ignored.
fn validate_mode_and_role(config: &Value, diags: &mut Diagnostics) {
    let mode = config.attr("mode");
    let role = config.attr("role_arn");
    let capability = match mode.as_str() {
        Some(CAPABILITY) => true,
        Some(_) => false,
        None if mode.is_null() => false,
        None => return, // unknown until apply
    };
    if capability && !role.is_null() {
        diags.attribute_error(
            &AttributePath::attr("role_arn"),
            "role_arn with mode = \"capability\"",
            "role_arn: the EKS Capability for Argo CD deploys with its own capability role (the edge's \
             gitops_capability_role_arn access entry), so the Secret names no role. Remove role_arn, or set \
             mode = \"self-managed\".",
        );
    }
    if !capability && role.is_null() {
        diags.attribute_error(
            &AttributePath::attr("role_arn"),
            "Missing role_arn",
            "role_arn: a self-managed Argo CD needs the role it assumes to deploy to this edge. Set it to the \
             edge's gitops_role_arn, or set mode = \"capability\" for the EKS Capability for Argo CD.",
        );
    }
}

struct EksClusterArn;

impl Validator for EksClusterArn {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(arn) = value.as_str() else { return };
        if ClusterArn::parse(arn).is_none() {
            diags.attribute_error(
                path,
                "Not an EKS cluster ARN",
                format!(
                    "{path}: {arn:?} is not an EKS cluster ARN: expected \"arn:aws:eks:REGION:ACCOUNT_ID:cluster/NAME\", \
                     such as fleet_eks_regional_cluster's arn."
                ),
            );
        }
    }

    fn describe(&self) -> String {
        "be an EKS cluster ARN (`arn:aws:eks:REGION:ACCOUNT_ID:cluster/NAME`)".into()
    }
}

struct ClusterName;

impl Validator for ClusterName {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(name) = value.as_str() else { return };
        if !is_cluster_name(name) {
            diags.attribute_error(
                path,
                "Invalid EKS cluster name",
                format!("{path}: {name:?} is not an EKS cluster name: 1 to 100 letters, digits, '-' or '_', starting with a letter or digit."),
            );
        }
    }

    fn describe(&self) -> String {
        "be an EKS cluster name".into()
    }
}

struct SecretName;

impl Validator for SecretName {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(name) = value.as_str() else { return };
        if !is_dns_subdomain(name) {
            diags.attribute_error(
                path,
                "Invalid Secret name",
                format!(
                    "{path}: {name:?} is not a Kubernetes object name: use lowercase letters, digits, '-' and '.', \
                     starting and ending with a letter or digit, at most 253 characters."
                ),
            );
        }
    }

    fn describe(&self) -> String {
        "be a DNS subdomain (a Kubernetes object name)".into()
    }
}

struct NonEmpty;

impl Validator for NonEmpty {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if value.as_str().is_some_and(|s| s.trim().is_empty()) {
            diags.attribute_error(
                path,
                "Empty value",
                format!("{path}: must not be empty; leave it unset instead."),
            );
        }
    }

    fn describe(&self) -> String {
        "not be empty".into()
    }
}

/// Label or annotation keys (and label values) as Kubernetes accepts them
/// (<https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set>),
/// without the keys this resource sets itself.
struct Metadata {
    labels: bool,
}

impl Validator for Metadata {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Map(entries) = value else { return };
        let reserved = if self.labels {
            RESERVED_LABELS
        } else {
            RESERVED_ANNOTATIONS
        };
        for (key, v) in entries {
            let at = path.key(key);
            if reserved.contains(&key.as_str()) {
                diags.attribute_error(
                    &at,
                    "Reserved key",
                    format!("{at}: {key:?} is set by fleet_argocd_cluster itself; remove it."),
                );
            } else if !is_qualified_name(key) {
                diags.attribute_error(
                    &at,
                    "Invalid key",
                    format!(
                        "{at}: {key:?} is not a Kubernetes label or annotation key: an optional DNS-subdomain prefix \
                         and '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric."
                    ),
                );
            } else if self.labels
                && let Some(text) = v.as_str()
                && !(text.is_empty() || is_label_name(text))
            {
                diags.attribute_error(
                    &at,
                    "Invalid label value",
                    format!(
                        "{at}: {text:?} is not a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', \
                         starting and ending alphanumeric."
                    ),
                );
            }
        }
    }

    fn describe(&self) -> String {
        "have Kubernetes label/annotation keys".into()
    }
}

fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn is_qualified_name(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_label_name(name),
        None => is_label_name(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_arn_parses_only_eks_cluster_arns() {
        let arn = ClusterArn::parse("arn:aws:eks:us-west-2:123456789012:cluster/Edge_1").expect("valid");
        assert_eq!((arn.region.as_str(), arn.name.as_str()), ("us-west-2", "Edge_1"));
        assert_eq!(arn.default_secret_name(), "edge-1-us-west-2-123456789012");
        for bad in [
            "arn:aws:iam::123456789012:role/edge",
            "arn:aws:eks:us-west-2:123456789012:nodegroup/edge/ng/x",
            "arn:aws:eks:mars-1:123456789012:cluster/edge",
            "arn:aws:eks:us-west-2:1234:cluster/edge",
            "edge",
        ] {
            assert!(ClusterArn::parse(bad).is_none(), "{bad}");
        }
    }

    fn model(mode: &str, role: Option<&str>) -> ArgocdClusterModel {
        ArgocdClusterModel {
            hub: HubModel {
                region: "us-east-1".into(),
                cluster_name: "hub".into(),
                namespace: None,
            },
            cluster_arn: "arn:aws:eks:us-west-2:123456789012:cluster/edge".into(),
            role_arn: role.map(str::to_string),
            mode: Some(mode.into()),
            labels: Some(BTreeMap::from([("environment".into(), "prod".into())])),
            project: Some("default".into()),
            ..Default::default()
        }
    }

    #[test]
    fn self_managed_secret_names_the_role_and_the_edge_ca_and_no_credential() {
        let planned = model(SELF_MANAGED, Some("arn:aws:iam::123456789012:role/edge-gitops"));
        let arn = ClusterArn::parse(&planned.cluster_arn).expect("arn");
        let secret = expand(&planned, &arn, "argocd", "s", "https://edge.example", Some("Q0E="));
        assert_eq!(secret.metadata.labels[SECRET_TYPE_LABEL], "cluster");
        assert_eq!(secret.metadata.labels["environment"], "prod");
        assert_eq!(secret.data["server"], "https://edge.example");
        assert_eq!(secret.data["name"], "edge");
        let config: serde_json::Value = serde_json::from_str(&secret.data["config"]).expect("json");
        assert_eq!(
            config,
            serde_json::json!({
                "awsAuthConfig": {"clusterName": "edge", "roleARN": "arn:aws:iam::123456789012:role/edge-gitops"},
                "tlsClientConfig": {"insecure": false, "caData": "Q0E="}
            })
        );
        let back = flatten(&secret, planned.clone());
        assert_eq!(back.role_arn, planned.role_arn);
        assert_eq!(back.ca_data.as_deref(), Some("Q0E="));
        assert_eq!(back.labels, planned.labels);
        assert_eq!(back.annotations, None);
        assert_eq!(back.mode.as_deref(), Some(SELF_MANAGED));
    }

    #[test]
    fn capability_secret_has_the_arn_as_server_and_no_config() {
        let planned = model(CAPABILITY, None);
        let arn = ClusterArn::parse(&planned.cluster_arn).expect("arn");
        let secret = expand(&planned, &arn, "argocd", "s", &arn.arn, None);
        assert_eq!(secret.data["server"], arn.arn);
        assert!(!secret.data.contains_key("config"));
        assert_eq!(flatten(&secret, planned).mode.as_deref(), Some(CAPABILITY));
    }

    #[test]
    fn a_config_for_another_cluster_reads_as_drift() {
        let planned = model(SELF_MANAGED, Some("arn:aws:iam::123456789012:role/edge-gitops"));
        let arn = ClusterArn::parse(&planned.cluster_arn).expect("arn");
        let mut secret = expand(&planned, &arn, "argocd", "s", "https://edge.example", Some("Q0E="));
        secret.data.insert(
            "config".into(),
            r#"{"awsAuthConfig":{"clusterName":"other"},"tlsClientConfig":{"caData":"Q0E="}}"#.into(),
        );
        assert_eq!(flatten(&secret, planned).ca_data, None);
    }

    #[test]
    fn label_keys_and_values_follow_kubernetes_syntax() {
        assert!(is_qualified_name("environment"));
        assert!(is_qualified_name("example.com/tier"));
        assert!(!is_qualified_name("-bad"));
        assert!(!is_qualified_name("Example.com/tier"));
        assert!(is_label_name("us-west-2"));
        assert!(!is_label_name("has space"));
    }
}
