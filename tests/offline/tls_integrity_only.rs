//! TLS 1.3 integrity-only suites (RFC 9150): `TLS_SHA256_SHA256` encrypts nothing. The probe's
//! `tls.cipher_suites` and `--policy baseline`'s forbidden-suite rule must agree that a server
//! accepting it accepts a suite that is not allowed (issue 10: the two classifiers once disagreed).
//! This system's OpenSSL (3.0) cannot offer the suite, so an in-process fake answers our TLS 1.3
//! ClientHellos with a ServerHello choosing it (and TLS_AES_128_GCM_SHA256, which it prefers), and
//! anything older with a protocol_version alert.

#[allow(unused_imports)]
use crate::tls_hello_fake;

use std::time::Duration;

use sipcheck::probe::Config;
use sipcheck::report::policy::{self, RuleStatus};
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::{Status, Target, Transport};
use tls_hello_fake::{TLS13, code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_integrity_only_suite_fails_the_probe_and_the_baseline_policy() {
    // It prefers TLS_AES_128_GCM_SHA256, then takes TLS_SHA256_SHA256; it speaks TLS 1.3 only.
    let suites = vec![code("TLS_AES_128_GCM_SHA256"), code("TLS_SHA256_SHA256")];
    let addr = tls_hello_fake::start(vec![(TLS13, suites)]).await;
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
