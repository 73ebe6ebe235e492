//! The report contract: a report written by an older sipcheck (kept in tests/data, captured once from
//! sipcheck 0.1.0 probing a UDP fake) loads, its findings parse into today's typed details, and
//! `diff`/`--baseline` and the policy read it by typed fields. Unknown fields still load.

use sipcheck::findings::ids;
use sipcheck::report::policy::{self, RuleStatus};
use sipcheck::report::{self, Report};

const OLD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/report-0.1.0-udp-fake.json"
);

fn old() -> Report {
    report::read_json(OLD).expect("the 0.1.0 report loads")
}

#[test]
fn an_older_report_parses_into_the_typed_details() {
    let r = old();
    let find = |id: &str| {
        r.findings
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("{id} in the 0.1.0 report"))
    };
    let udp = ids::TRANSPORT_UDP.read(find("transport.udp")).unwrap();
    assert!(udp.reachable && udp.status == Some(200), "{udp:?}");
    let allow = ids::SIP_ALLOW.read(find("sip.allow")).unwrap();
    assert!(allow.allow.iter().any(|m| m == "REFER"), "{allow:?}");
    let refer = ids::SIP_REFER.read(find("sip.refer")).unwrap();
    assert_eq!(refer.advertised, Some(true));
    let server = ids::SIP_SERVER_HEADER
        .read(find("sip.server_header"))
        .unwrap();
    assert!(server.version_disclosed, "{server:?}");
    let auth = ids::AUTH_CHALLENGE.read(find("auth.challenge")).unwrap();
    assert_eq!(auth.offers_md5_only(), Some(true), "{auth:?}");
    assert_eq!(auth.source.as_deref(), Some("REGISTER"));
    let sec = ids::SECAGREE_RFC3329
        .read(find("secagree.rfc3329"))
        .unwrap();
    assert!(!sec.supported && sec.response == "420", "{sec:?}");
    let refer_policy = ids::SIP_REFER_POLICY
        .read(find("sip.refer_policy"))
        .unwrap();
    assert_eq!(refer_policy.out_of_dialog.treatment, "refused");
    // The fake refuses every REFER with 403, also the one for an unknown dialog (481 expected).
    assert_eq!(refer_policy.unknown_dialog.got_481, Some(false));
    assert_eq!(refer_policy.unknown_dialog.response, Some(403));
    let require = ids::ROBUSTNESS_UNKNOWN_REQUIRE
        .read(find("robustness.unknown_require"))
        .unwrap();
    assert_eq!(require.response, Some(200));
    // A typed handle refuses another id's finding instead of guessing.
    assert!(ids::SIP_ALLOW.read(find("sip.refer")).is_err());
}

#[test]
fn the_policy_judges_an_older_report_by_typed_fields() {
    let mut r = old();
    let p = policy::parse(
        "name = \"t\"\n[rules]\nmd5_only_forbidden = true\nserver_version_leak_allowed = false\nsecagree_required = true\nmin_cert_days_left = 30\n",
        "t.toml",
    )
    .unwrap();
    policy::apply(&p, &mut r);
    let outcome = |rule: &str| {
        r.policy
            .as_ref()
            .unwrap()
            .rules
            .iter()
            .find(|o| o.rule == rule)
            .unwrap_or_else(|| panic!("{rule}"))
            .clone()
    };
    assert_eq!(outcome("md5_only_forbidden").outcome, RuleStatus::Fail);
    assert_eq!(
        outcome("server_version_leak_allowed").outcome,
        RuleStatus::Fail
    );
    assert_eq!(outcome("secagree_required").outcome, RuleStatus::Fail);
    // No TLS in that run: the certificate rule is not measured, and says why.
    let cert = outcome("min_cert_days_left");
    assert_eq!(cert.outcome, RuleStatus::NotMeasured, "{cert:?}");
    let violated: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.id.starts_with("policy."))
        .collect();
    assert_eq!(violated.len(), 3, "{violated:?}");
    for f in violated {
        let d = ids::POLICY_RULE.read(f).unwrap();
        assert_eq!(d.policy, "t");
    }
}

#[test]
fn unknown_fields_and_an_older_schema_version_still_load() {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(OLD).unwrap()).unwrap();
    v["schema_version"] = 0.into();
    v["from_the_future"] = "x".into();
    for f in v["findings"].as_array_mut().unwrap() {
        f["details"]["added_later"] = true.into();
    }
    let r: Report = serde_json::from_value(v).expect("loads");
    let f = r.findings.iter().find(|f| f.id == "sip.allow").unwrap();
    assert!(ids::SIP_ALLOW.read(f).is_ok());
    // What cannot be read is said, never guessed.
    let mut bad = f.clone();
    bad.details = serde_json::json!({ "allow": "REFER" });
    let why = ids::SIP_ALLOW.read(&bad).unwrap_err();
    assert!(why.contains("sip.allow"), "{why}");
}

#[test]
fn a_report_diffed_against_itself_has_no_change() {
    let r = old();
    let d = sipcheck::report::diff::diff(&r, &r.clone());
    assert!(d.changes.is_empty(), "{:?}", d.changes);
}

/// The report model and its renderers depend on findings and report types only: no module under
/// src/report/ imports probe, transport, discovery, call, media, listener, STIR or TLS-scan code.
#[test]
fn the_report_model_imports_no_network_code() {
    let forbidden = [
        "crate::probes",
        "crate::probe::",
        "crate::transport",
        "crate::discover",
        "crate::call",
        "crate::media",
        "crate::listen",
        "crate::stir",
        "crate::tls",
        "crate::scan",
    ];
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/report"
    ))];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files += 1;
                let text = std::fs::read_to_string(&p).unwrap();
                for f in forbidden {
                    assert!(!text.contains(f), "{} uses {f}", p.display());
                }
            }
        }
    }
    assert!(files > 5, "{files} files under src/report");
}

/// `--list-probes` lists the finding ids users select, gate on and diff, not only probe ids.
#[test]
fn list_probes_lists_finding_ids() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .args(["probe", "--list-probes"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for id in ["tls.mismatch", "media.sdes", "auth.challenge"] {
        assert!(
            text.contains(id),
            "{id} missing from --list-probes:\n{text}"
        );
    }
}
