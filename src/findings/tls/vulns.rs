//! `tls.heartbleed` and `tls.robot`: two implementation flaws checked the non-destructive way. The
//! details never hold a leaked byte: Heartbleed keeps the length and SHA-256 of what came back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::verdict::{Kind, Verdict, flip};
use crate::report::Status;

/// `tls.heartbleed` details (CVE-2014-0160).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct HeartbleedDetails {
    /// How the hello offering the heartbeat extension was answered.
    pub hello: String,
    pub version: Option<String>,
    /// The server negotiated the heartbeat extension (RFC 6520).
    pub heartbeat_extension: bool,
    /// A heartbeat request claiming `claimed_length` bytes with none attached was sent.
    pub request_sent: bool,
    pub claimed_length: u16,
    /// What came back: `heartbeat_response`, `alert:NAME`, `timeout (discarded silently)`, …
    pub answer: Option<String>,
    /// Bytes the server sent beyond an honest (empty) response; never the bytes themselves.
    pub leaked_length: Option<usize>,
    /// SHA-256 of the response bytes read (at most `read_cap`).
    pub leaked_sha256: Option<String>,
    pub read_cap: usize,
    pub vulnerable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl HeartbleedDetails {
    pub fn judge(&self) -> Verdict {
        if let Some(e) = &self.error {
            return (Status::Error, e.clone());
        }
        match self.vulnerable {
            Some(true) => (
                Status::Fail,
                format!(
                    "vulnerable to Heartbleed: a heartbeat claiming {} bytes with none attached came back with {} bytes of server memory (not kept; SHA-256 in the details)",
                    self.claimed_length,
                    self.leaked_length.unwrap_or(0)
                ),
            ),
            Some(false) if !self.heartbeat_extension => (
                Status::Pass,
                "not vulnerable: the heartbeat extension is not negotiated".into(),
            ),
            Some(false) => (
                Status::Pass,
                format!(
                    "not vulnerable: the oversized heartbeat got {}",
                    self.answer.as_deref().unwrap_or("nothing")
                ),
            ),
            None => (
                Status::Error,
                format!("not measured: the hello got {}", self.hello),
            ),
        }
    }

    pub fn changes(&self, new: &HeartbleedDetails) -> Vec<(Kind, String)> {
        flip(
            self.vulnerable,
            new.vulnerable,
            true,
            "now vulnerable to Heartbleed",
            "no longer vulnerable to Heartbleed",
        )
        .into_iter()
        .collect()
    }

    pub fn answer(&self, question: u8) -> Option<String> {
        (question == 14 && self.vulnerable.is_some()).then(|| {
            format!(
                "Heartbleed: {}",
                if self.vulnerable == Some(true) {
                    "vulnerable"
                } else {
                    "not vulnerable"
                }
            )
        })
    }
}

/// `tls.robot` details: Bleichenbacher's oracle on static-RSA key exchange (ROBOT, CVE-2017-13099
/// and siblings).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RobotDetails {
    /// A static-RSA suite was accepted (else the check does not apply).
    pub applicable: bool,
    /// The static-RSA suite the handshakes used.
    pub suite: Option<String>,
    /// Each malformed ClientKeyExchange variant and how the server answered it.
    pub answers: Vec<RobotAnswer>,
    /// Handshakes (TCP connections) used.
    pub handshakes: usize,
    /// The answers differ by padding: an oracle.
    pub vulnerable: Option<bool>,
    /// Why the result is not a verdict (inconsistent answers, not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One ClientKeyExchange variant's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RobotAnswer {
    pub variant: String,
    pub answer: String,
}

impl RobotDetails {
    pub fn judge(&self) -> Verdict {
        if let Some(e) = &self.error {
            return (Status::Error, e.clone());
        }
        if !self.applicable {
            return (
                Status::Pass,
                "not applicable: no static-RSA key exchange accepted".into(),
            );
        }
        match self.vulnerable {
            Some(true) => (
                Status::Fail,
                format!(
                    "Bleichenbacher oracle (ROBOT): malformed RSA key exchanges are answered differently ({}); {} handshakes",
                    self.answers
                        .iter()
                        .map(|a| format!("{}: {}", a.variant, a.answer))
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.handshakes
                ),
            ),
            Some(false) => (
                Status::Pass,
                format!(
                    "no oracle: every malformed RSA key exchange got {}; {} handshakes",
                    self.answers
                        .first()
                        .map(|a| a.answer.as_str())
                        .unwrap_or("?"),
                    self.handshakes
                ),
            ),
            None => (
                Status::Info,
                self.note
                    .clone()
                    .unwrap_or_else(|| "not decided".to_string()),
            ),
        }
    }

    pub fn changes(&self, new: &RobotDetails) -> Vec<(Kind, String)> {
        flip(
            self.vulnerable,
            new.vulnerable,
            true,
            "now a Bleichenbacher oracle (ROBOT)",
            "no longer a Bleichenbacher oracle (ROBOT)",
        )
        .into_iter()
        .collect()
    }

    pub fn answer(&self, question: u8) -> Option<String> {
        (matches!(question, 10 | 14) && self.error.is_none()).then(|| match self.vulnerable {
            Some(true) => "ROBOT: static-RSA key exchange is a Bleichenbacher oracle".to_string(),
            Some(false) => "ROBOT: no oracle".to_string(),
            None if !self.applicable => "ROBOT: no static-RSA key exchange".to_string(),
            None => "ROBOT: not decided".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbleed_verdicts() {
        let mut d = HeartbleedDetails {
            hello: "accepted".into(),
            heartbeat_extension: true,
            request_sent: true,
            claimed_length: 1024,
            answer: Some("heartbeat_response".into()),
            leaked_length: Some(1024),
            vulnerable: Some(true),
            ..Default::default()
        };
        assert_eq!(d.judge().0, Status::Fail);
        let old = HeartbleedDetails {
            vulnerable: Some(false),
            ..d.clone()
        };
        assert_eq!(old.changes(&d)[0].0, Kind::Worse);
        d.vulnerable = None;
        assert_eq!(d.judge().0, Status::Error, "never a pass when not measured");
    }
}
