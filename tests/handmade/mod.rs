//! Hand-made reports for the report tests: a report is built finding by finding, with the detail keys
//! the probes document, so each rule and comparison can be put on either side of its threshold.

#![allow(dead_code)]

use serde_json::{Value, json};
use sipcheck::report::{Finding, Report, SCHEMA_VERSION, Status, Tool};
use sipcheck::{Endpoint, Port, Transport};

pub fn endpoint(t: Transport, port: u16) -> Endpoint {
    Endpoint::new(t, "127.0.0.1".parse().unwrap(), Port::new(port).unwrap())
}

pub fn report(target: &str, findings: Vec<Finding>) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        // A fixed version so snapshots survive a version bump.
        tool: Tool {
            name: "sipcheck".into(),
            version: "0.0.0-test".into(),
        },
        target: target.into(),
        domain: "sip.test".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 1234,
        endpoints: vec![
            endpoint(Transport::Udp, 5060),
            endpoint(Transport::Tcp, 5060),
            endpoint(Transport::Tls, 5061),
        ],
        findings,
        incomplete: None,
        policy: None,
    }
}

pub fn finding(id: &str, status: Status, details: Value) -> Finding {
    Finding::new(id, id, status, format!("{id} is {status}")).details(details)
}

pub fn at(f: Finding, t: Transport, port: u16) -> Finding {
    f.endpoint(&endpoint(t, port))
}

pub fn tls(f: Finding) -> Finding {
    at(f, Transport::Tls, 5061)
}

/// `tls.versions` with the given accepted versions (the others refused with an alert).
pub fn versions(accepted: &[&str]) -> Finding {
    let mut d = serde_json::Map::new();
    for v in ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] {
        let a = accepted.contains(&v);
        d.insert(
            v.into(),
            if a {
                json!({ "accepted": true })
            } else {
                json!({ "accepted": false, "refusal": "alert:protocol_version" })
            },
        );
    }
    let weak = accepted
        .iter()
        .any(|v| ["SSLv3", "TLSv1.0", "TLSv1.1"].contains(v));
    tls(finding(
        "tls.versions",
        if weak { Status::Fail } else { Status::Pass },
        Value::Object(d),
    ))
}

/// `tls.cipher_suites` for TLS 1.2 with these suites.
pub fn suites(list: &[&str]) -> Finding {
    tls(finding(
        "tls.cipher_suites",
        Status::Pass,
        json!({ "TLSv1.2": { "server_order": true, "suites": list } }),
    ))
}

/// `sips.options` whose leaf certificate has `days` left.
pub fn sips(days: i64) -> Finding {
    tls(finding(
        "sips.options",
        if days < 0 { Status::Fail } else { Status::Pass },
        json!({ "offered": true, "chain": [{ "subject": "CN=sip.test", "days_left": days }] }),
    ))
}

pub fn server_header(version: bool) -> Finding {
    at(
        finding(
            "sip.server_header",
            if version { Status::Warn } else { Status::Info },
            json!({ "header": "x", "product": "x", "version_disclosed": version }),
        ),
        Transport::Udp,
        5060,
    )
}

pub fn skipped(id: &str) -> Finding {
    Finding::new(id, id, Status::Skipped, "not selected")
}
