//! Policy profiles: rules over findings and their details, checked after a scan (`--policy`).
//!
//! Modelled on sslyze's `--mozilla_config`: a profile names what a trunk must (not) do; each rule is
//! judged from the findings of the run. A violated rule adds a `fail` finding `policy.RULE`; a rule
//! whose finding was not measured is "not measured", never passed. Each rule is declared and judged by
//! the contract of the finding(s) it reads ([`crate::findings::Contract::policy_rules`]), so this module
//! names none of them.

mod judge;
mod load;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::findings::{REGISTRY, RuleSpec, Spec, Status};

pub use crate::findings::{PolicyOutcome, RuleOutcome, RuleStatus};
pub use judge::{apply, finding_id};
pub use load::{builtin_names, load, parse};

/// The worst status a named finding may have: `pass`, `info` or `warn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct MaxStatus(pub Status);

impl TryFrom<String> for MaxStatus {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<MaxStatus, String> {
        match s.as_str() {
            "pass" => Ok(MaxStatus(Status::Pass)),
            "info" => Ok(MaxStatus(Status::Info)),
            "warn" => Ok(MaxStatus(Status::Warn)),
            _ => Err(format!(
                "{s:?} is not a worst allowed status (expected pass, info or warn)"
            )),
        }
    }
}

impl From<MaxStatus> for String {
    fn from(m: MaxStatus) -> String {
        m.0.as_str().to_string()
    }
}

/// Every rule a policy may set, in registry order: each declared by the contracts of the findings
/// that decide it (`min_cert_days_left` by `sips.options` and `tls.certificate`), once.
pub fn known_rules() -> Vec<RuleSpec> {
    let mut out: Vec<RuleSpec> = Vec::new();
    for s in REGISTRY {
        for r in (s.contract.rules)() {
            if !out.iter().any(|o| o.name == r.name) {
                out.push(r);
            }
        }
    }
    out
}

/// The registered findings whose contracts judge the rule `name`.
pub fn deciding(name: &str) -> Vec<&'static Spec> {
    REGISTRY
        .iter()
        .filter(|s| (s.contract.rules)().iter().any(|r| r.name == name))
        .collect()
}

/// A loaded policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The policy's name (`baseline`, `strict`, or the file's `name`).
    pub name: String,
    /// `builtin` or the file path.
    pub source: String,
    /// One sentence: what the policy asks.
    pub description: String,
    /// Rule name → its setting, as the policy file gives it (validated by the rule's contract).
    pub rules: BTreeMap<String, serde_json::Value>,
    /// Finding id → worst allowed status.
    pub findings: BTreeMap<String, Status>,
}
