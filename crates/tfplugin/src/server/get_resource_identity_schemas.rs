//! GetResourceIdentitySchemas: resources here have no identity schema (Terraform 1.12's
//! resource identity), so the answer is empty and Terraform keeps using import ids.

use super::pb;

pub(super) fn respond(_: pb::get_resource_identity_schemas::Request) -> pb::get_resource_identity_schemas::Response {
    pb::get_resource_identity_schemas::Response::default()
}
