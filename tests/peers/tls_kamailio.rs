//! The TLS scan against the test Kamailio's TLS port (tls.cfg method TLSv1.2+).

#[allow(unused_imports)]
use crate::{support, tls_support};

use support::kamailio::Kamailio;
use tls_support::{finding, suites};

#[test]
fn kamailio_tls_port_tls12_and_up_with_a_sip_domain_certificate() {
    let k = Kamailio::start();
    let target = format!("127.0.0.1:{}", k.tls_port);
    let out = support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "tls",
        "--format",
        "json",
        "--domain",
        support::certs::DOMAIN,
    ]);
    let r = support::json(&out);
    let v = finding(&r, "tls.versions");
    for old in ["SSLv3", "TLSv1.0", "TLSv1.1"] {
        assert_eq!(v["details"][old]["accepted"], false, "{v:#}");
        assert!(
            v["details"][old]["refusal"]
                .as_str()
                .unwrap()
                .starts_with("alert:"),
            "{v:#}"
        );
    }
    assert_eq!(v["details"]["TLSv1.2"]["accepted"], true, "{v:#}");
    assert_eq!(v["status"], "pass", "{v:#}");
    assert!(!suites(&r, "TLSv1.2").is_empty());
    let c = finding(&r, "tls.certificate");
    let chains = c["details"]["chains"].as_object().unwrap();
    assert!(!chains.is_empty(), "{c:#}");
    for (_, ch) in chains {
        assert_eq!(
            ch["identity"]["matched"], true,
            "URI SAN sip:sip.test: {c:#}"
        );
        assert_eq!(ch["certificates"][0]["subject"], "CN=sip.test", "{c:#}");
    }
    assert_eq!(c["details"]["secure_renegotiation"], true, "{c:#}");
}
