//! eksgen keeps a per-region Terragrunt tree for an EKS fleet generated from
//! one manifest, `eksgen.toml`.
//!
//! - [`manifest`]: the manifest, its validation, inheritance and CIDR allocation;
//! - [`render`]: the tera templates and the tree they produce;
//! - [`tree`]: the tree on disk against the rendered one (diffs, hand edits, writes);
//! - [`check`]: static checks of a tree, and a reader for the Terragrunt
//!   constructs eksgen emits (also used by the end-to-end tests);
//! - [`cli`], [`args`] and [`commands`]: the command line;
//! - [`report`] and [`output`]: what a command did, and its text or JSON.

pub mod args;
pub mod check;
pub mod cli;
pub mod commands;
pub mod error;
pub mod manifest;
pub mod output;
pub mod render;
pub mod report;
pub mod tree;
