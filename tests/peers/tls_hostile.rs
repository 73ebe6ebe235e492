//! The TLS scan against hostile or broken peers: garbage, a 2^24 handshake length, a reset
//! mid-handshake, silence, and a target that starts dropping connections mid-scan. Each yields an
//! honest answer, never a panic or a hang.

#[allow(unused_imports)]
use crate::{support, tls_support};

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sipcheck::probe::Limiter;
use sipcheck::tls::scan::{ScanResult, Scanner};
use sipcheck::tls::version::Version;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy)]
enum Peer {
    Garbage,
    HugeHandshake,
    ResetMidHandshake,
    Silence,
}

async fn hostile(kind: Peer) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                match kind {
                    Peer::Garbage => {
                        let _ = s
                            .write_all(b"SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                            .await;
                    }
                    Peer::HugeHandshake => {
                        // A handshake record announcing a ServerHello of 2^24 - 1 bytes.
                        let _ = s.write_all(&[22, 3, 3, 0, 4, 2, 0xFF, 0xFF, 0xFF]).await;
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                    Peer::ResetMidHandshake => {
                        let _ = s.write_all(&[22, 3, 3, 0, 80, 2, 0, 0, 76, 3, 3]).await;
                        let _ = s.set_zero_linger();
                    }
                    Peer::Silence => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    addr
}

async fn scan(addr: SocketAddr, wait: Duration) -> ScanResult {
    let limiter = Limiter::new(1000.0, 1000, 4);
    let scanner = Scanner::new(addr, None, wait, &limiter);
    tokio::time::timeout(Duration::from_secs(30), scanner.run())
        .await
        .expect("the scan of a hostile peer must not hang")
}

fn refusals(r: &ScanResult) -> Vec<String> {
    Version::ALL
        .iter()
        .map(|v| r.versions[v].refusal.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn garbage_instead_of_a_server_hello() {
    let r = scan(hostile(Peer::Garbage).await, Duration::from_secs(2)).await;
    assert!(r.accepted().is_empty());
    assert!(!r.reached());
    for why in refusals(&r) {
        assert!(why.starts_with("garbage: not a TLS record"), "{why}");
    }
}

#[tokio::test]
async fn handshake_length_of_2_pow_24_is_refused_without_waiting() {
    // The peer then holds the connection open: a "timeout" here would mean the scan waited for 16 MiB.
    let r = scan(hostile(Peer::HugeHandshake).await, Duration::from_secs(5)).await;
    for why in refusals(&r) {
        assert!(
            why.contains("handshake message length 16777215 exceeds"),
            "{why}"
        );
    }
}

#[tokio::test]
async fn reset_mid_handshake() {
    let r = scan(
        hostile(Peer::ResetMidHandshake).await,
        Duration::from_secs(2),
    )
    .await;
    assert!(r.accepted().is_empty());
    for why in refusals(&r) {
        assert!(
            why.contains("connection ended mid-record") || why == "reset",
            "{why}"
        );
    }
}

#[tokio::test]
async fn silence_is_a_timeout() {
    let r = scan(hostile(Peer::Silence).await, Duration::from_millis(400)).await;
    assert_eq!(refusals(&r), vec!["timeout"; 5]);
    assert!(!r.reached());
}

#[test]
fn silent_endpoint_gives_error_findings_through_the_cli() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(hostile(Peer::Silence));
    let target = addr.to_string();
    let out = support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "tls",
        "--format",
        "json",
        "--timeout",
        "500ms",
    ]);
    let r = support::json(&out);
    for id in [
        "tls.versions",
        "tls.cipher_suites",
        "tls.mismatch",
        "tls.certificate",
        "tls.groups",
    ] {
        let f = tls_support::finding(&r, id);
        assert_eq!(f["status"], "error", "{f:#}");
        assert!(f["summary"].as_str().unwrap().contains("timeout"), "{f:#}");
    }
    drop(rt);
}

/// A relay to a real server that forwards the first `allow` connections and resets every later one,
/// like a target whose intrusion prevention kicks in mid-scan.
async fn banning_relay(upstream: u16, allow: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            if n >= allow {
                let _ = s.set_zero_linger();
                drop(s);
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)).await {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(10),
                        tokio::io::copy_bidirectional(&mut s, &mut up),
                    )
                    .await;
                }
            });
        }
    });
    (addr, seen)
}

/// Which connection the ban first hits depends on which of the scan's hellos gets each turn, so
/// the ban comes at several points; wherever it comes, no version is called refused because of it.
#[test]
fn target_dropping_connections_mid_scan_is_blocked() {
    let server = tls_support::SServer::start(&["-min_protocol", "TLSv1.2", "-serverpref"], false);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // From among the version hellos to past them and the checks beside the scan.
    for allow in [4, 8, 16] {
        let (addr, seen) = rt.block_on(banning_relay(server.port, allow));
        let r = tls_support::scan(addr.port(), &[]);
        assert!(
            seen.load(Ordering::SeqCst) > allow,
            "the scan went past the ban at {allow}"
        );
        let v = tls_support::finding(&r, "tls.versions");
        if v["status"] == "error" {
            // Every version hello came after the ban: nothing answered at the TLS level.
            assert!(
                v["summary"].as_str().unwrap().contains("no TLS answer"),
                "{v:#}"
            );
            continue;
        }
        // The truth: this server alerts below TLS 1.2 and accepts 1.2 and 1.3. A version whose
        // connection was dropped after the ban is not judged (and the finding is blocked); it is
        // never reported refused.
        let mut unjudged = 0;
        for (label, o) in v["details"].as_object().unwrap() {
            if label == "error" {
                continue;
            }
            let refusal = o["refusal"].as_str().unwrap_or("");
            if refusal.contains("not judged") {
                unjudged += 1;
                continue;
            }
            let accepts = label == "TLSv1.2" || label == "TLSv1.3";
            assert_eq!(o["accepted"], accepts, "{label} at {allow}: {v:#}");
            if !accepts {
                assert!(refusal.starts_with("alert:"), "{label} at {allow}: {v:#}");
            }
        }
        if unjudged > 0 {
            assert_eq!(v["status"], "blocked", "at {allow}: {v:#}");
            assert!(
                v["summary"].as_str().unwrap().contains("not judged"),
                "{v:#}"
            );
        }
        let cs = tls_support::finding(&r, "tls.cipher_suites");
        assert_eq!(cs["status"], "blocked", "at {allow}: {cs:#}");
        assert!(
            cs["summary"]
                .as_str()
                .unwrap()
                .contains("stopped answering"),
            "{cs:#}"
        );
    }
    drop(rt);
}

/// What a fake TLS 1.2/1.3 server needs from a ClientHello.
struct Offer {
    version: u16,
    suites: Vec<u16>,
    tls13: bool,
    key_share: bool,
    groups: Vec<u16>,
}

fn parse_offer(b: &[u8]) -> Option<Offer> {
    let hs = b.get(5..)?;
    let body = hs.get(4..)?;
    let version = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    let mut i = 2 + 32;
    i += 1 + *body.get(i)? as usize;
    let n = u16::from_be_bytes([*body.get(i)?, *body.get(i + 1)?]) as usize;
    let suites = body
        .get(i + 2..i + 2 + n)?
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    i += 2 + n;
    i += 1 + *body.get(i)? as usize;
    let mut o = Offer {
        version,
        suites,
        tls13: false,
        key_share: false,
        groups: Vec::new(),
    };
    let end =
        (i + 2 + u16::from_be_bytes([*body.get(i)?, *body.get(i + 1)?]) as usize).min(body.len());
    i += 2;
    while i + 4 <= end {
        let kind = u16::from_be_bytes([body[i], body[i + 1]]);
        let len = u16::from_be_bytes([body[i + 2], body[i + 3]]) as usize;
        let data = body.get(i + 4..i + 4 + len)?;
        match kind {
            0x002B => o.tls13 = data.windows(2).any(|w| w == [3, 4]),
            0x0033 => o.key_share = data.len() > 2,
            0x000A => {
                o.groups = data[2..]
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect()
            }
            _ => {}
        }
        i += 4 + len;
    }
    Some(o)
}

fn server_hello(legacy: u16, suite: u16, random: [u8; 32], exts: &[u8]) -> Vec<u8> {
    let mut b = legacy.to_be_bytes().to_vec();
    b.extend_from_slice(&random);
    b.push(0);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(exts);
    let mut hs = vec![2, 0, (b.len() >> 8) as u8, b.len() as u8];
    hs.extend_from_slice(&b);
    hs.extend_from_slice(&[14, 0, 0, 0]);
    let mut rec = vec![22, 3, 3];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// A TLS 1.2 + 1.3 server that ignores TLS_FALLBACK_SCSV and omits the downgrade sentinel: both are
/// RFC violations no real server under test shows, so an in-process fake plays them.
async fn careless_tls13_server() -> SocketAddr {
    fake_tls13_server(false).await
}

/// The same server, but with `close_on_scsv` a hello carrying TLS_FALLBACK_SCSV is answered by closing
/// the connection without an alert (some load balancers refuse a fallback this way).
async fn fake_tls13_server(close_on_scsv: bool) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                while n < 5 || n < 5 + u16::from_be_bytes([buf[3], buf[4]]) as usize {
                    match s.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                    if n == buf.len() {
                        return;
                    }
                }
                let alert = |d: u8| vec![21, 3, 3, 0, 2, 2, d];
                let reply = match parse_offer(&buf[..n]) {
                    None => alert(50),
                    Some(o) if close_on_scsv && o.suites.contains(&0x5600) => return,
                    Some(o) if o.tls13 => {
                        if !o.suites.contains(&0x1301) {
                            alert(40)
                        } else if !o.key_share {
                            match o.groups.first() {
                                Some(&0x001D) => {
                                    let mut hrr_random = [0u8; 32];
                                    hrr_random.copy_from_slice(&[
                                        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D,
                                        0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16,
                                        0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8,
                                        0x33, 0x9C,
                                    ]);
                                    server_hello(
                                        0x0303,
                                        0x1301,
                                        hrr_random,
                                        &[0, 0x2B, 0, 2, 3, 4, 0, 0x33, 0, 2, 0, 0x1D],
                                    )
                                }
                                _ => alert(40),
                            }
                        } else {
                            server_hello(0x0303, 0x1301, [9; 32], &[0, 0x2B, 0, 2, 3, 4])
                        }
                    }
                    Some(o) if o.version < 0x0303 => alert(70),
                    Some(o) => match o.suites.iter().find(|c| [0xC02F, 0x009C].contains(*c)) {
                        Some(&c) => {
                            let mut random = [9; 32];
                            if close_on_scsv {
                                // This one also writes the RFC 8446 §4.1.3 sentinel ("DOWNGRD" 01).
                                random[24..].copy_from_slice(b"DOWNGRD\x01");
                            }
                            server_hello(0x0303, c, random, &[0xFF, 0x01, 0, 1, 0])
                        }
                        None => alert(40),
                    },
                };
                let _ = s.write_all(&reply).await;
                let _ = s.read(&mut buf).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn ignored_fallback_scsv_and_missing_downgrade_sentinel_are_seen() {
    let r = scan(careless_tls13_server().await, Duration::from_secs(2)).await;
    assert_eq!(r.accepted(), vec![Version::Tls12, Version::Tls13]);
    assert_eq!(
        r.versions[&Version::Tls11].refusal.as_deref(),
        Some("alert:protocol_version")
    );
    assert_eq!(r.suites[&Version::Tls12].suites, vec![0x009C, 0xC02F]);
    assert_eq!(
        r.suites[&Version::Tls12].server_order,
        Some(false),
        "the fake follows the client"
    );
    assert_eq!(r.mismatch.fallback_scsv_honoured, Some(false));
    assert_eq!(r.mismatch.downgrade_sentinel.get("TLSv1.2"), Some(&None));
    assert_eq!(r.groups.groups, vec![0x001D]);
    assert!(r.blocked.is_none());
}

#[test]
fn mismatch_finding_fails_on_ignored_scsv_and_missing_sentinel() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(careless_tls13_server());
    let target = addr.to_string();
    let out = support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "tls",
        "--format",
        "json",
    ]);
    let r = support::json(&out);
    let m = tls_support::finding(&r, "tls.mismatch");
    assert_eq!(m["status"], "fail", "{m:#}");
    let s = m["summary"].as_str().unwrap();
    assert!(
        s.contains("TLS_FALLBACK_SCSV ignored") && s.contains("downgrade sentinel"),
        "{s}"
    );
    assert_eq!(tls_support::finding(&r, "tls.versions")["status"], "pass");
    drop(rt);
}

/// Class 8 of issue 11: a close without an alert on the fallback hello, while the same hello without
/// the SCSV completes, is fallback protection (RFC 7507), not "honoured: null".
#[tokio::test]
async fn fallback_refused_by_a_close_without_an_alert_is_honoured() {
    let r = scan(fake_tls13_server(true).await, Duration::from_secs(2)).await;
    assert_eq!(r.accepted(), vec![Version::Tls12, Version::Tls13]);
    assert_eq!(
        r.mismatch.fallback_scsv_honoured,
        Some(true),
        "{:?}",
        r.mismatch
    );
    let how = r.mismatch.fallback_scsv_how.clone().unwrap_or_default();
    assert!(
        how.contains("closed without an alert") && how.contains("answered with ServerHello"),
        "{how}"
    );
}

#[test]
fn fallback_close_without_alert_shows_in_the_mismatch_finding() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(fake_tls13_server(true));
    let target = addr.to_string();
    let out = support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "tls",
        "--format",
        "json",
    ]);
    let r = support::json(&out);
    let m = tls_support::finding(&r, "tls.mismatch");
    assert_eq!(m["details"]["fallback_scsv"]["honoured"], true, "{m:#}");
    let s = m["summary"].as_str().unwrap();
    assert!(s.contains("TLS_FALLBACK_SCSV honoured (the hello"), "{s}");
    assert!(!s.contains("TLS_FALLBACK_SCSV ignored"), "{s}");
    drop(rt);
}
