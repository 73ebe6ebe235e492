//! Report assembly for the report tests: a report around findings, on fixed endpoints. Findings whose
//! details a test reads come from the real probes ([`crate::probed`], [`crate::probed_media`]); the
//! [`finding`] made here carries only a status (its details are whatever a test needs to be opaque).

#![allow(dead_code)]

use serde_json::Value;
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
        scope: None,
        summary: Default::default(),
    }
}

pub fn finding(id: &str, status: Status, details: Value) -> Finding {
    Finding {
        details,
        ..Finding::new(id, id, status, format!("{id} is {status}"))
    }
}

pub fn at(f: Finding, t: Transport, port: u16) -> Finding {
    f.endpoint(&endpoint(t, port))
}

pub fn tls(f: Finding) -> Finding {
    at(f, Transport::Tls, 5061)
}

pub fn skipped(id: &str) -> Finding {
    Finding::new(id, id, Status::Skipped, "not selected")
}
