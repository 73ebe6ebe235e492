//! A policy's outcome as the report carries it: written by the policy analysis, read by every
//! renderer, so it lives with the report model.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How one rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// The rule holds.
    Pass,
    /// The rule is violated (a `policy.*` finding and exit code 1).
    Fail,
    /// What the rule reads was not measured; never a pass.
    NotMeasured,
}

impl RuleStatus {
    /// The outcome as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "pass",
            RuleStatus::Fail => "fail",
            RuleStatus::NotMeasured => "not measured",
        }
    }
}

/// One rule's outcome, as written into the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleOutcome {
    /// The rule name (`min_tls_version`, or `findings.ID` for a finding's worst allowed status).
    pub rule: String,
    /// The rule's setting in the policy.
    pub setting: Value,
    /// Whether the rule holds.
    pub outcome: RuleStatus,
    /// One sentence: what was found, or why it was not measured.
    pub summary: String,
    /// Endpoints (or `trunk`) that violate the rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<String>,
}

/// The policy a report was checked against and every rule's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyOutcome {
    /// The policy's name.
    pub name: String,
    /// `builtin` or the file path.
    pub source: String,
    #[serde(default)]
    /// One sentence: what the policy asks.
    pub description: String,
    /// Every rule's outcome, in policy order.
    pub rules: Vec<RuleOutcome>,
}

impl PolicyOutcome {
    /// How many rules are violated.
    pub fn violated(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.outcome == RuleStatus::Fail)
            .count()
    }
}
