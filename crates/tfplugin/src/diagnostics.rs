//! Diagnostics (errors and warnings) with the attribute path Terraform uses to
//! point at the offending line of configuration.

use std::fmt;

use super::proto::tfplugin6 as pb;

/// A path into a value: attribute names, map keys and list indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributePath(Vec<Step>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Attribute(String),
    Key(String),
    Index(i64),
}

impl AttributePath {
    pub fn root() -> Self {
        Self::default()
    }

    pub fn attr(name: &str) -> Self {
        Self::root().then(name)
    }

    /// This path extended by an attribute name.
    pub fn then(&self, name: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Attribute(name.to_string()));
        Self(steps)
    }

    pub fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_string()));
        Self(steps)
    }

    pub fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index as i64));
        Self(steps)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_proto(&self) -> pb::AttributePath {
        use pb::attribute_path::step::Selector;
        pb::AttributePath {
            steps: self
                .0
                .iter()
                .map(|step| pb::attribute_path::Step {
                    selector: Some(match step {
                        Step::Attribute(name) => Selector::AttributeName(name.clone()),
                        Step::Key(key) => Selector::ElementKeyString(key.clone()),
                        Step::Index(i) => Selector::ElementKeyInt(*i),
                    }),
                })
                .collect(),
        }
    }
}

/// Renders like Terraform does in messages: `accepter.route_table_ids[0]`.
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Attribute(name) if i == 0 => write!(f, "{name}")?,
                Step::Attribute(name) => write!(f, ".{name}")?,
                Step::Key(key) => write!(f, "[{key:?}]")?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttributePath>,
}

/// The diagnostics a call produces.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    /// An error pointing at an attribute of the configuration.
    pub fn attribute_error(&mut self, path: &AttributePath, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: (!path.is_root()).then(|| path.clone()),
        });
    }

    /// An error about the resource as a whole.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        });
    }

    /// A warning pointing at an attribute of the configuration.
    pub fn attribute_warning(&mut self, path: &AttributePath, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: (!path.is_root()).then(|| path.clone()),
        });
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        });
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn to_proto(&self) -> Vec<pb::Diagnostic> {
        self.0
            .iter()
            .map(|d| pb::Diagnostic {
                severity: match d.severity {
                    Severity::Error => pb::diagnostic::Severity::Error as i32,
                    Severity::Warning => pb::diagnostic::Severity::Warning as i32,
                },
                summary: d.summary.clone(),
                detail: d.detail.clone(),
                attribute: d.path.as_ref().map(AttributePath::to_proto),
            })
            .collect()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_terraform_addresses() {
        let path = AttributePath::attr("accepter").then("route_table_ids").index(2);
        assert_eq!(path.to_string(), "accepter.route_table_ids[2]");
        assert_eq!(AttributePath::attr("tags").key("team").to_string(), "tags[\"team\"]");
    }

    #[test]
    fn errors_on_the_root_carry_no_path() {
        let mut diags = Diagnostics::new();
        diags.attribute_error(&AttributePath::root(), "whole", "");
        assert_eq!(diags.to_proto()[0].attribute, None);
        assert!(diags.has_errors());
    }
}
