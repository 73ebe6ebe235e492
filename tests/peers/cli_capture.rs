//! `--pcap` and `--keylog` against a real Kamailio, checked with tshark (Debian package `tshark`).

#[allow(unused_imports)]
use crate::support;

use std::path::Path;
use std::process::Command;

use support::kamailio::Kamailio;
use support::sipcheck;

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark is needed for this test: install the Debian package tshark (see .ci/run)");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn probe(k: &Kamailio, extra: &[&str]) -> std::process::Output {
    let (target, ca) = (k.target(), k.pki.ca_pem.display().to_string());
    let mut args = vec![
        "probe",
        target.as_str(),
        "--ca-file",
        ca.as_str(),
        "--domain",
        "sip.test",
        "--timeout",
        "3s",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    sipcheck(&args)
}

#[test]
fn pcap_holds_the_options_and_its_200_on_udp_and_tcp() {
    let k = Kamailio::start();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("run.pcap");
    let out = probe(
        &k,
        &[
            "--transport",
            "udp,tcp",
            "--probes",
            "transport",
            "--pcap",
            pcap.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = k.port.to_string();
    let fields = tshark(&[
        "-r",
        pcap.to_str().unwrap(),
        "-d",
        &format!("udp.port=={port},sip"),
        "-d",
        &format!("tcp.port=={port},sip"),
        "-Y",
        "sip",
        "-T",
        "fields",
        "-e",
        "frame.protocols",
        "-e",
        "sip.Method",
        "-e",
        "sip.Status-Code",
        "-e",
        "sip.CSeq.method",
    ]);
    let lines: Vec<&str> = fields.lines().collect();
    for proto in ["udp", "tcp"] {
        let req = lines
            .iter()
            .any(|l| l.contains(&format!(":{proto}:sip")) && l.contains("\tOPTIONS\t\t"));
        let ok = lines
            .iter()
            .any(|l| l.contains(&format!(":{proto}:sip")) && l.contains("\t\t200\tOPTIONS"));
        assert!(
            req && ok,
            "{proto}: OPTIONS and its 200 not both found in:\n{fields}"
        );
    }
    // Wireshark sees no malformed packets or bad checksums in what we synthesised.
    let expert = tshark(&[
        "-r",
        pcap.to_str().unwrap(),
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-Y",
        "_ws.malformed || _ws.expert.severity >= warning",
    ]);
    assert!(expert.trim().is_empty(), "{expert}");
}

#[test]
fn keylog_decrypts_the_captured_tls_options() {
    let k = Kamailio::start();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("tls.pcap");
    let keys = dir.path().join("keys.log");
    let tls_port = k.tls_port.to_string();
    let out = probe(
        &k,
        &[
            "--transport",
            "tls",
            "--tls-port",
            &tls_port,
            "--probes",
            "transport.tls",
            "--pcap",
            pcap.to_str().unwrap(),
            "--keylog",
            keys.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keylog = std::fs::read_to_string(&keys).unwrap();
    assert!(
        keylog.contains("CLIENT_TRAFFIC_SECRET_0") || keylog.contains("CLIENT_RANDOM"),
        "{keylog}"
    );
    let port = k.tls_port.to_string();
    let decode = format!("tcp.port=={port},tls");
    // Wireshark must be told the port carries TLS, and that the TLS carries SIP.
    let inner = format!("tls.port=={port},sip");
    let without = tshark(&[
        "-r",
        pcap.to_str().unwrap(),
        "-d",
        &decode,
        "-d",
        &inner,
        "-Y",
        "sip",
    ]);
    assert!(
        without.trim().is_empty(),
        "SIP must not be readable without the key log: {without}"
    );
    let keyopt = format!("tls.keylog_file:{}", keys.display());
    let with = tshark(&[
        "-r",
        pcap.to_str().unwrap(),
        "-d",
        &decode,
        "-d",
        &inner,
        "-o",
        &keyopt,
        "-Y",
        "sip",
        "-T",
        "fields",
        "-e",
        "sip.Method",
        "-e",
        "sip.Status-Code",
    ]);
    assert!(
        with.lines().any(|l| l.starts_with("OPTIONS")),
        "no decrypted OPTIONS:\n{with}"
    );
    assert!(
        with.lines().any(|l| l.trim() == "200"),
        "no decrypted 200:\n{with}"
    );
    assert!(Path::new(&pcap).exists());
}

#[test]
fn pcap_over_ipv6() {
    let k = Kamailio::start();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("v6.pcap");
    let target = format!("[::1]:{}", k.port);
    let out = sipcheck(&[
        "probe",
        &target,
        "--transport",
        "udp,tcp",
        "--probes",
        "transport",
        "--timeout",
        "3s",
        "--format",
        "json",
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = k.port.to_string();
    let fields = tshark(&[
        "-r",
        pcap.to_str().unwrap(),
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-d",
        &format!("udp.port=={port},sip"),
        "-d",
        &format!("tcp.port=={port},sip"),
        "-Y",
        "sip && ipv6.src == ::1",
        "-T",
        "fields",
        "-e",
        "sip.Status-Code",
        "-e",
        "udp.checksum.status",
        "-e",
        "tcp.checksum.status",
    ]);
    let answers: Vec<&str> = fields.lines().filter(|l| l.starts_with("200")).collect();
    assert_eq!(
        answers.len(),
        2,
        "a 200 over UDP and over TCP, on IPv6:\n{fields}"
    );
    // Wireshark checked our synthesised checksums (status 1 = good, 0 = bad, 2 = unverified).
    for l in &answers {
        assert!(
            l.split('\t').skip(1).any(|c| c == "1"),
            "checksum not verified good: {l:?}"
        );
    }
}
