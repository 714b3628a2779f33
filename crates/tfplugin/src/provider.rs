//! What a provider implements so the server can serve it: its name, the
//! provider block's schema, ConfigureProvider, its resources, and hooks the
//! server calls around the RPCs that change objects and on StopProvider.

use std::sync::Arc;

use crate::diagnostics::Diagnostics;
use crate::resource::Resource;
use crate::schema::Schema;
use crate::value::Value;

pub trait Provider: Send + Sync + 'static {
    /// The provider's local name (`fleet` in `fleet_…` resource types), used in messages.
    fn name(&self) -> &'static str;

    /// The schema of the `provider "<name>" { … }` block.
    fn schema(&self) -> Schema;

    /// ConfigureProvider, on a configuration already checked against [`Provider::schema`].
    fn configure(&self, config: &Value) -> Diagnostics;

    /// Every resource the provider serves.
    fn resources(&self) -> &[Arc<dyn Resource>];

    /// Called before PlanResourceChange runs the resource's planning.
    fn before_plan(&self) {}

    /// Called after PlanResourceChange, whatever its outcome.
    fn after_plan(&self) {}

    /// Called before ApplyResourceChange and ImportResourceState, the RPCs that
    /// change remote objects (e.g. to drop cached reads that would go stale).
    fn before_apply(&self) {}

    /// Called after ApplyResourceChange and ImportResourceState, whatever their outcome.
    fn after_apply(&self) {}

    /// StopProvider: end in-flight work early (waits return what exists so far).
    fn stop(&self) {}
}
