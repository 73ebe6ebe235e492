//! A hand-made TLS server for what no packaged server offers (TLS 1.3 integrity-only suites, legacy
//! versions side by side): it parses each ClientHello and answers with a bare ServerHello choosing
//! the highest version it accepts and its first suite the client offers, or with an alert. What the
//! TLS probe makes of that is then the probe's own reading, as against a real server.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Wire versions.
pub const SSL3: u16 = 0x0300;
pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;
pub const TLS13: u16 = 0x0304;

/// The wire version of a label (`TLSv1.2`).
pub fn wire(label: &str) -> u16 {
    match label {
        "SSLv3" => SSL3,
        "TLSv1.0" => TLS10,
        "TLSv1.1" => TLS11,
        "TLSv1.2" => TLS12,
        "TLSv1.3" => TLS13,
        other => panic!("no wire version for {other}"),
    }
}

/// The code of a registered suite name.
pub fn code(name: &str) -> u16 {
    sipcheck::tls::suites::registry()
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is not a registered suite"))
        .code
}

/// RFC 8446 §4.1.3: the random of a HelloRetryRequest.
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// What a ClientHello offers, as far as the fake cares.
#[derive(Debug, Default)]
struct Offered {
    /// The legacy `client_version`.
    version: u16,
    session_id: Vec<u8>,
    suites: Vec<u16>,
    tls13: bool,
    /// The group of the first key share, and the first supported group.
    key_share: Option<u16>,
    first_group: Option<u16>,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// Parses one ClientHello record; `None` for anything else (an SSLv2 hello, garbage).
fn parse(rec: &[u8]) -> Option<Offered> {
    if rec.first() != Some(&22) || rec.get(5) != Some(&1) {
        return None;
    }
    let b = rec.get(9..)?;
    let mut o = Offered {
        version: u16_at(b, 0)?,
        ..Offered::default()
    };
    let mut i = 34;
    let sid = *b.get(i)? as usize;
    o.session_id = b.get(i + 1..i + 1 + sid)?.to_vec();
    i += 1 + sid;
    let n = u16_at(b, i)? as usize;
    o.suites = (0..n / 2)
        .filter_map(|k| u16_at(b, i + 2 + 2 * k))
        .collect();
    i += 2 + n;
    i += 1 + *b.get(i)? as usize;
    let end = (i + 2 + u16_at(b, i)? as usize).min(b.len());
    i += 2;
    while i + 4 <= end {
        let (kind, len) = (u16_at(b, i)?, u16_at(b, i + 2)? as usize);
        let d = b.get(i + 4..i + 4 + len)?;
        match kind {
            0x002B => o.tls13 = d.get(1..).is_some_and(|v| v.chunks(2).any(|v| v == [3, 4])),
            0x0033 => o.key_share = u16_at(d, 2),
            0x000A => o.first_group = u16_at(d, 2),
            _ => {}
        }
        i += 4 + len;
    }
    Some(o)
}

fn record(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![kind, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn alert(description: u8) -> Vec<u8> {
    record(21, &[2, description])
}

/// A TLS 1.3 ServerHello choosing `suite`, with a key share for the client's group (or, when it sent
/// none, a HelloRetryRequest asking for its first supported group).
fn server_hello(o: &Offered, version: u16, suite: u16) -> Vec<u8> {
    if version != TLS13 {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&[7u8; 32]);
        b.push(o.session_id.len() as u8);
        b.extend_from_slice(&o.session_id);
        b.extend_from_slice(&suite.to_be_bytes());
        b.extend_from_slice(&[0, 0, 5, 0xFF, 0x01, 0, 1, 0]);
        let mut m = vec![2, 0];
        m.extend_from_slice(&(b.len() as u16).to_be_bytes());
        m.extend_from_slice(&b);
        return record(22, &m);
    }
    let mut exts = vec![0x00, 0x2B, 0, 2, 3, 4];
    let random = match (o.key_share, o.first_group) {
        (Some(g), _) => {
            exts.extend_from_slice(&[0x00, 0x33, 0, 36]);
            exts.extend_from_slice(&g.to_be_bytes());
            exts.extend_from_slice(&[0, 32]);
            exts.extend_from_slice(&[0x42; 32]);
            [7u8; 32]
        }
        (None, g) => {
            exts.extend_from_slice(&[0x00, 0x33, 0, 2]);
            exts.extend_from_slice(&g.unwrap_or(0x001D).to_be_bytes());
            HRR_RANDOM
        }
    };
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.push(o.session_id.len() as u8);
    b.extend_from_slice(&o.session_id);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    let mut m = vec![2, 0];
    m.extend_from_slice(&(b.len() as u16).to_be_bytes());
    m.extend_from_slice(&b);
    record(22, &m)
}

/// The answer of a server accepting `accepts` to one hello record: the highest accepted version the
/// client allows, with the first suite of that version's list the client offers.
fn answer(accepts: &[(u16, Vec<u16>)], rec: &[u8]) -> Vec<u8> {
    let Some(o) = parse(rec) else {
        return alert(70);
    };
    let max = if o.tls13 { TLS13 } else { o.version };
    let Some((v, list)) = accepts
        .iter()
        .filter(|(v, _)| *v <= max && (*v != TLS13 || o.tls13))
        .max_by_key(|(v, _)| *v)
    else {
        return alert(70);
    };
    match list.iter().find(|s| o.suites.contains(s)) {
        Some(s) => server_hello(&o, *v, *s),
        None => alert(40),
    }
}

/// A TLS server that answers each hello (one per connection) with a bare ServerHello (no certificate)
/// or an alert, accepting `accepts`: (wire version, suites in its preference order). Stops when the
/// test's runtime ends.
pub async fn start(accepts: Vec<(u16, Vec<u16>)>) -> SocketAddr {
    let accepts = std::sync::Arc::new(accepts);
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        // Bounded: a scan opens a few hundred connections at most.
        for _ in 0..2_000 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let accepts = accepts.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16_384];
                let mut n = 0;
                // One whole record: its header says how long it is.
                while n < 5 || n < 5 + u16::from_be_bytes([buf[3], buf[4]]) as usize {
                    match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf[n..])).await
                    {
                        Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                        Ok(Ok(k)) => n += k,
                    }
                    if n == buf.len() {
                        break;
                    }
                }
                let _ = s.write_all(&answer(&accepts, &buf[..n])).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}
