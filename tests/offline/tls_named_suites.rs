//! Named suites: the markdown and HTML reports list each accepted suite per TLS version by its IANA
//! and OpenSSL names with its RFC 9325 class, and the probe's own summary (what every format
//! shows first) names the insecure ones a carrier must remove. The suites come from the real TLS
//! probe run against a hand-made hello server that accepts a recommended, a weak and two insecure
//! suites. Also: the OpenSSL names agree with testssl.sh's mapping, and a serverAuth certificate
//! without RFC 5924's id-kp-sipDomain is not a problem.

use crate::handmade::report;
use crate::probed;

use sipcheck::report::{Format, Status, render};

/// Recommended, weak (no forward secrecy, CBC, SHA-1 MAC), insecure (RC4) and insecure (anonymous).
const ACCEPTED: [&str; 4] = [
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_DH_anon_WITH_AES_128_CBC_SHA",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_name_each_accepted_suite_with_both_names_and_its_class() {
    let f = probed::suites(&ACCEPTED).await;
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    // The summary names exactly the insecure suites, by both names; not the weak or good ones.
    assert!(
        f.summary.contains(
            "insecure, to remove: TLS_RSA_WITH_RC4_128_SHA (RC4-SHA), TLS_DH_anon_WITH_AES_128_CBC_SHA (ADH-AES128-SHA)"
        ),
        "{}",
        f.summary
    );
    assert!(
        !f.summary.contains("TLS_RSA_WITH_AES_128_CBC_SHA"),
        "{}",
        f.summary
    );
    let r = report("named.test", vec![f]);

    let md = render(&r, Format::Markdown, false);
    for row in [
        "| TLSv1.2 | `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` | `ECDHE-RSA-AES128-GCM-SHA256` | recommended |",
        "| TLSv1.2 | `TLS_RSA_WITH_AES_128_CBC_SHA` | `AES128-SHA` | weak: no forward secrecy, CBC mode, SHA-1 MAC |",
        "| TLSv1.2 | `TLS_RSA_WITH_RC4_128_SHA` | `RC4-SHA` | insecure: RC4, no forward secrecy, SHA-1 MAC |",
        "| TLSv1.2 | `TLS_DH_anon_WITH_AES_128_CBC_SHA` | `ADH-AES128-SHA` | insecure: anonymous (no authentication), CBC mode, SHA-1 MAC |",
    ] {
        assert!(md.contains(row), "missing {row} in\n{md}");
    }
    assert!(md.contains("| Version | IANA name | OpenSSL name | RFC 9325 class |"));

    let html = render(&r, Format::Html, false);
    assert!(html.contains("<h2>Cipher suites by name</h2>"), "{html}");
    assert!(
        html.contains(
            "<td><code>TLS_RSA_WITH_RC4_128_SHA</code></td><td><code>RC4-SHA</code></td><td class=\"fail\">insecure: RC4, no forward secrecy, SHA-1 MAC</td>"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "<td><code>TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256</code></td><td><code>ECDHE-RSA-AES128-GCM-SHA256</code></td><td class=\"pass\">recommended</td>"
        ),
        "{html}"
    );
}

/// The OpenSSL column of the registry is checked against the mapping testssl.sh (installed by the
/// test rig) ships: wherever testssl.sh knows an OpenSSL name for a code, ours is the same.
#[test]
fn openssl_names_agree_with_testssl() {
    let mapping = std::fs::read_to_string("/etc/testssl/cipher-mapping.txt")
        .expect("testssl.sh's cipher-mapping.txt (scripts/setup-test-rig.sh installs testssl.sh)");
    let mut compared = 0;
    for line in mapping.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let Some(hex) = cols.first() else { continue };
        let bytes: Vec<&str> = hex.split(',').collect();
        let [hi, lo] = bytes[..] else { continue };
        let (Ok(hi), Ok(lo)) = (
            u8::from_str_radix(hi.trim_start_matches("0x"), 16),
            u8::from_str_radix(lo.trim_start_matches("0x"), 16),
        ) else {
            continue;
        };
        let code = u16::from_be_bytes([hi, lo]);
        let Some(ours) = sipcheck::tls::suites::registry()
            .iter()
            .find(|s| s.code == code)
            .and_then(|s| s.openssl.as_deref())
        else {
            continue;
        };
        assert_eq!(Some(&ours), cols.get(2), "0x{code:04X}: {line}");
        compared += 1;
    }
    assert!(compared >= 200, "only {compared} names compared");
}

/// RFC 5924's id-kp-sipDomain only narrows a certificate to SIP. Its abstract: "This memo documents
/// an extended key usage (EKU) X.509 certificate extension for restricting the applicability of a
/// certificate to use with a Session Initiation Protocol (SIP) service." (and it is "published for
/// examination, experimental implementation, and evaluation"). A serverAuth certificate, as public
/// CAs issue, therefore lacks nothing a carrier can be asked to add: no warn. An EKU that names
/// neither TLS server use nor SIP still is one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_auth_certificate_without_sip_domain_is_not_a_warn() {
    use rcgen::ExtendedKeyUsagePurpose as Eku;

    let f = probed::certificate_with_eku(vec![Eku::ServerAuth]).await;
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert!(!f.summary.contains("sipDomain"), "{}", f.summary);
    let md = render(&report("eku.test", vec![f]), Format::Markdown, false);
    assert!(
        md.contains("serverAuth (not restricted to SIP; id-kp-sipDomain is optional)"),
        "{md}"
    );

    let f = probed::certificate_with_eku(vec![Eku::CodeSigning]).await;
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert!(
        f.summary
            .contains("names neither serverAuth nor id-kp-sipDomain"),
        "{}",
        f.summary
    );

    let spec = sipcheck::findings::spec("tls.certificate").unwrap();
    assert!(
        spec.remedy.contains(
            "for restricting the applicability of a certificate to use with a Session Initiation Protocol (SIP) service"
        ),
        "{}",
        spec.remedy
    );
}
