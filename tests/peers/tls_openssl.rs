//! The TLS scan against real `openssl s_server` processes, checked against truth from their configuration.

#[allow(unused_imports)]
use crate::{support, tls_support};

use tls_support::{SServer, finding, openssl_ciphers, scan, suites};

const MOZILLA_INTERMEDIATE: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

const LEGACY_CIPHERS: &str = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";
const LEGACY_PROVIDERS: [&str; 4] = ["-provider", "legacy", "-provider", "default"];

fn accepted(report: &serde_json::Value, v: &str) -> bool {
    finding(report, "tls.versions")["details"][v]["accepted"]
        .as_bool()
        .unwrap_or_else(|| panic!("no {v} in tls.versions: {report:#}"))
}

fn refusal(report: &serde_json::Value, v: &str) -> String {
    finding(report, "tls.versions")["details"][v]["refusal"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn server_order(report: &serde_json::Value, v: &str) -> bool {
    finding(report, "tls.cipher_suites")["details"][v]["server_order"]
        .as_bool()
        .unwrap_or_else(|| panic!("no {v} server_order: {report:#}"))
}

#[test]
fn modern_server_tls12_and_13_with_six_suites_in_client_order() {
    let s = SServer::start(
        &["-min_protocol", "TLSv1.2", "-cipher", MOZILLA_INTERMEDIATE],
        false,
    );
    let r = scan(s.port, &[]);
    for v in ["SSLv3", "TLSv1.0", "TLSv1.1"] {
        assert!(!accepted(&r, v), "{v} accepted: {r:#}");
        assert!(
            refusal(&r, v).starts_with("alert:"),
            "{v}: {}",
            refusal(&r, v)
        );
    }
    assert!(accepted(&r, "TLSv1.2") && accepted(&r, "TLSv1.3"));
    // Truth: the Mozilla suites an RSA certificate can serve.
    let mut truth: Vec<String> = openssl_ciphers(&[], MOZILLA_INTERMEDIATE)
        .into_iter()
        .filter(|c| c.au == "RSA")
        .map(|c| c.name)
        .collect();
    assert_eq!(truth.len(), 6);
    let mut got = suites(&r, "TLSv1.2");
    got.sort();
    truth.sort();
    assert_eq!(got, truth);
    assert!(
        !server_order(&r, "TLSv1.2"),
        "s_server without -serverpref follows the client"
    );
    let mut t13 = suites(&r, "TLSv1.3");
    t13.sort();
    assert_eq!(
        t13,
        [
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256"
        ]
    );
    let cs = finding(&r, "tls.cipher_suites");
    assert_eq!(cs["status"], "pass", "{cs:#}");
    let keys: Vec<&String> = cs["details"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["TLSv1.2", "TLSv1.3"], "accepted versions only");
    assert_eq!(finding(&r, "tls.versions")["status"], "pass");

    let m = finding(&r, "tls.mismatch");
    assert_eq!(m["details"]["fallback_scsv"]["honoured"], true, "{m:#}");
    assert_eq!(
        m["details"]["downgrade_sentinel"]["seen"]["TLSv1.2"], "TLSv1.2",
        "{m:#}"
    );
    assert_eq!(m["details"]["minimum_version"], "TLSv1.2");
    assert_eq!(m["status"], "pass", "{m:#}");

    let g = finding(&r, "tls.groups");
    let groups: Vec<&str> = g["details"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(
        groups.contains(&"x25519") && groups.contains(&"secp256r1"),
        "{g:#}"
    );

    let c = finding(&r, "tls.certificate");
    let chains = c["details"]["chains"].as_object().unwrap();
    assert_eq!(chains.keys().collect::<Vec<_>>(), ["RSA"], "{c:#}");
    assert_eq!(
        chains["RSA"]["identity"]["matched"], true,
        "IP SAN 127.0.0.1"
    );
    assert_eq!(c["details"]["secure_renegotiation"], true);
    assert_eq!(c["details"]["compression"], false);
    assert_eq!(c["details"]["client_certificate_requested"], false);
    assert_eq!(c["details"]["ocsp_stapled"], false, "no -status_file");
}

#[test]
fn legacy_server_every_version_and_exact_server_order() {
    let mut args: Vec<&str> = LEGACY_PROVIDERS.to_vec();
    args.extend([
        "-min_protocol",
        "TLSv1",
        "-cipher",
        LEGACY_CIPHERS,
        "-serverpref",
    ]);
    let s = SServer::start(&args, true);
    let r = scan(s.port, &[]);
    assert!(!accepted(&r, "SSLv3"), "OpenSSL 3 has no SSLv3");
    for v in ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] {
        assert!(accepted(&r, v), "{v} refused: {r:#}");
    }
    // Truth: OpenSSL's order for the cipher string, restricted to what an RSA + ECDSA server without
    // PSK, SRP or DSA keys can negotiate.
    let all = openssl_ciphers(&LEGACY_PROVIDERS, LEGACY_CIPHERS);
    let usable = |c: &&tls_support::CipherLine| {
        ["RSA", "ECDSA", "None"].contains(&c.au.as_str())
            && ["RSA", "DH", "ECDH"].contains(&c.kx.as_str())
    };
    let t12: Vec<String> = all
        .iter()
        .filter(|c| c.min_version != "TLSv1.3")
        .filter(usable)
        .map(|c| c.name.clone())
        .collect();
    let t10: Vec<String> = all
        .iter()
        .filter(|c| c.min_version == "SSLv3" || c.min_version == "TLSv1")
        .filter(usable)
        .map(|c| c.name.clone())
        .collect();
    assert!(
        t12.len() > 60 && t10.len() > 20,
        "{} {}",
        t12.len(),
        t10.len()
    );
    assert_eq!(suites(&r, "TLSv1.2"), t12, "TLS 1.2 suites in server order");
    assert_eq!(suites(&r, "TLSv1.1"), t10, "TLS 1.1 suites in server order");
    assert_eq!(suites(&r, "TLSv1.0"), t10, "TLS 1.0 suites in server order");
    let total = t12.len() + 2 * t10.len() + suites(&r, "TLSv1.3").len();
    assert!(total >= 100, "100+ suites, got {total}");
    for v in ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] {
        assert!(server_order(&r, v), "{v} -serverpref");
    }
    assert_eq!(finding(&r, "tls.versions")["status"], "fail");
    let cs = finding(&r, "tls.cipher_suites");
    assert_eq!(cs["status"], "fail", "anon, NULL, RC4 accepted");
    assert_eq!(
        cs["details"]["TLSv1.2"]["classification"]["TLS_ECDH_anon_WITH_NULL_SHA"]["grade"],
        "insecure"
    );
    let c = finding(&r, "tls.certificate");
    let mut keys: Vec<&String> = c["details"]["chains"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["EC P-256", "RSA"], "both certificate paths: {c:#}");
    let m = finding(&r, "tls.mismatch");
    assert_eq!(m["details"]["fallback_scsv"]["honoured"], true, "{m:#}");
    for v in ["TLSv1.0", "TLSv1.1"] {
        assert_eq!(
            m["details"]["downgrade_sentinel"]["seen"][v], "TLSv1.1 or below",
            "{m:#}"
        );
    }
    let g = finding(&r, "tls.groups");
    assert_eq!(g["details"]["dh_bits"][0], 2048, "{g:#}");
}

#[test]
fn tls12_only_three_suites_out_of_strength_order() {
    let cipher = "AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-SHA256";
    let s = SServer::start(
        &[
            "-min_protocol",
            "TLSv1.2",
            "-max_protocol",
            "TLSv1.2",
            "-cipher",
            cipher,
            "-serverpref",
            "-verify",
            "1",
        ],
        false,
    );
    let r = scan(s.port, &[]);
    for v in ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.3"] {
        assert!(!accepted(&r, v), "{v}");
    }
    let truth: Vec<String> = openssl_ciphers(&[], cipher)
        .into_iter()
        .filter(|c| c.min_version != "TLSv1.3")
        .map(|c| c.name)
        .collect();
    assert_eq!(
        truth,
        [
            "TLS_RSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"
        ]
    );
    assert_eq!(suites(&r, "TLSv1.2"), truth);
    assert!(server_order(&r, "TLSv1.2"));
    // One connection at a time gives the same answer.
    let one = scan(s.port, &["--max-connections", "1"]);
    assert_eq!(suites(&one, "TLSv1.2"), truth);
    assert!(server_order(&one, "TLSv1.2"));
    assert_eq!(
        finding(&r, "tls.cipher_suites")["status"],
        "warn",
        "CBC, no forward secrecy"
    );
    let m = finding(&r, "tls.mismatch");
    assert_eq!(
        m["details"]["fallback_scsv"]["applicable"], false,
        "one version only: {m:#}"
    );
    assert_eq!(m["details"]["downgrade_sentinel"]["applicable"], false);
    let below = m["details"]["below_minimum"].as_object().unwrap();
    assert!(
        below.contains_key("TLSv1.0") && below.contains_key("TLSv1.1"),
        "{m:#}"
    );
    let g = finding(&r, "tls.groups");
    assert!(
        g["details"]["method"].as_str().unwrap().contains("TLSv1.2"),
        "{g:#}"
    );
    let c = finding(&r, "tls.certificate");
    assert_eq!(
        c["details"]["client_certificate_requested"], true,
        "-verify 1: {c:#}"
    );
}

#[test]
fn tls13_only_server_shows_both_certificates() {
    let s = SServer::start(&["-min_protocol", "TLSv1.3"], true);
    let r = scan(s.port, &[]);
    for v in ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2"] {
        assert!(!accepted(&r, v), "{v}");
    }
    assert!(accepted(&r, "TLSv1.3"));
    let m = finding(&r, "tls.mismatch");
    assert_eq!(m["details"]["fallback_scsv"]["applicable"], false, "{m:#}");
    let below = m["details"]["below_minimum"]["TLSv1.2"]
        .as_str()
        .unwrap_or_default();
    assert!(below.starts_with("alert:"), "{m:#}");
    let c = finding(&r, "tls.certificate");
    let mut keys: Vec<&String> = c["details"]["chains"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["EC P-256", "RSA"], "{c:#}");
    let g = finding(&r, "tls.groups");
    assert!(
        g["details"]["method"].as_str().unwrap().contains("TLSv1.3"),
        "{g:#}"
    );
}

#[test]
fn ocsp_staple_and_ca_signed_chain_are_seen() {
    let s = SServer::start_with_ocsp_staple(&["-min_protocol", "TLSv1.2"]);
    let r = scan(s.port, &[]);
    let c = finding(&r, "tls.certificate");
    assert_eq!(c["details"]["ocsp_stapled"], true, "{c:#}");
    let rsa = &c["details"]["chains"]["RSA"];
    assert_eq!(
        rsa["certificates"].as_array().map(|a| a.len()),
        Some(2),
        "leaf + CA: {c:#}"
    );
    assert_eq!(rsa["ordered"], true);
    assert_eq!(rsa["certificates"][0]["self_signed"], false);
    assert_eq!(
        rsa["certificates"][1]["subject"],
        "CN=sipcheck test OCSP CA"
    );
}

#[test]
fn openssl3_refuses_tls10_and_11_with_internal_error_at_the_default_security_level() {
    // -min_protocol TLSv1 allows them, but security level 1 has no suite left for them.
    let s = SServer::start(&["-min_protocol", "TLSv1"], false);
    let r = scan(s.port, &[]);
    for v in ["TLSv1.0", "TLSv1.1"] {
        assert!(!accepted(&r, v));
        assert_eq!(refusal(&r, v), "alert:internal_error", "{v}");
    }
    assert!(accepted(&r, "TLSv1.2") && accepted(&r, "TLSv1.3"));
    let m = finding(&r, "tls.mismatch");
    assert_eq!(
        m["details"]["below_minimum"]["TLSv1.1"], "alert:internal_error",
        "{m:#}"
    );
}

/// Regression (issue 10): `min_cert_days_left` read a `chain[0]` key the probe never writes, so an
/// expired certificate the probe failed was "not measured" for the policy. Both now read the same type.
#[test]
fn strict_policy_fails_an_expired_certificate_the_probe_fails() {
    let pki = support::certs::TestPki::new(&support::certs::LeafSpec {
        not_after_days: -396,
        ..Default::default()
    });
    let args: Vec<String> = [
        "-cert",
        pki.cert_pem.to_str().unwrap(),
        "-key",
        pki.key_pem.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let s = SServer::start_in(tempfile::tempdir().unwrap(), &args);
    let r = scan(s.port, &["--policy", "strict"]);
    let cert = finding(&r, "tls.certificate");
    assert_eq!(cert["status"], "fail", "{cert:#}");
    assert!(
        cert["summary"].as_str().unwrap().contains("expired"),
        "{cert:#}"
    );
    let rules = r["policy"]["rules"].as_array().expect("policy outcome");
    let days = rules
        .iter()
        .find(|x| x["rule"] == "min_cert_days_left")
        .expect("strict has min_cert_days_left");
    assert_eq!(days["outcome"], "fail", "{days:#}");
    let summary = days["summary"].as_str().unwrap();
    assert!(
        summary.contains("expired") && summary.contains("days ago"),
        "{summary}"
    );
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "policy.min_cert_days_left" && f["status"] == "fail"),
        "the violated rule is a finding, so the exit code is 1"
    );
}
