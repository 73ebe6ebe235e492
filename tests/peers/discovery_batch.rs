//! `sipcheck probe -f FILE`: several trunks in one run, one report each (`-o DIR` with index.json) or
//! one combined JSON, against a real Kamailio published by a real dnsmasq.

#[allow(unused_imports)]
use crate::{dnsmasq, support};

use dnsmasq::{Dnsmasq, Rr};
use support::kamailio::{Kamailio, KamailioOptions};

fn setup() -> (Kamailio, Dnsmasq, tempfile::TempDir, String) {
    let k = Kamailio::start_with(KamailioOptions {
        address: "127.0.0.4".parse().unwrap(),
        ipv6: false,
        ..KamailioOptions::default()
    });
    let dns = Dnsmasq::start(
        "batch.test",
        &[
            Rr::srv("_sip._udp.a.batch.test", 10, 10, k.port, "sbc.batch.test"),
            Rr::srv("_sip._tcp.b.batch.test", 10, 10, k.port, "sbc.batch.test"),
            Rr::host("sbc.batch.test", &["127.0.0.4"]),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.txt");
    std::fs::write(
        &file,
        "# trunks\na.batch.test\n\nb.batch.test   # tcp only\nmissing.batch.test\nbad host\n",
    )
    .unwrap();
    let f = file.to_str().unwrap().to_string();
    (k, dns, dir, f)
}

#[test]
fn one_report_per_target_in_a_directory() {
    let (_k, dns, dir, file) = setup();
    let out_dir = dir.path().join("reports");
    let out = support::sipcheck(&[
        "probe",
        "-f",
        &file,
        "--parallel",
        "2",
        "--dns-server",
        &dns.server(),
        "--probes",
        "transport,sip.server_header",
        "--format",
        "json",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    // The worst target decides: the NXDOMAIN one makes it 3.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("index.json")).unwrap()).unwrap();
    let ts = index["targets"].as_array().unwrap();
    let names: Vec<&str> = ts.iter().map(|t| t["target"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "a.batch.test",
            "b.batch.test",
            "missing.batch.test",
            "bad host"
        ]
    );
    assert_eq!(ts[2]["exit_code"], 3);
    assert!(ts[2]["error"].as_str().unwrap().contains("NXDOMAIN"));
    assert_eq!(ts[3]["exit_code"], 2);
    for (t, transport) in [(&ts[0], "udp"), (&ts[1], "tcp")] {
        let file = out_dir.join(t["report"].as_str().unwrap());
        let r: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        assert_eq!(r["target"], t["target"]);
        let eps = r["endpoints"].as_array().unwrap();
        assert_eq!(eps.len(), 1, "{eps:?}");
        assert_eq!(eps[0]["transport"], transport);
        assert_eq!(eps[0]["address"], "127.0.0.4");
        let answered = r["findings"].as_array().unwrap().iter().any(|f| {
            f["id"] == format!("transport.{transport}") && f["details"]["reachable"] == true
        });
        assert!(answered, "{r:#}");
    }
    // Progress lines on stdout, one per target.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 4);
}

#[test]
fn one_combined_json_on_stdout() {
    let (_k, dns, _dir, file) = setup();
    let out = support::sipcheck(&[
        "probe",
        "-f",
        &file,
        "--dns-server",
        &dns.server(),
        "--probes",
        "transport",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let doc = support::json(&out);
    let ts = doc["targets"].as_array().unwrap();
    assert_eq!(ts.len(), 4);
    assert_eq!(ts[0]["report"]["target"], "a.batch.test");
    assert_eq!(ts[1]["report"]["endpoints"][0]["transport"], "tcp");
    // An unresolvable target still has its report, with the reason in `incomplete`.
    assert!(ts[2]["error"].is_string());
    assert!(
        ts[2]["report"]["incomplete"]
            .as_str()
            .unwrap()
            .contains("NXDOMAIN"),
        "{:#}",
        ts[2]
    );
}

#[test]
fn batch_flags_are_checked() {
    let out = support::sipcheck(&["probe", "-f", "/nonexistent/targets.txt"]);
    assert_eq!(out.status.code(), Some(2));
    let out = support::sipcheck(&["probe", "x.test", "-f", "/tmp/t.txt"]);
    assert_eq!(out.status.code(), Some(2), "a target and -f together");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.txt");
    std::fs::write(&file, "127.0.0.1\n").unwrap();
    let f = file.to_str().unwrap();
    for extra in [
        &["--dos"][..],
        &["--allow-calls", "--call-to", "sip:100@x"],
        &["--policy", "strict"],
        &["--domain", "sip.test"],
    ] {
        let mut args = vec!["probe", "-f", f];
        args.extend_from_slice(extra);
        let out = support::sipcheck(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("-f"),
            "{extra:?}"
        );
    }
}
