//! The Kubernetes API of an EKS cluster, reached with the provider's own AWS
//! credentials: an EKS token (`eks_token`), HTTPS trusting the cluster's CA
//! (`api`), and the calls `fleet_argocd_cluster` makes (`secrets`).

pub mod api;
pub mod eks_token;
pub mod secrets;

pub use api::{KubeApi, KubeError};
pub use secrets::{ObjectMeta, Secret};
