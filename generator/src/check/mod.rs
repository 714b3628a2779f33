//! Static checks of a Terragrunt tree, without Terragrunt: every file parses,
//! every include, dependency and module source resolves, the dependency graph
//! is acyclic, inputs match the modules' variables, dependency outputs exist
//! and are mocked for validate/plan, each unit has one provider
//! configuration, and peered VPCs do not overlap.

pub mod module;
pub mod terragrunt;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;

use self::module::ModuleInterface;
use self::terragrunt::{EvalError, Unit};

/// The commands dependency mocks may be used for: plans in PR checks, `init`
/// of a fresh tree, `destroy` of units never applied; never applies.
pub const MOCK_COMMANDS: [&str; 4] = ["init", "validate", "plan", "destroy"];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Problem {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// The units of a tree, by folder, with the modules they apply.
pub struct Tree {
    pub root: PathBuf,
    pub units: BTreeMap<PathBuf, Unit>,
    pub modules: BTreeMap<PathBuf, ModuleInterface>,
}

fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Folders Terragrunt and Terraform own, and hidden ones, are not part of the tree.
fn skipped(name: &str) -> bool {
    name.starts_with('.')
}

pub fn hcl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if skipped(&name) {
            continue;
        }
        if path.is_dir() {
            files.extend(hcl_files(&path));
        } else if name.ends_with(".hcl") {
            files.push(path);
        }
    }
    files
}

impl Tree {
    /// Loads every unit (a folder with a terragrunt.hcl) and its module's
    /// interface; what cannot be loaded is reported, not skipped silently.
    pub fn load(root: &Path) -> (Tree, Vec<Problem>) {
        let mut problems = Vec::new();
        // Absolute, so that paths found walking up from a unit never stop at "".
        let root = &std::path::absolute(root)
            .map(|r| terragrunt::normalize(&r))
            .unwrap_or_else(|_| root.to_path_buf());
        let mut tree = Tree {
            root: root.to_path_buf(),
            units: BTreeMap::new(),
            modules: BTreeMap::new(),
        };
        let report = |problems: &mut Vec<Problem>, err: EvalError| {
            problems.push(Problem {
                path: relative(root, &err.path),
                message: err.message,
            });
        };
        let files = hcl_files(root);
        // Stack files: the units they generate are read where Terragrunt
        // generates them, from their sources with their values; the sources
        // themselves are no units.
        let mut generated = Vec::new();
        for file in files
            .iter()
            .filter(|f| f.file_name().is_some_and(|n| n == crate::render::STACK_FILE))
        {
            match terragrunt::read_stack(file) {
                Ok(units) => generated.extend(units),
                Err(err) => report(&mut problems, err),
            }
        }
        let sources: BTreeSet<PathBuf> = generated.iter().map(|u| u.source.clone()).collect();
        // Units of a kind share their module: read each source once.
        let mut interfaces: HashMap<String, ModuleInterface> = HashMap::new();
        for file in files {
            if let Err(err) = terragrunt::parse_file(&file) {
                report(&mut problems, err);
                continue;
            }
            let dir = terragrunt::normalize(file.parent().unwrap_or(root));
            if file.file_name().is_some_and(|n| n == "terragrunt.hcl") && !sources.contains(&dir) {
                match Unit::load(&dir) {
                    Ok(unit) => {
                        // A local source's folder (relative sources differ per unit), else the source.
                        let key = unit
                            .local_module_dir()
                            .map(|dir| dir.display().to_string())
                            .or_else(|| unit.source.clone());
                        let known = key.as_ref().and_then(|key| interfaces.get(key)).cloned();
                        match known.map_or_else(|| tree.module_of(&unit), Ok) {
                            Ok(interface) => {
                                if let Some(key) = key {
                                    interfaces.insert(key, interface.clone());
                                }
                                tree.modules.insert(dir.clone(), interface);
                            }
                            Err(err) => report(&mut problems, err),
                        }
                        tree.units.insert(dir, unit);
                    }
                    Err(err) => report(&mut problems, err),
                }
            }
        }
        for stack_unit in &generated {
            if !stack_unit.source.join("terragrunt.hcl").is_file() {
                problems.push(Problem {
                    path: relative(root, &stack_unit.dir),
                    message: format!(
                        "unit {:?}: source {} holds no terragrunt.hcl",
                        stack_unit.name,
                        relative(root, &stack_unit.source).display()
                    ),
                });
                continue;
            }
            match Unit::load_generated(stack_unit) {
                Ok(unit) => {
                    match tree.module_of(&unit) {
                        Ok(interface) => {
                            tree.modules.insert(stack_unit.dir.clone(), interface);
                        }
                        Err(err) => report(&mut problems, err),
                    }
                    tree.units.insert(stack_unit.dir.clone(), unit);
                }
                Err(err) => problems.push(Problem {
                    path: relative(root, &err.path),
                    message: format!(
                        "{} (unit {:?} of {}, its values there)",
                        err.message,
                        stack_unit.name,
                        relative(root, &stack_unit.stack).display()
                    ),
                }),
            }
        }
        (tree, problems)
    }

    fn module_of(&self, unit: &Unit) -> Result<ModuleInterface, EvalError> {
        let config = unit.dir.join("terragrunt.hcl");
        let Some(source) = &unit.source else {
            return Err(EvalError {
                path: config,
                message: "no terraform { source } (in the unit or its includes)".into(),
            });
        };
        match unit.local_module_dir() {
            Some(dir) if dir.is_dir() => ModuleInterface::read_dir(&dir),
            Some(dir) => Err(EvalError {
                path: config,
                message: format!("terraform.source {source}: {} is not a folder", dir.display()),
            }),
            None => unit
                .module_name()
                .and_then(|name| ModuleInterface::embedded(&name))
                .ok_or_else(|| EvalError {
                    path: config,
                    message: format!("terraform.source {source}: not one of eksgen's modules, cannot check its inputs"),
                }),
        }
    }

    /// Units in an order where each comes after its dependencies (how
    /// `terragrunt run --all apply` orders them), or the cycle that prevents it.
    pub fn apply_order(&self) -> Result<Vec<PathBuf>, Problem> {
        fn visit(
            tree: &Tree,
            dir: &Path,
            visiting: &mut Vec<PathBuf>,
            done: &mut BTreeSet<PathBuf>,
            order: &mut Vec<PathBuf>,
        ) -> Result<(), Problem> {
            if done.contains(dir) {
                return Ok(());
            }
            if let Some(start) = visiting.iter().position(|d| d == dir) {
                let cycle: Vec<String> = visiting[start..]
                    .iter()
                    .chain([&dir.to_path_buf()])
                    .map(|d| relative(&tree.root, d).display().to_string())
                    .collect();
                return Err(Problem {
                    path: relative(&tree.root, dir),
                    message: format!("dependency cycle: {}", cycle.join(" → ")),
                });
            }
            visiting.push(dir.to_path_buf());
            if let Some(unit) = tree.units.get(dir) {
                for dependency in &unit.dependencies {
                    if tree.units.contains_key(&dependency.config_path) {
                        visit(tree, &dependency.config_path, visiting, done, order)?;
                    }
                }
            }
            visiting.pop();
            done.insert(dir.to_path_buf());
            order.push(dir.to_path_buf());
            Ok(())
        }
        let (mut visiting, mut done, mut order) = (Vec::new(), BTreeSet::new(), Vec::new());
        for dir in self.units.keys() {
            visit(self, dir, &mut visiting, &mut done, &mut order)?;
        }
        Ok(order)
    }
}

/// Runs every static check on the tree at `root`: how many units it has, and the problems found.
pub fn run(root: &Path) -> (usize, Vec<Problem>) {
    let _reads = terragrunt::ReadCache::enter();
    let (tree, mut problems) = Tree::load(root);
    if tree.units.is_empty() && problems.is_empty() {
        problems.push(Problem {
            path: PathBuf::from("."),
            message: "no units (terragrunt.hcl files) in the tree".into(),
        });
    }
    if let Err(problem) = tree.apply_order() {
        problems.push(problem);
    }
    let mut mocked_inputs: BTreeMap<&PathBuf, BTreeMap<String, hcl::Value>> = BTreeMap::new();
    for (dir, unit) in &tree.units {
        let at = |message: String| Problem {
            path: relative(root, &dir.join("terragrunt.hcl")),
            message,
        };
        let providers = unit
            .generate
            .iter()
            .filter(|g| g.contents.contains("provider \""))
            .count()
            + tree.modules.get(dir).map_or(0, |m| m.provider_blocks);
        if providers != 1 {
            problems.push(at(format!(
                "{providers} provider configurations (generate blocks plus the module's own); a unit needs exactly one"
            )));
        }
        for dependency in &unit.dependencies {
            let name = &dependency.name;
            let Some(target) = tree.units.get(&dependency.config_path) else {
                problems.push(at(format!(
                    "dependency {name:?}: config_path {} is not a unit (no terragrunt.hcl there)",
                    relative(root, &dependency.config_path).display()
                )));
                continue;
            };
            let Some(mocks) = &dependency.mock_outputs else {
                problems.push(at(format!(
                    "dependency {name:?} has no mock_outputs, so `plan` fails on a fresh tree"
                )));
                continue;
            };
            let commands_ok = !dependency.mock_commands.is_empty()
                && dependency
                    .mock_commands
                    .iter()
                    .all(|c| MOCK_COMMANDS.contains(&c.as_str()));
            if !commands_ok {
                problems.push(at(format!(
                    "dependency {name:?}: mock_outputs_allowed_terraform_commands may list only \
                     \"init\", \"validate\", \"plan\" and \"destroy\" (mocks must never reach an apply), found {:?}",
                    dependency.mock_commands
                )));
            }
            if let Some(outputs) = tree.modules.get(&target.dir).map(|m| &m.outputs) {
                for key in mocks.keys().filter(|k| !outputs.contains(*k)) {
                    problems.push(at(format!(
                        "dependency {name:?}: mock output {key:?} is not an output of {}'s module (outputs: {})",
                        relative(root, &target.dir).display(),
                        outputs.iter().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        }
        match unit.inputs_with_mocks() {
            Ok(inputs) => {
                if let Some(module) = tree.modules.get(dir) {
                    for key in inputs.keys().filter(|k| !module.variables.contains_key(*k)) {
                        problems.push(at(format!(
                            "input {key:?} is not a variable of the module {}",
                            unit.source.clone().unwrap_or_default()
                        )));
                    }
                    for (variable, _) in module
                        .variables
                        .iter()
                        .filter(|(v, required)| **required && !inputs.contains_key(*v))
                    {
                        problems.push(at(format!(
                            "required variable {variable:?} of the module is not given in inputs"
                        )));
                    }
                }
                mocked_inputs.insert(dir, inputs.into_iter().collect());
            }
            Err(err) => problems.push(Problem {
                path: relative(root, &err.path),
                message: format!(
                    "{} (for unit {}; a dependency output used here needs a mock_outputs entry)",
                    err.message,
                    relative(root, dir).display()
                ),
            }),
        }
    }
    problems.extend(peered_cidr_overlaps(&tree, &mocked_inputs));
    problems.sort();
    problems.dedup();
    (tree.units.len(), problems)
}

/// A unit that depends on two or more units with a `vpc_cidr` input peers
/// those VPCs (the requester: edge and hub); their CIDRs must not overlap.
fn peered_cidr_overlaps(tree: &Tree, inputs: &BTreeMap<&PathBuf, BTreeMap<String, hcl::Value>>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (dir, unit) in &tree.units {
        if unit.module_name().as_deref() != Some(crate::render::REQUESTER) {
            continue;
        }
        let cidrs: Vec<(Ipv4Net, &PathBuf)> = unit
            .dependencies
            .iter()
            .filter_map(|d| {
                let cidr = inputs.get(&d.config_path)?.get("vpc_cidr")?.as_str()?.parse().ok()?;
                Some((cidr, &d.config_path))
            })
            .collect();
        for (i, (a, a_dir)) in cidrs.iter().enumerate() {
            for (b, b_dir) in &cidrs[i + 1..] {
                if a.contains(&b.network()) || b.contains(&a.network()) {
                    problems.push(Problem {
                        path: relative(&tree.root, &dir.join("terragrunt.hcl")),
                        message: format!(
                            "peers {} ({a}) with {} ({b}), and the CIDRs overlap; give one of them another CIDR in eksgen.toml",
                            relative(&tree.root, a_dir).display(),
                            relative(&tree.root, b_dir).display()
                        ),
                    });
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use crate::render::Templates;

    /// A stack-layout tree (hub and one edge) written to a temporary folder,
    /// modules from this checkout.
    fn stack_tree() -> tempfile::TempDir {
        let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules");
        let text = format!(
            "version = 1\nlayout = \"stack\"\nmodules_source = {:?}\ncidr_pool = \"10.0.0.0/8\"\n\n\
             [environments.dev.hub]\nregion = \"us-east-1\"\ncidr = \"10.0.0.0/16\"\n\n\
             [environments.dev.regions.us-west-2]\ncidr = \"10.1.0.0/16\"\n",
            modules.display().to_string()
        );
        let manifest = Manifest::parse(Path::new("eksgen.toml"), &text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (path, body) in Templates::load(None).unwrap().render_tree(&manifest).unwrap() {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, body).unwrap();
        }
        std::fs::write(dir.path().join("eksgen.toml"), text).unwrap();
        dir
    }

    fn edit(path: &Path, from: &str, to: &str) {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(from), "{from:?} in {}", path.display());
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    }

    #[test]
    fn a_stack_tree_is_checked_as_the_units_terragrunt_generates() {
        let tree = stack_tree();
        let (units, problems) = run(tree.path());
        assert_eq!((units, problems), (4, vec![]));
        let (read, _) = Tree::load(tree.path());
        let requester = read
            .units
            .keys()
            .find(|dir| dir.ends_with(".terragrunt-stack/us-west-2/vpc-peering-requester"))
            .expect("the requester is read where Terragrunt generates it");
        let dependencies: Vec<String> = read.units[requester]
            .dependencies
            .iter()
            .map(|d| relative(&read.root, &d.config_path).display().to_string())
            .collect();
        assert_eq!(
            dependencies,
            [
                "environments/dev/.terragrunt-stack/us-west-2/edge-cluster",
                "environments/dev/.terragrunt-stack/us-east-1/gitops-cluster"
            ]
        );

        // A unit's own inputs, from the extra file its values name.
        let extra = tree.path().join("environments/dev/extra/us-west-2/edge-cluster.hcl");
        std::fs::create_dir_all(extra.parent().unwrap()).unwrap();
        std::fs::write(&extra, "inputs = {\n  no_such_variable = 1\n}\n").unwrap();
        let (_, problems) = run(tree.path());
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].to_string().starts_with(
                "environments/dev/.terragrunt-stack/us-west-2/edge-cluster/terragrunt.hcl: input \"no_such_variable\""
            ),
            "{}",
            problems[0]
        );
        std::fs::remove_file(&extra).unwrap();
    }

    #[test]
    fn stack_file_mistakes_are_problems_naming_the_unit() {
        let stack = |tree: &tempfile::TempDir| tree.path().join("environments/dev/terragrunt.stack.hcl");
        for (from, to, says) in [
            (
                "    region               = \"us-west-2\"\n",
                "",
                "no such key: `region` in expression `<<-EOF provider \"fleet\" { region = \"${values.region}\"",
            ),
            (
                "  source = \"../../units/edge-cluster\"",
                "  source = \"git::https://example.com/units.git//edge-cluster\"",
                "is remote",
            ),
            (
                "  source = \"../../units/edge-cluster\"",
                "  source = \"../../units/nope\"",
                "holds no terragrunt.hcl",
            ),
            (
                "  path   = \"us-west-2/edge-cluster\"",
                "  path   = \"us-west-2/vpc-peering-requester\"",
                "another unit has path",
            ),
            (
                "  path   = \"us-west-2/edge-cluster\"",
                "  path   = \"../../elsewhere\"",
                "outside the stack's folder",
            ),
            (
                "unit \"us-west-2-edge-cluster\" {",
                "stack \"x\" {",
                "block `stack` is not supported",
            ),
        ] {
            let tree = stack_tree();
            edit(&stack(&tree), from, to);
            let (_, problems) = run(tree.path());
            let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
            if from.contains("region") {
                assert!(
                    all.iter().any(|p| p.contains(
                        "(unit \"us-west-2-edge-cluster\" of environments/dev/terragrunt.stack.hcl, its values there)"
                    )),
                    "{all:#?}"
                );
            }
            assert!(
                all.iter().any(|p| p.to_lowercase().contains(&says.to_lowercase())),
                "{to:?}: {all:#?}"
            );
        }
    }
}
