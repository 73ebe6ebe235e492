//! `tls.robot` against the real Kamailio the tests start: its certificate is ECDSA, so no static-RSA
//! suite can be accepted and the check stops after its one RSA-only hello: not applicable, one
//! handshake, and Kamailio's own log shows no damage. (The oracle itself is checked against a fake
//! and `openssl s_server` in tls_fakes_confirmed.rs.)

#[allow(unused_imports)]
use crate::{support, tls_support};

use support::kamailio::Kamailio;
use tls_support::finding;

/// `tls.robot` alone (with `--intrusive`) on its TLS port: the finding, from the JSON report.
fn robot(k: &Kamailio) -> serde_json::Value {
    let target = format!("127.0.0.1:{}", k.tls_port);
    let out = support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "tls.robot",
        "--intrusive",
        "--timeout",
        "2s",
        "--format",
        "json",
    ]);
    finding(&support::json(&out), "tls.robot").clone()
}

#[test]
fn kamailio_with_an_ecdsa_certificate_costs_one_hello_and_no_damage() {
    let k = Kamailio::start();
    let f = robot(&k);
    let d = &f["details"];
    assert_eq!(d["rsa_key_exchange"], false, "{f:#}");
    assert_eq!(d["hello"], "alert:handshake_failure", "{f:#}");
    assert_eq!(f["status"], "pass", "{f:#}");
    assert_eq!(d["handshakes"], 1, "{d:#}");
    assert!(
        f["summary"].as_str().unwrap().starts_with("not applicable"),
        "{f:#}"
    );
    let damage = k.damage();
    assert!(damage.is_empty(), "{damage:#?}");
}

/// The same Kamailio with an RSA certificate: OpenSSL 3's default suites then include static-RSA key
/// exchange, the full check runs (malformed key exchanges included), finds no oracle, and Kamailio's
/// log shows no damage.
#[test]
fn kamailio_with_an_rsa_certificate_is_no_oracle_and_takes_no_damage() {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = (dir.path().join("rsa.crt"), dir.path().join("rsa.key"));
    let ok = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .args(["-days", "2", "-subj", "/CN=127.0.0.1"])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let k = Kamailio::start_with(support::kamailio::KamailioOptions {
        certificate: Some((crt, key)),
        ..Default::default()
    });
    let f = robot(&k);
    let d = &f["details"];
    assert_eq!(d["rsa_key_exchange"], true, "{f:#}");
    assert_eq!(f["status"], "pass", "{f:#}");
    assert_eq!(d["vulnerable"], false, "{d:#}");
    assert_eq!(d["key_bits"], 2048);
    let n = d["handshakes"].as_u64().unwrap();
    assert!((11..=21).contains(&n), "{d:#}");
    let damage = k.damage();
    assert!(damage.is_empty(), "{damage:#?}");
}
