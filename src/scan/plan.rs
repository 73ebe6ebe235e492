//! The planner: which probes run, on which endpoints, with which post-run analyses. [`scan`](super::scan)
//! runs a plan; `--dry-run` prints one ([`DryRun`](super::DryRun)); both come from [`plan`], so what the dry
//! run says is what the run does.

use std::sync::Arc;

use crate::analysis::Analyses;
use crate::discover;
use crate::error::{Error, Result};
use crate::findings::ids;
use crate::probe::{Context, Probe};
use crate::scan::ScanOptions;
use crate::target::Endpoint;

/// A scan about to run: the selected probes, the context they share (endpoints found, settings) and
/// the analyses applied after them.
pub struct Plan {
    pub(crate) probes: Vec<Arc<dyn Probe>>,
    pub(crate) context: Context,
    pub(crate) analyses: Analyses,
    /// Why there is no endpoint (a name that does not resolve): the run then writes an incomplete report.
    pub(crate) unresolved: Option<Error>,
    /// The domain as the options gave it (the context fills in the target's when it is empty).
    pub(crate) given_domain: String,
    /// What the run sets out to measure, as the report records it.
    pub(crate) scope: crate::findings::Scope,
    /// Finding ids `--probes` left out although their probe runs.
    pub(crate) left_out: Vec<&'static str>,
    /// What the selection means beyond its list (findings that come along, findings left out).
    pub(crate) notes: Vec<String>,
}

/// Checks the options, selects the probes and finds the endpoints (RFC 3263 discovery, or the literal
/// address). A name that does not resolve is not an error here (the plan records it, and the run
/// reports it as incomplete); options that make no sense and failures of the tool itself are.
pub async fn plan(mut opts: ScanOptions) -> Result<Plan> {
    opts.validate()?;
    // A policy that requires a TLS profile is judged from a `tls.profile` finding: measure it even
    // without --profile.
    if opts.config.tls_profile.is_none()
        && let Some(name) = opts
            .policy
            .as_ref()
            .and_then(|p| p.rules.get("profile"))
            .and_then(|v| v.as_str())
    {
        opts.config.tls_profile =
            Some(crate::findings::tls::profile::builtin(name).map_err(Error::BadOption)?);
    }
    let super::Selection {
        probes,
        left_out,
        notes,
    } = super::select(&opts.selectors)?;
    let transports = opts
        .transports
        .clone()
        .unwrap_or_else(|| opts.target.default_transports());
    let selected: Vec<&'static str> = probes
        .iter()
        .flat_map(|p| p.finding_ids())
        .filter(|f| !left_out.contains(f))
        .collect();
    let policy_name = opts.policy.as_ref().map(|p| p.name.clone());
    let selectors = opts.selectors.clone();
    let analyses = Analyses {
        parity: selected.contains(&ids::ENDPOINTS_PARITY.id),
        policy: opts.policy,
        baseline: opts.baseline,
    };
    let given_domain = opts.config.domain.clone();
    let found = discover::discover(
        &opts.target,
        &transports,
        opts.tls_port,
        &opts.config.discovery,
    )
    .await;
    let (found, unresolved) = match found {
        Ok(found) => (Some(found), None),
        Err(e @ Error::Resolve { .. }) => (None, Some(e)),
        Err(e) => return Err(e),
    };
    let endpoints = found
        .as_ref()
        .map(|f| f.endpoints.clone())
        .unwrap_or_default();
    let mut context = Context::new(opts.target, endpoints, opts.config);
    if let Some(shared) = opts.politeness {
        context.limiter = shared;
    }
    context.discovery = found.map(Arc::new);
    context.selected = selected;
    let scope = super::gate::scope(
        &context,
        &probes,
        &transports,
        &selectors,
        policy_name.as_deref(),
    );
    Ok(Plan {
        probes,
        context,
        analyses,
        unresolved,
        given_domain,
        scope,
        left_out,
        notes,
    })
}

impl Plan {
    /// The endpoints the probes would run on.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.context.endpoints
    }

    /// The ids of the probes selected, in registry order.
    pub fn probe_ids(&self) -> Vec<&'static str> {
        self.probes.iter().map(|p| p.id()).collect()
    }

    /// What the selection means beyond its list: findings measured along with those named,
    /// findings left out of the report. The binary prints them on stderr; the dry run lists them.
    pub fn selection_notes(&self) -> &[String] {
        &self.notes
    }

    /// Why no endpoint was found, when none was.
    pub fn unresolved(&self) -> Option<&Error> {
        self.unresolved.as_ref()
    }
}

/// `--dry-run`: the plan of a scan with these options, described; sends nothing. A name that does not
/// resolve is the error (there is nothing to describe).
pub async fn dry_run(opts: ScanOptions) -> Result<super::DryRun> {
    let mut plan = plan(opts).await?;
    match plan.unresolved.take() {
        Some(e) => Err(e),
        None => Ok(super::DryRun::of(&plan)),
    }
}
