//! sipcheck's own checks against the hand-written TLS 1.2 fake (tests/support/tls12_fake.rs), one
//! flaw at a time: ROBOT, no extended master secret, no renegotiation_info, Heartbleed; and the same
//! fake without flaws. That testssl.sh and sslyze call each fake what these tests call it is shown in
//! tests/peers/tls_fakes_confirmed.rs.

use std::sync::atomic::Ordering;
use std::time::Duration;

use sipcheck::findings::ids;
use sipcheck::findings::run::Kind;
use sipcheck::{Report, Status};

use super::tls_hello_fake::{self, TLS12, code};
use super::tls12_fake::{Flaws, Tls12Fake, scan_addr, scan_fake};

fn robot(r: &Report) -> (&sipcheck::Finding, sipcheck::findings::tls::RobotDetails) {
    let f = r
        .findings_with_id(ids::TLS_ROBOT.id)
        .next()
        .unwrap_or_else(|| panic!("no tls.robot: {:#?}", r.findings));
    (f, ids::TLS_ROBOT.read(f).unwrap_or_else(|e| panic!("{e}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_finds_the_oracle_in_eleven_handshakes_and_none_in_the_sound_fake() {
    let (bad, good) = (
        Tls12Fake::start(Flaws {
            robot_oracle: true,
            ..Flaws::SOUND
        }),
        Tls12Fake::start(Flaws::SOUND),
    );
    let rules = Some("forbid_robot = true");
    let (rb, rg) = tokio::join!(
        scan_addr(bad.addr(), &["tls.robot"], true, rules),
        scan_addr(good.addr(), &["tls.robot"], true, rules)
    );
    let rule = |r: &Report| {
        let p = r.policy.as_ref().expect("policy outcome");
        let x = p.rules.iter().find(|x| x.rule == "forbid_robot").unwrap();
        (serde_json::to_value(x.outcome).unwrap(), x.summary.clone())
    };
    let (outcome, summary) = rule(&rb);
    assert_eq!(outcome, "fail", "{summary}");
    assert!(summary.contains("weak Bleichenbacher oracle"), "{summary}");
    assert_eq!(rule(&rg).0, "pass");
    // Questions 10 (ciphers) and 14 (integrity) say it.
    let q = |r: &Report, n: u8| {
        sipcheck::report::answers::all(r)
            .into_iter()
            .find(|a| a.question.number == n)
            .unwrap()
            .text
    };
    assert!(q(&rb, 10).contains("ROBOT: vulnerable"), "{}", q(&rb, 10));
    assert!(q(&rb, 14).contains("ROBOT: vulnerable"), "{}", q(&rb, 14));
    assert!(
        q(&rg, 10).contains("ROBOT: not vulnerable"),
        "{}",
        q(&rg, 10)
    );

    let (f, d) = robot(&rb);
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert_eq!(d.vulnerable, Some(true));
    assert_eq!(d.suite.as_deref(), Some("TLS_RSA_WITH_AES_128_GCM_SHA256"));
    assert_eq!(d.key_bits, Some(2048));
    // The three badly formatted blocks get handshake_failure alike: the ROBOT authors' "weak" grade.
    assert_eq!(d.oracle.as_deref(), Some("weak"), "{d:#?}");
    let first = &d.rounds[0].answers;
    assert_eq!(first[0], ("valid".into(), "alert:bad_record_mac".into()));
    assert_eq!(
        first[1],
        (
            "wrong_first_two_bytes".into(),
            "alert:handshake_failure".into()
        )
    );
    assert_eq!(d.rounds.len(), 2, "the difference confirmed once: {d:#?}");
    assert_eq!(d.handshakes, 11, "1 + 5 + 5");
    assert_eq!(bad.connections.load(Ordering::Relaxed), 11);
    assert_eq!(bad.key_exchanges.load(Ordering::Relaxed), 10);
    assert!(f.summary.contains("11 handshakes"), "{}", f.summary);
    assert_eq!(f.evidence.len(), 11, "the hello and each key exchange");

    let (f, d) = robot(&rg);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(d.vulnerable, Some(false));
    // RFC 5246 §7.4.7.1: every block gets on to the Finished check, which fails alike; without
    // ChangeCipherSpec and Finished the server waits for them, alike.
    assert!(
        d.rounds[0]
            .answers
            .iter()
            .all(|(_, a)| a == "alert:bad_record_mac"),
        "{d:#?}"
    );
    assert!(d.rounds[1].answers.iter().all(|(_, a)| a == "timeout"));
    assert_eq!(d.handshakes, 11);
    assert!(d.handshakes <= d.max_handshakes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_needs_intrusive_and_says_so() {
    let fake = Tls12Fake::start(Flaws {
        robot_oracle: true,
        ..Flaws::SOUND
    });
    let r = scan_fake(&fake, &["tls.robot"], false).await;
    let f = r.findings_with_id(ids::TLS_ROBOT.id).next().unwrap();
    assert_eq!(f.status, Status::Skipped, "{f:#?}");
    assert!(f.summary.contains("--intrusive"), "{}", f.summary);
    assert!(f.summary.contains("21 handshakes"), "{}", f.summary);
    assert_eq!(fake.connections.load(Ordering::Relaxed), 0, "nothing sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_is_one_hello_where_static_rsa_is_refused() {
    let addr = tls_hello_fake::start(vec![(
        TLS12,
        vec![code("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")],
    )])
    .await;
    let r = scan_addr(addr, &["tls.robot"], true, None).await;
    let (f, d) = robot(&r);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert!(!d.rsa_key_exchange);
    assert!(d.rounds.is_empty());
    assert_eq!(d.handshakes, 1, "only the RSA-only hello");
    assert!(f.summary.starts_with("not applicable"), "{}", f.summary);
}

/// A server that serves one connection at a time would answer hellos queued behind a key exchange it
/// waits on too late. Near, the handshake turns keep them from queuing (11 handshakes); any that do
/// queue are retried one at a time, never judged; either way the sound server is no oracle (before
/// the retries and the turns, this read as one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hellos_answered_too_late_are_retried_not_judged() {
    let fake = Tls12Fake::start(Flaws {
        serial: true,
        ..Flaws::SOUND
    });
    let r = scan_fake(&fake, &["tls.robot"], true).await;
    let (f, d) = robot(&r);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert_eq!(d.vulnerable, Some(false));
    assert!(
        d.rounds[1].answers.iter().all(|(_, a)| a == "timeout"),
        "{d:#?}"
    );
    assert!(
        d.handshakes >= 11 && d.handshakes <= d.max_handshakes,
        "{d:#?}"
    );
    assert_eq!(fake.connections.load(Ordering::Relaxed), d.handshakes);
}

/// The baseline diff between two real reports of the same server, before and after it became an
/// oracle (and back): worse, and better. (The contract's own detail diff, "now vulnerable to ROBOT",
/// is for reports whose status stayed the same: src/findings/tls/robot.rs tests it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oracle_appearing_is_worse_in_the_baseline_diff() {
    let fake = Tls12Fake::start(Flaws::SOUND);
    let before = scan_fake(&fake, &["tls.robot"], true).await;
    fake.set_flaws(Flaws {
        robot_oracle: true,
        ..Flaws::SOUND
    });
    let after = scan_fake(&fake, &["tls.robot"], true).await;
    let change = |d: &sipcheck::report::diff::Diff| {
        d.changes
            .iter()
            .find(|c| c.id == ids::TLS_ROBOT.id)
            .cloned()
            .unwrap_or_else(|| panic!("{d:#?}"))
    };
    let worse = change(&sipcheck::report::diff::diff(&before, &after));
    assert_eq!(worse.kind, Kind::Worse, "{worse:#?}");
    assert!(
        worse.what.starts_with("pass → fail: vulnerable to ROBOT"),
        "{worse:#?}"
    );
    let better = change(&sipcheck::report::diff::diff(&after, &before));
    assert_eq!(better.kind, Kind::Better, "{better:#?}");
    assert!(
        better.what.contains("not vulnerable to ROBOT"),
        "{better:#?}"
    );
}

/// The `tls.extensions` and `tls.heartbleed` details of a scan of a fake with `flaws`.
async fn extensions_and_heartbleed(flaws: Flaws) -> (serde_json::Value, serde_json::Value) {
    let fake = Tls12Fake::start(flaws);
    let r = scan_fake(&fake, &["tls.extensions", "tls.heartbleed"], false).await;
    let get = |id: &str| {
        r.findings_with_id(id)
            .next()
            .unwrap_or_else(|| panic!("no {id}: {:#?}", r.findings))
            .details
            .clone()
    };
    (get("tls.extensions"), get("tls.heartbleed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_of_the_fake_is_seen_and_only_that_one() {
    let (sound, no_ems, no_ri, bleed) = tokio::join!(
        extensions_and_heartbleed(Flaws::SOUND),
        extensions_and_heartbleed(Flaws {
            ems: false,
            ..Flaws::SOUND
        }),
        extensions_and_heartbleed(Flaws {
            renegotiation_info: false,
            ..Flaws::SOUND
        }),
        extensions_and_heartbleed(Flaws {
            heartbleed: true,
            ..Flaws::SOUND
        }),
    );
    assert_eq!(sound.0["extended_master_secret"], true, "{:#}", sound.0);
    assert_eq!(sound.0["secure_renegotiation"], true);
    assert_eq!(sound.1["vulnerable"], false, "{:#}", sound.1);

    assert_eq!(no_ems.0["extended_master_secret"], false, "{:#}", no_ems.0);
    assert_eq!(no_ems.0["secure_renegotiation"], true);
    assert_eq!(
        no_ems.0["without_ems"][0],
        "TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256"
    );

    assert_eq!(no_ri.0["secure_renegotiation"], false, "{:#}", no_ri.0);
    assert_eq!(no_ri.0["extended_master_secret"], true);

    assert_eq!(bleed.1["vulnerable"], true, "{:#}", bleed.1);
    assert_eq!(bleed.1["leaked_length"], 1024);
    assert_eq!(bleed.0["extended_master_secret"], true);
}

#[test]
#[ignore = "manual: serves the fakes (FAKE_SECS, default 60) to poke with testssl.sh or sslyze"]
fn serve_fakes_for_a_minute() {
    let fakes: Vec<(&str, Tls12Fake)> = [
        ("sound", Flaws::SOUND),
        (
            "robot",
            Flaws {
                robot_oracle: true,
                ..Flaws::SOUND
            },
        ),
        (
            "heartbleed",
            Flaws {
                heartbleed: true,
                ..Flaws::SOUND
            },
        ),
        (
            "no-ems",
            Flaws {
                ems: false,
                ..Flaws::SOUND
            },
        ),
        (
            "no-ri",
            Flaws {
                renegotiation_info: false,
                ..Flaws::SOUND
            },
        ),
    ]
    .into_iter()
    .map(|(n, f)| (n, Tls12Fake::start(f)))
    .collect();
    for (n, f) in &fakes {
        eprintln!("FAKE {n} {}", f.port);
    }
    let secs = std::env::var("FAKE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60u64)
        .min(900);
    std::thread::sleep(Duration::from_secs(secs));
}
