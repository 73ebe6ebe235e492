//! The command line contract: exit codes and one-line errors for bad input, bounded waits.

#[allow(unused_imports)]
use crate::support;

use support::{findings, json, sipcheck};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn bad_targets_exit_2_with_one_line() {
    for bad in ["sip:@@bad", "http://example.com", "host:0", "[::1", "a b"] {
        let out = sipcheck(&["probe", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{bad}: {err}");
        assert!(err.starts_with("sipcheck: bad target"), "{err}");
        assert!(!err.contains("panicked"));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        vec!["probe", "127.0.0.1", "--probes", "nosuchprobe"],
        vec!["probe", "127.0.0.1", "--format", "yaml"],
        vec!["probe", "127.0.0.1", "--transport", "sctp"],
        vec!["probe", "127.0.0.1", "--timeout", "forever"],
        vec!["probe", "127.0.0.1", "--ca-file", "/nonexistent/ca.pem"],
        vec!["probe"],
        vec!["frobnicate"],
    ] {
        let out = sipcheck(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
}

/// The options go through the library's validating builder: a politeness budget that makes no sense
/// is one line naming the flag and the usage exit code, not a silently slower or unbounded scan.
#[test]
fn nonsense_budgets_are_one_line_usage_errors() {
    for (flag, value) in [
        ("--rate", "0"),
        ("--rate", "-5"),
        ("--rate", "NaN"),
        ("--max-connections", "0"),
        ("--dos-max-requests", "0"),
    ] {
        let out = sipcheck(&["probe", "127.0.0.1", &format!("{flag}={value}")]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert_eq!(err.lines().count(), 1, "{flag} {value}: {err}");
        assert!(
            err.starts_with("sipcheck: bad option: ") && err.contains(flag),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn list_probes_shows_ids_and_safety() {
    let out = sipcheck(&["probe", "--list-probes"]);
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8(out.stdout).unwrap();
    for id in [
        "transport.udp",
        "transport.tcp",
        "transport.tls",
        "sip.allow",
        "sip.refer",
        "sip.server_header",
        "sips.options",
        "transport.plaintext_open",
    ] {
        let line = s
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{s}"));
        assert!(line.contains("safe"), "{line}");
    }
}

#[test]
fn nothing_listening_exits_3_with_unreachable_findings() {
    let port = support::kamailio::free_port_pair("127.0.0.1".parse().unwrap(), false);
    let target = format!("127.0.0.1:{port}");
    let out = sipcheck(&["probe", &target, "--format", "json", "--timeout", "2s"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no endpoint answered SIP"),
        "{}",
        stderr(&out)
    );
    let r = json(&out);
    assert!(r["incomplete"].as_str().unwrap().contains("unreachable"));
    for id in ["transport.udp", "transport.tcp", "transport.tls"] {
        let f = &findings(&r, id)[0];
        assert_eq!(f["details"]["reachable"], false, "{f}");
        assert!(
            f["summary"].as_str().unwrap().contains("unreachable"),
            "{f}"
        );
        assert!(
            ["refused", "timeout"].contains(&f["details"]["error"].as_str().unwrap()),
            "{f}"
        );
    }
    // Probes that needed an answer say so instead of passing.
    assert_eq!(findings(&r, "sip.refer")[0]["status"], "error");
}

#[test]
fn output_file_gets_the_format_and_stdout_the_scorecard() {
    let port = support::kamailio::free_port_pair("127.0.0.1".parse().unwrap(), false);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.json");
    let target = format!("127.0.0.1:{port}");
    let out = sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tcp",
        "--format",
        "json",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let text = std::fs::read_to_string(&file).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["endpoints"].as_array().unwrap().len(), 1);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("transport.tcp") && stdout.contains("INCOMPLETE"),
        "{stdout}"
    );
}
