//! Create, read, update and delete of one region's EKS stack. Each step
//! records what it made in the state being built, the moment it exists, so a
//! failure at any point returns an exact inventory: the tainted resource
//! destroys completely, and only what it records (never a same-name object of
//! someone else's) is read or deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_eks::types::Cluster;
use futures::future::join_all;

use super::kubeconfig::{kubeconfig, update_kubeconfig_command};
use super::model::{AccessEntryModel, AddonModel, ClusterModel, NodeGroupModel, PolicyModel, same_json};
use super::network::plan_subnets;
use crate::aws::ec2::Ec2;
use crate::aws::ec2_network::DefaultRoute;
use crate::aws::eks::{ClusterSpec, Eks, nodegroup_spec};
use crate::aws::iam::{CLUSTER_ROLE, Iam, NODE_ROLE, RoleSpec, role_name};
use crate::aws::tags::OWNER_TAG;
use crate::aws::waiters::{Deadline, StopSignal, retry_while_dependents_remain};
use crate::aws::{Aws, AwsError};
use crate::protocol::diagnostics::Diagnostics;
use crate::resources::error;

/// The clients of one region.
pub struct Clients {
    pub region: String,
    pub ec2: Ec2,
    pub eks: Eks,
    pub iam: Iam,
}

impl Clients {
    /// For ReadResource: route tables are read through the plan's shared reads.
    pub async fn for_refresh(aws: &Aws, region: &str) -> Self {
        let mut clients = Self::new(aws, region).await;
        clients.ec2 = clients.ec2.sharing_reads(aws.shared_reads.clone(), None);
        clients
    }

    pub async fn new(aws: &Aws, region: &str) -> Self {
        Self {
            region: region.to_string(),
            ec2: Ec2::new(aws.ec2(region, None).await, region),
            eks: Eks {
                client: aws.eks(region).await,
                region: region.to_string(),
            },
            iam: Iam {
                client: aws.iam(region).await,
                region: "global".to_string(),
            },
        }
    }
}

fn fail(summary: &str) -> impl Fn(AwsError) -> Diagnostics + '_ {
    move |e| error(summary.to_string(), e)
}

fn wait_fail(summary: &str) -> impl Fn(crate::aws::waiters::WaitError) -> Diagnostics + '_ {
    move |e| error(summary.to_string(), e)
}

/// Tags for one object: the resource's tags, a Name, the owner tag, and extras.
fn object_tags(model: &ClusterModel, region: &str, name: String, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut tags = model.tags_all.clone().unwrap_or_default();
    tags.insert("Name".into(), name);
    tags.insert(OWNER_TAG.into(), format!("{region}/{}", model.name));
    for (k, v) in extra {
        tags.insert(k.to_string(), v.to_string());
    }
    tags
}

fn role_names(model: &ClusterModel, region: &str) -> (String, String) {
    (
        format!("{}-{region}-cluster", model.name),
        format!("{}-{region}-node", model.name),
    )
}

/// What became of one of the cluster's roles.
enum RoleOutcome {
    /// The configuration gave its ARN.
    Given(String),
    /// Created by this resource; the error is from attaching its policies.
    Created(String, Option<AwsError>),
    Failed(AwsError),
}

/// Fills the computed attributes that come from the cluster itself.
pub fn apply_cluster_facts(state: &mut ClusterModel, cluster: &Cluster, region: &str) {
    state.arn = cluster.arn().map(str::to_string);
    state.endpoint = cluster.endpoint().map(str::to_string);
    state.certificate_authority_data = cluster
        .certificate_authority()
        .and_then(|c| c.data())
        .map(str::to_string);
    state.oidc_issuer_url = cluster
        .identity()
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .map(str::to_string);
    state.platform_version = cluster.platform_version().map(str::to_string);
    state.status = cluster.status().map(|s| s.as_str().to_string());
    state.kubernetes_version = cluster
        .version()
        .map(str::to_string)
        .or(state.kubernetes_version.clone());
    state.cluster_security_group_id = cluster
        .resources_vpc_config()
        .and_then(|v| v.cluster_security_group_id())
        .map(str::to_string);
    state.kubeconfig = Some(kubeconfig(
        &state.name,
        region,
        state.arn.as_deref().unwrap_or_default(),
        state.endpoint.as_deref().unwrap_or_default(),
        state.certificate_authority_data.as_deref().unwrap_or_default(),
    ));
    state.update_kubeconfig_command = Some(update_kubeconfig_command(&state.name, region));
}

pub async fn create(
    clients: &Clients,
    model: &ClusterModel,
    state: &mut ClusterModel,
    timeout: Duration,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    let deadline = Deadline::after(timeout);
    let region = clients.region.as_str();
    let name = model.name.as_str();
    let base_tags = object_tags(model, region, name.to_string(), &[]);
    *state = ClusterModel {
        id: Some(format!("{region}/{name}")),
        status: Some("CREATING".into()),
        created_iam_role_names: Some(Vec::new()),
        ..model.clone()
    };

    // Roles and the VPC don't depend on each other: make them together.
    let owner = format!("{region}/{name}");
    let (cluster_role_name, node_role_name) = role_names(model, region);
    // A role is recorded the moment CreateRole succeeds, even when attaching
    // its policies then fails, so destroy deletes it.
    let make_role = |role_name: String, spec: &'static RoleSpec| {
        let (owner, base_tags) = (&owner, &base_tags);
        async move {
            let arn = clients
                .iam
                .create_role(&role_name, owner, spec, base_tags)
                .await
                .map_err(|e| (None, e))?;
            match clients.iam.attach_policies(&role_name, &arn, spec).await {
                Ok(()) => Ok(arn),
                Err(e) => Err((Some(arn), e)),
            }
        }
    };
    let make_role = &make_role;
    let role = |given: Option<String>, role_name: String, spec: &'static RoleSpec| async move {
        if let Some(arn) = given {
            return RoleOutcome::Given(arn);
        }
        match make_role(role_name, spec).await {
            Ok(arn) => RoleOutcome::Created(arn, None),
            Err((Some(arn), e)) => RoleOutcome::Created(arn, Some(e)),
            Err((None, e)) => RoleOutcome::Failed(e),
        }
    };
    let roles = async {
        tokio::join!(
            role(model.cluster_role_arn.clone(), cluster_role_name.clone(), &CLUSTER_ROLE),
            role(model.node_role_arn.clone(), node_role_name.clone(), &NODE_ROLE)
        )
    };
    let vpc = clients.ec2.create_vpc(&model.vpc_cidr, &base_tags);
    let ((cluster_role, node_role), vpc) = tokio::join!(roles, vpc);
    let mut first_error = None;
    for (role, slot) in [
        (cluster_role, &mut state.cluster_role_arn),
        (node_role, &mut state.node_role_arn),
    ] {
        match role {
            RoleOutcome::Given(arn) => *slot = Some(arn),
            RoleOutcome::Created(arn, err) => {
                state
                    .created_iam_role_names
                    .get_or_insert_default()
                    .push(role_name(&arn).to_string());
                *slot = Some(arn);
                first_error = first_error.or(err);
            }
            RoleOutcome::Failed(e) => first_error = first_error.or(Some(e)),
        }
    }
    match vpc {
        Ok(id) => state.vpc_id = Some(id),
        Err(e) => first_error = first_error.or(Some(e)),
    }
    if let Some(e) = first_error {
        return Err(fail("Could not create the cluster's roles or VPC")(e));
    }
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    clients
        .ec2
        .enable_vpc_dns(&vpc_id)
        .await
        .map_err(fail("Could not enable DNS in the VPC"))?;

    // Zones and subnets.
    let zones = match &model.availability_zones {
        Some(zones) if !zones.is_empty() => zones.clone(),
        _ => {
            let available = clients
                .ec2
                .availability_zones()
                .await
                .map_err(fail("Could not list availability zones"))?;
            let wanted = model.zone_count();
            if available.len() < wanted {
                return Err(error(
                    "Not enough availability zones",
                    format!(
                        "{region} has {} availability zones; availability_zone_count is {wanted}.",
                        available.len()
                    ),
                ));
            }
            available.into_iter().take(wanted).collect()
        }
    };
    state.availability_zones = Some(zones.clone());
    let vpc_net = model.vpc_cidr.parse().map_err(|e| error("Invalid vpc_cidr", e))?;
    let plan = plan_subnets(vpc_net, zones.len()).map_err(|e| error("vpc_cidr too small", e))?;
    let cluster_tag = format!("kubernetes.io/cluster/{name}");
    state.private_subnet_ids = Some(Vec::new());
    state.public_subnet_ids = Some(Vec::new());
    for (i, zone) in zones.iter().enumerate() {
        let private_tags = object_tags(
            model,
            region,
            format!("{name}-private-{zone}"),
            &[(&cluster_tag, "shared"), ("kubernetes.io/role/internal-elb", "1")],
        );
        let id = clients
            .ec2
            .create_subnet(&vpc_id, &plan.private[i].to_string(), zone, &private_tags)
            .await
            .map_err(fail("Could not create a private subnet"))?;
        state.private_subnet_ids.get_or_insert_default().push(id);
        let public_tags = object_tags(
            model,
            region,
            format!("{name}-public-{zone}"),
            &[(&cluster_tag, "shared"), ("kubernetes.io/role/elb", "1")],
        );
        let id = clients
            .ec2
            .create_subnet(&vpc_id, &plan.public[i].to_string(), zone, &public_tags)
            .await
            .map_err(fail("Could not create a public subnet"))?;
        state.public_subnet_ids.get_or_insert_default().push(id);
    }
    let public_subnets = state.public_subnet_ids.clone().unwrap_or_default();
    let private_subnets = state.private_subnet_ids.clone().unwrap_or_default();

    // Internet gateway and the public route table.
    // Each object is recorded the moment it exists, before it is configured.
    let igw = clients
        .ec2
        .create_internet_gateway(&base_tags)
        .await
        .map_err(fail("Could not create the internet gateway"))?;
    state.internet_gateway_id = Some(igw.clone());
    clients
        .ec2
        .attach_internet_gateway(&igw, &vpc_id)
        .await
        .map_err(fail("Could not attach the internet gateway"))?;
    let public_tags = object_tags(model, region, format!("{name}-public"), &[]);
    let public_rt = clients
        .ec2
        .create_route_table(&vpc_id, &public_tags)
        .await
        .map_err(fail("Could not create the public route table"))?;
    state.public_route_table_ids = Some(vec![public_rt.clone()]);
    clients
        .ec2
        .configure_route_table(&public_rt, Some(DefaultRoute::InternetGateway(&igw)), &public_subnets)
        .await
        .map_err(fail("Could not route the public subnets"))?;

    // NAT gateways per mode, each with its Elastic IP.
    let nats_wanted = nat_count(state);
    state.nat_gateway_ids = Some(Vec::new());
    state.eip_allocation_ids = Some(Vec::new());
    for i in 0..nats_wanted {
        let nat_tags = object_tags(model, region, format!("{name}-nat-{}", zones[i]), &[]);
        let eip = clients
            .ec2
            .allocate_eip(&nat_tags)
            .await
            .map_err(fail("Could not allocate an Elastic IP"))?;
        state.eip_allocation_ids.get_or_insert_default().push(eip.clone());
        let nat = clients
            .ec2
            .create_nat_gateway(&public_subnets[i], &eip, &nat_tags)
            .await
            .map_err(fail("Could not create a NAT gateway"))?;
        state.nat_gateway_ids.get_or_insert_default().push(nat);
    }
    let nats = state.nat_gateway_ids.clone().unwrap_or_default();
    let waits = nats.iter().map(|nat| {
        clients
            .ec2
            .wait_for_nat_gateway(nat, "available", deadline.left(), stop)
    });
    for result in join_all(waits).await {
        result.map_err(wait_fail("NAT gateway did not become available"))?;
    }

    // One private route table per zone, through that zone's NAT (or the only one).
    state.private_route_table_ids = Some(Vec::new());
    for (i, zone) in zones.iter().enumerate() {
        let default_route = nats.get(i).or(nats.first()).map(|nat| DefaultRoute::NatGateway(nat));
        let tags = object_tags(model, region, format!("{name}-private-{zone}"), &[]);
        let rt = clients
            .ec2
            .create_route_table(&vpc_id, &tags)
            .await
            .map_err(fail("Could not create a private route table"))?;
        state.private_route_table_ids.get_or_insert_default().push(rt.clone());
        clients
            .ec2
            .configure_route_table(&rt, default_route, std::slice::from_ref(&private_subnets[i]))
            .await
            .map_err(fail("Could not route a private subnet"))?;
    }

    // The API security group (its rules follow api_allowed_cidrs).
    let api_cidrs: Vec<String> = model.api_allowed_cidrs.iter().flatten().cloned().collect();
    let sg = clients
        .ec2
        .create_api_security_group(&vpc_id, &format!("{name}-api"), &base_tags)
        .await
        .map_err(fail("Could not create the API security group"))?;
    state.api_security_group_id = Some(sg.clone());
    clients
        .ec2
        .authorize_api_cidrs(&sg, &api_cidrs)
        .await
        .map_err(fail("Could not allow API access"))?;

    // The cluster.
    let cluster_tags = model.tags_all.clone().unwrap_or_default();
    let spec = ClusterSpec {
        name,
        version: model
            .kubernetes_version
            .as_deref()
            .unwrap_or(super::schema::DEFAULT_VERSION),
        role_arn: state.cluster_role_arn.as_deref().unwrap_or_default(),
        subnet_ids: private_subnets.clone(),
        security_group_ids: vec![sg],
        endpoint_private_access: model.endpoint_private_access.unwrap_or(true),
        endpoint_public_access: model.endpoint_public_access.unwrap_or(false),
        public_access_cidrs: model.public_access_cidrs.iter().flatten().cloned().collect(),
        secrets_kms_key_arn: model.secrets_kms_key_arn.as_deref(),
        enabled_log_types: model.enabled_log_types.iter().flatten().cloned().collect(),
        tags: &cluster_tags,
    };
    let arn = clients
        .eks
        .create_cluster(&spec)
        .await
        .map_err(fail("Could not create the EKS cluster"))?;
    // From here the cluster is ours: recorded before waiting for it.
    state.arn = Some(arn);
    let cluster = clients
        .eks
        .wait_for_cluster(name, deadline.left(), stop)
        .await
        .map_err(wait_fail("EKS cluster did not become active"))?;
    apply_cluster_facts(state, &cluster, region);

    // Access entries, then add-ons (not waited for yet: some, like coredns,
    // only become ACTIVE once nodes exist), then node groups in parallel.
    state.access_entries = model.access_entries.as_ref().map(|_| BTreeMap::new());
    for (principal, entry) in model.access_entries.iter().flatten() {
        create_access_entry(clients, model, state, principal, entry).await?;
    }
    state.addons = model.addons.as_ref().map(|_| BTreeMap::new());
    let addons = model.addons.clone().unwrap_or_default();
    create_addons(clients, model, state, &addons).await?;
    state.node_groups = model.node_groups.as_ref().map(|_| BTreeMap::new());
    let groups = model.node_groups.clone().unwrap_or_default();
    create_node_groups(clients, model, state, &groups, &deadline, stop).await?;
    wait_for_addons(clients, model, state, &addons, &deadline, stop).await
}

async fn create_access_entry(
    clients: &Clients,
    model: &ClusterModel,
    state: &mut ClusterModel,
    principal: &str,
    entry: &AccessEntryModel,
) -> Result<(), Diagnostics> {
    let groups: Vec<String> = entry.kubernetes_groups.iter().flatten().cloned().collect();
    let tags = model.tags_all.clone().unwrap_or_default();
    clients
        .eks
        .create_access_entry(&model.name, principal, &groups, &tags)
        .await
        .map_err(fail("Could not create an access entry"))?;
    let recorded = state
        .access_entries
        .get_or_insert_default()
        .entry(principal.to_string())
        .or_insert(AccessEntryModel {
            kubernetes_groups: entry.kubernetes_groups.clone(),
            policies: entry.policies.as_ref().map(|_| BTreeMap::new()),
        });
    for (policy, scope) in entry.policies.iter().flatten() {
        clients
            .eks
            .associate_policy(&model.name, principal, policy, &scope.scope())
            .await
            .map_err(fail("Could not associate an access policy"))?;
        recorded
            .policies
            .get_or_insert_default()
            .insert(policy.clone(), scope.clone());
    }
    Ok(())
}

/// Starts installing add-ons; each accepted is recorded in state.
async fn create_addons(
    clients: &Clients,
    model: &ClusterModel,
    state: &mut ClusterModel,
    addons: &BTreeMap<String, AddonModel>,
) -> Result<(), Diagnostics> {
    let tags = model.tags_all.clone().unwrap_or_default();
    for (addon, config) in addons {
        clients
            .eks
            .create_addon(
                &model.name,
                addon,
                config.version.as_deref(),
                config.configuration_values.as_deref(),
                &tags,
            )
            .await
            .map_err(fail("Could not create an add-on"))?;
        state
            .addons
            .get_or_insert_default()
            .insert(addon.clone(), config.clone());
    }
    Ok(())
}

/// Waits for add-ons to be ACTIVE and records the versions EKS chose.
async fn wait_for_addons(
    clients: &Clients,
    model: &ClusterModel,
    state: &mut ClusterModel,
    addons: &BTreeMap<String, AddonModel>,
    deadline: &Deadline,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    for addon in addons.keys() {
        clients
            .eks
            .wait_for_addon(&model.name, addon, deadline.left(), stop)
            .await
            .map_err(wait_fail("Add-on did not become active"))?;
        if let Some((version, _)) = clients
            .eks
            .find_addon(&model.name, addon)
            .await
            .map_err(fail("Could not read an add-on"))?
            && let Some(recorded) = state.addons.get_or_insert_default().get_mut(addon)
        {
            recorded.version = Some(version);
        }
    }
    Ok(())
}

/// Creates node groups concurrently; each one EKS accepted is recorded in
/// `state` before waiting, so a failed wait still leaves it in state.
async fn create_node_groups(
    clients: &Clients,
    model: &ClusterModel,
    state: &mut ClusterModel,
    groups: &BTreeMap<String, NodeGroupModel>,
    deadline: &Deadline,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    let node_role = state.node_role_arn.clone().unwrap_or_default();
    let subnets = state.private_subnet_ids.clone().unwrap_or_default();
    let tags = model.tags_all.clone().unwrap_or_default();
    let creates = groups.iter().map(|(group, config)| {
        let spec = config.spec(group);
        let (node_role, subnets, tags) = (&node_role, &subnets, &tags);
        async move {
            clients
                .eks
                .create_nodegroup(&model.name, &spec, node_role, subnets, tags)
                .await?;
            Ok::<_, AwsError>(group.clone())
        }
    });
    let mut first_error = None;
    let mut created = Vec::new();
    for result in join_all(creates).await {
        match result {
            Ok(group) => created.push(group),
            Err(e) => first_error = first_error.or(Some(fail("Could not create a node group")(e))),
        }
    }
    for group in &created {
        state
            .node_groups
            .get_or_insert_default()
            .insert(group.clone(), groups[group].clone());
    }
    let waits = created.iter().map(|group| {
        clients
            .eks
            .wait_for_nodegroup(&model.name, group, deadline.left(), stop)
    });
    for result in join_all(waits).await {
        if let Err(e) = result {
            first_error = first_error.or(Some(wait_fail("Node group did not become active")(e)));
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Status set by Read when the cluster is gone (plans a replacement).
pub const DELETED: &str = "DELETED";
/// Status set by Read when a network object the cluster needs is gone.
pub const NETWORK_DRIFT: &str = "NETWORK_DRIFT";

/// How many NAT gateways the configuration calls for.
pub fn nat_count(model: &ClusterModel) -> usize {
    match model.nat_mode() {
        "none" => 0,
        "one_per_az" => model.private_subnet_ids.as_ref().map_or(0, Vec::len),
        _ => 1,
    }
}

/// Whether the VPC, subnets, route tables and internet gateway recorded in
/// state all still exist: one call per kind, all four at once.
async fn network_intact(clients: &Clients, state: &ClusterModel) -> Result<bool, AwsError> {
    let ec2 = &clients.ec2;
    let Some(vpc_id) = &state.vpc_id else { return Ok(true) };
    let subnets: Vec<String> = state
        .private_subnet_ids
        .iter()
        .flatten()
        .chain(state.public_subnet_ids.iter().flatten())
        .cloned()
        .collect();
    let tables: BTreeSet<String> = state
        .private_route_table_ids
        .iter()
        .flatten()
        .chain(state.public_route_table_ids.iter().flatten())
        .cloned()
        .collect();
    let igw = async {
        match state.internet_gateway_id {
            Some(_) => ec2.internet_gateway_of_vpc(vpc_id).await.map(Some),
            None => Ok(None),
        }
    };
    let (vpc, found_subnets, found_tables, igw) = tokio::join!(
        ec2.find_vpc(vpc_id),
        ec2.find_subnets(&subnets),
        ec2.find_route_tables(&tables),
        igw
    );
    // Judged in the order the calls used to be made one after another, so
    // the outcome (and the error reported) is the same as then.
    if vpc?.is_none() || found_subnets?.len() != subnets.len() || found_tables?.len() != tables.len() {
        return Ok(false);
    }
    Ok(igw?.is_none_or(|attached| attached == state.internet_gateway_id))
}

/// A tag change reaches everything the resource made besides the cluster and
/// the network: the node groups, add-ons and access entries it has now (those
/// the same apply adds are created with the new tags) and the IAM roles it
/// created.
async fn retag_children_and_roles(
    clients: &Clients,
    prior: &ClusterModel,
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Result<(), Diagnostics> {
    fn keys<V>(map: &Option<BTreeMap<String, V>>) -> Vec<String> {
        map.iter().flat_map(|m| m.keys().cloned()).collect()
    }
    let arns = clients
        .eks
        .child_arns(
            &prior.name,
            &keys(&prior.node_groups),
            &keys(&prior.addons),
            &keys(&prior.access_entries),
        )
        .await
        .map_err(fail(
            "Could not read the node groups, add-ons and access entries to tag",
        ))?;
    futures::future::try_join_all(arns.iter().map(|arn| clients.eks.sync_tags(arn, current, wanted)))
        .await
        .map_err(fail(
            "Could not update the tags of a node group, add-on or access entry",
        ))?;
    let roles = prior.created_iam_role_names.iter().flatten();
    futures::future::try_join_all(roles.map(|role| clients.iam.sync_role_tags(role, current, wanted)))
        .await
        .map_err(fail("Could not update the tags of an IAM role"))?;
    Ok(())
}

/// Refreshes every managed object. A cluster or network object gone out of
/// band comes back as status `DELETED` / `NETWORK_DRIFT`, which plans a
/// replacement that first removes what is left; NAT gateways gone out of band
/// drop out of state, which plans an in-place repair.
///
/// Independent reads run concurrently: the cluster, the network and the NAT
/// gateways (EC2 and EKS, each kind in one batched call) first, then the
/// add-ons, access entries and node groups of a cluster known to be ours.
/// Results are judged in a fixed order, so what a refresh concludes doesn't
/// depend on which answer comes first.
pub async fn read(clients: &Clients, prior: &ClusterModel) -> Result<ClusterModel, Diagnostics> {
    let read_err = fail("Could not read the EKS cluster");
    let mut state = prior.clone();
    // Only our cluster (its ARN is in state) is read; a create that never got
    // that far has none, and a same-name cluster is someone else's.
    let Some(our_arn) = prior.arn.as_deref() else {
        return Ok(state);
    };
    let nat_ids = prior.nat_gateway_ids.clone().unwrap_or_default();
    let (cluster, intact, live_nats) = tokio::join!(
        clients.eks.find_cluster(&prior.name),
        network_intact(clients, prior),
        clients.ec2.live_nat_gateways(&nat_ids)
    );
    let cluster = cluster.map_err(&read_err)?;
    let Some(cluster) = cluster.filter(|c| c.arn() == Some(our_arn)) else {
        state.status = Some(DELETED.into());
        return Ok(state);
    };
    if !intact.map_err(fail("Could not read the cluster's network"))? {
        state.status = Some(NETWORK_DRIFT.into());
        return Ok(state);
    }
    if prior.nat_gateway_ids.is_some() {
        let live = live_nats.map_err(fail("Could not read a NAT gateway"))?;
        state.nat_gateway_ids = Some(nat_ids.into_iter().filter(|nat| live.contains(nat)).collect());
    }
    apply_cluster_facts(&mut state, &cluster, &clients.region);
    state.tags_all = Some(
        cluster
            .tags()
            .map(|t| t.clone().into_iter().collect())
            .unwrap_or_default(),
    );
    if let Some(vpc) = cluster.resources_vpc_config() {
        state.endpoint_private_access = Some(vpc.endpoint_private_access());
        state.endpoint_public_access = Some(vpc.endpoint_public_access());
    }
    let enabled: BTreeSet<String> = cluster
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|setup| setup.enabled() == Some(true))
        .flat_map(|setup| setup.types().iter().map(|t| t.as_str().to_string()))
        .collect();
    if prior.enabled_log_types.is_some() || !enabled.is_empty() {
        state.enabled_log_types = Some(enabled);
    }
    let (addons, entries, groups) = tokio::join!(
        read_addons(clients, prior),
        read_access_entries(clients, prior),
        read_node_groups(clients, prior)
    );
    if let Some(addons) = addons.map_err(&read_err)? {
        state.addons = Some(addons);
    }
    if let Some(entries) = entries.map_err(&read_err)? {
        state.access_entries = Some(entries);
    }
    if let Some(groups) = groups.map_err(&read_err)? {
        state.node_groups = Some(groups);
    }
    Ok(state)
}

/// The add-ons in state, as they are now; one gone out of band drops out
/// (the plan reinstalls it). `None` when state tracks none.
async fn read_addons(
    clients: &Clients,
    prior: &ClusterModel,
) -> Result<Option<BTreeMap<String, AddonModel>>, AwsError> {
    let Some(addons) = &prior.addons else { return Ok(None) };
    let found = join_all(addons.keys().map(|addon| clients.eks.find_addon(&prior.name, addon))).await;
    let mut refreshed = BTreeMap::new();
    for ((addon, config), found) in addons.iter().zip(found) {
        if let Some((version, values)) = found? {
            let configuration_values = match (&config.configuration_values, values) {
                (Some(mine), Some(actual)) if same_json(mine, &actual) => Some(mine.clone()),
                (_, actual) => actual,
            };
            refreshed.insert(
                addon.clone(),
                AddonModel {
                    version: Some(version),
                    configuration_values,
                },
            );
        }
    }
    Ok(Some(refreshed))
}

/// The access entries in state with their policies; one gone out of band
/// drops out. `None` when state tracks none.
async fn read_access_entries(
    clients: &Clients,
    prior: &ClusterModel,
) -> Result<Option<BTreeMap<String, AccessEntryModel>>, AwsError> {
    let Some(entries) = &prior.access_entries else {
        return Ok(None);
    };
    let found = join_all(
        entries
            .keys()
            .map(|principal| read_access_entry(clients, &prior.name, principal)),
    )
    .await;
    let mut refreshed = BTreeMap::new();
    for ((principal, entry), found) in entries.iter().zip(found) {
        let Some((groups, policies)) = found? else { continue };
        let policies: BTreeMap<String, PolicyModel> = policies
            .into_iter()
            .map(|(arn, scope)| {
                let namespaces = (!scope.namespaces.is_empty()).then(|| scope.namespaces.into_iter().collect());
                (
                    arn,
                    PolicyModel {
                        scope: Some(scope.scope),
                        namespaces,
                    },
                )
            })
            .collect();
        refreshed.insert(
            principal.clone(),
            AccessEntryModel {
                kubernetes_groups: if entry.kubernetes_groups.is_none() && groups.is_empty() {
                    None
                } else {
                    Some(groups.into_iter().collect())
                },
                policies: if entry.policies.is_none() && policies.is_empty() {
                    None
                } else {
                    Some(policies)
                },
            },
        );
    }
    Ok(Some(refreshed))
}

/// One access entry's Kubernetes groups and associated policies, if it exists.
async fn read_access_entry(
    clients: &Clients,
    cluster: &str,
    principal: &str,
) -> Result<Option<(Vec<String>, BTreeMap<String, crate::aws::eks::PolicyScope>)>, AwsError> {
    let Some(groups) = clients.eks.find_access_entry(cluster, principal).await? else {
        return Ok(None);
    };
    let policies = clients.eks.associated_policies(cluster, principal).await?;
    Ok(Some((groups, policies)))
}

/// The node groups in state, as they are now; one deleted out of band drops
/// out (the plan recreates it). `None` when state tracks none.
async fn read_node_groups(
    clients: &Clients,
    prior: &ClusterModel,
) -> Result<Option<BTreeMap<String, NodeGroupModel>>, AwsError> {
    let Some(groups) = &prior.node_groups else {
        return Ok(None);
    };
    let found = join_all(
        groups
            .keys()
            .map(|group| clients.eks.find_nodegroup(&prior.name, group)),
    )
    .await;
    let mut refreshed = BTreeMap::new();
    for ((group, config), found) in groups.iter().zip(found) {
        if let Some(actual) = found? {
            refreshed.insert(group.clone(), config.refreshed(&nodegroup_spec(&actual)));
        }
    }
    Ok(Some(refreshed))
}

pub async fn update(
    clients: &Clients,
    prior: &ClusterModel,
    planned: &ClusterModel,
    state: &mut ClusterModel,
    timeout: Duration,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    let deadline = Deadline::after(timeout);
    let name = planned.name.as_str();
    state.timeouts = planned.timeouts.clone();
    state.tags = planned.tags.clone();

    repair_nat_gateways(clients, planned, state, &deadline, stop).await?;

    // Control plane version first, then the node groups follow it.
    if planned.kubernetes_version != prior.kubernetes_version {
        let version = planned.kubernetes_version.clone().unwrap_or_default();
        let started = clients.eks.update_cluster_version(name, &version).await;
        await_update(
            clients,
            name,
            None,
            started,
            "Could not upgrade the cluster",
            &deadline,
            stop,
        )
        .await?;
        state.kubernetes_version = planned.kubernetes_version.clone();
        for group in prior.node_groups.iter().flatten().map(|(g, _)| g) {
            if planned.node_groups.as_ref().is_some_and(|p| p.contains_key(group)) {
                let started = clients.eks.update_nodegroup_version(name, group, &version).await;
                await_update(
                    clients,
                    name,
                    Some(group),
                    started,
                    "Could not upgrade a node group",
                    &deadline,
                    stop,
                )
                .await?;
            }
        }
        refresh_cluster_facts(clients, state).await?;
    }
    // Compared as EKS sees them, so null and empty are the same and public
    // CIDRs only matter with a public endpoint.
    let endpoint = |m: &ClusterModel| {
        let public = m.endpoint_public_access.unwrap_or(false);
        let cidrs: BTreeSet<String> = if public {
            m.public_access_cidrs.clone().unwrap_or_default()
        } else {
            BTreeSet::new()
        };
        (m.endpoint_private_access.unwrap_or(true), public, cidrs)
    };
    if endpoint(planned) != endpoint(prior) {
        let (private, public, cidrs) = endpoint(planned);
        let cidrs: Vec<String> = cidrs.into_iter().collect();
        let started = clients.eks.update_cluster_endpoint(name, private, public, &cidrs).await;
        await_update(
            clients,
            name,
            None,
            started,
            "Could not update the cluster endpoint",
            &deadline,
            stop,
        )
        .await?;
        refresh_cluster_facts(clients, state).await?;
    }
    (
        state.endpoint_private_access,
        state.endpoint_public_access,
        state.public_access_cidrs,
    ) = (
        planned.endpoint_private_access,
        planned.endpoint_public_access,
        planned.public_access_cidrs.clone(),
    );
    if planned.tags_all != prior.tags_all {
        let arn = state.arn.clone().unwrap_or_default();
        let (current, wanted) = (
            prior.tags_all.clone().unwrap_or_default(),
            planned.tags_all.clone().unwrap_or_default(),
        );
        clients
            .eks
            .sync_tags(&arn, &current, &wanted)
            .await
            .map_err(fail("Could not update the cluster's tags"))?;
        // Every EC2 object this resource made carries the same tags.
        let ec2_ids: Vec<String> = [&state.vpc_id, &state.internet_gateway_id, &state.api_security_group_id]
            .into_iter()
            .flatten()
            .cloned()
            .chain(
                [
                    &state.private_subnet_ids,
                    &state.public_subnet_ids,
                    &state.private_route_table_ids,
                    &state.public_route_table_ids,
                    &state.nat_gateway_ids,
                    &state.eip_allocation_ids,
                ]
                .into_iter()
                .flatten()
                .flatten()
                .cloned(),
            )
            .collect();
        clients
            .ec2
            .sync_tags(&ec2_ids, &current, &wanted)
            .await
            .map_err(fail("Could not update the network's tags"))?;
        retag_children_and_roles(clients, prior, &current, &wanted).await?;
        state.tags_all = planned.tags_all.clone();
    }
    if planned.enabled_log_types.clone().unwrap_or_default() != prior.enabled_log_types.clone().unwrap_or_default() {
        let enabled: Vec<String> = planned.enabled_log_types.iter().flatten().cloned().collect();
        let started = clients.eks.update_cluster_logging(name, &enabled).await;
        await_update(
            clients,
            name,
            None,
            started,
            "Could not update cluster logging",
            &deadline,
            stop,
        )
        .await?;
        refresh_cluster_facts(clients, state).await?;
    }
    state.enabled_log_types = planned.enabled_log_types.clone();
    if planned.api_allowed_cidrs != prior.api_allowed_cidrs {
        let before: BTreeSet<String> = prior.api_allowed_cidrs.clone().unwrap_or_default();
        let after: BTreeSet<String> = planned.api_allowed_cidrs.clone().unwrap_or_default();
        let sg = prior.api_security_group_id.clone().unwrap_or_default();
        let added: Vec<String> = after.difference(&before).cloned().collect();
        let removed: Vec<String> = before.difference(&after).cloned().collect();
        clients
            .ec2
            .authorize_api_cidrs(&sg, &added)
            .await
            .map_err(fail("Could not allow API access"))?;
        clients
            .ec2
            .revoke_api_cidrs(&sg, &removed)
            .await
            .map_err(fail("Could not revoke API access"))?;
        state.api_allowed_cidrs = planned.api_allowed_cidrs.clone();
    }

    update_access_entries(clients, prior, planned, state).await?;
    // Waited for after the node groups: some add-ons need nodes to be ACTIVE.
    let changed_addons = update_addons(clients, prior, planned, state, &deadline, stop).await?;

    // Node groups: remove, replace, scale/relabel in place, add.
    let before = prior.node_groups.clone().unwrap_or_default();
    let after = planned.node_groups.clone().unwrap_or_default();
    let mut to_create = BTreeMap::new();
    for (group, old) in &before {
        match after.get(group) {
            Some(new) if !old.needs_new_nodegroup(new) => {
                if old != new {
                    let started = clients
                        .eks
                        .update_nodegroup_config(name, &old.spec(group), &new.spec(group))
                        .await;
                    await_update(
                        clients,
                        name,
                        Some(group),
                        started,
                        "Could not update a node group",
                        &deadline,
                        stop,
                    )
                    .await?;
                    state
                        .node_groups
                        .get_or_insert_default()
                        .insert(group.clone(), new.clone());
                }
            }
            replaced => {
                clients
                    .eks
                    .delete_nodegroup(name, group, deadline.left(), stop)
                    .await
                    .map_err(wait_fail("Could not delete a node group"))?;
                if let Some(groups) = state.node_groups.as_mut() {
                    groups.remove(group);
                }
                if let Some(new) = replaced {
                    to_create.insert(group.clone(), new.clone());
                }
            }
        }
    }
    for (group, new) in &after {
        if !before.contains_key(group) {
            to_create.insert(group.clone(), new.clone());
        }
    }
    if planned.node_groups.is_some() && state.node_groups.is_none() {
        state.node_groups = Some(BTreeMap::new());
    }
    create_node_groups(clients, planned, state, &to_create, &deadline, stop).await?;
    if planned.node_groups.is_none() && state.node_groups.as_ref().is_some_and(BTreeMap::is_empty) {
        state.node_groups = None;
    }
    wait_for_addons(clients, planned, state, &changed_addons, &deadline, stop).await
}

/// Waits for an EKS update just started (by its id), so the next update
/// doesn't race it and the state reflects the finished change.
async fn await_update(
    clients: &Clients,
    cluster: &str,
    nodegroup: Option<&str>,
    started: Result<String, AwsError>,
    summary: &str,
    deadline: &Deadline,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    let update_id = started.map_err(fail(summary))?;
    clients
        .eks
        .wait_for_update(cluster, &update_id, nodegroup, deadline.left(), stop)
        .await
        .map_err(wait_fail(summary))
}

/// Re-reads the cluster's computed facts after an update.
async fn refresh_cluster_facts(clients: &Clients, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let version = state.kubernetes_version.clone();
    if let Some(cluster) = clients
        .eks
        .find_cluster(&state.name)
        .await
        .map_err(fail("Could not read the EKS cluster"))?
    {
        apply_cluster_facts(state, &cluster, &clients.region);
    }
    state.kubernetes_version = version;
    Ok(())
}

/// Recreates NAT gateways lost out of band, points the private default
/// routes at the NAT of their zone again, and releases the Elastic IPs the
/// lost gateways held.
async fn repair_nat_gateways(
    clients: &Clients,
    planned: &ClusterModel,
    state: &mut ClusterModel,
    deadline: &Deadline,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    let wanted = nat_count(state);
    if state.nat_gateway_ids.as_ref().map_or(0, Vec::len) >= wanted {
        return Ok(());
    }
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    let public = state.public_subnet_ids.clone().unwrap_or_default();
    let zones = state.availability_zones.clone().unwrap_or_default();
    let live = clients
        .ec2
        .nat_gateways_of_vpc(&vpc_id)
        .await
        .map_err(fail("Could not read the NAT gateways"))?;
    // The NAT of each public subnet that needs one: the live one, or a new one.
    let mut nats = Vec::new();
    let mut eips = Vec::new();
    for (i, subnet) in public.iter().enumerate().take(wanted) {
        if let Some((id, _, eip)) = live.iter().find(|(_, s, _)| s == subnet) {
            nats.push(id.clone());
            eips.extend(eip.clone());
            continue;
        }
        let zone = zones.get(i).map_or("", String::as_str);
        let tags = object_tags(planned, &clients.region, format!("{}-nat-{zone}", planned.name), &[]);
        let eip = clients
            .ec2
            .allocate_eip(&tags)
            .await
            .map_err(fail("Could not allocate an Elastic IP"))?;
        state.eip_allocation_ids.get_or_insert_default().push(eip.clone());
        let nat = clients
            .ec2
            .create_nat_gateway(subnet, &eip, &tags)
            .await
            .map_err(fail("Could not create a NAT gateway"))?;
        state.nat_gateway_ids.get_or_insert_default().push(nat.clone());
        clients
            .ec2
            .wait_for_nat_gateway(&nat, "available", deadline.left(), stop)
            .await
            .map_err(wait_fail("NAT gateway did not become available"))?;
        nats.push(nat);
        eips.push(eip);
    }
    for (i, table) in state
        .private_route_table_ids
        .clone()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let nat = nats.get(i).or(nats.first()).cloned().unwrap_or_default();
        clients
            .ec2
            .set_default_route_to_nat(table, &nat)
            .await
            .map_err(fail("Could not repair a private route"))?;
    }
    // Addresses of lost gateways: release them; one still busy stays recorded
    // (and is released on destroy).
    let mut kept = eips.clone();
    for eip in state.eip_allocation_ids.clone().unwrap_or_default() {
        if !eips.contains(&eip) && clients.ec2.release_eip(&eip).await.is_err() {
            kept.push(eip);
        }
    }
    state.nat_gateway_ids = Some(nats);
    state.eip_allocation_ids = Some(kept);
    Ok(())
}

async fn update_access_entries(
    clients: &Clients,
    prior: &ClusterModel,
    planned: &ClusterModel,
    state: &mut ClusterModel,
) -> Result<(), Diagnostics> {
    let name = planned.name.as_str();
    let before = prior.access_entries.clone().unwrap_or_default();
    let after = planned.access_entries.clone().unwrap_or_default();
    for principal in before.keys().filter(|p| !after.contains_key(*p)) {
        clients
            .eks
            .delete_access_entry(name, principal)
            .await
            .map_err(fail("Could not delete an access entry"))?;
        if let Some(entries) = state.access_entries.as_mut() {
            entries.remove(principal);
        }
    }
    for (principal, wanted) in &after {
        let Some(current) = before.get(principal) else {
            create_access_entry(clients, planned, state, principal, wanted).await?;
            continue;
        };
        if current.kubernetes_groups != wanted.kubernetes_groups {
            let groups: Vec<String> = wanted.kubernetes_groups.iter().flatten().cloned().collect();
            clients
                .eks
                .update_access_entry(name, principal, &groups)
                .await
                .map_err(fail("Could not update an access entry"))?;
        }
        let (old, new) = (
            current.policies.clone().unwrap_or_default(),
            wanted.policies.clone().unwrap_or_default(),
        );
        for policy in old.keys().filter(|p| !new.contains_key(*p)) {
            clients
                .eks
                .disassociate_policy(name, principal, policy)
                .await
                .map_err(fail("Could not disassociate an access policy"))?;
        }
        for (policy, scope) in new.iter().filter(|(p, s)| old.get(*p) != Some(s)) {
            clients
                .eks
                .associate_policy(name, principal, policy, &scope.scope())
                .await
                .map_err(fail("Could not associate an access policy"))?;
        }
        state
            .access_entries
            .get_or_insert_default()
            .insert(principal.clone(), wanted.clone());
    }
    match (&planned.access_entries, &state.access_entries) {
        (None, Some(entries)) if entries.is_empty() => state.access_entries = None,
        (Some(_), None) => state.access_entries = Some(BTreeMap::new()),
        _ => {}
    }
    Ok(())
}

async fn update_addons(
    clients: &Clients,
    prior: &ClusterModel,
    planned: &ClusterModel,
    state: &mut ClusterModel,
    deadline: &Deadline,
    stop: &StopSignal,
) -> Result<BTreeMap<String, AddonModel>, Diagnostics> {
    let name = planned.name.as_str();
    let before = prior.addons.clone().unwrap_or_default();
    let after = planned.addons.clone().unwrap_or_default();
    for addon in before.keys().filter(|a| !after.contains_key(*a)) {
        clients
            .eks
            .delete_addon(name, addon, deadline.left(), stop)
            .await
            .map_err(wait_fail("Could not delete an add-on"))?;
        if let Some(addons) = state.addons.as_mut() {
            addons.remove(addon);
        }
    }
    let mut changed = BTreeMap::new();
    for (addon, wanted) in &after {
        match before.get(addon) {
            None => {
                create_addons(
                    clients,
                    planned,
                    state,
                    &BTreeMap::from([(addon.clone(), wanted.clone())]),
                )
                .await?;
            }
            Some(current) if current != wanted => {
                clients
                    .eks
                    .update_addon(
                        name,
                        addon,
                        wanted.version.as_deref(),
                        wanted.configuration_values.as_deref(),
                    )
                    .await
                    .map_err(fail("Could not update an add-on"))?;
                state
                    .addons
                    .get_or_insert_default()
                    .insert(addon.clone(), wanted.clone());
            }
            Some(_) => continue,
        }
        changed.insert(addon.clone(), wanted.clone());
    }
    match (&planned.addons, &state.addons) {
        (None, Some(addons)) if addons.is_empty() => state.addons = None,
        (Some(_), None) => state.addons = Some(BTreeMap::new()),
        _ => {}
    }
    Ok(changed)
}

/// Deletes in reverse dependency order, each step waited for and tolerant of
/// objects already gone.
pub async fn delete(
    clients: &Clients,
    model: &ClusterModel,
    timeout: Duration,
    stop: &StopSignal,
) -> Result<(), Diagnostics> {
    let deadline = Deadline::after(timeout);
    let name = model.name.as_str();
    let groups: Vec<String> = model.node_groups.iter().flat_map(|g| g.keys().cloned()).collect();
    let deletes = groups
        .iter()
        .map(|group| clients.eks.delete_nodegroup(name, group, deadline.left(), stop));
    for result in join_all(deletes).await {
        result.map_err(wait_fail("Could not delete a node group"))?;
    }
    let addons: Vec<String> = model.addons.iter().flat_map(|a| a.keys().cloned()).collect();
    for addon in &addons {
        clients
            .eks
            .delete_addon(name, addon, deadline.left(), stop)
            .await
            .map_err(wait_fail("Could not delete an add-on"))?;
    }
    // Access entries go with the cluster. Only a cluster this resource
    // created or imported (its ARN is in state) is deleted, never another
    // state's cluster of the same name.
    if model.arn.is_some() {
        clients
            .eks
            .delete_cluster(name, deadline.left(), stop)
            .await
            .map_err(wait_fail("Could not delete the EKS cluster"))?;
    }
    let ec2 = &clients.ec2;
    if let Some(sg) = &model.api_security_group_id {
        retry_while_dependents_remain("the API security group to be deleted", deadline.left(), stop, || {
            ec2.delete_security_group(sg)
        })
        .await
        .map_err(wait_fail("Could not delete the API security group"))?;
    }
    for nat in model.nat_gateway_ids.iter().flatten() {
        ec2.delete_nat_gateway(nat)
            .await
            .map_err(fail("Could not delete a NAT gateway"))?;
    }
    let waits = model
        .nat_gateway_ids
        .iter()
        .flatten()
        .map(|nat| ec2.wait_for_nat_gateway(nat, "deleted", deadline.left(), stop));
    for result in join_all(waits).await {
        result.map_err(wait_fail("NAT gateway was not deleted"))?;
    }
    for eip in model.eip_allocation_ids.iter().flatten() {
        ec2.release_eip(eip)
            .await
            .map_err(fail("Could not release an Elastic IP"))?;
    }
    for table in model
        .private_route_table_ids
        .iter()
        .flatten()
        .chain(model.public_route_table_ids.iter().flatten())
    {
        ec2.delete_route_table(table)
            .await
            .map_err(fail("Could not delete a route table"))?;
    }
    for subnet in model
        .private_subnet_ids
        .iter()
        .flatten()
        .chain(model.public_subnet_ids.iter().flatten())
    {
        retry_while_dependents_remain("a subnet to be deleted", deadline.left(), stop, || {
            ec2.delete_subnet(subnet)
        })
        .await
        .map_err(wait_fail("Could not delete a subnet"))?;
    }
    if let (Some(igw), Some(vpc)) = (&model.internet_gateway_id, &model.vpc_id) {
        retry_while_dependents_remain("the internet gateway to be deleted", deadline.left(), stop, || {
            ec2.delete_internet_gateway(igw, vpc)
        })
        .await
        .map_err(wait_fail("Could not delete the internet gateway"))?;
    }
    if let Some(vpc) = &model.vpc_id {
        retry_while_dependents_remain("the VPC to be deleted", deadline.left(), stop, || ec2.delete_vpc(vpc))
            .await
            .map_err(wait_fail("Could not delete the VPC"))?;
    }
    for role in model.created_iam_role_names.iter().flatten() {
        clients
            .iam
            .delete_role(role)
            .await
            .map_err(fail("Could not delete an IAM role"))?;
    }
    Ok(())
}

/// State for an existing cluster and the VPC it runs in, named `name` in the
/// clients' region. Subnets are told apart by their Kubernetes role tags;
/// roles named the way this resource names its own count as created by it.
pub async fn import(
    clients: &Clients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
) -> Result<ClusterModel, Diagnostics> {
    let read_err = fail("Could not read the cluster to import");
    let region = clients.region.as_str();
    let Some(cluster) = clients.eks.find_cluster(name).await.map_err(&read_err)? else {
        return Err(error(
            "Cluster not found",
            format!("There is no EKS cluster {name:?} in {region}: import as REGION/NAME."),
        ));
    };
    let vpc_config = cluster
        .resources_vpc_config()
        .cloned()
        .unwrap_or_else(|| aws_sdk_eks::types::VpcConfigResponse::builder().build());
    let vpc_id = vpc_config.vpc_id().unwrap_or_default().to_string();
    let vpc = clients.ec2.find_vpc(&vpc_id).await.map_err(&read_err)?;
    let vpc_cidr = vpc
        .as_ref()
        .and_then(|v| v.cidr_block())
        .unwrap_or_default()
        .to_string();

    // Subnets by role tag, in zone order.
    let has_tag = |s: &aws_sdk_ec2::types::Subnet, key: &str| s.tags().iter().any(|t| t.key() == Some(key));
    let mut subnets = clients.ec2.subnets_of_vpc(&vpc_id).await.map_err(&read_err)?;
    subnets.sort_by(|a, b| a.availability_zone().cmp(&b.availability_zone()));
    let private: Vec<_> = subnets
        .iter()
        .filter(|s| has_tag(s, "kubernetes.io/role/internal-elb"))
        .collect();
    let public: Vec<_> = subnets
        .iter()
        .filter(|s| has_tag(s, "kubernetes.io/role/elb"))
        .collect();
    let ids = |list: &[&aws_sdk_ec2::types::Subnet]| {
        list.iter()
            .filter_map(|s| s.subnet_id().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let zones: Vec<String> = private
        .iter()
        .filter_map(|s| s.availability_zone().map(str::to_string))
        .collect();

    // Route tables: the one each private subnet uses, and the public one.
    let tables = clients.ec2.find_route_tables_of_vpc(&vpc_id).await.map_err(&read_err)?;
    let table_of = |subnet: &str| {
        tables
            .iter()
            .find(|t| t.associations().iter().any(|a| a.subnet_id() == Some(subnet)))
            .and_then(|t| t.route_table_id().map(str::to_string))
    };
    let private_ids = ids(&private);
    let public_ids = ids(&public);
    let private_tables: Vec<String> = private_ids.iter().filter_map(|s| table_of(s)).collect();
    let mut public_tables: Vec<String> = public_ids.iter().filter_map(|s| table_of(s)).collect();
    public_tables.dedup();

    let nats = clients.ec2.nat_gateways_of_vpc(&vpc_id).await.map_err(&read_err)?;
    let nat_mode = match nats.len() {
        0 => "none",
        1 => "single",
        _ => "one_per_az",
    };
    let api_sg = vpc_config.security_group_ids().first().cloned();
    let api_cidrs = match &api_sg {
        Some(sg) => clients.ec2.https_cidrs(sg).await.map_err(&read_err)?,
        None => Vec::new(),
    };

    // Node groups, add-ons and access entries as they are.
    let mut node_groups = BTreeMap::new();
    let mut node_role = None;
    for group in clients.eks.list_nodegroups(name).await.map_err(&read_err)? {
        if let Some(ng) = clients.eks.find_nodegroup(name, &group).await.map_err(&read_err)? {
            node_role = node_role.or(ng.node_role().map(str::to_string));
            let spec = nodegroup_spec(&ng);
            node_groups.insert(group, NodeGroupModel::from_spec(&spec));
        }
    }
    let mut addons = BTreeMap::new();
    for addon in clients.eks.list_addons(name).await.map_err(&read_err)? {
        if let Some((version, configuration_values)) = clients.eks.find_addon(name, &addon).await.map_err(&read_err)? {
            addons.insert(
                addon,
                AddonModel {
                    version: Some(version),
                    configuration_values,
                },
            );
        }
    }
    // Access entries are not adopted: EKS makes one for whoever created the
    // cluster, which a configuration rarely lists and must not plan to delete.
    // Entries the configuration lists are taken over by the first apply.

    let cluster_role = cluster.role_arn().map(str::to_string);
    let (own_cluster_role, own_node_role) = role_names(
        &ClusterModel {
            name: name.to_string(),
            ..Default::default()
        },
        region,
    );
    // No node group yet (an apply killed before it got there): the node role
    // made for this cluster, found by name and owner tag, is adopted too, or
    // destroy would leave it behind.
    if node_role.is_none() {
        node_role = clients
            .iam
            .find_owned_role(&own_node_role, &format!("{region}/{name}"))
            .await
            .map_err(&read_err)?;
    }
    let created_roles: Vec<String> = [&cluster_role, &node_role]
        .into_iter()
        .flatten()
        .map(|arn| role_name(arn).to_string())
        .filter(|role| *role == own_cluster_role || *role == own_node_role)
        .collect();
    let tags_all: BTreeMap<String, String> = cluster
        .tags()
        .map(|t| t.clone().into_iter().collect())
        .unwrap_or_default();
    let tags: BTreeMap<String, String> = tags_all
        .iter()
        .filter(|(k, v)| default_tags.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let enabled_logs: BTreeSet<String> = cluster
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_string()))
        .collect();

    let mut model = ClusterModel {
        name: name.to_string(),
        region: Some(region.to_string()),
        vpc_cidr,
        availability_zone_count: Some(zones.len() as f64),
        availability_zones: Some(zones),
        nat_gateway_mode: Some(nat_mode.to_string()),
        public_access_cidrs: (!vpc_config.public_access_cidrs().is_empty() && vpc_config.endpoint_public_access())
            .then(|| vpc_config.public_access_cidrs().iter().cloned().collect()),
        api_allowed_cidrs: (!api_cidrs.is_empty()).then(|| api_cidrs.into_iter().collect()),
        node_groups: (!node_groups.is_empty()).then_some(node_groups),
        addons: (!addons.is_empty()).then_some(addons),
        secrets_kms_key_arn: cluster
            .encryption_config()
            .first()
            .and_then(|e| e.provider())
            .and_then(|p| p.key_arn())
            .map(str::to_string),
        enabled_log_types: (!enabled_logs.is_empty()).then_some(enabled_logs),
        cluster_role_arn: cluster_role,
        node_role_arn: node_role,
        tags: (!tags.is_empty()).then_some(tags),
        tags_all: Some(tags_all),
        id: Some(format!("{region}/{name}")),
        vpc_id: Some(vpc_id.clone()),
        private_subnet_ids: Some(private_ids),
        public_subnet_ids: Some(public_ids),
        private_route_table_ids: Some(private_tables),
        public_route_table_ids: Some(public_tables),
        internet_gateway_id: clients.ec2.internet_gateway_of_vpc(&vpc_id).await.map_err(&read_err)?,
        nat_gateway_ids: Some(nats.iter().map(|(id, _, _)| id.clone()).collect()),
        eip_allocation_ids: Some(nats.iter().filter_map(|(_, _, eip)| eip.clone()).collect()),
        api_security_group_id: api_sg,
        created_iam_role_names: Some(created_roles),
        ..Default::default()
    };
    apply_cluster_facts(&mut model, &cluster, region);
    Ok(model)
}
