//! The commands. Every writing command works out the new manifest and the
//! whole tree first, then either reports the diff (--dry-run), refuses (bad
//! input, hand edits), or writes: nothing is touched before all checks pass.
//! Commands print nothing: each returns a [`Report`] for `output` to render.

use std::path::{Path, PathBuf};

use crate::args::{CiArgs, InitArgs, NewEnvArgs, NewRegionArgs, RemoveRegionArgs, RenderArgs, WriteFlags};
use crate::check;
use crate::error::{Error, IoContext, Result};
use crate::manifest::{self, Manifest, cidr, edit};
use crate::render::{InitManifest, STACK_DIR, Templates, registration_unit, stack_extra_file};
use crate::report::{ChangedFile, Check, ClusterRow, DryRun, FileDiff, List, Note, Report, Wrote};
use crate::tree::ChangeSet;

/// What every command runs with: the global flags.
pub struct Context {
    /// Where the command was started (-C DIR or the current folder).
    pub base: PathBuf,
    /// --templates DIR: templates that replace the built-in ones of the same name.
    pub templates: Option<PathBuf>,
}

fn default_modules_source() -> String {
    format!(
        "git::https://github.com/eksfleet/eksfleet.git//modules?ref=v{}",
        env!("CARGO_PKG_VERSION")
    )
}

fn region_arg(region: &str) -> Result<()> {
    manifest::check_region(region).map_err(|message| Error::UnknownRegion { message })
}

fn cidr_arg(what: &'static str, text: &str) -> Result<ipnet::Ipv4Net> {
    manifest::parse_cidr(text).map_err(|reason| Error::BadCidr {
        what,
        cidr: text.to_string(),
        reason,
    })
}

pub fn init(context: &Context, args: &InitArgs) -> Result<Report> {
    // The folder given to init is relative to -C (join keeps an absolute one as it is).
    let base = args
        .path
        .as_ref()
        .map_or_else(|| context.base.clone(), |path| context.base.join(path));
    let root = &std::path::absolute(&base).at(&base)?;
    let path = root.join(manifest::FILE_NAME);
    if path.exists() {
        return Err(Error::AlreadyInitialised { path });
    }
    manifest::check_env_name(&args.env).map_err(|message| Error::ManifestValue {
        path: path.clone(),
        key: "--env".into(),
        message,
    })?;
    region_arg(&args.hub_region)?;
    if let Some((_, state_region)) = args.state() {
        region_arg(state_region)?;
    }
    let pool = cidr_arg("--cidr-pool", &args.cidr_pool)?;
    let hub_cidr = cidr::allocate(pool, args.vpc_prefix_length, &[])?;
    let modules_source = args.modules_source.clone().unwrap_or_else(default_modules_source);
    let templates = Templates::load(context.templates.as_deref())?;
    let text = templates.render_manifest(&InitManifest {
        layout: args.layout.name(),
        env: &args.env,
        hub_region: &args.hub_region,
        hub_cidr: hub_cidr.to_string(),
        cidr_pool: pool.to_string(),
        vpc_prefix_length: args.vpc_prefix_length,
        modules_source: &modules_source,
        kubernetes_version: None,
        account_id: args.account_id.as_deref(),
        state: args
            .state()
            .map(|(bucket, region)| serde_json::json!({ "bucket": bucket, "region": region })),
    })?;
    let manifest = Manifest::parse(&path, &text)?;
    write_tree(&args.write, &templates, root, None, &text, &manifest)
}

pub fn new_region(context: &Context, args: &NewRegionArgs) -> Result<Report> {
    let Opened {
        root,
        path,
        text,
        manifest,
    } = open(&context.base)?;
    let region = args.region.as_str();
    region_arg(region)?;
    let env = manifest.pick_env(args.env.as_deref())?;
    let environment = manifest.env(&env)?;
    if environment.regions.contains_key(region) {
        return Err(Error::RegionExists {
            env,
            region: region.to_string(),
        });
    }
    if environment.hub.region == region {
        return Err(Error::RegionIsHub {
            env,
            region: region.to_string(),
        });
    }
    let vpc_cidr = new_vpc_cidr(&manifest, args.cidr.as_deref())?;
    let new_text = edit::add_region(&path, &text, &env, region, vpc_cidr)?;
    let new_manifest = Manifest::parse(&path, &new_text)?;
    let templates = Templates::load(context.templates.as_deref())?;
    let mut report = write_tree(&args.write, &templates, &root, Some(text), &new_text, &new_manifest)?;
    if let Report::Wrote(wrote) = &mut report {
        wrote.notes.push(Note::RegionAdded {
            region: region.to_string(),
            env,
            vpc_cidr,
        });
    }
    Ok(report)
}

pub fn new_env(context: &Context, args: &NewEnvArgs) -> Result<Report> {
    let Opened {
        root,
        path,
        text,
        manifest,
    } = open(&context.base)?;
    let name = args.name.as_str();
    manifest::check_env_name(name).map_err(|message| Error::ManifestValue {
        path: path.clone(),
        key: "NAME".into(),
        message,
    })?;
    if manifest.environments.contains_key(name) {
        return Err(Error::EnvExists { env: name.to_string() });
    }
    region_arg(&args.hub_region)?;
    let hub_cidr = new_vpc_cidr(&manifest, args.cidr.as_deref())?;
    let new_text = edit::add_env(
        &path,
        &text,
        &edit::NewEnv {
            name,
            hub_region: &args.hub_region,
            hub_cidr,
            account_id: args.account_id.as_deref(),
        },
    )?;
    let new_manifest = Manifest::parse(&path, &new_text)?;
    let templates = Templates::load(context.templates.as_deref())?;
    write_tree(&args.write, &templates, &root, Some(text), &new_text, &new_manifest)
}

pub fn remove_region(context: &Context, args: &RemoveRegionArgs) -> Result<Report> {
    let Opened {
        root,
        path,
        text,
        manifest,
    } = open(&context.base)?;
    let region = args.region.as_str();
    let env = manifest.pick_env(args.env.as_deref())?;
    if !manifest.env(&env)?.regions.contains_key(region) {
        return Err(Error::RegionNotFound {
            env,
            region: region.to_string(),
        });
    }
    let env_dir = Path::new("environments").join(&env);
    // The folder holding the region's units: eksgen's, or the one Terragrunt
    // generates from the stack file.
    let (folder, kept) = match manifest.layout {
        manifest::Layout::Units => (
            env_dir.join("regions").join(region),
            env_dir.join("regions").join(region),
        ),
        manifest::Layout::Stack => (env_dir.join(STACK_DIR).join(region), env_dir.join("extra").join(region)),
    };
    // The region's registration with the hub's Argo CD sits next to the hub's
    // unit, outside the region's folder: its state is checked on its own, and
    // first, since it must be destroyed before the edge cluster it names.
    let hub_region = manifest.env(&env)?.hub.region.clone();
    let registration = registration_unit(region);
    let (registration_folder, registration_kept) = match manifest.layout {
        manifest::Layout::Units => {
            let folder = env_dir.join("shared").join(&registration);
            (folder.clone(), folder)
        }
        manifest::Layout::Stack => (
            env_dir.join(STACK_DIR).join(&hub_region).join(&registration),
            stack_extra_file(&env, &hub_region, &registration),
        ),
    };
    if state_has_resources(
        &root
            .join(".terraform-state")
            .join(&registration_folder)
            .join("terraform.tfstate"),
    ) {
        return Err(Error::RegistrationNotDestroyed {
            env,
            region: region.to_string(),
            folder: registration_folder.display().to_string(),
        });
    }
    refuse_region_with_local_state(&root, &folder, &env, region)?;
    let new_text = edit::remove_region(&path, &text, &env, region)?;
    let new_manifest = Manifest::parse(&path, &new_text)?;
    let templates = Templates::load(context.templates.as_deref())?;
    let mut report = write_tree(&args.write, &templates, &root, Some(text), &new_text, &new_manifest)?;
    let Report::Wrote(wrote) = &mut report else {
        // A dry run deletes nothing either.
        return Ok(report);
    };
    if manifest.layout == manifest::Layout::Stack && root.join(&folder).exists() {
        // `terragrunt stack generate` never deletes a unit the stack file no
        // longer has: left there, `run --all apply` would bring the region back.
        let generated = root.join(&folder);
        std::fs::remove_dir_all(&generated).at(&generated)?;
        wrote.notes.push(Note::GeneratedUnitsDeleted { folder });
    }
    if manifest.layout == manifest::Layout::Stack && root.join(&registration_folder).exists() {
        let generated = root.join(&registration_folder);
        std::fs::remove_dir_all(&generated).at(&generated)?;
        wrote.notes.push(Note::GeneratedUnitsDeleted {
            folder: registration_folder,
        });
    }
    for kept in [kept, registration_kept] {
        if root.join(&kept).exists() {
            wrote.notes.push(Note::UserFilesKept {
                folder: root.join(&kept),
            });
        }
    }
    Ok(report)
}

pub fn render(context: &Context, args: &RenderArgs) -> Result<Report> {
    let Opened {
        root, text, manifest, ..
    } = open(&context.base)?;
    let templates = Templates::load(context.templates.as_deref())?;
    write_tree(&args.write, &templates, &root, Some(text.clone()), &text, &manifest)
}

/// `[ci]` set in the manifest, then the whole tree rendered, pipelines
/// included: later commands keep them in step from the manifest alone.
pub fn ci(context: &Context, args: &CiArgs) -> Result<Report> {
    let Opened {
        root,
        path,
        text,
        manifest: _,
    } = open(&context.base)?;
    let settings = edit::CiSettings {
        system: args.system.name(),
        role_arn: args.role_arn.as_deref(),
        max_parallel: args.max_parallel,
    };
    let new_text = edit::set_ci(&path, &text, &settings)?;
    let new_manifest = Manifest::parse(&path, &new_text)?;
    let templates = Templates::load(context.templates.as_deref())?;
    write_tree(&args.write, &templates, &root, Some(text), &new_text, &new_manifest)
}

pub fn list(context: &Context) -> Result<Report> {
    let Opened { manifest, .. } = open(&context.base)?;
    let clusters = manifest
        .clusters()
        .into_iter()
        .map(|c| ClusterRow {
            role: c.role_name().to_string(),
            env: c.env,
            region: c.region,
            cidr: c.cidr,
            account_id: c.account_id,
        })
        .collect();
    Ok(Report::List(List { clusters }))
}

/// For PR checks: the diff when the tree differs from the manifest's
/// rendering, and the problems the static checks find (either one exits 1).
pub fn check(context: &Context) -> Result<Report> {
    let Opened { root, manifest, .. } = open(&context.base)?;
    let templates = Templates::load(context.templates.as_deref())?;
    let files = templates.render_tree(&manifest)?;
    let changes = ChangeSet::between(&root, &files)?;
    let (units, problems) = check::run(&root);
    Ok(Report::Check(Check {
        layout: manifest.layout,
        drift: changes.changes.iter().map(FileDiff::of).collect(),
        problems,
        units,
    }))
}

/// Removing a region's units while their state still holds resources would
/// leave those resources running with nothing left to destroy them (and
/// the hub's routes to a VPC that is gone). The local backend's state files
/// (root.hcl: `.terraform-state/<unit>/terraform.tfstate`) say whether that
/// is so; S3 state is the user's to check.
fn refuse_region_with_local_state(root: &Path, folder: &Path, env: &str, region: &str) -> Result<()> {
    let states = root.join(".terraform-state").join(folder);
    let Ok(entries) = std::fs::read_dir(&states) else {
        return Ok(());
    };
    let mut units: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| state_has_resources(&entry.path().join("terraform.tfstate")))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    if units.is_empty() {
        return Ok(());
    }
    units.sort();
    Err(Error::RegionNotDestroyed {
        env: env.to_string(),
        region: region.to_string(),
        units: units.join(", "),
        folder: folder.display().to_string(),
    })
}

fn state_has_resources(state: &Path) -> bool {
    std::fs::read_to_string(state)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|state| state.get("resources").and_then(|r| r.as_array()).map(|r| !r.is_empty()))
        // A state file that cannot be read is not known to be empty.
        .unwrap_or(state.exists())
}

/// A tree's manifest, found from a folder inside the tree and parsed.
struct Opened {
    /// The tree's root: the folder holding the manifest.
    root: PathBuf,
    /// The manifest file.
    path: PathBuf,
    /// The manifest as written, for edits that keep the user's layout.
    text: String,
    manifest: Manifest,
}

fn open(base: &Path) -> Result<Opened> {
    let root = manifest::find(base)?;
    let path = root.join(manifest::FILE_NAME);
    let text = std::fs::read_to_string(&path).at(&path)?;
    let manifest = Manifest::parse(&path, &text)?;
    Ok(Opened {
        root,
        path,
        text,
        manifest,
    })
}

/// The CIDR of a new VPC: the one given with --cidr, checked, or the next free one of the pool.
fn new_vpc_cidr(manifest: &Manifest, given: Option<&str>) -> Result<ipnet::Ipv4Net> {
    let vpcs = manifest.vpcs();
    let Some(text) = given else {
        return cidr::allocate(manifest.pool(), manifest.vpc_prefix_length, &vpcs);
    };
    let net = cidr_arg("--cidr", text)?;
    manifest::check_vpc_size(net).map_err(|reason| Error::BadCidr {
        what: "--cidr",
        cidr: net.to_string(),
        reason,
    })?;
    cidr::check_fits(net, manifest.pool(), &vpcs)?;
    Ok(net)
}

fn write_tree(
    write: &WriteFlags,
    templates: &Templates,
    root: &Path,
    old_manifest: Option<String>,
    new_manifest: &str,
    manifest: &Manifest,
) -> Result<Report> {
    let files = templates.render_tree(manifest)?;
    let mut changes = ChangeSet::between(root, &files)?;
    changes.push_user_file(Path::new(manifest::FILE_NAME), old_manifest, new_manifest.to_string());
    if write.dry_run {
        let changes = changes.changes.iter().map(FileDiff::of).collect();
        return Ok(Report::DryRun(DryRun { changes }));
    }
    if !write.force {
        changes.refuse_hand_edits()?;
    }
    changes.write(root)?;
    Ok(Report::Wrote(Wrote {
        changes: changes.changes.iter().map(ChangedFile::of).collect(),
        notes: Vec::new(),
    }))
}
