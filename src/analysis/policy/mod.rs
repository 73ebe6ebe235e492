//! Policy profiles: rules over findings and their details, checked after a scan (`--policy`).
//!
//! Modelled on sslyze's `--mozilla_config`: a profile names what a trunk must (not) do; each rule is
//! judged from the findings of the run. A violated rule adds a `fail` finding `policy.RULE`; a rule
//! whose finding was not measured is "not measured", never passed. The detail keys each rule reads are
//! documented on [`Rules`]; they are the contracts of the probes that write them.

mod judge;
mod load;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::findings::Status;
use crate::findings::tls::SuiteClass;
use crate::findings::tls::version::Version;

pub use crate::findings::{PolicyOutcome, RuleOutcome, RuleStatus};
pub use judge::apply;
pub use load::{builtin_names, load, parse};

/// A TLS version name as `tls.versions` keys it (`TLSv1.2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct TlsVersion(String);

impl TryFrom<String> for TlsVersion {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<TlsVersion, String> {
        if Version::from_label(&s).is_some() {
            Ok(TlsVersion(s))
        } else {
            let all: Vec<&str> = Version::REPORTED.iter().map(|v| v.label()).collect();
            Err(format!(
                "unknown TLS version {s:?} (expected one of {})",
                all.join(", ")
            ))
        }
    }
}

impl From<TlsVersion> for String {
    fn from(v: TlsVersion) -> String {
        v.0
    }
}

impl TlsVersion {
    /// The version it names (checked when it was parsed).
    pub fn version(&self) -> Option<Version> {
        Version::from_label(&self.0)
    }
}

/// A suite class name as written in a policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct ClassName(pub SuiteClass);

impl TryFrom<String> for ClassName {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<ClassName, String> {
        s.parse().map(ClassName)
    }
}

impl From<ClassName> for String {
    fn from(c: ClassName) -> String {
        c.0.as_str().to_string()
    }
}

/// The worst status a named finding may have: `pass`, `info` or `warn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct MaxStatus(pub Status);

impl TryFrom<String> for MaxStatus {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<MaxStatus, String> {
        match s.as_str() {
            "pass" => Ok(MaxStatus(Status::Pass)),
            "info" => Ok(MaxStatus(Status::Info)),
            "warn" => Ok(MaxStatus(Status::Warn)),
            _ => Err(format!(
                "{s:?} is not a worst allowed status (expected pass, info or warn)"
            )),
        }
    }
}

impl From<MaxStatus> for String {
    fn from(m: MaxStatus) -> String {
        m.0.as_str().to_string()
    }
}

/// The rules of a policy; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Reads `tls.versions` details `{"TLSv1.0": {"accepted": bool}, …}`: no older version accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tls_version: Option<TlsVersion>,
    /// Reads `tls.cipher_suites` details `{"TLSv1.2": {"suites": [IANA names]}, …}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbidden_suite_classes: Option<Vec<ClassName>>,
    /// Reads `days_left` of the leaf in `sips.options` / `tls.certificate` details `chain[0]`
    /// (or `tls.certificate` details `days_left`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cert_days_left: Option<i64>,
    /// Reads `media.sdes` / `media.dtls_srtp` details `accepted` (or their status): one must be accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srtp_required: Option<bool>,
    /// Reads `media.rtp_plain` details `accepted` (or its status: warn/fail mean accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain_rtp_forbidden: Option<bool>,
    /// Reads `auth.challenge` details `algorithms` (or `md5_only`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5_only_forbidden: Option<bool>,
    /// Reads `secagree.rfc3329` details `supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secagree_required: Option<bool>,
    /// Reads `robustness.malformed` details `liveness_failed` (or `cases[].alive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed_liveness_required: Option<bool>,
    /// Reads `sip.server_header` details `version_disclosed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version_leak_allowed: Option<bool>,
    /// Reads `stir.attestation` details `attestation` (A, B or C) and `verdict`: the owned-number loop
    /// call must be delivered with at least this attestation and an Identity that verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_owned_attestation: Option<Attestation>,
    /// Reads `spoof.caller_id` / `spoof.asserted_identity` details `spoof_went_through`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoofed_calls_refused: Option<bool>,
    /// Reads `tls.early_data` details `accepted`: TLS 1.3 0-RTT must not be accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_early_data: Option<bool>,
    /// Reads `tls.extensions` details `extended_master_secret`: every TLS ≤ 1.2 hello uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_ems: Option<bool>,
    /// Reads `tls.extensions` details `client_renegotiation_accepted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_client_renegotiation: Option<bool>,
    /// A TLS profile every TLS endpoint must meet (`bcp195`, `mozilla-intermediate`,
    /// `mozilla-modern`): judged from the report's `tls.*` details per endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileName>,
}

/// A built-in TLS profile name, checked when the policy is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct ProfileName(pub String);

impl TryFrom<String> for ProfileName {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<ProfileName, String> {
        crate::findings::tls::profile::builtin(&s).map(|_| ProfileName(s))
    }
}

impl From<ProfileName> for String {
    fn from(p: ProfileName) -> String {
        p.0
    }
}

/// A SHAKEN attestation level, `A` (full) to `C` (gateway).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Attestation(pub String);

impl TryFrom<String> for Attestation {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Attestation, String> {
        match s.as_str() {
            "A" | "B" | "C" => Ok(Attestation(s)),
            _ => Err(format!("unknown attestation {s:?} (expected A, B or C)")),
        }
    }
}

impl From<Attestation> for String {
    fn from(a: Attestation) -> String {
        a.0
    }
}

/// A loaded policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The policy's name (`baseline`, `strict`, or the file's `name`).
    pub name: String,
    /// `builtin` or the file path.
    pub source: String,
    /// One sentence: what the policy asks.
    pub description: String,
    /// The rules on measured facts.
    pub rules: Rules,
    /// Finding id → worst allowed status.
    pub findings: BTreeMap<String, Status>,
}
