//! The robustness, sec-agree and REFER probes against a real Kamailio with its stock sanity checks.
//! The expected reactions are what this Kamailio was measured to do; the tests check that sipcheck
//! reports them, and that every liveness check passed.

#[allow(unused_imports)]
use crate::support;

use serde_json::Value;
use support::kamailio::Kamailio;
use support::{findings, json, sipcheck};

fn case<'a>(f: &'a Value, id: &str) -> &'a Value {
    f["details"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("case {id} not in {f}"))
}

fn on<'a>(r: &'a Value, id: &str, transport: &str) -> &'a Value {
    findings(r, id)
        .into_iter()
        .find(|f| f["endpoint"].as_str().unwrap().starts_with(transport))
        .unwrap_or_else(|| panic!("{id} on {transport} missing"))
}

#[test]
fn kamailio_reactions_are_reported_and_it_stays_alive() {
    let k = Kamailio::start();
    let out = sipcheck(&[
        "probe",
        &k.target(),
        "--format",
        "json",
        "--probes",
        "robustness,secagree,sip.refer",
        "--transport",
        "udp,tcp",
        "--timeout",
        "3s",
        "--rate",
        "500",
    ]);
    let r = json(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    for t in ["udp", "tcp"] {
        let m = on(&r, "robustness.malformed", t);
        assert_eq!(m["details"]["stopped_after"], Value::Null, "{t}");
        assert_eq!(m["details"]["liveness_failures"], 0, "{t}");
        assert_eq!(m["details"]["liveness_failed"], false, "{t}");
        let cases = m["details"]["cases"].as_array().unwrap();
        assert!(cases.len() >= 40, "{t}: {} cases", cases.len());
        for c in cases {
            assert_eq!(c["liveness"], "ok", "{t}: {c}");
        }
        // Kamailio's sanity checks: measured reactions.
        let c = case(m, "cseq-method-mismatch");
        assert_eq!(
            c["observed"], "400 CSeq method does not match request method",
            "{t}"
        );
        assert_eq!(c["verdict"], "expected");
        let c = case(m, "request-uri-unparseable");
        assert_eq!(c["observed"], "400 Bad Request URI", "{t}");
        assert_eq!(
            case(m, "max-forwards-zero")["observed"],
            "483 Too Many Hops"
        );
        let c = case(m, "missing-call-id");
        assert_eq!(c["verdict"], "expected", "{t}: {c}");
        let c = case(m, "unknown-version-sip7");
        assert_eq!(c["observed"], "no answer", "{t}");
        assert_eq!(c["verdict"], "different_safe");
        assert_eq!(c["status"], "warn");
        // The intrusive cases wait for --intrusive.
        let skipped = m["details"]["skipped"].as_array().unwrap();
        assert!(skipped.iter().any(|s| s["id"] == "too-many-headers"), "{t}");
        // Kamailio answers a few invalid messages with 200: reported, but only a warning.
        assert_eq!(m["status"], "warn", "{t}");
        assert_eq!(
            case(m, "nul-byte-in-header")["verdict"],
            "accepted_invalid",
            "{t}"
        );
    }
    let udp = on(&r, "robustness.malformed", "udp");
    let tcp = on(&r, "robustness.malformed", "tcp");
    assert_eq!(case(udp, "garbage-line")["observed"], "no answer");
    assert!(
        case(tcp, "garbage-line")["observed"]
            .as_str()
            .unwrap()
            .starts_with("connection "),
        "{}",
        case(tcp, "garbage-line")
    );
    assert_eq!(
        case(udp, "content-length-larger")["observed"],
        "400 Content-Length mis-match"
    );
    assert_eq!(case(tcp, "content-length-larger")["observed"], "no answer");
    assert_eq!(case(tcp, "content-length-larger")["verdict"], "expected");

    for t in ["udp", "tcp"] {
        let h = on(&r, "robustness.unknown_header", t);
        assert_eq!(h["status"], "pass", "{h}");
        let q = on(&r, "robustness.unknown_require", t);
        assert_eq!(q["status"], "warn", "{q}");
        assert_eq!(q["details"]["response"], 200);
        let s = on(&r, "secagree.rfc3329", t);
        assert_eq!(s["status"], "warn", "{s}");
        assert_eq!(s["details"]["supported"], false);
        assert_eq!(s["details"]["response"], "200");
        let p = on(&r, "sip.refer_policy", t);
        assert_eq!(p["status"], "pass", "{p}");
        assert_eq!(p["details"]["out_of_dialog"]["treatment"], "refused");
        assert_eq!(p["details"]["supported_replaces"], true);
        assert_eq!(p["details"]["supported_norefersub"], true);
    }
}

const USER_CASE: &str = r#"
id = "user-added-case"
title = "A case added by the user"
rfc = "RFC 3261"
section = "8.2.2.3"
category = "user"
expect = ["420"]
message = '''
OPTIONS {uri} SIP/2.0
Via: SIP/2.0/{transport} {local};branch={branch};rport
Max-Forwards: 70
From: <sip:sipcheck@{domain}>;tag={tag}
To: <{uri}>
Call-ID: {call_id}
CSeq: 1 OPTIONS
Require: x-user-case-tag
Content-Length: {content_length}

'''
"#;

#[test]
fn markdown_case_table_user_catalog_and_intrusive_cases() {
    let k = Kamailio::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("user.toml"), USER_CASE).unwrap();
    let catalog = dir.path().display().to_string();
    let out = sipcheck(&[
        "probe",
        &k.target(),
        "--format",
        "md",
        "--probes",
        "robustness.malformed",
        "--transport",
        "tcp",
        "--timeout",
        "3s",
        "--rate",
        "500",
        "--intrusive",
        "--catalog",
        &catalog,
    ]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("| Case | RFC | Expected | Observed | Verdict | Status | Liveness after |"),
        "{md}"
    );
    assert!(
        md.contains("| `cseq-method-mismatch` CSeq method differs from the request method | RFC 4475 §3.1.2.17 | 400 | 400 CSeq method does not match request method | as expected | pass | ok |"),
        "{md}"
    );
    // The user's case ran without recompiling: Kamailio ignores Require, so 200 instead of 420.
    assert!(
        md.contains(
            "| `user-added-case` A case added by the user | RFC 3261 §8.2.2.3 | 420 | 200 OK |"
        ),
        "{md}"
    );
    // Intrusive cases ran, and Kamailio stayed alive after them.
    for id in ["oversized-header-64k", "too-many-headers"] {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| `{id}`")))
            .unwrap_or_else(|| panic!("{id} row missing:\n{md}"));
        assert!(row.ends_with("| ok |"), "{row}");
    }
    assert!(!md.contains("did not answer a normal OPTIONS"), "{md}");

    // A broken case file stops the run before any traffic, naming the file.
    std::fs::write(dir.path().join("broken.toml"), "id = \"x\"\n").unwrap();
    let out = sipcheck(&["probe", &k.target(), "--catalog", &catalog]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml"), "{err}");
}

#[test]
fn ipv6_target_gets_the_rfc5118_cases() {
    let k = Kamailio::start();
    let target = format!("[::1]:{}", k.port);
    let out = sipcheck(&[
        "probe",
        &target,
        "--format",
        "json",
        "--probes",
        "robustness.malformed",
        "--transport",
        "udp",
        "--timeout",
        "3s",
        "--rate",
        "500",
    ]);
    let r = json(&out);
    let m = on(&r, "robustness.malformed", "udp");
    assert_eq!(m["details"]["liveness_failures"], 0, "{m}");
    let c = case(m, "ipv6-references");
    assert_eq!(c["verdict"], "expected", "{c}");
    assert!(c["observed"].as_str().unwrap().starts_with("200"), "{c}");
    let c = case(m, "ipv6-unbracketed-request-uri");
    assert_ne!(c["verdict"], "accepted_invalid", "{c}");
    // The same Kamailio probed over IPv4 gets no IPv6 cases.
    let out = sipcheck(&[
        "probe",
        &k.target(),
        "--format",
        "json",
        "--probes",
        "robustness.malformed",
        "--transport",
        "udp",
        "--rate",
        "500",
    ]);
    let r = json(&out);
    let m = on(&r, "robustness.malformed", "udp");
    let ids: Vec<&str> = m["details"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!ids.iter().any(|i| i.starts_with("ipv6-")), "{ids:?}");
}
