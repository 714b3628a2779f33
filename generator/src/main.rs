//! eksgen: keeps a per-region Terragrunt tree generated from one manifest.
//!
//! Skeleton: the commands (init, new-region, render, check, …) arrive with
//! the generator issue; today the binary only answers --help and --version.

use clap::Parser;

/// Keep a per-region Terragrunt tree for an EKS fleet generated from one manifest.
#[derive(Parser)]
#[command(name = "eksgen", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    eprintln!("eksgen: no commands yet (see `eksgen --help`); the generator is under construction");
    std::process::exit(2);
}
