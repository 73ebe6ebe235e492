//! Details of the signalling findings: `transport.*`, `sip.*`, `sips.options` and
//! `robustness.unknown_*`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::contract::{Contract, Read, Rule, RuleSpec, a_bool, always, on};
use super::tls::contract::{MIN_CERT_DAYS_LEFT, cert_days};
use super::tls::{CertInfo, IdentityMatch};
use super::{Finding, Report, Status};
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

/// `sips.options`: question 4 from the `sips:` OPTIONS and the certificate it met, and the leaf's days
/// left for `min_cert_days_left`.
pub struct Sips;

impl Sips {
    /// One endpoint's answer, without its scope.
    fn said(f: &Finding, d: &SipsDetails) -> String {
        if d.error.as_deref() == Some("client_certificate_required") {
            return "TLS asks for a client certificate (mutual TLS): sips: not measured without a client certificate".into();
        }
        if !d.offered {
            return format!(
                "No: no TLS session ({})",
                d.error.as_deref().unwrap_or("no answer")
            );
        }
        let over = d.tls_version.as_deref().unwrap_or("TLS");
        // No SIP answer: nothing was offered over SIPS, whatever the certificate says.
        let Some(line) = &d.response else {
            return format!(
                "No: a TLS session ({over}) was set up, but the sips: OPTIONS got no SIP answer"
            );
        };
        let answered = format!(
            "sips: OPTIONS answered {}",
            line.trim_start_matches("SIP/2.0 ")
        );
        let cert = match (d.trusted, &d.identity) {
            _ if f.status != Status::Pass && !d.problems.is_empty() => {
                let more = d.problems.len() - 1;
                format!(
                    "a certificate, but {}{}",
                    d.problems[0],
                    if more > 0 {
                        format!(" (+{more} more)")
                    } else {
                        String::new()
                    }
                )
            }
            (Some(true), Some(id)) if id.matched => {
                format!("a trusted certificate for {}", id.domain)
            }
            (_, Some(id)) if !id.matched => {
                format!("a certificate that does not prove {}", id.domain)
            }
            (Some(false), _) => "a certificate not trusted by the roots used".to_string(),
            _ => "no readable certificate".to_string(),
        };
        let yes = if f.status == Status::Pass {
            "Yes: "
        } else {
            ""
        };
        format!("{yes}{answered} over {over} with {cert}")
    }
}

impl Contract for Sips {
    type Details = SipsDetails;

    fn answer(q: u8, r: &Report, measured: &[Read<SipsDetails>]) -> Option<String> {
        if q != 4 {
            return None;
        }
        // The worst endpoint speaks for the answer; the others are counted.
        let worst = measured.iter().max_by_key(|x| x.finding.status.badness())?;
        let same: Vec<&Finding> = measured
            .iter()
            .filter(|x| x.finding.status == worst.finding.status)
            .map(|x| x.finding)
            .collect();
        let mut s = Sips::said(worst.finding, &worst.details);
        s.push_str(&r.scope_suffix(&same));
        if same.len() < measured.len() {
            s.push_str(&format!(
                "; {} other endpoint(s) better",
                measured.len() - same.len()
            ));
        }
        s.push('.');
        Some(s)
    }

    fn policy_rules() -> Vec<Rule<SipsDetails>> {
        vec![Rule {
            spec: MIN_CERT_DAYS_LEFT,
            check: |setting, f, d| match d.chain.first() {
                Some(leaf) => Ok(cert_days(setting, &[(String::new(), leaf.days_left)])),
                None if !d.offered => Err(format!("`{}`: SIPS not offered, no certificate", f.id)),
                None => Err(format!("`{}` holds no certificate", f.id)),
            },
        }]
    }
}

/// `sip.server_header`: the `server_version_leak_allowed` rule.
pub struct ServerHeader;

impl Contract for ServerHeader {
    type Details = ServerHeaderDetails;

    fn policy_rules() -> Vec<Rule<ServerHeaderDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "server_version_leak_allowed",
                questions: &[],
                any: false,
                validate: a_bool,
                active: always,
            },
            check: |setting, _, d| {
                Ok(match (d.version_disclosed, on(setting)) {
                    (true, false) => Err("Server/User-Agent header discloses a version".into()),
                    (true, true) => Ok("version disclosed (allowed)".into()),
                    (false, _) => Ok("no version disclosed".into()),
                })
            },
        }]
    }
}
