//! Managed resources. Each is a type with a schema and Create, Read, Update,
//! Delete and Import, in the manner of terraform-plugin-framework; the
//! `tfplugin` crate does the generic work (decoding, schema validation,
//! defaults, replacement) around them.

pub mod argocd_cluster;
pub mod eks_regional_cluster;
pub mod timeouts;
pub mod validators;
pub mod vpc_cross_region_peering;
pub mod vpc_peering_accepter;

mod peering_routes;

use std::sync::Arc;

use crate::aws::{Aws, AwsHandle};
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::value::Value;

/// The configured AWS access, or the error Terraform shows if a resource is
/// used before ConfigureProvider (which Terraform never does).
pub(crate) fn configured(handle: &AwsHandle) -> Result<Arc<Aws>, Diagnostics> {
    handle.get().ok_or_else(|| {
        let mut diags = Diagnostics::new();
        diags.error(
            "Provider not configured",
            "ConfigureProvider has not been called for this provider instance.",
        );
        diags
    })
}

/// The provider's region for a `region` attribute the configuration leaves
/// unset, or an error at `path` saying how to set one.
pub(crate) async fn default_region(aws: &Aws, path: &AttributePath, diags: &mut Diagnostics) -> Option<String> {
    let region = aws.default_region().await;
    if region.is_none() {
        diags.attribute_error(
            path,
            "No region",
            format!("{path}: not set here, and the provider has no region. Set {path}, or region in the provider block (or AWS_REGION)."),
        );
    }
    region
}

/// Splits an import id `REGION/ID` into its region and id; a bare `ID` is
/// looked up in the provider's region. `form` shows the id in messages
/// (`REGION/pcx-…`).
pub(crate) async fn import_target(aws: &Aws, id: &str, form: &str) -> Result<(String, String), Diagnostics> {
    let (region, rest) = match id.split_once('/') {
        Some((region, rest)) => (region.to_string(), rest.to_string()),
        None => match aws.default_region().await {
            Some(region) => (region, id.to_string()),
            None => {
                return Err(error(
                    "No region",
                    format!("Import {id:?} as {form}, or set the provider's region."),
                ));
            }
        },
    };
    if !aws_regions::is_known(&region) {
        return Err(error(
            "Unknown region",
            format!("{region:?} in import id {id:?} is not an AWS region: import as {form}."),
        ));
    }
    Ok((region, rest))
}

/// `tags_all` = provider `default_tags` overlaid with `tags`, known when `tags` is.
pub(crate) fn plan_tags_all(aws: &Aws, planned: &mut Value) {
    let tags = planned.attr("tags").clone();
    let tags_all = if !tags.is_wholly_known() {
        Value::Unknown
    } else {
        let mut all = aws.settings().default_tags.clone();
        if let Value::Map(entries) = &tags {
            for (k, v) in entries {
                if let Some(v) = v.as_str() {
                    all.insert(k.clone(), v.to_string());
                }
            }
        }
        Value::Map(all.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    };
    planned.set_attr("tags_all", tags_all);
}

/// Diagnostics holding one error.
pub(crate) fn error(summary: impl Into<String>, detail: impl std::fmt::Display) -> Diagnostics {
    let mut diags = Diagnostics::new();
    diags.error(summary, detail.to_string());
    diags
}
