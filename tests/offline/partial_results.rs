//! Issue 11 class 9: a probe that hits its time limit keeps, per endpoint, what it measured before;
//! only the endpoints it did not finish become `error`. `sip.refer_policy` on many endpoints, measured
//! concurrently: silent ones (REFER dropped, a wait longer than the probe's limit) listed first, ones
//! that refuse REFER at once listed last, so a serial probe would never reach the latter.

#[allow(unused_imports)]
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use sipcheck::probe::{self, Config, Context, Probe};
use sipcheck::probes::refer_policy::ReferPolicy;
use sipcheck::report::Status;
use sipcheck::sip::Message;
use sipcheck::{Target, Transport};
use support::fake::{self, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refer_policy_overrun_keeps_the_endpoints_it_finished() {
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(
            fake::udp(
                "127.0.0.1:0",
                Arc::new(|m: &Message| match m.method() {
                    Some("REFER") => Reply::Silence,
                    _ => Reply::Send(fake::respond(m, 200, "OK", &[])),
                }),
            )
            .await,
        );
    }
    let mut answering = Vec::new();
    for _ in 0..4 {
        answering.push(
            fake::udp(
                "127.0.0.1:0",
                Arc::new(|m: &Message| match m.method() {
                    Some("REFER") => Reply::Send(fake::respond(m, 403, "Forbidden", &[])),
                    _ => Reply::Send(fake::respond(m, 200, "OK", &[])),
                }),
            )
            .await,
        );
    }
    let mut config = Config::default();
    // A silent REFER would be given up only after 20 s; the probe is stopped at 2 s.
    config.timers.timeout = Duration::from_secs(20);
    config.probe_timeout = Duration::from_secs(2);
    config.rate = 1000.0;
    config.burst = 100;
    let endpoints: Vec<sipcheck::Endpoint> = silent
        .iter()
        .chain(&answering)
        .map(|f| {
            sipcheck::Endpoint::new(
                Transport::Udp,
                f.addr.ip(),
                sipcheck::Port::new(f.addr.port()).unwrap(),
            )
        })
        .collect();
    let ctx = Arc::new(Context::new(
        Target::parse("127.0.0.1").unwrap(),
        endpoints.clone(),
        config,
    ));
    let probe: Arc<dyn Probe> = Arc::new(ReferPolicy);
    let out = tokio::time::timeout(Duration::from_secs(60), probe::run(ctx, vec![probe]))
        .await
        .expect("the runner is bounded by the probe limit");
    let label = |f: &fake::Fake| {
        sipcheck::Endpoint::new(
            Transport::Udp,
            f.addr.ip(),
            sipcheck::Port::new(f.addr.port()).unwrap(),
        )
        .label()
    };
    let finding_at = |l: &str| {
        out.findings
            .iter()
            .find(|f| f.endpoint.as_deref() == Some(l))
            .unwrap_or_else(|| panic!("{l}: {:#?}", out.findings))
    };
    // Listed after the silent ones, yet measured and kept: the endpoints were measured together.
    for f in &answering {
        let f = finding_at(&label(f));
        assert_eq!(f.status, Status::Pass, "{f:#?}");
        assert!(
            f.summary
                .contains("out-of-dialog REFER refused (SIP/2.0 403"),
            "{}",
            f.summary
        );
    }
    for f in &silent {
        let f = finding_at(&label(f));
        assert_eq!(f.status, Status::Error, "{f:#?}");
        assert!(
            f.summary.contains("not measured at") && f.summary.contains("did not finish"),
            "{}",
            f.summary
        );
    }
    // Every endpoint has exactly one finding: kept or unfinished.
    for ep in &endpoints {
        let n = out
            .findings
            .iter()
            .filter(|f| f.endpoint.as_deref() == Some(ep.label().as_str()))
            .count();
        assert_eq!(n, 1, "{}: {:#?}", ep.label(), out.findings);
    }
}

/// Class 9 is the framework's, not one probe's: `secagree.rfc3329` (measured per endpoint through
/// `Context::per_endpoint`) on several endpoints, where only the first answers the sec-agree OPTIONS;
/// at the probe's limit the first endpoint's finding is kept as measured, the rest are `error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_per_endpoint_probe_keeps_what_it_finished_at_its_limit() {
    let sec_agree = |m: &Message| {
        m.list_header("Require")
            .iter()
            .any(|t| t.eq_ignore_ascii_case("sec-agree"))
    };
    let answering = fake::udp(
        "127.0.0.1:0",
        Arc::new(move |m: &Message| {
            if sec_agree(m) {
                Reply::Send(fake::respond(
                    m,
                    420,
                    "Bad Extension",
                    &["Unsupported: sec-agree"],
                ))
            } else {
                Reply::Send(fake::respond(m, 200, "OK", &[]))
            }
        }),
    )
    .await;
    let mut fakes = Vec::new();
    for _ in 0..8 {
        fakes.push(
            fake::udp(
                "127.0.0.1:0",
                Arc::new(move |m: &Message| {
                    if sec_agree(m) {
                        Reply::Silence
                    } else {
                        Reply::Send(fake::respond(m, 200, "OK", &[]))
                    }
                }),
            )
            .await,
        );
    }
    let mut config = Config::default();
    // A silent endpoint's wait outlasts the probe's limit; the answering one is done long before.
    config.timers.timeout = Duration::from_secs(3);
    config.probe_timeout = Duration::from_millis(1200);
    config.rate = 1000.0;
    config.burst = 100;
    let endpoints: Vec<sipcheck::Endpoint> = std::iter::once(&answering)
        .chain(&fakes)
        .map(|f| {
            sipcheck::Endpoint::new(
                Transport::Udp,
                f.addr.ip(),
                sipcheck::Port::new(f.addr.port()).unwrap(),
            )
        })
        .collect();
    let ctx = Arc::new(Context::new(
        Target::parse("127.0.0.1").unwrap(),
        endpoints.clone(),
        config,
    ));
    let probe: Arc<dyn Probe> = Arc::new(sipcheck::probes::secagree::SecAgree);
    let out = tokio::time::timeout(Duration::from_secs(60), probe::run(ctx, vec![probe]))
        .await
        .expect("the runner is bounded by the probe limit");
    let first = endpoints[0].label();
    let kept = out
        .findings
        .iter()
        .find(|f| f.endpoint.as_deref() == Some(first.as_str()))
        .unwrap_or_else(|| panic!("{:#?}", out.findings));
    assert_eq!(kept.status, Status::Info, "{kept:#?}");
    assert!(
        kept.summary
            .starts_with("not supported: 420 Bad Extension with Unsupported: sec-agree"),
        "{}",
        kept.summary
    );
    let unfinished = out
        .findings
        .iter()
        .filter(|f| f.status == Status::Error)
        .count();
    assert_eq!(unfinished, fakes.len(), "{:#?}", out.findings);
    for ep in &endpoints {
        let n = out
            .findings
            .iter()
            .filter(|f| f.endpoint.as_deref() == Some(ep.label().as_str()))
            .count();
        assert_eq!(n, 1, "{}: {:#?}", ep.label(), out.findings);
    }
}
