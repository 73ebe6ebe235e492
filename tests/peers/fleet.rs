//! A fleet split across jobs: `--shard I/N` parts a target list by the trunks' resolved addresses
//! (behind a real dnsmasq), `--jsonl` writes a line per trunk, `--resume` skips finished trunks, and
//! `sipcheck merge` joins the shards' lines.

#[allow(unused_imports)]
use crate::{dnsmasq, support};

use std::collections::BTreeSet;

use dnsmasq::{Dnsmasq, Rr};

/// Twelve trunks: t1-t3 share one SBC address; t4 and t5 are chained through a shared address;
/// the rest have one of their own; one name does not resolve, one is an IP literal.
fn fleet_zone() -> (Dnsmasq, Vec<&'static str>) {
    let mut records = vec![
        Rr::host("t1.fleet.test", &["127.0.1.1"]),
        Rr::host("t2.fleet.test", &["127.0.1.1"]),
        Rr::host("t3.fleet.test", &["127.0.1.1"]),
        Rr::host("t4.fleet.test", &["127.0.1.2", "127.0.1.3"]),
        Rr::host("t5.fleet.test", &["127.0.1.3"]),
    ];
    let own = ["t6", "t7", "t8", "t9", "t10"];
    for (i, t) in own.iter().enumerate() {
        let name = format!("{t}.fleet.test");
        let addr = format!("127.0.2.{}", i + 1);
        records.push(Rr::host(&name, &[addr.as_str()]));
    }
    let dns = Dnsmasq::start("fleet.test", &records);
    let targets = vec![
        "t1.fleet.test",
        "t2.fleet.test",
        "t3.fleet.test",
        "t4.fleet.test",
        "t5.fleet.test",
        "t6.fleet.test",
        "t7.fleet.test",
        "t8.fleet.test",
        "t9.fleet.test",
        "t10.fleet.test",
        "missing.fleet.test",
        "127.0.3.1",
    ];
    (dns, targets)
}

fn shard_of(file: &str, dns: &str, i: u32, n: u32) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args(["probe", "-f", file, "--dry-run", "--dns-server", dns])
        .args(["--shard", &format!("{i}/{n}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sipcheck starts")
}

#[test]
fn shards_are_disjoint_cover_the_list_and_keep_shared_addresses_together() {
    let (dns, targets) = fleet_zone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.txt");
    std::fs::write(&file, targets.join("\n")).unwrap();
    let file = file.to_str().unwrap();
    for n in [1u32, 3, 5] {
        // The jobs run at once, as on separate machines.
        let jobs: Vec<_> = (1..=n)
            .map(|i| shard_of(file, &dns.server(), i, n))
            .collect();
        let mut seen: Vec<BTreeSet<String>> = Vec::new();
        for job in jobs {
            let out = job.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            seen.push(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(String::from)
                    .collect(),
            );
        }
        let total: usize = seen.iter().map(|s| s.len()).sum();
        let union: BTreeSet<String> = seen.iter().flatten().cloned().collect();
        let all: BTreeSet<String> = targets.iter().map(|t| t.to_string()).collect();
        assert_eq!(union, all, "every trunk in some shard (n = {n})");
        assert_eq!(
            total,
            targets.len(),
            "no trunk in two shards (n = {n}): {seen:?}"
        );
        for group in [
            &["t1.fleet.test", "t2.fleet.test", "t3.fleet.test"][..],
            &["t4.fleet.test", "t5.fleet.test"][..],
        ] {
            let holders: BTreeSet<usize> = group
                .iter()
                .map(|t| seen.iter().position(|s| s.contains(*t)).unwrap())
                .collect();
            assert_eq!(
                holders.len(),
                1,
                "{group:?} split across shards (n = {n}): {seen:?}"
            );
        }
    }
}

/// Trunks whose UDP port is closed: each scan ends at once, incomplete (exit 3), with a report.
fn closed_trunks() -> Vec<String> {
    (1..=4).map(|i| format!("127.0.4.{i}:9")).collect()
}

fn run_fleet(file: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "probe",
        "-f",
        file,
        "--transport",
        "udp",
        "--probes",
        "transport.udp",
        "--timeout",
        "300ms",
        "-q",
    ];
    args.extend_from_slice(extra);
    support::sipcheck(&args)
}

#[test]
fn jsonl_lines_resume_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.txt");
    let trunks = closed_trunks();
    std::fs::write(&file, trunks.join("\n")).unwrap();
    let file = file.to_str().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();

    // An interrupted shard: one finished line (marked, so a re-run would show) and one cut off.
    let first = out("shard1.jsonl");
    let finished = serde_json::json!({
        "target": trunks[0], "exit_code": 3, "error": "finished before the interruption"
    });
    std::fs::write(&first, format!("{finished}\n{{\"target\":\"127.0.4")).unwrap();
    let r = run_fleet(file, &["--shard", "1/1", "--jsonl", &first, "--resume"]);
    assert_eq!(
        r.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let text = std::fs::read_to_string(&first).unwrap();
    assert_eq!(text.lines().count(), trunks.len(), "{text}");
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("every line whole");
        assert!(trunks.iter().any(|t| v["target"] == *t.as_str()), "{line}");
    }
    assert!(
        text.contains("finished before the interruption"),
        "the finished trunk was not re-run"
    );

    // A second shard's output overlaps the first; merge keeps every trunk once.
    let second = out("shard2.jsonl");
    let r = run_fleet(file, &["--jsonl", &second]);
    assert_eq!(r.status.code(), Some(3));
    let merged = support::sipcheck(&["merge", &first, &second]);
    assert_eq!(merged.status.code(), Some(3));
    let batch: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let names: Vec<&str> = batch["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = trunks.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(names, want);
    assert!(batch["targets"][0]["report"]["endpoints"].is_array());

    // Into a directory, the `probe -f -o DIR` layout that compare reads.
    let reports = out("merged");
    let r = support::sipcheck(&["merge", &first, &second, "-o", &reports]);
    assert_eq!(r.status.code(), Some(3));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("merged/index.json")).unwrap())
            .unwrap();
    assert_eq!(index["targets"].as_array().unwrap().len(), trunks.len());
}

#[test]
fn a_bad_shard_or_unwritable_jsonl_stops_before_any_packet() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.txt");
    std::fs::write(&file, "127.0.4.9:9\n").unwrap();
    let file = file.to_str().unwrap();
    for extra in [
        &["--shard", "4/3"][..],
        &["--jsonl", "/nonexistent-dir/x.jsonl"][..],
    ] {
        let r = run_fleet(file, extra);
        assert_eq!(r.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
