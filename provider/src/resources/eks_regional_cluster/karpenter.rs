//! `karpenter`: what Karpenter needs from AWS before its Helm chart goes in,
//! as Karpenter's getting-started CloudFormation template makes it
//! (https://karpenter.sh/docs/getting-started/getting-started-with-karpenter/):
//! the node role (with an `EC2_LINUX` access entry and an instance profile),
//! the interruption queue and the EventBridge rules that feed it, the
//! controller role (EKS Pod Identity, inline KarpenterControllerPolicy) and
//! its association, and `karpenter.sh/discovery` tags on the private subnets
//! and the cluster security group (the one managed nodes get).
//!
//! `state.karpenter`'s computed fields are the record: each is set the
//! moment its object exists, so a failed apply leaves an exact inventory.
//! The arguments are written last, so a failure leaves a diff that makes the
//! next apply continue.

use std::collections::BTreeMap;

use super::model::{ClusterModel, KARPENTER_NAMESPACE, KARPENTER_SERVICE_ACCOUNT, KarpenterModel};
use super::roles::{bounded, ensure_owned_role};
use super::run::{Clients, Run, fail};
use crate::aws::AwsError;
use crate::aws::eks::{AccessEntrySpec, FoundAssociation, is_role_propagation};
use crate::aws::iam::{KARPENTER_NODE_ROLE, POD_IDENTITY_ROLE, partition_of, role_name};
use crate::aws::sqs::{DELETED_NAME_RESERVED, is_deleted_recently, queue_policy, same_policy};
use crate::aws::tags::{OWNER_TAG, STACK_TAG};
use crate::aws::waiters::{IAM_PROPAGATION, retry_while};
use crate::resources::error;
use tfplugin::diagnostics::Diagnostics;
use tfplugin::value::Value;

/// The tag Karpenter's EC2NodeClass selectors look for.
pub const DISCOVERY_TAG: &str = "karpenter.sh/discovery";
/// The controller role's inline policy.
pub const CONTROLLER_POLICY: &str = "KarpenterControllerPolicy";
/// The target id of each rule (Karpenter's template's).
const TARGET_ID: &str = "KarpenterInterruptionQueueTarget";
const ROLE_NAME_LIMIT: usize = 64;
const QUEUE_NAME_LIMIT: usize = 80;
const RULE_NAME_LIMIT: usize = 64;

/// The events Karpenter handles, by rule suffix, as EventBridge patterns.
const RULES: &[(&str, &str, &str)] = &[
    ("scheduled-change", "aws.health", "AWS Health Event"),
    ("spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    (
        "instance-state-change",
        "aws.ec2",
        "EC2 Instance State-change Notification",
    ),
];

/// The names of what this part makes for cluster `name` in `region`. IAM is
/// global, so the roles carry the region; queues and rules are regional.
pub struct Names {
    pub controller_role: String,
    pub node_role: String,
    pub queue: String,
    pub rules: Vec<String>,
}

pub fn names(name: &str, region: &str) -> Names {
    Names {
        controller_role: bounded(format!("{name}-{region}-karpenter"), ROLE_NAME_LIMIT),
        node_role: bounded(format!("{name}-{region}-karpenter-node"), ROLE_NAME_LIMIT),
        queue: bounded(name.to_string(), QUEUE_NAME_LIMIT),
        rules: RULES
            .iter()
            .map(|(suffix, _, _)| bounded(format!("{name}-karpenter-{suffix}"), RULE_NAME_LIMIT))
            .collect(),
    }
}

fn event_pattern(source: &str, detail_type: &str) -> String {
    serde_json::json!({ "source": [source], "detail-type": [detail_type] }).to_string()
}

/// The account of an IAM ARN (`arn:PARTITION:iam::ACCOUNT:role/NAME`).
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// What KarpenterControllerPolicy in Karpenter's v1 CloudFormation template
/// grants, for this cluster's queue, node role and region: launching and
/// tagging instances and launch templates scoped to the cluster's tags,
/// terminating them, regional EC2 reads, the AMI parameters in SSM, prices,
/// the interruption queue, passing the node role to EC2, the instance
/// profiles it makes for that role, and DescribeCluster.
pub fn controller_policy(
    cluster: &str,
    cluster_arn: &str,
    region: &str,
    queue_arn: &str,
    node_role_arn: &str,
) -> String {
    let partition = partition_of(node_role_arn);
    let account = account_of(node_role_arn);
    let ec2 = |kind: &str| format!("arn:{partition}:ec2:{region}:*:{kind}/*");
    let owned = format!("aws:ResourceTag/kubernetes.io/cluster/{cluster}");
    let request_owned = format!("aws:RequestTag/kubernetes.io/cluster/{cluster}");
    let created = [
        "fleet",
        "instance",
        "volume",
        "network-interface",
        "launch-template",
        "spot-instances-request",
    ];
    let profile = format!("arn:{partition}:iam::{account}:instance-profile/*");
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowScopedEC2InstanceAccessActions",
                "Effect": "Allow",
                "Resource": [
                    format!("arn:{partition}:ec2:{region}::image/*"),
                    format!("arn:{partition}:ec2:{region}::snapshot/*"),
                    ec2("security-group"),
                    ec2("subnet"),
                    ec2("capacity-reservation"),
                ],
                "Action": ["ec2:RunInstances", "ec2:CreateFleet"]
            },
            {
                "Sid": "AllowScopedEC2LaunchTemplateAccessActions",
                "Effect": "Allow",
                "Resource": ec2("launch-template"),
                "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                "Condition": {
                    "StringEquals": { owned.clone(): "owned" },
                    "StringLike": { "aws:ResourceTag/karpenter.sh/nodepool": "*" }
                }
            },
            {
                "Sid": "AllowScopedEC2InstanceActionsWithTags",
                "Effect": "Allow",
                "Resource": created.iter().map(|k| ec2(k)).collect::<Vec<_>>(),
                "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                "Condition": {
                    "StringEquals": {
                        request_owned.clone(): "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster
                    },
                    "StringLike": { "aws:RequestTag/karpenter.sh/nodepool": "*" }
                }
            },
            {
                "Sid": "AllowScopedResourceCreationTagging",
                "Effect": "Allow",
                "Resource": created.iter().map(|k| ec2(k)).collect::<Vec<_>>(),
                "Action": "ec2:CreateTags",
                "Condition": {
                    "StringEquals": {
                        request_owned.clone(): "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster,
                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]
                    },
                    "StringLike": { "aws:RequestTag/karpenter.sh/nodepool": "*" }
                }
            },
            {
                "Sid": "AllowScopedResourceTagging",
                "Effect": "Allow",
                "Resource": ec2("instance"),
                "Action": "ec2:CreateTags",
                "Condition": {
                    "StringEquals": { owned.clone(): "owned" },
                    "StringLike": { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
                    "StringEqualsIfExists": { "aws:RequestTag/eks:eks-cluster-name": cluster },
                    "ForAllValues:StringEquals": {
                        "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                    }
                }
            },
            {
                "Sid": "AllowScopedDeletion",
                "Effect": "Allow",
                "Resource": [ec2("instance"), ec2("launch-template")],
                "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                "Condition": {
                    "StringEquals": { owned.clone(): "owned" },
                    "StringLike": { "aws:ResourceTag/karpenter.sh/nodepool": "*" }
                }
            },
            {
                "Sid": "AllowRegionalReadActions",
                "Effect": "Allow",
                "Resource": "*",
                "Action": [
                    "ec2:DescribeCapacityReservations",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceTypeOfferings",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeSubnets"
                ],
                "Condition": { "StringEquals": { "aws:RequestedRegion": region } }
            },
            {
                "Sid": "AllowSSMReadActions",
                "Effect": "Allow",
                "Resource": format!("arn:{partition}:ssm:{region}::parameter/aws/service/*"),
                "Action": "ssm:GetParameter"
            },
            {
                "Sid": "AllowPricingReadActions",
                "Effect": "Allow",
                "Resource": "*",
                "Action": "pricing:GetProducts"
            },
            {
                "Sid": "AllowInterruptionQueueActions",
                "Effect": "Allow",
                "Resource": queue_arn,
                "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
            },
            {
                "Sid": "AllowPassingInstanceRole",
                "Effect": "Allow",
                "Resource": node_role_arn,
                "Action": "iam:PassRole",
                "Condition": { "StringEquals": { "iam:PassedToService": ["ec2.amazonaws.com"] } }
            },
            {
                "Sid": "AllowScopedInstanceProfileCreationActions",
                "Effect": "Allow",
                "Resource": profile.clone(),
                "Action": ["iam:CreateInstanceProfile"],
                "Condition": {
                    "StringEquals": {
                        request_owned.clone(): "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster,
                        "aws:RequestTag/topology.kubernetes.io/region": region
                    },
                    "StringLike": { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" }
                }
            },
            {
                "Sid": "AllowScopedInstanceProfileTagActions",
                "Effect": "Allow",
                "Resource": profile.clone(),
                "Action": ["iam:TagInstanceProfile"],
                "Condition": {
                    "StringEquals": {
                        owned.clone(): "owned",
                        "aws:ResourceTag/topology.kubernetes.io/region": region,
                        request_owned: "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster,
                        "aws:RequestTag/topology.kubernetes.io/region": region
                    },
                    "StringLike": {
                        "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                        "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"
                    }
                }
            },
            {
                "Sid": "AllowScopedInstanceProfileActions",
                "Effect": "Allow",
                "Resource": profile,
                "Action": [
                    "iam:AddRoleToInstanceProfile",
                    "iam:RemoveRoleFromInstanceProfile",
                    "iam:DeleteInstanceProfile"
                ],
                "Condition": {
                    "StringEquals": {
                        owned: "owned",
                        "aws:ResourceTag/topology.kubernetes.io/region": region
                    },
                    "StringLike": { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" }
                }
            },
            {
                "Sid": "AllowInstanceProfileReadActions",
                "Effect": "Allow",
                "Resource": format!("arn:{partition}:iam::{account}:instance-profile/*"),
                "Action": "iam:GetInstanceProfile"
            },
            {
                "Sid": "AllowAPIServerEndpointDiscovery",
                "Effect": "Allow",
                "Resource": cluster_arn,
                "Action": "eks:DescribeCluster"
            }
        ]
    })
    .to_string()
}

/// Whether every object is recorded, for the arguments `wanted`.
fn complete(record: &KarpenterModel, wanted: &KarpenterModel) -> bool {
    record.queue_name.is_some()
        && record.node_role_name.is_some()
        && record.controller_role_arn.is_some()
        && record.instance_profile_name.is_some()
        && record.pod_identity_association_id.is_some()
        && record.event_rule_names.as_ref().map_or(0, Vec::len) == RULES.len()
        && record.enabled == Some(true)
        && record.namespace() == wanted.namespace()
        && record.service_account() == wanted.service_account()
}

/// The record in state, made if missing.
fn record(state: &mut ClusterModel) -> &mut KarpenterModel {
    state.karpenter.get_or_insert_default()
}

/// Brings Karpenter's prerequisites to the configuration: made (or
/// repaired) when enabled, removed when disabled or removed.
pub async fn ensure(run: &Run<'_>, state: &mut ClusterModel) -> Result<(), Diagnostics> {
    let Some(wanted) = run.desired.karpenter.clone().filter(|_| run.desired.wants_karpenter()) else {
        if let Some(mut current) = state.karpenter.clone() {
            let result = remove(run, state, &mut current, true).await;
            state.karpenter = Some(current);
            result?;
        }
        state.karpenter = run.desired.karpenter.as_ref().map(KarpenterModel::arguments);
        return Ok(());
    };
    if let Some(current) = &state.karpenter
        && complete(current, &wanted)
        && !run.repairing
    {
        return Ok(());
    }
    let names = names(run.name(), run.region());
    let iam = &run.clients.iam;

    // The node role, its instance profile and its access entry.
    let recorded = state.karpenter.clone().unwrap_or_default();
    let node_arn = ensure_owned_role(
        run,
        &names.node_role,
        &KARPENTER_NODE_ROLE,
        recorded.node_role_name.as_deref() == Some(&names.node_role),
    )
    .await
    .map_err(fail("Could not create Karpenter's node IAM role"))?;
    record(state).node_role_name = Some(names.node_role.clone());
    iam.attach_policies(&names.node_role, &node_arn, &KARPENTER_NODE_ROLE)
        .await
        .map_err(fail("Could not attach the policies of Karpenter's node IAM role"))?;
    let profile_recorded = recorded.instance_profile_name.as_deref() == Some(&names.node_role)
        && iam
            .find_instance_profile(&names.node_role)
            .await
            .map_err(fail("Could not read Karpenter's instance profile"))?
            .is_some();
    if !profile_recorded {
        iam.create_instance_profile(&names.node_role, &run.object_tags(names.node_role.clone(), &[]))
            .await
            .map_err(fail("Could not create Karpenter's instance profile"))?;
    }
    record(state).instance_profile_name = Some(names.node_role.clone());
    iam.set_instance_profile_role(&names.node_role, &names.node_role)
        .await
        .map_err(fail("Could not add Karpenter's node role to its instance profile"))?;
    let tags = run.eks_tags();
    run.clients
        .eks
        .create_access_entry(
            run.name(),
            &AccessEntrySpec {
                principal: &node_arn,
                entry_type: "EC2_LINUX",
                groups: &[],
                user_name: None,
                tags: &tags,
            },
            run.stop,
        )
        .await
        .map_err(fail("Could not create the access entry of Karpenter's node role"))?;

    // The interruption queue and the rules that feed it.
    let queue_arn = ensure_queue(run, state, &names.queue).await?;
    ensure_rules(run, state, &names.rules, &queue_arn).await?;

    // The controller role and its association.
    let controller_recorded = recorded
        .controller_role_arn
        .as_deref()
        .is_some_and(|arn| role_name(arn) == names.controller_role);
    let controller_arn = ensure_owned_role(run, &names.controller_role, &POD_IDENTITY_ROLE, controller_recorded)
        .await
        .map_err(fail("Could not create Karpenter's controller IAM role"))?;
    record(state).controller_role_arn = Some(controller_arn.clone());
    let cluster_arn = state.arn.clone().unwrap_or_default();
    let policy = controller_policy(run.name(), &cluster_arn, run.region(), &queue_arn, &node_arn);
    iam.put_role_policy(&names.controller_role, CONTROLLER_POLICY, &policy)
        .await
        .map_err(fail("Could not set the policy of Karpenter's controller IAM role"))?;
    ensure_association(run, state, &wanted, &controller_arn).await?;

    // Discovery tags, for EC2NodeClass subnet and security group selectors.
    let discovery = BTreeMap::from([(DISCOVERY_TAG.to_string(), run.name().to_string())]);
    for id in discovery_targets(state) {
        run.clients.ec2.add_tags(&id, &discovery).await.map_err(fail(
            "Could not tag a subnet or security group for Karpenter's discovery",
        ))?;
    }
    let record = record(state);
    record.enabled = wanted.enabled;
    record.namespace = wanted.namespace.clone();
    record.service_account = wanted.service_account.clone();
    Ok(())
}

/// The private subnets and the cluster security group.
fn discovery_targets(state: &ClusterModel) -> Vec<String> {
    state
        .private_subnet_ids
        .iter()
        .flatten()
        .chain(state.cluster_security_group_id.as_ref())
        .cloned()
        .collect()
}

/// The queue exists, this stack's, with SSE and its policy. Returns its ARN.
async fn ensure_queue(run: &Run<'_>, state: &mut ClusterModel, name: &str) -> Result<String, Diagnostics> {
    let sqs = &run.clients.sqs;
    let read_err = fail("Could not read Karpenter's interruption queue");
    let mut queue = sqs.find_queue(name).await.map_err(&read_err)?;
    let recorded = state.karpenter.as_ref().and_then(|k| k.queue_name.as_deref()) == Some(name);
    if let Some(found) = &queue
        && !recorded
        && found.tags.get(STACK_TAG) != Some(&run.stack_id)
    {
        return Err(error(
            "Could not create Karpenter's interruption queue",
            format!(
                "SQS queue {name} already exists in {} and this resource did not create it: delete it, or leave \
                 karpenter disabled",
                run.region()
            ),
        ));
    }
    if queue.is_none() {
        let tags = run.object_tags(name.to_string(), &[]);
        // A queue deleted (out of band, or by a replaced stack) keeps its name for a minute.
        retry_while(
            "waiting for SQS to free the name of a queue deleted less than a minute ago",
            DELETED_NAME_RESERVED,
            run.stop,
            is_deleted_recently,
            || sqs.create_queue(name, &tags),
        )
        .await
        .map_err(fail("Could not create Karpenter's interruption queue"))?;
        record(state).queue_name = Some(name.to_string());
        queue = sqs.find_queue(name).await.map_err(&read_err)?;
    }
    let Some(queue) = queue else {
        return Err(error(
            "Could not create Karpenter's interruption queue",
            format!(
                "SQS queue {name} in {} was deleted while it was being created: apply again",
                run.region()
            ),
        ));
    };
    record(state).queue_name = Some(name.to_string());
    let policy = queue_policy(&queue.arn);
    if !queue.managed_sse || !queue.policy.as_deref().is_some_and(|p| same_policy(p, &policy)) {
        sqs.set_policy(&queue.url, &policy)
            .await
            .map_err(fail("Could not set the policy of Karpenter's interruption queue"))?;
    }
    Ok(queue.arn)
}

/// Each rule exists, this stack's, with its pattern and the queue as target.
async fn ensure_rules(
    run: &Run<'_>,
    state: &mut ClusterModel,
    names: &[String],
    queue_arn: &str,
) -> Result<(), Diagnostics> {
    let events = &run.clients.events;
    for (name, (_, source, detail_type)) in names.iter().zip(RULES) {
        let found = events
            .find_rule(name)
            .await
            .map_err(fail("Could not read an EventBridge rule of Karpenter's"))?;
        let recorded = state
            .karpenter
            .as_ref()
            .and_then(|k| k.event_rule_names.as_ref())
            .is_some_and(|r| r.contains(name));
        if let Some(found) = &found
            && !recorded
            && found.tags.get(STACK_TAG) != Some(&run.stack_id)
        {
            return Err(error(
                "Could not create an EventBridge rule of Karpenter's",
                format!(
                    "EventBridge rule {name} already exists in {} and this resource did not create it: delete it, \
                     or leave karpenter disabled",
                    run.region()
                ),
            ));
        }
        let pattern = event_pattern(source, detail_type);
        let same_pattern = found
            .as_ref()
            .and_then(|f| f.event_pattern.as_deref())
            .is_some_and(|p| same_policy(p, &pattern));
        if !same_pattern {
            let description = format!("{detail_type} to Karpenter's interruption queue of {}", run.owner());
            events
                .put_rule(name, &pattern, &description, &run.object_tags(name.clone(), &[]))
                .await
                .map_err(fail("Could not create an EventBridge rule of Karpenter's"))?;
        }
        let rules = record(state).event_rule_names.get_or_insert_default();
        if !rules.contains(name) {
            rules.push(name.clone());
        }
        if found
            .as_ref()
            .and_then(|f| f.targets.get(TARGET_ID))
            .map(String::as_str)
            != Some(queue_arn)
        {
            events
                .put_target(name, TARGET_ID, queue_arn)
                .await
                .map_err(fail("Could not send an EventBridge rule's events to Karpenter's queue"))?;
        }
    }
    Ok(())
}

/// The controller's service account is associated with its role; an
/// association for another namespace or service account (the arguments
/// changed) is replaced.
async fn ensure_association(
    run: &Run<'_>,
    state: &mut ClusterModel,
    wanted: &KarpenterModel,
    role_arn: &str,
) -> Result<(), Diagnostics> {
    let eks = &run.clients.eks;
    let name = run.name();
    let current = state.karpenter.clone().unwrap_or_default();
    if let Some(id) = &current.pod_identity_association_id {
        let moved = current.namespace() != wanted.namespace() || current.service_account() != wanted.service_account();
        if !moved && current.enabled == Some(true) {
            let found = eks
                .find_pod_identity_association(name, id)
                .await
                .map_err(fail("Could not read Karpenter's pod identity association"))?;
            if found.is_some_and(|a| a.role_arn == role_arn) {
                return Ok(());
            }
        }
        eks.delete_pod_identity_association(name, id)
            .await
            .map_err(fail("Could not delete Karpenter's old pod identity association"))?;
        record(state).pod_identity_association_id = None;
    }
    let tags = run.eks_tags();
    let id = retry_while(
        "waiting for IAM to show Karpenter's controller role to EKS",
        IAM_PROPAGATION,
        run.stop,
        is_role_propagation,
        || eks.create_pod_identity_association(name, wanted.namespace(), wanted.service_account(), role_arn, &tags),
    )
    .await
    .map_err(fail("Could not create Karpenter's pod identity association"))?;
    record(state).pod_identity_association_id = Some(id);
    Ok(())
}

/// Removes what `record` records, clearing each field as its object goes.
/// `cluster_alive`: the association, the access entry and the discovery tags
/// are removed too (DeleteCluster takes the first two with it).
async fn remove(
    run: &Run<'_>,
    state: &ClusterModel,
    record: &mut KarpenterModel,
    cluster_alive: bool,
) -> Result<(), Diagnostics> {
    let clients = run.clients;
    let name = run.name();
    if cluster_alive {
        if let Some(id) = &record.pod_identity_association_id {
            clients
                .eks
                .delete_pod_identity_association(name, id)
                .await
                .map_err(fail("Could not delete Karpenter's pod identity association"))?;
        }
        record.pod_identity_association_id = None;
        if let Some(role) = &record.node_role_name
            && let Some(arn) = clients
                .iam
                .find_owned_role(role, &run.owner())
                .await
                .map_err(fail("Could not read Karpenter's node IAM role"))?
        {
            clients
                .eks
                .delete_access_entry(name, &arn)
                .await
                .map_err(fail("Could not delete the access entry of Karpenter's node role"))?;
        }
    }
    // Only where this resource put them: its subnets and security group, or
    // an existing VPC's subnets (left as they were found).
    if record.enabled == Some(true) && (cluster_alive || state.existing_network()) {
        let targets: Vec<String> = if cluster_alive {
            discovery_targets(state)
        } else {
            state.private_subnet_ids.clone().unwrap_or_default()
        };
        clients
            .ec2
            .remove_tag_if(&targets, DISCOVERY_TAG, name)
            .await
            .map_err(fail("Could not remove Karpenter's discovery tags"))?;
    }
    while let Some(rule) = record.event_rule_names.as_ref().and_then(|r| r.first()).cloned() {
        clients
            .events
            .delete_rule(&rule)
            .await
            .map_err(fail("Could not delete an EventBridge rule of Karpenter's"))?;
        if let Some(rules) = record.event_rule_names.as_mut() {
            rules.retain(|r| *r != rule);
        }
    }
    record.event_rule_names = None;
    if let Some(queue) = &record.queue_name {
        clients
            .sqs
            .delete_queue(queue)
            .await
            .map_err(fail("Could not delete Karpenter's interruption queue"))?;
    }
    record.queue_name = None;
    if let Some(profile) = &record.instance_profile_name {
        clients
            .iam
            .delete_instance_profile(profile)
            .await
            .map_err(fail("Could not delete Karpenter's instance profile"))?;
    }
    record.instance_profile_name = None;
    let controller = record
        .controller_role_arn
        .as_deref()
        .map(|arn| role_name(arn).to_string());
    for role in [controller, record.node_role_name.clone()].into_iter().flatten() {
        clients
            .iam
            .delete_role_and_dependents(&role, run.stop)
            .await
            .map_err(fail("Could not delete an IAM role of Karpenter's"))?;
    }
    record.controller_role_arn = None;
    record.node_role_name = None;
    Ok(())
}

/// After the cluster: what it did not take with it.
pub async fn delete(run: &Run<'_>, state: &ClusterModel) -> Result<(), Diagnostics> {
    let Some(mut record) = state.karpenter.clone() else {
        return Ok(());
    };
    remove(run, state, &mut record, false).await
}

/// The record as things are: an object gone out of band drops out (the
/// plan then shows the part made again). `None` when nothing is recorded.
pub async fn observe(clients: &Clients, prior: &ClusterModel) -> Result<Option<KarpenterModel>, AwsError> {
    let Some(record) = prior.karpenter.clone().filter(KarpenterModel::records_anything) else {
        return Ok(None);
    };
    // The owner tag, not the stack tag: an imported state has no stack id yet.
    let owner = format!("{}/{}", clients.region, prior.name);
    let mut observed = record.clone();
    if let Some(role) = &record.node_role_name {
        match clients.iam.find_owned_role(role, &owner).await? {
            // A missing access entry is repaired with the role.
            Some(arn) if clients.eks.find_access_entry(&prior.name, &arn).await?.is_some() => {}
            _ => observed.node_role_name = None,
        }
    }
    if let Some(arn) = &record.controller_role_arn
        && clients.iam.find_owned_role(role_name(arn), &owner).await?.is_none()
    {
        observed.controller_role_arn = None;
    }
    if let Some(profile) = &record.instance_profile_name {
        let found = clients.iam.find_instance_profile(profile).await?;
        let holds_role = found.is_some_and(|p| record.node_role_name.as_ref().is_some_and(|r| p.roles.contains(r)));
        if !holds_role {
            observed.instance_profile_name = None;
        }
    }
    let queue = match &record.queue_name {
        Some(queue) => clients.sqs.find_queue(queue).await?,
        None => None,
    };
    if queue.is_none() {
        observed.queue_name = None;
    }
    if let Some(rules) = &record.event_rule_names {
        let mut kept = Vec::new();
        for rule in rules {
            let found = clients.events.find_rule(rule).await?;
            let targets_queue = found
                .zip(queue.as_ref())
                .is_some_and(|(f, q)| f.targets.get(TARGET_ID) == Some(&q.arn));
            if targets_queue {
                kept.push(rule.clone());
            }
        }
        observed.event_rule_names = Some(kept);
    }
    if let Some(id) = &record.pod_identity_association_id
        && clients
            .eks
            .find_pod_identity_association(&prior.name, id)
            .await?
            .is_none()
    {
        observed.pod_identity_association_id = None;
    }
    Ok(Some(observed))
}

/// For import: what this resource made for Karpenter in `region` (found by
/// name and owner tag), `None` when it made no node role for Karpenter.
pub async fn imported(
    clients: &Clients,
    name: &str,
    region: &str,
    associations: &[FoundAssociation],
) -> Result<Option<KarpenterModel>, AwsError> {
    let names = names(name, region);
    let owner = format!("{region}/{name}");
    let iam = &clients.iam;
    if iam.find_owned_role(&names.node_role, &owner).await?.is_none() {
        return Ok(None);
    }
    let controller = iam.find_owned_role(&names.controller_role, &owner).await?;
    let association = associations
        .iter()
        .find(|a| a.owner_arn.is_none() && Some(&a.role_arn) == controller.as_ref());
    let profile = iam
        .find_instance_profile(&names.node_role)
        .await?
        .filter(|p| p.tags.get(OWNER_TAG) == Some(&owner));
    let queue = clients
        .sqs
        .find_queue(&names.queue)
        .await?
        .filter(|q| q.tags.get(OWNER_TAG) == Some(&owner));
    let mut rules = Vec::new();
    for rule in &names.rules {
        if let Some(found) = clients.events.find_rule(rule).await?
            && found.tags.get(OWNER_TAG) == Some(&owner)
        {
            rules.push(rule.clone());
        }
    }
    Ok(Some(KarpenterModel {
        enabled: Some(true),
        namespace: Some(
            association
                .map_or(KARPENTER_NAMESPACE, |a| a.namespace.as_str())
                .to_string(),
        ),
        service_account: Some(
            association
                .map_or(KARPENTER_SERVICE_ACCOUNT, |a| a.service_account.as_str())
                .to_string(),
        ),
        queue_name: queue.map(|_| names.queue.clone()),
        node_role_name: Some(names.node_role.clone()),
        controller_role_arn: controller,
        instance_profile_name: profile.map(|_| names.node_role.clone()),
        pod_identity_association_id: association.map(|a| a.id.clone()),
        event_rule_names: Some(rules),
    }))
}

/// The objects' tags follow the resource's (`tags::ensure`).
pub async fn sync_tags(run: &Run<'_>, state: &ClusterModel) -> Result<(), AwsError> {
    let Some(record) = &state.karpenter else {
        return Ok(());
    };
    let clients = run.clients;
    let current = state.tags_all.clone().unwrap_or_default();
    let wanted = run.desired.tags_all.clone().unwrap_or_default();
    let controller = record.controller_role_arn.as_deref().map(role_name);
    for role in [controller, record.node_role_name.as_deref()].into_iter().flatten() {
        clients.iam.sync_role_tags(role, &current, &wanted).await?;
    }
    if let Some(profile) = &record.instance_profile_name {
        clients
            .iam
            .sync_instance_profile_tags(profile, &current, &wanted)
            .await?;
    }
    if let Some(queue) = &record.queue_name
        && let Some(found) = clients.sqs.find_queue(queue).await?
    {
        clients.sqs.sync_tags(&found.url, &current, &wanted).await?;
    }
    for rule in record.event_rule_names.iter().flatten() {
        if let Some(found) = clients.events.find_rule(rule).await? {
            clients.events.sync_tags(&found.arn, &current, &wanted).await?;
        }
    }
    if let Some(role) = &record.node_role_name
        && let Some(arn) = clients.iam.find_owned_role(role, &run.owner()).await?
        && let Some(entry) = clients.eks.find_access_entry(run.name(), &arn).await?
    {
        clients.eks.sync_tags(&entry.arn, &entry.tags, &wanted).await?;
    }
    Ok(())
}

/// The computed fields of `karpenter`.
const COMPUTED: &[&str] = &[
    "queue_name",
    "node_role_name",
    "controller_role_arn",
    "instance_profile_name",
    "pod_identity_association_id",
    "event_rule_names",
];

/// Plans the computed fields: null when disabled; the recorded values while
/// everything is recorded (a new namespace or service account makes a new
/// association); unknown while something is still to be made.
pub fn plan(prior: &Value, planned: &mut Value) {
    let before = prior.attr("karpenter").clone();
    let Some(karpenter) = planned.attr_mut("karpenter") else {
        return;
    };
    if !matches!(karpenter, Value::Object(_)) {
        return;
    }
    let enabled = karpenter.attr("enabled").clone();
    let complete = COMPUTED.iter().all(|a| !before.attr(a).is_null())
        && before.attr("event_rule_names").elements().len() == RULES.len()
        && before.attr("enabled").as_bool() == Some(true);
    let moved = ["namespace", "service_account"]
        .iter()
        .any(|a| before.attr(a) != karpenter.attr(a));
    for name in COMPUTED {
        let value = match enabled {
            Value::Bool(false) | Value::Null => Value::Null,
            Value::Bool(true) if complete && !(moved && *name == "pod_identity_association_id") => {
                before.attr(name).clone()
            }
            _ => Value::Unknown,
        };
        karpenter.set_attr(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_to_the_limit_with_a_stable_hash() {
        let long = "a".repeat(38);
        let n = names(&long, "ap-southeast-5");
        assert!(n.node_role.len() <= ROLE_NAME_LIMIT && n.controller_role.len() <= ROLE_NAME_LIMIT);
        assert!(n.rules.iter().all(|r| r.len() <= RULE_NAME_LIMIT));
        assert_eq!(n.node_role, names(&long, "ap-southeast-5").node_role);
        assert_ne!(n.rules[0], n.rules[1]);
        assert_eq!(names("hub", "us-east-1").node_role, "hub-us-east-1-karpenter-node");
        assert_eq!(names("hub", "us-east-1").queue, "hub");
    }

    #[test]
    fn the_controller_policy_grants_what_karpenter_documents() {
        let doc = controller_policy(
            "hub",
            "arn:aws:eks:us-east-1:123456789012:cluster/hub",
            "us-east-1",
            "arn:aws:sqs:us-east-1:123456789012:hub",
            "arn:aws:iam::123456789012:role/hub-us-east-1-karpenter-node",
        );
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let actions: Vec<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| match &s["Action"] {
                serde_json::Value::String(a) => vec![a.clone()],
                serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
                _ => vec![],
            })
            .collect();
        for action in [
            "ec2:RunInstances",
            "ec2:CreateFleet",
            "ec2:CreateLaunchTemplate",
            "ec2:CreateTags",
            "ec2:TerminateInstances",
            "ec2:DeleteLaunchTemplate",
            "ec2:DescribeInstanceTypes",
            "iam:PassRole",
            "iam:CreateInstanceProfile",
            "iam:GetInstanceProfile",
            "ssm:GetParameter",
            "pricing:GetProducts",
            "sqs:ReceiveMessage",
            "eks:DescribeCluster",
        ] {
            assert!(actions.iter().any(|a| a == action), "{action} missing");
        }
        let pass = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"] == "iam:PassRole")
            .unwrap();
        assert_eq!(
            pass["Resource"],
            "arn:aws:iam::123456789012:role/hub-us-east-1-karpenter-node"
        );
    }

    #[test]
    fn rules_cover_the_four_events_karpenter_handles() {
        let patterns: Vec<String> = RULES.iter().map(|(_, s, d)| event_pattern(s, d)).collect();
        assert_eq!(patterns.len(), 4);
        assert!(patterns[0].contains("aws.health") && patterns[0].contains("AWS Health Event"));
        assert!(
            patterns
                .iter()
                .any(|p| p.contains("EC2 Spot Instance Interruption Warning"))
        );
    }

    fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn disabling_plans_the_record_null_and_a_new_namespace_a_new_association() {
        let recorded = object([
            ("enabled", Value::Bool(true)),
            ("namespace", Value::string("kube-system")),
            ("service_account", Value::string("karpenter")),
            ("queue_name", Value::string("hub")),
            ("node_role_name", Value::string("n")),
            ("controller_role_arn", Value::string("c")),
            ("instance_profile_name", Value::string("n")),
            ("pod_identity_association_id", Value::string("a-1")),
            (
                "event_rule_names",
                Value::List((0..4).map(|i| Value::string(format!("r{i}"))).collect()),
            ),
        ]);
        let prior = object([("karpenter", recorded.clone())]);
        let mut same = prior.clone();
        plan(&prior, &mut same);
        assert_eq!(same, prior);
        let mut moved = prior.clone();
        moved
            .attr_mut("karpenter")
            .unwrap()
            .set_attr("namespace", Value::string("karpenter"));
        plan(&prior, &mut moved);
        assert!(moved.attr("karpenter").attr("pod_identity_association_id").is_unknown());
        assert_eq!(moved.attr("karpenter").attr("queue_name").as_str(), Some("hub"));
        let mut off = prior.clone();
        off.attr_mut("karpenter")
            .unwrap()
            .set_attr("enabled", Value::Bool(false));
        plan(&prior, &mut off);
        assert!(off.attr("karpenter").attr("queue_name").is_null());
    }
}
