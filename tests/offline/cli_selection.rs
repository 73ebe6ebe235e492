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

fn usage_error(args: &[&str]) -> String {
    let out = sipcheck(args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
    err.trim().to_string()
}

#[test]
fn probe_help_is_grouped_with_examples() {
    let out = sipcheck(&["probe", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    let headings = [
        "Target:",
        "Selection:",
        "Output:",
        "Policy and CI gate:",
        "Calls (opt-in):",
        "Loop calls (opt-in):",
        "Floods (opt-in):",
        "TLS:",
        "Politeness and timing:",
        "Fleet (-f):",
        "Examples:",
    ];
    let at: Vec<usize> = headings
        .iter()
        .map(|h| {
            help.lines()
                .position(|l| l == *h)
                .unwrap_or_else(|| panic!("no {h} heading:\n{help}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}\n{help}");
    // A flag sits under its heading: --dos-max-requests after "Floods", before "TLS".
    let flag = help
        .lines()
        .position(|l| l.contains("--dos-max-requests"))
        .unwrap();
    assert!(at[6] < flag && flag < at[7], "{help}");
    assert!(help.contains("sipcheck probe -f trunks.txt"), "{help}");
    // The long help explains the tricky ones; -h stays short.
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("-NAME or !NAME leaves out"), "{help}");
    let short = text(&sipcheck(&["probe", "-h"]).stdout);
    assert!(short.len() < help.len() && short.contains("Examples:"));
}

#[test]
fn man_page_has_examples_environment_and_exit_status() {
    let out = sipcheck(&["manpage"]);
    assert_eq!(out.status.code(), Some(0));
    let man = text(&out.stdout);
    for section in [".SH EXAMPLES", ".SH ENVIRONMENT", ".SH EXIT STATUS"] {
        assert!(man.contains(section), "{section}:\n{man}");
    }
    assert!(
        man.contains("SIPCHECK_PASSWORD") && man.contains("NO_COLOR"),
        "{man}"
    );
    assert!(man.contains("sipcheck probe trunk.example.com"), "{man}");
    let dir = tempfile::tempdir().unwrap();
    let out = sipcheck(&["manpage", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let probe = std::fs::read_to_string(dir.path().join("sipcheck-probe.1")).unwrap();
    assert!(
        probe.contains(".SH EXAMPLES") && probe.contains("\\-\\-dry\\-run"),
        "{probe}"
    );
    assert!(probe.contains(".SH EXIT STATUS"), "{probe}");
    let diff = std::fs::read_to_string(dir.path().join("sipcheck-diff.1")).unwrap();
    assert!(diff.contains(".SH EXIT STATUS") && !diff.contains(".SH EXAMPLES"));
    // man(1) renders it without a warning when man is installed.
    if let Ok(o) = Command::new("man")
        .args(["--warnings", "-l", "-Tutf8"])
        .arg(dir.path().join("sipcheck-probe.1"))
        .env("MANWIDTH", "100")
        .output()
        && o.status.success()
    {
        // Bold is drawn by overstriking (X backspace X): keep the last of each pair.
        let mut shown = String::new();
        for c in text(&o.stdout).chars() {
            if c == '\u{8}' {
                shown.pop();
            } else {
                shown.push(c);
            }
        }
        assert!(
            shown.contains("EXAMPLES") && shown.contains("ENVIRONMENT"),
            "{shown}"
        );
        assert!(text(&o.stderr).trim().is_empty(), "{}", text(&o.stderr));
    }
}

#[test]
fn completions_offer_values() {
    let bash = text(&sipcheck(&["completions", "bash"]).stdout);
    for value in [
        "sarif",
        "strict",
        "bcp195",
        "tls.versions",
        "intrusive",
        "udp",
    ] {
        assert!(bash.contains(value), "{value} not offered");
    }
    let zsh = text(&sipcheck(&["completions", "zsh"]).stdout);
    assert!(
        zsh.contains("--format=[") && zsh.contains("junit") && zsh.contains("dos.options_flood"),
        "{zsh}"
    );
    let fish = text(&sipcheck(&["completions", "fish"]).stdout);
    assert!(
        fish.lines()
            .any(|l| l.contains("-l policy") && l.contains("baseline")),
        "{fish}"
    );
}

#[test]
fn dry_run_numbers_in_text_and_json_are_the_same_plan() {
    let args = [
        "probe",
        "127.0.0.1",
        "--dry-run",
        "--probes",
        "transport,dos",
        "--dos",
        "--dos-max-requests",
        "250",
        "--rate",
        "5",
    ];
    let out = sipcheck(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plain = text(&out.stdout);
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = sipcheck(&json_args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let b = &plan["budget"];
    // Two floods of at most 250 each; politeness 10 + 5/s over the 120 s probe limit.
    assert_eq!(b["flood_requests_max"], 500, "{plan:#}");
    assert_eq!(b["paced_requests_per_address_max"], 610, "{plan:#}");
    assert_eq!(b["addresses"], 1);
    assert_eq!(b["calls_max"], 0);
    assert_eq!(plan["endpoints"].as_array().unwrap().len(), 3);
    let flood = plan["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "dos.options_flood")
        .unwrap();
    assert_eq!(flood["flood_requests_max"], 250);
    assert_eq!(flood["runs"], true);
    // The text says the same numbers.
    for needle in [
        "at most 610 paced requests per address",
        "flood requests  500",
        &format!(
            "at most {} datagrams",
            b["udp_sends_per_request_max"].as_u64().unwrap()
        ),
        &format!(
            "at most {} at a time per address",
            b["connections_at_once_per_address"]
        ),
        &format!("each stopped after {} s", b["duration_max_s"]),
        "(at most 250 flood requests)",
        "endpoints (3):",
    ] {
        assert!(plain.contains(needle), "{needle}:\n{plain}");
    }
    // Calls are counted only when allowed and a calling probe runs.
    let calls = sipcheck(&[
        "probe",
        "127.0.0.1",
        "--dry-run",
        "--format",
        "json",
        "--call-to",
        "+15550100",
        "--allow-calls",
        "--max-calls",
        "3",
    ]);
    let plan: serde_json::Value = serde_json::from_slice(&calls.stdout).expect("JSON");
    assert_eq!(plan["budget"]["calls_max"], 3, "{plan:#}");
    let err = usage_error(&["probe", "127.0.0.1", "--dry-run", "--format", "md"]);
    assert!(
        err.contains("--dry-run prints its plan as text or json"),
        "{err}"
    );
}

#[test]
fn numeric_ranges_speak_with_one_voice() {
    assert_eq!(
        usage_error(&[
            "probe",
            "127.0.0.1",
            "--dos",
            "--dos-max-requests",
            "99999999999"
        ]),
        "sipcheck: bad option: --dos-max-requests 99999999999: must be between 1 and 10000"
    );
    assert_eq!(
        usage_error(&["probe", "127.0.0.1", "--dos", "--dos-max-requests", "10001"]),
        "sipcheck: bad option: --dos-max-requests 10001: must be between 1 and 10000"
    );
    for (flag, value, bounds) in [
        (
            "--rate",
            "0",
            "more than 0 and at most 10000 new requests per second",
        ),
        (
            "--rate",
            "1e9",
            "more than 0 and at most 10000 new requests per second",
        ),
        ("--max-connections", "65", "between 1 and 64"),
        ("--max-connections", "-1", "between 1 and 64"),
        ("--tls-port", "70000", "between 1 and 65535"),
        ("--timeout", "2h", "between 1ms and 1h"),
    ] {
        let err = usage_error(&["probe", "127.0.0.1", &format!("{flag}={value}")]);
        assert_eq!(
            err,
            format!("sipcheck: bad option: {flag} {value}: must be {bounds}")
        );
    }
    let err = usage_error(&["probe", "-f", "/dev/null", "--parallel", "5000"]);
    assert!(
        err.ends_with("--parallel 5000: must be between 1 and 1024"),
        "{err}"
    );
    let err = usage_error(&["listen", "127.0.0.1:0", "--max-requests", "0"]);
    assert!(
        err.ends_with("--max-requests 0: must be between 1 and 10000"),
        "{err}"
    );
}

#[test]
fn a_flag_without_the_flag_it_needs_is_refused() {
    for (args, needle) in [
        (
            vec!["--allow-calls"],
            "--allow-calls permits calls to --call-to or to the --loop-call",
        ),
        (vec!["--max-calls", "3"], "--max-calls bounds"),
        (vec!["--refer-to", "bob"], "--refer-to"),
        (vec!["--rtp-bleed"], "--rtp-bleed"),
        (vec!["--caller-id", "+15550100"], "--caller-id"),
        (vec!["--password-file", "/dev/null"], "--password-file"),
        (
            vec!["--loop-call", "+15550100"],
            "--loop-call goes with --listen or --loop-via-register",
        ),
        (
            vec!["--listen", "127.0.0.1:5099"],
            "--loop-call goes with --listen",
        ),
        (vec!["--listen-cert", "c.pem"], "--listen-cert"),
        (vec!["--spoof-caller-id", "+15550100"], "--spoof-caller-id"),
        (vec!["--sti-ca-file", "r.pem"], "--sti-ca-file"),
        (vec!["--expect-spc", "1234"], "--expect-spc"),
        (vec!["--dos-max-requests", "100"], "give --dos too"),
        (
            vec!["--client-cert", "c.pem"],
            "--client-cert and --client-key",
        ),
        (vec!["--parallel", "4"], "-f FILE"),
        (vec!["--resume"], "--jsonl"),
        (
            vec!["--sarif-passes"],
            "--sarif-passes adds passes to a SARIF output",
        ),
        (vec!["--sarif-passes", "-o", "r.json"], "--format sarif"),
    ] {
        let mut full = vec!["probe", "127.0.0.1", "--dry-run"];
        full.extend(&args);
        let err = usage_error(&full);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // With its partner the same flag is accepted (loop calls without --allow-calls are planned, skipped).
    let out = sipcheck(&[
        "probe",
        "127.0.0.1",
        "--dry-run",
        "--call-to",
        "+15550100",
        "--allow-calls",
        "--max-calls",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn policy_errors_name_the_key_and_the_type() {
    let dir = tempfile::tempdir().unwrap();
    for (toml, want) in [
        (
            "[rules]\nmin_tls_version = TLSv1.2\n",
            "key `min_tls_version`: expected a string, found TLSv1.2",
        ),
        (
            "[rules]\nsrtp_required = yes\n",
            "key `srtp_required`: expected true or false, found yes",
        ),
        (
            "[rules]\nsrtp_required = \"yes\"\n",
            "key `srtp_required`: expected true or false, found \"yes\"",
        ),
        (
            "[rules]\nmin_cert_days_left = thirty\n",
            "key `min_cert_days_left`: expected a number, found thirty",
        ),
        (
            "[findings]\n\"sip.refer_policy\" = pass\n",
            "key `sip.refer_policy`: expected a status string",
        ),
        (
            "name = strict\n",
            "key `name`: expected a string, found strict",
        ),
    ] {
        let path = dir.path().join("p.toml");
        std::fs::write(&path, toml).unwrap();
        let err = usage_error(&[
            "probe",
            "127.0.0.1",
            "--dry-run",
            "--policy",
            path.to_str().unwrap(),
        ]);
        assert!(err.contains(want), "{toml}: {err}");
        assert!(!err.contains("invalid boolean"), "{err}");
    }
}

#[test]
fn catalog_case_errors_name_the_key_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let case = "id = \"my-case\"\ntitle = \"t\"\nrfc = \"RFC 3261\"\ncategory = start-line\nexpect = [\"drop\"]\nmessage = 'x'\n";
    std::fs::write(dir.path().join("900-x.toml"), case).unwrap();
    let err = usage_error(&[
        "probe",
        "127.0.0.1",
        "--dry-run",
        "--catalog",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        err.contains("900-x.toml:4: key `category`: expected a string, found start-line"),
        "{err}"
    );
}
