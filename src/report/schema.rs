//! The JSON Schema of the report, generated from the Rust types so it cannot drift from them. The
//! committed copy is `probes/report.schema.json`; a test regenerates it and fails when they differ.

use super::Report;

/// Where the committed schema lives, relative to the repository root.
pub const PATH: &str = "probes/report.schema.json";

/// The JSON Schema (draft 2020-12) of [`Report`], pretty-printed with a trailing newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Report);
    let mut s = serde_json::to_string_pretty(&schema).expect("schemas always serialise");
    s.push('\n');
    s
}
