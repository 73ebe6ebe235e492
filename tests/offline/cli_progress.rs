//! Progress on a terminal: probes done / total, the probes running and the counts inside long probes
//! (catalog cases, TLS hellos), on stderr only when it is a terminal (a pseudo-terminal from
//! util-linux `script`); a pipe and the report file get none of it.

#[allow(unused_imports)]
use crate::support;

use std::process::{Command, Stdio};

use support::fake::{self, ok_with};
use support::wait_bounded;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_on_a_terminal_and_nothing_in_a_pipe() {
    let f = fake::udp("127.0.0.1:0", ok_with(&["Allow: INVITE, OPTIONS"])).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let args = format!(
        "{} probe {} --transport udp --probes transport,sip --timeout 2s --format json -o {}",
        env!("CARGO_BIN_EXE_sipcheck"),
        f.addr,
        json.display()
    );
    let bin = env!("CARGO_BIN_EXE_sipcheck");

    // Under a pseudo-terminal: the bar shows the probe count.
    let tty = Command::new("script")
        .args(["-qec", &args, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    let out = tokio::task::spawn_blocking(move || wait_bounded(tty, 60))
        .await
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    let counts = regex::Regex::new(r"(\d+)/(\d+) probes").unwrap();
    let seen: Vec<(u32, u32)> = counts
        .captures_iter(&screen)
        .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
        // The first frame may be drawn before the run announces its total.
        .filter(|(_, total)| *total > 0)
        .collect();
    assert!(!seen.is_empty(), "no progress on the terminal:\n{screen}");
    let total = seen.last().unwrap().1;
    assert!(
        total >= 2 && seen.iter().all(|(d, t)| d <= t && *t == total),
        "{seen:?}"
    );
    let from_tty = std::fs::read_to_string(&json).unwrap();

    // The same run into pipes: nothing on stderr, and the report file has no terminal bytes.
    let piped = Command::new(bin)
        .args(args.split(' ').skip(1))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || wait_bounded(piped, 60))
        .await
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("probes ["));
    let from_pipe = std::fs::read_to_string(&json).unwrap();
    for r in [&from_tty, &from_pipe] {
        assert!(
            !r.contains('\u{1b}') && !r.contains("probes ["),
            "terminal bytes in the file"
        );
        serde_json::from_str::<serde_json::Value>(r).unwrap();
    }

    // --quiet on a terminal: no bar either.
    let quiet = Command::new("script")
        .args(["-qec", &format!("{args} --quiet"), "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || wait_bounded(quiet, 60))
        .await
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        !counts.is_match(&screen),
        "--quiet drew progress:\n{screen}"
    );
}

/// What a run draws on a pseudo-terminal (stdout of `script`, which carries the run's stderr).
async fn screen(args: String) -> String {
    let tty = Command::new("script")
        .args(["-qec", &args, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    let out = tokio::task::spawn_blocking(move || wait_bounded(tty, 90))
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_inside_long_probes_on_a_terminal() {
    let bin = env!("CARGO_BIN_EXE_sipcheck");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");

    // The catalog: cases done of the cases planned, never more than planned, and growing.
    let f = fake::udp("127.0.0.1:0", ok_with(&["Allow: INVITE, OPTIONS"])).await;
    let s = screen(format!(
        "{bin} probe {} --transport udp --probes robustness.malformed --timeout 1s --format json -o {}",
        f.addr,
        out.display()
    ))
    .await;
    let cases = regex::Regex::new(r"robustness\.malformed cases (\d+)/(\d+)").unwrap();
    let seen: Vec<(u32, u32)> = cases
        .captures_iter(&s)
        .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
        .collect();
    assert!(!seen.is_empty(), "no case count on the terminal:\n{s}");
    assert!(seen.iter().all(|(d, t)| d <= t && *t > 1), "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "counts go up: {seen:?}"
    );
    let report = std::fs::read_to_string(&out).unwrap();
    assert!(!report.contains('\u{1b}'), "terminal bytes in the file");

    // The TLS scan: hellos answered so far (no total: it depends on what the server accepts).
    let pki = support::certs::TestPki::new(&Default::default());
    let t = fake::tls("127.0.0.1:0", ok_with(&[]), &pki).await;
    let s = screen(format!(
        "{bin} probe {} --transport tls --probes tls.scan --timeout 1s --format json -o {}",
        t.addr,
        out.display()
    ))
    .await;
    let hellos = regex::Regex::new(r"tls\.scan hellos (\d+)").unwrap();
    let n: Vec<u32> = hellos
        .captures_iter(&s)
        .map(|c| c[1].parse().unwrap())
        .collect();
    assert!(
        n.iter().any(|n| *n > 1),
        "no hello count on the terminal:\n{s}"
    );
}
