//! `openssl s_server` processes for the TLS scan tests, and the truth their configuration implies.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `openssl s_server`, killed by PID on drop.
pub struct SServer {
    child: Child,
    /// Held open when asked: `s_server` ends a connection once its stdin reaches EOF, which cuts a
    /// session short right after its handshake.
    _stdin: Option<std::process::ChildStdin>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl() -> Command {
    Command::new("openssl")
}

fn run_openssl(args: &[&str]) -> String {
    let out = openssl()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`openssl` (Debian package openssl) is needed: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Self-signed RSA and ECDSA certificates for 127.0.0.1 in `dir`: (rsa crt, rsa key, ec crt, ec key).
fn certs(dir: &std::path::Path) -> [PathBuf; 4] {
    let p = |n: &str| dir.join(n);
    for (kind, opt, name) in [
        ("rsa:2048", None, "rsa"),
        ("ec", Some("ec_paramgen_curve:P-256"), "ec"),
    ] {
        let key = p(&format!("{name}.key"));
        let crt = p(&format!("{name}.crt"));
        let mut args = vec!["req", "-x509", "-newkey", kind];
        if let Some(o) = opt {
            args.extend(["-pkeyopt", o]);
        }
        args.extend([
            "-nodes",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            crt.to_str().unwrap(),
            "-days",
            "30",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ]);
        run_openssl(&args);
    }
    [p("rsa.crt"), p("rsa.key"), p("ec.crt"), p("ec.key")]
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl SServer {
    /// Starts `openssl s_server` with `args`; `ecdsa` adds the ECDSA certificate as `-dcert`.
    pub fn start(args: &[&str], ecdsa: bool) -> SServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let [rc, rk, ec, ek] = certs(dir.path());
        let mut all: Vec<String> = vec![
            "-cert".into(),
            rc.display().to_string(),
            "-key".into(),
            rk.display().to_string(),
        ];
        if ecdsa {
            all.extend([
                "-dcert".into(),
                ec.display().to_string(),
                "-dkey".into(),
                ek.display().to_string(),
            ]);
        }
        all.extend(args.iter().map(|a| a.to_string()));
        SServer::start_in(dir, &all)
    }

    /// Starts `openssl s_server` with exactly `args` (certificates included) from files in `dir`.
    pub fn start_in(dir: tempfile::TempDir, args: &[String]) -> SServer {
        SServer::spawn(dir, args, false)
    }

    /// Like [`SServer::start`], with stdin held open so that sessions outlive their handshake
    /// (renegotiation, tickets after the handshake, early data).
    pub fn start_open(args: &[&str]) -> SServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let [rc, rk, _, _] = certs(dir.path());
        let mut all: Vec<String> = vec![
            "-cert".into(),
            rc.display().to_string(),
            "-key".into(),
            rk.display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        SServer::spawn(dir, &all, true)
    }

    fn spawn(dir: tempfile::TempDir, args: &[String], keep_stdin: bool) -> SServer {
        let port = free_port();
        let mut child = openssl()
            .arg("s_server")
            .args(["-accept", &format!("127.0.0.1:{port}"), "-quiet"])
            .args(args)
            .stdin(if keep_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("`openssl s_server` (Debian package openssl) is needed: {e}")
            });
        let stdin = child.stdin.take();
        let mut s = SServer {
            child,
            _stdin: stdin,
            port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(st)) = s.child.try_wait() {
                panic!("openssl s_server {args:?} exited at start: {st}");
            }
            assert!(Instant::now() < deadline, "openssl s_server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    /// A server with a CA-signed RSA leaf that staples a "good" OCSP response made by `openssl ocsp`.
    pub fn start_with_ocsp_staple(args: &[&str]) -> SServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = |n: &str| dir.path().join(n).display().to_string();
        let subj_san = [
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ];
        run_openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.crt"),
            "-days",
            "30",
            "-subj",
            "/CN=sipcheck test OCSP CA",
        ]);
        let (leaf_key, leaf_csr) = (p("leaf.key"), p("leaf.csr"));
        let mut req = vec![
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", &leaf_key, "-out", &leaf_csr,
        ];
        req.extend(subj_san);
        run_openssl(&req);
        run_openssl(&[
            "x509",
            "-req",
            "-in",
            &p("leaf.csr"),
            "-CA",
            &p("ca.crt"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-out",
            &p("leaf.crt"),
            "-days",
            "30",
            "-copy_extensions",
            "copy",
        ]);
        let serial = run_openssl(&["x509", "-in", &p("leaf.crt"), "-noout", "-serial"]);
        let serial = serial.trim().trim_start_matches("serial=").to_string();
        let expiry = (time::OffsetDateTime::now_utc() + time::Duration::days(30))
            .format(time::macros::format_description!(
                "[year repr:last_two][month][day][hour][minute][second]Z"
            ))
            .unwrap();
        std::fs::write(
            dir.path().join("index.txt"),
            format!("V\t{expiry}\t\t{serial}\tunknown\t/CN=127.0.0.1\n"),
        )
        .unwrap();
        run_openssl(&[
            "ocsp",
            "-issuer",
            &p("ca.crt"),
            "-cert",
            &p("leaf.crt"),
            "-reqout",
            &p("req.der"),
            "-no_nonce",
        ]);
        run_openssl(&[
            "ocsp",
            "-index",
            &p("index.txt"),
            "-CA",
            &p("ca.crt"),
            "-rsigner",
            &p("ca.crt"),
            "-rkey",
            &p("ca.key"),
            "-reqin",
            &p("req.der"),
            "-respout",
            &p("resp.der"),
            "-ndays",
            "1",
        ]);
        let mut all: Vec<String> = [
            "-cert",
            &p("leaf.crt"),
            "-key",
            &p("leaf.key"),
            "-cert_chain",
            &p("ca.crt"),
            "-status_file",
            &p("resp.der"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        all.extend(args.iter().map(|a| a.to_string()));
        SServer::start_in(dir, &all)
    }
}

/// One line of `openssl ciphers -V`: IANA name, minimum version, key exchange, authentication.
#[derive(Debug, Clone)]
pub struct CipherLine {
    pub name: String,
    pub min_version: String,
    pub kx: String,
    pub au: String,
}

/// The suites a cipher string selects, in OpenSSL's order (the server order under `-serverpref`).
pub fn openssl_ciphers(extra: &[&str], cipher: &str) -> Vec<CipherLine> {
    let mut args = vec!["ciphers"];
    args.extend(extra);
    args.extend(["-stdname", "-V", cipher]);
    run_openssl(&args)
        .lines()
        .filter_map(|l| {
            // 0xC0,0x2C - TLS_NAME - OPENSSL-NAME TLSv1.2 Kx=ECDH Au=ECDSA Enc=... Mac=...
            let f: Vec<&str> = l.split_whitespace().collect();
            let name = f.get(2)?.to_string();
            let kx = f.iter().find_map(|x| x.strip_prefix("Kx="))?.to_string();
            let au = f.iter().find_map(|x| x.strip_prefix("Au="))?.to_string();
            let min_version = f
                .iter()
                .find(|x| x.starts_with("TLSv") || x.starts_with("SSLv"))?
                .to_string();
            Some(CipherLine {
                name,
                min_version,
                kx,
                au,
            })
        })
        .collect()
}

/// Runs `sipcheck probe 127.0.0.1:PORT --transport tls --probes tls --format json` and returns the report.
pub fn scan(port: u16, extra: &[&str]) -> serde_json::Value {
    let target = format!("127.0.0.1:{port}");
    let mut args = vec![
        "probe",
        target.as_str(),
        "--transport",
        "tls",
        "--probes",
        "tls",
        "--format",
        "json",
    ];
    args.extend(extra);
    let out = crate::support::sipcheck(&args);
    crate::support::json(&out)
}

/// The finding with `id` in a report.
pub fn finding<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["id"] == id))
        .unwrap_or_else(|| panic!("no finding {id} in {report:#}"))
}

/// The suites sipcheck reported for a version.
pub fn suites(report: &serde_json::Value, version: &str) -> Vec<String> {
    finding(report, "tls.cipher_suites")["details"][version]["suites"]
        .as_array()
        .unwrap_or_else(|| panic!("no {version} suites in {report:#}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

/// A self-signed RSA certificate named `cn` with `san` (`DNS:…` or `IP:…`) in `dir`: (crt, key).
pub fn named_cert(dir: &std::path::Path, cn: &str, san: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{cn}.key"));
    let crt = dir.join(format!("{cn}.crt"));
    run_openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        crt.to_str().unwrap(),
        "-days",
        "30",
        "-subj",
        &format!("/CN={cn}"),
        "-addext",
        &format!("subjectAltName={san}"),
    ]);
    (crt, key)
}

/// What `openssl s_client` (the independent client) says about a TLS 1.2 session with the server:
/// its full output, read until it closes (stdin is empty).
pub fn s_client(port: u16, extra: &[&str]) -> String {
    let mut args = vec![
        "s_client".to_string(),
        "-connect".into(),
        format!("127.0.0.1:{port}"),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let out = openssl()
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
