//! The whole RFC 3263 chain against real servers: dnsmasq publishes NAPTR → SRV → A/AAAA for the SIP
//! domain `sip.test`, pointing at two real Kamailio SBCs on distinct loopback addresses. One is left
//! behind (it discloses its version, and still accepts TLS 1.0); `endpoints.parity` must name it.

#[allow(unused_imports)]
use crate::{dnsmasq, support};

use dnsmasq::{Dnsmasq, Rr};
use serde_json::Value;
use support::certs::DOMAIN;
use support::kamailio::{Kamailio, KamailioOptions};

struct Zone {
    weak: Kamailio,
    strong: Kamailio,
    dns: Dnsmasq,
    ca: tempfile::NamedTempFile,
}

fn zone() -> Zone {
    let weak = Kamailio::start_with(KamailioOptions {
        address: "127.0.0.2".parse().unwrap(),
        ipv6: true,
        tls_method: "TLSv1+".into(),
        ..KamailioOptions::default()
    });
    let strong = Kamailio::start_with(KamailioOptions {
        address: "127.0.0.3".parse().unwrap(),
        ipv6: false,
        // No Server header at all.
        globals: "server_signature=no\n".into(),
        ..KamailioOptions::default()
    });
    let mut rrs = vec![
        Rr::naptr(DOMAIN, 10, 10, "S", "SIPS+D2T", "_sips._tcp.sip.test"),
        Rr::naptr(DOMAIN, 20, 10, "S", "SIP+D2T", "_sip._tcp.sip.test"),
        Rr::naptr(DOMAIN, 30, 10, "S", "SIP+D2U", "_sip._udp.sip.test"),
        Rr::host("sbc1.sip.test", &["127.0.0.2", "::1"]),
        Rr::host("sbc2.sip.test", &["127.0.0.3"]),
    ];
    for (k, host) in [(&weak, "sbc1.sip.test"), (&strong, "sbc2.sip.test")] {
        rrs.push(Rr::srv("_sips._tcp.sip.test", 10, 50, k.tls_port, host));
        rrs.push(Rr::srv("_sip._tcp.sip.test", 10, 50, k.port, host));
        rrs.push(Rr::srv("_sip._udp.sip.test", 10, 50, k.port, host));
    }
    let dns = Dnsmasq::start(DOMAIN, &rrs);
    // Each test Kamailio has its own CA: trust both.
    let ca = tempfile::NamedTempFile::new().unwrap();
    let pem = [&weak, &strong]
        .iter()
        .map(|k| std::fs::read_to_string(&k.pki.ca_pem).unwrap())
        .collect::<String>();
    std::fs::write(ca.path(), pem).unwrap();
    Zone {
        weak,
        strong,
        dns,
        ca,
    }
}

fn findings<'a>(r: &'a Value, id: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(move |f| f["id"] == id)
}

#[test]
fn every_published_server_is_probed_and_the_weaker_one_is_named() {
    let z = zone();
    // One scan, three files: the JSON report, the markdown sheet and the SARIF log.
    let dir = tempfile::tempdir().unwrap();
    let file = |ext: &str| dir.path().join(format!("r.{ext}"));
    let out = support::sipcheck(&[
        "probe",
        DOMAIN,
        "--dns-server",
        &z.dns.server(),
        "--ca-file",
        z.ca.path().to_str().unwrap(),
        "--timeout",
        "3s",
        "-o",
        file("json").to_str().unwrap(),
        "-o",
        file("md").to_str().unwrap(),
        "-o",
        file("sarif").to_str().unwrap(),
        "--quiet",
    ]);
    let json = std::fs::read_to_string(file("json")).unwrap();
    let r: Value = serde_json::from_str(&json).unwrap();
    if let Ok(p) = std::env::var("SIPCHECK_DUMP") {
        std::fs::write(p, &json).unwrap();
    }
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "exit {code:?}; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        r["domain"], DOMAIN,
        "SNI and identity come from the SIP domain"
    );

    // Every (transport, address, port) published, each with its chain NAPTR → SRV → A/AAAA.
    let mut eps: Vec<String> = r["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let chain: Vec<&str> = e["discovered_by"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert_eq!(chain.len(), 3, "{chain:?}");
            assert!(chain[0].starts_with("NAPTR sip.test "), "{chain:?}");
            assert!(chain[1].starts_with("SRV _sip"), "{chain:?}");
            assert!(chain[2].starts_with('A'), "{chain:?}");
            format!(
                "{}:{}:{}",
                e["transport"].as_str().unwrap(),
                e["address"].as_str().unwrap(),
                e["port"]
            )
        })
        .collect();
    eps.sort();
    let mut want = Vec::new();
    for (k, addrs) in [
        (&z.weak, vec!["127.0.0.2", "::1"]),
        (&z.strong, vec!["127.0.0.3"]),
    ] {
        for a in addrs {
            want.push(format!("tls:{a}:{}", k.tls_port));
            want.push(format!("tcp:{a}:{}", k.port));
            want.push(format!("udp:{a}:{}", k.port));
        }
    }
    want.sort();
    assert_eq!(eps, want);

    // Per-endpoint findings for both SBCs.
    let server: Vec<(&str, &str)> = findings(&r, "sip.server_header")
        .map(|f| {
            (
                f["endpoint"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(server.len(), 9, "{server:?}");
    for (ep, st) in &server {
        let weak = ep.contains("127.0.0.2") || ep.contains("[::1]");
        assert_eq!(*st, if weak { "warn" } else { "pass" }, "{ep}");
    }

    // The parity finding names the weaker SBC, per transport.
    let parity: Vec<&Value> = findings(&r, "endpoints.parity")
        .filter(|f| f["details"]["compared"] == "sip.server_header")
        .collect();
    assert_eq!(parity.len(), 3, "one per transport: {parity:#?}");
    for p in &parity {
        assert_eq!(p["status"], "warn");
        let weakest: Vec<&str> = p["details"]["weakest"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert!(!weakest.is_empty());
        assert!(
            weakest
                .iter()
                .all(|w| w.contains("127.0.0.2") || w.contains("[::1]")),
            "{weakest:?}"
        );
        assert!(p["summary"].as_str().unwrap().contains("weakest is"));
    }

    // The TLS scan's findings are compared too: the weak SBC was configured with TLSv1+ and answers
    // old hellos differently from the strong one.
    let tls = findings(&r, "endpoints.parity")
        .find(|f| f["details"]["compared"] == "tls.versions")
        .expect("tls.versions compared across the SBCs");
    let groups = tls["details"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{tls:#}");
    let strong_alone = groups
        .iter()
        .any(|g| g.as_array().unwrap().len() == 1 && g[0].as_str().unwrap().contains("127.0.0.3"));
    assert!(strong_alone, "{tls:#}");

    // What DNS said.
    let naptr = findings(&r, "dns.naptr").next().unwrap();
    assert_eq!(naptr["status"], "pass", "{naptr:#}");
    let srv = findings(&r, "dns.srv").next().unwrap();
    assert_eq!(srv["status"], "info", "{srv:#}");
    assert!(srv["summary"].as_str().unwrap().contains("UDP"));
    let aaaa = findings(&r, "dns.aaaa").next().unwrap();
    assert!(
        aaaa["summary"]
            .as_str()
            .unwrap()
            .contains("reachable over IPv6"),
        "{aaaa:#}"
    );
    assert_eq!(findings(&r, "dns.dnssec").next().unwrap()["status"], "info");

    // The markdown form: the weakest decides the sheet, each endpoint's own verdicts under it.
    let md = std::fs::read_to_string(file("md")).unwrap();
    assert!(md.contains("### Per endpoint"), "{md}");
    assert!(
        md.contains(&format!("| `tls:127.0.0.3:{}` |", z.strong.tls_port)),
        "{md}"
    );
    assert!(md.contains("### How the endpoints were found"), "{md}");
    assert!(
        md.contains("NAPTR sip.test 10 10 \"S\" \"SIPS+D2T\""),
        "{md}"
    );

    // The SARIF log of a multi-endpoint trunk: valid for the SARIF schema, SARIF's rules and GitHub's;
    // the weak SBC's two addresses share transport and port, so they share a location and are told
    // apart by their fingerprints; the category is the trunk's.
    let sarif = support::sarif::validate(&file("sarif"));
    let run = &sarif["runs"][0];
    assert!(
        run["automationDetails"]["id"]
            .as_str()
            .unwrap()
            .starts_with("sipcheck/sip.test/")
    );
    let server: Vec<&Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["ruleId"] == "sip.server_header")
        .collect();
    assert_eq!(
        server.len(),
        6,
        "the weak SBC's 2 addresses x 3 transports warn: {server:#?}"
    );
    let tls_weak: Vec<&&Value> = server
        .iter()
        .filter(|x| {
            x["properties"]["endpoint"]
                .as_str()
                .unwrap()
                .starts_with("tls:")
        })
        .collect();
    assert_eq!(tls_weak.len(), 2);
    let uri = |x: &Value| x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone();
    assert_eq!(uri(tls_weak[0]), uri(tls_weak[1]));
    assert_eq!(
        uri(tls_weak[0]),
        format!("sipcheck/sip.test/tls-{}", z.weak.tls_port)
    );
    assert_ne!(
        tls_weak[0]["partialFingerprints"],
        tls_weak[1]["partialFingerprints"]
    );
    let rule = &run["tool"]["driver"]["rules"][server[0]["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "sip.server_header");
    assert!(
        rule["properties"]["security-severity"].is_string(),
        "{rule:#}"
    );
}

#[test]
fn nxdomain_exits_3_with_one_clear_line() {
    let dns = Dnsmasq::start(DOMAIN, &[Rr::host("sbc1.sip.test", &["127.0.0.2"])]);
    let out = support::sipcheck(&["probe", "nothere.sip.test", "--dns-server", &dns.server()]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("nothere.sip.test") && err.contains("NXDOMAIN"),
        "{err}"
    );
}

/// Issue 11 class 6: a target with no endpoint still gets its report file, the reason in
/// `incomplete`, and exit 3 (NXDOMAIN, every SRV target unresolvable, a resolver that never answers).
#[test]
fn unresolvable_targets_still_get_their_report_written() {
    let dns = Dnsmasq::start(
        DOMAIN,
        &[
            Rr::naptr(DOMAIN, 10, 10, "S", "SIP+D2T", "_sip._tcp.sip.test"),
            Rr::srv("_sip._tcp.sip.test", 10, 10, 5060, "gone.sip.test"),
        ],
    );
    // A UDP socket that never answers: a silent resolver.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    for (target, server, why) in [
        ("nothere.sip.test", dns.server(), "NXDOMAIN"),
        (DOMAIN, dns.server(), "gone.sip.test"),
        (DOMAIN, silent_addr.clone(), ""),
    ] {
        let path = dir.path().join("r.json");
        let _ = std::fs::remove_file(&path);
        let out = support::sipcheck(&[
            "probe",
            target,
            "--dns-server",
            &server,
            "--probes",
            "transport",
            "--format",
            "json",
            "-o",
            path.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{target} via {server}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(
            &std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{target} via {server}: no report: {e}")),
        )
        .unwrap();
        let incomplete = r["incomplete"].as_str().unwrap_or_default();
        assert!(
            !incomplete.is_empty() && incomplete.contains(why),
            "{target} via {server}: {r:#}"
        );
        assert_eq!(r["target"], target);
    }
}

#[test]
fn explicit_port_skips_naptr_and_srv_but_still_reports_aaaa() {
    let k = Kamailio::start_with(KamailioOptions {
        address: "127.0.0.5".parse().unwrap(),
        ipv6: true,
        ..KamailioOptions::default()
    });
    let dns = Dnsmasq::start(
        DOMAIN,
        &[
            Rr::naptr(DOMAIN, 10, 10, "S", "SIPS+D2T", "_sips._tcp.sip.test"),
            Rr::srv("_sips._tcp.sip.test", 10, 10, 5061, "elsewhere.sip.test"),
            Rr::host(DOMAIN, &["127.0.0.5", "::1"]),
        ],
    );
    let target = format!("{DOMAIN}:{}", k.port);
    let out = support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "udp",
        "--dns-server",
        &dns.server(),
        "--probes",
        "transport,dns",
        "--format",
        "json",
    ]);
    let r = support::json(&out);
    let eps: Vec<&str> = r["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        eps,
        ["127.0.0.5", "::1"],
        "A/AAAA of the name itself, not the SRV target"
    );
    let status = |id: &str| findings(&r, id).next().unwrap()["status"].clone();
    assert_eq!(status("dns.naptr"), "skipped");
    assert_eq!(status("dns.srv"), "skipped");
    assert_eq!(status("dns.aaaa"), "info");
    let aaaa = findings(&r, "dns.aaaa").next().unwrap();
    assert_eq!(
        aaaa["details"]["ipv6_answered"][0],
        format!("udp:[::1]:{}", k.port)
    );
}
