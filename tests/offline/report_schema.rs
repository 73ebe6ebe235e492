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
