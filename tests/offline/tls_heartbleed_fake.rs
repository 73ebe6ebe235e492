//! Heartbleed against an in-process fake that plays the vulnerable side (OpenSSL 3 has no heartbeat
//! at all): it negotiates the heartbeat extension and answers a request with as many bytes of its
//! "memory" as the request claims. The check must call it vulnerable, read at most one record of at
//! most 4 KB, and never let a leaked byte reach the report (only the length and SHA-256).
//!
//! Not confirmed by testssl.sh or sslyze here: both first need a completed handshake, which this
//! fake does not implement (it stops after ServerHelloDone, where the heartbeat is sent). The same
//! flaw in the full-handshake fake (tests/support/tls12_fake.rs) is called vulnerable by sipcheck,
//! sslyze and testssl.sh in tests/peers/tls_fakes_confirmed.rs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sipcheck::tls::heartbeat;

const MEMORY: &[u8] = b"SECRET-KEY-MATERIAL-";

#[derive(Clone, Copy)]
enum Kind {
    /// Negotiates heartbeat and answers the oversized request with `claimed` bytes of memory.
    Vulnerable,
    /// Negotiates heartbeat and discards the oversized request silently (RFC 6520 §4).
    Patched,
    /// Never negotiates heartbeat.
    NoHeartbeat,
}

fn record(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![kind, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut m = vec![kind, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    m.extend_from_slice(body);
    m
}

fn read_record(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 5];
    s.read_exact(&mut h).ok()?;
    let mut b = vec![0u8; u16::from_be_bytes([h[3], h[4]]) as usize];
    s.read_exact(&mut b).ok()?;
    Some((h[0], b))
}

/// Whether a ClientHello body offers the heartbeat extension.
fn offers_heartbeat(ch: &[u8]) -> bool {
    let b = ch.get(4..).unwrap_or_default();
    let mut at = 2 + 32;
    let Some(sid) = b.get(at) else { return false };
    at += 1 + *sid as usize;
    let Some(n) = b.get(at..at + 2) else {
        return false;
    };
    at += 2 + u16::from_be_bytes([n[0], n[1]]) as usize;
    let Some(c) = b.get(at) else { return false };
    at += 1 + *c as usize + 2;
    while let Some(e) = b.get(at..at + 4) {
        if u16::from_be_bytes([e[0], e[1]]) == 0x000F {
            return true;
        }
        at += 4 + u16::from_be_bytes([e[2], e[3]]) as usize;
    }
    false
}

fn serve(mut s: TcpStream, kind: Kind, der: &[u8], leaked: &AtomicBool) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let Some((22, ch)) = read_record(&mut s) else {
        return;
    };
    let heartbeat = !matches!(kind, Kind::NoHeartbeat) && offers_heartbeat(&ch);
    let mut sh = vec![3, 3];
    sh.extend_from_slice(&[7; 32]);
    sh.push(0);
    sh.extend_from_slice(&[0x00, 0x2F, 0]);
    let mut ext = vec![0xFF, 0x01, 0, 1, 0];
    if heartbeat {
        ext.extend_from_slice(&[0x00, 0x0F, 0, 1, 1]);
    }
    sh.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    sh.extend_from_slice(&ext);
    let mut certs = Vec::new();
    let n = der.len();
    certs.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    certs.extend_from_slice(der);
    let mut list = Vec::new();
    let m = certs.len();
    list.extend_from_slice(&[(m >> 16) as u8, (m >> 8) as u8, m as u8]);
    list.extend_from_slice(&certs);
    let mut flight = handshake(2, &sh);
    flight.extend(handshake(11, &list));
    flight.extend(handshake(14, &[]));
    if s.write_all(&record(22, &flight)).is_err() {
        return;
    }
    while let Some((t, body)) = read_record(&mut s) {
        if t == 24 && body.first() == Some(&1) && body.len() >= 3 {
            let claimed = u16::from_be_bytes([body[1], body[2]]) as usize;
            if matches!(kind, Kind::Vulnerable) {
                let mut resp = vec![2, body[1], body[2]];
                resp.extend(MEMORY.iter().cycle().take(claimed));
                resp.extend_from_slice(&[0u8; 16]);
                leaked.store(true, Ordering::Relaxed);
                let _ = s.write_all(&record(24, &resp));
            }
        }
    }
}

/// Starts a fake on loopback; it serves until the test process ends (each connection on a thread).
fn fake(kind: Kind) -> (SocketAddr, Arc<AtomicBool>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let der = rcgen::CertificateParams::new(vec!["127.0.0.1".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .der()
        .to_vec();
    let leaked = Arc::new(AtomicBool::new(false));
    let flag = leaked.clone();
    std::thread::spawn(move || {
        for s in l.incoming().take(400).flatten() {
            let (der, flag) = (der.clone(), flag.clone());
            std::thread::spawn(move || serve(s, kind, &der, &flag));
        }
    });
    (addr, leaked)
}

fn sha256_hex(b: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[tokio::test]
async fn the_vulnerable_fake_is_found_and_only_a_length_and_hash_are_kept() {
    let (addr, leaked) = fake(Kind::Vulnerable);
    let r = heartbeat::check(addr, None, Duration::from_secs(5)).await;
    assert!(leaked.load(Ordering::Relaxed), "the fake answered: {r:?}");
    assert_eq!(r.vulnerable(), Some(true), "{r:?}");
    assert!(r.extension && r.request_sent);
    let claimed = heartbeat::CLAIM as usize;
    assert_eq!(r.response_len, Some(3 + claimed + 16));
    assert_eq!(r.leaked_len, Some(claimed));
    // What was read: the whole record (under the 4 KB cap), hashed, never kept.
    let mut body = vec![2];
    body.extend_from_slice(&heartbeat::CLAIM.to_be_bytes());
    body.extend(MEMORY.iter().cycle().take(claimed));
    body.extend_from_slice(&[0u8; 16]);
    assert_eq!(r.leaked_sha256.as_deref(), Some(sha256_hex(&body).as_str()));
    let debug = format!("{r:?}");
    assert!(!debug.contains("SECRET"), "{debug}");
}

#[tokio::test]
async fn patched_and_heartbeat_less_servers_are_not_vulnerable() {
    let (addr, leaked) = fake(Kind::Patched);
    let r = heartbeat::check(addr, None, Duration::from_millis(1500)).await;
    assert_eq!(r.vulnerable(), Some(false), "{r:?}");
    assert!(
        r.request_sent,
        "heartbeat negotiated, so the request was sent"
    );
    assert!(!leaked.load(Ordering::Relaxed));
    let (addr, _) = fake(Kind::NoHeartbeat);
    let r = heartbeat::check(addr, None, Duration::from_secs(5)).await;
    assert_eq!(r.vulnerable(), Some(false), "{r:?}");
    assert!(
        !r.request_sent,
        "no heartbeat is sent unless negotiated (RFC 6520 §2)"
    );
}

#[test]
fn a_full_scan_of_the_vulnerable_fake_fails_and_the_report_holds_no_leaked_byte() {
    let (addr, _) = fake(Kind::Vulnerable);
    let target = addr.to_string();
    let out = crate::support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "tls",
        "--format",
        "json",
        "--timeout",
        "2s",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("SECRET"), "leaked bytes in the report");
    let r = crate::support::json(&out);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tls.heartbleed")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["status"], "fail", "{f:#}");
    assert_eq!(f["details"]["leaked_length"], heartbeat::CLAIM, "{f:#}");
}
