//! The CI gate is honest: a run in which no endpoint answered SIP, or in which every probe that ran
//! ended in `error`, is incomplete (exit 3) with the reason, told apart by what the wire showed; a
//! finding that ended in `error` is listed in the report's summary and on stderr; `--fail-on` makes
//! the gate stricter. Each run is the real binary against a listener started here.

#[allow(unused_imports)]
use crate::support;

use std::process::{Command, Stdio};
use std::sync::Arc;

use serde_json::Value;
use support::fake::{self, Reply, ok_with, respond};
use support::wait_bounded;

struct Run {
    code: i32,
    stderr: String,
    report: Value,
}

/// `sipcheck probe TARGET ARGS… --format json -o r.json` with a short timeout, bounded in time.
async fn probe(target: String, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sipcheck"));
    cmd.args([
        "probe",
        &target,
        "--timeout",
        "500ms",
        "--format",
        "json",
        "-q",
        "-o",
    ])
    .arg(&json)
    .args(args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let out = tokio::task::spawn_blocking(move || wait_bounded(child, 60))
        .await
        .unwrap();
    let text = std::fs::read_to_string(&json).expect("the report is always written");
    Run {
        code: out.status.code().unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report: serde_json::from_str(&text).unwrap(),
    }
}

fn incomplete(r: &Run) -> &str {
    r.report["incomplete"].as_str().unwrap_or_default()
}

/// A TCP listener that accepts every connection and never writes a byte (a hung SBC, or one that
/// ignores source addresses it does not serve); connections are held until the test ends.
async fn hung_tcp() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_tcp_sbc_is_incomplete_accepted_but_silent() {
    let (addr, task) = hung_tcp().await;
    let r = probe(addr.to_string(), &["--transport", "tcp"]).await;
    task.abort();
    assert_eq!(r.code, 3, "{}", r.stderr);
    let why = incomplete(&r);
    assert!(why.contains("no endpoint answered SIP"), "{why}");
    assert!(why.contains("accepted but silent"), "{why}");
    assert!(why.contains("allowed source addresses"), "{why}");
    // The findings that could not be measured are counted and listed, in the report and on stderr.
    let errors = r.report["summary"]["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert_eq!(
        r.report["summary"]["by_status"]["error"].as_u64().unwrap() as usize,
        errors.len()
    );
    assert!(errors.iter().any(|e| e["id"] == "sip.allow"), "{errors:?}");
    assert!(r.stderr.contains("ended in error"), "{}", r.stderr);
    assert!(r.stderr.contains("sip.allow"), "{}", r.stderr);
    assert!(r.stderr.contains("accepted but silent"), "{}", r.stderr);
    assert_eq!(r.report["scope"]["transports"], serde_json::json!(["tcp"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_silence_is_incomplete_and_named() {
    // A bound socket that reads nothing: no answer and no ICMP port unreachable.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let r = probe(
        addr.to_string(),
        &["--transport", "udp", "--probes", "transport,sip"],
    )
    .await;
    drop(sock);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let why = incomplete(&r);
    assert!(why.contains("no answer and no ICMP error"), "{why}");
    assert!(why.contains("allowed source addresses"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_incomplete_and_not_called_silence() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = probe(
        format!("127.0.0.1:{port}"),
        &["--transport", "tcp", "--probes", "transport,sip"],
    )
    .await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    let why = incomplete(&r);
    assert!(why.contains("connection refused"), "{why}");
    assert!(!why.contains("allowed source addresses"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_probe_in_error_is_incomplete_though_sip_answered() {
    // Plain OPTIONS is answered; an OPTIONS requiring sec-agree never is.
    let f = fake::udp(
        "127.0.0.1:0",
        Arc::new(|m: &sipcheck::sip::Message| {
            if m.header("Require").is_some() {
                Reply::Silence
            } else {
                Reply::Send(respond(m, 200, "OK", &[]))
            }
        }),
    )
    .await;
    let r = probe(
        f.addr.to_string(),
        &["--transport", "udp", "--probes", "secagree"],
    )
    .await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    let why = incomplete(&r);
    assert!(why.contains("every probe that ran ended in error"), "{why}");
    assert!(why.contains("secagree.rfc3329"), "{why}");
    assert!(!why.contains("no endpoint answered SIP"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_warn_turns_a_warn_only_report_into_exit_1() {
    let f = fake::udp("127.0.0.1:0", ok_with(&["Server: FakeSBC/4.2.1"])).await;
    let args = ["--transport", "udp", "--probes", "sip.server_header"];
    let plain = probe(f.addr.to_string(), &args).await;
    let statuses: Vec<&str> = plain.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["status"].as_str())
        .collect();
    assert!(
        statuses.contains(&"warn") && !statuses.contains(&"fail"),
        "{statuses:?}"
    );
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let strict = probe(
        f.addr.to_string(),
        &[&args[..], &["--fail-on", "warn"]].concat(),
    )
    .await;
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert!(
        strict.stderr.contains("--fail-on warn"),
        "{}",
        strict.stderr
    );
    assert!(
        strict.stderr.contains("sip.server_header"),
        "{}",
        strict.stderr
    );
    let error_only = probe(
        f.addr.to_string(),
        &[&args[..], &["--fail-on", "error"]].concat(),
    )
    .await;
    assert_eq!(error_only.code, 0, "a warn is below --fail-on error");
}
