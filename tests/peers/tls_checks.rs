//! The TLS checks beyond versions and suites (resumption, early data, renegotiation, SNI, profiles)
//! against real `openssl s_server` processes whose options say the truth, with `openssl s_client`
//! as the independent reader where a number (the ticket lifetime hint) is reported.

#[allow(unused_imports)]
use crate::{support, tls_support};

use tls_support::{SServer, finding, named_cert, s_client, scan};

fn details<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    &finding(r, id)["details"]
}

#[test]
fn early_data_accepted_is_a_fail_and_refused_by_default() {
    let s = SServer::start_open(&["-early_data"]);
    let r = scan(s.port, &[]);
    let e = finding(&r, "tls.early_data");
    assert_eq!(e["status"], "fail", "{e:#}");
    assert_eq!(e["details"]["accepted"], true, "{e:#}");
    assert_eq!(e["details"]["early_data_sent"], 4, "CRLF CRLF only");
    assert!(
        e["evidence"].as_array().is_some_and(|a| !a.is_empty()),
        "{e:#}"
    );
    // Without -early_data, s_server's tickets carry no early_data extension.
    let s = SServer::start_open(&[]);
    let r = scan(s.port, &[]);
    let e = finding(&r, "tls.early_data");
    assert_eq!(e["status"], "pass", "{e:#}");
    assert_eq!(e["details"]["applicable"], true);
    assert!(e["details"]["accepted"].is_null(), "nothing sent: {e:#}");
}

#[test]
fn resumption_follows_the_ticket_options_and_the_lifetime_hint_is_openssls() {
    let s = SServer::start_open(&[]);
    let r = scan(s.port, &[]);
    let d = details(&r, "tls.resumption");
    assert_eq!(d["tls12"]["ticket_issued"], true, "{d:#}");
    assert_eq!(d["tls12"]["ticket_resumed"], true, "{d:#}");
    assert_eq!(d["tls12"]["session_id_resumed"], true, "{d:#}");
    assert_eq!(d["tls13"]["psk_dhe_resumed"], true, "{d:#}");
    // Truth from openssl s_client: "TLS session ticket lifetime hint: 7200 (seconds)".
    let out = s_client(s.port, &["-tls1_2"]);
    let hint: u64 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("TLS session ticket lifetime hint: "))
        .and_then(|x| x.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no lifetime hint in s_client's output:\n{out}"));
    assert_eq!(d["tls12"]["ticket_lifetime_hint"], hint, "{d:#}");
    assert_eq!(finding(&r, "tls.resumption")["status"], "info");

    // -no_ticket: TLS 1.2 falls back to the session cache; -num_tickets 0: no TLS 1.3 ticket at all.
    let s = SServer::start_open(&["-no_ticket", "-num_tickets", "0"]);
    let r = scan(s.port, &[]);
    let d = details(&r, "tls.resumption");
    assert_eq!(d["tls12"]["ticket_issued"], false, "{d:#}");
    assert_eq!(d["tls12"]["session_id_issued"], true, "{d:#}");
    assert_eq!(d["tls12"]["session_id_resumed"], true, "{d:#}");
    assert_eq!(d["tls13"]["tickets"], 0, "{d:#}");
    let e = finding(&r, "tls.early_data");
    assert_eq!(
        e["details"]["applicable"], false,
        "no ticket, no 0-RTT: {e:#}"
    );
    assert_eq!(e["status"], "pass");
}

#[test]
fn client_renegotiation_refused_by_default_accepted_when_allowed() {
    // OpenSSL 3 refuses client-initiated renegotiation unless -client_renegotiation.
    let s = SServer::start_open(&[]);
    let r = scan(s.port, &[]);
    let x = finding(&r, "tls.extensions");
    assert_eq!(
        x["details"]["client_renegotiation_accepted"], false,
        "{x:#}"
    );
    assert_eq!(
        x["details"]["client_renegotiation"], "refused (alert:no_renegotiation)",
        "{x:#}"
    );
    assert_eq!(x["details"]["extended_master_secret"], true, "{x:#}");
    assert_eq!(x["details"]["encrypt_then_mac"], true, "{x:#}");
    assert_eq!(x["status"], "pass", "{x:#}");

    let s = SServer::start_open(&["-client_renegotiation"]);
    let r = scan(s.port, &[]);
    let x = finding(&r, "tls.extensions");
    assert_eq!(x["details"]["client_renegotiation_accepted"], true, "{x:#}");
    assert_eq!(x["status"], "warn", "{x:#}");
    // OpenSSL has no switch for EMS or encrypt-then-MAC on the server... except -no_etm.
    let s = SServer::start_open(&["-no_etm"]);
    let r = scan(s.port, &[]);
    let x = finding(&r, "tls.extensions");
    assert_eq!(x["details"]["encrypt_then_mac"], false, "{x:#}");
    assert_eq!(x["status"], "warn", "{x:#}");
}

#[test]
fn a_default_certificate_without_sni_is_a_warn() {
    let dir = tempfile::tempdir().unwrap();
    let (dc, dk) = named_cert(dir.path(), "default.test", "DNS:default.test");
    let (tc, tk) = named_cert(dir.path(), "sip.example.test", "DNS:sip.example.test");
    let p = |x: &std::path::Path| x.display().to_string();
    let args: Vec<String> = [
        "-cert",
        &p(&dc),
        "-key",
        &p(&dk),
        "-servername",
        "sip.example.test",
        "-cert2",
        &p(&tc),
        "-key2",
        &p(&tk),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let s = SServer::start_in(dir, &args);
    let r = scan(s.port, &["--domain", "sip.example.test"]);
    let f = finding(&r, "tls.sni");
    let cases = f["details"]["cases"].as_array().unwrap();
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c["case"] == name)
            .unwrap_or_else(|| panic!("no {name}: {f:#}"))
    };
    assert_eq!(case("no SNI")["leaf_subject"], "CN=default.test", "{f:#}");
    assert_eq!(case("no SNI")["identity"]["matched"], false, "{f:#}");
    assert_eq!(
        case("SIP domain")["leaf_subject"],
        "CN=sip.example.test",
        "{f:#}"
    );
    assert_eq!(case("SIP domain")["identity"]["matched"], true, "{f:#}");
    assert_eq!(
        case("unknown name")["leaf_subject"],
        "CN=default.test",
        "{f:#}"
    );
    assert_eq!(f["details"]["same_certificate"], false);
    assert_eq!(f["status"], "warn", "{f:#}");
}

#[test]
fn profiles_judge_clause_by_clause_and_a_policy_can_require_one() {
    let s = SServer::start(&["-min_protocol", "TLSv1.2"], false);
    let r = scan(s.port, &["--profile", "mozilla-intermediate"]);
    let p = finding(&r, "tls.profile");
    let rows = p["details"]["rows"].as_array().unwrap();
    let row = |id: &str| {
        rows.iter()
            .find(|x| x["clause"] == id)
            .unwrap_or_else(|| panic!("no {id}: {p:#}"))
    };
    assert_eq!(row("tls_versions")["verdict"], "met", "{p:#}");
    // s_server's default list has CBC and static-RSA suites beyond Mozilla's six.
    assert_eq!(row("ciphers")["verdict"], "not_met", "{p:#}");
    assert_eq!(row("ocsp_staple")["verdict"], "not_met", "no -status_file");
    assert!(row("tls_curves")["cite"].as_str().unwrap().contains("6.0"));
    assert_eq!(p["status"], "fail");
    assert!(p["details"]["version"] == "6.0");

    // The same report judged by a policy that requires BCP 195 (no --profile needed).
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "name = \"bcp\"\ndescription = \"BCP 195\"\n[rules]\nprofile = \"bcp195\"\nforbid_early_data = true\nrequire_ems = true\nforbid_client_renegotiation = true\n",
    )
    .unwrap();
    let r = scan(s.port, &["--policy", policy.to_str().unwrap()]);
    let rules = r["policy"]["rules"].as_array().unwrap();
    let rule = |n: &str| rules.iter().find(|x| x["rule"] == n).unwrap();
    assert_eq!(rule("profile")["outcome"], "fail", "{:#}", r["policy"]);
    assert_eq!(rule("forbid_early_data")["outcome"], "pass");
    assert_eq!(rule("require_ems")["outcome"], "pass");
}

/// testssl.sh's verdicts (id → finding) from one run with `checks`, bounded in time.
fn testssl(port: u16, checks: &[&str]) -> std::collections::BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("t.json");
    let mut args = vec![
        "60".to_string(),
        "testssl".into(),
        "--quiet".into(),
        "--color".into(),
        "0".into(),
        "--warnings".into(),
        "off".into(),
        "--jsonfile".into(),
        json.display().to_string(),
    ];
    args.extend(checks.iter().map(|c| c.to_string()));
    args.push(format!("127.0.0.1:{port}"));
    let out = std::process::Command::new("timeout")
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("testssl.sh (Debian package testssl.sh) is needed");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "testssl wrote no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap_or_default().to_string(),
                x["finding"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// sipcheck's secure renegotiation, client-initiated renegotiation, compression and groups against
/// testssl.sh's on the same server. Where they differ the RFC decides: RFC 5746 §3.6 ("the server
/// MUST include an empty renegotiation_info extension in the ServerHello") for secure
/// renegotiation; RFC 8422 §5.1.1 (the client's elliptic_curves list is what the server picks from)
/// for the curves.
#[test]
fn renegotiation_compression_and_groups_agree_with_testssl() {
    // Few suites keep testssl's forward-secrecy pass (which walks the cipher list) short.
    let s = SServer::start_open(&[
        "-client_renegotiation",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256",
        "-ciphersuites",
        "TLS_AES_128_GCM_SHA256",
    ]);
    let t = testssl(s.port, &["-R", "-C", "-f"]);
    let r = scan(s.port, &[]);
    let c = details(&r, "tls.certificate");
    let x = details(&r, "tls.extensions");
    assert_eq!(t["secure_renego"], "supported", "{t:#?}");
    assert_eq!(c["secure_renegotiation"], true);
    assert_eq!(x["secure_renegotiation"], true);
    assert!(
        t["secure_client_renego"].starts_with("VULNERABLE"),
        "{t:#?}"
    );
    assert_eq!(x["client_renegotiation_accepted"], true, "{x:#}");
    assert!(t["CRIME_TLS"].starts_with("not vulnerable"), "{t:#?}");
    assert_eq!(c["compression"], false);
    // testssl (3.0) names curves the OpenSSL way, and lists the finite-field groups apart.
    let curves = t
        .get("PFS_ECDHE_curves")
        .or_else(|| t.get("FS_ECDHE_curves"))
        .unwrap_or_else(|| panic!("{t:#?}"));
    let ff = t.get("DH_groups").cloned().unwrap_or_default();
    let mut theirs: Vec<String> = curves
        .split_whitespace()
        .chain(ff.split_whitespace())
        .map(|n| match n {
            "prime256v1" => "secp256r1".to_string(),
            "X25519" => "x25519".to_string(),
            "X448" => "x448".to_string(),
            other => other.to_string(),
        })
        .collect();
    let mut ours: Vec<String> = details(&r, "tls.groups")["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect();
    theirs.sort();
    ours.sort();
    assert_eq!(ours, theirs, "testssl: {t:#?}");
}
