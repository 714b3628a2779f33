//! Adopting an existing cluster and the VPC it runs in (ImportResourceState).
//! Terraform refreshes right after, through the same observe path as any plan.

use std::collections::{BTreeMap, BTreeSet};

use super::control_plane::apply_cluster_facts;
use super::model::{AddonModel, ClusterModel, NodeGroupModel};
use super::roles::own_role_names;
use super::run::{ACTIVE, Clients, fail};
use crate::aws::eks::nodegroup_spec;
use crate::aws::iam::{oidc_provider_arn, partition_of, role_name};
use crate::aws::waiters::StopSignal;
use crate::resources::error;
use tfplugin::diagnostics::Diagnostics;

/// State for an existing cluster and the VPC it runs in, named `name` in the
/// clients' region. Subnets are told apart by their Kubernetes role tags;
/// roles named the way this resource names its own count as created by it.
pub async fn import(
    clients: &Clients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
    stop: &StopSignal,
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
        // Named by EKS, so it exists: a NotFound is EC2 catching up with a
        // group created just before the import (an apply killed mid-create).
        Some(sg) => clients
            .ec2
            .with_new_ids(stop)
            .https_cidrs(sg)
            .await
            .map_err(&read_err)?,
        None => Vec::new(),
    };

    // Node groups, add-ons and access entries as they are.
    let mut node_groups = BTreeMap::new();
    let mut node_group_versions = BTreeMap::new();
    let mut node_role = None;
    for group in clients.eks.list_nodegroups(name).await.map_err(&read_err)? {
        if let Some(ng) = clients.eks.find_nodegroup(name, &group).await.map_err(&read_err)? {
            node_role = node_role.or(ng.node_role().map(str::to_string));
            let spec = nodegroup_spec(&ng);
            if let Some(version) = ng.version() {
                node_group_versions.insert(group.clone(), version.to_string());
            }
            node_groups.insert(group, NodeGroupModel::from_spec(&spec));
        }
    }
    // Pod identity associations: those an add-on made are the add-on's
    // `pod_identity_role_arn`; the rest are `pod_identity_associations`.
    let associations = clients
        .eks
        .list_pod_identity_associations(name)
        .await
        .map_err(&read_err)?;
    let mut addons = BTreeMap::new();
    for addon in clients.eks.list_addons(name).await.map_err(&read_err)? {
        if let Some(installed) = clients.eks.find_addon(name, &addon).await.map_err(&read_err)? {
            let pod_identity_role_arn = associations
                .iter()
                .find(|a| a.owner_arn.as_deref() == Some(installed.arn.as_str()))
                .map(|a| a.role_arn.clone());
            addons.insert(
                addon,
                AddonModel {
                    version: Some(installed.version),
                    configuration_values: installed.configuration_values,
                    service_account_role_arn: installed.service_account_role_arn.filter(|r| !r.is_empty()),
                    pod_identity_role_arn,
                    create_role: Some(false),
                    resolve_conflicts: Some("OVERWRITE".into()),
                    preserve_on_delete: Some(false),
                    ..Default::default()
                },
            );
        }
    }
    let own_associations: Vec<_> = associations.iter().filter(|a| a.owner_arn.is_none()).collect();
    let association_key = |a: &crate::aws::eks::FoundAssociation| format!("{}/{}", a.namespace, a.service_account);
    // Access entries are not adopted: EKS makes one for whoever created the
    // cluster, which a configuration rarely lists and must not plan to delete.
    // Entries the configuration lists are taken over by the first apply.

    let cluster_role = cluster.role_arn().map(str::to_string);
    let (own_cluster_role, own_node_role) = own_role_names(name, region);
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

    let log_retention_days = super::log_group::imported_retention(clients, name)
        .await
        .map_err(&read_err)?;

    let node_group_keys: Vec<String> = node_groups.keys().cloned().collect();
    let node_groups_empty = node_groups.is_empty();
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
        log_retention_days,
        cluster_role_arn: cluster_role,
        node_role_arn: node_role,
        // A setting of how this resource upgrades, not of the cluster: its default.
        force_update_version: Some(false),
        tags: (!tags.is_empty()).then_some(tags),
        tags_all: Some(tags_all),
        id: Some(format!("{region}/{name}")),
        vpc_id: Some(vpc_id.clone()),
        private_subnet_ids: Some(private_ids),
        public_subnet_ids: Some(public_ids),
        private_route_table_ids: Some(private_tables),
        public_route_table_ids: Some(public_tables),
        internet_gateway_id: clients.ec2.internet_gateway_of_vpc(&vpc_id).await.map_err(&read_err)?,
        node_group_names: (!node_groups_empty)
            .then(|| node_group_keys.iter().map(|k| (k.clone(), k.clone())).collect()),
        node_group_versions: (!node_group_versions.is_empty()).then_some(node_group_versions),
        nat_gateway_ids: Some(nats.iter().map(|nat| nat.id.clone()).collect()),
        eip_allocation_ids: Some(nats.iter().filter_map(|nat| nat.allocation_id.clone()).collect()),
        api_security_group_id: api_sg,
        created_iam_role_names: Some(created_roles),
        pod_identity_associations: (!own_associations.is_empty()).then(|| {
            own_associations
                .iter()
                .map(|a| (association_key(a), a.role_arn.clone()))
                .collect()
        }),
        pod_identity_association_ids: (!own_associations.is_empty()).then(|| {
            own_associations
                .iter()
                .map(|a| (association_key(a), a.id.clone()))
                .collect()
        }),
        ..Default::default()
    };
    apply_cluster_facts(&mut model, &cluster, region);
    // The issuer's OIDC provider, when one exists, is taken over (and deleted with the cluster).
    let oidc_arn = match (&model.oidc_issuer_url, &model.arn) {
        (Some(issuer), Some(arn)) => {
            let account = arn.split(':').nth(4).unwrap_or_default();
            let provider = oidc_provider_arn(partition_of(arn), account, issuer);
            clients
                .iam
                .find_oidc_provider_tags(&provider)
                .await
                .map_err(&read_err)?
                .map(|_| provider)
        }
        _ => None,
    };
    model.oidc_provider = Some(oidc_arn.is_some());
    model.oidc_provider_arn = oidc_arn;
    model.status = Some(ACTIVE.into());
    Ok(model)
}
