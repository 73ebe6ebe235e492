//! Details of the findings made after the probes ran: `endpoints.parity`, `policy.*`, `baseline.diff`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::findings::{Severity, Status};

/// `endpoints.parity`: one per-endpoint finding id that differs across endpoints of one transport,
/// or (when nothing differs) the list of ids compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ParityDetails {
    /// The id compared (one difference), or every `id (transport)` compared (no difference).
    pub compared: Compared,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// Endpoints with the worst status, when the statuses rank them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weakest: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranked_by_status: Option<bool>,
    /// Same verdict, different facts: the endpoints outside the largest group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub odd_ones_out: Option<Vec<String>>,
    /// Endpoints grouped by identical behaviour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Vec<String>>>,
    /// `status` and the detail keys that differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differing: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<ParityEndpoint>>,
}

/// What `endpoints.parity` compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Compared {
    One(String),
    All(Vec<String>),
}

impl Default for Compared {
    fn default() -> Self {
        Compared::All(Vec::new())
    }
}

/// One endpoint's findings of the compared id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ParityEndpoint {
    pub endpoint: String,
    pub findings: Vec<ParityFinding>,
}

/// A compared finding: its verdict and its details minus volatile measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParityFinding {
    pub status: Status,
    pub severity: Severity,
    #[serde(default)]
    pub summary: String,
    /// The compared finding's own details (any finding's shape).
    #[serde(default)]
    pub details: serde_json::Value,
}

/// `policy.RULE`: one violated policy rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PolicyRuleDetails {
    pub policy: String,
    pub rule: String,
    /// The rule's setting in the policy file.
    pub setting: serde_json::Value,
    /// Where it was violated (endpoints, or `trunk`).
    pub violations: Vec<String>,
    /// The seed questions the rule concerns (none for a `findings.ID` rule).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<u8>,
}

/// The direction of one change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Worse than the baseline (a `diff` exit code 1).
    Worse,
    /// Better than the baseline.
    Better,
    /// In the new report only.
    New,
    /// In the baseline only.
    Gone,
    /// Measured on one side only (skipped on the other): no verdict.
    NotComparable,
}

impl Kind {
    /// The section heading of this kind in a rendered diff.
    pub fn heading(self) -> &'static str {
        match self {
            Kind::Worse => "Worse",
            Kind::Better => "Better",
            Kind::New => "New",
            Kind::Gone => "Gone",
            Kind::NotComparable => "Not comparable",
        }
    }
}

/// One change between a baseline and a new report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// What kind of change.
    pub kind: Kind,
    /// Finding id, or `endpoint` for an endpoint added or gone.
    pub id: String,
    /// The endpoint it concerns, when it concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// What changed, in one line.
    #[serde(default)]
    pub what: String,
}

/// `baseline.diff`: the changes since the baseline report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BaselineDetails {
    /// The baseline report's path.
    pub baseline: String,
    pub changes: Vec<Change>,
}
