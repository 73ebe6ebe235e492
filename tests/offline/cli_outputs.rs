//! Every format from one measurement: `-o FILE` takes its format from the extension (several `-o`, one
//! scan), every output path is checked before the first packet (an unwritable one is a one-line error
//! and nothing is sent), and `sipcheck report SAVED.json` renders a saved report exactly as the run
//! rendered it, in every format. SARIF is validated by the SARIF schema and Microsoft's validator.

#[allow(unused_imports)]
use crate::support;

use std::path::Path;
use std::process::Output;

use support::fake::{self, ok_with};
use support::sipcheck;

const FAKE_HEADERS: &[&str] = &["Server: FakeSBC 1.2.3", "Allow: INVITE, OPTIONS, REFER"];

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `probe ADDR` over UDP with the quick probes, plus `extra`; run off the runtime's threads.
async fn probe(addr: std::net::SocketAddr, extra: &[&str]) -> Output {
    let mut args: Vec<String> = [
        "probe",
        &addr.to_string(),
        "--transport",
        "udp",
        "--probes",
        "transport,sip",
        "--timeout",
        "2s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        sipcheck(&a)
    })
    .await
    .unwrap()
}

const FORMATS: [(&str, &str); 6] = [
    ("json", "json"),
    ("md", "md"),
    ("html", "html"),
    ("xml", "junit"),
    ("sarif", "sarif"),
    ("txt", "text"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_scan_writes_every_format_and_report_renders_each_the_same() {
    let f = fake::udp("127.0.0.1:0", ok_with(FAKE_HEADERS)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = |ext: &str| dir.path().join(format!("r.{ext}"));
    let mut args: Vec<String> = Vec::new();
    for (ext, _) in FORMATS {
        args.push("-o".into());
        args.push(path(ext).display().to_string());
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = probe(f.addr, &a).await;
    let code = out.status.code();
    assert!(matches!(code, Some(0 | 1)), "{}", stderr(&out));
    let sent_by_all_formats = f.received.lock().unwrap().len();

    // The same probes once more, JSON on stdout only: six files cost no more than one scan.
    let single = probe(f.addr, &["--format", "json"]).await;
    assert_eq!(single.status.code(), code, "{}", stderr(&single));
    let sent_by_one = f.received.lock().unwrap().len() - sent_by_all_formats;
    assert_eq!(
        sent_by_all_formats, sent_by_one,
        "six -o files are one scan: as many datagrams as one --format json run"
    );

    // Each file is its extension's format, and all are the one measurement (one started_at).
    let json: serde_json::Value = serde_json::from_str(&read(&path("json"))).unwrap();
    let started = json["started_at"].as_str().unwrap().to_string();
    assert!(read(&path("md")).starts_with('#') || read(&path("md")).contains("| "));
    assert!(read(&path("html")).starts_with("<!DOCTYPE html>"));
    assert!(read(&path("xml")).contains(&format!("timestamp=\"{started}\"")));
    let sarif: serde_json::Value = serde_json::from_str(&read(&path("sarif"))).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        sarif["runs"][0]["automationDetails"]["id"]
            .as_str()
            .unwrap()
            .ends_with(&started)
    );
    assert!(
        read(&path("txt")).contains("sip.server_header") || read(&path("txt")).contains("Server")
    );
    // stdout got the text scorecard, as with one -o.
    assert_eq!(String::from_utf8_lossy(&out.stdout), read(&path("txt")));

    // `sipcheck report` renders the saved JSON as the run did, in every format.
    let saved = path("json").display().to_string();
    for (ext, format) in FORMATS {
        let out = tokio::task::spawn_blocking({
            let saved = saved.clone();
            move || sipcheck(&["report", &saved, "--format", format])
        })
        .await
        .unwrap();
        assert_eq!(
            out.status.code(),
            code,
            "{format}: the report's own exit code: {}",
            stderr(&out)
        );
        assert!(
            out.stderr.is_empty(),
            "this build's own report: no differences: {}",
            stderr(&out)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            read(&path(ext)),
            "sipcheck report --format {format} differs from probe -o r.{ext}"
        );
    }
    // And into files again, several at once.
    let again = dir.path().join("again");
    let out = sipcheck(&[
        "report",
        &saved,
        "--output-all",
        again.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), code, "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    for (ext, _) in FORMATS.iter().filter(|(e, _)| *e != "txt") {
        assert_eq!(
            read(&dir.path().join(format!("again.{ext}"))),
            read(&path(ext)),
            "{ext}"
        );
    }

    // The SARIF is what code scanning ingests: schema-valid and clean for SARIF's and GitHub's rules.
    support::sarif::validate(&path("sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let server = results
        .iter()
        .find(|r| r["ruleId"] == "sip.server_header")
        .expect("the disclosed version is a result");
    assert_eq!(server["kind"], "fail");
    assert_eq!(server["level"], "warning");
    let uri = server["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert_eq!(
        uri,
        format!("sipcheck/127.0.0.1_{}/udp-{}", f.addr.port(), f.addr.port())
    );
    assert!(
        results.iter().all(|r| r["kind"] != "pass"),
        "passes are left out by default"
    );
    assert!(
        results
            .iter()
            .filter(|r| r["kind"] == "review")
            .all(|r| r["level"] == "none"
                && r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("not measured")),
        "not measured is kind review"
    );
    let passes = sipcheck(&["report", &saved, "--format", "sarif", "--sarif-passes"]);
    let with: serde_json::Value = serde_json::from_slice(&passes.stdout).unwrap();
    let with = with["runs"][0]["results"].as_array().unwrap();
    assert!(
        with.iter()
            .any(|r| r["kind"] == "pass" || r["kind"] == "informational")
    );
    assert_eq!(
        with.len(),
        json["findings"].as_array().unwrap().len(),
        "with --sarif-passes every finding is a result"
    );
    // Fingerprints do not move with measured values: the second run's SARIF has the same ones.
    let second = dir.path().join("second.sarif");
    let single_json = dir.path().join("second.json");
    std::fs::write(&single_json, &single.stdout).unwrap();
    let out = sipcheck(&[
        "report",
        single_json.to_str().unwrap(),
        "-o",
        second.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), code, "{}", stderr(&out));
    let prints = |v: &serde_json::Value| -> Vec<String> {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r["ruleId"], r["partialFingerprints"]))
            .collect()
    };
    let second: serde_json::Value = serde_json::from_str(&read(&second)).unwrap();
    assert_eq!(prints(&sarif), prints(&second));
}

/// A UDP socket standing in for the trunk; what it received after the run is what the run sent.
fn listener() -> std::net::UdpSocket {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    s
}

fn nothing_sent(s: &std::net::UdpSocket) -> bool {
    let mut buf = [0u8; 2048];
    s.recv_from(&mut buf).is_err()
}

#[test]
fn unwritable_or_mismatched_outputs_stop_before_the_first_packet() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.json").display().to_string();
    let missing = dir.path().join("no/such/dir/r.json").display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["-o".into(), missing.clone()], "cannot write"),
        // A good file first: it is not left behind empty.
        (
            vec!["-o".into(), ok.clone(), "-o".into(), missing.clone()],
            "cannot write",
        ),
        (
            vec!["-o".into(), ok.clone(), "--format".into(), "md".into()],
            "is json by its extension but --format md",
        ),
        (
            vec!["-o".into(), dir.path().join("r.out").display().to_string()],
            "cannot tell the format",
        ),
        (
            vec![
                "--output-all".into(),
                format!("{}/no/dir/base", dir.path().display()),
            ],
            "cannot write",
        ),
        (
            vec![
                "--pcap".into(),
                format!("{}/no/dir/x.pcap", dir.path().display()),
            ],
            "x.pcap",
        ),
        (
            vec![
                "--keylog".into(),
                format!("{}/no/dir/keys.log", dir.path().display()),
            ],
            "keys.log",
        ),
        (
            vec![
                "-o".into(),
                dir.path().display().to_string(),
                "--format".into(),
                "json".into(),
            ],
            "is a directory",
        ),
    ];
    for (extra, want) in cases {
        let trunk = listener();
        let target = trunk.local_addr().unwrap().to_string();
        let mut args = vec![
            "probe",
            target.as_str(),
            "--transport",
            "udp",
            "--probes",
            "transport",
        ];
        args.extend(extra.iter().map(String::as_str));
        let out = sipcheck(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
        assert!(out.stdout.is_empty(), "{extra:?}");
        assert!(
            nothing_sent(&trunk),
            "{extra:?}: a datagram reached the trunk"
        );
        assert!(
            !Path::new(&ok).exists(),
            "{extra:?}: an empty {ok} was left behind"
        );
    }
}

#[test]
fn an_older_report_renders_in_every_format_with_its_differences_on_stderr() {
    let old = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/report-0.1.0-udp-fake.json"
    );
    let json: serde_json::Value = serde_json::from_str(&read(Path::new(old))).unwrap();
    let any_fail = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["status"] == "fail");
    for (_, format) in FORMATS {
        let out = sipcheck(&["report", old, "--format", format]);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(if any_fail { 1 } else { 0 }),
            "{format}: {err}"
        );
        assert!(!out.stdout.is_empty(), "{format}");
        // Every difference is one line naming the file.
        assert!(
            !err.is_empty(),
            "{format}: the 0.1.0 report differs from this build's shape"
        );
        assert!(
            err.lines()
                .all(|l| l.starts_with(&format!("sipcheck: {old}: "))),
            "{err}"
        );
        // Registry facts that changed since 0.1.0 are named.
        assert!(err.contains("seed questions"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("old.sarif");
    let out = sipcheck(&["report", old, "-o", sarif.to_str().unwrap(), "-q"]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&out)
    );
    support::sarif::validate(&sarif);
    // Not a report at all: one line, exit 2.
    let out = sipcheck(&["report", concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}
