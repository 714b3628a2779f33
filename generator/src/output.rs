//! The one place eksgen says what a command did: a [`Report`] as text (the
//! lines eksgen has always printed) or as one JSON object, and an error as
//! the `eksgen: error: ...` line. Everything is written to a `Write`, so the
//! binary passes stdout and stderr and tests pass a `Vec<u8>`.

use std::io::{self, Write};

use crate::error::Error;
use crate::manifest::{self, Layout};
use crate::report::{Check, DryRun, FileDiff, List, Note, Report, Wrote};

/// How a report is written (`--output`).
// The values carry no doc comments: clap would turn them into a long help
// for every command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    // The lines a person reads.
    #[default]
    Text,
    // One JSON object on one line, for programs.
    Json,
}

/// Writes `report` to `out` in `format`, flushed so that a failed write is an error here.
pub fn write_report(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => write_text(report, out)?,
        Format::Json => {
            serde_json::to_writer(&mut *out, report)?;
            writeln!(out)?;
        }
    }
    out.flush()
}

/// Writes `error` as one `eksgen: error: ...` line, after the diff of the
/// hand edits when that is why the command refused (whatever the format).
pub fn write_error(error: &Error, err: &mut dyn Write) -> io::Result<()> {
    if let Error::HandEdited { diff, .. } = error {
        write!(err, "{diff}")?;
    }
    writeln!(err, "eksgen: error: {error}")?;
    err.flush()
}

fn write_text(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    match report {
        Report::DryRun(dry_run) => write_dry_run(dry_run, out),
        Report::Wrote(wrote) => write_wrote(wrote, out),
        Report::List(list) => write_list(list, out),
        Report::Check(check) => write_check(check, out),
    }
}

fn write_diffs(diffs: &[FileDiff], out: &mut dyn Write) -> io::Result<()> {
    diffs.iter().try_for_each(|file| write!(out, "{}", file.diff))
}

fn write_dry_run(dry_run: &DryRun, out: &mut dyn Write) -> io::Result<()> {
    write_diffs(&dry_run.changes, out)?;
    writeln!(
        out,
        "dry run: {} file(s) would change, nothing written",
        dry_run.changes.len()
    )
}

fn write_wrote(wrote: &Wrote, out: &mut dyn Write) -> io::Result<()> {
    if wrote.changes.is_empty() {
        writeln!(out, "up to date: the tree already matches {}", manifest::FILE_NAME)?;
    }
    for file in &wrote.changes {
        writeln!(out, "{:>6} {}", file.action.verb(), file.path.display())?;
    }
    wrote.notes.iter().try_for_each(|note| write_note(note, out))
}

fn write_note(note: &Note, out: &mut dyn Write) -> io::Result<()> {
    match note {
        Note::RegionAdded { region, env, vpc_cidr } => {
            writeln!(out, "{region}: VPC {vpc_cidr} in environment {env}")
        }
        Note::GeneratedUnitsDeleted { folder } => writeln!(
            out,
            "deleted {}, the region's units Terragrunt generated",
            folder.display()
        ),
        Note::UserFilesKept { folder } => {
            writeln!(out, "kept files eksgen did not write, under {}", folder.display())
        }
    }
}

/// A table: columns padded to their widest cell, two spaces apart, no trailing blanks.
fn write_list(list: &List, out: &mut dyn Write) -> io::Result<()> {
    let header = ["ENV", "REGION", "ROLE", "CIDR", "ACCOUNT"].map(str::to_string);
    let rows: Vec<[String; 5]> = list
        .clusters
        .iter()
        .map(|c| {
            [
                c.env.clone(),
                c.region.clone(),
                c.role.clone(),
                c.cidr.to_string(),
                c.account_id.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

fn write_check(check: &Check, out: &mut dyn Write) -> io::Result<()> {
    if !check.drift.is_empty() {
        write_diffs(&check.drift, out)?;
        let extra = match check.layout {
            Layout::Units => "a unit's extra.hcl",
            Layout::Stack => "environments/<env>/extra/<region>/<kind>.hcl",
        };
        writeln!(
            out,
            "eksgen check: {} file(s) differ from what {} renders; run `eksgen render` (hand edits belong in eksgen.toml or {extra})",
            check.drift.len(),
            manifest::FILE_NAME
        )?;
    }
    for problem in &check.problems {
        writeln!(out, "{problem}")?;
    }
    if check.passed() {
        writeln!(
            out,
            "eksgen check: the tree matches {} and its {} units pass every check",
            manifest::FILE_NAME,
            check.units
        )?;
    } else if !check.problems.is_empty() {
        writeln!(out, "eksgen check: {} problem(s)", check.problems.len())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::check::Problem;
    use crate::report::{ChangedFile, ClusterRow};
    use crate::tree::{Action, Change};

    fn text(report: &Report) -> String {
        let mut out = Vec::new();
        write_report(report, Format::Text, &mut out).expect("a Vec takes every write");
        String::from_utf8(out).expect("reports are UTF-8")
    }

    fn json(report: &Report) -> serde_json::Value {
        let mut out = Vec::new();
        write_report(report, Format::Json, &mut out).expect("a Vec takes every write");
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "one object on one line");
        serde_json::from_slice(&out).expect("the JSON output parses")
    }

    fn change(path: &str, action: Action, old: &str, new: &str) -> Change {
        Change {
            path: PathBuf::from(path),
            action,
            old: old.to_string(),
            new: new.to_string(),
            hand_edited: false,
        }
    }

    fn list() -> Report {
        let row = |env: &str, region: &str, role: &str, cidr: &str, account_id: Option<&str>| ClusterRow {
            env: env.into(),
            region: region.into(),
            role: role.into(),
            cidr: cidr.parse().expect("a valid CIDR"),
            account_id: account_id.map(str::to_string),
        };
        Report::List(List {
            clusters: vec![
                row("dev", "us-east-1", "hub", "10.0.0.0/16", None),
                row("prod", "eu-central-1", "hub", "10.1.0.0/16", Some("123456789012")),
            ],
        })
    }

    fn dry_run() -> Report {
        Report::DryRun(DryRun {
            changes: vec![
                FileDiff::of(&change(
                    "eksgen.toml",
                    Action::Update,
                    "version = 1\n",
                    "version = 1\nx = 2\n",
                )),
                FileDiff::of(&change(
                    "environments/dev/region.hcl",
                    Action::Create,
                    "",
                    "locals {}\n",
                )),
            ],
        })
    }

    fn check_with_problems() -> Report {
        Report::Check(Check {
            layout: Layout::Stack,
            drift: vec![FileDiff::of(&change("root.hcl", Action::Delete, "a\n", ""))],
            problems: vec![Problem {
                path: PathBuf::from("environments/dev/edge-cluster/terragrunt.hcl"),
                message: "input \"x\" is not a variable of the module".into(),
            }],
            units: 3,
        })
    }

    fn wrote() -> Report {
        Report::Wrote(Wrote {
            changes: vec![
                ChangedFile {
                    path: PathBuf::from("eksgen.toml"),
                    action: Action::Update,
                },
                ChangedFile {
                    path: PathBuf::from("environments/dev/regions/us-west-2/region.hcl"),
                    action: Action::Create,
                },
            ],
            notes: vec![Note::RegionAdded {
                region: "us-west-2".into(),
                env: "dev".into(),
                vpc_cidr: "10.1.0.0/16".parse().expect("a valid CIDR"),
            }],
        })
    }

    #[test]
    fn list_is_a_table_padded_to_the_widest_cell_with_dash_for_no_account() {
        assert_eq!(
            text(&list()),
            "ENV   REGION        ROLE  CIDR         ACCOUNT\n\
             dev   us-east-1     hub   10.0.0.0/16  -\n\
             prod  eu-central-1  hub   10.1.0.0/16  123456789012\n"
        );
    }

    #[test]
    fn a_dry_run_is_the_diffs_then_the_count_of_files_it_would_change() {
        assert_eq!(
            text(&dry_run()),
            "--- a/eksgen.toml\n+++ b/eksgen.toml\n@@ -1 +1,2 @@\n version = 1\n+x = 2\n\
             --- /dev/null\n+++ b/environments/dev/region.hcl\n@@ -0,0 +1 @@\n+locals {}\n\
             dry run: 2 file(s) would change, nothing written\n"
        );
    }

    #[test]
    fn a_failed_check_shows_the_drift_then_each_problem_then_their_count() {
        let report = check_with_problems();
        assert_eq!(report.exit_code(), 1);
        assert_eq!(
            text(&report),
            "--- a/root.hcl\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n\
             eksgen check: 1 file(s) differ from what eksgen.toml renders; run `eksgen render` \
             (hand edits belong in eksgen.toml or environments/<env>/extra/<region>/<kind>.hcl)\n\
             environments/dev/edge-cluster/terragrunt.hcl: input \"x\" is not a variable of the module\n\
             eksgen check: 1 problem(s)\n"
        );
    }

    #[test]
    fn a_passed_check_counts_the_units_and_exits_0() {
        let report = Report::Check(Check {
            layout: Layout::Units,
            drift: Vec::new(),
            problems: Vec::new(),
            units: 7,
        });
        assert_eq!(report.exit_code(), 0);
        assert_eq!(
            text(&report),
            "eksgen check: the tree matches eksgen.toml and its 7 units pass every check\n"
        );
    }

    #[test]
    fn drift_alone_fails_a_check_without_a_problem_count() {
        let Report::Check(mut check) = check_with_problems() else {
            unreachable!("check_with_problems is a check")
        };
        check.problems.clear();
        let report = Report::Check(check);
        assert_eq!(report.exit_code(), 1);
        assert!(text(&report).ends_with("or environments/<env>/extra/<region>/<kind>.hcl)\n"));
    }

    #[test]
    fn a_write_is_one_line_per_file_then_the_notes() {
        let report = wrote();
        assert_eq!(report.exit_code(), 0);
        assert_eq!(
            text(&report),
            "update eksgen.toml\n\
             create environments/dev/regions/us-west-2/region.hcl\n\
             us-west-2: VPC 10.1.0.0/16 in environment dev\n"
        );
    }

    #[test]
    fn a_write_that_changed_nothing_says_up_to_date() {
        let report = Report::Wrote(Wrote {
            changes: Vec::new(),
            notes: vec![
                Note::GeneratedUnitsDeleted {
                    folder: PathBuf::from("environments/dev/.terragrunt-stack/eu-west-1"),
                },
                Note::UserFilesKept {
                    folder: PathBuf::from("/tree/environments/dev/extra/eu-west-1"),
                },
            ],
        });
        assert_eq!(
            text(&report),
            "up to date: the tree already matches eksgen.toml\n\
             deleted environments/dev/.terragrunt-stack/eu-west-1, the region's units Terragrunt generated\n\
             kept files eksgen did not write, under /tree/environments/dev/extra/eu-west-1\n"
        );
    }

    #[test]
    fn a_refusal_of_hand_edits_shows_their_diff_before_the_one_error_line() {
        let error = Error::HandEdited {
            count: 1,
            paths: "root.hcl".into(),
            diff: "--- a/root.hcl\n+++ b/root.hcl\n".into(),
        };
        let mut err = Vec::new();
        write_error(&error, &mut err).expect("a Vec takes every write");
        assert_eq!(
            String::from_utf8(err).expect("errors are UTF-8"),
            format!("--- a/root.hcl\n+++ b/root.hcl\neksgen: error: {error}\n")
        );
    }

    #[test]
    fn list_json_has_a_row_per_cluster_with_null_for_no_account() {
        assert_eq!(
            json(&list()),
            serde_json::json!({
                "report": "list",
                "clusters": [
                    {"env": "dev", "region": "us-east-1", "role": "hub", "cidr": "10.0.0.0/16", "account_id": null},
                    {"env": "prod", "region": "eu-central-1", "role": "hub", "cidr": "10.1.0.0/16", "account_id": "123456789012"},
                ],
            })
        );
    }

    #[test]
    fn dry_run_json_has_each_file_with_its_own_diff() {
        let report = json(&dry_run());
        assert_eq!(report["report"], "dry_run");
        assert_eq!(
            report["changes"][1],
            serde_json::json!({
                "path": "environments/dev/region.hcl",
                "action": "create",
                "diff": "--- /dev/null\n+++ b/environments/dev/region.hcl\n@@ -0,0 +1 @@\n+locals {}\n",
            })
        );
        assert_eq!(report["changes"][0]["action"], "update");
    }

    #[test]
    fn check_json_has_the_drift_the_problems_and_the_units() {
        let report = json(&check_with_problems());
        assert_eq!(report["report"], "check");
        assert_eq!(report["layout"], "stack");
        assert_eq!(report["units"], 3);
        assert_eq!(report["drift"][0]["path"], "root.hcl");
        assert_eq!(report["drift"][0]["action"], "delete");
        assert_eq!(
            report["problems"],
            serde_json::json!([{
                "path": "environments/dev/edge-cluster/terragrunt.hcl",
                "message": "input \"x\" is not a variable of the module",
            }])
        );
    }

    #[test]
    fn wrote_json_has_the_files_and_tagged_notes() {
        assert_eq!(
            json(&wrote()),
            serde_json::json!({
                "report": "wrote",
                "changes": [
                    {"path": "eksgen.toml", "action": "update"},
                    {"path": "environments/dev/regions/us-west-2/region.hcl", "action": "create"},
                ],
                "notes": [{"note": "region_added", "region": "us-west-2", "env": "dev", "vpc_cidr": "10.1.0.0/16"}],
            })
        );
    }
}
