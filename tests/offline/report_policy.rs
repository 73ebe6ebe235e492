//! Policy rules on both sides of their thresholds, "not measured" when the finding is absent or
//! skipped, and malformed policies rejected with file, line and reason.

#[allow(unused_imports)]
use crate::{handmade, probed, probed_media};

use handmade::*;
use probed::*;
use probed_media::Accepts;
use serde_json::json;
use sipcheck::report::policy::{self, Policy, RuleStatus};
use sipcheck::report::{Finding, Report, Status};

fn policy(rules: &str) -> Policy {
    policy::parse(rules, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Applies `rules` to a report with `findings`; returns the outcome of the single rule and the report.
fn judge(rules: &str, findings: Vec<Finding>) -> (RuleStatus, Report) {
    let p = policy(rules);
    let mut r = report("t", findings);
    policy::apply(&p, &mut r);
    let o = r.policy.clone().unwrap();
    assert_eq!(o.rules.len(), 1, "{o:?}");
    (o.rules[0].outcome, r)
}

fn outcome(rules: &str, findings: Vec<Finding>) -> RuleStatus {
    judge(rules, findings).0
}

#[tokio::test(flavor = "multi_thread")]
async fn min_tls_version_both_sides() {
    let rule = "[rules]\nmin_tls_version = \"TLSv1.2\"\n";
    let (o, r) = judge(
        rule,
        vec![versions(&["TLSv1.1", "TLSv1.2", "TLSv1.3"]).await],
    );
    assert_eq!(o, RuleStatus::Fail);
    let f: Vec<_> = r.findings_with_id("policy.min_tls_version").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, Status::Fail);
    assert!(f[0].summary.contains("TLSv1.1"), "{}", f[0].summary);
    assert_eq!(sipcheck::exit::code(sipcheck::exit::Outcome::Report(&r)), 1);

    let (o, r) = judge(rule, vec![versions(&["TLSv1.2", "TLSv1.3"]).await]);
    assert_eq!(o, RuleStatus::Pass);
    assert_eq!(r.findings_with_id("policy.min_tls_version").count(), 0);
    assert_eq!(sipcheck::exit::code(sipcheck::exit::Outcome::Report(&r)), 0);

    // The threshold itself: TLS 1.3 minimum fails a TLS 1.2 server.
    assert_eq!(
        outcome(
            "[rules]\nmin_tls_version = \"TLSv1.3\"\n",
            vec![versions(&["TLSv1.2", "TLSv1.3"]).await]
        ),
        RuleStatus::Fail
    );
}

#[test]
fn absent_or_skipped_findings_are_not_measured() {
    let rule = "[rules]\nmin_tls_version = \"TLSv1.2\"\n";
    let (o, r) = judge(rule, vec![]);
    assert_eq!(o, RuleStatus::NotMeasured);
    assert_eq!(sipcheck::exit::code(sipcheck::exit::Outcome::Report(&r)), 0);
    assert_eq!(
        outcome(rule, vec![skipped("tls.versions")]),
        RuleStatus::NotMeasured
    );
    // Measured but without the documented detail keys: still not measured, never pass.
    assert_eq!(
        outcome(
            rule,
            vec![tls(finding("tls.versions", Status::Pass, json!({})))]
        ),
        RuleStatus::NotMeasured
    );
    let p = policy("[rules]\nsecagree_required = true\nsrtp_required = true\n");
    let mut r = report("t", vec![]);
    policy::apply(&p, &mut r);
    let o = r.policy.unwrap();
    assert!(o.rules.iter().all(|r| r.outcome == RuleStatus::NotMeasured));
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_suite_classes_both_sides() {
    let rule = "[rules]\nforbidden_suite_classes = [\"cbc\", \"rc4\"]\n";
    assert_eq!(
        outcome(
            rule,
            vec![
                suites(&[
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
                ])
                .await
            ]
        ),
        RuleStatus::Fail
    );
    assert_eq!(
        outcome(
            rule,
            vec![
                suites(&[
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                    "TLS_RSA_WITH_AES_256_GCM_SHA384"
                ])
                .await
            ]
        ),
        RuleStatus::Pass,
        "static RSA is not in the forbidden classes cbc, rc4"
    );
    assert_eq!(
        outcome(
            "[rules]\nforbidden_suite_classes = [\"no_forward_secrecy\"]\n",
            vec![suites(&["TLS_RSA_WITH_AES_256_GCM_SHA384"]).await]
        ),
        RuleStatus::Fail
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_days_both_sides() {
    let rule = "[rules]\nmin_cert_days_left = 30\n";
    // The servers' certificates are minted just before the scan, so the days left the probe reads
    // are the days asked for or one fewer: 29 is under 30 either way, 31 is not.
    assert_eq!(outcome(rule, vec![sips(29).await]), RuleStatus::Fail);
    assert_eq!(outcome(rule, vec![sips(31).await]), RuleStatus::Pass);
    assert_eq!(outcome(rule, vec![sips(-1).await]), RuleStatus::Fail);
    // tls.certificate is read too, and the worst endpoint decides.
    let cert = certificate(10).await;
    assert_eq!(outcome(rule, vec![sips(400).await, cert]), RuleStatus::Fail);
    // Issue 10: an expired certificate as the TLS probe writes it is a fail with the days, not
    // "not measured".
    let (o, r) = judge(rule, vec![certificate(-5).await]);
    let rule = &r.policy.as_ref().unwrap().rules[0];
    assert_eq!(o, RuleStatus::Fail, "{rule:#?}");
    assert!(rule.summary.contains("expired"), "{}", rule.summary);
}

/// The media rules over reports the media probe wrote against fake trunks taking SDES only, DTLS-SRTP
/// and plain RTP, or nothing at all.
#[tokio::test(flavor = "multi_thread")]
async fn srtp_required_and_plain_rtp_forbidden_both_sides() {
    let (sdes, dtls_plain, none) = tokio::join!(
        probed_media::report(Accepts {
            sdes: true,
            ..Accepts::default()
        }),
        probed_media::report(Accepts {
            dtls: true,
            plain: true,
            ..Accepts::default()
        }),
        probed_media::report(Accepts::default()),
    );
    let on = |rules: &str, r: &Report| {
        let mut r = r.clone();
        policy::apply(&policy(rules), &mut r);
        let o = r.policy.clone().unwrap();
        assert_eq!(o.rules.len(), 1, "{o:?}");
        (o.rules[0].outcome, o.rules[0].summary.clone())
    };
    let srtp = "[rules]\nsrtp_required = true\n";
    assert_eq!(on(srtp, &sdes).0, RuleStatus::Pass, "{:#?}", sdes.findings);
    let (o, why) = on(srtp, &dtls_plain);
    assert_eq!(o, RuleStatus::Pass, "DTLS-SRTP alone satisfies SRTP: {why}");
    assert!(why.contains("media.dtls_srtp"), "{why}");
    let (o, why) = on(srtp, &none);
    assert_eq!(o, RuleStatus::Fail, "both offers refused: {why}");

    let plain = "[rules]\nplain_rtp_forbidden = true\n";
    assert_eq!(on(plain, &dtls_plain).0, RuleStatus::Fail);
    assert_eq!(on(plain, &sdes).0, RuleStatus::Pass);
    assert_eq!(on(plain, &none).0, RuleStatus::Pass);

    // A report from before sipcheck wrote `accepted` cannot tell: not measured, and it says why.
    let mut older = sdes.clone();
    for f in older
        .findings
        .iter_mut()
        .filter(|f| f.id.starts_with("media."))
    {
        if let Some(d) = f.details.as_object_mut() {
            d.remove("accepted");
        }
    }
    let (o, why) = on(srtp, &older);
    assert_eq!(o, RuleStatus::NotMeasured, "{why}");
    assert!(why.contains("older sipcheck"), "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn md5_only_digest_both_sides() {
    let rule = "[rules]\nmd5_only_forbidden = true\n";
    let (md5, both, none) = tokio::join!(
        auth_challenge(&["MD5"]),
        auth_challenge(&["MD5", "SHA-256"]),
        auth_challenge(&[]),
    );
    assert_eq!(outcome(rule, vec![md5]), RuleStatus::Fail);
    assert_eq!(outcome(rule, vec![both]), RuleStatus::Pass);
    // Nothing was challenged: no algorithm to judge, so not measured.
    assert_eq!(outcome(rule, vec![none]), RuleStatus::NotMeasured);
}

#[tokio::test(flavor = "multi_thread")]
async fn secagree_required_both_sides() {
    let rule = "[rules]\nsecagree_required = true\n";
    let (no, yes) = tokio::join!(secagree(false), secagree(true));
    assert_eq!(outcome(rule, vec![no]), RuleStatus::Fail);
    assert_eq!(outcome(rule, vec![yes]), RuleStatus::Pass);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_liveness_both_sides() {
    let rule = "[rules]\nmalformed_liveness_required = true\n";
    let (dies, lives) = tokio::join!(malformed(true), malformed(false));
    assert_eq!(outcome(rule, vec![dies.clone()]), RuleStatus::Fail);
    assert_eq!(outcome(rule, vec![lives.clone()]), RuleStatus::Pass);
    // Reports from before `liveness_failed` was written say it only per case (`alive`).
    let older = |mut f: sipcheck::Finding| {
        f.details.as_object_mut().unwrap().remove("liveness_failed");
        f
    };
    assert_eq!(outcome(rule, vec![older(dies)]), RuleStatus::Fail);
    assert_eq!(outcome(rule, vec![older(lives)]), RuleStatus::Pass);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_version_leak_both_sides() {
    let forbid = "[rules]\nserver_version_leak_allowed = false\n";
    assert_eq!(
        outcome(forbid, vec![server_header(true).await]),
        RuleStatus::Fail
    );
    assert_eq!(
        outcome(forbid, vec![server_header(false).await]),
        RuleStatus::Pass
    );
    let allow = "[rules]\nserver_version_leak_allowed = true\n";
    assert_eq!(
        outcome(allow, vec![server_header(true).await]),
        RuleStatus::Pass
    );
}

#[test]
fn finding_worst_status_both_sides() {
    let rule = "[findings]\n\"transport.plaintext_open\" = \"pass\"\n";
    let (o, r) = judge(
        rule,
        vec![finding("transport.plaintext_open", Status::Warn, json!({}))],
    );
    assert_eq!(o, RuleStatus::Fail);
    assert_eq!(
        r.findings_with_id("policy.max_status.transport.plaintext_open")
            .count(),
        1
    );
    let rule = "[findings]\n\"transport.plaintext_open\" = \"warn\"\n";
    assert_eq!(
        outcome(
            rule,
            vec![finding("transport.plaintext_open", Status::Warn, json!({}))]
        ),
        RuleStatus::Pass
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn builtin_profiles_load_and_strict_is_stricter() {
    let b = policy::load("baseline").unwrap();
    let s = policy::load("strict").unwrap();
    assert_eq!(b.name, "baseline");
    assert_eq!(s.source, "builtin");
    // A TLS 1.2 server with a CBC/SHA-1 suite: baseline accepts, strict refuses.
    let findings = vec![
        versions(&["TLSv1.2"]).await,
        suites(&["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]).await,
        sips(100).await,
    ];
    let mut r = report("t", findings.clone());
    policy::apply(&b, &mut r);
    assert_eq!(
        sipcheck::exit::code(sipcheck::exit::Outcome::Report(&r)),
        0,
        "{:#?}",
        r.policy
    );
    let mut r = report("t", findings);
    policy::apply(&s, &mut r);
    assert_eq!(sipcheck::exit::code(sipcheck::exit::Outcome::Report(&r)), 1);
    assert!(r.findings_with_id("policy.forbidden_suite_classes").count() == 1);
    // The outcome travels in the JSON report and old reports without it still parse.
    let text = serde_json::to_string(&r).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back.policy.unwrap().name, "strict");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("policy");
    let old: Report = serde_json::from_value(v).unwrap();
    assert!(old.policy.is_none());
}

fn rejected(text: &str) -> String {
    policy::parse(text, "bad.toml")
        .expect_err("must be rejected")
        .to_string()
}

#[test]
fn malformed_policies_name_file_line_and_reason() {
    let e = rejected("name = \"x\"\n\n[rules]\nmin_tls = \"TLSv1.2\"\n");
    assert!(e.starts_with("bad.toml:4: unknown field `min_tls`"), "{e}");
    let e = rejected("[rules]\nmin_tls_version = \"TLSv1.4\"\n");
    assert!(
        e.starts_with("bad.toml:2: key `min_tls_version`: unknown TLS version"),
        "{e}"
    );
    let e = rejected("[rules]\nforbidden_suite_classes = [\"cbc\", \"weak\"]\n");
    assert!(
        e.starts_with("bad.toml:2: key `forbidden_suite_classes`: unknown suite class \"weak\""),
        "{e}"
    );
    let e = rejected("[rules]\n\n[findings]\n\"tls.nope\" = \"pass\"\n");
    assert!(
        e.starts_with("bad.toml:4: unknown finding \"tls.nope\""),
        "{e}"
    );
    let e = rejected("[findings]\n\"sip.refer\" = \"fail\"\n");
    assert!(
        e.starts_with("bad.toml:2: key `sip.refer`: \"fail\" is not a worst allowed status"),
        "{e}"
    );
    let e = rejected("[rules\nmin_tls_version = 1\n");
    assert!(e.starts_with("bad.toml:1: "), "{e}");
    let e = rejected("[rules]\nsrtp_required = \"yes\"\n");
    assert!(
        e.starts_with("bad.toml:2: key `srtp_required`: expected true or false"),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
    let e = policy::load("/nonexistent/policy.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no built-in policy has that name"), "{e}");
}
