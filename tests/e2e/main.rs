//! Every end-to-end suite in one test binary, a module each, so the AWS SDK
//! and the harness are linked once. Test names carry the suite:
//! `cargo test --workspace --test e2e -- peering:: cluster::` runs two
//! suites, `-- faults:: --ignored` the long fault run.
//!
//! All suites share libtest's one pool of `--test-threads` (the CPU count
//! unless set), as each suite's binary did on its own before: at most that
//! many tests run at once, each with its own moto, engine and provider
//! processes on ports of its own, so suites share no state.

mod argocd;
mod auto_mode;
mod bad_input;
mod ci;
mod cluster;
mod eksgen;
mod faults;
mod gitops;
mod iam_policy;
mod karpenter;
mod launch_templates;
mod modules;
mod peering;
mod refresh;
mod reliability;
mod terragrunt;
mod workload_iam;
