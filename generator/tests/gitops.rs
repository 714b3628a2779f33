//! GitOps (`[environments.<env>.gitops]`): the hub gets Argo CD's management
//! role, each edge the inputs that let Argo CD reach it, and each edge a
//! `gitops-registration` unit next to the hub's, in both layouts; the tree
//! passes every static check, and `new-region` / `remove-region` add and
//! remove the registration with the region. Environments without `gitops`
//! get none of it.

use std::path::{Path, PathBuf};

use eksgen::args::{NewRegionArgs, RemoveRegionArgs, WriteFlags};
use eksgen::check::{self, Tree, terragrunt::Unit};
use eksgen::commands::{self, Context};
use eksgen::error::Error;
use eksgen::manifest::Manifest;
use eksgen::render::Templates;
use eksgen::tree::ChangeSet;
use hcl::Value;

const CAPABILITY_ROLE: &str = "arn:aws:iam::111111111111:role/argocd-capability";

/// `dev` has GitOps (self-managed), `prod` none: the shared templates serve both.
const MANIFEST: &str = r#"
version = 1
LAYOUT
modules_source = "MODULES"
cidr_pool = "10.0.0.0/8"

[environments.dev.gitops]
GITOPS

[environments.dev.hub]
region = "us-east-1"
cidr = "10.0.0.0/16"

[environments.dev.regions.us-west-2]
cidr = "10.1.0.0/16"

[environments.dev.regions.eu-west-1]
cidr = "10.2.0.0/16"

[environments.prod.hub]
region = "eu-central-1"
cidr = "10.3.0.0/16"

[environments.prod.regions.ap-south-1]
cidr = "10.4.0.0/16"
"#;

fn manifest_text(layout: &str, gitops: &str) -> String {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules");
    MANIFEST
        .replace("LAYOUT", layout)
        .replace("MODULES", &modules.display().to_string())
        .replace("GITOPS", gitops)
}

/// The tree of `text` written to a temporary folder, with its manifest.
fn tree(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifest = Manifest::parse(&dir.path().join("eksgen.toml"), text).expect("manifest is valid");
    let files = Templates::load(None).unwrap().render_tree(&manifest).unwrap();
    ChangeSet::between(dir.path(), &files)
        .unwrap()
        .write(dir.path())
        .unwrap();
    std::fs::write(dir.path().join("eksgen.toml"), text).unwrap();
    dir
}

/// Each unit's inputs as a plan on a fresh tree sees them (mocked
/// dependencies), by folder relative to the tree's root; all checks pass.
fn checked_inputs(root: &Path) -> std::collections::BTreeMap<String, hcl::Map<String, Value>> {
    let (_, problems) = check::run(root);
    assert!(problems.is_empty(), "{problems:#?}");
    let (tree, problems) = Tree::load(root);
    assert!(problems.is_empty(), "{problems:#?}");
    tree.units
        .iter()
        .map(|(dir, unit)| {
            let relative = dir.strip_prefix(&tree.root).unwrap().display().to_string();
            (relative, unit.inputs_with_mocks().unwrap())
        })
        .collect()
}

fn string(value: &str) -> Value {
    Value::from(value)
}

fn object(pairs: &[(&str, Value)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

/// The units of one layout: hub, edge and registration folders of dev and prod.
struct Paths {
    dev_hub: &'static str,
    dev_edge: &'static str,
    dev_registration: &'static str,
    prod_hub: &'static str,
    prod_edge: &'static str,
}

const UNITS: Paths = Paths {
    dev_hub: "environments/dev/shared/gitops-cluster",
    dev_edge: "environments/dev/regions/us-west-2/edge-cluster",
    dev_registration: "environments/dev/shared/gitops-registration-us-west-2",
    prod_hub: "environments/prod/shared/gitops-cluster",
    prod_edge: "environments/prod/regions/ap-south-1/edge-cluster",
};

const STACK: Paths = Paths {
    dev_hub: "environments/dev/.terragrunt-stack/us-east-1/gitops-cluster",
    dev_edge: "environments/dev/.terragrunt-stack/us-west-2/edge-cluster",
    dev_registration: "environments/dev/.terragrunt-stack/us-east-1/gitops-registration-us-west-2",
    prod_hub: "environments/prod/.terragrunt-stack/eu-central-1/gitops-cluster",
    prod_edge: "environments/prod/.terragrunt-stack/ap-south-1/edge-cluster",
};

fn layouts() -> [(&'static str, Paths); 2] {
    [("", UNITS), ("layout = \"stack\"", STACK)]
}

#[test]
fn a_self_managed_argocd_gets_the_hub_role_edge_deploy_roles_and_a_registration_per_edge() {
    for (layout, paths) in layouts() {
        let dir = tree(&manifest_text(layout, ""));
        let inputs = checked_inputs(dir.path());
        let registrations: Vec<&String> = inputs.keys().filter(|k| k.contains("gitops-registration")).collect();
        assert_eq!(
            registrations.len(),
            2,
            "one per dev edge, none for prod: {registrations:?}"
        );

        assert_eq!(
            inputs[paths.dev_hub]["gitops_hub"],
            object(&[("namespace", string("argocd"))])
        );
        let edge = &inputs[paths.dev_edge];
        assert_eq!(
            edge["gitops_hub_role_arn"],
            string("arn:aws:iam::000000000000:role/mock-argocd-hub"),
            "the hub's role, mocked for plan"
        );
        assert_eq!(edge["gitops_capability_role_arn"], Value::Null);

        let registration = &inputs[paths.dev_registration];
        for (key, expected) in [
            ("hub_region", string("us-east-1")),
            ("hub_cluster_name", string("dev-hub")),
            ("namespace", string("argocd")),
            ("mode", string("self-managed")),
            (
                "cluster_arn",
                string("arn:aws:eks:us-west-2:000000000000:cluster/dev-us-west-2"),
            ),
            ("role_arn", string("arn:aws:iam::000000000000:role/mock-gitops")),
            (
                "labels",
                object(&[("environment", string("dev")), ("region", string("us-west-2"))]),
            ),
        ] {
            assert_eq!(registration[key], expected, "{layout:?} {key}");
        }

        // Without gitops of its own, prod's units pass nulls: no GitOps objects.
        assert_eq!(inputs[paths.prod_hub]["gitops_hub"], Value::Null);
        assert_eq!(inputs[paths.prod_edge]["gitops_hub_role_arn"], Value::Null);
        assert_eq!(inputs[paths.prod_edge]["gitops_capability_role_arn"], Value::Null);
    }
}

#[test]
fn the_registration_runs_with_the_hubs_provider_and_after_the_hub_and_the_edge() {
    for (layout, paths) in layouts() {
        let text = manifest_text(layout, "").replace(
            "[environments.dev.gitops]",
            "[environments.dev]\naccount_id = \"111111111111\"\ndeploy_role_name = \"deployer\"\n\n\
             [environments.dev.gitops]",
        );
        let dir = tree(&text);
        let (tree, _) = Tree::load(dir.path());
        let unit: &Unit = &tree.units[&tree.root.join(paths.dev_registration)];
        let provider = &unit.generate.iter().find(|g| g.name == "provider").unwrap().contents;
        assert!(provider.contains("region       = \"us-east-1\""), "{provider}");
        assert!(
            provider.contains(r#"{"role_arn":"arn:aws:iam::111111111111:role/deployer"}"#),
            "{provider}"
        );
        let dependencies: Vec<PathBuf> = unit.dependencies.iter().map(|d| d.config_path.clone()).collect();
        assert_eq!(
            dependencies,
            [tree.root.join(paths.dev_hub), tree.root.join(paths.dev_edge)],
            "{layout:?}"
        );
        let order = tree.apply_order().unwrap();
        let at = |p: &str| order.iter().position(|d| *d == tree.root.join(p)).unwrap();
        assert!(at(paths.dev_hub) < at(paths.dev_edge), "the edge trusts the hub's role");
        assert!(at(paths.dev_edge) < at(paths.dev_registration));
    }
}

#[test]
fn a_managed_argocd_gives_its_role_access_on_the_edges_and_the_hub_nothing() {
    let gitops = format!("mode = \"capability\"\nnamespace = \"gitops\"\ncapability_role_arn = \"{CAPABILITY_ROLE}\"");
    for (layout, paths) in layouts() {
        let dir = tree(&manifest_text(layout, &gitops));
        let inputs = checked_inputs(dir.path());
        assert_eq!(inputs[paths.dev_hub]["gitops_hub"], Value::Null);
        let edge = &inputs[paths.dev_edge];
        assert_eq!(edge["gitops_hub_role_arn"], Value::Null);
        assert_eq!(edge["gitops_capability_role_arn"], string(CAPABILITY_ROLE));
        let registration = &inputs[paths.dev_registration];
        assert_eq!(registration["mode"], string("capability"));
        assert_eq!(registration["namespace"], string("gitops"));
        assert_eq!(registration["role_arn"], Value::Null, "{layout:?}");
    }
}

/// The checked-in examples have no `gitops`: they render exactly as before.
#[test]
fn trees_without_gitops_render_as_the_checked_in_examples() {
    for example in ["terragrunt", "terragrunt-stack"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(example);
        let manifest = Manifest::load(&root.join("eksgen.toml")).unwrap();
        assert!(!manifest.has_gitops());
        let files = Templates::load(None).unwrap().render_tree(&manifest).unwrap();
        let changes = ChangeSet::between(&root, &files).unwrap();
        let paths: Vec<_> = changes.changes.iter().map(|c| c.path.display().to_string()).collect();
        assert!(changes.is_empty(), "{example}: {paths:?}");
        for (path, text) in &files {
            assert!(!text.contains("gitops_mode"), "{}", path.display());
            assert!(!text.contains("gitops-registration"), "{}", path.display());
        }
    }
}

fn context(root: &Path) -> Context {
    Context {
        base: root.to_path_buf(),
        templates: None,
    }
}

fn write() -> WriteFlags {
    WriteFlags {
        dry_run: false,
        force: false,
    }
}

fn remove(root: &Path, region: &str) -> eksgen::error::Result<eksgen::report::Report> {
    commands::remove_region(
        &context(root),
        &RemoveRegionArgs {
            region: region.into(),
            env: Some("dev".into()),
            write: write(),
        },
    )
}

#[test]
fn new_region_adds_the_registration_and_remove_region_removes_it() {
    for (layout, paths) in layouts() {
        let dir = tree(&manifest_text(layout, ""));
        let root = dir.path();
        let registration = |region: &str| paths.dev_registration.replace("us-west-2", region);
        commands::new_region(
            &context(root),
            &NewRegionArgs {
                region: "ap-northeast-1".into(),
                env: Some("dev".into()),
                cidr: None,
                write: write(),
            },
        )
        .unwrap();
        let inputs = checked_inputs(root);
        let added = &inputs[&registration("ap-northeast-1")];
        assert_eq!(
            added["labels"],
            object(&[("environment", string("dev")), ("region", string("ap-northeast-1"))])
        );
        if layout.is_empty() {
            assert!(
                root.join(registration("ap-northeast-1")).join("edge.hcl").is_file(),
                "the units layout names the edge in edge.hcl"
            );
        }

        // A registration whose state still holds the Secret is refused
        // before anything is removed, naming the unit to destroy first.
        let state = root
            .join(".terraform-state")
            .join(registration("ap-northeast-1"))
            .join("terraform.tfstate");
        std::fs::create_dir_all(state.parent().unwrap()).unwrap();
        std::fs::write(&state, r#"{"resources": [{"type": "fleet_argocd_cluster"}]}"#).unwrap();
        let err = remove(root, "ap-northeast-1").unwrap_err();
        assert!(matches!(err, Error::RegistrationNotDestroyed { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!(
                "terragrunt destroy --working-dir {}",
                registration("ap-northeast-1")
            )),
            "{err}"
        );
        std::fs::write(&state, r#"{"resources": []}"#).unwrap();

        if !layout.is_empty() {
            // What `terragrunt stack generate` would have written.
            let generated = root.join(registration("ap-northeast-1"));
            std::fs::create_dir_all(&generated).unwrap();
            std::fs::write(generated.join("terragrunt.hcl"), "# generated\n").unwrap();
        }
        remove(root, "ap-northeast-1").unwrap();
        assert!(!root.join(registration("ap-northeast-1")).exists(), "{layout:?}");
        let inputs = checked_inputs(root);
        assert!(!inputs.contains_key(&registration("ap-northeast-1")));
        assert!(
            inputs.contains_key(paths.dev_registration),
            "the other edges keep theirs"
        );
    }
}

#[test]
fn check_reports_a_missing_or_stale_registration_like_any_generated_file() {
    let dir = tree(&manifest_text("", ""));
    let root = dir.path();
    let drift = || {
        let eksgen::report::Report::Check(check) = commands::check(&context(root)).unwrap() else {
            panic!("check reports a Check")
        };
        check
            .drift
            .iter()
            .map(|d| (d.path.display().to_string(), d.action))
            .collect::<Vec<_>>()
    };
    assert_eq!(drift(), []);
    let unit = root.join(UNITS.dev_registration).join("terragrunt.hcl");
    std::fs::remove_file(&unit).unwrap();
    let edge = root.join(UNITS.dev_registration).join("edge.hcl");
    let text = std::fs::read_to_string(&edge).unwrap();
    std::fs::write(&edge, text.replace("us-west-2", "us-east-2")).unwrap();
    use eksgen::tree::Action;
    assert_eq!(
        drift(),
        [
            (format!("{}/edge.hcl", UNITS.dev_registration), Action::Update),
            (format!("{}/terragrunt.hcl", UNITS.dev_registration), Action::Create),
        ]
    );

    // Dropping gitops from the manifest makes every GitOps file stale.
    let text = std::fs::read_to_string(root.join("eksgen.toml")).unwrap();
    std::fs::write(
        root.join("eksgen.toml"),
        text.replace("[environments.dev.gitops]\n", ""),
    )
    .unwrap();
    let stale = drift();
    assert!(
        stale.contains(&(
            "environments/dev/shared/gitops-registration-eu-west-1/terragrunt.hcl".into(),
            Action::Delete
        )),
        "{stale:?}"
    );
    assert!(
        stale.contains(&("environments/_env/gitops-registration.hcl".into(), Action::Delete)),
        "{stale:?}"
    );
}
