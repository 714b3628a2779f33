//! `karpenter` on `fleet_eks_regional_cluster` end to end: the interruption
//! queue and its EventBridge rules, the controller and node roles, the
//! instance profile, the pod identity association, the node role's access
//! entry and the discovery tags, read back from the stand-in through the
//! SDK; removed in place when disabled, and nothing left after destroy.

use anyhow::{Context, Result};
use eksfleet_tests::*;

const CONTROLLER_ROLE: &str = "hub-us-east-1-karpenter";
const NODE_ROLE: &str = "hub-us-east-1-karpenter-node";
const DISCOVERY: &str = "karpenter.sh/discovery";
const RULES: [&str; 4] = [
    "hub-karpenter-instance-state-change",
    "hub-karpenter-rebalance",
    "hub-karpenter-scheduled-change",
    "hub-karpenter-spot-interruption",
];

fn config(body: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region = \"us-east-1\"\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_cidr = \"10.0.0.0/16\"\n  \
         kubernetes_version = \"1.33\"\n  node_groups = {{ system = {{}} }}\n{body}\n}}\n\
         output \"hub\" {{\n  value = fleet_eks_regional_cluster.hub\n}}\n"
    )
}

/// The names of the rules on the default bus, sorted.
async fn rule_names(events: &aws_sdk_eventbridge::Client) -> Result<Vec<String>> {
    let out = events.list_rules().send().await?;
    let mut names: Vec<String> = out
        .rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

/// The value of the discovery tag on each of `ids` (`None` where it has none).
async fn discovery_tags(ec2: &aws_sdk_ec2::Client, ids: &[String]) -> Result<Vec<Option<String>>> {
    let out = ec2
        .describe_tags()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("resource-id")
                .set_values(Some(ids.to_vec()))
                .build(),
        )
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("key")
                .values(DISCOVERY)
                .build(),
        )
        .send()
        .await?;
    Ok(ids
        .iter()
        .map(|id| {
            out.tags()
                .iter()
                .find(|t| t.resource_id() == Some(id.as_str()))
                .and_then(|t| t.value().map(str::to_string))
        })
        .collect())
}

/// Everything the part makes is there, as Karpenter's template has it.
async fn assert_made(moto: &Moto, hub: &serde_json::Value) -> Result<()> {
    let iam = moto.iam().await;
    let eks = moto.eks("us-east-1").await;
    let sqs = moto.sqs("us-east-1").await;
    let events = moto.events("us-east-1").await;
    let ec2 = moto.ec2("us-east-1").await;

    // The queue: SSE on, EventBridge and SQS may send to it.
    let url = sqs.get_queue_url().queue_name("hub").send().await?;
    let url = url.queue_url().context("no queue URL")?;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await?;
    let attributes = attributes.attributes().context("no queue attributes")?;
    let get = |name| attributes.get(&name).cloned().unwrap_or_default();
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    assert_eq!(get(Q::SqsManagedSseEnabled), "true");
    let policy = get(Q::Policy);
    assert!(
        policy.contains("events.amazonaws.com") && policy.contains("sqs.amazonaws.com"),
        "{policy}"
    );
    assert!(policy.contains("sqs:SendMessage"), "{policy}");
    let queue_arn = get(Q::QueueArn);

    // Four rules, each sending to the queue.
    assert_eq!(rule_names(&events).await?, RULES);
    let mut patterns = Vec::new();
    for rule in RULES {
        let targets = events.list_targets_by_rule().rule(rule).send().await?;
        let arns: Vec<&str> = targets.targets().iter().map(|t| t.arn()).collect();
        assert_eq!(arns, [queue_arn.as_str()], "targets of {rule}");
        let described = events.describe_rule().name(rule).send().await?;
        patterns.push(described.event_pattern().unwrap_or_default().to_string());
    }
    let patterns = patterns.join("\n");
    for detail_type in [
        "EC2 Spot Instance Interruption Warning",
        "EC2 Instance Rebalance Recommendation",
        "EC2 Instance State-change Notification",
        "AWS Health Event",
    ] {
        assert!(patterns.contains(detail_type), "{detail_type} missing from\n{patterns}");
    }

    // The controller role: trusted by EKS Pod Identity, Karpenter's policy inline.
    let controller = iam.get_role().role_name(CONTROLLER_ROLE).send().await?;
    let controller = controller.role().context("no controller role")?;
    let trust = urlencoding::decode(controller.assume_role_policy_document().unwrap_or_default())?.into_owned();
    assert!(
        trust.contains("pods.eks.amazonaws.com") && trust.contains("sts:TagSession"),
        "{trust}"
    );
    let inline = iam
        .get_role_policy()
        .role_name(CONTROLLER_ROLE)
        .policy_name("KarpenterControllerPolicy")
        .send()
        .await?;
    let inline = urlencoding::decode(inline.policy_document())?.into_owned();
    for action in [
        "ec2:RunInstances",
        "ec2:CreateFleet",
        "iam:PassRole",
        "sqs:ReceiveMessage",
        "eks:DescribeCluster",
    ] {
        assert!(inline.contains(action), "{action} missing from the controller policy");
    }
    assert!(inline.contains(&queue_arn), "the policy names the queue");

    // The node role, its instance profile and its access entry.
    let node = iam.get_role().role_name(NODE_ROLE).send().await?;
    let node_arn = node.role().context("no node role")?.arn().to_string();
    let attached = iam.list_attached_role_policies().role_name(NODE_ROLE).send().await?;
    let mut policies: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    policies.sort();
    assert_eq!(
        policies,
        [
            "AmazonEC2ContainerRegistryPullOnly",
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonSSMManagedInstanceCore"
        ]
    );
    let profile = iam
        .get_instance_profile()
        .instance_profile_name(NODE_ROLE)
        .send()
        .await?;
    let roles: Vec<&str> = profile
        .instance_profile()
        .context("no instance profile")?
        .roles()
        .iter()
        .map(|r| r.role_name())
        .collect();
    assert_eq!(roles, [NODE_ROLE]);
    let entry = eks
        .describe_access_entry()
        .cluster_name("hub")
        .principal_arn(&node_arn)
        .send()
        .await?;
    assert_eq!(entry.access_entry().and_then(|e| e.r#type()), Some("EC2_LINUX"));

    // The association of the controller's service account.
    let listed = eks.list_pod_identity_associations().cluster_name("hub").send().await?;
    let karpenter: Vec<_> = listed
        .associations()
        .iter()
        .filter(|a| a.service_account() == Some("karpenter"))
        .collect();
    assert_eq!(karpenter.len(), 1, "{listed:?}");
    assert_eq!(karpenter[0].namespace(), Some("kube-system"));
    let id = karpenter[0].association_id().unwrap_or_default();
    let association = eks
        .describe_pod_identity_association()
        .cluster_name("hub")
        .association_id(id)
        .send()
        .await?;
    assert_eq!(
        association.association().and_then(|a| a.role_arn()),
        Some(controller.arn())
    );

    // Discovery tags on the private subnets and the cluster security group.
    let mut ids: Vec<String> = hub["private_subnet_ids"]
        .as_array()
        .context("private_subnet_ids")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    ids.push(
        hub["cluster_security_group_id"]
            .as_str()
            .context("cluster SG")?
            .to_string(),
    );
    assert!(
        discovery_tags(&ec2, &ids)
            .await?
            .iter()
            .all(|t| t.as_deref() == Some("hub")),
        "{ids:?}"
    );

    // The outputs.
    let karpenter = &hub["karpenter"];
    assert_eq!(karpenter["queue_name"], "hub");
    assert_eq!(karpenter["node_role_name"], NODE_ROLE);
    assert_eq!(karpenter["controller_role_arn"], controller.arn());
    Ok(())
}

/// None of it is left (the cluster may be).
async fn assert_gone(moto: &Moto, hub: Option<&serde_json::Value>) -> Result<()> {
    let iam = moto.iam().await;
    let sqs = moto.sqs("us-east-1").await;
    let events = moto.events("us-east-1").await;
    assert!(!role_exists(&iam, CONTROLLER_ROLE).await?);
    assert!(!role_exists(&iam, NODE_ROLE).await?);
    let profiles = iam.list_instance_profiles().send().await?;
    assert!(profiles.instance_profiles().is_empty(), "{profiles:?}");
    assert!(sqs.list_queues().send().await?.queue_urls().is_empty());
    assert!(rule_names(&events).await?.is_empty());
    if let Some(hub) = hub {
        let eks = moto.eks("us-east-1").await;
        let listed = eks.list_pod_identity_associations().cluster_name("hub").send().await?;
        assert!(
            listed
                .associations()
                .iter()
                .all(|a| a.service_account() != Some("karpenter")),
            "{listed:?}"
        );
        let entries = eks.list_access_entries().cluster_name("hub").send().await?;
        assert!(
            entries.access_entries().iter().all(|e| !e.contains(NODE_ROLE)),
            "{entries:?}"
        );
        let mut ids: Vec<String> = hub["private_subnet_ids"]
            .as_array()
            .context("private_subnet_ids")?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        ids.push(
            hub["cluster_security_group_id"]
                .as_str()
                .context("cluster SG")?
                .to_string(),
        );
        let ec2 = moto.ec2("us-east-1").await;
        assert!(discovery_tags(&ec2, &ids).await?.iter().all(Option::is_none));
        assert!(hub["karpenter"]["queue_name"].is_null());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn karpenter_prerequisites_are_made_removed_in_place_and_leave_nothing_after_destroy() -> Result<()> {
    let moto = Moto::start()?;
    let before = inventory(&moto, &["us-east-1"]).await?;
    let ws = Workspace::new(&moto, &config("  karpenter = { enabled = true }"))?;
    ws.apply()?;
    assert_made(&moto, &ws.output("hub")?).await?;
    assert_eq!(
        ws.output("hub")?["implied_addons"],
        serde_json::json!(["eks-pod-identity-agent"]),
        "the controller's pod identity needs its agent"
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    // Disabled: deleted in place.
    ws.write("main.tf", &config("  karpenter = { enabled = false }"))?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert_gone(&moto, Some(&ws.output("hub")?)).await?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after disabling:\n{}", plan.output());

    // Enabled again in another namespace, then destroyed with the cluster.
    ws.write(
        "main.tf",
        &config("  karpenter = { enabled = true, namespace = \"karpenter\" }"),
    )?;
    ws.apply()?;
    let eks = moto.eks("us-east-1").await;
    let listed = eks.list_pod_identity_associations().cluster_name("hub").send().await?;
    assert!(
        listed
            .associations()
            .iter()
            .any(|a| a.namespace() == Some("karpenter") && a.service_account() == Some("karpenter")),
        "{listed:?}"
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after enabling again:\n{}", plan.output());
    ws.destroy()?;
    assert_gone(&moto, None).await?;
    let left = orphans(&before, &inventory(&moto, &["us-east-1"]).await?);
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn karpenter_removed_from_the_configuration_is_deleted_in_place_and_objects_deleted_out_of_band_are_made_again()
-> Result<()> {
    let moto = Moto::start()?;
    let before = inventory(&moto, &["us-east-1"]).await?;
    let ws = Workspace::new(&moto, &config("  karpenter = { enabled = true }"))?;
    ws.apply()?;

    // A rule and the queue deleted out of band: refresh sees them gone, apply makes them again.
    let events = moto.events("us-east-1").await;
    let sqs = moto.sqs("us-east-1").await;
    let rule = "hub-karpenter-rebalance";
    events
        .remove_targets()
        .rule(rule)
        .ids("KarpenterInterruptionQueueTarget")
        .send()
        .await?;
    events.delete_rule().name(rule).send().await?;
    let url = sqs.get_queue_url().queue_name("hub").send().await?;
    sqs.delete_queue()
        .queue_url(url.queue_url().unwrap_or_default())
        .send()
        .await?;
    let plan = ws.plan_exit_code()?;
    assert_eq!(
        plan.code,
        2,
        "refresh finds the rule and queue gone:\n{}",
        plan.output()
    );
    ws.apply()?;
    assert_made(&moto, &ws.output("hub")?).await?;
    assert_eq!(ws.plan_exit_code()?.code, 0);

    // A tag change reaches the queue, the rules, the roles and the instance profile in place.
    ws.write(
        "main.tf",
        &config("  karpenter = { enabled = true }\n  tags = { Team = \"autoscaling\" }"),
    )?;
    ws.apply()?;
    let url = sqs.get_queue_url().queue_name("hub").send().await?;
    let queue_tags = sqs
        .list_queue_tags()
        .queue_url(url.queue_url().unwrap_or_default())
        .send()
        .await?;
    assert_eq!(
        queue_tags.tags().and_then(|t| t.get("Team")).map(String::as_str),
        Some("autoscaling")
    );
    let rule_arn = events
        .describe_rule()
        .name(rule)
        .send()
        .await?
        .arn()
        .unwrap_or_default()
        .to_string();
    let rule_tags = events.list_tags_for_resource().resource_arn(rule_arn).send().await?;
    assert!(
        rule_tags
            .tags()
            .iter()
            .any(|t| t.key() == "Team" && t.value() == "autoscaling"),
        "{rule_tags:?}"
    );
    let iam = moto.iam().await;
    for role in [CONTROLLER_ROLE, NODE_ROLE] {
        let tags = iam.list_role_tags().role_name(role).send().await?;
        assert!(
            tags.tags()
                .iter()
                .any(|t| t.key() == "Team" && t.value() == "autoscaling"),
            "{role}: {tags:?}"
        );
    }
    // moto has no ListInstanceProfileTags; GetInstanceProfile carries the tags.
    let profile = iam
        .get_instance_profile()
        .instance_profile_name(NODE_ROLE)
        .send()
        .await?;
    let profile = profile.instance_profile().context("no instance profile")?;
    assert!(
        profile
            .tags()
            .iter()
            .any(|t| t.key() == "Team" && t.value() == "autoscaling"),
        "{profile:?}"
    );
    assert_eq!(ws.plan_exit_code()?.code, 0);

    // Removed from the configuration: deleted in place.
    ws.write("main.tf", &config(""))?;
    ws.apply()?;
    let hub = ws.output("hub")?;
    assert!(hub["karpenter"].is_null());
    assert_gone(&moto, Some(&hub)).await?;
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    let left = orphans(&before, &inventory(&moto, &["us-east-1"]).await?);
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_enable_records_what_was_made_and_the_next_apply_completes_it() -> Result<()> {
    let moto = Moto::start()?;
    let before = inventory(&moto, &["us-east-1"]).await?;
    let proxy = FaultProxy::start(&moto)?;
    let mut ws = Workspace::new(&moto, &config(""))?;
    ws.use_endpoint(&proxy.url());
    ws.apply()?;

    // The third rule's target is refused: roles, profile, queue and two rules exist.
    proxy.schedule(serde_json::json!({"rules": [
        {"service": "events", "action": "PutTargets", "nth": 3, "kind": "deny"}
    ]}))?;
    ws.write("main.tf", &config("  karpenter = { enabled = true }"))?;
    let failed = ws.terraform(&["apply", "-auto-approve", "-no-color"])?;
    assert_eq!(failed.code, 1, "{}", failed.output());
    assert!(
        failed.says("Could not send an EventBridge rule's events to Karpenter's queue") && failed.says("PutTargets"),
        "{}",
        failed.output()
    );
    proxy.clear()?;
    let state = ws.state_json()?;
    let karpenter = &state["values"]["root_module"]["resources"][0]["values"]["karpenter"];
    assert_eq!(karpenter["node_role_name"], NODE_ROLE, "{karpenter}");
    assert_eq!(karpenter["queue_name"], "hub", "{karpenter}");
    assert_eq!(
        karpenter["event_rule_names"].as_array().map(Vec::len),
        Some(3),
        "{karpenter}"
    );
    assert!(karpenter["controller_role_arn"].is_null(), "{karpenter}");

    // Not yet enabled in state: the plan continues in place.
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply()?;
    assert_made(&moto, &ws.output("hub")?).await?;
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    let left = orphans(&before, &inventory(&moto, &["us-east-1"]).await?);
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn in_an_existing_vpc_the_discovery_tags_go_with_the_cluster_and_the_subnets_are_left_as_found() -> Result<()> {
    let moto = Moto::start()?;
    let ec2 = moto.ec2("us-east-1").await;
    let net = create_user_network(&ec2, "us-east-1", "10.40").await?;
    let tags_before = subnet_tags(&ec2, &net.private).await?;
    let before = inventory(&moto, &["us-east-1"]).await?;
    let subnets = net
        .private
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let main_tf = format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region = \"us-east-1\"\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_id = \"{}\"\n  \
         private_subnet_ids = [{subnets}]\n  kubernetes_version = \"1.33\"\n  \
         node_groups = {{ system = {{}} }}\n  karpenter = {{ enabled = true }}\n}}\n\
         output \"hub\" {{\n  value = fleet_eks_regional_cluster.hub\n}}\n",
        net.vpc_id
    );
    let ws = Workspace::new(&moto, &main_tf)?;
    ws.apply()?;
    assert_made(&moto, &ws.output("hub")?).await?;
    assert_eq!(ws.plan_exit_code()?.code, 0);
    ws.destroy()?;
    assert_eq!(
        subnet_tags(&ec2, &net.private).await?,
        tags_before,
        "the subnets' tags are as they were"
    );
    assert_gone(&moto, None).await?;
    let left = orphans(&before, &inventory(&moto, &["us-east-1"]).await?);
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn import_takes_over_karpenters_prerequisites_and_plans_no_change() -> Result<()> {
    let moto = Moto::start()?;
    let before = inventory(&moto, &["us-east-1"]).await?;
    let main_tf = config("  karpenter = { enabled = true, namespace = \"karpenter\" }");
    let original = Workspace::new(&moto, &main_tf)?;
    original.apply()?;
    let adopter = Workspace::new(
        &moto,
        &(main_tf + "\nimport {\n  to = fleet_eks_regional_cluster.hub\n  id = \"us-east-1/hub\"\n}\n"),
    )?;
    let plan = adopter.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    adopter.apply()?;
    assert_eq!(adopter.plan_exit_code()?.code, 0);
    let (imported, made) = (adopter.output("hub")?, original.output("hub")?);
    assert_eq!(imported["karpenter"], made["karpenter"]);
    assert!(
        imported["pod_identity_associations"].is_null(),
        "the controller's association is Karpenter's, not one of pod_identity_associations: {imported}"
    );
    adopter.destroy()?;
    assert_gone(&moto, None).await?;
    let left = orphans(&before, &inventory(&moto, &["us-east-1"]).await?);
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}
