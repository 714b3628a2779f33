//! AWS errors with the context users need: which call, in which region, and
//! the service's own error code and message.

use std::fmt;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub operation: &'static str,
    pub region: String,
    /// The service error code (`InvalidVpcID.NotFound`), or a transport
    /// failure class (`DispatchFailure`, `TimeoutError`, …).
    pub code: String,
    pub message: String,
}

impl AwsError {
    pub fn is_not_found(&self) -> bool {
        self.code.ends_with(".NotFound")
            || self.code == "NoSuchEntity"
            || self.code == "ResourceNotFoundException"
            // EC2's code for NAT gateways purged some time after deletion.
            || self.code == "NatGatewayNotFound"
            // SQS (JSON protocol, then query protocol).
            || self.code == "QueueDoesNotExist"
            || self.code == "AWS.SimpleQueueService.NonExistentQueue"
    }

    /// Wraps an SDK error with the operation and region it came from.
    pub fn from_sdk<E, R>(operation: &'static str, region: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let (code, message) = match &err {
            SdkError::ServiceError(service) => (
                service.err().code().unwrap_or("Unknown").to_string(),
                service.err().message().unwrap_or_default().to_string(),
            ),
            SdkError::TimeoutError(_) => ("TimeoutError".into(), "request timed out".into()),
            SdkError::DispatchFailure(failure) => {
                ("DispatchFailure".into(), format!("{:?}", failure.as_connector_error()))
            }
            SdkError::ResponseError(_) => ("ResponseError".into(), "malformed response".into()),
            SdkError::ConstructionFailure(_) => ("ConstructionFailure".into(), format!("{err}")),
            _ => ("Unknown".into(), format!("{err}")),
        };
        Self {
            operation,
            region: region.to_string(),
            code,
            message,
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}: {}", self.operation, self.region, self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// `result.map_err(aws_err("CreateRoute", region))`.
pub fn aws_err<'a, E, R>(operation: &'static str, region: &'a str) -> impl FnOnce(SdkError<E, R>) -> AwsError + 'a
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    move |err| AwsError::from_sdk(operation, region, err)
}

/// Reading a result the way finders and deletes need it.
pub trait AwsResultExt<T> {
    /// `Ok(None)` when the object doesn't exist.
    fn found(self) -> Result<Option<T>, AwsError>;
    /// `Ok(())` when the object is already gone (deletes are idempotent).
    fn gone_ok(self) -> Result<(), AwsError>;
    /// `Ok(())` when the object already exists. Only for objects inside a
    /// cluster this resource owns (node groups, add-ons, access entries),
    /// where an existing one can only come from an earlier attempt of ours.
    fn adopt_existing(self) -> Result<(), AwsError>;
}

impl<T> AwsResultExt<T> for Result<T, AwsError> {
    fn found(self) -> Result<Option<T>, AwsError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn gone_ok(self) -> Result<(), AwsError> {
        self.found().map(|_| ())
    }

    fn adopt_existing(self) -> Result<(), AwsError> {
        match self {
            Err(err) if err.code == "ResourceInUseException" => Ok(()),
            other => other.map(|_| ()),
        }
    }
}
