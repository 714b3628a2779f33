//! Schemas as data: attributes with their type, mode, description, default,
//! validators and the "requires replace" plan modifier; plus the generic
//! validation and planning every resource gets from its schema.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::diagnostics::{AttributePath, Diagnostics};
use super::proto::tfplugin6 as pb;
use super::types::Type;
use super::value::Value;

/// Checks one known, non-null value of an attribute.
pub trait Validator: Send + Sync {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics);
    /// One sentence for the docs, e.g. "must be a VPC id (`vpc-…`)".
    fn describe(&self) -> String;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    /// A map of objects: `node_groups = { name = { … } }`.
    Map,
}

#[derive(Clone)]
pub enum AttributeType {
    Primitive(Type),
    Nested(Nesting, Vec<Attribute>),
}

#[derive(Clone)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: AttributeType,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Value planned when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// A planned change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// A planned change replaces the resource, but for a computed value the
    /// configuration leaves unset and the plan leaves unknown (recomputed in
    /// place, such as a part a repair makes anew).
    pub requires_replace_unless_recomputed: bool,
    pub validators: Vec<Arc<dyn Validator>>,
}

impl Attribute {
    fn new(name: &'static str, ty: AttributeType, description: &str) -> Self {
        Self {
            name,
            ty,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            default: None,
            requires_replace: false,
            requires_replace_unless_recomputed: false,
            validators: Vec::new(),
        }
    }

    pub fn string(name: &'static str, description: &str) -> Self {
        Self::new(name, AttributeType::Primitive(Type::String), description)
    }

    pub fn bool(name: &'static str, description: &str) -> Self {
        Self::new(name, AttributeType::Primitive(Type::Bool), description)
    }

    pub fn number(name: &'static str, description: &str) -> Self {
        Self::new(name, AttributeType::Primitive(Type::Number), description)
    }

    pub fn typed(name: &'static str, ty: Type, description: &str) -> Self {
        Self::new(name, AttributeType::Primitive(ty), description)
    }

    pub fn single_nested(name: &'static str, attributes: Vec<Attribute>, description: &str) -> Self {
        Self::new(name, AttributeType::Nested(Nesting::Single, attributes), description)
    }

    pub fn map_nested(name: &'static str, attributes: Vec<Attribute>, description: &str) -> Self {
        Self::new(name, AttributeType::Nested(Nesting::Map, attributes), description)
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Optional with a default: planned as `value` when not configured.
    pub fn default(mut self, value: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(value);
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Replaces the resource when its value changes, unless the
    /// configuration leaves it unset and the plan leaves it unknown: a
    /// computed value recomputed in place.
    pub fn requires_replace_unless_recomputed(mut self) -> Self {
        self.requires_replace_unless_recomputed = true;
        self
    }

    pub fn validate(mut self, validator: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }

    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttributeType::Primitive(ty) => ty.clone(),
            AttributeType::Nested(Nesting::Single, attrs) => object_type(attrs, &[]),
            AttributeType::Nested(Nesting::Map, attrs) => Type::map(object_type(attrs, &[])),
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested_type) = match &self.ty {
            AttributeType::Primitive(ty) => (ty.to_json_bytes(), None),
            AttributeType::Nested(nesting, attrs) => (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attrs.iter().map(Attribute::to_proto).collect(),
                    nesting: match nesting {
                        Nesting::Single => pb::schema::object::NestingMode::Single as i32,
                        Nesting::Map => pb::schema::object::NestingMode::Map as i32,
                    },
                }),
            ),
        };
        pb::schema::Attribute {
            name: self.name.to_string(),
            r#type: ty,
            nested_type,
            description: self.full_description(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: false,
            ..Default::default()
        }
    }

    /// The description plus what the schema itself says (default, validators,
    /// replacement), so docs and `terraform providers schema` agree.
    pub fn full_description(&self) -> String {
        let mut text = self.description.clone();
        for validator in &self.validators {
            text.push_str(&format!(" Must {}.", validator.describe()));
        }
        if let Some(default) = &self.default
            && let Ok(json) = default.to_json()
        {
            text.push_str(&format!(" Defaults to `{json}`."));
        }
        if self.requires_replace || self.requires_replace_unless_recomputed {
            text.push_str(" Changing it replaces the resource.");
        }
        text
    }
}

/// A nested block (used for `timeouts`, which users write as a block).
#[derive(Clone)]
pub struct NestedBlock {
    pub name: &'static str,
    pub block: Block,
}

#[derive(Clone, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn object_type(&self) -> Type {
        object_type(&self.attributes, &self.blocks)
    }

    fn to_proto(&self) -> pb::schema::Block {
        pb::schema::Block {
            version: 0,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self
                .blocks
                .iter()
                .map(|nested| pb::schema::NestedBlock {
                    type_name: nested.name.to_string(),
                    block: Some(nested.block.to_proto()),
                    nesting: pb::schema::nested_block::NestingMode::Single as i32,
                    min_items: 0,
                    max_items: 0,
                })
                .collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: false,
            deprecation_message: String::new(),
        }
    }
}

fn object_type(attributes: &[Attribute], blocks: &[NestedBlock]) -> Type {
    let mut attrs: BTreeMap<String, Type> = attributes
        .iter()
        .map(|a| (a.name.to_string(), a.value_type()))
        .collect();
    for nested in blocks {
        attrs.insert(nested.name.to_string(), nested.block.object_type());
    }
    Type::Object(attrs)
}

#[derive(Clone)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(description: &str, attributes: Vec<Attribute>) -> Self {
        Self {
            version: 0,
            block: Block {
                description: description.to_string(),
                attributes,
                blocks: Vec::new(),
            },
        }
    }

    pub fn with_block(mut self, name: &'static str, block: Block) -> Self {
        self.block.blocks.push(NestedBlock { name, block });
        self
    }

    pub fn value_type(&self) -> Type {
        self.block.object_type()
    }

    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto()),
        }
    }

    /// Runs every attribute's validators over the known parts of `config`.
    pub fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_block(&self.block, config, &AttributePath::root(), diags);
    }

    /// The generic part of planning: defaults for unset attributes, unknown
    /// computed values on create, and prior computed values kept on update.
    pub fn plan(&self, prior: &Value, proposed: &Value, config: &Value) -> Value {
        let mut planned = proposed.clone();
        plan_attributes(&self.block.attributes, prior, &mut planned, config);
        for nested in &self.block.blocks {
            if let Some(value) = planned.attr_mut(nested.name) {
                plan_attributes(
                    &nested.block.attributes,
                    prior.attr(nested.name),
                    value,
                    config.attr(nested.name),
                );
            }
        }
        planned
    }

    /// Paths of `requires_replace` attributes whose planned value differs
    /// from the prior state (an unknown planned value counts as a change),
    /// and of `requires_replace_unless_recomputed` ones but those `config`
    /// leaves unset and `planned` unknown.
    pub fn replacement_paths(&self, prior: &Value, planned: &Value, config: &Value) -> Vec<AttributePath> {
        let mut paths = Vec::new();
        if !prior.is_null() && !planned.is_null() {
            replacement_paths(
                &self.block.attributes,
                prior,
                planned,
                config,
                &AttributePath::root(),
                &mut paths,
            );
        }
        paths
    }
}

fn validate_block(block: &Block, config: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    validate_attributes(&block.attributes, config, path, diags);
    for nested in &block.blocks {
        validate_block(&nested.block, config.attr(nested.name), &path.then(nested.name), diags);
    }
}

fn validate_attributes(attributes: &[Attribute], config: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    if !matches!(config, Value::Object(_)) {
        return;
    }
    for attribute in attributes {
        let value = config.attr(attribute.name);
        let attr_path = path.then(attribute.name);
        if value.is_null() || value.is_unknown() {
            continue;
        }
        for validator in &attribute.validators {
            validator.validate(value, &attr_path, diags);
        }
        match (&attribute.ty, value) {
            (AttributeType::Nested(Nesting::Single, nested), _) => {
                validate_attributes(nested, value, &attr_path, diags)
            }
            (AttributeType::Nested(Nesting::Map, nested), Value::Map(elements)) => {
                for (key, element) in elements {
                    validate_attributes(nested, element, &attr_path.key(key), diags);
                }
            }
            _ => {}
        }
    }
}

fn plan_attributes(attributes: &[Attribute], prior: &Value, planned: &mut Value, config: &Value) {
    let creating = prior.is_null();
    for attribute in attributes {
        let configured = config.attr(attribute.name);
        let Some(value) = planned.attr_mut(attribute.name) else {
            continue;
        };
        if configured.is_null() {
            if let Some(default) = &attribute.default {
                *value = default.clone();
            } else if attribute.computed && creating {
                *value = Value::Unknown;
            }
            // On update Terraform's proposal already carries the prior value
            // of an unset computed attribute; keeping it avoids noisy plans.
        }
        match (&attribute.ty, value) {
            (AttributeType::Nested(Nesting::Single, nested), value @ Value::Object(_)) => {
                plan_attributes(nested, prior.attr(attribute.name), value, configured);
            }
            (AttributeType::Nested(Nesting::Map, nested), Value::Map(elements)) => {
                for (key, element) in elements.iter_mut() {
                    plan_attributes(
                        nested,
                        prior.attr(attribute.name).entry(key),
                        element,
                        configured.entry(key),
                    );
                }
            }
            _ => {}
        }
    }
}

fn replacement_paths(
    attributes: &[Attribute],
    prior: &Value,
    planned: &Value,
    config: &Value,
    path: &AttributePath,
    paths: &mut Vec<AttributePath>,
) {
    for attribute in attributes {
        let attr_path = path.then(attribute.name);
        let (before, after) = (prior.attr(attribute.name), planned.attr(attribute.name));
        let configured = config.attr(attribute.name);
        // A value set for the first time (null before, known after apply: a
        // resumed create) replaces nothing.
        let first_set = before.is_null() && after.is_unknown();
        let recomputed = configured.is_null() && after.is_unknown();
        let replaces = attribute.requires_replace || (attribute.requires_replace_unless_recomputed && !recomputed);
        if replaces && before != after && !first_set {
            paths.push(attr_path);
        } else if let AttributeType::Nested(Nesting::Single, nested) = &attribute.ty {
            replacement_paths(nested, before, after, configured, &attr_path, paths);
        } else if let (AttributeType::Nested(Nesting::Map, nested), Value::Map(elements)) = (&attribute.ty, after) {
            // Only elements that exist on both sides can be "changed".
            for (key, element) in elements {
                if !before.entry(key).is_null() {
                    replacement_paths(
                        nested,
                        before.entry(key),
                        element,
                        configured.entry(key),
                        &attr_path.key(key),
                        paths,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(
            "test",
            vec![
                Attribute::string("id", "Identifier.").computed(),
                Attribute::string("name", "Name.").required().requires_replace(),
                Attribute::bool("flag", "A flag.").default(Value::Bool(true)),
                Attribute::single_nested(
                    "side",
                    vec![
                        Attribute::string("region", "Region.")
                            .optional()
                            .computed()
                            .requires_replace(),
                    ],
                    "One side.",
                )
                .required(),
            ],
        )
    }

    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn create_plans_defaults_and_unknown_computed_values() {
        let config = obj(&[
            ("id", Value::Null),
            ("name", Value::string("a")),
            ("flag", Value::Null),
            ("side", obj(&[("region", Value::Null)])),
        ]);
        let planned = schema().plan(&Value::Null, &config, &config);
        assert_eq!(planned.attr("id"), &Value::Unknown);
        assert_eq!(planned.attr("flag"), &Value::Bool(true));
        assert_eq!(planned.at(&["side", "region"]), &Value::Unknown);
        assert!(schema().replacement_paths(&Value::Null, &planned, &config).is_empty());
    }

    #[test]
    fn update_keeps_prior_computed_values_and_flags_replacement() {
        let prior = obj(&[
            ("id", Value::string("x-1")),
            ("name", Value::string("a")),
            ("flag", Value::Bool(true)),
            ("side", obj(&[("region", Value::string("us-east-1"))])),
        ]);
        let config = obj(&[
            ("id", Value::Null),
            ("name", Value::string("b")),
            ("flag", Value::Null),
            ("side", obj(&[("region", Value::string("eu-west-1"))])),
        ]);
        let mut proposed = config.clone();
        proposed.set_attr("id", Value::string("x-1"));
        let planned = schema().plan(&prior, &proposed, &config);
        assert_eq!(planned.attr("id"), &Value::string("x-1"));
        let paths: Vec<String> = schema()
            .replacement_paths(&prior, &planned, &config)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(paths, vec!["name", "side.region"]);
    }

    #[test]
    fn replace_unless_recomputed_replaces_any_change_but_a_recomputed_value() {
        let schema = Schema::new(
            "test",
            vec![
                Attribute::string("vpc", "VPC.")
                    .optional()
                    .computed()
                    .requires_replace_unless_recomputed(),
            ],
        );
        let prior = obj(&[("vpc", Value::string("vpc-1"))]);
        let changed = obj(&[("vpc", Value::string("vpc-2"))]);
        let unknown = obj(&[("vpc", Value::Unknown)]);
        let unset = obj(&[("vpc", Value::Null)]);
        assert_eq!(schema.replacement_paths(&prior, &changed, &changed).len(), 1);
        assert_eq!(schema.replacement_paths(&prior, &unknown, &unknown).len(), 1);
        assert!(schema.replacement_paths(&prior, &unknown, &unset).is_empty());
        assert_eq!(
            schema.replacement_paths(&prior, &unset, &unset).len(),
            1,
            "a known change, unset"
        );
        assert!(schema.replacement_paths(&prior, &prior, &prior).is_empty());
    }

    #[test]
    fn object_type_includes_nested_attributes_and_blocks() {
        let schema = schema().with_block(
            "timeouts",
            Block {
                description: "t".into(),
                attributes: vec![Attribute::string("create", "c").optional()],
                blocks: vec![],
            },
        );
        let json = schema.value_type().to_json().to_string();
        assert!(json.contains(r#""side":["object",{"region":"string"}]"#), "{json}");
        assert!(json.contains(r#""timeouts":["object",{"create":"string"}]"#), "{json}");
    }
}
