//! `sipcheck probe` against a real Kamailio with UDP, TCP and TLS (issue: the foundation).

#[allow(unused_imports)]
use crate::support;

use support::kamailio::Kamailio;
use support::{findings, json, sipcheck};

#[test]
fn json_report_against_kamailio_has_transports_refer_server_and_certificate() {
    let k = Kamailio::start();
    let ca = k.pki.ca_pem.display().to_string();
    let out = sipcheck(&[
        "probe",
        &k.target(),
        "--format",
        "json",
        "--ca-file",
        &ca,
        "--domain",
        "sip.test",
        "--timeout",
        "3s",
    ]);
    let r = json(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(r["schema_version"], sipcheck::report::SCHEMA_VERSION);
    assert_eq!(r["endpoints"].as_array().unwrap().len(), 3);

    for (id, port) in [
        ("transport.udp", k.port),
        ("transport.tcp", k.port),
        ("transport.tls", k.tls_port),
    ] {
        let f = findings(&r, id);
        assert_eq!(f.len(), 1, "{id}");
        assert_eq!(f[0]["details"]["reachable"], true, "{id}: {}", f[0]);
        assert_eq!(f[0]["details"]["status"], 200);
        assert!(
            f[0]["endpoint"]
                .as_str()
                .unwrap()
                .ends_with(&format!(":{port}"))
        );
        let ev = &f[0]["evidence"][0];
        assert!(ev["sent"].as_str().unwrap().starts_with("OPTIONS sip:"));
        assert!(ev["received"].as_str().unwrap().starts_with("SIP/2.0 200"));
    }
    assert_eq!(findings(&r, "transport.tls")[0]["status"], "pass");

    let refer = findings(&r, "sip.refer");
    assert_eq!(refer.len(), 3);
    for f in refer {
        assert_eq!(f["details"]["advertised"], true);
        assert_eq!(f["details"]["replaces"], true);
        let header = f["details"]["source"]["header"].as_str().unwrap();
        assert!(
            header.starts_with("Allow: ") && header.contains("REFER"),
            "{header}"
        );
        assert!(f["summary"].as_str().unwrap().contains(header));
        assert!(
            f["evidence"][0]["received"]
                .as_str()
                .unwrap()
                .contains(header)
        );
    }

    let server = findings(&r, "sip.server_header");
    assert_eq!(server[0]["status"], "warn");
    assert_eq!(server[0]["details"]["version_disclosed"], true);
    assert!(
        server[0]["details"]["header"]
            .as_str()
            .unwrap()
            .contains("kamailio (5.6.3")
    );

    let sips = findings(&r, "sips.options");
    assert_eq!(sips.len(), 1);
    let d = &sips[0]["details"];
    assert_eq!(sips[0]["status"], "pass", "{}", sips[0]);
    assert_eq!(d["trusted"], true);
    assert_eq!(d["identity"]["matched"], true);
    assert_eq!(d["server_name"], "sip.test");
    let leaf = &d["chain"][0];
    assert!(
        leaf["dns_sans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "sip.test")
    );
    assert_eq!(leaf["key_type"], "EC P-256");
    assert!(leaf["days_left"].as_i64().unwrap() >= 88);
    assert!(d["response"].as_str().unwrap().starts_with("SIP/2.0 200"));

    let plain = findings(&r, "transport.plaintext_open");
    assert_eq!(plain[0]["status"], "warn");
}

#[test]
fn untrusted_certificate_without_ca_file_is_a_warning_not_a_pass() {
    let k = Kamailio::start();
    let out = sipcheck(&[
        "probe",
        &k.target(),
        "--format",
        "json",
        "--probes",
        "sips",
        "--domain",
        "sip.test",
    ]);
    let r = json(&out);
    let sips = findings(&r, "sips.options");
    assert_eq!(sips[0]["status"], "warn", "{}", sips[0]);
    assert_eq!(sips[0]["details"]["trusted"], false);
    assert!(sips[0]["summary"].as_str().unwrap().contains("not trusted"));
}

#[test]
fn ipv6_literal_target_works() {
    let k = Kamailio::start();
    let target = format!("[::1]:{}", k.port);
    let out = sipcheck(&[
        "probe",
        &target,
        "--format",
        "json",
        "--probes",
        "transport",
        "--timeout",
        "3s",
    ]);
    let r = json(&out);
    for id in ["transport.udp", "transport.tcp", "transport.tls"] {
        let f = findings(&r, id);
        assert_eq!(f[0]["details"]["reachable"], true, "{id}: {}", f[0]);
        assert!(f[0]["endpoint"].as_str().unwrap().contains("[::1]"));
    }
}

#[test]
fn markdown_has_the_rfp_answer_sheet_with_fifteen_questions() {
    let k = Kamailio::start();
    let ca = k.pki.ca_pem.display().to_string();
    let out = sipcheck(&[
        "probe",
        &k.target(),
        "--format",
        "md",
        "--ca-file",
        &ca,
        "--domain",
        "sip.test",
    ]);
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("## RFP answer sheet"), "{md}");
    let questions = sipcheck::report::questions::builtin();
    for q in &questions {
        assert!(
            md.contains(&q.text.replace('|', "\\|")),
            "question {} missing",
            q.number
        );
    }
    // SIPS was measured; registration storms were not.
    let row = |n: u8| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {n} |")))
            .unwrap()
            .to_string()
    };
    assert!(row(4).contains("| **pass** |"), "{}", row(4));
    assert!(row(6).contains("not measured"), "{}", row(6));
    assert!(md.contains("## Appendix: findings and evidence"));
    assert!(md.contains("Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER"));
}

#[test]
fn sips_uri_probes_tls_only() {
    let k = Kamailio::start();
    let ca = k.pki.ca_pem.display().to_string();
    let target = format!("sips:127.0.0.1:{}", k.tls_port);
    let out = sipcheck(&[
        "probe",
        &target,
        "--format",
        "json",
        "--ca-file",
        &ca,
        "--domain",
        "sip.test",
        "--probes",
        "transport,sips",
    ]);
    let r = json(&out);
    let eps = r["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 1);
    assert_eq!(eps[0]["transport"], "tls");
    assert_eq!(findings(&r, "transport.udp")[0]["status"], "skipped");
    assert_eq!(findings(&r, "sips.options")[0]["status"], "pass");
}
