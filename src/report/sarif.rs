//! SARIF 2.1.0 (`--format sarif`), shaped for code-scanning ingestion (GitHub code scanning and other
//! SARIF consumers).
//!
//! - One rule per finding id, from the registry: title, meaning, remedy, RFCs, seed questions and a
//!   `security-severity` (the severity the registry declares for the id, the same in every run, so
//!   an alert's severity does not change with what one run measured).
//! - A trunk is not a file in the repository, and code scanning accepts no network URIs: each result
//!   sits at a stable relative location `sipcheck/<trunk>/<transport>-<port>` (`.../trunk` for
//!   trunk-wide findings), under the `uriBaseId` [`URI_BASE_ID`].
//! - `partialFingerprints` hash the trunk, the finding id and the endpoint (address included), never
//!   measured values, so one problem keeps its alert across runs.
//! - `automationDetails.id` is `sipcheck/<trunk>/<started_at>`: its category (before the last `/`) is
//!   per trunk, so reports of many trunks can be uploaded for one commit.
//! - `fail` and `warn` are `kind: fail` (levels `error` and `warning`); what was not measured (skipped,
//!   error, blocked) is `kind: review`; `pass` and `info` need nothing done and are left out unless
//!   asked for (`kind: pass` / `informational`).
//!
//! The structs below are the subset of the SARIF object model sipcheck writes, hand-written: the tests
//! validate the output against the SARIF 2.1.0 JSON schema and Microsoft's SARIF validator.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Finding, Report, Severity, Status, View};
use crate::findings::{REGISTRY, Spec, spec};

/// The `$schema` of the log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base every result location is relative to: the trunks sipcheck measured, not repository files.
pub const URI_BASE_ID: &str = "SIPCHECKROOT";
/// The key of sipcheck's fingerprint in `partialFingerprints` (bumped if its inputs ever change).
pub const FINGERPRINT_KEY: &str = "sipcheck/v1";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    automation_details: AutomationDetails,
    original_uri_base_ids: BTreeMap<&'static str, ArtifactLocationBase>,
    invocations: [Invocation; 1],
    results: Vec<SarifResult>,
    properties: RunProperties,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: String,
    semantic_version: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
    precision: &'static str,
    rfcs: Vec<String>,
    questions: Vec<u8>,
    probe: String,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
struct ArtifactLocationBase {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    start_time_utc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time_utc: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
struct ResultProperties {
    status: Status,
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    evidence: Vec<super::Evidence>,
}

#[derive(Serialize)]
struct RunProperties {
    target: String,
    domain: String,
    schema_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    incomplete: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    counts: BTreeMap<&'static str, usize>,
}

/// The SARIF log of a report, pretty-printed with a trailing newline. `passes` also writes the results
/// that need nothing done (pass and info).
pub fn render(v: &View, passes: bool) -> String {
    let r = v.report;
    let trunk = trunk_segment(&r.target);
    let rules = rules_of(r);
    let results = r
        .findings
        .iter()
        .filter(|f| passes || !matches!(f.status, Status::Pass | Status::Info))
        .map(|f| result_of(r, f, &trunk, &rules))
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "sipcheck",
                    version: r.tool.version.clone(),
                    semantic_version: r.tool.version.clone(),
                    rules,
                },
            },
            automation_details: AutomationDetails {
                id: format!("sipcheck/{trunk}/{}", r.started_at),
            },
            original_uri_base_ids: BTreeMap::from([(
                URI_BASE_ID,
                ArtifactLocationBase {
                    description: Text {
                        text: "The SIP trunks sipcheck measured: a location is a trunk, transport and port, not a file in the repository.".into(),
                    },
                },
            )]),
            invocations: [invocation(r)],
            results,
            properties: RunProperties {
                target: r.target.clone(),
                domain: r.domain.clone(),
                schema_version: r.schema_version,
                incomplete: r.incomplete.clone(),
                policy: r.policy.as_ref().map(|p| p.name.clone()),
                counts: v
                    .counts
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(s, n)| (s.as_str(), *n))
                    .collect(),
            },
        }],
    };
    let mut s = serde_json::to_string_pretty(&log).expect("SARIF logs always serialise");
    s.push('\n');
    s
}

/// The trunk as a location segment: the target as given, without a `sip:`/`sips:` scheme, every
/// character outside `[A-Za-z0-9._-]` replaced by `_` (`sip:[::1]:5060` -> `__1__5060`).
pub fn trunk_segment(target: &str) -> String {
    let t = target
        .strip_prefix("sips:")
        .or_else(|| target.strip_prefix("sip:"))
        .unwrap_or(target);
    let s: String = t
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "trunk".into() } else { s }
}

/// The relative location of a finding: `sipcheck/<trunk>/<transport>-<port>`, or `sipcheck/<trunk>/trunk`
/// for a trunk-wide finding.
pub fn location_uri(trunk: &str, endpoint: Option<&str>) -> String {
    match endpoint.and_then(transport_and_port) {
        Some((transport, port)) => format!("sipcheck/{trunk}/{transport}-{port}"),
        None => format!("sipcheck/{trunk}/trunk"),
    }
}

/// `tls:127.0.0.1:5061` / `udp:[::1]:5060` -> (`tls`, `5061`).
fn transport_and_port(label: &str) -> Option<(&str, &str)> {
    let (transport, rest) = label.split_once(':')?;
    let (_, port) = rest.rsplit_once(':')?;
    (!transport.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .then_some((transport, port))
}

/// The fingerprint of one finding on one endpoint of one trunk: what it is about, never what was
/// measured, so a problem keeps its alert from run to run.
pub fn fingerprint(trunk: &str, id: &str, endpoint: Option<&str>) -> String {
    let input = format!("{trunk}\n{id}\n{}", endpoint.unwrap_or("trunk"));
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SARIF's `security-severity` (0.0–10.0; code scanning: >= 9 critical, >= 7 high, >= 4 medium, > 0 low).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "7.5",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
        Severity::None => "0.0",
    }
}

/// The finding ids the rules describe: every registered id (a `.*` family by each member this report
/// has), then ids this build does not know (a report from another version), in first-seen order.
fn rule_ids(r: &Report) -> Vec<(String, Option<&'static Spec>)> {
    let mut ids: Vec<(String, Option<&'static Spec>)> = Vec::new();
    let mut push = |id: &str, s: Option<&'static Spec>| {
        if !ids.iter().any(|(i, _)| i == id) {
            ids.push((id.to_string(), s));
        }
    };
    for s in REGISTRY {
        if s.id.ends_with('*') {
            for f in r.findings.iter().filter(|f| s.describes(&f.id)) {
                push(&f.id, Some(s));
            }
        } else {
            push(s.id, Some(s));
        }
    }
    for f in &r.findings {
        if spec(&f.id).is_none() {
            push(&f.id, None);
        }
    }
    ids
}

fn rules_of(r: &Report) -> Vec<Rule> {
    rule_ids(r)
        .into_iter()
        .map(|(id, s)| {
            let of_id: Vec<&Finding> = r.findings_with_id(&id).collect();
            let sample = of_id.first();
            let title = s
                .map(|s| s.title.to_string())
                .or_else(|| sample.map(|f| f.title.clone()))
                .unwrap_or_else(|| id.clone());
            let meaning = s.map(|s| s.meaning).unwrap_or_default();
            let remedy = s.map(|s| s.remedy).unwrap_or_default();
            let rfcs: Vec<String> = match s {
                Some(s) => s.rfcs.iter().map(|x| x.to_string()).collect(),
                None => sample.map(|f| f.rfcs.clone()).unwrap_or_default(),
            };
            let questions = match s {
                Some(s) => s.questions.to_vec(),
                None => sample.map(|f| f.questions.clone()).unwrap_or_default(),
            };
            let category = id.split('.').next().unwrap_or(&id).to_string();
            let full = if meaning.is_empty() {
                sentence(&title)
            } else {
                sentence(meaning)
            };
            Rule {
                name: rule_name(&id),
                short_description: Text {
                    text: sentence(&title),
                },
                full_description: Text { text: full.clone() },
                help: help(&full, remedy, &rfcs),
                default_configuration: Configuration { level: "warning" },
                properties: RuleProperties {
                    tags: tags(category),
                    security_severity: s.map(|s| security_severity(s.severity)),
                    precision: "high",
                    rfcs,
                    questions,
                    probe: s.map(|s| s.probe).unwrap_or_default().to_string(),
                },
                id,
            }
        })
        .collect()
}

/// Code scanning reads `security` to treat the rule as a security rule (and its `security-severity`).
fn tags(category: String) -> Vec<String> {
    let mut t = vec!["security".to_string(), "sip".to_string()];
    if !t.contains(&category) {
        t.push(category);
    }
    t
}

/// `tls.versions` -> `TlsVersions`.
fn rule_name(id: &str) -> String {
    id.split(['.', '_', '-'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn sentence(s: &str) -> String {
    let s = s.trim();
    if s.ends_with(['.', '!', '?']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

fn help(meaning: &str, remedy: &str, rfcs: &[String]) -> Help {
    let mut text = meaning.to_string();
    let mut markdown = meaning.to_string();
    if !remedy.is_empty() {
        text.push_str(&format!("\nWhat to do: {}", sentence(remedy)));
        markdown.push_str(&format!("\n\n**What to do:** {}", sentence(remedy)));
    }
    if !rfcs.is_empty() {
        text.push_str(&format!("\nChecked against: {}.", rfcs.join(", ")));
        markdown.push_str(&format!("\n\n**Checked against:** {}.", rfcs.join(", ")));
    }
    Help { text, markdown }
}

fn result_of(r: &Report, f: &Finding, trunk: &str, rules: &[Rule]) -> SarifResult {
    let (kind, level) = match f.status {
        Status::Fail => ("fail", "error"),
        Status::Warn => ("fail", "warning"),
        Status::Pass => ("pass", "none"),
        Status::Info => ("informational", "none"),
        Status::Skipped | Status::Error | Status::Blocked => ("review", "none"),
    };
    let rule_index = rules.iter().position(|x| x.id == f.id).unwrap_or(0);
    let endpoint = f.endpoint.as_deref();
    let what = match f.status {
        Status::Skipped | Status::Error | Status::Blocked => format!("not measured ({})", f.status),
        s => s.to_string(),
    };
    let text = match endpoint {
        Some(e) => format!("{what} on {e} of {}: {}", r.target, sentence(&f.summary)),
        None => format!("{what} for {}: {}", r.target, sentence(&f.summary)),
    };
    SarifResult {
        rule_id: f.id.clone(),
        rule_index,
        kind,
        level,
        message: Text { text },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: location_uri(trunk, endpoint),
                    uri_base_id: URI_BASE_ID,
                },
                region: Region { start_line: 1 },
            },
        }],
        partial_fingerprints: BTreeMap::from([(
            FINGERPRINT_KEY,
            fingerprint(trunk, &f.id, endpoint),
        )]),
        properties: ResultProperties {
            status: f.status,
            severity: f.severity,
            endpoint: f.endpoint.clone(),
            evidence: f.evidence.clone(),
        },
    }
}

fn invocation(r: &Report) -> Invocation {
    use time::format_description::well_known::Rfc3339;
    let end = time::OffsetDateTime::parse(&r.started_at, &Rfc3339)
        .ok()
        .map(|t| t + time::Duration::milliseconds(r.duration_ms.min(i64::MAX as u64) as i64))
        .and_then(|t| t.format(&Rfc3339).ok());
    Invocation {
        execution_successful: r.incomplete.is_none(),
        start_time_utc: r.started_at.clone(),
        end_time_utc: end,
        tool_execution_notifications: r
            .incomplete
            .iter()
            .map(|why| Notification {
                level: "error",
                message: Text {
                    text: format!("The run is incomplete: {}", sentence(why)),
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_relative_and_per_transport_and_port() {
        let t = trunk_segment("sip:trunk.example.com:5060");
        assert_eq!(t, "trunk.example.com_5060");
        assert_eq!(trunk_segment("[::1]:5060"), "___1__5060");
        assert_eq!(
            location_uri(&t, Some("tls:192.0.2.1:5061")),
            "sipcheck/trunk.example.com_5060/tls-5061"
        );
        assert_eq!(
            location_uri(&t, Some("udp:[::1]:5060")),
            "sipcheck/trunk.example.com_5060/udp-5060"
        );
        assert_eq!(
            location_uri(&t, None),
            "sipcheck/trunk.example.com_5060/trunk"
        );
    }

    #[test]
    fn fingerprints_name_the_endpoint_not_the_measurement() {
        let a = fingerprint("t", "tls.versions", Some("tls:127.0.0.2:5061"));
        assert_eq!(
            a,
            fingerprint("t", "tls.versions", Some("tls:127.0.0.2:5061"))
        );
        assert_ne!(a, fingerprint("t", "tls.versions", Some("tls:[::1]:5061")));
        assert_ne!(
            a,
            fingerprint("u", "tls.versions", Some("tls:127.0.0.2:5061"))
        );
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn passes_are_left_out_unless_asked_and_not_measured_is_review() {
        let mut r = Report {
            schema_version: 1,
            tool: Default::default(),
            target: "127.0.0.1:5060".into(),
            domain: "127.0.0.1".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 1500,
            endpoints: vec![],
            findings: vec![],
            incomplete: None,
            policy: None,
            scope: None,
            summary: Default::default(),
        };
        r.findings.push(Finding::of("sip.allow", Status::Info, "x"));
        r.findings
            .push(Finding::of("sip.server_header", Status::Pass, "x"));
        r.findings.push(Finding::of("sip.refer", Status::Warn, "x"));
        r.findings.push(Finding::of(
            "transport.tls",
            Status::Skipped,
            "not selected",
        ));
        let v: serde_json::Value = serde_json::from_str(&render(&View::of(&r), false)).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        let kinds: Vec<(&str, &str)> = results
            .iter()
            .map(|x| (x["ruleId"].as_str().unwrap(), x["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(kinds, [("sip.refer", "fail"), ("transport.tls", "review")]);
        assert_eq!(
            v["runs"][0]["invocations"][0]["endTimeUtc"],
            "2026-01-01T00:00:01.5Z"
        );
        let rule = &v["runs"][0]["tool"]["driver"]["rules"]
            [results[0]["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], "sip.refer");
        assert_eq!(rule["properties"]["security-severity"], "2.0");
        let v: serde_json::Value = serde_json::from_str(&render(&View::of(&r), true)).unwrap();
        assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 4);
    }

    /// A rule's `security-severity` is the registry's declared severity of its id: the same whatever
    /// one run measured (a critical result, only passes, or no finding of that id at all).
    #[test]
    fn security_severity_is_the_registry_declared_one() {
        let report = |findings: Vec<Finding>| Report {
            schema_version: 1,
            tool: Default::default(),
            target: "127.0.0.1:5060".into(),
            domain: "127.0.0.1".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 0,
            endpoints: vec![],
            findings,
            incomplete: None,
            policy: None,
            scope: None,
            summary: Default::default(),
        };
        let rule_severities = |r: &Report| -> BTreeMap<String, Option<String>> {
            let v: serde_json::Value = serde_json::from_str(&render(&View::of(r), false)).unwrap();
            v["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x["id"].as_str().unwrap().to_string(),
                        x["properties"]["security-severity"]
                            .as_str()
                            .map(str::to_string),
                    )
                })
                .collect()
        };
        let loud = report(vec![
            Finding::of("sip.server_header", Status::Fail, "x").severity(Severity::Critical),
            Finding::of("tls.versions", Status::Warn, "x").severity(Severity::Low),
            Finding::new("not.known", "t", Status::Fail, "from another version"),
        ]);
        let quiet = report(vec![Finding::of("sip.server_header", Status::Pass, "x")]);
        let (a, b) = (rule_severities(&loud), rule_severities(&quiet));
        for s in REGISTRY.iter().filter(|s| !s.id.ends_with('*')) {
            let want = Some(security_severity(s.severity).to_string());
            assert_eq!(a[s.id], want, "{}", s.id);
            assert_eq!(b[s.id], want, "{}", s.id);
        }
        assert_eq!(a["sip.server_header"].as_deref(), Some("2.0"));
        assert_eq!(a["tls.versions"].as_deref(), Some("7.5"));
        assert_eq!(a["tls.heartbleed"].as_deref(), Some("9.5"));
        assert_eq!(a["not.known"], None, "no declaration, no severity");
    }
}
