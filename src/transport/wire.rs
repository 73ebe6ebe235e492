//! What the wire showed of a SIP exchange that got no answer: refused, reset, accepted but silent,
//! or nothing at all. A run in which no endpoint answered SIP says which of these it saw, because
//! each points at a different cause (nothing listening, a filter, an SBC that ignores strangers).

use super::{Exchange, TxError};
use crate::target::Transport;

/// The most a SIP exchange with one endpoint got back, ordered from least to most seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Wire {
    /// UDP: no answer and no ICMP error before the timeout.
    UdpSilent,
    /// TCP or TLS: no connection (or TLS handshake) before the timeout: the SYN went unanswered.
    NotConnected,
    /// Refused: a TCP reset to the SYN, or an ICMP port unreachable to a UDP datagram.
    Refused,
    /// The connection was accepted, then reset before any answer.
    Reset,
    /// The connection was accepted, then closed before any answer.
    Closed,
    /// The connection was accepted and stayed open, but not a byte came back before the timeout.
    AcceptedSilent,
    /// The TLS handshake failed (the reason).
    TlsFailed(String),
    /// Bytes came back that are not SIP (the reason).
    NotSip(String),
    /// Something else went wrong on our side (the reason).
    Local(String),
    /// A SIP message came back.
    Answered,
}

impl Wire {
    /// What the wire showed of one exchange.
    pub fn of(ex: &Exchange) -> Wire {
        if !ex.responses.is_empty()
            || ex
                .strays
                .iter()
                .any(|s| matches!(s, super::Incoming::Message(_)))
        {
            return Wire::Answered;
        }
        if let Some(g) = ex.garbage_reason() {
            return Wire::NotSip(g);
        }
        let stream = ex.transport.is_stream();
        match &ex.error {
            Some(TxError::Protocol(why, _)) => Wire::NotSip(why.clone()),
            Some(e @ (TxError::Tls(_) | TxError::ClientCertRequired(_))) => {
                Wire::TlsFailed(e.to_string())
            }
            Some(e @ TxError::ClientCertRefused(_)) => Wire::TlsFailed(e.to_string()),
            Some(TxError::Refused) => Wire::Refused,
            Some(TxError::Reset) => Wire::Reset,
            Some(TxError::Closed) => Wire::Closed,
            Some(TxError::Timeout) | None if stream && ex.reached => Wire::AcceptedSilent,
            Some(TxError::Timeout) | None if stream => Wire::NotConnected,
            Some(TxError::Timeout) | None => Wire::UdpSilent,
            Some(TxError::Io(e)) => Wire::Local(e.clone()),
        }
    }

    /// What was seen, in words, for an endpoint on `transport`.
    pub fn describe(&self, transport: Transport) -> String {
        match self {
            Wire::UdpSilent => "silence: no answer and no ICMP error before the timeout".into(),
            Wire::NotConnected if transport == Transport::Tls => {
                "no TCP connection and TLS handshake completed before the timeout".into()
            }
            Wire::NotConnected => "no TCP connection before the timeout (the SYN went unanswered)".into(),
            Wire::Refused if transport == Transport::Udp => {
                "ICMP port unreachable: nothing listens on that port".into()
            }
            Wire::Refused => "connection refused (TCP reset to the SYN): nothing listens on that port".into(),
            Wire::Reset => "TCP reset: the connection was accepted, then reset before any answer".into(),
            Wire::Closed => "the connection was accepted, then closed before any answer".into(),
            Wire::AcceptedSilent => {
                "TCP accepted but silent: the connection was accepted and stayed open, and no byte came back before the timeout".into()
            }
            Wire::TlsFailed(why) => why.clone(),
            Wire::NotSip(why) => format!("an answer that is not SIP: {why}"),
            Wire::Local(why) => format!("could not send: {why}"),
            Wire::Answered => "answered SIP".into(),
        }
    }

    /// Whether this is silence of the kind an SBC shows to source addresses it does not serve.
    pub fn is_silence(&self) -> bool {
        matches!(
            self,
            Wire::UdpSilent | Wire::NotConnected | Wire::AcceptedSilent
        )
    }
}
