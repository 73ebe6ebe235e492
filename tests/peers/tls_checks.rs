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
