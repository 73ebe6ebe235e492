//! In-process fake trunks for behaviours no packaged server shows: a real RFC 3329 server (and one
//! without downgrade protection), a trunk that dies after one specific malformed case, and a trunk
//! that accepts REFER to an outside URI.

#[allow(unused_imports)]
use crate::support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Answers normally until it receives a request with protocol version `SIP/7.0`, then stays silent
/// for `down` (a crash and a restart), or for ever. Counts how often the fatal case arrived.
fn dies_after_sip7(down: Option<Duration>, hits: Arc<AtomicU32>) -> fake::Handler {
    let dead_until: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    Arc::new(move |m: &Message| {
        let now = Instant::now();
        let mut until = dead_until.lock().unwrap();
        let dead = until.is_some_and(|t| now < t);
        if let StartLine::Request { version, .. } = &m.start
            && version == "SIP/7.0"
            && !dead
        {
            hits.fetch_add(1, Ordering::SeqCst);
            *until = Some(now + down.unwrap_or(Duration::from_secs(3600)));
        }
        if until.is_some_and(|t| now < t) {
            Reply::Silence
        } else {
            Reply::Send(respond(m, 200, "OK", &[]))
        }
    })
}

/// The killer is named exactly: the unanswered cases of its window are replayed one at a time once
/// the trunk is back, and the catalog stops at the circuit breaker.
async fn killer_is_named(transport: Transport) {
    let hits = Arc::new(AtomicU32::new(0));
    let handler = dies_after_sip7(Some(Duration::from_secs(3)), hits.clone());
    let f = match transport {
        Transport::Udp => fake::udp("127.0.0.1:0", handler).await,
        _ => fake::tcp("127.0.0.1:0", handler).await,
    };
    let mut o = options(&f.addr.to_string(), &["robustness.malformed"]);
    o.transports = Some(vec![transport]);
    let r = run(o).await;
    let m = one(&r, "robustness.malformed");
    assert_eq!(m.status, Status::Fail, "{m:#?}");
    assert_eq!(m.details["stopped_after"], "unknown-version-sip7", "{m:#?}");
    assert_eq!(m.details["suspects"], serde_json::json!([]), "{m:#?}");
    assert!(
        m.summary
            .contains("did not answer a normal OPTIONS after case `unknown-version-sip7`"),
        "{}",
        m.summary
    );
    assert_eq!(m.details["liveness_failures"], 2);
    assert_eq!(m.details["liveness_failed"], true);
    // Sent in its window, and once more in the replay that named it.
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let cases = m.details["cases"].as_array().unwrap();
    let last = cases.last().unwrap();
    assert_eq!(last["id"], "unknown-version-sip7");
    assert_eq!(last["status"], "fail");
    assert_eq!(last["alive"], false);
    assert!(
        cases[..cases.len() - 1]
            .iter()
            .all(|c| c["liveness"].as_str().unwrap().starts_with("ok")),
        "{cases:#?}"
    );
    let skipped = m.details["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["reason"] == "not run: the catalog stopped"),
        "{skipped:?}"
    );
    // Cases sent with it in flight are listed, not judged; there are fewer than a window.
    let in_flight = skipped
        .iter()
        .filter(|s| s["reason"].as_str().unwrap().contains("same window"))
        .count();
    assert!(in_flight < 8, "{skipped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_that_kills_a_udp_trunk_is_named_and_the_catalog_stops() {
    killer_is_named(Transport::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_that_kills_a_tcp_trunk_is_named_and_the_catalog_stops() {
    killer_is_named(Transport::Tcp).await;
}

/// A trunk that never comes back cannot be replayed: the case sent first after its last answer is
/// named, the others of the window are listed as suspects, and the fatal one is among them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_that_never_comes_back_is_named_with_its_suspects() {
    let hits = Arc::new(AtomicU32::new(0));
    let f = fake::udp("127.0.0.1:0", dies_after_sip7(None, hits.clone())).await;
    let r = run(options(&f.addr.to_string(), &["robustness.malformed"])).await;
    let m = one(&r, "robustness.malformed");
    assert_eq!(m.status, Status::Fail, "{m:#?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let named = m.details["stopped_after"].as_str().unwrap().to_string();
    let suspects: Vec<&str> = m.details["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        named == "unknown-version-sip7" || suspects.contains(&"unknown-version-sip7"),
        "{m:#?}"
    );
    if !suspects.is_empty() {
        assert!(
            m.summary.contains("or one of the cases sent with it"),
            "{}",
            m.summary
        );
    }
    // After the fatal case the fake received at most the rest of its window, then only OPTIONS.
    let after: Vec<String> = f
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|b| String::from_utf8_lossy(b).to_string())
        .skip_while(|s| !s.contains("SIP/7.0"))
        .skip(1)
        .collect();
    let cases_after: std::collections::HashSet<&String> = after
        .iter()
        .filter(|s| !s.starts_with("OPTIONS sip:"))
        .collect();
    assert!(cases_after.len() < 8, "{after:?}");
    let options_at_end = after
        .iter()
        .rev()
        .take_while(|s| s.starts_with("OPTIONS sip:"))
        .count();
    assert!(options_at_end >= 2, "{after:?}");
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
    // The two REFERs are in flight together: either may arrive first.
    let tagged = |m: &Message| m.header("To").unwrap().contains(";tag=");
    assert_eq!(refers.iter().filter(|m| tagged(m)).count(), 1);
    let ood = refers.iter().find(|m| !tagged(m)).unwrap();
    assert!(ood.header("Refer-To").unwrap().contains("example.invalid"));
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
    // Silent cases share one wait per window (on UDP no connection cap splits a window into turns),
    // so the whole catalog fits in about two seconds: one second of probe time leaves part of it unrun.
    o.config.probe_timeout = Duration::from_secs(1);
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

/// Cases in flight together still respect the address's politeness budget, shared by UDP and TCP:
/// counted at the trunk, no second holds more new requests than the rate plus the burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_never_exceeds_the_rate_budget_of_the_address() {
    // Every case answered except what cannot be parsed, so nothing is retransmitted.
    let (udp, tcp) = fake::udp_and_tcp(fake::ok_with(&[])).await;
    let mut o = options(&udp.addr.to_string(), &["robustness.malformed"]);
    o.transports = Some(vec![Transport::Udp, Transport::Tcp]);
    o.config.rate = 20.0;
    o.config.burst = 10;
    let r = run(o).await;
    let runs: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.id == "robustness.malformed")
        .collect();
    assert_eq!(runs.len(), 2, "{r:#?}");
    // UDP retransmissions are not new requests: count each distinct datagram once.
    let mut seen = std::collections::HashSet::new();
    let mut times: Vec<Instant> = Vec::new();
    for f in [&udp, &tcp] {
        let bytes = f.received.lock().unwrap().clone();
        let at = f.arrived.lock().unwrap().clone();
        for (b, t) in bytes.into_iter().zip(at) {
            if seen.insert(b) {
                times.push(t);
            }
        }
    }
    times.sort();
    assert!(times.len() > 60, "{}", times.len());
    let window = Duration::from_secs(1);
    let busiest = (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t - times[i] < window)
                .count()
        })
        .max()
        .unwrap();
    // 20 per second after a burst of 10, with a little slack for scheduling at the edges.
    assert!(busiest <= 31, "{busiest} requests within one second");
}

/// A TLS port that completes handshakes but never answers SIP offers nothing over SIPS: `sips.options`
/// says no SIP was seen, and leaves the certificate to `tls.certificate` (it used to say "SIPS offered
/// over TLSv1.3, but certificate does not prove …").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sips_on_a_tls_port_that_never_answers_sip_offers_nothing() {
    use support::certs::{LeafSpec, TestPki};
    let pki = TestPki::new(&LeafSpec::default());
    let f = fake::tls("127.0.0.1:0", Arc::new(|_: &Message| Reply::Silence), &pki).await;
    let mut o = options(&f.addr.to_string(), &["sips.options"]);
    o.transports = Some(vec![Transport::Tls]);
    o.tls_port = sipcheck::Port::new(f.addr.port());
    // A domain the certificate does not name: the certificate problem must not become the answer.
    o.config.domain = "not-the-certificate.test".into();
    let r = run(o).await;
    let s = one(&r, "sips.options");
    assert_eq!(s.status, Status::Warn, "{s:#?}");
    assert!(
        s.summary.starts_with("no SIP answer to a sips: OPTIONS"),
        "{}",
        s.summary
    );
    assert!(!s.summary.contains("offered over"), "{}", s.summary);
    assert!(!s.summary.contains("certificate"), "{}", s.summary);
    assert_eq!(s.details["response"], serde_json::Value::Null, "{s:#?}");
}
