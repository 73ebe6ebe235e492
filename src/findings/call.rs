//! Details of the `call.*` findings and `media.rtp_bleed`: what a REFER in a test call, an attended
//! transfer and the RTP bleed test showed. The call and media code fills these; the report reads them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::target::Transport;

/// Which media offer a test call made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Offer {
    #[default]
    Plain,
    Sdes,
    Dtls,
}

/// How one of our calls ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TeardownDetails {
    /// A dialog existed (a 2xx was received and ACKed).
    pub established: bool,
    /// The final response to our BYE.
    pub bye_response: Option<u16>,
    /// The far end hung up first (we answered its BYE).
    pub ended_by_peer: bool,
    /// No dialog is left up as far as we can tell.
    pub clean: bool,
    pub note: Option<String>,
}

/// One NOTIFY of the refer subscription.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Notify {
    /// Milliseconds after the REFER was sent.
    pub after_ms: u64,
    pub event: Option<String>,
    pub subscription_state: Option<String>,
    pub content_type: Option<String>,
    /// The sipfrag's status line (`SIP/2.0 100 Trying`), when the body is one.
    pub sipfrag: Option<String>,
    /// Its status code.
    pub status: Option<u16>,
}

impl Notify {
    /// The subscription ended (RFC 6665 §4.1.3): no more NOTIFYs will come.
    pub fn terminated(&self) -> bool {
        self.subscription_state
            .as_deref()
            .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("terminated"))
    }
}

/// What one REFER came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReferOutcome {
    /// The Refer-To we sent.
    pub refer_to: String,
    /// The final response to the REFER (its status line), and its code.
    pub response: Option<String>,
    pub code: Option<u16>,
    /// `Server`/`User-Agent` of the REFER's answer.
    pub answered_by: Option<String>,
    /// The REFER was challenged and answered with credentials.
    pub authenticated: bool,
    pub notifies: Vec<Notify>,
    /// How long the subscription was followed, in ms after the REFER.
    pub followed_ms: u64,
    /// The far end hung up our call while (or after) transferring it.
    pub peer_hung_up: bool,
    /// Requests the far end sent inside the call during the transfer (a re-INVITE means something
    /// between us and the called party is reconnecting our media itself).
    pub peer_requests: Vec<String>,
    pub error: Option<String>,
}

impl ReferOutcome {
    /// The sipfrag of the first NOTIFY reporting a final status (≥ 200).
    pub fn final_notify(&self) -> Option<&Notify> {
        self.notifies
            .iter()
            .find(|n| n.status.is_some_and(|c| c >= 200))
    }
}

/// How `call.refer` came out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferResult {
    /// No answered call, or no answer to the REFER.
    #[default]
    NotMeasured,
    Refused,
    /// A final sipfrag 2xx.
    Completed,
    /// A final sipfrag that is not 2xx: the transfer was attempted, the target did not take it.
    CompletedUnsuccessfully,
    AcceptedNotCompleted,
    /// Someone other than the party that answered the call handled the REFER.
    HandledByTrunk,
}

/// `call.refer`: the test call and the REFER sent in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CallReferDetails {
    pub offer: Offer,
    pub transport: Option<Transport>,
    /// The call's final response.
    pub call: Option<String>,
    /// `Server`/`User-Agent` of the call's answer.
    pub call_answered_by: Option<String>,
    /// The digest algorithm the call authenticated with (`MD5`, `SHA-256`, `SHA-512-256`).
    pub authenticated_with: Option<String>,
    pub refer: Option<ReferOutcome>,
    pub teardown: TeardownDetails,
    pub outcome: ReferResult,
}

/// How `call.refer_replaces` came out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplacesResult {
    #[default]
    NotMeasured,
    Refused,
    /// Final sipfrag 2xx and the target hung up our call to it.
    Completed,
    /// Accepted, but our call to the target was not replaced.
    NotReplaced,
    AcceptedNotCompleted,
}

/// The two calls and the REFER of an attended transfer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AttendedTransfer {
    /// Final responses of the call to the transferee and of the call to the target.
    pub transferee_call: Option<String>,
    pub target_call: Option<String>,
    pub refer: Option<ReferOutcome>,
    /// The target ended our call to it after the REFER: the replacement took effect.
    pub target_call_replaced: bool,
}

/// `call.refer_replaces`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReplacesDetails {
    pub attended: AttendedTransfer,
    pub outcome: ReplacesResult,
    /// Both of our calls ended cleanly.
    pub teardown_clean: bool,
}

/// What the test showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BleedReport {
    /// The second local port's address.
    pub second_port: Option<String>,
    pub sent_from_call_port: u32,
    pub sent_from_second_port: u32,
    /// RTP from the far end on the call's port before, and after, the second port spoke.
    pub received_on_call_port_before: u32,
    pub received_on_call_port_after: u32,
    /// RTP from the far end on the second port: media that leaked.
    pub received_on_second_port: u32,
    pub first_leak_from: Option<String>,
    pub ssrc: u32,
    pub duration_ms: u64,
    pub error: Option<String>,
}

impl BleedReport {
}

/// `media.rtp_bleed`: the test call and what the second port saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RtpBleedDetails {
    pub offer: Offer,
    pub transport: Option<Transport>,
    pub call: Option<String>,
    pub call_answered_by: Option<String>,
    pub bleed: Option<BleedReport>,
    pub teardown: TeardownDetails,
}
