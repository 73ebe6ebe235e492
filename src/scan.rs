//! One run end to end: endpoints, probes, report. This is what `sipcheck probe` calls.

use std::sync::Arc;

use crate::discover;
use crate::error::{Error, Result};
use crate::probe::{self, Config, Context, Probe, is_selected};
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
}

impl ScanOptions {
    pub fn new(target: Target) -> ScanOptions {
        ScanOptions {
            target,
            transports: None,
            tls_port: None,
            selectors: Vec::new(),
            config: Config::default(),
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

/// Runs a scan. Errors are only for what stops a scan from starting (bad selection, unresolvable name);
/// anything the trunk does is in the report.
pub async fn scan(opts: ScanOptions) -> Result<Report> {
    let probes = select(&opts.selectors)?;
    let transports = opts
        .transports
        .clone()
        .unwrap_or_else(|| opts.target.default_transports());
    let started_at = now_rfc3339();
    let found = discover::discover(
        &opts.target,
        &transports,
        opts.tls_port,
        &opts.config.discovery,
    )
    .await?;
    let mut ctx = Context::new(opts.target.clone(), found.endpoints.clone(), opts.config);
    ctx.discovery = Some(Arc::new(found));
    ctx.selected = probes.iter().flat_map(|p| p.finding_ids()).collect();
    let ctx = Arc::new(ctx);
    let parity = probes.iter().any(|p| p.id() == crate::probes::parity::ID);
    let mut outcome = probe::run(ctx.clone(), probes).await;
    if parity {
        let extra = crate::probes::parity::compare(&outcome.findings);
        outcome.findings.extend(extra);
    }
    let incomplete = outcome.interrupted.or_else(|| match ctx.any_reached() {
        Some(false) => Some("target unreachable on every transport probed".to_string()),
        _ => None,
    });
    Ok(Report {
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
    })
}
