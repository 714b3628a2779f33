//! eksgen end to end: trees from `init` + `new-region` pass `eksgen check`;
//! the tree is only ever changed where a command says, hand edits are never
//! lost, and every bad input is refused with one line and an untouched tree.
//! What real Terragrunt does with the trees: tests/e2e/terragrunt.rs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eksfleet_tests::*;

/// Every file of the tree, by relative path.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn modules_dir() -> String {
    project_root().join("modules").display().to_string()
}

fn run_ok(dir: &Path, args: &[&str]) -> Run {
    let run = eksgen(dir, args).unwrap();
    assert_eq!(run.code, 0, "eksgen {args:?} failed:\n{}", run.output());
    run
}

/// `init` (hub in us-east-1) and the given edge regions, modules from this checkout.
fn new_tree(regions: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        dir.path(),
        &[
            "init",
            "--env",
            "dev",
            "--hub-region",
            "us-east-1",
            "--modules-source",
            &modules_dir(),
        ],
    );
    for region in regions {
        run_ok(dir.path(), &["new-region", region]);
    }
    dir
}

#[test]
fn adding_a_region_touches_only_the_manifest_and_the_new_region_folder() {
    let tree = new_tree(&["us-west-2"]);
    let before = snapshot(tree.path());
    run_ok(tree.path(), &["new-region", "eu-west-1"]);
    let after = snapshot(tree.path());
    let changed: std::collections::BTreeSet<&PathBuf> = after
        .keys()
        .chain(before.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    let new_folder = Path::new("environments/dev/regions/eu-west-1");
    for path in &changed {
        assert!(
            *path == Path::new("eksgen.toml") || path.starts_with(new_folder),
            "{} changed",
            path.display()
        );
    }
    assert_eq!(changed.len(), 5, "manifest + region.hcl + 3 units: {changed:?}");
    let manifest_diff: Vec<&str> = after[Path::new("eksgen.toml")]
        .strip_prefix(before[Path::new("eksgen.toml")].as_str())
        .expect("the manifest only grew at its end")
        .lines()
        .collect();
    assert_eq!(
        manifest_diff,
        ["", "[environments.dev.regions.eu-west-1]", "cidr = \"10.2.0.0/16\""]
    );
}

#[test]
fn render_is_byte_identical_and_removing_a_region_keeps_user_files() {
    let tree = new_tree(&["us-west-2", "eu-west-1"]);
    let root = tree.path();
    let before = snapshot(root);
    let render = run_ok(root, &["render"]);
    assert!(render.stdout.contains("up to date"), "{}", render.stdout);
    assert_eq!(snapshot(root), before, "render changed nothing");

    let extra = root.join("environments/dev/regions/eu-west-1/edge-cluster/extra.hcl");
    std::fs::write(&extra, "inputs = {}\n").unwrap();
    run_ok(root, &["remove-region", "eu-west-1"]);
    let after = snapshot(root);
    let eu: Vec<&PathBuf> = after
        .keys()
        .filter(|p| p.starts_with("environments/dev/regions/eu-west-1"))
        .collect();
    assert_eq!(
        eu,
        [Path::new("environments/dev/regions/eu-west-1/edge-cluster/extra.hcl")],
        "only the user file stays"
    );
    assert!(!after[Path::new("eksgen.toml")].contains("eu-west-1"));
    let list = run_ok(root, &["list"]);
    assert_eq!(
        list.stdout,
        "ENV  REGION     ROLE  CIDR         ACCOUNT\ndev  us-east-1  hub   10.0.0.0/16  -\ndev  us-west-2  edge  10.1.0.0/16  -\n"
    );
}

#[test]
fn hand_edits_are_refused_with_a_diff_kept_by_dry_run_and_overwritten_only_with_force() {
    let tree = new_tree(&["us-west-2"]);
    let root = tree.path();
    let region_hcl = root.join("environments/dev/regions/us-west-2/region.hcl");
    // The version is unset (the newest in EKS standard support at create): pin one by hand.
    let edited = std::fs::read_to_string(&region_hcl)
        .unwrap()
        .replace("kubernetes_version   = null", "kubernetes_version   = \"1.32\"");
    std::fs::write(&region_hcl, &edited).unwrap();
    let before = snapshot(root);

    let check = eksgen(root, &["check"]).unwrap();
    assert_eq!(check.code, 1, "{}", check.output());
    assert!(
        check.stdout.contains(
            "-  kubernetes_version   = \"1.32\" # the newest in EKS standard support at create, then kept\n\
             +  kubernetes_version   = null # the newest in EKS standard support at create, then kept"
        ),
        "the diff shows the hand edit and what eksgen would write: {}",
        check.stdout
    );

    let refused = eksgen(root, &["new-region", "eu-west-1"]).unwrap();
    assert_eq!(refused.code, 2, "{}", refused.output());
    assert!(
        refused.stderr.contains("\"1.32\""),
        "the refusal shows the diff: {}",
        refused.stderr
    );
    assert!(
        refused.says("edited by hand: environments/dev/regions/us-west-2/region.hcl"),
        "{}",
        refused.stderr
    );
    assert!(refused.says("or pass --force to overwrite"));
    assert_eq!(snapshot(root), before, "nothing written, the manifest included");

    let dry = run_ok(root, &["new-region", "eu-west-1", "--dry-run"]);
    assert!(
        dry.stdout
            .contains("+++ b/environments/dev/regions/eu-west-1/region.hcl"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("nothing written"));
    assert_eq!(snapshot(root), before, "a dry run writes nothing");

    run_ok(root, &["new-region", "eu-west-1", "--force"]);
    assert!(
        std::fs::read_to_string(&region_hcl)
            .unwrap()
            .contains("kubernetes_version   = null # the newest in EKS standard support at create, then kept")
    );
    run_ok(root, &["check"]);
}

#[test]
fn check_finds_drift_bad_inputs_missing_units_and_overlapping_peers() {
    let tree = new_tree(&["us-west-2"]);
    let root = tree.path();
    let unit = root.join("environments/dev/regions/us-west-2/edge-cluster");
    std::fs::write(unit.join("extra.hcl"), "inputs = {\n  instance_count = 3\n}\n").unwrap();
    let run = eksgen(root, &["check"]).unwrap();
    assert_eq!(run.code, 1);
    assert!(
        run.says("input \"instance_count\" is not a variable of the module"),
        "{}",
        run.stdout
    );
    std::fs::remove_file(unit.join("extra.hcl")).unwrap();

    // The hub unit disappears: its dependents point at nothing.
    let hub = root.join("environments/dev/shared/gitops-cluster/terragrunt.hcl");
    let hub_text = std::fs::read_to_string(&hub).unwrap();
    std::fs::remove_file(&hub).unwrap();
    let run = eksgen(root, &["check"]).unwrap();
    assert_eq!(run.code, 1);
    assert!(
        run.says("dependency \"gitops_cluster\": config_path environments/dev/shared/gitops-cluster is not a unit"),
        "{}",
        run.stdout
    );
    assert!(
        run.says("+++ b/environments/dev/shared/gitops-cluster/terragrunt.hcl"),
        "and the diff restores it"
    );
    std::fs::write(&hub, hub_text).unwrap();

    // A hand-made overlap with the hub, forced past eksgen's own refusal.
    let manifest = root.join("eksgen.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let region_hcl = root.join("environments/dev/regions/us-west-2/region.hcl");
    let region = std::fs::read_to_string(&region_hcl).unwrap();
    std::fs::write(&region_hcl, region.replace("10.1.0.0/16", "10.0.128.0/17")).unwrap();
    let run = eksgen(root, &["check"]).unwrap();
    assert_eq!(run.code, 1);
    assert!(run.says("and the CIDRs overlap"), "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        text,
        "check writes nothing"
    );
}

/// Terragrunt passes map inputs as `TF_VAR_*` JSON that Terraform parses as
/// HCL, escaping `${` but not `%{`; no manifest value can carry either (or
/// `"`, `\\`), because nothing AWS or Kubernetes accepts contains them.
/// `"`, `\`), because nothing AWS or Kubernetes accepts contains them.
#[test]
fn values_terraform_would_evaluate_are_refused_naming_the_key() {
    let tree = new_tree(&["us-west-2"]);
    let root = tree.path();
    let manifest = root.join("eksgen.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();
    for hostile in [
        r#"a "quoted" value"#,
        "${var.x}",
        "%{ if true }y%{ endif }",
        r"back\slash",
    ] {
        let text = good.replace(
            "[environments.dev.regions.us-west-2]\n",
            &format!(
                "[environments.dev.regions.us-west-2]\ntags = {{ Team = {} }}\n",
                toml_string(hostile)
            ),
        );
        std::fs::write(&manifest, &text).unwrap();
        let before = snapshot(root);
        let run = eksgen(root, &["render"]).unwrap();
        assert_eq!(run.code, 2, "{hostile}: {}", run.output());
        assert!(
            run.stderr.contains("environments.dev.regions.us-west-2.tags.Team: ")
                && run.stderr.contains("is not allowed in an AWS tag"),
            "{hostile}: {}",
            run.stderr
        );
        assert_eq!(snapshot(root), before, "nothing written");
    }
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

#[test]
fn the_checked_in_example_tree_matches_its_manifest_and_passes_check() {
    let run = eksgen(&project_root().join("examples/terragrunt"), &["check"]).unwrap();
    assert_eq!(
        run.code,
        0,
        "examples/terragrunt drifted from eksgen's templates; run `make examples`:\n{}",
        run.output()
    );
}

#[test]
fn the_checked_in_stack_example_matches_its_manifest_and_passes_check() {
    let run = eksgen(&project_root().join("examples/terragrunt-stack"), &["check"]).unwrap();
    assert_eq!(
        run.code,
        0,
        "examples/terragrunt-stack drifted from eksgen's templates; run `make examples`:\n{}",
        run.output()
    );
    assert!(run.stdout.contains("its 7 units pass every check"), "{}", run.stdout);
}

/// Each bad input: exit code 2, one line on stderr naming the fix, tree untouched.
#[test]
fn bad_input_is_refused_with_one_line_and_the_tree_untouched() {
    let tree = new_tree(&["us-west-2"]);
    let root = tree.path();
    let cases: &[(&[&str], &str)] = &[
        (
            &["new-region", "mars-north-1"],
            "unknown AWS region \"mars-north-1\"; use a region name such as us-west-2",
        ),
        (
            &["new-region", "us-west-9"],
            "unknown AWS region \"us-west-9\"; did you mean us-west-1?",
        ),
        (
            &["new-region", "us-wset-2"],
            "unknown AWS region \"us-wset-2\"; did you mean us-west-2?",
        ),
        (
            &["new-region", "us-west-2"],
            "region us-west-2 is already in environment \"dev\"; edit its entry in eksgen.toml instead",
        ),
        (
            &["new-region", "us-east-1"],
            "region us-east-1 is the hub of environment \"dev\"",
        ),
        (
            &["new-region", "eu-west-1", "--cidr", "172.16.0.0/16"],
            "is outside the pool 10.0.0.0/8; pick one inside it or widen cidr_pool",
        ),
        (
            &["new-region", "eu-west-1", "--cidr", "10.1.0.0/16"],
            "overlaps 10.1.0.0/16 (edge us-west-2 of dev)",
        ),
        (
            &["new-region", "eu-west-1", "--cidr", "10.0.0.0/17"],
            "overlaps 10.0.0.0/16 (hub us-east-1 of dev)",
        ),
        (
            &["new-region", "eu-west-1", "--cidr", "10.1.0.0/33"],
            "is not an IPv4 CIDR block; write it like 10.1.0.0/16",
        ),
        (
            &["new-region", "eu-west-1", "--cidr", "10.9.0.1/16"],
            "has host bits set; the network is 10.9.0.0/16",
        ),
        (
            &["new-region", "eu-west-1", "--cidr", "10.9.0.0/24"],
            "a cluster VPC must be /16 to /22",
        ),
        (
            &["new-region", "eu-west-1", "--env", "prod"],
            "environment \"prod\" not found; the manifest has dev",
        ),
        (
            &["new-env", "dev", "--hub-region", "us-east-2"],
            "environment \"dev\" already exists",
        ),
        (
            &["new-env", "Prod_1", "--hub-region", "us-east-2"],
            "must be 1 to 20 lowercase letters",
        ),
        (
            &["new-env", "prod", "--hub-region", "mars-1"],
            "unknown AWS region \"mars-1\"",
        ),
        (
            &["new-env", "prod", "--hub-region", "us-east-2", "--cidr", "10.0.0.0/16"],
            "overlaps 10.0.0.0/16",
        ),
        (
            &["remove-region", "ap-south-1"],
            "region ap-south-1 is not in environment \"dev\"",
        ),
        (
            &["init", "--env", "dev", "--hub-region", "us-east-1"],
            "eksgen.toml already exists; this tree is initialised",
        ),
        (
            &["render", "--templates", "/nonexistent-eksgen-templates"],
            "--templates /nonexistent-eksgen-templates:",
        ),
    ];
    let before = snapshot(root);
    for (args, message) in cases {
        assert_refused(root, args, message);
        assert_eq!(snapshot(root), before, "eksgen {args:?} changed the tree");
    }

    // Templates: an unknown name and a syntax error.
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("regoin.hcl"), "x").unwrap();
    let dir = templates.path().display().to_string();
    assert_refused(
        root,
        &["render", "--templates", &dir],
        "regoin.hcl is not an eksgen template",
    );
    std::fs::remove_file(templates.path().join("regoin.hcl")).unwrap();
    std::fs::write(templates.path().join("region.hcl"), "{{ cluster.region | hcl ").unwrap();
    assert_refused(root, &["render", "--templates", &dir], "template (loading)");
    assert_eq!(snapshot(root), before);
}

#[test]
fn bad_manifests_are_refused_with_line_numbers_or_key_paths() {
    let tree = new_tree(&["us-west-2"]);
    let root = tree.path();
    let manifest = root.join("eksgen.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();
    let line_of = |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let cases: Vec<(String, String)> = vec![
        (
            good.replace("cidr_pool         = \"10.0.0.0/8\"", "cidr_pool = "),
            format!("eksgen.toml:{}:", line_of(&good, "cidr_pool ")),
        ),
        (
            good.replace("[environments.dev]", "[environments.dev]\nkubernetes_versio = \"1.34\""),
            format!("eksgen.toml:{}:", line_of(&good, "[environments.dev]") + 1),
        ),
        (
            good.replace(
                "[environments.dev]",
                "[environments.dev]\nkubernetes_version = \"v1.34\"",
            ),
            "environments.dev.kubernetes_version: \"v1.34\" is not a Kubernetes minor version".into(),
        ),
        (
            good.replace("cidr = \"10.1.0.0/16\"", "cidr = \"10.0.0.0/16\""),
            "environments.dev.regions.us-west-2.cidr: VPC CIDR 10.0.0.0/16 overlaps 10.0.0.0/16".into(),
        ),
        (
            good.replace(
                "[environments.dev.regions.us-west-2]",
                "[environments.dev.regions.us-west-22]",
            ),
            "environments.dev.regions.us-west-22: unknown AWS region \"us-west-22\"; did you mean us-west-2?".into(),
        ),
        (
            good.replace("version = 1", "version = 2"),
            "version: version 2 is not known to this eksgen".into(),
        ),
        (
            good.replace("min_size       = 1", "min_size       = 5"),
            "environments.dev.node_groups.system: min_size 5 is larger than max_size 3".into(),
        ),
        (
            good.replace("min_size       = 1", "min_size       = -1"),
            format!("eksgen.toml:{}:", line_of(&good, "min_size")),
        ),
        (
            good.replace("[environments.dev]", "[environments.dev]\naccount_id = \"12345\""),
            "environments.dev.account_id: \"12345\" is not an AWS account id (12 digits)".into(),
        ),
        (
            good.replace(
                "[environments.dev]",
                "[environments.dev]\ntags = { \"aws:owner\" = \"me\" }",
            ),
            "environments.dev.tags.aws:owner: tag keys must be 1 to 128 characters and not start with \"aws:\"".into(),
        ),
        (
            good.replace(
                "[environments.dev]",
                "[environments.dev]\ndeploy_role_name = \"deploy\"",
            ),
            "environments.dev.deploy_role_name: needs account_id".into(),
        ),
        (
            good.replace("cidr_pool         = \"10.0.0.0/8\"", "cidr_pool = \"10.0.0.0\""),
            "cidr_pool: \"10.0.0.0\" is not an IPv4 CIDR block".into(),
        ),
        (
            good.replace("vpc_prefix_length = 16", "vpc_prefix_length = 28"),
            "vpc_prefix_length: 28 does not fit".into(),
        ),
    ];
    for (text, message) in cases {
        assert_ne!(text, good, "the case for {message:?} changes the manifest");
        std::fs::write(&manifest, &text).unwrap();
        let before = snapshot(root);
        assert_refused(root, &["new-region", "eu-west-1"], &message);
        assert_eq!(snapshot(root), before);
        assert_refused(root, &["check"], &message);
    }
    std::fs::write(&manifest, &good).unwrap();

    let empty = tempfile::tempdir().unwrap();
    assert_refused(empty.path(), &["new-region", "eu-west-1"], "no eksgen.toml in");
    assert_refused(empty.path(), &["list"], "run `eksgen init` first, or pass -C DIR");
    assert!(snapshot(empty.path()).is_empty());
}

#[test]
fn a_full_pool_and_an_ambiguous_environment_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    run_ok(
        root,
        &[
            "init",
            "--env",
            "dev",
            "--hub-region",
            "us-east-1",
            "--cidr-pool",
            "10.0.0.0/15",
            "--modules-source",
            &modules_dir(),
        ],
    );
    run_ok(root, &["new-region", "us-west-2"]);
    let before = snapshot(root);
    assert_refused(
        root,
        &["new-region", "eu-west-1"],
        "CIDR pool 10.0.0.0/15 has no free /16 left; widen cidr_pool",
    );
    assert_eq!(snapshot(root), before);

    let dir = new_tree(&[]);
    run_ok(dir.path(), &["new-env", "prod", "--hub-region", "eu-central-1"]);
    assert_refused(
        dir.path(),
        &["new-region", "eu-west-1"],
        "several environments (dev, prod); choose one with --env",
    );
    run_ok(dir.path(), &["new-region", "eu-west-1", "--env", "prod"]);
    let list = run_ok(dir.path(), &["list"]);
    assert!(
        list.stdout.contains("prod  eu-central-1  hub   10.1.0.0/16"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("prod  eu-west-1     edge  10.2.0.0/16"),
        "{}",
        list.stdout
    );
    run_ok(dir.path(), &["check"]);
}

fn assert_refused(dir: &Path, args: &[&str], message: &str) {
    let run = eksgen(dir, args).unwrap();
    assert_eq!(run.code, 2, "eksgen {args:?} should be refused:\n{}", run.output());
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("eksgen: error: "),
        "eksgen {args:?}: one error line, got:\n{}",
        run.stderr
    );
    assert!(
        lines[0].contains(message),
        "eksgen {args:?}: expected {message:?} in:\n{}",
        lines[0]
    );
}
