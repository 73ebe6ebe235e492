//! What a run set out to measure ([`Scope`]) and how its findings came out in counts ([`Summary`]):
//! the two facts a CI gate and a `diff` need before reading a single finding. A finding missing from
//! a narrower run was not probed, not gone; a run whose probes all ended in `error` measured nothing.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Finding, Severity, Status};
use crate::target::Transport;

/// The options of the run that decide which findings it could contain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Scope {
    /// The transports probed (`--transport`, or the target's defaults).
    pub transports: Vec<Transport>,
    /// The `--probes` selectors as given (empty: every probe).
    pub selectors: Vec<String>,
    /// The finding ids of the probes selected, in registry order.
    pub probes: Vec<String>,
    /// Selected probes that did not run for want of an opt-in, each with what it needs.
    pub gated_off: Vec<GatedOff>,
    /// New requests per second per target address (`--rate`).
    pub rate: f64,
    /// Simultaneous connections per target address (`--max-connections`).
    pub max_connections: usize,
    /// The longest wait for any one answer, in milliseconds (`--timeout`).
    pub timeout_ms: u64,
    /// The opt-ins given.
    pub opt_ins: OptIns,
    /// The policy the run was judged by (`--policy`), by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// A selected probe that an opt-in keeps from running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct GatedOff {
    /// The probe id.
    pub probe: String,
    /// What it needs to run (the flags to give).
    pub needs: String,
}

/// The opt-in switches of a run: what it was allowed to do beyond the safe default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct OptIns {
    /// `--allow-calls`: probes that place calls ran (with `--call-to`).
    pub calls: bool,
    /// `--intrusive`: oversized and disruptive messages were sent.
    pub intrusive: bool,
    /// `--dos`: the bounded flood probes ran.
    pub dos: bool,
    /// `--rtp-bleed`: the RTP bleed call was placed.
    pub rtp_bleed: bool,
    /// `--loop-call`: the STIR/spoofing loop calls were placed.
    pub loop_calls: bool,
    /// `--user`: digest credentials were given.
    pub credentials: bool,
}

impl OptIns {
    /// Each opt-in as the flag that gives it, and whether it was given.
    pub fn flags(&self) -> [(&'static str, bool); 6] {
        [
            ("--allow-calls", self.calls),
            ("--intrusive", self.intrusive),
            ("--dos", self.dos),
            ("--rtp-bleed", self.rtp_bleed),
            ("--loop-call", self.loop_calls),
            ("--user", self.credentials),
        ]
    }
}

impl Scope {
    /// Why a run of this scope could not have written a finding with this id on this endpoint label
    /// (`tls:127.0.0.1:5061`), or `None` when it could. Trunk-wide findings and analyses (`policy.*`)
    /// depend only on the probe selection.
    pub fn excludes(&self, id: &str, endpoint: Option<&str>) -> Option<String> {
        if let Some(t) = endpoint
            .and_then(|e| e.split(':').next())
            .and_then(|t| t.parse::<Transport>().ok())
            .filter(|t| !self.transports.contains(t))
        {
            return Some(format!("{} is not among its transports", t.as_str()));
        }
        match super::spec(id) {
            Some(s) if s.scanned() && !self.probes.iter().any(|p| p == id) => {
                Some(format!("{id} was not selected"))
            }
            _ => None,
        }
    }

    /// The differences from `earlier` (the earlier run) that change what can be compared, in words,
    /// one per line: transports and probes only one side probed, opt-ins, timeout, rate, policy.
    pub fn differences(&self, earlier: &Scope) -> Vec<String> {
        let mut out = Vec::new();
        let names = |ts: &[Transport]| -> Vec<String> {
            ts.iter().map(|t| t.as_str().to_string()).collect()
        };
        let only = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|x| !b.contains(x)).cloned().collect()
        };
        let (old_t, new_t) = (names(&earlier.transports), names(&self.transports));
        let dropped = only(&old_t, &new_t);
        if !dropped.is_empty() {
            out.push(format!(
                "transports not probed in this run: {} (their findings are not compared)",
                dropped.join(", ")
            ));
        }
        let added = only(&new_t, &old_t);
        if !added.is_empty() {
            out.push(format!(
                "transports probed only in this run: {}",
                added.join(", ")
            ));
        }
        let dropped = only(&earlier.probes, &self.probes);
        if !dropped.is_empty() {
            out.push(format!(
                "probes not selected in this run: {} (their findings are not compared)",
                dropped.join(", ")
            ));
        }
        let added = only(&self.probes, &earlier.probes);
        if !added.is_empty() {
            out.push(format!(
                "probes selected only in this run: {}",
                added.join(", ")
            ));
        }
        for ((flag, was), (_, is)) in earlier
            .opt_ins
            .flags()
            .into_iter()
            .zip(self.opt_ins.flags())
        {
            if was != is {
                let side = if is {
                    "this run only"
                } else {
                    "the baseline only"
                };
                out.push(format!("opt-in {flag} given in {side}"));
            }
        }
        if earlier.timeout_ms != self.timeout_ms {
            out.push(format!(
                "timeout {} ms → {} ms",
                earlier.timeout_ms, self.timeout_ms
            ));
        }
        if earlier.rate != self.rate || earlier.max_connections != self.max_connections {
            out.push(format!(
                "politeness budget {}/s, {} connections → {}/s, {} connections",
                earlier.rate, earlier.max_connections, self.rate, self.max_connections
            ));
        }
        if earlier.policy != self.policy {
            let name = |p: &Option<String>| p.clone().unwrap_or_else(|| "none".into());
            out.push(format!(
                "policy {} → {}",
                name(&earlier.policy),
                name(&self.policy)
            ));
        }
        out
    }
}

/// Counts of a report's findings, and the findings whose probe could not complete.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Summary {
    /// Findings by status.
    pub by_status: StatusCounts,
    /// Findings by severity.
    pub by_severity: SeverityCounts,
    /// Every finding that ended in `error`: the probe ran and could not complete.
    pub errors: Vec<ProbeError>,
}

/// Findings per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct StatusCounts {
    /// Findings that are `pass`.
    pub pass: usize,
    /// Findings that are `warn`.
    pub warn: usize,
    /// Findings that are `fail`.
    pub fail: usize,
    /// Findings that are `info`.
    pub info: usize,
    /// Findings that are `skipped`.
    pub skipped: usize,
    /// Findings that are `error`.
    pub error: usize,
    /// Findings that are `blocked`.
    pub blocked: usize,
}

/// Findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SeverityCounts {
    /// Findings of severity `none`.
    pub none: usize,
    /// Findings of severity `low`.
    pub low: usize,
    /// Findings of severity `medium`.
    pub medium: usize,
    /// Findings of severity `high`.
    pub high: usize,
    /// Findings of severity `critical`.
    pub critical: usize,
}

/// A finding that ended in `error`, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ProbeError {
    /// The finding id.
    pub id: String,
    /// The endpoint it is about, or none for a trunk-wide finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The finding's summary: why the probe could not complete.
    pub reason: String,
}

impl Summary {
    /// The summary of these findings.
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            let c = &mut s.by_status;
            *match f.status {
                Status::Pass => &mut c.pass,
                Status::Warn => &mut c.warn,
                Status::Fail => &mut c.fail,
                Status::Info => &mut c.info,
                Status::Skipped => &mut c.skipped,
                Status::Error => &mut c.error,
                Status::Blocked => &mut c.blocked,
            } += 1;
            let v = &mut s.by_severity;
            *match f.severity {
                Severity::None => &mut v.none,
                Severity::Low => &mut v.low,
                Severity::Medium => &mut v.medium,
                Severity::High => &mut v.high,
                Severity::Critical => &mut v.critical,
            } += 1;
            if f.status == Status::Error {
                s.errors.push(ProbeError {
                    id: f.id.clone(),
                    endpoint: f.endpoint.clone(),
                    reason: f.summary.clone(),
                });
            }
        }
        s
    }
}
