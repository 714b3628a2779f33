//! The Kubernetes versions the resource accepts. Apart from the schema and
//! its validators, which both read them, so neither imports the other.

pub const SUPPORTED_VERSIONS: &[&str] = &["1.30", "1.31", "1.32", "1.33", "1.34", "1.35"];
pub const DEFAULT_VERSION: &str = "1.34";
