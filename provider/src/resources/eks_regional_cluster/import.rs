//! Adopting an existing cluster and the VPC it runs in (ImportResourceState).
//! Terraform refreshes right after, through the same observe path as any plan.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{Subnet, Vpc};

use super::control_plane::apply_cluster_facts;
use super::existing_vpc::{PRIVATE_ROLE_TAG, PUBLIC_ROLE_TAG, cluster_tag, route_tables_of};
use super::model::{AddonModel, ClusterModel, DiskModel, NodeGroupModel, POD_IDENTITY_AGENT};
use super::roles::{auto_mode_node_role_name, own_role_names};
use super::run::{ACTIVE, Clients, fail};
use crate::aws::AwsError;
use crate::aws::ec2::tag_map;
use crate::aws::ec2_launch_template::TemplateSettings;
use crate::aws::eks::nodegroup_spec;
use crate::aws::iam::{oidc_provider_arn, partition_of, role_name};
use crate::aws::tags::{OWNER_TAG, STACK_TAG};
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
    // A VPC this resource made carries its stack tag and this cluster's
    // owner tag; any other is the user's, adopted as given (`vpc_id`).
    let vpc_tags = vpc.as_ref().map(|v| tag_map(v.tags())).unwrap_or_default();
    let created = vpc_tags.contains_key(STACK_TAG) && vpc_tags.get(OWNER_TAG) == Some(&format!("{region}/{name}"));
    let network = if created {
        created_network(clients, vpc.as_ref(), &vpc_id).await
    } else {
        existing_network(clients, name, &vpc_config, &vpc_id).await
    }
    .map_err(&read_err)?;
    let mut api_sg = vpc_config.security_group_ids().first().cloned();
    // In a VPC of the user's, the cluster's extra security group may be
    // theirs too: only one this resource made (its owner tag) is adopted.
    if !created && let Some(sg) = api_sg.clone() {
        let groups = clients
            .ec2
            .find_security_groups_of_vpc(&vpc_id)
            .await
            .map_err(&read_err)?;
        let owner = format!("{region}/{name}");
        let ours = groups
            .iter()
            .any(|g| g.id == sg && g.tags.get(OWNER_TAG) == Some(&owner));
        if !ours {
            api_sg = None;
        }
    }
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
    let (mut template_ids, mut template_versions) = (BTreeMap::new(), BTreeMap::new());
    let mut node_role = None;
    for group in clients.eks.list_nodegroups(name).await.map_err(&read_err)? {
        if let Some(ng) = clients.eks.find_nodegroup(name, &group).await.map_err(&read_err)? {
            node_role = node_role.or(ng.node_role().map(str::to_string));
            let spec = nodegroup_spec(&ng);
            if let Some(version) = ng.version() {
                node_group_versions.insert(group.clone(), version.to_string());
            }
            let mut model = NodeGroupModel::from_spec(&spec);
            // On a template this stack made: its managed template, whose
            // settings are read back; any other is the user's own.
            if let Some(template) = &spec.launch_template
                && let Some(found) = clients
                    .ec2
                    .read_launch_template(&template.id, &template.version)
                    .await
                    .map_err(&read_err)?
                && found.template_tags.get(OWNER_TAG) == Some(&format!("{region}/{name}"))
            {
                adopt_managed_template(&mut model, found);
                template_ids.insert(group.clone(), template.id.clone());
                template_versions.insert(group.clone(), template.version.clone());
            }
            node_groups.insert(group, model);
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
    // Karpenter's prerequisites this resource made (their owner tag), with
    // the association of its controller role, which is not one of
    // `pod_identity_associations`.
    let karpenter = super::karpenter::imported(clients, name, region, &associations)
        .await
        .map_err(&read_err)?;
    let karpenter_association = karpenter.as_ref().and_then(|k| k.pod_identity_association_id.clone());
    let own_associations: Vec<_> = associations
        .iter()
        .filter(|a| a.owner_arn.is_none() && Some(&a.id) != karpenter_association.as_ref())
        .collect();
    // The Pod Identity agent that Karpenter or the associations need is
    // taken to be implied, as this resource installs it, not listed.
    let implied_addons =
        if (karpenter.is_some() || !own_associations.is_empty()) && addons.remove(POD_IDENTITY_AGENT).is_some() {
            Some(vec![POD_IDENTITY_AGENT.to_string()])
        } else {
            None
        };
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
    // Auto Mode's node role, made here once Auto Mode was on: kept by EKS
    // while Auto Mode is on, found by name and owner tag when it is off.
    let own_auto_node_role = auto_mode_node_role_name(name, region);
    let auto_node_role = match cluster.compute_config().and_then(|c| c.node_role_arn()) {
        Some(arn) => Some(arn.to_string()),
        None => clients
            .iam
            .find_owned_role(&own_auto_node_role, &format!("{region}/{name}"))
            .await
            .map_err(&read_err)?,
    };
    let created_roles: Vec<String> = [&cluster_role, &node_role, &auto_node_role]
        .into_iter()
        .flatten()
        .map(|arn| role_name(arn).to_string())
        .filter(|role| *role == own_cluster_role || *role == own_node_role || *role == own_auto_node_role)
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
        vpc_cidr: network.vpc_cidr,
        availability_zone_count: Some(network.zones.len() as f64),
        availability_zones: Some(network.zones),
        nat_gateway_mode: network.nat_mode,
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
        private_subnet_ids: Some(network.private),
        public_subnet_ids: Some(network.public),
        private_route_table_ids: Some(network.private_tables),
        public_route_table_ids: Some(network.public_tables),
        internet_gateway_id: network.internet_gateway,
        node_group_names: (!node_groups_empty)
            .then(|| node_group_keys.iter().map(|k| (k.clone(), k.clone())).collect()),
        node_group_versions: (!node_group_versions.is_empty()).then_some(node_group_versions),
        node_group_launch_template_ids: (!template_ids.is_empty()).then_some(template_ids),
        node_group_launch_template_versions: (!template_versions.is_empty()).then_some(template_versions),
        nat_gateway_ids: Some(network.nats),
        eip_allocation_ids: Some(network.eips),
        api_security_group_id: api_sg,
        created_iam_role_names: Some(created_roles),
        auto_mode_node_role_arn: auto_node_role,
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
        karpenter,
        implied_addons,
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

/// The network part of an imported cluster's state.
struct ImportedNetwork {
    vpc_cidr: Option<String>,
    zones: Vec<String>,
    nat_mode: Option<String>,
    private: Vec<String>,
    public: Vec<String>,
    private_tables: Vec<String>,
    public_tables: Vec<String>,
    internet_gateway: Option<String>,
    nats: Vec<String>,
    eips: Vec<String>,
}

fn has_tag(subnet: &Subnet, key: &str) -> bool {
    subnet.tags().iter().any(|t| t.key() == Some(key))
}

fn subnet_ids(list: &[&Subnet]) -> Vec<String> {
    list.iter().filter_map(|s| s.subnet_id().map(str::to_string)).collect()
}

/// A VPC this resource made: subnets told apart by their Kubernetes role
/// tags, in zone order, with the route tables, gateways and NAT gateways.
async fn created_network(clients: &Clients, vpc: Option<&Vpc>, vpc_id: &str) -> Result<ImportedNetwork, AwsError> {
    let vpc_cidr = vpc.and_then(|v| v.cidr_block()).unwrap_or_default().to_string();
    let mut subnets = clients.ec2.subnets_of_vpc(vpc_id).await?;
    subnets.sort_by(|a, b| a.availability_zone().cmp(&b.availability_zone()));
    let private: Vec<&Subnet> = subnets.iter().filter(|s| has_tag(s, PRIVATE_ROLE_TAG)).collect();
    let public: Vec<&Subnet> = subnets.iter().filter(|s| has_tag(s, PUBLIC_ROLE_TAG)).collect();
    let zones: Vec<String> = private
        .iter()
        .filter_map(|s| s.availability_zone().map(str::to_string))
        .collect();

    // Route tables: the one each private subnet uses, and the public one.
    let tables = clients.ec2.find_route_tables_of_vpc(vpc_id).await?;
    let table_of = |subnet: &str| {
        tables
            .iter()
            .find(|t| t.associations().iter().any(|a| a.subnet_id() == Some(subnet)))
            .and_then(|t| t.route_table_id().map(str::to_string))
    };
    let private_ids = subnet_ids(&private);
    let public_ids = subnet_ids(&public);
    let private_tables: Vec<String> = private_ids.iter().filter_map(|s| table_of(s)).collect();
    let mut public_tables: Vec<String> = public_ids.iter().filter_map(|s| table_of(s)).collect();
    public_tables.dedup();

    let nats = clients.ec2.nat_gateways_of_vpc(vpc_id).await?;
    let nat_mode = match nats.len() {
        0 => "none",
        1 => "single",
        _ => "one_per_az",
    };
    Ok(ImportedNetwork {
        vpc_cidr: Some(vpc_cidr),
        zones,
        nat_mode: Some(nat_mode.to_string()),
        private: private_ids,
        public: public_ids,
        private_tables,
        public_tables,
        internet_gateway: clients.ec2.internet_gateway_of_vpc(vpc_id).await?,
        nats: nats.iter().map(|nat| nat.id.clone()).collect(),
        eips: nats.iter().filter_map(|nat| nat.allocation_id.clone()).collect(),
    })
}

/// A VPC this resource did not make (`vpc_id`): the private subnets are
/// the cluster's own (in EKS's order) but those tagged for public load
/// balancers, which join the VPC's other subnets tagged for this cluster
/// and for public load balancers; no `vpc_cidr`, NAT mode or gateways.
async fn existing_network(
    clients: &Clients,
    name: &str,
    vpc_config: &aws_sdk_eks::types::VpcConfigResponse,
    vpc_id: &str,
) -> Result<ImportedNetwork, AwsError> {
    let mut subnets = clients.ec2.subnets_of_vpc(vpc_id).await?;
    subnets.sort_by(|a, b| (a.availability_zone(), a.subnet_id()).cmp(&(b.availability_zone(), b.subnet_id())));
    let find = |id: &str| subnets.iter().find(|s| s.subnet_id() == Some(id));
    let private: Vec<&Subnet> = vpc_config
        .subnet_ids()
        .iter()
        .filter_map(|id| find(id))
        .filter(|s| !has_tag(s, PUBLIC_ROLE_TAG))
        .collect();
    let private_ids = subnet_ids(&private);
    let cluster_tag = cluster_tag(name);
    let public: Vec<&Subnet> = subnets
        .iter()
        .filter(|s| has_tag(s, &cluster_tag) && has_tag(s, PUBLIC_ROLE_TAG))
        .filter(|s| !private_ids.iter().any(|p| Some(p.as_str()) == s.subnet_id()))
        .collect();
    let public_ids = subnet_ids(&public);
    let mut zones: Vec<String> = Vec::new();
    for zone in private.iter().filter_map(|s| s.availability_zone()) {
        if !zones.iter().any(|z| z == zone) {
            zones.push(zone.to_string());
        }
    }
    let tables = clients.ec2.find_route_tables_of_vpc(vpc_id).await?;
    Ok(ImportedNetwork {
        vpc_cidr: None,
        zones,
        nat_mode: None,
        private_tables: route_tables_of(&private_ids, &tables),
        public_tables: route_tables_of(&public_ids, &tables),
        private: private_ids,
        public: public_ids,
        internet_gateway: None,
        nats: Vec::new(),
        eips: Vec::new(),
    })
}

/// A group found on this stack's managed template takes its settings from it.
fn adopt_managed_template(model: &mut NodeGroupModel, found: TemplateSettings) {
    model.launch_template = None;
    if let Some(instance_type) = found.instance_type {
        model.instance_types = Some(vec![instance_type]);
    }
    let volume = found.volume;
    model.disk_size = volume.as_ref().map(|v| f64::from(v.size));
    model.disk = Some(volume.map_or_else(Default::default, |v| DiskModel {
        size: Some(f64::from(v.size)),
        volume_type: Some(v.volume_type),
        iops: v.iops.map(f64::from),
        throughput: v.throughput.map(f64::from),
        encrypted: Some(v.encrypted),
        kms_key_arn: v.kms_key_arn,
    }));
    model.imds_hop_limit = found.imds_hop_limit.map(f64::from);
    model.user_data = found.user_data;
}
