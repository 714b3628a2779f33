//! eksgen: keeps a per-region Terragrunt tree generated from one manifest.

use clap::Parser;

fn main() {
    let cli = eksgen::cli::Cli::parse();
    let code = eksgen::cli::run(&cli, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
    std::process::exit(code);
}
