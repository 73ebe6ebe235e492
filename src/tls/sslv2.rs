//! SSLv2 (the DROWN class): an SSLv2-format CLIENT-HELLO offering the seven SSLv2 cipher kinds, and
//! the reader of the SERVER-HELLO. No modern library speaks SSLv2, so both are by hand; the reader is
//! pure (it looks at the bytes received so far) so the fuzz target reaches it.
//!
//! Wire format (draft-hickman-netscape-ssl-00, RFC 6176): a two-byte record header with the high
//! bit set and a 15-bit length, then the message. SERVER-HELLO is type 4: session-id-hit, certificate
//! type, version (0x0002), certificate length, cipher-specs length, connection-id length, then the
//! certificate, the three-byte cipher specs and the connection id.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// The SSLv2 cipher kinds, with their names.
pub const CIPHER_KINDS: &[(u32, &str)] = &[
    (0x010080, "SSL_CK_RC4_128_WITH_MD5"),
    (0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5"),
    (0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5"),
    (0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5"),
    (0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5"),
    (0x060040, "SSL_CK_DES_64_CBC_WITH_MD5"),
    (0x0700C0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"),
];

/// Longest SERVER-HELLO read (a certificate chain fits well within).
const MAX_ANSWER: usize = 64 * 1024;

/// The CLIENT-HELLO: version 2, every cipher kind, no session id, a 16-byte challenge.
pub fn client_hello() -> Vec<u8> {
    let mut msg = vec![1u8, 0x00, 0x02];
    let specs = CIPHER_KINDS.len() * 3;
    msg.extend_from_slice(&(specs as u16).to_be_bytes());
    msg.extend_from_slice(&0u16.to_be_bytes());
    msg.extend_from_slice(&16u16.to_be_bytes());
    for (k, _) in CIPHER_KINDS {
        msg.extend_from_slice(&k.to_be_bytes()[1..]);
    }
    msg.extend_from_slice(&rand::random::<[u8; 16]>());
    let mut out = (0x8000u16 | msg.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&msg);
    out
}

/// How an SSLv2 hello was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sslv2Answer {
    /// A SERVER-HELLO: the version it names and the cipher kinds it offers (names, or hex when
    /// unknown). Accepted only with version 2 and at least one cipher.
    ServerHello { version: u16, ciphers: Vec<String> },
    /// A TLS alert record (a TLS server refusing the hello).
    Alert(u8),
    /// An SSLv2 ERROR message (type 0) with its code.
    Error(u16),
    /// Bytes that are neither, and why.
    Garbage(String),
}

impl Sslv2Answer {
    pub fn accepted(&self) -> bool {
        matches!(self, Sslv2Answer::ServerHello { version: 2, ciphers } if !ciphers.is_empty())
    }

    /// How a refusal is reported, in the words `tls.versions` uses (`alert:handshake_failure`, …).
    pub fn refusal(&self) -> String {
        match self {
            Sslv2Answer::ServerHello { version, ciphers } if *version != 2 => {
                format!("sslv2 server-hello with version 0x{version:04x}")
            }
            Sslv2Answer::ServerHello { ciphers, .. } if ciphers.is_empty() => {
                "sslv2 server-hello without ciphers".into()
            }
            Sslv2Answer::ServerHello { .. } => "accepted".into(),
            Sslv2Answer::Alert(d) => format!("alert:{}", super::answer::alert_name(*d)),
            Sslv2Answer::Error(c) => format!("sslv2 error 0x{c:04x}"),
            Sslv2Answer::Garbage(why) => format!("garbage: {why}"),
        }
    }
}

/// Reads the answer from the bytes received so far: `None` while more are needed.
pub fn parse(buf: &[u8]) -> Option<Sslv2Answer> {
    let first = *buf.first()?;
    if first == 21 {
        // A TLS record: content type alert, version, length, then level and description.
        return (buf.len() >= 7).then(|| Sslv2Answer::Alert(buf[6]));
    }
    if first & 0x80 == 0 {
        return Some(Sslv2Answer::Garbage(format!(
            "not an SSLv2 record (first byte 0x{first:02x})"
        )));
    }
    if buf.len() < 2 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([first & 0x7f, buf[1]]));
    let body = buf.get(2..2 + len)?;
    match body.first() {
        Some(0) if body.len() >= 3 => {
            Some(Sslv2Answer::Error(u16::from_be_bytes([body[1], body[2]])))
        }
        Some(4) if body.len() >= 11 => {
            let at = |i: usize| usize::from(u16::from_be_bytes([body[i], body[i + 1]]));
            let version = u16::from_be_bytes([body[3], body[4]]);
            let (cert, specs) = (at(5), at(7));
            let Some(list) = body.get(11 + cert..11 + cert + specs) else {
                return Some(Sslv2Answer::Garbage(
                    "SERVER-HELLO lengths exceed the record".into(),
                ));
            };
            let ciphers = list
                .chunks_exact(3)
                .map(|c| {
                    let k = u32::from_be_bytes([0, c[0], c[1], c[2]]);
                    CIPHER_KINDS
                        .iter()
                        .find(|(x, _)| *x == k)
                        .map_or_else(|| format!("0x{k:06x}"), |(_, n)| n.to_string())
                })
                .collect();
            Some(Sslv2Answer::ServerHello { version, ciphers })
        }
        _ => Some(Sslv2Answer::Garbage(format!(
            "unexpected SSLv2 message of {len} bytes"
        ))),
    }
}

/// Sends the CLIENT-HELLO on a fresh connection and reads the answer, all within `wait`. Transport
/// outcomes are reported as refusals (`reset`, `closed`, `timeout`, …).
pub async fn ask(
    addr: SocketAddr,
    wait: Duration,
    connections: &AtomicUsize,
    turn: crate::transport::HandshakeTurn,
) -> Result<Sslv2Answer, String> {
    let deadline = Instant::now() + wait;
    connections.fetch_add(1, Ordering::Relaxed);
    let c = Instant::now();
    let mut s = match timeout_at(deadline, TcpStream::connect(addr)).await {
        Err(_) => return Err("timeout".into()),
        Ok(Err(e)) => return Err(io_refusal(&e)),
        Ok(Ok(s)) => s,
    };
    turn.connected(c.elapsed());
    let _ = s.set_nodelay(true);
    let t = Instant::now();
    let out = read_answer(&mut s, deadline).await;
    let bound = crate::transport::closing::bound_after(t.elapsed());
    crate::transport::closing::close_behind(s, Some(Vec::new()), turn, bound);
    out
}

async fn read_answer(s: &mut TcpStream, deadline: Instant) -> Result<Sslv2Answer, String> {
    match timeout_at(deadline, s.write_all(&client_hello())).await {
        Err(_) => return Err("timeout".into()),
        Ok(Err(e)) => return Err(io_refusal(&e)),
        Ok(Ok(())) => {}
    }
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    while buf.len() < MAX_ANSWER {
        let n = match timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return Err("timeout".into()),
            Ok(Err(e)) => return Err(io_refusal(&e)),
            Ok(Ok(0)) => return Err("closed".into()),
            Ok(Ok(n)) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        if let Some(a) = parse(&buf) {
            return Ok(a);
        }
    }
    Ok(Sslv2Answer::Garbage(format!(
        "{} bytes without a complete answer",
        buf.len()
    )))
}

fn io_refusal(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection_refused".into(),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => "reset".into(),
        io::ErrorKind::UnexpectedEof => "closed".into(),
        _ => format!("error: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_lengths_are_consistent() {
        let h = client_hello();
        assert_eq!(h[0] & 0x80, 0x80);
        let len = usize::from(u16::from_be_bytes([h[0] & 0x7f, h[1]]));
        assert_eq!(len, h.len() - 2);
        assert_eq!(h[2], 1);
        assert_eq!(&h[3..5], &[0, 2]);
        assert_eq!(len, 9 + 7 * 3 + 16);
    }

    fn server_hello(version: u16, specs: &[u32]) -> Vec<u8> {
        let cert = [0x30u8, 0x03, 1, 2, 3];
        let mut m = vec![4u8, 0, 1];
        m.extend_from_slice(&version.to_be_bytes());
        m.extend_from_slice(&(cert.len() as u16).to_be_bytes());
        m.extend_from_slice(&((specs.len() * 3) as u16).to_be_bytes());
        m.extend_from_slice(&16u16.to_be_bytes());
        m.extend_from_slice(&cert);
        for s in specs {
            m.extend_from_slice(&s.to_be_bytes()[1..]);
        }
        m.extend_from_slice(&[7u8; 16]);
        let mut out = (0x8000u16 | m.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(&m);
        out
    }

    #[test]
    fn server_hello_is_read_whole_and_never_early() {
        let b = server_hello(2, &[0x010080, 0x0700C0]);
        for cut in 0..b.len() {
            assert_eq!(parse(&b[..cut]), None, "cut at {cut}");
        }
        let a = parse(&b).unwrap();
        assert!(a.accepted());
        assert_eq!(
            a,
            Sslv2Answer::ServerHello {
                version: 2,
                ciphers: vec![
                    "SSL_CK_RC4_128_WITH_MD5".into(),
                    "SSL_CK_DES_192_EDE3_CBC_WITH_MD5".into()
                ]
            }
        );
        assert!(!parse(&server_hello(2, &[])).unwrap().accepted());
        assert_eq!(
            parse(&[21, 3, 1, 0, 2, 2, 40]),
            Some(Sslv2Answer::Alert(40))
        );
        assert!(matches!(parse(b"SIP/2.0"), Some(Sslv2Answer::Garbage(_))));
    }
}
