//! ValidateDataResourceConfig and ReadDataSource: the provider serves no data
//! sources, so both name the type asked for in an error.

use super::{ProviderService, error, pb};
use crate::diagnostics::Diagnostics;
use crate::provider::Provider;

fn unknown_data_source<P: Provider>(service: &ProviderService<P>, type_name: &str) -> Diagnostics {
    error(
        "Unknown data source",
        format!(
            "The {} provider has no data source {type_name:?}.",
            service.provider.name()
        ),
    )
}

pub(super) fn validate<P: Provider>(
    service: &ProviderService<P>,
    request: pb::validate_data_resource_config::Request,
) -> pb::validate_data_resource_config::Response {
    pb::validate_data_resource_config::Response {
        diagnostics: unknown_data_source(service, &request.type_name).to_proto(),
    }
}

pub(super) fn read<P: Provider>(
    service: &ProviderService<P>,
    request: pb::read_data_source::Request,
) -> pb::read_data_source::Response {
    pb::read_data_source::Response {
        diagnostics: unknown_data_source(service, &request.type_name).to_proto(),
        ..Default::default()
    }
}
