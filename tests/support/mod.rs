//! Shared integration-test support: real servers started and stopped by the tests, and in-process fakes.

#![allow(dead_code)]

pub mod certs;
pub mod fake;
pub mod kamailio;
pub mod rtpengine;
pub mod sarif;
pub mod sti;

use std::process::Output;

/// Stops a server the test started in its own process group: SIGTERM to the group, up to `grace` for
/// the leader to exit, then SIGKILL for whatever is left. The group is the child's, so only processes
/// this test started are signalled.
pub fn stop_group(child: &mut std::process::Child, grace: std::time::Duration) {
    use std::process::{Command, Stdio};
    let pgid = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-TERM", "--", &pgid]).status();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &pgid])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

/// Runs the sipcheck binary built for this test run with `args`, bounded by `secs`.
pub fn sipcheck(args: &[&str]) -> Output {
    sipcheck_env(args, &[])
}

pub fn sipcheck_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    // SIPCHECK_TEST_BIN: a copy of this tree's binary, for a target directory shared with other
    // trees whose builds replace target/debug/sipcheck.
    let bin = std::env::var("SIPCHECK_TEST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sipcheck").to_string());
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sipcheck");
    wait_bounded(child, 120)
}

/// Waits for a child at most `secs` seconds, killing it (by PID) past that. The pipes are drained by
/// threads so a large report cannot block the child.
pub fn wait_bounded(mut child: std::process::Child, secs: u64) -> Output {
    use std::io::Read;
    let mut so = child.stdout.take().expect("piped stdout");
    let mut se = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let out = t_out.join().unwrap_or_default();
            let err = t_err.join().unwrap_or_default();
            panic!(
                "sipcheck did not finish within {secs} s\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// The JSON report from a run's stdout.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Findings of a JSON report with this id.
pub fn findings<'a>(report: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| f["id"] == id).collect())
        .unwrap_or_default()
}
