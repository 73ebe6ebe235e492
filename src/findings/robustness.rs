//! Details of the `robustness.*` findings written as typed data (the catalog run).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::findings::Status;
use crate::target::Transport;

/// How one catalog case came out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The reaction is one the case lists.
    Expected,
    /// Not what the RFC asks for, but the message was refused or ignored: nothing unsafe happened.
    DifferentSafe,
    /// An invalid message was answered with 2xx: the trunk acted on something it should have refused.
    AcceptedInvalid,
    /// A valid message was refused or ignored.
    RejectedValid,
    /// The case could not be sent.
    #[default]
    NotSent,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Expected => "as expected",
            Verdict::DifferentSafe => "handled differently but safely",
            Verdict::AcceptedInvalid => "accepted something invalid",
            Verdict::RejectedValid => "valid message not accepted",
            Verdict::NotSent => "not sent",
        }
    }
}

/// `robustness.malformed`: the catalog run on one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MalformedDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    pub cases_total: usize,
    pub cases_run: usize,
    pub counts: MalformedCounts,
    /// Normal OPTIONS that went unanswered (a retry counts).
    pub liveness_failures: u32,
    /// The circuit breaker tripped: the trunk stopped answering.
    pub liveness_failed: bool,
    /// The case after which the trunk stopped answering.
    pub stopped_after: Option<String>,
    /// Cases sent in the same window after the last answer, not told apart from `stopped_after`
    /// (the trunk never came back for a replay).
    pub suspects: Vec<String>,
    pub cases: Vec<CaseRow>,
    pub skipped: Vec<SkippedCase>,
}

/// Cases per verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MalformedCounts {
    pub expected: usize,
    pub different_safe: usize,
    pub accepted_invalid: usize,
    pub rejected_valid: usize,
    pub not_sent: usize,
}

/// One line of the case table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CaseRow {
    pub id: String,
    pub title: String,
    pub rfc: String,
    pub category: String,
    pub valid: bool,
    pub expected: String,
    pub observed: String,
    pub verdict: Verdict,
    pub status: Status,
    pub liveness: String,
    /// Whether the trunk answered after the case (a later case's answer, or a normal OPTIONS,
    /// possibly on the retry).
    pub alive: bool,
    /// Only for cases from `--catalog`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Default for CaseRow {
    fn default() -> Self {
        CaseRow {
            id: String::new(),
            title: String::new(),
            rfc: String::new(),
            category: String::new(),
            valid: false,
            expected: String::new(),
            observed: String::new(),
            verdict: Verdict::default(),
            status: Status::Info,
            liveness: String::new(),
            alive: false,
            source: None,
        }
    }
}

/// A case not run, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SkippedCase {
    pub id: String,
    pub reason: String,
}
