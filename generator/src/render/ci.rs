//! The CI pipelines of a tree with `[ci]`: which jobs there are, what each
//! applies, what it waits for and which files make it run. The templates
//! only spell this out in GitLab's or GitHub's syntax, so the job graph is
//! data here and tested as such.
//!
//! Jobs come in groups of units: per environment one for the hub
//! (`<env>/hub`: the hub's cluster) and one per edge region (`<env>/<region>`:
//! its cluster, both peering sides and its Argo CD registration). Within a
//! job, Terragrunt's git filter (`...[BASE...HEAD]`, the changed units and
//! their dependents) picks the units the change touched; a job whose units
//! read no changed file is not started at all.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{ACCEPTER, EDGE_CLUSTER, GITOPS_CLUSTER, REQUESTER, is_remote, module_of, registration_unit};
use crate::manifest::ci::{Ci, CiSystem, GITHUB_MATRIX_LIMIT};
use crate::manifest::{Cluster, Manifest, Role};

/// Where the pipelines' shared script is, relative to the tree's root.
pub const SCRIPT: &str = ".eksfleet/ci.sh";
pub const GITLAB_FILE: &str = ".gitlab-ci.yml";
pub const GITHUB_PLAN_FILE: &str = ".github/workflows/eksfleet-plan.yml";
pub const GITHUB_APPLY_FILE: &str = ".github/workflows/eksfleet-apply.yml";

#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub max_parallel: u32,
    pub environments: Vec<EnvironmentJobs>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentJobs {
    pub env: String,
    /// The hub's region: where the jobs' STS calls go.
    pub region: String,
    /// Every file of the environment: a removed region's are among them.
    pub folder_glob: String,
    pub hub: Job,
    pub regions: Vec<Job>,
    /// The hub, then the regions: every job, in the order they apply.
    pub jobs: Vec<Job>,
    /// GitHub matrices: the hub's, then the regions' in matrices of at most
    /// GitHub's 256 jobs each.
    pub batches: Vec<Batch>,
}

/// One GitHub matrix of jobs, filled at run time from the `changed` job's
/// output of the same name with the jobs the change touched.
#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub output: String,
    pub role: Role,
    pub jobs: Vec<Job>,
}

/// One group of units, planned by one job and applied by one job.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// `<env>/hub` or `<env>/<region>`: the argument of `ci.sh plan|apply`.
    pub group: String,
    /// The group as a job name (`dev-us-west-2`).
    pub slug: String,
    pub env: String,
    pub region: String,
    pub role: Role,
    /// The unit folders the job applies, relative to the tree's root.
    pub units: Vec<String>,
    /// Globs of every file the units read: a change to none of them cannot
    /// change the units' plans, so the job is left out (GitLab `rules:changes`).
    pub reads: Vec<String>,
    /// Groups whose apply must have succeeded before this one's starts.
    pub needs: Vec<String>,
    /// The same as job slugs.
    pub needs_slugs: Vec<String>,
    /// The GitHub matrix (its `changed` output) the job is in.
    pub output: String,
    /// The role the job's credentials come from (OIDC web identity).
    pub role_arn: String,
    /// Which of the `max_parallel` plan slots (GitLab resource groups) it takes.
    pub plan_slot: u32,
}

impl Pipeline {
    /// The pipeline of a manifest with `[ci]`; validation made sure every
    /// cluster has a role.
    pub fn of(manifest: &Manifest, ci: &Ci) -> Pipeline {
        let clusters = manifest.clusters();
        let module_reads = |kinds: &[&str]| -> Vec<String> {
            let source = manifest.modules_source.trim_end_matches('/');
            // Modules inside the tree are files its units read; remote ones,
            // and those outside the tree (the repository CI sees), change
            // only with modules_source itself.
            if is_remote(source) || Path::new(source).is_absolute() || source.starts_with("..") {
                return Vec::new();
            }
            let base = source.trim_start_matches("./");
            kinds
                .iter()
                .map(|kind| format!("{base}/{}/**/*", module_of(kind)))
                .collect()
        };
        let mut slot = 0;
        let mut next_slot = || {
            let taken = slot % ci.max_parallel.max(1);
            slot += 1;
            taken
        };
        let mut environments = Vec::new();
        for (env, environment) in &manifest.environments {
            let in_env: Vec<&Cluster> = clusters.iter().filter(|c| &c.env == env).collect();
            let Some(hub) = in_env.iter().find(|c| c.role == Role::Hub) else {
                continue;
            };
            let env_dir = format!("environments/{env}");
            let shared = [
                "root.hcl".to_string(),
                format!("{env_dir}/env.hcl"),
                format!("{env_dir}/shared/region.hcl"),
            ];
            let hub_unit = format!("{env_dir}/shared/{GITOPS_CLUSTER}");
            let mut hub_reads: Vec<String> = shared.to_vec();
            hub_reads.push(format!("environments/_env/{GITOPS_CLUSTER}.hcl"));
            hub_reads.push("environments/_env/source.hcl".into());
            hub_reads.push(format!("{hub_unit}/**/*"));
            hub_reads.extend(module_reads(&[GITOPS_CLUSTER]));
            let hub_job = Job {
                group: format!("{env}/hub"),
                slug: format!("{env}-hub"),
                env: env.clone(),
                region: hub.region.clone(),
                role: Role::Hub,
                units: vec![hub_unit.clone()],
                reads: hub_reads,
                needs: Vec::new(),
                needs_slugs: Vec::new(),
                output: format!("{env}-hub"),
                role_arn: ci.role_for(hub).unwrap_or_default().to_string(),
                plan_slot: next_slot(),
            };
            let mut regions = Vec::new();
            for edge in in_env.iter().filter(|c| c.role == Role::Edge) {
                let region_dir = format!("{env_dir}/regions/{}", edge.region);
                let mut units: Vec<String> = [EDGE_CLUSTER, REQUESTER, ACCEPTER]
                    .iter()
                    .map(|kind| format!("{region_dir}/{kind}"))
                    .collect();
                let mut kinds = vec![EDGE_CLUSTER, REQUESTER, ACCEPTER];
                let mut reads: Vec<String> = shared.to_vec();
                reads.push(format!("{region_dir}/**/*"));
                // The hub's outputs feed the peering (and the GitOps roles):
                // a hub change re-plans every edge that depends on it.
                reads.push(format!("{hub_unit}/**/*"));
                if environment.gitops.is_some() {
                    let registration = format!("{env_dir}/shared/{}", registration_unit(&edge.region));
                    reads.push(format!("{registration}/**/*"));
                    units.push(registration);
                    kinds.push(super::GITOPS_REGISTRATION);
                }
                reads.push("environments/_env/source.hcl".into());
                reads.extend(kinds.iter().map(|kind| format!("environments/_env/{kind}.hcl")));
                reads.extend(module_reads(&kinds));
                regions.push(Job {
                    group: format!("{env}/{}", edge.region),
                    slug: format!("{env}-{}", edge.region),
                    env: env.clone(),
                    region: edge.region.clone(),
                    role: Role::Edge,
                    units,
                    reads,
                    needs: vec![hub_job.group.clone()],
                    needs_slugs: vec![hub_job.slug.clone()],
                    output: String::new(),
                    role_arn: ci.role_for(edge).unwrap_or_default().to_string(),
                    plan_slot: next_slot(),
                });
            }
            // An environment has at most one edge per AWS region, far below
            // GitHub's 256 jobs per matrix; the split keeps it so if AWS grows.
            let batches = batches(env, &hub_job, &mut regions, GITHUB_MATRIX_LIMIT);
            let mut jobs = vec![hub_job.clone()];
            jobs.extend(regions.iter().cloned());
            environments.push(EnvironmentJobs {
                env: env.clone(),
                region: hub.region.clone(),
                folder_glob: format!("{env_dir}/**/*"),
                hub: hub_job,
                regions,
                jobs,
                batches,
            });
        }
        Pipeline {
            max_parallel: ci.max_parallel,
            environments,
        }
    }

    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.environments.iter().flat_map(|env| &env.jobs)
    }

    /// The names of every GitHub matrix (the `changed` job's outputs).
    pub fn outputs(&self) -> Vec<&str> {
        self.environments
            .iter()
            .flat_map(|env| &env.batches)
            .map(|batch| batch.output.as_str())
            .collect()
    }
}

/// The CI files of a tree with `[ci]`, by path relative to the tree's root
/// (without headers): the jobs' script and the system's pipeline files.
pub fn render(
    templates: &super::Templates,
    manifest: &Manifest,
    ci: &Ci,
) -> crate::error::Result<Vec<(PathBuf, String)>> {
    let pipeline = Pipeline::of(manifest, ci);
    let mut context = tera::Context::new();
    context.insert("ci", ci);
    context.insert("pipeline", &pipeline);
    context.insert("jobs", &pipeline.jobs().collect::<Vec<_>>());
    context.insert("outputs", &pipeline.outputs());
    context.insert("script", SCRIPT);
    context.insert("eksgen_version", env!("CARGO_PKG_VERSION"));
    context.insert("eksgen_source", EKSGEN_SOURCE);
    let mut files = vec![(PathBuf::from(SCRIPT), templates.render("ci/ci.sh", &context)?)];
    match ci.system {
        CiSystem::Gitlab => files.push((GITLAB_FILE.into(), templates.render("ci/gitlab-ci.yml", &context)?)),
        CiSystem::Github => {
            files.push((
                GITHUB_PLAN_FILE.into(),
                templates.render("ci/github-plan.yml", &context)?,
            ));
            files.push((
                GITHUB_APPLY_FILE.into(),
                templates.render("ci/github-apply.yml", &context)?,
            ));
        }
    }
    Ok(files)
}

/// Where the jobs install eksgen from when the runner has none at this version.
const EKSGEN_SOURCE: &str = "https://github.com/eksfleet/eksfleet";

/// Every CI file eksgen may write: a file of these it wrote is deleted when
/// `[ci]` stops asking for it.
pub const FILES: [&str; 4] = [SCRIPT, GITLAB_FILE, GITHUB_PLAN_FILE, GITHUB_APPLY_FILE];

/// The hub's matrix, then the regions' in matrices of at most `limit` jobs;
/// each region job learns the matrix (output) it is in.
fn batches(env: &str, hub: &Job, regions: &mut [Job], limit: usize) -> Vec<Batch> {
    let mut batches = vec![Batch {
        output: hub.output.clone(),
        role: Role::Hub,
        jobs: vec![hub.clone()],
    }];
    for (index, chunk) in regions.chunks_mut(limit).enumerate() {
        let output = format!("{env}-regions-{}", index + 1);
        for job in chunk.iter_mut() {
            job.output = output.clone();
        }
        batches.push(Batch {
            output,
            role: Role::Edge,
            jobs: chunk.to_vec(),
        });
    }
    batches
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    pub const MANIFEST: &str = r#"
version = 1
modules_source = "modules"
cidr_pool = "10.0.0.0/8"

[state]
bucket = "fleet-state"
region = "us-east-1"

[ci]
system = "gitlab"
max_parallel = 2
role_arn = "arn:aws:iam::111111111111:role/eksfleet-ci"

[ci.roles]
"222222222222" = "arn:aws:iam::222222222222:role/eksfleet-ci"

[environments.dev]
account_id = "111111111111"
deploy_role_name = "deployer"

[environments.dev.gitops]

[environments.dev.hub]
region = "us-east-1"
cidr = "10.0.0.0/16"

[environments.dev.regions.us-west-2]
cidr = "10.1.0.0/16"
account_id = "222222222222"

[environments.dev.regions.eu-west-1]
cidr = "10.2.0.0/16"

[environments.prod.hub]
region = "eu-central-1"
cidr = "10.3.0.0/16"
"#;

    fn pipeline(text: &str) -> Pipeline {
        let manifest = Manifest::parse(Path::new("eksgen.toml"), text).unwrap();
        Pipeline::of(&manifest, manifest.ci.as_ref().unwrap())
    }

    /// Every unit of the tree is in exactly one job, and a job waits for
    /// another exactly when one of its units depends on one of the other's.
    #[test]
    fn jobs_cover_every_unit_once_and_wait_for_the_jobs_their_units_depend_on() {
        let manifest = Manifest::parse(Path::new("eksgen.toml"), MANIFEST).unwrap();
        let files = super::super::Templates::load(None)
            .unwrap()
            .render_tree(&manifest)
            .unwrap();
        let units: BTreeSet<String> = files
            .keys()
            .filter(|p| p.ends_with("terragrunt.hcl"))
            .map(|p| p.parent().unwrap().display().to_string())
            .collect();
        let pipeline = pipeline(MANIFEST);
        let mut owner = BTreeMap::new();
        for job in pipeline.jobs() {
            for unit in &job.units {
                assert!(owner.insert(unit.clone(), job.group.clone()).is_none(), "{unit} twice");
            }
        }
        assert_eq!(owner.keys().cloned().collect::<BTreeSet<_>>(), units);
        // The dependencies the generated units declare (config_path), as groups.
        for (path, text) in &files {
            if !path.starts_with("environments/_env") {
                continue;
            }
            let kind = path.file_stem().unwrap().to_string_lossy().to_string();
            let depends_on: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("config_path = \""))
                .filter_map(|l| l.strip_suffix('"'))
                .collect();
            for job in pipeline.jobs() {
                for unit in job.units.iter().filter(|u| u.ends_with(&format!("/{kind}"))) {
                    for dependency in &depends_on {
                        let target = normalize(&format!("{unit}/{dependency}"));
                        let target_group = &owner[&target];
                        if target_group != &job.group {
                            assert!(job.needs.contains(target_group), "{} needs {target_group}", job.group);
                        }
                    }
                }
            }
        }
        let west = pipeline.jobs().find(|j| j.group == "dev/us-west-2").unwrap();
        assert_eq!(west.needs, ["dev/hub"]);
        assert_eq!(west.role_arn, "arn:aws:iam::222222222222:role/eksfleet-ci");
        assert!(
            west.units
                .contains(&"environments/dev/shared/gitops-registration-us-west-2".to_string())
        );
        let hub = pipeline.jobs().find(|j| j.group == "dev/hub").unwrap();
        assert!(hub.needs.is_empty());
        assert_eq!(hub.role_arn, "arn:aws:iam::111111111111:role/eksfleet-ci");
        let slots: Vec<u32> = pipeline.jobs().map(|j| j.plan_slot).collect();
        assert_eq!(slots, [0, 1, 0, 1], "max_parallel = 2 plan slots, taken in turn");
    }

    fn normalize(path: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for part in path.split('/') {
            match part {
                ".." => {
                    parts.pop();
                }
                "." | "" => {}
                other => parts.push(other),
            }
        }
        parts.join("/")
    }

    #[test]
    fn a_job_reads_its_units_folders_what_they_include_and_the_hub_they_depend_on() {
        let pipeline = pipeline(MANIFEST);
        let west = pipeline.jobs().find(|j| j.group == "dev/us-west-2").unwrap();
        for glob in [
            "root.hcl",
            "environments/dev/env.hcl",
            "environments/dev/regions/us-west-2/**/*",
            "environments/dev/shared/gitops-cluster/**/*",
            "environments/dev/shared/gitops-registration-us-west-2/**/*",
            "environments/_env/vpc-peering-accepter.hcl",
            "modules/edge-cluster/**/*",
            "modules/argocd-registration/**/*",
        ] {
            assert!(west.reads.contains(&glob.to_string()), "{glob}: {:?}", west.reads);
        }
        assert!(!west.reads.iter().any(|r| r.contains("eu-west-1")), "{:?}", west.reads);
        let prod = pipeline.jobs().find(|j| j.group == "prod/hub").unwrap();
        assert!(
            !prod.reads.iter().any(|r| r.contains("environments/dev")),
            "{:?}",
            prod.reads
        );
    }

    #[test]
    fn regions_past_a_github_matrix_are_split_into_batches() {
        let pipeline = pipeline(MANIFEST);
        let dev = &pipeline.environments[0];
        let outputs: Vec<&str> = dev.batches.iter().map(|b| b.output.as_str()).collect();
        assert_eq!(outputs, ["dev-hub", "dev-regions-1"]);
        let mut regions = dev.regions.clone();
        let split = batches("dev", &dev.hub, &mut regions, 1);
        let sizes: Vec<(String, usize)> = split.iter().map(|b| (b.output.clone(), b.jobs.len())).collect();
        assert_eq!(
            sizes,
            [
                ("dev-hub".into(), 1),
                ("dev-regions-1".into(), 1),
                ("dev-regions-2".into(), 1)
            ]
        );
        assert_eq!(regions[1].output, "dev-regions-2", "a job knows its matrix");
    }
}
