//! The scorecard: what a run measured, as data. Renderings live beside this file.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::target::{Endpoint, Transport};

/// Bumped whenever a field is removed or changes meaning; additions keep the version. Version 2: every
/// field the writer always writes is required (in `details` too), so a renamed key is an error; a
/// version 1 report loads with each field it lacks read as its default, said.
pub const SCHEMA_VERSION: u32 = 2;

/// How a finding came out. Ordered from best to worst for gating purposes where that makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Measured, and good.
    Pass,
    /// Measured, and worth attention.
    Warn,
    /// Measured, and bad (or a policy rule was violated).
    Fail,
    /// Measured; a fact with no verdict.
    Info,
    /// Not run, with the reason (not selected, opt-in, not applicable).
    Skipped,
    /// The probe itself could not complete; the reason says why.
    Error,
    /// The target stopped us (dropped connections, rate-limited, banned) before an answer was had.
    Blocked,
}

impl Status {
    /// The status as written in reports (`pass`, `warn`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Info => "info",
            Status::Skipped => "skipped",
            Status::Error => "error",
            Status::Blocked => "blocked",
        }
    }

    /// How bad a status is where the worst decides (an answer from several findings, parity, a policy's
    /// worst allowed status): fail > blocked > error > warn > info > pass > skipped.
    pub fn badness(self) -> u8 {
        match self {
            Status::Fail => 6,
            Status::Blocked => 5,
            Status::Error => 4,
            Status::Warn => 3,
            Status::Info => 2,
            Status::Pass => 1,
            Status::Skipped => 0,
        }
    }

    /// The worse of two statuses by [`Status::badness`].
    pub fn worst(self, other: Status) -> Status {
        if other.badness() > self.badness() {
            other
        } else {
            self
        }
    }

    /// The coarser order a regression is judged by (`diff`, `--baseline`): pass and info are alike
    /// (neither is a problem, and a fact gaining or losing a verdict is not a regression), error and
    /// blocked are alike (neither measured); skipped has no level, so it is never better or worse.
    pub fn verdict_level(self) -> Option<u8> {
        match self {
            Status::Pass | Status::Info => Some(0),
            Status::Warn => Some(1),
            Status::Error | Status::Blocked => Some(2),
            Status::Fail => Some(3),
            Status::Skipped => None,
        }
    }

    /// Whether the finding rests on a measurement.
    pub fn is_measured(self) -> bool {
        matches!(
            self,
            Status::Pass | Status::Warn | Status::Fail | Status::Info
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a non-pass finding matters.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing to fix (facts, passes).
    None,
    /// A hardening item (a disclosed version, a missing extension).
    Low,
    /// A weakness worth fixing soon.
    Medium,
    /// A failed security property (the default for a `fail`).
    High,
    /// Open to abuse now (toll fraud, calls without authentication, no rate limit).
    Critical,
}

impl Severity {
    /// The lower-case name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One exchange that backs a finding: what went out, what came back, when, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// The transport of the exchange.
    pub transport: Transport,
    /// The peer, as `address:port`.
    pub remote: String,
    /// Our side, as `address:port`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
    /// Milliseconds since the start of the run when the exchange began.
    pub at_ms: u64,
    /// Round-trip time to the first answer, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// What was sent (redacted; non-UTF-8 bytes escaped).
    pub sent: String,
    /// What came back (redacted; non-UTF-8 bytes escaped; may be empty).
    pub received: String,
    /// A note when the exchange did not complete (timeout, reset, refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One answer to one question about the trunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable dotted id (`tls.versions`); CI users depend on it.
    pub id: String,
    /// A short human title.
    pub title: String,
    /// The category the finding is grouped under (transport, tls, sip, media, …).
    pub category: String,
    /// The verdict: nothing is `pass` unless it was measured.
    pub status: Status,
    /// How much a non-pass matters.
    pub severity: Severity,
    /// The endpoint this finding is about (`tls:127.0.0.1:5061`), or none for trunk-wide findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Seed questions (1–15) this finding answers.
    pub questions: Vec<u8>,
    /// The RFCs the finding checks against.
    pub rfcs: Vec<String>,
    /// One sentence.
    pub summary: String,
    /// Probe-specific facts, always a JSON object.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub details: serde_json::Value,
    /// The exchanges that back the finding (redacted).
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// A finding of a registered id, with the registry's title, category, seed questions and RFCs.
    /// Prefer the typed handles in [`crate::findings::ids`]. An id missing from the registry is a bug
    /// in sipcheck (a test checks every id probes write); it still gets a finding, titled by its id.
    pub fn of(id: &str, status: Status, summary: impl Into<String>) -> Finding {
        match crate::findings::spec(id) {
            Some(s) => Finding {
                questions: s.questions.to_vec(),
                rfcs: s.rfcs.iter().map(|r| r.to_string()).collect(),
                ..Finding::new(id, s.title, status, summary)
            },
            None => {
                debug_assert!(false, "finding id {id:?} is not in the registry");
                Finding::new(id, id, status, summary)
            }
        }
    }

    /// The details, serialized into the `details` object. Only the typed handles call it
    /// ([`crate::findings::Draft::with_details`]), so details of the wrong type for an id do not compile.
    pub(super) fn set_details<D: Serialize>(mut self, d: &D) -> Self {
        match serde_json::to_value(d) {
            Ok(v @ serde_json::Value::Object(_)) => self.details = v,
            other => debug_assert!(false, "details of {} are not an object: {other:?}", self.id),
        }
        self
    }

    /// A finding with an empty details object and no evidence; fill in with the builder methods.
    /// For findings outside the registry (tests, hand-made reports); probes use [`Finding::of`].
    pub fn new(id: &str, title: &str, status: Status, summary: impl Into<String>) -> Finding {
        Finding {
            id: id.to_string(),
            title: title.to_string(),
            category: id.split('.').next().unwrap_or(id).to_string(),
            status,
            severity: default_severity(status),
            endpoint: None,
            questions: Vec::new(),
            rfcs: Vec::new(),
            summary: summary.into(),
            details: serde_json::Value::Object(Default::default()),
            evidence: Vec::new(),
        }
    }

    /// Sets the severity.
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }

    /// Sets the endpoint the finding is about.
    pub fn endpoint(mut self, e: &Endpoint) -> Self {
        self.endpoint = Some(e.label());
        self
    }

    /// Sets the seed questions the finding answers.
    pub fn questions(mut self, q: &[u8]) -> Self {
        self.questions = q.to_vec();
        self
    }

    /// Sets the RFCs the finding checks against.
    pub fn rfcs(mut self, r: &[&str]) -> Self {
        self.rfcs = r.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Adds evidence.
    pub fn evidence(mut self, e: impl IntoIterator<Item = Evidence>) -> Self {
        self.evidence.extend(e);
        self
    }
}

fn default_severity(s: Status) -> Severity {
    match s {
        Status::Fail => Severity::High,
        Status::Warn => Severity::Medium,
        Status::Error | Status::Blocked => Severity::Low,
        _ => Severity::None,
    }
}

/// The tool that wrote the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    /// `sipcheck`.
    pub name: String,
    /// The version that wrote the report.
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "sipcheck".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The whole scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The version of the report format ([`SCHEMA_VERSION`] when written by this build).
    pub schema_version: u32,
    /// The tool and version that wrote the report.
    pub tool: Tool,
    /// The target as the user gave it.
    pub target: String,
    /// The SIP domain used for certificate identity checks.
    pub domain: String,
    /// RFC 3339 UTC time the run started.
    pub started_at: String,
    /// How long the probes ran, in milliseconds.
    pub duration_ms: u64,
    /// The endpoints probed, each with how it was found.
    pub endpoints: Vec<Endpoint>,
    /// Every finding: the probes', then parity, policy and baseline.
    pub findings: Vec<Finding>,
    /// Set when the run could not finish everything it meant to (the reason); findings so far are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// The policy checked against this run (`--policy`) and how each rule came out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<super::PolicyOutcome>,
    /// What the run set out to measure: transports, probes selected and gated off, timeout, rate,
    /// opt-ins. Absent from reports of older sipcheck versions and from `listen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<super::Scope>,
    /// Counts by status and severity, and the findings that ended in `error` (set once the findings
    /// are final; [`Report::summarize`]).
    #[serde(default)]
    pub summary: super::Summary,
}

impl Report {
    /// A report of these endpoints and findings for unit tests: no run behind it, no time, no scope.
    #[cfg(test)]
    pub(crate) fn of(target: &str, endpoints: Vec<Endpoint>, findings: Vec<Finding>) -> Report {
        Report {
            schema_version: 1,
            tool: Tool::default(),
            target: target.into(),
            domain: target.into(),
            started_at: String::new(),
            duration_ms: 0,
            endpoints,
            findings,
            incomplete: None,
            policy: None,
            scope: None,
            summary: Default::default(),
        }
    }

    /// The findings with this id, one per endpoint (or one trunk-wide).
    pub fn findings_with_id<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.id == id)
    }

    /// Whether the trunk has several servers (two endpoints of one transport), so scopes name servers.
    pub fn several_servers(&self) -> bool {
        self.endpoints.iter().enumerate().any(|(i, e)| {
            self.endpoints[..i]
                .iter()
                .any(|o| o.transport == e.transport)
        })
    }

    /// Endpoint labels in words, relative to the report's endpoints (`udp, tcp, tls`, `2 of 3 servers`).
    pub fn scope_of(&self, labels: &[&str]) -> String {
        let mut uniq: Vec<&str> = Vec::new();
        for l in labels {
            if !uniq.contains(l) {
                uniq.push(l);
            }
        }
        match uniq.len() {
            0 => String::new(),
            1 if self.several_servers() => uniq[0].to_string(),
            n if self.several_servers() => format!("{n} of {} servers", self.endpoints.len()),
            _ => uniq
                .iter()
                .map(|l| l.split(':').next().unwrap_or(l))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// ` [udp, tcp, tls]`: the endpoints of `fs` in words, when more than one (else empty).
    pub fn scope_suffix(&self, fs: &[&Finding]) -> String {
        let labels: Vec<&str> = fs.iter().filter_map(|f| f.endpoint.as_deref()).collect();
        if labels.len() < 2 {
            return String::new();
        }
        format!(" [{}]", self.scope_of(&labels))
    }

    /// Counts by status, in the order pass, warn, fail, info, skipped, error, blocked.
    pub fn counts(&self) -> [(Status, usize); 7] {
        let all = [
            Status::Pass,
            Status::Warn,
            Status::Fail,
            Status::Info,
            Status::Skipped,
            Status::Error,
            Status::Blocked,
        ];
        all.map(|s| (s, self.findings.iter().filter(|f| f.status == s).count()))
    }

    /// Sets [`Report::summary`] from the findings as they are now.
    pub fn summarize(&mut self) {
        self.summary = super::Summary::of(&self.findings);
    }

    /// The non-zero counts in words: `3 pass, 1 warn`.
    pub fn counts_text(&self) -> String {
        let counts: Vec<String> = self
            .counts()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(st, n)| format!("{n} {st}"))
            .collect();
        counts.join(", ")
    }
}

/// Reads a JSON report written by sipcheck: one of this schema version must have every field the
/// schema requires (a renamed key is an error); an older one loads with what it lacks read as its
/// default ([`super::schema::load`] says each difference).
pub fn read_json(path: &str) -> crate::Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::BadFile {
        path: path.into(),
        reason: e.to_string(),
    })?;
    super::schema::load(&text)
        .map(|l| l.report)
        .map_err(|reason| crate::Error::BadFile {
            path: path.into(),
            reason,
        })
}

/// Now, as RFC 3339 (the report's `started_at`).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
