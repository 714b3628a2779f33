//! The server against an in-memory fake provider: every RPC the way Terraform
//! calls it, with no network and no AWS. The fake keeps "remote" objects in a
//! map, so out-of-band deletion and partial failure can be staged.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_server::Provider as _;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::server::ProviderService;
use tfplugin::typed::{Outcome, TypedResource};
use tfplugin::types::Type;
use tfplugin::value::Value;
use tfplugin::{Provider, Resource};
use tonic::Request;

/// The "remote API": objects by id, and a switch that makes the next create
/// fail after the object exists (as a wait timing out would).
#[derive(Default)]
struct Remote {
    objects: Mutex<HashMap<String, Thing>>,
    fail_after_create: Mutex<bool>,
    fail_delete: Mutex<bool>,
    next_id: AtomicUsize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Thing {
    id: Option<String>,
    name: String,
    size: Option<f64>,
}

struct Things {
    remote: Arc<Remote>,
}

#[async_trait]
impl TypedResource for Things {
    type Model = Thing;
    type Client = Arc<Remote>;

    fn type_name(&self) -> &'static str {
        "fake_thing"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A thing.",
            vec![
                Attribute::string("id", "Id.").computed(),
                Attribute::string("name", "Name; changing it replaces the thing.")
                    .required()
                    .requires_replace(),
                Attribute::number("size", "Size.")
                    .optional()
                    .default(Value::Number(1.0)),
            ],
        )
    }

    fn client(&self) -> Result<Arc<Remote>, Diagnostics> {
        Ok(self.remote.clone())
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config.attr("name").as_str() == Some("") {
            diags.attribute_error(&AttributePath::attr("name"), "Empty name", "name: set a name.");
        }
    }

    async fn create(&self, remote: &Arc<Remote>, planned: Thing) -> Outcome<Thing> {
        let id = format!("thing-{}", remote.next_id.fetch_add(1, Ordering::SeqCst));
        let thing = Thing {
            id: Some(id.clone()),
            ..planned
        };
        remote.objects.lock().unwrap().insert(id, thing.clone());
        if std::mem::take(&mut *remote.fail_after_create.lock().unwrap()) {
            let mut diags = Diagnostics::new();
            diags.error("Timed out", "the thing did not become ready");
            return Outcome::new(Some(thing), Err(diags));
        }
        Outcome::new(Some(thing), Ok(()))
    }

    async fn read(&self, remote: &Arc<Remote>, state: Thing) -> Result<Option<Thing>, Diagnostics> {
        let id = state.id.unwrap_or_default();
        Ok(remote.objects.lock().unwrap().get(&id).cloned())
    }

    async fn update(&self, remote: &Arc<Remote>, _prior: Thing, planned: Thing) -> Outcome<Thing> {
        let id = planned.id.clone().unwrap_or_default();
        remote.objects.lock().unwrap().insert(id, planned.clone());
        Outcome::new(Some(planned), Ok(()))
    }

    async fn delete(&self, remote: &Arc<Remote>, prior: Thing) -> Result<(), Diagnostics> {
        if *remote.fail_delete.lock().unwrap() {
            let mut diags = Diagnostics::new();
            diags.error("Dependency violation", "something still uses the thing");
            return Err(diags);
        }
        remote.objects.lock().unwrap().remove(&prior.id.unwrap_or_default());
        Ok(())
    }

    async fn import(&self, remote: &Arc<Remote>, id: &str) -> Result<Thing, Diagnostics> {
        remote.objects.lock().unwrap().get(id).cloned().ok_or_else(|| {
            let mut diags = Diagnostics::new();
            diags.error("Not found", format!("no thing {id}"));
            diags
        })
    }
}

#[derive(Default)]
struct Hooks {
    before_apply: AtomicUsize,
    after_apply: AtomicUsize,
    before_plan: AtomicUsize,
    stops: AtomicUsize,
    configured_region: Mutex<Option<String>>,
}

struct FakeProvider {
    resources: Vec<Arc<dyn Resource>>,
    hooks: Arc<Hooks>,
}

impl Provider for FakeProvider {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn schema(&self) -> Schema {
        Schema::new("Fake.", vec![Attribute::string("region", "Region.").optional()])
    }

    fn configure(&self, config: &Value) -> Diagnostics {
        *self.hooks.configured_region.lock().unwrap() = config.attr("region").as_str().map(str::to_string);
        Diagnostics::new()
    }

    fn resources(&self) -> &[Arc<dyn Resource>] {
        &self.resources
    }

    fn before_plan(&self) {
        self.hooks.before_plan.fetch_add(1, Ordering::SeqCst);
    }

    fn before_apply(&self) {
        self.hooks.before_apply.fetch_add(1, Ordering::SeqCst);
    }

    fn after_apply(&self) {
        self.hooks.after_apply.fetch_add(1, Ordering::SeqCst);
    }

    fn stop(&self) {
        self.hooks.stops.fetch_add(1, Ordering::SeqCst);
    }
}

struct Fixture {
    service: ProviderService<FakeProvider>,
    remote: Arc<Remote>,
    hooks: Arc<Hooks>,
}

fn fixture() -> Fixture {
    let remote = Arc::new(Remote::default());
    let hooks = Arc::new(Hooks::default());
    let provider = FakeProvider {
        resources: vec![Arc::new(Things { remote: remote.clone() })],
        hooks: hooks.clone(),
    };
    Fixture {
        service: ProviderService::new(Arc::new(provider)),
        remote,
        hooks,
    }
}

fn thing_type() -> Type {
    TypedResource::schema(&Things { remote: Arc::default() }).value_type()
}

fn object(attrs: &[(&str, Value)]) -> Value {
    Value::Object(
        attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn dynamic(value: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: value.to_msgpack(),
        json: Vec::new(),
    })
}

fn decoded(value: Option<pb::DynamicValue>) -> Value {
    let bytes = value.expect("a state").msgpack;
    Value::from_msgpack(&bytes, &thing_type()).expect("state decodes")
}

fn summaries(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| format!("{}: {}", d.summary, d.detail)).collect()
}

impl Fixture {
    async fn plan(&self, prior: &Value, config: &Value) -> pb::plan_resource_change::Response {
        self.service
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "fake_thing".into(),
                prior_state: dynamic(prior),
                // Terraform's proposed state: config with prior computed values.
                proposed_new_state: dynamic(&proposed(prior, config)),
                config: dynamic(config),
                ..Default::default()
            }))
            .await
            .expect("rpc")
            .into_inner()
    }

    async fn apply(&self, prior: &Value, planned: Option<pb::DynamicValue>) -> pb::apply_resource_change::Response {
        self.service
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "fake_thing".into(),
                prior_state: dynamic(prior),
                planned_state: planned,
                ..Default::default()
            }))
            .await
            .expect("rpc")
            .into_inner()
    }

    async fn read(&self, state: &Value) -> pb::read_resource::Response {
        self.service
            .read_resource(Request::new(pb::read_resource::Request {
                type_name: "fake_thing".into(),
                current_state: dynamic(state),
                ..Default::default()
            }))
            .await
            .expect("rpc")
            .into_inner()
    }

    /// Plans and applies a create of `name`, returning the new state.
    async fn create(&self, name: &str) -> Value {
        let config = object(&[
            ("id", Value::Null),
            ("name", Value::string(name)),
            ("size", Value::Null),
        ]);
        let plan = self.plan(&Value::Null, &config).await;
        assert!(plan.diagnostics.is_empty(), "{:?}", summaries(&plan.diagnostics));
        let applied = self.apply(&Value::Null, plan.planned_state).await;
        assert!(applied.diagnostics.is_empty(), "{:?}", summaries(&applied.diagnostics));
        decoded(applied.new_state)
    }
}

fn proposed(prior: &Value, config: &Value) -> Value {
    if prior.is_null() {
        return config.clone();
    }
    let mut proposed = config.clone();
    proposed.set_attr("id", prior.attr("id").clone());
    proposed
}

#[tokio::test]
async fn schema_lists_the_providers_resources() {
    let fx = fixture();
    let schema = fx
        .service
        .get_provider_schema(Request::new(pb::get_provider_schema::Request::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.provider.is_some());
    assert_eq!(schema.resource_schemas.keys().collect::<Vec<_>>(), vec!["fake_thing"]);
    let metadata = fx
        .service
        .get_metadata(Request::new(pb::get_metadata::Request::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metadata.resources[0].type_name, "fake_thing");
}

#[tokio::test]
async fn plan_marks_computed_unknown_and_fills_defaults() {
    let fx = fixture();
    let config = object(&[("id", Value::Null), ("name", Value::string("a")), ("size", Value::Null)]);
    let plan = fx.plan(&Value::Null, &config).await;
    let planned = decoded(plan.planned_state);
    assert!(planned.attr("id").is_unknown());
    assert_eq!(planned.attr("size"), &Value::Number(1.0));
    assert_eq!(fx.hooks.before_plan.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn create_read_and_out_of_band_deletion() {
    let fx = fixture();
    let state = fx.create("a").await;
    assert_eq!(state.attr("id").as_str(), Some("thing-0"));
    assert_eq!(fx.hooks.before_apply.load(Ordering::SeqCst), 1);
    assert_eq!(fx.hooks.after_apply.load(Ordering::SeqCst), 1);

    let read = fx.read(&state).await;
    assert_eq!(decoded(read.new_state), state);

    fx.remote.objects.lock().unwrap().clear();
    let read = fx.read(&state).await;
    assert!(decoded(read.new_state).is_null(), "a vanished object reads as null");
}

#[tokio::test]
async fn changing_a_requires_replace_attribute_plans_a_replacement() {
    let fx = fixture();
    let state = fx.create("a").await;
    let config = object(&[("id", Value::Null), ("name", Value::string("b")), ("size", Value::Null)]);
    let plan = fx.plan(&state, &config).await;
    assert_eq!(plan.requires_replace.len(), 1, "{plan:?}");
    let unchanged = object(&[("id", Value::Null), ("name", Value::string("a")), ("size", Value::Null)]);
    assert!(fx.plan(&state, &unchanged).await.requires_replace.is_empty());
}

#[tokio::test]
async fn a_create_that_fails_part_way_keeps_what_exists() {
    let fx = fixture();
    *fx.remote.fail_after_create.lock().unwrap() = true;
    let config = object(&[("id", Value::Null), ("name", Value::string("a")), ("size", Value::Null)]);
    let plan = fx.plan(&Value::Null, &config).await;
    let applied = fx.apply(&Value::Null, plan.planned_state).await;
    assert_eq!(
        summaries(&applied.diagnostics),
        vec!["Timed out: the thing did not become ready"]
    );
    assert_eq!(decoded(applied.new_state).attr("id").as_str(), Some("thing-0"));
}

#[tokio::test]
async fn a_failed_delete_keeps_the_object_in_state() {
    let fx = fixture();
    let state = fx.create("a").await;
    *fx.remote.fail_delete.lock().unwrap() = true;
    let applied = fx.apply(&state, dynamic(&Value::Null)).await;
    assert_eq!(applied.diagnostics.len(), 1);
    assert_eq!(decoded(applied.new_state), state);

    *fx.remote.fail_delete.lock().unwrap() = false;
    let applied = fx.apply(&state, dynamic(&Value::Null)).await;
    assert!(applied.diagnostics.is_empty());
    assert!(decoded(applied.new_state).is_null());
    assert!(fx.remote.objects.lock().unwrap().is_empty());
}

#[tokio::test]
async fn import_returns_the_model_and_runs_between_the_apply_hooks() {
    let fx = fixture();
    fx.create("a").await;
    let imported = fx
        .service
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "fake_thing".into(),
            id: "thing-0".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let state = decoded(imported.imported_resources[0].state.clone());
    assert_eq!(state.attr("name").as_str(), Some("a"));
    assert_eq!(fx.hooks.after_apply.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn validation_runs_schema_and_resource_checks() {
    let fx = fixture();
    let config = object(&[("id", Value::Null), ("name", Value::string("")), ("size", Value::Null)]);
    let validated = fx
        .service
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "fake_thing".into(),
            config: dynamic(&config),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summaries(&validated.diagnostics), vec!["Empty name: name: set a name."]);
}

#[tokio::test]
async fn unknown_types_name_the_provider() {
    let fx = fixture();
    let read = fx
        .service
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "fake_other".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&read.diagnostics),
        vec!["Unknown resource type: The fake provider has no resource type \"fake_other\"."]
    );
}

#[tokio::test]
async fn malformed_values_are_diagnostics_not_crashes() {
    let fx = fixture();
    let read = fx
        .service
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "fake_thing".into(),
            current_state: Some(pb::DynamicValue {
                msgpack: vec![0x81, 0xa4, b'n'], // a map whose first key is cut short
                json: Vec::new(),
            }),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.diagnostics[0].summary, "Malformed value from Terraform");
}

#[tokio::test]
async fn configure_and_stop_reach_the_provider() {
    let fx = fixture();
    let config = Value::Object(BTreeMap::from([("region".to_string(), Value::string("eu-west-1"))]));
    let configured = fx
        .service
        .configure_provider(Request::new(pb::configure_provider::Request {
            config: dynamic(&config),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(configured.diagnostics.is_empty());
    assert_eq!(fx.hooks.configured_region.lock().unwrap().as_deref(), Some("eu-west-1"));
    fx.service
        .stop_provider(Request::new(pb::stop_provider::Request::default()))
        .await
        .unwrap();
    assert_eq!(fx.hooks.stops.load(Ordering::SeqCst), 1);
}
