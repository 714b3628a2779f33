//! eksgen: keeps a per-region Terragrunt tree generated from one manifest.

use clap::Parser;

fn main() {
    let cli = eksgen::cli::Cli::parse();
    match eksgen::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("eksgen: error: {err}");
            std::process::exit(2);
        }
    }
}
