//! Reading policies: the built-in profiles under `probes/policies/`, or a TOML file; every error names
//! the file, the line and the reason in one line.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{MaxStatus, Policy, Rules};
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
    rules: Rules,
    #[serde(default)]
    findings: BTreeMap<String, MaxStatus>,
}

/// Whether a policy may name this finding id: a registered id that a probe measures (not a policy or
/// baseline finding, which a policy cannot gate on).
fn known_id(id: &str) -> bool {
    crate::findings::spec(id).is_some_and(|s| s.scanned())
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.contains(&format!("\"{key}\"")) || l.trim_start().starts_with(key))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// Parses a policy; errors name the file, the line and the reason in one line.
pub fn parse(text: &str, source: &str) -> Result<Policy> {
    let bad = |line: usize, reason: String| Error::BadFile {
        path: format!("{source}:{line}"),
        reason,
    };
    let file: PolicyFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        bad(line, e.message().trim().replace('\n', " "))
    })?;
    for id in file.findings.keys() {
        if !known_id(id) {
            return Err(bad(
                line_of_key(text, id),
                format!("unknown finding {id:?} (see `sipcheck probe --list-probes`)"),
            ));
        }
    }
    if let Some(d) = file.rules.min_cert_days_left
        && !(-36_500..=36_500).contains(&d)
    {
        return Err(bad(
            line_of_key(text, "min_cert_days_left"),
            "min_cert_days_left must be a number of days between -36500 and 36500".into(),
        ));
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
        rules: file.rules,
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
