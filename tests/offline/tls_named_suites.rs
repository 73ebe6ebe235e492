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
    // The severity beside the verdict, where the reader decides what to fix first.
    assert!(
        md.contains("- **fail** (severity high) `tls.cipher_suites`"),
        "{md}"
    );

    let html = render(&r, Format::Html, false);
    assert!(html.contains("<h2>Cipher suites by name</h2>"), "{html}");
    assert!(
        html.contains(
            "<li><span class=\"v fail\">fail</span> (severity high) <code>tls.cipher_suites</code>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<summary><span class=\"v fail\">fail</span> (severity high) <code>tls.cipher_suites</code>"),
        "{html}"
    );
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

/// RFC 5924 is "published for examination, experimental implementation, and evaluation"; its §5
/// has an implementation of it refuse for SIP a certificate whose EKU extension is present but names
/// neither id-kp-sipDomain nor anyExtendedKeyUsage (paraphrased; a serverAuth-only certificate is
/// such a one). RFC 5922, the standards-track rule for SIP domain certificates, asks for no EKU, and
/// public CAs issue serverAuth (and clientAuth) only. So a serverAuth certificate lacks nothing a
/// carrier can be asked to add: no warn, and the RFC 5924 fact stays in the details
/// (`eku_rfc5924_ok: false`). An EKU that names neither TLS server use nor SIP still is a warn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_auth_certificate_without_sip_domain_is_not_a_warn() {
    use rcgen::ExtendedKeyUsagePurpose as Eku;

    let f = probed::certificate_with_eku(vec![Eku::ServerAuth]).await;
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert!(!f.summary.contains("sipDomain"), "{}", f.summary);
    let md = render(&report("eku.test", vec![f]), Format::Markdown, false);
    assert!(
        md.contains(
            "serverAuth (no id-kp-sipDomain: fine under RFC 5922; an RFC 5924 §5 verifier would refuse it)"
        ),
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
        spec.remedy
            .contains("unless the carrier's peers apply RFC 5924 §5 (Experimental)"),
        "{}",
        spec.remedy
    );
}

/// A probe-written report of a TLS 1.2 + 1.0 server accepting weak and insecure suites, judged by
/// the baseline policy (rule names in the scorecard).
async fn weak_trunk() -> sipcheck::Report {
    use crate::tls_hello_fake::{self, TLS10, TLS12, code};
    use sipcheck::report::policy;
    use sipcheck::scan::{ScanOptions, scan};
    use sipcheck::{Target, Transport};
    use std::time::Duration;

    let suites: Vec<u16> = ACCEPTED.iter().map(|s| code(s)).collect();
    let old = vec![
        code("TLS_RSA_WITH_RC4_128_SHA"),
        code("TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    ];
    let addr = tls_hello_fake::start(vec![(TLS12, suites), (TLS10, old)]).await;
    let mut o = ScanOptions::new(Target::parse(&addr.to_string()).unwrap());
    o.transports = Some(vec![Transport::Tls]);
    o.tls_port = sipcheck::Port::new(addr.port());
    o.selectors = vec!["tls.cipher_suites".into(), "tls.versions".into()];
    o.config.timers.timeout = Duration::from_secs(2);
    o.policy = Some(policy::load("baseline").unwrap());
    tokio::time::timeout(Duration::from_secs(90), scan(o))
        .await
        .expect("scan hung")
        .expect("scan")
}

/// The skipped probes a real default scan lists, with the flags that would run them.
fn with_skipped(mut r: sipcheck::Report) -> sipcheck::Report {
    for id in [
        "media.rtp_bleed",
        "dos.register_storm",
        "stir.attestation",
        "spit.call_rate",
        "tls.profile",
    ] {
        r.findings.push(crate::handmade::skipped(id));
    }
    r
}

fn text(r: &sipcheck::Report, width: usize, verbose: bool) -> String {
    let style = sipcheck::report::Style {
        width: Some(width),
        verbose,
        ..Default::default()
    };
    sipcheck::report::render_styled(r, Format::Text, style)
}

/// Every whitespace-separated word of the output (what a reader copies: a flag, a rule, a suite).
fn words(s: &str) -> Vec<&str> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c: char| ",;:()[]".contains(c)))
        .collect()
}

/// At 80 and at 200 columns, no line of the scorecard (grouped or `-v`) is wider than the terminal,
/// and every flag, rule name and insecure suite name a reader acts on is there whole: entries wrap
/// instead of being cut. The severity is shown beside the verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scorecard_fits_80_and_200_columns_and_cuts_nothing_actionable() {
    let r = with_skipped(weak_trunk().await);
    let actionable = [
        // Suites to remove, by both names.
        "TLS_RSA_WITH_RC4_128_SHA",
        "RC4-SHA",
        "TLS_DH_anon_WITH_AES_128_CBC_SHA",
        "ADH-AES128-SHA",
        // Flags that run what was skipped.
        "--rtp-bleed",
        "--call-to",
        "--allow-calls",
        "--profile",
        // Policy rules violated.
        "min_tls_version",
        "forbidden_suite_classes",
    ];
    for width in [80, 200] {
        for verbose in [false, true] {
            let out = text(&r, width, verbose);
            for line in out.lines() {
                assert!(
                    line.chars().count() <= width,
                    "{width} columns, verbose {verbose}: a line of {} characters:\n{line}\n\n{out}",
                    line.chars().count()
                );
            }
            let w = words(&out);
            // The flags are what the grouped scorecard adds to a skipped probe; `-v` gives each
            // finding's own words.
            let flags_shown = !verbose;
            for a in actionable
                .iter()
                .filter(|a| flags_shown || !a.starts_with("--"))
            {
                assert!(
                    w.contains(a),
                    "{width} columns, verbose {verbose}: {a} is not whole in\n{out}"
                );
            }
            assert!(
                !out.lines().any(|l| l.ends_with("--call-to")),
                "a flag stays with its value:\n{out}"
            );
            // The severity beside the verdict.
            assert!(
                out.lines()
                    .any(|l| l.starts_with("FAIL    high     tls.cipher_suites")),
                "{out}"
            );
        }
    }
    // The grouped scorecard folds the passes of one family into one line (what needs no action
    // takes no screen); `-v` keeps each.
    let wide = text(&r, 200, false);
    assert!(
        wide.lines().any(|l| l.starts_with("PASS")
            && l.contains("tls.*")
            && l.ends_with("2 passed: early_data, heartbleed")),
        "{wide}"
    );
    assert!(!wide.contains("tls.heartbleed"), "{wide}");
    assert!(text(&r, 200, true).contains("tls.heartbleed"));
}

/// `-v` lists the accepted suites per version with both names and the RFC 9325 class, as the
/// markdown and HTML reports do, at any width.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_text_names_every_accepted_suite_with_its_class() {
    let r = weak_trunk().await;
    let wide = text(&r, 200, true);
    assert!(
        wide.contains("Cipher suites by name — tls:127.0.0.1:"),
        "{wide}"
    );
    for (version, iana, openssl, class) in [
        (
            "TLSv1.2",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "recommended",
        ),
        (
            "TLSv1.2",
            "TLS_DH_anon_WITH_AES_128_CBC_SHA",
            "ADH-AES128-SHA",
            "insecure: anonymous (no authentication), CBC mode, SHA-1 MAC",
        ),
        (
            "TLSv1.0",
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            "DES-CBC3-SHA",
            "weak: no forward secrecy, 64-bit block cipher, CBC mode, SHA-1 MAC",
        ),
        (
            "TLSv1.0",
            "TLS_RSA_WITH_RC4_128_SHA",
            "RC4-SHA",
            "insecure: RC4, no forward secrecy, SHA-1 MAC",
        ),
    ] {
        let named = &wide[wide.find("Cipher suites by name").unwrap()..];
        let row = named
            .lines()
            .find(|l| l.trim_start().starts_with(version) && l.contains(iana))
            .unwrap_or_else(|| panic!("no {version} {iana} row in\n{wide}"));
        let cells: Vec<&str> = row
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cells, [version, iana, openssl, class], "{row}");
    }
    // At 80 columns the same facts, wrapped.
    let narrow = text(&r, 80, true);
    let flat = narrow.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("TLSv1.0 TLS_RSA_WITH_3DES_EDE_CBC_SHA · DES-CBC3-SHA · weak: no forward secrecy, 64-bit block cipher, CBC mode, SHA-1 MAC"),
        "{narrow}"
    );
}

/// The binary lays the scorecard out for `COLUMNS` (stdout here is a pipe, not a terminal): every
/// line of `sipcheck report saved.json` fits 80 columns with COLUMNS=80, and without it the fixed
/// default (120) applies, so a line is wider than 80 there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_the_width_from_columns() {
    let r = with_skipped(weak_trunk().await);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("r.json");
    std::fs::write(&saved, render(&r, Format::Json, false)).unwrap();
    let run = |columns: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sipcheck"));
        c.arg("report").arg(&saved).env_remove("COLUMNS");
        if let Some(w) = columns {
            c.env("COLUMNS", w);
        }
        let out = c.output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let narrow = run(Some("80"));
    assert!(narrow.contains("tls.cipher_suites"), "{narrow}");
    assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
    let default = run(None);
    assert!(
        default.lines().all(|l| l.chars().count() <= 120),
        "{default}"
    );
    assert!(default.lines().any(|l| l.chars().count() > 80), "{default}");
}
