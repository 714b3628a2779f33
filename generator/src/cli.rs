//! Command-line interface: parsing with clap, then one function per command.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::args::{CiArgs, InitArgs, NewEnvArgs, NewRegionArgs, RemoveRegionArgs, RenderArgs};
use crate::commands::{self, Context};
use crate::error::{Error, Result};
use crate::output::{self, Format};
use crate::report::Report;

pub use crate::args::WriteFlags;

/// Keep a per-region Terragrunt tree for an EKS fleet generated from one manifest (eksgen.toml).
#[derive(Debug, Parser)]
#[command(name = "eksgen", version, about, long_about = None)]
pub struct Cli {
    /// Run as if started in DIR (the tree is found from there upwards).
    #[arg(short = 'C', long = "dir", global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Use templates from DIR in place of the built-in ones of the same name.
    #[arg(long, global = true, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Write what the command did as text, or as one JSON object (errors stay text on stderr).
    #[arg(short = 'o', long = "output", global = true, value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
    pub output: Format,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a tree: write eksgen.toml, root.hcl, the shared unit configs and the first environment's hub.
    Init(InitArgs),
    /// Add an edge region to an environment, with a VPC CIDR from the pool.
    NewRegion(NewRegionArgs),
    /// Add an environment with its hub.
    NewEnv(NewEnvArgs),
    /// Remove an edge region from an environment and delete its generated files.
    RemoveRegion(RemoveRegionArgs),
    /// List the clusters of the manifest: environment, region, role, CIDR, account.
    List,
    /// Re-render the whole tree from eksgen.toml (byte-identical when nothing changed).
    Render(RenderArgs),
    /// Fail (exit 1) with a diff when the tree differs from what eksgen.toml renders, or a static check fails.
    Check,
    /// Write the CI pipelines that plan changed units on merge/pull requests and apply them on
    /// the default branch, region by region on many runners ([ci] in eksgen.toml).
    Ci(CiArgs),
}

impl Cli {
    /// The global flags every command runs with.
    fn context(&self) -> Context {
        Context {
            base: self.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            templates: self.templates.clone(),
        }
    }
}

/// Runs the command and writes its report to `stdout`, or the error to
/// `stderr`; returns the exit code: the report's (0, or 1 when `check`
/// fails), or 2 on an error.
pub fn run(cli: &Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let written = execute(cli).and_then(|report| {
        output::write_report(&report, cli.output, stdout).map_err(|source| Error::Output { source })?;
        Ok(report.exit_code())
    });
    written.unwrap_or_else(|error| {
        // When stderr cannot be written either, the exit code is all that is left.
        let _ = output::write_error(&error, stderr);
        2
    })
}

/// Runs the command and returns what it did.
pub fn execute(cli: &Cli) -> Result<Report> {
    let context = cli.context();
    match &cli.command {
        Command::Init(args) => commands::init(&context, args),
        Command::NewRegion(args) => commands::new_region(&context, args),
        Command::NewEnv(args) => commands::new_env(&context, args),
        Command::RemoveRegion(args) => commands::remove_region(&context, args),
        Command::List => commands::list(&context),
        Command::Render(args) => commands::render(&context, args),
        Command::Check => commands::check(&context),
        Command::Ci(args) => commands::ci(&context, args),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap_or_else(|error| panic!("{args:?}: {error}"))
    }

    /// Runs eksgen in `dir`; the exit code, stdout and stderr.
    fn eksgen(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
        let dir = dir.display().to_string();
        let cli = parse(&[&["eksgen", "-C", &dir], args].concat());
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let code = run(&cli, &mut stdout, &mut stderr);
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("eksgen writes UTF-8");
        (code, text(stdout), text(stderr))
    }

    fn json(stdout: &str) -> serde_json::Value {
        serde_json::from_str(stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
    }

    #[test]
    fn output_is_text_unless_json_is_asked_for_before_or_after_the_command() {
        assert_eq!(parse(&["eksgen", "list"]).output, Format::Text);
        assert_eq!(parse(&["eksgen", "--output", "json", "list"]).output, Format::Json);
        assert_eq!(parse(&["eksgen", "check", "-o", "json"]).output, Format::Json);
        assert_eq!(parse(&["eksgen", "-o", "text", "render"]).output, Format::Text);
        assert!(Cli::try_parse_from(["eksgen", "-o", "yaml", "list"]).is_err());
    }

    #[test]
    fn each_command_gets_its_own_args() {
        let cli = parse(&["eksgen", "new-region", "us-west-2", "--env", "dev", "--dry-run"]);
        let Command::NewRegion(args) = cli.command else {
            panic!("new-region parses as NewRegion: {:?}", cli.command)
        };
        assert_eq!(
            (
                args.region.as_str(),
                args.env.as_deref(),
                args.cidr,
                args.write.dry_run,
                args.write.force
            ),
            ("us-west-2", Some("dev"), None, true, false)
        );
        let cli = parse(&["eksgen", "init", "--env", "dev", "--hub-region", "us-east-1"]);
        let Command::Init(args) = cli.command else {
            panic!("init parses as Init: {:?}", cli.command)
        };
        assert_eq!(args.cidr_pool, crate::manifest::DEFAULT_CIDR_POOL);
        assert_eq!(args.vpc_prefix_length, crate::manifest::DEFAULT_VPC_PREFIX_LENGTH);
        assert_eq!(args.state(), None);
    }

    #[test]
    fn json_reports_what_each_command_did_with_the_text_exit_codes() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path();
        let (code, stdout, stderr) = eksgen(
            root,
            &["-o", "json", "init", "--env", "dev", "--hub-region", "us-east-1"],
        );
        assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
        let init = json(&stdout);
        assert_eq!(init["report"], "wrote");
        assert_eq!(
            init["changes"][0],
            serde_json::json!({"path": "eksgen.toml", "action": "create"})
        );

        let (code, stdout, _) = eksgen(root, &["-o", "json", "new-region", "us-west-2", "--dry-run"]);
        assert_eq!(code, 0);
        let dry_run = json(&stdout);
        assert_eq!(dry_run["report"], "dry_run");
        assert_eq!(dry_run["changes"][0]["path"], "eksgen.toml");
        assert!(
            dry_run["changes"][0]["diff"]
                .as_str()
                .is_some_and(|diff| diff.contains("+[environments.dev.regions.us-west-2]")),
            "{dry_run:#}"
        );

        let (code, stdout, _) = eksgen(root, &["new-region", "us-west-2", "--output", "json"]);
        assert_eq!(code, 0);
        assert_eq!(
            json(&stdout)["notes"],
            serde_json::json!([{"note": "region_added", "region": "us-west-2", "env": "dev", "vpc_cidr": "10.1.0.0/16"}])
        );

        let (code, stdout, _) = eksgen(root, &["list", "-o", "json"]);
        assert_eq!(code, 0);
        assert_eq!(json(&stdout)["clusters"][1]["region"], "us-west-2");
        let (code, text, _) = eksgen(root, &["list"]);
        assert_eq!(code, 0);
        assert_eq!(
            text,
            "ENV  REGION     ROLE  CIDR         ACCOUNT\ndev  us-east-1  hub   10.0.0.0/16  -\ndev  us-west-2  edge  10.1.0.0/16  -\n"
        );
    }

    #[test]
    fn errors_are_one_text_line_on_stderr_and_exit_2_whatever_the_format() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (code, stdout, stderr) = eksgen(dir.path(), &["-o", "json", "list"]);
        assert_eq!(code, 2);
        assert_eq!(stdout, "");
        assert!(
            stderr.starts_with("eksgen: error: no eksgen.toml in ") && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
}
