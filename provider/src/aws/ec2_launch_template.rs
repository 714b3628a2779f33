//! EC2 launch templates of managed node groups: create (or adopt one this
//! stack made under the same name), new versions, reads and delete.
//!
//! What goes into a template follows the EKS User Guide, "Customizing
//! managed nodes with launch templates"
//! (https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html):
//! no IAM instance profile, no subnet, no AMI (EKS picks it by `amiType`),
//! and the instance type only when the node group does not name it.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    Filter, LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState,
    LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateTagSpecificationRequest, RequestLaunchTemplateData,
    ResourceType, TagSpecification, VolumeType,
};
use base64::Engine;

use super::AwsError;
use super::ec2::{Ec2, sdk_tags};
use super::error::{AwsResultExt, aws_err};

/// The root volume of the nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeSpec {
    /// `/dev/xvda`, or `/dev/xvdb` (Bottlerocket's data volume).
    pub device_name: String,
    pub size: i32,
    pub volume_type: String,
    pub iops: Option<i32>,
    pub throughput: Option<i32>,
    pub encrypted: bool,
    pub kms_key_arn: Option<String>,
}

/// What the resource puts in a node group's launch template.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchTemplateSpec {
    /// Only when the node group has exactly one (a template holds one).
    pub instance_type: Option<String>,
    pub volume: VolumeSpec,
    pub imds_hop_limit: i32,
    /// As the user wrote it; base64-encoded here, as EC2 requires.
    pub user_data: Option<String>,
    /// Tags of the instances and volumes launched from it.
    pub resource_tags: BTreeMap<String, String>,
}

/// What a template version holds of what the resource puts in (for import).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSettings {
    pub template_tags: BTreeMap<String, String>,
    pub instance_type: Option<String>,
    pub volume: Option<VolumeSpec>,
    pub imds_hop_limit: Option<i32>,
    /// Decoded from base64.
    pub user_data: Option<String>,
}

/// A launch template version as read back (for checks and tests).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateVersion {
    pub version: i64,
    pub has_instance_type: bool,
}

impl LaunchTemplateSpec {
    fn to_sdk(&self) -> RequestLaunchTemplateData {
        let v = &self.volume;
        let ebs = LaunchTemplateEbsBlockDeviceRequest::builder()
            .volume_size(v.size)
            .volume_type(VolumeType::from(v.volume_type.as_str()))
            .set_iops(v.iops)
            .set_throughput(v.throughput)
            .encrypted(v.encrypted)
            .set_kms_key_id(v.kms_key_arn.clone())
            .delete_on_termination(true)
            .build();
        // IMDSv2 only: a token is required, and the hop limit (1 by default)
        // keeps pods off the node's credentials.
        let metadata = LaunchTemplateInstanceMetadataOptionsRequest::builder()
            .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
            .http_tokens(LaunchTemplateHttpTokensState::Required)
            .http_put_response_hop_limit(self.imds_hop_limit)
            .build();
        let tagged = |kind: ResourceType| {
            LaunchTemplateTagSpecificationRequest::builder()
                .resource_type(kind)
                .set_tags(Some(sdk_tags(&self.resource_tags)))
                .build()
        };
        RequestLaunchTemplateData::builder()
            .set_instance_type(
                self.instance_type
                    .as_deref()
                    .map(aws_sdk_ec2::types::InstanceType::from),
            )
            .block_device_mappings(
                LaunchTemplateBlockDeviceMappingRequest::builder()
                    .device_name(&v.device_name)
                    .ebs(ebs)
                    .build(),
            )
            .metadata_options(metadata)
            .set_user_data(
                self.user_data
                    .as_ref()
                    .map(|data| base64::engine::general_purpose::STANDARD.encode(data)),
            )
            .tag_specifications(tagged(ResourceType::Instance))
            .tag_specifications(tagged(ResourceType::Volume))
            .build()
    }
}

impl Ec2 {
    /// Creates the template named `name` and returns its id; one of that
    /// name already there that carries `stack_tag` (this stack's, left by a
    /// create whose answer was lost) is adopted instead.
    pub async fn create_launch_template(
        &self,
        name: &str,
        spec: &LaunchTemplateSpec,
        template_tags: &BTreeMap<String, String>,
        stack_tag: (&str, &str),
    ) -> Result<String, AwsError> {
        let created = self
            .client
            .create_launch_template()
            .launch_template_name(name)
            .launch_template_data(spec.to_sdk())
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::LaunchTemplate)
                    .set_tags(Some(sdk_tags(template_tags)))
                    .build(),
            )
            .send()
            .await
            .map_err(aws_err("CreateLaunchTemplate", &self.region));
        match created {
            Ok(out) => Ok(out
                .launch_template()
                .and_then(|t| t.launch_template_id())
                .unwrap_or_default()
                .to_string()),
            Err(e) if e.code == "InvalidLaunchTemplateName.AlreadyExistsException" => {
                let out = self
                    .client
                    .describe_launch_templates()
                    .launch_template_names(name)
                    .filters(
                        Filter::builder()
                            .name(format!("tag:{}", stack_tag.0))
                            .values(stack_tag.1)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(aws_err("DescribeLaunchTemplates", &self.region))?;
                out.launch_templates()
                    .first()
                    .and_then(|t| t.launch_template_id())
                    .map(str::to_string)
                    .ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// A new version of the template with `spec`; returns its number (node
    /// groups always name the version they use, so the default stays).
    pub async fn create_launch_template_version(&self, id: &str, spec: &LaunchTemplateSpec) -> Result<i64, AwsError> {
        let out = self
            .client
            .create_launch_template_version()
            .launch_template_id(id)
            .launch_template_data(spec.to_sdk())
            .send()
            .await
            .map_err(aws_err("CreateLaunchTemplateVersion", &self.region))?;
        let version = out
            .launch_template_version()
            .and_then(|v| v.version_number())
            .unwrap_or_default();
        Ok(version)
    }

    /// Whether the template exists (`None`: it doesn't).
    pub async fn find_launch_template(&self, id: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .describe_launch_templates()
            .launch_template_ids(id)
            .send()
            .await
            .map_err(aws_err("DescribeLaunchTemplates", &self.region))
            .found()?;
        Ok(out
            .and_then(|o| o.launch_templates().first().cloned())
            .and_then(|t| t.launch_template_name().map(str::to_string)))
    }

    /// One version of a template (`version` unset: its default); `None` when
    /// the template or the version does not exist.
    pub async fn find_launch_template_version(
        &self,
        id: &str,
        version: Option<&str>,
    ) -> Result<Option<TemplateVersion>, AwsError> {
        let out = self
            .client
            .describe_launch_template_versions()
            .launch_template_id(id)
            .versions(version.unwrap_or("$Default"))
            .send()
            .await
            .map_err(aws_err("DescribeLaunchTemplateVersions", &self.region));
        let out = match out {
            // EC2 answers a version that isn't there with its own code.
            Err(e) if e.code.starts_with("InvalidLaunchTemplate") => return Ok(None),
            other => other.found()?,
        };
        Ok(out
            .and_then(|o| o.launch_template_versions().first().cloned())
            .map(|v| TemplateVersion {
                version: v.version_number().unwrap_or_default(),
                has_instance_type: v.launch_template_data().and_then(|d| d.instance_type()).is_some(),
            }))
    }

    /// The settings of one version of a template and the template's tags;
    /// `None` when either is gone.
    pub async fn read_launch_template(&self, id: &str, version: &str) -> Result<Option<TemplateSettings>, AwsError> {
        let templates = self
            .client
            .describe_launch_templates()
            .launch_template_ids(id)
            .send()
            .await
            .map_err(aws_err("DescribeLaunchTemplates", &self.region))
            .found()?;
        let Some(template) = templates.and_then(|o| o.launch_templates().first().cloned()) else {
            return Ok(None);
        };
        let out = self
            .client
            .describe_launch_template_versions()
            .launch_template_id(id)
            .versions(version)
            .send()
            .await
            .map_err(aws_err("DescribeLaunchTemplateVersions", &self.region));
        let out = match out {
            Err(e) if e.code.starts_with("InvalidLaunchTemplate") => return Ok(None),
            other => other.found()?,
        };
        let Some(data) = out
            .and_then(|o| o.launch_template_versions().first().cloned())
            .and_then(|v| v.launch_template_data().cloned())
        else {
            return Ok(None);
        };
        let volume = data.block_device_mappings().first().and_then(|m| {
            let ebs = m.ebs()?;
            Some(VolumeSpec {
                device_name: m.device_name().unwrap_or_default().to_string(),
                size: ebs.volume_size()?,
                volume_type: ebs.volume_type().map_or("gp2", |t| t.as_str()).to_string(),
                iops: ebs.iops(),
                throughput: ebs.throughput(),
                encrypted: ebs.encrypted().unwrap_or(false),
                kms_key_arn: ebs.kms_key_id().map(str::to_string),
            })
        });
        let user_data = data
            .user_data()
            .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
            .and_then(|d| String::from_utf8(d).ok());
        Ok(Some(TemplateSettings {
            template_tags: super::ec2::tag_map(template.tags()),
            instance_type: data.instance_type().map(|t| t.as_str().to_string()),
            volume,
            imds_hop_limit: data.metadata_options().and_then(|m| m.http_put_response_hop_limit()),
            user_data,
        }))
    }

    /// Deletes a template with all its versions; one already gone is fine.
    pub async fn delete_launch_template(&self, id: &str) -> Result<(), AwsError> {
        let result = self
            .client
            .delete_launch_template()
            .launch_template_id(id)
            .send()
            .await
            .map_err(aws_err("DeleteLaunchTemplate", &self.region));
        match result {
            // EC2 names a missing template by id or by name in its code.
            Err(e) if e.code.starts_with("InvalidLaunchTemplate") && e.code.contains("NotFound") => Ok(()),
            other => other.gone_ok(),
        }
    }
}
