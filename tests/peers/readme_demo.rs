//! The README's sample scorecard is the demo's own: this runs `scripts/demo.sh` as a user does (a real
//! Kamailio from `scripts/local-kamailio.sh`) with the binary of this build, and fails when the
//! README's block differs from what it printed, apart from times, round trips and ports. After a change
//! that alters the scorecard, `SIPCHECK_WRITE_SAMPLES=1 cargo test --test peers readme_demo` rewrites
//! the block. It also checks what the demo promises: the report kept in the directory it names.

use regex::Regex;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::stop_group;

const README: &str = "README.md";
/// The block follows this marker line: a fence, the scorecard, a fence.
const MARK: &str = "<!-- demo-scorecard -->\n```\n";
/// The port the demo tries first; the README shows it.
const DEMO_PORT: u16 = 25060;

struct Demo {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

/// `scripts/demo.sh` in its own process group, bounded: past the bound the group (the script, its
/// Kamailio and sipcheck) is stopped and the test fails.
fn run_demo(out_dir: &Path) -> Demo {
    let mut child = Command::new("bash")
        .arg("scripts/demo.sh")
        .env("SIPCHECK_BIN", env!("CARGO_BIN_EXE_sipcheck"))
        .env("SIPCHECK_DEMO_DIR", out_dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("bash scripts/demo.sh");
    let mut so = child.stdout.take().expect("piped stdout");
    let mut se = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        if Instant::now() > deadline {
            stop_group(&mut child, Duration::from_secs(3));
            panic!(
                "scripts/demo.sh did not finish within 120 s\n{}",
                t_err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Demo {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// The lines between the demo's "== local Kamailio" line and its "== exit code" line.
fn scorecard(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("== local Kamailio on"))
        .skip(1)
        .take_while(|l| !l.starts_with("== exit code"))
        .collect()
}

/// The README's block: its lines and the byte range they occupy.
fn readme_block(readme: &str) -> (Vec<&str>, std::ops::Range<usize>) {
    let start = readme
        .find(MARK)
        .expect("README has the demo-scorecard marker")
        + MARK.len();
    let len = readme[start..]
        .find("```")
        .expect("the demo-scorecard block is closed");
    let block = &readme[start..start + len];
    (block.lines().collect(), start..start + len)
}

/// What may differ between two runs: the start time, the durations and round trips, the port.
fn normalise(line: &str) -> String {
    let started = Regex::new(r"started \S+").unwrap();
    let ms = Regex::new(r"\b\d+(\.\d+)? ms\b").unwrap();
    let port = Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let l = started.replace_all(line, "started T");
    let l = ms.replace_all(&l, "N ms");
    port.replace_all(&l, "127.0.0.1:P").into_owned()
}

/// Equal after normalising; two lines cut at the scorecard's width (ending in `…`) are compared up
/// to the shorter cut, since a longer round trip moves the cut.
fn same_line(readme: &str, demo: &str) -> bool {
    let (a, b) = (normalise(readme), normalise(demo));
    match (a.strip_suffix('…'), b.strip_suffix('…')) {
        (Some(a), Some(b)) => {
            let n = a.chars().count().min(b.chars().count());
            a.chars().take(n).eq(b.chars().take(n))
        }
        _ => a == b,
    }
}

#[test]
fn readme_demo_scorecard_is_what_the_demo_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("reports");
    let demo = run_demo(&out_dir);
    assert!(demo.status.success(), "{}\n{}", demo.stdout, demo.stderr);

    // The demo keeps its report where it says.
    let report = out_dir.join("report.html");
    let printed = demo.stdout.lines().last().unwrap_or_default();
    assert_eq!(printed, report.display().to_string(), "{}", demo.stdout);
    let html = std::fs::read_to_string(&report).expect("the demo's report is kept");
    assert!(html.contains("RFP answer sheet"), "{html:.400}");

    let lines = scorecard(&demo.stdout);
    assert!(
        lines.len() > 10 && lines[0].starts_with("sipcheck "),
        "{}",
        demo.stdout
    );
    let readme = std::fs::read_to_string(README).unwrap();
    let (block, range) = readme_block(&readme);
    if std::env::var_os("SIPCHECK_WRITE_SAMPLES").is_some() {
        let head = demo
            .stdout
            .lines()
            .find(|l| l.starts_with("== local"))
            .unwrap();
        assert!(
            head.contains(&format!("127.0.0.1:{DEMO_PORT} ")),
            "the demo took another port than {DEMO_PORT} ({head}): rewrite the README when it is free"
        );
        let mut new = readme.clone();
        new.replace_range(range, &(lines.join("\n") + "\n"));
        std::fs::write(README, new).unwrap();
        return;
    }
    let differs =
        block.len() != lines.len() || block.iter().zip(&lines).any(|(r, d)| !same_line(r, d));
    assert!(
        !differs,
        "the README's demo scorecard is not what scripts/demo.sh prints now; rewrite it with \
         `SIPCHECK_WRITE_SAMPLES=1 cargo test --test peers readme_demo`\nREADME:\n{}\ndemo:\n{}",
        block.join("\n"),
        lines.join("\n")
    );
}

#[test]
fn a_longer_round_trip_is_not_a_difference_but_another_finding_is() {
    let a = "INFO    transport.tls               tls            TLS answered OPTIONS with 200 OK in 0.6 ms (TLSv1.3 negotiated, TLS1…";
    let b = "INFO    transport.tls               tls            TLS answered OPTIONS with 200 OK in 12.6 ms (TLSv1.3 negotiated, TL…";
    assert!(same_line(a, b));
    assert!(same_line(
        "sipcheck 0.1.0 — 127.0.0.1:25060 (domain sip.test) · started 2026-12-07T02:57:11Z · 5311 ms",
        "sipcheck 0.1.0 — 127.0.0.1:25062 (domain sip.test) · started 2026-12-08T10:00:00.1Z · 812 ms"
    ));
    assert!(!same_line(
        "56 findings: 10 pass, 13 warn, 11 info, 22 skipped",
        "56 findings: 11 pass, 12 warn, 11 info, 22 skipped"
    ));
    assert!(!same_line(
        "WARN    tls.certificate             tls            EC P-256 certificate EKU…",
        "FAIL    tls.certificate             tls            EC P-256 certificate EKU…"
    ));
}
