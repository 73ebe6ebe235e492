//! TLS 1.3 integrity-only suites (RFC 9150): `TLS_SHA256_SHA256` encrypts nothing. The probe's
//! `tls.cipher_suites` and `--policy baseline`'s forbidden-suite rule must agree that a server
//! accepting it accepts a suite that is not allowed (issue 10: the two classifiers once disagreed).
//! This system's OpenSSL (3.0) cannot offer the suite, so an in-process fake answers our TLS 1.3
//! ClientHellos with a ServerHello choosing it (and TLS_AES_128_GCM_SHA256, which it prefers), and
//! anything older with a protocol_version alert.

use std::net::SocketAddr;
use std::time::Duration;

use sipcheck::probe::Config;
use sipcheck::report::policy::{self, RuleStatus};
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::{Status, Target, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
const TLS_SHA256_SHA256: u16 = 0xC0B4;
/// The suites the fake takes, in its preference order.
const SERVER_ORDER: [u16; 2] = [TLS_AES_128_GCM_SHA256, TLS_SHA256_SHA256];

/// RFC 8446 §4.1.3: the random of a HelloRetryRequest.
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// What a ClientHello offers, as far as the fake cares.
#[derive(Debug, Default)]
struct Offered {
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
    let mut o = Offered::default();
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
fn server_hello(o: &Offered, suite: u16) -> Vec<u8> {
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

fn answer(rec: &[u8]) -> Vec<u8> {
    let Some(o) = parse(rec) else {
        return alert(70);
    };
    if !o.tls13 {
        return alert(70);
    }
    match SERVER_ORDER.iter().find(|s| o.suites.contains(s)) {
        Some(s) => server_hello(&o, *s),
        None => alert(40),
    }
}

async fn integrity_only_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        // Bounded: a scan opens a few hundred connections at most.
        for _ in 0..2_000 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
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
                let _ = s.write_all(&answer(&buf[..n])).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_integrity_only_suite_fails_the_probe_and_the_baseline_policy() {
    let addr = integrity_only_server().await;
    let mut o = ScanOptions::new(Target::parse(&addr.to_string()).unwrap());
    o.transports = Some(vec![Transport::Tls]);
    o.tls_port = sipcheck::Port::new(addr.port());
    o.selectors = vec!["tls.cipher_suites".into()];
    o.config = Config::default();
    o.config.timers.timeout = Duration::from_secs(2);
    o.policy = Some(policy::load("baseline").unwrap());
    let r = tokio::time::timeout(Duration::from_secs(90), scan(o))
        .await
        .expect("scan hung")
        .expect("scan");

    // The probe: the suite is accepted in TLS 1.3, and insecure.
    let f = r
        .findings_with_id("tls.cipher_suites")
        .next()
        .unwrap_or_else(|| panic!("no tls.cipher_suites: {:#?}", r.findings));
    let d = sipcheck::findings::ids::TLS_CIPHER_SUITES
        .read(f)
        .unwrap_or_else(|e| panic!("{e}"));
    let tls13 = d
        .versions
        .get("TLSv1.3")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(
        tls13.suites,
        ["TLS_AES_128_GCM_SHA256", "TLS_SHA256_SHA256"],
        "{f:#?}"
    );
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.summary.contains("1 insecure"), "{}", f.summary);

    // The policy: the same suite, forbidden (class `null`), from the same report.
    let p = r.policy.as_ref().expect("the policy was applied by scan");
    let rule = p
        .rules
        .iter()
        .find(|o| o.rule == "forbidden_suite_classes")
        .unwrap_or_else(|| panic!("{p:#?}"));
    assert_eq!(rule.outcome, RuleStatus::Fail, "{rule:#?}");
    assert!(
        rule.summary.contains("TLS_SHA256_SHA256 [null] in TLSv1.3"),
        "{}",
        rule.summary
    );
    assert!(
        !rule.summary.contains("TLS_AES_128_GCM_SHA256"),
        "{}",
        rule.summary
    );
    let pf = r
        .findings_with_id("policy.forbidden_suite_classes")
        .next()
        .unwrap_or_else(|| panic!("{:#?}", r.findings));
    assert_eq!(pf.status, Status::Fail);
    assert_eq!(
        pf.title,
        sipcheck::findings::spec("policy.forbidden_suite_classes")
            .unwrap()
            .title,
        "policy findings take the registry's title"
    );
}
