//! SSLv2 (the DROWN class). No Debian server speaks SSLv2 any more, so an in-process fake answers
//! our SSLv2 CLIENT-HELLO with a SERVER-HELLO (and TLS hellos with a protocol_version alert); a
//! rustls server stands for every modern one that refuses it.

#[allow(unused_imports)]
use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::{Finding, Report, Status, Target, Transport};
use support::certs::{LeafSpec, TestPki};
use support::fake;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A SERVER-HELLO offering RC4-128 and 3DES, with a dummy certificate.
fn server_hello() -> Vec<u8> {
    let cert = [0x30u8, 0x03, 1, 2, 3];
    let mut m = vec![4u8, 0, 1, 0, 2];
    m.extend_from_slice(&(cert.len() as u16).to_be_bytes());
    m.extend_from_slice(&6u16.to_be_bytes());
    m.extend_from_slice(&16u16.to_be_bytes());
    m.extend_from_slice(&cert);
    m.extend_from_slice(&[0x01, 0x00, 0x80, 0x07, 0x00, 0xC0]);
    m.extend_from_slice(&[9u8; 16]);
    let mut out = (0x8000u16 | m.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&m);
    out
}

async fn sslv2_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        // Bounded: a scan opens a few hundred connections at most.
        for _ in 0..2_000 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await
                else {
                    return;
                };
                let answer = if n >= 5 && buf[0] & 0x80 != 0 && buf[2] == 1 && buf[3..5] == [0, 2] {
                    server_hello()
                } else {
                    vec![21, 3, 3, 0, 2, 2, 70]
                };
                let _ = s.write_all(&answer).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

fn versions(r: &Report) -> &Finding {
    r.findings
        .iter()
        .find(|f| f.id == "tls.versions")
        .unwrap_or_else(|| panic!("tls.versions missing: {r:#?}"))
}

async fn run(addr: SocketAddr, tls: Option<&TestPki>) -> Report {
    let mut o = ScanOptions::new(Target::parse(&addr.to_string()).unwrap());
    o.transports = Some(vec![Transport::Tls]);
    o.tls_port = sipcheck::Port::new(addr.port());
    o.selectors = vec!["tls.versions".into()];
    o.config = Config::default();
    o.config.timers.timeout = Duration::from_secs(2);
    if let Some(pki) = tls {
        o.config.tls =
            sipcheck::transport::TlsSettings::from_ca_file(pki.ca_pem.to_str().unwrap()).unwrap();
        o.config.domain = "sip.test".into();
    }
    tokio::time::timeout(Duration::from_secs(60), scan(o))
        .await
        .expect("scan hung")
        .expect("scan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_accepting_sslv2_fails_tls_versions() {
    let r = run(sslv2_server().await, None).await;
    let f = versions(&r);
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert_eq!(f.details["SSLv2"]["accepted"], true, "{f:#?}");
    assert_eq!(
        f.details["SSLv2"]["ciphers"],
        serde_json::json!([
            "SSL_CK_RC4_128_WITH_MD5",
            "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
        ])
    );
    assert!(f.summary.contains("SSLv2"), "{}", f.summary);
    assert!(f.summary.contains("DROWN"), "{}", f.summary);
    assert_eq!(f.details["TLSv1.2"]["accepted"], false, "{f:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modern_server_refuses_sslv2() {
    let pki = TestPki::new(&LeafSpec::default());
    let f = fake::tls("127.0.0.1:0", fake::ok_with(&[]), &pki).await;
    let r = run(f.addr, Some(&pki)).await;
    let v = versions(&r);
    assert_eq!(v.details["SSLv2"]["accepted"], false, "{v:#?}");
    assert!(v.details["SSLv2"]["refusal"].is_string(), "{v:#?}");
    assert_eq!(v.details["TLSv1.3"]["accepted"], true, "{v:#?}");
    assert_eq!(v.status, Status::Pass, "{v:#?}");
    assert!(!v.summary.contains("accepts SSLv2"), "{}", v.summary);
}
