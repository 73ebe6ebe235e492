//! Details of the loop-call findings (`stir.attestation`, `spoof.*`, `spit.*`): what one loop call
//! sent, what the trunk answered, and what reached the listener.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
