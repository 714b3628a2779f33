//! Values into HCL source. Tera escapes nothing for `.hcl` files, and a value
//! holding `"` or `${` would break the file or inject an expression, so every
//! value reaches a template through these functions (the `hcl` and
//! `hcl_escape` filters).

use std::fmt::Write;

use serde_json::Value;

/// The inside of a quoted HCL string for `text`: quotes, backslashes and
/// control characters escaped, and `${` / `%{` doubled so they stay literal.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

pub fn string(text: &str) -> String {
    format!("\"{}\"", escape(text))
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(key, "null" | "true" | "false")
}

fn key(text: &str) -> String {
    if is_identifier(text) {
        text.to_string()
    } else {
        string(text)
    }
}

/// `value` as an HCL expression; objects and lists of objects span lines,
/// indented by `indent` spaces past the first line. Object keys are sorted,
/// so output never depends on map order.
pub fn value(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_value(&mut out, value, indent);
    out
}

fn write_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&string(s)),
        Value::Array(items) if items.iter().all(|item| !item.is_object() && !item.is_array()) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item, indent);
            }
            out.push(']');
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&" ".repeat(indent + 2));
                write_value(out, item, indent + 2);
                out.push_str(",\n");
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            let mut entries: Vec<(String, &Value)> = map.iter().map(|(k, v)| (key(k), v)).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            // Aligned `=`, as `terraform fmt` would write it.
            let width = entries.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
            out.push_str("{\n");
            for (k, v) in entries {
                let pad = width - k.chars().count();
                let _ = write!(out, "{}{k}{} = ", " ".repeat(indent + 2), " ".repeat(pad));
                write_value(out, v, indent + 2);
                out.push('\n');
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// What HCL reads back from `attr = <rendered>`.
    fn read_back(rendered: &str) -> hcl::Value {
        let body: hcl::Body = hcl::parse(&format!("attr = {rendered}\n")).expect("rendered HCL parses");
        let attr = body.attributes().next().expect("one attribute");
        hcl::eval::Evaluate::evaluate(attr.expr(), &hcl::eval::Context::new()).expect("evaluates without variables")
    }

    fn to_hcl(value: &Value) -> hcl::Value {
        hcl::to_value(value).expect("json converts")
    }

    #[test]
    fn hcl_breaking_strings_stay_literal() {
        for text in [
            "say \"hi\"",
            "${file(\"/etc/passwd\")}",
            "%{ if true }x%{ endif }",
            "back\\slash",
            "two\nlines",
        ] {
            let rendered = string(text);
            assert_eq!(read_back(&rendered), hcl::Value::from(text), "{rendered}");
        }
        assert_eq!(escape("$${"), "$$${", "only the last dollar-brace pair is doubled");
    }

    #[test]
    fn nested_values_render_sorted_and_aligned() {
        let v = json!({"system": {"instance_types": ["m6i.large"], "min_size": 1}, "gpu-2": {}});
        assert_eq!(
            value(&v, 0),
            "{\n  gpu-2  = {}\n  system = {\n    instance_types = [\"m6i.large\"]\n    min_size       = 1\n  }\n}"
        );
        assert_eq!(read_back(&value(&v, 0)), to_hcl(&v));
        let tags = json!({"kubernetes.io/role": "x", "null": "y"});
        assert_eq!(read_back(&value(&tags, 0)), to_hcl(&tags), "{}", value(&tags, 0));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            any::<String>().prop_map(Value::String),
            "[$%{}\"\\\\a-z\\n]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever a manifest holds, the rendered HCL parses and reads back
        /// as exactly that value: nothing a user types can inject HCL.
        #[test]
        fn any_value_round_trips_through_hcl(v in json_value()) {
            prop_assert_eq!(read_back(&value(&v, 0)), to_hcl(&v));
        }
    }
}
