//! What a unit may pass to its module and read from it: the module's
//! variables (required or not) and outputs, read from its `.tf` files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::terragrunt::EvalError;

#[derive(Debug, Clone, Default)]
pub struct ModuleInterface {
    /// Variable name → required (no default).
    pub variables: BTreeMap<String, bool>,
    pub outputs: BTreeSet<String>,
    /// Provider configurations the module declares itself (eksgen's modules declare none).
    pub provider_blocks: usize,
}

/// The modules this eksgen was built with, for trees whose units use a
/// remote source (which cannot be fetched here).
const EMBEDDED: &[(&str, &[&str])] = &[
    (
        "edge-cluster",
        &[
            include_str!("../../../modules/edge-cluster/variables.tf"),
            include_str!("../../../modules/edge-cluster/outputs.tf"),
            include_str!("../../../modules/edge-cluster/main.tf"),
        ],
    ),
    (
        "gitops-cluster",
        &[
            include_str!("../../../modules/gitops-cluster/variables.tf"),
            include_str!("../../../modules/gitops-cluster/outputs.tf"),
            include_str!("../../../modules/gitops-cluster/main.tf"),
        ],
    ),
    (
        "vpc-peering-requester",
        &[
            include_str!("../../../modules/vpc-peering-requester/variables.tf"),
            include_str!("../../../modules/vpc-peering-requester/outputs.tf"),
            include_str!("../../../modules/vpc-peering-requester/main.tf"),
        ],
    ),
    (
        "vpc-peering-accepter",
        &[
            include_str!("../../../modules/vpc-peering-accepter/variables.tf"),
            include_str!("../../../modules/vpc-peering-accepter/outputs.tf"),
            include_str!("../../../modules/vpc-peering-accepter/main.tf"),
        ],
    ),
    (
        "argocd-registration",
        &[
            include_str!("../../../modules/argocd-registration/variables.tf"),
            include_str!("../../../modules/argocd-registration/outputs.tf"),
            include_str!("../../../modules/argocd-registration/main.tf"),
        ],
    ),
];

impl ModuleInterface {
    pub fn read_dir(dir: &Path) -> Result<ModuleInterface, EvalError> {
        let entries = std::fs::read_dir(dir).map_err(|e| EvalError {
            path: dir.to_path_buf(),
            message: format!("module folder: {e}"),
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(EvalError {
                path: dir.to_path_buf(),
                message: "module folder holds no .tf files".into(),
            });
        }
        let mut interface = ModuleInterface::default();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| EvalError {
                path: path.clone(),
                message: e.to_string(),
            })?;
            interface.add(&path, &text)?;
        }
        Ok(interface)
    }

    pub fn embedded(name: &str) -> Option<ModuleInterface> {
        let (_, files) = EMBEDDED.iter().find(|(n, _)| *n == name)?;
        let mut interface = ModuleInterface::default();
        for text in *files {
            interface.add(Path::new(name), text).ok()?;
        }
        Some(interface)
    }

    fn add(&mut self, path: &Path, text: &str) -> Result<(), EvalError> {
        let body: hcl::Body = hcl::parse(text).map_err(|e| EvalError {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for block in body.blocks() {
            let name = block
                .labels()
                .first()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default();
            match block.identifier() {
                "variable" => {
                    let has_default = block.body().attributes().any(|a| a.key() == "default");
                    self.variables.insert(name, !has_default);
                }
                "output" => {
                    self.outputs.insert(name);
                }
                "provider" => self.provider_blocks += 1,
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_modules_know_their_variables_and_outputs() {
        let edge = ModuleInterface::embedded("edge-cluster").unwrap();
        assert_eq!(edge.variables.get("vpc_cidr"), Some(&true), "required");
        assert_eq!(edge.variables.get("tags"), Some(&false), "has a default");
        assert!(edge.outputs.contains("private_route_table_ids"));
        assert_eq!(edge.provider_blocks, 0);
        let registration = ModuleInterface::embedded("argocd-registration").unwrap();
        assert_eq!(registration.variables.get("cluster_arn"), Some(&true), "required");
        assert_eq!(
            registration.variables.get("role_arn"),
            Some(&false),
            "null for a capability"
        );
        assert!(registration.outputs.contains("secret_name"));
        assert!(ModuleInterface::embedded("nope").is_none());
    }
}
