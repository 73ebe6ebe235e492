//! Reading policies: the built-in profiles under `probes/policies/`, or a TOML file; every error names
//! the file, the line and the reason in one line.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{MaxStatus, Policy, known_rules};
use crate::error::{Error, Result};

const BUILTIN: &[(&str, &str)] = &[
    (
        "baseline",
        include_str!("../../../probes/policies/baseline.toml"),
    ),
    (
        "strict",
        include_str!("../../../probes/policies/strict.toml"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rules: BTreeMap<String, toml::Value>,
    #[serde(default)]
    findings: BTreeMap<String, MaxStatus>,
}

/// Whether a policy may name this finding id: a registered id that a probe measures (not a policy or
/// baseline finding, which a policy cannot gate on).
fn known_id(id: &str) -> bool {
    crate::findings::spec(id).is_some_and(|s| s.scanned())
}

fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.contains(&format!("\"{key}\"")) || l.trim_start().starts_with(key))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// The type a policy key takes, in words: from the rule's own check for `[rules]`.
fn expected_type(section: &str, key: &str, value: &str) -> &'static str {
    use serde_json::{Value, json};
    match section {
        "findings" => "a status string (\"pass\", \"info\" or \"warn\")",
        "rules" => {
            let Some(spec) = known_rules().into_iter().find(|r| r.name == key) else {
                return "a value";
            };
            let takes = |v: Value| (spec.validate)(&v).is_ok();
            if takes(Value::String(value.to_string())) {
                "a string"
            } else if takes(json!(true)) {
                "true or false"
            } else if takes(json!(1)) || takes(json!(0)) {
                "a number"
            } else if takes(json!([])) {
                "an array of strings"
            } else {
                "a string"
            }
        }
        _ => "a string",
    }
}

/// Parses a policy; errors name the file, the line and the reason in one line.
pub fn parse(text: &str, source: &str) -> Result<Policy> {
    let bad = |line: usize, reason: String| Error::BadFile {
        path: format!("{source}:{line}"),
        reason,
    };
    let file: PolicyFile = toml::from_str(text).map_err(|e| {
        let (line, reason) = crate::error::toml_reason(text, &e, &expected_type);
        bad(line, reason)
    })?;
    let known = known_rules();
    let mut rules = BTreeMap::new();
    for (name, value) in &file.rules {
        let Some(spec) = known.iter().find(|r| r.name == name) else {
            let names: Vec<&str> = known.iter().map(|r| r.name).collect();
            return Err(bad(
                line_of_key(text, name),
                format!(
                    "unknown field `{name}`, expected one of {}",
                    names.join(", ")
                ),
            ));
        };
        let value = serde_json::to_value(value).unwrap_or_default();
        (spec.validate)(&value)
            .map_err(|why| bad(line_of_key(text, name), crate::error::keyed(name, why)))?;
        rules.insert(name.clone(), value);
    }
    for id in file.findings.keys() {
        if !known_id(id) {
            return Err(bad(
                line_of_key(text, id),
                format!("unknown finding {id:?} (see `sipcheck probe --list-probes`)"),
            ));
        }
    }
    let name = file.name.unwrap_or_else(|| {
        std::path::Path::new(source)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| source.to_string())
    });
    Ok(Policy {
        name,
        source: source.to_string(),
        description: file.description,
        rules,
        findings: file.findings.into_iter().map(|(k, v)| (k, v.0)).collect(),
    })
}

/// The names of the built-in policies.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// A built-in policy by name, or a policy file by path.
pub fn load(name_or_path: &str) -> Result<Policy> {
    if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        let mut p = parse(text, &format!("probes/policies/{name}.toml"))?;
        p.source = "builtin".into();
        return Ok(p);
    }
    let text = std::fs::read_to_string(name_or_path).map_err(|e| Error::BadFile {
        path: name_or_path.to_string(),
        reason: format!(
            "{e} (and no built-in policy has that name: {})",
            builtin_names().join(", ")
        ),
    })?;
    parse(&text, name_or_path)
}
