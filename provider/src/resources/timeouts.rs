//! The `timeouts { create, update, delete }` block, written as a block like
//! every AWS resource's.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::validators::GoDuration;
use tfplugin::schema::{Attribute, Block};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeouts {
    pub create: Option<String>,
    pub update: Option<String>,
    pub delete: Option<String>,
}

/// Defaults per operation.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutDefaults {
    pub create: Duration,
    pub update: Duration,
    pub delete: Duration,
}

pub fn block(defaults: TimeoutDefaults) -> Block {
    let attr = |name: &'static str, default: Duration| {
        Attribute::string(
            name,
            &format!("How long to wait for {name} (default `{}`).", human(default)),
        )
        .optional()
        .validate(GoDuration)
    };
    Block {
        description: "Time limits for each operation, as durations such as `30s`, `10m` or `1h`.".into(),
        attributes: vec![
            attr("create", defaults.create),
            attr("update", defaults.update),
            attr("delete", defaults.delete),
        ],
        blocks: vec![],
    }
}

impl Timeouts {
    fn pick(value: &Option<String>, default: Duration) -> Duration {
        value.as_deref().and_then(GoDuration::parse).unwrap_or(default)
    }

    pub fn create(timeouts: &Option<Self>, defaults: TimeoutDefaults) -> Duration {
        Self::pick(&timeouts.as_ref().and_then(|t| t.create.clone()), defaults.create)
    }

    pub fn update(timeouts: &Option<Self>, defaults: TimeoutDefaults) -> Duration {
        Self::pick(&timeouts.as_ref().and_then(|t| t.update.clone()), defaults.update)
    }

    pub fn delete(timeouts: &Option<Self>, defaults: TimeoutDefaults) -> Duration {
        Self::pick(&timeouts.as_ref().and_then(|t| t.delete.clone()), defaults.delete)
    }
}

pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}
