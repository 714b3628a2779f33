//! A cluster in an existing VPC: `vpc_id` with `private_subnet_ids` (and
//! optionally `public_subnet_ids`) instead of `vpc_cidr`. Nothing of the
//! network is created or deleted: the subnets only get the cluster's
//! Kubernetes tags, which destroy takes off again, and the route table
//! outputs are the tables the subnets use (for peering routes).
//!
//! Which tags this resource added to a subnet is recorded on the subnet
//! itself, in the same CreateTags call, under `eksfleet:tags-added/NAME`:
//! so destroy removes exactly those, even after an interrupted apply or an
//! import, and never a key (or a value) that was there before.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{RouteTable, Subnet};

use super::model::ClusterModel;
use super::network::{NetworkHealth, ObservedNetwork};
use super::run::{Clients, Run, fail};
use crate::aws::ec2::{Ec2, tag_map};
use crate::aws::ec2_reconcile::EKS_UNSUPPORTED_ZONE_IDS;
use crate::aws::waiters::{Backoff, EC2_PROPAGATION, Poll, WaitError, wait_until};
use crate::aws::{Aws, AwsError};
use crate::resources::error;
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::value::Value;

pub const CLUSTER_TAG_PREFIX: &str = "kubernetes.io/cluster/";
pub const PRIVATE_ROLE_TAG: &str = "kubernetes.io/role/internal-elb";
pub const PUBLIC_ROLE_TAG: &str = "kubernetes.io/role/elb";
/// Tag on a user's subnet listing (space-separated) the keys this resource added to it.
pub const ADDED_TAGS_PREFIX: &str = "eksfleet:tags-added/";

/// Attributes that shape a network the resource creates: not with `vpc_id`.
const NETWORK_CREATING: &[(&str, &str)] = &[
    (
        "nat_gateway_mode",
        "the resource creates no NAT gateways there, and the subnets' routing is the VPC's own",
    ),
    ("availability_zones", "the zones are those of private_subnet_ids"),
    ("availability_zone_count", "the zones are those of private_subnet_ids"),
];

pub fn cluster_tag(name: &str) -> String {
    format!("{CLUSTER_TAG_PREFIX}{name}")
}

fn marker(name: &str) -> String {
    format!("{ADDED_TAGS_PREFIX}{name}")
}

/// The tags a subnet of the cluster carries, as on the subnets the resource creates.
pub fn subnet_tags(name: &str, public: bool) -> [(String, String); 2] {
    let role = if public { PUBLIC_ROLE_TAG } else { PRIVATE_ROLE_TAG };
    [(cluster_tag(name), "shared".into()), (role.into(), "1".into())]
}

/// What to add to a subnet with tags `current`: each of the cluster's tags
/// whose key it lacks (a key already there keeps its value), plus the
/// record of every key added so far. Empty when nothing is missing.
pub fn tags_to_add(name: &str, public: bool, current: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let marker = marker(name);
    let mut added: BTreeSet<String> = current
        .get(&marker)
        .map(|v| v.split(' ').filter(|k| !k.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let mut tags: BTreeMap<String, String> = subnet_tags(name, public)
        .into_iter()
        .filter(|(key, _)| !current.contains_key(key))
        .collect();
    if tags.is_empty() {
        return tags;
    }
    added.extend(tags.keys().cloned());
    tags.insert(marker, added.into_iter().collect::<Vec<_>>().join(" "));
    tags
}

/// The keys to take off a subnet on destroy: those the record says this
/// resource added, and the record. A role key stays while another
/// cluster's tag is on the subnet (that cluster's load balancers use it).
pub fn tags_to_remove(name: &str, current: &BTreeMap<String, String>) -> Vec<String> {
    let marker = marker(name);
    let Some(added) = current.get(&marker) else {
        return Vec::new();
    };
    let own = cluster_tag(name);
    let other_cluster = current.keys().any(|k| k.starts_with(CLUSTER_TAG_PREFIX) && *k != own);
    let mut keys: Vec<String> = added
        .split(' ')
        .filter(|k| !k.is_empty() && current.contains_key(*k))
        .filter(|k| !(other_cluster && (*k == PRIVATE_ROLE_TAG || *k == PUBLIC_ROLE_TAG)))
        .map(str::to_string)
        .collect();
    keys.push(marker);
    keys
}

/// The route table of each subnet (its explicit association, else the
/// VPC's main table), each table once, in subnet order.
pub fn route_tables_of(subnets: &[String], tables: &[RouteTable]) -> Vec<String> {
    let main = tables
        .iter()
        .find(|t| t.associations().iter().any(|a| a.main() == Some(true)))
        .and_then(|t| t.route_table_id());
    let mut ids: Vec<String> = Vec::new();
    for subnet in subnets {
        let table = tables
            .iter()
            .find(|t| t.associations().iter().any(|a| a.subnet_id() == Some(subnet.as_str())))
            .and_then(|t| t.route_table_id())
            .or(main);
        if let Some(table) = table
            && !ids.iter().any(|id| id == table)
        {
            ids.push(table.to_string());
        }
    }
    ids
}

/// A problem with the given subnets, for the attribute that lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetProblem {
    pub path: AttributePath,
    pub summary: &'static str,
    pub detail: String,
}

/// The zones of the private subnets (in their order, each once), or what
/// is wrong with the subnets: not found in the region, in another VPC, in
/// a zone EKS refuses, or the private ones in fewer than two zones.
pub fn check_subnets(
    vpc_id: &str,
    private: &[String],
    public: &[String],
    found: &[Subnet],
    region: &str,
) -> Result<Vec<String>, Vec<SubnetProblem>> {
    let mut problems = Vec::new();
    let mut zones: Vec<String> = Vec::new();
    for (attr, ids) in [("private_subnet_ids", private), ("public_subnet_ids", public)] {
        for (i, id) in ids.iter().enumerate() {
            let path = AttributePath::attr(attr).index(i);
            let Some(subnet) = found.iter().find(|s| s.subnet_id() == Some(id.as_str())) else {
                problems.push(SubnetProblem {
                    path,
                    summary: "Subnet not found",
                    detail: format!(
                        "{attr}[{i}]: there is no subnet {id} in {region}: use subnets of {vpc_id} in the \
                         cluster's region ({region})."
                    ),
                });
                continue;
            };
            let in_vpc = subnet.vpc_id().unwrap_or_default();
            if in_vpc != vpc_id {
                problems.push(SubnetProblem {
                    path,
                    summary: "Subnet in another VPC",
                    detail: format!(
                        "{attr}[{i}]: subnet {id} is in {in_vpc}, not in vpc_id {vpc_id}: use subnets of \
                         {vpc_id}, or set vpc_id = \"{in_vpc}\"."
                    ),
                });
                continue;
            }
            let zone = subnet.availability_zone().unwrap_or_default();
            if attr == "private_subnet_ids" {
                if let Some(zone_id) = subnet
                    .availability_zone_id()
                    .filter(|z| EKS_UNSUPPORTED_ZONE_IDS.contains(z))
                {
                    problems.push(SubnetProblem {
                        path,
                        summary: "Subnet in a zone EKS refuses",
                        detail: format!(
                            "{attr}[{i}]: subnet {id} is in {zone} (zone id {zone_id}), where EKS refuses cluster \
                             subnets: use subnets in other zones."
                        ),
                    });
                    continue;
                }
                if !zones.iter().any(|z| z == zone) {
                    zones.push(zone.to_string());
                }
            }
        }
    }
    if problems.is_empty() && zones.len() < 2 {
        problems.push(SubnetProblem {
            path: AttributePath::attr("private_subnet_ids"),
            summary: "Subnets in fewer than two availability zones",
            detail: format!(
                "private_subnet_ids: the subnets are all in {}, and EKS requires subnets in at least two \
                 availability zones: add a subnet of {vpc_id} in another zone.",
                zones.first().map_or("one zone", String::as_str)
            ),
        });
    }
    if problems.is_empty() { Ok(zones) } else { Err(problems) }
}

fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Null => Some(Vec::new()),
        Value::List(items) => items.iter().map(|v| v.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

/// Checks of the configuration alone (ValidateResourceConfig): exactly one
/// of `vpc_cidr` and `vpc_id`, subnets only (and then required) with
/// `vpc_id`, and none of the attributes that shape a created network.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let (cidr, vpc) = (config.attr("vpc_cidr"), config.attr("vpc_id"));
    let (private, public) = (config.attr("private_subnet_ids"), config.attr("public_subnet_ids"));
    if !cidr.is_null() && !vpc.is_null() {
        diags.attribute_error(
            &AttributePath::attr("vpc_id"),
            "Both vpc_cidr and vpc_id are set",
            "vpc_id: set either vpc_cidr (a new VPC for the cluster) or vpc_id (an existing VPC), not both: \
             remove vpc_cidr to use the existing VPC, or remove vpc_id, private_subnet_ids and public_subnet_ids \
             to create one.",
        );
        return;
    }
    if cidr.is_null() && vpc.is_null() {
        diags.attribute_error(
            &AttributePath::attr("vpc_cidr"),
            "No network for the cluster",
            "vpc_cidr: set vpc_cidr (such as \"10.0.0.0/16\") for a new VPC, or vpc_id with private_subnet_ids to \
             use an existing VPC.",
        );
        return;
    }
    if vpc.is_null() {
        for (attr, value) in [("private_subnet_ids", private), ("public_subnet_ids", public)] {
            if !value.is_null() {
                diags.attribute_error(
                    &AttributePath::attr(attr),
                    "Subnets given for a new VPC",
                    format!(
                        "{attr}: only with vpc_id (an existing VPC); with vpc_cidr the resource creates the subnets. \
                         Remove {attr}, or set vpc_id instead of vpc_cidr."
                    ),
                );
            }
        }
        return;
    }
    for (attr, why) in NETWORK_CREATING {
        if !config.attr(attr).is_null() {
            diags.attribute_error(
                &AttributePath::attr(attr),
                "Not with an existing VPC",
                format!("{attr}: only with vpc_cidr; with vpc_id {why}. Remove {attr}."),
            );
        }
    }
    match strings(private) {
        _ if private.is_null() => diags.attribute_error(
            &AttributePath::attr("private_subnet_ids"),
            "Missing subnets for the existing VPC",
            "private_subnet_ids: vpc_id needs the subnets for the cluster and its node groups: set \
             private_subnet_ids to subnets of the VPC in at least two availability zones.",
        ),
        Some(ids) if ids.len() < 2 => diags.attribute_error(
            &AttributePath::attr("private_subnet_ids"),
            "Subnets in fewer than two availability zones",
            format!(
                "private_subnet_ids: {} subnet(s), and EKS requires subnets in at least two availability zones: \
                 list subnets of the VPC in two or more zones.",
                ids.len()
            ),
        ),
        _ => {}
    }
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (attr, value) in [("private_subnet_ids", private), ("public_subnet_ids", public)] {
        for id in strings(value).unwrap_or_default() {
            match seen.get(&id) {
                Some(first) => diags.attribute_error(
                    &AttributePath::attr(attr),
                    "Subnet listed twice",
                    if *first == attr {
                        format!("{attr}: {id} is listed twice: list each subnet once.")
                    } else {
                        format!(
                            "{attr}: {id} is also in {first}: a subnet is either private (cluster, nodes, internal \
                             load balancers) or public (internet-facing load balancers), not both."
                        )
                    },
                ),
                None => {
                    seen.insert(id, attr);
                }
            }
        }
    }
}

/// Plan-time part: with `vpc_id`, what the network attributes will be, and
/// the subnets checked with DescribeSubnets (found in the cluster's region,
/// in `vpc_id`, the private ones in two zones or more) before anything
/// exists. The zones are those of the private subnets.
pub async fn plan(aws: &Aws, prior: &Value, config: &Value, planned: &mut Value, diags: &mut Diagnostics) {
    // Nothing of the network is made: no NAT mode, gateway or addresses.
    planned.set_attr("nat_gateway_mode", Value::Null);
    planned.set_attr("internet_gateway_id", Value::Null);
    for name in ["nat_gateway_ids", "eip_allocation_ids"] {
        planned.set_attr(name, Value::List(Vec::new()));
    }
    if config.attr("public_subnet_ids").is_null() {
        planned.set_attr("public_subnet_ids", Value::List(Vec::new()));
    }
    let (vpc_id, private, public) = match (
        config.attr("vpc_id").as_str(),
        strings(config.attr("private_subnet_ids")),
        strings(config.attr("public_subnet_ids")),
    ) {
        (Some(vpc), Some(private), Some(public)) => (vpc.to_string(), private, public),
        // Known at apply: so are the zones.
        _ => {
            planned.set_attr("availability_zones", Value::Unknown);
            planned.set_attr("availability_zone_count", Value::Unknown);
            return;
        }
    };
    let unchanged = !prior.is_null()
        && ["vpc_id", "private_subnet_ids", "public_subnet_ids"]
            .iter()
            .all(|name| prior.attr(name) == planned.attr(name));
    if unchanged {
        return;
    }
    let Some(region) = planned.attr("region").as_str().map(str::to_string) else {
        return;
    };
    let ec2 = Ec2::new(aws.ec2(&region, super::planned_role(planned)).await, &region);
    let ids: Vec<String> = private.iter().chain(&public).cloned().collect();
    let found = match ec2.find_subnets(&ids).await {
        Ok(found) => found,
        Err(e) => {
            return diags.attribute_error(
                &AttributePath::attr("private_subnet_ids"),
                "Could not read the subnets",
                format!("private_subnet_ids: {e} (the provider needs ec2:DescribeSubnets)."),
            );
        }
    };
    match check_subnets(&vpc_id, &private, &public, &found, &region) {
        Ok(zones) => {
            planned.set_attr("availability_zone_count", Value::Number(zones.len() as f64));
            planned.set_attr(
                "availability_zones",
                Value::List(zones.into_iter().map(Value::string).collect()),
            );
        }
        Err(problems) => {
            for p in problems {
                diags.attribute_error(&p.path, p.summary, p.detail);
            }
        }
    }
}

/// The existing network as the cluster needs it: the subnets checked again
/// and tagged, the zones and the route tables the subnets use recorded.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    let desired = run.desired;
    let vpc_id = desired.vpc_id.clone().or(state.vpc_id.clone()).unwrap_or_default();
    let private = desired.private_subnet_ids.clone().unwrap_or_default();
    let public = desired.public_subnet_ids.clone().unwrap_or_default();
    state.vpc_id = Some(vpc_id.clone());
    state.private_subnet_ids = Some(private.clone());
    state.public_subnet_ids = Some(public.clone());
    state.nat_gateway_mode = None;
    state.internet_gateway_id = None;
    state.nat_gateway_ids = Some(Vec::new());
    state.eip_allocation_ids = Some(Vec::new());
    let ids: Vec<String> = private.iter().chain(&public).cloned().collect();
    let found = find_all_subnets(run, &ids).await?;
    let zones = check_subnets(&vpc_id, &private, &public, &found, run.region()).map_err(|problems| {
        let details: Vec<String> = problems.into_iter().map(|p| p.detail).collect();
        error("The subnets cannot hold the cluster", details.join("\n"))
    })?;
    state.availability_zone_count = Some(zones.len() as f64);
    state.availability_zones = Some(zones);
    for subnet in &found {
        let Some(id) = subnet.subnet_id() else { continue };
        let add = tags_to_add(run.name(), public.iter().any(|p| p == id), &tag_map(subnet.tags()));
        ec2.add_tags(id, &add)
            .await
            .map_err(fail("Could not tag a subnet for the cluster"))?;
    }
    let tables = ec2
        .find_route_tables_of_vpc(&vpc_id)
        .await
        .map_err(fail("Could not read the VPC's route tables"))?;
    state.private_route_table_ids = Some(route_tables_of(&private, &tables));
    state.public_route_table_ids = Some(route_tables_of(&public, &tables));
    Ok(())
}

/// The subnets `ids`, waiting out EC2's eventual consistency for ones made
/// a moment ago (by the same apply, say) that DescribeSubnets does not list
/// yet; after `EC2_PROPAGATION` what is found is returned.
async fn find_all_subnets(run: &Run<'_>, ids: &[String]) -> Result<Vec<Subnet>, Diagnostics> {
    let ec2 = &run.clients.ec2;
    let read = fail("Could not read the subnets");
    let found = ec2.find_subnets(ids).await.map_err(&read)?;
    if found.len() >= ids.len() {
        return Ok(found);
    }
    let waited = wait_until(
        "the subnets to be listed",
        EC2_PROPAGATION,
        Backoff::default(),
        run.stop,
        || async {
            let found = ec2.find_subnets(ids).await?;
            Ok(if found.len() >= ids.len() {
                Poll::Ready(found)
            } else {
                Poll::Pending(format!("{} of {} listed", found.len(), ids.len()))
            })
        },
    )
    .await;
    match waited {
        Ok(found) => Ok(found),
        Err(WaitError::Timeout { .. }) => ec2.find_subnets(ids).await.map_err(&read),
        Err(e) => Err(error("Could not read the subnets", e)),
    }
}

/// What refresh finds of the existing network: the VPC and every given
/// subnet still there (a gone one cannot be repaired in place, so the
/// cluster is planned anew, and that plan names the subnet), the route
/// tables the subnets use now, and the API security group's rules.
pub async fn observe(clients: &Clients, state: &ClusterModel) -> Result<ObservedNetwork, AwsError> {
    let ec2 = &clients.ec2;
    let vpc_id = state.vpc_id.clone().unwrap_or_default();
    let private = state.private_subnet_ids.clone().unwrap_or_default();
    let public = state.public_subnet_ids.clone().unwrap_or_default();
    let ids: Vec<String> = private.iter().chain(&public).cloned().collect();
    let api = async {
        match &state.api_security_group_id {
            Some(sg) => ec2.https_cidrs(sg).await.map(Some),
            None => Ok(None),
        }
    };
    let (vpc, subnets, tables, api) = tokio::join!(
        ec2.find_vpc(&vpc_id),
        ec2.find_subnets(&ids),
        ec2.find_route_tables_of_vpc(&vpc_id),
        api
    );
    let gone = vpc?.is_none() || subnets?.len() != ids.len();
    let tables = tables?;
    Ok(ObservedNetwork {
        health: if gone {
            NetworkHealth::VpcGone
        } else {
            NetworkHealth::Intact
        },
        api_cidrs: api.ok().flatten().map(|cidrs| cidrs.into_iter().collect()),
        route_tables: Some((route_tables_of(&private, &tables), route_tables_of(&public, &tables))),
    })
}

/// On destroy: takes off the subnets exactly the tags this resource added
/// (see `tags_to_remove`); the VPC, subnets and route tables stay.
pub async fn untag(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let ec2 = &run.clients.ec2;
    let ids: Vec<String> = [&state.private_subnet_ids, &state.public_subnet_ids]
        .into_iter()
        .flatten()
        .flatten()
        .cloned()
        .collect();
    let found = ec2
        .find_subnets(&ids)
        .await
        .map_err(fail("Could not read the subnets to untag"))?;
    for subnet in &found {
        let Some(id) = subnet.subnet_id() else { continue };
        let keys = tags_to_remove(run.name(), &tag_map(subnet.tags()));
        ec2.remove_tags(id, &keys)
            .await
            .map_err(fail("Could not remove the cluster's tags from a subnet"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::RouteTableAssociation;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn apply(current: &mut BTreeMap<String, String>, add: BTreeMap<String, String>) {
        current.extend(add);
    }

    fn remove(current: &mut BTreeMap<String, String>, keys: Vec<String>) {
        for key in keys {
            current.remove(&key);
        }
    }

    #[test]
    fn tags_added_are_exactly_the_tags_removed() {
        let before = tags(&[("Name", "app-a"), ("kubernetes.io/role/internal-elb", "1")]);
        let mut subnet = before.clone();
        let add = tags_to_add("edge", false, &subnet);
        assert_eq!(
            add,
            tags(&[
                ("eksfleet:tags-added/edge", "kubernetes.io/cluster/edge"),
                ("kubernetes.io/cluster/edge", "shared"),
            ]),
            "a key already there keeps its value and is not recorded"
        );
        apply(&mut subnet, add);
        assert!(tags_to_add("edge", false, &subnet).is_empty(), "nothing twice");
        let keys = tags_to_remove("edge", &subnet);
        remove(&mut subnet, keys);
        assert_eq!(subnet, before);
        assert!(
            tags_to_remove("edge", &before).is_empty(),
            "nothing added, nothing removed"
        );
    }

    #[test]
    fn a_role_tag_stays_while_another_cluster_uses_the_subnet() {
        let mut subnet = tags(&[("Name", "shared-net")]);
        let add = tags_to_add("a", true, &subnet);
        apply(&mut subnet, add);
        let add = tags_to_add("b", true, &subnet);
        apply(&mut subnet, add);
        assert_eq!(
            subnet.get("eksfleet:tags-added/b").map(String::as_str),
            Some("kubernetes.io/cluster/b")
        );
        let keys = tags_to_remove("a", &subnet);
        remove(&mut subnet, keys);
        assert_eq!(subnet.get("kubernetes.io/role/elb").map(String::as_str), Some("1"));
        assert!(!subnet.contains_key("kubernetes.io/cluster/a"));
        let keys = tags_to_remove("b", &subnet);
        remove(&mut subnet, keys);
        assert!(!subnet.contains_key("kubernetes.io/cluster/b"));
    }

    fn table(id: &str, subnets: &[&str], main: bool) -> RouteTable {
        let mut t = RouteTable::builder().route_table_id(id);
        for s in subnets {
            t = t.associations(RouteTableAssociation::builder().subnet_id(*s).main(false).build());
        }
        if main {
            t = t.associations(RouteTableAssociation::builder().main(true).build());
        }
        t.build()
    }

    #[test]
    fn a_subnet_without_its_own_table_uses_the_main_one() {
        let tables = [
            table("rtb-main", &[], true),
            table("rtb-a", &["subnet-a", "subnet-c"], false),
        ];
        let subnets = ["subnet-a", "subnet-b", "subnet-c"].map(String::from);
        assert_eq!(route_tables_of(&subnets, &tables), ["rtb-a", "rtb-main"]);
        assert!(route_tables_of(&[], &tables).is_empty());
    }

    fn subnet(id: &str, vpc: &str, zone: &str) -> Subnet {
        Subnet::builder()
            .subnet_id(id)
            .vpc_id(vpc)
            .availability_zone(zone)
            .availability_zone_id(format!("use1-{zone}"))
            .build()
    }

    #[test]
    fn subnets_are_checked_for_region_vpc_and_zones() {
        let found = [
            subnet("subnet-a", "vpc-1", "us-east-1a"),
            subnet("subnet-b", "vpc-1", "us-east-1b"),
            subnet("subnet-c", "vpc-1", "us-east-1a"),
            subnet("subnet-x", "vpc-2", "us-east-1b"),
        ];
        let ids = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let zones = check_subnets(
            "vpc-1",
            &ids(&["subnet-c", "subnet-a", "subnet-b"]),
            &[],
            &found,
            "us-east-1",
        );
        assert_eq!(zones.unwrap(), ["us-east-1a", "us-east-1b"]);
        let one_zone = check_subnets("vpc-1", &ids(&["subnet-a", "subnet-c"]), &[], &found, "us-east-1").unwrap_err();
        assert!(one_zone[0].detail.contains("at least two"), "{one_zone:?}");
        let problems = check_subnets(
            "vpc-1",
            &ids(&["subnet-a", "subnet-x"]),
            &ids(&["subnet-gone"]),
            &found,
            "us-east-1",
        )
        .unwrap_err();
        let details: Vec<&str> = problems.iter().map(|p| p.detail.as_str()).collect();
        assert_eq!(problems.len(), 2, "{details:?}");
        assert!(
            details[0].starts_with("private_subnet_ids[1]: subnet subnet-x is in vpc-2"),
            "{details:?}"
        );
        assert!(
            details[1].starts_with("public_subnet_ids[0]: there is no subnet subnet-gone"),
            "{details:?}"
        );
    }
}
