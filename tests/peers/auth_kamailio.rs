//! Digest authentication through a real Kamailio (auth + auth_db over a db_text user table the test
//! owns) relaying authenticated INVITEs to a real SDES baresip on another loopback address. Checks the
//! unauthenticated INVITE is challenged, the authenticated calls get through with SRTP verified, every
//! call is torn down, and the password never appears in stdout, stderr, JSON, markdown or evidence.

#[allow(unused_imports)]
use crate::{baresip, support};

use baresip::{Baresip, MediaMode};
use support::kamailio::{Kamailio, KamailioOptions};
use support::{findings, sipcheck_env};

const REALM: &str = "sipcheck.test";
const USER: &str = "alice";
const PASSWORD: &str = "Canary-pw-7Qz4-not-in-reports";

/// Kamailio challenging INVITE and REGISTER with `algorithm` and relaying authenticated INVITEs to `b`.
fn kamailio_for(b: &Baresip, algorithm: &str) -> Kamailio {
    kamailio_checking(b, algorithm, "0")
}

/// As [`kamailio_for`], with `auth_check` flags (1: the From user must be the authenticated user, as
/// trunks commonly configure it).
fn kamailio_checking(b: &Baresip, algorithm: &str, flags: &str) -> Kamailio {
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
    // The directory must outlive Kamailio: keep it inside Kamailio's own test directory.
    let db_path = db.keep();
    let route = format!(
        r#"
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{ t_relay(); }}
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("INVITE|REGISTER")) {{
        if (!auth_check("{REALM}", "subscriber", "{flags}")) {{
            auth_challenge("{REALM}", "1");
            exit;
        }}
        consume_credentials();
        if (is_method("REGISTER")) {{ sl_send_reply("200", "OK"); exit; }}
        record_route();
        $du = "sip:{addr}";
        t_relay();
        exit;
    }}
"#,
        addr = b.addr
    );
    let modparams = format!(
        "modparam(\"auth_db\", \"db_url\", \"text://{}\")\n\
         modparam(\"auth_db\", \"calculate_ha1\", yes)\n\
         modparam(\"auth_db\", \"password_column\", \"password\")\n\
         modparam(\"auth_db\", \"load_credentials\", \"\")\n\
         modparam(\"auth\", \"algorithm\", \"{algorithm}\")\n",
        db_path.display()
    );
    Kamailio::start_with(KamailioOptions {
        modules: vec![
            "db_text.so".into(),
            "auth.so".into(),
            "auth_db.so".into(),
            "rr.so".into(),
        ],
        modparams,
        route,
        ..KamailioOptions::default()
    })
}

#[test]
fn digest_through_kamailio_to_baresip_without_leaking_the_password() {
    let b = Baresip::start(MediaMode::SdesMandatory, "127.0.0.2");
    let k = kamailio_for(&b, "SHA-256");
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("report.json");
    let md_path = dir.path().join("report.md");
    let ca = k.pki.ca_pem.display().to_string();
    let common = |format: &str, path: &std::path::Path| {
        sipcheck_env(
            &[
                "probe",
                &k.target(),
                "--transport",
                "udp,tls",
                "--ca-file",
                &ca,
                "--domain",
                "sip.test",
                "--probes",
                "auth,media",
                "--call-to",
                &b.user,
                "--allow-calls",
                "--user",
                USER,
                "--timeout",
                "3s",
                "--format",
                format,
                "-o",
                &path.display().to_string(),
            ],
            &[("SIPCHECK_PASSWORD", PASSWORD)],
        )
    };
    let out = common("json", &json_path);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap())
        .unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}); stderr: {}\nkamailio log:\n{}",
                String::from_utf8_lossy(&out.stderr),
                k.log_text()
            )
        });

    let unauth = findings(&report, "auth.invite_unauthenticated");
    assert_eq!(unauth.len(), 1);
    assert_eq!(unauth[0]["status"], "pass", "{:#}", unauth[0]);
    assert!(
        unauth[0]["summary"]
            .as_str()
            .unwrap()
            .contains("challenged"),
        "{:#}",
        unauth[0]
    );

    let ch = findings(&report, "auth.challenge");
    assert_eq!(ch.len(), 2, "udp and tls: {report:#}");
    for f in &ch {
        assert_eq!(
            f["details"]["algorithms"],
            serde_json::json!(["SHA-256"]),
            "{f:#}"
        );
        let tls = f["endpoint"].as_str().unwrap().starts_with("tls:");
        // SHA-256 with qop over TLS is good; over UDP the exchange can be captured.
        assert_eq!(f["status"], if tls { "pass" } else { "warn" }, "{f:#}");
    }

    let sdes = findings(&report, "media.sdes");
    assert_eq!(sdes[0]["status"], "pass", "{:#}", sdes[0]);
    assert_eq!(sdes[0]["details"]["authenticated_with"], "SHA-256");
    assert!(
        sdes[0]["summary"]
            .as_str()
            .unwrap()
            .contains("AES_CM_128_HMAC_SHA1_80")
    );
    assert_eq!(sdes[0]["details"]["transport"], "tls");
    let flow = findings(&report, "media.srtp_flow");
    assert_eq!(flow[0]["status"], "pass", "{:#}", flow[0]);
    // SDES over TLS is fine; the extra SDES call over UDP puts keys in clear.
    let clear = findings(&report, "media.sdes_cleartext");
    assert_eq!(clear[0]["status"], "warn", "{:#}", clear[0]);
    assert_eq!(clear[0]["details"]["transport"], "udp");
    assert_eq!(findings(&report, "media.rtp_plain")[0]["status"], "pass");

    // Every call baresip answered was ended.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let (a, c) = b.calls_answered_and_closed();
        if a == c {
            assert!(a >= 2, "baresip answered {a} calls:\n{}", b.log_text());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a call was left up ({a} answered, {c} closed):\n{}",
            b.log_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // The evidence shows the credentials were sent, redacted.
    let text = std::fs::read_to_string(&json_path).unwrap();
    assert!(
        text.contains("Authorization: <redacted>"),
        "no redacted Authorization in evidence"
    );

    let out_md = common("md", &md_path);
    let md = std::fs::read_to_string(&md_path).unwrap();
    for (what, bytes) in [
        ("stdout (json run)", out.stdout.clone()),
        ("stderr (json run)", out.stderr.clone()),
        ("stdout (md run)", out_md.stdout.clone()),
        ("stderr (md run)", out_md.stderr.clone()),
        ("json report", text.into_bytes()),
        ("markdown report", md.into_bytes()),
    ] {
        let s = String::from_utf8_lossy(&bytes);
        assert!(!s.contains(PASSWORD), "the password leaked into {what}");
    }
}

/// The issue 12 reproduction: a proxy that checks the From user against the authenticated user takes
/// the call only when From carries the account user, and SRTP then flows end to end.
#[test]
fn auth_check_with_the_from_user_check_lets_the_account_user_call() {
    let b = Baresip::start(MediaMode::SdesMandatory, "127.0.0.4");
    let k = kamailio_checking(&b, "MD5", "1");
    let run = |extra: &[&str]| {
        let target = k.target();
        let mut args = vec![
            "probe",
            &target,
            "--transport",
            "udp",
            "--probes",
            "media.sdes,media.srtp_flow",
            "--call-to",
            &b.user,
            "--allow-calls",
            "--max-calls",
            "1",
            "--user",
            USER,
            "--timeout",
            "3s",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        support::json(&sipcheck_env(&args, &[("SIPCHECK_PASSWORD", PASSWORD)]))
    };
    // A calling number other than the account: this proxy refuses it, and the report says how.
    let r = run(&["--caller-id", "sipcheck"]);
    let sdes = findings(&r, "media.sdes");
    assert_eq!(sdes[0]["status"], "error", "{:#}", sdes[0]);
    let s = sdes[0]["summary"].as_str().unwrap();
    assert!(
        s.contains("credentials were not accepted: the authenticated INVITE was answered \"40"),
        "{s}"
    );
    assert_eq!(b.calls_answered_and_closed().0, 0);

    let r = run(&[]);
    let sdes = findings(&r, "media.sdes");
    assert_eq!(sdes[0]["status"], "pass", "{:#}\n{}", sdes[0], k.log_text());
    let invite = sdes[0]["evidence"][0]["sent"].as_str().unwrap();
    assert!(
        invite.contains(&format!("From: \"sipcheck\" <sip:{USER}@")),
        "{invite}"
    );
    assert!(
        invite.contains(&format!("Contact: <sip:{USER}@")),
        "{invite}"
    );
    let flow = findings(&r, "media.srtp_flow");
    assert_eq!(flow[0]["status"], "pass", "{:#}", flow[0]);
    let (answered, closed) = b.calls_answered_and_closed();
    assert_eq!(answered, 1, "{}", b.log_text());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while b.calls_answered_and_closed().1 < 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        closed <= 1 && b.calls_answered_and_closed().1 == 1,
        "the call was left up"
    );
}

/// DTLS-SRTP through the same authenticating proxy: the DTLS handshake runs on the media path (not
/// through Kamailio), the fingerprint from the relayed answer matches, SRTP flows on the exporter's keys.
#[test]
fn dtls_srtp_through_the_authenticating_proxy() {
    let b = Baresip::start_with(MediaMode::Dtls, "127.0.0.12", true);
    let k = kamailio_checking(&b, "SHA-256", "1");
    let out = sipcheck_env(
        &[
            "probe",
            &k.target(),
            "--transport",
            "udp",
            "--probes",
            "media.dtls_srtp,media.srtp_flow",
            "--call-to",
            &b.user,
            "--allow-calls",
            "--max-calls",
            "2",
            "--user",
            USER,
            "--timeout",
            "3s",
            "--format",
            "json",
        ],
        &[("SIPCHECK_PASSWORD", PASSWORD)],
    );
    let r = support::json(&out);
    let d = findings(&r, "media.dtls_srtp");
    assert_eq!(d[0]["status"], "pass", "{:#}\n{}", d[0], k.log_text());
    assert_eq!(d[0]["details"]["authenticated_with"], "SHA-256");
    assert_eq!(d[0]["details"]["dtls"]["fingerprint_matches"], true);
    let flow = findings(&r, "media.srtp_flow");
    assert_eq!(flow[0]["status"], "pass", "{:#}", flow[0]);
    assert_eq!(flow[0]["details"]["keys"], "DTLS-SRTP keys");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while b.calls_answered_and_closed().0 != b.calls_answered_and_closed().1
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (a, c) = b.calls_answered_and_closed();
    assert_eq!(a, c, "a call was left up:\n{}", b.log_text());
}

#[test]
fn wrong_password_is_reported_not_hidden() {
    let b = Baresip::start(MediaMode::SdesMandatory, "127.0.0.3");
    let k = kamailio_for(&b, "MD5");
    // The password from a file this time (first line only; the trailing newline is not part of it).
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "wrong-password\n").unwrap();
    let pw_path = pw_file.display().to_string();
    let out = sipcheck_env(
        &[
            "probe",
            &k.target(),
            "--transport",
            "udp",
            "--probes",
            "media.sdes,media.srtp_flow",
            "--call-to",
            &b.user,
            "--allow-calls",
            "--max-calls",
            "1",
            "--user",
            USER,
            "--password-file",
            &pw_path,
            "--timeout",
            "3s",
            "--format",
            "json",
        ],
        &[],
    );
    let r = support::json(&out);
    let sdes = findings(&r, "media.sdes");
    assert_eq!(sdes[0]["status"], "error", "{:#}", sdes[0]);
    assert!(
        sdes[0]["summary"]
            .as_str()
            .unwrap()
            .contains("credentials were not accepted"),
        "{:#}",
        sdes[0]
    );
    assert_eq!(sdes[0]["details"]["authenticated_with"], "MD5");
    let (answered, _) = b.calls_answered_and_closed();
    assert_eq!(
        answered, 0,
        "no call may reach baresip with a wrong password"
    );
}

#[test]
fn user_without_a_password_is_a_usage_error() {
    let out = sipcheck_env(&["probe", "127.0.0.1", "--user", USER], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SIPCHECK_PASSWORD"), "{err}");
}
