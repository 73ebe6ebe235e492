//! Mutual TLS against a Kamailio whose TLS port requires a client certificate from the test CA
//! (tls.cfg `verify_certificate`/`require_certificate` with `ca_list`): without `--client-cert` the
//! SIP-over-TLS findings say a client certificate is required; with one, OPTIONS over TLS is answered.

use crate::support;
use support::kamailio::{Kamailio, KamailioOptions};

fn mtls_kamailio() -> Kamailio {
    Kamailio::start_with(KamailioOptions {
        require_client_cert: true,
        ..KamailioOptions::default()
    })
}

fn probe(k: &Kamailio, extra: &[&str]) -> serde_json::Value {
    let target = format!("127.0.0.1:{}", k.tls_port);
    let ca = k.pki.ca_pem.display().to_string();
    let mut args = vec![
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "transport.tls,sips,tls.scan",
        "--format",
        "json",
        "--domain",
        support::certs::DOMAIN,
        "--ca-file",
        &ca,
    ];
    args.extend_from_slice(extra);
    support::json(&support::sipcheck(&args))
}

fn one<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    let f = support::findings(r, id);
    assert_eq!(f.len(), 1, "one {id} finding: {r:#}");
    f[0]
}

#[test]
fn without_a_client_certificate_the_tls_findings_say_one_is_required() {
    let k = mtls_kamailio();
    let r = probe(&k, &[]);
    let t = one(&r, "transport.tls");
    assert_eq!(
        t["details"]["error"], "client_certificate_required",
        "{t:#}"
    );
    assert_eq!(t["details"]["client_certificate_requested"], true, "{t:#}");
    assert_eq!(t["details"]["client_certificate_sent"], false, "{t:#}");
    assert_eq!(t["status"], "info", "not a generic failure: {t:#}");
    assert!(
        t["summary"]
            .as_str()
            .unwrap()
            .contains("requires a client certificate"),
        "{t:#}"
    );
    let s = one(&r, "sips.options");
    assert_ne!(s["status"], "pass", "{s:#}");
    assert!(
        s["summary"]
            .as_str()
            .unwrap()
            .contains("requires a client certificate"),
        "{s:#}"
    );
    let c = one(&r, "tls.certificate");
    assert_eq!(c["details"]["client_certificate_requested"], true, "{c:#}");
    assert_eq!(c["details"]["client_certificate_sent"], false, "{c:#}");
    assert_eq!(
        c["details"]["client_certificate_outcome"], "required",
        "{c:#}"
    );
}

#[test]
fn with_a_client_certificate_options_over_tls_is_answered() {
    let k = mtls_kamailio();
    let cert = k.pki.client_cert_pem.display().to_string();
    let key = k.pki.client_key_pem.display().to_string();
    let r = probe(&k, &["--client-cert", &cert, "--client-key", &key]);
    let t = one(&r, "transport.tls");
    assert_eq!(t["status"], "pass", "{t:#}");
    assert_eq!(t["details"]["reachable"], true, "{t:#}");
    assert_eq!(t["details"]["client_certificate_requested"], true, "{t:#}");
    assert_eq!(t["details"]["client_certificate_sent"], true, "{t:#}");
    let s = one(&r, "sips.options");
    assert_eq!(s["details"]["response"], "SIP/2.0 200 OK", "{s:#}");
    let c = one(&r, "tls.certificate");
    assert_eq!(c["details"]["client_certificate_sent"], true, "{c:#}");
    assert_eq!(
        c["details"]["client_certificate_outcome"], "accepted",
        "{c:#}"
    );
}
