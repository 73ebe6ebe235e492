//! Call behaviours no packaged server shows, against an in-process fake trunk: no INVITE without
//! `--call-to` and `--allow-calls`, toll fraud (an unauthenticated INVITE answered), a 180 after the 200,
//! SHA-256 digest on INVITE, a crypto suite that was not offered, plain RTP under an SRTP answer, and
//! the `--max-calls` bound.

#[allow(unused_imports)]
use crate::{media_fake, support};

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use media_fake::{CallFake, KEY30, blast_plain_rtp, offer_rtp, response, sdes_answer};
use sipcheck::Report;
use sipcheck::probe::Config;
use sipcheck::scan::{ScanOptions, scan};
use sipcheck::sip::Message;
use sipcheck::sip::digest::Credentials;
use sipcheck::{Status, Target, Transport};

fn config(call: bool) -> Config {
    let mut cfg = Config::default();
    cfg.timers.timeout = Duration::from_secs(2);
    if call {
        cfg.calls.call_to = Some("bob".into());
        cfg.calls.allow = true;
    }
    cfg
}

async fn run(fake: &CallFake, probes: &[&str], cfg: Config) -> Report {
    let mut o = ScanOptions::new(Target::parse(&fake.target()).unwrap());
    o.transports = Some(vec![Transport::Udp]);
    o.selectors = probes.iter().map(|s| s.to_string()).collect();
    o.config = cfg;
    scan(o).await.unwrap()
}

fn one<'a>(r: &'a Report, id: &'a str) -> &'a sipcheck::Finding {
    let v: Vec<_> = r.findings_with_id(id).collect();
    assert_eq!(v.len(), 1, "{id}: {:#?}", r.findings);
    v[0]
}

fn invites(fake: &CallFake) -> usize {
    fake.requests
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.method() == Some("INVITE"))
        .filter_map(|m| m.header("Call-ID").map(str::to_string))
        .collect::<HashSet<_>>()
        .len()
}

/// OPTIONS 200, REGISTER challenged with `challenge`, ACK ignored, everything else per `call`.
fn trunk(
    challenge: &'static str,
    call: impl Fn(&Message) -> Vec<Vec<u8>> + Send + Sync + 'static,
) -> media_fake::Handler {
    Arc::new(move |m: &Message| match m.method().unwrap_or_default() {
        "OPTIONS" => vec![response(m, 200, "OK", &[], None)],
        "REGISTER" => vec![response(
            m,
            401,
            "Unauthorized",
            &[format!("WWW-Authenticate: {challenge}")],
            None,
        )],
        "ACK" => vec![],
        "BYE" | "CANCEL" => vec![response(m, 200, "OK", &[], None)],
        _ => call(m),
    })
}

const MD5_ONLY: &str = r#"Digest realm="fake", nonce="n1", qop="auth", algorithm=MD5"#;

#[tokio::test(flavor = "multi_thread")]
async fn without_call_to_and_allow_calls_no_invite_is_sent() {
    let fake = CallFake::start(trunk(MD5_ONLY, |m| vec![response(m, 200, "OK", &[], None)])).await;
    // Neither flag, then --call-to alone, then --allow-calls alone.
    for (to, allow) in [(None, false), (Some("bob"), false), (None, true)] {
        let mut cfg = config(false);
        cfg.calls.call_to = to.map(String::from);
        cfg.calls.allow = allow;
        let r = run(&fake, &["media", "auth"], cfg).await;
        for id in [
            "media.sdes",
            "media.dtls_srtp",
            "media.rtp_plain",
            "media.sdes_cleartext",
            "media.srtp_flow",
            "auth.invite_unauthenticated",
        ] {
            let f = one(&r, id);
            assert_eq!(f.status, Status::Skipped, "{f:#?}");
            assert!(
                f.summary.contains("--"),
                "the reason names the flag: {f:#?}"
            );
        }
        // auth.challenge is measured without a call (REGISTER with Expires: 0).
        assert_eq!(one(&r, "auth.challenge").status, Status::Warn);
    }
    assert_eq!(fake.count("INVITE"), 0, "{:?}", fake.methods());
    assert!(fake.count("REGISTER") > 0);
    let reg = fake
        .requests
        .lock()
        .unwrap()
        .iter()
        .find(|m| m.method() == Some("REGISTER"))
        .cloned()
        .unwrap();
    assert_eq!(reg.header("Expires"), Some("0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn md5_only_challenge_warns_and_sha256_is_noticed() {
    let fake = CallFake::start(trunk(MD5_ONLY, |_| vec![])).await;
    let r = run(&fake, &["auth"], config(false)).await;
    let f = one(&r, "auth.challenge");
    assert_eq!(f.status, Status::Warn);
    assert!(f.summary.contains("MD5 only"), "{}", f.summary);
    assert_eq!(f.details["md5_only"], true);

    let fake = CallFake::start(trunk(
        r#"Digest realm="fake", nonce="n2", qop="auth", algorithm=SHA-256"#,
        |_| vec![],
    ))
    .await;
    let r = run(&fake, &["auth"], config(false)).await;
    let f = one(&r, "auth.challenge");
    assert!(!f.summary.contains("MD5 only"), "{}", f.summary);
    assert_eq!(f.details["md5_only"], false);
    assert_eq!(f.details["algorithms"], serde_json::json!(["SHA-256"]));
    // Still a warning: the challenge came over UDP.
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.details["plaintext_transport"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_invite_answered_is_a_fail_and_the_call_is_ended_at_once() {
    // 200 first, then a late 180 (as relayed responses can arrive): no CANCEL after the 200, but ACK + BYE.
    let fake = CallFake::start(trunk(MD5_ONLY, |m| {
        let sdp = "v=0\r\no=f 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
        vec![
            response(m, 200, "OK", &["Contact: <sip:bob@127.0.0.1>".into()], Some(sdp)),
            response(m, 180, "Ringing", &[], None),
        ]
    }))
    .await;
    let r = run(&fake, &["auth"], config(true)).await;
    let f = one(&r, "auth.invite_unauthenticated");
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.summary.contains("toll fraud"));
    assert_eq!(f.details["teardown"]["established"], true);
    assert_eq!(f.details["teardown"]["bye_response"], 200);
    assert_eq!(fake.count("ACK"), 1, "{:?}", fake.methods());
    assert_eq!(fake.count("BYE"), 1, "{:?}", fake.methods());
    assert_eq!(fake.count("CANCEL"), 0, "no CANCEL once answered");
}

#[tokio::test(flavor = "multi_thread")]
async fn ringing_without_credentials_is_cancelled_and_fails() {
    let fake = CallFake::start(trunk(MD5_ONLY, |m| match m.method() {
        Some("INVITE") => vec![response(m, 180, "Ringing", &[], None)],
        _ => vec![],
    }))
    .await;
    let r = run(&fake, &["auth"], config(true)).await;
    let f = one(&r, "auth.invite_unauthenticated");
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.summary.contains("cancelled"), "{}", f.summary);
    assert!(fake.count("CANCEL") >= 1, "{:?}", fake.methods());
}

fn field(v: &str, name: &str) -> String {
    v.split(',')
        .filter_map(|p| p.trim().trim_start_matches("Digest ").split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .unwrap_or_default()
}

fn sha256_hex(s: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, s.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A trunk that demands SHA-256 digest on INVITE (checked independently here), then answers SDES with
/// a suite that was never offered and refuses everything else.
#[tokio::test(flavor = "multi_thread")]
async fn sha256_digest_on_invite_and_an_unoffered_crypto_suite() {
    let fake = CallFake::start(trunk(MD5_ONLY, |m| {
        let Some(auth) = m.header("Authorization") else {
            return vec![response(
                m,
                401,
                "Unauthorized",
                &[
                    r#"WWW-Authenticate: Digest realm="fake", nonce="abc", qop="auth", algorithm=MD5"#.into(),
                    r#"WWW-Authenticate: Digest realm="fake", nonce="abc", qop="auth", algorithm=SHA-256"#.into(),
                ],
                None,
            )];
        };
        let uri = field(auth, "uri");
        let ha1 = sha256_hex("alice:fake:pw-for-test");
        let ha2 = sha256_hex(&format!("INVITE:{uri}"));
        let want = sha256_hex(&format!(
            "{ha1}:abc:{}:{}:auth:{ha2}",
            field(auth, "nc"),
            field(auth, "cnonce")
        ));
        if field(auth, "algorithm") != "SHA-256" || field(auth, "response") != want {
            return vec![response(m, 403, "Bad credentials", &[], None)];
        }
        let body = String::from_utf8_lossy(&m.body).to_string();
        if !body.contains("RTP/SAVP") || body.contains("UDP/TLS") {
            return vec![response(m, 488, "Not Acceptable Here", &[], None)];
        }
        let sdp = sdes_answer(9, &format!("a=crypto:1 F8_128_HMAC_SHA1_80 inline:{KEY30}\r\n"));
        vec![response(m, 200, "OK", &["Contact: <sip:bob@127.0.0.1>".into()], Some(&sdp))]
    }))
    .await;
    let mut cfg = config(true);
    cfg.calls.credentials = Some(Credentials::new("alice", "pw-for-test"));
    let r = run(&fake, &["media"], cfg).await;
    let sdes = one(&r, "media.sdes");
    assert_eq!(sdes.status, Status::Fail, "{sdes:#?}");
    assert!(sdes.summary.contains("not offered"), "{}", sdes.summary);
    assert_eq!(sdes.details["authenticated_with"], "SHA-256");
    assert_eq!(one(&r, "media.rtp_plain").status, Status::Pass);
    assert_eq!(one(&r, "media.dtls_srtp").status, Status::Info);
    assert_eq!(fake.count("BYE"), 1, "the answered call was hung up");
    // The password is in no finding.
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("pw-for-test"));
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_rtp_under_an_srtp_answer_fails_the_flow() {
    let fake = CallFake::start(trunk(MD5_ONLY, |m| {
        let body = String::from_utf8_lossy(&m.body).to_string();
        if m.method() != Some("INVITE") || !body.contains("RTP/SAVP") || body.contains("UDP/TLS") {
            return vec![response(m, 488, "Not Acceptable Here", &[], None)];
        }
        if let Some(to) = offer_rtp(m) {
            blast_plain_rtp(to, 40);
        }
        let sdp = sdes_answer(
            9,
            &format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY30}\r\n"),
        );
        vec![response(
            m,
            200,
            "OK",
            &["Contact: <sip:bob@127.0.0.1>".into()],
            Some(&sdp),
        )]
    }))
    .await;
    let r = run(&fake, &["media"], config(true)).await;
    assert_eq!(one(&r, "media.sdes").status, Status::Pass);
    let flow = one(&r, "media.srtp_flow");
    assert_eq!(flow.status, Status::Fail, "{flow:#?}");
    assert!(flow.summary.contains("authenticated"), "{}", flow.summary);
    assert!(flow.summary.contains("no auth tag"), "{}", flow.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_calls_bounds_the_run() {
    let fake = CallFake::start(trunk(MD5_ONLY, |m| {
        vec![response(m, 488, "Not Acceptable Here", &[], None)]
    }))
    .await;
    let mut cfg = config(true);
    cfg.calls.max_calls = 2;
    let r = run(&fake, &["media", "auth"], cfg).await;
    assert_eq!(invites(&fake), 2, "{:?}", fake.methods());
    // Every refused INVITE was ACKed (RFC 3261 §17.1.1.3), with the branch of its INVITE.
    let reqs = fake.requests.lock().unwrap().clone();
    let branches = |m: &str| -> Vec<Option<String>> {
        reqs.iter()
            .filter(|r| r.method() == Some(m))
            .map(|r| r.top_via_branch())
            .collect()
    };
    assert_eq!(branches("ACK"), branches("INVITE"), "{:?}", fake.methods());
    let skipped = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Skipped && f.summary.contains("--max-calls"))
        .count();
    assert!(skipped >= 1, "{:#?}", r.findings);
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_call_to_without_allow_calls_sends_no_invite() {
    let fake = CallFake::start(trunk(MD5_ONLY, |m| vec![response(m, 200, "OK", &[], None)])).await;
    let target = fake.target();
    let out = tokio::task::spawn_blocking(move || {
        support::sipcheck(&[
            "probe",
            &target,
            "--transport",
            "udp",
            "--probes",
            "media,auth",
            "--call-to",
            "bob",
            "--format",
            "json",
            "--timeout",
            "2s",
        ])
    })
    .await
    .unwrap();
    let r = support::json(&out);
    for id in [
        "media.sdes",
        "media.srtp_flow",
        "auth.invite_unauthenticated",
    ] {
        let f = support::findings(&r, id);
        assert_eq!(f[0]["status"], "skipped", "{:#}", f[0]);
        assert!(f[0]["summary"].as_str().unwrap().contains("--allow-calls"));
    }
    assert_eq!(fake.count("INVITE"), 0, "{:?}", fake.methods());
    // A password flag does not exist: secrets never go on the command line.
    let bad = support::sipcheck(&["probe", "127.0.0.1", "--password", "x"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn register_accepted_without_credentials_warns() {
    let fake = CallFake::start(Arc::new(|m: &Message| {
        vec![response(m, 200, "OK", &[], None)]
    }))
    .await;
    let r = run(&fake, &["auth"], config(false)).await;
    let f = one(&r, "auth.challenge");
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert!(
        f.summary
            .contains("REGISTER without credentials was accepted"),
        "{}",
        f.summary
    );
    assert_eq!(fake.count("INVITE"), 0);
}
