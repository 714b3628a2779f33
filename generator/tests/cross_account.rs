//! An edge in another account than its hub: the tree renders the peer
//! account, no auto-accept, and roles to assume on both sides, and passes
//! every static check.

use std::path::Path;

use eksgen::check::{self, terragrunt::Unit};
use eksgen::manifest::Manifest;
use eksgen::render::Templates;
use eksgen::tree::ChangeSet;

const MANIFEST: &str = r#"
version = 1
modules_source = "MODULES"
cidr_pool = "10.0.0.0/8"

[environments.prod]
account_id = "111111111111"
deploy_role_name = "eksfleet-deploy"

[environments.prod.hub]
region = "us-east-1"
cidr = "10.0.0.0/16"

[environments.prod.regions.eu-west-1]
cidr = "10.1.0.0/16"
account_id = "222222222222"

[environments.prod.regions.us-west-2]
cidr = "10.2.0.0/16"
"#;

fn render(root: &Path, text: &str) {
    let manifest = Manifest::parse(&root.join("eksgen.toml"), text).expect("manifest is valid");
    let files = Templates::load(None).unwrap().render_tree(&manifest).unwrap();
    ChangeSet::between(root, &files).unwrap().write(root).unwrap();
}

fn text(key: &str, inputs: &hcl::Map<String, hcl::Value>) -> Option<String> {
    inputs.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

#[test]
fn a_cross_account_edge_gets_the_peer_account_and_roles_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules");
    render(dir.path(), &MANIFEST.replace("MODULES", &modules.display().to_string()));
    let (_, problems) = check::run(dir.path());
    assert!(problems.is_empty(), "{problems:#?}");

    let unit = |path: &str| Unit::load(&dir.path().join(path)).unwrap();
    let requester = unit("environments/prod/regions/eu-west-1/vpc-peering-requester")
        .inputs_with_mocks()
        .unwrap();
    assert_eq!(text("peer_account_id", &requester).as_deref(), Some("111111111111"));
    assert_eq!(requester.get("auto_accept"), Some(&hcl::Value::Bool(false)));
    let accepter = unit("environments/prod/regions/eu-west-1/vpc-peering-accepter")
        .inputs_with_mocks()
        .unwrap();
    assert_eq!(
        text("assume_role_arn", &accepter).as_deref(),
        Some("arn:aws:iam::111111111111:role/eksfleet-deploy")
    );
    let edge = unit("environments/prod/regions/eu-west-1/edge-cluster");
    let provider = &edge.generate.iter().find(|g| g.name == "provider").unwrap().contents;
    assert!(
        provider.contains(r#"assume_role  = {"role_arn":"arn:aws:iam::222222222222:role/eksfleet-deploy"}"#),
        "{provider}"
    );

    // The same-account edge auto-accepts and assumes nothing in the hub's account.
    let requester = unit("environments/prod/regions/us-west-2/vpc-peering-requester")
        .inputs_with_mocks()
        .unwrap();
    assert_eq!(requester.get("peer_account_id"), Some(&hcl::Value::Null));
    assert_eq!(requester.get("auto_accept"), Some(&hcl::Value::Bool(true)));
}

#[test]
fn a_cross_account_edge_without_a_deploy_role_is_refused() {
    let text = MANIFEST.replace("deploy_role_name = \"eksfleet-deploy\"\n", "");
    let err = Manifest::parse(Path::new("eksgen.toml"), &text)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("environments.prod.regions.eu-west-1.account_id: differs from the hub's (111111111111)"),
        "{err}"
    );
    assert!(err.contains("needs deploy_role_name"), "{err}");
}
