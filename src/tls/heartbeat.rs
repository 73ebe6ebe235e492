//! Heartbleed (CVE-2014-0160), the non-destructive way: one connection, a TLS ≤ 1.2 hello offering
//! the heartbeat extension (RFC 6520); only if the server negotiates it, one heartbeat request right
//! after its first flight whose claimed payload length ([`CLAIM`]) exceeds the payload sent (none).
//! A patched server discards it silently (RFC 6520 §4) or alerts; a vulnerable one answers a
//! heartbeat response carrying memory it should not. At most one record and [`READ_CAP`] bytes are
//! read back, and the bytes are never kept: only their length and SHA-256.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::answer::{Answer, Parser, Step, alert_name};
use super::hello::{EXT_HEARTBEAT, Hello};
use super::suites;
use super::version::Version;
use super::wire;
use crate::transport::{Turns, closing};

/// The payload length the request claims; the request carries no payload at all.
pub const CLAIM: u16 = 1024;
/// Most bytes of the answer read (and hashed) before the connection is closed.
pub const READ_CAP: usize = 4096;
/// A heartbeat response to a request with an empty payload: type, length and 16 bytes of padding.
const HONEST_LEN: usize = 3 + 16;

/// What the heartbeat check saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatResult {
    /// The hello's answer (`accepted` or how it was refused).
    pub hello: String,
    /// The negotiated version label, when a ServerHello came.
    pub version: Option<String>,
    /// The ServerHello echoed the heartbeat extension.
    pub extension: bool,
    /// A heartbeat request was sent (only when the extension was negotiated).
    pub request_sent: bool,
    /// What came back for the request: `heartbeat_response`, `alert:NAME`, `timeout`, `closed`, …
    pub answer: Option<String>,
    /// The heartbeat response record's length as the server stated it.
    pub response_len: Option<usize>,
    /// Bytes past an honest response (type, length, padding): memory the server gave away.
    pub leaked_len: Option<usize>,
    /// SHA-256 (hex) of the response bytes read (at most [`READ_CAP`]); never the bytes.
    pub leaked_sha256: Option<String>,
}

impl HeartbeatResult {
    /// `Some(true)` when the server answered with more than it was sent.
    pub fn vulnerable(&self) -> Option<bool> {
        if !self.extension {
            return (self.version.is_some()).then_some(false);
        }
        self.answer.as_ref()?;
        Some(self.leaked_len.is_some_and(|n| n > 0))
    }
}

fn request(version: u16) -> [u8; 8] {
    let v = version.min(0x0303).to_be_bytes();
    let c = CLAIM.to_be_bytes();
    [24, v[0], v[1], 0, 3, 1, c[0], c[1]]
}

/// Runs the check against `addr` within `wait`, on its own (no other handshakes to share with).
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub async fn check(addr: SocketAddr, sni: Option<String>, wait: Duration) -> HeartbeatResult {
    check_in_turn(addr, sni, wait, &Turns::default()).await
}

/// Runs the check against `addr` within `wait`, its hello and close in the address's handshake
/// turns ([`crate::transport::closing`]).
pub async fn check_in_turn(
    addr: SocketAddr,
    sni: Option<String>,
    wait: Duration,
    turns: &Turns,
) -> HeartbeatResult {
    let mut out = HeartbeatResult::default();
    // The turn before the connect (see crate::transport::HandshakeTurn).
    let turn = turns.take().await;
    let deadline = Instant::now() + wait;
    let c = Instant::now();
    let mut s = match wire::connect(addr, deadline).await {
        Ok(s) => s,
        Err(a) => {
            out.hello = a.refusal();
            return out;
        }
    };
    turn.connected(c.elapsed());
    let t = Instant::now();
    let goodbye = converse(&mut s, sni, deadline, &mut out).await;
    closing::close_behind(s, Some(goodbye), turn, closing::bound_after(t.elapsed()));
    out
}

/// The hello and, when the extension is negotiated, the heartbeat request; returns what to send
/// before our FIN.
async fn converse(
    s: &mut TcpStream,
    sni: Option<String>,
    deadline: Instant,
    out: &mut HeartbeatResult,
) -> Vec<u8> {
    let mut h = Hello::new(Version::Tls12, suites::candidates(Version::Tls12), sni);
    h.heartbeat = true;
    h.offer_compression = false;
    if s.write_all(&h.encode()).await.is_err() {
        out.hello = "reset".into();
        return Vec::new();
    }
    let mut parser = Parser::new(true);
    let mut chunk = vec![0u8; 16 * 1024];
    let answer = loop {
        let n = match timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => break parser.finish(Answer::Timeout),
            Ok(Err(_)) => break parser.finish(Answer::Reset),
            Ok(Ok(0)) => break parser.finish(Answer::Closed),
            Ok(Ok(n)) => n,
        };
        if let Step::Done(a) = parser.feed(&chunk[..n]) {
            break a;
        }
    };
    out.hello = answer.refusal();
    let Some(sh) = answer.hello() else {
        return Vec::new();
    };
    out.version = Some(super::version::wire_label(sh.version).to_string());
    out.extension = sh.extensions.contains(&EXT_HEARTBEAT);
    if !out.extension || !sh.flight_complete || sh.version > 0x0303 {
        return Vec::new();
    }
    out.request_sent = s.write_all(&request(sh.version)).await.is_ok();
    let reply = read_one_record(s, deadline).await;
    match reply {
        Reply::Record {
            kind: 24,
            len,
            read,
        } => {
            out.answer = Some("heartbeat_response".into());
            out.response_len = Some(len);
            out.leaked_len = Some(len.saturating_sub(HONEST_LEN));
            out.leaked_sha256 = Some(sha256_hex(&read));
        }
        Reply::Record { kind: 21, read, .. } if read.len() >= 2 => {
            out.answer = Some(format!("alert:{}", alert_name(read[1])));
        }
        Reply::Record { kind, .. } => out.answer = Some(format!("record type {kind}")),
        Reply::End(why) => out.answer = Some(why),
    }
    wire::close_notify(sh.version).to_vec()
}

enum Reply {
    /// One record: its type, stated length, and the body bytes read (at most [`READ_CAP`]).
    Record {
        kind: u8,
        len: usize,
        read: Vec<u8>,
    },
    End(String),
}

/// Reads one record header and at most [`READ_CAP`] bytes of its body.
async fn read_one_record(s: &mut TcpStream, deadline: Instant) -> Reply {
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CAP + 5);
    let mut chunk = [0u8; 1024];
    loop {
        if buf.len() >= 5 {
            let len = u16::from_be_bytes([buf[3], buf[4]]) as usize;
            let want = len.min(READ_CAP);
            if buf.len() >= 5 + want {
                let read = buf[5..5 + want].to_vec();
                return Reply::Record {
                    kind: buf[0],
                    len,
                    read,
                };
            }
        }
        let room = (READ_CAP + 5 - buf.len()).min(chunk.len());
        match timeout_at(deadline, s.read(&mut chunk[..room])).await {
            Err(_) => return Reply::End("timeout (discarded silently)".into()),
            Ok(Err(_)) => return Reply::End("reset".into()),
            Ok(Ok(0)) => return Reply::End("closed".into()),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn sha256_hex(b: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_claims_more_than_it_carries() {
        let r = request(0x0303);
        assert_eq!(
            &r[..5],
            &[24, 3, 3, 0, 3],
            "a 3-byte record: no payload, no padding"
        );
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), CLAIM);
    }

    #[test]
    fn verdicts() {
        let mut r = HeartbeatResult {
            version: Some("TLSv1.2".into()),
            ..Default::default()
        };
        assert_eq!(r.vulnerable(), Some(false), "no extension: nothing sent");
        r.extension = true;
        assert_eq!(r.vulnerable(), None, "extension but no request answered");
        r.answer = Some("timeout (discarded silently)".into());
        assert_eq!(r.vulnerable(), Some(false));
        r.leaked_len = Some(1024);
        assert_eq!(r.vulnerable(), Some(true));
    }
}
