//! The manifest rendered into the Terragrunt tree, file by file, with tera
//! templates embedded in the binary (or overridden with `--templates DIR`).

pub mod ci;
pub mod hcl;
pub mod header;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use tera::{Context, Kwargs, State, Tera, TeraResult, Value};

use crate::error::{Error, IoContext, Result};
use crate::manifest::{Cluster, Layout, Manifest, Role};

/// The kinds of unit, named as the modules they apply.
pub const GITOPS_CLUSTER: &str = "gitops-cluster";
pub const EDGE_CLUSTER: &str = "edge-cluster";
pub const REQUESTER: &str = "vpc-peering-requester";
pub const ACCEPTER: &str = "vpc-peering-accepter";
/// An edge registered with the hub's Argo CD: one per edge of an environment
/// with `gitops`, in the hub's folder (its provider needs the hub's
/// credentials), applying the module `argocd-registration`.
pub const GITOPS_REGISTRATION: &str = "gitops-registration";
pub const UNIT_KINDS: [&str; 4] = [EDGE_CLUSTER, GITOPS_CLUSTER, REQUESTER, ACCEPTER];
/// The units of one edge region.
pub const EDGE_UNITS: [&str; 3] = [EDGE_CLUSTER, REQUESTER, ACCEPTER];

/// The module a kind of unit applies: its own name, but for the registration.
pub fn module_of(kind: &str) -> &str {
    match kind {
        GITOPS_REGISTRATION => "argocd-registration",
        other => other,
    }
}

/// The folder name of the registration unit of the edge in `edge_region`,
/// one per edge next to the hub's unit.
pub fn registration_unit(edge_region: &str) -> String {
    format!("{GITOPS_REGISTRATION}-{edge_region}")
}

/// The kinds a tree renders: a registration only when an environment has `gitops`.
fn unit_kinds(manifest: &Manifest) -> Vec<&'static str> {
    let mut kinds = UNIT_KINDS.to_vec();
    if manifest.has_gitops() {
        kinds.push(GITOPS_REGISTRATION);
    }
    kinds
}

/// What env.hcl (and every stack unit's values) say about GitOps: None when
/// no environment has it (the tree stays as it was before GitOps), else the
/// environment's settings, all null without its own `gitops`.
fn gitops_locals(manifest: &Manifest, env: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    if !manifest.has_gitops() {
        return None;
    }
    let gitops = manifest.environments.get(env).and_then(|e| e.gitops.as_ref());
    let mut locals = serde_json::Map::new();
    locals.insert("gitops_mode".into(), json!(gitops.map(|g| g.mode.name())));
    locals.insert("gitops_namespace".into(), json!(gitops.map(|g| &g.namespace)));
    locals.insert(
        "gitops_capability_role_arn".into(),
        json!(gitops.and_then(|g| g.capability_role_arn.as_ref())),
    );
    Some(locals)
}

/// Templates by name; `--templates DIR` replaces any of them by a file of the same name.
const EMBEDDED: &[(&str, &str)] = &[
    ("eksgen.toml", include_str!("../../templates/eksgen.toml")),
    ("root.hcl", include_str!("../../templates/root.hcl")),
    ("_root_shared.hcl", include_str!("../../templates/_root_shared.hcl")),
    ("env.hcl", include_str!("../../templates/env.hcl")),
    ("region.hcl", include_str!("../../templates/region.hcl")),
    ("unit.hcl", include_str!("../../templates/unit.hcl")),
    ("edge.hcl", include_str!("../../templates/edge.hcl")),
    ("_env/source.hcl", include_str!("../../templates/_env/source.hcl")),
    (
        "_env/gitops-cluster.hcl",
        include_str!("../../templates/_env/gitops-cluster.hcl"),
    ),
    (
        "_env/edge-cluster.hcl",
        include_str!("../../templates/_env/edge-cluster.hcl"),
    ),
    (
        "_env/vpc-peering-requester.hcl",
        include_str!("../../templates/_env/vpc-peering-requester.hcl"),
    ),
    (
        "_env/vpc-peering-accepter.hcl",
        include_str!("../../templates/_env/vpc-peering-accepter.hcl"),
    ),
    (
        "_env/gitops-registration.hcl",
        include_str!("../../templates/_env/gitops-registration.hcl"),
    ),
    ("ci/ci.sh", include_str!("../../templates/ci/ci.sh")),
    ("ci/gitlab-ci.yml", include_str!("../../templates/ci/gitlab-ci.yml")),
    ("ci/github-plan.yml", include_str!("../../templates/ci/github-plan.yml")),
    (
        "ci/github-apply.yml",
        include_str!("../../templates/ci/github-apply.yml"),
    ),
    ("stack/root.hcl", include_str!("../../templates/stack/root.hcl")),
    (
        "stack/terragrunt-excludes",
        include_str!("../../templates/stack/terragrunt-excludes"),
    ),
    (
        "stack/terragrunt.stack.hcl",
        include_str!("../../templates/stack/terragrunt.stack.hcl"),
    ),
    ("stack/_unit.hcl", include_str!("../../templates/stack/_unit.hcl")),
    (
        "stack/units/gitops-cluster.hcl",
        include_str!("../../templates/stack/units/gitops-cluster.hcl"),
    ),
    (
        "stack/units/edge-cluster.hcl",
        include_str!("../../templates/stack/units/edge-cluster.hcl"),
    ),
    (
        "stack/units/vpc-peering-requester.hcl",
        include_str!("../../templates/stack/units/vpc-peering-requester.hcl"),
    ),
    (
        "stack/units/vpc-peering-accepter.hcl",
        include_str!("../../templates/stack/units/vpc-peering-accepter.hcl"),
    ),
    (
        "stack/units/gitops-registration.hcl",
        include_str!("../../templates/stack/units/gitops-registration.hcl"),
    ),
];

/// The stack layout: where each environment's stack file is, the folder of
/// the units it generates (Terragrunt's), and the units' sources.
pub const STACK_FILE: &str = "terragrunt.stack.hcl";
pub const STACK_DIR: &str = ".terragrunt-stack";
pub const UNIT_SOURCES: &str = "units";
/// Terragrunt's default `--queue-excludes-file`, read where `run --all` starts.
pub const EXCLUDES_FILE: &str = ".terragrunt-excludes";

/// Where a unit of the stack layout is generated, relative to its
/// environment's folder: `.terragrunt-stack/<region>/<kind>`.
pub fn stack_unit_path(region: &str, kind: &str) -> String {
    format!("{region}/{kind}")
}

/// A unit's own inputs in the stack layout, relative to the tree's root.
pub fn stack_extra_file(env: &str, region: &str, kind: &str) -> PathBuf {
    Path::new("environments")
        .join(env)
        .join("extra")
        .join(region)
        .join(format!("{kind}.hcl"))
}

pub struct Templates {
    tera: Tera,
}

impl Templates {
    pub fn load(override_dir: Option<&Path>) -> Result<Templates> {
        let mut sources: BTreeMap<String, String> = EMBEDDED
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        if let Some(dir) = override_dir {
            if !dir.is_dir() {
                return Err(Error::TemplateDir {
                    dir: dir.to_path_buf(),
                    message: "is not a folder; give the folder holding the templates to override".into(),
                });
            }
            for name in override_names(dir, dir)? {
                if !sources.contains_key(&name) {
                    let known: Vec<&str> = EMBEDDED.iter().map(|(n, _)| *n).collect();
                    return Err(Error::TemplateDir {
                        dir: dir.to_path_buf(),
                        message: format!("{name} is not an eksgen template; templates are {}", known.join(", ")),
                    });
                }
                let path = dir.join(&name);
                sources.insert(name, std::fs::read_to_string(&path).at(&path)?);
            }
        }
        let mut tera = Tera::default();
        // Tera would HTML-escape only .html/.xml names; say so explicitly: values
        // reach the files through the `hcl` and `toml` filters, which escape for the target syntax.
        tera.autoescape_on(Vec::<&str>::new());
        tera.register_filter("hcl", hcl_filter);
        tera.register_filter("hcl_escape", hcl_escape_filter);
        tera.register_filter("toml", toml_filter);
        tera.register_filter("json", json_filter);
        tera.add_raw_templates(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .map_err(|err| Error::Template {
                name: "(loading)".into(),
                message: one_line(&err),
            })?;
        Ok(Templates { tera })
    }

    pub(crate) fn render(&self, name: &str, context: &Context) -> Result<String> {
        self.tera.render(name, context).map_err(|err| Error::Template {
            name: name.into(),
            message: one_line(&err),
        })
    }

    pub fn render_manifest(&self, init: &InitManifest<'_>) -> Result<String> {
        let context = Context::from_serialize(init).map_err(|err| Error::Template {
            name: "eksgen.toml".into(),
            message: one_line(&err),
        })?;
        self.render("eksgen.toml", &context)
    }

    /// Every file of the tree, by path relative to the manifest's folder,
    /// each starting with the generated-file header.
    pub fn render_tree(&self, manifest: &Manifest) -> Result<BTreeMap<PathBuf, String>> {
        let mut files = BTreeMap::new();
        let mut add = |path: PathBuf, body: String| {
            files.insert(path, header::stamp(&body));
        };
        if manifest.layout == Layout::Stack {
            for (path, body) in self.render_stack(manifest)? {
                add(path, body);
            }
            return Ok(files);
        }
        let mut context = Context::new();
        context.insert("state", &manifest.state);
        add("root.hcl".into(), self.render("root.hcl", &context)?);

        let env_dir = PathBuf::from("environments");
        for kind in unit_kinds(manifest) {
            let mut context = Context::new();
            context.insert("kind", kind);
            context.insert("module", module_of(kind));
            context.insert("modules", &module_source(&manifest.modules_source, module_of(kind)));
            context.insert("gitops", &manifest.has_gitops());
            let template = format!("_env/{kind}.hcl");
            add(env_dir.join(&template), self.render(&template, &context)?);
        }

        let clusters = manifest.clusters();
        for cluster in &clusters {
            let dir = env_dir.join(&cluster.env);
            let hub = clusters
                .iter()
                .find(|c| c.env == cluster.env && c.role == Role::Hub)
                .unwrap_or(cluster);
            let (region_dir, units): (PathBuf, &[&str]) = match cluster.role {
                Role::Hub => {
                    let mut context = Context::new();
                    context.insert("env", &cluster.env);
                    context.insert("hub", &json!({ "region": cluster.region, "cidr": cluster.cidr }));
                    context.insert("gitops", &gitops_locals(manifest, &cluster.env));
                    add(dir.join("env.hcl"), self.render("env.hcl", &context)?);
                    if manifest
                        .environments
                        .get(&cluster.env)
                        .is_some_and(|e| e.gitops.is_some())
                    {
                        let edges = clusters.iter().filter(|c| c.env == cluster.env && c.role == Role::Edge);
                        for edge in edges {
                            let unit_dir = dir.join("shared").join(registration_unit(&edge.region));
                            let mut context = Context::new();
                            context.insert("kind", GITOPS_REGISTRATION);
                            add(unit_dir.join("terragrunt.hcl"), self.render("unit.hcl", &context)?);
                            let mut context = Context::new();
                            context.insert("cluster", edge);
                            add(unit_dir.join("edge.hcl"), self.render("edge.hcl", &context)?);
                        }
                    }
                    (dir.join("shared"), &[GITOPS_CLUSTER])
                }
                Role::Edge => (dir.join("regions").join(&cluster.region), &EDGE_UNITS),
            };
            add(
                region_dir.join("region.hcl"),
                self.render("region.hcl", &region_context(cluster, hub))?,
            );
            for kind in units {
                let mut context = Context::new();
                context.insert("kind", kind);
                add(
                    region_dir.join(kind).join("terragrunt.hcl"),
                    self.render("unit.hcl", &context)?,
                );
            }
        }
        if let Some(settings) = &manifest.ci {
            for (path, body) in ci::render(self, manifest, settings)? {
                add(path, body);
            }
        }
        Ok(files)
    }
}

impl Templates {
    /// The stack layout's files (without headers): root.hcl, the units'
    /// sources, and one terragrunt.stack.hcl per environment whose `unit`
    /// blocks carry, as values, what region.hcl and env.hcl say in the units layout.
    fn render_stack(&self, manifest: &Manifest) -> Result<Vec<(PathBuf, String)>> {
        let mut files = Vec::new();
        let mut context = Context::new();
        context.insert("state", &manifest.state);
        files.push(("root.hcl".into(), self.render("stack/root.hcl", &context)?));
        files.push((
            EXCLUDES_FILE.into(),
            self.render("stack/terragrunt-excludes", &Context::new())?,
        ));
        for kind in unit_kinds(manifest) {
            let mut context = Context::new();
            context.insert("kind", kind);
            context.insert("module", module_of(kind));
            context.insert("modules", &module_source(&manifest.modules_source, module_of(kind)));
            context.insert("gitops", &manifest.has_gitops());
            files.push((
                Path::new(UNIT_SOURCES).join(kind).join("terragrunt.hcl"),
                self.render(&format!("stack/units/{kind}.hcl"), &context)?,
            ));
        }
        let clusters = manifest.clusters();
        for env in manifest.environments.keys() {
            let in_env: Vec<&Cluster> = clusters.iter().filter(|c| &c.env == env).collect();
            let Some(hub) = in_env.iter().find(|c| c.role == Role::Hub) else {
                continue;
            };
            let hub_cluster = stack_unit_path(&hub.region, GITOPS_CLUSTER);
            let gitops = gitops_locals(manifest, env);
            let mut units = Vec::new();
            for cluster in &in_env {
                let kinds: &[&str] = match cluster.role {
                    Role::Hub => &[GITOPS_CLUSTER],
                    Role::Edge => &EDGE_UNITS,
                };
                for kind in kinds {
                    let mut values = stack_values(cluster, hub);
                    values.extend(gitops.clone().unwrap_or_default());
                    values.insert(
                        "extra".into(),
                        json!(
                            stack_extra_file(env, &cluster.region, kind)
                                .to_string_lossy()
                                .replace('\\', "/")
                        ),
                    );
                    // Dependencies by path, relative to the generated unit.
                    let to_hub = format!("../../{hub_cluster}");
                    match *kind {
                        REQUESTER => {
                            values.insert("edge_cluster_path".into(), json!(format!("../{EDGE_CLUSTER}")));
                            values.insert("gitops_cluster_path".into(), json!(to_hub));
                        }
                        ACCEPTER => {
                            values.insert("vpc_peering_requester_path".into(), json!(format!("../{REQUESTER}")));
                            values.insert("gitops_cluster_path".into(), json!(to_hub));
                        }
                        EDGE_CLUSTER if gitops.is_some() => {
                            values.insert("gitops_cluster_path".into(), json!(to_hub));
                        }
                        _ => {}
                    }
                    units.push(json!({
                        "name": format!("{}-{kind}", cluster.region),
                        "source": format!("../../{UNIT_SOURCES}/{kind}"),
                        "path": stack_unit_path(&cluster.region, kind),
                        "values": values,
                    }));
                }
            }
            let has_gitops = manifest.environments.get(env).is_some_and(|e| e.gitops.is_some());
            for edge in in_env.iter().filter(|c| has_gitops && c.role == Role::Edge) {
                // Next to the hub's unit, with the hub's values: its provider
                // writes to the hub. The edge's own are edge_*.
                let unit = registration_unit(&edge.region);
                let mut values = stack_values(hub, hub);
                values.extend(gitops.clone().unwrap_or_default());
                values.insert("edge_region".into(), json!(edge.region));
                values.insert("edge_cluster_name".into(), json!(edge.name));
                values.insert(
                    "extra".into(),
                    json!(
                        stack_extra_file(env, &hub.region, &unit)
                            .to_string_lossy()
                            .replace('\\', "/")
                    ),
                );
                values.insert("gitops_cluster_path".into(), json!(format!("../{GITOPS_CLUSTER}")));
                values.insert(
                    "edge_cluster_path".into(),
                    json!(format!("../../{}", stack_unit_path(&edge.region, EDGE_CLUSTER))),
                );
                units.push(json!({
                    "name": format!("{}-{unit}", hub.region),
                    "source": format!("../../{UNIT_SOURCES}/{GITOPS_REGISTRATION}"),
                    "path": stack_unit_path(&hub.region, &unit),
                    "values": values,
                }));
            }
            let mut context = Context::new();
            context.insert("env", env);
            context.insert("units", &units);
            files.push((
                Path::new("environments").join(env).join(STACK_FILE),
                self.render("stack/terragrunt.stack.hcl", &context)?,
            ));
        }
        Ok(files)
    }
}

/// A unit's values in the stack layout: every setting region.hcl and env.hcl
/// carry in the units layout, by the same names.
fn stack_values(cluster: &Cluster, hub: &Cluster) -> serde_json::Map<String, serde_json::Value> {
    let cross_account = !cluster.is_same_account(hub);
    let mut values = serde_json::Map::new();
    let mut set = |key: &str, value: serde_json::Value| {
        values.insert(key.to_string(), value);
    };
    set("environment", json!(cluster.env));
    set("hub_region", json!(hub.region));
    set("hub_vpc_cidr", json!(hub.cidr));
    set("region", json!(cluster.region));
    set("role", json!(cluster.role));
    set("cluster_name", json!(cluster.name));
    set("vpc_cidr", json!(cluster.cidr));
    set("kubernetes_version", json!(cluster.kubernetes_version));
    set("account_id", json!(cluster.account_id));
    set(
        "provider_assume_role",
        json!(cluster.deploy_role_arn.as_ref().map(|arn| json!({ "role_arn": arn }))),
    );
    set("node_groups", json!(cluster.node_groups));
    set("tags", json!(cluster.tags));
    if cluster.role == Role::Edge {
        set(
            "hub_account_id",
            json!(if cross_account { hub.account_id.clone() } else { None }),
        );
        set(
            "hub_assume_role_arn",
            json!(if cross_account {
                hub.deploy_role_arn.clone()
            } else {
                None
            }),
        );
        set("peering_auto_accept", json!(!cross_account));
    }
    values
}

/// What `eksgen init` writes into a new manifest.
#[derive(Serialize)]
pub struct InitManifest<'a> {
    pub layout: &'a str,
    pub env: &'a str,
    pub hub_region: &'a str,
    pub hub_cidr: String,
    pub cidr_pool: String,
    pub vpc_prefix_length: u8,
    pub modules_source: &'a str,
    /// None leaves it out: clusters get EKS's newest standard-support version.
    pub kubernetes_version: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub state: Option<serde_json::Value>,
}

fn region_context(cluster: &Cluster, hub: &Cluster) -> Context {
    let mut context = Context::new();
    context.insert("cluster", cluster);
    context.insert(
        "provider_assume_role",
        &cluster.deploy_role_arn.as_ref().map(|arn| json!({ "role_arn": arn })),
    );
    let cross_account = !cluster.is_same_account(hub);
    context.insert(
        "peering",
        &json!({
            "hub_account_id": if cross_account { hub.account_id.clone() } else { None },
            "hub_assume_role_arn": if cross_account { hub.deploy_role_arn.clone() } else { None },
            "auto_accept": !cross_account,
        }),
    );
    context
}

/// Local module folders are found from root.hcl's folder, so the tree can be
/// moved or cloned anywhere; remote sources name the module's subfolder.
fn module_source(source: &str, kind: &str) -> serde_json::Value {
    if is_remote(source) {
        let (base, query) = source.split_once('?').map_or((source, None), |(b, q)| (b, Some(q)));
        let separator = if base.split_once("://").map_or(base, |(_, rest)| rest).contains("//") {
            "/"
        } else {
            "//"
        };
        let mut full = format!("{}{separator}{kind}", base.trim_end_matches('/'));
        if let Some(query) = query {
            full = format!("{full}?{query}");
        }
        json!({ "source": full })
    } else if Path::new(source).is_absolute() {
        json!({ "source": format!("{}//{kind}", source.trim_end_matches('/')) })
    } else {
        json!({ "relative": source.trim_end_matches('/') })
    }
}

pub fn is_remote(source: &str) -> bool {
    source.contains("::") || source.contains("://") || source.starts_with("git@") || source.starts_with("github.com/")
}

fn override_names(root: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        if path.is_dir() {
            names.extend(override_names(root, &path)?);
        } else if let Ok(relative) = path.strip_prefix(root) {
            names.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(names)
}

fn one_line(err: &dyn std::fmt::Display) -> String {
    err.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hcl_filter(value: Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let indent = kwargs.get::<usize>("indent")?.unwrap_or(0);
    let json = serde_json::to_value(&value).map_err(|err| tera::Error::message(err.to_string()))?;
    Ok(Value::safe_string(&hcl::value(&json, indent)))
}

fn hcl_escape_filter(text: &str, _: Kwargs, _: &State) -> Value {
    Value::safe_string(&hcl::escape(text))
}

/// A value as JSON: a YAML flow scalar or sequence, quoted as YAML reads it.
fn json_filter(value: Value, _: Kwargs, _: &State) -> TeraResult<Value> {
    let json = serde_json::to_value(&value).map_err(|err| tera::Error::message(err.to_string()))?;
    Ok(Value::safe_string(&json.to_string()))
}

fn toml_filter(value: Value, _: Kwargs, _: &State) -> TeraResult<Value> {
    let rendered = match value.as_str() {
        Some(text) => toml_edit::Value::from(text).to_string(),
        None => return Err(tera::Error::message("the toml filter takes strings only")),
    };
    Ok(Value::safe_string(rendered.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
version = 1
layout = "stack"
modules_source = "../modules"
cidr_pool = "10.0.0.0/8"

[environments.dev]
account_id = "111111111111"
deploy_role_name = "deployer"
tags = { Team = "platform" }

[environments.dev.hub]
region = "us-east-1"
cidr = "10.0.0.0/16"

[environments.dev.regions.us-west-2]
cidr = "10.1.0.0/16"
account_id = "222222222222"

[environments.dev.regions.eu-west-1]
cidr = "10.2.0.0/16"
kubernetes_version = "1.33"

[environments.prod.hub]
region = "eu-central-1"
cidr = "10.3.0.0/16"
"#;

    fn render(text: &str) -> BTreeMap<PathBuf, String> {
        let manifest = Manifest::parse(Path::new("eksgen.toml"), text).unwrap();
        Templates::load(None).unwrap().render_tree(&manifest).unwrap()
    }

    fn body(text: &str) -> ::hcl::Body {
        ::hcl::parse(text).unwrap_or_else(|e| panic!("{e}:\n{text}"))
    }

    fn literal(expr: &::hcl::Expression) -> ::hcl::Value {
        ::hcl::eval::Evaluate::evaluate(expr, &::hcl::eval::Context::new()).unwrap()
    }

    /// A file's `locals`, evaluated (region.hcl and env.hcl hold literals only).
    fn locals(text: &str) -> ::hcl::Map<String, ::hcl::Value> {
        let body = body(text);
        let block = body.blocks().find(|b| b.identifier() == "locals").unwrap();
        block
            .body()
            .attributes()
            .map(|a| (a.key().to_string(), literal(a.expr())))
            .collect()
    }

    /// Each unit block of a stack file: name → (source, path, values).
    fn stack_units(text: &str) -> BTreeMap<String, (String, String, ::hcl::Map<String, ::hcl::Value>)> {
        body(text)
            .blocks()
            .map(|block| {
                assert_eq!(block.identifier(), "unit");
                let attr = |key: &str| literal(block.body().attributes().find(|a| a.key() == key).unwrap().expr());
                let ::hcl::Value::Object(values) = attr("values") else {
                    panic!("values is an object")
                };
                let string = |key: &str| attr(key).as_str().unwrap().to_string();
                (
                    block.labels()[0].as_str().to_string(),
                    (string("source"), string("path"), values),
                )
            })
            .collect()
    }

    #[test]
    fn the_stack_layout_writes_a_stack_file_per_env_and_the_unit_sources_only() {
        let files = render(MANIFEST);
        let paths: Vec<String> = files.keys().map(|p| p.display().to_string()).collect();
        assert_eq!(
            paths,
            [
                ".terragrunt-excludes",
                "environments/dev/terragrunt.stack.hcl",
                "environments/prod/terragrunt.stack.hcl",
                "root.hcl",
                "units/edge-cluster/terragrunt.hcl",
                "units/gitops-cluster/terragrunt.hcl",
                "units/vpc-peering-accepter/terragrunt.hcl",
                "units/vpc-peering-requester/terragrunt.hcl",
            ]
        );
        for (path, text) in &files {
            assert_eq!(header::origin(text), header::Origin::Pristine, "{}", path.display());
        }
        assert!(files[Path::new(".terragrunt-excludes")].ends_with("\n./units/**\n"));
        let dev = stack_units(&files[Path::new("environments/dev/terragrunt.stack.hcl")]);
        let names: Vec<&str> = dev.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "eu-west-1-edge-cluster",
                "eu-west-1-vpc-peering-accepter",
                "eu-west-1-vpc-peering-requester",
                "us-east-1-gitops-cluster",
                "us-west-2-edge-cluster",
                "us-west-2-vpc-peering-accepter",
                "us-west-2-vpc-peering-requester",
            ]
        );
        let (source, path, values) = &dev["us-west-2-vpc-peering-requester"];
        assert_eq!(source, "../../units/vpc-peering-requester");
        assert_eq!(path, "us-west-2/vpc-peering-requester");
        assert_eq!(values["edge_cluster_path"], ::hcl::Value::from("../edge-cluster"));
        assert_eq!(
            values["gitops_cluster_path"],
            ::hcl::Value::from("../../us-east-1/gitops-cluster")
        );
        assert_eq!(
            values["extra"],
            ::hcl::Value::from("environments/dev/extra/us-west-2/vpc-peering-requester.hcl")
        );
        let (_, _, accepter) = &dev["us-west-2-vpc-peering-accepter"];
        assert_eq!(
            accepter["vpc_peering_requester_path"],
            ::hcl::Value::from("../vpc-peering-requester")
        );
        let prod = stack_units(&files[Path::new("environments/prod/terragrunt.stack.hcl")]);
        assert_eq!(prod.keys().collect::<Vec<_>>(), ["eu-central-1-gitops-cluster"]);
    }

    /// Every unit's values are exactly what region.hcl and env.hcl say in
    /// the units layout (cross-account peering included), plus where its
    /// extra file and its dependencies are.
    #[test]
    fn stack_values_are_what_region_hcl_and_env_hcl_carry() {
        let stack = render(MANIFEST);
        let units = render(&MANIFEST.replace("layout = \"stack\"\n", ""));
        for env in ["dev", "prod"] {
            let env_dir = Path::new("environments").join(env);
            let env_locals = locals(&units[&env_dir.join("env.hcl")]);
            for (name, (_, path, values)) in stack_units(&stack[&env_dir.join(STACK_FILE)]) {
                let (region, kind) = path.split_once('/').unwrap();
                let role = values["role"].as_str().unwrap();
                let region_dir = match role {
                    "hub" => env_dir.join("shared"),
                    _ => env_dir.join("regions").join(region),
                };
                assert!(
                    units.contains_key(&region_dir.join(kind).join("terragrunt.hcl")),
                    "{name}"
                );
                let mut expected = locals(&units[&region_dir.join("region.hcl")]);
                expected.extend(env_locals.clone());
                let mut got = values.clone();
                for key in [
                    "extra",
                    "edge_cluster_path",
                    "gitops_cluster_path",
                    "vpc_peering_requester_path",
                ] {
                    got.shift_remove(key);
                }
                let sorted = |m: ::hcl::Map<String, ::hcl::Value>| m.into_iter().collect::<BTreeMap<_, _>>();
                assert_eq!(sorted(got), sorted(expected), "{env} {name}");
            }
        }
        let dev = stack_units(&stack[Path::new("environments/dev/terragrunt.stack.hcl")]);
        let (_, _, west) = &dev["us-west-2-edge-cluster"];
        assert_eq!(west["hub_account_id"], ::hcl::Value::from("111111111111"));
        assert_eq!(west["peering_auto_accept"], ::hcl::Value::from(false));
    }

    /// With GitOps, too, a stack unit's values are what env.hcl and
    /// region.hcl say in the units layout; a registration's are the hub's
    /// plus its edge's (edge.hcl) as edge_*.
    #[test]
    fn gitops_stack_values_are_what_env_hcl_region_hcl_and_edge_hcl_carry() {
        let manifest = MANIFEST.replace(
            "[environments.dev.hub]",
            "[environments.dev.gitops]\nmode = \"capability\"\ncapability_role_arn = \"arn:aws:iam::111111111111:role/cap\"\n\n[environments.dev.hub]",
        );
        let stack = render(&manifest);
        let units = render(&manifest.replace("layout = \"stack\"\n", ""));
        let mut registrations = 0;
        for env in ["dev", "prod"] {
            let env_dir = Path::new("environments").join(env);
            let env_locals = locals(&units[&env_dir.join("env.hcl")]);
            let expected_mode = if env == "dev" {
                ::hcl::Value::from("capability")
            } else {
                ::hcl::Value::Null
            };
            assert_eq!(env_locals["gitops_mode"], expected_mode, "{env}");
            for (name, (source, path, values)) in stack_units(&stack[&env_dir.join(STACK_FILE)]) {
                let (region, unit) = path.split_once('/').unwrap();
                let region_dir = match values["role"].as_str().unwrap() {
                    "hub" => env_dir.join("shared"),
                    _ => env_dir.join("regions").join(region),
                };
                let unit_dir = region_dir.join(unit);
                assert!(units.contains_key(&unit_dir.join("terragrunt.hcl")), "{name}");
                let mut expected = locals(&units[&region_dir.join("region.hcl")]);
                expected.extend(env_locals.clone());
                if source.ends_with(GITOPS_REGISTRATION) {
                    registrations += 1;
                    for (key, value) in locals(&units[&unit_dir.join("edge.hcl")]) {
                        expected.insert(format!("edge_{key}"), value);
                    }
                }
                let mut got = values.clone();
                for key in [
                    "extra",
                    "edge_cluster_path",
                    "gitops_cluster_path",
                    "vpc_peering_requester_path",
                ] {
                    got.shift_remove(key);
                }
                let sorted = |m: ::hcl::Map<String, ::hcl::Value>| m.into_iter().collect::<BTreeMap<_, _>>();
                assert_eq!(sorted(got), sorted(expected), "{env} {name}");
            }
        }
        assert_eq!(registrations, 2, "one per edge of dev, none for prod");
    }
}
