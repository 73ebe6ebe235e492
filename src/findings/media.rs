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
use super::{Report, Status, ids};
use super::call::{Offer, TeardownDetails};
use super::contract::{Check, Contract, Read, Rule, RuleSpec, a_bool, flip, on};
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
    /// SRTCP that authenticated on the RTCP port (a separate RTCP component, no rtcp-mux).
    pub srtcp_on_rtcp_port: u32,
    pub dtls_received: u32,
    pub other_received: u32,
    /// The far end's (authenticated) RTCP has a report block about our SSRC.
    pub peer_reports_our_stream: bool,
    /// That report block carries the timestamp of one of our sender reports (LSR): our SRTCP was
    /// received and authenticated there, so SRTCP flowed toward the media address too.
    pub peer_received_our_rtcp: bool,
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
    /// Handshake records the peer sent after ours completed (its final flight again: it had not
    /// received our last flight), counted until the call ended.
    pub peer_resent_after_completion: u32,
    /// Datagrams sipcheck sent in answer (its last flight again, RFC 6347 §4.2.4).
    pub answered_after_completion: u32,
    /// Whether the peer's behaviour showed the handshake complete on its side: SRTP or SRTCP from it
    /// authenticated on this component, or it never resent its final flight. `None` when the handshake
    /// did not complete on our side.
    pub confirmed: Option<bool>,
}

impl DtlsReport {
    /// Complete on both sides as far as the peer's behaviour shows: ours completed and the peer did not
    /// contradict it.
    pub fn complete(&self) -> bool {
        self.completed && self.confirmed != Some(false)
    }

    /// Judges `confirmed` at the end of the call from what the component carried.
    pub fn confirm(&mut self, authenticated_on_component: bool) {
        if self.completed {
            self.confirmed =
                Some(authenticated_on_component || self.peer_resent_after_completion == 0);
        }
    }
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
    /// Which stretch of the media path this call saw.
    pub leg: MediaLeg,
}

/// Which stretch of the media path a call saw: sipcheck only ever sees its own leg, from its sockets to
/// the answer's media address. A relay or SBC there (the answering party elsewhere) may protect the
/// far end's leg differently, or not at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MediaLeg {
    /// The answer's media address (`c=` and `m=` port): where our media went.
    pub media_address: Option<String>,
    /// The answering party's address, from the 2xx's Contact, when that names an IP address.
    pub answering_party: Option<String>,
}

impl MediaLeg {
    /// The media is anchored elsewhere than at the answering party: a relay or SBC is in between.
    pub fn relayed(&self) -> bool {
        let ip = |a: &Option<String>| {
            a.as_deref().and_then(|s| {
                s.parse::<std::net::SocketAddr>()
                    .ok()
                    .map(|a| a.ip())
                    .or_else(|| s.parse().ok())
            })
        };
        matches!((ip(&self.media_address), ip(&self.answering_party)), (Some(m), Some(p)) if m != p)
    }

    /// The clause naming the leg a verdict holds for (empty without a media address), and, for a
    /// relayed call, that what lies beyond the relay is not seen.
    pub fn clause(&self) -> String {
        let Some(m) = &self.media_address else {
            return String::new();
        };
        let mut s = format!(" between sipcheck and the trunk's media address {m}");
        if self.relayed() {
            s.push_str(&format!(
                " (the call was answered by {}: media is anchored at a relay or SBC, and what lies beyond it (the other party's own media leg, encrypted or not) cannot be seen from here)",
                self.answering_party.clone().unwrap_or_default()
            ));
        }
        s
    }
}

/// Longest buyer's answer before the relay's answering party is left out (the answer sheet cuts
/// longer text, and the leg sentence must survive whole).
const ANSWER_CHARS: usize = 240;

/// The answer to the SRTP questions (5: SRTP and SRTCP; 7: the handshakes) in a buyer's words, from
/// one call's leg and the three offers' outcome: what was accepted, and that it holds for sipcheck's
/// own leg only, to the trunk's media address; beyond it (a relay, an SBC, the other party's leg)
/// nothing can be seen from here. `flow_verified`: `media.srtp_flow` verified SRTP and SRTCP both ways
/// (question 5 asks about SRTCP too). `None` for other questions and for a call without a media
/// address.
pub fn leg_answer(
    question: u8,
    call: &MediaCall,
    summary: &MediaSummary,
    flow_verified: bool,
) -> Option<String> {
    let m = call.leg.media_address.as_deref()?;
    let srtp: Vec<&str> = summary
        .accepted
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "plain RTP")
        .collect();
    let plain = summary.accepted.iter().any(|a| a == "plain RTP");
    let plain_part = match summary.srtp_required {
        Some(true) => ", plain RTP refused",
        _ if plain => ", but plain RTP accepted too",
        _ => "",
    };
    // The parts a long answer can spare, most expendable last: the flow (its finding says it) and the
    // relay's answering party (the finding's sentence names it).
    let (head, flow) = match (question, srtp.is_empty()) {
        (5, false) => (
            format!("SRTP accepted via {}{plain_part}", srtp.join(" and ")),
            if flow_verified {
                "; SRTP and SRTCP verified both ways"
            } else {
                ""
            },
        ),
        (5, true) if plain => ("No SRTP: only plain RTP was accepted".to_string(), ""),
        (7, false) => (format!("Accepted: {}", srtp.join(" and ")), ""),
        (5 | 7, true) => ("None of the SRTP offers was accepted".to_string(), ""),
        _ => return None,
    };
    let relay = match (&call.leg.answering_party, call.leg.relayed()) {
        (Some(p), true) => format!(" (a relay or SBC; answered at {p})"),
        _ => String::new(),
    };
    let said = |flow: &str, relay: &str| {
        format!(
            "{head}{flow}, on sipcheck's own leg to the trunk's media address {m}{relay}; what lies beyond it cannot be seen from here."
        )
    };
    let candidates = [said(flow, &relay), said(flow, ""), said("", "")];
    let fits = candidates
        .iter()
        .find(|c| c.chars().count() <= ANSWER_CHARS);
    Some(fits.unwrap_or(&candidates[2]).clone())
}

/// The first measured call of `measured` with a media address answers questions 5 and 7.
fn answer_from<D>(
    question: u8,
    r: &Report,
    measured: &[Read<D>],
    parts: impl Fn(&D) -> (&MediaCall, &MediaSummary),
) -> Option<String> {
    let flow_verified = r.findings.iter().any(|f| {
        f.status == Status::Pass
            && ids::MEDIA_SRTP_FLOW
                .read(f)
                .is_ok_and(|d| d.verified == Some(true))
    });
    measured.iter().find_map(|x| {
        let (call, summary) = parts(&x.details);
        leg_answer(question, call, summary, flow_verified)
    })
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

    fn answer(q: u8, r: &Report, measured: &[Read<SdesDetails>]) -> Option<String> {
        answer_from(q, r, measured, |d| (&d.call, &d.summary))
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

    fn answer(q: u8, r: &Report, measured: &[Read<DtlsSrtpDetails>]) -> Option<String> {
        answer_from(q, r, measured, |d| (&d.call, &d.summary))
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

    fn answer(q: u8, r: &Report, measured: &[Read<RtpPlainDetails>]) -> Option<String> {
        answer_from(q, r, measured, |d| (&d.call, &d.summary))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn call(media: &str, party: &str) -> MediaCall {
        MediaCall {
            leg: MediaLeg {
                media_address: Some(media.into()),
                answering_party: Some(party.into()),
            },
            ..MediaCall::default()
        }
    }

    fn sdes_only() -> MediaSummary {
        MediaSummary {
            accepted: vec!["SDES (AES_CM_128_HMAC_SHA1_80)".into()],
            sdes_suite_preferred: Some("AES_CM_128_HMAC_SHA1_80".into()),
            srtp_required: Some(true),
        }
    }

    /// The SRTP answers keep to sipcheck's own leg: they name the media address, say that what lies
    /// beyond cannot be seen, name the relay when the call was answered elsewhere, and never claim
    /// end-to-end protection; the whole sentence fits the answer sheet even with IPv6 addresses.
    #[test]
    fn srtp_answers_say_which_leg_was_seen() {
        let relayed = call("198.51.100.7:40000", "203.0.113.9");
        for q in [5, 7] {
            let a = leg_answer(q, &relayed, &sdes_only(), false).unwrap();
            assert!(a.contains("sipcheck's own leg to the trunk's media address 198.51.100.7:40000"), "{a}");
            assert!(a.contains("(a relay or SBC; answered at 203.0.113.9)"), "{a}");
            assert!(a.ends_with("what lies beyond it cannot be seen from here."), "{a}");
            assert!(!a.to_lowercase().contains("end-to-end"), "{a}");
        }
        let verified = leg_answer(5, &relayed, &sdes_only(), true).unwrap();
        assert!(
            verified.contains("SRTP and SRTCP verified both ways")
                && verified.chars().count() <= ANSWER_CHARS
                && verified.ends_with("cannot be seen from here."),
            "{verified}"
        );
        let q5 = leg_answer(5, &relayed, &sdes_only(), false).unwrap();
        assert!(q5.starts_with("SRTP accepted via SDES (AES_CM_128_HMAC_SHA1_80), plain RTP refused"), "{q5}");
        let direct = leg_answer(7, &call("198.51.100.7:40000", "198.51.100.7"), &sdes_only(), false).unwrap();
        assert!(!direct.contains("relay"), "{direct}");
        assert!(direct.contains("cannot be seen from here"), "{direct}");
        let long = call(
            "[2001:db8:ffff:ffff:ffff:ffff:ffff:1]:40000",
            "2001:db8:eeee:eeee:eeee:eeee:eeee:2",
        );
        let both = MediaSummary {
            accepted: vec![
                "SDES (AES_CM_128_HMAC_SHA1_80)".into(),
                "DTLS-SRTP".into(),
                "plain RTP".into(),
            ],
            sdes_suite_preferred: None,
            srtp_required: Some(false),
        };
        let a = leg_answer(5, &long, &both, true).unwrap();
        assert!(a.chars().count() <= ANSWER_CHARS, "{a}");
        assert!(a.contains("but plain RTP accepted too") && a.ends_with("cannot be seen from here."), "{a}");
        let plain = MediaSummary {
            accepted: vec!["plain RTP".into()],
            sdes_suite_preferred: None,
            srtp_required: Some(false),
        };
        assert!(leg_answer(5, &relayed, &plain, false).unwrap().starts_with("No SRTP: only plain RTP was accepted"));
        assert_eq!(leg_answer(5, &MediaCall::default(), &sdes_only(), true), None);
        assert_eq!(leg_answer(4, &relayed, &sdes_only(), true), None);
    }
}
