//! Every format from one probe of a real Kamailio trunk (the demo trunk: UDP, TCP and TLS with its own
//! CA): `--output-all` writes JSON, markdown, HTML, JUnit and SARIF from one scan, `sipcheck report`
//! renders the saved JSON exactly as the run rendered each format, and the SARIF passes the SARIF
//! schema, SARIF's own rules and GitHub's ingestion rules (Microsoft's multitool).

#[allow(unused_imports)]
use crate::support;

use std::path::Path;

use support::kamailio::Kamailio;
use support::sipcheck;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn kamailio_every_format_from_one_probe_and_report_renders_each_the_same() {
    let k = Kamailio::start();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("trunk");
    let txt = dir.path().join("trunk.txt");
    let (target, ca) = (k.target(), k.pki.ca_pem.display().to_string());
    let out = sipcheck(&[
        "probe",
        &target,
        "--ca-file",
        &ca,
        "--domain",
        "sip.test",
        "--timeout",
        "3s",
        "--output-all",
        base.to_str().unwrap(),
        "-o",
        txt.to_str().unwrap(),
        "--quiet",
    ]);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "--quiet with files prints nothing");
    let saved = dir.path().join("trunk.json");
    for (ext, format) in [
        ("json", "json"),
        ("md", "md"),
        ("html", "html"),
        ("xml", "junit"),
        ("sarif", "sarif"),
        ("txt", "text"),
    ] {
        let written = read(&dir.path().join(format!("trunk.{ext}")));
        let again = sipcheck(&["report", saved.to_str().unwrap(), "--format", format]);
        assert_eq!(again.status.code(), code, "the report's own exit code");
        assert!(
            again.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&again.stdout),
            written,
            "sipcheck report --format {format} differs from what the probe wrote"
        );
    }

    let sarif = support::sarif::validate(&dir.path().join("trunk.sarif"));
    let run = &sarif["runs"][0];
    let trunk = target.replace([':', '[', ']'], "_");
    assert_eq!(
        run["automationDetails"]["id"].as_str().unwrap(),
        format!(
            "sipcheck/{trunk}/{}",
            serde_json::from_str::<serde_json::Value>(&read(&saved)).unwrap()["started_at"]
                .as_str()
                .unwrap()
        )
    );
    let results = run["results"].as_array().unwrap();
    // Kamailio discloses its version in Server on every transport: a warning per endpoint.
    let server: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "sip.server_header")
        .collect();
    assert_eq!(server.len(), 3, "{server:#?}");
    let mut uris: Vec<String> = server
        .iter()
        .map(|r| {
            assert_eq!(
                (r["kind"].as_str(), r["level"].as_str()),
                (Some("fail"), Some("warning"))
            );
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            format!("sipcheck/{trunk}/tcp-{}", k.port),
            format!("sipcheck/{trunk}/tls-{}", k.tls_port),
            format!("sipcheck/{trunk}/udp-{}", k.port),
        ]
    );
    // Every rule a result names is in the registry's words; nothing passed is reported.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        assert_ne!(r["kind"], "pass");
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
    }
}
