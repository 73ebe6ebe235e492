//! One run end to end: endpoints, probes, report. This is what `sipcheck probe` calls.

use std::sync::Arc;

use crate::analysis::{self, Analyses, Baseline};
use crate::discover;
use crate::error::{Error, Result};
use crate::findings::ids;
use crate::probe::{self, Config, Context, Probe, is_selected};
use crate::report::policy::Policy;
use crate::report::{Report, SCHEMA_VERSION, Tool};
use crate::target::{Port, Target, Transport};

/// What to probe and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub target: Target,
    /// Transports to probe; `None` means the target's defaults.
    pub transports: Option<Vec<Transport>>,
    pub tls_port: Option<Port>,
    /// Probe selectors (`--probes`); empty means every probe.
    pub selectors: Vec<String>,
    pub config: Config,
    /// A policy to judge the report by (`--policy`): adds `policy.*` findings and `report.policy`.
    pub policy: Option<Policy>,
    /// A report to diff against (`--baseline`): adds the `baseline.diff` finding.
    pub baseline: Option<Baseline>,
}

impl ScanOptions {
    pub fn new(target: Target) -> ScanOptions {
        ScanOptions {
            target,
            transports: None,
            tls_port: None,
            selectors: Vec::new(),
            config: Config::default(),
            policy: None,
            baseline: None,
        }
    }
}

/// The probes a selector list picks, in registry order; an unknown selector is an error.
pub fn select(selectors: &[String]) -> Result<Vec<Arc<dyn Probe>>> {
    let all = crate::probes::all();
    if selectors.is_empty() {
        return Ok(all);
    }
    for s in selectors {
        if !all
            .iter()
            .any(|p| is_selected(p.as_ref(), std::slice::from_ref(s)))
        {
            return Err(Error::BadOption(format!(
                "--probes {s:?} matches no probe (see --list-probes)"
            )));
        }
    }
    Ok(all
        .into_iter()
        .filter(|p| is_selected(p.as_ref(), selectors))
        .collect())
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Runs a scan and returns the complete report: the probes' findings, then the post-run analyses
/// (parity, policy, baseline). Errors are only for what stops a scan from starting (a bad selection);
/// a target that cannot be resolved or reached still gets a report, with the reason in `incomplete`.
pub async fn scan(opts: ScanOptions) -> Result<Report> {
    let probes = select(&opts.selectors)?;
    let transports = opts
        .transports
        .clone()
        .unwrap_or_else(|| opts.target.default_transports());
    let started_at = now_rfc3339();
    let clock = std::time::Instant::now();
    let selected: Vec<&'static str> = probes.iter().flat_map(|p| p.finding_ids()).collect();
    let analyses = Analyses {
        parity: selected.contains(&ids::ENDPOINTS_PARITY.id),
        policy: opts.policy.clone(),
        baseline: opts.baseline.clone(),
    };
    let found = match discover::discover(
        &opts.target,
        &transports,
        opts.tls_port,
        &opts.config.discovery,
    )
    .await
    {
        Ok(found) => found,
        Err(e @ Error::Resolve { .. }) => {
            let mut report = Report {
                schema_version: SCHEMA_VERSION,
                tool: Tool::default(),
                target: opts.target.input.clone(),
                domain: opts.config.domain.clone(),
                started_at,
                duration_ms: clock.elapsed().as_millis() as u64,
                endpoints: Vec::new(),
                findings: Vec::new(),
                incomplete: Some(format!("no endpoint to probe: {e}")),
                policy: None,
            };
            analysis::finish(&mut report, &analyses);
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let guessed = found.fallback_after_failure();
    let mut ctx = Context::new(opts.target.clone(), found.endpoints.clone(), opts.config);
    ctx.discovery = Some(Arc::new(found));
    ctx.selected = selected;
    let ctx = Arc::new(ctx);
    let outcome = probe::run(ctx.clone(), probes).await;
    let incomplete = outcome.interrupted.or_else(|| match ctx.any_reached() {
        Some(false) => Some("target unreachable on every transport probed".to_string()),
        _ => None,
    });
    let incomplete = match (incomplete, guessed) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    };
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool::default(),
        target: opts.target.input.clone(),
        domain: ctx.config.domain.clone(),
        started_at,
        duration_ms: ctx.elapsed().as_millis() as u64,
        endpoints: ctx.endpoints.clone(),
        findings: outcome.findings,
        incomplete,
        policy: None,
    };
    analysis::finish(&mut report, &analyses);
    Ok(report)
}
