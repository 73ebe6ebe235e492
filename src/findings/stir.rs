//! Details of the loop-call findings (`stir.attestation`, `spoof.*`, `spit.*`): what one loop call
//! sent, what the trunk answered, and what reached the listener.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::contract::{Contract, Rule, RuleSpec, a_bool, always, on};

/// One loop call (`stir.attestation`, `spoof.caller_id`, `spoof.asserted_identity`, `spit.anonymous`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct LoopCallDetails {
    /// `owned`, `spoofed_caller_id`, `spoofed_asserted_identity`, `anonymous` or `burst`.
    pub case: String,
    /// The From we sent.
    pub from: String,
    /// The extra headers we sent (`P-Asserted-Identity: …`, `Privacy: id`).
    pub headers: Vec<String>,
    /// The trunk's final answer to our INVITE (its first line).
    pub answer: Option<String>,
    /// Why the call was CANCELled, if it was.
    pub cancelled: Option<String>,
    pub error: Option<String>,
    /// Whether an INVITE for this call reached the listener.
    pub delivered: bool,
    /// The caller number the delivered INVITE named (P-Asserted-Identity, else From).
    pub delivered_caller: Option<String>,
    /// A, B or C: the PASSporT's `attest`, else the carrier's verstat.
    pub attestation: Option<String>,
    /// The first Identity's verdict: `valid`, `chain_not_verified` or `invalid`.
    pub verdict: Option<String>,
    /// Spoofing cases: whether the caller ID we do not own reached the far end as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spoof_went_through: Option<bool>,
    /// The full identity verification of the delivered INVITE (every check, the PASSporT, the
    /// certificate, the carrier's indications).
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub identity: Option<serde_json::Value>,
    pub elapsed_ms: u64,
}

/// `spit.call_rate`: the `--dos` burst.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CallRateDetails {
    pub calls: usize,
    pub delivered: usize,
    pub calls_per_second: f64,
    /// Each call's final answer, in order.
    pub answers: Vec<String>,
}

/// One answer that carried a blocking notice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Notice {
    pub case: String,
    pub answer: String,
    pub notices: Vec<String>,
}

/// `spit.blocking_notice`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BlockingNoticeDetails {
    /// Answers looked at.
    pub answers: usize,
    pub notices: Vec<Notice>,
}

/// `stir.attestation`: the `min_owned_attestation` rule.
pub struct Attestation;

/// A SHAKEN attestation level, `A` (full) to `C` (gateway).
fn a_level(v: &serde_json::Value) -> Result<(), String> {
    match v.as_str() {
        Some("A" | "B" | "C") => Ok(()),
        Some(s) => Err(format!("unknown attestation {s:?} (expected A, B or C)")),
        None => Err(format!("unknown attestation {v} (expected A, B or C)")),
    }
}

impl Contract for Attestation {
    type Details = LoopCallDetails;

    fn policy_rules() -> Vec<Rule<LoopCallDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "min_owned_attestation",
                questions: &[12],
                any: false,
                validate: a_level,
                active: always,
            },
            check: |setting, _, d| {
                let min = setting.as_str().unwrap_or("A");
                let valid = d.verdict.as_deref() == Some("valid");
                Ok(match d.attestation.as_deref() {
                    // "A" < "B" < "C": a letter at or before the minimum is enough.
                    Some(a) if a <= min && valid => Ok(format!(
                        "own number delivered with verified attestation {a}"
                    )),
                    Some(a) if a <= min => Err(format!(
                        "own number delivered with attestation {a}, but its Identity did not fully verify"
                    )),
                    Some(a) => Err(format!("own number delivered with attestation {a}")),
                    None if d.delivered => Err("own number delivered without attestation".into()),
                    None => return Err("the owned-number loop call was not delivered".into()),
                })
            },
        }]
    }
}

/// `spoof.caller_id` and `spoof.asserted_identity`: the `spoofed_calls_refused` rule.
pub struct Spoof;

impl Contract for Spoof {
    type Details = LoopCallDetails;

    fn policy_rules() -> Vec<Rule<LoopCallDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "spoofed_calls_refused",
                questions: &[11],
                any: false,
                validate: a_bool,
                active: on,
            },
            check: |_, f, d| match d.spoof_went_through {
                Some(true) => Ok(Err(format!(
                    "`{}`: a caller ID we do not own went through",
                    f.id
                ))),
                Some(false) => Ok(Ok(format!("`{}`: refused or replaced", f.id))),
                None => Err(format!("`{}`: neither refused nor delivered", f.id)),
            },
        }]
    }
}
