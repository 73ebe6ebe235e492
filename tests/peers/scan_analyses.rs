//! The library owns the whole run: `endpoints.parity`, `policy.*` and `baseline.diff` come out of
//! `sipcheck::scan` itself, with no binary involved. dnsmasq publishes two UDP SBCs for `sip.test`
//! (in-process fakes on two loopback addresses); between two scans one of them starts disclosing its
//! version, and the second scan, with a policy and the first report as baseline, must say so three ways.

#[allow(unused_imports)]
use crate::{dnsmasq, support};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dnsmasq::{Dnsmasq, Rr};
use sipcheck::analysis::Baseline;
use sipcheck::report::policy::{self, RuleStatus};
use sipcheck::sip::Message;
use sipcheck::{Finding, Report, ScanOptions, Status, Target, Transport};
use support::certs::DOMAIN;
use support::fake::{self, Reply, respond};

fn one<'a>(r: &'a Report, id: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.id == id).collect()
}

async fn scan(dns: &Dnsmasq, baseline: Option<Report>) -> Report {
    let leak = policy::parse(
        "name = \"no-leak\"\n[rules]\nserver_version_leak_allowed = false\n",
        "no-leak.toml",
    )
    .unwrap();
    let mut b = ScanOptions::builder(Target::parse(DOMAIN).unwrap())
        .dns_server(&dns.server())
        .transports([Transport::Udp])
        .probes(["sip.server_header", "endpoints.parity"])
        .timeout(Duration::from_secs(2))
        .rate(200.0)
        .policy(leak);
    if let Some(report) = baseline {
        b = b.baseline(Baseline {
            path: "first.json".into(),
            report,
        });
    }
    let opts = b.build().unwrap();
    tokio::time::timeout(Duration::from_secs(60), sipcheck::scan(opts))
        .await
        .expect("scan hung")
        .expect("scan")
}

#[tokio::test]
async fn parity_policy_and_baseline_findings_come_from_the_library_scan() {
    let leaks = Arc::new(AtomicBool::new(false));
    let l = leaks.clone();
    let weak = fake::udp(
        "127.0.0.2:0",
        Arc::new(move |m: &Message| {
            let server: &[&str] = if l.load(Ordering::SeqCst) {
                &["Server: LeftBehindSBC/4.2.1"]
            } else {
                &[]
            };
            Reply::Send(respond(m, 200, "OK", server))
        }),
    )
    .await;
    let strong = fake::udp("127.0.0.3:0", fake::ok_with(&[])).await;
    let dns = Dnsmasq::start(
        DOMAIN,
        &[
            Rr::naptr(DOMAIN, 10, 10, "S", "SIP+D2U", "_sip._udp.sip.test"),
            Rr::srv(
                "_sip._udp.sip.test",
                10,
                50,
                weak.addr.port(),
                "sbc1.sip.test",
            ),
            Rr::srv(
                "_sip._udp.sip.test",
                10,
                50,
                strong.addr.port(),
                "sbc2.sip.test",
            ),
            Rr::host("sbc1.sip.test", &["127.0.0.2"]),
            Rr::host("sbc2.sip.test", &["127.0.0.3"]),
        ],
    );
    let weak_ep = format!("udp:{}", weak.addr);

    // Both SBCs alike: parity compared them and found nothing; the policy rule holds.
    let first = scan(&dns, None).await;
    assert_eq!(first.endpoints.len(), 2, "{:#?}", first.endpoints);
    let parity = one(&first, "endpoints.parity");
    assert_eq!(parity.len(), 1, "{parity:#?}");
    assert_eq!(parity[0].status, Status::Pass, "{parity:#?}");
    // A rule that holds is in `report.policy`; only a violated one becomes a `policy.*` finding.
    let outcome = first.policy.as_ref().expect("the policy was applied");
    assert_eq!(outcome.rules.len(), 1, "{outcome:#?}");
    assert_eq!(outcome.rules[0].outcome, RuleStatus::Pass, "{outcome:#?}");
    assert!(one(&first, "policy.server_version_leak_allowed").is_empty());
    assert!(one(&first, "baseline.diff").is_empty());
    assert_eq!(
        sipcheck::exit::code(sipcheck::exit::Outcome::Report(&first)),
        0
    );

    // One SBC left behind: each analysis says it, inside the report `scan` returned.
    leaks.store(true, Ordering::SeqCst);
    let second = scan(&dns, Some(first)).await;
    let parity = one(&second, "endpoints.parity");
    assert!(
        parity
            .iter()
            .any(|f| f.status == Status::Warn && f.summary.contains(&weak_ep)),
        "parity names {weak_ep}: {parity:#?}"
    );
    let rule = one(&second, "policy.server_version_leak_allowed");
    assert!(
        rule.iter().any(|f| f.status == Status::Fail),
        "policy fails the leak: {rule:#?}"
    );
    assert_eq!(
        second.policy.as_ref().map(|p| p.name.as_str()),
        Some("no-leak")
    );
    let diff = one(&second, "baseline.diff");
    assert_eq!(diff.len(), 1, "{diff:#?}");
    assert_eq!(diff[0].status, Status::Fail, "{diff:#?}");
    assert!(
        diff[0].summary.contains("sip.server_header"),
        "{}",
        diff[0].summary
    );
    assert_eq!(
        sipcheck::exit::code(sipcheck::Outcome::Report(&second)),
        sipcheck::exit::FAIL
    );
}
