//! nmap habits at the command line: a bare target gets the exact `probe` command back, `--probes`
//! takes safety classes and exclusions, and naming one finding of a shared probe says what comes
//! along. Nothing here sends a packet (`--dry-run` against an IP literal needs no DNS either).

use std::process::{Command, Output};

fn sipcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_bare_target_is_answered_with_the_probe_command() {
    let out = sipcheck(&["127.0.0.1:25060"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("to probe a trunk, run: sipcheck probe 127.0.0.1:25060"),
        "{err}"
    );
}

#[test]
fn classes_and_exclusions_select_probes() {
    let out = sipcheck(&[
        "probe",
        "127.0.0.1",
        "--dry-run",
        "--probes",
        "safe,-tls,-dns",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    assert!(plan.contains("transport.udp"), "{plan}");
    assert!(!plan.contains("tls.scan"), "{plan}");
    assert!(!plan.contains("dos.options_flood"), "{plan}");
    let no_dos = sipcheck(&["probe", "127.0.0.1", "--dry-run", "--probes", "-dos"]);
    assert_eq!(no_dos.status.code(), Some(0), "{}", text(&no_dos.stderr));
    let no_dos = text(&no_dos.stdout);
    assert!(
        no_dos.contains("tls.scan") && !no_dos.contains("dos.options_flood"),
        "{no_dos}"
    );
    let dos = text(&sipcheck(&["probe", "127.0.0.1", "--dry-run", "--probes", "dos"]).stdout);
    assert!(
        dos.contains("dos.options_flood") && !dos.contains("transport.udp"),
        "{dos}"
    );
}

#[test]
fn one_finding_of_a_shared_probe_names_what_comes_along() {
    let out = sipcheck(&[
        "probe",
        "127.0.0.1",
        "--dry-run",
        "--probes",
        "tls.versions",
    ]);
    let plan = text(&out.stdout);
    assert!(
        plan.contains("note: tls.versions is measured by the probe tls.scan, which also reports")
            && plan.contains("tls.cipher_suites"),
        "{plan}"
    );
}

#[test]
fn a_selection_of_nothing_is_a_one_line_usage_error() {
    for probes in ["nosuch", "tls,-tls"] {
        let out = sipcheck(&["probe", "127.0.0.1", "--dry-run", "--probes", probes]);
        assert_eq!(out.status.code(), Some(2), "{probes}");
        let err = text(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
