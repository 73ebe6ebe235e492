//! The planner: which probes run, on which endpoints, with which post-run analyses. [`scan`](super::scan)
//! runs a plan; `--dry-run` prints one ([`Plan::describe`]); both come from [`plan`], so what the dry
//! run says is what the run does.

use std::fmt::Write;
use std::sync::Arc;

use crate::analysis::Analyses;
use crate::discover;
use crate::error::{Error, Result};
use crate::findings::ids;
use crate::probe::{Context, Probe};
use crate::scan::ScanOptions;
use crate::target::{Endpoint, Transport};

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

    /// What `--dry-run` prints: the endpoints, the probes (and which an opt-in gates), the loop calls,
    /// the analyses, the packet budget and the shared OPTIONS request of each endpoint. Sends nothing.
    pub fn describe(&self) -> String {
        let ctx = &self.context;
        let mut s = String::from("dry run: nothing is sent.\n\n");
        let _ = writeln!(
            s,
            "target {} (SIP domain {})",
            ctx.target.input, ctx.config.domain
        );
        let _ = writeln!(s, "endpoints ({}):", ctx.endpoints.len());
        for e in &ctx.endpoints {
            let _ = writeln!(s, "  {}", e.label());
            if !e.discovered_by.is_empty() && e.discovered_by != ["literal"] {
                let _ = writeln!(s, "      found by: {}", e.discovered_by.join(" ⇒ "));
            }
        }
        let _ = writeln!(s, "\nprobes ({}):", self.probes.len());
        for p in &self.probes {
            let gate = p.gate(ctx);
            let _ = writeln!(
                s,
                "  {:<26} {:<10} {}{}",
                p.id(),
                p.safety().as_str(),
                p.title(),
                gate.map(|g| format!(" (gated: {g})")).unwrap_or_default()
            );
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        let planned = crate::probes::loop_calls::planned(ctx);
        if !planned.is_empty() {
            let _ = writeln!(s, "\nloop calls ({}):", planned.len().saturating_sub(1));
            for p in &planned {
                let _ = writeln!(s, "  {}", crate::evidence::printable(p.as_bytes()));
            }
        }
        let mut after = Vec::new();
        if self.analyses.parity {
            after.push("endpoints.parity".to_string());
        }
        if let Some(p) = &self.analyses.policy {
            after.push(format!("policy {}", p.name));
        }
        if let Some(b) = &self.analyses.baseline {
            after.push(format!("baseline.diff against {}", b.path));
        }
        if !after.is_empty() {
            let _ = writeln!(s, "\nafter the probes: {}", after.join(", "));
        }
        let timers = &ctx.config.timers;
        let _ = writeln!(
            s,
            "\npackets: each SIP transaction sends one request; on UDP it is retransmitted per RFC 3261 \
             Timer A/E, at most {} datagrams within {:?}; TCP and TLS send it once per connection \
             (plus the TCP and TLS handshakes). Every probe starts from the shared OPTIONS below (sent \
             once per endpoint); most probes add one or a few transactions per endpoint.",
            timers.udp_sends(false),
            timers.give_up_after()
        );
        let _ = writeln!(
            s,
            "politeness: at most {} new requests per second and {} connections at a time per address; \
             each probe is stopped after {} s.",
            ctx.config.rate,
            ctx.config.max_connections,
            ctx.config.probe_timeout.as_secs()
        );
        for e in &ctx.endpoints {
            let uri = ctx.request_uri(e, false);
            let req = ctx
                .request("OPTIONS", &uri)
                .header("Accept", "application/sdp");
            let local = std::net::SocketAddr::new(
                if e.address.is_ipv6() {
                    std::net::Ipv6Addr::UNSPECIFIED.into()
                } else {
                    std::net::Ipv4Addr::UNSPECIFIED.into()
                },
                0,
            );
            let bytes = req.render(e.transport, local);
            let _ = writeln!(
                s,
                "\n--- to {}{} (Via/Contact carry the real local address when sent):\n{}",
                e.label(),
                if e.transport == Transport::Tls {
                    " (inside TLS)"
                } else {
                    ""
                },
                crate::evidence::printable(&bytes).trim_end()
            );
        }
        s
    }
}

/// `--dry-run`: the plan of a scan with these options, described; sends nothing. A name that does not
/// resolve is the error (there is nothing to describe).
pub async fn dry_run(opts: ScanOptions) -> Result<String> {
    let mut plan = plan(opts).await?;
    match plan.unresolved.take() {
        Some(e) => Err(e),
        None => Ok(plan.describe()),
    }
}
