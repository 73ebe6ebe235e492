//! Media offers in real INVITEs against a real baresip in its three set-ups, called directly (no proxy):
//! SDES mandatory, DTLS-SRTP, plain RTP. Each test checks the verdicts, the recorded answer, and that
//! every call baresip answered was also ended.

#[allow(unused_imports)]
use crate::{baresip, support};

use baresip::{Baresip, MediaMode};
use serde_json::Value;
use support::{findings, json, sipcheck};

fn run(b: &Baresip) -> Value {
    let out = sipcheck(&[
        "probe",
        &b.target(),
        "--transport",
        "udp",
        "--probes",
        "media",
        "--call-to",
        &b.user,
        "--allow-calls",
        "--format",
        "json",
        "--timeout",
        "3s",
    ]);
    json(&out)
}

fn one<'a>(r: &'a Value, id: &str) -> &'a Value {
    let f = findings(r, id);
    assert_eq!(f.len(), 1, "one {id} finding expected: {r:#}");
    f[0]
}

/// Every call baresip answered was ended, and sipcheck saw a clean teardown of each of its calls.
fn assert_all_torn_down(b: &Baresip, r: &Value) {
    // baresip logs the end of a call a moment after it answers the BYE.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let (answered, closed) = loop {
        let (a, c) = b.calls_answered_and_closed();
        if a == c || std::time::Instant::now() > deadline {
            break (a, c);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(answered > 0, "baresip answered nothing:\n{}", b.log_text());
    assert_eq!(answered, closed, "a call was left up:\n{}", b.log_text());
    for f in r["findings"].as_array().unwrap() {
        if let Some(t) = f["details"].get("teardown") {
            assert_eq!(t["clean"], true, "{f:#}");
        }
    }
}

#[test]
fn sdes_mandatory_baresip_accepts_sdes_and_srtp_flows_both_ways() {
    let b = Baresip::start(MediaMode::SdesMandatory, "127.0.0.1");
    let r = run(&b);
    let sdes = one(&r, "media.sdes");
    assert_eq!(sdes["status"], "pass", "{sdes:#}");
    assert!(
        sdes["summary"]
            .as_str()
            .unwrap()
            .contains("SDES accepted with AES_CM_128_HMAC_SHA1_80"),
        "{sdes:#}"
    );
    let flow = one(&r, "media.srtp_flow");
    assert_eq!(flow["status"], "pass", "{flow:#}");
    assert!(
        flow["summary"]
            .as_str()
            .unwrap()
            .starts_with("SRTP verified in both directions, SRTCP present"),
        "{flow:#}"
    );
    let m = &flow["details"]["media"];
    assert!(m["rtp_authenticated"].as_u64().unwrap() > 0);
    assert_eq!(m["peer_reports_our_stream"], true);
    // srtp-mand refuses plain RTP and DTLS.
    assert_eq!(one(&r, "media.rtp_plain")["status"], "pass");
    assert_eq!(one(&r, "media.dtls_srtp")["status"], "info");
    // SDES over UDP: keys in clear.
    assert_eq!(one(&r, "media.sdes_cleartext")["status"], "warn");
    // No SDES key may reach the report: every inline: is followed by the redaction marker.
    let text = r.to_string();
    assert!(text.contains("inline:<key>"));
    assert_eq!(
        text.matches("inline:").count(),
        text.matches("inline:<key>").count(),
        "an SDES key reached the report"
    );
    assert_all_torn_down(&b, &r);
}

/// Offered actpass, baresip answers `a=setup:active` (at session level) and starts a DTLS client toward
/// our media port: sipcheck serves the handshake, checks baresip's certificate against the answer's
/// fingerprint, and proves SRTP and SRTCP both ways with the exporter's keys.
fn dtls_call(rtcp_mux: bool) {
    let b = Baresip::start_with(MediaMode::Dtls, "127.0.0.1", rtcp_mux);
    let r = run(&b);
    let d = one(&r, "media.dtls_srtp");
    assert_eq!(d["status"], "pass", "{d:#}");
    assert_eq!(
        d["details"]["answer_fingerprint"]["hash"], "sha-256",
        "{d:#}"
    );
    let fp = d["details"]["answer_fingerprint"]["fingerprint"]
        .as_str()
        .unwrap();
    assert_eq!(fp.split(':').count(), 32, "{fp}");
    assert!(d["summary"].as_str().unwrap().contains(fp));
    assert_eq!(d["details"]["answer_setup"], "active");
    assert_eq!(d["details"]["dtls_handshake_completed"], true, "{d:#}");
    let h = &d["details"]["dtls"];
    assert_eq!(h["role"], "server", "{h:#}");
    assert_eq!(h["fingerprint_matches"], true, "{h:#}");
    assert!(
        h["peer_fingerprint"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(fp)
    );
    assert!(h["version"].as_str().unwrap().starts_with("DTLS"), "{h:#}");
    assert!(
        h["srtp_profile"].as_str().unwrap().starts_with("SRTP_"),
        "{h:#}"
    );
    assert!(!h["cipher_suite"].as_str().unwrap().is_empty());
    if !rtcp_mux {
        assert_eq!(
            d["details"]["dtls_rtcp"]["fingerprint_matches"], true,
            "{d:#}"
        );
    }
    let flow = one(&r, "media.srtp_flow");
    assert_eq!(flow["status"], "pass", "{flow:#}");
    assert_eq!(flow["details"]["keys"], "DTLS-SRTP keys");
    assert_eq!(flow["details"]["offer"], "dtls");
    // A DTLS baresip answers SDES with RTP/SAVP but no crypto line: not an SDES acceptance.
    let s = one(&r, "media.sdes");
    assert_ne!(s["status"], "pass", "{s:#}");
    assert_all_torn_down(&b, &r);
}

#[test]
fn dtls_baresip_completes_dtls_srtp_and_srtp_flows() {
    dtls_call(false);
}

#[test]
fn dtls_baresip_with_rtcp_mux_completes_dtls_srtp() {
    dtls_call(true);
}

#[test]
fn plain_baresip_accepts_unencrypted_rtp() {
    let b = Baresip::start(MediaMode::Plain, "127.0.0.1");
    let r = run(&b);
    let p = one(&r, "media.rtp_plain");
    assert_eq!(p["status"], "fail", "{p:#}");
    assert_eq!(p["details"]["answer_profile"], "RTP/AVP");
    assert!(
        p["details"]["media"]["rtp_received"].as_u64().unwrap() > 0,
        "{p:#}"
    );
    assert_ne!(one(&r, "media.sdes")["status"], "pass");
    assert_ne!(one(&r, "media.srtp_flow")["status"], "pass");
    assert_all_torn_down(&b, &r);
}

/// baresip called directly has no authentication at all: the plain offer is refused on media grounds
/// (488), so sipcheck retries with SDES, which is answered: toll fraud, and the call is ended at once.
#[test]
fn unauthenticated_invite_answered_by_baresip_is_a_fail_and_torn_down() {
    let b = Baresip::start(MediaMode::SdesMandatory, "127.0.0.1");
    let out = sipcheck(&[
        "probe",
        &b.target(),
        "--transport",
        "udp",
        "--probes",
        "auth",
        "--call-to",
        &b.user,
        "--allow-calls",
        "--format",
        "json",
        "--timeout",
        "3s",
    ]);
    assert_eq!(out.status.code(), Some(1), "a fail sets exit code 1");
    let r = json(&out);
    let f = one(&r, "auth.invite_unauthenticated");
    assert_eq!(f["status"], "fail", "{f:#}");
    assert_eq!(f["details"]["offer"], "sdes");
    assert_eq!(f["details"]["teardown"]["established"], true);
    assert_eq!(f["details"]["teardown"]["bye_response"], 200);
    // Both INVITEs are in the evidence: the refused plain one and the answered SDES one.
    let sent: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["sent"].as_str())
        .collect();
    assert_eq!(sent.iter().filter(|s| s.starts_with("INVITE ")).count(), 2);
    assert!(sent.iter().any(|s| s.starts_with("BYE ")));
    assert_all_torn_down(&b, &r);
}

/// With rtcp-mux accepted (RFC 5761), SRTCP arrives on the RTP port and is still verified.
#[test]
fn sdes_with_rtcp_mux_verifies_srtcp_on_the_rtp_port() {
    let b = Baresip::start_with(MediaMode::SdesMandatory, "127.0.0.1", true);
    let out = sipcheck(&[
        "probe",
        &b.target(),
        "--transport",
        "udp",
        "--probes",
        "media.sdes,media.srtp_flow",
        "--call-to",
        &b.user,
        "--allow-calls",
        "--max-calls",
        "1",
        "--format",
        "json",
        "--timeout",
        "3s",
    ]);
    let r = json(&out);
    let flow = one(&r, "media.srtp_flow");
    assert_eq!(flow["status"], "pass", "{flow:#}");
    assert_eq!(flow["details"]["answer_rtcp_mux"], true);
    let m = &flow["details"]["media"];
    assert_eq!(m["rtcp_mux"], true);
    assert!(m["rtcp_on_rtp_port"].as_u64().unwrap() > 0, "{m:#}");
    assert!(m["rtcp_authenticated"].as_u64().unwrap() > 0, "{m:#}");
    assert_all_torn_down(&b, &r);
}
