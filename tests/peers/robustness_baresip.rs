//! The malformed-message catalog against a real, lenient UA: baresip answers 200 even to a request
//! without Call-ID, which sipcheck must report as "accepted something invalid".

#[allow(unused_imports)]
use crate::support;

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{findings, json, sipcheck};

const USER: &str = "sipcheck-test";

/// A baresip UA with one account on a free loopback port, stopped by PID on drop.
struct Baresip {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Baresip {
    fn start() -> Baresip {
        let modules = "/usr/lib/baresip/modules";
        assert!(
            std::path::Path::new(modules).join("account.so").exists(),
            "baresip modules not found in {modules}: install the Debian package baresip-core"
        );
        let port = support::kamailio::free_port_pair("127.0.0.1".parse().unwrap(), false);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config"),
            format!("sip_listen\t127.0.0.1:{port}\nmodule_path\t{modules}\nmodule\t\taccount.so\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("accounts"),
            format!("<sip:{USER}@127.0.0.1>;regint=0\n"),
        )
        .unwrap();
        use std::os::unix::process::CommandExt;
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            // Its own bound: even a leaked process ends.
            .args(["-t", "300"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("cannot start baresip: install the Debian package baresip-core");
        let b = Baresip {
            child,
            port,
            _dir: dir,
        };
        b.wait_ready();
        b
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.answers() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("baresip did not answer OPTIONS within 10 s");
    }

    fn answers(&self) -> bool {
        let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
        let msg = format!(
            "OPTIONS sip:{USER}@127.0.0.1:{p} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bK-ready;rport\r\nMax-Forwards: 5\r\nFrom: <sip:ready@test>;tag=r\r\nTo: <sip:{USER}@127.0.0.1>\r\nCall-ID: ready\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
            p = self.port,
            l = s.local_addr().unwrap()
        );
        if s.send_to(msg.as_bytes(), ("127.0.0.1", self.port)).is_err() {
            return false;
        }
        let mut buf = [0u8; 4096];
        matches!(s.recv(&mut buf), Ok(n) if buf[..n].starts_with(b"SIP/2.0 200"))
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn case<'a>(f: &'a Value, id: &str) -> &'a Value {
    f["details"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("case {id} not in {f}"))
}

#[test]
fn baresip_accepts_a_request_without_call_id_and_that_is_reported() {
    let b = Baresip::start();
    let target = format!("sip:{USER}@127.0.0.1:{}", b.port);
    let out = sipcheck(&[
        "probe",
        &target,
        "--format",
        "json",
        "--probes",
        "robustness.malformed",
        "--transport",
        "udp",
        "--timeout",
        "2s",
        "--rate",
        "500",
    ]);
    let r = json(&out);
    let f = findings(&r, "robustness.malformed");
    assert_eq!(f.len(), 1, "{r}");
    let m = f[0];
    let c = case(m, "missing-call-id");
    assert_eq!(c["observed"], "200 OK", "{c}");
    assert_eq!(c["verdict"], "accepted_invalid");
    assert_eq!(c["status"], "warn");
    assert!(
        m["summary"]
            .as_str()
            .unwrap()
            .contains("accepted something invalid (")
            && m["summary"].as_str().unwrap().contains("missing-call-id"),
        "{}",
        m["summary"]
    );
    assert_eq!(m["status"], "warn");
    assert_eq!(m["details"]["liveness_failures"], 0);
    assert_eq!(m["details"]["stopped_after"], Value::Null);
    // The case really went out without a Call-ID, to the account's URI.
    let sent = m["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sent"].as_str().unwrap())
        .find(|s| s.contains("Max-Forwards: 70") && !s.contains("Call-ID"))
        .expect("evidence of the request without Call-ID");
    assert!(
        sent.starts_with(&format!("OPTIONS sip:{USER}@127.0.0.1:")),
        "{sent}"
    );
}
