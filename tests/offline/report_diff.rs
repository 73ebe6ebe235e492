//! Baseline diff on hand-made pairs: worse, better, new and gone, by status and by details.

#[allow(unused_imports)]
use crate::{handmade, probed, probed_media};

use handmade::*;
use probed::*;
use probed_media::Accepts;
use serde_json::json;
use sipcheck::Transport;
use sipcheck::report::Status;
use sipcheck::report::diff::{Kind, diff};

fn kinds(d: &sipcheck::report::diff::Diff, kind: Kind) -> Vec<String> {
    d.of(kind).map(|c| format!("{} {}", c.id, c.what)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn identical_reports_have_no_changes() {
    let a = report("t", vec![versions(&["TLSv1.2"]).await, sips(100).await]);
    let d = diff(&a, &a.clone());
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert!(!d.worse());
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_version_re_enabled_is_worse_and_disabled_is_better() {
    let old = report("t", vec![versions(&["TLSv1.2", "TLSv1.3"]).await]);
    let new = report(
        "t",
        vec![versions(&["TLSv1.0", "TLSv1.2", "TLSv1.3"]).await],
    );
    let d = diff(&old, &new);
    assert!(d.worse());
    let w = kinds(&d, Kind::Worse);
    assert!(w.iter().any(|c| c.contains("TLSv1.0 re-enabled")), "{w:?}");
    assert!(w.iter().any(|c| c.contains("pass → fail")), "{w:?}");
    let back = diff(&new, &old);
    assert!(!back.worse());
    assert!(
        kinds(&back, Kind::Better)
            .iter()
            .any(|c| c.contains("TLSv1.0 disabled"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_weak_suite_is_worse_a_new_strong_one_is_new() {
    let old = report(
        "t",
        vec![suites(&["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]).await],
    );
    let weak = report(
        "t",
        vec![
            suites(&[
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            ])
            .await,
        ],
    );
    let d = diff(&old, &weak);
    assert!(d.worse());
    // The probe warns on the weak suite (a status change), and the diff names the suite.
    let w = kinds(&d, Kind::Worse);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w.iter().any(|c| c.contains("pass → warn")), "{w:?}");
    let suite: Vec<&String> = w
        .iter()
        .filter(|c| c.contains("weak suite TLS_RSA_WITH_3DES_EDE_CBC_SHA"))
        .collect();
    assert_eq!(suite.len(), 1, "{w:?}");
    assert!(suite[0].contains("3des"), "{w:?}");

    let strong = report(
        "t",
        vec![
            suites(&[
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            ])
            .await,
        ],
    );
    let d = diff(&old, &strong);
    assert!(!d.worse(), "{:?}", d.changes);
    assert_eq!(kinds(&d, Kind::New).len(), 1);
    // Dropping the weak suite again is better: the status and the suite.
    let d = diff(&weak, &old);
    assert!(!d.worse());
    let b = kinds(&d, Kind::Better);
    assert_eq!(b.len(), 2, "{b:?}");
    assert!(
        b.iter()
            .any(|c| c.contains("suite TLS_RSA_WITH_3DES_EDE_CBC_SHA no longer accepted")),
        "{b:?}"
    );
}

/// Reports the media probe wrote against a fake trunk, before and after it stopped taking SDES and
/// started taking plain RTP.
#[tokio::test(flavor = "multi_thread")]
async fn sdes_refused_and_plain_rtp_accepted_are_worse() {
    let srtp_only = Accepts {
        sdes: true,
        ..Accepts::default()
    };
    let plain_only = Accepts {
        plain: true,
        ..Accepts::default()
    };
    let (old, new) = probed_media::before_after(srtp_only, plain_only).await;
    let d = diff(&old, &new);
    let w = kinds(&d, Kind::Worse);
    assert!(
        w.iter()
            .any(|c| c == "media.sdes SDES-SRTP no longer accepted"),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|c| c == "media.rtp_plain plain RTP now accepted (SRTP no longer required)"),
        "{w:?}"
    );
    let b = kinds(&diff(&new, &old), Kind::Better);
    assert!(
        b.iter().any(|c| c == "media.sdes SDES-SRTP now accepted"),
        "{b:?}"
    );
    assert!(
        b.iter()
            .any(|c| c == "media.rtp_plain plain RTP now refused (SRTP required)"),
        "{b:?}"
    );
    // A report from before sipcheck wrote `accepted` is not compared on it, and the diff says so.
    let mut older = old.clone();
    for f in older.findings.iter_mut().filter(|f| f.id == "media.sdes") {
        f.details.as_object_mut().unwrap().remove("accepted");
    }
    let nc = kinds(&diff(&older, &new), Kind::NotComparable);
    assert!(
        nc.iter()
            .any(|c| c.starts_with("media.sdes") && c.contains("older sipcheck")),
        "{nc:?}"
    );
}

#[test]
fn status_ordering_and_skipped_is_not_comparable() {
    let f = |s| finding("sip.refer", s, json!({}));
    let pairs = [
        (Status::Pass, Status::Warn, Some(Kind::Worse)),
        (Status::Warn, Status::Fail, Some(Kind::Worse)),
        (Status::Info, Status::Blocked, Some(Kind::Worse)),
        (Status::Fail, Status::Pass, Some(Kind::Better)),
        (Status::Pass, Status::Info, None),
        (Status::Pass, Status::Skipped, Some(Kind::NotComparable)),
        (Status::Skipped, Status::Fail, Some(Kind::NotComparable)),
    ];
    for (a, b, want) in pairs {
        let d = diff(&report("t", vec![f(a)]), &report("t", vec![f(b)]));
        let got = d.changes.first().map(|c| c.kind);
        assert_eq!(got, want, "{a} → {b}: {:?}", d.changes);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_and_findings_new_and_gone() {
    let old = report("t", vec![server_header(false).await]);
    let mut new = report(
        "t",
        vec![
            at(
                finding("sip.server_header", Status::Info, json!({})),
                Transport::Udp,
                5080,
            ),
            finding("sips.options", Status::Fail, json!({})),
            finding("policy.min_tls_version", Status::Fail, json!({})),
        ],
    );
    new.endpoints.remove(0);
    new.endpoints.push(endpoint(Transport::Udp, 5080));
    let d = diff(&old, &new);
    let newk = kinds(&d, Kind::New);
    let gone = kinds(&d, Kind::Gone);
    assert!(
        newk.iter().any(|c| c == "endpoint endpoint added"),
        "{newk:?}"
    );
    assert!(
        gone.iter().any(|c| c == "endpoint endpoint gone"),
        "{gone:?}"
    );
    assert!(
        newk.iter()
            .any(|c| c.starts_with("sip.server_header new finding"))
    );
    assert!(
        gone.iter()
            .any(|c| c.starts_with("sip.server_header finding gone"))
    );
    // A new failing finding is worse, not merely new, and a newly violated policy rule too.
    let worse = kinds(&d, Kind::Worse);
    assert!(
        worse.iter().any(|c| c.starts_with("sips.options")),
        "{worse:?}"
    );
    assert!(
        worse
            .iter()
            .any(|c| c.starts_with("policy.min_tls_version new finding, fail")),
        "{worse:?}"
    );
    let text = d.render_text();
    assert!(text.contains("WORSE"), "{text}");
    let md = d.render_md();
    assert!(md.contains("## Worse") && md.contains("## Gone"), "{md}");
}

/// The probes of the scope tests: the transports and what one OPTIONS answer tells.
const SCOPED: &[&str] = &["transport", "sip.server_header", "endpoints.parity"];

#[tokio::test(flavor = "multi_thread")]
async fn a_narrower_run_says_its_scope_first_and_nothing_is_gone() {
    let trunk = Trunk::start(&["Server: FakeSBC"]).await;
    let all = [Transport::Udp, Transport::Tcp, Transport::Tls];
    let full = trunk.scan(&all, SCOPED, None).await;
    let udp_only = trunk.scan(&[Transport::Udp], SCOPED, None).await;
    assert_eq!(full.endpoints.len(), 3, "{:?}", full.endpoints);
    let d = diff(&full, &udp_only);
    assert!(
        d.scope
            .first()
            .is_some_and(|s| s.contains("transports not probed in this run: tcp, tls")),
        "{:?}",
        d.scope
    );
    assert_eq!(kinds(&d, Kind::Gone), Vec::<String>::new());
    assert!(!d.worse(), "{:?}", d.changes);
    let unprobed = kinds(&d, Kind::NotProbed);
    assert!(
        unprobed
            .iter()
            .any(|c| c.starts_with("endpoint endpoint not probed in this run (tls is not among")),
        "{unprobed:?}"
    );
    // The rendering says the scope before any change.
    let text = d.render_text();
    let scope_at = text.find("SCOPE").unwrap();
    let first_change = text.find("NOT PROBED").unwrap();
    assert!(scope_at < first_change, "{text}");
    assert!(!text.contains("GONE"), "{text}");
    let md = d.render_md();
    assert!(
        md.find("## Scope").unwrap() < md.find("## Not probed").unwrap(),
        "{md}"
    );
    // The other way round, the endpoints the baseline did not probe are not "new".
    let back = diff(&udp_only, &full);
    assert!(
        kinds(&back, Kind::New)
            .iter()
            .all(|c| !c.starts_with("endpoint ")),
        "{:?}",
        back.changes
    );
}

/// A baseline taken at the old default cap of 4 connections, diffed with a run at today's default:
/// the diff says the politeness changed, before any change it lists.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_at_another_connection_cap_says_so_in_its_scope() {
    let mut trunk = Trunk::start(&["Server: FakeSBC"]).await;
    let now = trunk.scan(&[Transport::Udp], SCOPED, None).await;
    trunk.max_connections(4);
    let before = trunk.scan(&[Transport::Udp], SCOPED, None).await;
    let d = diff(&before, &now);
    let budget = format!(
        "politeness budget 20/s, 4 connections → 20/s, {} connections",
        sipcheck::DEFAULT_MAX_CONNECTIONS
    );
    assert_eq!(d.scope, vec![budget], "{:?}", d.changes);
    assert!(!d.worse(), "{:?}", d.changes);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_policy_fail_is_worse() {
    let quiet = Trunk::start(&["Server: FakeSBC"]).await;
    let leaky = Trunk::start(&["Server: FakeSBC/4.2.1"]).await;
    let before = quiet.scan(&[Transport::Udp], SCOPED, Some("strict")).await;
    let mut after = leaky.scan(&[Transport::Udp], SCOPED, Some("strict")).await;
    // The same trunk address in both, as a re-run would have.
    after.endpoints = before.endpoints.clone();
    let port = |r: &sipcheck::report::Report| r.endpoints[0].label();
    for f in after.findings.iter_mut() {
        if f.endpoint.is_some() {
            f.endpoint = Some(port(&before));
        }
    }
    assert!(
        after.findings.iter().any(|f| f.id.starts_with("policy.")),
        "the leaky trunk violates strict: {:#?}",
        after.policy
    );
    let d = diff(&before, &after);
    let worse = kinds(&d, Kind::Worse);
    assert!(
        worse
            .iter()
            .any(|c| c.starts_with("policy.server_version_leak_allowed new finding, fail")),
        "{worse:?}"
    );
    assert_eq!(sipcheck::exit::code(sipcheck::Outcome::Diff(&d)), 1);
    // Fixed again: the rule holds, which is better.
    let back = diff(&after, &before);
    assert!(
        kinds(&back, Kind::Better)
            .iter()
            .any(|c| c.starts_with("policy.server_version_leak_allowed rule holds now")),
        "{:?}",
        back.changes
    );
}
