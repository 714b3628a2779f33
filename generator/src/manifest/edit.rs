//! Changes to `eksgen.toml` that keep what users wrote: comments, order and
//! layout survive (toml_edit), only the entry a command adds or removes changes.

use std::path::Path;

use ipnet::Ipv4Net;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::error::{Error, Result};

fn parse(path: &Path, text: &str) -> Result<DocumentMut> {
    // The manifest was validated by Manifest::parse before any edit.
    text.parse::<DocumentMut>().map_err(|err| Error::ManifestValue {
        path: path.to_path_buf(),
        key: "(file)".into(),
        message: err.message().to_string(),
    })
}

/// The table at `keys`, created (as a `[header]` table) where missing.
fn table_at<'a>(path: &Path, doc: &'a mut DocumentMut, keys: &[&str]) -> Result<&'a mut Table> {
    let mut table = doc.as_table_mut();
    for (depth, key) in keys.iter().enumerate() {
        let item = table.entry(key).or_insert_with(|| {
            let mut implicit = Table::new();
            implicit.set_implicit(true);
            Item::Table(implicit)
        });
        table = item.as_table_mut().ok_or_else(|| Error::ManifestValue {
            path: path.to_path_buf(),
            key: keys[..=depth].join("."),
            message: "is not a [table]; eksgen edits only [table] sections, write it as one".into(),
        })?;
    }
    Ok(table)
}

pub fn add_region(path: &Path, text: &str, env: &str, region: &str, cidr: Ipv4Net) -> Result<String> {
    let mut doc = parse(path, text)?;
    let regions = table_at(path, &mut doc, &["environments", env, "regions"])?;
    let mut entry = Table::new();
    entry.insert("cidr", value(cidr.to_string()));
    regions.insert(region, Item::Table(entry));
    Ok(doc.to_string())
}

pub fn remove_region(path: &Path, text: &str, env: &str, region: &str) -> Result<String> {
    let mut doc = parse(path, text)?;
    let regions = table_at(path, &mut doc, &["environments", env, "regions"])?;
    regions.remove(region);
    Ok(doc.to_string())
}

pub struct NewEnv<'a> {
    pub name: &'a str,
    pub hub_region: &'a str,
    pub hub_cidr: Ipv4Net,
    pub account_id: Option<&'a str>,
}

pub fn add_env(path: &Path, text: &str, env: &NewEnv<'_>) -> Result<String> {
    let mut doc = parse(path, text)?;
    let table = table_at(path, &mut doc, &["environments", env.name])?;
    table.set_implicit(false);
    if let Some(account) = env.account_id {
        table.insert("account_id", value(account));
    }
    let mut hub = Table::new();
    hub.insert("region", value(env.hub_region));
    hub.insert("cidr", value(env.hub_cidr.to_string()));
    table.insert("hub", Item::Table(hub));
    Ok(doc.to_string())
}

/// What `eksgen ci` sets in `[ci]`; `None` keeps what the manifest says.
pub struct CiSettings<'a> {
    pub system: &'a str,
    pub role_arn: Option<&'a str>,
    pub max_parallel: Option<u32>,
}

/// Sets `[ci]`: the system always, the other keys only when given, so a
/// later `eksgen ci` keeps roles, versions and the mirror written by hand.
pub fn set_ci(path: &Path, text: &str, settings: &CiSettings<'_>) -> Result<String> {
    let mut doc = parse(path, text)?;
    let table = table_at(path, &mut doc, &["ci"])?;
    table.set_implicit(false);
    table.insert("system", value(settings.system));
    if let Some(arn) = settings.role_arn {
        table.insert("role_arn", value(arn));
    }
    if let Some(max_parallel) = settings.max_parallel {
        table.insert("max_parallel", value(i64::from(max_parallel)));
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# fleet\nversion = 1 # keep me\n\n[environments.dev.hub] # the hub\nregion = \"us-east-1\"\n";

    #[test]
    fn adding_and_removing_a_region_keeps_comments() {
        let path = Path::new("eksgen.toml");
        let added = add_region(path, TEXT, "dev", "us-west-2", "10.1.0.0/16".parse().unwrap()).unwrap();
        assert!(added.starts_with(TEXT), "{added}");
        assert!(
            added.contains("[environments.dev.regions.us-west-2]\ncidr = \"10.1.0.0/16\"\n"),
            "{added}"
        );
        assert_eq!(remove_region(path, &added, "dev", "us-west-2").unwrap(), TEXT);
    }

    #[test]
    fn setting_ci_keeps_the_keys_it_is_not_given() {
        let path = Path::new("eksgen.toml");
        let first = CiSettings {
            system: "gitlab",
            role_arn: Some("arn:aws:iam::111111111111:role/ci"),
            max_parallel: Some(8),
        };
        let text = set_ci(path, TEXT, &first).unwrap();
        let text = text.replace("max_parallel = 8", "max_parallel = 8 # by hand");
        let second = CiSettings {
            system: "github",
            role_arn: None,
            max_parallel: None,
        };
        let text = set_ci(path, &text, &second).unwrap();
        assert!(text.contains("# keep me"), "{text}");
        assert!(text.contains("system = \"github\""), "{text}");
        assert!(
            text.contains("role_arn = \"arn:aws:iam::111111111111:role/ci\""),
            "{text}"
        );
        assert!(text.contains("max_parallel = 8 # by hand"), "{text}");
    }
}
