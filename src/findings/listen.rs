//! Details of the listener's findings (`listen.call`, `listen.summary`): what arrived, from where, what
//! we answered, and the identity verdict of each inbound INVITE.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::target::Transport;

/// `listen.call`: one inbound INVITE.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ListenCallDetails {
    /// Its place among the requests the listener received (from 0).
    pub seq: usize,
    /// Where it came from (`ADDR:PORT`).
    pub remote: String,
    pub transport: Option<Transport>,
    /// The status codes we answered it with, in order.
    pub answered: Vec<u16>,
    /// The full identity verification (every check, the PASSporT, the certificate, the carrier's
    /// indications), as `sipcheck verify-identity --format json` writes it.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub identity: Option<serde_json::Value>,
    /// Who signed the call (the originating Identity's certificate), judged against
    /// `--expect-spc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<super::stir::SignerDetails>,
    /// The Rich Call Data it carried and whether the displayed name is the signed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcd: Option<super::stir::RcdDetails>,
}

/// `listen.summary`: what reached the listener over the whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ListenSummaryDetails {
    /// The address listened on (`transport:ADDR:PORT`).
    pub listen: String,
    pub stats: ListenStats,
    /// INVITEs received (each has its own `listen.call`).
    pub invites: usize,
}

/// Counts over a listener's run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ListenStats {
    pub requests: usize,
    pub retransmissions: usize,
    pub unparseable: usize,
    /// Requests past the request limit, dropped unanswered.
    pub dropped: usize,
    pub connections: usize,
    /// Connections closed on accept because the connection limit was reached.
    pub connections_refused: usize,
    /// Connections closed for a stream that cannot be framed, a failed handshake, or idleness.
    pub connections_closed_bad: usize,
}

/// `listen.call`: questions 12 (who signed the inbound call) and 11 (a displayed name it did not
/// sign) from the first inbound call that shows it.
pub struct ListenCall;

impl super::contract::Contract for ListenCall {
    type Details = ListenCallDetails;

    fn answer(
        question: u8,
        _r: &super::Report,
        measured: &[super::contract::Read<ListenCallDetails>],
    ) -> Option<String> {
        let calls = measured.iter().map(|m| &m.details);
        match question {
            12 => calls
                .filter_map(|d| d.signer.as_ref())
                .next()
                .map(super::stir::SignerDetails::answer),
            11 => calls.filter_map(|d| d.rcd.as_ref()?.answer_part()).next(),
            _ => None,
        }
    }
}

