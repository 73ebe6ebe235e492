//! `transport.plaintext_open`: SIP without TLS has no integrity or confidentiality (seed question 14).

use crate::findings::sip::PlaintextDetails;

use crate::findings::{Finding, Severity, Status};
use crate::probe::{BoxFuture, Context, Probe};
use crate::target::Transport;

pub struct PlaintextOpen;

impl Probe for PlaintextOpen {
    fn id(&self) -> &'static str {
        "transport.plaintext_open"
    }
    fn title(&self) -> &'static str {
        "Plaintext SIP still accepted"
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let has_tls = ctx.endpoints_on(Transport::Tls).next().is_some();
            let has_plain = ctx.endpoints.iter().any(|e| e.transport != Transport::Tls);
            if !has_tls || !has_plain {
                return vec![Finding::of(
                    self.id(),
                    Status::Skipped,
                    "needs both TLS and a plaintext transport in the run (see --transport)",
                )];
            }
            let mut tls_ok = Vec::new();
            let mut plain_ok = Vec::new();
            let mut evidence = Vec::new();
            // Fetched together (shared with the other probes), so silent endpoints share one wait.
            ctx.options_of(&ctx.endpoints).await;
            for ep in &ctx.endpoints {
                let ex = ctx.options(ep).await;
                if ex.best_response().is_some() {
                    evidence.push(ctx.evidence(&ex));
                    if ep.transport == Transport::Tls {
                        tls_ok.push(ep.label());
                    } else {
                        plain_ok.push(ep.label());
                    }
                }
            }
            let (status, severity, summary) = match (tls_ok.is_empty(), plain_ok.is_empty()) {
                (false, false) => (
                    Status::Warn,
                    Severity::Medium,
                    format!(
                        "TLS is offered but plaintext SIP still answers on {}: an attacker can downgrade or tamper",
                        plain_ok.join(", ")
                    ),
                ),
                (true, false) => (
                    Status::Warn,
                    Severity::High,
                    format!(
                        "only plaintext SIP answers ({}): no integrity protection for signalling",
                        plain_ok.join(", ")
                    ),
                ),
                (false, true) => (
                    Status::Pass,
                    Severity::None,
                    "only SIP over TLS answers".to_string(),
                ),
                (true, true) => (
                    Status::Error,
                    Severity::Low,
                    "no transport answered OPTIONS".to_string(),
                ),
            };
            vec![
                Finding::of(self.id(), status, summary)
                    .severity(severity)
                    .with_details(&PlaintextDetails {
                        tls_answering: tls_ok,
                        plaintext_answering: plain_ok,
                    })
                    .evidence(evidence),
            ]
        })
    }
}
