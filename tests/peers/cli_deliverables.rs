//! The CI gate and RFP deliverables end to end against real Kamailio trunks: `--policy`, `--baseline`,
//! `--format junit`, `sipcheck diff`, `sipcheck compare`, golden renderings, and the prompt niceties
//! (`--dry-run`, `completions`, `manpage`).

#[allow(unused_imports)]
use crate::{golden, support};

use std::process::Output;

use support::certs::LeafSpec;
use support::kamailio::{Kamailio, KamailioOptions};
use support::{findings, sipcheck};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `probe` against a Kamailio with its CA and the test domain, plus `extra` flags.
fn probe(k: &Kamailio, extra: &[&str]) -> Output {
    let (target, ca) = (k.target(), k.pki.ca_pem.display().to_string());
    let mut args = vec![
        "probe",
        target.as_str(),
        "--ca-file",
        ca.as_str(),
        "--domain",
        "sip.test",
        "--timeout",
        "3s",
    ];
    args.extend_from_slice(extra);
    sipcheck(&args)
}

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn ci_gate_policy_baseline_junit() {
    let k = Kamailio::start();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("last.json");
    let xml = dir.path().join("report.xml");
    let base_s = base.to_str().unwrap();
    let xml_s = xml.to_str().unwrap();

    let out = probe(&k, &["--format", "json", "-o", base_s, "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "--quiet with -o prints nothing");

    // Kamailio discloses its version in Server and answers plaintext SIP beside TLS: strict fails.
    let out = probe(
        &k,
        &[
            "--policy",
            "strict",
            "--baseline",
            base_s,
            "--format",
            "junit",
            "-o",
            xml_s,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // stderr is not a terminal here: no progress display, only the baseline diff.
    assert!(!stderr(&out).contains("probing"), "{}", stderr(&out));
    let x = read(&xml);
    let case = |name: &str| -> String {
        x.split("<testcase ")
            .find(|c| c.contains(&format!("name=\"{name}")))
            .unwrap_or_else(|| panic!("no testcase {name} in\n{x}"))
            .to_string()
    };
    assert!(case("policy.server_version_leak_allowed").contains("<failure type=\"fail\""));
    assert!(case("policy.max_status.transport.plaintext_open").contains("<failure"));
    assert!(x.contains("<property name=\"policy\" value=\"strict\"/>"));
    // Nothing changed on the trunk since the baseline: the diff testcase passes.
    let diff = case("baseline.diff");
    assert!(!diff.contains("<failure"), "{diff}");
    assert!(diff.contains("0 worse"), "{diff}");
    // Every finding is a testcase: transports per endpoint.
    for ep in ["udp:", "tcp:", "tls:"] {
        assert!(
            x.contains(&format!("name=\"transport.{}", &ep[..3])),
            "{ep}"
        );
    }
    // The baseline policy asks nothing Kamailio fails; rules without a measurement are "not measured".
    let json_out = dir.path().join("baseline-policy.json");
    let out = probe(
        &k,
        &[
            "--policy",
            "baseline",
            "--format",
            "json",
            "-o",
            json_out.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(&read(&json_out)).unwrap();
    let rules = r["policy"]["rules"].as_array().unwrap();
    let cert = rules
        .iter()
        .find(|r| r["rule"] == "min_cert_days_left")
        .unwrap();
    assert_eq!(cert["outcome"], "pass", "{cert}");
    assert!(
        stdout(&out).contains("policy baseline: 0 violated"),
        "text scorecard shows the policy line: {}",
        stdout(&out)
    );
}

#[test]
fn usage_errors_exit_2_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[rules]\nmin_tls_version = \"TLSv1.2\"\nsrtp = true\n",
    )
    .unwrap();
    let out = sipcheck(&["probe", "127.0.0.1:9", "--policy", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "sipcheck: {}:3: unknown field `srtp`",
            bad.display()
        )),
        "{err}"
    );
    let out = sipcheck(&["probe", "127.0.0.1:9", "--baseline", "/nonexistent.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = sipcheck(&["diff", "/nonexistent.json", "/nonexistent.json"]);
    assert_eq!(out.status.code(), Some(2));
    let out = sipcheck(&["compare", "/nonexistent.json"]);
    assert_eq!(out.status.code(), Some(2), "compare needs two reports");
}

#[test]
fn diff_subcommand_on_real_reports() {
    let k = Kamailio::start();
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let (base, same, other, narrow) = (
        p("base.json"),
        p("same.json"),
        p("other.json"),
        p("narrow.json"),
    );
    for (file, extra) in [
        (&base, vec![]),
        (&same, vec![]),
        (&narrow, vec!["--transport", "udp,tcp"]),
    ] {
        let mut args = vec!["--format", "json", "-o", file.as_str(), "--quiet"];
        args.extend(extra);
        let out = probe(&k, &args);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            stderr(&out)
        );
    }
    // The certificate does not prove other.test: sips.options goes from pass to fail.
    let (target, ca) = (k.target(), k.pki.ca_pem.display().to_string());
    let out = sipcheck(&[
        "probe",
        &target,
        "--ca-file",
        &ca,
        "--domain",
        "other.test",
        "--timeout",
        "3s",
        "--format",
        "json",
        "-o",
        &other,
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // The same regression caught by `probe --baseline`: exit 1, and the diff is a failed testcase.
    let out = sipcheck(&[
        "probe",
        &target,
        "--ca-file",
        &ca,
        "--domain",
        "other.test",
        "--timeout",
        "3s",
        "--baseline",
        &base,
        "--format",
        "junit",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let x = stdout(&out);
    let case = x
        .split("<testcase ")
        .find(|c| c.contains("name=\"baseline.diff\""))
        .unwrap();
    assert!(
        case.contains("<failure") && case.contains("sips.options"),
        "{case}"
    );
    assert!(
        stderr(&out).contains("WORSE"),
        "the diff is printed on stderr: {}",
        stderr(&out)
    );

    let out = sipcheck(&["diff", &base, &same]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("WORSE"), "{}", stdout(&out));

    let out = sipcheck(&["diff", &base, &other]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.lines().any(|l| l.starts_with("WORSE")
            && l.contains("sips.options")
            && l.contains("pass → fail")),
        "{text}"
    );
    let out = sipcheck(&["diff", &other, &base, "--format", "md"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("## Better"), "{}", stdout(&out));

    // An endpoint the narrower baseline did not probe is said to be so, never worse.
    let out = sipcheck(&["diff", &narrow, &base, "--format", "json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let added = d["changes"].as_array().unwrap().iter().any(|c| {
        c["kind"] == "not_probed"
            && c["id"] == "endpoint"
            && c["endpoint"].as_str().unwrap().starts_with("tls:")
    });
    assert!(added, "{d}");
    assert_eq!(out.status.code(), Some(0), "{d}");
}

#[test]
fn dry_run_sends_nothing_and_says_what_it_would_send() {
    // A UDP socket and a TCP listener on one port (retried: parallel tests take ports too).
    let (udp, tcp) = (0..50)
        .find_map(|_| {
            let u = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
            let t = std::net::TcpListener::bind(u.local_addr().ok()?).ok()?;
            Some((u, t))
        })
        .expect("a free UDP+TCP port on 127.0.0.1");
    let port = udp.local_addr().unwrap().port();
    udp.set_nonblocking(true).unwrap();
    tcp.set_nonblocking(true).unwrap();
    let target = format!("127.0.0.1:{port}");
    let out = sipcheck(&[
        "probe",
        &target,
        "--transport",
        "udp,tcp",
        "--dry-run",
        "--policy",
        "strict",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("dry run: nothing is sent."), "{text}");
    assert!(
        text.contains(&format!("--- to udp:127.0.0.1:{port}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("OPTIONS sip:127.0.0.1:{port} SIP/2.0")),
        "{text}"
    );
    assert!(text.contains("at most 4 datagrams"), "{text}");
    // The dry run comes from the run's planner: the same post-run analyses are listed.
    assert!(
        text.contains("after the probes: endpoints.parity, policy strict"),
        "{text}"
    );
    // The process has exited: anything it sent would be waiting here.
    let mut buf = [0u8; 2048];
    assert!(
        udp.recv(&mut buf).is_err(),
        "a datagram arrived during --dry-run"
    );
    assert!(
        tcp.accept().is_err(),
        "a connection arrived during --dry-run"
    );
}

#[test]
fn completions_and_man_page() {
    for (shell, marker) in [
        ("bash", "_sipcheck()"),
        ("zsh", "#compdef sipcheck"),
        ("fish", "complete -c sipcheck"),
    ] {
        let out = sipcheck(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        let s = stdout(&out);
        assert!(s.contains(marker), "{shell}: {s}");
        assert!(
            s.contains("policy") && s.contains("baseline"),
            "{shell}: {s}"
        );
    }
    let out = sipcheck(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let out = sipcheck(&["manpage"]);
    assert_eq!(out.status.code(), Some(0));
    let man = stdout(&out);
    assert!(man.contains(".TH sipcheck 1"), "{man}");
    assert!(man.contains("compare"), "{man}");
    let dir = tempfile::tempdir().unwrap();
    let out = sipcheck(&["manpage", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let probe_page = read(&dir.path().join("sipcheck-probe.1"));
    assert!(probe_page.contains("dry\\-run"), "{probe_page}");
}

/// Three Kamailio trunks that differ in what sipcheck measures.
fn three_trunks() -> Vec<(&'static str, Kamailio)> {
    let a = Kamailio::start_with(KamailioOptions {
        address: "127.0.0.1".parse().unwrap(),
        ipv6: false,
        ..Default::default()
    });
    let b = Kamailio::start_with(KamailioOptions {
        address: "127.0.0.2".parse().unwrap(),
        ipv6: false,
        tls_method: "TLSv1+".into(),
        leaf: LeafSpec {
            ips: vec!["127.0.0.2".parse().unwrap()],
            not_after_days: -10,
            ..Default::default()
        },
        ..Default::default()
    });
    let c = Kamailio::start_with(KamailioOptions {
        address: "127.0.0.3".parse().unwrap(),
        ipv6: false,
        leaf: LeafSpec {
            dns: vec!["other.test".into()],
            ips: vec!["127.0.0.3".parse().unwrap()],
            sip_uris: Vec::new(),
            not_after_days: 20,
            eku: Vec::new(),
        },
        tls_method: "TLSv1.2".into(),
        // REFER not advertised.
        route: "    if (is_method(\"OPTIONS\")) {\n        append_to_reply(\"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\\r\\n\");\n        options_reply();\n        exit;\n    }\n".into(),
        ..Default::default()
    });
    vec![("a", a), ("b", b), ("c", c)]
}

#[test]
fn golden_renderings_and_comparison_from_three_kamailio_trunks() {
    let trunks = three_trunks();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, k) in &trunks {
        let f = dir.path().join(format!("{name}.json"));
        let out = probe(
            k,
            &[
                "--policy",
                "strict",
                "--format",
                "json",
                "-o",
                f.to_str().unwrap(),
                "--quiet",
            ],
        );
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{name}: {}",
            stderr(&out)
        );
        // Volatile fields (ports, times, round trips) are normalised in the reports themselves, so the
        // comparison's cut cells are stable too.
        std::fs::write(&f, golden::normalise(&read(&f))).unwrap();
        files.push(f.display().to_string());
    }
    let reports: Vec<serde_json::Value> = files
        .iter()
        .map(|f| serde_json::from_str(&read(std::path::Path::new(f))).unwrap())
        .collect();
    // What makes the three differ, as measured.
    assert_eq!(findings(&reports[0], "sips.options")[0]["status"], "pass");
    assert_eq!(findings(&reports[1], "sips.options")[0]["status"], "fail");
    assert_eq!(findings(&reports[2], "sips.options")[0]["status"], "fail");
    assert_eq!(
        findings(&reports[0], "sip.refer")[0]["details"]["advertised"],
        true
    );
    assert_eq!(
        findings(&reports[2], "sip.refer")[0]["details"]["advertised"],
        false
    );

    let mut args = vec!["compare"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--format", "md"]);
    let out = sipcheck(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = stdout(&out);
    let strongest = md.split("## Strongest per question").nth(1).unwrap();
    let sips_row = strongest
        .lines()
        .find(|l| l.starts_with("| 4 | SIPS |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        sips_row.contains("| 127.0.0.1:&lt;PORT&gt; (pass) |"),
        "{sips_row}"
    );
    let compare = golden::normalise(&md);
    insta::assert_snapshot!("compare_three_kamailio", compare);

    // Golden renderings of trunk a, restricted to the probes whose output has no certificate dates.
    let (_, a) = &trunks[0];
    for (format, name) in [("md", "kamailio_markdown"), ("junit", "kamailio_junit")] {
        let out = probe(a, &["--probes", "transport,sip", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        insta::assert_snapshot!(name, golden::normalise(&stdout(&out)));
    }

    // The docs/ samples: `SIPCHECK_WRITE_SAMPLES=1 cargo test --test peers cli_deliverables golden`.
    // The sample report carries the demo trunk's BCP 195 verdict, clause by clause.
    if std::env::var_os("SIPCHECK_WRITE_SAMPLES").is_some() {
        let out = probe(
            a,
            &[
                "--policy",
                "strict",
                "--profile",
                "bcp195",
                "--format",
                "md",
            ],
        );
        let md = stdout(&out);
        assert!(md.contains("tls.profile"), "{md}");
        std::fs::create_dir_all("docs").unwrap();
        std::fs::write("docs/sample-report.md", golden::normalise(&md)).unwrap();
        std::fs::write("docs/sample-compare.md", &compare).unwrap();
    }
}

#[test]
fn real_reports_validate_against_the_committed_schema() {
    let k = Kamailio::start();
    let out = probe(&k, &["--policy", "strict", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(&read(std::path::Path::new(sipcheck::report::schema::PATH))).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        report["policy"]["rules"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
}
