//! `tls.resumption` and `tls.early_data`: what a server hands out for resuming sessions (TLS 1.2
//! session ids and tickets with their lifetime hint, TLS 1.3 tickets resumed as PSK with DHE) and
//! whether it takes TLS 1.3 early data (0-RTT). Judging, diff, answer and policy are pure functions
//! of the details.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::verdict::{Kind, RuleCheck, Verdict, flip, yes_no};
use crate::findings::Status;

/// RFC 8446 §4.6.1: a ticket lifetime is at most seven days; RFC 5077 §5.6 asks tickets to be
/// short-lived. A TLS 1.2 lifetime hint above this is judged long-lived.
pub const LONG_TICKET_SECONDS: u32 = 7 * 24 * 3600;

/// `tls.resumption`: session resumption at TLS 1.2 and TLS 1.3.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ResumptionDetails {
    /// `None` when TLS 1.2 was not tried (not accepted by the scan).
    pub tls12: Option<Resumption12>,
    /// `None` when TLS 1.3 was not tried (not accepted by the scan).
    pub tls13: Option<Resumption13>,
    /// Handshakes (TCP connections) these checks used.
    pub handshakes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// TLS 1.2: session ids (RFC 5246 §7.4.1.3) and tickets (RFC 5077).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Resumption12 {
    /// Why the full handshake did not complete (rustls needs an ECDHE AEAD suite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The ServerHello carried a non-empty session id.
    pub session_id_issued: bool,
    /// A handshake offering only that session id was resumed, in up to 3 attempts (`None`: not tried).
    pub session_id_resumed: Option<bool>,
    /// A NewSessionTicket came.
    pub ticket_issued: bool,
    /// Its lifetime hint in seconds (0: unspecified, RFC 5077 §3.3).
    pub ticket_lifetime_hint: Option<u32>,
    /// A handshake offering the ticket (and the session id) was resumed, in up to 3 attempts.
    pub ticket_resumed: Option<bool>,
}

/// TLS 1.3: NewSessionTicket and PSK resumption with (EC)DHE (RFC 8446 §2.2, §4.2.9).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Resumption13 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Tickets received after the full handshake (read for 300 ms).
    pub tickets: usize,
    /// A handshake offering a ticket with psk_dhe_ke was resumed, in up to 3 attempts (`None`: not
    /// tried).
    pub psk_dhe_resumed: Option<bool>,
}

/// `tls.early_data`: TLS 1.3 0-RTT.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct EarlyDataDetails {
    /// Whether a resumption with early data could be tried (TLS 1.3 and a ticket).
    pub applicable: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// The tickets' largest max_early_data_size (0 or absent: the server does not offer 0-RTT).
    pub max_early_data_size: Option<u32>,
    /// Bytes sent as early data: a SIP keep-alive (CRLF CRLF), the only thing safe to replay.
    pub early_data_sent: usize,
    /// The server accepted the early data (its EncryptedExtensions carried early_data).
    pub accepted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ResumptionDetails {
    /// Whether any kind of resumption worked.
    pub fn resumes(&self) -> Option<bool> {
        let mut any = None;
        for r in [
            self.tls12.as_ref().and_then(|t| t.session_id_resumed),
            self.tls12.as_ref().and_then(|t| t.ticket_resumed),
            self.tls13.as_ref().and_then(|t| t.psk_dhe_resumed),
        ]
        .into_iter()
        .flatten()
        {
            any = Some(any.unwrap_or(false) || r);
        }
        any
    }

    /// A TLS 1.2 ticket lifetime hint longer than [`LONG_TICKET_SECONDS`].
    pub fn long_ticket(&self) -> Option<u32> {
        self.tls12
            .as_ref()
            .and_then(|t| t.ticket_lifetime_hint)
            .filter(|s| *s > LONG_TICKET_SECONDS)
    }

    /// Resumption is a fact with no verdict (RFC 5923 reuse keeps connections, so it is good for SIP);
    /// a ticket that lives longer than a week is a warn (ticket keys protect every session they
    /// sealed, RFC 5077 §5.5 / RFC 8446 §4.6.1). Nothing measurable is an error.
    pub fn judge(&self) -> Verdict {
        if let Some(e) = &self.error {
            return (Status::Error, e.clone());
        }
        let mut parts = Vec::new();
        if let Some(t) = &self.tls12 {
            parts.push(match &t.failure {
                Some(f) => format!("TLS 1.2 not measured ({f})"),
                None => format!(
                    "TLS 1.2 session id {}{}, ticket {}{}",
                    if t.session_id_issued {
                        "issued"
                    } else {
                        "not issued"
                    },
                    t.session_id_resumed
                        .map(|r| if r {
                            " and resumed"
                        } else {
                            " but not resumed"
                        })
                        .unwrap_or(""),
                    if t.ticket_issued {
                        match t.ticket_lifetime_hint {
                            Some(0) | None => "issued (no lifetime hint)".to_string(),
                            Some(s) => format!("issued (lifetime hint {s} s)"),
                        }
                    } else {
                        "not issued".to_string()
                    },
                    t.ticket_resumed
                        .map(|r| if r {
                            " and resumed"
                        } else {
                            " but not resumed"
                        })
                        .unwrap_or(""),
                ),
            });
        }
        if let Some(t) = &self.tls13 {
            parts.push(match &t.failure {
                Some(f) => format!("TLS 1.3 not measured ({f})"),
                None => format!(
                    "TLS 1.3 {} ticket(s){}",
                    t.tickets,
                    t.psk_dhe_resumed
                        .map(|r| if r {
                            ", resumed as PSK with DHE"
                        } else {
                            ", PSK resumption refused"
                        })
                        .unwrap_or("")
                ),
            });
        }
        if parts.is_empty() {
            return (
                Status::Error,
                "neither TLS 1.2 nor TLS 1.3 could be tried".into(),
            );
        }
        let measured = self.tls12.as_ref().is_some_and(|t| t.failure.is_none())
            || self.tls13.as_ref().is_some_and(|t| t.failure.is_none());
        let summary = parts.join("; ");
        if let Some(s) = self.long_ticket() {
            return (
                Status::Warn,
                format!("ticket lifetime hint {s} s is longer than 7 days; {summary}"),
            );
        }
        if !measured {
            return (Status::Error, summary);
        }
        (Status::Info, summary)
    }

    /// Detail changes for the baseline diff.
    pub fn changes(&self, new: &ResumptionDetails) -> Vec<(Kind, String)> {
        let mut out = Vec::new();
        if let Some(c) = flip(
            self.long_ticket().map(|_| true).or(Some(false)),
            new.long_ticket().map(|_| true).or(Some(false)),
            true,
            "TLS 1.2 ticket lifetime now longer than 7 days",
            "TLS 1.2 ticket lifetime no longer longer than 7 days",
        ) {
            out.push(c);
        }
        match (self.resumes(), new.resumes()) {
            (Some(a), Some(b)) if a != b => out.push((
                if b { Kind::New } else { Kind::Gone },
                format!(
                    "session resumption {}",
                    if b { "now works" } else { "no longer works" }
                ),
            )),
            _ => {}
        }
        out
    }

    /// Seed question 14 (integrity): connection reuse and ticket hygiene in one sentence.
    pub fn answer(&self, question: u8) -> Option<String> {
        (question == 14 && self.error.is_none()).then(|| {
            format!(
                "Session resumption {}{}",
                match self.resumes() {
                    Some(true) => "works (RFC 5923 connection reuse is cheap)",
                    Some(false) => "refused",
                    None => "not measured",
                },
                self.long_ticket()
                    .map(|s| format!("; tickets live {s} s (longer than 7 days)"))
                    .unwrap_or_default()
            )
        })
    }
}

impl EarlyDataDetails {
    /// Accepted early data is a fail: no SIP profile defines 0-RTT, and RFC 8446 Appendix E.5 says
    /// application protocols MUST NOT use it without one (RFC 9325 §3.10 repeats it). A ticket
    /// that offers it, not taken up, is a warn.
    pub fn judge(&self) -> Verdict {
        if let Some(e) = &self.error {
            return (Status::Error, e.clone());
        }
        if !self.applicable {
            return (
                Status::Pass,
                format!(
                    "no 0-RTT possible: {}",
                    self.not_applicable.as_deref().unwrap_or("not applicable")
                ),
            );
        }
        let offered = self.max_early_data_size.unwrap_or(0);
        match self.accepted {
            Some(true) => (
                Status::Fail,
                format!(
                    "TLS 1.3 early data (0-RTT) accepted: {} bytes sent before the handshake were taken (tickets allow {offered}); 0-RTT can be replayed",
                    self.early_data_sent
                ),
            ),
            _ if offered > 0 => (
                Status::Warn,
                format!(
                    "tickets offer {offered} bytes of early data (0-RTT){}",
                    if self.accepted == Some(false) {
                        ", though the data sent was refused"
                    } else {
                        ""
                    }
                ),
            ),
            _ => (Status::Pass, "no 0-RTT: tickets offer no early data".into()),
        }
    }

    pub fn changes(&self, new: &EarlyDataDetails) -> Vec<(Kind, String)> {
        flip(
            self.accepted,
            new.accepted,
            true,
            "TLS 1.3 early data (0-RTT) now accepted",
            "TLS 1.3 early data (0-RTT) no longer accepted",
        )
        .into_iter()
        .collect()
    }

    pub fn answer(&self, question: u8) -> Option<String> {
        (question == 14 && self.error.is_none()).then(|| {
            format!(
                "TLS 1.3 0-RTT accepted: {}",
                if self.applicable {
                    yes_no(self.accepted)
                } else {
                    "no (not applicable)"
                }
            )
        })
    }

    /// Policy `forbid_early_data`.
    pub fn forbid_early_data(&self) -> RuleCheck {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if !self.applicable {
            return Ok(Ok("no 0-RTT possible".into()));
        }
        match self.accepted {
            Some(true) => Ok(Err("TLS 1.3 early data (0-RTT) accepted".into())),
            Some(false) => Ok(Ok("early data refused".into())),
            None if self.max_early_data_size.unwrap_or(0) == 0 => {
                Ok(Ok("tickets offer no early data".into()))
            }
            None => Err("early data offered but not sent".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_early_data_fails_and_is_worse() {
        let off = EarlyDataDetails {
            applicable: true,
            max_early_data_size: Some(0),
            ..Default::default()
        };
        assert_eq!(off.judge().0, Status::Pass);
        let on = EarlyDataDetails {
            applicable: true,
            max_early_data_size: Some(16384),
            early_data_sent: 4,
            accepted: Some(true),
            ..Default::default()
        };
        assert_eq!(on.judge().0, Status::Fail);
        assert!(on.forbid_early_data().unwrap().is_err());
        let refused = EarlyDataDetails {
            accepted: Some(false),
            ..on.clone()
        };
        assert_eq!(refused.judge().0, Status::Warn);
        assert_eq!(refused.changes(&on)[0].0, Kind::Worse);
    }

    #[test]
    fn long_tickets_warn() {
        let mut d = ResumptionDetails {
            tls12: Some(Resumption12 {
                session_id_issued: true,
                session_id_resumed: Some(true),
                ticket_issued: true,
                ticket_lifetime_hint: Some(7200),
                ticket_resumed: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(d.judge().0, Status::Info);
        assert_eq!(d.resumes(), Some(true));
        let old = d.clone();
        d.tls12.as_mut().unwrap().ticket_lifetime_hint = Some(LONG_TICKET_SECONDS + 1);
        assert_eq!(d.judge().0, Status::Warn);
        assert_eq!(old.changes(&d)[0].0, Kind::Worse);
    }
}
