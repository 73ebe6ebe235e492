//! In-process fake trunks for what Kamailio never does: garbage, huge bodies, endless headers, silence,
//! TLS only, expired and wrong certificates. None may panic or hang sipcheck; each gives an honest finding.

#[allow(unused_imports)]
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::transport::TlsSettings;
use sipcheck::{Finding, Report, Status, Target, Transport};
use support::certs::{LeafSpec, TestPki};
use support::fake::{self, Reply, respond};

fn options(target: &str, transports: &[Transport], probes: &[&str]) -> ScanOptions {
    let mut o = ScanOptions::new(Target::parse(target).unwrap());
    o.transports = Some(transports.to_vec());
    o.selectors = probes.iter().map(|s| s.to_string()).collect();
    o.config = Config::default();
    o.config.timers.timeout = Duration::from_millis(1600);
    o
}

fn one<'a>(r: &'a Report, id: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("{id} missing: {r:#?}"))
}

async fn run(o: ScanOptions) -> Report {
    // The scan bounds itself; this outer bound only turns a hang into a test failure.
    tokio::time::timeout(Duration::from_secs(30), scan(o))
        .await
        .expect("scan hung")
        .expect("scan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_over_udp_is_reported_not_parsed() {
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|_| Reply::Send(b"\x00\xffHELLO garbage\r\n\r\n".to_vec())),
    )
    .await;
    let r = run(options(
        &f.addr.to_string(),
        &[Transport::Udp],
        &["transport.udp"],
    ))
    .await;
    let t = one(&r, "transport.udp");
    assert_eq!(t.status, Status::Warn, "{t:?}");
    assert!(t.summary.contains("unparseable"), "{}", t.summary);
    assert!(
        t.evidence[0].received.contains("\\x00\\xffHELLO"),
        "{:?}",
        t.evidence[0].received
    );
    assert_eq!(t.details["reachable"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_megabyte_body_is_refused_by_the_size_limit() {
    let f = fake::tcp(
        "127.0.0.1:0",
        Arc::new(|m| {
            let mut head = respond(m, 200, "OK", &[]);
            let s = String::from_utf8(head.clone())
                .unwrap()
                .replace("Content-Length: 0", "Content-Length: 10000000");
            head = s.into_bytes();
            head.extend(std::iter::repeat_n(b'x', 200_000));
            Reply::SendAndHang(head)
        }),
    )
    .await;
    let r = run(options(
        &f.addr.to_string(),
        &[Transport::Tcp],
        &["transport.tcp"],
    ))
    .await;
    let t = one(&r, "transport.tcp");
    assert_eq!(t.status, Status::Warn, "{t:?}");
    assert_eq!(t.details["error"], "protocol");
    assert!(
        t.evidence[0]
            .note
            .as_deref()
            .unwrap()
            .contains("exceeds the 65536-byte limit"),
        "{:?}",
        t.evidence[0].note
    );
    assert!(
        t.evidence[0].received.len() <= 9 * 1024,
        "evidence is bounded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_never_end_time_out() {
    let f = fake::tcp(
        "127.0.0.1:0",
        Arc::new(|_| {
            Reply::SendAndHang(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP x\r\nX-Slow: ".to_vec())
        }),
    )
    .await;
    let r = run(options(
        &f.addr.to_string(),
        &[Transport::Tcp],
        &["transport.tcp"],
    ))
    .await;
    let t = one(&r, "transport.tcp");
    assert_eq!(t.status, Status::Warn);
    assert_eq!(t.details["error"], "timeout");
    assert!(t.summary.contains("did not answer"), "{}", t.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_udp_is_retransmitted_then_given_up() {
    let f = fake::udp("127.0.0.1:0", Arc::new(|_| Reply::Silence)).await;
    let r = run(options(
        &f.addr.to_string(),
        &[Transport::Udp],
        &["transport.udp"],
    ))
    .await;
    let t = one(&r, "transport.udp");
    assert_eq!(t.details["reachable"], false);
    assert_eq!(t.details["error"], "timeout");
    // Timer A: sent at 0, retransmitted at 0.5 s and 1.5 s before the 1.6 s timeout.
    assert_eq!(t.details["retransmissions"], 2, "{t:?}");
    assert_eq!(f.received.lock().unwrap().len(), 3);
    let why = r.incomplete.as_deref().unwrap_or_default();
    assert!(
        why.starts_with("no endpoint answered SIP") && why.contains("silence"),
        "{why}"
    );
    assert_eq!(sipcheck::exit::code(sipcheck::exit::Outcome::Report(&r)), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_only_trunk_passes_plaintext_check_and_reports_closed_transports() {
    let pki = TestPki::new(&LeafSpec::default());
    let f = fake::tls(
        "127.0.0.1:0",
        fake::ok_with(&["Allow: INVITE, ACK, BYE, OPTIONS"]),
        &pki,
    )
    .await;
    // UDP and TCP go to the same port number, where nothing plaintext listens.
    let mut o = options(
        &f.addr.to_string(),
        &Transport::ALL,
        &["transport", "sips", "sip.refer"],
    );
    o.tls_port = sipcheck::Port::new(f.addr.port());
    o.config.tls = TlsSettings::from_ca_file(pki.ca_pem.to_str().unwrap()).unwrap();
    o.config.domain = "sip.test".into();
    let r = run(o).await;
    assert_eq!(one(&r, "transport.tls").status, Status::Pass);
    assert_eq!(one(&r, "transport.tcp").details["reachable"], false);
    let p = one(&r, "transport.plaintext_open");
    assert_eq!(p.status, Status::Pass, "{p:?}");
    assert_eq!(one(&r, "sips.options").status, Status::Pass);
    let refer = one(&r, "sip.refer");
    assert_eq!(refer.details["advertised"], false);
    assert!(refer.summary.contains("REFER not advertised"));
    // `sip.refer` also selects `sip.refer_policy`, and this fake answers 200 to every REFER: the one
    // fail, and so exit code 1.
    let fails: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(fails, ["sip.refer_policy"]);
    assert_eq!(sipcheck::exit::code(sipcheck::exit::Outcome::Report(&r)), 1);
}

async fn sips_with(spec: LeafSpec) -> Finding {
    let pki = TestPki::new(&spec);
    let f = fake::tls("127.0.0.1:0", fake::ok_with(&[]), &pki).await;
    let mut o = options(&f.addr.to_string(), &[Transport::Tls], &["sips"]);
    o.config.tls = TlsSettings::from_ca_file(pki.ca_pem.to_str().unwrap()).unwrap();
    o.config.domain = "sip.test".into();
    let r = run(o).await;
    one(&r, "sips.options").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_certificate_fails() {
    let f = sips_with(LeafSpec {
        not_after_days: -3,
        ..LeafSpec::default()
    })
    .await;
    assert_eq!(f.status, Status::Fail, "{f:?}");
    assert!(f.summary.contains("expired"), "{}", f.summary);
    assert!(f.details["chain"][0]["days_left"].as_i64().unwrap() < 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_san_fails_rfc5922_identity() {
    let f = sips_with(LeafSpec {
        dns: vec!["other.test".into()],
        ips: vec![],
        sip_uris: vec![],
        not_after_days: 90,
        eku: Vec::new(),
    })
    .await;
    assert_eq!(f.status, Status::Fail, "{f:?}");
    assert_eq!(f.details["identity"]["matched"], false);
    assert!(
        f.summary.contains("does not prove sip.test"),
        "{}",
        f.summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_provisional_after_final_is_tolerated() {
    // A proxy can deliver a 180 after the 200; the 200 is the answer.
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|m| {
            let mut b = respond(m, 200, "OK", &["Allow: INVITE, REFER"]);
            b.extend(respond(m, 180, "Ringing", &[]));
            Reply::Send(b)
        }),
    )
    .await;
    let r = run(options(
        &f.addr.to_string(),
        &[Transport::Udp],
        &["transport.udp", "sip.refer"],
    ))
    .await;
    assert_eq!(one(&r, "transport.udp").details["status"], 200);
    assert_eq!(one(&r, "sip.refer").details["advertised"], true);
}
