//! Terraform values (cty) as Rust data, and their wire encodings.
//!
//! Terraform sends `DynamicValue`s as msgpack: objects are maps keyed by
//! attribute name with every attribute present (null when unset), and a value
//! not known until apply is msgpack extension type 0 (or 12, an unknown
//! carrying cty "refinements", which we treat as plainly unknown). Decoding is
//! driven by the schema's [`Type`] so that lists and sets, maps and objects
//! stay distinct and numbers arrive as numbers whatever their wire form.
//!
//! Resource code rarely touches [`Value`] trees directly: known values convert
//! to and from `serde` models through JSON ([`Value::to_json`] /
//! [`Value::from_json`]).

use std::collections::BTreeMap;
use std::io::Cursor;

use rmpv::Value as Msgpack;
use serde_json::Value as Json;

use super::types::Type;

/// msgpack extension type cty uses for an unknown value.
const UNKNOWN_EXT: i8 = 0;
/// msgpack extension type cty uses for an unknown value with refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ValueError {
    #[error("malformed msgpack value: {0}")]
    Msgpack(String),
    #[error("at {path}: expected {expected}, found {found}")]
    Mismatch {
        path: String,
        expected: String,
        found: String,
    },
    #[error("at {path}: value is not known yet")]
    Unknown { path: String },
}

/// A Terraform value.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Unknown,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) | (Unknown, Unknown) => true,
            (Bool(a), Bool(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (String(a), String(b)) => a == b,
            (List(a), List(b)) => a == b,
            // Sets compare regardless of order; Terraform does not keep one.
            (Set(a), Set(b)) => {
                a.len() == b.len() && a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
            }
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) | Value::Set(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The attribute `name` of an object; `Null` for a null or non-object value
    /// and `Unknown` inside an unknown object.
    pub fn attr(&self, name: &str) -> &Value {
        match self {
            Value::Object(attrs) => attrs.get(name).unwrap_or(&Value::Null),
            Value::Unknown => &Value::Unknown,
            _ => &Value::Null,
        }
    }

    /// The element `key` of a map; `Null` when absent, `Unknown` in an unknown map.
    pub fn entry(&self, key: &str) -> &Value {
        match self {
            Value::Map(entries) => entries.get(key).unwrap_or(&Value::Null),
            Value::Unknown => &Value::Unknown,
            _ => &Value::Null,
        }
    }

    /// Follows a path of attribute names.
    pub fn at(&self, path: &[&str]) -> &Value {
        path.iter().fold(self, |value, name| value.attr(name))
    }

    /// Mutable access to an attribute of an object value.
    pub fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(attrs) => attrs.get_mut(name),
            _ => None,
        }
    }

    /// Replaces an attribute of an object value (no-op on anything else).
    pub fn set_attr(&mut self, name: &str, value: Value) {
        if let Value::Object(attrs) = self {
            attrs.insert(name.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Elements of a list or set; empty for null.
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(items) | Value::Set(items) => items,
            _ => &[],
        }
    }

    /// This value with every unknown replaced by null: a planned state as
    /// the resource sees it, computed values still to be filled in.
    pub fn unknowns_as_null(&self) -> Value {
        match self {
            Value::Unknown => Value::Null,
            Value::List(items) => Value::List(items.iter().map(Value::unknowns_as_null).collect()),
            Value::Set(items) => Value::Set(items.iter().map(Value::unknowns_as_null).collect()),
            Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), v.unknowns_as_null())).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), v.unknowns_as_null())).collect()),
            other => other.clone(),
        }
    }

    // ----- msgpack -----

    /// Decodes a msgpack `DynamicValue` of type `ty`.
    pub fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        let mut cursor = Cursor::new(bytes);
        let raw = rmpv::decode::read_value(&mut cursor).map_err(|e| ValueError::Msgpack(e.to_string()))?;
        if (cursor.position() as usize) != bytes.len() {
            return Err(ValueError::Msgpack("trailing bytes after value".into()));
        }
        Self::from_rmpv(raw, ty, &mut String::from("$"))
    }

    fn from_rmpv(raw: Msgpack, ty: &Type, path: &mut String) -> Result<Value, ValueError> {
        if let Msgpack::Ext(kind, _) = raw {
            return if kind == UNKNOWN_EXT || kind == REFINED_UNKNOWN_EXT {
                Ok(Value::Unknown)
            } else {
                Err(mismatch(path, "a value", &format!("msgpack extension {kind}")))
            };
        }
        if raw.is_nil() {
            return Ok(Value::Null);
        }
        match (ty, raw) {
            (Type::String, Msgpack::String(s)) => s
                .into_str()
                .map(Value::String)
                .ok_or_else(|| mismatch(path, "string", "invalid UTF-8")),
            (Type::Bool, Msgpack::Boolean(b)) => Ok(Value::Bool(b)),
            (Type::Number, Msgpack::Integer(i)) => i
                .as_f64()
                .map(Value::Number)
                .ok_or_else(|| mismatch(path, "number", "integer out of range")),
            // cty numbers have no NaN.
            (Type::Number, Msgpack::F32(f)) if !f.is_nan() => Ok(Value::Number(f64::from(f))),
            (Type::Number, Msgpack::F64(f)) if !f.is_nan() => Ok(Value::Number(f)),
            // cty sends numbers that don't fit a float64 exactly as decimal strings.
            (Type::Number, Msgpack::String(s)) => s
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|n| !n.is_nan())
                .map(Value::Number)
                .ok_or_else(|| mismatch(path, "number", "a non-numeric string")),
            (Type::List(elem), Msgpack::Array(items)) => Ok(Value::List(Self::decode_elements(items, elem, path)?)),
            (Type::Set(elem), Msgpack::Array(items)) => Ok(Value::Set(Self::decode_elements(items, elem, path)?)),
            (Type::Map(elem), Msgpack::Map(entries)) => {
                let mut out = BTreeMap::new();
                for (key, value) in entries {
                    let key = key_string(key, path)?;
                    let len = path.len();
                    path.push_str(&format!("[{key:?}]"));
                    out.insert(key, Self::from_rmpv(value, elem, path)?);
                    path.truncate(len);
                }
                Ok(Value::Map(out))
            }
            (Type::Object(attrs), Msgpack::Map(entries)) => {
                let mut out = BTreeMap::new();
                for (key, value) in entries {
                    let key = key_string(key, path)?;
                    // Attributes we don't know (a newer schema) are dropped.
                    let Some(attr_ty) = attrs.get(&key) else {
                        continue;
                    };
                    let len = path.len();
                    path.push('.');
                    path.push_str(&key);
                    out.insert(key, Self::from_rmpv(value, attr_ty, path)?);
                    path.truncate(len);
                }
                for name in attrs.keys() {
                    out.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(out))
            }
            (ty, raw) => Err(mismatch(path, &type_name(ty), &format!("{raw}"))),
        }
    }

    fn decode_elements(items: Vec<Msgpack>, elem: &Type, path: &mut String) -> Result<Vec<Value>, ValueError> {
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let value = Self::from_rmpv(item, elem, path);
                path.truncate(len);
                value
            })
            .collect()
    }

    /// Encodes the value as msgpack for a `DynamicValue`.
    pub fn to_msgpack(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        rmpv::encode::write_value(&mut out, &self.to_rmpv()).expect("write to Vec");
        out
    }

    fn to_rmpv(&self) -> Msgpack {
        match self {
            Value::Null => Msgpack::Nil,
            Value::Unknown => Msgpack::Ext(UNKNOWN_EXT, vec![0]),
            Value::Bool(b) => Msgpack::Boolean(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    Msgpack::from(*n as i64)
                } else {
                    Msgpack::F64(*n)
                }
            }
            Value::String(s) => Msgpack::from(s.as_str()),
            Value::List(items) | Value::Set(items) => Msgpack::Array(items.iter().map(Value::to_rmpv).collect()),
            Value::Map(entries) | Value::Object(entries) => Msgpack::Map(
                entries
                    .iter()
                    .map(|(k, v)| (Msgpack::from(k.as_str()), v.to_rmpv()))
                    .collect(),
            ),
        }
    }

    // ----- JSON (state storage and serde models) -----

    /// Builds a value of type `ty` from JSON, as found in Terraform's stored
    /// state or produced by serializing a model. Missing object attributes
    /// become null; attributes the type doesn't have are dropped.
    pub fn from_json(json: &Json, ty: &Type) -> Result<Value, ValueError> {
        Self::from_json_at(json, ty, &mut String::from("$"))
    }

    fn from_json_at(json: &Json, ty: &Type, path: &mut String) -> Result<Value, ValueError> {
        if json.is_null() {
            return Ok(Value::Null);
        }
        match (ty, json) {
            (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
            (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
            (Type::Number, Json::Number(n)) => n
                .as_f64()
                .map(Value::Number)
                .ok_or_else(|| mismatch(path, "number", "an out of range number")),
            (Type::Number, Json::String(s)) => s
                .parse::<f64>()
                .map(Value::Number)
                .map_err(|_| mismatch(path, "number", "a non-numeric string")),
            (Type::List(elem) | Type::Set(elem), Json::Array(items)) => {
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    values.push(Self::from_json_at(item, elem, path)?);
                    path.truncate(len);
                }
                Ok(if matches!(ty, Type::Set(_)) {
                    Value::Set(values)
                } else {
                    Value::List(values)
                })
            }
            (Type::Map(elem), Json::Object(entries)) => {
                let mut out = BTreeMap::new();
                for (key, value) in entries {
                    let len = path.len();
                    path.push_str(&format!("[{key:?}]"));
                    out.insert(key.clone(), Self::from_json_at(value, elem, path)?);
                    path.truncate(len);
                }
                Ok(Value::Map(out))
            }
            (Type::Object(attrs), Json::Object(entries)) => {
                let mut out = BTreeMap::new();
                for (name, attr_ty) in attrs {
                    let len = path.len();
                    path.push('.');
                    path.push_str(name);
                    let value = match entries.get(name) {
                        Some(json) => Self::from_json_at(json, attr_ty, path)?,
                        None => Value::Null,
                    };
                    path.truncate(len);
                    out.insert(name.clone(), value);
                }
                Ok(Value::Object(out))
            }
            (ty, json) => Err(mismatch(path, &type_name(ty), &json.to_string())),
        }
    }

    /// The JSON form of a wholly known value.
    pub fn to_json(&self) -> Result<Json, ValueError> {
        self.to_json_at(&mut String::from("$"))
    }

    fn to_json_at(&self, path: &mut String) -> Result<Json, ValueError> {
        Ok(match self {
            Value::Null => Json::Null,
            Value::Unknown => return Err(ValueError::Unknown { path: path.clone() }),
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    Json::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n).map(Json::Number).unwrap_or(Json::Null)
                }
            }
            Value::String(s) => Json::String(s.clone()),
            Value::List(items) | Value::Set(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    out.push(item.to_json_at(path)?);
                    path.truncate(len);
                }
                Json::Array(out)
            }
            Value::Map(entries) | Value::Object(entries) => {
                let mut out = serde_json::Map::new();
                for (key, value) in entries {
                    let len = path.len();
                    path.push('.');
                    path.push_str(key);
                    out.insert(key.clone(), value.to_json_at(path)?);
                    path.truncate(len);
                }
                Json::Object(out)
            }
        })
    }

    /// Converts a wholly known value into a serde model.
    pub fn to_model<T: serde::de::DeserializeOwned>(&self) -> Result<T, ValueError> {
        let json = self.to_json()?;
        serde_json::from_value(json).map_err(|e| ValueError::Mismatch {
            path: "$".into(),
            expected: std::any::type_name::<T>().rsplit("::").next().unwrap_or("model").into(),
            found: e.to_string(),
        })
    }

    /// Converts a serde model into a value of type `ty`.
    pub fn from_model<T: serde::Serialize>(model: &T, ty: &Type) -> Result<Value, ValueError> {
        let json = serde_json::to_value(model).map_err(|e| ValueError::Msgpack(e.to_string()))?;
        Self::from_json(&json, ty)
    }
}

fn key_string(key: Msgpack, path: &str) -> Result<String, ValueError> {
    match key {
        Msgpack::String(s) => s
            .into_str()
            .ok_or_else(|| mismatch(path, "string key", "invalid UTF-8")),
        other => Err(mismatch(path, "string key", &other.to_string())),
    }
}

fn mismatch(path: &str, expected: &str, found: &str) -> ValueError {
    ValueError::Mismatch {
        path: path.to_string(),
        expected: expected.to_string(),
        found: found.chars().take(80).collect(),
    }
}

fn type_name(ty: &Type) -> String {
    ty.to_json().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_type() -> Type {
        Type::Object(BTreeMap::from([
            ("name".into(), Type::String),
            ("size".into(), Type::Number),
            ("on".into(), Type::Bool),
            ("ids".into(), Type::set(Type::String)),
            ("tags".into(), Type::map(Type::String)),
        ]))
    }

    fn msgpack(value: Msgpack) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &value).unwrap();
        out
    }

    #[test]
    fn unknown_is_extension_zero_both_ways() {
        let bytes = Value::Unknown.to_msgpack();
        assert_eq!(bytes, vec![0xd4, 0x00, 0x00], "fixext1, type 0, payload 0");
        assert_eq!(Value::from_msgpack(&bytes, &Type::String).unwrap(), Value::Unknown);
    }

    #[test]
    fn refined_unknown_decodes_as_unknown() {
        let bytes = msgpack(Msgpack::Ext(12, vec![0x80]));
        assert_eq!(Value::from_msgpack(&bytes, &Type::String).unwrap(), Value::Unknown);
    }

    #[test]
    fn other_extensions_are_rejected() {
        let bytes = msgpack(Msgpack::Ext(3, vec![0]));
        assert!(Value::from_msgpack(&bytes, &Type::String).is_err());
    }

    #[test]
    fn object_round_trips_with_null_and_unknown_attributes() {
        let value = Value::Object(BTreeMap::from([
            ("name".into(), Value::string("hub")),
            ("size".into(), Value::Number(3.0)),
            ("on".into(), Value::Null),
            ("ids".into(), Value::Set(vec![Value::string("a"), Value::Unknown])),
            ("tags".into(), Value::Unknown),
        ]));
        let decoded = Value::from_msgpack(&value.to_msgpack(), &object_type()).unwrap();
        assert_eq!(decoded, value);
        assert!(!decoded.is_wholly_known());
    }

    #[test]
    fn missing_object_attributes_decode_as_null() {
        let bytes = msgpack(Msgpack::Map(vec![(Msgpack::from("name"), Msgpack::from("x"))]));
        let value = Value::from_msgpack(&bytes, &object_type()).unwrap();
        assert_eq!(value.attr("size"), &Value::Null);
        assert_eq!(value.attr("name"), &Value::string("x"));
    }

    #[test]
    fn numbers_arrive_as_ints_floats_or_strings() {
        for raw in [
            Msgpack::from(42),
            Msgpack::F64(42.0),
            Msgpack::F32(42.0),
            Msgpack::from("42"),
        ] {
            assert_eq!(
                Value::from_msgpack(&msgpack(raw), &Type::Number).unwrap(),
                Value::Number(42.0)
            );
        }
        assert_eq!(
            Value::Number(7.0).to_msgpack(),
            msgpack(Msgpack::from(7)),
            "integral numbers go out as ints"
        );
        assert_eq!(Value::Number(0.5).to_msgpack(), msgpack(Msgpack::F64(0.5)));
    }

    #[test]
    fn type_mismatch_names_the_path() {
        let bytes = msgpack(Msgpack::Map(vec![(Msgpack::from("size"), Msgpack::from("big"))]));
        let err = Value::from_msgpack(&bytes, &object_type()).unwrap_err();
        assert!(err.to_string().contains("$.size"), "{err}");
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let mut bytes = Value::string("hello").to_msgpack();
        bytes.pop();
        assert!(Value::from_msgpack(&bytes, &Type::String).is_err());
        assert!(Value::from_msgpack(&[], &Type::String).is_err());
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![Value::string("x"), Value::string("y")]);
        let b = Value::Set(vec![Value::string("y"), Value::string("x")]);
        assert_eq!(a, b);
        assert_ne!(Value::List(a.elements().to_vec()), Value::List(b.elements().to_vec()));
    }

    #[test]
    fn json_state_converts_with_the_schema_type() {
        let json = serde_json::json!({"name": "n", "size": 2, "ids": ["b", "a"], "extra": true});
        let value = Value::from_json(&json, &object_type()).unwrap();
        assert_eq!(
            value.attr("ids"),
            &Value::Set(vec![Value::string("a"), Value::string("b")])
        );
        assert_eq!(value.attr("tags"), &Value::Null);
        assert_eq!(value.attr("extra"), &Value::Null, "unknown attributes are dropped");
        assert_eq!(value.to_json().unwrap()["size"], serde_json::json!(2));
    }

    #[test]
    fn unknown_values_cannot_become_json() {
        let value = Value::Object(BTreeMap::from([("name".into(), Value::Unknown)]));
        assert_eq!(
            value.to_json().unwrap_err(),
            ValueError::Unknown { path: "$.name".into() }
        );
    }

    mod properties {
        //! Whatever bytes arrive, decoding returns a value or an error, never
        //! a panic; and what decodes, re-encodes to the same value.
        use super::*;
        use proptest::prelude::*;

        fn any_type() -> impl Strategy<Value = Type> {
            let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)];
            leaf.prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    inner.clone().prop_map(Type::list),
                    inner.clone().prop_map(Type::set),
                    inner.clone().prop_map(Type::map),
                    proptest::collection::btree_map("[a-c]", inner, 0..4).prop_map(Type::Object),
                ]
            })
        }

        fn any_msgpack() -> impl Strategy<Value = Msgpack> {
            let leaf = prop_oneof![
                Just(Msgpack::Nil),
                any::<bool>().prop_map(Msgpack::Boolean),
                any::<i64>().prop_map(Msgpack::from),
                any::<u64>().prop_map(Msgpack::from),
                any::<f64>().prop_map(Msgpack::F64),
                any::<f32>().prop_map(Msgpack::F32),
                "[a-c0-9.]{0,4}".prop_map(|s| Msgpack::from(s.as_str())),
                (any::<i8>(), proptest::collection::vec(any::<u8>(), 0..4)).prop_map(|(k, d)| Msgpack::Ext(k, d)),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Msgpack::Array),
                    proptest::collection::vec(("[a-c]".prop_map(|k| Msgpack::from(k.as_str())), inner), 0..4)
                        .prop_map(Msgpack::Map),
                ]
            })
        }

        /// 2,000 cases in `make test`; `make test-faults` (and CI) runs a
        /// bounded longer fuzz by setting PROPTEST_CASES.
        fn cases() -> u32 {
            std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(2000)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(cases()))]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256), ty in any_type()) {
                let _ = Value::from_msgpack(&bytes, &ty);
            }

            /// Raw state (upgraded or imported) arrives as JSON bytes.
            #[test]
            fn arbitrary_json_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), text in "[\\[\\]{}\":,0-9a-c.eE+-]{0,64}", ty in any_type()) {
                for input in [bytes.as_slice(), text.as_bytes()] {
                    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(input) {
                        let _ = Value::from_json(&json, &ty);
                    }
                }
            }

            #[test]
            fn decoded_values_round_trip(raw in any_msgpack(), ty in any_type()) {
                let bytes = msgpack(raw);
                if let Ok(value) = Value::from_msgpack(&bytes, &ty) {
                    let again = Value::from_msgpack(&value.to_msgpack(), &ty);
                    prop_assert_eq!(again, Ok(value));
                }
            }
        }
    }
}
