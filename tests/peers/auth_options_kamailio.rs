//! Issue 11 class 7 against a real server: Kamailio (auth + auth_db over a db_text table the test
//! owns) challenging every request, OPTIONS included, after its sanity module has refused an unknown
//! `Proxy-Require` tag with 420. A default scan without credentials judges the TLS session, the
//! certificate, the challenge and the 420, and says what it could not measure; with `--user` the
//! same scan measures the answers behind the challenge.

#[allow(unused_imports)]
use crate::support;

use support::kamailio::{Kamailio, KamailioOptions};
use support::{findings, sipcheck_env};

const REALM: &str = "sipcheck.test";
const USER: &str = "alice";
const PASSWORD: &str = "Canary-pw-options-9Xk2";

fn challenging_kamailio() -> Kamailio {
    let db = tempfile::tempdir().unwrap();
    std::fs::write(
        db.path().join("version"),
        "id(int,auto) table_name(string) table_version(int) \n0:subscriber:7\n",
    )
    .unwrap();
    std::fs::write(
        db.path().join("subscriber"),
        format!(
            "id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null) \n1:{USER}:{REALM}:{PASSWORD}:::\n"
        ),
    )
    .unwrap();
    let db_path = db.keep();
    // The support code's readiness OPTIONS (From user "ready") is let through unchallenged.
    let route = format!(
        r#"
    if (!sanity_check("512", "1")) {{
        exit;
    }}
    if ($fU != "ready" && !is_method("ACK|CANCEL")) {{
        if (!auth_check("{REALM}", "subscriber", "0")) {{
            auth_challenge("{REALM}", "1");
            exit;
        }}
        consume_credentials();
        if (is_method("REGISTER")) {{ sl_send_reply("200", "OK"); exit; }}
    }}
"#
    );
    let modparams = format!(
        "modparam(\"auth_db\", \"db_url\", \"text://{}\")\n\
         modparam(\"auth_db\", \"calculate_ha1\", yes)\n\
         modparam(\"auth_db\", \"password_column\", \"password\")\n\
         modparam(\"auth_db\", \"load_credentials\", \"\")\n\
         modparam(\"auth\", \"algorithm\", \"SHA-256\")\n",
        db_path.display()
    );
    Kamailio::start_with(KamailioOptions {
        modules: vec!["db_text.so".into(), "auth.so".into(), "auth_db.so".into()],
        modparams,
        route,
        ..KamailioOptions::default()
    })
}

fn scan(k: &Kamailio, user: bool) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    let ca = k.pki.ca_pem.display().to_string();
    let target = k.target();
    let p = path.display().to_string();
    let mut args = vec![
        "probe",
        &target,
        "--ca-file",
        &ca,
        "--domain",
        "sip.test",
        "--timeout",
        "2s",
        "--format",
        "json",
        "-o",
        &p,
    ];
    if user {
        args.extend(["--user", USER]);
    }
    let out = sipcheck_env(&args, &[("SIPCHECK_PASSWORD", PASSWORD)]);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no report ({e}); stderr: {}\nkamailio log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            k.log_text()
        )
    });
    assert!(!text.contains(PASSWORD), "the password is in the report");
    serde_json::from_str(&text).unwrap()
}

/// The status every finding of the default scan must have: `user` says whether `--user` was given,
/// `tls` whether the finding is about the TLS endpoint. Ids not named here must be `skipped` (an
/// opt-in missing, an IP target without DNS, one endpoint per transport for parity).
fn expected(id: &str, tls: bool, user: bool) -> &'static str {
    match id {
        // A 407 answers: reachable, and over TLS the session is what transport.tls judges.
        "transport.udp" | "transport.tcp" => "info",
        "transport.tls" => "pass",
        "transport.plaintext_open" => "warn",
        // Without credentials: "not measured"; with them: the 200's Allow/Supported.
        "sip.allow" | "sip.refer" => "info",
        // The 407 discloses the version as a 200 would.
        "sip.server_header" => "warn",
        // Trusted chain and matching identity: the 407 to the OPTIONS does not make it a warn.
        "sips.options" => "pass",
        "tls.versions" | "tls.mismatch" | "tls.certificate" | "tls.groups" => "pass",
        // Kamailio 5.6 on OpenSSL 3: EMS, encrypt-then-MAC and secure renegotiation, client-initiated
        // renegotiation refused; no heartbeat; one certificate whatever the SNI; no 0-RTT.
        "tls.extensions" | "tls.early_data" | "tls.heartbleed" | "tls.sni" => "pass",
        // Tickets issued (TLS 1.2 and 1.3); whether it resumes is a fact, not a verdict.
        "tls.resumption" => "info",
        // Weak (non-forward-secret CBC) TLS 1.2 suites in Kamailio's default list.
        "tls.cipher_suites" => "warn",
        // SHA-256 with qop: good over TLS, capturable over plaintext.
        "auth.challenge" if tls => "pass",
        "auth.challenge" => "warn",
        // Kamailio refuses some valid edge cases of the catalog: measured before authentication.
        "robustness.malformed" => "warn",
        "robustness.unknown_header" if user => "pass",
        // options_reply() ignores Require: measured only behind the challenge.
        "robustness.unknown_require" if user => "warn",
        "robustness.unknown_header" | "robustness.unknown_require" => "info",
        // The sanity module's 420 to Proxy-Require: sec-agree comes before the challenge.
        "secagree.rfc3329" => "info",
        // The unauthenticated REFER was not acted on (challenged).
        "sip.refer_policy" => "pass",
        _ => "skipped",
    }
}

fn summaries(r: &serde_json::Value, id: &str) -> Vec<String> {
    findings(r, id)
        .iter()
        .map(|f| f["summary"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn kamailio_challenging_options_is_judged_with_and_without_credentials() {
    let k = challenging_kamailio();
    for user in [false, true] {
        let r = scan(&k, user);
        let all = r["findings"].as_array().unwrap();
        assert!(all.len() > 40, "{r:#}");
        let mut unexpected = Vec::new();
        for f in all {
            let id = f["id"].as_str().unwrap();
            let tls = f["endpoint"]
                .as_str()
                .is_some_and(|e| e.starts_with("tls:"));
            if f["status"] != expected(id, tls, user) {
                unexpected.push(format!("{id} {}: {}", f["status"], f["summary"]));
            }
            let s = f["summary"].as_str().unwrap_or_default();
            if !user {
                assert!(!s.contains("ignored an unknown Require"), "{f:#}");
                assert!(!s.contains("refused with SIP/2.0 407"), "{f:#}");
            }
        }
        assert!(unexpected.is_empty(), "--user {user}: {unexpected:#?}");
        let sips = summaries(&r, "sips.options");
        let allow = summaries(&r, "sip.allow");
        let header = summaries(&r, "robustness.unknown_header");
        let require = summaries(&r, "robustness.unknown_require");
        assert_eq!(allow.len(), 3, "{allow:?}");
        assert_eq!(require.len(), 2, "udp and tcp: {require:?}");
        if user {
            assert!(
                sips[0].starts_with("SIPS answered SIP/2.0 200 OK (authenticated)"),
                "{sips:?}"
            );
            for s in &allow {
                assert!(
                    s.starts_with("Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER"),
                    "{s}"
                );
            }
            for s in &header {
                assert!(
                    s.starts_with("unknown headers ignored: answered SIP/2.0 200 OK"),
                    "{s}"
                );
            }
            for s in &require {
                assert!(
                    s.starts_with(
                        "ignored an unknown Require option tag and answered SIP/2.0 200 OK"
                    ),
                    "{s}"
                );
            }
        } else {
            assert!(
                sips[0].contains("with a trusted certificate for sip.test; the sips: OPTIONS answer not measured: needs credentials"),
                "{sips:?}"
            );
            for s in allow.iter().chain(&header) {
                assert!(
                    s.contains("not measured: needs credentials") && s.contains("407"),
                    "{s}"
                );
            }
            for s in &require {
                assert!(
                    s.starts_with("Require not measured: needs credentials")
                        && s.contains("refused Proxy-Require with SIP/2.0 420")
                        && s.contains("listing the tag in Unsupported"),
                    "{s}"
                );
            }
        }
        for s in summaries(&r, "sip.refer_policy") {
            assert!(s.starts_with("an unauthenticated out-of-dialog REFER was not acted on: challenged with SIP/2.0 407"), "{s}");
            assert!(
                s.contains("gets 481 not measured: needs credentials"),
                "{s}"
            );
        }
    }
}
