//! Details of the signalling findings: `transport.*`, `sip.*`, `sips.options` and
//! `robustness.unknown_*`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tls::{CertInfo, IdentityMatch};
use crate::target::Transport;

/// `transport.udp` / `.tcp` / `.tls`: whether OPTIONS over that transport was answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TransportDetails {
    /// A SIP response came back.
    pub reachable: bool,
    /// A connection (TCP/TLS) or a datagram answer was reached at all.
    pub connected: bool,
    /// The status code of the best response.
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub rtt_ms: Option<f64>,
    pub retransmissions: u32,
    /// The error kind when there was no answer.
    pub error: Option<String>,
    pub tls_version: Option<String>,
    pub tls_cipher_suite: Option<String>,
    /// TLS: the server sent a CertificateRequest.
    pub client_certificate_requested: bool,
    /// TLS: a client certificate (`--client-cert`) was sent in answer.
    pub client_certificate_sent: bool,
}

/// `transport.plaintext_open`: which transports answered, split by protection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PlaintextDetails {
    /// `tls` endpoints that answered OPTIONS.
    pub tls_answering: Vec<String>,
    /// `udp`/`tcp` endpoints that answered OPTIONS.
    pub plaintext_answering: Vec<String>,
}

/// `sip.allow`: the methods and extensions an OPTIONS answer advertised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AllowDetails {
    /// The status line of the answer the lists came from.
    pub response: String,
    pub allow: Vec<String>,
    pub supported: Vec<String>,
    /// The headers as received (quoted, redacted).
    pub allow_header: Option<String>,
    pub supported_header: Option<String>,
}

/// `sip.refer`: REFER and Replaces advertised, and where that was read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReferDetails {
    /// `None` when the answer carried no Allow header (cannot tell).
    pub advertised: Option<bool>,
    pub replaces: bool,
    pub norefersub: bool,
    pub source: ReferSource,
}

/// The answer `sip.refer` read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReferSource {
    pub transport: Option<Transport>,
    pub response: String,
    pub header: Option<String>,
    pub supported_header: Option<String>,
}

/// `sip.server_header`: the product string responses carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ServerHeaderDetails {
    /// The Server or User-Agent header as received.
    pub header: Option<String>,
    pub product: Option<String>,
    /// The product string carries a version number.
    pub version_disclosed: bool,
}

/// `sips.options`: a `sips:` OPTIONS over TLS, the certificate and its identity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SipsDetails {
    /// A TLS session was set up.
    pub offered: bool,
    /// The error kind when it was not.
    pub error: Option<String>,
    pub response: Option<String>,
    pub tls_version: Option<String>,
    pub cipher_suite: Option<String>,
    pub server_name: Option<String>,
    pub trusted: Option<bool>,
    pub trust_error: Option<String>,
    pub trust_roots: Option<String>,
    /// RFC 5922 identity of the SIP domain in the leaf.
    pub identity: Option<IdentityMatch>,
    /// The certificates as sent, leaf first.
    pub chain: Vec<CertInfo>,
    pub problems: Vec<String>,
}

/// `sip.refer_policy`: what an out-of-dialog REFER and a REFER for an unknown dialog got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReferPolicyDetails {
    pub out_of_dialog: ReferAttempt,
    pub unknown_dialog: ReferAttempt,
    /// `None` when the OPTIONS answer carried no Allow header.
    pub allow_refer: Option<bool>,
    pub supported_replaces: bool,
    pub supported_norefersub: bool,
}

/// One REFER and its treatment (`accepted`, `challenged`, `refused`, `no answer`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReferAttempt {
    /// The Refer-To sent (out of dialog only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refer_to: Option<String>,
    pub response: Option<u16>,
    pub reason: Option<String>,
    pub treatment: String,
    /// Unknown dialog only: the RFC 3261 answer 481 came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub got_481: Option<bool>,
}

/// `robustness.unknown_header`: a request with unknown headers, against a plain baseline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct UnknownHeaderDetails {
    pub response: Option<u16>,
    pub baseline_response: Option<u16>,
    pub headers_sent: Vec<String>,
}

/// `robustness.unknown_require`: `Require` and `Proxy-Require` with an unknown option tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct UnknownRequireDetails {
    pub option_tag: String,
    pub response: Option<u16>,
    pub reason: Option<String>,
    pub unsupported: Vec<String>,
    pub proxy_require_response: Option<u16>,
    pub proxy_require_unsupported: Vec<String>,
}
