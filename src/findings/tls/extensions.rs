//! `tls.extensions`: the TLS ≤ 1.2 protections a ServerHello shows (extended master secret, RFC 7627;
//! encrypt-then-MAC for CBC suites, RFC 7366; secure renegotiation, RFC 5746) and whether the
//! server lets a client renegotiate, tested once per endpoint.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::verdict::{Kind, RuleCheck, Verdict, flip, yes_no};
use crate::findings::Status;

/// `tls.extensions` details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ExtensionsDetails {
    /// TLS ≤ 1.2 ServerHellos read (one per accepted version and suite).
    pub hellos: usize,
    /// Every ServerHello echoed extended_master_secret (`None`: no TLS ≤ 1.2 hello accepted).
    pub extended_master_secret: Option<bool>,
    /// (version, suite) pairs answered without extended_master_secret.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_ems: Vec<String>,
    /// Accepted CBC suites (where encrypt-then-MAC applies).
    pub cbc_hellos: usize,
    /// Every CBC ServerHello echoed encrypt_then_mac (`None`: no CBC suite accepted).
    pub encrypt_then_mac: Option<bool>,
    /// Every ServerHello echoed renegotiation_info (RFC 5746).
    pub secure_renegotiation: Option<bool>,
    /// A ServerHello echoed the SessionTicket extension (RFC 5077).
    pub session_ticket: Option<bool>,
    /// How a client-initiated renegotiation on a completed TLS 1.2 session was answered:
    /// `accepted`, `refused (alert:no_renegotiation)`, `dropped (closed)`, or why it was not tried.
    pub client_renegotiation: Option<String>,
    /// `Some(true)` when the server answered the renegotiation ClientHello with a ServerHello.
    pub client_renegotiation_accepted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ExtensionsDetails {
    /// Without EMS the session keys can be made equal across two connections (triple handshake,
    /// RFC 7627 §1); without secure renegotiation an attacker can splice a prefix into a session
    /// (RFC 5746): both are fails. Client-initiated renegotiation and MAC-then-encrypt on CBC
    /// suites are warns (a CPU-exhaustion lever; padding oracles, RFC 7366 §1).
    pub fn judge(&self) -> Verdict {
        if let Some(e) = &self.error {
            return (Status::Error, e.clone());
        }
        if self.hellos == 0 {
            return (
                Status::Pass,
                "TLS 1.3 only: these TLS ≤ 1.2 extensions do not apply".into(),
            );
        }
        let mut fails = Vec::new();
        let mut warns = Vec::new();
        if self.extended_master_secret == Some(false) {
            fails.push(format!(
                "no extended master secret (RFC 7627) for {}",
                self.without_ems.join(", ")
            ));
        }
        if self.secure_renegotiation == Some(false) {
            fails.push("no secure renegotiation (RFC 5746)".to_string());
        }
        if self.client_renegotiation_accepted == Some(true) {
            warns.push("client-initiated renegotiation accepted".to_string());
        }
        if self.encrypt_then_mac == Some(false) {
            warns.push(format!(
                "CBC suites without encrypt-then-MAC (RFC 7366) on {} hello(s)",
                self.cbc_hellos
            ));
        }
        let facts = format!(
            "EMS {}, encrypt-then-MAC {}, secure renegotiation {}, client renegotiation {}",
            yes_no(self.extended_master_secret),
            match self.encrypt_then_mac {
                None => "n/a (no CBC suite)",
                Some(true) => "yes",
                Some(false) => "no",
            },
            yes_no(self.secure_renegotiation),
            self.client_renegotiation.as_deref().unwrap_or("not tested")
        );
        let problems: Vec<String> = fails.iter().chain(warns.iter()).cloned().collect();
        let status = if !fails.is_empty() {
            Status::Fail
        } else if !warns.is_empty() {
            Status::Warn
        } else {
            Status::Pass
        };
        let summary = if problems.is_empty() {
            facts
        } else {
            format!("{}; {facts}", problems.join("; "))
        };
        (status, summary)
    }

    pub fn changes(&self, new: &ExtensionsDetails) -> Vec<(Kind, String)> {
        [
            flip(
                self.extended_master_secret,
                new.extended_master_secret,
                false,
                "extended master secret now negotiated",
                "extended master secret no longer negotiated",
            ),
            flip(
                self.encrypt_then_mac,
                new.encrypt_then_mac,
                false,
                "encrypt-then-MAC now negotiated",
                "encrypt-then-MAC no longer negotiated",
            ),
            flip(
                self.client_renegotiation_accepted,
                new.client_renegotiation_accepted,
                true,
                "client-initiated renegotiation now accepted",
                "client-initiated renegotiation now refused",
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    pub fn answer(&self, question: u8) -> Option<String> {
        if self.error.is_some() || self.hellos == 0 {
            return None;
        }
        match question {
            10 | 14 => Some(format!(
                "TLS 1.2 extended master secret {}, encrypt-then-MAC {}, client renegotiation {}",
                yes_no(self.extended_master_secret),
                yes_no(self.encrypt_then_mac),
                self.client_renegotiation.as_deref().unwrap_or("not tested")
            )),
            _ => None,
        }
    }

    /// Policy `require_ems`.
    pub fn require_ems(&self) -> RuleCheck {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match (self.hellos, self.extended_master_secret) {
            (0, _) => Ok(Ok("TLS 1.3 only".into())),
            (_, Some(true)) => Ok(Ok("extended master secret on every TLS ≤ 1.2 hello".into())),
            (_, Some(false)) => Ok(Err(format!(
                "no extended master secret for {}",
                self.without_ems.join(", ")
            ))),
            (_, None) => Err("extended master secret not measured".into()),
        }
    }

    /// Policy `forbid_client_renegotiation`.
    pub fn forbid_client_renegotiation(&self) -> RuleCheck {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.client_renegotiation_accepted {
            Some(true) => Ok(Err("client-initiated renegotiation accepted".into())),
            Some(false) => Ok(Ok(format!(
                "client-initiated renegotiation {}",
                self.client_renegotiation.as_deref().unwrap_or("refused")
            ))),
            None if self.hellos == 0 => Ok(Ok("TLS 1.3 only: no renegotiation".into())),
            None => Err(format!(
                "client-initiated renegotiation {}",
                self.client_renegotiation.as_deref().unwrap_or("not tested")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ems_fails_and_renegotiation_warns() {
        let good = ExtensionsDetails {
            hellos: 3,
            extended_master_secret: Some(true),
            secure_renegotiation: Some(true),
            client_renegotiation: Some("refused (alert:no_renegotiation)".into()),
            client_renegotiation_accepted: Some(false),
            ..Default::default()
        };
        assert_eq!(good.judge().0, Status::Pass);
        let reneg = ExtensionsDetails {
            client_renegotiation_accepted: Some(true),
            client_renegotiation: Some("accepted".into()),
            ..good.clone()
        };
        assert_eq!(reneg.judge().0, Status::Warn);
        assert!(reneg.forbid_client_renegotiation().unwrap().is_err());
        let no_ems = ExtensionsDetails {
            extended_master_secret: Some(false),
            without_ems: vec!["TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA".into()],
            ..good.clone()
        };
        assert_eq!(no_ems.judge().0, Status::Fail);
        assert!(no_ems.require_ems().unwrap().is_err());
        assert_eq!(good.changes(&no_ems)[0].0, Kind::Worse);
    }
}
