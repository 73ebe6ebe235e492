//! The JSON Schema of the report, generated from the Rust types so it cannot drift from them. The
//! committed copy is `probes/report.schema.json`; a test regenerates it and fails when they differ.
//! Each registered finding id constrains its `details` to the schema of its details type.

use serde_json::{Value, json};

use super::Report;
use crate::findings::REGISTRY;

/// Where the committed schema lives, relative to the repository root.
pub const PATH: &str = "probes/report.schema.json";

/// The JSON Schema (draft 2020-12) of [`Report`], pretty-printed with a trailing newline.
pub fn json_schema() -> String {
    let mut g = schemars::SchemaGenerator::default();
    let root = g.root_schema_for::<Report>();
    let per_id: Vec<Value> = REGISTRY
        .iter()
        .map(|s| {
            let details = (s.details_schema)(&mut g);
            let id = match s.id.strip_suffix('*') {
                Some(prefix) => {
                    json!({ "type": "string", "pattern": format!("^{}.+", regex_escape(prefix)) })
                }
                None => json!({ "const": s.id }),
            };
            json!({
                "if": { "properties": { "id": id }, "required": ["id"] },
                "then": { "properties": { "details": details } },
            })
        })
        .collect();
    let mut root = serde_json::to_value(root).unwrap_or_default();
    let defs: serde_json::Map<String, Value> = g.take_definitions(true).into_iter().collect();
    if let Some(obj) = root.as_object_mut() {
        obj.insert(
            "$id".into(),
            Value::String(format!(
                "urn:sipcheck:report-schema:v{}",
                crate::findings::SCHEMA_VERSION
            )),
        );
        let all = obj
            .entry("$defs")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(all) = all.as_object_mut() {
            for (k, v) in defs {
                all.entry(k).or_insert(v);
            }
            if let Some(Value::Object(finding)) = all.get_mut("Finding") {
                finding.insert("allOf".into(), Value::Array(per_id));
            }
        }
    }
    let mut s = serde_json::to_string_pretty(&root).expect("schemas always serialise");
    s.push('\n');
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}
