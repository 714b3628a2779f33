//! Moving an object's tags from what it has to what it should have.

use std::collections::{BTreeMap, HashMap};

/// The tag every EC2 object and IAM role of a cluster carries, valued
/// `REGION/NAME`: what finds them when Terraform was killed before it could
/// save their ids (see the README's Reliability section). It is not part of
/// `tags_all`, so tag updates never touch it.
pub const OWNER_TAG: &str = "eksfleet:owner";
/// Tag naming the one resource instance (its `stack_id`) that made an
/// object: unlike the owner tag, two states with a same-name cluster in one
/// region never share it, so an interrupted create may take back exactly
/// what it made and nothing of theirs.
pub const STACK_TAG: &str = "eksfleet:stack";

/// Keys to remove, and keys to add or change.
#[derive(Debug, Default, PartialEq)]
pub struct TagDiff {
    pub removed: Vec<String>,
    pub changed: BTreeMap<String, String>,
}

/// Only keys in `current` or `wanted` are touched, so tags set by others
/// (a `Name`, Kubernetes tags) stay.
pub fn diff(current: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> TagDiff {
    TagDiff {
        removed: current.keys().filter(|k| !wanted.contains_key(*k)).cloned().collect(),
        changed: wanted
            .iter()
            .filter(|(k, v)| current.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// `tags` as the SDKs that take a `HashMap` want them (SQS, CloudWatch Logs).
pub fn to_hash_map(tags: &BTreeMap<String, String>) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn removes_dropped_keys_and_sets_new_or_changed_values() {
        let d = diff(
            &tags(&[("Team", "a"), ("Old", "x"), ("Same", "s")]),
            &tags(&[("Team", "b"), ("New", "n"), ("Same", "s")]),
        );
        assert_eq!(d.removed, vec!["Old".to_string()]);
        assert_eq!(d.changed, tags(&[("New", "n"), ("Team", "b")]));
        assert_eq!(diff(&tags(&[("A", "1")]), &tags(&[("A", "1")])), TagDiff::default());
    }
}
