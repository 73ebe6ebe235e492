//! The hand-written TLS 1.2 fakes (tests/support/tls12_fake.rs) play what OpenSSL 3 cannot: a
//! Bleichenbacher oracle (ROBOT), Heartbleed, no extended master secret, no renegotiation_info. Each
//! test runs sipcheck's check AND the scanner users trust against the same fake, and asserts both call
//! it vulnerable (or the protection absent), and the flawless fake not.
//!
//! sslyze comes from PyPI into the test rig's venv (scripts/setup-test-rig.sh); testssl.sh is the
//! Debian package.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use sipcheck::findings::ids;

use super::tls12_fake::{Flaws, Tls12Fake, scan_fake};

const SSLYZE: &str = "/opt/sipcheck-test-rig/venv/bin/sslyze";

fn flaws() -> [(&'static str, Flaws); 6] {
    [
        ("sound", Flaws::SOUND),
        (
            "robot",
            Flaws {
                robot_oracle: true,
                ..Flaws::SOUND
            },
        ),
        (
            "robot_strong",
            Flaws {
                robot_oracle: true,
                robot_strong: true,
                ..Flaws::SOUND
            },
        ),
        (
            "heartbleed",
            Flaws {
                heartbleed: true,
                ..Flaws::SOUND
            },
        ),
        (
            "no_ems",
            Flaws {
                ems: false,
                ..Flaws::SOUND
            },
        ),
        (
            "no_renegotiation_info",
            Flaws {
                renegotiation_info: false,
                ..Flaws::SOUND
            },
        ),
    ]
}

/// sslyze's results per port, from one bounded run over every fake.
fn sslyze(ports: &[u16]) -> BTreeMap<u16, Value> {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sslyze.json");
    let mut cmd = Command::new("timeout");
    cmd.args([
        "120",
        SSLYZE,
        "--quiet",
        "--heartbleed",
        "--robot",
        "--reneg",
        "--ems",
    ])
    .arg(format!("--json_out={}", json.display()));
    cmd.args(ports.iter().map(|p| format!("127.0.0.1:{p}")));
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .expect("sslyze (PyPI, in the test rig venv: scripts/setup-test-rig.sh) is needed");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "sslyze wrote no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let v: Value = serde_json::from_str(&text).unwrap();
    v["server_scan_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["server_location"]["port"].as_u64().unwrap() as u16,
                s["scan_result"].clone(),
            )
        })
        .collect()
}

/// sipcheck's details of `tls.robot`, `tls.extensions` and `tls.heartbleed` for one fake.
async fn sipcheck(fake: &Tls12Fake) -> (Value, Value, Value) {
    let (r, x) = tokio::join!(
        scan_fake(fake, &["tls.robot"], true),
        scan_fake(fake, &["tls.extensions", "tls.heartbleed"], false)
    );
    let get = |r: &sipcheck::Report, id: &str| {
        r.findings_with_id(id)
            .next()
            .unwrap_or_else(|| panic!("no {id}: {:#?}", r.findings))
            .details
            .clone()
    };
    (
        get(&r, ids::TLS_ROBOT.id),
        get(&x, ids::TLS_EXTENSIONS.id),
        get(&x, ids::TLS_HEARTBLEED.id),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslyze_and_sipcheck_call_each_fake_the_same() {
    let fakes: Vec<(&str, Tls12Fake)> = flaws()
        .into_iter()
        .map(|(n, f)| (n, Tls12Fake::start(f)))
        .collect();
    let ports: Vec<u16> = fakes.iter().map(|(_, f)| f.port).collect();
    let theirs = tokio::task::spawn_blocking(move || sslyze(&ports));
    let ours = futures_util::future::join_all(fakes.iter().map(|(_, f)| sipcheck(f))).await;
    let theirs = theirs.await.unwrap();
    for ((name, fake), (robot, ext, bleed)) in fakes.iter().zip(&ours) {
        let t = &theirs[&fake.port];
        let result = |cmd: &str| {
            assert_eq!(
                t[cmd]["status"], "COMPLETED",
                "{name}: sslyze {cmd}: {:#}",
                t[cmd]
            );
            t[cmd]["result"].clone()
        };
        let ctx = format!("{name}: sipcheck {robot:#} {ext:#} {bleed:#}; sslyze {t:#}");

        // ROBOT: sslyze grades a Bleichenbacher oracle whose three badly formatted blocks are
        // answered alike "weak", else "strong"; so does sipcheck, by the ROBOT authors' same rule.
        let grade = match *name {
            "robot" => Some("weak"),
            "robot_strong" => Some("strong"),
            _ => None,
        };
        let r = result("robot")["robot_result"].clone();
        assert_eq!(
            r,
            match grade {
                Some("weak") => "VULNERABLE_WEAK_ORACLE",
                Some(_) => "VULNERABLE_STRONG_ORACLE",
                None => "NOT_VULNERABLE_NO_ORACLE",
            },
            "{ctx}"
        );
        assert_eq!(robot["vulnerable"], grade.is_some(), "{ctx}");
        if let Some(g) = grade {
            assert_eq!(robot["oracle"], g, "{ctx}");
        }

        let hb = *name == "heartbleed";
        assert_eq!(
            result("heartbleed")["is_vulnerable_to_heartbleed"],
            hb,
            "{ctx}"
        );
        assert_eq!(bleed["vulnerable"], hb, "{ctx}");

        let ems = *name != "no_ems";
        assert_eq!(
            result("tls_extended_master_secret")["supports_ems_extension"],
            ems,
            "{ctx}"
        );
        assert_eq!(ext["extended_master_secret"], ems, "{ctx}");

        let ri = *name != "no_renegotiation_info";
        assert_eq!(
            result("session_renegotiation")["supports_secure_renegotiation"],
            ri,
            "{ctx}"
        );
        assert_eq!(ext["secure_renegotiation"], ri, "{ctx}");
    }
}

/// testssl.sh's findings (id → (severity, finding)) from one bounded run.
fn testssl(port: u16, checks: &[&str], dir: &Path) -> BTreeMap<String, (String, String)> {
    let json = dir.join(format!("testssl-{port}.json"));
    let out = Command::new("timeout")
        .args([
            "120",
            "testssl",
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
        ])
        .args(["--nodns", "none", "--jsonfile"])
        .arg(&json)
        .args(checks)
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .output()
        .expect("testssl.sh (Debian package testssl.sh) is needed");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "testssl wrote no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let v: Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let s = |k: &str| x[k].as_str().unwrap_or_default().to_string();
            (s("id"), (s("severity"), s("finding")))
        })
        .collect()
}

/// testssl.sh on a fake with both the ROBOT oracle and Heartbleed (two runs of testssl.sh cost more
/// than the flawless controls add: the sslyze test has those), and on the fake without
/// renegotiation_info, which testssl.sh 3.0 cannot judge: its `-R` runs `openssl s_client`, and
/// OpenSSL 3 aborts the handshake with a server that does not support RFC 5746 (the client's own
/// choice). There the RFC decides, RFC 5746 §3.4: "If the extension is not present, the server does
/// not support secure renegotiation", which is what sipcheck and sslyze read. testssl.sh is slow to
/// start (about 8 s of its own set-up on a loaded machine), so both runs go side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testssl_and_sipcheck_call_the_robot_heartbleed_and_no_renegotiation_info_fakes_the_same() {
    let both = Flaws {
        robot_oracle: true,
        heartbleed: true,
        ..Flaws::SOUND
    };
    let no_ri = Flaws {
        renegotiation_info: false,
        ..Flaws::SOUND
    };
    let fakes = [both, no_ri].map(Tls12Fake::start);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let ports = fakes.each_ref().map(|f| f.port);
    let theirs = tokio::task::spawn_blocking(move || {
        std::thread::scope(|s| {
            let a = s.spawn(|| testssl(ports[0], &["--robot", "--heartbleed"], &d));
            let b = s.spawn(|| testssl(ports[1], &["-R"], &d));
            [a, b].map(|h| h.join().unwrap())
        })
    });
    let ours = futures_util::future::join_all(fakes.iter().map(sipcheck)).await;
    let [t_both, t_ri] = theirs.await.unwrap();

    let (robot, _, bleed) = &ours[0];
    assert!(t_both["ROBOT"].1.starts_with("VULNERABLE"), "{t_both:#?}");
    assert_eq!(robot["vulnerable"], true, "{robot:#}");
    // testssl.sh grades the oracle as the ROBOT authors do: "weakly vulnerable", like sipcheck.
    assert!(t_both["ROBOT"].1.contains("too long"), "{t_both:#?}");
    assert_eq!(robot["oracle"], "weak");
    assert_eq!(t_both["heartbleed"].1, "VULNERABLE", "{t_both:#?}");
    assert_eq!(bleed["vulnerable"], true, "{bleed:#}");

    let (_, ext, _) = &ours[1];
    assert_eq!(
        t_ri["secure_renego"],
        ("WARN".into(), "OpenSSL handshake didn't succeed".into()),
        "{t_ri:#?}"
    );
    assert_eq!(ext["secure_renegotiation"], false, "{ext:#}");
}

/// A real server that accepts static-RSA key exchange: `openssl s_server` (OpenSSL 3 treats every
/// bad premaster block like a good one, RFC 5246 §7.4.7.1). It serves one connection at a time, so
/// the five concurrent key exchanges of a round may queue behind each other: without
/// ChangeCipherSpec and Finished one waits for them until our timeout, and the hellos of those
/// behind it may be answered too late. Those are retried one at a time, never judged; sipcheck and
/// sslyze both find no oracle.
#[test]
fn openssl_s_server_with_static_rsa_is_no_oracle_for_sipcheck_or_sslyze() {
    let s = crate::tls_support::SServer::start_open(&[
        "-cipher",
        "AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
    ]);
    let target = format!("127.0.0.1:{}", s.port);
    let out = crate::support::sipcheck(&[
        "probe",
        &target,
        "--transport",
        "tls",
        "--probes",
        "tls.robot",
        "--intrusive",
        "--timeout",
        "2s",
        "--format",
        "json",
    ]);
    let r = crate::support::json(&out);
    let f = crate::tls_support::finding(&r, "tls.robot");
    assert_eq!(f["status"], "pass", "{f:#}");
    let d = &f["details"];
    assert_eq!(d["vulnerable"], false, "{d:#}");
    assert_eq!(d["suite"], "TLS_RSA_WITH_AES_128_GCM_SHA256");
    let n = d["handshakes"].as_u64().unwrap();
    // 11, plus one for each hello answered too late (how many depends on timing).
    assert!(
        n >= 11 && n <= d["max_handshakes"].as_u64().unwrap(),
        "{d:#}"
    );
    let rounds = d["rounds"].as_array().unwrap();
    assert!(
        rounds[1]["answers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a[1] == "timeout"),
        "without Finished every variant waits alike: {d:#}"
    );
    let t = sslyze(&[s.port]);
    let robot = &t[&s.port]["robot"];
    assert_eq!(
        robot["result"]["robot_result"], "NOT_VULNERABLE_NO_ORACLE",
        "{robot:#}"
    );
}
