//! The CI pipelines `eksgen ci` writes, run on real CI engines: GitLab's
//! with gitlab-ci-local (shell executor) driving the real Terragrunt and
//! engine against the stand-in with S3 state on it, GitHub's checked by
//! actionlint and read back as the job graph GitHub would run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use eksfleet_tests::terragrunt::TerragruntTree;
use eksfleet_tests::*;

use crate::terragrunt::{assert_nothing_left, assert_peered, edit_manifest};

const CI_ROLE: &str = "arn:aws:iam::123456789012:role/eksfleet-ci";

/// What a CI checkout leaves out: Terragrunt's caches, the jobs' outputs,
/// gitlab-ci-local's own folder.
const IGNORED: &[&str] = &[
    ".terragrunt-cache/",
    ".terraform/",
    ".eksfleet/out/",
    ".gitlab-ci-local/",
];

/// A tree with S3 state on the stand-in (path-style: no bucket host names
/// on loopback), the bucket made, and `eksgen ci SYSTEM`.
fn ci_tree(moto: &Moto, edges: &[&str], system: &str) -> Result<TerragruntTree> {
    let tree = TerragruntTree::init(
        moto,
        &["--state-bucket", "fleet-state", "--state-region", "us-east-1"],
        edges,
    )?;
    edit_manifest(
        &tree,
        "region = \"us-east-1\"\n\n",
        "region = \"us-east-1\"\nuse_path_style = true\n\n",
    )?;
    let ci = tree
        .eksgen(&["ci", system, "--role-arn", CI_ROLE, "--max-parallel", "2"])?
        .ok()?;
    assert!(ci.says("create .eksfleet/ci.sh"), "{}", ci.output());
    Ok(tree)
}

/// The tree's state bucket made (Terragrunt's bootstrap) and the tree a git
/// project with an `origin`, as a CI system checks it out.
fn gitlab_project(tree: &TerragruntTree) -> Result<GitProject> {
    let bootstrap = tree.terragrunt(&["run", "--all", "--backend-bootstrap", "init"])?;
    assert_eq!(bootstrap.code, 0, "{}", bootstrap.output());
    GitProject::init(&tree.root(), IGNORED)
}

/// A job's web identity: an OIDC token as GitLab's id_tokens give it (the
/// stand-in does not check its signature), and STS on the stand-in:
/// Terraform's S3 backend sends its web identity call to STS's own
/// endpoint setting, not AWS_ENDPOINT_URL.
fn web_identity(moto_url: &str) -> [(&'static str, &str); 2] {
    [
        (
            "AWS_ID_TOKEN",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6ZmxlZXQifQ.c2ln",
        ),
        ("AWS_ENDPOINT_URL_STS", moto_url),
    ]
}

/// The jobs gitlab-ci-local ran and how each ended: job name → passed.
fn job_results(run: &Run) -> BTreeMap<String, bool> {
    let mut jobs = BTreeMap::new();
    for line in run.stdout.lines().chain(run.stderr.lines()) {
        let line = line.trim();
        for (mark, passed) in [("PASS ", true), ("FAIL ", false)] {
            if let Some(rest) = line.strip_prefix(mark) {
                let name = rest.split_whitespace().next().unwrap_or_default();
                jobs.insert(name.to_string(), passed);
            }
        }
    }
    jobs
}

fn report(tree: &TerragruntTree, slug: &str) -> Result<serde_json::Value> {
    let path = tree.root().join(".eksfleet/out").join(slug).join("report.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// The regions the stand-in saw signed requests for.
fn regions_touched(moto: &Moto) -> Result<BTreeSet<String>> {
    Ok(moto.requests()?.into_iter().map(|(region, _, _)| region).collect())
}

/// The merge-request pipeline after `eksgen new-region` plans only that
/// region's units (its cluster, its requester and the hub-side accepter)
/// and touches no other edge region; the merge pipeline applies just them,
/// hub first; `eksgen remove-region` then the merge pipeline destroys
/// exactly that region from the base revision. Every job authenticates by
/// OIDC web identity to the role `[ci]` names, with no key of its own.
#[tokio::test(flavor = "multi_thread")]
async fn merge_request_plans_only_a_new_region_and_the_merge_pipeline_applies_then_destroys_it() -> Result<()> {
    let moto = Moto::start_with_tls()?;
    let tree = ci_tree(&moto, &["us-west-2"], "gitlab")?;
    let project = gitlab_project(&tree)?;
    let moto_url = moto.url();
    let token = web_identity(&moto_url);

    // The first push of the tree: every unit is new.
    let before = project.rev("origin/main")?;
    project.commit_all("the fleet: hub and us-west-2")?;
    let push = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BEFORE_SHA", before.as_str()),
    ];
    moto.reset_requests()?;
    let first = gitlab_pipeline(&tree, &push, &token)?;
    assert_eq!(first.code, 0, "{}", first.output());
    let keys: BTreeSet<String> = moto.requests()?.into_iter().map(|(_, _, key)| key).collect();
    assert!(
        !keys.contains(ACCESS_KEY) && keys.iter().all(|key| key.starts_with("ASIA")),
        "a job signed with the runner's static key, not the web identity role's session: {keys:?}"
    );
    let jobs = job_results(&first);
    assert_eq!(jobs.get("apply:dev-hub"), Some(&true), "{jobs:?}\n{}", first.output());
    assert_eq!(jobs.get("apply:dev-us-west-2"), Some(&true), "{jobs:?}");
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;
    project.push()?;

    // A merge request adding eu-west-1.
    project.git(&["checkout", "-q", "-b", "add-eu-west-1"])?;
    tree.eksgen(&["new-region", "eu-west-1"])?.ok()?;
    project.commit_all("eksgen new-region eu-west-1")?;
    let base = project.rev("origin/main")?;
    moto.reset_requests()?;
    let merge_request = [
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
    ];
    let plan = gitlab_pipeline(&tree, &merge_request, &token)?;
    assert_eq!(plan.code, 0, "{}", plan.output());
    let jobs = job_results(&plan);
    let ran: BTreeSet<&str> = jobs.keys().map(String::as_str).collect();
    assert_eq!(
        ran,
        BTreeSet::from(["eksgen-check", "plan:dev-eu-west-1", "plan:dev-removed"]),
        "only the new region is planned: {jobs:?}\n{}",
        plan.output()
    );
    assert!(jobs.values().all(|passed| *passed), "{jobs:?}");
    let counts = report(&tree, "dev-eu-west-1")?;
    // One fleet resource per unit: the edge cluster, the requester, the accepter.
    assert_eq!(
        counts,
        serde_json::json!({"create": 3, "update": 0, "delete": 0}),
        "the widget's report"
    );
    let planned = std::fs::read_to_string(tree.root().join(".eksfleet/out/dev-eu-west-1/plan.log"))?;
    assert!(
        !planned.contains("us-west-2"),
        "another region's units were planned:\n{planned}"
    );
    let touched = regions_touched(&moto)?;
    assert!(touched.contains("eu-west-1"), "{touched:?}");
    assert!(
        touched.is_subset(&BTreeSet::from(["eu-west-1".to_string(), "us-east-1".to_string()])),
        "the plan touched another region: {touched:?}"
    );

    // Merged: the default branch's pipeline applies eu-west-1 only.
    project.git(&["checkout", "-q", "main"])?;
    project.git(&["merge", "-q", "--ff-only", "add-eu-west-1"])?;
    let before = project.rev("origin/main")?;
    let push = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BEFORE_SHA", before.as_str()),
    ];
    moto.reset_requests()?;
    let apply = gitlab_pipeline(&tree, &push, &token)?;
    assert_eq!(apply.code, 0, "{}", apply.output());
    let jobs = job_results(&apply);
    let ran: BTreeSet<&str> = jobs.keys().map(String::as_str).collect();
    assert_eq!(
        ran,
        BTreeSet::from(["apply:dev-eu-west-1", "destroy:dev-removed"]),
        "{jobs:?}\n{}",
        apply.output()
    );
    assert!(!regions_touched(&moto)?.contains("us-west-2"));
    assert_peered(&moto, &tree, "eu-west-1", "10.2.0.0/16").await?;
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;
    project.push()?;

    // eksgen remove-region, merged: the pipeline destroys eu-west-1 from the base revision.
    let removed = tree.eksgen(&["remove-region", "eu-west-1"])?;
    assert_eq!(removed.code, 0, "{}", removed.output());
    project.commit_all("eksgen remove-region eu-west-1")?;
    let before = project.rev("origin/main")?;
    let push = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BEFORE_SHA", before.as_str()),
    ];
    let destroy = gitlab_pipeline(&tree, &push, &token)?;
    assert_eq!(destroy.code, 0, "{}", destroy.output());
    let jobs = job_results(&destroy);
    assert_eq!(
        jobs.get("destroy:dev-removed"),
        Some(&true),
        "{jobs:?}\n{}",
        destroy.output()
    );
    assert!(!jobs.contains_key("apply:dev-us-west-2"), "{jobs:?}");
    assert_nothing_left(&moto, &["eu-west-1"]).await?;
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;
    project.push()?;

    // gitlab-ci-local leaves copies of the project under its own folder;
    // Terragrunt run from the root would find their units too.
    std::fs::remove_dir_all(tree.root().join(".gitlab-ci-local"))?;
    let teardown = tree.run_all("destroy", &[])?;
    assert_eq!(teardown.code, 0, "{}", teardown.output());
    assert_nothing_left(&moto, &["us-east-1", "us-west-2", "eu-west-1"]).await
}

/// A region whose apply is denied (its CreateCluster refused with
/// AccessDeniedException) fails its own job and turns the pipeline red;
/// the hub and the other region still apply, and the job says what it
/// stopped.
#[tokio::test(flavor = "multi_thread")]
async fn a_region_whose_apply_is_denied_fails_alone_and_the_pipeline_is_red() -> Result<()> {
    let moto = Moto::start_with_tls()?;
    let tree = ci_tree(&moto, &["us-west-2", "eu-west-1"], "gitlab")?;
    let project = gitlab_project(&tree)?;
    let moto_url = moto.url();
    let token = web_identity(&moto_url);
    let before = project.rev("origin/main")?;
    project.commit_all("the fleet: hub, us-west-2 and eu-west-1")?;
    moto.fail_next(serde_json::json!({"kind": "cluster-create-denied", "name": "dev-eu-west-1"}))?;
    let push = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BEFORE_SHA", before.as_str()),
    ];
    let apply = gitlab_pipeline(&tree, &push, &token)?;
    assert_ne!(apply.code, 0, "the pipeline is red:\n{}", apply.output());
    let jobs = job_results(&apply);
    assert_eq!(jobs.get("apply:dev-hub"), Some(&true), "{jobs:?}\n{}", apply.output());
    assert_eq!(
        jobs.get("apply:dev-us-west-2"),
        Some(&true),
        "{jobs:?}\n{}",
        apply.output()
    );
    assert_eq!(
        jobs.get("apply:dev-eu-west-1"),
        Some(&false),
        "{jobs:?}\n{}",
        apply.output()
    );
    assert!(
        apply.says("apply of dev/eu-west-1 failed"),
        "the job says what it stopped:\n{}",
        apply.output()
    );
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;
    // The job's own log (its artifact), Terragrunt's summary lines joined.
    let log = std::fs::read_to_string(tree.root().join(".eksfleet/out/dev-eu-west-1/apply.log"))?;
    let log = log.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        log.contains("assumed-role/eksfleet-ci/eksfleet-ci-")
            && log.contains("is not authorized to perform: eks:CreateCluster"),
        "the denial, naming the job's role session, is in the job's log:\n{log}"
    );
    assert!(
        log.contains("eu-west-1/vpc-peering-requester' did not run due to a failure in"),
        "the failed cluster's peering still ran:\n{log}"
    );

    std::fs::remove_dir_all(tree.root().join(".gitlab-ci-local"))?;
    let teardown = tree.run_all("destroy", &[])?;
    assert_eq!(teardown.code, 0, "{}", teardown.output());
    assert_nothing_left(&moto, &["us-east-1", "us-west-2", "eu-west-1"]).await
}

/// A pipeline that applies a region while another pipeline is still
/// applying it waits for the unit's S3 lock file (ci.sh gives every apply
/// `-lock-timeout`), then applies its own change on top; neither fails.
/// GitLab's `resource_group` would hold the second job back before it
/// starts; gitlab-ci-local does not implement resource groups, so the lock
/// is what this test proves.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_pipeline_applying_the_same_region_waits_for_the_first_and_applies_after_it() -> Result<()> {
    // A slower clock than the suite's: the first pipeline's us-west-2
    // cluster must still be creating (its lock held, ~30 s) when the second
    // pipeline, started then, reaches that unit.
    let moto = Moto::start_with_tls_env(&[("MOTO_FLEET_TIME_SCALE", "0.04")])?;
    let tree = ci_tree(&moto, &["us-west-2"], "gitlab")?;
    let project = gitlab_project(&tree)?;
    let moto_url = moto.url();
    let token = web_identity(&moto_url);
    let first_base = project.rev("origin/main")?;
    let first_commit = project.commit_all("the fleet: hub and us-west-2")?;

    // The next push, from another checkout: us-west-2 gets a tag.
    let other = project.clone_to(&tree.root().with_file_name("other"))?;
    let manifest = other.root().join("eksgen.toml");
    let text = std::fs::read_to_string(&manifest)?;
    let region = "[environments.dev.regions.us-west-2]\n";
    assert!(text.contains(region), "{text}");
    std::fs::write(
        &manifest,
        text.replacen(region, &format!("{region}tags = {{ Team = \"edge\" }}\n"), 1),
    )?;
    eksgen(other.root(), &["render"])?.ok()?;
    other.commit_all("us-west-2: Team tag")?;

    moto.reset_requests()?;
    let (first, second) = std::thread::scope(|scope| -> Result<(Run, Run)> {
        let first = scope.spawn(|| {
            let push = [
                ("CI_PIPELINE_SOURCE", "push"),
                ("CI_COMMIT_BEFORE_SHA", first_base.as_str()),
            ];
            gitlab_pipeline(&tree, &push, &token)
        });
        // The first pipeline is inside us-west-2's cluster unit (holding
        // its lock) once the stand-in sees EKS calls there.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        while !moto
            .requests()?
            .iter()
            .any(|(region, service, _)| region == "us-west-2" && service == "eks")
        {
            if first.is_finished() || std::time::Instant::now() > deadline {
                let first = first
                    .join()
                    .map_err(|_| anyhow::anyhow!("the first pipeline's thread panicked"))??;
                anyhow::bail!(
                    "the first pipeline never reached us-west-2's cluster:\n{}",
                    first.output()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let push = [
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_COMMIT_BEFORE_SHA", first_commit.as_str()),
        ];
        let second = gitlab_pipeline_in(&tree, other.root(), &push, &token)?;
        let first = first
            .join()
            .map_err(|_| anyhow::anyhow!("the first pipeline's thread panicked"))??;
        Ok((first, second))
    })?;
    assert_eq!(first.code, 0, "the first pipeline:\n{}", first.output());
    assert_eq!(second.code, 0, "the second pipeline:\n{}", second.output());
    // Its change is us-west-2's alone: no hub job; nothing was removed.
    let jobs = job_results(&second);
    assert_eq!(
        jobs,
        BTreeMap::from([
            ("apply:dev-us-west-2".to_string(), true),
            ("destroy:dev-removed".to_string(), true)
        ]),
        "{jobs:?}\n{}",
        second.output()
    );
    // Terraform says this only when taking the lock took over 400 ms
    // (clistate.LockThreshold): the second apply waited for the first.
    let log = std::fs::read_to_string(other.root().join(".eksfleet/out/dev-us-west-2/apply.log"))?;
    assert!(
        log.contains("Acquiring state lock. This may take a few moments..."),
        "the second pipeline did not wait for the first's lock:\n{log}"
    );
    // Both applied: the cluster the first made carries the second's tag.
    let cluster = moto
        .eks("us-west-2")
        .await
        .describe_cluster()
        .name("dev-us-west-2")
        .send()
        .await?;
    let tags = cluster.cluster().and_then(|c| c.tags()).cloned().unwrap_or_default();
    assert_eq!(tags.get("Team").map(String::as_str), Some("edge"), "{tags:?}");
    assert_peered(&moto, &tree, "us-west-2", "10.1.0.0/16").await?;

    for checkout in [tree.root(), other.root().to_path_buf()] {
        std::fs::remove_dir_all(checkout.join(".gitlab-ci-local"))?;
    }
    let teardown = tree.run_all("destroy", &[])?;
    assert_eq!(teardown.code, 0, "{}", teardown.output());
    assert_nothing_left(&moto, &["us-east-1", "us-west-2"]).await
}

/// A GitHub job's `needs`, as a list whatever the YAML spelled.
fn needs(job: &serde_yaml::Value) -> Vec<String> {
    match &job["needs"] {
        serde_yaml::Value::String(one) => vec![one.clone()],
        serde_yaml::Value::Sequence(many) => many.iter().filter_map(|n| n.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// The groups of `.eksfleet/ci.sh` (`GROUP OUTPUT ROLE UNIT...`): unit → (group, output).
fn groups_of(tree: &TerragruntTree) -> Result<BTreeMap<String, (String, String)>> {
    let script = std::fs::read_to_string(tree.root().join(".eksfleet/ci.sh"))?;
    let table = script
        .split("cat <<'GROUPS'\n")
        .nth(1)
        .and_then(|rest| rest.split("\nGROUPS\n").next())
        .context("ci.sh has no group table")?;
    let mut units = BTreeMap::new();
    for line in table.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        for unit in &fields[3..] {
            let previous = units.insert(unit.to_string(), (fields[0].to_string(), fields[1].to_string()));
            assert!(previous.is_none(), "{unit} is in two groups");
        }
    }
    Ok(units)
}

/// `terragrunt find --json` with `flag` (`--dependencies`, `--reading`):
/// unit → the list Terragrunt gives under `key`.
fn terragrunt_find(tree: &TerragruntTree, flag: &str, key: &str) -> Result<BTreeMap<String, Vec<String>>> {
    let find = tree.terragrunt(&["find", "--json", flag])?.ok()?;
    let units: Vec<serde_json::Value> = serde_json::from_str(&find.stdout)?;
    Ok(units
        .iter()
        .map(|unit| {
            let list = unit[key]
                .as_array()
                .map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            (unit["path"].as_str().unwrap_or_default().to_string(), list)
        })
        .collect())
}

/// GitLab `changes` globs as eksgen writes them: a path, or a folder's `/**/*`.
fn glob_matches(glob: &str, path: &str) -> bool {
    match glob.strip_suffix("/**/*") {
        Some(folder) => path.starts_with(&format!("{folder}/")),
        None => glob == path,
    }
}

/// Both workflows pass actionlint; every unit Terragrunt finds is in exactly
/// one group; a region's matrix job needs its hub's job exactly where
/// Terragrunt says a unit of the region depends on the hub; every matrix
/// reads its groups from the `changed` job's output of its name. The GitLab
/// pipeline of the same tree waits the same way, and each job's `changes`
/// globs cover every file Terragrunt says its units read.
#[tokio::test(flavor = "multi_thread")]
async fn workflows_pass_actionlint_and_their_job_graph_is_the_trees_dependency_graph() -> Result<()> {
    let moto = Moto::start()?;
    let tree = ci_tree(&moto, &["us-west-2", "eu-west-1"], "github")?;
    tree.eksgen(&["new-env", "prod", "--hub-region", "eu-central-1"])?
        .ok()?;
    tree.eksgen(&["new-region", "ap-south-1", "--env", "prod"])?.ok()?;
    let manifest = tree.root().join("eksgen.toml");
    let mut text = std::fs::read_to_string(&manifest)?;
    text.push_str("\n[environments.dev.gitops]\nmode = \"self-managed\"\nnamespace = \"argocd\"\n");
    std::fs::write(&manifest, text)?;
    tree.eksgen(&["render"])?.ok()?;
    GitProject::init(&tree.root(), IGNORED)?;
    let plan_file = ".github/workflows/eksfleet-plan.yml";
    let apply_file = ".github/workflows/eksfleet-apply.yml";
    let lint = actionlint(&tree.root(), &[plan_file, apply_file])?;
    assert_eq!(lint.code, 0, "{}", lint.output());

    let groups = groups_of(&tree)?;
    let dependencies = terragrunt_find(&tree, "--dependencies", "dependencies")?;
    assert_eq!(
        groups.keys().collect::<BTreeSet<_>>(),
        dependencies.keys().collect::<BTreeSet<_>>(),
        "the groups hold every unit Terragrunt finds"
    );
    let workflow: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(tree.root().join(apply_file))?)?;
    let jobs = workflow["jobs"].as_mapping().context("jobs")?;
    let job = |name: &str| jobs.get(name).with_context(|| format!("no job {name}"));
    let changed_outputs = job("changed")?["outputs"].as_mapping().context("changed outputs")?;
    let mut expected_needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (unit, depends_on) in &dependencies {
        let (_, output) = &groups[unit];
        let entry = expected_needs.entry(format!("apply-{output}")).or_default();
        entry.insert("changed".into());
        for dependency in depends_on {
            let (_, other) = &groups[dependency];
            if other != output {
                entry.insert(format!("apply-{other}"));
            }
        }
    }
    for (name, expected) in &expected_needs {
        let actual: BTreeSet<String> = needs(job(name)?).into_iter().collect();
        assert_eq!(
            &actual, expected,
            "{name} waits for exactly the jobs of the units it depends on"
        );
        let output = name.strip_prefix("apply-").unwrap_or_default();
        let include = job(name)?["strategy"]["matrix"]["include"].as_str().unwrap_or_default();
        assert!(
            include.contains(&format!("needs.changed.outputs['{output}']")),
            "{name}: {include}"
        );
        assert!(changed_outputs.contains_key(output), "changed has no output {output}");
    }
    assert!(expected_needs["apply-prod-regions-1"].contains("apply-prod-hub"));
    assert!(!expected_needs["apply-prod-regions-1"].contains("apply-dev-hub"));

    // The same tree's GitLab pipeline.
    tree.eksgen(&["ci", "gitlab"])?.ok()?;
    assert!(
        !tree.root().join(apply_file).exists(),
        "switching systems removes the other's files"
    );
    let pipeline: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(tree.root().join(".gitlab-ci.yml"))?)?;
    let reading = terragrunt_find(&tree, "--reading", "reading")?;
    for (unit, (group, _)) in &groups {
        let slug = group.replace('/', "-");
        let apply = &pipeline[format!("apply:{slug}").as_str()];
        let waits: BTreeSet<String> = apply["needs"]
            .as_sequence()
            .map(|n| n.iter().filter_map(|n| n["job"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        for dependency in &dependencies[unit] {
            let other = groups[dependency].0.replace('/', "-");
            if other != slug {
                assert!(
                    waits.contains(&format!("apply:{other}")),
                    "apply:{slug} waits for apply:{other}: {waits:?}"
                );
            }
        }
        let globs: Vec<&str> = apply["rules"][0]["changes"]["paths"]
            .as_sequence()
            .map(|g| g.iter().filter_map(serde_yaml::Value::as_str).collect())
            .unwrap_or_default();
        // The modules of this checkout are outside the tree's repository:
        // no change to the tree's repository can touch them.
        let inside = reading[unit].iter().filter(|file| !file.starts_with("../"));
        for file in inside.chain(std::iter::once(&format!("{unit}/terragrunt.hcl"))) {
            let relative = Path::new(file).to_string_lossy().to_string();
            assert!(
                globs.iter().any(|glob| glob_matches(glob, &relative)),
                "{unit} reads {relative}, which no `changes` glob of apply:{slug} covers: {globs:?}"
            );
        }
    }
    Ok(())
}
