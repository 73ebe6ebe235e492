//! A third real SIP peer: SIPp's built-in UAS scenario with automatic answers (`-aa` answers OPTIONS
//! with a bare 200 OK). Its 200 carries no Allow header, so sipcheck must say it cannot tell whether
//! REFER is supported rather than guess, and must not pass a Server-header check it did not see fail.

#[allow(unused_imports)]
use crate::support;

use std::process::{Command, Stdio};

use support::{findings, json, sipcheck};

struct Sipp(std::process::Child);

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIPp binds its port a little after it starts; until then an OPTIONS meets ICMP port-unreachable,
/// which sipcheck rightly reports as refused. Wait (bounded) for SIPp to answer one.
fn wait_until_answering(port: u16) {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    let local = sock.local_addr().unwrap();
    for i in 0..50 {
        let msg = format!(
            "OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-ready-{i}\r\nMax-Forwards: 5\r\nFrom: <sip:ready@test>;tag=r\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ready-{i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        let _ = sock.send_to(msg.as_bytes(), ("127.0.0.1", port));
        let mut buf = [0u8; 2048];
        if matches!(sock.recv(&mut buf), Ok(n) if buf[..n].starts_with(b"SIP/2.0 200")) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("sipp did not answer OPTIONS on port {port} within 15 s");
}

#[test]
fn sipp_uas_answers_options_without_allow_and_refer_is_not_guessed() {
    let port = support::kamailio::free_port_pair("127.0.0.1".parse().unwrap(), false);
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new("sipp")
        .args([
            "-sn",
            "uas",
            "-aa",
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-nostdin",
            "-m",
            "100000",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start sipp: install the Debian package sip-tester (see scripts/setup-test-rig.sh)");
    let _sipp = Sipp(child);
    wait_until_answering(port);
    let target = format!("127.0.0.1:{port}");
    let out = sipcheck(&[
        "probe",
        &target,
        "--transport",
        "udp",
        "--probes",
        "transport.udp,sip.refer,sip.server_header",
        "--format",
        "json",
        "--timeout",
        "3s",
    ]);
    let r = json(&out);
    let t = &findings(&r, "transport.udp")[0];
    assert_eq!(t["details"]["status"], 200, "{t}");
    let refer = &findings(&r, "sip.refer")[0];
    assert!(refer["details"]["advertised"].is_null(), "{refer}");
    assert!(
        refer["summary"]
            .as_str()
            .unwrap()
            .starts_with("cannot tell"),
        "{refer}"
    );
    assert_eq!(refer["status"], "info");
    let server = &findings(&r, "sip.server_header")[0];
    assert_eq!(server["details"]["version_disclosed"], false);
    assert_eq!(out.status.code(), Some(0));
}
