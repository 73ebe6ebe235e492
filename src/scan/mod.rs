//! One run end to end: options, plan (endpoints, probes), probes, post-run analyses, report. This is
//! what `sipcheck probe` calls, and `--dry-run` prints the same plan without running it.

mod dry_run;
mod gate;
pub mod limits;
mod options;
mod plan;
mod select;

use std::sync::Arc;

use crate::analysis;
use crate::error::Result;
use crate::findings::{Report, SCHEMA_VERSION, Tool};
use crate::probe;

pub use dry_run::{Budget, DryRun, EndpointPlan, ProbePlan};
pub use options::{
    MAX_CONNECTIONS, MAX_DOS_REQUESTS, MAX_RATE, MAX_TIMEOUT, ScanOptions, ScanOptionsBuilder,
};
pub use plan::{Plan, dry_run, plan};
pub use select::Selection;

/// The probes a `--probes` list picks, in registry order; a term that names nothing is an error.
pub fn select(selectors: &[String]) -> Result<Selection> {
    select::select_from(crate::probes::all(), selectors)
}

/// Runs a scan and returns the complete report: the probes' findings, then the post-run analyses
/// (parity, policy, baseline). Errors are only for what stops a scan from starting (options that make
/// no sense, a bad selection); a target that cannot be resolved or reached still gets a report, with
/// the reason in `incomplete`.
pub async fn scan(opts: ScanOptions) -> Result<Report> {
    let started_at = crate::findings::now_rfc3339();
    let clock = std::time::Instant::now();
    let plan = plan(opts).await?;
    Ok(plan.run(started_at, clock).await)
}

impl Plan {
    async fn run(self, started_at: String, clock: std::time::Instant) -> Report {
        let Plan {
            probes,
            context,
            analyses,
            unresolved,
            given_domain,
            scope,
            left_out,
            ..
        } = self;
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            target: context.target.input.clone(),
            domain: given_domain,
            started_at,
            duration_ms: 0,
            endpoints: Vec::new(),
            findings: Vec::new(),
            incomplete: None,
            policy: None,
            scope: Some(scope),
            summary: Default::default(),
        };
        if let Some(e) = unresolved {
            report.duration_ms = clock.elapsed().as_millis() as u64;
            report.incomplete = Some(format!("no endpoint to probe: {e}"));
            analysis::finish(&mut report, &analyses);
            report.summarize();
            return report;
        }
        let ctx = Arc::new(context);
        let outcome = probe::run(ctx.clone(), probes).await;
        let wire = ctx.wire();
        let unreachable = match ctx.any_reached() {
            // What the SIP exchanges saw says more than "unreachable", when SIP was sent.
            Some(false) if wire.is_empty() => {
                Some("target unreachable on every transport probed".to_string())
            }
            _ => None,
        };
        let incomplete = gate::join([
            outcome.interrupted,
            unreachable,
            gate::no_sip_answer(&wire),
            gate::all_errored(
                outcome
                    .findings
                    .iter()
                    .filter(|f| !left_out.contains(&f.id.as_str())),
            ),
        ]);
        // Servers found by the A/AAAA fallback after failed NAPTR/SRV lookups are a guess.
        let guessed = ctx
            .discovery
            .as_ref()
            .and_then(|d| d.fallback_after_failure());
        report.incomplete = match (incomplete, guessed) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        report.domain = ctx.config.domain.clone();
        report.duration_ms = ctx.elapsed().as_millis() as u64;
        report.endpoints = ctx.endpoints.clone();
        report.findings = outcome.findings;
        // `--probes tls,-tls.groups`: the probe ran for the rest; the finding is not reported.
        report
            .findings
            .retain(|f| !left_out.contains(&f.id.as_str()));
        analysis::finish(&mut report, &analyses);
        report.summarize();
        report
    }
}
