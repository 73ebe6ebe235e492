//! Details of the `dos.*` findings (the opt-in flood probes).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Report;
use super::contract::{Contract, Read};

/// `dos.options_flood` and `dos.register_storm`: the ramp, where it was limited, and what ran before.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FloodDetails {
    /// `OPTIONS` or `REGISTER`.
    pub method: String,
    pub requests: u32,
    /// Requests per second of the first step in which the trunk limited us.
    pub limited_at_rate: Option<u32>,
    /// `silently dropped` or `refused with 503/429`.
    pub defence: Option<String>,
    pub recovered_after_ms: Option<u64>,
    pub accepted_without_credentials: u32,
    pub steps: Vec<FloodStep>,
    /// Flood probes that ran earlier in the same run, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ran_after: Vec<String>,
    /// The wait for the trunk to answer a normal OPTIONS again before this flood began (only after
    /// an earlier flood).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settle: Option<Settle>,
}

/// One step of the ramp.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FloodStep {
    pub rate: u32,
    pub sent: u32,
    pub answered: u32,
    /// 503 / 429 answers: explicit overload or rate-limit signals.
    pub refused: u32,
    /// No answer at all (silent drop is the commonest defence).
    pub silent: u32,
    pub codes: BTreeMap<u16, u32>,
}

/// Waiting for the trunk to answer normally again after an earlier flood.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Settle {
    /// When a normal OPTIONS was answered again (not 503/429); `None`: not within the wait.
    pub answered_again_after_ms: Option<u64>,
    /// The longest the probe was prepared to wait.
    pub waited_up_to_ms: u64,
}

/// `dos.options_flood` (question 8) and `dos.register_storm` (question 6): each row reads its own
/// findings with its own handle, so one contract serves both.
pub struct Flood;

impl Contract for Flood {
    type Details = FloodDetails;

    /// Where the flood ramp was limited and how.
    fn answer(_q: u8, r: &Report, measured: &[Read<FloodDetails>]) -> Option<String> {
        let x = measured.iter().max_by_key(|x| x.finding.status.badness())?;
        let d = &x.details;
        let top = d.steps.last().map(|s| s.rate).unwrap_or(0);
        let mut s = match (d.limited_at_rate, &d.defence) {
            (Some(rate), defence) => format!(
                "Limited at {rate} {}/s ({}) after {} requests",
                d.method,
                defence.as_deref().unwrap_or("limited"),
                d.requests
            ),
            (None, _) => format!(
                "Not limited: {} {} requests up to {top}/s",
                d.requests, d.method
            ),
        };
        if let Some(ms) = d.recovered_after_ms {
            s.push_str(&format!("; answering again after {ms} ms"));
        }
        if d.accepted_without_credentials > 0 {
            s.push_str(&format!(
                "; {} accepted without credentials",
                d.accepted_without_credentials
            ));
        }
        s.push_str(&r.scope_suffix(&[x.finding]));
        s.push('.');
        Some(s)
    }
}
