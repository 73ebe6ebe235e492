//! `--dry-run`: one [`DryRun`] made from the [`Plan`] the run would execute, with the numbers that
//! bound it (requests and connections per address, flood requests, calls, time), rendered as text
//! ([`DryRun::render_text`]) or as JSON (it is `Serialize`): two renderings of the same values.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde::Serialize;

use super::Plan;
use crate::findings::Safety;
use crate::target::Transport;

/// What a run with these options would do, and its bounds. Nothing has been sent.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    /// The target as given.
    pub target: String,
    /// The SIP domain the certificates are checked against.
    pub domain: String,
    /// The endpoints the probes run on.
    pub endpoints: Vec<EndpointPlan>,
    /// Every selected probe, with whether it runs or what gates it.
    pub probes: Vec<ProbePlan>,
    /// What the selection means beyond its list.
    pub notes: Vec<String>,
    /// The loop calls, as the INVITEs they would send.
    pub loop_calls: Vec<String>,
    /// The post-run analyses (parity, policy, baseline).
    pub after: Vec<String>,
    /// The bounds of the whole run.
    pub budget: Budget,
}

/// One endpoint and the shared OPTIONS request every probe starts from.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointPlan {
    /// `udp:192.0.2.1:5060`.
    pub label: String,
    /// udp, tcp or tls.
    pub transport: Transport,
    /// The address.
    pub address: String,
    /// How discovery found it (RFC 3263 steps), empty for a literal address.
    pub found_by: Vec<String>,
    /// Datagrams the shared OPTIONS sends at most on UDP when nothing answers (1 on TCP and TLS).
    pub options_sends_max: u32,
    /// The shared OPTIONS, printable (Via and Contact get the real local address when sent).
    pub options_request: String,
}

/// One selected probe.
#[derive(Debug, Clone, Serialize)]
pub struct ProbePlan {
    /// The probe id.
    pub id: &'static str,
    /// safe, calls, intrusive or dos.
    pub safety: &'static str,
    /// What it measures.
    pub title: &'static str,
    /// Whether it sends anything (false: gated, reported as skipped).
    pub runs: bool,
    /// Why it is gated, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gated: Option<String>,
    /// For a flood probe that runs: the most requests it sends (on one endpoint, beyond `--rate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flood_requests_max: Option<u32>,
}

/// The numbers that bound the run: every figure here is a ceiling the run enforces.
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    /// Distinct target addresses (politeness is per address).
    pub addresses: usize,
    /// New requests per second per address (`--rate`).
    pub rate_per_address: f64,
    /// Requests allowed at once before pacing starts.
    pub burst: u32,
    /// Connections open at once per address (`--max-connections`).
    pub connections_at_once_per_address: usize,
    /// Longest wait for one answer (Timer B/F capped by `--timeout`), in seconds.
    pub answer_wait_max_s: f64,
    /// Datagrams one UDP transaction sends at most when nothing answers (RFC 3261 Timer A/E).
    pub udp_sends_per_request_max: u32,
    /// The probes run at once, each stopped after this many seconds: the run's probing time bound.
    pub duration_max_s: u64,
    /// Paced requests per address within that time: `burst + rate × duration`.
    pub paced_requests_per_address_max: u64,
    /// Flood requests of the flood probes that run (`--dos-max-requests` each), beyond the pacing.
    pub flood_requests_max: u64,
    /// Calls the run may place (0 unless calls are allowed and a probe that calls runs).
    pub calls_max: u32,
    /// Loop calls planned (within `calls_max`).
    pub loop_calls: usize,
}

impl DryRun {
    /// The dry run of `plan`.
    pub fn of(plan: &Plan) -> DryRun {
        let ctx = &plan.context;
        let c = &ctx.config;
        let timers = &c.timers;
        let endpoints = ctx
            .endpoints
            .iter()
            .map(|e| EndpointPlan {
                label: e.label(),
                transport: e.transport,
                address: e.address.to_string(),
                found_by: if e.discovered_by == ["literal"] {
                    Vec::new()
                } else {
                    e.discovered_by.clone()
                },
                options_sends_max: if e.transport == Transport::Udp {
                    timers.udp_sends(false)
                } else {
                    1
                },
                options_request: shared_options(ctx, e),
            })
            .collect();
        let probes: Vec<ProbePlan> = plan
            .probes
            .iter()
            .map(|p| {
                let gated = p.gate(ctx);
                let flood = p.safety() == Safety::Dos && gated.is_none();
                ProbePlan {
                    id: p.id(),
                    safety: p.safety().as_str(),
                    title: p.title(),
                    runs: gated.is_none(),
                    gated,
                    flood_requests_max: flood.then_some(c.dos_max_requests),
                }
            })
            .collect();
        let loop_calls: Vec<String> = crate::probes::loop_calls::planned(ctx)
            .iter()
            .map(|p| crate::evidence::printable(p.as_bytes()))
            .collect();
        let calling = probes
            .iter()
            .any(|p| p.runs && p.safety == Safety::Calls.as_str());
        let permitted = c.calls.allow && (c.calls.call_to.is_some() || !loop_calls.is_empty());
        let addresses: BTreeSet<_> = ctx.endpoints.iter().map(|e| e.address).collect();
        let duration = c.probe_timeout.as_secs();
        let mut after = Vec::new();
        if plan.analyses.parity {
            after.push("endpoints.parity".to_string());
        }
        if let Some(p) = &plan.analyses.policy {
            after.push(format!("policy {}", p.name));
        }
        if let Some(b) = &plan.analyses.baseline {
            after.push(format!("baseline.diff against {}", b.path));
        }
        DryRun {
            target: ctx.target.input.clone(),
            domain: c.domain.clone(),
            budget: Budget {
                addresses: addresses.len(),
                rate_per_address: c.rate,
                burst: c.burst,
                connections_at_once_per_address: c.max_connections,
                answer_wait_max_s: timers.give_up_after().as_secs_f64(),
                udp_sends_per_request_max: timers.udp_sends(false),
                duration_max_s: duration,
                paced_requests_per_address_max: u64::from(c.burst)
                    + (c.rate * duration as f64).ceil() as u64,
                flood_requests_max: probes
                    .iter()
                    .filter_map(|p| p.flood_requests_max)
                    .map(u64::from)
                    .sum(),
                calls_max: if calling && permitted {
                    c.calls.max_calls
                } else {
                    0
                },
                loop_calls: loop_calls.len().saturating_sub(1),
            },
            endpoints,
            probes,
            notes: plan.notes.clone(),
            loop_calls,
            after,
        }
    }

    /// The text `--dry-run` prints.
    pub fn render_text(&self) -> String {
        let mut s = String::from("dry run: nothing is sent.\n\n");
        let _ = writeln!(s, "target {} (SIP domain {})", self.target, self.domain);
        let _ = writeln!(s, "endpoints ({}):", self.endpoints.len());
        for e in &self.endpoints {
            let _ = writeln!(s, "  {}", e.label);
            if !e.found_by.is_empty() {
                let _ = writeln!(s, "      found by: {}", e.found_by.join(" ⇒ "));
            }
        }
        let running = self.probes.iter().filter(|p| p.runs).count();
        let _ = writeln!(
            s,
            "\nprobes ({}, {running} run, {} gated):",
            self.probes.len(),
            self.probes.len() - running
        );
        for p in &self.probes {
            let _ = writeln!(
                s,
                "  {:<26} {:<10} {}{}{}",
                p.id,
                p.safety,
                p.title,
                p.flood_requests_max
                    .map(|n| format!(" (at most {n} flood requests)"))
                    .unwrap_or_default(),
                p.gated
                    .as_deref()
                    .map(|g| format!(" (gated: {g})"))
                    .unwrap_or_default()
            );
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        if !self.loop_calls.is_empty() {
            let _ = writeln!(s, "\nloop calls ({}):", self.budget.loop_calls);
            for p in &self.loop_calls {
                let _ = writeln!(s, "  {p}");
            }
        }
        if !self.after.is_empty() {
            let _ = writeln!(s, "\nafter the probes: {}", self.after.join(", "));
        }
        let b = &self.budget;
        let _ = writeln!(s, "\nbudget (ceilings the run enforces):");
        let rows = [
            ("addresses", b.addresses.to_string()),
            (
                "requests",
                format!(
                    "at most {} paced requests per address ({} at once, then {} per second, for at most {} s)",
                    b.paced_requests_per_address_max, b.burst, b.rate_per_address, b.duration_max_s
                ),
            ),
            (
                "packets",
                format!(
                    "each request is sent once on TCP and TLS, at most {} datagrams within {:?} on UDP (RFC 3261 Timer A/E)",
                    b.udp_sends_per_request_max,
                    std::time::Duration::from_secs_f64(b.answer_wait_max_s)
                ),
            ),
            (
                "connections",
                format!(
                    "at most {} at a time per address",
                    b.connections_at_once_per_address
                ),
            ),
            ("flood requests", b.flood_requests_max.to_string()),
            (
                "calls",
                format!("at most {} ({} loop calls)", b.calls_max, b.loop_calls),
            ),
            (
                "duration",
                format!(
                    "the probes run at once, each stopped after {} s",
                    b.duration_max_s
                ),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(s, "  {k:<15} {v}");
        }
        let _ = writeln!(
            s,
            "\nevery probe starts from the shared OPTIONS below (sent once per endpoint); most add \
             one or a few transactions per endpoint."
        );
        for e in &self.endpoints {
            let _ = writeln!(
                s,
                "\n--- to {}{} (Via/Contact carry the real local address when sent):\n{}",
                e.label,
                if e.transport == Transport::Tls {
                    " (inside TLS)"
                } else {
                    ""
                },
                e.options_request
            );
        }
        s
    }

    /// The same values as JSON.
    pub fn render_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// The shared OPTIONS of one endpoint, as it would be sent (an unspecified local address).
fn shared_options(ctx: &crate::probe::Context, e: &crate::target::Endpoint) -> String {
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
    crate::evidence::printable(&req.render(e.transport, local))
        .trim_end()
        .to_string()
}
