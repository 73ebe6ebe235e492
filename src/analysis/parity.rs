//! `endpoints.parity`: the same finding compared across the endpoints of a trunk. A carrier's SBCs
//! should behave alike; the classic weakness is one server left behind (an old TLS version, a
//! different certificate, a chattier Server header). The comparison is generic: it works for any
//! per-endpoint finding id, comparing the status and the details minus volatile measurements.
//!
//! Probes run concurrently and cannot see each other's findings, so the comparison is a post-run
//! analysis (see [`super::finish`]); the probe `endpoints.parity` only makes it selectable and listable.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::findings::ids;
use crate::findings::run::{Compared, ParityDetails, ParityEndpoint, ParityFinding};
use crate::findings::{Finding, Severity, Status};

/// Detail keys that measure the moment, not the server (timings, our own address, counters).
fn volatile(key: &str) -> bool {
    key.ends_with("_ms")
        || key.ends_with("_at")
        || matches!(
            key,
            "rtt"
                | "retransmissions"
                | "local"
                | "remote"
                | "address"
                | "port"
                | "endpoint"
                | "at"
                | "elapsed"
                | "duration"
                | "date"
                | "timestamp"
                | "branch"
                | "call_id"
                | "tag"
        )
}

/// The details with volatile keys removed, at every depth.
pub fn stable(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !volatile(k))
                .map(|(k, v)| (k.clone(), stable(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(stable).collect()),
        other => other.clone(),
    }
}

fn rank(f: &Finding) -> (u8, Severity) {
    (f.status.badness(), f.severity)
}

/// The transport part of an endpoint label (`tls:127.0.0.1:5061` → `tls`).
fn transport_of(label: &str) -> &str {
    label.split(':').next().unwrap_or(label)
}

/// Compares every per-endpoint finding id across the endpoints of the same transport and returns the
/// `endpoints.parity` findings: one `warn` per difference naming the weakest endpoint, or one `pass`
/// when everything compared alike, or `skipped` when there was nothing to compare.
pub fn compare(findings: &[Finding]) -> Vec<Finding> {
    // (finding id, transport) → findings, in report order.
    let mut groups: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        let Some(ep) = &f.endpoint else { continue };
        if f.status == Status::Skipped || f.id == ids::ENDPOINTS_PARITY.id {
            continue;
        }
        groups
            .entry((f.id.clone(), transport_of(ep).to_string()))
            .or_default()
            .push(f);
    }
    let mut out = Vec::new();
    let mut compared = Vec::new();
    for ((id, transport), fs) in &groups {
        let mut eps: Vec<&str> = fs.iter().filter_map(|f| f.endpoint.as_deref()).collect();
        eps.sort_unstable();
        eps.dedup();
        if eps.len() < 2 {
            continue;
        }
        compared.push(format!("{id} ({transport})"));
        // Several findings of one id for one endpoint are compared as a whole.
        let mut per: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in fs {
            per.entry(f.endpoint.as_deref().unwrap_or_default())
                .or_default()
                .push(f);
        }
        let sig = |v: &Vec<&Finding>| -> Value {
            Value::Array(
                v.iter()
                    .map(|f| json!({"status": f.status, "details": stable(&f.details)}))
                    .collect(),
            )
        };
        let first = sig(per.values().next().expect("at least two endpoints"));
        if per.values().all(|v| sig(v) == first) {
            continue;
        }
        let worst = |v: &Vec<&Finding>| {
            v.iter()
                .map(|f| rank(f))
                .max()
                .unwrap_or((0, Severity::None))
        };
        let top = per.values().map(worst).max().unwrap_or((0, Severity::None));
        let ranked = per.values().any(|v| worst(v) != top);
        // Endpoints grouped by identical behaviour, in the order they first appear.
        let mut groups: Vec<(Value, Vec<&str>)> = Vec::new();
        for (e, v) in &per {
            let s = sig(v);
            match groups.iter_mut().find(|(k, _)| *k == s) {
                Some((_, es)) => es.push(e),
                None => groups.push((s, vec![e])),
            }
        }
        let weakest: Vec<&str> = if ranked {
            per.iter()
                .filter(|(_, v)| worst(v) == top)
                .map(|(e, _)| *e)
                .collect()
        } else {
            Vec::new()
        };
        // Same verdict everywhere, different facts: nothing says which is weaker, so none is called
        // that; the endpoints outside the largest group are the odd ones out (when there is one).
        let biggest = groups.iter().map(|(_, es)| es.len()).max().unwrap_or(0);
        let odd: Vec<&str> =
            if ranked || groups.iter().filter(|(_, es)| es.len() == biggest).count() > 1 {
                Vec::new()
            } else {
                groups
                    .iter()
                    .filter(|(_, es)| es.len() < biggest)
                    .flat_map(|(_, es)| es.iter().copied())
                    .collect()
            };
        let named: &[&str] = if ranked { &weakest } else { &odd };
        let differing = differing_keys(&per);
        let sample = named
            .first()
            .and_then(|e| per.get(e))
            .and_then(|v| v.first())
            .copied();
        let summary = if ranked {
            let others: Vec<String> = per
                .iter()
                .filter(|(e, _)| !weakest.contains(e))
                .map(|(e, v)| format!("{} on {e}", v[0].status))
                .collect();
            format!(
                "`{id}` differs across {transport} endpoints: weakest is {} ({}: {}) vs {}",
                weakest.join(", "),
                sample.map(|f| f.status.as_str()).unwrap_or_default(),
                sample.map(|f| f.summary.as_str()).unwrap_or_default(),
                others.join(", ")
            )
        } else {
            let sets: Vec<String> = groups.iter().map(|(_, es)| es.join(", ")).collect();
            format!(
                "`{id}` differs across {transport} endpoints in {}, with the same verdict (none ranks weaker): {}",
                differing.join(", "),
                sets.join(" vs ")
            )
        };
        let mut f = ids::ENDPOINTS_PARITY
            .finding(Status::Warn, summary)
            .severity(Severity::Medium)
            .with_details(&ParityDetails {
                compared: Compared::One(id.to_string()),
                transport: Some(transport.to_string()),
                weakest: Some(strings(&weakest)),
                ranked_by_status: Some(ranked),
                odd_ones_out: Some(strings(&odd)),
                groups: Some(groups.iter().map(|(_, es)| strings(es)).collect()),
                differing: Some(differing),
                endpoints: Some(
                    per.iter()
                        .map(|(e, v)| ParityEndpoint {
                            endpoint: e.to_string(),
                            findings: v
                                .iter()
                                .map(|f| ParityFinding {
                                    status: f.status,
                                    severity: f.severity,
                                    summary: f.summary.clone(),
                                    details: stable(&f.details),
                                })
                                .collect(),
                        })
                        .collect(),
                ),
            });
        f.endpoint = named.first().map(|e| e.to_string());
        f.rfcs = fs[0].rfcs.clone();
        if let Some(s) = sample {
            f = f.evidence(s.evidence.iter().take(2).cloned());
        }
        out.push(f);
    }
    if out.is_empty() {
        out.push(if compared.is_empty() {
            ids::ENDPOINTS_PARITY.finding(
                Status::Skipped,
                "fewer than two endpoints on any transport: nothing to compare",
            )
        } else {
            ids::ENDPOINTS_PARITY
                .finding(
                    Status::Pass,
                    format!(
                        "{} per-endpoint findings compared across endpoints: no difference",
                        compared.len()
                    ),
                )
                .with_details(&ParityDetails {
                    compared: Compared::All(compared),
                    ..ParityDetails::default()
                })
        });
    }
    out
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The top-level detail keys (and `status`) whose values are not the same on every endpoint.
fn differing_keys(per: &BTreeMap<&str, Vec<&Finding>>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let firsts: Vec<&Finding> = per.values().filter_map(|v| v.first().copied()).collect();
    if firsts.iter().any(|f| f.status != firsts[0].status) {
        keys.push("status".into());
    }
    let stables: Vec<Value> = firsts.iter().map(|f| stable(&f.details)).collect();
    let mut all: Vec<&String> = stables
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|o| o.keys())
        .collect();
    all.sort();
    all.dedup();
    for k in all {
        let v0 = stables[0].get(k);
        if stables.iter().any(|s| s.get(k) != v0) {
            keys.push(k.clone());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Endpoint, Transport};

    fn f(id: &str, ep: &str, status: Status, details: Value) -> Finding {
        let e = Endpoint::new(
            Transport::Tls,
            ep.parse().unwrap(),
            crate::target::Port::SIPS,
        );
        Finding::of(id, status, "s").endpoint(&e).details(details)
    }

    #[test]
    fn names_the_weakest_on_status() {
        let fs = vec![
            f(
                "tls.versions",
                "127.0.0.2",
                Status::Pass,
                json!({"accepted": ["TLSv1.2"], "rtt_ms": 1}),
            ),
            f(
                "tls.versions",
                "127.0.0.3",
                Status::Fail,
                json!({"accepted": ["TLSv1.0", "TLSv1.2"], "rtt_ms": 2}),
            ),
        ];
        let out = compare(&fs);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, Status::Warn);
        assert_eq!(out[0].endpoint.as_deref(), Some("tls:127.0.0.3:5061"));
        let d = ids::ENDPOINTS_PARITY.read(&out[0]).unwrap();
        assert_eq!(d.differing, Some(vec!["status".into(), "accepted".into()]));
    }

    #[test]
    fn volatile_details_do_not_count() {
        let fs = vec![
            f(
                "transport.tls",
                "127.0.0.2",
                Status::Pass,
                json!({"rtt_ms": 1, "retransmissions": 0}),
            ),
            f(
                "transport.tls",
                "127.0.0.3",
                Status::Pass,
                json!({"rtt_ms": 9, "retransmissions": 2}),
            ),
        ];
        let out = compare(&fs);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, Status::Pass);
    }

    #[test]
    fn same_verdict_different_facts_names_the_odd_one() {
        let fs = vec![
            f(
                "tls.certificate",
                "127.0.0.2",
                Status::Pass,
                json!({"issuer": "A"}),
            ),
            f(
                "tls.certificate",
                "127.0.0.3",
                Status::Pass,
                json!({"issuer": "A"}),
            ),
            f(
                "tls.certificate",
                "127.0.0.4",
                Status::Pass,
                json!({"issuer": "B"}),
            ),
        ];
        let out = compare(&fs);
        assert_eq!(out[0].status, Status::Warn);
        let d = ids::ENDPOINTS_PARITY.read(&out[0]).unwrap();
        assert_eq!(d.weakest, Some(vec![]));
        assert_eq!(d.odd_ones_out, Some(vec!["tls:127.0.0.4:5061".into()]));
        assert_eq!(d.ranked_by_status, Some(false));
        assert_eq!(out[0].endpoint.as_deref(), Some("tls:127.0.0.4:5061"));
        assert!(out[0].summary.contains("none ranks weaker"));
    }

    #[test]
    fn two_equal_groups_name_nobody() {
        let fs = vec![
            f(
                "tls.certificate",
                "127.0.0.2",
                Status::Pass,
                json!({"issuer": "A"}),
            ),
            f(
                "tls.certificate",
                "127.0.0.3",
                Status::Pass,
                json!({"issuer": "B"}),
            ),
        ];
        let out = compare(&fs);
        assert_eq!(out[0].status, Status::Warn);
        assert_eq!(out[0].endpoint, None);
        let d = ids::ENDPOINTS_PARITY.read(&out[0]).unwrap();
        assert_eq!(d.odd_ones_out, Some(vec![]));
        assert_eq!(
            d.groups,
            Some(vec![
                vec!["tls:127.0.0.2:5061".into()],
                vec!["tls:127.0.0.3:5061".into()]
            ])
        );
    }

    #[test]
    fn one_endpoint_is_not_compared() {
        let fs = vec![f("tls.versions", "127.0.0.2", Status::Fail, json!({}))];
        assert_eq!(compare(&fs)[0].status, Status::Skipped);
    }
}
