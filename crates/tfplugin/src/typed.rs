//! A resource written on a typed model: CRUD and import take and return the
//! model (a serde struct mirroring the schema), and one blanket
//! implementation of [`Resource`] does the decoding and encoding, so no
//! resource converts values by hand.
//!
//! Validation and plan modification stay on [`Value`]s: configuration and
//! plans hold unknowns, which a model cannot.

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::diagnostics::{AttributePath, Diagnostics};
use crate::resource::{Applied, Resource};
use crate::schema::Schema;
use crate::types::Type;
use crate::value::Value;

/// The result of a typed Create or Update: whatever exists (even on failure,
/// so nothing created is lost from state) and diagnostics.
pub struct Outcome<M> {
    pub state: Option<M>,
    pub diags: Diagnostics,
}

impl<M> Outcome<M> {
    /// What exists, plus the error (if any) that stopped the change.
    pub fn new(state: Option<M>, result: Result<(), Diagnostics>) -> Self {
        Self {
            state,
            diags: result.err().unwrap_or_default(),
        }
    }

    /// Nothing exists: the change failed before making anything.
    pub fn failed(diags: Diagnostics) -> Self {
        Self { state: None, diags }
    }
}

#[async_trait]
pub trait TypedResource: Send + Sync {
    /// The resource's state and plan as a serde struct (attribute names as fields).
    type Model: Serialize + DeserializeOwned + Send + Sync;

    /// What CRUD works with, from the configured provider (API clients,
    /// settings): fetched once per call by the blanket implementation.
    type Client: Send + Sync;

    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// The state's type, used to encode models. Resources that keep their
    /// schema's type can return it instead of rebuilding the schema.
    fn value_type(&self) -> Type {
        self.schema().value_type()
    }

    /// The configured client, or the error shown when the provider is not configured.
    fn client(&self) -> Result<Self::Client, Diagnostics>;

    /// Checks across attributes, on configuration that may hold unknowns.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Planning after the schema's generic plan, on values that may hold unknowns.
    async fn modify_plan(&self, _prior: &Value, _config: &Value, _planned: &mut Value, _diags: &mut Diagnostics) {}

    /// Paths that force replacement because of what refresh found.
    fn forces_replacement(&self, _prior: &Self::Model) -> Vec<AttributePath> {
        Vec::new()
    }

    async fn create(&self, client: &Self::Client, planned: Self::Model) -> Outcome<Self::Model>;

    /// The object's current state; `None` when it no longer exists.
    async fn read(&self, client: &Self::Client, state: Self::Model) -> Result<Option<Self::Model>, Diagnostics>;

    async fn update(&self, client: &Self::Client, prior: Self::Model, planned: Self::Model) -> Outcome<Self::Model>;

    async fn delete(&self, client: &Self::Client, prior: Self::Model) -> Result<(), Diagnostics>;

    /// State for an existing object named by an import id.
    async fn import(&self, client: &Self::Client, id: &str) -> Result<Self::Model, Diagnostics>;
}

fn error(summary: &str, detail: impl std::fmt::Display) -> Diagnostics {
    let mut diags = Diagnostics::new();
    diags.error(summary, detail.to_string());
    diags
}

fn decode<M: DeserializeOwned>(value: &Value, what: &str) -> Result<M, Diagnostics> {
    value.to_model().map_err(|e| error(&format!("Invalid {what}"), e))
}

fn encode<R: TypedResource + ?Sized>(resource: &R, model: &R::Model) -> Result<Value, Diagnostics> {
    Value::from_model(model, &resource.value_type()).map_err(|e| error("Internal error encoding state", e))
}

/// An outcome as the untyped [`Applied`]: encoding errors join the diagnostics.
fn applied<R: TypedResource + ?Sized>(resource: &R, outcome: Outcome<R::Model>) -> Applied {
    let mut diags = outcome.diags;
    let state = match outcome.state.map(|m| encode(resource, &m)).transpose() {
        Ok(state) => state,
        Err(d) => {
            diags.extend(d);
            None
        }
    };
    Applied { state, diags }
}

#[async_trait]
impl<R: TypedResource> Resource for R {
    fn type_name(&self) -> &'static str {
        TypedResource::type_name(self)
    }

    fn schema(&self) -> Schema {
        TypedResource::schema(self)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        TypedResource::validate(self, config, diags)
    }

    async fn modify_plan(&self, prior: &Value, config: &Value, planned: &mut Value, diags: &mut Diagnostics) {
        TypedResource::modify_plan(self, prior, config, planned, diags).await
    }

    fn forces_replacement(&self, prior: &Value) -> Vec<AttributePath> {
        // A prior state that doesn't decode is reported by the CRUD call that needs it.
        match decode(prior, "stored state") {
            Ok(prior) => TypedResource::forces_replacement(self, &prior),
            Err(_) => Vec::new(),
        }
    }

    async fn create(&self, planned: &Value) -> Applied {
        let outcome = match (self.client(), decode(planned, "planned state")) {
            (Ok(client), Ok(planned)) => TypedResource::create(self, &client, planned).await,
            (Err(diags), _) | (_, Err(diags)) => Outcome::failed(diags),
        };
        applied(self, outcome)
    }

    async fn read(&self, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = self.client()?;
        let state = decode(state, "stored state")?;
        match TypedResource::read(self, &client, state).await? {
            Some(model) => Ok(Some(encode(self, &model)?)),
            None => Ok(None),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> Applied {
        let decoded = decode(prior, "stored state").and_then(|prior| Ok((prior, decode(planned, "planned state")?)));
        let outcome = match (self.client(), decoded) {
            (Ok(client), Ok((prior, planned))) => TypedResource::update(self, &client, prior, planned).await,
            (Err(diags), _) | (_, Err(diags)) => Outcome::failed(diags),
        };
        applied(self, outcome)
    }

    async fn delete(&self, prior: &Value) -> Diagnostics {
        let result = match (self.client(), decode(prior, "stored state")) {
            (Ok(client), Ok(prior)) => TypedResource::delete(self, &client, prior).await,
            (Err(diags), _) | (_, Err(diags)) => Err(diags),
        };
        result.err().unwrap_or_default()
    }

    async fn import(&self, id: &str) -> Result<Value, Diagnostics> {
        let client = self.client()?;
        let model = TypedResource::import(self, &client, id).await?;
        encode(self, &model)
    }
}
