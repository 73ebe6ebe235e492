//! Details of the `robustness.*` findings written as typed data (the catalog run).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::findings::contract::{Cell, Contract, Read, Rule, RuleSpec, Span, Table, a_bool, on};
use crate::findings::{Finding, Report, Status, ids};
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

/// `robustness.malformed`: question 9 from the catalog's tally, the liveness rule, the case table.
pub struct Malformed;

impl Contract for Malformed {
    type Details = MalformedDetails;

    /// Question 9: the catalog's tally, where the trunk stopped answering, and the unknown
    /// header/Require verdicts beside it.
    fn answer(q: u8, r: &Report, measured: &[Read<MalformedDetails>]) -> Option<String> {
        if q != 9 {
            return None;
        }
        let x = measured
            .iter()
            .filter(|x| x.details.cases_run > 0)
            .max_by_key(|x| x.finding.status.badness())?;
        let (f, d) = (x.finding, &x.details);
        let c = &d.counts;
        let mut s = format!(
            "{} of {} malformed cases handled as RFC 4475 expects",
            c.expected, d.cases_run
        );
        let mut odd = Vec::new();
        if c.accepted_invalid > 0 {
            odd.push(format!("{} invalid accepted", c.accepted_invalid));
        }
        if c.rejected_valid > 0 {
            odd.push(format!("{} valid rejected", c.rejected_valid));
        }
        if c.different_safe > 0 {
            odd.push(format!("{} answered otherwise, safely", c.different_safe));
        }
        if !odd.is_empty() {
            s.push_str(&format!(" ({})", odd.join(", ")));
        }
        if let Some(case) = &d.stopped_after {
            s.push_str(&format!("; stopped answering after `{case}`"));
        }
        s.push_str(&r.scope_suffix(&[f]));
        let verdicts: Vec<String> = [
            (ids::ROBUSTNESS_UNKNOWN_HEADER.id, "unknown header"),
            (ids::ROBUSTNESS_UNKNOWN_REQUIRE.id, "unknown Require"),
        ]
        .iter()
        .filter_map(|(id, words)| {
            r.findings
                .iter()
                .filter(|f| f.id == *id && f.status.is_measured())
                .map(|f| f.status)
                .max_by_key(|s| s.badness())
                .map(|st| format!("{words} {}", st.as_str()))
        })
        .collect();
        if !verdicts.is_empty() {
            s.push_str(&format!("; {}", verdicts.join(", ")));
        }
        s.push('.');
        Some(s)
    }

    fn policy_rules() -> Vec<Rule<MalformedDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "malformed_liveness_required",
                questions: &[9],
                any: false,
                validate: a_bool,
                active: on,
            },
            check: |_, _, d| {
                // Reports from before the flag was written say it only per case.
                let failed = d.liveness_failed || d.cases.iter().any(|c| !c.alive);
                Ok(if failed {
                    Err("stopped answering OPTIONS after a malformed message".into())
                } else {
                    Ok("answered OPTIONS after every malformed message".into())
                })
            },
        }]
    }

    /// The case table: expected and observed per case, with liveness after each.
    fn tables(_r: &Report, _f: &Finding, d: &MalformedDetails) -> Vec<Table> {
        if d.cases.is_empty() {
            return Vec::new();
        }
        let mut t = Table {
            title: "Malformed cases".into(),
            head: [
                "Case",
                "RFC",
                "Expected",
                "Observed",
                "Verdict",
                "Status",
                "Liveness after",
            ]
            .map(String::from)
            .to_vec(),
            complete: true,
            ..Table::default()
        };
        for c in &d.cases {
            let case = Cell {
                spans: vec![
                    Span {
                        text: code_id(&c.id),
                        code: true,
                        ..Span::default()
                    },
                    Span {
                        text: c.title.clone(),
                        ..Span::default()
                    },
                ],
                class: None,
            };
            let verdict = Cell {
                spans: vec![Span {
                    text: c.verdict.as_str().to_string(),
                    strong: c.verdict == Verdict::AcceptedInvalid,
                    ..Span::default()
                }],
                class: None,
            };
            t.rows.push(vec![
                case,
                Cell::text(&c.rfc),
                Cell::text(&c.expected),
                Cell::text(&c.observed),
                verdict,
                Cell::text(c.status.as_str()),
                Cell::text(&c.liveness),
            ]);
        }
        if !d.skipped.is_empty() {
            let list: Vec<String> = d
                .skipped
                .iter()
                .map(|x| format!("{} ({})", code_id(&x.id), x.reason))
                .collect();
            t.note = Some(format!("Not run: {}.", list.join(", ")));
        }
        vec![t]
    }
}

/// A catalog case id; ids are sipcheck's own, anything else in them is dropped.
fn code_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect()
}
