//! `tls.heartbleed`: an implementation flaw checked the non-destructive way. The details never hold a
//! leaked byte, only the length and SHA-256 of what came back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::verdict::{Kind, Verdict, flip};
use crate::findings::Status;

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
