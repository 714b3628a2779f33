//! Applies a tree eksgen generated the way `terragrunt run --all apply` would,
//! with real Terraform against moto (no Terragrunt can be installed here):
//! units in dependency order, each unit's module copied into a working
//! folder, its `generate` blocks written out, its inputs (dependency outputs
//! wired exactly as the unit's HCL says) passed as a tfvars file, as
//! Terragrunt passes them as variables. eksgen's own reader evaluates the
//! HCL and fails on any construct it does not know. State stays local in each
//! working folder (the tree's `remote_state` is not emulated).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use eksgen::check::Tree;

use crate::{Moto, Run, Workspace};

pub struct AppliedUnit {
    /// Relative to the tree's root.
    pub unit: PathBuf,
    pub workspace: Workspace,
    pub outputs: serde_json::Map<String, serde_json::Value>,
}

pub struct AppliedTree {
    /// In apply order.
    pub units: Vec<AppliedUnit>,
}

fn outputs_of(workspace: &Workspace) -> Result<serde_json::Map<String, serde_json::Value>> {
    let run = workspace.terraform(&["output", "-json"])?.ok()?;
    let all: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&run.stdout)?;
    Ok(all
        .into_iter()
        .map(|(name, output)| (name, output["value"].clone()))
        .collect())
}

/// Applies every unit of the tree at `root`, dependencies first.
pub fn apply_tree(moto: &Moto, root: &Path) -> Result<AppliedTree> {
    let (tree, problems) = Tree::load(root);
    if !problems.is_empty() {
        bail!("the tree does not load: {problems:#?}");
    }
    let order = tree.apply_order().map_err(|p| anyhow::anyhow!("{p}"))?;
    let mut applied: Vec<AppliedUnit> = Vec::new();
    let mut outputs_by_dir: BTreeMap<PathBuf, hcl::Map<String, hcl::Value>> = BTreeMap::new();
    for dir in order {
        let unit = &tree.units[&dir];
        let name = dir.strip_prefix(&tree.root).unwrap_or(&dir).to_path_buf();
        let mut dependency_outputs = BTreeMap::new();
        for dependency in &unit.dependencies {
            let outputs = outputs_by_dir.get(&dependency.config_path).with_context(|| {
                format!(
                    "{}: dependency {} was not applied before it",
                    name.display(),
                    dependency.name
                )
            })?;
            dependency_outputs.insert(dependency.name.clone(), outputs.clone());
        }
        let inputs = unit
            .inputs(&dependency_outputs)
            .with_context(|| format!("{}: inputs", name.display()))?;
        let module = unit
            .local_module_dir()
            .with_context(|| format!("{}: the harness applies local module sources only", name.display()))?;
        let workspace = Workspace::new(moto, "")?;
        for entry in std::fs::read_dir(&module).with_context(|| module.display().to_string())? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tf") {
                let file = path.file_name().and_then(|n| n.to_str()).context("module file name")?;
                workspace.write(file, &std::fs::read_to_string(&path)?)?;
            }
        }
        for generate in &unit.generate {
            workspace.write(&generate.path, &generate.contents)?;
        }
        workspace.write("terragrunt.auto.tfvars.json", &serde_json::to_string_pretty(&inputs)?)?;
        workspace
            .terraform(&["init", "-no-color"])?
            .ok()
            .with_context(|| format!("{}: init", name.display()))?;
        workspace
            .apply()
            .with_context(|| format!("{}: apply", name.display()))?;
        let outputs = outputs_of(&workspace)?;
        outputs_by_dir.insert(
            dir.clone(),
            serde_json::from_value(serde_json::Value::Object(outputs.clone()))?,
        );
        applied.push(AppliedUnit {
            unit: name,
            workspace,
            outputs,
        });
    }
    Ok(AppliedTree { units: applied })
}

impl AppliedTree {
    pub fn unit(&self, relative: &str) -> Option<&AppliedUnit> {
        self.units.iter().find(|u| u.unit == Path::new(relative))
    }

    /// `plan -detailed-exitcode` of every unit (after the apply, all must be 0).
    pub fn plans(&self) -> Result<Vec<(PathBuf, Run)>> {
        self.units
            .iter()
            .map(|u| Ok((u.unit.clone(), u.workspace.plan_exit_code()?)))
            .collect()
    }

    /// Destroys every unit, dependents first.
    pub fn destroy(&self) -> Result<()> {
        for unit in self.units.iter().rev() {
            unit.workspace
                .destroy()
                .with_context(|| format!("{}: destroy", unit.unit.display()))?;
        }
        Ok(())
    }
}
