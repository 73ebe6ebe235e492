//! The committed JSON Schema is what the Rust types generate, and reports validate against it.

#[allow(unused_imports)]
use crate::{handmade, probed};

use handmade::*;
use probed::*;
use serde_json::json;
use sipcheck::report::policy;
use sipcheck::report::schema::{PATH, json_schema};

fn committed() -> String {
    std::fs::read_to_string(PATH).unwrap_or_default()
}

#[test]
fn committed_schema_matches_the_types() {
    let generated = json_schema();
    if std::env::var_os("SIPCHECK_UPDATE_SCHEMA").is_some() {
        std::fs::write(PATH, &generated).unwrap();
    }
    assert!(
        committed() == generated,
        "{PATH} is out of date: regenerate it with `SIPCHECK_UPDATE_SCHEMA=1 cargo test --test offline report_schema`"
    );
}

pub fn validate(report: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let v = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = v
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match the schema: {errors:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn handmade_reports_with_policy_validate() {
    let mut r = report(
        "t",
        vec![
            versions(&["TLSv1.0", "TLSv1.2"]).await,
            sips(5).await,
            server_header(true).await,
        ],
    );
    policy::apply(&policy::load("strict").unwrap(), &mut r);
    let v = serde_json::to_value(&r).unwrap();
    validate(&v);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schema_rejects_what_is_not_a_report() {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let good = serde_json::to_value(report("t", vec![sips(5).await])).unwrap();
    assert!(v.is_valid(&good));
    let mut bad = good.clone();
    bad["findings"][0]["status"] = json!("excellent");
    assert!(!v.is_valid(&bad));
    let mut bad = good.clone();
    bad["findings"][0]["details"] = json!([1, 2]);
    assert!(!v.is_valid(&bad), "details must be an object");
    let mut bad = good;
    bad.as_object_mut().unwrap().remove("schema_version");
    assert!(!v.is_valid(&bad));
}

#[test]
fn sipcheck_schema_prints_the_committed_schema_with_an_id() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipcheck"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, committed());
    let v: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(
        v["$id"],
        format!(
            "urn:sipcheck:report-schema:v{}",
            sipcheck::findings::SCHEMA_VERSION
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_carries_summary_and_scope_and_validates() {
    let trunk = probed::Trunk::start(&["Server: FakeSBC"]).await;
    let r = trunk
        .scan(
            &[sipcheck::Transport::Udp],
            &["transport", "sip.server_header"],
            None,
        )
        .await;
    let v = serde_json::to_value(&r).unwrap();
    validate(&v);
    assert_eq!(v["scope"]["transports"], json!(["udp"]));
    assert_eq!(
        v["scope"]["probes"].as_array().unwrap().len(),
        5,
        "{}",
        v["scope"]
    );
    let passed = r
        .findings
        .iter()
        .filter(|f| f.status == sipcheck::Status::Info)
        .count();
    assert_eq!(v["summary"]["by_status"]["info"], json!(passed));
}

/// A report the probes wrote against the fake trunk: transport and `sip.allow` details.
async fn probe_written() -> serde_json::Value {
    let trunk = probed::Trunk::start(&["Server: FakeSBC"]).await;
    let r = trunk
        .scan(
            &[sipcheck::Transport::Udp, sipcheck::Transport::Tcp],
            &["transport", "sip.allow"],
            None,
        )
        .await;
    serde_json::to_value(&r).unwrap()
}

fn details_of<'a>(v: &'a mut serde_json::Value, id: &str) -> Vec<&'a mut serde_json::Value> {
    v["findings"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .filter(|f| f["id"] == id && f["details"].as_object().is_some_and(|d| !d.is_empty()))
        .map(|f| &mut f["details"])
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_details_key_fails_validation_and_loading_naming_it() {
    let good = probe_written().await;
    validate(&good);
    sipcheck::report::saved::parse(&good.to_string()).expect("the report as written loads");
    let mut bad = good.clone();
    for d in details_of(&mut bad, "sip.allow") {
        let allow = d.as_object_mut().unwrap().remove("allow").expect("allow");
        d["allowed"] = allow;
    }
    // The schema: the missing key is named.
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&bad).map(|e| e.to_string()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("\"allow\" is a required property")),
        "{errors:#?}"
    );
    // Loading: an error naming the field and the key beside it, not a silent empty list.
    let why = sipcheck::report::saved::parse(&bad.to_string()).unwrap_err();
    assert!(
        why.contains("`findings[sip.allow].details.allow`") && why.contains("`allowed`"),
        "{why}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("renamed.json");
    std::fs::write(&path, bad.to_string()).unwrap();
    let e = sipcheck::report::read_json(path.to_str().unwrap()).unwrap_err();
    assert!(e.to_string().contains("details.allow"), "{e}");
}

/// Version 1 (what sipcheck 0.1.0 wrote, tests/data/report-0.1.0-udp-fake.json) had no `summary`
/// and no client-certificate facts in the transport details.
fn as_version_1(mut v: serde_json::Value) -> serde_json::Value {
    v["schema_version"] = 1.into();
    v.as_object_mut().unwrap().remove("summary");
    for id in ["transport.udp", "transport.tcp"] {
        for d in details_of(&mut v, id) {
            let d = d.as_object_mut().unwrap();
            d.remove("client_certificate_requested")
                .expect("written today");
            d.remove("client_certificate_sent").expect("written today");
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_version_report_loads_with_each_difference_said() {
    let now = probe_written().await;
    let old = as_version_1(now.clone());
    let saved = sipcheck::report::saved::parse(&old.to_string()).expect("version 1 loads");
    let said = saved.differences.join("\n");
    for line in [
        "schema 1: field `summary` absent, read as counted from its findings",
        "schema 1: field `findings[transport.udp].details.client_certificate_requested` absent, read as false",
        "schema 1: field `findings[transport.udp].details.client_certificate_sent` absent, read as false",
        "schema 1: field `findings[transport.tcp].details.client_certificate_requested` absent, read as false",
        "schema 1: field `findings[transport.tcp].details.client_certificate_sent` absent, read as false",
    ] {
        assert!(
            saved.differences.iter().any(|d| d == line),
            "one line per difference: {line}\n{said}"
        );
    }
    assert_eq!(
        saved
            .differences
            .iter()
            .filter(|d| d.starts_with("schema 1: "))
            .count(),
        5,
        "{said}"
    );
    // What is read is what was measured: the summary is counted again, the details read typed.
    let today: sipcheck::report::Report = serde_json::from_value(now).unwrap();
    assert_eq!(saved.report.summary, today.summary);
    let udp = saved
        .report
        .findings
        .iter()
        .find(|f| f.id == "transport.udp")
        .unwrap();
    assert!(
        sipcheck::findings::ids::TRANSPORT_UDP
            .read(udp)
            .unwrap()
            .reachable
    );
}
