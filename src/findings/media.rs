//! Details of the `media.*` findings of the media probe (SDES, DTLS-SRTP, plain RTP, SDES over
//! plaintext signalling, SRTP flow): the call each was judged on, and what its media showed. The call
//! and media code fill these; the report reads them.
//!
//! Every call finding has the same [`MediaCall`] fields at the top of its `details` (flattened); the
//! finding's own fields sit beside them. A finding that could not be judged (no call, challenged, no
//! answer) has empty details.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Finding;
use super::call::{Offer, TeardownDetails};
use super::contract::{Check, Contract, Rule, RuleSpec, a_bool, flip, on};
use super::run::Kind;
use crate::target::Transport;

/// The `a=fingerprint` of an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Fingerprint {
    /// The hash function, lower case (`sha-256`).
    pub hash: String,
    pub fingerprint: String,
}

/// What a short media exchange on an answered call showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FlowReport {
    /// `Plain`, `ListenOnly` or `Srtp(SUITE)`.
    pub protection: String,
    pub rtcp_mux: bool,
    pub rtp_sent: u32,
    pub rtcp_sent: u32,
    pub rtp_received: u32,
    pub rtp_authenticated: u32,
    pub rtp_rejected: u32,
    pub rtcp_received: u32,
    pub rtcp_authenticated: u32,
    pub rtcp_rejected: u32,
    /// RTCP that arrived on the RTP port (the far end muxes).
    pub rtcp_on_rtp_port: u32,
    pub dtls_received: u32,
    pub other_received: u32,
    /// The far end's (authenticated) RTCP has a report block about our SSRC.
    pub peer_reports_our_stream: bool,
    pub rtp_source: Option<String>,
    pub duration_ms: u64,
    /// The first few reasons packets were rejected or could not be sent.
    pub errors: Vec<String>,
}

impl FlowReport {
    /// SRTP authenticated from the far end, and the far end reports on ours.
    pub fn srtp_both_ways(&self) -> bool {
        self.rtp_authenticated > 0 && self.peer_reports_our_stream
    }
}

/// Which side of a DTLS handshake we played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Client,
    Server,
}

/// What one DTLS handshake showed (keys are kept out of the report).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DtlsReport {
    pub role: Option<Role>,
    pub completed: bool,
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub srtp_profile: Option<String>,
    /// The peer certificate's fingerprint, in the hash function the answer named.
    pub peer_fingerprint: Option<String>,
    /// Whether it equals the answer's `a=fingerprint` (`None` when there was no certificate to check).
    pub fingerprint_matches: Option<bool>,
    /// Where the peer's DTLS came from.
    pub peer: Option<String>,
    pub datagrams_sent: u32,
    pub datagrams_received: u32,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// The call a media finding was judged on: what was offered, how it was answered, the media that
/// flowed and how the call ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MediaCall {
    pub offer: Offer,
    pub transport: Option<Transport>,
    /// The final response's status line.
    #[serde(rename = "final")]
    pub final_response: Option<String>,
    /// Provisional status codes received.
    pub provisional: Vec<u16>,
    /// The digest algorithm the call authenticated with (`MD5`, `SHA-256`, `SHA-512-256`).
    pub authenticated_with: Option<String>,
    pub auth_rounds: u32,
    pub stale_nonce_retried: bool,
    /// Why the call was CANCELled, if it was.
    pub cancelled: Option<String>,
    /// The answer's audio transport profile (`RTP/SAVP`, `UDP/TLS/RTP/SAVP`, `RTP/AVP`).
    pub answer_profile: Option<String>,
    /// The answer's `a=crypto` lines, keys replaced by `<key>`.
    pub answer_crypto: Option<Vec<String>>,
    pub answer_fingerprint: Option<Fingerprint>,
    pub answer_setup: Option<String>,
    pub answer_rtcp_mux: Option<bool>,
    /// The SDP we offered and the SDP of the answer, keys redacted.
    pub sdp_offer: String,
    pub sdp_answer: Option<String>,
    /// The media exchange, when the call was answered with a usable media address.
    pub media: Option<FlowReport>,
    pub teardown: TeardownDetails,
}

/// Which media protections the three offers (SDES, DTLS-SRTP, plain RTP) found accepted; the same on
/// each of the three findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MediaSummary {
    /// `SDES (SUITE)`, `DTLS-SRTP`, `plain RTP`: the offers that were accepted.
    pub accepted: Vec<String>,
    /// The SDES suite the answer picked, when SDES was accepted.
    pub sdes_suite_preferred: Option<String>,
    /// `false` when plain RTP was accepted, `true` when it was refused, `None` when neither was seen.
    pub srtp_required: Option<bool>,
}

/// `media.sdes`: the call offering SDES-SRTP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SdesDetails {
    #[serde(flatten)]
    pub call: MediaCall,
    /// Whether the answer established SDES-SRTP: an offered suite under its tag, with a usable key.
    /// `None` in reports from before sipcheck wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    pub summary: MediaSummary,
}

/// `media.dtls_srtp`: the call offering DTLS-SRTP, and its handshakes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DtlsSrtpDetails {
    #[serde(flatten)]
    pub call: MediaCall,
    /// Whether DTLS-SRTP was established: accepted with a fingerprint, the handshake completed and the
    /// peer certificate matched it. `None` in reports from before sipcheck wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    pub summary: MediaSummary,
    pub dtls_handshake_completed: bool,
    /// The handshake on the RTP component.
    pub dtls: Option<DtlsReport>,
    /// The handshake on a separate RTCP component (no rtcp-mux, RFC 5764 §4.1).
    pub dtls_rtcp: Option<DtlsReport>,
}

/// `media.rtp_plain`: the call offering unencrypted RTP/AVP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RtpPlainDetails {
    #[serde(flatten)]
    pub call: MediaCall,
    /// Whether the unencrypted offer was accepted (answered rather than refused). `None` in reports
    /// from before sipcheck wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    pub summary: MediaSummary,
}

/// `media.sdes_cleartext`: an SDES offer over UDP or TCP signalling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SdesCleartextDetails {
    #[serde(flatten)]
    pub call: MediaCall,
    /// Whether the answer carried SDES keys, which then travelled in clear. `None` in reports from
    /// before sipcheck wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys_in_clear: Option<bool>,
}

/// `media.srtp_flow`: the SRTP exchange on the SDES call, else on the DTLS-SRTP call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SrtpFlowDetails {
    #[serde(flatten)]
    pub call: MediaCall,
    /// Whose keys were used: `SDES keys` or `DTLS-SRTP keys`.
    pub keys: String,
    /// Whether SRTP was verified in both directions with SRTCP present. `None` in reports from before
    /// sipcheck wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

/// Whether an offer was accepted, from its typed `accepted`; a report written before sipcheck wrote it
/// cannot tell, and says so.
fn accepted(f: &Finding, a: Option<bool>) -> Result<bool, String> {
    a.ok_or_else(|| {
        format!(
            "`{}` does not say whether the offer was accepted (written by an older sipcheck)",
            f.id
        )
    })
}

/// `srtp_required`: SRTP accepted via SDES or DTLS-SRTP (one is enough).
const SRTP_REQUIRED: RuleSpec = RuleSpec {
    name: "srtp_required",
    questions: &[5, 7],
    any: true,
    validate: a_bool,
    active: on,
};

fn srtp(f: &Finding, a: Option<bool>) -> Check {
    Ok(if accepted(f, a)? {
        Ok(format!("SRTP accepted via `{}`", f.id))
    } else {
        Err(format!("SRTP not accepted via `{}`", f.id))
    })
}

/// `media.sdes`.
pub struct Sdes;

impl Contract for Sdes {
    type Details = SdesDetails;

    fn diff(old: &SdesDetails, new: &SdesDetails) -> Vec<(Kind, String)> {
        flip(
            old.accepted,
            new.accepted,
            false,
            "SDES-SRTP now accepted",
            "SDES-SRTP no longer accepted",
            "SDES-SRTP was established",
        )
    }

    fn policy_rules() -> Vec<Rule<SdesDetails>> {
        vec![Rule {
            spec: SRTP_REQUIRED,
            check: |_, f, d| srtp(f, d.accepted),
        }]
    }
}

/// `media.dtls_srtp`.
pub struct DtlsSrtp;

impl Contract for DtlsSrtp {
    type Details = DtlsSrtpDetails;

    fn diff(old: &DtlsSrtpDetails, new: &DtlsSrtpDetails) -> Vec<(Kind, String)> {
        flip(
            old.accepted,
            new.accepted,
            false,
            "DTLS-SRTP now accepted",
            "DTLS-SRTP no longer accepted",
            "DTLS-SRTP was established",
        )
    }

    fn policy_rules() -> Vec<Rule<DtlsSrtpDetails>> {
        vec![Rule {
            spec: SRTP_REQUIRED,
            check: |_, f, d| srtp(f, d.accepted),
        }]
    }
}

/// `media.rtp_plain`.
pub struct RtpPlain;

impl Contract for RtpPlain {
    type Details = RtpPlainDetails;

    fn diff(old: &RtpPlainDetails, new: &RtpPlainDetails) -> Vec<(Kind, String)> {
        flip(
            old.accepted,
            new.accepted,
            true,
            "plain RTP now accepted (SRTP no longer required)",
            "plain RTP now refused (SRTP required)",
            "plain RTP was accepted",
        )
    }

    fn policy_rules() -> Vec<Rule<RtpPlainDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "plain_rtp_forbidden",
                questions: &[5],
                any: false,
                validate: a_bool,
                active: on,
            },
            check: |_, f, d| {
                Ok(if accepted(f, d.accepted)? {
                    Err("plain RTP accepted".into())
                } else {
                    Ok("plain RTP refused".into())
                })
            },
        }]
    }
}

/// `media.srtp_flow`.
pub struct SrtpFlow;

impl Contract for SrtpFlow {
    type Details = SrtpFlowDetails;

    fn diff(old: &SrtpFlowDetails, new: &SrtpFlowDetails) -> Vec<(Kind, String)> {
        flip(
            old.verified,
            new.verified,
            false,
            "SRTP now verified in both directions",
            "SRTP no longer verified in both directions",
            "SRTP was verified both ways",
        )
    }
}

/// A media finding's details holding only the call it was judged on (the call could not be judged:
/// no answer, challenged, …); its own fields keep their defaults.
pub trait OfCall: Default {
    fn of_call(call: MediaCall) -> Self;
}

macro_rules! of_call {
    ($($t:ty),*) => {$(
        impl OfCall for $t {
            fn of_call(call: MediaCall) -> Self {
                Self { call, ..Self::default() }
            }
        }
    )*};
}
of_call!(
    SdesDetails,
    DtlsSrtpDetails,
    RtpPlainDetails,
    SdesCleartextDetails,
    SrtpFlowDetails
);
