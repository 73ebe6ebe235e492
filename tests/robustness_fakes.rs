//! In-process fake trunks for behaviours no packaged server shows: a real RFC 3329 server (and one
//! without downgrade protection), a trunk that dies after one specific malformed case, and a trunk
//! that accepts REFER to an outside URI.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::{Message, StartLine};
use sipcheck::{Finding, Report, Status, Target, Transport};
use support::fake::{self, Reply, respond};

const SERVER_LIST: &str =
    "tls;q=0.2, ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;spi-c=1234;spi-s=5678;port-c=5062;port-s=5064";

fn options(target: &str, probes: &[&str]) -> ScanOptions {
    let mut o = ScanOptions::new(Target::parse(target).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = probes.iter().map(|s| s.to_string()).collect();
    o.config = Config::default();
    o.config.timers.timeout = Duration::from_millis(1000);
    o.config.rate = 1000.0;
    o.config.burst = 50;
    o
}

fn one<'a>(r: &'a Report, id: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("{id} missing: {r:#?}"))
}

async fn run(o: ScanOptions) -> Report {
    tokio::time::timeout(Duration::from_secs(90), scan(o))
        .await
        .expect("scan hung")
        .expect("scan")
}

fn requires(m: &Message, tag: &str) -> bool {
    m.list_header("Require")
        .iter()
        .any(|t| t.eq_ignore_ascii_case(tag))
}

/// An RFC 3329 server: 494 with its Security-Server list to a request requiring sec-agree, and a
/// request whose Security-Verify is not that list is refused (494) unless `protect` is false.
fn rfc3329_server(protect: bool) -> fake::Handler {
    Arc::new(move |m: &Message| {
        if !requires(m, "sec-agree") {
            return Reply::Send(respond(m, 200, "OK", &[]));
        }
        let server = format!("Security-Server: {SERVER_LIST}");
        match m.header("Security-Verify") {
            Some(v) if v == SERVER_LIST || !protect => Reply::Send(respond(m, 200, "OK", &[])),
            _ => Reply::Send(respond(
                m,
                494,
                "Security Agreement Required",
                &[&server, "Require: sec-agree"],
            )),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3329_server_is_recognised_with_mechanisms_and_downgrade_protection() {
    let f = fake::udp("127.0.0.1:0", rfc3329_server(true)).await;
    let r = run(options(&f.addr.to_string(), &["secagree"])).await;
    let s = one(&r, "secagree.rfc3329");
    assert_eq!(s.status, Status::Pass, "{s:#?}");
    assert_eq!(s.details["supported"], true);
    assert_eq!(s.details["response"], "494");
    let mechs = s.details["mechanisms"].as_array().unwrap();
    let names: Vec<&str> = mechs
        .iter()
        .map(|m| m["mechanism"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tls", "ipsec-3gpp"]);
    assert_eq!(mechs[0]["q"], 0.2);
    assert_eq!(s.details["downgrade"]["refused"], true);
    assert_eq!(s.details["downgrade"]["response"], 494);
    assert_eq!(s.details["mediasec"], false);
    // The follow-up really carried the mismatched Security-Verify.
    assert!(f.requests().iter().any(|m| {
        m.header("Security-Verify")
            .is_some_and(|v| v.starts_with("digest"))
    }));
    assert_eq!(s.evidence.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3329_server_without_downgrade_protection_fails() {
    let f = fake::udp("127.0.0.1:0", rfc3329_server(false)).await;
    let r = run(options(&f.addr.to_string(), &["secagree"])).await;
    let s = one(&r, "secagree.rfc3329");
    assert_eq!(s.status, Status::Fail, "{s:#?}");
    assert_eq!(s.details["supported"], true);
    assert_eq!(s.details["downgrade"]["refused"], false);
    assert!(
        s.summary.contains("no downgrade protection"),
        "{}",
        s.summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_agree_refused_with_420_is_reported_as_unsupported() {
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|m: &Message| {
            if requires(m, "sec-agree") {
                Reply::Send(respond(
                    m,
                    420,
                    "Bad Extension",
                    &["Unsupported: sec-agree"],
                ))
            } else {
                Reply::Send(respond(m, 200, "OK", &[]))
            }
        }),
    )
    .await;
    let r = run(options(&f.addr.to_string(), &["secagree"])).await;
    let s = one(&r, "secagree.rfc3329");
    assert_eq!(s.status, Status::Info, "{s:#?}");
    assert_eq!(s.details["supported"], false);
    assert_eq!(s.details["response"], "420");
    assert!(
        s.summary.contains("Unsupported: sec-agree"),
        "{}",
        s.summary
    );
}

/// Answers normally until it receives a request with protocol version `SIP/7.0`, then never again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_that_dies_after_one_case_is_named_and_the_catalog_stops() {
    let dead = Arc::new(AtomicBool::new(false));
    let d = dead.clone();
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(move |m: &Message| {
            if let StartLine::Request { version, .. } = &m.start
                && version == "SIP/7.0"
            {
                d.store(true, Ordering::SeqCst);
            }
            if d.load(Ordering::SeqCst) {
                Reply::Silence
            } else {
                Reply::Send(respond(m, 200, "OK", &[]))
            }
        }),
    )
    .await;
    let r = run(options(&f.addr.to_string(), &["robustness.malformed"])).await;
    assert!(dead.load(Ordering::SeqCst));
    let m = one(&r, "robustness.malformed");
    assert_eq!(m.status, Status::Fail, "{m:#?}");
    assert_eq!(m.details["stopped_after"], "unknown-version-sip7");
    assert!(
        m.summary
            .contains("did not answer a normal OPTIONS after case `unknown-version-sip7`"),
        "{}",
        m.summary
    );
    assert_eq!(m.details["liveness_failures"], 2);
    assert_eq!(m.details["liveness_failed"], true);
    let cases = m.details["cases"].as_array().unwrap();
    let last = cases.last().unwrap();
    assert_eq!(last["id"], "unknown-version-sip7");
    assert_eq!(last["status"], "fail");
    // Cases before it ran with liveness ok; none after it was sent.
    assert!(
        cases[..cases.len() - 1]
            .iter()
            .all(|c| c["liveness"] == "ok")
    );
    let skipped = m.details["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["id"] == "request-line-multiple-sp")
    );
    // The fake received nothing but liveness OPTIONS after the fatal case.
    let after: Vec<String> = f
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|b| String::from_utf8_lossy(b).to_string())
        .skip_while(|s| !s.contains("SIP/7.0"))
        .skip(1)
        .collect();
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|s| s.starts_with("OPTIONS sip:")
            && !s.contains("SIP/7.0")
            && !s.contains("SIP/3.0")),
        "{after:?}"
    );
}

/// A lenient trunk answers everything, even a request with no Call-ID, with 200 (and an unknown
/// method with a 501 that forgets Allow).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lenient_trunk_is_reported_as_accepting_invalid_messages() {
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|m: &Message| match m.method() {
            Some("SIPCHECKTEST") => Reply::Send(respond(m, 501, "Not Implemented", &[])),
            _ => Reply::Send(respond(m, 200, "OK", &[])),
        }),
    )
    .await;
    let r = run(options(&f.addr.to_string(), &["robustness.malformed"])).await;
    let m = one(&r, "robustness.malformed");
    assert_eq!(m.status, Status::Warn, "{m:#?}");
    let case = |id: &str| {
        m.details["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not run"))
    };
    for id in [
        "missing-call-id",
        "cseq-method-mismatch",
        "unknown-version-sip7",
    ] {
        let c = case(id);
        assert_eq!(c["verdict"], "accepted_invalid", "{c}");
        assert_eq!(c["observed"], "200 OK");
    }
    assert_eq!(case("line-folded-headers")["verdict"], "expected");
    let c = case("unknown-method");
    assert_eq!(c["observed"], "501 Not Implemented (without Allow)", "{c}");
    assert_eq!(c["verdict"], "different_safe");
    assert!(
        m.summary.contains("accepted something invalid"),
        "{}",
        m.summary
    );
    assert_eq!(m.details["liveness_failures"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_accepting_refer_to_an_outside_uri_fails() {
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|m: &Message| match m.method() {
            Some("REFER") => Reply::Send(respond(m, 202, "Accepted", &[])),
            _ => Reply::Send(respond(
                m,
                200,
                "OK",
                &["Allow: INVITE, REFER", "Supported: replaces, norefersub"],
            )),
        }),
    )
    .await;
    let r = run(options(&f.addr.to_string(), &["sip.refer_policy"])).await;
    let p = one(&r, "sip.refer_policy");
    assert_eq!(p.status, Status::Fail, "{p:#?}");
    assert_eq!(p.details["out_of_dialog"]["treatment"], "accepted");
    assert_eq!(p.details["out_of_dialog"]["response"], 202);
    assert_eq!(p.details["supported_replaces"], true);
    assert_eq!(p.details["supported_norefersub"], true);
    assert!(p.summary.contains("example.invalid"), "{}", p.summary);
    let refers: Vec<Message> = f
        .requests()
        .into_iter()
        .filter(|m| m.method() == Some("REFER"))
        .collect();
    assert_eq!(refers.len(), 2);
    assert!(
        refers[0]
            .header("Refer-To")
            .unwrap()
            .contains("example.invalid")
    );
    assert!(refers[1].header("To").unwrap().contains(";tag="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refer_refused_and_unknown_dialog_481_pass() {
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|m: &Message| match m.method() {
            Some("REFER") if m.header("To").is_some_and(|t| t.contains(";tag=")) => {
                Reply::Send(respond(m, 481, "Call/Transaction Does Not Exist", &[]))
            }
            Some("REFER") => Reply::Send(respond(m, 407, "Proxy Authentication Required", &[])),
            _ => Reply::Send(respond(m, 200, "OK", &[])),
        }),
    )
    .await;
    let r = run(options(&f.addr.to_string(), &["sip.refer_policy"])).await;
    let p = one(&r, "sip.refer_policy");
    assert_eq!(p.status, Status::Pass, "{p:#?}");
    assert_eq!(p.details["out_of_dialog"]["treatment"], "challenged");
    assert_eq!(p.details["unknown_dialog"]["got_481"], true);
}

/// A trunk that answers only our plain OPTIONS and ignores every case: each case costs the whole
/// wait, and a short probe budget must give a partial table, not a probe killed by the runner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_catalog_stops_at_the_time_budget_with_a_partial_table() {
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|m: &Message| {
            let plain = m.method() == Some("OPTIONS")
                && m.header("User-Agent")
                    .is_some_and(|u| u.starts_with("sipcheck/"))
                && m.header("Contact").is_some();
            if plain {
                Reply::Send(respond(m, 200, "OK", &[]))
            } else {
                Reply::Silence
            }
        }),
    )
    .await;
    let mut o = options(&f.addr.to_string(), &["robustness.malformed"]);
    o.config.probe_timeout = Duration::from_secs(4);
    let r = run(o).await;
    let m = one(&r, "robustness.malformed");
    assert_ne!(m.status, Status::Error, "{m:#?}");
    let run_cases = m.details["cases"].as_array().unwrap().len();
    assert!(run_cases > 0, "{m:#?}");
    let skipped = m.details["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["reason"].as_str().unwrap().contains("time budget")),
        "{skipped:?}"
    );
    assert!(m.summary.contains("out of time"), "{}", m.summary);
    assert_eq!(m.details["liveness_failures"], 0);
}

/// A TLS-only trunk still gets the catalog, over TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_runs_over_tls_when_only_tls_answers() {
    use support::certs::{LeafSpec, TestPki};
    let pki = TestPki::new(&LeafSpec::default());
    let f = fake::tls(
        "127.0.0.1:0",
        Arc::new(|m: &Message| {
            if m.header("Call-ID").is_none() {
                Reply::Close
            } else {
                Reply::Send(respond(m, 200, "OK", &[]))
            }
        }),
        &pki,
    )
    .await;
    let mut o = options(&f.addr.to_string(), &["robustness.malformed"]);
    o.transports = Some(vec![Transport::Tls]);
    o.tls_port = sipcheck::Port::new(f.addr.port());
    o.config.tls =
        sipcheck::transport::TlsSettings::from_ca_file(pki.ca_pem.to_str().unwrap()).unwrap();
    o.config.domain = "sip.test".into();
    let r = run(o).await;
    let m = one(&r, "robustness.malformed");
    assert!(m.endpoint.as_deref().unwrap().starts_with("tls:"), "{m:#?}");
    assert_eq!(m.details["liveness_failures"], 0, "{m:#?}");
    let cases = m.details["cases"].as_array().unwrap();
    let c = cases.iter().find(|c| c["id"] == "missing-call-id").unwrap();
    assert_eq!(c["observed"], "connection closed", "{c}");
    assert_eq!(c["verdict"], "expected");
    let c = cases
        .iter()
        .find(|c| c["id"] == "cseq-method-mismatch")
        .unwrap();
    assert_eq!(c["verdict"], "accepted_invalid");
}
