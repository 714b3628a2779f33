//! cty types, as Terraform names them in schemas (`"string"`, `["list","string"]`, …).

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

/// A Terraform (cty) type. Only the types this provider's schemas use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// The JSON encoding of the type used in `Schema.Attribute.type`.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::List(e) => json!(["list", e.to_json()]),
            Type::Set(e) => json!(["set", e.to_json()]),
            Type::Map(e) => json!(["map", e.to_json()]),
            Type::Object(attrs) => {
                let attrs: serde_json::Map<String, Json> =
                    attrs.iter().map(|(name, ty)| (name.clone(), ty.to_json())).collect();
                json!(["object", attrs])
            }
        }
    }

    /// Bytes for the protobuf `type` field.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_types_encode_as_bare_strings() {
        assert_eq!(Type::String.to_json_bytes(), br#""string""#);
        assert_eq!(Type::Number.to_json_bytes(), br#""number""#);
        assert_eq!(Type::Bool.to_json_bytes(), br#""bool""#);
    }

    #[test]
    fn collection_types_encode_as_kind_and_element() {
        assert_eq!(Type::set(Type::String).to_json_bytes(), br#"["set","string"]"#);
        assert_eq!(
            Type::map(Type::list(Type::Number)).to_json_bytes(),
            br#"["map",["list","number"]]"#
        );
    }

    #[test]
    fn object_types_encode_attributes_sorted_by_name() {
        let ty = Type::Object(BTreeMap::from([
            ("zone".to_string(), Type::String),
            ("count".to_string(), Type::Number),
        ]));
        assert_eq!(ty.to_json_bytes(), br#"["object",{"count":"number","zone":"string"}]"#);
    }
}
