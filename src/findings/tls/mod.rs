//! Details of the `tls.*` findings, and the TLS data they are made of (version labels, the IANA
//! cipher-suite registry and its one classifier).

pub mod contract;
pub mod checks;
pub mod extensions;
pub mod profile;
pub mod resumption;
pub mod robot;
pub mod sni;
pub mod suites;
pub mod verdict;
pub mod version;
pub mod vulns;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use extensions::ExtensionsDetails;
pub use profile::ProfileDetails;
pub use robot::RobotDetails;
pub use resumption::{EarlyDataDetails, Resumption12, Resumption13, ResumptionDetails};
pub use sni::{SniCase, SniDetails};
pub use suites::{Class, Grade, SuiteClass};
pub use vulns::HeartbleedDetails;

/// `tls.versions`: per version label (`TLSv1.2`), accepted or refused and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VersionsDetails {
    #[serde(flatten)]
    pub versions: BTreeMap<String, VersionOutcome>,
    /// Set when the endpoint gave no TLS answer at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One version's outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct VersionOutcome {
    pub accepted: bool,
    /// How it was refused (`alert:protocol_version`, `reset`, `timeout`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// SSLv2 only: the cipher kinds the SERVER-HELLO offered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ciphers: Vec<String>,
}

/// `tls.cipher_suites`: per version label, the accepted suites.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CipherSuitesDetails {
    #[serde(flatten)]
    pub versions: BTreeMap<String, SuiteList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The suites one version accepted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SuiteList {
    /// The server picks by its own preference (the list is in that order).
    pub server_order: bool,
    /// Whether the order could be tested (at least two suites).
    pub order_tested: bool,
    /// IANA names, in the server's order when it has one.
    pub suites: Vec<String>,
    pub classification: BTreeMap<String, Class>,
}

/// `tls.mismatch`: what happens below the minimum version, and downgrade protection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MismatchDetails {
    pub minimum_version: Option<String>,
    /// Version label → how a hello at that version was refused.
    pub below_minimum: BTreeMap<String, String>,
    /// Versions refused without an alert (`version (how)`).
    pub silent_refusals: Vec<String>,
    pub fallback_scsv: FallbackScsv,
    pub downgrade_sentinel: DowngradeSentinel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// RFC 7507 `TLS_FALLBACK_SCSV`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FallbackScsv {
    /// Fewer than two versions accepted: nothing to fall back to.
    pub applicable: bool,
    pub tested_with: Option<String>,
    pub answer: Option<String>,
    pub honoured: Option<bool>,
    /// How `honoured` was decided when the answer was not the `inappropriate_fallback` alert (a close
    /// without an alert, checked against the same hello without the SCSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
}

/// RFC 8446 §4.1.3 downgrade sentinel in ServerHello.random.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DowngradeSentinel {
    /// Only when TLS 1.3 is accepted.
    pub applicable: bool,
    /// Version label → the sentinel seen, or none.
    pub seen: BTreeMap<String, Option<String>>,
}

/// `tls.certificate`: every chain the server sent (one per key type) and the TLS policy facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CertificateDetails {
    /// Which handshakes the chains came from.
    pub source: String,
    /// Key type (`RSA`, `ECDSA P-256`, …) → its chain.
    pub chains: BTreeMap<String, Chain>,
    pub ocsp_stapled: bool,
    /// A CertificateRequest was seen (in the scan's TLS ≤ 1.2 flights or a real handshake).
    pub client_certificate_requested: bool,
    /// A client certificate (`--client-cert`) was sent in answer to a CertificateRequest.
    pub client_certificate_sent: bool,
    /// How the server took the client's answer to its CertificateRequest, when a real handshake got
    /// that far; `None` when none did (no request, or only hand-made hellos saw it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_outcome: Option<ClientCertOutcome>,
    /// The failure behind `required` or `refused` (the alert or close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_failure: Option<String>,
    pub secure_renegotiation: Option<bool>,
    pub compression: Option<bool>,
    pub problems: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The server's answer to the client-certificate exchange (mutual TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientCertOutcome {
    /// A certificate was sent and the session went on.
    Accepted,
    /// No certificate was sent and the session went on: the request was optional.
    Optional,
    /// No certificate was sent and the server failed the session: mutual TLS is required.
    Required,
    /// A certificate was sent and the server failed the session.
    Refused,
}

impl ClientCertOutcome {
    /// From what a handshake saw: `None` when no CertificateRequest came.
    pub fn of(requested: bool, sent: bool, failed: bool) -> Option<ClientCertOutcome> {
        Some(match (requested, sent, failed) {
            (false, _, _) => return None,
            (true, true, false) => ClientCertOutcome::Accepted,
            (true, false, false) => ClientCertOutcome::Optional,
            (true, false, true) => ClientCertOutcome::Required,
            (true, true, true) => ClientCertOutcome::Refused,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClientCertOutcome::Accepted => "accepted",
            ClientCertOutcome::Optional => "optional",
            ClientCertOutcome::Required => "required",
            ClientCertOutcome::Refused => "refused",
        }
    }
}

impl CertificateDetails {
    /// The leaf certificates, one per chain.
    pub fn leaves(&self) -> impl Iterator<Item = (&str, &CertInfo)> {
        self.chains
            .iter()
            .filter_map(|(k, c)| Some((k.as_str(), c.certificates.first()?)))
    }
}

/// One certificate chain as sent, leaf first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Chain {
    pub certificates: Vec<CertInfo>,
    /// Each certificate is issued by the next.
    pub ordered: bool,
    /// RFC 5922 identity of the SIP domain in the leaf.
    pub identity: Option<IdentityMatch>,
    /// RFC 5924: no EKU, anyExtendedKeyUsage, or id-kp-sipDomain.
    pub eku_rfc5924_ok: Option<bool>,
    /// The suite of the handshake that sent it.
    pub seen_with_suite: String,
}

/// The facts of one certificate that a buyer or a policy cares about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// Days until expiry at analysis time; negative when expired.
    pub days_left: i64,
    pub self_signed: bool,
    pub key_type: String,
    pub key_bits: usize,
    pub signature_algorithm: String,
    /// SHA-1 (or MD5) signatures are broken for certificates.
    pub weak_signature: bool,
    pub dns_sans: Vec<String>,
    pub uri_sans: Vec<String>,
    pub ip_sans: Vec<String>,
    /// Extended key usages by name (`serverAuth`, `clientAuth`, `sipDomain`, …).
    pub eku: Vec<String>,
}

/// How a certificate matched (or did not match) the SIP domain under RFC 5922 §7.1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct IdentityMatch {
    pub domain: String,
    pub matched: bool,
    /// Which identity matched (`URI SAN sip:example.com`, `DNS SAN example.com`, `IP SAN 127.0.0.1`), or why none did.
    pub how: String,
}

/// `tls.groups`: key-exchange groups accepted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct GroupsDetails {
    /// How they were found (`tls1.3 key_share/HelloRetryRequest`, `tls1.2 ServerKeyExchange`).
    pub method: Option<String>,
    /// IANA names in the server's preference order.
    pub groups: Vec<String>,
    pub weak: Vec<String>,
    pub post_quantum: Vec<String>,
    /// DHE prime sizes seen.
    pub dh_bits: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
