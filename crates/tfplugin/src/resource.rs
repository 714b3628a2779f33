//! What a managed resource implements: its schema, plan-time checks, and
//! Create, Read, Update, Delete and Import on decoded values. The server does
//! the generic work around it (decoding, schema validation, defaults,
//! replacement); [`crate::typed`] lets a resource work on a typed model.

use async_trait::async_trait;

use crate::diagnostics::{AttributePath, Diagnostics};
use crate::schema::Schema;
use crate::value::Value;

/// The result of Create or Update: the state to store (even on failure,
/// whatever exists so far, so nothing created is lost) and diagnostics.
pub struct Applied {
    pub state: Option<Value>,
    pub diags: Diagnostics,
}

impl Applied {
    pub fn ok(state: Value) -> Self {
        Self {
            state: Some(state),
            diags: Diagnostics::new(),
        }
    }
}

#[async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks across attributes, on configuration that may hold unknowns.
    /// (Each attribute's own validators have already run.)
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Resource-specific planning after the schema's generic plan: computed
    /// values that can be known now, checks that need the remote API.
    async fn modify_plan(&self, _prior: &Value, _config: &Value, _planned: &mut Value, _diags: &mut Diagnostics) {}

    /// Paths that force replacement because of what refresh found (an object
    /// gone out of band), beyond the schema's `requires_replace` attributes.
    fn forces_replacement(&self, _prior: &Value) -> Vec<AttributePath> {
        Vec::new()
    }

    async fn create(&self, planned: &Value) -> Applied;

    /// The object's current state; `None` when it no longer exists.
    async fn read(&self, state: &Value) -> Result<Option<Value>, Diagnostics>;

    async fn update(&self, prior: &Value, planned: &Value) -> Applied;

    async fn delete(&self, prior: &Value) -> Diagnostics;

    /// State for an existing object named by an import id.
    async fn import(&self, id: &str) -> Result<Value, Diagnostics>;
}
