//! Node groups on launch templates: the one the resource manages (IMDSv2
//! only, an encrypted gp3 root volume) rolls the nodes in place when its
//! content changes, and goes with the group; the user's own is used as is.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use anyhow::{Context, Result};
use aws_sdk_ec2::types::LaunchTemplateVersion;
use eksfleet_tests::*;

fn config(groups: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    fleet = {{ source = \"eksfleet/fleet\" }}\n  }}\n}}\n\
         provider \"fleet\" {{\n  region       = \"us-east-1\"\n  default_tags = {{ ManagedBy = \"eksfleet-tests\" }}\n}}\n\
         resource \"fleet_eks_regional_cluster\" \"hub\" {{\n  name = \"hub\"\n  vpc_cidr = \"10.0.0.0/16\"\n  \
         kubernetes_version = \"1.33\"\n  node_groups = {groups}\n}}\n\
         output \"hub\" {{\n  value = fleet_eks_regional_cluster.hub\n}}\n"
    )
}

fn system(settings: &str) -> String {
    config(&format!("{{ system = {{ desired_size = 2, {settings} }} }}"))
}

async fn nodegroup(eks: &aws_sdk_eks::Client, name: &str) -> Result<aws_sdk_eks::types::Nodegroup> {
    let out = eks
        .describe_nodegroup()
        .cluster_name("hub")
        .nodegroup_name(name)
        .send()
        .await?;
    out.nodegroup().cloned().context("no node group")
}

/// The launch template version a node group runs on, as EC2 has it.
async fn running_version(
    eks: &aws_sdk_eks::Client,
    ec2: &aws_sdk_ec2::Client,
    name: &str,
) -> Result<(aws_sdk_eks::types::Nodegroup, LaunchTemplateVersion)> {
    let group = nodegroup(eks, name).await?;
    let template = group
        .launch_template()
        .context("no launch template on the node group")?;
    let out = ec2
        .describe_launch_template_versions()
        .launch_template_id(template.id().context("template id")?)
        .versions(template.version().context("template version")?)
        .send()
        .await?;
    let version = out
        .launch_template_versions()
        .first()
        .cloned()
        .context("no such version")?;
    Ok((group, version))
}

/// Watches the node group's desired size while an apply runs; the smallest seen.
struct SizeWatch {
    stop: Arc<AtomicBool>,
    smallest: Arc<AtomicI32>,
    task: tokio::task::JoinHandle<()>,
}

impl SizeWatch {
    fn start(eks: &aws_sdk_eks::Client, name: &'static str) -> Self {
        let (stop, smallest) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicI32::new(i32::MAX)));
        let (eks, s, m) = (eks.clone(), stop.clone(), smallest.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::SeqCst) {
                if let Ok(group) = nodegroup(&eks, name).await
                    && let Some(size) = group.scaling_config().and_then(|c| c.desired_size())
                {
                    m.fetch_min(size, Ordering::SeqCst);
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
        Self { stop, smallest, task }
    }

    async fn smallest(self) -> i32 {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.task.await;
        self.smallest.load(Ordering::SeqCst)
    }
}

fn ebs(version: &LaunchTemplateVersion) -> Result<aws_sdk_ec2::types::LaunchTemplateEbsBlockDevice> {
    version
        .launch_template_data()
        .and_then(|d| d.block_device_mappings().first())
        .and_then(|m| m.ebs())
        .cloned()
        .context("no root volume in the template")
}

#[tokio::test(flavor = "multi_thread")]
async fn disk_and_instance_type_changes_roll_the_nodes_through_new_template_versions_in_place() -> Result<()> {
    let moto = Moto::start()?;
    let before = inventory(&moto, &["us-east-1"]).await?;
    let ws = Workspace::new(&moto, &system("instance_types = [\"m6i.large\"]"))?;
    ws.apply()?;
    let (eks, ec2) = (moto.eks("us-east-1").await, moto.ec2("us-east-1").await);

    // Secure by default: IMDSv2 only with hop limit 1, an encrypted gp3 disk.
    let (first, version) = running_version(&eks, &ec2, "system").await?;
    let data = version.launch_template_data().context("no template data")?;
    let imds = data.metadata_options().context("no metadata options")?;
    assert_eq!(imds.http_tokens().map(|t| t.as_str()), Some("required"));
    assert_eq!(imds.http_put_response_hop_limit(), Some(1));
    let disk = ebs(&version)?;
    assert_eq!(
        (
            disk.volume_size(),
            disk.volume_type().map(|t| t.as_str()),
            disk.encrypted()
        ),
        (Some(20), Some("gp3"), Some(true))
    );
    assert_eq!(data.instance_type().map(|t| t.as_str()), Some("m6i.large"));
    // EKS takes no diskSize (and no instance types twice) beside a template.
    assert_eq!(first.disk_size(), None);
    let template_id = first
        .launch_template()
        .and_then(|t| t.id())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        ws.output("hub")?["node_group_launch_template_ids"]["system"],
        template_id.as_str()
    );
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());

    // A disk change: a new template version, the same group rolled onto it.
    ws.write(
        "main.tf",
        &system("instance_types = [\"m6i.large\"], disk = { size = 50, throughput = 250 }"),
    )?;
    let plan = ws.terraform(&["plan", "-no-color"])?.ok()?;
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    let watch = SizeWatch::start(&eks, "system");
    ws.apply()?;
    assert_eq!(watch.smallest().await, 2, "the group kept its nodes while rolling");
    let (after_disk, version) = running_version(&eks, &ec2, "system").await?;
    assert_eq!(after_disk.nodegroup_arn(), first.nodegroup_arn(), "same node group");
    assert_eq!(after_disk.launch_template().and_then(|t| t.version()), Some("2"));
    let disk = ebs(&version)?;
    assert_eq!(
        (disk.volume_size(), disk.throughput(), disk.encrypted()),
        (Some(50), Some(250), Some(true))
    );

    // An instance type change rolls in place too (no replacement group).
    ws.write(
        "main.tf",
        &system("instance_types = [\"m6i.xlarge\"], disk = { size = 50, throughput = 250 }"),
    )?;
    let watch = SizeWatch::start(&eks, "system");
    ws.apply()?;
    assert_eq!(watch.smallest().await, 2, "the group kept its nodes while rolling");
    let (after_type, version) = running_version(&eks, &ec2, "system").await?;
    assert_eq!(after_type.nodegroup_arn(), first.nodegroup_arn(), "same node group");
    assert_eq!(after_type.launch_template().and_then(|t| t.version()), Some("3"));
    assert_eq!(
        version
            .launch_template_data()
            .and_then(|d| d.instance_type())
            .map(|t| t.as_str()),
        Some("m6i.xlarge")
    );
    assert_eq!(
        eks.list_nodegroups().cluster_name("hub").send().await?.nodegroups(),
        ["system"]
    );
    assert_eq!(ws.output("hub")?["node_group_launch_template_versions"]["system"], "3");
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after the rolls:\n{}", plan.output());

    ws.destroy()?;
    let left = orphans(&before, &inventory(&moto, &["us-east-1"]).await?);
    assert!(left.is_empty(), "left behind: {left:#?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_on_the_users_own_template_runs_it_and_no_managed_template_is_made() -> Result<()> {
    let moto = Moto::start()?;
    let ec2 = moto.ec2("us-east-1").await;
    let own = ec2
        .create_launch_template()
        .launch_template_name("own-nodes")
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .instance_type(aws_sdk_ec2::types::InstanceType::M6iLarge)
                .build(),
        )
        .send()
        .await?
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .context("template id")?
        .to_string();
    let before = inventory(&moto, &["us-east-1"]).await?;
    let ws = Workspace::new(
        &moto,
        &config(&format!("{{ own = {{ launch_template = {{ id = \"{own}\" }} }} }}")),
    )?;
    ws.apply()?;
    let group = nodegroup(&moto.eks("us-east-1").await, "own").await?;
    let template = group.launch_template().context("no launch template")?;
    assert_eq!((template.id(), template.version()), (Some(own.as_str()), Some("1")));
    let output = ws.output("hub")?;
    assert_eq!(
        output["node_groups"]["own"]["launch_template"]["version"], "1",
        "its default, planned"
    );
    assert!(output["node_group_launch_template_ids"].is_null(), "{output:#}");
    let templates = ec2.describe_launch_templates().send().await?;
    assert_eq!(templates.launch_templates().len(), 1, "only the user's");
    let plan = ws.plan_exit_code()?;
    assert_eq!(plan.code, 0, "clean after apply:\n{}", plan.output());
    ws.destroy()?;
    let left = orphans(&before, &inventory(&moto, &["us-east-1"]).await?);
    assert!(left.is_empty(), "left behind: {left:#?}");
    Ok(())
}
