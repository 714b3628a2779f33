//! terraform-provider-fleet: multi-region EKS fleets and cross-region VPC
//! peering as plain Terraform resources, served over plugin protocol 6.

pub mod aws;
pub mod docs;
pub mod kube;
pub mod provider;
pub mod resources;
