//! The TLS scan against hostile or broken peers: garbage, a 2^24 handshake length, a reset
//! mid-handshake, silence, and a target that starts dropping connections mid-scan. Each yields an
//! honest answer, never a panic or a hang.

mod support;
mod tls_support;

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

#[test]
fn target_dropping_connections_mid_scan_is_blocked() {
    let server = tls_support::SServer::start(&["-min_protocol", "TLSv1.2", "-serverpref"], false);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (addr, seen) = rt.block_on(banning_relay(server.port, 8));
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
    assert!(
        seen.load(Ordering::SeqCst) > 8,
        "the scan went past the ban"
    );
    let v = tls_support::finding(&r, "tls.versions");
    assert_eq!(v["details"]["TLSv1.2"]["accepted"], true, "{v:#}");
    let cs = tls_support::finding(&r, "tls.cipher_suites");
    assert_eq!(cs["status"], "blocked", "{cs:#}");
    assert!(
        cs["summary"]
            .as_str()
            .unwrap()
            .contains("stopped answering"),
        "{cs:#}"
    );
    drop(rt);
}
