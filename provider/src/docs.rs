//! Registry documentation (`docs/index.md`, `docs/resources/<name>.md`)
//! rendered from the schemas and the example files under `examples/`, so the
//! docs cannot drift from the code: a unit test compares the checked-in files
//! with a fresh rendering (`make docs` rewrites them).

use std::fmt::Write;

use tfplugin::Provider;
use tfplugin::schema::{Attribute, AttributeType, Block, Nesting, Schema};

/// One rendered page: its path under the repository root and its text.
pub struct Page {
    pub path: String,
    pub text: String,
}

/// Examples are read from the repository, relative to the root.
pub trait ExampleSource {
    fn read(&self, path: &str) -> Option<String>;
}

pub fn render_all(provider: &impl Provider, examples: &dyn ExampleSource) -> Vec<Page> {
    let mut pages = vec![Page {
        path: "docs/index.md".into(),
        text: render_index(provider, examples),
    }];
    for resource in provider.resources() {
        let name = resource.type_name();
        pages.push(Page {
            path: format!("docs/resources/{}.md", name.trim_start_matches("fleet_")),
            text: render_resource(name, &resource.schema(), examples),
        });
    }
    pages
}

fn render_index(provider: &impl Provider, examples: &dyn ExampleSource) -> String {
    let schema = provider.schema();
    let mut out = String::new();
    out.push_str("---\npage_title: \"fleet Provider\"\ndescription: |-\n");
    let _ = writeln!(out, "  {}\n---\n", schema.block.description);
    out.push_str("# fleet Provider\n\n");
    let _ = writeln!(out, "{}\n", schema.block.description);
    example(&mut out, examples, "examples/provider/provider.tf");
    render_schema(&mut out, &schema.block, "");
    out
}

fn render_resource(name: &str, schema: &Schema, examples: &dyn ExampleSource) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "---\npage_title: \"{name} Resource - eksfleet/fleet\"\nsubcategory: \"\"\ndescription: |-"
    );
    let _ = writeln!(out, "  {}\n---\n", schema.block.description);
    let _ = writeln!(out, "# {name} (Resource)\n\n{}\n", schema.block.description);
    example(&mut out, examples, &format!("examples/resources/{name}/resource.tf"));
    render_schema(&mut out, &schema.block, "");
    if let Some(import) = examples.read(&format!("examples/resources/{name}/import.sh")) {
        let _ = write!(
            out,
            "\n## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}```\n",
            import
        );
    }
    out
}

fn example(out: &mut String, examples: &dyn ExampleSource, path: &str) {
    if let Some(text) = examples.read(path) {
        let _ = write!(out, "## Example Usage\n\n```terraform\n{text}```\n\n");
    }
}

fn kind(attribute: &Attribute) -> String {
    use tfplugin::types::Type;
    fn ty(t: &Type) -> String {
        match t {
            Type::String => "String".into(),
            Type::Number => "Number".into(),
            Type::Bool => "Boolean".into(),
            Type::List(e) => format!("List of {}", ty(e)),
            Type::Set(e) => format!("Set of {}", ty(e)),
            Type::Map(e) => format!("Map of {}", ty(e)),
            Type::Object(_) => "Object".into(),
        }
    }
    match &attribute.ty {
        AttributeType::Primitive(t) => ty(t),
        AttributeType::Nested(Nesting::Single, _) => "Attributes".into(),
        AttributeType::Nested(Nesting::Map, _) => "Attributes Map".into(),
    }
}

fn render_schema(out: &mut String, block: &Block, parent: &str) {
    let title = if parent.is_empty() {
        "## Schema".to_string()
    } else {
        format!("### Nested Schema for `{parent}`")
    };
    if !parent.is_empty() {
        let _ = writeln!(out, "<a id=\"{}\"></a>", anchor(parent));
    }
    let _ = writeln!(out, "{title}\n");
    type Belongs = fn(&Attribute) -> bool;
    let groups: [(&str, Belongs); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    let mut nested: Vec<(String, Block)> = Vec::new();
    for (heading, belongs) in groups {
        let attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| belongs(a)).collect();
        let blocks: Vec<_> = if heading == "Optional" {
            block.blocks.iter().collect()
        } else {
            vec![]
        };
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}# {heading}\n", if parent.is_empty() { "##" } else { "###" });
        for attribute in attrs {
            let path = if parent.is_empty() {
                attribute.name.to_string()
            } else {
                format!("{parent}.{}", attribute.name)
            };
            let mut line = format!(
                "- `{}` ({}) {}",
                attribute.name,
                kind(attribute),
                attribute.full_description()
            );
            if attribute.sensitive {
                line.push_str(" Sensitive.");
            }
            if let AttributeType::Nested(_, inner) = &attribute.ty {
                let _ = write!(line, " (see [below for nested schema](#{}))", anchor(&path));
                nested.push((
                    path,
                    Block {
                        description: String::new(),
                        attributes: inner.clone(),
                        blocks: vec![],
                    },
                ));
            }
            let _ = writeln!(out, "{line}");
        }
        for nested_block in blocks {
            let path = if parent.is_empty() {
                nested_block.name.to_string()
            } else {
                format!("{parent}.{}", nested_block.name)
            };
            let _ = writeln!(
                out,
                "- `{}` (Block) {} (see [below for nested schema](#{}))",
                nested_block.name,
                nested_block.block.description,
                anchor(&path)
            );
            nested.push((path, nested_block.block.clone()));
        }
        out.push('\n');
    }
    for (path, block) in nested {
        render_schema(out, &block, &path);
    }
}

fn anchor(path: &str) -> String {
    format!("nested--{}", path.replace('.', "--"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::FleetProvider;
    use std::path::{Path, PathBuf};

    struct RepoExamples(PathBuf);

    impl ExampleSource for RepoExamples {
        fn read(&self, path: &str) -> Option<String> {
            std::fs::read_to_string(self.0.join(path)).ok()
        }
    }

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
    }

    /// `make docs` sets FLEET_WRITE_DOCS=1 to regenerate; otherwise this
    /// fails when a checked-in page differs from the schema's rendering.
    #[test]
    fn checked_in_docs_match_the_schemas() {
        let root = repo_root();
        let pages = render_all(&FleetProvider::default(), &RepoExamples(root.clone()));
        let write = std::env::var("FLEET_WRITE_DOCS").is_ok_and(|v| v == "1");
        let mut stale = Vec::new();
        for page in pages {
            let path = root.join(&page.path);
            if write {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &page.text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(page.text.as_str()) {
                stale.push(page.path);
            }
        }
        assert!(
            stale.is_empty(),
            "docs out of date with the schemas: {stale:?}; run `make docs`"
        );
    }

    #[test]
    fn every_resource_has_an_example_and_every_attribute_a_description() {
        let provider = FleetProvider::default();
        let root = repo_root();
        for resource in provider.resources() {
            let example = root.join(format!("examples/resources/{}/resource.tf", resource.type_name()));
            assert!(example.exists(), "{} has no example", resource.type_name());
            check_descriptions(&resource.schema().block, resource.type_name());
        }
        check_descriptions(&provider.schema().block, "provider");
    }

    fn check_descriptions(block: &Block, owner: &str) {
        assert!(
            !block.description.trim().is_empty(),
            "{owner}: block without description"
        );
        for attribute in &block.attributes {
            assert!(
                !attribute.description.trim().is_empty(),
                "{owner}.{} has no description",
                attribute.name
            );
            if let AttributeType::Nested(_, inner) = &attribute.ty {
                check_descriptions(
                    &Block {
                        description: attribute.description.clone(),
                        attributes: inner.clone(),
                        blocks: vec![],
                    },
                    &format!("{owner}.{}", attribute.name),
                );
            }
        }
        for nested in &block.blocks {
            check_descriptions(&nested.block, &format!("{owner}.{}", nested.name));
        }
    }
}
